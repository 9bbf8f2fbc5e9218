# AE titles bound to certificates (--peer-map): dtp-storescp refuses a
# calling AE title not bound to the client certificate (A-ASSOCIATE-RJ),
# dtp-storescu a server certificate not bound to -aec; reload on SIGHUP;
# malformed maps. Included from tests/CMakeLists.txt.
foreach(case IN ITEMS scp unlisted scu reload bad)
  dtp_e2e(e2e.peer_map.${case} peer_map.sh LABELS loopback TIMEOUT 120 ARGS ${case})
endforeach()
# The peer certificate comes from the TLS backend: the same on GnuTLS.
if(DTP_WITH_GNUTLS)
  foreach(case IN ITEMS scp scu)
    dtp_gnutls_e2e(peer_map.${case} peer_map.sh LABELS loopback TIMEOUT 120 ARGS ${case})
  endforeach()
endif()
