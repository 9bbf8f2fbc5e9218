#!/bin/bash
# interop_orthanc.sh CERT -- Orthanc 1.10.1 (package orthanc) and our apps
# over DICOM TLS, both directions, every profile; CERT rsa|ec is the
# certificate type of every party.
#
#   Orthanc -> dtp-storescp   an object uploaded over REST is sent with
#                             POST /modalities/dtp-PROFILE/store (Orthanc's
#                             C-STORE SCU, synchronous)
#   dtp-storescu -> Orthanc   C-STORE to Orthanc's DICOM port; the stored
#                             instance is fetched back over REST
# Where the association works the dataset must arrive byte-identical
# (dtp_same_dataset).
#
# Orthanc's DICOM TLS is fixed: DCMTK 3.6.7's BCP195 profile (Orthanc calls
# setTLSProfile(TSP_Profile_BCP195); 1.10.1 has no option to change it):
# TLS 1.0 to 1.3; TLS 1.2 and below: the four B1 suites and
# TLS_RSA_WITH_AES_128_CBC_SHA, all RSA-authenticated; TLS 1.3: OpenSSL's
# three default suites; server preference, strongest first. ORTHANC_* below
# describe that offer; the test checks it against an nmap scan of Orthanc's
# port (the scan is kept as evidence in the report). The outcome per profile
# follows from that offer and our profile table:
#   rsa: every profile meets Orthanc -- TLS 1.3 except bcp195-ex (TLS 1.2);
#   ec:  TLS 1.3 for bcp195, bcp195-nd, cryptrec, bcp195-8996,
#        bcp195-8996-mod; bcp195-ex cannot meet Orthanc (no TLS 1.3 in the
#        profile, no ECDSA suite at TLS 1.2 in Orthanc): pinned refusal, our
#        SCP logs 202 NO_SHARED_SUITE, our SCU reports Orthanc's
#        handshake_failure alert as 209 PEER_ALERT.
# B.12/B.13 (bcp195-8996, bcp195-8996-mod) are pinned on top of that model:
# TLS 1.3 (R5/R6, M34/M35) with TLS_AES_256_GCM_SHA384 in both directions,
# RSA and ECDSA -- our SCP prefers AES-256 (R25, M18) and so does Orthanc.
# The key exchange group our side logs is one of the profile's (never
# X25519 under bcp195-8996-mod, M17/Q2; DHE at TLS 1.2: 2048+ bits, R29).
#
# Orthanc listens on every address (1.10.1 cannot bind one), so the script
# runs in a private network namespace with only a loopback interface
# (unshare -n; skipped when none can be made). Orthanc gets a generated
# JSON config (free HTTP and DICOM ports, storage in the work dir), is
# started by PID and stopped by PID.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/checks.sh"
. "$HERE/interop_lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 rsa|ec" >&2; exit 1; }
CERT=$1
case $CERT in rsa | ec) ;; *) echo "$0: CERT must be rsa or ec" >&2; exit 1 ;; esac

ix_results "interop.orthanc.$CERT"
ix_netns "$@"
dtp_init "interop-orthanc-$CERT"
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}"
ORTHANC=$(command -v Orthanc || true)
[ -n "$ORTHANC" ] || { [ -x /usr/sbin/Orthanc ] && ORTHANC=/usr/sbin/Orthanc; } ||
    dtp_skip "Orthanc is not installed (package orthanc)"
dtp_need_cmd curl dcmdump timeout setsid
[ "$IX_NETNS" = 1 ] ||
    dtp_skip "Orthanc listens on every address; no private network namespace (unshare -n) to keep it on loopback"
PKI=$DTP_PKI
TO_SCP=$DTP_DATA/medium/medium-1.dcm     # Orthanc -> dtp-storescp
TO_ORTHANC=$DTP_DATA/small/small-3.dcm   # dtp-storescu -> Orthanc
for f in "$TO_SCP" "$TO_ORTHANC"; do [ -f "$f" ] || dtp_fail "fixture $f missing"; done

ix_load_profiles
ix_load_openssl_names
ix_peer orthanc "$("$ORTHANC" --version 2>&1 | head -n 1 | sed 's|^/[^ ]*/||')"

