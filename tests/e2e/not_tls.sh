#!/bin/bash
# not_tls.sh dtp|dcmtk -- plain DICOM meets a TLS port and TLS meets a plain
# port (C1: a TLS port speaks TLS from the first byte; no fallback to plain).
#
#   dtp:   plain dtp-storescu (no --profile) -> TLS dtp-storescp: the SCU fails
#          (non-zero exit), the SCP logs reason 200 NOT_TLS "plain DICOM".
#          TLS dtp-storescu (each profile) -> plain dtp-storescp: the SCU exits 4
#          with reason 213 HANDSHAKE_EOF, its detail saying the port may not be
#          a TLS port (the plain SCP just closes on the TLS record, so EOF is
#          all the client sees), and it never retries in plain DICOM: the
#          plain SCP sees no A-ASSOCIATE-RQ.
#   dcmtk: stock DCMTK echoscu and storescu (plain) -> TLS dtp-storescp: the
#          same SCP reason. Skipped when DCMTK's tools are not installed.
# Nothing is stored anywhere.
#
# Every check runs; the failures are listed together at the end.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 dtp|dcmtk" >&2; exit 1; }
MODE=$1
case $MODE in dtp | dcmtk) ;; *) echo "$0: mode must be dtp or dcmtk" >&2; exit 1 ;; esac

dtp_init "not-tls-$MODE"
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}"
dtp_need_cmd timeout setsid
[ "$MODE" = dtp ] || dtp_need_cmd echoscu storescu
PKI=$DTP_PKI
OBJ=$DTP_DATA/small/small-1.dcm
[ -f "$OBJ" ] || dtp_fail "fixture object $OBJ missing"

# ---- local helpers: record every failed check, report them all at the end.
ERRORS=()
CHECKS=0
LAST_OUT=
RC_OK=1
# check_fail MESSAGE: print it now; the final summary repeats its first line.
check_fail() { ERRORS+=("${1%%$'\n'*}"); printf 'CHECK FAILED: %s\n' "$1" >&2; }

# run_rc CASE WANT CMD...: run CMD (no stdin, time limit), output in
# $DTP_WORK/CASE.out; record a failure unless it exits WANT ('!0': any
# failure except a timeout).  Like every check here it returns 0 (set -e):
# RC_OK says whether the exit code was as wanted.
run_rc() {
    local name=$1 want=$2 rc=0 ok=0; shift 2
    CHECKS=$((CHECKS + 1))
    LAST_OUT=$DTP_WORK/$name.out
    timeout -k 5 "${DTP_CMD_TIMEOUT:-30}" "$@" </dev/null >"$LAST_OUT" 2>&1 || rc=$?
    if [ "$want" = '!0' ]; then
        [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] && ok=1
    else
        [ "$rc" -eq "$want" ] && ok=1
    fi
    RC_OK=$ok
    [ "$ok" = 1 ] && return 0
    check_fail "$name: expected exit $want, got $rc$([ "$rc" -ne 124 ] || echo ' (timed out)'): $*
$(tail -n 12 "$LAST_OUT" | sed 's/^/      | /')"
}

# out_has CASE PATTERN / out_lacks CASE PATTERN: about the last run_rc output.
out_has() {
    CHECKS=$((CHECKS + 1))
    grep -Eq -- "$2" "$LAST_OUT" && return 0
    if [ "$RC_OK" = 1 ]; then
        check_fail "$1: expected /$2/ in the output of the command
$(tail -n 12 "$LAST_OUT" | sed 's/^/      | /')"
    else
        check_fail "$1: expected /$2/ in the output of the command (shown above)"
    fi
}
out_lacks() {
    CHECKS=$((CHECKS + 1))
    grep -Eq -- "$2" "$LAST_OUT" || return 0
    check_fail "$1: unexpected /$2/ in the output of the command:
$(grep -E -- "$2" "$LAST_OUT" | head -n 5 | sed 's/^/      | /')"
}

# log_lines FILE: how many lines FILE has now (a mark for wait_log).
log_lines() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }

# wait_log CASE FILE MARK PATTERN [SECONDS]: wait (bounded) until a line of
# FILE after line MARK matches PATTERN; an SCP child may log after the client
# has already exited.
wait_log() {
    local name=$1 file=$2 mark=$3 pat=$4 limit=${5:-5} i
    CHECKS=$((CHECKS + 1))
    for ((i = 0; i < limit * 10; i++)); do
        # (grep -q reads a process substitution: in a pipe, pipefail could
        # count tail's SIGPIPE as a miss)
        grep -Eq -- "$pat" < <(tail -n +"$((mark + 1))" "$file" 2>/dev/null) && return 0
        sleep 0.1
    done
    check_fail "$name: expected /$pat/ in ${file##*/} within $limit s; its new lines:
$(tail -n +"$((mark + 1))" "$file" 2>/dev/null | tail -n 12 | sed 's/^/      | /')"
}

