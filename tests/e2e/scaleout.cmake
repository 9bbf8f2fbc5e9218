# Scale-out: two dtp-storescp nodes behind HAProxy (mode tcp, roundrobin,
# health checks) sharing one --ticket-key-file (R37): 200 dtp-storescu runs
# resume across the nodes, each object stored exactly once; then a node is
# killed while runs continue. Prints "scaleout: resumed N/200". SKIPs (77)
# without haproxy. Included from tests/CMakeLists.txt.
dtp_e2e(e2e.scaleout.bcp195-8996 scaleout.sh LABELS "loopback;interop" TIMEOUT 180 ARGS bcp195-8996)
