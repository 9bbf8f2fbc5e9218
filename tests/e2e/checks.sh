# shellcheck shell=bash
# checks.sh -- "soft" checks for the end-to-end scripts that test many cases
# in one run (the failure tests).  Source it after lib.sh:
#
#     . "$HERE/lib.sh"
#     . "$HERE/checks.sh"
#     dtp_init my-test
#     dtp_run_rc case-1 4 dtp-storescu ... 127.0.0.1 "$port" f.dcm
#     dtp_out_has case-1 'provider reason 204 '
#     ...
#     dtp_checks_done
#
# Unlike lib.sh's assertions (dtp_expect_*, which call dtp_fail and end the
# script), every check here runs and returns 0 (so it is safe under set -e):
# a failed check is printed at once ("CHECK FAILED: ...") and recorded, and
# dtp_checks_done lists all recorded failures and exits 1 through dtp_fail
# (so the work dir is kept and the logs are shown), or prints
# "PASS: N checks".
#
# State (global, read by the scripts too):
#   DTP_CHECKS        number of checks run; a script that makes a check of its
#                     own counts it (DTP_CHECKS=$((DTP_CHECKS + 1))) and calls
#                     dtp_check_fail if it fails
#   DTP_CHECK_ERRORS  first line of each failure message
#   DTP_LAST_OUT      output file of the last dtp_run_rc ($DTP_WORK/CASE.out)
#   DTP_RC_OK         1 if the last dtp_run_rc got the exit code it wanted
#
# Environment: DTP_CMD_TIMEOUT (dtp_run_rc limit, default 30 s).

declare -F dtp_fail >/dev/null || {
    echo "checks.sh: source lib.sh first" >&2
    exit 1
}

DTP_CHECK_ERRORS=()
DTP_CHECKS=0
DTP_LAST_OUT=
DTP_RC_OK=1

# dtp_quote: indent stdin (output of a command, lines of a log) for a
# failure message.
dtp_quote() { sed 's/^/      | /'; }

# dtp_check_fail MESSAGE: record a failed check and print MESSAGE now; the
# final summary repeats its first line.
dtp_check_fail() {
    DTP_CHECK_ERRORS+=("${1%%$'\n'*}")
    printf 'CHECK FAILED: %s\n' "$1" >&2
}

# dtp_run_rc CASE WANT CMD...: run CMD (no stdin, time limit), output in
# $DTP_WORK/CASE.out ($DTP_LAST_OUT); record a failure unless it exits WANT
# ('!0': any failure except a timeout).  DTP_RC_OK says whether the exit code
# was as wanted.
dtp_run_rc() {
    local name=$1 want=$2 rc=0 ok=0; shift 2
    DTP_CHECKS=$((DTP_CHECKS + 1))
    DTP_LAST_OUT=$DTP_WORK/$name.out
    timeout -k 5 "${DTP_CMD_TIMEOUT:-30}" "$@" </dev/null >"$DTP_LAST_OUT" 2>&1 || rc=$?
    if [ "$want" = '!0' ]; then
        [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] && ok=1
    else
        [ "$rc" -eq "$want" ] && ok=1
    fi
    DTP_RC_OK=$ok
    [ "$ok" = 1 ] && return 0
    dtp_check_fail "$name: expected exit $want, got $rc$([ "$rc" -ne 124 ] || echo ' (timed out)'): $*
$(tail -n 12 "$DTP_LAST_OUT" | dtp_quote)"
}

# dtp_out_has CASE PATTERN / dtp_out_lacks CASE PATTERN: grep -E PATTERN in
# the output of the last dtp_run_rc.  (When the exit code was wrong too, that
# failure already showed the output, so dtp_out_has does not repeat it.)
dtp_out_has() {
    DTP_CHECKS=$((DTP_CHECKS + 1))
    grep -Eq -- "$2" "$DTP_LAST_OUT" && return 0
    if [ "$DTP_RC_OK" = 1 ]; then
        dtp_check_fail "$1: expected /$2/ in the output of the command
$(tail -n 12 "$DTP_LAST_OUT" | dtp_quote)"
    else
        dtp_check_fail "$1: expected /$2/ in the output of the command (shown above)"
    fi
}
dtp_out_lacks() {
    DTP_CHECKS=$((DTP_CHECKS + 1))
    grep -Eq -- "$2" "$DTP_LAST_OUT" || return 0
    dtp_check_fail "$1: unexpected /$2/ in the output of the command:
$(grep -E -- "$2" "$DTP_LAST_OUT" | head -n 5 | dtp_quote)"
}

# dtp_log_lines FILE: how many lines FILE has now (a MARK for dtp_wait_log);
# 0 if it does not exist yet.
dtp_log_lines() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }

# dtp_wait_log CASE FILE MARK PATTERN [SECONDS]: wait (bounded, default 5 s)
# until a line of FILE after line MARK matches PATTERN (grep -E); an SCP child
# may log after the client has already exited.
dtp_wait_log() {
    local name=$1 file=$2 mark=$3 pat=$4 limit=${5:-5} i
    DTP_CHECKS=$((DTP_CHECKS + 1))
    for ((i = 0; i < limit * 10; i++)); do
        # (grep -q reads a process substitution: in a pipe, pipefail could
        # count tail's SIGPIPE as a miss)
        grep -Eq -- "$pat" < <(tail -n +"$((mark + 1))" "$file" 2>/dev/null) && return 0
        sleep 0.1
    done
    dtp_check_fail "$name: expected /$pat/ in ${file##*/} within $limit s; its new lines:
$(tail -n +"$((mark + 1))" "$file" 2>/dev/null | tail -n 12 | dtp_quote)"
}

# dtp_check_empty CASE DIR: nothing stored in DIR, not even a temporary file.
dtp_check_empty() {
    DTP_CHECKS=$((DTP_CHECKS + 1))
    local left
    left=$(find "$2" -mindepth 1 2>/dev/null | head -n 5)
    [ -z "$left" ] || dtp_check_fail "$1: expected nothing stored in ${2##*/}, found:
$(printf '%s\n' "$left" | dtp_quote)"
}

# dtp_checks_done: end of the script's checks.  Fails (exit 1, listing the
# failed checks) if any check failed, else prints "PASS: N checks".
dtp_checks_done() {
    [ ${#DTP_CHECK_ERRORS[@]} -eq 0 ] || dtp_fail "${#DTP_CHECK_ERRORS[@]} of $DTP_CHECKS checks failed:
$(printf -- '- %s\n' "${DTP_CHECK_ERRORS[@]}")"
    echo "PASS: $DTP_CHECKS checks"
}
