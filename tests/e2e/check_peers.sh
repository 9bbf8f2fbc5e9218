#!/bin/bash
# check_peers.sh PEER -- dtp-check against TLS servers nobody here wrote:
# PEER is one of
#   openssl   openssl s_server (OpenSSL 3.0)
#   gnutls    gnutls-serv (GnuTLS 3.7)
#   dcmtk     stock DCMTK 3.6.7 storescp +tls, with +px / +py / +pz
#   orthanc   Orthanc 1.10.1's DICOM TLS port
# Each case starts the peer on 127.0.0.1 (a port from dtp_free_port) with
# one configuration, grades it with one dtp-check run over every profile
# (--json), and asserts on the JSON (jq, never the text table):
#   - a planted violation (TLS 1.1 enabled, a CBC suite, a 1024-bit DH
#     group, a SHA-1-signed or RSA-1024 server certificate, no client
#     certificate requested, ...) is named: a requirement whose ID (one
#     token of the row's "A/B" ID) is the expected one fails at the
#     expected level ("shall", or "should" where the rule is a should),
#     with evidence matching the plant -- and that same finding is absent
#     from the peer's baseline configuration, so it is the plant's doing;
#   - a clean configuration is graded conforming (for OpenSSL and GnuTLS:
#     with no warning either);
#   - where the JSON's verdict is asserted, `dtp-check --profile P` exits
#     with it too (0 conforms, 2 does not);
#   - stock storescp and Orthanc answer dtp-check's C-ECHO (.echo.outcome
#     "accepted"); OpenSSL and GnuTLS speak no DICOM (--no-echo).
# Every case prints its verdict table, one line per profile:
#   "PEER CONFIG: profile -> verdict (fail: IDs; warn: IDs)"
# and dtp-check's scan time (.seconds); the same lines go to
# $DTP_BUILD_DIR/check-peers/PEER.txt.
#
# What cannot be planted, and why:
#   - TLS compression: Debian's OpenSSL 3.0 is built without zlib, GnuTLS
#     3.6+ removed compression (COMP-NULL only), DCMTK and Orthanc use that
#     OpenSSL. dtp-check's DEFLATE probe is graded (R34, "compression off").
#   - Orthanc 1.10.1 has no DICOM TLS version or cipher option (its
#     Ssl* options are for HTTPS): its DCMTK BCP195 setup (TLS 1.0 to 1.3,
#     TLS_RSA_WITH_AES_128_CBC_SHA as fallback) is graded as it is.
#     "DicomTlsRemoteCertificateRequired": false still requests a client
#     certificate (DCMTK's --verify-peer-cert), which dtp-check reads as
#     meeting R44/M38 ("requested but optional"): pinned as such.
#   - DCMTK under +pz refuses a DH parameter file below 2048 bits ("unable
#     to load temporary DH parameter file ..., ignoring"): that case pins the
#     refusal and the conforming grade.
#
# gnutls-serv, storescp and Orthanc listen on every address, so the script
# runs in a private network namespace with only a loopback interface where
# one can be made (unshare -n); gnutls-serv and Orthanc skip without one,
# storescp then runs on the host's loopback as interop_dcmtk.sh does.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/checks.sh"
. "$HERE/interop_lib.sh"

usage() { echo "usage: $0 openssl|gnutls|dcmtk|orthanc" >&2; exit 1; }
[ $# -eq 1 ] || usage
PEER=$1
case $PEER in openssl | gnutls | dcmtk | orthanc) ;; *) usage ;; esac
case $PEER in gnutls | dcmtk | orthanc) ix_netns "$@" ;; esac
dtp_init "check-peers-$PEER"
: "${DTP_BIN:?}" "${DTP_PKI:?}"
dtp_need_cmd jq timeout setsid
PKI=$DTP_PKI
[ -x "$DTP_BIN/dtp-check" ] || dtp_fail "no dtp-check in $DTP_BIN"
for f in ca.pem server-rsa.pem server-rsa.key server-ec.pem server-ec.key client-rsa.pem \
         client-rsa.key sha1-server-rsa.pem rsa1024-server.pem dh1024.pem; do
    [ -f "$PKI/$f" ] || dtp_fail "PKI fixture $PKI/$f missing"
done
export DTP_CMD_TIMEOUT=60       # one dtp-check run (probes: 3 s each at most)
T0=$SECONDS

