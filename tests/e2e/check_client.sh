#!/bin/bash
# check_client.sh CASE [ARG] -- dtp-check in client mode (--listen on
# 127.0.0.1, a free port): a DICOM client connects, the checker records its
# ClientHello, grades it against every profile, completes the handshake
# under bcp195 and accepts the association; the JSON is read, the table is
# for people. Cases:
#
#   dtp PROFILE  dtp-storescu --profile PROFILE sends the small objects: the
#                transfer succeeds (exit 0, "3 of 3 objects stored", nothing
#                stored by the checker: it answers, it keeps nothing), the
#                verdict row is the expected one (below), --profile makes the
#                exit code the verdict, the JSON matches the schema.
#   openssl      openssl s_client with a TLS 1.1 + CBC offer: N1 under
#                bcp195-nd, E1, K1, R8, M37 elsewhere; the handshake completes
#                (bcp195 allows TLS 1.1 with TLS_RSA_WITH_AES_128_CBC_SHA, B2).
#   gnutls       gnutls-cli with a Camellia-GCM-only TLS 1.2 offer: the
#                checker (OpenSSL, no Camellia-GCM) cannot complete the
#                handshake and grades the hello anyway: E3 met, K3 warns (6 of
#                8), E2/N2/K2/B1 fail (none of the four B1 suites), R21 warns
#                (none of RFC 9325's four), B.13 conforms (M24: one M21 suite).
#   stock        stock DCMTK 3.6.7 storescu +px, +py, +pz (and echoscu +py:
#                the C-ECHO is answered): their verdict rows are printed; +px lists TLS 1.1 and 1.0 in supported_versions
#                (N1 under bcp195-nd); each offers SHA-1 signature schemes
#                (DCMTK sets OpenSSL's security level 0, whose defaults keep
#                them: R32 under B.12, M10 under B.13); +pz meets bcp195-ex.
#   bad          the bounds: no +tls (1), nobody connects within --timeout (7,
#                in time), the port taken (8), a plain DICOM client (9), an
#                unwritable JSON path (3), --count 2 (two clients in the JSON).
#
# Expected verdicts of the dtp case, one row per client profile, the columns
# in table order (bcp195 bcp195-nd bcp195-ex cryptrec bcp195-8996
# bcp195-8996-mod): 1 conforms, else an ID that must be among the "shall"
# failures. Why each cell (every client offers what its row lists):
#   bcp195 row: supported_versions lists TLS 1.1 and 1.0 (B2), which the
#     others forbid (N1, E1, K1, R8, M37); besides: TLS 1.3 and static RSA
#     CBC (E4), X25519 (E5, B5 under cryptrec, M17), SHA-1 schemes at
#     security level 0 (R32, M10), TLS_RSA_WITH_AES_128_CBC_SHA (M26/M5/M8).
#   bcp195-nd row: TLS 1.3 offered (E4), X25519 (E5; B5 under cryptrec's
#     256 bits; M17), EdDSA/DSA/SHA-224 schemes (OpenSSL's defaults: M12/M14).
#   bcp195-ex row: TLS 1.2 only with NIST curves: meets every row but B.13,
#     whose closed lists exclude the EdDSA/DSA/SHA-224 schemes (M12/M14).
#   cryptrec row: TLS 1.3 offered (E4); M12/M14 as bcp195-ex.
#   B.12/B.13 rows: no DHE suites (R20, Q7), so not the four B1 suites (B1,
#     N2, E2, K2); TLS 1.3 (E4); B.12 offers X25519 (E5, B5, M17); B.13's
#     closed lists hold for B.12 (R1 warns on the CCM suites).
# Every row conforms to itself; under B.12/B.13 R26 warns: OpenSSL 3.0
# clients list the compressed EC point formats.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/checks.sh"

declare -A EXPECT=(
    [bcp195]="1 N1 E1 K1 R8 M37"
    [bcp195-nd]="1 1 E4 B5 1 M17"
    [bcp195-ex]="1 1 1 1 1 M12"
    [cryptrec]="1 1 E4 1 1 M12"
    [bcp195-8996]="B1 N2 E2 K2 1 M17"
    [bcp195-8996-mod]="B1 N2 E2 K2 1 1")
