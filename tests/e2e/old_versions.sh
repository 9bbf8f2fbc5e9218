#!/bin/bash
# old_versions.sh -- TLS 1.0/1.1 and TLS_FALLBACK_SCSV against dtp-storescp,
# with `openssl s_client` as the old peer (peers.md).
#
#   bcp195-nd, bcp195-ex, cryptrec: a TLS 1.0 or 1.1 ClientHello (even with
#     the AES profile suite AES128-SHA at SECLEVEL 0) is refused, and the SCP
#     logs reason 201 VERSION_REFUSED (N1, E1, K1, C6).
#   bcp195: TLS 1.0 and 1.1 with AES128-SHA complete (B2), and the SCP flags
#     the association "DOWNGRADED (B6)"; so does TLS 1.2 with the fallback
#     suite. A modern client (TLS 1.3) is not flagged.
#   bcp195: a ClientHello at TLS 1.1 or 1.2 carrying TLS_FALLBACK_SCSV is an
#     inappropriate fallback (the SCP speaks TLS 1.3): refused with the
#     inappropriate_fallback alert, SCP logs reason 210 INAPPROPRIATE_FALLBACK
#     (B3, RFC 7507).
#
# Every check runs; the failures are listed together at the end.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/checks.sh"

dtp_init old-versions
: "${DTP_BIN:?}" "${DTP_PKI:?}"
dtp_need_cmd openssl timeout setsid
PKI=$DTP_PKI

# start_scp NAME PROFILE [ARGS...]: dtp-storescp on 127.0.0.1:$SCP_PORT with
# the RSA server certificate, output in $DTP_WORK/NAME.log.
start_scp() {
    local name=$1 profile=$2; shift 2
    SCP_PORT=$(dtp_free_port)
    mkdir -p "$DTP_WORK/out-$name"
    dtp_start "$name" "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 --profile "$profile" \
        +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" +cf "$PKI/ca.pem" "$@" \
        -od "$DTP_WORK/out-$name" -v "$SCP_PORT"
    dtp_wait_port "$SCP_PORT" 127.0.0.1 10 ||
        dtp_fail "dtp-storescp --profile $profile did not listen on 127.0.0.1:$SCP_PORT"
}

# The old peer, with a valid client certificate: "${S_CLIENT[@]}" -connect ...
S_CLIENT=(openssl s_client -cert "$PKI/client-rsa.pem" -key "$PKI/client-rsa.key"
          -CAfile "$PKI/ca.pem")
OLD_SUITE='AES128-SHA:@SECLEVEL=0'   # the AES TLS profile suite, TLS_RSA_WITH_AES_128_CBC_SHA
ABORT='association from 127\.0\.0\.1:[0-9]+: A-P-ABORT, provider reason'

# ---- 1. Non-downgrading profiles refuse TLS 1.0 and 1.1 (N1, E1, K1).
for profile in bcp195-nd bcp195-ex cryptrec; do
    start_scp "scp-$profile" "$profile"
    log=$DTP_WORK/scp-$profile.log
    for v in tls1 tls1_1; do
        c="$profile-$v"
        mark=$(dtp_log_lines "$log")
        dtp_run_rc "$c" '!0' "${S_CLIENT[@]}" -connect "127.0.0.1:$SCP_PORT" "-$v" -cipher "$OLD_SUITE"
        dtp_out_has "$c" 'Cipher is \(NONE\)'
        dtp_out_has "$c" 'alert protocol version'
        dtp_wait_log "$c" "$log" "$mark" "$ABORT 201 VERSION_REFUSED"
    done
    # Nothing was ever stored.
    DTP_CHECKS=$((DTP_CHECKS + 1))
    [ -z "$(ls -A "$DTP_WORK/out-scp-$profile")" ] ||
        dtp_check_fail "$profile: files in the output directory: $(ls -A "$DTP_WORK/out-scp-$profile")"
done

# ---- 2. bcp195 downgrades to TLS 1.0/1.1 + AES128-SHA, flagged (B2, B6).
start_scp scp-bcp195 bcp195
log=$DTP_WORK/scp-bcp195.log
for v in tls1:TLSv1 tls1_1:TLSv1.1 tls1_2:TLSv1.2; do
    opt=${v%%:*} name=${v#*:}
    c="bcp195-$opt-AES128-SHA"
    mark=$(dtp_log_lines "$log")
    dtp_run_rc "$c" 0 "${S_CLIENT[@]}" -connect "127.0.0.1:$SCP_PORT" "-$opt" -cipher "$OLD_SUITE"
    dtp_out_has "$c" "Protocol *: ${name//./\\.}\$"
    dtp_out_has "$c" 'Cipher *: AES128-SHA$'
    dtp_wait_log "$c" "$log" "$mark" "W: .*${name//./\\.} TLS_RSA_WITH_AES_128_CBC_SHA .*DOWNGRADED \(B6\)"
    dtp_wait_log "$c" "$log" "$mark" "association from 127\.0\.0\.1:[0-9]+: TLS ${name//./\\.} TLS_RSA_WITH_AES_128_CBC_SHA .*DOWNGRADED \(B6\)"
done

# Control: a modern client gets TLS 1.3 (B1) and is not flagged.
c=bcp195-modern
mark=$(dtp_log_lines "$log")
dtp_run_rc "$c" 0 "${S_CLIENT[@]}" -connect "127.0.0.1:$SCP_PORT"
dtp_out_has "$c" 'New, TLSv1\.3, Cipher is TLS_AES'
dtp_wait_log "$c" "$log" "$mark" 'association from 127\.0\.0\.1:[0-9]+: TLS TLSv1\.3 TLS_AES_'
DTP_CHECKS=$((DTP_CHECKS + 1))
if grep -E 'TLSv1\.3' < <(tail -n +"$((mark + 1))" "$log") | grep -c DOWNGRADED >/dev/null; then
    dtp_check_fail "$c: a TLS 1.3 association was flagged DOWNGRADED:
$(tail -n +"$((mark + 1))" "$log" | grep DOWNGRADED | dtp_quote)"
fi

# ---- 3. TLS_FALLBACK_SCSV below the server's best version is refused (B3).
for opt in tls1_1 tls1_2; do
    c="bcp195-$opt-fallback-scsv"
    mark=$(dtp_log_lines "$log")
    if [ "$opt" = tls1_1 ]; then
        dtp_run_rc "$c" '!0' "${S_CLIENT[@]}" -connect "127.0.0.1:$SCP_PORT" "-$opt" -fallback_scsv -cipher "$OLD_SUITE"
    else
        dtp_run_rc "$c" '!0' "${S_CLIENT[@]}" -connect "127.0.0.1:$SCP_PORT" "-$opt" -fallback_scsv
    fi
    dtp_out_has "$c" 'inappropriate fallback'
    dtp_out_has "$c" 'Cipher is \(NONE\)'
    dtp_wait_log "$c" "$log" "$mark" "$ABORT 210 INAPPROPRIATE_FALLBACK"
done

dtp_checks_done
