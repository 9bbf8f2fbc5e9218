#!/bin/bash
# interop_dcmtk.sh -- stock DCMTK 3.6.7 storescu/storescp (package dcmtk)
# against our apps under each profile DCMTK has, RSA and ECDSA certificates,
# both directions, one object each (byte-identical where it arrives):
#
#   bcp195 = storescp/storescu +px, bcp195-nd = +py, bcp195-ex = +pz
#
# stock_dcmtk.sh already sends three objects each way for bcp195-nd and
# bcp195-ex with RSA certificates; this script covers the whole grid for the
# interop matrix (docs/interop.md) and pins where DCMTK and we disagree:
#
#   - DCMTK's Non-Downgrading profile lists RSA suites only at TLS 1.2; ours
#     adds the ECDSA AES-GCM suites (N3). With ECDSA certificates the two
#     still meet at TLS 1.3, but a TLS 1.2-only party cannot: our bcp195-ex
#     (ECDSA) against DCMTK's +py (ECDSA) is refused both ways -- our SCU
#     reports DCMTK's handshake_failure alert as 209 PEER_ALERT, our SCP logs
#     202 NO_SHARED_SUITE.
#   - B.12/B.13 (bcp195-8996 = DCMTK 3.6.8+'s +pg, bcp195-8996-mod = +pm):
#     stock 3.6.7 has neither, so both are run against +py (what
#     peers.md names for them: TLS 1.3, or at TLS 1.2 the four ECDHE/DHE RSA
#     GCM suites) and +pz (TLS 1.2 only, ECDHE RSA and ECDSA AES-GCM), RSA and
#     ECDSA certificates, both directions. All eight pairs per profile
#     connect: with +py they meet at TLS 1.3 (R5/R6, M34/M35), where the
#     certificate type does not limit the suite, so +py's lack of ECDSA
#     suites at TLS 1.2 never comes into play (our B.12/B.13 apps always
#     offer TLS 1.3); with +pz at TLS 1.2 on the ECDHE AES-GCM suites B.12
#     (R21) and B.13 (M21) share with it, EMS negotiated (R36). Nothing to
#     pin as a refusal there.
#   - Where our SCP is the server its preference decides, so the suite is
#     pinned: its first suite (table order) that stock DCMTK offers --
#     AES-256 first under B.12/B.13 (R25, M21, M18), AES-128 first in the
#     seeds. DCMTK's TLS 1.3 offer is OpenSSL's default three suites; its
#     TLS 1.2 offer per flag is STOCK_TLS12 below. The key exchange group
#     both sides log must be one of our profile's (so never X25519 under
#     bcp195-8996-mod, M17/Q2).
#   - DCMTK runs every profile at OpenSSL security level 0 and checks no
#     ephemeral key size: stock storescu completes a TLS 1.2 handshake with a
#     server that offers only a 1024-bit DH group under +px, +py and +pz
#     (recorded as a peer fault; our SCU refuses that server with 208
#     EPHEMERAL_KEY_WEAK, see weak_dh.sh).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/checks.sh"
. "$HERE/interop_lib.sh"

ix_results interop.dcmtk
dtp_init interop-dcmtk
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}"
dtp_need_cmd storescu storescp dcmdump openssl timeout setsid
PKI=$DTP_PKI
FILE=$DTP_DATA/small/small-2.dcm
[ -f "$FILE" ] || dtp_fail "fixture $FILE missing"
export TCP_NODELAY=1        # stock tools: no Nagle + delayed ACK stalls

ix_load_profiles
ix_load_openssl_names
# shellcheck disable=SC2016  # '$dcmtk: ... $' is DCMTK's literal text
ix_peer dcmtk "DCMTK $(storescu --version 2>&1 | head -n 1 | sed -E 's/^\$dcmtk: (.*) \$$/\1/')"

declare -A FLAG=([bcp195]=+px [bcp195-nd]=+py [bcp195-ex]=+pz)
END_RE='association from 127\.0\.0\.1:[0-9]+( ended: |: A-P-ABORT, provider reason )'

# expect_version PROFILE FLAG -> the version both meet at: DCMTK's +px/+py
# reach TLS 1.3 with any certificate, +pz is TLS 1.2 (with ECDSA suites).
expect_version() {
    if [ "$2" != +pz ] && ix_has "${IX_VERSIONS[$1]}" TLSv1.3; then echo TLSv1.3; else echo TLSv1.2; fi
}

