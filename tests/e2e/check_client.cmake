# dtp-check's client mode end to end (check_client.sh, label loopback for
# our own tools, interop for foreign peers): dtp-storescu under each profile
# (the 6 x 6 verdict table of the ClientHellos; the transfer succeeds),
# the bounds of --listen (no +tls, nobody connects, port taken, not TLS,
# --count), and openssl s_client, gnutls-cli and stock DCMTK storescu with
# chosen offers. Included from tests/CMakeLists.txt.
foreach(profile IN ITEMS bcp195 bcp195-nd bcp195-ex cryptrec bcp195-8996 bcp195-8996-mod)
  dtp_e2e(check.client.dtp.${profile} check_client.sh LABELS loopback TIMEOUT 180 ARGS dtp ${profile})
endforeach()
dtp_e2e(check.client.bad check_client.sh LABELS loopback TIMEOUT 120 ARGS bad)
dtp_e2e(check.client.openssl check_client.sh LABELS interop TIMEOUT 120 ARGS openssl)
dtp_e2e(check.client.gnutls check_client.sh LABELS interop TIMEOUT 120 ARGS gnutls)
dtp_e2e(check.client.stock-dcmtk check_client.sh LABELS interop TIMEOUT 180 ARGS stock)
