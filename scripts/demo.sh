#!/usr/bin/env bash
# README command one: install dependencies, build, make a test CA and
# certificates, and send DICOM objects from dtp-storescu to dtp-storescp over
# TLS (profile bcp195-8996 (B.12) by default; DEMO_PROFILE=bcp195-8996-mod etc.) on 127.0.0.1.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
profile=${DEMO_PROFILE:-bcp195-8996}
"$top/scripts/install-deps.sh"
"$top/scripts/build.sh"
bin=${BUILD_DIR:-$top/build}/apps

. "$top/tests/e2e/lib.sh"
dtp_init demo
echo "== making a test CA, certificates and DICOM objects in $DTP_WORK"
bash "$top/tests/fixtures/make_pki.sh" "$DTP_WORK/pki"
bash "$top/tests/fixtures/make_dicom.sh" "$DTP_WORK/data"
pki=$DTP_WORK/pki
mkdir -p "$DTP_WORK/received"

port=$(dtp_free_port)
echo "== dtp-storescp --profile $profile on 127.0.0.1:$port"
dtp_start scp "$bin/dtp-storescp" --bind 127.0.0.1 --profile "$profile" -v \
  +tls "$pki/server-rsa.key" "$pki/server-rsa.pem" +cf "$pki/ca.pem" -od "$DTP_WORK/received" "$port"
dtp_wait_port "$port" || dtp_fail "dtp-storescp did not start"

echo "== dtp-storescu --profile $profile 127.0.0.1 $port <objects>"
"$bin/dtp-storescu" --profile "$profile" +tls "$pki/client-rsa.key" "$pki/client-rsa.pem" +cf "$pki/ca.pem" \
  127.0.0.1 "$port" "$DTP_WORK/data/small" "$DTP_WORK/data/medium" "$DTP_WORK/data/tree"

mapfile -t sent < <(find "$DTP_WORK/data" -type f | sort)
dtp_same_tree "${sent[@]}" -- "$DTP_WORK/received"
echo "== the SCP saw:"
grep -E 'TLS|stored|ended' "$DTP_WORK/scp.log" | sed 's/^/   /'
echo "== demo passed: ${#sent[@]} objects received over TLS, datasets byte-identical"