# Stock DCMTK 3.6.7's offer as a client (DCMTK's dcmtls tables for
# TSP_Profile_BCP195 / _BCP195_ND / _BCP195_Extended, Camellia absent from
# OpenSSL; TLS 1.3: OpenSSL's defaults, DCMTK 3.6.7 sets none).
declare -A STOCK_TLS12=(
    [+px]="TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 TLS_DHE_RSA_WITH_AES_256_GCM_SHA384 TLS_RSA_WITH_AES_128_CBC_SHA"
    [+py]="TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"
    [+pz]="TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 TLS_DHE_RSA_WITH_AES_256_GCM_SHA384")
STOCK_TLS13="TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256 TLS_AES_128_GCM_SHA256"

# server_pick PROFILE FLAG VERSION AUTH -> the suite our SCP (server
# preference, table order) picks from stock storescu FLAG's offer.
server_pick() {
    local p=$1 flag=$2 v=$3 auth=$4 list offer s
    if [ "$v" = TLSv1.3 ]; then list=${IX_TLS13[$p]:-} offer=$STOCK_TLS13
    else list="${IX_TLS12[$p]} ${IX_FALLBACK[$p]:-}" offer=${STOCK_TLS12[$flag]}; fi
    for s in $list; do
        ix_has "$offer" "$s" || continue
        [ "$v" = TLSv1.3 ] || [ "${IX_AUTH[$s]:-}" = "$auth" ] || continue
        echo "$s"
        return
    done
}

# stock_tls LOG -> "VERSION SUITE" from a stock tool's -d output.
stock_tls() {
    local v s
    v=$(sed -nE 's/^D: +Protocol +: +(TLSv[0-9.]+)$/\1/p' "$1" | head -n 1)
    s=$(sed -nE 's/^D: +Ciphersuite +: +([^,]+),.*/\1/p' "$1" | head -n 1)
    [ -z "$s" ] || s=${IX_IANA[$s]:-$s}
    echo "$v $s"
}

row() {   # PROFILE DIRECTION OK VERSION SUITE NOTE OUTCOME-IF-OK
    DTP_CHECKS=$((DTP_CHECKS + 1))
    if [ "$3" = 1 ]; then
        ix_row dcmtk "$1" "$2" "$7" "$4" "$5" "$6"
    else
        dtp_check_fail "dcmtk $1 $2: $6"
        ix_row dcmtk "$1" "$2" fail "$4" "$5" "UNEXPECTED: $6"
    fi
}

