#!/bin/bash
# current_profiles.sh PROFILE -- what the profiles in force (PROFILE
# bcp195-8996 = PS3.15 B.12, bcp195-8996-mod = B.13) add to the older ones,
# seen by OpenSSL's command line tools: s_client -> dtp-storescp and
# dtp-storescu -> s_server. The expected outcomes come from the profile table
# (dtp-storescu --list-profiles: versions, groups, signature algorithms,
# certificates, extensions):
#
#   1. old versions (R7, R8, M37, Q8): TLS 1.0 and 1.1 hellos get the alert
#      protocol_version (70), SCP logs 201 VERSION_REFUSED; so does an SSLv3
#      ClientHello (raw bytes: Debian's openssl cannot send one), whose
#      reply must be a TLS alert record with description 70.
#   2. signature algorithms (R32, M10, section 7): a TLS 1.2 client offering
#      only SHA-1 schemes is refused (handshake_failure, SCP logs 202
#      NO_SHARED_SUITE), with RSA and ECDSA server certificates; with SHA-256
#      schemes it connects.
#   3. certificate chain (M27-M31, Q4): a SHA-1-signed leaf, and a leaf under
#      an RSA-1024 intermediate, are refused with 207 PEER_CERT_WEAK by the
#      SCU (peer = s_server) and by the SCP (peer = s_client's client
#      certificate); a leaf under a good RSA-2048 intermediate is accepted.
#   4. x25519 (R26, M17, Q2): an x25519-only client (TLS 1.2 and 1.3) connects
#      where the profile lists x25519 (B.12) and is refused with 202
#      NO_SHARED_SUITE where it does not (B.13).
#   5. ALPN (R39): s_client -alpn http/1.1 gets no_application_protocol (120),
#      SCP logs 215 ALPN_MISMATCH; "dicom", "http/1.1,dicom" and no ALPN
#      connect, the first two with ALPN dicom. SCU: s_server -alpn dicom
#      selects dicom; s_server -alpn http/1.1 has no overlap and answers
#      no_application_protocol (OpenSSL 3.0 does), which our SCU reports as
#      215 ALPN_MISMATCH.
#   6. extended master secret (R36): a TLS 1.2 peer without EMS (an OpenSSL
#      config with "Options = -ExtendedMasterSecret"; its session shows
#      "Extended master secret: no") is refused with 216 EMS_MISSING, by the
#      SCP (inside the handshake: the client gets handshake_failure, RFC
#      7627 5.2) and the SCU; at TLS 1.3 (no EMS extension there) it connects.
#   7. SNI (R38, Q9): dtp-storescu to host "localhost" sends the server name
#      (s_server -servername shows "Hostname in TLS extension"); to
#      127.0.0.1 it sends none. Skipped, with a note, when localhost does not
#      resolve to 127.0.0.1 first.
#
# SCU role, connected: s_server never answers the A-ASSOCIATE-RQ, so the SCU
# ends on its 1 s ACSE timeout (-ta 1): exit 7 after its "TLS TLSv..." line.
# Every check runs; all mismatches are listed at the end. Result rows go to
# $DTP_BUILD_DIR/interop-results/interop.current.PROFILE.tsv (peer openssl).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/checks.sh"
. "$HERE/interop_lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 bcp195-8996|bcp195-8996-mod" >&2; exit 1; }
PROFILE=$1
case $PROFILE in
    bcp195-8996 | bcp195-8996-mod) ;;
    *) echo "$0: PROFILE must be bcp195-8996 or bcp195-8996-mod" >&2; exit 1 ;;
esac

ix_results "interop.current.$PROFILE"
dtp_init "interop-current-$PROFILE"
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}"
dtp_need_cmd openssl timeout setsid od
PKI=$DTP_PKI
FILE=$DTP_DATA/small/small-1.dcm
[ -f "$FILE" ] || dtp_fail "fixture $FILE missing"
for f in sha1-server-rsa sha1-client-rsa int-ca int-server-rsa int1024-ca int1024-server-rsa; do
    [ -f "$PKI/$f.pem" ] || dtp_fail "fixture $PKI/$f.pem missing (tests/fixtures/make_pki.sh)"
done

ix_load_profiles
ix_known_profile "$PROFILE"
ix_load_openssl_names
ix_peer openssl "$(openssl version)"

