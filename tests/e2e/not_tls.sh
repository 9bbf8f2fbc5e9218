#!/bin/bash
# not_tls.sh dtp|dcmtk -- plain DICOM meets a TLS port and TLS meets a plain
# port (C1: a TLS port speaks TLS from the first byte; no fallback to plain).
#
#   dtp:   plain dtp-storescu (no --profile) -> TLS dtp-storescp: the SCU fails
#          (non-zero exit), the SCP logs reason 200 NOT_TLS "plain DICOM".
#          TLS dtp-storescu (each profile) -> plain dtp-storescp: the SCU exits 4
#          with reason 213 HANDSHAKE_EOF, its detail saying the port may not be
#          a TLS port (the plain SCP just closes on the TLS record, so EOF is
#          all the client sees), and it never retries in plain DICOM: the
#          plain SCP sees no A-ASSOCIATE-RQ.
#   dcmtk: stock DCMTK echoscu and storescu (plain) -> TLS dtp-storescp: the
#          same SCP reason. Skipped when DCMTK's tools are not installed.
# Nothing is stored anywhere.
#
# Every check runs; the failures are listed together at the end.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/checks.sh"

[ $# -eq 1 ] || { echo "usage: $0 dtp|dcmtk" >&2; exit 1; }
MODE=$1
case $MODE in dtp | dcmtk) ;; *) echo "$0: mode must be dtp or dcmtk" >&2; exit 1 ;; esac

dtp_init "not-tls-$MODE"
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}"
dtp_need_cmd timeout setsid
[ "$MODE" = dtp ] || dtp_need_cmd echoscu storescu
PKI=$DTP_PKI
OBJ=$DTP_DATA/small/small-1.dcm
[ -f "$OBJ" ] || dtp_fail "fixture object $OBJ missing"

# start_scp NAME ARGS...: dtp-storescp on 127.0.0.1:$SCP_PORT, output
# directory $DTP_WORK/out-NAME ($SCP_OUT), log NAME.log ($SCP_LOG).
start_scp() {
    local name=$1; shift
    SCP_PORT=$(dtp_free_port)
    SCP_LOG=$DTP_WORK/$name.log
    SCP_OUT=$DTP_WORK/out-$name
    mkdir -p "$SCP_OUT"
    dtp_start "$name" "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 "$@" \
        -od "$SCP_OUT" -v "$SCP_PORT"
    dtp_wait_port "$SCP_PORT" 127.0.0.1 10 ||
        dtp_fail "dtp-storescp ($name) did not listen on 127.0.0.1:$SCP_PORT"
}
ABORT='association from 127\.0\.0\.1:[0-9]+: A-P-ABORT, provider reason'
NOT_TLS="$ABORT 200 NOT_TLS: .*plain DICOM"

# ---- Plain clients against a TLS port.
start_scp tls-scp --profile bcp195-nd \
    +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" +cf "$PKI/ca.pem"
if [ "$MODE" = dtp ]; then
    plain_clients=("plain-dtp-storescu:$DTP_BIN/dtp-storescu")
else
    plain_clients=(echoscu:echoscu storescu:storescu)
fi
for pc in "${plain_clients[@]}"; do
    c=${pc%%:*} prog=${pc#*:}
    args=(127.0.0.1 "$SCP_PORT")
    [ "$c" = echoscu ] || args+=("$OBJ")
    mark=$(dtp_log_lines "$SCP_LOG")
    dtp_run_rc "$c" '!0' "$prog" "${args[@]}"
    dtp_out_lacks "$c" 'objects stored, 0 failed$|^summary: 1 of'
    dtp_wait_log "$c" "$SCP_LOG" "$mark" "$NOT_TLS"
    DTP_CHECKS=$((DTP_CHECKS + 1))
    if grep -q 'association request from' < <(tail -n +"$((mark + 1))" "$SCP_LOG"); then
        dtp_check_fail "$c: the TLS SCP accepted a plain A-ASSOCIATE-RQ:
$(tail -n +"$((mark + 1))" "$SCP_LOG" | dtp_quote)"
    fi
done
dtp_check_empty tls-scp "$SCP_OUT"

# ---- TLS clients against a plain port (dtp mode only).
if [ "$MODE" = dtp ]; then
    start_scp plain-scp
    for profile in bcp195 bcp195-nd bcp195-ex cryptrec; do
        c="tls-$profile-to-plain"
        mark=$(dtp_log_lines "$SCP_LOG")
        dtp_run_rc "$c" 4 "$DTP_BIN/dtp-storescu" --profile "$profile" \
            +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem" \
            127.0.0.1 "$SCP_PORT" "$OBJ"
        dtp_out_has "$c" 'E: association failed: A-P-ABORT, provider reason 213 HANDSHAKE_EOF: .*not a TLS port'
        dtp_out_has "$c" '^summary: 0 of 1 objects stored'
        # The plain SCP got the TLS ClientHello (record type 0x16) and
        # nothing else: no fallback to plain DICOM (C1).
        dtp_wait_log "$c" "$SCP_LOG" "$mark" 'association from 127\.0\.0\.1:[0-9]+ ended'
        DTP_CHECKS=$((DTP_CHECKS + 1))
        if grep -q 'association request from DTP-STORESCU' < <(tail -n +"$((mark + 1))" "$SCP_LOG"); then
            dtp_check_fail "$c: the SCU fell back to plain DICOM (C1):
$(tail -n +"$((mark + 1))" "$SCP_LOG" | dtp_quote)"
        fi
    done
    dtp_check_empty plain-scp "$SCP_OUT"
fi

dtp_checks_done
