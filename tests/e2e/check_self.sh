#!/bin/bash
# check_self.sh PROFILE KEYTYPE [BACKEND] -- dtp-check against dtp-storescp
# under PROFILE (server-KEYTYPE certificate, client certificates required,
# --tls-backend BACKEND, default openssl): the verdict row of each of the six
# profiles must be the expected one (below), so the checker and the profile
# table agree; --profile exits 0 for a profile the server meets and 2 for
# one it does not; the JSON is valid against docs/dtp-check.schema.json
# (when python3 has jsonschema) and the C-ECHO was accepted.
#
# Expected verdicts, one row per SCP profile, the columns in table order
# (bcp195 bcp195-nd bcp195-ex cryptrec bcp195-8996 bcp195-8996-mod): 1
# conforms, else the requirement ID that must be among the "shall"
# failures. The same table holds on both backends. Why each cell:
#   bcp195 row: it accepts TLS 1.0/1.1 (B2), which the others forbid (N1,
#     E1, K1, R8, M37).
#   E4 cells: TLS 1.3 accepted under bcp195-ex; M32: no TLS 1.3 under B.13.
#   bcp195-nd under cryptrec: X25519 (255 bits) below cryptrec's 256 (B5).
#   M18: a server without the TLS 1.3 CCM suites (and ChaCha20) under B.13.
#   B.12/B.13 rows: no DHE suites (R20, Q7), so not the four B1 suites
#     (B1, N2, E2, K2).
#   EC certificates: the four B1 suites are all RSA, so an EC-only server
#     meets none of B1/N2/E2/K2 (and bcp195 lists no ECDSA suite for TLS
#     1.2 at all: R3). Where a server serves some suites of a requirement,
#     those of the other key type are not applicable (README, dtp-check).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/checks.sh"

# shellcheck disable=SC2034 # read through the nameref EXPECT
declare -A EXPECT_rsa=(
    [bcp195]="1 N1 E1 K1 R8 M37"
    [bcp195-nd]="1 1 E4 B5 1 M18"
    [bcp195-ex]="1 1 1 1 1 M32"
    [cryptrec]="1 1 E4 1 1 M18"
    [bcp195-8996]="B1 N2 E2 K2 1 M18"
    [bcp195-8996-mod]="B1 N2 E2 K2 1 1")
# shellcheck disable=SC2034 # read through the nameref EXPECT
declare -A EXPECT_ec=(
    [bcp195]="B1 N2 E2 K2 R3 M32"
    [bcp195-nd]="B1 N2 E2 K2 1 M18"
    [bcp195-ex]="B1 N2 E2 K2 1 M32"
    [cryptrec]="B1 N2 E2 K2 1 M18"
    [bcp195-8996]="B1 N2 E2 K2 1 M18"
    [bcp195-8996-mod]="B1 N2 E2 K2 1 1")
[ $# -ge 2 ] || { echo "usage: $0 PROFILE rsa|ec [openssl|gnutls]" >&2; exit 1; }
PROFILE=$1 KEYTYPE=$2 BACKEND=${3:-openssl}
COLUMNS_=(bcp195 bcp195-nd bcp195-ex cryptrec bcp195-8996 bcp195-8996-mod)
case $KEYTYPE in rsa | ec) ;; *) echo "$0: KEYTYPE must be rsa or ec" >&2; exit 1 ;; esac
declare -n EXPECT=EXPECT_$KEYTYPE
[ -n "${EXPECT[$PROFILE]:-}" ] || { echo "$0: unknown profile $PROFILE" >&2; exit 1; }

dtp_init "check-self-$PROFILE-$KEYTYPE-$BACKEND"
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_SOURCE_DIR:?}"
dtp_need_cmd jq timeout setsid
# check.json-schema (DTP_CHECK_SCHEMA=1): this run is the schema's test, so
# without a validator it is skipped, never passed.
HAVE_SCHEMA=0
command -v python3 >/dev/null && python3 -c 'import jsonschema' 2>/dev/null && HAVE_SCHEMA=1
[ "${DTP_CHECK_SCHEMA:-0}" = 0 ] || [ "$HAVE_SCHEMA" = 1 ] || dtp_skip "python3 with jsonschema is not installed"
PKI=$DTP_PKI
mkdir "$DTP_WORK/out"
port=$(dtp_free_port)
dtp_start scp "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 --profile "$PROFILE" --tls-backend "$BACKEND" \
    +tls "$PKI/server-$KEYTYPE.key" "$PKI/server-$KEYTYPE.pem" +cf "$PKI/ca.pem" -od "$DTP_WORK/out" "$port"
