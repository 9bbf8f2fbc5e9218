#!/bin/bash
# bad_config.sh -- local configuration errors of dtp-storescu and
# dtp-storescp: each exits 3 (TLS configuration; 1 for a command-line syntax
# error) with its reason name (reasons.c) on stderr, before any connection,
# and nothing is stored. Checked on both apps wherever the option applies:
#
#   encrypted key (client-rsa-enc.key): wrong password (file or env) and no
#     password -> 104 KEY_PASSWORD; the right one via --key-password-file or
#     --key-password-env works (exit 0, object stored)
#   key of another certificate -> 105 KEY_CERT_MISMATCH
#   not-pem.pem as certificate -> 102 CERT_UNREADABLE
#   missing key file -> 103 KEY_UNREADABLE
#   RSA-1024 own key under bcp195-nd -> 106 OWN_KEY_WEAK
#   SCP +dp dh1024.pem -> 109 DH_PARAMS (control: dh2048.pem starts)
#   --profile nosuch -> 100 PROFILE_UNKNOWN
#   --profile aes, +pa, +pn, --profile basic -> 101 PROFILE_RETIRED, citing
#     Supplement 204
#   --relax-key-sizes under bcp195-nd/-ex/cryptrec (key sizes are "shall")
#     -> 111 CONFIG_INVALID
#   +tls without +cf/+cd (verification without CA) -> 111 CONFIG_INVALID
#   --profile without its value -> exit 1 (syntax)
#   --list-profiles: every Camellia suite is marked "not available with this
#     backend" (OpenSSL 3.0 has no Camellia-GCM TLS suite)
#   --print-conformance: lists every reason of reasons.c, code and name
#     (parsed from the source, so the test follows the table)
#
# Every check runs; the failures are listed together at the end.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/checks.sh"

dtp_init bad-config
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}" "${DTP_SOURCE_DIR:?}"
dtp_need_cmd timeout setsid
PKI=$DTP_PKI
OBJ=$DTP_DATA/small/small-1.dcm
[ -f "$OBJ" ] || dtp_fail "fixture object $OBJ missing"
REASONS_C=$DTP_SOURCE_DIR/dcmtls-profiles/src/reasons.c
DTP_H=$DTP_SOURCE_DIR/dcmtls-profiles/include/dtp/dtp.h
[ -f "$REASONS_C" ] && [ -f "$DTP_H" ] || dtp_fail "reasons.c / dtp.h not found under $DTP_SOURCE_DIR"
# Every command here either fails at once or finishes one small transfer.
export DTP_CMD_TIMEOUT=15

SCU=("$DTP_BIN/dtp-storescu")
SCP=("$DTP_BIN/dtp-storescp" --bind 127.0.0.1)
KEY_PW=$(head -n 1 "$PKI/key-password.txt")
echo "not-the-password" > "$DTP_WORK/wrong-password.txt"

# A good SCP that the failing SCUs would reach if they did not stop first.
GOOD_PORT=$(dtp_free_port)
GOOD_OUT=$DTP_WORK/out-good
mkdir "$GOOD_OUT"
dtp_start good-scp "${SCP[@]}" --profile bcp195-nd \
    +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" +cf "$PKI/ca.pem" -od "$GOOD_OUT" -v "$GOOD_PORT"
dtp_wait_port "$GOOD_PORT" 127.0.0.1 10 || dtp_fail "the good dtp-storescp did not listen on $GOOD_PORT"

# scu_bad CASE CODE REASON ARGS...: dtp-storescu ARGS (to the good SCP) exits
# CODE with REASON on its output.
scu_bad() {
    local c=scu-$1 code=$2 reason=$3; shift 3
    dtp_run_rc "$c" "$code" "${SCU[@]}" "$@" 127.0.0.1 "$GOOD_PORT" "$OBJ"
    dtp_out_has "$c" "$reason"
}
# scp_bad CASE CODE REASON ARGS...: dtp-storescp ARGS exits CODE with REASON
# (a wrongly started SCP is killed by dtp_run_rc's time limit and fails the
# check) and stores nothing.
scp_bad() {
    local c=scp-$1 code=$2 reason=$3 port out; shift 3
    port=$(dtp_free_port)
    out=$DTP_WORK/out-$c
    mkdir -p "$out"
    dtp_run_rc "$c" "$code" "${SCP[@]}" "$@" -od "$out" "$port"
    dtp_out_has "$c" "$reason"
    dtp_check_empty "$c" "$out"
}
# both CASE CODE REASON ARGS...: the same options on both apps; the SCU with
# the client certificate, the SCP with the server certificate, unless ARGS
# bring their own +tls (then both use it).
both() {
    local c=$1 code=$2 reason=$3; shift 3
    local own=0 a
    for a in "$@"; do [ "$a" != +tls ] || own=1; done
    if [ "$own" = 1 ]; then
        scu_bad "$c" "$code" "$reason" "$@"
        scp_bad "$c" "$code" "$reason" "$@"
    else
        scu_bad "$c" "$code" "$reason" "$@" \
            +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem"
        scp_bad "$c" "$code" "$reason" "$@" \
            +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" +cf "$PKI/ca.pem"
    fi
}
ENC=(+tls "$PKI/client-rsa-enc.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem")
CFG='E: TLS configuration: reason'

