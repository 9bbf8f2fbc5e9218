# dtp-check against real TLS servers nobody here wrote (label interop):
# openssl s_server, gnutls-serv, stock DCMTK 3.6.7 storescp (+px/+py/+pz)
# and Orthanc 1.10.1. For each, violations are planted (TLS 1.1, a CBC
# suite, a 1024-bit DH group, SHA-1-signed / RSA-1024 certificates, no
# client certificate requested, ...) and the violated requirement ID must be
# among dtp-check's findings; clean configurations must be graded
# conforming. A peer that is not installed makes its test skip.
# Included from tests/CMakeLists.txt (after interop.cmake); no result rows
# for interop.report: the verdict tables go to stdout and to
# ${PROJECT_BINARY_DIR}/check-peers/PEER.txt.
foreach(peer IN ITEMS openssl gnutls dcmtk orthanc)
  dtp_e2e(check.peers.${peer} check_peers.sh LABELS interop TIMEOUT 180 ARGS ${peer})
endforeach()
