#!/bin/bash
# dist_systemd.sh -- the systemd units in dist/:
#  * `systemd-analyze verify` accepts both units without a message;
#  * `systemd-analyze security --offline` rates the service's exposure at
#    2.0 or better, with NoNewPrivileges, ProtectSystem=strict and the
#    output directory the only path written (ReadWritePaths = -od);
#  * the service's own ExecStart command line, with the credentials replaced
#    by the test PKI and the output directory by a temporary one, run under
#    systemd-socket-activate with the socket unit's ListenStream moved to
#    127.0.0.1 and its FileDescriptorName: a transfer works and uses the
#    profile the socket names.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

dtp_init dist-systemd
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}" "${DTP_SOURCE_DIR:?}"
dtp_need_cmd systemd-analyze systemd-socket-activate jq
DIST=$DTP_SOURCE_DIR/dist
SVC=$DTP_WORK/units/dtp-storescp.service
SOCK=$DTP_WORK/units/dtp-storescp.socket
mkdir "$DTP_WORK/units"
# The installed path of the binary, as the unit says, becomes the built one.
sed "s|/usr/local/bin/dtp-storescp|$DTP_BIN/dtp-storescp|" "$DIST/dtp-storescp.service" > "$SVC"
cp "$DIST/dtp-storescp.socket" "$SOCK"

# 1. verify: silent success.
out=$(cd "$DTP_WORK/units" && systemd-analyze verify --man=no ./dtp-storescp.socket ./dtp-storescp.service 2>&1) ||
    dtp_fail "systemd-analyze verify failed: $out"
[ -z "$out" ] || dtp_fail "systemd-analyze verify printed: $out"

# 2. hardening.
(cd "$DTP_WORK/units" && systemd-analyze security --offline=true --threshold=20 ./dtp-storescp.service) \
    > "$DTP_WORK/security.txt" 2>&1 ||
    dtp_fail "exposure above 2.0: $(grep -F 'Overall exposure' "$DTP_WORK/security.txt")"
grep -F 'Overall exposure' "$DTP_WORK/security.txt"
(cd "$DTP_WORK/units" && systemd-analyze security --offline=true --json=short ./dtp-storescp.service) > "$DTP_WORK/security.json"
for field in NoNewPrivileges ProtectSystem ProtectHome PrivateDevices RestrictSUIDSGID; do
    [ "$(jq -r --arg f "$field" '.[] | select(.json_field == $f) | .set' "$DTP_WORK/security.json")" = true ] ||
        dtp_fail "systemd-analyze security: $field is not set"
done
dtp_expect_grep '^ProtectSystem=strict$' "$SVC"
rw=$(sed -n 's/^ReadWritePaths=//p' "$SVC")
od=$(tr -d '\\\n' < "$SVC" | grep -o -- '--output-directory [^ ]*' | cut -d' ' -f2)
if [ -z "$rw" ] || [ "$rw" != "$od" ]; then
    dtp_fail "ReadWritePaths '$rw' is not the output directory '$od'"
fi

# 3. ExecStart under socket activation.
cmdline=$(sed -n '/^ExecStart=/,/[^\\]$/p' "$SVC" | sed 's/^ExecStart=//; s/\\$//' | tr '\n' ' ')
args=$(sed -n 's/^Environment="DTP_STORESCP_ARGS=\(.*\)"$/\1/p' "$SVC")
CRED=$DTP_WORK/cred
mkdir "$CRED" "$DTP_WORK/out"
cp "$DTP_PKI/server-rsa.key" "$CRED/server.key"
cp "$DTP_PKI/server-rsa.pem" "$CRED/server.pem"
cp "$DTP_PKI/ca.pem" "$CRED/ca.pem"
cmdline=${cmdline//\$\{CREDENTIALS_DIRECTORY\}/$CRED}
cmdline=${cmdline//\$DTP_STORESCP_ARGS/$args}
cmdline=${cmdline//$od/$DTP_WORK/out}
read -ra CMD <<< "$cmdline"
fdname=$(sed -n 's/^FileDescriptorName=//p' "$SOCK")
[ -n "$fdname" ] || dtp_fail "no FileDescriptorName= in the socket unit"
port=$(dtp_free_port)
dtp_start scp systemd-socket-activate -l "127.0.0.1:$port" "--fdname=$fdname" "${CMD[@]}" -v
dtp_wait_port "$port" 127.0.0.1 10 || dtp_fail "systemd-socket-activate did not listen"
DTP_CMD_TIMEOUT=30 dtp_expect_exit 0 "$DTP_BIN/dtp-storescu" --profile "$fdname" \
    +tls "$DTP_PKI/client-rsa.key" "$DTP_PKI/client-rsa.pem" +cf "$DTP_PKI/ca.pem" \
    127.0.0.1 "$port" "$DTP_DATA/small/small-1.dcm"
dtp_wait_grep "listening on 127\.0\.0\.1:$port, TLS profile $fdname," "$DTP_WORK/scp.log" 10 ||
    dtp_fail "the activated service did not serve the socket with profile $fdname"
[ "$(find "$DTP_WORK/out" -type f | wc -l)" -eq 1 ] || dtp_fail "expected one stored object"
echo "PASS: dist units verified, exposure $(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$DTP_WORK/security.txt"), ExecStart works under socket activation"