# ---- Private key password.
both wrong-password-file 3 "$CFG 104 KEY_PASSWORD" --profile bcp195-nd "${ENC[@]}" \
    --key-password-file "$DTP_WORK/wrong-password.txt"
export DTP_KEY_PW=not-the-password
both wrong-password-env 3 "$CFG 104 KEY_PASSWORD" --profile bcp195-nd "${ENC[@]}" \
    --key-password-env DTP_KEY_PW
unset DTP_KEY_PW
both no-password 3 "$CFG 104 KEY_PASSWORD" --profile bcp195-nd "${ENC[@]}"

# ---- Key and certificate files.
both key-cert-mismatch 3 "$CFG 105 KEY_CERT_MISMATCH" --profile bcp195-nd \
    +tls "$PKI/server-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem"
both cert-not-pem 3 "$CFG 102 CERT_UNREADABLE" --profile bcp195-nd \
    +tls "$PKI/client-rsa.key" "$PKI/not-pem.pem" +cf "$PKI/ca.pem"
both key-missing 3 "$CFG 103 KEY_UNREADABLE" --profile bcp195-nd \
    +tls "$DTP_WORK/no-such.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem"
scu_bad own-rsa1024 3 "$CFG 106 OWN_KEY_WEAK" --profile bcp195-nd \
    +tls "$PKI/rsa1024-client.key" "$PKI/rsa1024-client.pem" +cf "$PKI/ca.pem"
scp_bad own-rsa1024 3 "$CFG 106 OWN_KEY_WEAK" --profile bcp195-nd \
    +tls "$PKI/rsa1024-server.key" "$PKI/rsa1024-server.pem" +cf "$PKI/ca.pem"

# ---- DH parameters (SCP only).
for profile in bcp195 bcp195-nd; do
    scp_bad "dh1024-$profile" 3 "$CFG 109 DH_PARAMS" --profile "$profile" \
        +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" +cf "$PKI/ca.pem" \
        +dp "$PKI/dh1024.pem"
done

# ---- Profiles.
both profile-unknown 3 'E: reason 100 PROFILE_UNKNOWN' --profile nosuch
both profile-aes 3 'E: reason 101 PROFILE_RETIRED: .*Supplement 204' --profile aes
both profile-pa 3 'E: reason 101 PROFILE_RETIRED: .*Supplement 204' +pa
both profile-pn 3 'E: reason 101 PROFILE_RETIRED' +pn
both profile-basic 3 'E: reason 101 PROFILE_RETIRED: .*Supplement 204' --profile basic
for profile in bcp195-nd bcp195-ex cryptrec; do
    both "relax-$profile" 3 "$CFG 111 CONFIG_INVALID" --profile "$profile" --relax-key-sizes
done
both verify-without-ca 3 "$CFG 111 CONFIG_INVALID" --profile bcp195-nd \
    +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem"
# Syntax: --profile with no value (the next option is taken as its value or
# the parameter count is wrong: either way exit 1, no TLS).
dtp_run_rc scu-profile-no-value 1 "${SCU[@]}" 127.0.0.1 "$GOOD_PORT" "$OBJ" --profile
mkdir "$DTP_WORK/out-scp-profile-no-value"
dtp_run_rc scp-profile-no-value 1 "${SCP[@]}" -od "$DTP_WORK/out-scp-profile-no-value" \
    "$(dtp_free_port)" --profile
dtp_check_empty scp-profile-no-value "$DTP_WORK/out-scp-profile-no-value"

# None of the failing SCUs reached the good SCP's store.
dtp_check_empty scu-config-errors "$GOOD_OUT"

# ---- The right password works, from a file or from the environment.
dtp_run_rc scu-password-file 0 "${SCU[@]}" --profile bcp195-nd "${ENC[@]}" \
    --key-password-file "$PKI/key-password.txt" 127.0.0.1 "$GOOD_PORT" "$OBJ"
dtp_out_has scu-password-file '^summary: 1 of 1 objects stored'
export DTP_KEY_PW=$KEY_PW
dtp_run_rc scu-password-env 0 "${SCU[@]}" --profile bcp195-nd "${ENC[@]}" \
    --key-password-env DTP_KEY_PW 127.0.0.1 "$GOOD_PORT" "$OBJ"
