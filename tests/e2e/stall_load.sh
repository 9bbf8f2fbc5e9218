#!/bin/bash
# stall_load.sh -- 200 stalled connections do not block a real association.
#
# dtp-storescp (bcp195-nd, --handshake-timeout 5, --max-associations 512)
# gets, all held open at once:
#   * 100 TCP connections that never send a byte;
#   * 50 that send a real ClientHello (captured from `openssl s_client -msg`)
#     and then nothing: the SCP answers with its flight and waits for the
#     client's Finished;
#   * 50 that send the first half of that ClientHello record: the SCP waits
#     for the rest of the record.
# While they are open a dtp-storescu transfer (the 512 KiB fixture) must
# succeed within 20 s. The same transfer is timed before the stalls are
# opened; both times and the difference are printed (figures, not asserted;
# the target for the difference, measured by bench/run.sh, is < 100 ms). After the handshake
# timeout every stalled association must be dropped: 200 lines "A-P-ABORT,
# provider reason 212 HANDSHAKE_TIMEOUT", no association process left, and
# every stalled socket closed by the SCP (reads EOF). No other failure.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

dtp_init stall-load
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}" "${DTP_BUILD_DIR:?}"
dtp_need_cmd dcmdump openssl timeout setsid pgrep
PKI=$DTP_PKI
FILE=$DTP_DATA/medium/medium-1.dcm
[ -f "$FILE" ] || dtp_fail "fixture $FILE missing"
SILENT=100 FULL=50 HALF=50
TOTAL=$((SILENT + FULL + HALF))
HS_TIMEOUT=5
PROXY=${DTP_FAULTPROXY:-$DTP_BUILD_DIR/tests/tools/dtp-faultproxy}
[ -x "$PROXY" ] || dtp_fail "dtp-faultproxy not built: $PROXY (tests/tools; or set DTP_FAULTPROXY)"

# 200 sockets of ours, the SCU's and the SCP's own: stay within the limit.
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 1024 ]; then
    ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge $((TOTAL + 64)) ] ||
    dtp_skip "ulimit -n is $(ulimit -n); $((TOTAL + 64)) file descriptors needed"

