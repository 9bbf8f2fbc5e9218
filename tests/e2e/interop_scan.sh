#!/bin/bash
# interop_scan.sh PROFILE -- TLS scanners look at dtp-storescp --profile
# PROFILE as an auditor would: sslscan (package sslscan) and nmap's
# ssl-enum-ciphers script (package nmap). One dtp-storescp with an RSA and
# one with an ECDSA certificate; for each, every scanner must find:
#
#   - exactly the versions and (version, suite) pairs the profile table
#     allows for that certificate type -- no extra suite, no missing
#     available one (dtp-storescu --list-profiles is the table; Camellia-GCM
#     suites that OpenSSL lacks are not expected); over both certificates,
#     exactly the profile's versions, so no TLS 1.0/1.1 except under bcp195;
#   - key exchange groups (sslscan): exactly the profile's groups at TLS 1.3,
#     its elliptic curves at TLS 1.2 (E5, K3: CRYPTREC has no X25519);
#   - compression off (C4): nmap's "compressors: NULL" for every TLS <= 1.2;
#   - secure renegotiation on (C5): sslscan's renegotiation check; and
#     `openssl s_client -tls1_2` must see the RFC 5746 indication
#     ("Secure Renegotiation IS supported");
#   - TLS_FALLBACK_SCSV honoured (sslscan), where the profile has a version
#     to fall back to.
#
# The SCP requires a client certificate (-rc, the default): sslscan 2.0 sends
# the one given with --certs/--pk and completes its handshakes; without it,
# it only sees TLS 1.3 (whose certificate request comes after the
# ServerHello it looks at). nmap needs none: it reads the ServerHello.
#
# Known scanner limits of the Debian 12 builds, recorded as peer faults
# (evidence in the report), never counted as passes:
#   - sslscan 2.0.7 runs its renegotiation check over TLS 1.0 only
#     (testRenegotiation(options, TLSv1_client_method()) in sslscan.c), so
#     against a profile without TLS 1.0 it prints "Session renegotiation not
#     supported" without having negotiated anything; s_client's check stands
#     in for it;
#   - sslscan is built without zlib: "OpenSSL version does not support
#     compression", i.e. no compression check; nmap's stands in for it.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/checks.sh"
. "$HERE/interop_lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 PROFILE" >&2; exit 1; }
PROFILE=$1

ix_results "interop.scan.$PROFILE"
dtp_init "interop-scan-$PROFILE"
: "${DTP_BIN:?}" "${DTP_PKI:?}"
dtp_need_cmd sslscan nmap openssl timeout setsid
PKI=$DTP_PKI

ix_load_profiles
ix_known_profile "$PROFILE"
ix_load_openssl_names
SSLSCAN_VERSION=$(sslscan --version 2>&1 | sed 's/\x1b\[[0-9;]*m//g; s/^[[:space:]]*//; /^$/d' | paste -sd' ' -)
ix_peer sslscan "sslscan $SSLSCAN_VERSION"
ix_peer nmap "$(nmap --version 2>&1 | head -n 1)"
ix_peer openssl "$(openssl version)"
DIR=scan-\>dtp-storescp

declare -A PORT=()
for cert in rsa ec; do
    PORT[$cert]=$(dtp_free_port)
    mkdir -p "$DTP_WORK/out-$cert"
    dtp_start "scp-$cert" "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 --profile "$PROFILE" \
        +tls "$PKI/server-$cert.key" "$PKI/server-$cert.pem" +cf "$PKI/ca.pem" \
        --handshake-timeout 5 -od "$DTP_WORK/out-$cert" "${PORT[$cert]}"
done
for cert in rsa ec; do
    dtp_wait_port "${PORT[$cert]}" 127.0.0.1 10 ||
        dtp_fail "dtp-storescp ($cert) did not listen on 127.0.0.1:${PORT[$cert]}"
done

