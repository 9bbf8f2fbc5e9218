#!/bin/bash
# peer_map.sh CASE -- AE titles bound to certificates (--peer-map), real TLS
# on 127.0.0.1 with the fixture PKI:
#
#   scp        dtp-storescp --peer-map: each identity kind (cn, dns, ip,
#              sha256, spki) admits its certificate; the same AE title with
#              another valid certificate gets A-ASSOCIATE-RJ (permanent,
#              service user, calling AE title not recognized: as stock
#              echoscu prints it) and the SCP log names AE title and
#              certificate subject with reason 401; an unlisted AE title is
#              refused (400); a profile-bound line refuses a peer on another
#              profile (402) and admits it on its own
#   unlisted   --peer-map-allow-unlisted: an unlisted AE title is admitted,
#              with a warning at start and per association; a listed one
#              with the wrong certificate is still refused
#   scu        dtp-storescu --peer-map: a server certificate bound to -aec
#              stores; one that is not (401), an unlisted -aec (400) or a
#              line of another profile (402) make it exit 5 before its
#              A-ASSOCIATE-RQ: nothing sent, nothing stored
#   reload     SIGHUP with a broken map keeps the old one (admits and
#              refuses as before); a good new map takes over
#   bad        malformed maps stop each app at start with exit 3 and
#              "FILE line N"; --peer-map without TLS or with -ic is a
#              configuration error
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

CASE=${1:?usage: peer_map.sh scp|unlisted|scu|reload|bad}
dtp_init "peer-map-$CASE"
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}"
dtp_need_cmd openssl timeout setsid
PKI=$DTP_PKI
SMALL=$DTP_DATA/small/small-1.dcm
[ -f "$SMALL" ] || dtp_fail "fixture $SMALL missing"
OUT=$DTP_WORK/out
mkdir "$OUT"
MAP=$DTP_WORK/peers.map
PROFILE=bcp195-nd

# Fingerprints, computed here with the openssl CLI: the certificate's
# SHA-256 as `openssl x509 -fingerprint` prints it (AB:CD:...), and the SHA-256
# of its DER SubjectPublicKeyInfo (RFC 7469 pin, hex).
sha256_of() { openssl x509 -in "$PKI/$1.pem" -noout -fingerprint -sha256 | sed 's/^.*=//'; }
spki_of() {
    openssl x509 -in "$PKI/$1.pem" -noout -pubkey | openssl pkey -pubin -outform DER |
        openssl dgst -sha256 -r | cut -d' ' -f1
}