# ------------------------------------------------------- the expectations --
# From the table; each feature this script tests must be stated there.
VERSIONS=${IX_VERSIONS[$PROFILE]}
EXT=${IX_EXT[$PROFILE]:-}
CERTS=${IX_CERTS[$PROFILE]:-}
SIGALGS=${IX_SIGALGS[$PROFILE]:-}
[[ $EXT == *'ALPN "dicom"'* ]] || dtp_fail "$PROFILE: the table names no ALPN \"dicom\": '$EXT'"
[[ $EXT == *'SNI sent for DNS names'* ]] || dtp_fail "$PROFILE: the table does not send SNI for DNS names: '$EXT'"
[[ $SIGALGS == *_sha256* ]] || dtp_fail "$PROFILE: the table lists no signature schemes: '$SIGALGS'"
# EMS: required in TLS 1.2 -> refused without it, else accepted.
EXP_NO_EMS="refuse 216 EMS_MISSING"
[[ $EXT == *'EMS required'* ]] || EXP_NO_EMS=connect
# SHA-1 signature schemes: refused unless the table lists one.
EXP_SHA1_SIGALGS="refuse 202 NO_SHARED_SUITE"
[[ ":$SIGALGS:" != *_sha1:* ]] || EXP_SHA1_SIGALGS=connect
# Certificates: SHA-1 signatures refused if the table checks the signature
# hash; the RSA-1024 intermediate refused if it checks every chain key.
EXP_SHA1_CERT=connect EXP_WEAK_INT=connect
[[ $CERTS != *'signature hash of 256+ bits'* ]] || EXP_SHA1_CERT="refuse 207 PEER_CERT_WEAK"
[[ $CERTS != *'every certificate of the chain'* ]] || EXP_WEAK_INT="refuse 207 PEER_CERT_WEAK"
# x25519: accepted only if the table lists it.
EXP_X25519="refuse 202 NO_SHARED_SUITE"
ix_has "${IX_GROUPS[$PROFILE]}" x25519 && EXP_X25519=connect
# version V -> connect or refuse 201
exp_version() {
    if ix_has "$VERSIONS" "$1"; then echo connect; else echo "refuse 201 VERSION_REFUSED"; fi
}

# ---------------------------------------------------------------- helpers --
# The OpenSSL config of a peer without the extended master secret.
NOEMS_CNF=$DTP_WORK/no-ems.cnf
printf '%s\n' 'openssl_conf = c' '[c]' 'ssl_conf = s' '[s]' 'system_default = d' \
    '[d]' 'Options = -ExtendedMasterSecret' > "$NOEMS_CNF"
# Peers that must load a weak certificate (SHA-1, RSA-1024) need level 0.
WEAK_OK='DEFAULT:@SECLEVEL=0'

