#!/bin/bash
# session_file.sh PROFILE -- TLS session resumption across separate
# dtp-storescu runs with --session-file (the resumption target of bench/run.sh).
#
# Checks: the first run makes a full handshake and leaves the session file,
# mode 0600, with no temporary beside it; the next runs say "resumed" on
# both sides and still name the verified peer; a run without the file does
# not resume; an unreadable (garbage) session file is ignored with a
# warning and replaced, and the transfer still succeeds; the object
# arrives intact every time.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 PROFILE" >&2; exit 1; }
PROFILE=$1

dtp_init "session-file-$PROFILE"
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}"
dtp_need_cmd timeout setsid stat
PKI=$DTP_PKI
OUT=$DTP_WORK/out
mkdir "$OUT"
OBJ=$DTP_DATA/small/small-1.dcm
SESSION=$DTP_WORK/session.pem

port=$(dtp_free_port)
dtp_start scp "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 --profile "$PROFILE" \
    +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" +cf "$PKI/ca.pem" \
    -od "$OUT" -v "$port"
dtp_wait_port "$port" 127.0.0.1 10 || dtp_fail "dtp-storescp did not listen on 127.0.0.1:$port"

# run_scu NAME [extra options]: one run, its output kept as NAME.log
run_scu() {
    local name=$1; shift
    DTP_CMD_TIMEOUT=30 dtp_expect_exit 0 "$DTP_BIN/dtp-storescu" --profile "$PROFILE" \
        +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem" \
        "$@" 127.0.0.1 "$port" "$OBJ"
    cp "$DTP_WORK/last.out" "$DTP_WORK/$name.log"
    dtp_expect_grep "^summary: 1 of 1 objects stored," "$DTP_WORK/$name.log"
}
# not_resumed LOG: the run made a full handshake
not_resumed() { ! grep -q '^TLS: .* resumed$' "$1" || dtp_fail "$1: resumed, expected a full handshake"; }
# scp_resumed_count: SCP log lines of associations that resumed
scp_resumed_count() { grep -c '^association from .*: TLS .* resumed$' "$DTP_WORK/scp.log" || true; }
# wait_scp_lines N: until the SCP has logged N ended associations (bounded)
wait_scp_lines() {
    dtp_wait_grep 'association from .* ended:' "$DTP_WORK/scp.log" 10 "$1" ||
        dtp_fail "dtp-storescp logged fewer than $1 ended associations"
}

# 1. First run: full handshake; the file appears, private, no leftovers.
run_scu first --session-file "$SESSION"
not_resumed "$DTP_WORK/first.log"
[ -s "$SESSION" ] || dtp_fail "no session file after the first run"
mode=$(stat -c %a "$SESSION")
[ "$mode" = 600 ] || dtp_fail "session file has mode $mode, expected 600 (it holds session secrets)"
[ ! -e "$SESSION.tmp" ] || dtp_fail "temporary session file left behind"
grep -qE -- '^-----BEGIN ([A-Z]+ )?SESSION PARAMETERS-----$' "$SESSION" ||
    dtp_fail "session file is not a PEM session (OpenSSL: SSL, GnuTLS: GNUTLS SESSION PARAMETERS)"

# 2. Two more runs: both resume, and the peer is still the verified server.
run_scu second --session-file "$SESSION"
dtp_expect_grep "^TLS: profile $PROFILE: TLSv1\.[23] [A-Z0-9_]+ .*peer=/CN=localhost resumed\$" "$DTP_WORK/second.log"
run_scu third --session-file "$SESSION"
dtp_expect_grep "^TLS: profile $PROFILE: .* resumed\$" "$DTP_WORK/third.log"
wait_scp_lines 3
[ "$(scp_resumed_count)" -eq 2 ] ||
    dtp_fail "dtp-storescp saw $(scp_resumed_count) resumed associations, expected 2"

# 3. Without the option a new process starts with nothing to offer.
run_scu none
not_resumed "$DTP_WORK/none.log"

# 4. A garbage session file: warned about, ignored, replaced by a good one.
printf 'not a session\n' > "$SESSION"
run_scu garbage --session-file "$SESSION"
not_resumed "$DTP_WORK/garbage.log"
dtp_expect_grep "ignoring unreadable TLS session file" "$DTP_WORK/garbage.log"
grep -qE -- '^-----BEGIN ([A-Z]+ )?SESSION PARAMETERS-----$' "$SESSION" ||
    dtp_fail "the garbage session file was not replaced"
run_scu after-garbage --session-file "$SESSION"
dtp_expect_grep "^TLS: profile $PROFILE: .* resumed\$" "$DTP_WORK/after-garbage.log"

wait_scp_lines 6
[ "$(grep -c 'association from .* ended: 1 objects stored' "$DTP_WORK/scp.log")" -eq 6 ] ||
    dtp_fail "dtp-storescp did not store the object in each of the 6 associations"
# The same object every time: one file, identical to what was sent.
n=$(find "$OUT" -type f ! -name '.*' | wc -l)
[ "$n" -eq 1 ] || dtp_fail "expected 1 stored file (the same object 6 times), found $n"
dtp_same_tree "$OBJ" -- "$OUT"
[ -z "$(find "$OUT" -name '*.part')" ] || dtp_fail "temporary file left in $OUT"
echo "ok: session file: full, resumed twice, none without the file, garbage ignored and replaced"
