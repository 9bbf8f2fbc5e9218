#!/bin/bash
# interop_scan.sh PROFILE -- TLS scanners look at dtp-storescp --profile
# PROFILE as an auditor would: sslscan (package sslscan) and nmap's
# ssl-enum-ciphers script (package nmap). One dtp-storescp with an RSA and
# one with an ECDSA certificate (two such pairs where the profile requires
# EMS, see below); for each, every scanner must find:
#
#   - exactly the versions and (version, suite) pairs the profile table
#     allows for that certificate type -- no extra suite, no missing
#     available one (dtp-storescu --list-profiles is the table; Camellia-GCM
#     suites that OpenSSL lacks are not expected); over both certificates,
#     exactly the profile's versions, so no TLS 1.0/1.1 except under bcp195;
#   - the server's order (C*, R25, M23): both scanners list the suites of a
#     version in the order the server prefers them ("cipher preference:
#     server"); that order must be the table's (AES-256 first under B.12/B.13);
#   - key exchange groups (sslscan, by IANA group ID): exactly the profile's
#     groups at TLS 1.3, its elliptic curves at TLS 1.2 (E5, K3, M17/Q2: no
#     X25519 under bcp195-ex, cryptrec, bcp195-8996-mod); X25519 (0x001d) is
#     seen where the table lists it (R26) and nowhere else, by sslscan's group
#     scan nor as nmap's key exchange; nmap's ECDHE/TLS 1.3 key exchange is
#     the profile's first group (server preference), its DHE group has 2048+
#     bits (R29, M15);
#   - for B.12/B.13 (bcp195-8996, bcp195-8996-mod) the table itself is pinned
#     to the standard (R21, R28, M18, M21 without the Camellia-GCM suites
#     OpenSSL lacks, Q2, Q12): the scanners must see B.13's TLS 1.2 CCM,
#     CCM_8 and ChaCha20 suites and all five TLS 1.3 suites;
#   - compression off (C4): nmap's "compressors: NULL" for every TLS <= 1.2;
#   - secure renegotiation on (C5): sslscan's renegotiation check; and
#     `openssl s_client -tls1_2` must see the RFC 5746 indication
#     ("Secure Renegotiation IS supported");
#   - TLS_FALLBACK_SCSV honoured (sslscan), where the profile has a version
#     to fall back to.
#
# EMS (R36, Q1): under B.12/B.13 ("EMS required" in the table) the SCP
# refuses, with handshake_failure and 216 EMS_MISSING, a ClientHello that
# offers neither TLS 1.3 nor extended_master_secret (RFC 7627 5.2). nmap's
# ssl-enum-ciphers and sslscan 2.0.7's protocol probe build their TLS 1.2
# hellos by hand without that extension (sslscan then lists no TLS 1.2
# suite). So under these two profiles the scanners scan two SCP pairs (RSA
# and EC certificate each), and each row's note starts with which one:
#   - "SCP --allow-no-ems": started with the explicit, logged override (Q1)
#     that accepts TLS 1.2 peers without EMS. Every check above applies in
#     full, exactly as for a profile without the EMS requirement, so the
#     scanners themselves must see B.13's TLS 1.2 CCM, CCM_8 and ChaCha20
#     suites (versions, every (version, suite) pair, server order, groups,
#     X25519, compression, renegotiation, fallback SCSV). The SCP must have
#     logged "W: R36 relaxed by explicit option" at start and no 216.
#   - "SCP default (EMS required)": no option, the server as deployed. Each
#     scanner must see no TLS 1.2 at all, recorded as a pinned refusal for
#     which the SCP must have logged 216 EMS_MISSING (a TLS 1.2 suite found
#     there fails), and exactly the TLS 1.3 part of the checks above. The
#     openssl s_client sweep is kept here, because only it shows that this
#     server, without the override, offers exactly the TLS 1.2 table to a
#     client that sends EMS: every TLS 1.2 suite OpenSSL has (certificate,
#     DH or anonymous key exchange) one at a time -- exactly the profile's
#     are accepted, incl. B.13's CCM, CCM_8 and ChaCha20 -- the server's
#     order, and the curves, one at a time (X25519 where the table has it,
#     reported as "X25519, 253 bits"); the versions over both certificates
#     take TLS 1.2 from it. s_client's renegotiation check runs at both pairs.
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