# check OK MESSAGE: one counted check (OK 0 = passed); on failure record
# MESSAGE for the case's row. Callers compute OK with `cond || ok=1`, since
# a bare failing test would end the script (set -e).
check() {
    DTP_CHECKS=$((DTP_CHECKS + 1))
    [ "$1" = 0 ] || { dtp_check_fail "$CASE: $2"; WHY+=("$2"); }
}
# row DIRECTION EXPECT VERSION SUITE NOTE: the case's result row.
row() {
    local outcome=pass note=$5
    [[ $2 == connect ]] || outcome=pinned
    if [ ${#WHY[@]} -gt 0 ]; then
        outcome=fail
        note="UNEXPECTED: $(IFS=';'; echo "${WHY[*]}"); $note"
    fi
    ix_row openssl "$PROFILE" "$1" "$outcome" "$3" "$4" "$note"
}
# scp_says LINE: the SCP's outcome line from "association from ...: " on.
scp_says() { local l=${1#*association from 127.0.0.1:}; printf '%s' "${l#*: }"; }
# has RE FILE: grep -E in a file that may hold binary bytes (s_server echoes
# what it reads).
has() { grep -aEq -- "$1" "$2" 2>/dev/null; }

# ------------------------------------------------- s_client -> dtp-storescp
ix_start_scps "$PROFILE"

# scp_line CERT MARK: the SCP's outcome line for the association after MARK.
scp_line() {
    dtp_wait_line "$IX_SCP_END" "$DTP_WORK/scp-$1.log" "$2" 5 || true
}

# scp_case NAME CERT EXPECT VERSION DESC [-alert N] [-out RE] [-line RE]
#          [-env VAR=VALUE] -- S_CLIENT-ARGS...
# s_client (client certificate client-CERT unless the args name one) against
# the SCP with the CERT server certificate. EXPECT: connect | refuse CODE
# NAME (the SCP's line). -alert N: s_client must report alert N; -out RE:
# s_client's output must match; -line RE: the SCP's line must match.
scp_case() {
    CASE=$1; local cert=$2 exp=$3 ver=$4 desc=$5; shift 5
    local alert='' out_re=() line_re=() env=() args=() mark out line v s ok
    WHY=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        case $1 in
            -alert) alert=$2 ;; -out) out_re+=("$2") ;; -line) line_re+=("$2") ;;
            -env) env+=("$2") ;; *) dtp_fail "scp_case: unknown option $1" ;;
        esac
        shift 2
    done
    shift
    args=("$@")
    [[ " ${args[*]} " == *" -cert "* ]] ||
        args+=(-cert "$PKI/client-$cert.pem" -key "$PKI/client-$cert.key")
    mark=$(dtp_log_lines "$DTP_WORK/scp-$cert.log")
    out=$DTP_WORK/$CASE.out
    env "${env[@]}" timeout -k 2 15 openssl s_client -connect "127.0.0.1:${IX_SCP_PORT[$cert]}" \
        -CAfile "$PKI/ca.pem" "${args[@]}" </dev/null >"$out" 2>&1 || true
    line=$(scp_line "$cert" "$mark")
    v=$ver s="($CASE)"
    if [ -z "$line" ]; then
        check 1 "no SCP log line within 5 s (s_client: $(grep -aE 'alert|error' "$out" | head -n 1))"
    elif [ "$exp" = connect ]; then
        if [[ $line =~ :\ TLS\ (TLSv[0-9.]+)\ ([A-Z0-9_]+) ]]; then
            v=${BASH_REMATCH[1]} s=${BASH_REMATCH[2]}
            check 0 ok
        else
            check 1 "expected a connection, SCP: $(scp_says "$line")"
        fi
    else
        ok=0; [[ $line == *"provider reason ${exp#refuse }"* ]] || ok=1
        check "$ok" "expected ${exp#refuse }, SCP: $(scp_says "$line")"
    fi
    if [ -n "$alert" ]; then
        ok=0; has "SSL alert number $alert\$" "$out" || ok=1
        check "$ok" "s_client saw no alert $alert: $(grep -aE 'alert|error' "$out" | head -n 1)"
    fi
    local re
    for re in "${out_re[@]}"; do
        ok=0; has "$re" "$out" || ok=1
        check "$ok" "s_client output lacks /$re/"
    done
    for re in "${line_re[@]}"; do
        ok=0; [[ $line =~ $re ]] || ok=1
        check "$ok" "SCP line lacks /$re/: $(scp_says "$line")"
    done
    local note
    note="$desc; SCP: $(scp_says "$line")"
    [ -z "$alert" ] || note+="; s_client: alert $alert"
    row 'peer->dtp-storescp' "$exp" "$v" "$s" "$note"
}

