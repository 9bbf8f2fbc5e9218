#!/usr/bin/env bash
# A product built against the INSTALLED package (find_package CONFIG and
# pkg-config) opens a TLS association to dtp-storescp.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
dtp_init consumer
dtp_need_cmd cmake pkg-config

prefix=$DTP_WORK/prefix
cmake --install "$DTP_BUILD_DIR" --prefix "$prefix" >"$DTP_WORK/install.log" 2>&1 ||
    dtp_fail "cmake --install failed: $(tail -5 "$DTP_WORK/install.log")"
cmake -S "$DTP_SOURCE_DIR/tests/consumer" -B "$DTP_WORK/build" -DCMAKE_PREFIX_PATH="$prefix" \
    >"$DTP_WORK/configure.log" 2>&1 || dtp_fail "consumer configure failed: $(tail -20 "$DTP_WORK/configure.log")"
cmake --build "$DTP_WORK/build" -j2 >"$DTP_WORK/build.log" 2>&1 ||
    dtp_fail "consumer build failed: $(tail -20 "$DTP_WORK/build.log")"

# pkg-config describes the C core.
libdir=$(find "$prefix" -name dcmtls-profiles.pc -printf '%h\n' | head -1)
[ -n "$libdir" ] || dtp_fail "dcmtls-profiles.pc not installed"
PKG_CONFIG_PATH=$libdir pkg-config --cflags --libs dcmtls-profiles >"$DTP_WORK/pc.out" ||
    dtp_fail "pkg-config cannot read dcmtls-profiles.pc"
dtp_expect_grep 'ldtp-core' "$DTP_WORK/pc.out"

port=$(dtp_free_port)
mkdir -p "$DTP_WORK/out"
dtp_start scp "$DTP_BIN/dtp-storescp" --profile bcp195-ex +tls "$DTP_PKI/server-rsa.key" "$DTP_PKI/server-rsa.pem" \
    +cf "$DTP_PKI/ca.pem" -od "$DTP_WORK/out" "$port"
dtp_wait_port "$port" || dtp_fail "dtp-storescp did not start"
dtp_expect_exit 0 "$DTP_WORK/build/dtp-echo" bcp195-ex "$DTP_PKI/client-rsa.key" "$DTP_PKI/client-rsa.pem" \
    "$DTP_PKI/ca.pem" 127.0.0.1 "$port"
dtp_expect_grep '^C-ECHO over TLS: TLSv1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256' "$DTP_WORK/last.out"
# The same product gets the reason, not a bare network error, when refused.
dtp_expect_exit 4 "$DTP_WORK/build/dtp-echo" bcp195-ex "$DTP_PKI/client-rsa.key" "$DTP_PKI/client-rsa.pem" \
    "$DTP_PKI/other-ca.pem" 127.0.0.1 "$port"
dtp_expect_grep 'reason 204 PEER_CERT_UNTRUSTED' "$DTP_WORK/last.out"
echo "PASS: consumer"
