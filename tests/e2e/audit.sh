#!/bin/bash
# audit.sh CASE -- dtp-storescu and dtp-storescp send DICOM audit messages
# (PS3.15 A.5, XML in RFC 5424 syslog) to a real audit record repository
# (rsyslog, see audit_lib.sh), and every message validates against the audit
# message schema and the per-event rules (tests/audit/validate.sh).
#
#   receiver  the harness alone, with hand-made messages (the validator's
#          samples) sent by openssl s_client (RFC 5425 frames, client
#          certificate) and as UDP datagrams: each arrives byte for byte,
#          line ends included, with its RFC 5424 header fields; a TLS client
#          without a certificate is refused; the receiver restarts on the same
#          ports and appends.
#   tls    --audit tls://127.0.0.1:PORT (RFC 5425, mutual TLS under the
#          default audit profile): the SCP's Application Start; one
#          transfer of the 7 fixture objects; a DICOM Instances Transferred
#          message from each side with the fixture's study, SOP class, SOP
#          instances and patient, the AE titles, 127.0.0.1 as the peer and 7
#          instances; the SCU's own messages; the SCP's Application Stop after
#          SIGTERM.  Every message arrives over TLS with an RFC 5424 header.
#   udp    the same with --audit udp://127.0.0.1:PORT (RFC 5426).
#   alert  a client with a certificate of another CA (other-client-rsa) is
#          refused: the SCP sends a Security Alert (110113, Node
#          Authentication 110126, a failure outcome) carrying the provider
#          reason code and name, 204 PEER_CERT_UNTRUSTED; the message is
#          printed on stdout as received.
#   binding  the same for a trusted client certificate that --peer-map
#          does not bind to the calling AE title: 401 PEER_CERT_NOT_BOUND.
#   down   no receiver while the SCP starts, while associations run and
#          across a restart of the SCP; one run against a listener that
#          accepts TCP but never answers TLS: transfers succeed and are not
#          slowed (wall time and the SCU's own transfer time printed for
#          each run, against a generous bound); then the receiver starts and
#          every message arrives, none lost, none twice: the SCP's through its
#          spool, the SCU's spooled ones with the next SCU run.
#
# Until the apps have --audit this SKIPs (77), as it does without rsyslogd,
# rsyslog-gnutls, jq or xmllint.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/audit_lib.sh"

[ $# -eq 1 ] || { echo "usage: $0 receiver|tls|udp|alert|binding|down" >&2; exit 1; }
CASE=$1
case $CASE in receiver | tls | udp | alert | binding | down) ;; *) echo "$0: unknown case $CASE" >&2; exit 1 ;; esac

dtp_init "audit-$CASE"
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}" "${DTP_SOURCE_DIR:?}"
dtp_need_cmd dcmdump timeout setsid
PKI=$DTP_PKI
PROFILE=bcp195-8996
SCU_AET=MODALITY SCP_AET=ARCHIVE

dtp_audit_need
dtp_audit_setup
if [ "$CASE" != receiver ]; then
    for app in dtp-storescu dtp-storescp; do
        help=$("$DTP_BIN/$app" --help 2>&1 || true)
        grep -q -- '--audit ' <<<"$help" || dtp_fail "$app has no --audit option"
    done
fi

dtp_fixture_objects
# What the Instances Transferred messages must name, read from the objects.
STUDY_UID=$(dcmdump -s -Un +P 0020,000d "${SENT[0]}" | sed -n 's/^.*UI \[\([^]]*\)\].*$/\1/p' | head -n 1)
PATIENT_ID=$(dcmdump -s -Un +P 0010,0020 "${SENT[0]}" | sed -n 's/^.*LO \[\([^]]*\)\].*$/\1/p' | head -n 1)
SOP_CLASS=$(dcmdump -s -Un +P 0008,0016 "${SENT[0]}" | sed -n 's/^.*UI \[\([^]]*\)\].*$/\1/p' | head -n 1)
if [ -z "$STUDY_UID" ] || [ -z "$PATIENT_ID" ] || [ -z "$SOP_CLASS" ]; then
    dtp_fail "cannot read Study Instance UID / Patient ID / SOP Class UID from ${SENT[0]}"
