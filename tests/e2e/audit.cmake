# Audit messages (PS3.15 A.5 XML in RFC 5424 syslog) from dtp-storescu and
# dtp-storescp, received by a real audit repository (rsyslog with its GnuTLS
# driver, tests/e2e/audit_lib.sh) and checked against the audit message
# schema (tests/audit/). Included from tests/CMakeLists.txt.

# 1. The validator itself: its valid samples pass, each broken sample fails
#    for its own reason. SKIPs (77) without xmllint.
add_test(NAME audit.schema COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/audit/selftest.sh)
set_tests_properties(audit.schema PROPERTIES LABELS unit TIMEOUT 60 SKIP_RETURN_CODE 77)

# 2. The apps against rsyslog: tls (RFC 5425), udp (RFC 5426), alert (a
#    Security Alert for a refused client certificate), binding (one for a
#    certificate not bound to the calling AE title), down (no receiver at
#    start, during transfers and across an SCP restart: nothing lost, nothing
#    slowed). SKIP (77) without rsyslogd, rsyslog-gnutls, jq or xmllint.
foreach(case IN ITEMS receiver tls udp alert binding)
  dtp_e2e(e2e.audit.${case} audit.sh LABELS "loopback;interop" TIMEOUT 90 ARGS ${case})
endforeach()
dtp_e2e(e2e.audit.down audit.sh LABELS "loopback;interop" TIMEOUT 180 ARGS down)
