#!/bin/bash
# interop_gnutls.sh PROFILE -- GnuTLS (gnutls-cli / gnutls-serv, package
# gnutls-bin) against our apps, for the Camellia-GCM suites of E3/K3/M21
# and, under B.12/B.13, the CCM, CCM_8 and ChaCha20 suites one at a time.
#
# DTP_TLS_BACKEND (openssl, the default, or gnutls) names the TLS backend of
# the apps in $DTP_BIN (the gnutls.interop.gnutls.* tests run the GnuTLS
# shims with DTP_TLS_BACKEND=gnutls); the table's availability column for
# that backend sets the expectations.
#
# GnuTLS implements all six Camellia-GCM suites of the Extended BCP195 and
# CRYPTREC profiles (four of them are in B.13, M21); OpenSSL 3.0 implements
# none, so the table lists them as "not available with this backend
# (OpenSSL)" and "{gnutls: available}". For each of the six suites, with the
# certificate type the suite needs:
#
#   (a) the peer offers ONLY that Camellia-GCM suite (TLS 1.2). Where the
#       profile lists it and the backend has it (GnuTLS: E3, K3, M21) it
#       connects with exactly that suite, in both directions. Otherwise:
#         gnutls-cli -> dtp-storescp   the SCP logs 202 NO_SHARED_SUITE
#         dtp-storescu -> gnutls-serv  the server sends handshake_failure;
#                                      the SCU reports 209 PEER_ALERT
#       (on the GnuTLS backend an SCU may also offer a suite the profile does
#       not list and refuse it in the ServerHello, 211 OUTSIDE_PROFILE: see
#       README, "Where the GnuTLS backend differs"; accepted only when it
#       names the one suite the server offered)
#   (b) the peer offers that Camellia-GCM suite AND the AES-GCM suite with the
#       same key exchange and key size: it connects and negotiates the AES-GCM
#       suite (or the Camellia one, where the backend has it and the profile
#       lists both) -- where the profile lists one of them (all six under
#       bcp195-ex, bcp195-nd and cryptrec; only the RSA ones under bcp195,
#       whose TLS 1.2 list has no ECDSA suite: refused as in (a));
#   (c) GnuTLS's default priority (NORMAL) connects at the profile's best
#       version, RSA and ECDSA certificates.
#   (d) B.12/B.13 only (bcp195-8996, bcp195-8996-mod): the peer offers ONE
#       suite that OpenSSL leaves out of its defaults or that only B.13
#       lists: TLS 1.2 ECDHE-ECDSA AES-128-CCM-8 and AES-256-CCM-8 (M21, EC
#       certificate), TLS 1.2 ChaCha20-Poly1305 with ECDHE-RSA and
#       ECDHE-ECDSA (M21), TLS 1.3 ChaCha20-Poly1305 (R28, M18), AES-128-CCM
#       and AES-128-CCM-8 (M18, Q12). Where the profile lists the suite it
#       must be negotiated, exactly that suite, in both directions; where it
#       does not (B.12 has no TLS 1.2 ChaCha20/CCM_8 (R21) and no TLS 1.3 CCM
#       (R28)) the same offer is refused as in (a). Each priority string is
#       checked first (gnutls-cli -l) to resolve to that one suite.
#
# gnutls-serv cannot be told to listen on 127.0.0.1 only, so the script runs
# in a private network namespace with only a loopback interface (unshare -n;
# skipped when none can be made). gnutls-serv runs with --noticket: the TLS 1.3
# session-ticket case is interop_openssl.sh's.
#
# Every case runs; all mismatches are listed at the end. Result rows go to
# $DTP_BUILD_DIR/interop-results/interop.gnutls.PROFILE.tsv (OpenSSL
# backend), or interop-results/gnutls-backend/gnutls.interop.gnutls.PROFILE.tsv
# (GnuTLS backend: a subdirectory scripts/interop-report.sh does not read, so
# docs/interop.md stays the OpenSSL backend's). The Camellia-GCM suites
# negotiated are printed per direction ("camellia negotiated (DIR): ...").
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/checks.sh"
. "$HERE/interop_lib.sh"