fi
mapfile -t SOP_UIDS < <(_dtp_sop_uids "${SENT[@]}" | cut -f1 | sort)
[ ${#SOP_UIDS[@]} -eq 7 ] || dtp_fail "expected 7 SOP Instance UIDs in the fixture, got ${#SOP_UIDS[@]}"
for f in "${SENT[@]}"; do
    s=$(dcmdump -s -Un +P 0020,000d "$f" | sed -n 's/^.*UI \[\([^]]*\)\].*$/\1/p' | head -n 1)
    [ "$s" = "$STUDY_UID" ] || dtp_fail "fixture objects of more than one study ($s, $STUDY_UID): the checks below assume one"
done

OUT=$DTP_WORK/out
mkdir "$OUT"
SCP_PORT=$(dtp_free_port)
SCP_SPOOL=$DTP_WORK/spool-scp
SCU_SPOOL=$DTP_WORK/spool-scu
mkdir "$SCP_SPOOL" "$SCU_SPOOL"

# ----------------------------------------------------------------- helpers --

# start_scp NAME URL [ARGS...]: dtp-storescp with --audit URL, own spool.
start_scp() {
    local name=$1 url=$2; shift 2
    dtp_start "$name" "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 --profile "$PROFILE" \
        +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" +cf "$PKI/ca.pem" \
        -aet "$SCP_AET" -od "$OUT" --audit "$url" --audit-spool "$SCP_SPOOL" \
        "$@" -v "$SCP_PORT"
    dtp_wait_port "$SCP_PORT" 127.0.0.1 10 || dtp_fail "dtp-storescp ($name) did not listen on 127.0.0.1:$SCP_PORT"
}

# stop_one NAME: SIGTERM the process dtp_start started as NAME, wait (bounded)
# for it to exit; fails if it does not stop within 15 s.
stop_one() {
    local i idx=
    for i in "${!DTP_PID_NAMES[@]}"; do
        [ "${DTP_PID_NAMES[$i]}" = "$1" ] && idx=$i
    done
    [ -n "$idx" ] || dtp_fail "stop_one: no process named $1"
    local pid=${DTP_PIDS[$idx]}
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
        _dtp_alive "$pid" || break
        sleep 0.1
    done
    _dtp_alive "$pid" && dtp_fail "$1 (PID $pid) did not stop within 15 s of SIGTERM"
    { wait "$pid" || true; } 2>/dev/null
    # Now gone: take it off lib.sh's list (its process group may still hold
    # a straggler, which dtp_stop_all would not find then -- so signal that).
    _dtp_signal KILL "$idx" || true
    unset "DTP_PIDS[$idx]" "DTP_PID_NAMES[$idx]" "DTP_PID_GROUP[$idx]"
}

# send_objects NAME URL: one dtp-storescu run of the 7 fixture objects with
# --audit URL; sets WALL (s, the process) and XFER (s, the SCU's summary).
send_objects() {
    local name=$1 url=$2 t0 t1
    t0=$EPOCHREALTIME
    DTP_CMD_TIMEOUT=60 dtp_expect_exit 0 "$DTP_BIN/dtp-storescu" --profile "$PROFILE" \
        +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem" \
        -aet "$SCU_AET" -aec "$SCP_AET" --audit "$url" --audit-spool "$SCU_SPOOL" \
        127.0.0.1 "$SCP_PORT" "${SENT[@]}"
    t1=$EPOCHREALTIME
    cp "$DTP_WORK/last.out" "$DTP_WORK/$name.log"
    dtp_expect_grep '^summary: 7 of 7 objects stored, [0-9]+ bytes in [0-9.]+ s' "$DTP_WORK/$name.log"
    WALL=$(awk -v a="${t0/,/.}" -v b="${t1/,/.}" 'BEGIN { printf "%.2f", b - a }')
    XFER=$(sed -n 's/^summary: 7 of 7 objects stored, [0-9]* bytes in \([0-9.]*\) s.*$/\1/p' "$DTP_WORK/$name.log" | head -n 1)
}

# collect: extract and validate everything received so far into $MSGS; sets
# KIND[NNNN] (app-start, app-stop, alert, transferred, other:EVENT) and
# SIDE[NNNN] (scu, scp or ?, from the RFC 5424 APP-NAME).
MSGS=$DTP_WORK/msgs
# Patterns on the receiver's JSON lines (the XML's quotes are escaped there).
EV_START='csd-code=.{0,2}110120'
EV_STOP='csd-code=.{0,2}110121'
EV_TRANSFERRED='csd-code=.{0,2}110104'
EV_ALERT='csd-code=.{0,2}110113'
declare -A KIND SIDE
collect() {
    local n line id kind app
    rm -rf "$MSGS"
    n=$(dtp_audit_extract "$MSGS") || dtp_fail "the receiver wrote something that is not one JSON object a line: $AUDIT_OUT"
    KIND=() SIDE=()
    line=$(dtp_audit_classify "$MSGS") || dtp_fail "received audit messages that do not validate (see above; work dir $MSGS)"
    while read -r id kind; do
        [ -n "$id" ] || continue
        KIND[$id]=$kind
        app=$(jq -r .appname "$MSGS/$id.json")
        case $app in
            *storescu*) SIDE[$id]=scu ;;
            *storescp*) SIDE[$id]=scp ;;
            *) SIDE[$id]='?' ;;
        esac
    done <<<"$line"
    [ "${#KIND[@]}" -eq "$n" ] || dtp_fail "classified ${#KIND[@]} of $n messages"
}

