# shellcheck shell=bash
# interop_lib.sh -- helpers shared by the interop tests (interop_*.sh).
# Source it after lib.sh and checks.sh:
#
#     . "$HERE/lib.sh"
#     . "$HERE/checks.sh"
#     . "$HERE/interop_lib.sh"
#     ix_netns "$@"                # only for peers that bind the wildcard address
#     dtp_init interop-NAME
#     ix_results NAME              # $DTP_BUILD_DIR/interop-results/NAME.tsv
#     ix_load_profiles             # expectations from dtp-storescu --list-profiles
#     ...
#     ix_row PEER PROFILE DIRECTION OUTCOME VERSION SUITE NOTE
#
# Result rows (read by scripts/interop-report.sh, which writes docs/interop.md):
#   peer<TAB>profile<TAB>direction<TAB>outcome<TAB>version<TAB>suite<TAB>note
#   direction  peer->dtp-storescp | dtp-storescu->peer | scan->dtp-storescp
#   outcome    pass        connected (or scanned) exactly as the profile says
#              pinned      refused, as the profile says, with the expected reason
#              peer-fault  the peer misbehaves or cannot check this; note = evidence
#              fail        not what the profile says: a bug on our side (the
#                          test fails too)
#   version, suite  negotiated (pass) or offered (pinned/fail); IANA names
# Lines starting with '#' carry metadata: "#peer<TAB>NAME<TAB>VERSION".

if ! declare -F dtp_fail >/dev/null || ! declare -F dtp_check_fail >/dev/null; then
    echo "interop_lib.sh: source lib.sh and checks.sh first" >&2
    exit 1
fi

IX_RESULTS=
IX_ALL_VERSIONS=(TLSv1 TLSv1.1 TLSv1.2 TLSv1.3)

# ix_netns "$@": re-run this script in a private network namespace that has
# only a loopback interface, for peers that cannot be told to bind 127.0.0.1
# (gnutls-serv, Orthanc listen on the wildcard address). Call it before
# dtp_init. Sets IX_NETNS=1 inside; IX_NETNS=0 when no namespace can be made
# (then the caller must not start wildcard listeners).
ix_netns() {
    if [ "${IX_NETNS:-}" = 1 ]; then
        ip link set lo up 2>/dev/null || true
        return 0
    fi
    local flags=-rn
    [ "$(id -u)" = 0 ] && flags=-n
    if command -v unshare >/dev/null 2>&1 && command -v ip >/dev/null 2>&1 &&
       unshare "$flags" true 2>/dev/null; then
        export IX_NETNS=1
        exec unshare "$flags" -- bash "$0" "$@"
    fi
    IX_NETNS=0
    echo "interop: no private network namespace (unshare $flags failed); wildcard listeners are not started" >&2
}

# ix_results NAME: start (empty) this test's result file. Called before the
# test can skip, so a skipped test leaves no stale rows behind (the report
# lists a test without rows as not run). NAME may name a subdirectory
# (SUBDIR/NAME): scripts/interop-report.sh reads the top directory only.
ix_results() {
    : "${DTP_BUILD_DIR:?}"
    IX_RESULTS=$DTP_BUILD_DIR/interop-results/$1.tsv
    mkdir -p "$(dirname "$IX_RESULTS")"
    rm -f "$IX_RESULTS" "$DTP_BUILD_DIR/interop-results/$1".*.md
    : > "$IX_RESULTS"
}

