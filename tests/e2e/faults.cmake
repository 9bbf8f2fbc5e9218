# Fault and load end-to-end tests (C6): faults injected for real by
# tests/tools/dtp-faultproxy between dtp-storescu and dtp-storescp, many
# clients at once, stalled connections under load, and a soak run.
# Included from tests/CMakeLists.txt; needs add_subdirectory(tools) there
# (the scripts find the proxy at tests/tools/dtp-faultproxy in the build
# tree, or at $DTP_FAULTPROXY).

# 1. One fault per test, in the last (8 MiB) object of four, mid-transfer:
#    both sides A-P-ABORT with their own reason row, documented exit codes,
#    completed objects intact, nothing partial, the object in flight absent.
foreach(case IN ITEMS flip.c2s flip.s2c truncate.c2s truncate.s2c reset.c2s
                      garbage.c2s garbage.s2c freeze.c2s stall.c2s)
  string(REPLACE "." ";" args ${case})
  if(case STREQUAL "stall.c2s")
    set(name e2e.fault.stall)
  else()
    set(name e2e.fault.${case})
  endif()
  dtp_e2e(${name} faults.sh LABELS loopback TIMEOUT 90 ARGS ${args})
endforeach()
# The same bit flip in the first of four objects: the SCU must stop (one
# A-P-ABORT, exit 6), not go on sending into the dead association.
dtp_e2e(e2e.fault.flip.c2s.first faults.sh LABELS loopback TIMEOUT 90 ARGS flip c2s first)

# 2. 16 clients at once (bcp195, bcp195-nd, cryptrec) into one SCP.
dtp_e2e(e2e.concurrent concurrent.sh LABELS loopback TIMEOUT 120)

# 3. 100 silent + 100 half-handshake connections held open while a transfer
#    succeeds; all dropped with HANDSHAKE_TIMEOUT afterwards.
dtp_e2e(e2e.stall-load stall_load.sh LABELS loopback TIMEOUT 120)

# 4. 2000 associations in a row, mixed profiles: 0 failures, no fd or RSS
#    growth of the SCP (not in the default run: label slow).
dtp_e2e(e2e.soak soak.sh LABELS slow TIMEOUT 900)