[ $# -eq 1 ] || { echo "usage: [DTP_TLS_BACKEND=openssl|gnutls] $0 PROFILE" >&2; exit 1; }
PROFILE=$1
BACKEND=${DTP_TLS_BACKEND:-openssl}
case $BACKEND in
    openssl) ix_results "interop.gnutls.$PROFILE" ;;
    gnutls) ix_results "gnutls-backend/gnutls.interop.gnutls.$PROFILE" ;;
    *) echo "$0: DTP_TLS_BACKEND must be openssl or gnutls, not '$BACKEND'" >&2; exit 1 ;;
esac
ix_netns "$@"
dtp_init "interop-gnutls-$PROFILE"
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}"
dtp_need_cmd gnutls-cli gnutls-serv openssl timeout setsid
[ "$IX_NETNS" = 1 ] ||
    dtp_skip "gnutls-serv listens on every address; no private network namespace (unshare -n) to keep it on loopback"
PKI=$DTP_PKI
declare -A SCP_PORT=()
FILE=$DTP_DATA/small/small-1.dcm
[ -f "$FILE" ] || dtp_fail "fixture $FILE missing"

ix_load_profiles "$BACKEND"
ix_known_profile "$PROFILE"
ix_load_openssl_names
ix_peer gnutls "$(gnutls-cli --version 2>&1 | head -n 1)"

# --------------------------------------------------------------- the cases --
# CASES: "NAME|PRIORITY|CERT|CAMELLIA-SUITE|AES-SUITE|ONE-SUITE|ONE-VERSION"
# (CAMELLIA-SUITE empty for the NORMAL and the one-suite cases; AES-SUITE
# empty when only the Camellia suite is offered; ONE-SUITE/ONE-VERSION only
# for the one-suite cases (d).)
prio() {   # KX CIPHER... -> a TLS 1.2 priority string with exactly these
    local kx=$1 c ciphers=""; shift
    for c in "$@"; do ciphers+=":+$c"; done
    echo "NONE:+VERS-TLS1.2${ciphers}:+AEAD:+$kx:+SIGN-ALL:+GROUP-ALL:+COMP-NULL"
}
CASES=()
CAMELLIA_SUITES=()
for spec in \
    "ECDHE-ECDSA ec 128 TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" \
    "ECDHE-ECDSA ec 256 TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384 TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" \
    "ECDHE-RSA rsa 128 TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" \
    "ECDHE-RSA rsa 256 TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" \
    "DHE-RSA rsa 128 TLS_DHE_RSA_WITH_CAMELLIA_128_GCM_SHA256 TLS_DHE_RSA_WITH_AES_128_GCM_SHA256" \
    "DHE-RSA rsa 256 TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384 TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"; do
    read -r kx cert bits cam aes <<< "$spec"
    CAMELLIA_SUITES+=("$cam")
    CASES+=("$cam-only|$(prio "$kx" "CAMELLIA-$bits-GCM")|$cert|$cam|")
    CASES+=("$cam+AES|$(prio "$kx" "CAMELLIA-$bits-GCM" "AES-$bits-GCM")|$cert|$cam|$aes")
done
CASES+=("NORMAL-rsa|NORMAL|rsa||" "NORMAL-ec|NORMAL|ec||")

