#!/bin/bash
# weak_dh.sh -- dtp-storescu against a server that picks a 1024-bit DH group.
#
# The weak server is `openssl s_server -dhparam dh1024.pem` with only
# DHE-RSA-AES128-GCM-SHA256 at TLS 1.2 and SECLEVEL 0 (peers.md), so DHE is
# the only way to agree. For EVERY profile the SCU must abort the handshake:
# exit 4, reason 208 EPHEMERAL_KEY_WEAK (E5; B5 for bcp195, whose own check
# replaces OpenSSL's at security level 0), and it tells the server why with a
# fatal TLS alert before closing (RFC 5246 7.2.2; a bare TCP close tells the
# server nothing). Stock DCMTK accepts this group.
#
# Controls:
#   - the same server with dh2048.pem (RFC 7919 ffdhe2048): the handshake
#     passes (the SCU logs the negotiated DHE suite with group=DH/2048bits).
#     s_server is not DICOM and never answers the A-ASSOCIATE-RQ, so the SCU
#     then fails on its ACSE timeout (-ta 1): "DUL network read timeout",
#     exit 7 (network, no TLS reason) -- never reason 208, never exit 4.
#   - bcp195 with --relax-key-sizes accepts the 1024-bit group and logs the
#     relaxation (B5: a "should" relaxed only by an explicit, logged option).
#
# Every check runs; the failures are listed together at the end.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

dtp_init weak-dh
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}"
dtp_need_cmd openssl timeout setsid
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

PROFILES=(bcp195 bcp195-nd bcp195-ex cryptrec)

# start_weak_server NAME DHFILE ACCEPTS: s_server on 127.0.0.1:$SRV_PORT.
# -naccept leaves one accept spare for dtp_wait_port's probe connection; the
# server is stopped by PID at exit in any case.
start_weak_server() {
    local name=$1 dh=$2 n=$3
    SRV_PORT=$(dtp_free_port)
    SRV_LOG=$DTP_WORK/$name.log
    dtp_start "$name" openssl s_server -accept "127.0.0.1:$SRV_PORT" \
        -cert "$PKI/server-rsa.pem" -key "$PKI/server-rsa.key" -dhparam "$dh" \
        -cipher 'DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0' -tls1_2 -naccept "$((n + 1))"
    dtp_wait_port "$SRV_PORT" 127.0.0.1 10 ||
        dtp_fail "openssl s_server ($name) did not listen on 127.0.0.1:$SRV_PORT"
}

# "${SCU[@]}" --profile P [OPTIONS] 127.0.0.1 PORT FILE; -ta 1: s_server never
# answers the A-ASSOCIATE-RQ, so a passed handshake ends on the ACSE timeout.
SCU=("$DTP_BIN/dtp-storescu" -v -ta 1
     +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem")

# ---- 1. dh1024: refused by every profile (E5, B5).
start_weak_server weak1024 "$PKI/dh1024.pem" "${#PROFILES[@]}"
for profile in "${PROFILES[@]}"; do
    c="dh1024-$profile"
    mark=$(log_lines "$SRV_LOG")
    run_rc "$c" 4 "${SCU[@]}" --profile "$profile" 127.0.0.1 "$SRV_PORT" "$OBJ"
    out_has "$c" 'E: association failed: A-P-ABORT, provider reason 208 EPHEMERAL_KEY_WEAK'
    out_has "$c" 'summary: 0 of 1 objects stored'
    out_lacks "$c" '^TLS: profile'
    # The SCU aborts with a fatal TLS alert, not a bare TCP close (RFC 5246
    # 7.2.2): s_server then logs "SSL alert number N" instead of
    # "unexpected eof while reading".
    wait_log "$c-sends-alert" "$SRV_LOG" "$mark" 'SSL alert number [0-9]+'
done

# ---- 2. Control: dh2048 passes the handshake under every profile.
start_weak_server strong2048 "$PKI/dh2048.pem" "${#PROFILES[@]}"
for profile in "${PROFILES[@]}"; do
    c="dh2048-$profile"
    run_rc "$c" 7 "${SCU[@]}" --profile "$profile" 127.0.0.1 "$SRV_PORT" "$OBJ"
    out_has "$c" 'TLS TLSv1\.2 TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 group=DH/2048bits'
    out_has "$c" 'E: association failed: DUL network read timeout'
    out_lacks "$c" 'reason 208|EPHEMERAL_KEY_WEAK'
done

# ---- 3. bcp195 --relax-key-sizes: accepted, and the relaxation is logged (B5).
start_weak_server relaxed1024 "$PKI/dh1024.pem" 1
c=dh1024-bcp195-relaxed
run_rc "$c" 7 "${SCU[@]}" --profile bcp195 --relax-key-sizes 127.0.0.1 "$SRV_PORT" "$OBJ"
out_has "$c" 'W: B5 .*relaxed'
out_has "$c" 'W: B5 relaxed by option: peer ephemeral DH key of 1024 bits accepted'
out_has "$c" 'TLS TLSv1\.2 TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 group=DH/1024bits'
out_lacks "$c" 'reason 208|EPHEMERAL_KEY_WEAK'

finish
