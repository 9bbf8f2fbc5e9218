#!/bin/bash
# camellia_apps.sh PROFILE -- every Camellia-GCM suite PROFILE lists (E3,
# K3, M21), negotiated between dtp-storescu and dtp-storescp on the GnuTLS
# backend, in both roles: once with the SCU narrowed to that one suite
# (+cs SUITE) against an SCP with the whole profile, once with the SCP
# narrowed to it against an SCU with the whole profile. Each time both
# sides log exactly that suite and the object arrives.
#
# And the OpenSSL backend, which has no Camellia-GCM suite: narrowed to one
# it refuses to start (110 NO_SUITE_AVAILABLE, exit 3); with the whole
# profile against an SCP narrowed to Camellia it gets no shared suite (the
# SCP logs 202 NO_SHARED_SUITE, the SCU exits 4).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/checks.sh"
. "$HERE/interop_lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 PROFILE" >&2; exit 1; }
PROFILE=$1
dtp_init "camellia-apps-$PROFILE"
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}"
dtp_need_cmd timeout setsid
PKI=$DTP_PKI
FILE=$DTP_DATA/small/small-1.dcm
case " $("$DTP_BIN/dtp-storescu" --help 2>&1 | sed -n 's/.*TLS library: //p') " in
    *gnutls*) ;;
    *) dtp_skip "dtp-storescu has no GnuTLS backend in this build" ;;
esac
ix_load_profiles gnutls
ix_known_profile "$PROFILE"
SUITES=()
for s in ${IX_TLS12[$PROFILE]}; do [[ $s != *CAMELLIA*GCM* ]] || SUITES+=("$s"); done
[ ${#SUITES[@]} -gt 0 ] || dtp_fail "profile $PROFILE lists no Camellia-GCM suite"
export DTP_CMD_TIMEOUT=30

# keytype SUITE: the server certificate the suite needs
keytype() { case $1 in *_ECDSA_*) echo ec ;; *) echo rsa ;; esac; }

# scp NAME KEYTYPE BACKEND [+cs SUITE]: an SCP; its port in PORT[NAME]
declare -A PORT=()
scp() {
    local name=$1 kt=$2 be=$3; shift 3
    PORT[$name]=$(dtp_free_port)
    mkdir -p "$DTP_WORK/out-$name"
    dtp_start "scp-$name" "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 --profile "$PROFILE" --tls-backend "$be" "$@" \
        +tls "$PKI/server-$kt.key" "$PKI/server-$kt.pem" +cf "$PKI/ca.pem" -od "$DTP_WORK/out-$name" "${PORT[$name]}"
}
# scu CASE CODE NAME BACKEND [+cs SUITE]: dtp-storescu to SCP NAME
scu() {
    local c=$1 code=$2 name=$3 be=$4; shift 4
    dtp_run_rc "$c" "$code" "$DTP_BIN/dtp-storescu" --profile "$PROFILE" --tls-backend "$be" "$@" \
        +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem" 127.0.0.1 "${PORT[$name]}" "$FILE"
}

scp whole-rsa rsa gnutls
scp whole-ec ec gnutls
for i in "${!SUITES[@]}"; do scp "one-$i" "$(keytype "${SUITES[$i]}")" gnutls +cs "${SUITES[$i]}"; done
for name in "${!PORT[@]}"; do
    dtp_wait_port "${PORT[$name]}" 127.0.0.1 10 || dtp_fail "SCP $name did not listen"
done

for i in "${!SUITES[@]}"; do
    s=${SUITES[$i]}
    scu "scu-narrowed-$s" 0 "whole-$(keytype "$s")" gnutls +cs "$s"
    dtp_out_has "scu-narrowed-$s" "^TLS: profile $PROFILE: TLSv1\.2 $s "
    scu "scp-narrowed-$s" 0 "one-$i" gnutls
    dtp_out_has "scp-narrowed-$s" "^TLS: profile $PROFILE: TLSv1\.2 $s "
    DTP_CHECKS=$((DTP_CHECKS + 1))
    [ "$(grep -c "association from .*: TLS TLSv1\.2 $s " "$DTP_WORK/scp-one-$i.log")" -ge 1 ] ||
        dtp_check_fail "SCP narrowed to $s did not log it"
    echo "negotiated both ways: $s"
done

# OpenSSL: no Camellia-GCM at all.
scu openssl-narrowed 3 whole-rsa openssl +cs "${SUITES[0]}"
dtp_out_has openssl-narrowed 'reason 110 NO_SUITE_AVAILABLE'
scu openssl-vs-camellia 4 one-0 openssl
dtp_wait_log openssl-vs-camellia "$DTP_WORK/scp-one-0.log" 0 "provider reason 202 NO_SHARED_SUITE" 10

dtp_checks_done