# ------------------------------------------------- Orthanc's fixed offer --
# (DCMTK 3.6.7 TSP_Profile_BCP195 as Orthanc 1.10.1 sets it up)
ORTHANC_VERSIONS="TLSv1 TLSv1.1 TLSv1.2 TLSv1.3"
ORTHANC_PREF12="TLS_DHE_RSA_WITH_AES_256_GCM_SHA384 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 TLS_RSA_WITH_AES_128_CBC_SHA"
ORTHANC_PREF13="TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256 TLS_AES_128_GCM_SHA256"
AUTH=RSA
[ "$CERT" = ec ] && AUTH=ECDSA

# expect PROFILE DIRECTION -> "VERSION SUITE" or "refuse": the server's
# preference among what both sides have. DIRECTION to-scp: our SCP is the
# server (profile order = our preference); to-orthanc: Orthanc is.
expect() {
    local p=$1 dir=$2 v s pref cand
    for v in TLSv1.3 TLSv1.2 TLSv1.1 TLSv1; do
        if ! ix_has "${IX_VERSIONS[$p]}" "$v" || ! ix_has "$ORTHANC_VERSIONS" "$v"; then continue; fi
        if [ "$v" = TLSv1.3 ]; then
            if [ "$dir" = to-scp ]; then pref=${IX_TLS13[$p]:-} cand=$ORTHANC_PREF13
            else pref=$ORTHANC_PREF13 cand=${IX_TLS13[$p]:-}; fi
        else
            if [ "$dir" = to-scp ]; then pref="${IX_TLS12[$p]} ${IX_FALLBACK[$p]:-}" cand=$ORTHANC_PREF12
            else pref=$ORTHANC_PREF12 cand="${IX_TLS12[$p]} ${IX_FALLBACK[$p]:-}"; fi
        fi
        for s in $pref; do
            ix_has "$cand" "$s" || continue
            [ "$v" = TLSv1.3 ] || [ "${IX_AUTH[$s]:-}" = "$AUTH" ] || continue
            ix_usable "$s" "$v" || continue
            echo "$v $s"
            return
        done
        # A server that has this version but no suite for it fails the
        # handshake there; it does not try a lower version.
        echo refuse
        return
    done
    echo refuse
}

# B.12/B.13 against Orthanc, whatever the model above computes.
declare -A PINNED=([bcp195-8996]="TLSv1.3 TLS_AES_256_GCM_SHA384" [bcp195-8996-mod]="TLSv1.3 TLS_AES_256_GCM_SHA384")
# pin_model PROFILE EXPECTED DIRECTION: the model's expectation for a B.12/B.13
# profile is the pinned one (a check of its own).
pin_model() {
    [ -n "${PINNED[$1]:-}" ] || return 0
    DTP_CHECKS=$((DTP_CHECKS + 1))
    [ "$2" = "${PINNED[$1]}" ] ||
        dtp_check_fail "$1 $3: the model expects '$2', B.12/B.13 (R5/R6, R25, M18, M35) give '${PINNED[$1]}'"
}

# json_field NAME FILE: the value of a "NAME" : VALUE line in Orthanc's
# pretty-printed JSON (strings without their quotes).
json_field() {
    sed -nE -e 's/^[[:space:]]*"'"$1"'"[[:space:]]*:[[:space:]]*"(.*)",?$/\1/p' \
        -e 's/^[[:space:]]*"'"$1"'"[[:space:]]*:[[:space:]]*([^",]*),?$/\1/p' "$2" | head -n 1 | sed 's/\\"/"/g'
}

# --------------------------------------------------------------- servers --
declare -A SCP_PORT=()
for p in "${IX_PROFILES[@]}"; do
    SCP_PORT[$p]=$(dtp_free_port)
    mkdir -p "$DTP_WORK/out-$p"
    dtp_start "scp-$p" "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 --profile "$p" \
        +tls "$PKI/server-$CERT.key" "$PKI/server-$CERT.pem" +cf "$PKI/ca.pem" \
        --handshake-timeout 5 -od "$DTP_WORK/out-$p" -v "${SCP_PORT[$p]}"
done