CHECK=("$DTP_BIN/dtp-check" --no-progress +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem")
ECHO=()             # --no-echo for peers that speak no DICOM
BASE=               # the case whose findings the plants are compared with
CASE='' CONFIG='' PORT=''
declare -A WANT_RC=()   # profile -> exit code `dtp-check --profile` must give
SUMMARY=
if [ -n "${DTP_BUILD_DIR:-}" ]; then
    mkdir -p "$DTP_BUILD_DIR/check-peers"
    SUMMARY=$DTP_BUILD_DIR/check-peers/$PEER.txt
    : > "$SUMMARY"
fi

# say LINE: print LINE, and keep it in the summary file.
say() {
    printf '%s\n' "$1"
    [ -z "$SUMMARY" ] || printf '%s\n' "$1" >> "$SUMMARY"
}

# ---------------------------------------------------------------- a case --
# case_begin NAME CONFIG DESCRIPTION: a new case (NAME: file names; CONFIG:
# the short label the lines print, e.g. "+py +dp dh1024").
case_begin() {
    CASE=$1 CONFIG=$2 PORT=''
    WANT_RC=()
    say ""
    say "== $PEER $CONFIG: $3"
}

# scan: grade 127.0.0.1:$PORT with every profile; JSON in $DTP_WORK/CASE.json.
# Prints the verdict table and the scan time. 1 if there is no usable JSON.
scan() {
    local json=$DTP_WORK/$CASE.json t0=$EPOCHREALTIME t1 wall line
    rm -f "$json"
    dtp_run_rc "$CASE" 0 "${CHECK[@]}" "${ECHO[@]}" --json "$json" 127.0.0.1 "$PORT"
    t1=$EPOCHREALTIME
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    DTP_CHECKS=$((DTP_CHECKS + 1))
    if [ ! -s "$json" ] || ! jq -e '.profiles | length > 0' "$json" >/dev/null 2>&1; then
        dtp_check_fail "$CASE: dtp-check wrote no usable JSON ($json)"
        return 1
    fi
    say "$(jq -r --arg pre "$PEER $CONFIG" --arg wall "$wall" '
        "\($pre): scan: \(.probes | length) probes in \(.seconds) s (dtp-check run \($wall) s); C-ECHO \(.echo.outcome)" +
        (if .echo.outcome == "skipped" then " (--no-echo)" else " under \(.echo.profile): \(.echo.detail)" end)' "$json")"
    while IFS= read -r line; do say "$line"; done < <(jq -r --arg pre "$PEER $CONFIG" '
        .profiles[] |
        ([.requirements[] | select(.ok | not) | select(.level == "shall") | .id] | unique | join(" ")) as $f |
        ([.requirements[] | select(.ok | not) | select(.level == "should") | .id] | unique | join(" ")) as $w |
        "\($pre): \(.profile) -> \(.verdict)" +
        (if $f == "" and $w == "" then "" else
            " (" + ([if $f != "" then "fail: " + $f else empty end,
                     if $w != "" then "warn: " + $w else empty end] | join("; ")) + ")" end)' "$json")
}

# _finding JSON PROFILE ID LEVEL OK [REGEX]: print the evidence of the first
# requirement of PROFILE with ID among the '/'-separated tokens of its ID, at
# LEVEL, with ok == OK and evidence matching REGEX (jq test; any if empty);
# 1 if there is none.
_finding() {
    jq -er --arg p "$2" --arg id "$3" --arg lv "$4" --argjson ok "$5" --arg re "${6:-}" '
        [.profiles[] | select(.profile == $p) | .requirements[] |
         select(.ok == $ok and .level == $lv and (.id | split("/") | index($id) != null)) |
         select($re == "" or (.evidence | test($re))) | "\(.id): \(.evidence)"] |
        if length > 0 then .[0] else null end' "$1" 2>/dev/null
}

# _failed_here PROFILE: the failed requirements of PROFILE in this case's
# JSON, for a message.
_failed_here() {
    jq -r --arg p "$1" '[.profiles[] | select(.profile == $p) | .requirements[] | select(.ok | not) |
        "\(.id) (\(.level))"] | unique | join(", ") | if . == "" then "none" else . end' "$DTP_WORK/$CASE.json"
}

# expect_fail PROFILE ID LEVEL [REGEX]: graded as PROFILE, requirement ID
# fails at LEVEL (evidence matching REGEX), and does not in the baseline.
expect_fail() {
    local p=$1 id=$2 lv=$3 re=${4:-} json=$DTP_WORK/$CASE.json ev base
    DTP_CHECKS=$((DTP_CHECKS + 1))
    [ -s "$json" ] || { dtp_check_fail "$CASE: no JSON to look for $id"; return 0; }
    if ! ev=$(_finding "$json" "$p" "$id" "$lv" false "$re"); then
        dtp_check_fail "$CASE ($CONFIG): graded as $p, expected $id to fail at level $lv${re:+ with evidence /$re/}; failed there: $(_failed_here "$p")"
        return 0
    fi
    say "  expected: $p names $id ($lv): $ev"
    [ "$lv" = shall ] && WANT_RC[$p]=2
    if [ -n "$BASE" ] && [ "$BASE" != "$CASE" ]; then
        base=$DTP_WORK/$BASE.json
        DTP_CHECKS=$((DTP_CHECKS + 1))
        if [ ! -s "$base" ]; then
            dtp_check_fail "$CASE: baseline $BASE has no JSON to compare $id with"
        elif ev=$(_finding "$base" "$p" "$id" "$lv" false "$re"); then
            dtp_check_fail "$CASE ($CONFIG): $p's $id finding is in the baseline ($BASE) too, so not the plant's: $ev"
        fi
    fi
}

# expect_pass PROFILE ID LEVEL REGEX: requirement ID of PROFILE is met at
# LEVEL, with evidence matching REGEX (a reading of the grader's, pinned).
expect_pass() {
    local p=$1 id=$2 lv=$3 re=$4 ev
    DTP_CHECKS=$((DTP_CHECKS + 1))
    if ev=$(_finding "$DTP_WORK/$CASE.json" "$p" "$id" "$lv" true "$re"); then
        say "  expected: $p meets $id ($lv): $ev"
    else
        dtp_check_fail "$CASE ($CONFIG): graded as $p, expected $id ($lv) met with evidence /$re/; failed there: $(_failed_here "$p")"
    fi
}

# expect_conforms PROFILE [clean]: graded as PROFILE, the server conforms
# (with "clean": without a warning either).
expect_conforms() {
    local p=$1 clean=${2:-} got
    DTP_CHECKS=$((DTP_CHECKS + 1))
    got=$(jq -r --arg p "$p" '.profiles[] | select(.profile == $p) | "\(.conforms) \(.warnings)"' "$DTP_WORK/$CASE.json" 2>/dev/null || true)
    if [ "${got% *}" != true ]; then
        dtp_check_fail "$CASE ($CONFIG): expected to conform to $p; failed there: $(_failed_here "$p")"
    elif [ "$clean" = clean ] && [ "${got#* }" != 0 ]; then
        dtp_check_fail "$CASE ($CONFIG): expected to conform to $p without warnings; warnings: $(_failed_here "$p")"
    else
        say "  expected: conforms to $p${clean:+ (no warning)}"
    fi
    WANT_RC[$p]=0
}

# expect_echo OUTCOME: dtp-check's C-ECHO ended so (.echo.outcome).
expect_echo() {
    local got
    DTP_CHECKS=$((DTP_CHECKS + 1))
    got=$(jq -r '.echo.outcome' "$DTP_WORK/$CASE.json" 2>/dev/null || true)
    if [ "$got" = "$1" ]; then
        say "  expected: C-ECHO $1"
    else
        dtp_check_fail "$CASE ($CONFIG): C-ECHO $got, expected $1: $(jq -r '.echo.detail' "$DTP_WORK/$CASE.json" 2>/dev/null || true)"
    fi
}

# case_end: `dtp-check --profile P` exits with the verdict asserted above
# for each P (0 conforms, 2 does not), then the peer is stopped (also when
# it never started or the scan failed: nothing asserted then).
case_end() {
    local p
    for p in "${!WANT_RC[@]}"; do
        dtp_run_rc "$CASE-profile-$p" "${WANT_RC[$p]}" "${CHECK[@]}" --no-echo --profile "$p" 127.0.0.1 "$PORT"
    done
    dtp_stop_all
}

# listening NAME [SECONDS]: wait (bounded, default 10 s) until the peer of
# this case listens on $PORT; a check (case_end stops the peer either way).
listening() {
    DTP_CHECKS=$((DTP_CHECKS + 1))
    dtp_wait_port "$PORT" 127.0.0.1 "${2:-10}" && return 0
    dtp_check_fail "$CASE: $1 did not listen on 127.0.0.1:$PORT
$(tail -n 8 "$DTP_WORK/$CASE.log" 2>/dev/null | dtp_quote)"
    return 1
}

# ================================================================ openssl ==
run_openssl() {
    dtp_need_cmd openssl
    say "peer: $(openssl version)"
    ECHO=(--no-echo)
    # Both certificates (RSA and ECDSA), TLS 1.2 and 1.3, ALPN "dicom" (R39),
    # client certificate required (R44), server preference (R24/R25),
    # extended master secret on (OpenSSL's default, R36), security level 2
    # (no SHA-1 signatures, R32).
    local certs=(-cert "$PKI/server-rsa.pem" -key "$PKI/server-rsa.key"
                 -dcert "$PKI/server-ec.pem" -dkey "$PKI/server-ec.key")
    local common=(-min_protocol TLSv1.2 -serverpref -alpn dicom)
    local verify=(-Verify 1 -CAfile "$PKI/ca.pem")
    # B.12: exactly the four RFC 9325 suites (R21) and OpenSSL's TLS 1.3
    # three (R28); X25519 and P-256 (R26), P-384.
    local b12=ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256
    local b12_13=TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256
    local b12_groups=X25519:P-256:P-384
    # B.13: the ten M21 suites OpenSSL has (no Camellia-GCM in OpenSSL), the
    # five TLS 1.3 suites (M18), no X25519 (M17).
    local b13=ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES256-CCM:ECDHE-ECDSA-AES256-CCM8:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-CCM:ECDHE-ECDSA-AES128-CCM8
    local b13_13=TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256
    local b13_groups=P-256:P-384
    # Where security level 0 is needed (TLS 1.1, a SHA-1-signed certificate),
    # the handshake signatures stay SHA-256/384, so no SHA-1 signature is
    # planted along with it.
    local sigalgs=ECDSA+SHA256:ECDSA+SHA384:RSA-PSS+SHA256:RSA-PSS+SHA384:RSA+SHA256:RSA+SHA384

    # s_server NAME ARGS...: start openssl s_server for this case.
    s_server() {
        PORT=$(dtp_free_port)
        dtp_start "$CASE" openssl s_server -accept "127.0.0.1:$PORT" -quiet "$@"
        listening "openssl s_server"
    }

    BASE='clean-b12'
    case_begin clean-b12 clean-b12 "TLS 1.2+1.3, the 4 RFC 9325 suites, OpenSSL's 3 TLS 1.3 suites, RSA+ECDSA certificates, -Verify 1, ALPN dicom"
    if s_server "${certs[@]}" "${common[@]}" "${verify[@]}" -cipher "$b12" -ciphersuites "$b12_13" -groups "$b12_groups" && scan; then
        expect_conforms bcp195-8996 clean
    fi
    case_end

    case_begin clean-b13 clean-b13 "TLS 1.2+1.3, the 10 M21 suites OpenSSL has, the 5 TLS 1.3 suites, P-256/P-384, RSA+ECDSA certificates, -Verify 1"
    if s_server "${certs[@]}" "${common[@]}" "${verify[@]}" -cipher "$b13" -ciphersuites "$b13_13" -groups "$b13_groups" && scan; then
        expect_conforms bcp195-8996-mod clean
    fi
    case_end

    case_begin tls11 tls1.1 "clean-b12 + TLS 1.1 enabled (-min_protocol TLSv1.1, ECDHE-RSA-AES128-SHA, @SECLEVEL=0)"
    if s_server "${certs[@]}" "${common[@]}" "${verify[@]}" -min_protocol TLSv1.1 -sigalgs "$sigalgs" \
            -cipher "$b12:ECDHE-RSA-AES128-SHA:@SECLEVEL=0" -ciphersuites "$b12_13" -groups "$b12_groups" && scan; then
        expect_fail bcp195-nd N1 shall 'TLSv1\.1 accepted'
        expect_fail bcp195-8996 R8 shall 'TLSv1\.1 accepted'
    fi
    case_end

    case_begin cbc cbc "clean-b13 + a CBC suite at TLS 1.2 (ECDHE-RSA-AES128-SHA)"
    if s_server "${certs[@]}" "${common[@]}" "${verify[@]}" -cipher "$b13:ECDHE-RSA-AES128-SHA" \
            -ciphersuites "$b13_13" -groups "$b13_groups" && scan; then
        expect_fail bcp195-8996-mod M26 shall 'AES_128_CBC_SHA accepted'
        expect_fail bcp195-8996 R22 should 'AES_128_CBC_SHA accepted'
        expect_conforms bcp195-8996
    fi
    case_end

    case_begin dh1024 dh1024 "clean-b12 + DHE-RSA AES-GCM suites with a 1024-bit DH group (-dhparam dh1024.pem, @SECLEVEL=1)"
    if s_server "${certs[@]}" "${common[@]}" "${verify[@]}" -dhparam "$PKI/dh1024.pem" \
            -cipher "$b12:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:@SECLEVEL=1" \
            -ciphersuites "$b12_13" -groups "$b12_groups" && scan; then
        expect_fail bcp195-ex E5 shall 'DH group has 1024 bits'
        expect_fail bcp195 B5 should 'DH group has 1024 bits'
        expect_conforms bcp195
        expect_fail bcp195-8996 R29 shall 'DH group has 1024 bits'
    fi
    case_end

    # (RSA certificate only: with two certificates dtp-check checks the chain
    # of its preferred probe only, which may be the ECDSA one.)
    case_begin sha1-cert sha1-cert "clean-b12 with only a SHA-1-signed RSA certificate (sha1-server-rsa.pem, @SECLEVEL=0)"
    if s_server -cert "$PKI/sha1-server-rsa.pem" -key "$PKI/sha1-server-rsa.key" "${common[@]}" "${verify[@]}" \
            -sigalgs "$sigalgs" -cipher "$b12:@SECLEVEL=0" -ciphersuites "$b12_13" -groups "$b12_groups" && scan; then
        expect_fail bcp195-8996 R32 shall 'signed with SHA1'
        expect_fail bcp195-8996-mod M31 shall 'signed with SHA1'
    fi
    case_end

    case_begin no-client-cert no-client-cert "clean-b12 without -Verify (no client certificate requested)"
    if s_server "${certs[@]}" "${common[@]}" -cipher "$b12" -ciphersuites "$b12_13" -groups "$b12_groups" && scan; then
        expect_fail bcp195-8996 R44 should 'never requested'
        expect_conforms bcp195-8996
    fi
    case_end
    say ""
    say "$PEER compression: not plantable (Debian's OpenSSL 3.0 has no zlib); graded: $(
        _finding "$DTP_WORK/clean-b12.json" bcp195-8996 R34 should true || echo 'no R34 row')"
}

