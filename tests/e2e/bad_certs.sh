#!/bin/bash
# bad_certs.sh client|server PROFILE -- certificates a user will meet, refused
# with the documented reason and nothing stored.
#
#   client PROFILE: dtp-storescu (under PROFILE) checks the SCP's certificate.
#     other-server-rsa (another CA)          -> 204 PEER_CERT_UNTRUSTED
#     expired-server-rsa                     -> 205 PEER_CERT_EXPIRED
#     revoked-server-rsa, SCU --crl crl.pem  -> 206 PEER_CERT_REVOKED
#       (control: without --crl the same server is accepted)
#     rsa1024-server                         -> 207 PEER_CERT_WEAK (B5, E5);
#       the SCP itself may only use that key under bcp195 --relax-key-sizes
#       (OWN_KEY_WEAK otherwise), so it runs that way whatever PROFILE is.
#     good server, SCU trusts only other-ca  -> 204 PEER_CERT_UNTRUSTED
#   server PROFILE: dtp-storescp (under PROFILE, --crl crl.pem) checks the
#   client's certificate, and logs the reason:
#     other-client-rsa -> 204, expired-client-rsa -> 205,
#     revoked-client-rsa -> 206, rsa1024-client -> 207 (that SCU runs under
#     bcp195 --relax-key-sizes: it may not use the key otherwise),
#     no client certificate (--profile without +tls) -> 203 PEER_CERT_MISSING;
#     with -vc the same SCU succeeds, while a bad certificate is still refused.
#
# In every refused case: the SCU exits 4 (TLS refused) with a handshake
# reason (2xx) -- in server mode 209 PEER_ALERT, as the SCP refused us with a
# TLS alert -- stores nothing ("0 of 1 objects stored"), the SCP logs an
# A-P-ABORT for the association, and the SCP's output directory stays empty
# (no temporary files either).
#
# Every check runs; the failures are listed together at the end.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/checks.sh"

[ $# -eq 2 ] || { echo "usage: $0 client|server PROFILE" >&2; exit 1; }
MODE=$1 PROFILE=$2
case $MODE in client | server) ;; *) echo "$0: mode must be client or server" >&2; exit 1 ;; esac
case $PROFILE in bcp195 | bcp195-nd | bcp195-ex | cryptrec | bcp195-8996 | bcp195-8996-mod) ;;
    *) echo "$0: unknown profile $PROFILE" >&2; exit 1 ;; esac

dtp_init "bad-certs-$MODE-$PROFILE"
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}"
dtp_need_cmd timeout setsid
PKI=$DTP_PKI
OBJ=$DTP_DATA/small/small-1.dcm
[ -f "$OBJ" ] || dtp_fail "fixture object $OBJ missing"

# start_scp NAME PROFILE CERTNAME [ARGS...]: dtp-storescp with CERTNAME.key/.pem
# on 127.0.0.1:$SCP_PORT, output directory $DTP_WORK/out-NAME, log NAME.log.
start_scp() {
    local name=$1 profile=$2 cert=$3; shift 3
    SCP_PORT=$(dtp_free_port)
    SCP_LOG=$DTP_WORK/$name.log
    SCP_OUT=$DTP_WORK/out-$name
    mkdir -p "$SCP_OUT"
    dtp_start "$name" "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 --profile "$profile" \
        +tls "$PKI/$cert.key" "$PKI/$cert.pem" +cf "$PKI/ca.pem" "$@" \
        -od "$SCP_OUT" -v "$SCP_PORT"
    dtp_wait_port "$SCP_PORT" 127.0.0.1 10 ||
        dtp_fail "dtp-storescp --profile $profile with $cert did not listen on 127.0.0.1:$SCP_PORT"
}

SCU=("$DTP_BIN/dtp-storescu" -v)
ABORT='association from 127\.0\.0\.1:[0-9]+: A-P-ABORT, provider reason'

# refused CASE SCU-REASON SCP-REASON SCU-ARGS...: the SCU (run against
# $SCP_PORT) must be refused: exit 4, SCU-REASON ("NNN NAME" or a pattern) in
# its output, nothing stored; the SCP logs SCP-REASON for the association.
refused() {
    local c=$1 scu_reason=$2 scp_reason=$3 mark; shift 3
    mark=$(dtp_log_lines "$SCP_LOG")
    dtp_run_rc "$c" 4 "${SCU[@]}" "$@" 127.0.0.1 "$SCP_PORT" "$OBJ"
    dtp_out_has "$c" "E: association failed: A-P-ABORT, provider reason $scu_reason"
    dtp_out_has "$c" '^summary: 0 of 1 objects stored'
    dtp_out_lacks "$c" '^TLS: profile'
    dtp_wait_log "$c" "$SCP_LOG" "$mark" "$ABORT $scp_reason"
    dtp_check_empty "$c" "$SCP_OUT"
}

# accepted CASE SCU-ARGS...: the SCU stores the object (exit 0).
accepted() {
    local c=$1; shift
    dtp_run_rc "$c" 0 "${SCU[@]}" "$@" 127.0.0.1 "$SCP_PORT" "$OBJ"
    dtp_out_has "$c" '^summary: 1 of 1 objects stored'
}