# ix_clean TEXT: one TSV field: no tabs/newlines, no work-dir or build paths.
ix_clean() {
    local s=$1
    s=${s//$'\t'/ }
    s=${s//$'\n'/ }
    [ -z "${DTP_WORK:-}" ] || s=${s//"$DTP_WORK"\//}
    [ -z "${DTP_PKI:-}" ] || s=${s//"$DTP_PKI"\//}
    [ -z "${DTP_DATA:-}" ] || s=${s//"$DTP_DATA"\//}
    printf '%s' "$s"
}

# ix_row PEER PROFILE DIRECTION OUTCOME VERSION SUITE NOTE
ix_row() {
    [ -n "$IX_RESULTS" ] || dtp_fail "ix_row before ix_results"
    local f out=()
    for f in "$@"; do out+=("$(ix_clean "$f")"); done
    [ ${#out[@]} -eq 7 ] || dtp_fail "ix_row needs 7 fields, got ${#out[@]}: $*"
    case ${out[3]} in pass | pinned | peer-fault | fail) ;; *) dtp_fail "ix_row: bad outcome '${out[3]}'" ;; esac
    (IFS=$'\t'; printf '%s\n' "${out[*]}") >> "$IX_RESULTS"
}

# ix_peer NAME VERSION: record which peer version produced the rows.
ix_peer() {
    printf '#peer\t%s\t%s\n' "$(ix_clean "$1")" "$(ix_clean "$2")" >> "$IX_RESULTS"
}

# ix_note NAME MARKDOWN: extra evidence for the report (peer faults), kept
# next to the rows as NAME.<n>.md.
ix_note() {
    local base=${IX_RESULTS%.tsv} n=1
    while [ -e "$base.$n.md" ]; do n=$((n + 1)); done
    ix_clean_md "$2" > "$base.$n.md"
}
ix_clean_md() {
    local s=$1
    [ -z "${DTP_WORK:-}" ] || s=${s//"$DTP_WORK"\//}
    [ -z "${DTP_PKI:-}" ] || s=${s//"$DTP_PKI"\//}
    [ -z "${DTP_DATA:-}" ] || s=${s//"$DTP_DATA"\//}
    printf '%s\n' "$s"
}

# ix_check OK CASE MESSAGE: count a check; record a failure unless OK is 0.
ix_check() {
    DTP_CHECKS=$((DTP_CHECKS + 1))
    [ "$1" = 0 ] || dtp_check_fail "$2: $3"
}

# --------------------------------------------------------- expectations --

# ix_load_profiles [BACKEND]: read the profile table as the tool prints it
# (dtp-storescu --list-profiles), so the expectations follow the table.
# BACKEND (default openssl, the default backend) is the TLS backend of the
# apps under test: a suite counts as available unless its line says
# "[not available with this backend (OpenSSL)]", and for another backend
# "{BACKEND: available}" / "{BACKEND: not offered}" where it differs:
#   IX_BACKEND             BACKEND
#   IX_PROFILES            profile keys in table order
#   IX_VERSIONS[p]         versions the profile allows, e.g. "TLSv1.2 TLSv1.3"
#   IX_TLS12[p]            TLS 1.2 suites available with BACKEND (IANA)
#   IX_TLS12_NA[p]         TLS 1.2 suites of the table BACKEND lacks
#   IX_FALLBACK[p]         fallback suites (downgraded, B2) available with BACKEND
#   IX_FALLBACK_NA[p]      fallback suites BACKEND lacks
#   IX_TLS13[p]            TLS 1.3 suites available with BACKEND
#   IX_TLS13_NA[p]         TLS 1.3 suites BACKEND lacks
#   IX_GROUPS[p]           key exchange groups, IANA names as the table
#                          prints them, e.g. "x25519 secp256r1 ... ffdhe2048"
#                          (an OpenSSL spelling such as P-256 is normalised)
#   IX_EXT[p]              the "extensions:" line, e.g. 'ALPN "dicom", SNI
#                          sent for DNS names, EMS required (TLS 1.2)'
#   IX_CERTS[p]            the "certificates:" line (leaf or whole chain)
#   IX_SIGALGS[p]          the "signature algorithms:" line: IANA scheme
#                          names joined by ':' (B.12/B.13), or prose
declare -A IX_VERSIONS=() IX_TLS12=() IX_TLS12_NA=() IX_FALLBACK=() IX_FALLBACK_NA=() IX_TLS13=() IX_TLS13_NA=()
declare -A IX_GROUPS=() IX_EXT=() IX_CERTS=() IX_SIGALGS=()
IX_PROFILES=()
IX_BACKEND=openssl
# shellcheck disable=SC2034  # the sourcing scripts read these tables
ix_load_profiles() {
    : "${DTP_BIN:?}"
    local list p kind value lo hi v on g
    IX_BACKEND=${1:-openssl}
    list=$("$DTP_BIN/dtp-storescu" --list-profiles 2>&1) ||
        dtp_fail "dtp-storescu --list-profiles failed: $list"
    # A backend other than the default must have its own column (a typo
    # would otherwise read as "same as OpenSSL").
    [ "$IX_BACKEND" = openssl ] || [[ $list == *"{$IX_BACKEND: "* ]] ||
        dtp_fail "--list-profiles has no availability column for backend '$IX_BACKEND'"
    while IFS=$'\t' read -r p kind value; do
        case $kind in
            profile) IX_PROFILES+=("$p") ;;
            range)
                read -r lo hi <<< "$value"
                on=0
                for v in "${IX_ALL_VERSIONS[@]}"; do
                    [ "$v" = "$lo" ] && on=1
                    [ "$on" = 1 ] && IX_VERSIONS[$p]+="${IX_VERSIONS[$p]:+ }$v"
                    [ "$v" = "$hi" ] && on=0
                done ;;
            tls12) IX_TLS12[$p]+="${IX_TLS12[$p]:+ }$value" ;;
            tls12na) IX_TLS12_NA[$p]+="${IX_TLS12_NA[$p]:+ }$value" ;;
            fallback) IX_FALLBACK[$p]+="${IX_FALLBACK[$p]:+ }$value" ;;
            fallbackna) IX_FALLBACK_NA[$p]+="${IX_FALLBACK_NA[$p]:+ }$value" ;;
            tls13) IX_TLS13[$p]+="${IX_TLS13[$p]:+ }$value" ;;
            tls13na) IX_TLS13_NA[$p]+="${IX_TLS13_NA[$p]:+ }$value" ;;
            groups)
                IX_GROUPS[$p]=
                for g in ${value//:/ }; do
                    IX_GROUPS[$p]+="${IX_GROUPS[$p]:+ }$(ix_iana_group "$g")"
                done ;;
            extensions) IX_EXT[$p]=$value ;;
            certificates) IX_CERTS[$p]=$value ;;
            signature) IX_SIGALGS[$p]=$value ;;
        esac
    done < <(awk -v be="$IX_BACKEND" '
        function available(line) {
            if (be != "openssl" && index(line, "{" be ": available}")) return 1
            if (be != "openssl" && index(line, "{" be ": not offered}")) return 0
            return line !~ /not available with this backend/
        }
        /^DICOM TLS profiles/ { inp = 1; next }
        /^Retired profiles/ { inp = 0 }
        !inp { next }
        /^  [a-z0-9-]+: / { p = $1; sub(/:$/, "", p); print p "\tprofile\t"; sec = ""; next }
        /^    versions: / { print p "\trange\t" $2 " " $4; sec = ""; next }
        /^    TLS 1\.2 suites:/ { sec = "tls12"; next }
        /^    fallback suites/ { sec = "fallback"; next }
        /^    TLS 1\.3 suites:/ { sec = ($0 ~ /none/) ? "" : "tls13"; next }
        /^    groups: / { print p "\tgroups\t" $2; sec = ""; next }
        /^    (extensions|certificates|signature algorithms): / {
            k = $1; sub(/:$/, "", k); v = $0; sub(/^    [a-z ]+: /, "", v)
            print p "\t" k "\t" v; sec = ""; next }
        /^    [a-z]/ { sec = ""; next }
        /^      TLS_/ && sec != "" {
            print p "\t" sec (available($0) ? "" : "na") "\t" $1 }' <<< "$list")
    [ ${#IX_PROFILES[@]} -ge 4 ] || dtp_fail "could not parse --list-profiles:
$list"
    for p in "${IX_PROFILES[@]}"; do
        if [ -z "${IX_VERSIONS[$p]:-}" ] || [ -z "${IX_TLS12[$p]:-}" ]; then
            dtp_fail "could not parse versions/suites of $p from --list-profiles"
        fi
    done
}

# ix_iana_group NAME: the IANA (RFC 8446/7919) name of a key exchange group
# given in IANA or OpenSSL spelling: P-256 / prime256v1 -> secp256r1,
# X25519 -> x25519, FFDHE2048 -> ffdhe2048 ...
ix_iana_group() {
    case $1 in
        P-192 | prime192v1) echo secp192r1 ;;
        P-224) echo secp224r1 ;;
        P-256 | prime256v1) echo secp256r1 ;;
        P-384) echo secp384r1 ;;
        P-521) echo secp521r1 ;;
        *) echo "${1,,}" ;;
    esac
}