HTTP=$(dtp_free_port)
DICOM=$(dtp_free_port)
mkdir -p "$DTP_WORK/orthanc-db"
{
    echo '{'
    echo '  "Name": "dtp-interop",'
    echo "  \"StorageDirectory\": \"$DTP_WORK/orthanc-db\","
    echo "  \"IndexDirectory\": \"$DTP_WORK/orthanc-db\","
    echo "  \"HttpPort\": $HTTP,"
    echo "  \"DicomPort\": $DICOM,"
    echo '  "DicomAet": "ORTHANC",'
    echo '  "RemoteAccessAllowed": false,'
    echo '  "AuthenticationEnabled": false,'
    echo '  "Plugins": [],'
    echo '  "SaveJobs": false,'
    echo '  "DicomScuTimeout": 10,'
    echo '  "DicomAssociationCloseDelay": 0,'
    echo '  "DicomTlsEnabled": true,'
    echo "  \"DicomTlsCertificate\": \"$PKI/server-$CERT.pem\","
    echo "  \"DicomTlsPrivateKey\": \"$PKI/server-$CERT.key\","
    echo "  \"DicomTlsTrustedCertificates\": \"$PKI/ca.pem\","
    echo '  "DicomTlsRemoteCertificateRequired": true,'
    echo '  "DicomModalities": {'
    sep=
    for p in "${IX_PROFILES[@]}"; do
        printf '%s    "dtp-%s": { "AET": "DTP-STORESCP", "Host": "127.0.0.1", "Port": %s, "UseDicomTls": true }' \
            "$sep" "$p" "${SCP_PORT[$p]}"
        sep=$',\n'
    done
    echo
    echo '  }'
    echo '}'
} > "$DTP_WORK/orthanc.json"
dtp_start orthanc "$ORTHANC" --verbose "$DTP_WORK/orthanc.json"
for p in "${IX_PROFILES[@]}"; do
    dtp_wait_port "${SCP_PORT[$p]}" 127.0.0.1 10 || dtp_fail "dtp-storescp --profile $p did not listen"
done
dtp_wait_port "$DICOM" 127.0.0.1 20 || dtp_fail "Orthanc did not open its DICOM port $DICOM"
API=http://127.0.0.1:$HTTP
for ((i = 0; i < 200; i++)); do
    curl -sf -o /dev/null "$API/system" && break
    sleep 0.1
done
curl -sf -o "$DTP_WORK/system.json" "$API/system" || dtp_fail "Orthanc's REST API did not answer on port $HTTP"