COLUMNS_=(bcp195 bcp195-nd bcp195-ex cryptrec bcp195-8996 bcp195-8996-mod)

[ $# -ge 1 ] || { echo "usage: $0 dtp PROFILE | openssl | gnutls | stock | bad" >&2; exit 1; }
CASE=$1
dtp_init "check-client-$CASE${2:+-$2}"
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}" "${DTP_SOURCE_DIR:?}"
dtp_need_cmd jq timeout setsid
PKI=$DTP_PKI
export DTP_CMD_TIMEOUT=60
export TCP_NODELAY=1 # stock tools: no Nagle + delayed ACK stalls
mapfile -t SMALL < <(find "$DTP_DATA/small" -name '*.dcm' -type f | sort)
[ ${#SMALL[@]} -eq 3 ] || dtp_fail "expected 3 small fixture objects, found ${#SMALL[@]}"
CHECK=("$DTP_BIN/dtp-check" --no-progress +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" +cf "$PKI/ca.pem")

# start_checker NAME ARGS...: dtp-check --listen 127.0.0.1:$PORT ARGS in the
# background, JSON to $DTP_WORK/NAME.json; sets PORT and CHECKER.
start_checker() {
    local name=$1
    shift
    PORT=$(dtp_free_port)
    dtp_start "$name" timeout -k 5 90 "${CHECK[@]}" --listen "127.0.0.1:$PORT" --timeout 30 \
        --json "$DTP_WORK/$name.json" "$@"
    CHECKER=${DTP_PIDS[${#DTP_PIDS[@]} - 1]}
    dtp_wait_port "$PORT" 127.0.0.1 10 || dtp_fail "dtp-check did not listen on 127.0.0.1:$PORT"
}

# checker_done NAME WANT: the checker exits WANT (it ends after its clients).
checker_done() {
    local rc=0
    wait "$CHECKER" || rc=$?
    DTP_CHECKS=$((DTP_CHECKS + 1))
    [ "$rc" = "$2" ] || dtp_check_fail "$1: dtp-check exited $rc, expected $2
$(tail -n 20 "$DTP_WORK/$1.log" | dtp_quote)"
}

# verdicts JSON [CLIENT]: one line per profile: verdict, failed IDs.
verdicts() {
    jq -r --argjson c "${2:-0}" '.clients[$c].profiles[] | "  \(.profile): \(.verdict)\([.requirements[] |
        select(.ok | not) | select(.level != "info") | "\(.id)(\(.level))"] |
        if length > 0 then ": " + join(" ") else "" end)"' "$1"
}

# shall_ids JSON PROFILE: " ID ID ... " of the violated shall findings.
shall_ids() {
    echo " $(jq -r --arg p "$2" '.clients[0].profiles[] | select(.profile == $p) | .requirements[] |
        select(.ok | not) | select(.level == "shall") | .id | split("/")[]' "$1" | sort -u | paste -sd' ' -) "
}

# expect_finding JSON PROFILE ID OK LEVEL: a finding citing ID with ok and level.
expect_finding() {
    DTP_CHECKS=$((DTP_CHECKS + 1))
    jq -e --arg p "$2" --arg id "$3" --argjson ok "$4" --arg l "$5" '[.clients[0].profiles[] |
        select(.profile == $p) | .requirements[] | select((.id | split("/") | index($id)) != null) |
        select(.ok == $ok and .level == $l)] | length > 0' "$1" >/dev/null ||
        dtp_check_fail "${1##*/}: expected a finding $3 ok=$4 ($5) under $2; got:
$(jq -r --arg p "$2" '.clients[0].profiles[] | select(.profile == $p) | .requirements[] |
    "\(.id) \(.level) ok=\(.ok): \(.evidence)"' "$1" | dtp_quote)"
}

# expect_json JSON FILTER WHAT: jq -e FILTER holds.
expect_json() {
    DTP_CHECKS=$((DTP_CHECKS + 1))
    jq -e "$2" "$1" >/dev/null || dtp_check_fail "${1##*/}: expected $3 ($2)"
}

schema_check() {
    if command -v python3 >/dev/null && python3 -c 'import jsonschema' 2>/dev/null; then
        DTP_CHECKS=$((DTP_CHECKS + 1))
        python3 -c 'import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' \
            "$DTP_SOURCE_DIR/docs/dtp-check.schema.json" "$1" >"$DTP_WORK/schema.out" 2>&1 ||
            dtp_check_fail "${1##*/} does not match docs/dtp-check.schema.json: $(tail -n 5 "$DTP_WORK/schema.out")"
    else
        echo "note: python3 jsonschema not available; the schema is not checked"
    fi
}

case $CASE in
dtp)
    PROFILE=${2:?usage: $0 dtp PROFILE}
    [ -n "${EXPECT[$PROFILE]:-}" ] || { echo "$0: unknown profile $PROFILE" >&2; exit 1; }
    SCU=("$DTP_BIN/dtp-storescu" --profile "$PROFILE" +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem"
         +cf "$PKI/ca.pem")
    start_checker all
    dtp_run_rc scu 0 "${SCU[@]}" 127.0.0.1 "$PORT" "${SMALL[@]}"
    dtp_out_has scu 'summary: 3 of 3 objects stored'
    checker_done all 0
    J=$DTP_WORK/all.json
    jq -e . "$J" >/dev/null || dtp_fail "dtp-check wrote invalid JSON"
    echo "client $PROFILE:"
    verdicts "$J"
    expect_json "$J" '.mode == "client" and (.clients | length) == 1' "one client"
    expect_json "$J" '.clients[0].handshake.completed and .clients[0].hellos == 1' "a completed handshake"
    expect_json "$J" '.clients[0].dicom.association == "accepted" and .clients[0].dicom.stores == 3' \
        "the association accepted and three C-STOREs answered"
    read -r -a want <<< "${EXPECT[$PROFILE]}"
    for i in "${!COLUMNS_[@]}"; do
        p=${COLUMNS_[$i]}
        got=$(jq -r --arg p "$p" '.clients[0].profiles[] | select(.profile == $p) | if .conforms then 1 else 0 end' "$J")
        ids=$(shall_ids "$J" "$p")
        DTP_CHECKS=$((DTP_CHECKS + 1))
        if [ "${want[$i]}" = 1 ] && [ "$got" != 1 ]; then
            dtp_check_fail "graded as $p: expected to conform; shall failures:$ids"
        elif [ "${want[$i]}" != 1 ] && { [ "$got" != 0 ] || [[ $ids != *" ${want[$i]} "* ]]; }; then
            dtp_check_fail "graded as $p: expected a ${want[$i]} failure; conforms=$got, shall failures:$ids"
        fi
    done
    schema_check "$J"

    # --profile: the exit code is the verdict (own row 0; a failing one 2).
    start_checker own --profile "$PROFILE"
    dtp_run_rc scu-own 0 "${SCU[@]}" 127.0.0.1 "$PORT" "${SMALL[0]}"
    checker_done own 0
    expect_json "$DTP_WORK/own.json" "[.clients[0].profiles[].profile] == [\"$PROFILE\"]" "one profile graded"
    for i in "${!COLUMNS_[@]}"; do
        if [ "${want[$i]}" != 1 ]; then
            start_checker other --profile "${COLUMNS_[$i]}"
            dtp_run_rc scu-other 0 "${SCU[@]}" 127.0.0.1 "$PORT" "${SMALL[0]}"
            checker_done other 2
            break
        fi
    done
    ;;
openssl)
    dtp_need_cmd openssl
    start_checker tls11
    # -tls1_1 alone: no supported_versions; SECLEVEL=0 so OpenSSL signs TLS 1.1.
    dtp_run_rc s_client 0 openssl s_client -connect "127.0.0.1:$PORT" -tls1_1 \
        -cipher 'AES128-SHA:ECDHE-RSA-AES128-SHA:@SECLEVEL=0' \
        -cert "$PKI/client-rsa.pem" -key "$PKI/client-rsa.key"
    checker_done tls11 0
    J=$DTP_WORK/tls11.json
    echo "openssl s_client -tls1_1:"
    verdicts "$J"
    expect_json "$J" '.clients[0].hello.legacy_version == "TLSv1.1" and .clients[0].hello.supported_versions == null' \
        "a TLS 1.1 hello without supported_versions"
    expect_json "$J" '[.clients[0].hello.suites[].name] == ["TLS_RSA_WITH_AES_128_CBC_SHA",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"]' "the two CBC suites in order"
    expect_json "$J" '.clients[0].handshake.completed and (.clients[0].handshake.detail | test("TLSv1.1"))' \
        "a TLS 1.1 handshake (bcp195 allows it, B2)"
    expect_json "$J" '.clients[0].dicom.association == "none"' "no association (s_client speaks no DICOM)"
    expect_finding "$J" bcp195-nd N1 false shall
    expect_finding "$J" bcp195-nd N3 false should
    expect_finding "$J" bcp195-ex E1 false shall
    expect_finding "$J" bcp195-ex E4 false shall
    expect_finding "$J" cryptrec K1 false shall
    expect_finding "$J" bcp195-8996 R8 false shall
    expect_finding "$J" bcp195-8996 R22 false should
    expect_finding "$J" bcp195-8996-mod M37 false shall
    expect_finding "$J" bcp195-8996-mod M8 false shall
    expect_finding "$J" bcp195 B6 true info # the downgrade is allowed, flagged (B2, B6)
    schema_check "$J"
    ;;
gnutls)
    dtp_need_cmd gnutls-cli
    start_checker camellia
    # TLS 1.2, the six Camellia-GCM suites only, SHA-256+ signatures, NIST curves.
    dtp_run_rc gnutls-cli '!0' gnutls-cli --x509cafile "$PKI/ca.pem" --x509certfile "$PKI/client-rsa.pem" \
        --x509keyfile "$PKI/client-rsa.key" -p "$PORT" \
        --priority 'NONE:+VERS-TLS1.2:+ECDHE-RSA:+ECDHE-ECDSA:+DHE-RSA:+CAMELLIA-128-GCM:+CAMELLIA-256-GCM:+AEAD:+SIGN-RSA-SHA256:+SIGN-RSA-PSS-RSAE-SHA256:+SIGN-ECDSA-SHA256:+SIGN-RSA-SHA384:+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-FFDHE2048:+COMP-NULL' \
        127.0.0.1
    checker_done camellia 0
    J=$DTP_WORK/camellia.json
    echo "gnutls-cli, Camellia-GCM only:"
    verdicts "$J"
    expect_json "$J" '[.clients[0].hello.suites[].name] | length == 6 and all(test("_CAMELLIA_.*_GCM_"))' \
        "six Camellia-GCM suites, named"
    expect_json "$J" '(.clients[0].handshake.completed | not) and (.clients[0].handshake.detail |
        test("NO_SHARED_SUITE"))' "a failed handshake (OpenSSL has no Camellia-GCM)"
    expect_json "$J" '[.clients[0].profiles[] | select(.profile == "bcp195-ex") | .requirements[] |
        select(.level == "info" and (.evidence | test("did not complete")))] | length == 1' \
        "the grade says the handshake did not complete"
    expect_finding "$J" bcp195-ex E3 true should
    expect_finding "$J" bcp195-ex E2 false shall
    expect_finding "$J" cryptrec K3 false should
    expect_finding "$J" bcp195-nd N2 false shall
    expect_finding "$J" bcp195-8996 R21 false should
    expect_finding "$J" bcp195-8996-mod M24 true shall
    expect_json "$J" '.clients[0].profiles[] | select(.profile == "bcp195-8996-mod") | .conforms' \
        "B.13 conforms: one M21 suite is enough for a client (M24)"
    schema_check "$J"
    ;;