# ================================================================= gnutls ==
run_gnutls() {
    dtp_need_cmd gnutls-serv gnutls-cli
    [ "$IX_NETNS" = 1 ] ||
        dtp_skip "gnutls-serv listens on every address; no private network namespace (unshare -n) to keep it on loopback"
    say "peer: $(gnutls-serv --version 2>&1 | head -n 1)"
    ECHO=(--no-echo)
    # B.12: TLS 1.2 + 1.3; TLS 1.2: exactly the four RFC 9325 suites (the
    # two ECDSA ones need an ECDSA certificate: not applicable here); TLS
    # 1.3: AES-128/256-GCM (a cipher keyword is shared by both versions in
    # GnuTLS, so ChaCha20 would add a TLS 1.2 suite B.12 does not list);
    # SHA-256/384 signatures only; X25519, P-256, P-384; EMS is GnuTLS's
    # default.
    local b12='NONE:+VERS-TLS1.3:+VERS-TLS1.2:+ECDHE-RSA:+ECDHE-ECDSA:+AES-128-GCM:+AES-256-GCM:+AEAD'
    b12+=':+SIGN-RSA-SHA256:+SIGN-RSA-SHA384:+SIGN-RSA-PSS-RSAE-SHA256:+SIGN-RSA-PSS-RSAE-SHA384'
    b12+=':+SIGN-ECDSA-SECP256R1-SHA256:+SIGN-ECDSA-SECP384R1-SHA384'
    b12+=':+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+COMP-NULL'
    local tls11="$b12:+VERS-TLS1.1:+AES-128-CBC:+SHA1"
    local p
    for p in "$b12" "$tls11"; do
        gnutls-cli -l --priority "$p" >/dev/null 2>&1 || dtp_fail "gnutls-cli rejects the priority string $p"
    done

    # serv NAME CERT ARGS...: start gnutls-serv with server-CERT.
    serv() {
        local cert=$1; shift
        PORT=$(dtp_free_port)
        dtp_start "$CASE" gnutls-serv -p "$PORT" --x509certfile "$PKI/$cert.pem" --x509keyfile "$PKI/$cert.key" \
            --x509cafile "$PKI/ca.pem" "$@"
        listening gnutls-serv
    }

    BASE='clean-b12'
    case_begin clean-b12 clean-b12 "--priority $b12 --require-client-cert"
    if serv server-rsa --require-client-cert --priority "$b12" && scan; then
        expect_conforms bcp195-8996 clean
    fi
    case_end

    case_begin tls11 tls1.1 "clean-b12 + TLS 1.1 (+VERS-TLS1.1:+AES-128-CBC:+SHA1)"
    if serv server-rsa --require-client-cert --priority "$tls11" && scan; then
        expect_fail bcp195-nd N1 shall 'TLSv1\.1 accepted'
        expect_fail bcp195-8996 R8 shall 'TLSv1\.1 accepted'
    fi
    case_end

    case_begin no-client-cert no-client-cert "clean-b12 with --disable-client-cert (no client certificate requested)"
    if serv server-rsa --disable-client-cert --priority "$b12" && scan; then
        expect_fail bcp195-8996 R44 should 'never requested'
        expect_conforms bcp195-8996
    fi
    case_end

    # gnutls-serv's default: a certificate is requested, not required.
    case_begin optional-client-cert optional-client-cert "clean-b12 without --require-client-cert (requested, optional)"
    if serv server-rsa --priority "$b12" && scan; then
        expect_pass bcp195-8996 R44 should 'requested but optional'
        expect_conforms bcp195-8996
    fi
    case_end

    case_begin dh1024 dh1024 "clean-b12 + DHE-RSA with a 1024-bit DH group (+DHE-RSA, --dhparams dh1024.pem)"
    if serv server-rsa --require-client-cert --priority "$b12:+DHE-RSA" --dhparams "$PKI/dh1024.pem" && scan; then
        expect_fail bcp195-ex E5 shall 'DH group has 1024 bits'
        expect_fail bcp195 B5 should 'DH group has 1024 bits'
        expect_conforms bcp195
        expect_fail bcp195-8996 R29 shall 'DH group has 1024 bits'
    fi
    case_end

    case_begin sha1-cert sha1-cert "clean-b12 with a SHA-1-signed certificate (sha1-server-rsa.pem)"
    if serv sha1-server-rsa --require-client-cert --priority "$b12" && scan; then
        expect_fail bcp195-8996 R32 shall 'signed with SHA1'
        expect_fail bcp195-8996-mod M31 shall 'signed with SHA1'
    fi
    case_end
    say ""
    say "$PEER compression: not plantable (GnuTLS 3.6+ has COMP-NULL only); graded: $(
        _finding "$DTP_WORK/clean-b12.json" bcp195-8996 R34 should true || echo 'no R34 row')"
}

