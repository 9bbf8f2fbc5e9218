#!/bin/bash
# service.sh CASE -- dtp-storescp as a long-running service:
#
#   listeners   two listeners with different profiles on 127.0.0.1 and
#               127.0.0.2, same port, one process (N4, K4); each speaks
#               its own profile and each association line names it
#   limit       --max-associations 2 with two associations open: a third
#               client gets A-ASSOCIATE-RJ (transient, local limit
#               exceeded), never a hang; afterwards transfers work again
#   reload      certificate replaced + SIGHUP during a long transfer: that
#               transfer completes on the old certificate, the next
#               association shows the new one; an unreadable key on SIGHUP
#               is logged and the old certificate stays in use
#   kill        kill -9 of an association process mid-transfer: that client
#               fails, the other association and the listener go on, no
#               temporary file is left
#   shutdown    SIGTERM: a running transfer finishes (--shutdown-timeout),
#               exit 0; a client that never sends its association request is
#               aborted at the timeout, with a logged reason
#   activation  systemd socket activation (LISTEN_FDS, via
#               systemd-socket-activate): the socket's name picks the profile
#   expiry      --warn-expiry: a warning when the own certificate expires
#               within the given days, none with the default 30
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

CASE=${1:?usage: service.sh listeners|limit|reload|kill|shutdown|activation|expiry}
dtp_init "service-$CASE"
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}"
dtp_need_cmd openssl ss timeout setsid pgrep echoscu
PKI=$DTP_PKI
SMALL=$DTP_DATA/small/small-1.dcm
[ -f "$SMALL" ] || dtp_fail "fixture $SMALL missing"
OUT=$DTP_WORK/out
mkdir "$OUT"