# count SIDE KIND: how many collected messages are KIND from SIDE.
count() {
    local id c=0
    for id in "${!KIND[@]}"; do
        [ "${SIDE[$id]}" = "$1" ] && [ "${KIND[$id]}" = "$2" ] && c=$((c + 1))
    done
    echo "$c"
}

# ids SIDE KIND: the ids of those messages, in order of arrival.
ids() {
    local id
    for id in "${!KIND[@]}"; do
        if [ "${SIDE[$id]}" = "$1" ] && [ "${KIND[$id]}" = "$2" ]; then echo "$id"; fi
    done | sort
}

# summary: one line per received message, for the log and for failures.
summary() {
    local id
    for id in $(printf '%s\n' "${!KIND[@]}" | sort); do
        printf '  %s %-3s %-11s %s\n' "$id" "${SIDE[$id]}" "${KIND[$id]}" \
            "$(jq -c '{input, fromhost, pri, version, appname, procid, msgid}' "$MSGS/$id.json")"
    done
}

# check_headers INPUT: every message came in through INPUT (imtcp/imudp)
# from 127.0.0.1 with an RFC 5424 header (VERSION 1), an APP-NAME, facility
# 10 (security/authorization) and MSGID IHE+RFC-3881 (IHE ITI-20).
check_headers() {
    local id bad
    bad=$(for id in "${!KIND[@]}"; do
        jq -r --arg in "$1" --arg id "$id" \
            'select(.input != $in or .fromhost != "127.0.0.1" or .version != "1" or .appname == ""
                    or .appname == "-" or ((.pri | tonumber? // 0) / 8 | floor) != 10 or .msgid != "IHE+RFC-3881")
             | "\($id): input=\(.input) fromhost=\(.fromhost) version=\(.version) appname=\(.appname) pri=\(.pri) msgid=\(.msgid)"' "$MSGS/$id.json"
    done)
    [ -z "$bad" ] || dtp_fail "messages not received as RFC 5424 over $1 from 127.0.0.1:
$bad"
}

x() { dtp_audit_xpath "$@"; }

# check_transferred ID: the Instances Transferred message ID names the fixture
# study, patient, SOP class and (if listed) SOP instances, AE titles, the
# peer's address, success; sets NINST to its instance count.
check_transferred() {
    local f=$MSGS/$1.xml what=$1 n uids src dst
    local study="/AuditMessage/ParticipantObjectIdentification[ParticipantObjectIDTypeCode/@csd-code='110180']"
    [ "$(x "$f" "string($study/@ParticipantObjectID)")" = "$STUDY_UID" ] ||
        dtp_fail "$what: study object is not $STUDY_UID: $(cat "$f")"
    [ "$(x "$f" "count(/AuditMessage/ParticipantObjectIdentification[@ParticipantObjectTypeCode='1' and @ParticipantObjectTypeCodeRole='1' and @ParticipantObjectID='$PATIENT_ID'])")" = 1 ] ||
        dtp_fail "$what: no patient object with ID $PATIENT_ID: $(cat "$f")"
    [ "$(x "$f" "count($study//SOPClass[@UID='$SOP_CLASS'])")" -ge 1 ] ||
        dtp_fail "$what: no SOPClass $SOP_CLASS: $(cat "$f")"
    n=$(x "$f" "sum($study//SOPClass/@NumberOfInstances)")
    # (xmllint prints an attribute node as ' UID="..."'.)
    uids=$(x "$f" "$study//SOPClass/Instance/@UID" | grep -o 'UID="[^"]*"' | sed 's/^UID="//; s/"$//' | sort || true)
    if [ -n "$uids" ] && [ "$uids" != "$(printf '%s\n' "${SOP_UIDS[@]}")" ]; then
        dtp_fail "$what: listed SOP instances differ from the fixture's:
$(diff <(printf '%s\n' "${SOP_UIDS[@]}") <(printf '%s\n' "$uids") || true)"
    fi
    [ "$(x "$f" 'string(/AuditMessage/EventIdentification/@EventOutcomeIndicator)')" = 0 ] ||
        dtp_fail "$what: EventOutcomeIndicator is not 0 (success): $(cat "$f")"
    src="/AuditMessage/ActiveParticipant[RoleIDCode/@csd-code='110153']"
    dst="/AuditMessage/ActiveParticipant[RoleIDCode/@csd-code='110152']"
    [ "$(x "$f" "count(${src}[contains(concat(@UserID, ' ', @AlternativeUserID), '$SCU_AET')])")" -ge 1 ] ||
        dtp_fail "$what: the Source participant does not name AE title $SCU_AET: $(cat "$f")"
    [ "$(x "$f" "count(${dst}[contains(concat(@UserID, ' ', @AlternativeUserID), '$SCP_AET')])")" -ge 1 ] ||
        dtp_fail "$what: the Destination participant does not name AE title $SCP_AET: $(cat "$f")"
    # The peer by its address, 127.0.0.1 (the SCP's peer is the Source, the
    # SCU's the Destination); the own node by address or host name.
    local peer=$src own=$dst
    [ "${SIDE[$1]}" = scu ] && peer=$dst own=$src
    [ "$(x "$f" "string($peer/@NetworkAccessPointID)")/$(x "$f" "string($peer/@NetworkAccessPointTypeCode)")" = 127.0.0.1/2 ] ||
        dtp_fail "$what (${SIDE[$1]}): the peer's NetworkAccessPointID is not the IP address 127.0.0.1: $(cat "$f")"
    [ -n "$(x "$f" "string($own/@NetworkAccessPointID)")" ] ||
        dtp_fail "$what (${SIDE[$1]}): no NetworkAccessPointID for the own node: $(cat "$f")"
    [ "$(x "$f" "string($src/@UserIsRequestor)")" = true ] ||
        dtp_fail "$what: the Source (the SCU, which started the association) is not the requestor: $(cat "$f")"
    NINST=$n
}

# ------------------------------------------------------------------ cases --

# transfer_case SCHEME INPUT: tls / udp.
transfer_case() {
    local scheme=$1 input=$2 port url id n
    case $scheme in tls) port=$AUDIT_TLS_PORT ;; udp) port=$AUDIT_UDP_PORT ;; esac
    url="$scheme://127.0.0.1:$port"
    dtp_audit_start
    start_scp scp "$url"
    dtp_audit_wait 1 10 "storescp.*$EV_START" || dtp_fail "no Application Start from dtp-storescp within 10 s ($url)"
    send_objects scu "$url"
    echo "transfer: wall ${WALL} s, SCU transfer ${XFER} s"
    dtp_same_tree "${SENT[@]}" -- "$OUT"
    # The SCP's transferred message comes from its association process via
    # the spool: wait for two of them (one per side).
    dtp_audit_wait 2 15 "$EV_TRANSFERRED" || dtp_fail "fewer than 2 DICOM Instances Transferred messages within 15 s"
    stop_one scp
    dtp_audit_wait 1 10 "storescp.*$EV_STOP" || { collect; dtp_fail "no Application Stop within 10 s of the SCP's SIGTERM:
$(summary)"; }
    sleep 0.5   # anything else in flight
    collect
    echo "received ${#KIND[@]} messages:"
    summary
    check_headers "$input"
    [ "$(count scp app-start)" = 1 ] || dtp_fail "want 1 Application Start from dtp-storescp, got $(count scp app-start)"
    [ "$(count scp app-stop)" = 1 ] || dtp_fail "want 1 Application Stop from dtp-storescp, got $(count scp app-stop)"
    [ "$(count scp transferred)" = 1 ] || dtp_fail "want 1 Instances Transferred from dtp-storescp, got $(count scp transferred)"
    [ "$(count scu transferred)" = 1 ] || dtp_fail "want 1 Instances Transferred from dtp-storescu, got $(count scu transferred)"
    [ "$(count scp alert)/$(count scu alert)" = 0/0 ] || dtp_fail "Security Alert on a good association"
    [ "$(count '?' app-start)$(count '?' transferred)" = 00 ] || dtp_fail "messages with an unknown APP-NAME"
    # The SCU's own Application Activity: none, or a start and a stop.
    local s e
    s=$(count scu app-start) e=$(count scu app-stop)
    if [ "$s" != "$e" ] || [ "$s" -gt 1 ]; then
        dtp_fail "dtp-storescu sent $s Application Start and $e Application Stop"
    fi
    # Order on the SCP side: start, transferred, stop.
    local order
    order=$(for id in $(printf '%s\n' "${!KIND[@]}" | sort); do
        if [ "${SIDE[$id]}" = scp ]; then echo "${KIND[$id]}"; fi; done | paste -sd ' ')
    [ "$order" = "app-start transferred app-stop" ] || dtp_fail "dtp-storescp's messages arrived as: $order"
    for side in scu scp; do
        id=$(ids "$side" transferred)
        check_transferred "$id"
        [ "$NINST" = 7 ] || dtp_fail "$side: Instances Transferred says $NINST instances, want 7"
        echo "$side Instances Transferred ($id): study $STUDY_UID, $NINST instances, $SCU_AET -> $SCP_AET: ok"
    done
    # The Application Start names the SCP (AE title or program) as the
    # application (RoleIDCode 110150).
    id=$(ids scp app-start)
    [ "$(x "$MSGS/$id.xml" "count(/AuditMessage/ActiveParticipant[RoleIDCode/@csd-code='110150'][contains(concat(@UserID, ' ', @AlternativeUserID, ' ', @UserName), '$SCP_AET') or contains(concat(@UserID, ' ', @AlternativeUserID, ' ', @UserName), 'storescp')])")" -ge 1 ] ||
        dtp_fail "the Application Start does not name dtp-storescp or $SCP_AET as the application: $(cat "$MSGS/$id.xml")"
    echo "audit.$CASE: ${#KIND[@]} messages received over $input, all valid"
}

# alert_case CLIENT EXIT CODE NAME [SCP ARGS...]: a client refused by the SCP
# (key/certificate CLIENT of the fixture, dtp-storescu exits EXIT) gives one
# Security Alert carrying reason CODE NAME.
alert_case() {
    local client=$1 scu_exit=$2 code=$3 name=$4; shift 4
    local url="tls://127.0.0.1:$AUDIT_TLS_PORT" id f text d
    dtp_audit_start
    start_scp scp "$url" "$@"
    dtp_audit_wait 1 10 "storescp.*$EV_START" || dtp_fail "no Application Start from dtp-storescp within 10 s"
    # The SCU itself sends no audit.
    DTP_CMD_TIMEOUT=30 dtp_expect_exit "$scu_exit" "$DTP_BIN/dtp-storescu" --profile "$PROFILE" \
        +tls "$PKI/$client.key" "$PKI/$client.pem" +cf "$PKI/ca.pem" \
        -aet "$SCU_AET" -aec "$SCP_AET" 127.0.0.1 "$SCP_PORT" "${SENT[0]}"
    cp "$DTP_WORK/last.out" "$DTP_WORK/bad-scu.log"
    dtp_wait_grep "$code $name" "$DTP_WORK/scp.log" 10 ||
        dtp_fail "dtp-storescp did not log $code $name"
    dtp_audit_wait 1 15 "storescp.*$EV_ALERT" || { collect; dtp_fail "no Security Alert within 15 s:
$(summary)"; }
    sleep 0.3
    collect
    summary
    check_headers imtcp
    [ "$(count scp alert)" = 1 ] || dtp_fail "want 1 Security Alert from dtp-storescp, got $(count scp alert)"
    [ "$(count scp transferred)" = 0 ] || dtp_fail "an Instances Transferred message for a refused association"
    id=$(ids scp alert)
    f=$MSGS/$id.xml
    # Node Authentication (CID 403), failed.
    [ "$(x "$f" "count(/AuditMessage/EventIdentification/EventTypeCode[@csd-code='110126' and @codeSystemName='DCM'])")" = 1 ] ||
        dtp_fail "the Security Alert's EventTypeCode is not 110126 Node Authentication: $(cat "$f")"
    [ "$(x "$f" 'string(/AuditMessage/EventIdentification/@EventOutcomeIndicator)')" != 0 ] ||
        dtp_fail "the Security Alert for a refused peer reports success: $(cat "$f")"
    # The reason code and name, in plain text or in a base64 detail value.
    text=$(x "$f" 'string(/AuditMessage)')
    for d in $(x "$f" '/AuditMessage//ParticipantObjectDetail/@value' | grep -o 'value="[^"]*"' | sed 's/^value="//; s/"$//' || true); do
        text+=" $(printf '%s' "$d" | base64 -d 2>/dev/null | tr -d '\0' || true)"
    done
    grep -Eq "${code}[^0-9]+${name}" <<<"$text$(x "$f" '//@*' || true)" ||
        dtp_fail "the Security Alert does not carry '$code $name': $(cat "$f")"
    # The refused peer's address is in it.
    grep -q '127\.0\.0\.1' "$f" || dtp_fail "the Security Alert does not name the peer 127.0.0.1: $(cat "$f")"
    echo "----- Security Alert as received (RFC 5424 header fields, then MSG) -----"
    jq -c 'del(.msg)' "$MSGS/$id.json"
    cat "$f"
    echo
    echo "-----"
    echo "audit.alert: Security Alert 110113/110126 with $code $name received and valid"
}

down_case() {
    local url="tls://127.0.0.1:$AUDIT_TLS_PORT" i runs=()
    dtp_need_cmd python3   # the silent listener
    # 1. Nothing listens on the audit port: the SCP starts, serves a
    #    transfer, is restarted, serves another.
    start_scp scp1 "$url"
    send_objects down-1 "$url"; runs+=("receiver down (refused): wall $WALL s, SCU transfer $XFER s")
    local wall_down=$WALL
    stop_one scp1
    start_scp scp2 "$url"
    # 2. A listener that takes the TCP connection and never answers TLS
    #    (worse than down: a blocking sender would hang here).
    dtp_start blackhole python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
time.sleep(300)' "$AUDIT_TLS_PORT"
    dtp_wait_port "$AUDIT_TLS_PORT" 127.0.0.1 10 || dtp_fail "the silent listener did not start"
    send_objects down-2 "$url"; runs+=("receiver silent (no TLS): wall $WALL s, SCU transfer $XFER s")
    local wall_silent=$WALL xfer_silent=$XFER
    stop_one blackhole
    for ((i = 0; i < 50; i++)); do _dtp_port_busy "$AUDIT_TLS_PORT" || break; sleep 0.1; done
    [ "$(dtp_audit_count)" = 0 ] || dtp_fail "messages arrived while no receiver ran"
    # 3. The receiver comes up: a third run with a reachable receiver (the
    #    baseline), then the SCP stops.
    dtp_audit_start
    send_objects up-3 "$url"; runs+=("receiver up: wall $WALL s, SCU transfer $XFER s")
    local wall_up=$WALL xfer_up=$XFER
    printf '%s\n' "${runs[@]}"
    dtp_same_tree "${SENT[@]}" -- "$OUT"
    # Not slowed: a generous bound that still catches a sender waiting for a
    # connect/handshake timeout (the SCU's exit attempt is bounded, so the
    # process may take a little longer than its transfer).
    awk -v d="$wall_down" -v u="$wall_up" 'BEGIN { exit !(d <= u + 5) }' ||
        dtp_fail "the SCU with the receiver down took $wall_down s against $wall_up s with it up"
    awk -v d="$xfer_silent" -v u="$xfer_up" 'BEGIN { exit !(d <= u + 3) }' ||
        dtp_fail "the transfer with a silent receiver took $xfer_silent s against $xfer_up s"
    awk -v d="$wall_silent" -v u="$wall_up" 'BEGIN { exit !(d <= u + 15) }' ||
        dtp_fail "the SCU with a silent receiver took $wall_silent s (wall) against $wall_up s"
    # The SCP's association processes wrote to the spool; its main process
    # drains it now that the receiver is there.
    stop_one scp2
    # Expected: SCP 2x start, 2x stop, 3x transferred; SCU 3x transferred
    # (+ its Application Start/Stop per run, if it sends them).
    local pat left deadline=$((SECONDS + 45)) missing=()
    for pat in "storescp.*$EV_TRANSFERRED:3" "storescp.*$EV_START:2" "storescp.*$EV_STOP:2" \
               "storescu.*$EV_TRANSFERRED:3"; do
        left=$((deadline - SECONDS))
        [ "$left" -gt 0 ] || left=1
        dtp_audit_wait "${pat##*:}" "$left" "${pat%:*}" || missing+=("${pat%:*} (want ${pat##*:})")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        collect
        dtp_fail "missing within 45 s of the receiver's start: ${missing[*]}
$(summary)"
    fi
    sleep 1   # late ones would be duplicates or extra: count them too
    collect
    echo "received ${#KIND[@]} messages:"
    summary
    check_headers imtcp
    local want got problems=()
    for want in scp:app-start:2 scp:app-stop:2 scp:transferred:3 scu:transferred:3 scp:alert:0 scu:alert:0; do
        IFS=: read -r side kind n <<<"$want"
        got=$(count "$side" "$kind")
        [ "$got" = "$n" ] || problems+=("$side $kind: got $got, want $n")
    done
    local s e
    s=$(count scu app-start) e=$(count scu app-stop)
    { [ "$s" = 0 ] || [ "$s" = 3 ]; } && [ "$s" = "$e" ] ||
        problems+=("scu: $s Application Start and $e Application Stop for 3 runs (want 0/0 or 3/3)")
    # None twice: every message is different (its time, its participants).
    local dups
    dups=$(md5sum "$MSGS"/*.xml | awk '{ print $1 }' | sort | uniq -d | wc -l)
    [ "$dups" = 0 ] || problems+=("$dups message(s) received more than once")
    [ ${#problems[@]} -eq 0 ] || dtp_fail "messages lost or extra:
$(printf '  %s\n' "${problems[@]}")
$(summary)"
    for id in $(ids scp transferred) $(ids scu transferred); do
        check_transferred "$id"
        [ "$NINST" = 7 ] || dtp_fail "$id: Instances Transferred says $NINST instances, want 7"
    done
    echo "audit.down: all ${#KIND[@]} messages arrived after the receiver started (none lost, none twice)"
}

receiver_case() {
    local S=$DTP_SOURCE_DIR/tests/audit/samples f n=0 tls=() frames=$DTP_WORK/frames
    dtp_need_cmd openssl
    dtp_audit_start
    # An RFC 5424 message: header, then MSG-UTF8 (BOM + the XML).
    msg5424() {
        printf '<85>1 2026-11-30T17:30:00.123456Z test-host dtp-test 4242 IHE+RFC-3881 - \xef\xbb\xbf'
        cat "$1"
    }
    : > "$frames"
    for f in "$S/valid-app-start.xml" "$S/valid-transferred.xml" "$S/valid-alert.xml"; do
        msg5424 "$f" > "$DTP_WORK/one"
        # RFC 5425 octet counting: "LEN SP MSG".
        { printf '%d ' "$(wc -c < "$DTP_WORK/one")"; cat "$DTP_WORK/one"; } >> "$frames"
        tls+=("$f")
    done
    timeout 20 openssl s_client -quiet -no_ign_eof -connect "127.0.0.1:$AUDIT_TLS_PORT" \
        -cert "$PKI/client-rsa.pem" -key "$PKI/client-rsa.key" -CAfile "$PKI/ca.pem" \
        -verify_return_error < "$frames" > "$DTP_WORK/s_client.log" 2>&1 ||
        dtp_fail "openssl s_client could not send to the receiver"
    dtp_audit_wait 3 10 || dtp_fail "the receiver got $(dtp_audit_count) of 3 messages over TLS"
    # UDP: one datagram per message (cat writes a small file in one go).
    msg5424 "$S/valid-app-stop.xml" > "$DTP_WORK/one"
    cat "$DTP_WORK/one" > "/dev/udp/127.0.0.1/$AUDIT_UDP_PORT"
    dtp_audit_wait 4 10 || dtp_fail "the UDP message did not arrive"
    # Without a client certificate: refused (x509/certvalid), nothing written.
    timeout 20 openssl s_client -quiet -no_ign_eof -connect "127.0.0.1:$AUDIT_TLS_PORT" \
        -CAfile "$PKI/ca.pem" < "$frames" > "$DTP_WORK/s_client-nocert.log" 2>&1 || true
    # Restart on the same ports; the file is appended to.
    dtp_audit_stop
    dtp_audit_start
    timeout 20 openssl s_client -quiet -no_ign_eof -connect "127.0.0.1:$AUDIT_TLS_PORT" \
        -cert "$PKI/client-rsa.pem" -key "$PKI/client-rsa.key" -CAfile "$PKI/ca.pem" \
        < "$frames" > "$DTP_WORK/s_client-2.log" 2>&1 || dtp_fail "openssl s_client could not send after the restart"
    dtp_audit_wait 7 10 || dtp_fail "after the restart: $(dtp_audit_count) of 7 messages"
    sleep 0.5
    n=$(dtp_audit_count)
    [ "$n" = 7 ] || dtp_fail "want 7 messages (3 TLS, 1 UDP, none without a certificate, 3 after the restart), got $n"
    collect
    summary
    local want=("${tls[@]}" "$S/valid-app-stop.xml" "${tls[@]}") i id
    for i in "${!want[@]}"; do
        printf -v id '%04d' $((i + 1))
        cmp -s "$MSGS/$id.xml" "${want[$i]}" || dtp_fail "message $id differs from ${want[$i]}:
$(diff "${want[$i]}" "$MSGS/$id.xml" | head -n 20)"
        jq -e '.version == "1" and .pri == "85" and .hostname == "test-host" and .appname == "dtp-test"
               and .procid == "4242" and .msgid == "IHE+RFC-3881" and .sd == "-"
               and .timestamp == "2026-11-30T17:30:00.123456Z" and .fromhost == "127.0.0.1"' \
            "$MSGS/$id.json" >/dev/null || dtp_fail "message $id: header fields not as sent: $(jq -c 'del(.msg)' "$MSGS/$id.json")"
    done
    [ "$(jq -r .input "$MSGS/0004.json")" = imudp ] || dtp_fail "message 0004 did not come in over UDP"
    [ "$(jq -r .input "$MSGS/0001.json")" = imtcp ] || dtp_fail "message 0001 did not come in over TLS"
    echo "audit.receiver: 7 hand-made messages received byte for byte (TLS, UDP, after a restart); a client without a certificate refused"
}

case $CASE in
    receiver) receiver_case ;;
    tls) transfer_case tls imtcp ;;
    udp) transfer_case udp imudp ;;
    # a client certificate from another CA
    alert) alert_case other-client-rsa 4 204 PEER_CERT_UNTRUSTED ;;
    # a trusted certificate not bound to the calling AE title (--peer-map)
    binding)
        printf '%s cn:"someone else"\n' "$SCU_AET" > "$DTP_WORK/peers.map"
        alert_case client-rsa 5 401 PEER_CERT_NOT_BOUND --peer-map "$DTP_WORK/peers.map" ;;
    down) down_case ;;
esac