# ================================================================== dcmtk ==
run_dcmtk() {
    dtp_need_cmd storescp
    # shellcheck disable=SC2016  # '$dcmtk: ... $' is DCMTK's literal text
    say "peer: DCMTK $(storescp --version 2>&1 | head -n 1 | sed -E 's/^\$dcmtk: (.*) \$$/\1/')${IX_NETNS:+ (netns=$IX_NETNS)}"
    export TCP_NODELAY=1        # stock tools: no Nagle + delayed ACK stalls
    ECHO=()

    # storescp CERT ARGS...: stock storescp +tls server-CERT +cf ca.pem ARGS
    # (single process, as shipped; the client certificate is required: -rc
    # is DCMTK's default).
    storescp_() {
        local cert=$1; shift
        PORT=$(dtp_free_port)
        mkdir -p "$DTP_WORK/out-$CASE"
        dtp_start "$CASE" storescp -d +tls "$PKI/$cert.key" "$PKI/$cert.pem" +cf "$PKI/ca.pem" \
            "$@" -od "$DTP_WORK/out-$CASE" "$PORT"
        listening "stock storescp"
    }

    BASE=py
    case_begin py +py "Non-Downgrading (DCMTK's default), server-rsa, -rc (default)"
    if storescp_ server-rsa +py && scan; then
        expect_conforms bcp195-nd
        expect_echo accepted
        expect_pass bcp195-8996 R44 should 'client certificate required'
    fi
    case_end

    case_begin px +px "BCP195 (downgrading), server-rsa"
    if storescp_ server-rsa +px && scan; then
        expect_conforms bcp195
        expect_fail bcp195-nd N1 shall 'TLSv1(\.[01])? accepted'
        expect_echo accepted
    fi
    case_end

    case_begin pz +pz "Extended, server-rsa"
    if storescp_ server-rsa +pz && scan; then
        expect_conforms bcp195-ex
        expect_echo accepted
    fi
    case_end

    case_begin py-dh1024 "+py +dp dh1024" "1024-bit DH group (+dp dh1024.pem)"
    if storescp_ server-rsa +py +dp "$PKI/dh1024.pem" && scan; then
        expect_fail bcp195-nd B5 shall 'DH group has 1024 bits'
        expect_fail bcp195-ex E5 shall 'DH group has 1024 bits'
        expect_fail bcp195 B5 should 'DH group has 1024 bits'
        expect_conforms bcp195
        expect_echo accepted
    fi
    case_end

    # DCMTK refuses the plant here: the file is ignored, 2048-bit DH stays.
    case_begin pz-dh1024 "+pz +dp dh1024" "1024-bit DH group (+dp dh1024.pem): DCMTK ignores the file under +pz"
    if storescp_ server-rsa +pz +dp "$PKI/dh1024.pem" && scan; then
        DTP_CHECKS=$((DTP_CHECKS + 1))
        if grep -q 'unable to load temporary DH parameter file' "$DTP_WORK/$CASE.log"; then
            say "  expected: storescp: $(grep -m1 'unable to load temporary DH parameter file' "$DTP_WORK/$CASE.log" | sed "s|$PKI/||")"
        else
            dtp_check_fail "$CASE: storescp did not log that it ignores dh1024.pem under +pz"
        fi
        expect_conforms bcp195-ex
        expect_echo accepted
    fi
    case_end

    case_begin py-ic "+py -ic" "--ignore-peer-cert: no client certificate requested"
    if storescp_ server-rsa +py -ic && scan; then
        expect_fail bcp195-8996 R44 should 'never requested'
        expect_fail bcp195-8996-mod M38 should 'never requested'
        expect_conforms bcp195-nd
        expect_echo accepted
    fi
    case_end

    case_begin py-vc "+py -vc" "--verify-peer-cert: a client certificate requested, optional"
    if storescp_ server-rsa +py -vc && scan; then
        expect_pass bcp195-8996 R44 should 'requested but optional'
        expect_echo accepted
    fi
    case_end

    case_begin py-sha1-cert "+py sha1-cert" "SHA-1-signed server certificate (sha1-server-rsa.pem)"
    if storescp_ sha1-server-rsa +py && scan; then
        expect_fail bcp195-8996 R32 shall 'signed with SHA1'
        expect_fail bcp195-8996-mod M31 shall 'signed with SHA1'
        expect_echo accepted
    fi
    case_end

    # (dtp-check's own C-ECHO client refuses an RSA-1024 server: not asserted.)
    case_begin py-rsa1024-cert "+py rsa1024-cert" "RSA-1024 server certificate (rsa1024-server.pem)"
    if storescp_ rsa1024-server +py && scan; then
        expect_fail bcp195-nd B5 shall 'RSA key of 1024 bits'
        expect_fail bcp195-8996 R31 shall 'RSA key of 1024 bits'
        expect_fail bcp195-8996-mod M27 shall 'RSA key of 1024 bits'
    fi
    case_end
    say ""
    say "$PEER compression: not plantable (DCMTK has no option; Debian's OpenSSL has no zlib); graded: $(
        _finding "$DTP_WORK/py.json" bcp195-8996 R34 should true || echo 'no R34 row')"
}