# ------------------------------------------------- dtp-storescu -> s_server
# scu_case NAME HOST EXPECT VERSION DESC [-alert N] [-srv RE] [-srv-lacks RE]
#          [-scu RE] [-ems-no] [-env VAR=VALUE] -- S_SERVER-ARGS...
# One s_server (-naccept 1) on 127.0.0.1 with the ARGS (server certificate
# server-rsa unless they name one), then dtp-storescu --profile PROFILE to
# HOST. EXPECT: connect (TLS line, exit 7 on the ACSE timeout) | refuse
# CODE NAME (exit 4, that reason). -alert N: the SCU reports the peer's
# alert N; -srv / -srv-lacks RE: s_server's output (complete: it has ended)
# must / must not match; -scu RE: the SCU's TLS line must match; -ems-no:
# the session s_server prints has "Extended master secret: no".
scu_case() {
    CASE=$1; local host=$2 exp=$3 ver=$4 desc=$5; shift 5
    local alert='' srv_re=() srv_lacks=() scu_re=() ems_no=0 env=() args=()
    WHY=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        case $1 in
            -alert) alert=$2; shift ;; -srv) srv_re+=("$2"); shift ;;
            -srv-lacks) srv_lacks+=("$2"); shift ;; -scu) scu_re+=("$2"); shift ;;
            -env) env+=("$2"); shift ;; -ems-no) ems_no=1 ;;
            *) dtp_fail "scu_case: unknown option $1" ;;
        esac
        shift
    done
    shift
    args=("$@")
    [[ " ${args[*]} " == *" -cert "* ]] ||
        args+=(-cert "$PKI/server-rsa.pem" -key "$PKI/server-rsa.key")
    local port srv rc=0 out tls v s ok
    port=$(dtp_free_port)
    dtp_start "srv-$CASE" env "${env[@]}" openssl s_server -accept "127.0.0.1:$port" \
        -CAfile "$PKI/ca.pem" -Verify 1 -naccept 1 -num_tickets 0 "${args[@]}"
    srv=$DTP_WORK/srv-$CASE.log
    dtp_wait_port "$port" 127.0.0.1 10 ||
        dtp_fail "openssl s_server ($CASE) did not listen on 127.0.0.1:$port"
    out=$DTP_WORK/$CASE.out
    timeout -k 2 20 "$DTP_BIN/dtp-storescu" -v -ta 1 -ts 5 --profile "$PROFILE" \
        +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem" \
        "$host" "$port" "$FILE" </dev/null >"$out" 2>&1 || rc=$?
    # s_server -naccept 1 ends with the connection: its output is complete.
    dtp_wait_grep 'CONNECTION CLOSED|^ERROR' "$srv" 5 || true
    tls=$(grep -Em1 '^[IW]: TLS TLSv[0-9.]+ [A-Z0-9_]+ ' "$out" || true)
    ix_scu_refusal "$out"
    v=$ver s="($CASE)"
    if [ "$exp" = connect ]; then
        if [ -n "$tls" ]; then
            read -r _ _ v s _ <<< "$tls"
            ok=0; [ "$rc" = 7 ] || ok=1
            check "$ok" "handshake done, but exit $rc (expected 7 on the 1 s ACSE timeout): $(grep -E '^E: ' "$out" | head -n 1)"
        else
            check 1 "no handshake: exit $rc, ${IX_REASON:-no reason} ${IX_ALERT:+($IX_ALERT)}"
        fi
    else
        ok=1; [ -z "$tls" ] && [ "$rc" = 4 ] && [ "refuse $IX_REASON" = "$exp" ] && ok=0
        check "$ok" "expected exit 4 and ${exp#refuse }, got exit $rc, ${IX_REASON:-no reason}${tls:+ after $tls}"
    fi
    if [ -n "$alert" ]; then
        ok=0; [[ $IX_ALERT == "peer sent fatal alert $alert "* ]] || ok=1
        check "$ok" "expected the peer's alert $alert, got '${IX_ALERT:-none}'"
    fi
    local re
    for re in "${srv_re[@]}"; do
        ok=0; has "$re" "$srv" || ok=1
        check "$ok" "s_server output lacks /$re/"
    done
    for re in "${srv_lacks[@]}"; do
        ok=0; ! has "$re" "$srv" || ok=1
        check "$ok" "s_server output has /$re/: $(grep -aEm1 -- "$re" "$srv")"
    done
    for re in "${scu_re[@]}"; do
        ok=0; [[ $tls =~ $re ]] || ok=1
        check "$ok" "SCU TLS line lacks /$re/: ${tls:-none}"
    done
    if [ "$ems_no" = 1 ]; then
        ok=0
        sed -n '/BEGIN SSL SESSION PARAMETERS/,/END SSL SESSION PARAMETERS/p' "$srv" |
            openssl sess_id -noout -text 2>/dev/null | grep -q 'Extended master secret: no' || ok=1
        check "$ok" "s_server's session does not show 'Extended master secret: no'"
    fi
    local note="$desc; SCU: exit $rc"
    if [ -n "$tls" ]; then note+=", ${tls#?: }"; else note+=", ${IX_REASON:-no reason}${IX_ALERT:+ ($IX_ALERT)}"; fi
    row 'dtp-storescu->peer' "$exp" "$v" "$s" "$note"
}

