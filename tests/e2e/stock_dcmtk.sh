#!/bin/bash
# stock_dcmtk.sh PROFILE -- interop with stock DCMTK 3.6.7 (package dcmtk)
# under the same profile, RSA certificates, both directions:
#
#  (a) stock storescp +tls ... +py|+pz  <-  dtp-storescu --profile PROFILE
#  (b) stock storescu +tls ... +py|+pz  ->  dtp-storescp --profile PROFILE
#
#   PROFILE  bcp195-nd (DCMTK +py) | bcp195-ex (DCMTK +pz)
#
# Each direction sends the small objects; they must arrive byte-identical,
# and both ends must agree on a version and suite of the profile: TLS 1.2
# only for bcp195-ex (E1, E4: B1/E3 suites), TLS 1.3 for bcp195-nd (N1, N3:
# both ends offer it, the strongest level wins). Skipped when stock
# storescu/storescp are not installed.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 bcp195-nd|bcp195-ex" >&2; exit 1; }
PROFILE=$1
case $PROFILE in
    bcp195-nd)
        FLAG=+py VERSION=TLSv1.3
        SUITE='TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)'
        OSSL_SUITE='TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)' ;;
    bcp195-ex)
        FLAG=+pz VERSION=TLSv1.2
        SUITE='TLS_(ECDHE|DHE)_RSA_WITH_AES_(128_GCM_SHA256|256_GCM_SHA384)'
        OSSL_SUITE='(ECDHE|DHE)-RSA-AES(128-GCM-SHA256|256-GCM-SHA384)' ;;
    *) echo "$0: PROFILE must be bcp195-nd or bcp195-ex" >&2; exit 1 ;;
esac

dtp_init "stock-dcmtk-$PROFILE"
dtp_need_cmd storescu storescp
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}"
dtp_need_cmd dcmdump timeout setsid
PKI=$DTP_PKI
export TCP_NODELAY=1        # stock tools: no Nagle + delayed ACK stalls
mapfile -t SMALL < <(find "$DTP_DATA/small" -name '*.dcm' -type f | sort)
[ ${#SMALL[@]} -eq 3 ] || dtp_fail "expected 3 small fixture objects, found ${#SMALL[@]}"

# ---- (a) stock storescp <- dtp-storescu
port_a=$(dtp_free_port)
mkdir "$DTP_WORK/out-stock"
dtp_start stock-storescp storescp -d +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" \
    +cf "$PKI/ca.pem" "$FLAG" -od "$DTP_WORK/out-stock" "$port_a"
dtp_wait_port "$port_a" 127.0.0.1 10 || dtp_fail "stock storescp did not listen on $port_a"
DTP_CMD_TIMEOUT=30 dtp_expect_exit 0 "$DTP_BIN/dtp-storescu" --profile "$PROFILE" \
    +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem" \
    127.0.0.1 "$port_a" "${SMALL[@]}"
cp "$DTP_WORK/last.out" "$DTP_WORK/dtp-storescu.log"
dtp_expect_grep "^TLS: profile $PROFILE: $VERSION $SUITE group=[^ ]+ peer=/CN=localhost\$" "$DTP_WORK/dtp-storescu.log"
dtp_expect_grep '^summary: 3 of 3 objects stored' "$DTP_WORK/dtp-storescu.log"
# Stock storescp's view of the same session (-d prints it).
dtp_wait_grep "Protocol +: $VERSION\$" "$DTP_WORK/stock-storescp.log" ||
    dtp_fail "stock storescp did not log protocol $VERSION"
dtp_expect_grep "Ciphersuite : $OSSL_SUITE," "$DTP_WORK/stock-storescp.log"
# Stock storescp writes the file before it answers the C-STORE, so all three
# are complete once dtp-storescu has exited 0.
dtp_same_tree "${SMALL[@]}" -- "$DTP_WORK/out-stock"

# ---- (b) stock storescu -> dtp-storescp
port_b=$(dtp_free_port)
mkdir "$DTP_WORK/out-dtp"
dtp_start dtp-storescp "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 --profile "$PROFILE" \
    +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" +cf "$PKI/ca.pem" \
    -od "$DTP_WORK/out-dtp" -v "$port_b"
dtp_wait_port "$port_b" 127.0.0.1 10 || dtp_fail "dtp-storescp did not listen on $port_b"
DTP_CMD_TIMEOUT=30 dtp_expect_exit 0 storescu -d +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" \
    +cf "$PKI/ca.pem" "$FLAG" 127.0.0.1 "$port_b" "${SMALL[@]}"
cp "$DTP_WORK/last.out" "$DTP_WORK/stock-storescu.log"
dtp_expect_grep "Protocol +: $VERSION\$" "$DTP_WORK/stock-storescu.log"
dtp_expect_grep "Ciphersuite : $OSSL_SUITE," "$DTP_WORK/stock-storescu.log"
if grep -Eq '^(E|F): ' "$DTP_WORK/stock-storescu.log"; then
    dtp_fail "stock storescu logged errors: $(grep -E '^(E|F): ' "$DTP_WORK/stock-storescu.log")"
fi
dtp_wait_grep 'association from 127\.0\.0\.1:[0-9]+ ended: ' "$DTP_WORK/dtp-storescp.log" ||
    dtp_fail "dtp-storescp did not log the end of the association within 5 s"
dtp_expect_grep "association from 127\.0\.0\.1:[0-9]+: TLS $VERSION $SUITE group=[^ ]+ peer=/CN=dtp test client\$" \
    "$DTP_WORK/dtp-storescp.log"
dtp_expect_grep 'association from 127\.0\.0\.1:[0-9]+ ended: 3 objects stored \([0-9]+ bytes\), 0 failed' \
    "$DTP_WORK/dtp-storescp.log"
if grep -q 'provider reason' "$DTP_WORK/dtp-storescp.log"; then
    dtp_fail "dtp-storescp logged a failed association: $(grep 'provider reason' "$DTP_WORK/dtp-storescp.log")"
fi
dtp_same_tree "${SMALL[@]}" -- "$DTP_WORK/out-dtp"

echo "PASS: $PROFILE ($FLAG) interoperates with stock DCMTK in both directions"