# start_scp ARGS...: dtp-storescp -v on 127.0.0.1:$port, log scp.log.
start_scp() {
    dtp_start scp "$DTP_BIN/dtp-storescp" -v -od "$OUT" +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" \
        +cf "$PKI/ca.pem" "$@"
    SCP_PID=${DTP_PIDS[$((${#DTP_PIDS[@]} - 1))]}
    dtp_wait_port "$port" 127.0.0.1 10 || dtp_fail "dtp-storescp did not listen on port $port"
}

# store CODE CERT AE [PORT [PROFILE]]: dtp-storescu with the fixture's
# CERT.pem/.key as client certificate and calling AE title AE; must exit
# CODE. Sets MARK to the SCP log's length before the run.
store() {
    local code=$1 cert=$2 ae=$3 p=${4:-$port} profile=${5:-$PROFILE}
    MARK=$(wc -l < "$DTP_WORK/scp.log")
    DTP_CMD_TIMEOUT=30 dtp_expect_exit "$code" "$DTP_BIN/dtp-storescu" --profile "$profile" \
        +tls "$PKI/$cert.key" "$PKI/$cert.pem" +cf "$PKI/ca.pem" -aet "$ae" -aec ARCHIVE 127.0.0.1 "$p" "$SMALL"
}

# admitted AE SUBJECT LINE: the SCP admitted the last run's AE title by
# map line LINE and stored the object.
admitted() {
    local ae=$1 subject=$2 line=$3
    dtp_wait_line "peer map: AE title \"$ae\" with certificate subject $subject \(sha256:[0-9a-f]{64}\) admitted by $MAP line $line " \
        "$DTP_WORK/scp.log" "$MARK" 10 >/dev/null ||
        dtp_fail "the SCP did not log that \"$ae\" ($subject) was admitted by line $line
$(tail -n +"$((MARK + 1))" "$DTP_WORK/scp.log" | head -n 20)"
    dtp_wait_line "^association from 127\.0\.0\.1:[0-9]+.* ended: 1 objects stored" "$DTP_WORK/scp.log" "$MARK" 10 \
        >/dev/null || dtp_fail "no 'ended: 1 objects stored' line for \"$ae\""
}

# refused AE SUBJECT "CODE NAME": the last run was refused by the SCP with
# that reason; its log names the AE title and the certificate subject.
refused() {
    local ae=$1 subject=$2 reason=$3 line
    line=$(dtp_wait_line "^E: refusing association from 127\.0\.0\.1:[0-9]+.* \(A-ASSOCIATE-RJ, calling AE title not recognized\): reason $reason: .*AE title \"$ae\".* certificate subject $subject( |\))" \
        "$DTP_WORK/scp.log" "$MARK" 10) ||
        dtp_fail "the SCP did not log reason $reason for \"$ae\" with $subject
$(tail -n +"$((MARK + 1))" "$DTP_WORK/scp.log" | head -n 20)"
    echo "refused: $line"
    dtp_wait_line "^association from 127\.0\.0\.1:[0-9]+.* refused: reason $reason \(--peer-map\)" "$DTP_WORK/scp.log" \
        "$MARK" 10 >/dev/null || dtp_fail "no 'refused: reason $reason' line for \"$ae\""
    dtp_expect_grep '^E: association failed: DUL Association Rejected' "$DTP_WORK/last.out"
    dtp_expect_grep '^summary: 0 of 1 objects stored' "$DTP_WORK/last.out"
}

CLIENT=/CN=dtp\ test\ client
LOCALHOST=/CN=localhost

port=$(dtp_free_port)
case $CASE in
scp)
    port2=$(dtp_free_port)
    {
        echo "# AE titles bound to client certificates"
        echo "MOD-SHA   sha256:$(sha256_of client-rsa)"
        echo "MOD-CN    cn:\"dtp test client\"   # both client-rsa and client-ec"
        echo "MOD-SPKI  spki:$(spki_of client-ec)"
        echo "MOD-DNS   dns:LOCALHOST"
        echo "MOD-IP    ip:127.0.0.1"
        echo "MOD-B13   cn:\"dtp test client\" bcp195-8996-mod"
    } > "$MAP"
    start_scp --peer-map "$MAP" --listen "127.0.0.1:$port/$PROFILE" --listen "127.0.0.1:$port2/bcp195-8996-mod"
    dtp_wait_grep "peer map $MAP: 6 line\(s\); calling AE titles are checked" "$DTP_WORK/scp.log" 5 ||
        dtp_fail "the SCP did not log its peer map"

    # sha256: client-rsa stores; client-ec (valid, same CA, same CN) is refused.
    store 0 client-rsa MOD-SHA
    admitted MOD-SHA "$CLIENT" 2
    store 5 client-ec MOD-SHA
    refused MOD-SHA "$CLIENT" "401 PEER_CERT_NOT_BOUND"
    # The reject's result, source and reason as stock DCMTK's echoscu prints them.
    DTP_CMD_TIMEOUT=15 dtp_expect_exit 1 echoscu +tls "$PKI/client-ec.key" "$PKI/client-ec.pem" +cf "$PKI/ca.pem" \
        +py -aet MOD-SHA 127.0.0.1 "$port"
    tr -s ' \n' ' ' < "$DTP_WORK/last.out" > "$DTP_WORK/echoscu.txt"
    dtp_expect_grep 'Association Rejected: (F: )?Result: Rejected Permanent, Source: Service User (F: )?Reason: Calling AE Title Not Recognized' \
        "$DTP_WORK/echoscu.txt"

    # cn: both "dtp test client" certificates; server-ec (CN=localhost) is not one.
    store 0 client-ec MOD-CN
    admitted MOD-CN "$CLIENT" 3
    store 5 server-ec MOD-CN
    refused MOD-CN "$LOCALHOST" "401 PEER_CERT_NOT_BOUND"
    dtp_expect_grep 'tried line 3 \(cn:dtp test client\)' "$DTP_WORK/scp.log"

    # spki: client-ec's key only.
    store 0 client-ec MOD-SPKI
    admitted MOD-SPKI "$CLIENT" 4
    store 5 client-rsa MOD-SPKI
    refused MOD-SPKI "$CLIENT" "401 PEER_CERT_NOT_BOUND"

    # dns: and ip: read the subjectAltName (the server leaves have DNS:localhost,
    # IP:127.0.0.1 and the clientAuth EKU); client-rsa has no SAN.
    store 0 server-rsa MOD-DNS
    admitted MOD-DNS "$LOCALHOST" 5
    store 0 server-ec MOD-IP
    admitted MOD-IP "$LOCALHOST" 6
    store 5 client-rsa MOD-IP
    refused MOD-IP "$CLIENT" "401 PEER_CERT_NOT_BOUND"

    # Unlisted AE titles are refused; AE titles are case-sensitive.
    store 5 client-rsa NOBODY
    refused NOBODY "$CLIENT" "400 PEER_AE_UNLISTED"
    store 5 client-rsa mod-sha
    refused mod-sha "$CLIENT" "400 PEER_AE_UNLISTED"

    # A profile-bound line: refused on the bcp195-nd listener, admitted on B.13.
    store 5 client-rsa MOD-B13
    refused MOD-B13 "$CLIENT" "402 PEER_PROFILE_MISMATCH"
    dtp_expect_grep 'which requires profile bcp195-8996-mod; the peer uses bcp195-nd' "$DTP_WORK/scp.log"
    store 0 client-rsa MOD-B13 "$port2" bcp195-8996-mod
    admitted MOD-B13 "$CLIENT" 7

    # One object, stored by the admitted runs only (the same UID each time).
    [ "$(find "$OUT" -type f | wc -l)" -eq 1 ] || dtp_fail "expected 1 stored object, found: $(ls -A "$OUT")"
    [ "$(grep -c ' ended: 1 objects stored' "$DTP_WORK/scp.log")" -eq 6 ] ||
        dtp_fail "expected 6 associations that stored, found $(grep -c ' ended: 1 objects stored' "$DTP_WORK/scp.log")"
    ;;
unlisted)
    echo "STORE1 sha256:$(sha256_of client-rsa)" > "$MAP"
    start_scp --peer-map "$MAP" --peer-map-allow-unlisted --profile "$PROFILE" --bind 127.0.0.1 "$port"
    dtp_wait_grep "^W: --peer-map-allow-unlisted: AE titles not in $MAP are admitted" "$DTP_WORK/scp.log" 5 ||
        dtp_fail "no start-up warning for --peer-map-allow-unlisted"
    store 0 client-ec ANYBODY
    dtp_wait_line "^W: association from 127\.0\.0\.1:[0-9]+: admitted although not in the peer map \(--peer-map-allow-unlisted\): AE title \"ANYBODY\" is not in $MAP; certificate subject $CLIENT" \
        "$DTP_WORK/scp.log" "$MARK" 10 >/dev/null || dtp_fail "no per-association warning for an unlisted AE title"
    store 0 client-rsa STORE1
    admitted STORE1 "$CLIENT" 1
    store 5 client-ec STORE1
    refused STORE1 "$CLIENT" "401 PEER_CERT_NOT_BOUND"
    ;;
scu)
    start_scp --profile "$PROFILE" --bind 127.0.0.1 "$port"
    # scu CODE MAPLINE [AEC]: dtp-storescu with client-rsa, a map of one line.
    scu() {
        echo "$2" > "$MAP"
        MARK=$(wc -l < "$DTP_WORK/scp.log")
        DTP_CMD_TIMEOUT=30 dtp_expect_exit "$1" "$DTP_BIN/dtp-storescu" -v --profile "$PROFILE" \
            +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem" --peer-map "$MAP" \
            -aet STORE1 -aec "${3:-ARCHIVE}" 127.0.0.1 "$port" "$SMALL"
    }
    # nothing_sent: the server saw the connection end, but no association
    # request from STORE1. (DCMTK's SCP takes a connection closed right after
    # the handshake for a request with empty AE titles; a server still
    # sending its TLS 1.3 tickets may see HANDSHAKE_EOF instead.)
    nothing_sent() {
        dtp_expect_grep '^summary: 0 of 1 objects stored' "$DTP_WORK/last.out"
        dtp_wait_line "^(association from 127\.0\.0\.1:[0-9]+ ended: 0 objects stored|E: association from 127\.0\.0\.1:[0-9]+: )" \
            "$DTP_WORK/scp.log" "$MARK" 10 >/dev/null || dtp_fail "the SCP did not end the refused connection"
        if tail -n +"$((MARK + 1))" "$DTP_WORK/scp.log" | grep -q 'association request from STORE1'; then
            dtp_fail "dtp-storescu sent an association request to a server it refused"
        fi
    }
    scu 0 "ARCHIVE dns:localhost"
    dtp_expect_grep "peer map: AE title \"ARCHIVE\" with certificate subject $LOCALHOST \(sha256:[0-9a-f]{64}\) admitted by $MAP line 1 \(dns:localhost\)" \
        "$DTP_WORK/last.out"
    dtp_expect_grep '^summary: 1 of 1 objects stored' "$DTP_WORK/last.out"
    # The SCP logs each association request (so nothing_sent can see one).
    dtp_wait_line 'association request from STORE1' "$DTP_WORK/scp.log" "$MARK" 10 >/dev/null ||
        dtp_fail "the SCP logged no association request for an admitted server"
    scu 0 "ARCHIVE sha256:$(sha256_of server-rsa)"
    scu 0 "ARCHIVE spki:$(spki_of server-rsa)"
    scu 0 "ARCHIVE ip:127.0.0.1 $PROFILE"
    # Another valid server certificate (server-ec) is not the one bound.
    scu 5 "ARCHIVE sha256:$(sha256_of server-ec)"
    dtp_expect_grep "^E: association failed: reason 401 PEER_CERT_NOT_BOUND: .*AE title \"ARCHIVE\" with certificate subject $LOCALHOST \(sha256:" \
        "$DTP_WORK/last.out"
    nothing_sent
    scu 5 "ARCHIVE cn:localhost" OTHER-AE
    dtp_expect_grep '^E: association failed: reason 400 PEER_AE_UNLISTED: .*AE title "OTHER-AE" is not in' "$DTP_WORK/last.out"
    nothing_sent
    scu 5 "ARCHIVE cn:localhost bcp195-8996-mod"
    dtp_expect_grep "^E: association failed: reason 402 PEER_PROFILE_MISMATCH: .*requires profile bcp195-8996-mod; the peer uses $PROFILE" \
        "$DTP_WORK/last.out"
    nothing_sent
    [ "$(find "$OUT" -type f | wc -l)" -eq 1 ] || dtp_fail "expected 1 stored object, found: $(ls -A "$OUT")"
    ;;
reload)
    echo "STORE1 sha256:$(sha256_of client-rsa)" > "$MAP"
    start_scp --peer-map "$MAP" --profile "$PROFILE" --bind 127.0.0.1 "$port"
    store 0 client-rsa STORE1
    admitted STORE1 "$CLIENT" 1
    store 5 client-ec STORE1
    refused STORE1 "$CLIENT" "401 PEER_CERT_NOT_BOUND"
    # A broken map on SIGHUP: logged with file and line; the old map stays.
    printf 'STORE1 sha256:%s\nSTORE1 spki:0123\n' "$(sha256_of client-ec)" > "$MAP"
    mark=$(wc -l < "$DTP_WORK/scp.log")
    kill -HUP "$SCP_PID"
    line=$(dtp_wait_line "^E: reload \(SIGHUP\) of the peer map, old map kept: reason 114 PEER_MAP: .*\($MAP line 2: spki:0123: expected 64 hex digits" \
        "$DTP_WORK/scp.log" "$mark" 10) || dtp_fail "a broken peer map on SIGHUP was not logged with its line"
    echo "broken reload: $line"
    store 0 client-rsa STORE1
    admitted STORE1 "$CLIENT" 1
    store 5 client-ec STORE1
    refused STORE1 "$CLIENT" "401 PEER_CERT_NOT_BOUND"
    _dtp_alive "$SCP_PID" || dtp_fail "dtp-storescp died on a broken peer map"
    # A good map: the next associations use it.
    printf '# rebound\nSTORE1 sha256:%s\n' "$(sha256_of client-ec)" > "$MAP"
    mark=$(wc -l < "$DTP_WORK/scp.log")
    kill -HUP "$SCP_PID"
    dtp_wait_line "reloaded peer map $MAP \(SIGHUP\): 1 line\(s\)" "$DTP_WORK/scp.log" "$mark" 10 >/dev/null ||
        dtp_fail "no 'reloaded peer map' after SIGHUP"
    store 0 client-ec STORE1
    admitted STORE1 "$CLIENT" 2
    store 5 client-rsa STORE1
    refused STORE1 "$CLIENT" "401 PEER_CERT_NOT_BOUND"
    ;;
bad)
    SCP=("$DTP_BIN/dtp-storescp" +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" +cf "$PKI/ca.pem" -od "$OUT"
         --bind 127.0.0.1 "$port")
    SCU=("$DTP_BIN/dtp-storescu" +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem"
         127.0.0.1 "$port" "$SMALL")
    # bad_map LINE WHY: a map whose third line is LINE stops both apps
    # with exit 3, reason 114 and "FILE line 3: WHY".
    bad_map() {
        printf '# peers\nGOOD cn:good\n%s\nAFTER cn:after\n' "$1" > "$MAP"
        local app
        for app in SCP SCU; do
            if [ "$app" = SCP ]; then
                DTP_CMD_TIMEOUT=10 dtp_expect_exit 3 "${SCP[@]}" --peer-map "$MAP"
            else
                DTP_CMD_TIMEOUT=10 dtp_expect_exit 3 "${SCU[@]}" --peer-map "$MAP"
            fi
            dtp_expect_grep "^E: peer map: reason 114 PEER_MAP: the peer map \(--peer-map\) cannot be used \($MAP line 3: $2" \
                "$DTP_WORK/last.out"
        done
    }
    bad_map "GOOD2 tls:x" "unknown identity kind 'tls:'"
    bad_map "GOOD2 sha256:$(sha256_of client-rsa | cut -c1-60)" "sha256:.*: expected 64 hex digits \(SHA-256\), found 40"
    bad_map "AN-AE-TITLE-TOO-LONG cn:x" "AE title 'AN-AE-TITLE-TOO-LONG' has 20 characters, at most 16 allowed"
    bad_map "GOOD2 cn:x no-such-profile" "unknown profile 'no-such-profile'"
    bad_map "GOOD cn:good bcp195-8996" "contradicts line 2"
    # Missing file, no TLS, -ic, and the option without a map.
    DTP_CMD_TIMEOUT=10 dtp_expect_exit 3 "${SCP[@]}" --peer-map "$DTP_WORK/missing.map"
    dtp_expect_grep "reason 114 PEER_MAP: .*\($DTP_WORK/missing\.map: No such file or directory\)" "$DTP_WORK/last.out"
    echo "GOOD cn:good" > "$MAP"
    DTP_CMD_TIMEOUT=10 dtp_expect_exit 3 "$DTP_BIN/dtp-storescp" -od "$OUT" --peer-map "$MAP" --bind 127.0.0.1 "$port"
    dtp_expect_grep '^E: peer map: reason 111 CONFIG_INVALID: .*TLS is off' "$DTP_WORK/last.out"
    DTP_CMD_TIMEOUT=10 dtp_expect_exit 3 "${SCU[@]}" -ic --peer-map "$MAP"
    dtp_expect_grep '^E: peer map: reason 111 CONFIG_INVALID: .*-ic turns verification off' "$DTP_WORK/last.out"
    DTP_CMD_TIMEOUT=10 dtp_expect_exit 1 "${SCP[@]}" --peer-map-allow-unlisted
    dtp_expect_grep 'needs --peer-map' "$DTP_WORK/last.out"
    ;;
*)
    dtp_fail "unknown case $CASE"
    ;;
esac
echo "PASS: peer_map $CASE"