# ========================================================= 1. old versions
for v in TLSv1 TLSv1.1; do
    scp_case "old-$v" rsa "$(exp_version "$v")" "$v" "$v hello, suites at SECLEVEL 0" \
        -alert 70 -out 'Cipher is \(NONE\)' -- "$(ix_ossl_version_opt "$v")" -cipher 'ALL:@SECLEVEL=0'
done

# SSLv3: a minimal SSL 3.0 ClientHello record (record and client version
# 3.0, two suites, null compression, no extensions) on a plain TCP socket;
# the reply must be one fatal alert record with description 70
# (RFC 8446 4.2.1: a server that only supports versions above the
# ClientHello's legacy_version answers protocol_version; Q8).
CASE=old-SSLv3 WHY=()
random=''
for _ in {1..32}; do printf -v random '%s\\x%02x' "$random" $((RANDOM % 256)); done
hello="\\x16\\x03\\x00\\x00\\x2f"                     # handshake record, SSL 3.0, 47 bytes
hello+="\\x01\\x00\\x00\\x2b\\x03\\x00$random\\x00"    # ClientHello, 43 bytes, version 3.0, no session id
hello+="\\x00\\x04\\x00\\x2f\\x00\\x35\\x01\\x00"       # AES128-SHA, AES256-SHA; null compression
mark=$(dtp_log_lines "$DTP_WORK/scp-rsa.log")
reply=$DTP_WORK/$CASE.reply
if exec {sock}<>"/dev/tcp/127.0.0.1/${IX_SCP_PORT[rsa]}"; then
    # shellcheck disable=SC2059  # the format is the byte string
    printf "$hello" >&"$sock" || true
    timeout 5 cat <&"$sock" >"$reply" || true
    exec {sock}>&-
else
    : >"$reply"
fi
bytes=()
read -r -a bytes < <(od -An -v -tu1 -N7 "$reply") || true
ok=0; [ "${bytes[0]:-}" = 21 ] && [ "${bytes[5]:-}" = 2 ] || ok=1
check "$ok" "expected a fatal alert record, got bytes: ${bytes[*]:-none}"
ok=0; [ "${bytes[6]:-}" = 70 ] || ok=1
check "$ok" "alert description ${bytes[6]:-none} (record version ${bytes[1]:-?}.${bytes[2]:-?}), expected 70 protocol_version"
line=$(scp_line rsa "$mark")
ok=0; [[ $line == *"provider reason 201 VERSION_REFUSED"* ]] || ok=1
check "$ok" "expected 201 VERSION_REFUSED, SCP: $(scp_says "$line")"
row 'peer->dtp-storescp' "refuse 201 VERSION_REFUSED" SSLv3 "($CASE)" \
    "raw SSL 3.0 ClientHello; reply bytes: ${bytes[*]:-none}; SCP: $(scp_says "$line")"

# ================================================= 2. signature algorithms
for cert in rsa ec; do
    good=RSA+SHA256
    [ "$cert" = ec ] && good=ECDSA+SHA256
    alert=()
    [ "$EXP_SHA1_SIGALGS" = connect ] || alert=(-alert 40)
    scp_case "sigalgs-sha1-$cert" "$cert" "$EXP_SHA1_SIGALGS" TLSv1.2 \
        "TLS 1.2 with only SHA-1 signature algorithms (RSA+SHA1:ECDSA+SHA1), $cert server cert" \
        "${alert[@]}" -- -tls1_2 -cipher 'ALL:@SECLEVEL=0' -sigalgs 'RSA+SHA1:ECDSA+SHA1'
    scp_case "sigalgs-sha256-$cert" "$cert" connect TLSv1.2 \
        "TLS 1.2 with only $good, $cert server cert (control)" \
        -out 'Peer signing digest: SHA256' -- -tls1_2 -cipher 'ALL:@SECLEVEL=0' -sigalgs "$good"
done

# ==================================================== 3. certificate chain
# SCU: s_server presents the certificate (and its intermediate).
scu_case chain-sha1-server 127.0.0.1 "$EXP_SHA1_CERT" - \
    "s_server presents a SHA-1-signed RSA-2048 leaf" -- \
    -cert "$PKI/sha1-server-rsa.pem" -key "$PKI/sha1-server-rsa.key" -cipher "$WEAK_OK"
