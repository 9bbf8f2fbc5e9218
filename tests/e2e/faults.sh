#!/bin/bash
# faults.sh MODE DIRECTION [ORDER] -- real faults injected into a TLS
# association by dtp-faultproxy (tests/tools/faultproxy.c) sitting between
# dtp-storescu and dtp-storescp (bcp195-nd, RSA certificates) on 127.0.0.1:
#
#   dtp-storescu --> dtp-faultproxy --> dtp-storescp --exit-after 1
#
#   MODE       flip | truncate | reset | garbage | freeze | stall
#   DIRECTION  c2s (client to server) | s2c (server to client)
#   ORDER      last (default): small-1, small-2, small-3, then the 8 MiB
#              object; first: the 8 MiB object first, then the three small
#              ones (the fault then hits an object that is not the last)
#
# C6: when a record fails its integrity check (or the stream is truncated,
# reset, corrupted or frozen) the connection is dropped and BOTH sides issue
# an A-P-ABORT with their own provider reason row (reasons.c):
#
#   mode      dir  SCU (dtp-storescu)        SCP (dtp-storescp)
#   flip      c2s  301 INTEGRITY_ALERT       300 RECORD_INTEGRITY  (the SCP detects, alerts)
#   flip      s2c  300 RECORD_INTEGRITY      301 INTEGRITY_ALERT   (the SCU detects, alerts)
#   truncate  any  302 TRUNCATED             302 TRUNCATED         (FIN, no close_notify)
#   reset     c2s  304 IO_ERROR              304 IO_ERROR          (RST both ways)
#   garbage   c2s  305 SESSION_ALERT         306 PROTOCOL_ERROR    (receiver: not a TLS record;
#   garbage   s2c  306 PROTOCOL_ERROR        305 SESSION_ALERT      sender: its fatal alert)
#   freeze    c2s  303 TIMEOUT               303 TIMEOUT           (SCU -ts 2, SCP -ts 8: the
#                                                                   SCP blocked reading, the SCU
#                                                                   writing or reading)
#   stall     -    212 HANDSHAKE_TIMEOUT     (never reached)       (--handshake-timeout 2)
#
# Where the fault lands: first a relay run (--mode relay --trace) sends the
# same objects through the proxy and logs every TLS record per direction in
# time order. The 8 MiB object is the longest run of client-to-server
# application_data records with no server record in between (each small
# object and every other step of the protocol waits for a server answer);
# c2s faults hit the middle record of that run, so the fault lands inside
# the large object, mid-transfer. The server sends nothing during a C-STORE
# but the response, so s2c faults hit the first server record after that
# run: the C-STORE response to the large object (which the SCP has by then
# stored completely). The records are the same in both runs (same objects,
# same PDU size, same profile): the run is repeated with the fault at that
# index, and the proxy prints "faultproxy: MODE DIR record N" when it hits.
#
# Checked: the fault line; both apps' exit codes (6: aborted, reason 3xx;
# SCU 4 for stall, reason 2xx) and their "A-P-ABORT, provider reason NNN
# NAME" lines (for the alert-driven rows 301 and 305 the detail must name
# the alert), no other reason, exactly one failed association at the SCP;
# the SCU's summary; the output directory holds exactly the objects
# completed before the fault, byte-identical, no temporary (.part) file and
# not the object in flight.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/checks.sh"

[ $# -ge 2 ] && [ $# -le 3 ] || { echo "usage: $0 MODE c2s|s2c [last|first]" >&2; exit 1; }
MODE=$1 DIR=$2 ORDER=${3:-last}
case $DIR in c2s | s2c) ;; *) echo "$0: DIRECTION must be c2s or s2c" >&2; exit 1 ;; esac
case $ORDER in last | first) ;; *) echo "$0: ORDER must be last or first" >&2; exit 1 ;; esac

