#!/bin/bash
# weak_dh.sh -- dtp-storescu against a server that picks a 1024-bit DH group.
#
# The weak server is `openssl s_server -dhparam dh1024.pem` with only
# DHE-RSA-AES128-GCM-SHA256 at TLS 1.2 and SECLEVEL 0 (peers.md), so DHE is
# the only way to agree. For EVERY profile the SCU must abort the handshake:
# exit 4, reason 208 EPHEMERAL_KEY_WEAK (E5; B5 for bcp195, whose own check
# replaces OpenSSL's at security level 0), and it tells the server why with a
# fatal TLS alert before closing (RFC 5246 7.2.2; a bare TCP close tells the
# server nothing). Stock DCMTK accepts this group.
#
# Controls:
#   - the same server with dh2048.pem (RFC 7919 ffdhe2048): the handshake
#     passes (the SCU logs the negotiated DHE suite with group=DH/2048bits).
#     s_server is not DICOM and never answers the A-ASSOCIATE-RQ, so the SCU
#     then fails on its ACSE timeout (-ta 1): "DUL network read timeout",
#     exit 7 (network, no TLS reason) -- never reason 208, never exit 4.
#   - bcp195 with --relax-key-sizes accepts the 1024-bit group and logs the
#     relaxation (B5: a "should" relaxed only by an explicit, logged option).
#
# Every check runs; the failures are listed together at the end.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/checks.sh"

dtp_init weak-dh
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}"
dtp_need_cmd openssl timeout setsid
PKI=$DTP_PKI
OBJ=$DTP_DATA/small/small-1.dcm
[ -f "$OBJ" ] || dtp_fail "fixture object $OBJ missing"

PROFILES=(bcp195 bcp195-nd bcp195-ex cryptrec)

# start_weak_server NAME DHFILE ACCEPTS: s_server on 127.0.0.1:$SRV_PORT.
# -naccept leaves one accept spare for dtp_wait_port's probe connection; the
# server is stopped by PID at exit in any case.
start_weak_server() {
    local name=$1 dh=$2 n=$3
    SRV_PORT=$(dtp_free_port)
    SRV_LOG=$DTP_WORK/$name.log
    dtp_start "$name" openssl s_server -accept "127.0.0.1:$SRV_PORT" \
        -cert "$PKI/server-rsa.pem" -key "$PKI/server-rsa.key" -dhparam "$dh" \
        -cipher 'DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0' -tls1_2 -naccept "$((n + 1))"
    dtp_wait_port "$SRV_PORT" 127.0.0.1 10 ||
        dtp_fail "openssl s_server ($name) did not listen on 127.0.0.1:$SRV_PORT"
}

# "${SCU[@]}" --profile P [OPTIONS] 127.0.0.1 PORT FILE; -ta 1: s_server never
# answers the A-ASSOCIATE-RQ, so a passed handshake ends on the ACSE timeout.
SCU=("$DTP_BIN/dtp-storescu" -v -ta 1
     +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem")

# ---- 1. dh1024: refused by every profile (E5, B5).
start_weak_server weak1024 "$PKI/dh1024.pem" "${#PROFILES[@]}"
for profile in "${PROFILES[@]}"; do
    c="dh1024-$profile"
    mark=$(dtp_log_lines "$SRV_LOG")
    dtp_run_rc "$c" 4 "${SCU[@]}" --profile "$profile" 127.0.0.1 "$SRV_PORT" "$OBJ"
    dtp_out_has "$c" 'E: association failed: A-P-ABORT, provider reason 208 EPHEMERAL_KEY_WEAK'
    dtp_out_has "$c" 'summary: 0 of 1 objects stored'
    dtp_out_lacks "$c" '^TLS: profile'
    # The SCU aborts with a fatal TLS alert, not a bare TCP close (RFC 5246
    # 7.2.2): s_server then logs "SSL alert number N" instead of
    # "unexpected eof while reading".
    dtp_wait_log "$c-sends-alert" "$SRV_LOG" "$mark" 'SSL alert number [0-9]+'
done

# ---- 2. Control: dh2048 passes the handshake under every profile.
start_weak_server strong2048 "$PKI/dh2048.pem" "${#PROFILES[@]}"
for profile in "${PROFILES[@]}"; do
    c="dh2048-$profile"
    dtp_run_rc "$c" 7 "${SCU[@]}" --profile "$profile" 127.0.0.1 "$SRV_PORT" "$OBJ"
    dtp_out_has "$c" 'TLS TLSv1\.2 TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 group=DH/2048bits'
    dtp_out_has "$c" 'E: association failed: DUL network read timeout'
    dtp_out_lacks "$c" 'reason 208|EPHEMERAL_KEY_WEAK'
done

# ---- 3. bcp195 --relax-key-sizes: accepted, and the relaxation is logged (B5).
start_weak_server relaxed1024 "$PKI/dh1024.pem" 1
c=dh1024-bcp195-relaxed
dtp_run_rc "$c" 7 "${SCU[@]}" --profile bcp195 --relax-key-sizes 127.0.0.1 "$SRV_PORT" "$OBJ"
dtp_out_has "$c" 'W: B5 .*relaxed'
dtp_out_has "$c" 'W: B5 relaxed by option: peer ephemeral DH key of 1024 bits accepted'
dtp_out_has "$c" 'TLS TLSv1\.2 TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 group=DH/1024bits'
dtp_out_lacks "$c" 'reason 208|EPHEMERAL_KEY_WEAK'

dtp_checks_done