# B.12 / B.13 as the standard and the project's decisions give them (section
# 7 of spec/current-profiles.md), independent of the table: the table (and so
# what the scanners must see) has to equal this. Camellia-GCM (M21, M22/Q6)
# is optional and absent from OpenSSL, so not expected here.
declare -A SPEC_TLS12=() SPEC_TLS13=() SPEC_GROUPS=()
# R21: the four RFC 9325 suites; R25: server prefers AES-256.
SPEC_TLS12[bcp195-8996]="TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
# R28: RFC 8446 9.1's three.
SPEC_TLS13[bcp195-8996]="TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256 TLS_AES_128_GCM_SHA256"
# R26, Q2: X25519 first; R29: FFDHE 2048+.
SPEC_GROUPS[bcp195-8996]="x25519 secp256r1 secp384r1 secp521r1 x448 ffdhe2048 ffdhe3072 ffdhe4096"
# M21 in the standard's order, less the four Camellia-GCM suites (M22).
SPEC_TLS12[bcp195-8996-mod]="TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
    TLS_ECDHE_ECDSA_WITH_AES_256_CCM TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    TLS_ECDHE_ECDSA_WITH_AES_128_CCM TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"
# M18, Q12: all five, in both roles.
SPEC_TLS13[bcp195-8996-mod]="TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256 TLS_AES_128_GCM_SHA256
    TLS_AES_128_CCM_SHA256 TLS_AES_128_CCM_8_SHA256"
# M17, Q2: no X25519; M15: FFDHE 2048+.
SPEC_GROUPS[bcp195-8996-mod]="secp256r1 secp384r1 secp521r1 x448 ffdhe2048 ffdhe3072 ffdhe4096"
# E5, K3, M17: these profiles never offer X25519 (whatever the table says).
NO_X25519="bcp195-ex cryptrec bcp195-8996-mod"

# canon_group NAME: one spelling for a group (IANA), whatever the source
# spells it: the table (x25519 or X25519, secp256r1 or P-256), sslscan
# ("secp256r1 (NIST P-256)"), nmap ("ecdh_x25519").
canon_group() {
    local g=${1%% *}
    g=${g#ecdh_}
    case ${g,,} in
        p-192 | prime192v1) echo secp192r1 ;; p-224) echo secp224r1 ;;
        p-256 | prime256v1) echo secp256r1 ;; p-384) echo secp384r1 ;;
        p-521) echo secp521r1 ;; *) echo "${g,,}" ;;
    esac
}
# group_of_id ID NAME: sslscan's group by its IANA ID (0x001d = x25519 ...),
# its name where the ID is not one of these.
group_of_id() {
    case ${1,,} in
        0x0013) echo secp192r1 ;; 0x0015) echo secp224r1 ;; 0x0016) echo secp256k1 ;;
        0x0017) echo secp256r1 ;; 0x0018) echo secp384r1 ;; 0x0019) echo secp521r1 ;;
        0x001d) echo x25519 ;; 0x001e) echo x448 ;;
        0x0100) echo ffdhe2048 ;; 0x0101) echo ffdhe3072 ;; 0x0102) echo ffdhe4096 ;;
        0x0103) echo ffdhe6144 ;; 0x0104) echo ffdhe8192 ;;
        *) canon_group "$2" ;;
    esac
}
PGROUPS=$(for g in ${IX_GROUPS[$PROFILE]:-}; do canon_group "$g"; done | paste -sd' ' -)
# R36: does the profile require EMS in TLS 1.2 (its "extensions:" line)?
EMS_REQ=0
"$DTP_BIN/dtp-storescu" --list-profiles 2>/dev/null |
    awk -v p="$PROFILE" '/^  [a-z0-9-]+: / { q = $1; sub(/:$/, "", q); next }
                         q == p && /^    extensions: .*EMS required/ { f = 1 } END { exit !f }' && EMS_REQ=1

SSLSCAN_VERSION=$(sslscan --version 2>&1 | sed 's/\x1b\[[0-9;]*m//g; s/^[[:space:]]*//; /^$/d' | paste -sd' ' -)
ix_peer sslscan "sslscan $SSLSCAN_VERSION"
ix_peer nmap "$(nmap --version 2>&1 | head -n 1)"
ix_peer openssl "$(openssl version)"
DIR=scan-\>dtp-storescp

# The SCP pairs (RSA + EC certificate each) the scanners scan: "strict",
# dtp-storescp as deployed; under an EMS-requiring profile also "relaxed",
# started with --allow-no-ems (Q1). TAG[kind] opens the notes of a pair's
# rows, so the report says which SCP a row is about (empty where the profile
# has one pair only).
KINDS=(strict)
declare -A TAG=([strict]="")
if [ "$EMS_REQ" = 1 ]; then
    KINDS+=(relaxed)
    TAG[strict]="SCP default (EMS required), "
    TAG[relaxed]="SCP --allow-no-ems, "
fi
# sid KIND CERT: the name of one SCP (its port key, log scp-NAME.log, scan
# outputs): rsa, ec for the strict pair; noems-rsa, noems-ec for the relaxed.
sid() { if [ "$1" = relaxed ]; then echo "noems-$2"; else echo "$2"; fi; }