finish() {
    [ ${#ERRORS[@]} -eq 0 ] || dtp_fail "${#ERRORS[@]} of $CHECKS checks failed:
$(printf -- '- %s\n' "${ERRORS[@]}")"
    echo "PASS: $CHECKS checks"
}

# expect_empty CASE DIR: nothing stored, not even a temporary file.
expect_empty() {
    CHECKS=$((CHECKS + 1))
    local left
    left=$(find "$2" -mindepth 1 2>/dev/null | head -n 5)
    [ -z "$left" ] || check_fail "$1: expected nothing stored in ${2##*/}, found:
$(printf '%s\n' "$left" | sed 's/^/      | /')"
}

# start_scp NAME ARGS...: dtp-storescp on 127.0.0.1:$SCP_PORT, output
# directory $DTP_WORK/out-NAME ($SCP_OUT), log NAME.log ($SCP_LOG).
start_scp() {
    local name=$1; shift
    SCP_PORT=$(dtp_free_port)
    SCP_LOG=$DTP_WORK/$name.log
    SCP_OUT=$DTP_WORK/out-$name
    mkdir -p "$SCP_OUT"
    dtp_start "$name" "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 "$@" \
        -od "$SCP_OUT" -v "$SCP_PORT"
    dtp_wait_port "$SCP_PORT" 127.0.0.1 10 ||
        dtp_fail "dtp-storescp ($name) did not listen on 127.0.0.1:$SCP_PORT"
}
ABORT='association from 127\.0\.0\.1:[0-9]+: A-P-ABORT, provider reason'
NOT_TLS="$ABORT 200 NOT_TLS: .*plain DICOM"

# ---- Plain clients against a TLS port.
start_scp tls-scp --profile bcp195-nd \
    +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" +cf "$PKI/ca.pem"
if [ "$MODE" = dtp ]; then
    plain_clients=("plain-dtp-storescu:$DTP_BIN/dtp-storescu")
else
    plain_clients=(echoscu:echoscu storescu:storescu)
fi
for pc in "${plain_clients[@]}"; do
    c=${pc%%:*} prog=${pc#*:}
    args=(127.0.0.1 "$SCP_PORT")
    [ "$c" = echoscu ] || args+=("$OBJ")
    mark=$(log_lines "$SCP_LOG")
    run_rc "$c" '!0' "$prog" "${args[@]}"
    out_lacks "$c" 'objects stored, 0 failed$|^summary: 1 of'
    wait_log "$c" "$SCP_LOG" "$mark" "$NOT_TLS"
    CHECKS=$((CHECKS + 1))
    if grep -q 'association request from' < <(tail -n +"$((mark + 1))" "$SCP_LOG"); then
        check_fail "$c: the TLS SCP accepted a plain A-ASSOCIATE-RQ:
$(tail -n +"$((mark + 1))" "$SCP_LOG" | sed 's/^/      | /')"
    fi
done
expect_empty tls-scp "$SCP_OUT"

# ---- TLS clients against a plain port (dtp mode only).
if [ "$MODE" = dtp ]; then
    start_scp plain-scp
    for profile in bcp195 bcp195-nd bcp195-ex cryptrec; do
        c="tls-$profile-to-plain"
        mark=$(log_lines "$SCP_LOG")
        run_rc "$c" 4 "$DTP_BIN/dtp-storescu" --profile "$profile" \
            +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem" \
            127.0.0.1 "$SCP_PORT" "$OBJ"
        out_has "$c" 'E: association failed: A-P-ABORT, provider reason 213 HANDSHAKE_EOF: .*not a TLS port'
        out_has "$c" '^summary: 0 of 1 objects stored'
        # The plain SCP got the TLS ClientHello (record type 0x16) and
        # nothing else: no fallback to plain DICOM (C1).
        wait_log "$c" "$SCP_LOG" "$mark" 'association from 127\.0\.0\.1:[0-9]+ ended'
        CHECKS=$((CHECKS + 1))
        if grep -q 'association request from DTP-STORESCU' < <(tail -n +"$((mark + 1))" "$SCP_LOG"); then
            check_fail "$c: the SCU fell back to plain DICOM (C1):
$(tail -n +"$((mark + 1))" "$SCP_LOG" | sed 's/^/      | /')"
        fi
    done
    expect_empty plain-scp "$SCP_OUT"
fi

finish