# ---------------------------------------- Orthanc's offer, as nmap sees it --
if command -v nmap >/dev/null 2>&1; then
    nmap -Pn -n --script ssl-enum-ciphers -p "$DICOM" 127.0.0.1 > "$DTP_WORK/nmap-orthanc.txt" 2>&1 || true
    seen=$(awk '/^\|   TLSv1\.[0-3]:/ { v = $2; sub(/:$/, "", v); if (v == "TLSv1.0") v = "TLSv1" }
                /^\|       TLS_/ { s = $2; sub(/^TLS_AKE_WITH_/, "TLS_", s); print v, s }' \
               "$DTP_WORK/nmap-orthanc.txt" | sort)
    model=$(for v in $ORTHANC_VERSIONS; do
                if [ "$v" = TLSv1.3 ]; then for s in $ORTHANC_PREF13; do echo "$v $s"; done
                else for s in $ORTHANC_PREF12; do
                    [ "${IX_AUTH[$s]}" = "$AUTH" ] && ix_usable "$s" "$v" && echo "$v $s"; done; fi
            done | sort)
    DTP_CHECKS=$((DTP_CHECKS + 1))
    if [ "$seen" != "$model" ]; then
        dtp_check_fail "Orthanc's TLS offer (nmap) differs from the model this test assumes:
$(diff <(echo "$model") <(echo "$seen") | dtp_quote)"
    fi
    ix_note orthanc-offer "#### Orthanc $(json_field Version "$DTP_WORK/system.json"), $CERT certificate: its DICOM TLS port as nmap ssl-enum-ciphers sees it

\`\`\`
$(grep -E '^\|' "$DTP_WORK/nmap-orthanc.txt")
\`\`\`"
fi

# ====================================================== Orthanc -> our SCP
DIR1=peer-\>dtp-storescp
curl -sf -X POST --data-binary "@$TO_SCP" -o "$DTP_WORK/upload.json" "$API/instances" ||
    dtp_fail "uploading $TO_SCP to Orthanc failed"
ID=$(json_field ID "$DTP_WORK/upload.json")
[ -n "$ID" ] || dtp_fail "no instance ID in Orthanc's answer: $(cat "$DTP_WORK/upload.json")"
END_RE='association from 127\.0\.0\.1:[0-9]+( ended: |: A-P-ABORT, provider reason )'
for p in "${IX_PROFILES[@]}"; do
    c="orthanc-to-scp-$p"
    exp=$(expect "$p" to-scp)
    pin_model "$p" "$exp" to-scp
    log=$DTP_WORK/scp-$p.log
    mark=$(dtp_log_lines "$log")
    code=$(curl -s -o "$DTP_WORK/$c.json" -w '%{http_code}' -X POST \
        -d "{\"Resources\": [\"$ID\"], \"Synchronous\": true}" "$API/modalities/dtp-$p/store" || true)
    line=$(dtp_wait_line "$END_RE" "$log" "$mark" || true)
    tls=$(tail -n +"$((mark + 1))" "$log" | grep -Em1 'association from 127\.0\.0\.1:[0-9]+: TLS TLSv' || true)
    DTP_CHECKS=$((DTP_CHECKS + 1))
    if [ "$exp" != refuse ]; then
        why=() v='' s='' g=''
        [[ $tls =~ :\ TLS\ (TLSv[0-9.]+)\ ([A-Z0-9_]+)\ group=([^ ]+) ]] &&
            v=${BASH_REMATCH[1]} s=${BASH_REMATCH[2]} g=${BASH_REMATCH[3]}
        [ "$v $s" = "$exp" ] || why+=("negotiated '${v:-nothing} ${s}', expected '$exp'")
        ix_in_groups "$p" "$g" || why+=("group '${g:-none}' is not one of $p's")
        [ "$code" = 200 ] || why+=("Orthanc answered HTTP $code: $(tr -d '\n' < "$DTP_WORK/$c.json" | head -c 300)")
        [ "$(json_field FailedInstancesCount "$DTP_WORK/$c.json")" = 0 ] || why+=("Orthanc reports failed instances")
        [[ $line == *" ended: 1 objects stored "* ]] || why+=("SCP did not log 1 object stored: '${line:-nothing within 5 s}'")
        mapfile -t stored < <(find "$DTP_WORK/out-$p" -type f)
        if [ ${#stored[@]} -ne 1 ]; then
            why+=("SCP output dir holds ${#stored[@]} files")
        elif ! dtp_same_dataset "$TO_SCP" "${stored[0]}"; then
            why+=("stored dataset differs from the sent one")
        fi
        if [ ${#why[@]} -eq 0 ]; then
            ix_row orthanc "$p" "$DIR1" pass "$v" "$s" "$CERT certs; group $g; C-STORE of 1 object (medium-1.dcm), dataset byte-identical"
        else
            dtp_check_fail "$c: $(printf '%s; ' "${why[@]}")"
            ix_row orthanc "$p" "$DIR1" fail "${v:--}" "${s:--}" "UNEXPECTED: $(printf '%s; ' "${why[@]}")"
        fi
    else
        why=() reason=
        [[ $line =~ provider\ reason\ ([0-9]+)\ ([A-Z_]+) ]] && reason="${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
        [ -z "$tls" ] || why+=("a handshake completed: $tls")
        [ "$reason" = "202 NO_SHARED_SUITE" ] || why+=("SCP reason '${reason:-none}', expected 202 NO_SHARED_SUITE")
        [ "$code" != 200 ] || why+=("Orthanc reports success (HTTP 200)")
        [ -z "$(ls -A "$DTP_WORK/out-$p")" ] || why+=("something was stored")
        err="$(json_field Message "$DTP_WORK/$c.json"): $(json_field Details "$DTP_WORK/$c.json")"
        if [ ${#why[@]} -eq 0 ]; then
            ix_row orthanc "$p" "$DIR1" pinned TLSv1.2 "(Orthanc's BCP195 offer)" \
                "$CERT certs: Orthanc offers no ECDSA suite at TLS 1.2 and $p has no TLS 1.3; SCP: $reason; Orthanc: HTTP $code, $err"
        else
            dtp_check_fail "$c: $(printf '%s; ' "${why[@]}")"
            ix_row orthanc "$p" "$DIR1" fail - - "UNEXPECTED: expected a refusal; $(printf '%s; ' "${why[@]}")"
        fi
    fi
done

# ====================================================== our SCU -> Orthanc
DIR2=dtp-storescu-\>peer
SOP=$(dcmdump -s +P 0008,0018 "$TO_ORTHANC" 2>/dev/null | sed -n 's/^[^[]*\[\([^]]*\)\].*/\1/p' | head -n 1)
[ -n "$SOP" ] || dtp_fail "no SOP Instance UID in $TO_ORTHANC"
for p in "${IX_PROFILES[@]}"; do
    c="scu-to-orthanc-$p"
    exp=$(expect "$p" to-orthanc)
    pin_model "$p" "$exp" to-orthanc
    outf=$DTP_WORK/$c.out
    rc=0
    timeout -k 2 30 "$DTP_BIN/dtp-storescu" -v --profile "$p" -aec ORTHANC \
        +tls "$PKI/client-$CERT.key" "$PKI/client-$CERT.pem" +cf "$PKI/ca.pem" \
        127.0.0.1 "$DICOM" "$TO_ORTHANC" </dev/null >"$outf" 2>&1 || rc=$?
    tls=$(grep -Em1 '^[IW]: TLS TLSv[0-9.]+ [A-Z0-9_]+ ' "$outf" || true)
    DTP_CHECKS=$((DTP_CHECKS + 1))
    if [ "$exp" != refuse ]; then
        why=() v='' s='' g=''
        [ -z "$tls" ] || read -r _ _ v s g _ <<< "$tls"
        g=${g#group=}
        [ "$v $s" = "$exp" ] || why+=("negotiated '${v:-nothing} ${s}', expected '$exp'")
        ix_in_groups "$p" "$g" || why+=("group '${g:-none}' is not one of $p's")
        [ "$rc" = 0 ] || why+=("dtp-storescu exit $rc: $(grep -E '^E: ' "$outf" | head -n 2 | tr '\n' ' ')")
        # Find the instance by its SOP Instance UID, fetch it, compare, delete.
        curl -sf -o "$DTP_WORK/$c.lookup" -X POST --data "$SOP" "$API/tools/lookup" || true
        oid=$(sed -nE 's/^ *"ID" *: *"([^"]+)".*/\1/p' "$DTP_WORK/$c.lookup" 2>/dev/null | head -n 1)
        if [ -z "$oid" ]; then
            why+=("Orthanc has no instance $SOP")
        elif ! curl -sf -o "$DTP_WORK/$c.dcm" "$API/instances/$oid/file"; then
            why+=("cannot fetch instance $oid from Orthanc")
        elif ! dtp_same_dataset "$TO_ORTHANC" "$DTP_WORK/$c.dcm"; then
            why+=("Orthanc's stored dataset differs from the sent one")
        fi
        [ -z "$oid" ] || curl -sf -o /dev/null -X DELETE "$API/instances/$oid" || true
        if [ ${#why[@]} -eq 0 ]; then
            ix_row orthanc "$p" "$DIR2" pass "$v" "$s" "$CERT certs; group $g; C-STORE of 1 object (small-3.dcm), dataset byte-identical in Orthanc"
        else
            dtp_check_fail "$c: $(printf '%s; ' "${why[@]}")"
            ix_row orthanc "$p" "$DIR2" fail "${v:--}" "${s:--}" "UNEXPECTED: $(printf '%s; ' "${why[@]}")"
        fi
    else
        why=()
        ix_expect_peer_refused "$outf" "$rc" "$tls"
        reason=$IX_REASON alert=$IX_ALERT
        if [ ${#why[@]} -eq 0 ]; then
            ix_row orthanc "$p" "$DIR2" pinned TLSv1.2 "(profile $p offer)" \
                "$CERT certs: Orthanc has no ECDSA suite at TLS 1.2 and $p has no TLS 1.3; SCU: $reason ($alert)"
        else
            dtp_check_fail "$c: $(printf '%s; ' "${why[@]}")"
            ix_row orthanc "$p" "$DIR2" fail - - "UNEXPECTED: expected a refusal; $(printf '%s; ' "${why[@]}")"
        fi
    fi
done

ix_done
