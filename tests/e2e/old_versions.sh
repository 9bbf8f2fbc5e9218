#!/bin/bash
# old_versions.sh -- TLS 1.0/1.1 and TLS_FALLBACK_SCSV against dtp-storescp,
# with `openssl s_client` as the old peer (peers.md).
#
#   bcp195-nd, bcp195-ex, cryptrec: a TLS 1.0 or 1.1 ClientHello (even with
#     the AES profile suite AES128-SHA at SECLEVEL 0) is refused, and the SCP
#     logs reason 201 VERSION_REFUSED (N1, E1, K1, C6).
#   bcp195: TLS 1.0 and 1.1 with AES128-SHA complete (B2), and the SCP flags
#     the association "DOWNGRADED (B6)"; so does TLS 1.2 with the fallback
#     suite. A modern client (TLS 1.3) is not flagged.
#   bcp195: a ClientHello at TLS 1.1 or 1.2 carrying TLS_FALLBACK_SCSV is an
#     inappropriate fallback (the SCP speaks TLS 1.3): refused with the
#     inappropriate_fallback alert, SCP logs reason 210 INAPPROPRIATE_FALLBACK
#     (B3, RFC 7507).
#
# Every check runs; the failures are listed together at the end.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

dtp_init old-versions
: "${DTP_BIN:?}" "${DTP_PKI:?}"
dtp_need_cmd openssl timeout setsid
PKI=$DTP_PKI

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

# start_scp NAME PROFILE [ARGS...]: dtp-storescp on 127.0.0.1:$SCP_PORT with
# the RSA server certificate, output in $DTP_WORK/NAME.log.
start_scp() {
    local name=$1 profile=$2; shift 2
    SCP_PORT=$(dtp_free_port)
    mkdir -p "$DTP_WORK/out-$name"
    dtp_start "$name" "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 --profile "$profile" \
        +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" +cf "$PKI/ca.pem" "$@" \
        -od "$DTP_WORK/out-$name" -v "$SCP_PORT"
    dtp_wait_port "$SCP_PORT" 127.0.0.1 10 ||
        dtp_fail "dtp-storescp --profile $profile did not listen on 127.0.0.1:$SCP_PORT"
}

# The old peer, with a valid client certificate: "${S_CLIENT[@]}" -connect ...
S_CLIENT=(openssl s_client -cert "$PKI/client-rsa.pem" -key "$PKI/client-rsa.key"
          -CAfile "$PKI/ca.pem")
OLD_SUITE='AES128-SHA:@SECLEVEL=0'   # the AES TLS profile suite, TLS_RSA_WITH_AES_128_CBC_SHA
ABORT='association from 127\.0\.0\.1:[0-9]+: A-P-ABORT, provider reason'

# ---- 1. Non-downgrading profiles refuse TLS 1.0 and 1.1 (N1, E1, K1).
for profile in bcp195-nd bcp195-ex cryptrec; do
    start_scp "scp-$profile" "$profile"
    log=$DTP_WORK/scp-$profile.log
    for v in tls1 tls1_1; do
        c="$profile-$v"
        mark=$(log_lines "$log")
        run_rc "$c" '!0' "${S_CLIENT[@]}" -connect "127.0.0.1:$SCP_PORT" "-$v" -cipher "$OLD_SUITE"
        out_has "$c" 'Cipher is \(NONE\)'
        out_has "$c" 'alert protocol version'
        wait_log "$c" "$log" "$mark" "$ABORT 201 VERSION_REFUSED"
    done
    # Nothing was ever stored.
    CHECKS=$((CHECKS + 1))
    [ -z "$(ls -A "$DTP_WORK/out-scp-$profile")" ] ||
        check_fail "$profile: files in the output directory: $(ls -A "$DTP_WORK/out-scp-$profile")"
done

# ---- 2. bcp195 downgrades to TLS 1.0/1.1 + AES128-SHA, flagged (B2, B6).
start_scp scp-bcp195 bcp195
log=$DTP_WORK/scp-bcp195.log
for v in tls1:TLSv1 tls1_1:TLSv1.1 tls1_2:TLSv1.2; do
    opt=${v%%:*} name=${v#*:}
    c="bcp195-$opt-AES128-SHA"
    mark=$(log_lines "$log")
    run_rc "$c" 0 "${S_CLIENT[@]}" -connect "127.0.0.1:$SCP_PORT" "-$opt" -cipher "$OLD_SUITE"
    out_has "$c" "Protocol *: ${name//./\\.}\$"
    out_has "$c" 'Cipher *: AES128-SHA$'
    wait_log "$c" "$log" "$mark" "W: .*${name//./\\.} TLS_RSA_WITH_AES_128_CBC_SHA .*DOWNGRADED \(B6\)"
    wait_log "$c" "$log" "$mark" "association from 127\.0\.0\.1:[0-9]+: TLS ${name//./\\.} TLS_RSA_WITH_AES_128_CBC_SHA .*DOWNGRADED \(B6\)"
done

# Control: a modern client gets TLS 1.3 (B1) and is not flagged.
c=bcp195-modern
mark=$(log_lines "$log")
run_rc "$c" 0 "${S_CLIENT[@]}" -connect "127.0.0.1:$SCP_PORT"
out_has "$c" 'New, TLSv1\.3, Cipher is TLS_AES'
wait_log "$c" "$log" "$mark" 'association from 127\.0\.0\.1:[0-9]+: TLS TLSv1\.3 TLS_AES_'
CHECKS=$((CHECKS + 1))
if grep -E 'TLSv1\.3' < <(tail -n +"$((mark + 1))" "$log") | grep -c DOWNGRADED >/dev/null; then
    check_fail "$c: a TLS 1.3 association was flagged DOWNGRADED:
$(tail -n +"$((mark + 1))" "$log" | grep DOWNGRADED | sed 's/^/      | /')"
fi

# ---- 3. TLS_FALLBACK_SCSV below the server's best version is refused (B3).
for opt in tls1_1 tls1_2; do
    c="bcp195-$opt-fallback-scsv"
    mark=$(log_lines "$log")
    if [ "$opt" = tls1_1 ]; then
        run_rc "$c" '!0' "${S_CLIENT[@]}" -connect "127.0.0.1:$SCP_PORT" "-$opt" -fallback_scsv -cipher "$OLD_SUITE"
    else
        run_rc "$c" '!0' "${S_CLIENT[@]}" -connect "127.0.0.1:$SCP_PORT" "-$opt" -fallback_scsv
    fi
    out_has "$c" 'inappropriate fallback'
    out_has "$c" 'Cipher is \(NONE\)'
    wait_log "$c" "$log" "$mark" "$ABORT 210 INAPPROPRIATE_FALLBACK"
done

finish