scu_case chain-int1024-server 127.0.0.1 "$EXP_WEAK_INT" - \
    "s_server presents an RSA-2048 leaf under an RSA-1024 intermediate (chain sent)" -- \
    -cert "$PKI/int1024-server-rsa.pem" -key "$PKI/int1024-server-rsa.key" \
    -cert_chain "$PKI/int1024-ca.pem" -cipher "$WEAK_OK"
scu_case chain-int-server 127.0.0.1 connect - \
    "s_server presents an RSA-2048 leaf under an RSA-2048 intermediate (chain sent; control)" -- \
    -cert "$PKI/int-server-rsa.pem" -key "$PKI/int-server-rsa.key" \
    -cert_chain "$PKI/int-ca.pem" -cipher "$WEAK_OK"
# SCP: s_client presents them as its client certificate (the server leaves
# carry clientAuth too).
scp_case chain-sha1-client rsa "$EXP_SHA1_CERT" TLSv1.3 \
    "s_client presents a SHA-1-signed RSA-2048 client certificate" -- \
    -cert "$PKI/sha1-client-rsa.pem" -key "$PKI/sha1-client-rsa.key" -cipher "$WEAK_OK"
scp_case chain-int1024-client rsa "$EXP_WEAK_INT" TLSv1.3 \
    "s_client presents an RSA-2048 client leaf under an RSA-1024 intermediate (chain sent)" -- \
    -cert "$PKI/int1024-server-rsa.pem" -key "$PKI/int1024-server-rsa.key" \
    -cert_chain "$PKI/int1024-ca.pem" -cipher "$WEAK_OK"
scp_case chain-int-client rsa connect TLSv1.3 \
    "s_client presents an RSA-2048 client leaf under an RSA-2048 intermediate (chain sent; control)" -- \
    -cert "$PKI/int-server-rsa.pem" -key "$PKI/int-server-rsa.key" \
    -cert_chain "$PKI/int-ca.pem" -cipher "$WEAK_OK"

# ================================================================ 4. x25519
for v in TLSv1.2 TLSv1.3; do
    line_re=()
    [ "$EXP_X25519" != connect ] || line_re=(-line 'group=x25519')
    scp_case "x25519-only-$v" rsa "$EXP_X25519" "$v" "$v, x25519 the only group offered" \
        "${line_re[@]}" -- "$(ix_ossl_version_opt "$v")" -groups "$(ix_ossl_groups x25519)"
done

# ================================================================== 5. ALPN
scp_case alpn-http rsa "refuse 215 ALPN_MISMATCH" TLSv1.3 "ALPN http/1.1 only" \
    -alert 120 -- -alpn http/1.1
scp_case alpn-http-tls12 rsa "refuse 215 ALPN_MISMATCH" TLSv1.2 "TLS 1.2, ALPN http/1.1 only" \
    -alert 120 -- -tls1_2 -alpn http/1.1
scp_case alpn-dicom rsa connect TLSv1.3 "ALPN dicom" \
    -out '^ALPN protocol: dicom$' -line 'alpn=dicom' -- -alpn dicom
scp_case alpn-http-dicom rsa connect TLSv1.3 "ALPN http/1.1, dicom" \
    -out '^ALPN protocol: dicom$' -line 'alpn=dicom' -- -alpn 'http/1.1,dicom'
scp_case alpn-none rsa connect TLSv1.3 "no ALPN" -out '^No ALPN negotiated$' --
scu_case alpn-srv-dicom 127.0.0.1 connect - "s_server -alpn dicom" \
    -srv '^ALPN protocols advertised by the client: dicom' -srv '^ALPN protocols selected: dicom' \
    -scu 'alpn=dicom' -- -alpn dicom
scu_case alpn-srv-http 127.0.0.1 "refuse 215 ALPN_MISMATCH" - \
    "s_server -alpn http/1.1 (no protocol in common)" \
    -alert 120 -srv '^ALPN protocols advertised by the client: dicom' -- -alpn http/1.1

