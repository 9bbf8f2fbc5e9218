# Valgrind memcheck variants of the loopback end-to-end tests: the same
# scripts, unchanged, with dtp-storescu and dtp-storescp (and every
# association process the SCP forks) run under memcheck by
# tests/valgrind/run.sh, which then fails the test if any process's log
# reports a memory error or a definite leak (tests/valgrind/check.sh;
# suppressions of foreign global state only: tests/valgrind/dtp.supp).
# Included from tests/CMakeLists.txt.
#
# Labels valgrind and slow (about 14 minutes in all on 2 cores): not in
# the default run; `ctest -L valgrind` runs them. Each runs alone
# (RUN_SERIAL): memcheck is CPU-bound and the scripts wait for the SCP
# within bounds. They SKIP without valgrind and in a sanitizer build.
# Not here, because their time bounds cannot hold when every process runs
# 20-50 times slower: e2e.stall and e2e.stall-load (a transfer within 10 s
# beside 25 / 200 stalled connections, each a forked process under
# memcheck), e2e.concurrent (16 clients at once: their handshakes time
# out), e2e.fault.freeze.c2s (its 2 s / 8 s socket timeouts decide which
# side reports what), e2e.soak (2000 associations).

# dtp_e2e runs tests/e2e/<script>: ../valgrind/run.sh is the runner, and
# the real script with its arguments follows it.
set(DTP_VG_RUN ../valgrind/run.sh)
function(dtp_valgrind name timeout)
  dtp_e2e(valgrind.${name} ${DTP_VG_RUN} LABELS "valgrind;slow" TIMEOUT ${timeout} ARGS ${ARGN})
  set_tests_properties(valgrind.${name} PROPERTIES RUN_SERIAL ON)
endfunction()

# 1. Every profile, RSA and ECDSA certificates (transfer.sh).
foreach(profile IN ITEMS bcp195 bcp195-nd bcp195-ex cryptrec bcp195-8996 bcp195-8996-mod)
  foreach(keytype IN ITEMS rsa ec)
    dtp_valgrind(transfer.${profile}.${keytype} 300 transfer.sh ${profile} ${keytype})
  endforeach()
endforeach()

# 2. 6 x 6 profile matrix: 72 associations, connected and refused ones.
foreach(keytype IN ITEMS rsa ec)
  dtp_valgrind(matrix.${keytype} 600 matrix.sh ${keytype})
endforeach()

# 3. Failure paths: each ends an association process (or the SCU) through
#    another error branch, where a leak would hide.
dtp_valgrind(bind 300 bind.sh)
dtp_valgrind(old-versions 300 old_versions.sh)
dtp_valgrind(weak-dh 300 weak_dh.sh)
foreach(profile IN ITEMS bcp195 bcp195-nd bcp195-ex bcp195-8996-mod)
  dtp_valgrind(bad-certs.client.${profile} 300 bad_certs.sh client ${profile})
  dtp_valgrind(bad-certs.server.${profile} 300 bad_certs.sh server ${profile})
endforeach()
dtp_valgrind(not-tls 300 not_tls.sh dtp)
dtp_valgrind(bad-config 300 bad_config.sh)
# Storage: refusals, collisions, a full disk (A700, association goes on);
# the service: the worker pool and the A-ASSOCIATE-RJ over the limit.
dtp_valgrind(storage.main 300 storage.sh main)
dtp_valgrind(storage.disk-full 300 storage.sh disk-full)
dtp_valgrind(service.limit 300 service.sh limit)

# 4. Faults injected mid-association by dtp-faultproxy (faults.sh): the
#    abort paths of both apps, where the association's objects are torn
#    down half-way.
foreach(case IN ITEMS flip.c2s flip.s2c truncate.c2s truncate.s2c reset.c2s
                      garbage.c2s garbage.s2c stall.c2s flip.c2s.first)
  string(REPLACE "." ";" args ${case})
  dtp_valgrind(fault.${case} 300 faults.sh ${args})
endforeach()

# 5. Stock DCMTK peers (skipped when DCMTK's tools are not installed).
foreach(profile IN ITEMS bcp195-nd bcp195-ex)
  dtp_valgrind(stock-dcmtk.${profile} 300 stock_dcmtk.sh ${profile})
endforeach()

# 6. Session resumption across runs: the session file is written when the
#    client's context is freed, and resumed sessions are torn down.
dtp_valgrind(session-file.bcp195-nd 300 session_file.sh bcp195-nd)
