#!/bin/bash
# check_bad_input.sh -- dtp-check against targets that are not a TLS DICOM
# node: each gets its own message and exit code within the probe timeout,
# never a hang, a crash or "conforms".
#
#   target                                   exit  stable words on stderr
#   a closed port on 127.0.0.1                  7  "unreachable"
#   a name that does not resolve (.invalid)     7  "unreachable"
#   plain DICOM (dtp-storescp without TLS)      9  "does not speak TLS" (C1)
#   HTTP (python3 -m http.server)               9  "does not speak TLS"
#   a server that accepts and never answers     7  "did not finish a handshake"
#   a bad command line (no port)                1
#   an unreadable client certificate            3
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/checks.sh"

dtp_init check-bad-input
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_BUILD_DIR:?}"
dtp_need_cmd timeout setsid python3
PKI=$DTP_PKI
CHECK=("$DTP_BIN/dtp-check" --no-progress --probe-timeout 1000 +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem"
       +cf "$PKI/ca.pem")
PROXY=$DTP_BUILD_DIR/tests/tools/dtp-faultproxy
export DTP_CMD_TIMEOUT=30

# timed CASE CODE ARGS...: dtp_run_rc with the wall time checked (< 15 s)
timed() {
    local c=$1 code=$2 t0=$SECONDS; shift 2
    dtp_run_rc "$c" "$code" "$@"
    DTP_CHECKS=$((DTP_CHECKS + 1))
    [ $((SECONDS - t0)) -lt 15 ] || dtp_check_fail "$c took $((SECONDS - t0)) s"
}

port=$(dtp_free_port)
timed closed-port 7 "${CHECK[@]}" 127.0.0.1 "$port"
dtp_out_has closed-port 'unreachable'

timed no-such-name 7 "${CHECK[@]}" no-such-host.invalid 104
dtp_out_has no-such-name 'unreachable'

mkdir "$DTP_WORK/out"
plain=$(dtp_free_port)
dtp_start plain "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 -od "$DTP_WORK/out" "$plain"
dtp_wait_port "$plain" 127.0.0.1 10 || dtp_fail "plain dtp-storescp did not listen"
timed plain-dicom 9 "${CHECK[@]}" 127.0.0.1 "$plain"
dtp_out_has plain-dicom 'does not speak TLS'

# An HTTP server answers the ClientHello with text: not TLS, at once.
http=$(dtp_free_port)
mkdir "$DTP_WORK/www"
dtp_start http python3 -m http.server --bind 127.0.0.1 --directory "$DTP_WORK/www" "$http"
dtp_wait_port "$http" 127.0.0.1 10 || dtp_fail "python3 -m http.server did not listen"
timed http 9 "${CHECK[@]}" 127.0.0.1 "$http"
dtp_out_has http 'does not speak TLS'

if [ -x "$PROXY" ]; then
    silent=$(dtp_free_port)
    # The fault proxy in stall mode accepts one connection and never answers.
    dtp_start silent "$PROXY" --listen "$silent" --connect "$plain" --mode stall
    dtp_wait_port "$silent" 127.0.0.1 10 || dtp_fail "dtp-faultproxy did not listen"
    timed silent-server 7 "${CHECK[@]}" 127.0.0.1 "$silent"
    dtp_out_has silent-server 'did not finish a handshake'
    dtp_out_lacks silent-server 'conforms'
fi

timed usage 1 "$DTP_BIN/dtp-check" 127.0.0.1
timed bad-cert 3 "$DTP_BIN/dtp-check" +tls "$PKI/no-such.key" "$PKI/no-such.pem" 127.0.0.1 "$plain"

dtp_checks_done
