# Failure end-to-end tests: every way a connection or a configuration can go
# wrong must end with the documented reason (C6, reasons.c), the documented
# exit code, and nothing stored. Included from tests/CMakeLists.txt.

# 1. TLS 1.0/1.1 refused by the non-downgrading profiles (N1, E1, K1);
#    accepted and flagged by bcp195 (B2, B6); TLS_FALLBACK_SCSV (B3).
dtp_e2e(e2e.old-versions old_versions.sh LABELS loopback TIMEOUT 60)

# 2. A 1024-bit DH server: every profile's SCU refuses it (E5, B5).
dtp_e2e(e2e.weak-dh weak_dh.sh LABELS loopback TIMEOUT 60)

# 3. Bad certificates: checked by the SCU (server certificate) under each
#    profile, and by the SCP (client certificate) under TLS 1.3 (bcp195,
#    bcp195-nd) and TLS 1.2 only (bcp195-ex), where the client learns of a
#    refusal at different points of the handshake; and under B.13, whose
#    whole-chain rules (M27-M31) must not change what a bad leaf reports.
foreach(profile IN ITEMS bcp195 bcp195-nd bcp195-ex bcp195-8996-mod)
  dtp_e2e(e2e.bad-certs.client.${profile} bad_certs.sh
    LABELS loopback TIMEOUT 60 ARGS client ${profile})
  dtp_e2e(e2e.bad-certs.server.${profile} bad_certs.sh
    LABELS loopback TIMEOUT 60 ARGS server ${profile})
endforeach()

# 4. Plain DICOM against a TLS port and TLS against a plain port (C1); stock
#    DCMTK echoscu/storescu as plain clients (skipped if not installed).
dtp_e2e(e2e.not-tls not_tls.sh LABELS loopback TIMEOUT 60 ARGS dtp)
dtp_e2e(e2e.not-tls.stock-dcmtk not_tls.sh LABELS "loopback;interop" TIMEOUT 60 ARGS dcmtk)

# 5. Local configuration errors: exit 3 (or 1), reason name, nothing stored;
#    --list-profiles and --print-conformance against the reason table.
dtp_e2e(e2e.bad-config bad_config.sh LABELS loopback TIMEOUT 90)