declare -A PORT=()
for kind in "${KINDS[@]}"; do
    opt=()
    [ "$kind" = strict ] || opt=(--allow-no-ems)
    for cert in rsa ec; do
        id=$(sid "$kind" "$cert")
        PORT[$id]=$(dtp_free_port)
        mkdir -p "$DTP_WORK/out-$id"
        dtp_start "scp-$id" "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 --profile "$PROFILE" "${opt[@]}" \
            +tls "$PKI/server-$cert.key" "$PKI/server-$cert.pem" +cf "$PKI/ca.pem" \
            --handshake-timeout 5 -od "$DTP_WORK/out-$id" "${PORT[$id]}"
    done
done
for id in "${!PORT[@]}"; do
    dtp_wait_port "${PORT[$id]}" 127.0.0.1 10 ||
        dtp_fail "dtp-storescp ($id) did not listen on 127.0.0.1:${PORT[$id]}"
done

# All scans at once (the SCP forks per connection).
pids=()
for id in "${!PORT[@]}"; do
    timeout -k 2 90 sslscan --no-colour --xml="$DTP_WORK/sslscan-$id.xml" \
        --certs="$PKI/client-rsa.pem" --pk="$PKI/client-rsa.key" \
        "127.0.0.1:${PORT[$id]}" >"$DTP_WORK/sslscan-$id.txt" 2>&1 &
    pids+=("$!")
    timeout -k 2 90 nmap -Pn -n --script ssl-enum-ciphers -p "${PORT[$id]}" 127.0.0.1 \
        >"$DTP_WORK/nmap-$id.txt" 2>&1 &
    pids+=("$!")
done
for pid in "${pids[@]}"; do wait "$pid" || true; done