# All four scans at once (the SCP forks per connection).
pids=()
for cert in rsa ec; do
    timeout -k 2 90 sslscan --no-colour --xml="$DTP_WORK/sslscan-$cert.xml" \
        --certs="$PKI/client-rsa.pem" --pk="$PKI/client-rsa.key" \
        "127.0.0.1:${PORT[$cert]}" >"$DTP_WORK/sslscan-$cert.txt" 2>&1 &
    pids+=("$!")
    timeout -k 2 90 nmap -Pn -n --script ssl-enum-ciphers -p "${PORT[$cert]}" 127.0.0.1 \
        >"$DTP_WORK/nmap-$cert.txt" 2>&1 &
    pids+=("$!")
done
for pid in "${pids[@]}"; do wait "$pid" || true; done

# group_name SSLSCAN-NAME: the profile table's spelling.
group_name() {
    case ${1%% *} in
        x25519) echo X25519 ;; x448) echo X448 ;;
        secp192r1) echo P-192 ;; secp224r1) echo P-224 ;; secp256r1) echo P-256 ;;
        secp384r1) echo P-384 ;; secp521r1) echo P-521 ;; *) echo "${1%% *}" ;;
    esac
}
# words LIST: one per line, sorted (for comparisons).
words() { tr ' ' '\n' <<< "$1" | sed '/^$/d' | sort -u; }
# versions_of PAIRS: the versions used in "VERSION SUITE" lines.
versions_of() { awk '{print $1}' <<< "$1" | sort -u | tr '\n' ' ' | sed 's/ $//'; }
# diff_note EXPECTED GOT: "missing: ...; extra: ..." for two line lists.
diff_note() {
    local miss extra
    miss=$(comm -23 <(echo "$1" | sed '/^$/d') <(echo "$2" | sed '/^$/d') | paste -sd, -)
    extra=$(comm -13 <(echo "$1" | sed '/^$/d') <(echo "$2" | sed '/^$/d') | paste -sd, -)
    echo "${miss:+missing: $miss; }${extra:+extra: $extra}"
}
# check_row PEER OK VERSION SUITE NOTE: a pass row, or a fail row + failed check.
check_row() {
    local peer=$1 ok=$2 v=$3 s=$4 note=$5
    DTP_CHECKS=$((DTP_CHECKS + 1))
    if [ "$ok" = 1 ]; then
        ix_row "$peer" "$PROFILE" "$DIR" pass "$v" "$s" "$note"
    else
        dtp_check_fail "$peer: $note"
        ix_row "$peer" "$PROFILE" "$DIR" fail "$v" "$s" "UNEXPECTED: $note"
    fi
}