# =================================================================== 6. EMS
scp_case ems-off-tls12 rsa "$EXP_NO_EMS" TLSv1.2 "TLS 1.2 without extended master secret" \
    -env "OPENSSL_CONF=$NOEMS_CNF" -out 'Extended master secret: no' -out 'alert handshake failure' -- -tls1_2
scp_case ems-on-tls12 rsa connect TLSv1.2 "TLS 1.2 with extended master secret (control)" \
    -out 'Extended master secret: yes' -- -tls1_2
scp_case ems-off-tls13 rsa connect TLSv1.3 "TLS 1.3, OpenSSL config without extended master secret" \
    -env "OPENSSL_CONF=$NOEMS_CNF" -- -tls1_3
scu_case ems-srv-off-tls12 127.0.0.1 "$EXP_NO_EMS" TLSv1.2 "s_server TLS 1.2 without extended master secret" \
    -env "OPENSSL_CONF=$NOEMS_CNF" -ems-no -- -tls1_2
scu_case ems-srv-off-tls13 127.0.0.1 connect TLSv1.3 \
    "s_server TLS 1.3, OpenSSL config without extended master secret" \
    -env "OPENSSL_CONF=$NOEMS_CNF" -- -tls1_3
# The explicit, logged override (Q1): an SCP with --allow-no-ems serves the
# same legacy client, flags the session "no-ems" and says what it relaxed.
if [ "$EXP_NO_EMS" != connect ]; then
    IX_SCP_PORT['legacy']=$(dtp_free_port)
    mkdir -p "$DTP_WORK/out-legacy"
    dtp_start scp-legacy "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 --profile "$PROFILE" --allow-no-ems \
        +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" +cf "$PKI/ca.pem" \
        --handshake-timeout 5 -od "$DTP_WORK/out-legacy" -v "${IX_SCP_PORT['legacy']}"
    dtp_wait_port "${IX_SCP_PORT['legacy']}" 127.0.0.1 10 ||
        dtp_fail "dtp-storescp --allow-no-ems did not listen on 127.0.0.1:${IX_SCP_PORT['legacy']}"
    scp_case ems-off-allowed legacy connect TLSv1.2 "TLS 1.2 without EMS, SCP with --allow-no-ems (R36 relaxed)" \
        -env "OPENSSL_CONF=$NOEMS_CNF" -out 'Extended master secret: no' -line ' no-ems' \
        -- -tls1_2 -cert "$PKI/client-rsa.pem" -key "$PKI/client-rsa.key"
    CASE=ems-off-allowed-logged
    ok=0; has '^W: R36 relaxed by option: TLSv1\.2 session without extended master secret accepted' \
        "$DTP_WORK/scp-legacy.log" || ok=1
    check "$ok" "the SCP did not log the relaxation (R36 relaxed by option)"
    ok=0; has '^W: R36 relaxed by explicit option' "$DTP_WORK/scp-legacy.log" || ok=1
    check "$ok" "the SCP did not log at start that R36 is relaxed"
fi

# =================================================================== 7. SNI
# s_server -servername NAME -cert2/-key2: a client naming NAME is switched to
# the second context, and s_server prints the name it got. (That context
# has no ALPN callback, so no -alpn here.)
SNI=(-servername localhost -cert2 "$PKI/server-ec.pem" -key2 "$PKI/server-ec.key")
first=$(getent hosts localhost 2>/dev/null | awk '{ print $1; exit }' || true)
if [ "$first" = 127.0.0.1 ]; then
    scu_case sni-localhost localhost connect - "dtp-storescu to host localhost" \
        -srv '^Hostname in TLS extension: "localhost"' -srv '^Switching server context' \
        -scu 'sni=localhost' -- "${SNI[@]}"
else
    echo "NOTE: sni-localhost skipped: localhost resolves to '${first:-nothing}', not 127.0.0.1 (getent hosts localhost)"
fi
scu_case sni-ip 127.0.0.1 connect - "dtp-storescu to 127.0.0.1 (IP literal)" \
    -srv-lacks 'Hostname in TLS extension' -srv-lacks 'Switching server context' -- "${SNI[@]}"

# Nothing is ever stored by a handshake check.
for cert in rsa ec; do dtp_check_empty "stored-$cert" "$DTP_WORK/out-$cert"; done

echo "rows in ${IX_RESULTS#"$DTP_BUILD_DIR"/}"
ix_done
