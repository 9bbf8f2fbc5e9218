# Interop tests: real peers nobody here wrote (OpenSSL, GnuTLS, Orthanc,
# stock DCMTK, sslscan, nmap) against dtp-storescu / dtp-storescp, per
# profile. Each test writes result rows to
# ${PROJECT_BINARY_DIR}/interop-results/<test>.tsv; interop.report turns them
# into docs/interop.md (build dir). A test skips (77) only when its peer is
# not installed. Included from tests/CMakeLists.txt.

set(DTP_INTEROP_TESTS)
macro(dtp_interop name script)
  dtp_e2e(${name} ${script} LABELS interop ${ARGN})
  list(APPEND DTP_INTEROP_TESTS ${name})
endmacro()

set(DTP_INTEROP_PROFILES bcp195 bcp195-nd bcp195-ex cryptrec bcp195-8996 bcp195-8996-mod)

# 1. OpenSSL s_client -> dtp-storescp and dtp-storescu -> s_server: every
#    version and suite, one at a time.
foreach(profile IN LISTS DTP_INTEROP_PROFILES)
  foreach(role IN ITEMS scp scu)
    dtp_interop(interop.openssl.${role}.${profile} interop_openssl.sh TIMEOUT 120 ARGS ${role} ${profile})
  endforeach()
endforeach()

# 2. GnuTLS gnutls-cli / gnutls-serv: the Camellia-GCM suites of E3/K3
#    (OpenSSL has none): Camellia-GCM alone is refused, with an AES-GCM suite
#    of the profile it connects.
foreach(profile IN LISTS DTP_INTEROP_PROFILES)
  dtp_interop(interop.gnutls.${profile} interop_gnutls.sh TIMEOUT 90 ARGS ${profile})
endforeach()

# 3. Orthanc 1.10.1 (DCMTK's fixed BCP195 setup) <-> our apps, RSA and ECDSA
#    certificates, both directions, every profile; datasets byte-identical.
foreach(cert IN ITEMS rsa ec)
  dtp_interop(interop.orthanc.${cert} interop_orthanc.sh TIMEOUT 120 ARGS ${cert})
endforeach()

# 4. sslscan and nmap ssl-enum-ciphers scan dtp-storescp: exactly the
#    profile's versions and suites, compression off, secure renegotiation.
foreach(profile IN LISTS DTP_INTEROP_PROFILES)
  dtp_interop(interop.scan.${profile} interop_scan.sh TIMEOUT 120 ARGS ${profile})
endforeach()

# 5. Stock DCMTK 3.6.7 storescu/storescp (+px/+py/+pz) <-> our apps, RSA and
#    ECDSA, both directions; pinned disagreements (ND's ECDSA suites, DCMTK's
#    acceptance of a 1024-bit DH server). stock_dcmtk.sh (loopback) sends
#    more objects for bcp195-nd/bcp195-ex with RSA.
dtp_interop(interop.dcmtk interop_dcmtk.sh TIMEOUT 120)

# 5b. The profiles in force (B.12, B.13) with OpenSSL's s_client/s_server:
#    old hellos (alert 70), SHA-1 signature algorithms, weak certificate
#    chains, x25519, ALPN "dicom", extended master secret, SNI; both roles.
foreach(profile IN ITEMS bcp195-8996 bcp195-8996-mod)
  dtp_interop(interop.current.${profile} current_profiles.sh TIMEOUT 120 ARGS ${profile})
endforeach()

# 6. The report: docs/interop.md (in the build dir) from the rows above; runs
#    after them (DEPENDS orders only, so it also reports failed tests). Skips
#    (77) when a test left no rows (peer missing, or not run).
add_test(NAME interop.report
  COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/interop-report.sh
          ${PROJECT_BINARY_DIR}/interop-results ${PROJECT_BINARY_DIR}/docs/interop.md
          ${DTP_INTEROP_TESTS})
set_tests_properties(interop.report PROPERTIES
  LABELS interop TIMEOUT 60 SKIP_RETURN_CODE 77 DEPENDS "${DTP_INTEROP_TESTS}")
