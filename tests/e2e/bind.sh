#!/bin/bash
# bind.sh -- BCP195 and Non-Downgrading BCP195 on the same port, different IP
# addresses (N4; K4 is the same rule for CRYPTREC): dtp-storescp --bind
# 127.0.0.1 --profile bcp195 and dtp-storescp --bind 127.0.0.2 --profile
# bcp195-nd, both on port P. Each address must speak its own profile:
#
#  * a TLS 1.1 / TLS_RSA_WITH_AES_128_CBC_SHA client (an AES TLS profile
#    device, openssl s_client) completes its handshake on 127.0.0.1 (B2) and
#    that SCP flags the association as DOWNGRADED (B6);
#  * the same client is refused on 127.0.0.2 (N1) and that SCP logs provider
#    reason 201 VERSION_REFUSED (C6);
#  * each probe reaches only the SCP of its address;
#  * a dtp-storescu transfer works on both addresses.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

dtp_init bind
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}"
dtp_need_cmd openssl ss dcmdump timeout setsid
PKI=$DTP_PKI
FILE=$DTP_DATA/small/small-2.dcm
[ -f "$FILE" ] || dtp_fail "fixture $FILE missing"

# ends FILE: associations an SCP has finished (completed or refused).
END_RE='association from [0-9.]+:[0-9]+( ended: |: A-P-ABORT, provider reason )'
ends() { grep -Ec "$END_RE" "$1" || true; }

port=$(dtp_free_port)
mkdir "$DTP_WORK/out1" "$DTP_WORK/out2"
dtp_start scp1 "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 --profile bcp195 \
    +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" +cf "$PKI/ca.pem" \
    -od "$DTP_WORK/out1" -v "$port"
dtp_start scp2 "$DTP_BIN/dtp-storescp" --bind 127.0.0.2 --profile bcp195-nd \
    +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" +cf "$PKI/ca.pem" \
    -od "$DTP_WORK/out2" -v "$port"
dtp_wait_port "$port" 127.0.0.1 10 || dtp_fail "bcp195 SCP did not listen on 127.0.0.1:$port"
dtp_wait_port "$port" 127.0.0.2 10 || dtp_fail "bcp195-nd SCP did not listen on 127.0.0.2:$port"

# Exactly two listeners on the port, one per address, none on the wildcard.
listeners=$(ss -Hltn "sport = :$port" | awk '{print $4}' | sort | tr '\n' ' ')
[ "$listeners" = "127.0.0.1:$port 127.0.0.2:$port " ] ||
    dtp_fail "expected listeners 127.0.0.1:$port and 127.0.0.2:$port, ss shows: '$listeners'"
dtp_expect_grep "listening on 127\.0\.0\.1:$port, TLS profile bcp195," "$DTP_WORK/scp1.log"
dtp_expect_grep "listening on 127\.0\.0\.2:$port, TLS profile bcp195-nd," "$DTP_WORK/scp2.log"

# probe HOST: an AES TLS profile client (TLS 1.1, AES128-SHA) with a good
# client certificate. Output in $DTP_WORK/probe-HOST.log, exit code echoed.
probe() {
    local rc=0
    timeout -k 5 15 openssl s_client -connect "$1:$port" -tls1_1 \
        -cipher 'AES128-SHA:@SECLEVEL=0' \
        -cert "$PKI/client-rsa.pem" -key "$PKI/client-rsa.key" -CAfile "$PKI/ca.pem" \
        </dev/null >"$DTP_WORK/probe-$1.log" 2>&1 || rc=$?
    echo "$rc"
}

# --- 127.0.0.1, BCP195: the downgraded handshake completes and is flagged.
rc=$(probe 127.0.0.1)
[ "$rc" -eq 0 ] || dtp_fail "TLS 1.1 client refused by the bcp195 SCP on 127.0.0.1 (B2), s_client exit $rc"
dtp_expect_grep '^ +Protocol +: TLSv1\.1$' "$DTP_WORK/probe-127.0.0.1.log"
dtp_expect_grep '^ +Cipher +: AES128-SHA$' "$DTP_WORK/probe-127.0.0.1.log"
dtp_expect_grep '^ +Verify return code: 0 \(ok\)' "$DTP_WORK/probe-127.0.0.1.log"
dtp_wait_grep "$END_RE" "$DTP_WORK/scp1.log" || true
dtp_expect_grep '^W: .*TLS TLSv1\.1 TLS_RSA_WITH_AES_128_CBC_SHA .*DOWNGRADED \(B6\)' "$DTP_WORK/scp1.log"
dtp_expect_grep 'association from 127\.0\.0\.1:[0-9]+: TLS TLSv1\.1 TLS_RSA_WITH_AES_128_CBC_SHA .*DOWNGRADED \(B6\)' \
    "$DTP_WORK/scp1.log"