dtp_out_has scu-password-env '^summary: 1 of 1 objects stored'
# An SCP with the encrypted key (the client certificate serves as its own).
for how in file env; do
    port=$(dtp_free_port)
    mkdir "$DTP_WORK/out-enc-$how"
    if [ "$how" = file ]; then
        dtp_start "scp-password-$how" "${SCP[@]}" --profile bcp195-nd "${ENC[@]}" \
            --key-password-file "$PKI/key-password.txt" -od "$DTP_WORK/out-enc-$how" -v "$port"
    else
        dtp_start "scp-password-$how" "${SCP[@]}" --profile bcp195-nd \
            "${ENC[@]}" --key-password-env DTP_KEY_PW -od "$DTP_WORK/out-enc-$how" -v "$port"
    fi
    DTP_CHECKS=$((DTP_CHECKS + 1))
    if dtp_wait_port "$port" 127.0.0.1 10; then
        dtp_run_rc "scp-password-$how" 0 "${SCU[@]}" --profile bcp195-nd \
            +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem" \
            127.0.0.1 "$port" "$OBJ"
        dtp_out_has "scp-password-$how" '^summary: 1 of 1 objects stored'
    else
        dtp_check_fail "scp-password-$how: dtp-storescp with the encrypted key and the right password (--key-password-$how) did not listen
$(tail -n 5 "$DTP_WORK/scp-password-$how.log" | dtp_quote)"
    fi
done
unset DTP_KEY_PW

# Control for DH_PARAMS: 2048-bit parameters are fine.
port=$(dtp_free_port)
dtp_start scp-dh2048 "${SCP[@]}" --profile bcp195-nd \
    +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" +cf "$PKI/ca.pem" \
    +dp "$PKI/dh2048.pem" -od "$DTP_WORK/out-good" -v "$port"
DTP_CHECKS=$((DTP_CHECKS + 1))
dtp_wait_port "$port" 127.0.0.1 10 ||
    dtp_check_fail "scp-dh2048: dtp-storescp +dp dh2048.pem did not listen: $(tail -n 3 "$DTP_WORK/scp-dh2048.log")"

# ---- --list-profiles: the Camellia-GCM suites are listed but not offered.
for app in dtp-storescu dtp-storescp; do
    c="$app-list-profiles"
    dtp_run_rc "$c" 0 "$DTP_BIN/$app" --list-profiles
    dtp_out_has "$c" 'TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384'
    DTP_CHECKS=$((DTP_CHECKS + 1))
    n_cam=$(grep -c 'CAMELLIA' "$DTP_LAST_OUT" || true)
    n_na=$(grep 'CAMELLIA' "$DTP_LAST_OUT" | grep -c 'not available with this backend' || true)
    # bcp195-ex and cryptrec list the six Camellia-GCM suites each (E3, K3).
    if [ "$n_cam" -lt 12 ] || [ "$n_na" -ne "$n_cam" ]; then
        dtp_check_fail "$c: expected >= 12 Camellia suite lines, all marked 'not available with this backend'; found $n_cam, $n_na marked:
$(grep CAMELLIA "$DTP_LAST_OUT" | grep -v 'not available with this backend' | dtp_quote)"
    fi
    dtp_out_lacks "$c" 'AES_[0-9]+_GCM.*not available'
done

# ---- --print-conformance: every reason of the table, code and name.
# Rows look like  HS(DTP_R_NOT_TLS, "NOT_TLS", "message", "advice"),
mapfile -t ROWS < <(grep -oE '^\s*(CFG|HS|SES|ASSOC)\(DTP_R_[A-Z0-9_]+, *"[A-Z0-9_]+"' "$REASONS_C" |
    sed -E 's/^\s*(CFG|HS|SES|ASSOC)\(DTP_R_([A-Z0-9_]+), *"([A-Z0-9_]+)"/\2 \3/')
n_macros=$(grep -cE '^\s*(CFG|HS|SES|ASSOC)\(' "$REASONS_C" || true)
[ "${#ROWS[@]}" -ge 30 ] && [ "${#ROWS[@]}" -eq "$n_macros" ] ||
    dtp_fail "could not parse the reason table of $REASONS_C: ${#ROWS[@]} rows parsed, $n_macros row macros"
for app in dtp-storescu dtp-storescp; do
    c="$app-print-conformance"
    dtp_run_rc "$c" 0 "$DTP_BIN/$app" --print-conformance
    missing=()
    for row in "${ROWS[@]}"; do
        enum=${row%% *} name=${row#* }
        code=$(sed -nE "s/^\s*DTP_R_${enum}\s*=\s*([0-9]+).*/\1/p" "$DTP_H" | head -n 1)
        if [ -z "$code" ]; then
            missing+=("$name (no code for DTP_R_$enum in dtp.h)")
        elif ! grep -Eq "^\s*$code\s+$name\b" "$DTP_LAST_OUT"; then
            missing+=("$code $name")
        fi
    done
    DTP_CHECKS=$((DTP_CHECKS + 1))
    [ ${#missing[@]} -eq 0 ] ||
        dtp_check_fail "$c: reasons of reasons.c missing from the conformance text: ${missing[*]}"
done

dtp_checks_done