# ix_ossl_groups LIST: a ':'-separated list of IANA group names as
# `openssl s_client/s_server -groups` takes it: OpenSSL's own spellings
# (P-256, X25519; its NIST aliases also exist in OpenSSL 1.1.1), IANA
# names it knows as they are (secp256k1, ffdhe2048).
ix_ossl_groups() {
    local g out=()
    for g in ${1//:/ }; do
        case $g in
            secp192r1) out+=(P-192) ;; secp224r1) out+=(P-224) ;;
            secp256r1) out+=(P-256) ;; secp384r1) out+=(P-384) ;;
            secp521r1) out+=(P-521) ;; x25519) out+=(X25519) ;; x448) out+=(X448) ;;
            *) out+=("$g") ;;
        esac
    done
    (IFS=:; printf '%s\n' "${out[*]}")
}

# ix_has LIST WORD: WORD is one of the space-separated LIST.
ix_has() { [[ " $1 " == *" $2 "* ]]; }

# ix_in_groups PROFILE GROUP: GROUP as our apps log it ("x25519/255bits",
# "secp256r1", "DH/2048bits") is one of the profile's groups, whichever
# spelling the table uses (IANA or OpenSSL's P-256/X25519); a TLS 1.2 DHE
# group ("DH", no name) must have 2048+ bits (R29, M15).
ix_in_groups() {
    local g bits=${2#*/}
    bits=${bits%bits}
    if [ "${2%%/*}" = DH ]; then
        [[ $bits =~ ^[0-9]+$ ]] && [ "$bits" -ge 2048 ]
        return
    fi
    for g in ${IX_GROUPS[$1]:-}; do
        case $g in P-256) g=secp256r1 ;; P-384) g=secp384r1 ;; P-521) g=secp521r1 ;; *) g=${g,,} ;; esac
        [ "$g" = "${2%%/*}" ] && return 0
    done
    return 1
}