# order_of VERSION PAIRS: the suites of VERSION in the table's (server)
# order, restricted to those in PAIRS ("VERSION SUITE" lines).
order_of() {
    local v=$1 pairs=$2 list s
    if [ "$v" = TLSv1.3 ]; then list=${IX_TLS13[$PROFILE]:-}
    else list="${IX_TLS12[$PROFILE]} ${IX_FALLBACK[$PROFILE]:-}"; fi
    for s in $list; do
        if grep -qx -- "$v $s" <<< "$pairs"; then echo "$s"; fi
    done | paste -sd' ' -
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
    echo "${miss:+missing: $miss}${miss:+${extra:+; }}${extra:+extra: $extra}"
}
# scan_expected KIND PAIRS: what a scanner must find at an SCP of KIND: PAIRS,
# less the TLS 1.2 ones at the strict pair of an EMS-requiring profile (the
# scanners offer no EMS; their refusal is pinned by ems_refused).
scan_expected() {
    if [ "$EMS_REQ" = 1 ] && [ "$1" = strict ]; then
        grep -v '^TLSv1\.2 ' <<< "$2" || true
    else
        printf '%s\n' "$2"
    fi
}
# ems_refused PEER KIND CERT GOT PAIRS: at the strict pair of an EMS-requiring
# profile whose table has TLS 1.2 suites for CERT, the scanner's TLS 1.2 must
# have been refused: it found none (GOT), and the SCP logged 216 EMS_MISSING
# for the hellos (R36).
ems_refused() {
    local peer=$1 kind=$2 cert=$3 got=$4 pairs=$5 id n why=()
    [ "$EMS_REQ" = 1 ] && [ "$kind" = strict ] && grep -q '^TLSv1\.2 ' <<< "$pairs" || return 0
    id=$(sid "$kind" "$cert")
    n=$(grep -c 'provider reason 216 EMS_MISSING' "$DTP_WORK/scp-$id.log" || true)
    DTP_CHECKS=$((DTP_CHECKS + 1))
    ! grep -q '^TLSv1\.2 ' <<< "$got" ||
        why+=("TLS 1.2 found although the scanner offers no EMS: $(grep '^TLSv1\.2 ' <<< "$got" | awk '{print $2}' | paste -sd' ' -)")
    [ "$n" -gt 0 ] || why+=("the SCP logged no 216 EMS_MISSING")
    if [ ${#why[@]} -eq 0 ]; then
        ix_row "$peer" "$PROFILE" "$DIR" pinned TLSv1.2 "(TLS 1.2 without EMS)" \
            "${TAG[$kind]}$cert cert: the scanner offers no extended_master_secret; the SCP refused its TLS 1.2 hellos with handshake_failure, 216 EMS_MISSING ($n in the SCP log; R36, RFC 7627 5.2); the SCP --allow-no-ems rows show the scanner's TLS 1.2 view, s_client (EMS) this SCP's"
    else
        dtp_check_fail "$peer: ${TAG[$kind]}$cert cert: $(printf '%s; ' "${why[@]}")"
        ix_row "$peer" "$PROFILE" "$DIR" fail TLSv1.2 "(TLS 1.2 without EMS)" \
            "UNEXPECTED: ${TAG[$kind]}$cert cert: $(printf '%s; ' "${why[@]}")"
    fi
}

# relaxed_logged CERT: the relaxed SCP with CERT logged the override at
# start (Q1: explicit and logged) and refused no hello for want of EMS.
relaxed_logged() {
    local log n rc=0
    log=$DTP_WORK/scp-$(sid relaxed "$1").log
    grep -q '^W: R36 relaxed by explicit option: ' "$log" || rc=1
    ix_check "$rc" "dtp-storescp" "${TAG[relaxed]}$1 cert: no 'W: R36 relaxed by explicit option' logged at start"
    n=$(grep -c 'provider reason 216 EMS_MISSING' "$log" || true)
    ix_check "$([ "$n" = 0 ] && echo 0 || echo 1)" "dtp-storescp" \
        "${TAG[relaxed]}$1 cert: the SCP refused $n hellos with 216 EMS_MISSING despite the option"
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

# check_order PEER LABEL SEQ PAIRS: per version, the suites in SEQ ("VERSION
# SUITE" lines in the scanner's order) come in the table's order (the
# server's preference: R25, M23; B.12/B.13 put AES-256 first).
check_order() {
    local peer=$1 label=$2 seq=$3 pairs=$4 v want got ok=1 note=""
    for v in $(versions_of "$pairs"); do
        want=$(order_of "$v" "$pairs")
        got=$(awk -v v="$v" '$1 == v { print $2 }' <<< "$seq" | paste -sd' ' -)
        [ "$(wc -w <<< "$want")" -ge 2 ] || continue
        note+="${note:+; }$v: $got"
        [ "$got" = "$want" ] || { ok=0; note+=" (expected $want)"; }
    done
    [ -n "$note" ] || return 0
    check_row "$peer" "$ok" "$(versions_of "$pairs")" "(server order)" "$label: $note"
}

# The table against the standard: B.12/B.13 suites and groups in order (a
# table that lost a suite would otherwise lower what the scanners must see),
# and no X25519 where E5, K3 and M17/Q2 forbid it.
flat() { tr -s ' \n' '  ' <<< "$1" | sed 's/^ //; s/ $//'; }
if [ -n "${SPEC_TLS12[$PROFILE]:-}" ]; then
    for what in "TLS 1.2 suites|$(flat "${SPEC_TLS12[$PROFILE]}")|$(flat "${IX_TLS12[$PROFILE]}")" \
                "TLS 1.3 suites|$(flat "${SPEC_TLS13[$PROFILE]}")|$(flat "${IX_TLS13[$PROFILE]:-}")" \
                "groups|$(flat "${SPEC_GROUPS[$PROFILE]}")|$(flat "$PGROUPS")"; do
        IFS='|' read -r name want got <<< "$what"
        DTP_CHECKS=$((DTP_CHECKS + 1))
        [ "$got" = "$want" ] ||
            dtp_check_fail "--list-profiles: $PROFILE $name '$got', the standard's: '$want'"
    done
fi
if ix_has "$NO_X25519" "$PROFILE"; then
    DTP_CHECKS=$((DTP_CHECKS + 1))
    ! ix_has "$PGROUPS" x25519 ||
        dtp_check_fail "--list-profiles: $PROFILE lists X25519 (groups: $PGROUPS)"
fi

# Each SCP: the strict pair, then (EMS required) the relaxed one.
declare -A ALLV=()
for sc in $(for kind in "${KINDS[@]}"; do echo "$kind:rsa $kind:ec"; done); do
    kind=${sc%:*} cert=${sc#*:}
    id=$(sid "$kind" "$cert") cn="${TAG[$kind]}$cert cert"
    [ "$kind" = strict ] || relaxed_logged "$cert"
    auth=RSA
    [ "$cert" = ec ] && auth=ECDSA
    all_expected=$(ix_expected_pairs "$PROFILE" "$auth")

    # ----------------------------------------------------------- sslscan --
    xml=$DTP_WORK/sslscan-$id.xml txt=$DTP_WORK/sslscan-$id.txt
    if [ ! -s "$xml" ]; then
        check_row sslscan 0 - - "$cn: sslscan wrote no XML: $(tail -n 3 "$txt" | tr '\n' ' ')"
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
        expected=$(scan_expected "$kind" "$all_expected")
        exp_versions=$(versions_of "$expected")
        n_exp=$(grep -c . <<< "$expected" || true)
        ems_refused sslscan "$kind" "$cert" "$got" "$all_expected"
        ok=1 note="$cn: $(grep -c . <<< "$got" || true) of $n_exp expected (version, suite) pairs accepted"
        d=$(diff_note "$expected" "$got")
        [ -z "$d" ] || { ok=0; note+="; $d"; }
        [ "$enabled" = "$exp_versions" ] || { ok=0; note+="; protocols enabled: '$enabled', expected '$exp_versions'"; }
        check_row sslscan "$ok" "$enabled" "$(awk '{print $2}' <<< "$got" | sort -u | paste -sd' ' -)" "$note"
        ALLV[$kind]+=" $enabled"

        # Server order: sslscan finds the suites of a version one by one,
        # each time the server's choice among those left, so it lists them in
        # the server's order.
        seq=$(sed -nE 's/.*<cipher status="(accepted|preferred)" sslversion="([^"]+)".* cipher="([^"]+)".*/\2 \3/p' "$xml" |
              while read -r v s; do
                  [ "$v" = TLSv1.0 ] && v=TLSv1
                  echo "$v ${IX_IANA[$s]:-$s}"
              done)
        check_order sslscan "$cn" "$seq" "$expected"

        # Groups (by IANA ID): TLS 1.3 all of the profile's; TLS 1.2 (sslscan
        # lists curves only) the profile's curves -- with the ECDSA
        # certificate just its own curve P-256, since below TLS 1.3 the
        # client's curve list also limits the curve of the server's
        # certificate (RFC 4492 5.1).
        groups_got=$(sed -nE 's/.*<group sslversion="([^"]+)" bits="([0-9]+)" name="([^"]+)" id="([^"]+)".*/\1|\2|\3|\4/p' "$xml" |
                     while IFS='|' read -r v _ g gid; do echo "$v $(group_of_id "$gid" "$g")"; done | sort -u)
        groups_exp=$(for v in $exp_versions; do
                         for g in $PGROUPS; do
                             if [ "$v" = TLSv1.3 ]; then echo "$v $g"
                             elif [ "$v" = TLSv1.2 ] && [[ $g != ffdhe* ]] &&
                                  grep -q ECDHE <<< "$expected" &&
                                  { [ "$cert" = rsa ] || [ "$g" = secp256r1 ]; }; then echo "$v $g"; fi
                         done
                     done | sort -u)
        ok=1 note="$cn: key exchange groups $(awk '{print $2}' <<< "$groups_got" | sort -u | paste -sd' ' -)"
        d=$(diff_note "$groups_exp" "$groups_got")
        [ -z "$d" ] || { ok=0; note+="; $d"; }
        check_row sslscan "$ok" "$exp_versions" "(groups)" "$note"

        # X25519 (ID 0x001d): what sslscan reports for it where the profile
        # has it (R26), and that it is absent where the profile has not.
        x_lines=$(sed -nE '/<group [^>]*id="0x001[dD]"/ s/.*sslversion="([^"]+)" bits="([0-9]+)" name="([^"]+)".*/\1 \3 (\2 bits)/p' "$xml" | paste -sd, -)
        if ix_has "$PGROUPS" x25519; then
            ok=1
            grep -q '^TLSv1.3 x25519$' <<< "$groups_got" || ok=0
            check_row sslscan "$ok" "$exp_versions" "(X25519)" \
                "$cn: X25519 (0x001d) offered as the table says (R26): sslscan reports ${x_lines:-nothing}"
        else
            ok=1
            [ -z "$x_lines" ] || ok=0
            check_row sslscan "$ok" "$exp_versions" "(no X25519)" \
                "$cn: no X25519 (0x001d) accepted, as the table says (E5, K3, M17/Q2)${x_lines:+; sslscan reports $x_lines}"
        fi

        # TLS_FALLBACK_SCSV: honoured wherever there is a lower version.
        if grep -q 'Server supports TLS Fallback SCSV' "$txt"; then
            check_row sslscan 1 "$exp_versions" "(fallback SCSV)" "$cn: Server supports TLS Fallback SCSV"
        else
            check_row sslscan 0 "$exp_versions" "(fallback SCSV)" \
                "$cn: sslscan: $(grep -A1 'TLS Fallback SCSV:' "$txt" | tail -n 1)"
        fi

        # Renegotiation (RSA certificate; sslscan tests it over TLS 1.0 only).
        if [ "$cert" = rsa ]; then
            reneg=$(sed -nE 's/.*<renegotiation supported="([01])" secure="([01])".*/\1 \2/p' "$xml")
            line=$(grep -A1 'TLS renegotiation:' "$txt" | tail -n 1)
            if [ "$reneg" = "1 1" ]; then
                check_row sslscan 1 TLSv1 "(renegotiation)" "${TAG[$kind]}secure renegotiation supported: '$line'"
            elif ! ix_has "$exp_versions" TLSv1; then
                DTP_CHECKS=$((DTP_CHECKS + 1))
                ix_row sslscan "$PROFILE" "$DIR" peer-fault TLSv1 "(renegotiation)" \
                    "${TAG[$kind]}sslscan says '$line' (XML: supported=${reneg%% *} secure=${reneg##* }): sslscan 2.0.7 tests renegotiation over TLS 1.0 only, which $PROFILE refuses (201 VERSION_REFUSED); s_client -tls1_2 below sees RFC 5746 secure renegotiation"
            else
                check_row sslscan 0 TLSv1 "(renegotiation)" "${TAG[$kind]}sslscan says '$line' although TLS 1.0 is allowed"
            fi
            if grep -q 'OpenSSL version does not support compression' "$txt"; then
                DTP_CHECKS=$((DTP_CHECKS + 1))
                ix_row sslscan "$PROFILE" "$DIR" peer-fault - "(compression)" \
                    "${TAG[$kind]}sslscan cannot test compression: 'OpenSSL version does not support compression' (Debian's build has no zlib); nmap's compressors list below stands in"
            else
                c=$(sed -nE 's/.*<compression supported="([01])".*/\1/p' "$xml")
                check_row sslscan "$([ "$c" = 0 ] && echo 1 || echo 0)" - "(compression)" "${TAG[$kind]}compression supported=${c:-?}"
            fi
        fi
    fi

    # -------------------------------------------------------------- nmap --
    nm=$DTP_WORK/nmap-$id.txt
    got=$(awk '/^\|   (TLSv1(\.[0-3])?|SSLv[23]):/ { v = $2; sub(/:$/, "", v); if (v == "TLSv1.0") v = "TLSv1" }
               /^\|       TLS_/ { s = $2; sub(/^TLS_AKE_WITH_/, "TLS_", s); print v, s }' "$nm" | sort -u)
    if ! grep -q 'ssl-enum-ciphers' "$nm"; then
        check_row nmap 0 - - "$cn: nmap printed no ssl-enum-ciphers result: $(tail -n 3 "$nm" | tr '\n' ' ')"
        continue
    fi
    versions=$(versions_of "$got")
    expected=$(scan_expected "$kind" "$all_expected")
    exp_versions=$(versions_of "$expected")
    n_exp=$(grep -c . <<< "$expected" || true)
    ems_refused nmap "$kind" "$cert" "$got" "$all_expected"
    ok=1 note="$cn: $(grep -c . <<< "$got" || true) of $n_exp expected (version, suite) pairs accepted"
    d=$(diff_note "$expected" "$got")
    [ -z "$d" ] || { ok=0; note+="; $d"; }
    [ "$versions" = "$exp_versions" ] || { ok=0; note+="; versions '$versions', expected '$exp_versions'"; }
    check_row nmap "$ok" "$versions" "$(awk '{print $2}' <<< "$got" | sort -u | paste -sd' ' -)" "$note"
    ALLV[$kind]+=" $versions"
    # nmap lists a version's suites in the server's order ("cipher
    # preference: server").
    seq=$(awk '/^\|   (TLSv1(\.[0-3])?|SSLv[23]):/ { v = $2; sub(/:$/, "", v); if (v == "TLSv1.0") v = "TLSv1" }
               /^\|       TLS_/ { s = $2; sub(/^TLS_AKE_WITH_/, "TLS_", s); print v, s }' "$nm")
    check_order nmap "$cn" "$seq" "$expected"
    # Key exchange: nmap offers every group, so the server picks its first
    # one (server preference): for ECDHE and TLS 1.3 the profile's first
    # (EC) group; a DHE group has 2048+ bits (R29, M15).
    first_ec=
    for g in $PGROUPS; do [[ $g == ffdhe* ]] || { first_ec=$g; break; }; done
    kx=$(awk '/^\|   (TLSv1(\.[0-3])?|SSLv[23]):/ { v = $2; sub(/:$/, "", v) }
              /^\|       TLS_/ { s = $2; k = ""
                                    if (match($0, /\([^)]*\)/)) k = substr($0, RSTART + 1, RLENGTH - 2)
                                    print v, s, k }' "$nm")
    ok=1 bad=() seen=()
    while read -r v s k1 k2; do
        [ -n "$v" ] || continue
        if [[ $s == TLS_AKE_* || $s == TLS_ECDHE_* ]]; then
            g=$(canon_group "$k1")
            seen+=("$g")
            [ "$g" = "$first_ec" ] || bad+=("$v $s: $k1")
        elif [[ $s == TLS_DHE_* ]]; then
            seen+=("dh $k2")
            [ "$k1" = dh ] && [ "${k2:-0}" -ge 2048 ] || bad+=("$v $s: $k1 $k2")
        fi
    done <<< "$kx"
    note="$cn: key exchange seen: $(printf '%s\n' "${seen[@]}" | sort -u | paste -sd' ' -); expected ECDHE/TLS 1.3 group: $first_ec"
    [ ${#bad[@]} -eq 0 ] || { ok=0; note+="; differs: $(printf '%s, ' "${bad[@]}")"; }
    if [ ${#seen[@]} -gt 0 ]; then
        check_row nmap "$ok" "$versions" "(key exchange)" "$note"
    fi
    # Compression (C4): every TLS <= 1.2 section lists only NULL.
    comps=$(awk '/^\|     compressors:/ { c = 1; next } c && /^\|       / { print $2; next } { c = 0 }' "$nm" | sort -u | paste -sd' ' -)
    n12=$(grep -cE '^\|   TLSv1(\.[012])?:' "$nm" || true)
    ncomp=$(grep -c '^|     compressors:' "$nm" || true)
    if [ "$n12" -gt 0 ]; then
        ok=1
        [ "$comps" = NULL ] && [ "$ncomp" = "$n12" ] || ok=0
        check_row nmap "$ok" "$(tr ' ' '\n' <<< "$versions" | grep -v TLSv1.3 | paste -sd' ' - || true)" "(compression)" \
            "$cn: compressors offered by the server: ${comps:-none listed} ($ncomp of $n12 TLS <= 1.2 sections)"
    fi
done

# ------------------------------------------ s_client TLS 1.2 sweep (EMS) --
# At the strict pair of an EMS-requiring profile, where the scanners cannot
# see TLS 1.2 (see above), OpenSSL's s_client, which sends EMS, looks at TLS
# 1.2 of the server as deployed: every suite OpenSSL has with certificate,
# DH or anonymous key exchange, one at a time; then the server's order
# (offer what it accepts, note its choice, take that away, again); then the
# curves one at a time.
SWEEP=()
while read -r iana _ ossl ver kx au _; do
    [ "$ver" != TLSv1.3 ] || continue
    case "${kx#Kx=} ${au#Au=}" in
        "DH "* | "ECDH "* | "RSA "*) ;;
        *) continue ;;
    esac
    SWEEP+=("$iana=$ossl")
done < <(openssl ciphers -stdname -v 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' 2>/dev/null)
# s_client12 CERT OUT ARGS...: one TLS 1.2 handshake with the client
# certificate; prints "SUITE GROUP-LINE" of what was negotiated, or nothing.
s_client12() {
    local cert=$1 outf=$2; shift 2
    timeout -k 2 10 openssl s_client -connect "127.0.0.1:${PORT[$cert]}" -tls1_2 \
        -cert "$PKI/client-rsa.pem" -key "$PKI/client-rsa.key" -CAfile "$PKI/ca.pem" \
        "$@" </dev/null >"$outf" 2>&1 || true
    sed -nE 's/^New, TLSv1\.2, Cipher is (.*)$/\1/p' "$outf" | head -n 1
}
if [ "$EMS_REQ" = 1 ]; then
    pids=()
    for cert in rsa ec; do
        (
            for e in "${SWEEP[@]}"; do
                s=$(s_client12 "$cert" "$DTP_WORK/sweep-$cert.one" -cipher "${e#*=}:@SECLEVEL=0")
                [ -z "$s" ] || [ "$s" = "(NONE)" ] || echo "TLSv1.2 ${IX_IANA[$s]:-$s}"
            done | sort -u > "$DTP_WORK/sweep-$cert.txt"
        ) &
        pids+=("$!")
    done
    for pid in "${pids[@]}"; do wait "$pid" || true; done
    for cert in rsa ec; do
        auth=RSA
        [ "$cert" = ec ] && auth=ECDSA
        exp12=$(ix_expected_pairs "$PROFILE" "$auth" | grep '^TLSv1\.2 ' || true)
        got12=$(cat "$DTP_WORK/sweep-$cert.txt")
        ok=1 note="${TAG[strict]}$cert cert: s_client -tls1_2 (EMS), ${#SWEEP[@]} suites one at a time: $(grep -c . <<< "$got12" || true) accepted"
        d=$(diff_note "$exp12" "$got12")
        [ -z "$d" ] || { ok=0; note+="; $d"; }
        check_row openssl "$ok" TLSv1.2 "$(awk '{print $2}' <<< "$got12" | paste -sd' ' -)" "$note"
        [ -z "$got12" ] || ALLV[strict]+=" TLSv1.2"

        # Server order: the table's, whatever order the client offers in
        # (here the reverse).
        left=$(awk '{print $2}' <<< "$exp12" | tac | paste -sd' ' -) seq=""
        while [ -n "$left" ]; do
            list=$(for x in $left; do printf '%s:' "${IX_OSSL[$x]}"; done)
            s=$(s_client12 "$cert" "$DTP_WORK/order-$cert.out" -cipher "${list%:}:@SECLEVEL=0")
            s=${IX_IANA[$s]:-$s}
            ix_has "$left" "$s" || break
            seq+="TLSv1.2 $s"$'\n'
            left=$(tr ' ' '\n' <<< "$left" | grep -vx -- "$s" | paste -sd' ' - || true)
        done
        check_order openssl "${TAG[strict]}$cert cert" "$seq" "$exp12"

        # Curves at TLS 1.2, one at a time: the profile's (ECDSA
        # certificate: its own curve P-256 only, RFC 4492 5.1); X25519 only
        # where the table has it (R26; E5, K3, M17/Q2).
        cgot=() cexp=() x_note=""
        for g in secp256r1 secp384r1 secp521r1 x25519 x448; do
            if ix_has "$PGROUPS" "$g" && { [ "$cert" = rsa ] || [ "$g" = secp256r1 ]; }; then cexp+=("$g"); fi
            case $g in secp256r1) o=P-256 ;; secp384r1) o=P-384 ;; secp521r1) o=P-521 ;; x25519) o=X25519 ;; *) o=X448 ;; esac
            s=$(s_client12 "$cert" "$DTP_WORK/curve-$cert-$g.out" -groups "$o")
            if [ -n "$s" ] && [ "$s" != "(NONE)" ]; then
                cgot+=("$g")
                [ "$g" != x25519 ] ||
                    x_note="; s_client reports '$(sed -nE 's/^Server Temp Key: //p' "$DTP_WORK/curve-$cert-$g.out" | head -n 1)'"
            fi
        done
        ok=1 note="${TAG[strict]}$cert cert: curves accepted at TLS 1.2: ${cgot[*]:-none}$x_note"
        [ "${cgot[*]:-}" = "${cexp[*]:-}" ] || { ok=0; note+="; expected ${cexp[*]:-none}"; }
        check_row openssl "$ok" TLSv1.2 "(curves)" "$note"
    done
fi

# Per SCP pair, over both certificates: exactly the profile's versions (N1,
# E1, K1: no TLS 1.0/1.1 except under bcp195); at the strict pair of an
# EMS-requiring profile TLS 1.2 from s_client (the scanners cannot see it).
# Then secure renegotiation (C5), as a TLS 1.2 client sees it.
want=$(words "${IX_VERSIONS[$PROFILE]}" | paste -sd' ' -)
for kind in "${KINDS[@]}"; do
    DTP_CHECKS=$((DTP_CHECKS + 1))
    union=$(words "${ALLV[$kind]:-}" | paste -sd' ' -)
    who="the scanners"
    [ "$EMS_REQ" = 0 ] || [ "$kind" = relaxed ] || who="the scanners (TLS 1.2: s_client, EMS)"
    if [ "$union" = "$want" ]; then
        ix_row sslscan+nmap "$PROFILE" "$DIR" pass "${IX_VERSIONS[$PROFILE]}" "(versions, both certs)" \
            "${TAG[$kind]}versions seen by $who equal the profile's: $union"
    else
        dtp_check_fail "${TAG[$kind]}versions seen by $who: '$union', profile: '$want'"
        ix_row sslscan+nmap "$PROFILE" "$DIR" fail "$union" "(versions, both certs)" \
            "UNEXPECTED: ${TAG[$kind]}versions seen by $who: profile allows '$want'"
    fi

    outf=$DTP_WORK/s_client-reneg-$kind.out
    timeout -k 2 15 openssl s_client -connect "127.0.0.1:${PORT[$(sid "$kind" rsa)]}" -tls1_2 \
        -cert "$PKI/client-rsa.pem" -key "$PKI/client-rsa.key" -CAfile "$PKI/ca.pem" \
        </dev/null >"$outf" 2>&1 || true
    if grep -q '^Secure Renegotiation IS supported' "$outf" && grep -q '^Compression: NONE' "$outf"; then
        check_row openssl 1 TLSv1.2 "$(sed -n 's/^ *Cipher *: *//p' "$outf" | head -n 1 | { read -r s; echo "${IX_IANA[$s]:-$s}"; })" \
            "${TAG[$kind]}s_client -tls1_2: 'Secure Renegotiation IS supported' (RFC 5746), 'Compression: NONE'"
    else
        check_row openssl 0 TLSv1.2 - "${TAG[$kind]}s_client -tls1_2: $(grep -E '^(Secure Renegotiation|Compression|New,)' "$outf" | tr '\n' ' ')"
    fi
done

ix_done
