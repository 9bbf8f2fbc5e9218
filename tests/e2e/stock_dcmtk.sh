#!/bin/bash
# stock_dcmtk.sh PROFILE -- interop with stock DCMTK 3.6.7 (package dcmtk)
# under the same (or nearest) profile, both directions:
#
#  (a) stock storescp +tls ... FLAG  <-  dtp-storescu --profile PROFILE
#  (b) stock storescu +tls ... FLAG  ->  dtp-storescp --profile PROFILE
#
#   PROFILE          FLAG  certificates
#   bcp195-nd        +py   RSA
#   bcp195-ex        +pz   RSA
#   bcp195-8996      +py   RSA, ECDSA  (stock 3.6.7 has no B.12 option: +pg
#   bcp195-8996-mod  +py   RSA, ECDSA   and +pm came with DCMTK 3.6.8)
#
# Each direction sends the small objects; they must arrive byte-identical,
# and both ends must agree on a version and suite of the profile: TLS 1.2
# only for bcp195-ex (E1, E4: B1/E3 suites), TLS 1.3 for the others (N1, N3,
# R5/R6, M34/M35: both ends offer it, the strongest level wins). Under
# B.12/B.13 TLS 1.3 also means an ECDSA certificate works with +py, whose
# TLS 1.2 list has RSA suites only. Where our SCP is the server (b) its
# order decides: TLS_AES_256_GCM_SHA384 under B.12/B.13 (R25, M18: AES-256
# first; DCMTK offers OpenSSL's three defaults). The key exchange group is
# one of the profile's: never X25519 under bcp195-8996-mod (M17, Q2).
# Skipped when stock storescu/storescp are not installed.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 bcp195-nd|bcp195-ex|bcp195-8996|bcp195-8996-mod" >&2; exit 1; }
PROFILE=$1
# SUITE / OSSL_SUITE: what (a) may negotiate (stock storescp decides);
# SUITE_B / OSSL_SUITE_B: what (b) must negotiate (our SCP decides);
# GROUP: the key exchange groups the profile allows.
GROUP='[^ ]+'
case $PROFILE in
    bcp195-nd)
        FLAG=+py VERSION=TLSv1.3 CERTS=(rsa)
        SUITE='TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)'
        OSSL_SUITE='TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)' ;;
    bcp195-ex)
        FLAG=+pz VERSION=TLSv1.2 CERTS=(rsa)
        SUITE='TLS_(ECDHE|DHE)_RSA_WITH_AES_(128_GCM_SHA256|256_GCM_SHA384)'
        OSSL_SUITE='(ECDHE|DHE)-RSA-AES(128-GCM-SHA256|256-GCM-SHA384)' ;;
    bcp195-8996 | bcp195-8996-mod)
        FLAG=+py VERSION=TLSv1.3 CERTS=(rsa ec)
        # R28 / M18 suites both ends have (DCMTK: OpenSSL's three defaults).
        SUITE='TLS_(AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256|AES_128_GCM_SHA256)'
        OSSL_SUITE=$SUITE
        SUITE_B=TLS_AES_256_GCM_SHA384 OSSL_SUITE_B=TLS_AES_256_GCM_SHA384
        # R26/Q2: X25519 only under B.12; M17/Q2: never under B.13.
        if [ "$PROFILE" = bcp195-8996 ]; then
            GROUP='(x25519|secp256r1|secp384r1|secp521r1|x448|ffdhe[0-9]+)(/[0-9]+bits)?'
        else
            GROUP='(secp256r1|secp384r1|secp521r1|x448|ffdhe[0-9]+)(/[0-9]+bits)?'
        fi ;;
    *) echo "$0: PROFILE must be bcp195-nd, bcp195-ex, bcp195-8996 or bcp195-8996-mod" >&2; exit 1 ;;
esac
: "${SUITE_B:=$SUITE}" "${OSSL_SUITE_B:=$OSSL_SUITE}"

