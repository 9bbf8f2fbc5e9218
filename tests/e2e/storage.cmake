# Storage end-to-end tests: what dtp-storescp writes into its output
# directory (checked UIDs, never overwriting, start-up sweep, fsync before
# the response, a full disk). Included from tests/CMakeLists.txt.

# 1. Hostile SOP Instance UIDs, identical re-sends, UID collisions, the
#    start-up sweep, --no-fsync.
dtp_e2e(e2e.storage storage.sh LABELS loopback TIMEOUT 120 ARGS main)

# 2. Durable before acknowledged, seen under strace: fsync of the file,
#    rename without replacing, fsync of the directory, then the response;
#    no fsync with --no-fsync. SKIPs (77) without strace.
dtp_e2e(e2e.storage.fsync storage.sh LABELS loopback TIMEOUT 120 ARGS fsync)

# 3. A full disk (2 MiB tmpfs in a private mount namespace): A700 for what
#    does not fit, the association and the SCP go on. SKIPs (77) where no
#    mount namespace can be made.
dtp_e2e(e2e.storage.disk-full storage.sh LABELS loopback TIMEOUT 120 ARGS disk-full)