SCP_TLS=(+tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" +cf "$PKI/ca.pem")
SCU_TLS=(+tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem")

# start_scp ARGS...: dtp-storescp with the server certificate into $OUT,
# log $DTP_WORK/scp.log, PID in SCP_PID; waits for port $port on 127.0.0.1.
start_scp() {
    dtp_start scp "$DTP_BIN/dtp-storescp" -v -od "$OUT" "$@"
    SCP_PID=${DTP_PIDS[$((${#DTP_PIDS[@]} - 1))]}
    dtp_wait_port "$port" 127.0.0.1 10 || dtp_fail "dtp-storescp did not listen on port $port"
}

# scu CODE HOST PROFILE [ARGS...] -- FILES...: one dtp-storescu run that must
# exit with CODE; its output in $DTP_WORK/last.out.
scu() {
    local code=$1 host=$2 profile=$3; shift 3
    DTP_CMD_TIMEOUT=${SCU_TIMEOUT:-30} dtp_expect_exit "$code" "$DTP_BIN/dtp-storescu" --profile "$profile" \
        "${SCU_TLS[@]}" "$host" "$port" "$@"
}

# busy: association processes of the SCP (process name dtp-assoc).
busy() { pgrep -x -P "$SCP_PID" dtp-assoc | wc -l || true; }

# wait_busy N: until the SCP has N association processes (10 s).
wait_busy() {
    local i
    for ((i = 0; i < 100; i++)); do
        [ "$(busy)" -eq "$1" ] && return 0
        sleep 0.1
    done
    dtp_fail "expected $1 association processes, found $(busy)"
}

# hold NAME HOST: a TLS client that completes its handshake and then sends
# nothing (the SCP waits for its A-ASSOCIATE-RQ): one busy association.
hold() {
    dtp_start "$1" openssl s_client -quiet -connect "$2:$port" -cert "$PKI/client-rsa.pem" \
        -key "$PKI/client-rsa.key" -CAfile "$PKI/ca.pem" -verify_return_error
}

# big_set N: N copies of an ~8 MiB object (same UID: each copy after the
# first is acknowledged as identical), in the array BIG.
big_set() {
    [ -f "$DTP_WORK/data/large/large-1.dcm" ] ||
        DTP_LARGE=1 bash "$HERE/../fixtures/make_dicom.sh" "$DTP_WORK/data" >/dev/null
    BIG=()
    local i
    for ((i = 0; i < $1; i++)); do BIG+=("$DTP_WORK/data/large/large-1.dcm"); done
}

no_temp_files() {
    local left
    left=$(find "$OUT" -name '.dtp-*' | head -n 5)
    [ -z "$left" ] || dtp_fail "temporary files left in the output directory: $left"
}

port=$(dtp_free_port)
case $CASE in
listeners)
    start_scp "${SCP_TLS[@]}" --listen "127.0.0.1:$port/bcp195-nd" --listen "127.0.0.2:$port/bcp195-8996"
    dtp_wait_port "$port" 127.0.0.2 10 || dtp_fail "no listener on 127.0.0.2:$port"
    # Exactly the two addresses, and the main process holds both sockets.
    listeners=$(ss -Hltn "sport = :$port" | awk '{print $4}' | sort | tr '\n' ' ')
    [ "$listeners" = "127.0.0.1:$port 127.0.0.2:$port " ] ||
        dtp_fail "expected listeners 127.0.0.1:$port and 127.0.0.2:$port, ss shows: '$listeners'"
    for a in 127.0.0.1 127.0.0.2; do
        ss -Hltnp "src $a:$port" | grep -q "pid=$SCP_PID," ||
            dtp_fail "the listener on $a:$port is not held by the dtp-storescp process $SCP_PID: $(ss -Hltnp "src $a:$port")"
    done
    for l in "127\.0\.0\.1:$port, TLS profile bcp195-nd," "127\.0\.0\.2:$port, TLS profile bcp195-8996,"; do
        dtp_wait_grep "listening on $l" "$DTP_WORK/scp.log" 5 || dtp_fail "the SCP did not log its listener /$l/"
    done

    # Each address its own profile: a DHE-only client (N2 lists DHE suites,
    # B.12 does not) works on the first, is refused on the second.
    DHE=(+cs TLS_DHE_RSA_WITH_AES_128_GCM_SHA256)
    scu 0 127.0.0.1 bcp195-nd "${DHE[@]}" "$SMALL"
    dtp_wait_grep "^association from 127\.0\.0\.1:[0-9]+ via 127\.0\.0\.1:$port/bcp195-nd ended: 1 objects stored" \
        "$DTP_WORK/scp.log" 10 || dtp_fail "no 'ended' line naming listener 127.0.0.1:$port/bcp195-nd"
    dtp_expect_grep "^association from 127\.0\.0\.1:[0-9]+ via 127\.0\.0\.1:$port/bcp195-nd: TLS TLSv1\.2 TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 " \
        "$DTP_WORK/scp.log"
    scu 4 127.0.0.2 bcp195-nd "${DHE[@]}" "$SMALL"
    dtp_wait_grep "^E: association from 127\.0\.0\.[12]:[0-9]+ via 127\.0\.0\.2:$port/bcp195-8996: A-P-ABORT, provider reason 202 NO_SHARED_SUITE" \
        "$DTP_WORK/scp.log" 10 || dtp_fail "the bcp195-8996 listener did not log 202 NO_SHARED_SUITE for a DHE-only client
$(tail -n 20 "$DTP_WORK/scp.log")"
    # And the B.12 client on the B.12 address.
    scu 0 127.0.0.2 bcp195-8996 "$DTP_DATA/small/small-2.dcm"
    dtp_wait_grep "^association from 127\.0\.0\.[12]:[0-9]+ via 127\.0\.0\.2:$port/bcp195-8996 ended: 1 objects stored" \
        "$DTP_WORK/scp.log" 10 || dtp_fail "no 'ended' line naming listener 127.0.0.2:$port/bcp195-8996"
    [ "$(find "$OUT" -type f | wc -l)" -eq 2 ] || dtp_fail "expected 2 stored objects, found: $(ls -A "$OUT")"
    # A bad listener is a usage error, named.
    DTP_CMD_TIMEOUT=10 dtp_expect_exit 1 "$DTP_BIN/dtp-storescp" "${SCP_TLS[@]}" --listen "127.0.0.1:$port/no-such"
    dtp_expect_grep "unknown profile 'no-such'" "$DTP_WORK/last.out"
    DTP_CMD_TIMEOUT=10 dtp_expect_exit 8 "$DTP_BIN/dtp-storescp" "${SCP_TLS[@]}" --listen "127.0.0.1:$port"
    dtp_expect_grep "cannot listen on 127\.0\.0\.1:$port: Address already in use" "$DTP_WORK/last.out"
    ;;
limit)
    start_scp "${SCP_TLS[@]}" --profile bcp195-nd --bind 127.0.0.1 --max-associations 2 --workers 2 -ta 30 "$port"
    hold hold1 127.0.0.1
    hold hold2 127.0.0.1
    wait_busy 2
    t0=${EPOCHREALTIME/[.,]/}
    SCU_TIMEOUT=15 scu 5 127.0.0.1 bcp195-nd "$SMALL"
    ms=$(( (${EPOCHREALTIME/[.,]/} - t0) / 1000 ))
    cp "$DTP_WORK/last.out" "$DTP_WORK/rejected.log"
    dtp_expect_grep '^E: association failed: DUL Association Rejected' "$DTP_WORK/rejected.log"
    # The reject's result, source and reason, as stock DCMTK's echoscu
    # prints them (dtp-storescu, like storescu, shows them with -d only).
    DTP_CMD_TIMEOUT=15 dtp_expect_exit 1 echoscu +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" \
        +cf "$PKI/ca.pem" +py 127.0.0.1 "$port"
    tr -s ' \n' ' ' < "$DTP_WORK/last.out" > "$DTP_WORK/echoscu.txt"
    dtp_expect_grep 'Association Rejected: (F: )?Result: Rejected Transient, Source: Service Provider \(Presentation Related\) (F: )?Reason: Local Limit Exceeded' \
        "$DTP_WORK/echoscu.txt"
    dtp_wait_grep "^association from 127\.0\.0\.1:[0-9]+ refused: too many associations" "$DTP_WORK/scp.log" 10 ||
        dtp_fail "no 'refused: too many associations' line in the SCP log"
    echo "over the limit: A-ASSOCIATE-RJ after $ms ms"
    [ -z "$(find "$OUT" -type f)" ] || dtp_fail "a refused association stored something"
    # Free one slot: transfers work again.
    kill "${DTP_PIDS[1]}"
    wait_busy 1
    scu 0 127.0.0.1 bcp195-nd "$SMALL"
    ;;
reload)
    CERTS=$DTP_WORK/certs
    mkdir "$CERTS"
    cp "$PKI/server-rsa.key" "$CERTS/server.key"
    cp "$PKI/server-rsa.pem" "$CERTS/server.pem"
    start_scp +tls "$CERTS/server.key" "$CERTS/server.pem" +cf "$PKI/ca.pem" --profile bcp195-nd --bind 127.0.0.1 "$port"
    # The replacement: a new key and certificate for CN=reloaded, same CA.
    openssl req -new -newkey rsa:2048 -nodes -subj /CN=reloaded -keyout "$DTP_WORK/new.key" \
        -out "$DTP_WORK/new.csr" 2>/dev/null
    openssl x509 -req -in "$DTP_WORK/new.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca.key" -CAcreateserial \
        -days 30 -sha256 -out "$DTP_WORK/new.pem" 2>/dev/null
    big_set 12
    dtp_start long "$DTP_BIN/dtp-storescu" --profile bcp195-nd "${SCU_TLS[@]}" 127.0.0.1 "$port" "${BIG[@]}"
    LONG_PID=${DTP_PIDS[$((${#DTP_PIDS[@]} - 1))]}
    wait_busy 1
    cp "$DTP_WORK/new.key" "$CERTS/server.key"
    cp "$DTP_WORK/new.pem" "$CERTS/server.pem"
    kill -HUP "$SCP_PID"
    dtp_wait_grep 'reloaded certificate, key and trust files' "$DTP_WORK/scp.log" 10 ||
        dtp_fail "no reload logged after SIGHUP"
    _dtp_alive "$LONG_PID" || dtp_fail "the long transfer ended before the reload: make it longer"
    rc=0
    timeout 60 tail --pid="$LONG_PID" -f /dev/null || rc=$?
    wait "$LONG_PID" || rc=$?
    [ "$rc" -eq 0 ] || dtp_fail "the transfer running during the reload failed ($rc):
$(tail -n 20 "$DTP_WORK/long.log")"
    dtp_expect_grep '^summary: 12 of 12 objects stored' "$DTP_WORK/long.log"
    dtp_expect_grep 'peer=/CN=localhost' "$DTP_WORK/long.log"
    scu 0 127.0.0.1 bcp195-nd "$SMALL"
    dtp_expect_grep 'peer=/CN=reloaded' "$DTP_WORK/last.out"
    # A broken reload: key unreadable. Logged with its reason; the
    # certificate loaded before stays in use.
    chmod 000 "$CERTS/server.key"
    if [ -r "$CERTS/server.key" ]; then # root reads anything: break it instead
        echo "not a key" > "$CERTS/server.key"
    fi
    mark=$(wc -l < "$DTP_WORK/scp.log")
    kill -HUP "$SCP_PID"
    line=$(dtp_wait_line 'reload \(SIGHUP\) of listener .* old contexts kept: reason 10[0-9] ' "$DTP_WORK/scp.log" "$mark" 10) ||
        dtp_fail "a broken reload was not logged with its reason
$(tail -n +"$((mark + 1))" "$DTP_WORK/scp.log" | head -n 20)"
    echo "broken reload: $line"
    scu 0 127.0.0.1 bcp195-nd "$DTP_DATA/small/small-2.dcm"
    dtp_expect_grep 'peer=/CN=reloaded' "$DTP_WORK/last.out"
    _dtp_alive "$SCP_PID" || dtp_fail "dtp-storescp died on a broken reload"
    ;;
kill)
    start_scp "${SCP_TLS[@]}" --profile bcp195-nd --bind 127.0.0.1 "$port"
    PROXY=${DTP_FAULTPROXY:-$DTP_BUILD_DIR/tests/tools/dtp-faultproxy}
    [ -x "$PROXY" ] || dtp_fail "dtp-faultproxy not built: $PROXY"
    big_set 12
    # The victim: its data stops flowing in the middle of its first object
    # (the proxy freezes), so its association process sits mid-transfer.
    pport=$(dtp_free_port)
    dtp_start proxy "$PROXY" --listen "$pport" --connect "$port" --mode freeze --direction c2s --record 40 --timeout 15
    dtp_wait_port "$pport" 127.0.0.1 10 || dtp_fail "dtp-faultproxy did not listen"
    dtp_start victim "$DTP_BIN/dtp-storescu" --profile bcp195-nd "${SCU_TLS[@]}" 127.0.0.1 "$pport" "${BIG[0]}"
    VICTIM=${DTP_PIDS[$((${#DTP_PIDS[@]} - 1))]}
    dtp_wait_grep '^faultproxy: freeze c2s record 40' "$DTP_WORK/proxy.log" 10 || dtp_fail "the proxy did not freeze"
    wait_busy 1
    victim_worker=$(pgrep -x -P "$SCP_PID" dtp-assoc)
    [ -n "$(find "$OUT" -name '.dtp-*' -size +0)" ] ||
        dtp_fail "no partly written temporary file while the victim is frozen mid-object"
    # Another association, running when the victim's process is killed.
    dtp_start other "$DTP_BIN/dtp-storescu" --profile bcp195-nd "${SCU_TLS[@]}" 127.0.0.1 "$port" "${BIG[@]}"
    OTHER=${DTP_PIDS[$((${#DTP_PIDS[@]} - 1))]}
    wait_busy 2
    kill -9 "$victim_worker"
    rc=0
    timeout 60 tail --pid="$OTHER" -f /dev/null || true
    wait "$OTHER" || rc=$?
    [ "$rc" -eq 0 ] || dtp_fail "the other association failed ($rc) after a kill -9 of its neighbour:
$(tail -n 10 "$DTP_WORK/other.log")"
    dtp_expect_grep '^summary: 12 of 12 objects stored' "$DTP_WORK/other.log"
    rc=0
    timeout 60 tail --pid="$VICTIM" -f /dev/null || true
    wait "$VICTIM" || rc=$?
    [ "$rc" -eq 6 ] || dtp_fail "the client whose association process was killed exited $rc, expected 6:
$(tail -n 10 "$DTP_WORK/victim.log")"
    dtp_expect_grep '^summary: 0 of 1 objects stored' "$DTP_WORK/victim.log"
    dtp_wait_grep "association process $victim_worker killed by signal 9" "$DTP_WORK/scp.log" 10 ||
        dtp_fail "the SCP did not log the killed association process $victim_worker"
    scu 0 127.0.0.1 bcp195-nd "$SMALL"
    _dtp_alive "$SCP_PID" || dtp_fail "the listener died"
    no_temp_files
    ;;
shutdown)
    start_scp "${SCP_TLS[@]}" --profile bcp195-nd --bind 127.0.0.1 --shutdown-timeout 3 -ta 30 "$port"
    big_set 6
    dtp_start long "$DTP_BIN/dtp-storescu" --profile bcp195-nd "${SCU_TLS[@]}" 127.0.0.1 "$port" "${BIG[@]}"
    LONG_PID=${DTP_PIDS[$((${#DTP_PIDS[@]} - 1))]}
    hold silent 127.0.0.1
    wait_busy 2
    t0=${EPOCHREALTIME/[.,]/}
    kill -TERM "$SCP_PID" # the main process only: what systemd's KillMode=mixed does
    rc=0
    timeout 60 tail --pid="$LONG_PID" -f /dev/null || true
    wait "$LONG_PID" || rc=$?
    [ "$rc" -eq 0 ] || dtp_fail "the transfer running at SIGTERM failed ($rc):
$(tail -n 10 "$DTP_WORK/long.log")"
    dtp_expect_grep '^summary: 6 of 6 objects stored' "$DTP_WORK/long.log"
    rc=0
    timeout 30 tail --pid="$SCP_PID" -f /dev/null || true
    wait "$SCP_PID" || rc=$?
    ms=$(( (${EPOCHREALTIME/[.,]/} - t0) / 1000 ))
    [ "$rc" -eq 0 ] || dtp_fail "dtp-storescp exited $rc after SIGTERM, expected 0"
    echo "stopped $ms ms after SIGTERM (--shutdown-timeout 3)"
    if [ "$ms" -lt 2500 ] || [ "$ms" -ge 10000 ]; then
        dtp_fail "stopped after $ms ms; expected the silent association to be aborted at about 3 s"
    fi
    dtp_expect_grep 'stopping: aborting association process [0-9]+ \(still running after --shutdown-timeout 3 s\)' \
        "$DTP_WORK/scp.log"
    [ -z "$(pgrep -P "$SCP_PID")" ] || dtp_fail "processes left after the stop"
    no_temp_files
    ;;
activation)
    dtp_need_cmd systemd-socket-activate
    dtp_start scp systemd-socket-activate -l "127.0.0.1:$port" --fdname=bcp195-8996 \
        "$DTP_BIN/dtp-storescp" -v "${SCP_TLS[@]}" --profile bcp195-nd -od "$OUT"
    SCP_PID=${DTP_PIDS[0]}
    dtp_wait_port "$port" 127.0.0.1 10 || dtp_fail "systemd-socket-activate did not listen"
    # systemd-socket-activate starts the service at the first connection.
    scu 0 127.0.0.1 bcp195-8996 "$SMALL"
    dtp_wait_grep "listening on 127\.0\.0\.1:$port, TLS profile bcp195-8996," "$DTP_WORK/scp.log" 10 ||
        dtp_fail "the activated dtp-storescp did not take the socket named bcp195-8996"
    dtp_expect_grep '^association from 127\.0\.0\.1:[0-9]+: TLS TLSv1\.3 ' "$DTP_WORK/scp.log"
    [ "$(find "$OUT" -type f | wc -l)" -eq 1 ] || dtp_fail "expected 1 stored object"
    ;;
expiry)
    days=$(( ($(date -d "$(openssl x509 -enddate -noout -in "$PKI/server-rsa.pem" | cut -d= -f2)" +%s) - $(date +%s)) / 86400 ))
    [ "$days" -gt 30 ] || dtp_fail "fixture server certificate expires in $days days; the test needs more than 30"
    start_scp "${SCP_TLS[@]}" --profile bcp195-nd --bind 127.0.0.1 "$port"
    if grep -q 'expires in' "$DTP_WORK/scp.log"; then dtp_fail "expiry warning with the default 30 days ($days left)"; fi
    dtp_stop_all
    port=$(dtp_free_port)
    start_scp "${SCP_TLS[@]}" --profile bcp195-nd --bind 127.0.0.1 --warn-expiry $((days + 2)) "$port"
    dtp_wait_grep 'expires in' "$DTP_WORK/scp.log" 5 || true
    dtp_expect_grep "^W: own certificate .*server-rsa\.pem \(listener 127\.0\.0\.1:$port/bcp195-nd\) expires in $days days, on [0-9-]+ [0-9:]+ UTC" \
        "$DTP_WORK/scp.log"
    ;;
*) dtp_fail "unknown case $CASE" ;;
esac
echo "PASS: service $CASE"