# (d) One suite per priority string: "VERSION KX CIPHER CERT IANA-SUITE ID"
# (KX "-" for TLS 1.3, where the suite names no key exchange).
declare -A ONE_ID=()
case $PROFILE in
bcp195-8996 | bcp195-8996-mod)
    for spec in \
        "TLSv1.2 ECDHE-ECDSA AES-128-CCM-8 ec TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 0xc0,0xae" \
        "TLSv1.2 ECDHE-ECDSA AES-256-CCM-8 ec TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8 0xc0,0xaf" \
        "TLSv1.2 ECDHE-RSA CHACHA20-POLY1305 rsa TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 0xcc,0xa8" \
        "TLSv1.2 ECDHE-ECDSA CHACHA20-POLY1305 ec TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 0xcc,0xa9" \
        "TLSv1.3 - CHACHA20-POLY1305 rsa TLS_CHACHA20_POLY1305_SHA256 0x13,0x03" \
        "TLSv1.3 - AES-128-CCM rsa TLS_AES_128_CCM_SHA256 0x13,0x04" \
        "TLSv1.3 - AES-128-CCM-8 ec TLS_AES_128_CCM_8_SHA256 0x13,0x05"; do
        read -r v kx c cert suite id <<< "$spec"
        if [ "$v" = TLSv1.3 ]; then
            pr="NONE:+VERS-TLS1.3:+$c:+AEAD:+SIGN-ALL:+GROUP-ALL:+COMP-NULL"
        else
            pr=$(prio "$kx" "$c")
        fi
        ONE_ID[$suite]=$id
        CASES+=("$suite|$pr|$cert|||$suite|$v")
    done ;;
esac

# The one-suite priority strings resolve, in GnuTLS itself, to exactly that
# suite (its IANA ID), so a connection can only negotiate that one.
for c in "${CASES[@]}"; do
    IFS='|' read -r name pr cert cam aes one onev <<< "$c"
    [ -n "$one" ] || continue
    DTP_CHECKS=$((DTP_CHECKS + 1))
    ids=$(gnutls-cli -l --priority "$pr" 2>&1 |
          sed -n '/^Cipher suites for /,/^$/ s/.*\t\(0x[0-9a-f]*\), \(0x[0-9a-f]*\)\t.*/\1,\2/p' | paste -sd' ' -)
    [ "$ids" = "${ONE_ID[$one]}" ] ||
        dtp_check_fail "priority '$pr' gives suites '${ids:-none}' in GnuTLS, not just $one (${ONE_ID[$one]})"
done

# The E3/K3/M21 Camellia-GCM suites of the table must be among the six above
# (so each is tested), and they are the only suites of the table a backend
# may lack: OpenSSL lacks all six, GnuTLS none.
for s in ${IX_TLS12[$PROFILE]} ${IX_TLS12_NA[$PROFILE]:-}; do
    [[ $s == *CAMELLIA* ]] || continue
    DTP_CHECKS=$((DTP_CHECKS + 1))
    ix_has "${CAMELLIA_SUITES[*]}" "$s" || dtp_check_fail "table lists $s, which is not one of the six Camellia-GCM cases"
done
for s in ${IX_TLS12_NA[$PROFILE]:-} ${IX_TLS13_NA[$PROFILE]:-} ${IX_FALLBACK_NA[$PROFILE]:-}; do
    DTP_CHECKS=$((DTP_CHECKS + 1))
    { [[ $s == *CAMELLIA*GCM* ]] && [ "$BACKEND" = openssl ]; } ||
        dtp_check_fail "table lists $s as not available with $BACKEND; only the Camellia-GCM suites with OpenSSL are expected there"
done