# ================================================================ orthanc ==
run_orthanc() {
    local orthanc
    orthanc=$(command -v Orthanc || true)
    [ -n "$orthanc" ] || { [ -x /usr/sbin/Orthanc ] && orthanc=/usr/sbin/Orthanc; } ||
        dtp_skip "Orthanc is not installed (package orthanc)"
    [ "$IX_NETNS" = 1 ] ||
        dtp_skip "Orthanc listens on every address; no private network namespace (unshare -n) to keep it on loopback"
    say "peer: $("$orthanc" --version 2>&1 | head -n 1 | sed 's|^/[^ ]*/||')"
    ECHO=()

    # orthanc_ CERT REQUIRED: Orthanc with DICOM TLS on server-CERT,
    # "DicomTlsRemoteCertificateRequired": REQUIRED (true|false); its HTTP
    # server off, storage in the work dir. C-ECHO from any AE is Orthanc's
    # default.
    orthanc_() {
        local cert=$1 required=$2 db=$DTP_WORK/db-$CASE cfg=$DTP_WORK/orthanc-$CASE.json
        PORT=$(dtp_free_port)
        mkdir -p "$db"
        cat > "$cfg" <<EOF
{
  "Name": "dtp-check-peers",
  "StorageDirectory": "$db",
  "IndexDirectory": "$db",
  "HttpServerEnabled": false,
  "HttpPort": $(dtp_free_port),
  "DicomPort": $PORT,
  "DicomAet": "ORTHANC",
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false,
  "Plugins": [],
  "SaveJobs": false,
  "DicomTlsEnabled": true,
  "DicomTlsCertificate": "$PKI/$cert.pem",
  "DicomTlsPrivateKey": "$PKI/$cert.key",
  "DicomTlsTrustedCertificates": "$PKI/ca.pem",
  "DicomTlsRemoteCertificateRequired": $required
}
EOF
        dtp_start "$CASE" "$orthanc" "$cfg"
        listening Orthanc 20
    }

    BASE=default
    case_begin default default "DicomTlsRemoteCertificateRequired true, server-rsa (Orthanc's fixed DCMTK BCP195 setup)"
    if orthanc_ server-rsa true && scan; then
        expect_conforms bcp195
        expect_fail bcp195-nd N1 shall 'TLSv1(\.[01])? accepted'
        expect_fail bcp195-8996 R8 shall 'TLSv1(\.[01])? accepted'
        expect_pass bcp195-8996 R44 should 'client certificate required'
        expect_echo accepted
    fi
    case_end

    case_begin optional-client-cert cert-optional "DicomTlsRemoteCertificateRequired false (a client certificate requested, optional)"
    if orthanc_ server-rsa false && scan; then
        expect_pass bcp195-8996 R44 should 'requested but optional'
        expect_pass bcp195-8996-mod M38 should 'requested but optional'
        expect_conforms bcp195
        expect_echo accepted
    fi
    case_end

    case_begin sha1-cert sha1-cert "SHA-1-signed server certificate (sha1-server-rsa.pem)"
    if orthanc_ sha1-server-rsa true && scan; then
        expect_fail bcp195-8996 R32 shall 'signed with SHA1'
        expect_fail bcp195-8996-mod M31 shall 'signed with SHA1'
        expect_echo accepted
    fi
    case_end

    # (dtp-check's own C-ECHO client refuses an RSA-1024 server: not asserted.)
    case_begin rsa1024-cert rsa1024-cert "RSA-1024 server certificate (rsa1024-server.pem)"
    if orthanc_ rsa1024-server true && scan; then
        expect_fail bcp195 B5 should 'RSA key of 1024 bits'
        expect_conforms bcp195
        expect_fail bcp195-nd B5 shall 'RSA key of 1024 bits'
        expect_fail bcp195-8996 R31 shall 'RSA key of 1024 bits'
        expect_fail bcp195-8996-mod M27 shall 'RSA key of 1024 bits'
    fi
    case_end

    # Orthanc's TLS 1.2 suites are all RSA: with an ECDSA certificate only
    # TLS 1.3 is left.
    case_begin ec-cert ec-cert "ECDSA server certificate (server-ec.pem)"
    if orthanc_ server-ec true && scan; then
        expect_fail bcp195 B1 shall 'TLSv1\.2 refused'
        expect_fail bcp195-8996 R3 shall 'TLSv1\.2 refused'
        expect_echo accepted
    fi
    case_end
    say ""
    say "$PEER compression: not plantable (no option; Debian's OpenSSL has no zlib); graded: $(
        _finding "$DTP_WORK/default.json" bcp195-8996 R34 should true || echo 'no R34 row')"
}

"run_$PEER"
say ""
say "$PEER: run time $((SECONDS - T0)) s"
ix_done