stock)
    dtp_need_cmd storescu
    for flag in +px +py +pz; do
        start_checker "stock$flag"
        dtp_run_rc "storescu$flag" 0 storescu +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem" \
            "$flag" 127.0.0.1 "$PORT" "${SMALL[@]}"
        checker_done "stock$flag" 0
        J=$DTP_WORK/stock$flag.json
        echo "stock storescu $flag:"
        verdicts "$J"
        expect_json "$J" '.clients[0].dicom.association == "accepted" and .clients[0].dicom.stores == 3' \
            "$flag: three C-STOREs answered"
        expect_finding "$J" bcp195-8996 R32 false shall
        expect_finding "$J" bcp195-8996-mod M10 false shall
        schema_check "$J"
    done
    expect_json "$DTP_WORK/stock+px.json" '.clients[0].hello.supported_versions | index("TLSv1.1") != null' \
        "+px: TLS 1.1 in supported_versions"
    expect_finding "$DTP_WORK/stock+px.json" bcp195-nd N1 false shall
    expect_json "$DTP_WORK/stock+pz.json" '.clients[0].profiles[] | select(.profile == "bcp195-ex") | .conforms' \
        "+pz conforms to bcp195-ex"
    # C-ECHO is answered too (stock echoscu, where installed).
    if command -v echoscu >/dev/null; then
        start_checker echo
        dtp_run_rc echoscu 0 echoscu +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem" +py \
            127.0.0.1 "$PORT"
        checker_done echo 0
        expect_json "$DTP_WORK/echo.json" '.clients[0].dicom.association == "accepted" and .clients[0].dicom.echoes == 1' \
            "echoscu: the C-ECHO answered"
    fi
    ;;