# Expected reason rows "CODE NAME", per side.
case $MODE/$DIR in
    flip/c2s)     SCU_R='301 INTEGRITY_ALERT' SCP_R='300 RECORD_INTEGRITY' ;;
    flip/s2c)     SCU_R='300 RECORD_INTEGRITY' SCP_R='301 INTEGRITY_ALERT' ;;
    truncate/*)   SCU_R='302 TRUNCATED' SCP_R='302 TRUNCATED' ;;
    reset/*)      SCU_R='304 IO_ERROR' SCP_R='304 IO_ERROR' ;;
    garbage/c2s)  SCU_R='305 SESSION_ALERT' SCP_R='306 PROTOCOL_ERROR' ;;
    garbage/s2c)  SCU_R='306 PROTOCOL_ERROR' SCP_R='305 SESSION_ALERT' ;;
    freeze/*)     SCU_R='303 TIMEOUT' SCP_R='303 TIMEOUT' ;;
    stall/*)      SCU_R='212 HANDSHAKE_TIMEOUT' SCP_R= ;;
    *) echo "$0: unknown MODE $MODE" >&2; exit 1 ;;
esac

# What the detail of an alert-driven row must say (reasons.c: "the detail
# names the alert").
detail_of() {
    case $1 in
        '301 INTEGRITY_ALERT') echo '.*\(peer sent fatal alert 20 bad_record_mac\)' ;;
        '305 SESSION_ALERT')   echo '.*\(peer sent fatal alert [0-9]+ [a-z_]+\)' ;;
    esac
}
SCU_D=$(detail_of "$SCU_R") SCP_D=$(detail_of "$SCP_R")

dtp_init "fault-$MODE-$DIR-$ORDER"
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_SOURCE_DIR:?}" "${DTP_BUILD_DIR:?}"
dtp_need_cmd dcmdump dump2dcm dcmodify dcmftest timeout setsid
PKI=$DTP_PKI
PROXY=${DTP_FAULTPROXY:-$DTP_BUILD_DIR/tests/tools/dtp-faultproxy}
[ -x "$PROXY" ] || dtp_fail "dtp-faultproxy not built: $PROXY (tests/tools; or set DTP_FAULTPROXY)"

# The objects: three small ones and the 8 MiB one, made for this test.
DATA=$DTP_WORK/data
DTP_LARGE=1 bash "$DTP_SOURCE_DIR/tests/fixtures/make_dicom.sh" "$DATA" > "$DTP_WORK/make_dicom.log" 2>&1 ||
    dtp_fail "make_dicom.sh failed: $(tail -n 20 "$DTP_WORK/make_dicom.log")"
SMALL=("$DATA/small/small-1.dcm" "$DATA/small/small-2.dcm" "$DATA/small/small-3.dcm")
LARGE=$DATA/large/large-1.dcm
if [ "$ORDER" = last ]; then SEND=("${SMALL[@]}" "$LARGE"); else SEND=("$LARGE" "${SMALL[@]}"); fi

SCP_ARGS=(--bind 127.0.0.1 --profile bcp195-nd +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" +cf "$PKI/ca.pem")
SCU_ARGS=(--profile bcp195-nd +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem")
# Socket timeouts (-ts) that end a hang well within the test's limit. The
# freeze case is about them: the SCP blocks reading the frozen stream, the
# SCU blocks writing into it (or, once its last bytes fit into the socket
# buffers, reading the response that never comes). Each side must give up
# on its own timeout, so the SCU's (2 s) expires while the SCP is still
# waiting (8 s): otherwise the SCP's close would reach the SCU first, and
# the SCU would rightly report 302 TRUNCATED instead. The margin is wide
# because the SCU's timeout only starts when its writes stop making
# progress: the frozen connection's socket buffers can keep taking its
# last megabytes in a trickle for seconds (seen once under a loaded full
# run with SCP -ts 4: the SCU took ~2 s to fill them, then read, and the
# SCP's 4 s expired first).
SCU_TS=10 SCP_TS=10
[ "$MODE" != freeze ] || SCU_TS=2 SCP_TS=8

# proc_index NAME: index of a dtp_start'ed process in DTP_PIDS.
proc_index() {
    local i
    for i in "${!DTP_PID_NAMES[@]}"; do
        [ "${DTP_PID_NAMES[$i]}" = "$1" ] && { echo "$i"; return 0; }
    done
    return 1
}
# wait_exit NAME SECONDS: wait (bounded) for a dtp_start'ed process to end;
# sets EXIT_RC to its exit code, or to "running" if it did not end in time.
wait_exit() {
    local i pid deadline=$((SECONDS + $2))
    i=$(proc_index "$1") || dtp_fail "no process named $1"
    pid=${DTP_PIDS[$i]}
    while _dtp_alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    if _dtp_alive "$pid"; then
        EXIT_RC=running
        return 0
    fi
    EXIT_RC=0
    wait "$pid" 2>/dev/null || EXIT_RC=$?
}
# check CONDITION-IS-TRUE MESSAGE: a soft check of our own.
check() {
    DTP_CHECKS=$((DTP_CHECKS + 1))
    [ "$1" = 1 ] || dtp_check_fail "$2"
}
# sop_uid FILE: its SOP Instance UID.
sop_uid() { dcmdump -s -Un +P 0008,0018 "$1" 2>/dev/null | sed -n 's/^[^[]*\[\([^]]*\)\].*/\1/p' | head -n 1; }

