# dtp-storescp as a service: several listeners in one process (N4, K4), the
# association limit, reload on SIGHUP, a killed association process,
# SIGTERM with --shutdown-timeout, socket activation, certificate expiry.
# Included from tests/CMakeLists.txt.
foreach(case IN ITEMS listeners limit reload kill shutdown activation expiry)
  dtp_e2e(e2e.service.${case} service.sh LABELS loopback TIMEOUT 90 ARGS ${case})
endforeach()

# The systemd units in dist/: verified, hardened, ExecStart works.
dtp_e2e(dist.systemd dist_systemd.sh LABELS loopback TIMEOUT 60)