dtp_wait_port "$port" 127.0.0.1 10 || dtp_fail "dtp-storescp did not listen on 127.0.0.1:$port"

CHECK=("$DTP_BIN/dtp-check" --no-progress +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem")
export DTP_CMD_TIMEOUT=60
JSON=$DTP_WORK/scan.json
dtp_run_rc scan 0 "${CHECK[@]}" --json "$JSON" 127.0.0.1 "$port"
[ -s "$JSON" ] || dtp_fail "no JSON written"
jq -e . "$JSON" >/dev/null || dtp_fail "dtp-check wrote invalid JSON"
echo "scan: $(jq -r '.probes | length' "$JSON") probes in $(jq -r .seconds "$JSON") s"

read -r -a want <<< "${EXPECT[$PROFILE]}"
for i in "${!COLUMNS_[@]}"; do
    p=${COLUMNS_[$i]}
    got=$(jq -r --arg p "$p" '.profiles[] | select(.profile == $p) | if .conforms then 1 else 0 end' "$JSON")
    ids=" $(jq -r --arg p "$p" '.profiles[] | select(.profile == $p) | .requirements[] | select(.ok | not)
        | select(.level == "shall") | .id | split("/")[]' "$JSON" | sort -u | paste -sd' ' -) "
    DTP_CHECKS=$((DTP_CHECKS + 1))
    if [ "${want[$i]}" = 1 ] && [ "$got" != 1 ]; then
        dtp_check_fail "graded as $p: expected to conform; shall failures:$ids"
    elif [ "${want[$i]}" != 1 ] && { [ "$got" != 0 ] || [[ $ids != *" ${want[$i]} "* ]]; }; then
        dtp_check_fail "graded as $p: expected a ${want[$i]} failure; conforms=$got, shall failures:$ids"
    fi
    echo "as $p: $(jq -r --arg p "$p" '.profiles[] | select(.profile == $p) |
        "\(.verdict) (\(.failures) failures, \(.warnings) warnings)\([.requirements[] | select(.ok | not) |
        select(.level != "info") | .id] | if length > 0 then ": " + join(" ") else "" end)"' "$JSON")"
done

# The C-ECHO went over TLS and was answered.
DTP_CHECKS=$((DTP_CHECKS + 1))
[ "$(jq -r .echo.outcome "$JSON")" = accepted ] ||
    dtp_check_fail "C-ECHO: $(jq -r '.echo | "\(.outcome) under \(.profile): \(.detail)"' "$JSON")"

# --profile: the exit code is the verdict.
other=
for i in "${!COLUMNS_[@]}"; do
    if [ "${COLUMNS_[$i]}" = "$PROFILE" ]; then
        code=0
        [ "${want[$i]}" = 1 ] || code=2
        dtp_run_rc own-profile "$code" "${CHECK[@]}" --no-echo --profile "$PROFILE" 127.0.0.1 "$port"
    elif [ "${want[$i]}" != 1 ] && [ -z "$other" ]; then
        other=${COLUMNS_[$i]}
        dtp_run_rc "profile-$other" 2 "${CHECK[@]}" --no-echo --profile "$other" 127.0.0.1 "$port"
    fi
done

# Written atomically: a JSON path that cannot be written leaves nothing.
dtp_run_rc json-unwritable 3 "${CHECK[@]}" --no-echo --json "$DTP_WORK/no/such/dir/scan.json" 127.0.0.1 "$port"
DTP_CHECKS=$((DTP_CHECKS + 1))
[ ! -e "$DTP_WORK/no" ] || dtp_check_fail "something was left at $DTP_WORK/no"

# The JSON against its schema, where python3 can check one.
if [ "$HAVE_SCHEMA" = 1 ]; then
    DTP_CHECKS=$((DTP_CHECKS + 1))
    python3 -c 'import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' \
        "$DTP_SOURCE_DIR/docs/dtp-check.schema.json" "$JSON" > "$DTP_WORK/schema.out" 2>&1 ||
        dtp_check_fail "JSON does not match docs/dtp-check.schema.json: $(tail -n 5 "$DTP_WORK/schema.out")"
else
    echo "note: python3 jsonschema not available: the JSON was not checked against its schema"
fi

DTP_CHECKS=$((DTP_CHECKS + 1))
[ -z "$(ls -A "$DTP_WORK/out")" ] || dtp_check_fail "the C-ECHO stored something: $(ls -A "$DTP_WORK/out")"
dtp_checks_done