# ---- 1. Relay run with --trace: where to put the fault.
N=0
if [ "$MODE" != stall ]; then
    scp_port=$(dtp_free_port)
    px_port=$(dtp_free_port)
    mkdir "$DTP_WORK/out-relay"
    dtp_start relay-scp "$DTP_BIN/dtp-storescp" "${SCP_ARGS[@]}" --exit-after 1 \
        -od "$DTP_WORK/out-relay" "$scp_port"
    dtp_wait_port "$scp_port" 127.0.0.1 10 || dtp_fail "dtp-storescp did not listen on $scp_port"
    dtp_start relay-proxy "$PROXY" --listen "$px_port" --connect "$scp_port" --mode relay --trace --timeout 30
    dtp_wait_port "$px_port" 127.0.0.1 10 || dtp_fail "dtp-faultproxy did not listen on $px_port"
    DTP_CMD_TIMEOUT=30 dtp_expect_exit 0 "$DTP_BIN/dtp-storescu" "${SCU_ARGS[@]}" \
        127.0.0.1 "$px_port" "${SEND[@]}"
    cp "$DTP_WORK/last.out" "$DTP_WORK/relay-scu.log"
    dtp_expect_grep '^summary: 4 of 4 objects stored' "$DTP_WORK/relay-scu.log"
    wait_exit relay-proxy 10
    [ "$EXIT_RC" = 0 ] || dtp_fail "relay proxy: exit $EXIT_RC (expected 0)"
    wait_exit relay-scp 10
    [ "$EXIT_RC" = 0 ] || dtp_fail "relay dtp-storescp --exit-after 1: exit $EXIT_RC (expected 0)"
    dtp_same_tree "${SEND[@]}" -- "$DTP_WORK/out-relay"

    # "faultproxy: trace DIR record I type T length L app K", in time order.
    read -r run_start run_len s2c_after < <(awk '
        / trace c2s record .* type 23 / { k = $NF
            if (cur_len > 0 && k == cur_start + cur_len) cur_len++; else { cur_start = k; cur_len = 1 }
            if (cur_len > best_len) { best_len = cur_len; best_start = cur_start; want_s2c = 1 }
            next }
        / trace s2c record .* type 23 / { cur_len = 0
            if (want_s2c) { s2c_after = $NF; want_s2c = 0 } }
        END { print best_start + 0, best_len + 0, s2c_after + 0 }' "$DTP_WORK/relay-proxy.log")
    echo "relay run: the 8 MiB object is c2s application_data records $run_start..$((run_start + run_len - 1)) ($run_len records); its C-STORE response is s2c application_data record $s2c_after"
    [ "$run_len" -ge 100 ] ||
        dtp_fail "no run of >= 100 client records (the 8 MiB object) in the relay trace (longest: $run_len)"
    if [ "$DIR" = c2s ]; then
        N=$((run_start + run_len / 2))
    else
        [ "$s2c_after" -gt 0 ] || dtp_fail "no server record after the 8 MiB object in the relay trace"
        N=$s2c_after
    fi
    echo "fault: $MODE $DIR at application_data record $N"
fi

# ---- 2. The same transfer with the fault.
OUT=$DTP_WORK/out
mkdir "$OUT"
scp_port=$(dtp_free_port)
px_port=$(dtp_free_port)
if [ "$MODE" = stall ]; then
    # The proxy never connects: the SCP must see nothing at all.
    dtp_start scp "$DTP_BIN/dtp-storescp" "${SCP_ARGS[@]}" -ts "$SCP_TS" -od "$OUT" -v "$scp_port"
else
    dtp_start scp "$DTP_BIN/dtp-storescp" "${SCP_ARGS[@]}" --exit-after 1 -ts "$SCP_TS" -od "$OUT" -v "$scp_port"
fi
dtp_wait_port "$scp_port" 127.0.0.1 10 || dtp_fail "dtp-storescp did not listen on $scp_port"
dtp_start proxy "$PROXY" --listen "$px_port" --connect "$scp_port" --mode "$MODE" --direction "$DIR" \
    --record "$((N > 0 ? N : 1))" --timeout 30
dtp_wait_port "$px_port" 127.0.0.1 10 || dtp_fail "dtp-faultproxy did not listen on $px_port"

SCU_EXTRA=(-ts "$SCU_TS")
[ "$MODE" != stall ] || SCU_EXTRA+=(--handshake-timeout 2)
start=${EPOCHREALTIME/[.,]/}
if [ "$MODE" = stall ]; then want=4; else want=6; fi
DTP_CMD_TIMEOUT=30 dtp_run_rc scu "$want" "$DTP_BIN/dtp-storescu" "${SCU_ARGS[@]}" "${SCU_EXTRA[@]}" \
    127.0.0.1 "$px_port" "${SEND[@]}"
ms=$(( (${EPOCHREALTIME/[.,]/} - start) / 1000 ))
echo "dtp-storescu ended after $ms ms"

# The fault happened, once, where intended.
if [ "$MODE" = stall ]; then FAULT_LINE="faultproxy: stall $DIR record 0"; else FAULT_LINE="faultproxy: $MODE $DIR record $N"; fi
[ "$MODE" = freeze ] || wait_exit proxy 10
check "$(grep -qx -- "$FAULT_LINE" "$DTP_WORK/proxy.log" && echo 1)" \
    "the proxy did not report the fault '$FAULT_LINE':
$(tail -n 5 "$DTP_WORK/proxy.log" | dtp_quote)"

# SCU: the A-P-ABORT with its own row (C6).
if [ "$MODE" = stall ]; then
    dtp_out_has scu "^E: association failed: A-P-ABORT, provider reason $SCU_R: "
    dtp_out_has scu '^summary: 0 of 4 objects stored'
else
    dtp_out_has scu "^E: transfer aborted: A-P-ABORT, provider reason $SCU_R: $SCU_D"
    if [ "$ORDER" = last ]; then
        dtp_out_has scu '^summary: 3 of 4 objects stored'
    else
        dtp_out_has scu '^summary: 0 of 4 objects stored'
    fi
fi
# No other reason row on the SCU side.
others=$(grep -E 'provider reason [0-9]{3} ' "$DTP_WORK/scu.out" | grep -v "provider reason $SCU_R: " || true)
check "$([ -z "$others" ] && echo 1)" "dtp-storescu reported another reason too:
$(printf '%s\n' "$others" | head -n 5 | dtp_quote)"
cp "$DTP_WORK/scu.out" "$DTP_WORK/scu.log"

# SCP: exit code, and its one failed association with its own row.
if [ "$MODE" = stall ]; then
    sleep 0.5
    check "$(_dtp_alive "${DTP_PIDS[$(proc_index scp)]}" && echo 1)" "dtp-storescp is not running any more"
    check "$(grep -q 'provider reason' "$DTP_WORK/scp.log" || echo 1)" \
        "dtp-storescp logged a failure although no connection reached it:
$(grep 'provider reason' "$DTP_WORK/scp.log" | head -n 5 | dtp_quote)"
    dtp_check_empty stall-out "$OUT"
else
    wait_exit scp 15
    check "$([ "$EXIT_RC" = 6 ] && echo 1)" "dtp-storescp --exit-after 1: expected exit 6 (aborted, reason 3xx), got $EXIT_RC"
    n=$(grep -Ec "^E: association from 127\.0\.0\.1:[0-9]+: A-P-ABORT, provider reason $SCP_R: $SCP_D" "$DTP_WORK/scp.log" || true)
    check "$([ "$n" = 1 ] && echo 1)" "expected one 'E: association from ...: A-P-ABORT, provider reason $SCP_R: $SCP_D' line in the SCP log, found $n:
$(grep 'provider reason' "$DTP_WORK/scp.log" | head -n 5 | dtp_quote)"
    others=$(grep -E 'provider reason [0-9]{3} ' "$DTP_WORK/scp.log" | grep -v "provider reason $SCP_R: " || true)
    check "$([ -z "$others" ] && echo 1)" "dtp-storescp reported another reason too:
$(printf '%s\n' "$others" | head -n 5 | dtp_quote)"

    # The output: exactly the objects completed before the fault.
    if [ "$DIR" = s2c ]; then
        # The fault hit the response to the last object: the SCP had it.
        DONE=("${SEND[@]}")
        GONE=()
    elif [ "$ORDER" = last ]; then
        DONE=("${SMALL[@]}")
        GONE=("$LARGE")
    else
        DONE=()
        GONE=("$LARGE")
    fi
    if [ ${#DONE[@]} -gt 0 ]; then
        DTP_CHECKS=$((DTP_CHECKS + 1))
        if ! (dtp_same_tree "${DONE[@]}" -- "$OUT") > "$DTP_WORK/tree.txt" 2>&1; then
            dtp_check_fail "the output directory is not exactly the completed objects:
$(sed -n '/^FAIL: /,/^-----/p' "$DTP_WORK/tree.txt" | grep -v '^-----' | head -n 10 | dtp_quote)"
        fi
    else
        dtp_check_empty out "$OUT"
    fi
    nfiles=$(find "$OUT" -mindepth 1 | wc -l)
    check "$([ "$nfiles" = ${#DONE[@]} ] && echo 1)" "expected ${#DONE[@]} entries in the output directory, found $nfiles:
$(ls -A "$OUT" | head -n 10 | dtp_quote)"
    for f in "${GONE[@]}"; do
        uid=$(sop_uid "$f")
        check "$([ -n "$uid" ] && [ -z "$(find "$OUT" -name "*.$uid*")" ] && echo 1)" \
            "the object in flight ($f, UID $uid) was stored although its transfer was aborted"
    done
fi

dtp_checks_done
echo "PASS: $MODE $DIR ($ORDER): SCU reason $SCU_R${SCP_R:+, SCP reason $SCP_R}; $ms ms"