# ix_known_profile P: fail unless P is in the table.
ix_known_profile() {
    ix_has "${IX_PROFILES[*]}" "$1" || dtp_fail "unknown profile '$1' (table: ${IX_PROFILES[*]})"
}

# ix_start_scps PROFILE: one dtp-storescp --profile PROFILE per certificate
# type (server-rsa, server-ec), client certificates required, on
# 127.0.0.1:${IX_SCP_PORT[rsa|ec]}; logs $DTP_WORK/scp-rsa.log / scp-ec.log,
# output directories $DTP_WORK/out-rsa / out-ec. IX_SCP_END matches the
# outcome line each association logs.
declare -A IX_SCP_PORT=()
# shellcheck disable=SC2034 # read by the tests that call ix_start_scps
IX_SCP_END='association from 127\.0\.0\.1:[0-9]+: (TLS TLSv|A-P-ABORT, provider reason )'
ix_start_scps() {
    local profile=${1:?ix_start_scps PROFILE} cert
    for cert in rsa ec; do
        IX_SCP_PORT[$cert]=$(dtp_free_port)
        mkdir -p "$DTP_WORK/out-$cert"
        dtp_start "scp-$cert" "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 --profile "$profile" \
            +tls "$DTP_PKI/server-$cert.key" "$DTP_PKI/server-$cert.pem" +cf "$DTP_PKI/ca.pem" \
            --handshake-timeout 5 -od "$DTP_WORK/out-$cert" -v "${IX_SCP_PORT[$cert]}"
    done
    for cert in rsa ec; do
        dtp_wait_port "${IX_SCP_PORT[$cert]}" 127.0.0.1 10 ||
            dtp_fail "dtp-storescp ($cert) did not listen on 127.0.0.1:${IX_SCP_PORT[$cert]}"
    done
}

# ---------------------------------------------------- OpenSSL suite names --

# ix_load_openssl_names: IANA <-> OpenSSL names and properties of every suite
# the local OpenSSL knows (TLS 1.3 suites have the same name in both):
#   IX_OSSL[iana]=openssl-name  IX_IANA[openssl-name]=iana
#   IX_MINVER[iana]=SSLv3|TLSv1|TLSv1.2|TLSv1.3  IX_AUTH[iana]=RSA|ECDSA|any|...
declare -A IX_OSSL=() IX_IANA=() IX_MINVER=() IX_AUTH=()
# shellcheck disable=SC2034  # the sourcing scripts read these tables
ix_load_openssl_names() {
    local iana ossl ver au
    while read -r iana _ ossl ver _ au _; do
        IX_OSSL[$iana]=$ossl
        IX_IANA[$ossl]=$iana
        IX_MINVER[$iana]=$ver
        IX_AUTH[$iana]=${au#Au=}
    done < <(openssl ciphers -stdname -v 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' 2>/dev/null)
    for iana in TLS_AES_128_CCM_SHA256 TLS_AES_128_CCM_8_SHA256; do
        IX_OSSL[$iana]=$iana IX_IANA[$iana]=$iana IX_MINVER[$iana]=TLSv1.3 IX_AUTH[$iana]=any
    done
    [ -n "${IX_OSSL[TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]:-}" ] ||
        dtp_fail "openssl ciphers -stdname gave no suite names"
}

# ix_version_rank V: 1..4 for TLSv1..TLSv1.3 (SSLv3 = 0).
ix_version_rank() {
    case $1 in SSLv3) echo 0 ;; TLSv1) echo 1 ;; TLSv1.1) echo 2 ;; TLSv1.2) echo 3 ;; TLSv1.3) echo 4 ;; *) echo 9 ;; esac
}