# stock storescp FLAG CERT <- dtp-storescu PROFILE CERT; WANT connect|refuse
to_stock() {
    local scu_profile=$1 flag=$2 cert=$3 want=$4 name="stock-scp-$1-$2-$3"
    local port out auth=RSA
    [ "$cert" = ec ] && auth=ECDSA
    port=$(dtp_free_port)
    mkdir -p "$DTP_WORK/out-$name"
    dtp_start "$name" storescp -d +tls "$PKI/server-$cert.key" "$PKI/server-$cert.pem" \
        +cf "$PKI/ca.pem" "$flag" -od "$DTP_WORK/out-$name" "$port"
    dtp_wait_port "$port" 127.0.0.1 10 || dtp_fail "stock storescp $flag did not listen on $port"
    out=$DTP_WORK/$name-scu.out
    local rc=0
    timeout -k 2 30 "$DTP_BIN/dtp-storescu" -v --profile "$scu_profile" \
        +tls "$PKI/client-$cert.key" "$PKI/client-$cert.pem" +cf "$PKI/ca.pem" \
        127.0.0.1 "$port" "$FILE" </dev/null >"$out" 2>&1 || rc=$?
    local tls v='' s='' g='' why=() note
    tls=$(grep -Em1 '^[IW]: TLS TLSv[0-9.]+ [A-Z0-9_]+ ' "$out" || true)
    [ -z "$tls" ] || read -r _ _ v s g _ <<< "$tls"
    g=${g#group=}
    if [ "$want" = connect ]; then
        local ev
        ev=$(expect_version "$scu_profile" "$flag")
        ix_in_groups "$scu_profile" "$g" || why+=("group '${g:-none}' is not one of $scu_profile's")
        [ "$rc" = 0 ] || why+=("dtp-storescu exit $rc: $(grep -E '^E: ' "$out" | head -n 1)")
        [ "$v" = "$ev" ] || why+=("version '${v:-none}', expected $ev")
        grep -qx -- "$v $s" < <(ix_expected_pairs "$scu_profile" "$auth") || why+=("$v $s is not in $scu_profile")
        [ "$(stock_tls "$DTP_WORK/$name.log")" = "$v $s" ] ||
            why+=("stock storescp logged '$(stock_tls "$DTP_WORK/$name.log")'")
        local stored
        stored=$(find "$DTP_WORK/out-$name" -type f | head -n 1)
        if [ -z "$stored" ] || ! dtp_same_dataset "$FILE" "$stored"; then
            why+=("object not stored identically by stock storescp")
        fi
        note="$cert certs, storescp $flag; group $g; 1 object, dataset byte-identical"
        [ ${#why[@]} -eq 0 ] || note=$(printf '%s; ' "${why[@]}")
        row "$scu_profile" dtp-storescu-\>peer "$([ ${#why[@]} -eq 0 ] && echo 1 || echo 0)" "${v:--}" "${s:--}" "$note" pass
    else
        local reason alert
        ix_expect_peer_refused "$out" "$rc" "$tls"
        reason=$IX_REASON alert=$IX_ALERT
        note="$cert certs, storescp $flag (DCMTK ND: RSA-only TLS 1.2 suites) vs our $scu_profile (TLS 1.2 only): SCU: $reason ($alert)"
        [ ${#why[@]} -eq 0 ] || note=$(printf '%s; ' "${why[@]}")
        row "$scu_profile" dtp-storescu-\>peer "$([ ${#why[@]} -eq 0 ] && echo 1 || echo 0)" TLSv1.2 "(DCMTK $flag offer)" "$note" pinned
    fi
}

# stock storescu FLAG CERT -> dtp-storescp PROFILE CERT; WANT connect|refuse
from_stock() {
    local scp_profile=$1 flag=$2 cert=$3 want=$4 name="dtp-scp-$1-$2-$3"
    local port out auth=RSA log
    [ "$cert" = ec ] && auth=ECDSA
    port=$(dtp_free_port)
    mkdir -p "$DTP_WORK/out-$name"
    dtp_start "$name" "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 --profile "$scp_profile" \
        +tls "$PKI/server-$cert.key" "$PKI/server-$cert.pem" +cf "$PKI/ca.pem" \
        --handshake-timeout 5 -od "$DTP_WORK/out-$name" -v "$port"
    dtp_wait_port "$port" 127.0.0.1 10 || dtp_fail "dtp-storescp $scp_profile did not listen on $port"
    out=$DTP_WORK/$name-stock-scu.out
    log=$DTP_WORK/$name.log
    local rc=0
    timeout -k 2 30 storescu -d +tls "$PKI/client-$cert.key" "$PKI/client-$cert.pem" \
        +cf "$PKI/ca.pem" "$flag" 127.0.0.1 "$port" "$FILE" </dev/null >"$out" 2>&1 || rc=$?
    local line why=() note v='' s='' g=''
    line=$(dtp_wait_line "$END_RE" "$log" || true)
    local tls
    tls=$(grep -Em1 'association from 127\.0\.0\.1:[0-9]+: TLS TLSv' "$log" || true)
    [[ $tls =~ :\ TLS\ (TLSv[0-9.]+)\ ([A-Z0-9_]+)\ group=([^ ]+) ]] &&
        v=${BASH_REMATCH[1]} s=${BASH_REMATCH[2]} g=${BASH_REMATCH[3]}
    if [ "$want" = connect ]; then
        local ev pick
        ev=$(expect_version "$scp_profile" "$flag")
        pick=$(server_pick "$scp_profile" "$flag" "$ev" "$auth")
        [ "$s" = "$pick" ] || why+=("suite '${s:-none}', expected our SCP's first choice '${pick:-none}'")
        ix_in_groups "$scp_profile" "$g" || why+=("group '${g:-none}' is not one of $scp_profile's")
        [ "$rc" = 0 ] || why+=("stock storescu exit $rc: $(grep -E '^(E|F): ' "$out" | head -n 1)")
        [ "$v" = "$ev" ] || why+=("version '${v:-none}', expected $ev")
        grep -qx -- "$v $s" < <(ix_expected_pairs "$scp_profile" "$auth") || why+=("$v $s is not in $scp_profile")
        [ "$(stock_tls "$out")" = "$v $s" ] || why+=("stock storescu logged '$(stock_tls "$out")'")
        [[ $line == *" ended: 1 objects stored "* ]] || why+=("SCP did not log 1 object stored: '${line:-nothing}'")
        local stored
        stored=$(find "$DTP_WORK/out-$name" -type f | head -n 1)
        if [ -z "$stored" ] || ! dtp_same_dataset "$FILE" "$stored"; then
            why+=("object not stored identically by dtp-storescp")
        fi
        note="$cert certs, storescu $flag; server's choice; group $g; 1 object, dataset byte-identical"
        [ ${#why[@]} -eq 0 ] || note=$(printf '%s; ' "${why[@]}")
        row "$scp_profile" peer-\>dtp-storescp "$([ ${#why[@]} -eq 0 ] && echo 1 || echo 0)" "${v:--}" "${s:--}" "$note" pass
    else
        local reason=
        [[ $line =~ provider\ reason\ ([0-9]+)\ ([A-Z_]+) ]] && reason="${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
        [ -z "$tls" ] || why+=("a handshake completed: $tls")
        [ "$rc" != 0 ] || why+=("stock storescu exit 0")
        [ "$reason" = "202 NO_SHARED_SUITE" ] || why+=("SCP reason '${reason:-none}', expected 202 NO_SHARED_SUITE")
        [ -z "$(ls -A "$DTP_WORK/out-$name")" ] || why+=("something was stored")
        note="$cert certs, storescu $flag (DCMTK ND: RSA-only TLS 1.2 suites) vs our $scp_profile (TLS 1.2 only): SCP: $reason"
        [ ${#why[@]} -eq 0 ] || note=$(printf '%s; ' "${why[@]}")
        row "$scp_profile" peer-\>dtp-storescp "$([ ${#why[@]} -eq 0 ] && echo 1 || echo 0)" TLSv1.2 "(DCMTK $flag offer)" "$note" pinned
    fi
}

# ---- same profile on both sides
for p in bcp195 bcp195-nd bcp195-ex; do
    for cert in rsa ec; do
        to_stock "$p" "${FLAG[$p]}" "$cert" connect
        from_stock "$p" "${FLAG[$p]}" "$cert" connect
    done
done

# ---- B.12/B.13 against stock DCMTK's +py (TLS 1.3) and +pz (TLS 1.2)
for p in bcp195-8996 bcp195-8996-mod; do
    ix_known_profile "$p"
    for flag in +py +pz; do
        for cert in rsa ec; do
            to_stock "$p" "$flag" "$cert" connect
            from_stock "$p" "$flag" "$cert" connect
        done
    done
done

# ---- the documented disagreement: ND's ECDSA suites (N3) vs DCMTK's +py
to_stock bcp195-ex +py ec refuse
from_stock bcp195-ex +py ec refuse

# ---- DCMTK accepts a 1024-bit DH server under every profile (peer fault)
for p in bcp195 bcp195-nd bcp195-ex; do
    flag=${FLAG[$p]}
    port=$(dtp_free_port)
    dtp_start "weak-$p" openssl s_server -accept "127.0.0.1:$port" \
        -cert "$PKI/server-rsa.pem" -key "$PKI/server-rsa.key" -dhparam "$PKI/dh1024.pem" \
        -cipher 'DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0' -tls1_2 -naccept 1
    dtp_wait_port "$port" 127.0.0.1 10 || dtp_fail "weak s_server did not listen on $port"
    out=$DTP_WORK/weak-$p-stock-scu.out
    timeout -k 2 30 storescu -d -ta 1 +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" \
        +cf "$PKI/ca.pem" "$flag" 127.0.0.1 "$port" "$FILE" </dev/null >"$out" 2>&1 || true
    got=$(stock_tls "$out")
    DTP_CHECKS=$((DTP_CHECKS + 1))
    if [ "$got" = "TLSv1.2 TLS_DHE_RSA_WITH_AES_128_GCM_SHA256" ]; then
        ix_row dcmtk "$p" peer-\>s_server peer-fault TLSv1.2 TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 \
            "stock storescu $flag completed a handshake with a server whose only DH group is 1024 bits (s_server -dhparam dh1024.pem): DCMTK runs at security level 0 and checks no ephemeral key size (B5/E5); dtp-storescu refuses that server with 208 EPHEMERAL_KEY_WEAK (weak_dh.sh)"
    elif [ -z "${got// /}" ]; then
        # DCMTK refused it: better than documented -- record it, do not fail.
        ix_row dcmtk "$p" peer-\>s_server pinned TLSv1.2 TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 \
            "stock storescu $flag refused a 1024-bit DH server: $(grep -E '^(E|F): ' "$out" | head -n 1)"
    else
        dtp_check_fail "stock storescu $flag vs 1024-bit DH server: negotiated '$got'"
        ix_row dcmtk "$p" peer-\>s_server fail - - "UNEXPECTED: stock storescu $flag vs 1024-bit DH server: '$got'"
    fi
done

ix_done
