#!/bin/bash
# transfer.sh PROFILE KEYTYPE -- dtp-storescu -> dtp-storescp over one TLS
# profile with RSA or ECDSA certificates: every object arrives byte-identical.
#
#   PROFILE  bcp195 | bcp195-nd | bcp195-ex | cryptrec | bcp195-8996 | bcp195-8996-mod
#   KEYTYPE  rsa | ec  (server-KEYTYPE / client-KEYTYPE certificates)
#
# Checks: the SCU exits 0 and stores all objects; both sides report the
# negotiated version and suite (B6), which must be TLS 1.2 for bcp195-ex
# (E4: no TLS 1.3 suite is listed) and TLS 1.3 for the others (strongest
# level first, B1/N3/K5), with a suite of the profile for the key type; the
# received datasets are identical and no temporary file is left behind.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

[ $# -eq 2 ] || { echo "usage: $0 PROFILE rsa|ec" >&2; exit 1; }
PROFILE=$1 KEYTYPE=$2
case $KEYTYPE in rsa | ec) ;; *) echo "$0: KEYTYPE must be rsa or ec" >&2; exit 1 ;; esac

# Expected version and suite pattern (names as dtp_session_format prints them).
dtp_expect_session "$PROFILE" "$KEYTYPE" || { echo "$0: unknown profile $PROFILE" >&2; exit 1; }
# The SCU names its peer "localhost" where that is 127.0.0.1: B.12/B.13
# send it as SNI (Q9) and the SCP logs it; the seeds' profiles send none.
HOST=127.0.0.1
if getent ahostsv4 localhost 2>/dev/null | grep -q '^127\.0\.0\.1 '; then
    HOST=localhost
    [ -z "$EXTRA" ] || EXTRA+=' sni=localhost'
fi
dtp_init "transfer-$PROFILE-$KEYTYPE"
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}"
dtp_need_cmd dcmdump timeout setsid
PKI=$DTP_PKI

OUT=$DTP_WORK/out
mkdir "$OUT"
dtp_fixture_objects

port=$(dtp_free_port)
dtp_start scp "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 --profile "$PROFILE" \
    +tls "$PKI/server-$KEYTYPE.key" "$PKI/server-$KEYTYPE.pem" +cf "$PKI/ca.pem" \
    -od "$OUT" -v "$port"
dtp_wait_port "$port" 127.0.0.1 10 || dtp_fail "dtp-storescp did not listen on 127.0.0.1:$port"

DTP_CMD_TIMEOUT=30 dtp_expect_exit 0 "$DTP_BIN/dtp-storescu" --profile "$PROFILE" \
    +tls "$PKI/client-$KEYTYPE.key" "$PKI/client-$KEYTYPE.pem" +cf "$PKI/ca.pem" \
    "$HOST" "$port" "$DTP_DATA/small" "$DTP_DATA/medium" "$DTP_DATA/tree"
cp "$DTP_WORK/last.out" "$DTP_WORK/scu.log"

# SCU side: negotiated version/suite and the server's identity.
dtp_expect_grep "^TLS: profile $PROFILE: $VERSION $SUITE group=[^ ]+ peer=/CN=localhost$EXTRA\$" "$DTP_WORK/scu.log"
dtp_expect_grep "^summary: 7 of 7 objects stored," "$DTP_WORK/scu.log"

# SCP side: wait (bounded) for the association process to log its end.
dtp_wait_grep 'association from .*( ended:|provider reason)' "$DTP_WORK/scp.log" 10 || true
dtp_expect_grep "^association from 127\.0\.0\.1:[0-9]+: TLS $VERSION $SUITE group=[^ ]+ peer=/CN=dtp test client$EXTRA\$" "$DTP_WORK/scp.log"
dtp_expect_grep "association from 127\.0\.0\.1:[0-9]+ ended: 7 objects stored \([0-9]+ bytes\), 0 failed" "$DTP_WORK/scp.log"
# Exactly one connection was made: nothing else may have failed.
if grep -q 'provider reason' "$DTP_WORK/scp.log"; then
    dtp_fail "dtp-storescp logged a failed association: $(grep 'provider reason' "$DTP_WORK/scp.log")"
fi

dtp_same_tree "${SENT[@]}" -- "$OUT"
n=$(find "$OUT" -type f | wc -l)
[ "$n" -eq 7 ] || dtp_fail "expected exactly 7 files in $OUT, found $n: $(ls -A "$OUT")"

echo "PASS: $PROFILE/$KEYTYPE: $(grep '^TLS: ' "$DTP_WORK/scu.log")"