# ---- A real ClientHello: openssl s_client against a proxy that stalls
# (accepts, reads, never answers); -msg prints the record header and the
# handshake message in hex.
cap_port=$(dtp_free_port)
dtp_start capture "$PROXY" --listen "$cap_port" --connect 1 --mode stall --timeout 10
dtp_wait_port "$cap_port" 127.0.0.1 10 || dtp_fail "dtp-faultproxy (capture) did not listen"
timeout 2 openssl s_client -connect "127.0.0.1:$cap_port" -msg < /dev/null > "$DTP_WORK/s_client.txt" 2>&1 || true
hex=$(awk '/^>>> .*RecordHeader/ { on = 1; n++; next }
           /^>>> .*ClientHello/ { on = 1; next }
           /^(<<<|>>>)/ { on = 0 }
           on && n == 1 && /^ +([0-9a-f][0-9a-f] ?)+$/ { printf "%s", $0 }' "$DTP_WORK/s_client.txt" | tr -d ' ')
HELLO=$DTP_WORK/client-hello.bin
printf '%b' "$(sed 's/../\\x&/g' <<< "$hex")" > "$HELLO"
len=$(stat -c %s "$HELLO")
# A TLS handshake record holding a ClientHello, complete.
[ "$len" -gt 50 ] && [ "$(od -An -tx1 -N1 "$HELLO" | tr -d ' ')" = 16 ] &&
    [ "$(od -An -tx1 -j5 -N1 "$HELLO" | tr -d ' ')" = 01 ] &&
    [ $(( $(od -An -tu1 -j3 -N1 "$HELLO") * 256 + $(od -An -tu1 -j4 -N1 "$HELLO") + 5 )) -eq "$len" ] ||
    dtp_fail "could not capture a ClientHello from openssl s_client -msg ($len bytes):
$(head -n 12 "$DTP_WORK/s_client.txt")"
HALF_HELLO=$DTP_WORK/half-hello.bin
head -c $((len / 2)) "$HELLO" > "$HALF_HELLO"
echo "captured a $len-byte ClientHello record (half: $((len / 2)) bytes)"

# ---- The SCP.
port=$(dtp_free_port)
mkdir "$DTP_WORK/out"
dtp_start scp "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 --profile bcp195-nd \
    +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" +cf "$PKI/ca.pem" \
    --handshake-timeout "$HS_TIMEOUT" --max-associations 512 -od "$DTP_WORK/out" "$port"
dtp_wait_port "$port" 127.0.0.1 10 || dtp_fail "dtp-storescp did not listen on 127.0.0.1:$port"
SCP_PID=${DTP_PIDS[$((${#DTP_PIDS[@]} - 1))]}
LOG=$DTP_WORK/scp.log

# transfer NAME: one dtp-storescu run of $FILE (limit 20 s); prints its ms.
transfer() {
    local t0=${EPOCHREALTIME/[.,]/}
    DTP_CMD_TIMEOUT=20 dtp_expect_exit 0 "$DTP_BIN/dtp-storescu" --profile bcp195-nd \
        +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem" 127.0.0.1 "$port" "$FILE"
    TRANSFER_MS=$(( (${EPOCHREALTIME/[.,]/} - t0) / 1000 ))
    cp "$DTP_WORK/last.out" "$DTP_WORK/$1.log"
    dtp_expect_grep '^summary: 1 of 1 objects stored' "$DTP_WORK/$1.log"
}

# Baseline, nothing stalled (a first run warms the caches).
transfer warmup
transfer baseline
base_ms=$TRANSFER_MS

# ---- 200 stalled connections.
FDS=()
close_fds() {
    local fd
    for fd in "${FDS[@]}"; do exec {fd}>&-; done
    FDS=()
}
for ((i = 0; i < TOTAL; i++)); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$port" || dtp_fail "cannot open stalled connection $i"
    FDS+=("$fd")
    if ((i >= SILENT + FULL)); then
        cat "$HALF_HELLO" >&"$fd"
    elif ((i >= SILENT)); then
        cat "$HELLO" >&"$fd"
    fi
done
opened_at=${EPOCHREALTIME/[.,]/}

# The transfer while all 200 are open (and before any timed out).
transfer loaded
loaded_ms=$TRANSFER_MS
since_open=$(( (${EPOCHREALTIME/[.,]/} - opened_at) / 1000 ))
timeouts_during=$(grep -c 'provider reason 212 HANDSHAKE_TIMEOUT' "$LOG" || true)
kids_during=$(pgrep -x -P "$SCP_PID" dtp-assoc | wc -l || true)
echo "transfer of ${FILE##*/}: $base_ms ms alone, $loaded_ms ms with $TOTAL stalled connections open ($SILENT silent, $FULL whole ClientHello, $HALF half ClientHello; $kids_during association processes): $((loaded_ms - base_ms)) ms extra"

# ---- After the handshake timeout: all dropped, bounded wait.
deadline=$((opened_at + (HS_TIMEOUT + 15) * 1000000))
while :; do
    kids=$(pgrep -x -P "$SCP_PID" dtp-assoc | wc -l || true)
    n=$(grep -Ec '^E: association from 127\.0\.0\.1:[0-9]+: A-P-ABORT, provider reason 212 HANDSHAKE_TIMEOUT: ' "$LOG" || true)
    now=${EPOCHREALTIME/[.,]/}
    [ "$kids" -eq 0 ] && [ "$n" -ge "$TOTAL" ] && break
    [ "$now" -lt "$deadline" ] || break
    sleep 0.2
done
waited_ms=$(( (${EPOCHREALTIME/[.,]/} - opened_at) / 1000 ))
echo "HANDSHAKE_TIMEOUT lines: $n of $TOTAL, association processes left: $kids, $waited_ms ms after opening"
[ "$n" -eq "$TOTAL" ] ||
    dtp_fail "expected $TOTAL 'A-P-ABORT, provider reason 212 HANDSHAKE_TIMEOUT' lines, found $n after $waited_ms ms (--handshake-timeout $HS_TIMEOUT)"
[ "$kids" -eq 0 ] || dtp_fail "$kids association processes still alive $waited_ms ms after the stalled connections were opened"
[ "$timeouts_during" -eq 0 ] || [ "$since_open" -ge $((HS_TIMEOUT * 1000 - 100)) ] ||
    dtp_fail "$timeouts_during handshakes timed out within $since_open ms, before --handshake-timeout $HS_TIMEOUT"
others=$(grep -E 'provider reason|refusing connection' "$LOG" | grep -vc 'provider reason 212 HANDSHAKE_TIMEOUT' || true)
[ "$others" -eq 0 ] || dtp_fail "unexpected failures in the SCP log:
$(grep -E 'provider reason|refusing connection' "$LOG" | grep -v ' 212 ' | head -n 5)"
ended=$(grep -Ec '^association from 127\.0\.0\.1:[0-9]+ ended: 1 objects stored' "$LOG" || true)
[ "$ended" -eq 3 ] || dtp_fail "expected the 3 transfers' associations to end well in the SCP log, found $ended"

# The SCP closed every stalled socket: each reads EOF (after whatever the
# SCP sent: its handshake flight to the whole ClientHellos), bounded.
eof=0
for fd in "${FDS[@]}"; do
    if timeout 1 cat <&"$fd" >/dev/null 2>&1; then eof=$((eof + 1)); fi
done
close_fds
[ "$eof" -eq "$TOTAL" ] || dtp_fail "only $eof of $TOTAL stalled connections were closed by the SCP"

dtp_same_tree "$FILE" -- "$DTP_WORK/out"
echo "PASS: transfer in $loaded_ms ms (alone: $base_ms ms) beside $TOTAL stalled connections; all $TOTAL dropped with 212 HANDSHAKE_TIMEOUT within $waited_ms ms"
