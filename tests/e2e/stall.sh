#!/bin/bash
# stall.sh -- clients that never finish their TLS handshake neither block
# other associations nor live forever.
#
# dtp-storescp --handshake-timeout 2 gets 20 TCP connections that send
# nothing and 5 that send half a ClientHello (a TLS record header announcing
# 512 bytes, then 45 bytes of it). While they are all open:
#  * a dtp-storescu transfer completes within 10 s and the object is stored
#    intact (the listener forks per connection, so one stalled peer costs
#    only its own process);
#  * after the 2 s timeout the SCP aborts each stalled handshake with provider
#    reason 212 HANDSHAKE_TIMEOUT (C6), i.e. 25 such lines, and those
#    association processes exit.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

dtp_init stall
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}"
dtp_need_cmd dcmdump timeout setsid pgrep
PKI=$DTP_PKI
FILE=$DTP_DATA/medium/medium-1.dcm
[ -f "$FILE" ] || dtp_fail "fixture $FILE missing"
SILENT=20 HALF=5

port=$(dtp_free_port)
mkdir "$DTP_WORK/out"
dtp_start scp "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 --profile bcp195-nd \
    +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" +cf "$PKI/ca.pem" \
    --handshake-timeout 2 -od "$DTP_WORK/out" -v "$port"
dtp_wait_port "$port" 127.0.0.1 10 || dtp_fail "dtp-storescp did not listen on 127.0.0.1:$port"
SCP_PID=${DTP_PIDS[0]}
LOG=$DTP_WORK/scp.log

# Half a ClientHello: record header (handshake, TLS 1.0 record version,
# length 512), handshake header (client_hello, length 508), client_version
# TLS 1.2, then random bytes; 50 bytes in all, so the server waits for more.
HALF_HELLO=$DTP_WORK/half-hello.bin
{ printf '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'; head -c 39 /dev/urandom; } > "$HALF_HELLO"
[ "$(stat -c %s "$HALF_HELLO")" -eq 50 ] || dtp_fail "half ClientHello is not 50 bytes"

FDS=()
close_fds() {
    local fd
    for fd in "${FDS[@]}"; do exec {fd}>&-; done
    FDS=()
}

for ((i = 0; i < SILENT; i++)); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$port" || dtp_fail "cannot open silent connection $i"
    FDS+=("$fd")
done
for ((i = 0; i < HALF; i++)); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$port" || dtp_fail "cannot open half-hello connection $i"
    FDS+=("$fd")
    cat "$HALF_HELLO" >&"$fd"
done
opened_at=${EPOCHREALTIME/[.,]/}

# The transfer, while all 25 are open and none has timed out yet.
start=${EPOCHREALTIME/[.,]/}
DTP_CMD_TIMEOUT=10 dtp_expect_exit 0 "$DTP_BIN/dtp-storescu" --profile bcp195-nd \
    +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem" 127.0.0.1 "$port" "$FILE"
ms=$(( (${EPOCHREALTIME/[.,]/} - start) / 1000 ))
cp "$DTP_WORK/last.out" "$DTP_WORK/scu.log"
dtp_expect_grep '^summary: 1 of 1 objects stored' "$DTP_WORK/scu.log"
echo "transfer with $((SILENT + HALF)) stalled connections open: $ms ms"
[ "$ms" -lt 10000 ] || dtp_fail "transfer took $ms ms with stalled connections open (limit 10 s)"
timeouts_during=$(grep -c 'provider reason 212 HANDSHAKE_TIMEOUT' "$LOG" || true)

# Give the SCP time to time out the stalled handshakes: wait until the 2 s
# have passed and its association processes are gone, at most 8 s after the
# connections were opened.
deadline=$((opened_at + 8000000))
while :; do
    kids=$(pgrep -x -P "$SCP_PID" dtp-assoc | wc -l || true)
    now=${EPOCHREALTIME/[.,]/}
    [ "$kids" -eq 0 ] && [ "$now" -ge $((opened_at + 2000000)) ] && break
    [ "$now" -lt "$deadline" ] || break
    sleep 0.2
done
waited_ms=$(( (${EPOCHREALTIME/[.,]/} - opened_at) / 1000 ))
[ "$kids" -eq 0 ] ||
    dtp_fail "$kids association processes of the SCP still alive $waited_ms ms after the stalled connections were opened (--handshake-timeout 2)"

# Every line of the log is one whole message. The association processes run
# (and fail) at the same moment, all writing to the same stderr; a message
# split over several write(2) calls interleaves with the others' and the
# per-association record (C6 reason, B6 version/suite) is garbled. Lines
# are log messages ("X: ...") or the per-association lines on stdout.
mapfile -t malformed < <(awk '!/^([FEWIDT]: |association from )/ || /association from.*association from/ ||
    /what to do.*what to do/ || /handshake failed.*handshake failed/' "$LOG")
[ ${#malformed[@]} -eq 0 ] ||
    dtp_fail "${#malformed[@]} malformed (interleaved) lines in the SCP log of $((SILENT + HALF)) concurrent failing associations:
$(printf '  |%s\n' "${malformed[@]:0:10}")"

n=$(grep -Ec '^E: association from 127\.0\.0\.1:[0-9]+: A-P-ABORT, provider reason 212 HANDSHAKE_TIMEOUT: ' "$LOG" || true)
echo "HANDSHAKE_TIMEOUT lines: $n of $((SILENT + HALF)) after $waited_ms ms"
[ "$n" -eq $((SILENT + HALF)) ] ||
    dtp_fail "expected $((SILENT + HALF)) 'E: association from ...: A-P-ABORT, provider reason 212 HANDSHAKE_TIMEOUT' lines, found $n after $waited_ms ms"
# Not before the configured timeout: the transfer finished first.
[ "$timeouts_during" -eq 0 ] || [ "$ms" -ge 1900 ] ||
    dtp_fail "$timeouts_during handshakes timed out within $ms ms, before --handshake-timeout 2"
# No other failure was logged (e.g. the transfer's own association).
others=$(grep -E 'provider reason' "$LOG" | grep -vc 'provider reason 212 HANDSHAKE_TIMEOUT' || true)
[ "$others" -eq 0 ] || dtp_fail "unexpected failures in the SCP log: $(grep 'provider reason' "$LOG" | grep -v ' 212 ')"

# The server closed the stalled connections: each fd reads EOF now (bounded).
eof=0
for fd in "${FDS[@]}"; do
    if timeout 1 cat <&"$fd" >/dev/null 2>&1; then eof=$((eof + 1)); fi
done
[ "$eof" -eq $((SILENT + HALF)) ] ||
    dtp_fail "only $eof of $((SILENT + HALF)) stalled connections were closed by the SCP"
close_fds

dtp_same_tree "$FILE" -- "$DTP_WORK/out"
echo "PASS: transfer in $ms ms beside $SILENT silent + $HALF half-hello connections; $n timed out (212) within $waited_ms ms"