[ "$(ends "$DTP_WORK/scp2.log")" -eq 0 ] ||
    dtp_fail "the probe of 127.0.0.1 reached the bcp195-nd SCP bound to 127.0.0.2"

# --- 127.0.0.2, Non-Downgrading: the same client is refused.
rc=$(probe 127.0.0.2)
if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    dtp_fail "TLS 1.1 client on 127.0.0.2 (bcp195-nd): expected a refused handshake (N1), s_client exit $rc"
fi
# No session: s_client reports no cipher, and the server's alert is
# protocol_version (70).
dtp_expect_grep 'New, \(NONE\), Cipher is \(NONE\)' "$DTP_WORK/probe-127.0.0.2.log"
dtp_expect_grep 'alert protocol version' "$DTP_WORK/probe-127.0.0.2.log"
dtp_wait_grep "$END_RE" "$DTP_WORK/scp2.log" ||
    dtp_fail "bcp195-nd SCP logged no end of the refused association within 5 s"
dtp_expect_grep 'E: association from [0-9.]+:[0-9]+: A-P-ABORT, provider reason 201 VERSION_REFUSED: ' \
    "$DTP_WORK/scp2.log"
[ "$(ends "$DTP_WORK/scp1.log")" -eq 1 ] ||
    dtp_fail "the probe of 127.0.0.2 reached the bcp195 SCP bound to 127.0.0.1"
if grep -q 'DOWNGRADED' "$DTP_WORK/scp2.log"; then
    dtp_fail "bcp195-nd SCP logged a downgraded association"
fi

# --- a normal transfer on each address, with that address's profile.
n1=$(ends "$DTP_WORK/scp1.log") n2=$(ends "$DTP_WORK/scp2.log")
for target in "127.0.0.1 bcp195 scp1 out1" "127.0.0.2 bcp195-nd scp2 out2"; do
    read -r host profile scp out <<< "$target"
    DTP_CMD_TIMEOUT=30 dtp_expect_exit 0 "$DTP_BIN/dtp-storescu" --profile "$profile" \
        +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem" "$host" "$port" "$FILE"
    cp "$DTP_WORK/last.out" "$DTP_WORK/scu-$host.log"
    dtp_expect_grep "^TLS: profile $profile: TLSv1\.3 TLS_AES_" "$DTP_WORK/scu-$host.log"
    dtp_expect_grep '^summary: 1 of 1 objects stored' "$DTP_WORK/scu-$host.log"
    dtp_wait_grep 'association from [0-9.]+:[0-9]+ ended: 1 objects stored' "$DTP_WORK/$scp.log" ||
        dtp_fail "$scp ($host) did not log the completed transfer"
    dtp_same_tree "$FILE" -- "$DTP_WORK/$out"
done
# Each transfer went to its own address's SCP only.
if [ "$(ends "$DTP_WORK/scp1.log")" -ne $((n1 + 1)) ] || [ "$(ends "$DTP_WORK/scp2.log")" -ne $((n2 + 1)) ]; then
    dtp_fail "expected one more association on each SCP after the transfers"
fi
if grep -q 'DOWNGRADED' <(grep -E 'association from .*: TLS TLSv1\.3' "$DTP_WORK/scp1.log"); then
    dtp_fail "bcp195 SCP flagged a TLS 1.3 association as DOWNGRADED"
fi

echo "PASS: port $port: 127.0.0.1 bcp195 accepts TLS 1.1 (flagged DOWNGRADED), 127.0.0.2 bcp195-nd refuses it (201 VERSION_REFUSED); transfers work on both"