all_versions=""
for cert in rsa ec; do
    auth=RSA
    [ "$cert" = ec ] && auth=ECDSA
    expected=$(ix_expected_pairs "$PROFILE" "$auth")
    exp_versions=$(versions_of "$expected")
    n_exp=$(grep -c . <<< "$expected" || true)

    # ----------------------------------------------------------- sslscan --
    xml=$DTP_WORK/sslscan-$cert.xml txt=$DTP_WORK/sslscan-$cert.txt
    if [ ! -s "$xml" ]; then
        check_row sslscan 0 - - "$cert cert: sslscan wrote no XML: $(tail -n 3 "$txt" | tr '\n' ' ')"
    else
        got=$(sed -nE 's/.*<cipher status="(accepted|preferred)" sslversion="([^"]+)".* cipher="([^"]+)".*/\2 \3/p' "$xml" |
              while read -r v s; do
                  [ "$v" = TLSv1.0 ] && v=TLSv1
                  echo "$v ${IX_IANA[$s]:-$s}"
              done | sort -u)
        enabled=$(sed -nE 's/.*<protocol type="(ssl|tls)" version="([0-9.]+)" enabled="1".*/\1 \2/p' "$xml" |
                  while read -r t n; do
                      case "$t $n" in "tls 1.0") echo TLSv1 ;; tls*) echo "TLSv$n" ;; *) echo "SSLv$n" ;; esac
                  done | sort -u | tr '\n' ' ' | sed 's/ $//')
        ok=1 note="$cert cert: $(grep -c . <<< "$got" || true) of $n_exp expected (version, suite) pairs accepted"
        d=$(diff_note "$expected" "$got")
        [ -z "$d" ] || { ok=0; note+="; $d"; }
        [ "$enabled" = "$exp_versions" ] || { ok=0; note+="; protocols enabled: '$enabled', expected '$exp_versions'"; }
        check_row sslscan "$ok" "$enabled" "$(awk '{print $2}' <<< "$got" | sort -u | paste -sd' ' -)" "$note"
        all_versions+=" $enabled"

        # Groups: TLS 1.3 all of the profile's; TLS 1.2 (sslscan lists
        # curves only) the profile's curves -- with the ECDSA certificate just
        # its own curve P-256, since below TLS 1.3 the client's curve list
        # also limits the curve of the server's certificate (RFC 4492 5.1).
        groups_got=$(sed -nE 's/.*<group sslversion="([^"]+)" bits="[0-9]+" name="([^"]+)".*/\1|\2/p' "$xml" |
                     while IFS='|' read -r v g; do echo "$v $(group_name "$g")"; done | sort -u)
        groups_exp=$(for v in $exp_versions; do
                         for g in ${IX_GROUPS[$PROFILE]}; do
                             if [ "$v" = TLSv1.3 ]; then echo "$v $g"
                             elif [ "$v" = TLSv1.2 ] && [[ $g != ffdhe* ]] &&
                                  grep -q ECDHE <<< "$expected" &&
                                  { [ "$cert" = rsa ] || [ "$g" = P-256 ]; }; then echo "$v $g"; fi
                         done
                     done | sort -u)
        ok=1 note="$cert cert: key exchange groups $(awk '{print $2}' <<< "$groups_got" | sort -u | paste -sd' ' -)"
        d=$(diff_note "$groups_exp" "$groups_got")
        [ -z "$d" ] || { ok=0; note+="; $d"; }
        check_row sslscan "$ok" "$exp_versions" "(groups)" "$note"

        # TLS_FALLBACK_SCSV: honoured wherever there is a lower version.
        if grep -q 'Server supports TLS Fallback SCSV' "$txt"; then
            check_row sslscan 1 "$exp_versions" "(fallback SCSV)" "$cert cert: Server supports TLS Fallback SCSV"
        else
            check_row sslscan 0 "$exp_versions" "(fallback SCSV)" \
                "$cert cert: sslscan: $(grep -A1 'TLS Fallback SCSV:' "$txt" | tail -n 1)"
        fi

        # Renegotiation (RSA certificate; sslscan tests it over TLS 1.0 only).
        if [ "$cert" = rsa ]; then
            reneg=$(sed -nE 's/.*<renegotiation supported="([01])" secure="([01])".*/\1 \2/p' "$xml")
            line=$(grep -A1 'TLS renegotiation:' "$txt" | tail -n 1)
            if [ "$reneg" = "1 1" ]; then
                check_row sslscan 1 TLSv1 "(renegotiation)" "secure renegotiation supported: '$line'"
            elif ! ix_has "$exp_versions" TLSv1; then
                DTP_CHECKS=$((DTP_CHECKS + 1))
                ix_row sslscan "$PROFILE" "$DIR" peer-fault TLSv1 "(renegotiation)" \
                    "sslscan says '$line' (XML: supported=${reneg%% *} secure=${reneg##* }): sslscan 2.0.7 tests renegotiation over TLS 1.0 only, which $PROFILE refuses (201 VERSION_REFUSED); s_client -tls1_2 below sees RFC 5746 secure renegotiation"
            else
                check_row sslscan 0 TLSv1 "(renegotiation)" "sslscan says '$line' although TLS 1.0 is allowed"
            fi
            if grep -q 'OpenSSL version does not support compression' "$txt"; then
                DTP_CHECKS=$((DTP_CHECKS + 1))
                ix_row sslscan "$PROFILE" "$DIR" peer-fault - "(compression)" \
                    "sslscan cannot test compression: 'OpenSSL version does not support compression' (Debian's build has no zlib); nmap's compressors list below stands in"
            else
                c=$(sed -nE 's/.*<compression supported="([01])".*/\1/p' "$xml")
                check_row sslscan "$([ "$c" = 0 ] && echo 1 || echo 0)" - "(compression)" "compression supported=${c:-?}"
            fi
        fi
    fi

    # -------------------------------------------------------------- nmap --
    nm=$DTP_WORK/nmap-$cert.txt
    got=$(awk '/^\|   (TLSv1(\.[0-3])?|SSLv[23]):/ { v = $2; sub(/:$/, "", v); if (v == "TLSv1.0") v = "TLSv1" }
               /^\|       TLS_/ { s = $2; sub(/^TLS_AKE_WITH_/, "TLS_", s); print v, s }' "$nm" | sort -u)
    if ! grep -q 'ssl-enum-ciphers' "$nm"; then
        check_row nmap 0 - - "$cert cert: nmap printed no ssl-enum-ciphers result: $(tail -n 3 "$nm" | tr '\n' ' ')"
        continue
    fi
    versions=$(versions_of "$got")
    ok=1 note="$cert cert: $(grep -c . <<< "$got" || true) of $n_exp expected (version, suite) pairs accepted"
    d=$(diff_note "$expected" "$got")
    [ -z "$d" ] || { ok=0; note+="; $d"; }
    [ "$versions" = "$exp_versions" ] || { ok=0; note+="; versions '$versions', expected '$exp_versions'"; }
    check_row nmap "$ok" "$versions" "$(awk '{print $2}' <<< "$got" | sort -u | paste -sd' ' -)" "$note"
    all_versions+=" $versions"
    # Compression (C4): every TLS <= 1.2 section lists only NULL.
    comps=$(awk '/^\|     compressors:/ { c = 1; next } c && /^\|       / { print $2; next } { c = 0 }' "$nm" | sort -u | paste -sd' ' -)
    n12=$(grep -cE '^\|   TLSv1(\.[012])?:' "$nm" || true)
    ncomp=$(grep -c '^|     compressors:' "$nm" || true)
    if [ "$n12" -gt 0 ]; then
        ok=1
        [ "$comps" = NULL ] && [ "$ncomp" = "$n12" ] || ok=0
        check_row nmap "$ok" "$(tr ' ' '\n' <<< "$versions" | grep -v TLSv1.3 | paste -sd' ' - || true)" "(compression)" \
            "$cert cert: compressors offered by the server: ${comps:-none listed} ($ncomp of $n12 TLS <= 1.2 sections)"
    fi
done

# Over both certificates: exactly the profile's versions (N1, E1, K1: no
# TLS 1.0/1.1 except under bcp195).
DTP_CHECKS=$((DTP_CHECKS + 1))
union=$(words "$all_versions" | paste -sd' ' -)
want=$(words "${IX_VERSIONS[$PROFILE]}" | paste -sd' ' -)
if [ "$union" = "$want" ]; then
    ix_row sslscan+nmap "$PROFILE" "$DIR" pass "${IX_VERSIONS[$PROFILE]}" "(versions, both certs)" \
        "versions seen by the scanners equal the profile's: $union"
else
    dtp_check_fail "versions seen by the scanners: '$union', profile: '$want'"
    ix_row sslscan+nmap "$PROFILE" "$DIR" fail "$union" "(versions, both certs)" "UNEXPECTED: profile allows '$want'"
fi

# Secure renegotiation (C5), as a TLS 1.2 client sees it.
out=$DTP_WORK/s_client-reneg.out
timeout -k 2 15 openssl s_client -connect "127.0.0.1:${PORT[rsa]}" -tls1_2 \
    -cert "$PKI/client-rsa.pem" -key "$PKI/client-rsa.key" -CAfile "$PKI/ca.pem" \
    </dev/null >"$out" 2>&1 || true
if grep -q '^Secure Renegotiation IS supported' "$out" && grep -q '^Compression: NONE' "$out"; then
    check_row openssl 1 TLSv1.2 "$(sed -n 's/^ *Cipher *: *//p' "$out" | head -n 1 | { read -r s; echo "${IX_IANA[$s]:-$s}"; })" \
        "s_client -tls1_2: 'Secure Renegotiation IS supported' (RFC 5746), 'Compression: NONE'"
else
    check_row openssl 0 TLSv1.2 - "s_client -tls1_2: $(grep -E '^(Secure Renegotiation|Compression|New,)' "$out" | tr '\n' ' ')"
fi

ix_done