# ix_ossl_version_opt V: the s_client/s_server option for version V.
ix_ossl_version_opt() {
    case $1 in TLSv1) echo -tls1 ;; TLSv1.1) echo -tls1_1 ;; TLSv1.2) echo -tls1_2 ;; TLSv1.3) echo -tls1_3 ;; esac
}

# ix_usable SUITE VERSION: the suite can be negotiated at VERSION (its
# minimum version is VERSION or lower; TLS 1.3 suites only at TLS 1.3).
ix_usable() {
    local min=${IX_MINVER[$1]:-}
    [ -n "$min" ] || return 1
    if [ "$min" = TLSv1.3 ] || [ "$2" = TLSv1.3 ]; then
        [ "$min" = "$2" ]
    else
        [ "$(ix_version_rank "$min")" -le "$(ix_version_rank "$2")" ]
    fi
}

# ix_expected_pairs PROFILE AUTH: "VERSION SUITE" lines a server of PROFILE
# with an AUTH (RSA|ECDSA) certificate must accept, from the table alone.
ix_expected_pairs() {
    local p=$1 auth=$2 v s a
    for v in ${IX_VERSIONS[$p]}; do
        if [ "$v" = TLSv1.3 ]; then
            for s in ${IX_TLS13[$p]:-}; do echo "$v $s"; done
            continue
        fi
        for s in ${IX_TLS12[$p]:-} ${IX_FALLBACK[$p]:-}; do
            a=${IX_AUTH[$s]:-}
            [ "$a" = "$auth" ] || continue
            ix_usable "$s" "$v" && echo "$v $s"
        done
    done | sort -u
}

# ix_downgraded PROFILE VERSION SUITE: the association must be flagged (B6).
ix_downgraded() {
    local p=$1 v=$2 s=$3
    [ "$(ix_version_rank "$v")" -lt 3 ] && return 0
    ix_has "${IX_FALLBACK[$p]:-}" "$s"
}

# ix_scu_refusal OUT: what dtp-storescu's output OUT says about a refused
# association: its reason in IX_REASON ("209 PEER_ALERT") and the peer's
# alert in IX_ALERT ("peer sent fatal alert 40 handshake_failure"); each
# empty if OUT has none.
ix_scu_refusal() {
    IX_REASON=$(sed -nE 's/^E: association failed: A-P-ABORT, provider reason ([0-9]+) ([A-Z_]+):.*/\1 \2/p' "$1" | head -n 1)
    IX_ALERT=$(grep -Eo 'peer sent fatal alert [0-9]+ [a-z_]+' "$1" | head -n 1 || true)
}

# ix_expect_peer_refused OUT RC TLS: dtp-storescu (output OUT, exit code RC,
# TLS line TLS, empty if none) must have been refused by the peer's
# handshake_failure alert: no handshake, exit 4, reason 209 PEER_ALERT.
# Sets IX_REASON and IX_ALERT (ix_scu_refusal) and appends every mismatch
# to the caller's array why.
ix_expect_peer_refused() {
    ix_scu_refusal "$1"
    [ -z "$3" ] || why+=("a handshake completed: $3")
    [ "$2" = 4 ] || why+=("exit $2, expected 4")
    [ "$IX_REASON" = "209 PEER_ALERT" ] && [[ $IX_ALERT == *handshake_failure* ]] ||
        why+=("reason '${IX_REASON:-none}' (${IX_ALERT:-no alert}), expected 209 PEER_ALERT (handshake_failure)")
}

# ix_done: last call of a test: a sanitizer report in any log or output of
# our apps (ASan/UBSan builds) is a failure too; then dtp_checks_done.
ix_done() {
    local hits
    DTP_CHECKS=$((DTP_CHECKS + 1))
    hits=$(grep -rlE 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error: ' \
               --include='*.log' --include='*.out' "$DTP_WORK" 2>/dev/null | head -n 5 || true)
    [ -z "$hits" ] || dtp_check_fail "sanitizer report in: $(tr '\n' ' ' <<< "${hits//"$DTP_WORK"\//}")"
    dtp_checks_done
}