# expect CAMELLIA AES CERT ONE-SUITE ONE-VERSION -> "connect VERSION" | "refuse"
expect() {
    local cam=$1 aes=$2 cert=$3 one=${4:-} onev=${5:-} v
    if [ -n "$one" ]; then   # (d): connects iff the profile lists the suite
        local list=${IX_TLS12[$PROFILE]}
        [ "$onev" = TLSv1.3 ] && list=${IX_TLS13[$PROFILE]:-}
        if ix_has "${IX_VERSIONS[$PROFILE]}" "$onev" && ix_has "$list" "$one"; then
            echo "connect $onev"
        else
            echo refuse
        fi
        return
    fi
    if [ -z "$cam" ]; then   # NORMAL: the profile's best version
        v=${IX_VERSIONS[$PROFILE]##* }
        echo "connect $v"
        return
    fi
    if ix_has "${IX_TLS12[$PROFILE]}" "$cam"; then
        echo "connect TLSv1.2"
    elif [ -n "$aes" ] && ix_has "${IX_TLS12[$PROFILE]}" "$aes"; then
        echo "connect TLSv1.2"
    else
        echo refuse
    fi
}

# allowed VERSION SUITE CAMELLIA AES [ONE-SUITE ONE-VERSION]: the negotiated
# suite is one the case and the profile allow (for (d): exactly that one).
allowed() {
    local v=$1 s=$2 cam=$3 aes=$4 one=${5:-} onev=${6:-}
    if [ -n "$one" ]; then
        [ "$v" = "$onev" ] && [ "$s" = "$one" ]
        return
    fi
    if [ -z "$cam" ]; then
        if [ "$v" = TLSv1.3 ]; then ix_has "${IX_TLS13[$PROFILE]:-}" "$s"; else ix_has "${IX_TLS12[$PROFILE]}" "$s"; fi
        return
    fi
    { [ "$s" = "$cam" ] || [ "$s" = "$aes" ]; } && ix_has "${IX_TLS12[$PROFILE]}" "$s"
}

declare -A CAMELLIA_GOT=()   # DIRECTION -> Camellia-GCM suites negotiated as expected
record() {   # CASE OK OUTCOME-IF-OK DIRECTION VERSION SUITE NOTE
    local c=$1 ok=$2 outcome=$3 dir=$4 v=$5 s=$6 note=$7
    DTP_CHECKS=$((DTP_CHECKS + 1))
    if [ "$ok" != 1 ]; then
        outcome=fail
        dtp_check_fail "$c ($dir): $note"
        note="UNEXPECTED: $note"
    elif [ "$outcome" = pass ] && [[ $s == *CAMELLIA* ]]; then
        CAMELLIA_GOT[$dir]+="${CAMELLIA_GOT[$dir]:+ }$s"
    fi
    ix_row gnutls "$PROFILE" "$dir" "$outcome" "$v" "$s" "$note"
}

# camellia_done DIRECTION: each Camellia-GCM suite the profile lists and the
# backend has (E3, K3, M21) was negotiated in DIRECTION, and no other.
camellia_done() {
    local dir=$1 s want=() got
    for s in ${IX_TLS12[$PROFILE]}; do [[ $s != *CAMELLIA* ]] || want+=("$s"); done
    got=$(tr ' ' '\n' <<< "${CAMELLIA_GOT[$dir]:-}" | sed '/^$/d' | sort -u | paste -sd, -)
    echo "camellia negotiated ($dir): ${got:-none} (${#want[@]} expected, $BACKEND backend)"
    DTP_CHECKS=$((DTP_CHECKS + 1))
    [ "$got" = "$(printf '%s\n' "${want[@]}" | sed '/^$/d' | sort -u | paste -sd, -)" ] ||
        dtp_check_fail "$dir: Camellia-GCM suites negotiated '${got:-none}', the profile lists (available with $BACKEND) '${want[*]}'"
}

# ====================================================== gnutls-cli -> SCP
# One dtp-storescp per case, all cases at once: gnutls-cli lingers 2 s after
# a completed handshake before it closes, so one after the other is slow.
DIR1=peer-\>dtp-storescp
for i in "${!CASES[@]}"; do
    IFS="|" read -r name pr cert cam aes one onev <<< "${CASES[$i]}"
    SCP_PORT[$i]=$(dtp_free_port)
    mkdir -p "$DTP_WORK/out-$i"
    dtp_start "scp-$i" "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 --profile "$PROFILE" \
        +tls "$PKI/server-$cert.key" "$PKI/server-$cert.pem" +cf "$PKI/ca.pem" \
        --handshake-timeout 5 -od "$DTP_WORK/out-$i" -v "${SCP_PORT[$i]}"
done
pids=()
for i in "${!CASES[@]}"; do
    IFS="|" read -r name pr cert cam aes one onev <<< "${CASES[$i]}"
    dtp_wait_port "${SCP_PORT[$i]}" 127.0.0.1 10 ||
        dtp_fail "dtp-storescp ($name) did not listen on 127.0.0.1:${SCP_PORT[$i]}"
    timeout -k 2 15 gnutls-cli --x509cafile "$PKI/ca.pem" \
        --x509certfile "$PKI/client-$cert.pem" --x509keyfile "$PKI/client-$cert.key" \
        --priority "$pr" -p "${SCP_PORT[$i]}" 127.0.0.1 </dev/null >"$DTP_WORK/cli-$i.out" 2>&1 &
    pids+=("$!")
done
for pid in "${pids[@]}"; do wait "$pid" || true; done
END_RE='association from 127\.0\.0\.1:[0-9]+: (TLS TLSv|A-P-ABORT, provider reason )'
for i in "${!CASES[@]}"; do
    IFS="|" read -r name pr cert cam aes one onev <<< "${CASES[$i]}"
    c="cli-$name"
    exp=$(expect "$cam" "$aes" "$cert" "$one" "$onev")
    log=$DTP_WORK/scp-$i.log
    outf=$DTP_WORK/cli-$i.out
    line=$(dtp_wait_line "$END_RE" "$log" || true)
    desc=$(grep -m1 '^- Description:' "$outf" | sed 's/^- Description: //' || true)
    what=${cam:-GnuTLS NORMAL}${aes:+ + $aes}
    [ -z "$one" ] || what="only $one ($onev)"
    offered="offered $what, $cert cert"
    if [[ $line =~ :\ TLS\ (TLSv[0-9.]+)\ ([A-Z0-9_]+) ]]; then
        v=${BASH_REMATCH[1]} s=${BASH_REMATCH[2]}
        ok=1 msg="$offered; GnuTLS: $desc"
        [ "${exp%% *}" = connect ] || { ok=0; msg="expected a refusal, but connected $v $s; $msg"; }
        [ "$exp" = refuse ] || [ "$v" = "${exp#connect }" ] || { ok=0; msg="expected ${exp#connect }, got $v; $msg"; }
        allowed "$v" "$s" "$cam" "$aes" "$one" "$onev" || { ok=0; msg="negotiated $v $s, not allowed here; $msg"; }
        grep -q 'Handshake was completed' "$outf" || { ok=0; msg="gnutls-cli did not complete the handshake; $msg"; }
        record "$c" "$ok" pass "$DIR1" "$v" "$s" "$msg"
    elif [[ $line =~ provider\ reason\ ([0-9]+)\ ([A-Z_]+) ]]; then
        got="${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
        ok=1 msg="$offered; SCP: $got; GnuTLS: $(grep -m1 -E '\*\*\* Received alert' "$outf" | sed 's/^\*\*\* //' || true)"
        [ "$exp" = refuse ] || { ok=0; msg="expected to connect ($exp); $msg"; }
        [ "$got" = "202 NO_SHARED_SUITE" ] || { ok=0; msg="expected 202 NO_SHARED_SUITE; $msg"; }
        record "$c" "$ok" pinned "$DIR1" "${onev:-TLSv1.2}" "${one:-${cam:-NORMAL}${aes:+ + $aes}}" "$msg"
    else
        record "$c" 0 fail "$DIR1" - "${one:-${cam:-NORMAL}}" "no SCP log line within 5 s; $offered"
    fi
done

# ====================================================== SCU -> gnutls-serv
DIR2=dtp-storescu-\>peer
pids=()
for i in "${!CASES[@]}"; do
    IFS="|" read -r name pr cert cam aes one onev <<< "${CASES[$i]}"
    port=$(dtp_free_port)
    dtp_start "serv-$i" gnutls-serv --echo --noticket --require-client-cert \
        --x509cafile "$PKI/ca.pem" --x509certfile "$PKI/server-$cert.pem" \
        --x509keyfile "$PKI/server-$cert.key" --priority "$pr" -p "$port"
    dtp_wait_port "$port" 127.0.0.1 10 || dtp_fail "gnutls-serv ($name) did not listen on port $port"
    # gnutls-serv never answers the A-ASSOCIATE-RQ: after a completed
    # handshake the SCU ends on its 1 s ACSE timeout (exit 7).
    (
        rc=0
        timeout -k 2 20 "$DTP_BIN/dtp-storescu" -v -ta 1 -ts 5 --profile "$PROFILE" \
            +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem" \
            127.0.0.1 "$port" "$FILE" </dev/null >"$DTP_WORK/scu-$i.out" 2>&1 || rc=$?
        echo "$rc" > "$DTP_WORK/scu-$i.rc"
    ) &
    pids+=("$!")
done
for pid in "${pids[@]}"; do wait "$pid" || true; done
for i in "${!CASES[@]}"; do
    IFS="|" read -r name pr cert cam aes one onev <<< "${CASES[$i]}"
    c="serv-$name"
    exp=$(expect "$cam" "$aes" "$cert" "$one" "$onev")
    outf=$DTP_WORK/scu-$i.out
    rc=$(cat "$DTP_WORK/scu-$i.rc" 2>/dev/null || echo none)
    what=${cam:-GnuTLS NORMAL}${aes:+ + $aes}
    [ -z "$one" ] || what="only $one ($onev)"
    offered="server accepts $what, $cert cert"
    tls=$(grep -Em1 '^[IW]: TLS TLSv[0-9.]+ [A-Z0-9_]+ ' "$outf" || true)
    if [ -n "$tls" ]; then
        read -r _ _ v s _ <<< "$tls"
        ok=1 msg="$offered; ${tls#*: }"
        [ "${exp%% *}" = connect ] || { ok=0; msg="expected a refusal, but connected; $msg"; }
        [ "$exp" = refuse ] || [ "$v" = "${exp#connect }" ] || { ok=0; msg="expected ${exp#connect }, got $v; $msg"; }
        allowed "$v" "$s" "$cam" "$aes" "$one" "$onev" || { ok=0; msg="negotiated $v $s, not allowed here; $msg"; }
        [ "$rc" = 7 ] || { ok=0; msg="exit $rc, expected 7 (ACSE timeout after the handshake); $msg"; }
        record "$c" "$ok" pass "$DIR2" "$v" "$s" "$msg"
    else
        ix_scu_refusal "$outf"
        reason=$IX_REASON alert=$IX_ALERT
        ok=1 msg="$offered; SCU: ${reason:-no reason}${alert:+ ($alert)}"
        [ "$exp" = refuse ] || { ok=0; msg="expected to connect ($exp); $msg"; }
        if [ "$BACKEND" = gnutls ] && [ "$reason" = "211 OUTSIDE_PROFILE" ]; then
            # The GnuTLS SCU offered a suite the profile does not list (README:
            # "Where the GnuTLS backend differs") and refused the server's
            # choice of it: it must be the suite the server was given.
            picked=$(grep -m1 '^E: association failed: .* 211 OUTSIDE_PROFILE' "$outf" | grep -Eo 'TLS_[A-Z0-9_]+' | head -n 1 || true)
            msg="$msg ($picked offered by the GnuTLS client beyond the profile, refused in the ServerHello)"
            if [ -z "$picked" ] || ! ix_has "$cam $aes $one" "$picked" || ix_has "${IX_TLS12[$PROFILE]} ${IX_TLS13[$PROFILE]:-}" "$picked"; then
                ok=0 msg="211 OUTSIDE_PROFILE names '${picked:-no suite}', not an unlisted suite the server offered; $msg"
            fi
        elif [ "$reason" != "209 PEER_ALERT" ] || [[ $alert != *handshake_failure* ]]; then
            ok=0 msg="expected 209 PEER_ALERT (handshake_failure); $msg"
        fi
        [ "$rc" = 4 ] || { ok=0; msg="exit $rc, expected 4; $msg"; }
        record "$c" "$ok" pinned "$DIR2" "${onev:-TLSv1.2}" "${one:-${cam:-NORMAL}${aes:+ + $aes}}" "$msg"
    fi
done

camellia_done "$DIR1"
camellia_done "$DIR2"
for i in "${!CASES[@]}"; do
    DTP_CHECKS=$((DTP_CHECKS + 1))
    [ -z "$(ls -A "$DTP_WORK/out-$i")" ] ||
        dtp_check_fail "files in an SCP's output directory: $(ls -A "$DTP_WORK/out-$i")"
done
echo "${#CASES[@]} cases in each direction ($PROFILE, $BACKEND backend)"
ix_done