dtp_init "stock-dcmtk-$PROFILE"
dtp_need_cmd storescu storescp
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}"
dtp_need_cmd dcmdump timeout setsid
PKI=$DTP_PKI
export TCP_NODELAY=1        # stock tools: no Nagle + delayed ACK stalls
mapfile -t SMALL < <(find "$DTP_DATA/small" -name '*.dcm' -type f | sort)
[ ${#SMALL[@]} -eq 3 ] || dtp_fail "expected 3 small fixture objects, found ${#SMALL[@]}"

for cert in "${CERTS[@]}"; do
    # ---- (a) stock storescp <- dtp-storescu
    port_a=$(dtp_free_port)
    mkdir "$DTP_WORK/out-stock-$cert"
    dtp_start "stock-storescp-$cert" storescp -d +tls "$PKI/server-$cert.key" "$PKI/server-$cert.pem" \
        +cf "$PKI/ca.pem" "$FLAG" -od "$DTP_WORK/out-stock-$cert" "$port_a"
    dtp_wait_port "$port_a" 127.0.0.1 10 || dtp_fail "stock storescp did not listen on $port_a"
    DTP_CMD_TIMEOUT=30 dtp_expect_exit 0 "$DTP_BIN/dtp-storescu" --profile "$PROFILE" \
        +tls "$PKI/client-$cert.key" "$PKI/client-$cert.pem" +cf "$PKI/ca.pem" \
        127.0.0.1 "$port_a" "${SMALL[@]}"
    cp "$DTP_WORK/last.out" "$DTP_WORK/dtp-storescu-$cert.log"
    dtp_expect_grep "^TLS: profile $PROFILE: $VERSION $SUITE group=$GROUP peer=/CN=localhost\$" "$DTP_WORK/dtp-storescu-$cert.log"
    dtp_expect_grep '^summary: 3 of 3 objects stored' "$DTP_WORK/dtp-storescu-$cert.log"
    # Stock storescp's view of the same session (-d prints it).
    dtp_wait_grep "Protocol +: $VERSION\$" "$DTP_WORK/stock-storescp-$cert.log" ||
        dtp_fail "stock storescp did not log protocol $VERSION"
    dtp_expect_grep "Ciphersuite : $OSSL_SUITE," "$DTP_WORK/stock-storescp-$cert.log"
    # Stock storescp writes the file before it answers the C-STORE, so all three
    # are complete once dtp-storescu has exited 0.
    dtp_same_tree "${SMALL[@]}" -- "$DTP_WORK/out-stock-$cert"

    # ---- (b) stock storescu -> dtp-storescp
    port_b=$(dtp_free_port)
    mkdir "$DTP_WORK/out-dtp-$cert"
    dtp_start "dtp-storescp-$cert" "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 --profile "$PROFILE" \
        +tls "$PKI/server-$cert.key" "$PKI/server-$cert.pem" +cf "$PKI/ca.pem" \
        -od "$DTP_WORK/out-dtp-$cert" -v "$port_b"
    dtp_wait_port "$port_b" 127.0.0.1 10 || dtp_fail "dtp-storescp did not listen on $port_b"
    DTP_CMD_TIMEOUT=30 dtp_expect_exit 0 storescu -d +tls "$PKI/client-$cert.key" "$PKI/client-$cert.pem" \
        +cf "$PKI/ca.pem" "$FLAG" 127.0.0.1 "$port_b" "${SMALL[@]}"
    cp "$DTP_WORK/last.out" "$DTP_WORK/stock-storescu-$cert.log"
    dtp_expect_grep "Protocol +: $VERSION\$" "$DTP_WORK/stock-storescu-$cert.log"
    dtp_expect_grep "Ciphersuite : $OSSL_SUITE_B," "$DTP_WORK/stock-storescu-$cert.log"
    if grep -Eq '^(E|F): ' "$DTP_WORK/stock-storescu-$cert.log"; then
        dtp_fail "stock storescu logged errors: $(grep -E '^(E|F): ' "$DTP_WORK/stock-storescu-$cert.log")"
    fi
    dtp_wait_grep 'association from 127\.0\.0\.1:[0-9]+ ended: ' "$DTP_WORK/dtp-storescp-$cert.log" ||
        dtp_fail "dtp-storescp did not log the end of the association within 5 s"
    dtp_expect_grep "association from 127\.0\.0\.1:[0-9]+: TLS $VERSION $SUITE_B group=$GROUP peer=/CN=dtp test client\$" \
        "$DTP_WORK/dtp-storescp-$cert.log"
    dtp_expect_grep 'association from 127\.0\.0\.1:[0-9]+ ended: 3 objects stored \([0-9]+ bytes\), 0 failed' \
        "$DTP_WORK/dtp-storescp-$cert.log"
    if grep -q 'provider reason' "$DTP_WORK/dtp-storescp-$cert.log"; then
        dtp_fail "dtp-storescp logged a failed association: $(grep 'provider reason' "$DTP_WORK/dtp-storescp-$cert.log")"
    fi
    dtp_same_tree "${SMALL[@]}" -- "$DTP_WORK/out-dtp-$cert"
done

echo "PASS: $PROFILE ($FLAG) interoperates with stock DCMTK in both directions (${CERTS[*]} certificates, ${#SMALL[@]} objects each way)"