CLIENT_CERT=(+tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem")

if [ "$MODE" = client ]; then
    # ---- The SCU checks the server certificate, and tells the SCP why with a
    # fatal TLS alert (RFC 5246 7.2.2 / RFC 8446 6.2: a fatal condition is
    # signalled before closing), which the SCP logs as 209 PEER_ALERT. A bare
    # TCP close would leave the SCP with an I/O error and no reason.
    BY_ALERT='209 PEER_ALERT'
    start_scp other-server "$PROFILE" other-server-rsa
    refused untrusted-server '204 PEER_CERT_UNTRUSTED' "$BY_ALERT" \
        --profile "$PROFILE" "${CLIENT_CERT[@]}"

    start_scp expired-server "$PROFILE" expired-server-rsa
    refused expired-server '205 PEER_CERT_EXPIRED' "$BY_ALERT" \
        --profile "$PROFILE" "${CLIENT_CERT[@]}"

    start_scp revoked-server "$PROFILE" revoked-server-rsa
    refused revoked-server '206 PEER_CERT_REVOKED' "$BY_ALERT" \
        --profile "$PROFILE" "${CLIENT_CERT[@]}" --crl "$PKI/crl.pem"
    # Control: it is the CRL that refuses it (the chain itself is good).
    accepted revoked-server-without-crl --profile "$PROFILE" "${CLIENT_CERT[@]}"

    # An SCP may serve an RSA-1024 certificate only under bcp195 with the
    # explicit relaxation (B5); the SCU under PROFILE still refuses it.
    start_scp rsa1024-server bcp195 rsa1024-server --relax-key-sizes
    refused weak-server '207 PEER_CERT_WEAK' "$BY_ALERT" \
        --profile "$PROFILE" "${CLIENT_CERT[@]}"
    if [ "$PROFILE" = bcp195 ]; then
        # B5 is a "should" under bcp195: relaxed on the SCU too, it connects.
        accepted weak-server-relaxed --profile bcp195 --relax-key-sizes "${CLIENT_CERT[@]}"
        dtp_out_has weak-server-relaxed 'W: B5 '
    fi

    # A good server, but the SCU trusts only the other CA.
    start_scp good-server "$PROFILE" server-rsa
    refused wrong-trust-anchor '204 PEER_CERT_UNTRUSTED' "$BY_ALERT" \
        --profile "$PROFILE" +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" \
        +cf "$PKI/other-ca.pem"
else
    # ---- The SCP checks the client certificate; the SCU learns of it by the
    # SCP's TLS alert.
    BY_ALERT='209 PEER_ALERT: .*fatal alert'
    start_scp scp "$PROFILE" server-rsa --crl "$PKI/crl.pem"
    for cr in other-client-rsa:'204 PEER_CERT_UNTRUSTED' \
              expired-client-rsa:'205 PEER_CERT_EXPIRED' \
              revoked-client-rsa:'206 PEER_CERT_REVOKED'; do
        cert=${cr%%:*}
        refused "$cert" "$BY_ALERT" "${cr#*:}" --profile "$PROFILE" \
            +tls "$PKI/$cert.key" "$PKI/$cert.pem" +cf "$PKI/ca.pem"
    done
    refused rsa1024-client "$BY_ALERT" '207 PEER_CERT_WEAK' --profile bcp195 \
        --relax-key-sizes +tls "$PKI/rsa1024-client.key" "$PKI/rsa1024-client.pem" \
        +cf "$PKI/ca.pem"
    refused no-client-cert "$BY_ALERT" '203 PEER_CERT_MISSING' \
        --profile "$PROFILE" +cf "$PKI/ca.pem"

    # -vc (verify if present): no certificate is fine, a bad one is not.
    start_scp scp-vc "$PROFILE" server-rsa --crl "$PKI/crl.pem" -vc
    mark=$(dtp_log_lines "$SCP_LOG")
    accepted no-client-cert-vc --profile "$PROFILE" +cf "$PKI/ca.pem"
    dtp_wait_log no-client-cert-vc "$SCP_LOG" "$mark" 'association from 127\.0\.0\.1:[0-9]+ ended: 1 objects stored'
    DTP_CHECKS=$((DTP_CHECKS + 1))
    ! grep -q 'PEER_CERT_MISSING' "$SCP_LOG" ||
        dtp_check_fail "no-client-cert-vc: the -vc SCP logged PEER_CERT_MISSING"
    DTP_CHECKS=$((DTP_CHECKS + 1))
    n=$(find "$SCP_OUT" -type f | wc -l)
    [ "$n" -eq 1 ] || dtp_check_fail "no-client-cert-vc: expected 1 stored file, found $n"
    rm -f "$SCP_OUT"/*
    refused expired-client-vc "$BY_ALERT" '205 PEER_CERT_EXPIRED' --profile "$PROFILE" \
        +tls "$PKI/expired-client-rsa.key" "$PKI/expired-client-rsa.pem" +cf "$PKI/ca.pem"
fi

dtp_checks_done