bad)
    dtp_run_rc no-tls 1 "$DTP_BIN/dtp-check" --listen 127.0.0.1:104
    dtp_out_has no-tls '\+tls'
    dtp_run_rc listen-and-peer 1 "${CHECK[@]}" --listen 127.0.0.1:104 127.0.0.1 104
    dtp_run_rc bad-address 1 "${CHECK[@]}" --listen 300.1.1.1:104
    port=$(dtp_free_port)
    t0=$SECONDS
    dtp_run_rc nobody 7 "${CHECK[@]}" --listen "127.0.0.1:$port" --timeout 1 --json "$DTP_WORK/nobody.json"
    DTP_CHECKS=$((DTP_CHECKS + 1))
    [ $((SECONDS - t0)) -lt 10 ] || dtp_check_fail "nobody: took $((SECONDS - t0)) s with --timeout 1"
    expect_json "$DTP_WORK/nobody.json" '.clients == []' "no client in the JSON"

    start_checker busy
    dtp_run_rc port-taken 8 "${CHECK[@]}" --listen "127.0.0.1:$PORT" --timeout 1
    # the first checker still waits for a client: give it one (plain DICOM).
    dtp_run_rc plain-scu '!0' "$DTP_BIN/dtp-storescu" -tls 127.0.0.1 "$PORT" "${SMALL[0]}"
    checker_done busy 9
    expect_json "$DTP_WORK/busy.json" '.clients[0].hello == null and .clients[0].handshake.not_tls' \
        "a plain DICOM client: no hello, not TLS"
    expect_json "$DTP_WORK/busy.json" '.clients[0].profiles | all(.unreachable and (.conforms | not))' \
        "no verdict without a hello"

    port=$(dtp_free_port)
    dtp_run_rc json-unwritable 3 "${CHECK[@]}" --listen "127.0.0.1:$port" --timeout 1 \
        --json "$DTP_WORK/no/such/dir/x.json"

    start_checker two --count 2
    dtp_run_rc scu-1 0 "$DTP_BIN/dtp-storescu" --profile bcp195-8996 +tls "$PKI/client-rsa.key" \
        "$PKI/client-rsa.pem" +cf "$PKI/ca.pem" 127.0.0.1 "$PORT" "${SMALL[0]}"
    dtp_run_rc scu-2 0 "$DTP_BIN/dtp-storescu" --profile bcp195-nd +tls "$PKI/client-ec.key" \
        "$PKI/client-ec.pem" +cf "$PKI/ca.pem" 127.0.0.1 "$PORT" "${SMALL[0]}"
    checker_done two 0
    expect_json "$DTP_WORK/two.json" '.clients | length == 2' "two clients"
    expect_json "$DTP_WORK/two.json" '[.clients[].hello.alpn] == [["dicom"], []]' \
        "the B.12 client's ALPN, then none (bcp195-nd)"
    schema_check "$DTP_WORK/two.json"
    ;;
*)
    echo "$0: unknown case $CASE" >&2
    exit 1
    ;;
esac
dtp_checks_done
