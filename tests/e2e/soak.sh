#!/bin/bash
# soak.sh -- 2000 associations in a row against one dtp-storescp, 0 failures,
# and no growth of the SCP listener's file descriptors or memory.
#
# The SCP runs bcp195-nd with an RSA certificate. Association i is one
# dtp-storescu run with profile bcp195, bcp195-nd, bcp195-ex, cryptrec in
# turn, RSA and ECDSA client certificates alternating every four runs,
# sending one of the three small fixtures (so the output directory ends with
# the three objects, each stored many times over).
#
# The listener's open file descriptors (/proc/PID/fd) and resident memory
# (VmRSS) are sampled before the first association, after the first 20
# (warm-up) and after the last; all are printed. Fails if any association
# fails (SCU exit code, its summary, or a failure in the SCP log), if the
# SCP does not log every association as ended with one object stored, if the
# descriptors grew by more than 5 or VmRSS by more than 8 MiB from before
# to after, or if the stored objects differ from the sources.
#
# Environment: DTP_SOAK_COUNT (default 2000) for a shorter run by hand.
# Labelled slow: not in the default run.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

dtp_init soak
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}"
dtp_need_cmd dcmdump timeout setsid pgrep
PKI=$DTP_PKI
COUNT=${DTP_SOAK_COUNT:-2000}
WARMUP=20
PROFILES=(bcp195 bcp195-nd bcp195-ex cryptrec)
SMALL=("$DTP_DATA/small/small-1.dcm" "$DTP_DATA/small/small-2.dcm" "$DTP_DATA/small/small-3.dcm")
for f in "${SMALL[@]}"; do [ -f "$f" ] || dtp_fail "fixture $f missing"; done
[ -d /proc/self/fd ] || dtp_skip "no /proc: cannot sample file descriptors and RSS"

OUT=$DTP_WORK/out
mkdir "$OUT"
port=$(dtp_free_port)
dtp_start scp "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 --profile bcp195-nd \
    +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" +cf "$PKI/ca.pem" -od "$OUT" "$port"
dtp_wait_port "$port" 127.0.0.1 10 || dtp_fail "dtp-storescp did not listen on 127.0.0.1:$port"
SCP_PID=${DTP_PIDS[0]}
LOG=$DTP_WORK/scp.log

# sample: set S_FDS and S_RSS (KiB) of the listener, once its association
# processes are gone (bounded wait), so that only the listener is measured.
sample() {
    local i
    for ((i = 0; i < 100; i++)); do
        [ "$(pgrep -x -P "$SCP_PID" dtp-assoc | wc -l || true)" -eq 0 ] && break
        sleep 0.05
    done
    _dtp_alive "$SCP_PID" || dtp_fail "dtp-storescp is not running"
    S_FDS=$(find "/proc/$SCP_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
    S_RSS=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SCP_PID/status")
}
sample
fd_before=$S_FDS rss_before=$S_RSS

failures=0
shown=0
t0=$SECONDS
for ((i = 0; i < COUNT; i++)); do
    profile=${PROFILES[$((i % 4))]}
    if ((i / 4 % 2)); then kt=ec; else kt=rsa; fi
    obj=${SMALL[$((i % 3))]}
    rc=0
    timeout -k 5 30 "$DTP_BIN/dtp-storescu" --profile "$profile" \
        +tls "$PKI/client-$kt.key" "$PKI/client-$kt.pem" +cf "$PKI/ca.pem" \
        127.0.0.1 "$port" "$obj" </dev/null >"$DTP_WORK/run.out" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ] || ! grep -q '^summary: 1 of 1 objects stored' "$DTP_WORK/run.out"; then
        failures=$((failures + 1))
        if [ "$shown" -lt 5 ]; then
            shown=$((shown + 1))
            echo "association $i ($profile, $kt): exit $rc" >&2
            sed 's/^/    | /' "$DTP_WORK/run.out" >&2
            cp "$DTP_WORK/run.out" "$DTP_WORK/failed-$i.log"
        fi
        [ "$failures" -lt 20 ] || dtp_fail "$failures failures in the first $((i + 1)) associations; stopping"
    fi
    if [ "$((i + 1))" -eq "$WARMUP" ]; then
        sample
        fd_warm=$S_FDS rss_warm=$S_RSS
    fi
    if [ $(((i + 1) % 250)) -eq 0 ]; then
        echo "$((i + 1)) associations, $failures failed, $((SECONDS - t0)) s"
    fi
done
elapsed=$((SECONDS - t0))
sample
fd_after=$S_FDS rss_after=$S_RSS

echo "associations: $COUNT in $elapsed s, $failures failed"
echo "SCP listener fds: before $fd_before, after $WARMUP associations ${fd_warm:-?}, after $COUNT: $fd_after"
echo "SCP listener VmRSS: before $rss_before KiB, after $WARMUP associations ${rss_warm:-?} KiB, after $COUNT: $rss_after KiB"

[ "$failures" -eq 0 ] || dtp_fail "$failures of $COUNT associations failed"
ended=$(grep -Ec '^association from 127\.0\.0\.1:[0-9]+ ended: 1 objects stored \([0-9]+ bytes\), 0 failed$' "$LOG" || true)
[ "$ended" -eq "$COUNT" ] || dtp_fail "expected $COUNT associations logged as ended with 1 object stored, found $ended"
if grep -Eq 'provider reason|refusing connection|killed by signal' "$LOG"; then
    dtp_fail "the SCP logged failures: $(grep -E 'provider reason|refusing connection|killed by signal' "$LOG" | head -n 5)"
fi
[ $((fd_after - fd_before)) -le 5 ] ||
    dtp_fail "the SCP listener's file descriptors grew from $fd_before to $fd_after over $COUNT associations"
[ $((rss_after - rss_before)) -le 8192 ] ||
    dtp_fail "the SCP listener's VmRSS grew from $rss_before KiB to $rss_after KiB over $COUNT associations (limit +8 MiB)"
dtp_same_tree "${SMALL[@]}" -- "$OUT"
n=$(find "$OUT" -mindepth 1 | wc -l)
[ "$n" -eq 3 ] || dtp_fail "expected the 3 objects in the output directory, found $n entries"
echo "PASS: $COUNT associations, 0 failed; fds $fd_before -> $fd_after, VmRSS $rss_before -> $rss_after KiB"
