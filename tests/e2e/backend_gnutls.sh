#!/bin/bash
# backend_gnutls.sh PROFILE KEYTYPE SCU_BACKEND SCP_BACKEND -- dtp-storescu
# -> dtp-storescp with --tls-backend on each side (gnutls, or openssl
# against gnutls): every object arrives byte-identical.
#
#   PROFILE      bcp195 | bcp195-nd | bcp195-ex | cryptrec | bcp195-8996 | bcp195-8996-mod
#   KEYTYPE      rsa | ec  (server-KEYTYPE / client-KEYTYPE certificates)
#   SCU_BACKEND, SCP_BACKEND  gnutls | openssl (at least one gnutls)
#
# Checks: each side says which backend built its context (debug log); the
# SCU exits 0 and stores all objects; both sides report the same version
# and suite, TLS 1.2 for bcp195-ex (E4) and TLS 1.3 for the others (B1, N3,
# K5, R6, M35), with a suite of the profile for the key type (the same
# expectations as transfer.sh, whichever library is on either side); the
# received datasets are identical and no temporary file is left behind.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

[ $# -eq 4 ] || { echo "usage: $0 PROFILE rsa|ec SCU_BACKEND SCP_BACKEND" >&2; exit 1; }
PROFILE=$1 KEYTYPE=$2 SCU_BE=$3 SCP_BE=$4
case $KEYTYPE in rsa | ec) ;; *) echo "$0: KEYTYPE must be rsa or ec" >&2; exit 1 ;; esac
for be in "$SCU_BE" "$SCP_BE"; do
    case $be in gnutls | openssl) ;; *) echo "$0: backend must be gnutls or openssl" >&2; exit 1 ;; esac
done
[ "$SCU_BE" = gnutls ] || [ "$SCP_BE" = gnutls ] || { echo "$0: one side must be gnutls" >&2; exit 1; }

dtp_expect_session "$PROFILE" "$KEYTYPE" || { echo "$0: unknown profile $PROFILE" >&2; exit 1; }

dtp_init "backend-$PROFILE-$KEYTYPE-$SCU_BE-$SCP_BE"
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}"
dtp_need_cmd dcmdump timeout setsid
PKI=$DTP_PKI

OUT=$DTP_WORK/out
mkdir "$OUT"
dtp_fixture_objects

port=$(dtp_free_port)
dtp_start scp "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 --profile "$PROFILE" --tls-backend "$SCP_BE" \
    +tls "$PKI/server-$KEYTYPE.key" "$PKI/server-$KEYTYPE.pem" +cf "$PKI/ca.pem" \
    -od "$OUT" -d "$port"
dtp_wait_port "$port" 127.0.0.1 10 || dtp_fail "dtp-storescp did not listen on 127.0.0.1:$port"

DTP_CMD_TIMEOUT=30 dtp_expect_exit 0 "$DTP_BIN/dtp-storescu" --profile "$PROFILE" --tls-backend "$SCU_BE" \
    +tls "$PKI/client-$KEYTYPE.key" "$PKI/client-$KEYTYPE.pem" +cf "$PKI/ca.pem" -d \
    127.0.0.1 "$port" "$DTP_DATA/small" "$DTP_DATA/medium" "$DTP_DATA/tree"
cp "$DTP_WORK/last.out" "$DTP_WORK/scu.log"

# Each side's context came from the backend asked for.
dtp_expect_grep "profile $PROFILE .* ready as client, .*backend $SCU_BE\$" "$DTP_WORK/scu.log"
dtp_expect_grep "profile $PROFILE .* ready as server, .*backend $SCP_BE\$" "$DTP_WORK/scp.log"

dtp_expect_grep "^TLS: profile $PROFILE: $VERSION $SUITE group=[^ ]+ peer=/CN=localhost$EXTRA\$" "$DTP_WORK/scu.log"
dtp_expect_grep "^summary: 7 of 7 objects stored," "$DTP_WORK/scu.log"

dtp_wait_grep 'association from .*( ended:|provider reason)' "$DTP_WORK/scp.log" 10 || true
dtp_expect_grep "^association from 127\.0\.0\.1:[0-9]+: TLS $VERSION $SUITE group=[^ ]+ peer=/CN=dtp test client$EXTRA\$" "$DTP_WORK/scp.log"
dtp_expect_grep "association from 127\.0\.0\.1:[0-9]+ ended: 7 objects stored \([0-9]+ bytes\), 0 failed" "$DTP_WORK/scp.log"
if grep -q 'provider reason' "$DTP_WORK/scp.log"; then
    dtp_fail "dtp-storescp logged a failed association: $(grep 'provider reason' "$DTP_WORK/scp.log")"
fi
# Both sides name the same version and suite.
scu_suite=$(sed -En "s/^TLS: profile $PROFILE: ([^ ]+ [^ ]+) .*/\1/p" "$DTP_WORK/scu.log" | head -n 1)
scp_suite=$(sed -En 's/^association from [^ ]+: TLS ([^ ]+ [^ ]+) .*/\1/p' "$DTP_WORK/scp.log" | head -n 1)
if [ -z "$scu_suite" ] || [ "$scu_suite" != "$scp_suite" ]; then
    dtp_fail "SCU negotiated '$scu_suite', SCP '$scp_suite'"
fi

dtp_same_tree "${SENT[@]}" -- "$OUT"
n=$(find "$OUT" -type f | wc -l)
[ "$n" -eq 7 ] || dtp_fail "expected exactly 7 files in $OUT, found $n: $(ls -A "$OUT")"

echo "PASS: $PROFILE/$KEYTYPE $SCU_BE -> $SCP_BE: $scu_suite"
