#!/bin/bash
# audit_file.sh -- the audit trail (--audit file:PATH) of dtp-storescp and
# dtp-storescu under B.12, end to end:
#
#   - dtp-storescp records Application Start, one DICOM Instances
#     Transferred (EventActionCode C) naming every object the SCU stored
#     with its study and the calling AE title, a Security Alert (Node
#     Authentication, provider reason 204 PEER_CERT_UNTRUSTED) for a client
#     whose certificate it cannot trust, and Application Stop, in that
#     order, one RFC 5424 line each (PRI <85>/<84>, APP-NAME dtp-storescp,
#     MSGID IHE+RFC-3881, BOM, the XML);
#   - dtp-storescu records Start, Instances Transferred (R) and Stop, and
#     for the refused run a Security Alert with its own reason;
#   - a sink that cannot be written keeps the messages in the spool, and
#     the next run sends them as well (nothing lost across runs);
#   - every message is a valid DICOM audit message (PS3.15 A.5.1 schema and
#     A.5.3 rules: tests/audit/validate.sh). SKIP without xmllint, after
#     the other checks have passed.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
dtp_init audit-file
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}"
dtp_need_cmd dcmdump timeout setsid

W=$DTP_WORK
PKI=$DTP_PKI
VALIDATE=${DTP_SOURCE_DIR:-$HERE/../..}/tests/audit/validate.sh
mkdir "$W/out"
dtp_fixture_objects
BOM=$'\xEF\xBB\xBF'
HEADER_RE='^<8[45]>1 [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z [!-~]+ '

# split LOG APP PREFIX: check each line's RFC 5424 header (APP-NAME APP)
# and write its XML to PREFIX-N.xml; prints the number of messages.
split() {
    local log=$1 app=$2 prefix=$3 n=0 line
    while IFS= read -r line; do
        n=$((n + 1))
        [[ $line =~ ${HEADER_RE}${app}\ [0-9]+\ IHE\+RFC-3881\ -\ ${BOM}'<?xml version="1.0" encoding="UTF-8"?><AuditMessage>' ]] ||
            { echo "line $n of $log is not an RFC 5424 audit message of $app: ${line:0:160}" >&2; return 1; }
        printf '%s\n' "${line#*"$BOM"}" > "$prefix-$n.xml"
    done < "$log"
    echo "$n"
}

# event FILE: "EVENTID/TYPE/ACTION/OUTCOME" of a message.
event() {
    local x
    x=$(cat "$1")
    local id type action outcome
    id=$(grep -o '<EventID csd-code="[0-9]*"' <<<"$x" | grep -o '[0-9]*' || true)
    type=$(grep -o '<EventTypeCode csd-code="[0-9]*"' <<<"$x" | grep -o '[0-9]*' || true)
    action=$(grep -o 'EventActionCode="[A-Z]"' <<<"$x" | cut -d'"' -f2 || true)
    outcome=$(grep -o 'EventOutcomeIndicator="[0-9]*"' <<<"$x" | cut -d'"' -f2 || true)
    echo "$id/${type:--}/${action:--}/$outcome"
}

# ---- 1. dtp-storescp: one good association, one refused client.
port=$(dtp_free_port)
dtp_start scp "$DTP_BIN/dtp-storescp" --profile bcp195-8996 \
    +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" +cf "$PKI/ca.pem" \
    --audit "file:$W/scp-audit.log" --audit-spool "$W/scp-spool" \
    --bind 127.0.0.1 --exit-after 2 -od "$W/out" -v "$port"
dtp_wait_port "$port" 127.0.0.1 10 || dtp_fail "dtp-storescp did not listen on $port"

SCU=("$DTP_BIN/dtp-storescu" --profile bcp195-8996 +cf "$PKI/ca.pem" -aet AUDIT-SCU -aec AUDIT-SCP
    --audit "file:$W/scu-audit.log" --audit-spool "$W/scu-spool")
dtp_expect_exit 0 "${SCU[@]}" +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" 127.0.0.1 "$port" "${SENT[@]}"
dtp_expect_grep '^summary: 7 of 7 objects stored' "$W/last.out"
# a client certificate of another CA: refused by the SCP (204), the SCU
# learns it from the alert (209)
dtp_expect_exit 4 "${SCU[@]}" +tls "$PKI/other-client-rsa.key" "$PKI/other-client-rsa.pem" \
    127.0.0.1 "$port" "${SENT[0]}"

scp_pid=${DTP_PIDS[0]}
for ((i = 0; i < 150; i++)); do
    _dtp_alive "$scp_pid" || break
    sleep 0.1
done
_dtp_alive "$scp_pid" && dtp_fail "dtp-storescp --exit-after 2 did not exit within 15 s"
rc=0
wait "$scp_pid" || rc=$?
[ "$rc" = 4 ] || dtp_fail "dtp-storescp --exit-after 2: exit $rc, expected 4 (the refused association)"

n=$(split "$W/scp-audit.log" dtp-storescp "$W/scp") || dtp_fail "dtp-storescp's audit log is not RFC 5424"
[ "$n" = 4 ] || dtp_fail "dtp-storescp wrote $n audit messages, expected 4 (start, transferred, alert, stop)"
got="$(event "$W/scp-1.xml") $(event "$W/scp-4.xml")"
[ "$got" = "110100/110120/E/0 110100/110121/E/0" ] ||
    dtp_fail "dtp-storescp: first and last message $got, expected Application Start and Stop"
# the two association messages come from two processes: in either order
transferred='' alert=''
for f in "$W/scp-2.xml" "$W/scp-3.xml"; do
    case $(event "$f") in
        110104/-/C/0) transferred=$f ;;
        110113/110126/E/4) alert=$f ;;
    esac
done
[ -n "$transferred" ] || dtp_fail "dtp-storescp: no DICOM Instances Transferred (110104, C, success)"
[ -n "$alert" ] || dtp_fail "dtp-storescp: no Security Alert (110113/110126, outcome 4)"
head -n 1 "$W/scp-audit.log" | grep -q '^<85>1 ' || dtp_fail "Application Start is not PRI <85>"
grep -q "^<84>1 .*csd-code=\"110113\"" "$W/scp-audit.log" || dtp_fail "the Security Alert is not PRI <84>"

# every object stored is named, under its study, the sender by its AE title
for f in "${SENT[@]}"; do
    uid=$(dcmdump -s -Un +P 0008,0018 "$f" | sed -n 's/^[^[]*\[\([^]]*\)\].*/\1/p' | head -n 1)
    study=$(dcmdump -s -Un +P 0020,000d "$f" | sed -n 's/^[^[]*\[\([^]]*\)\].*/\1/p' | head -n 1)
    grep -q "<Instance UID=\"$uid\"/>" "$transferred" || dtp_fail "object $uid missing from $transferred"
    grep -q "ParticipantObjectID=\"$study\" ParticipantObjectTypeCode=\"2\" ParticipantObjectTypeCodeRole=\"3\"" \
        "$transferred" || dtp_fail "study $study missing from $transferred"
done
[ "$(grep -o '<Instance UID=' "$transferred" | wc -l)" = 7 ] || dtp_fail "expected 7 instances in $transferred"
grep -q 'UserID="AUDIT-SCU" AlternativeUserID="AETITLES=AUDIT-SCU" UserIsRequestor="true" NetworkAccessPointID="127.0.0.1" NetworkAccessPointTypeCode="2"><RoleIDCode csd-code="110153"' \
    "$transferred" || dtp_fail "the calling AE title is not the Source participant of $transferred"
grep -q '<EventOutcomeDescription>A-P-ABORT, provider reason 204 PEER_CERT_UNTRUSTED: ' "$alert" ||
    dtp_fail "the Security Alert does not carry provider reason 204 PEER_CERT_UNTRUSTED"
# "204 PEER_CERT_UNTRUSTED" in base64, and the peer node by its address
grep -q 'type="Provider Reason" value="MjA0IFBFRVJfQ0VSVF9VTlRSVVNURUQ="' "$alert" ||
    dtp_fail "the Security Alert has no Provider Reason detail 204 PEER_CERT_UNTRUSTED"
grep -q 'ParticipantObjectID="127.0.0.1" ParticipantObjectTypeCode="2"><ParticipantObjectIDTypeCode csd-code="110182"' \
    "$alert" || dtp_fail "the Security Alert does not name the peer node 127.0.0.1"
[ -z "$(find "$W/scp-spool" -name '*.msg')" ] || dtp_fail "messages left in dtp-storescp's spool after its stop"
echo "dtp-storescp: 4 messages, Security Alert:"
cat "$alert"

# ---- 2. dtp-storescu: two runs, each start, event(s), stop.
n=$(split "$W/scu-audit.log" dtp-storescu "$W/scu") || dtp_fail "dtp-storescu's audit log is not RFC 5424"
got=
for ((i = 1; i <= n; i++)); do got+="$(event "$W/scu-$i.xml") "; done
want="110100/110120/E/0 110104/-/R/0 110100/110121/E/0 110100/110120/E/0 110113/110126/E/4 110100/110121/E/0 "
[ "$got" = "$want" ] || dtp_fail "dtp-storescu's messages: '$got', expected '$want'"
grep -q '<EventOutcomeDescription>A-P-ABORT, provider reason 209 PEER_ALERT: ' "$W/scu-5.xml" ||
    dtp_fail "dtp-storescu's Security Alert does not carry its reason 209 PEER_ALERT"
grep -q 'UserID="AUDIT-SCP" AlternativeUserID="AETITLES=AUDIT-SCP" UserIsRequestor="false"' "$W/scu-2.xml" ||
    dtp_fail "the called AE title is not the Destination participant"

# ---- 3. A sink that cannot be written (its directory is a file: refused
# even to root): the messages wait in the spool and go with the next run's.
: > "$W/not-a-dir"
spool=$W/keep-spool
rc=0
timeout 30 "$DTP_BIN/dtp-storescu" --audit "file:$W/not-a-dir/audit.log" --audit-spool "$spool" \
    127.0.0.1 "$(dtp_free_port)" "${SENT[0]}" >"$W/keep-1.log" 2>&1 || rc=$?
[ "$rc" = 7 ] || dtp_fail "dtp-storescu to a closed port: exit $rc, expected 7"
kept=$(find "$spool" -name '*.msg' | wc -l)
[ "$kept" = 2 ] || dtp_fail "expected Start and Stop kept in the spool, found $kept messages"
dtp_expect_grep 'W: audit: 2 messages left in ' "$W/keep-1.log"
rc=0
timeout 30 "$DTP_BIN/dtp-storescu" --audit "file:$W/keep.log" --audit-spool "$spool" \
    127.0.0.1 "$(dtp_free_port)" "${SENT[0]}" >"$W/keep-2.log" 2>&1 || rc=$?
[ "$rc" = 7 ] || dtp_fail "dtp-storescu to a closed port: exit $rc, expected 7"
n=$(split "$W/keep.log" dtp-storescu "$W/keep") || dtp_fail "the second run's audit log is not RFC 5424"
got=
for ((i = 1; i <= n; i++)); do got+="$(event "$W/keep-$i.xml") "; done
want="110100/110120/E/0 110100/110121/E/0 110100/110120/E/0 110100/110121/E/0 "
[ "$got" = "$want" ] || dtp_fail "after the unwritable run: '$got', expected the kept Start/Stop, then the new ones"
[ -z "$(find "$spool" -name '*.msg')" ] || dtp_fail "messages left in the spool after a good run"

# ---- 4. The schema and the A.5.3 rules.
command -v xmllint >/dev/null 2>&1 || dtp_skip "xmllint (libxml2-utils) missing: messages not checked against the schema"
[ -r "$VALIDATE" ] || dtp_skip "tests/audit/validate.sh missing"
bash "$VALIDATE" "$W"/scp-*.xml "$W"/scu-*.xml "$W"/keep-*.xml > "$W/validate.out" 2>&1 ||
    dtp_fail "audit messages do not validate:
$(grep -v ': OK ' "$W/validate.out" | head -n 20)"
echo "PASS: $(grep -c ': OK ' "$W/validate.out") audit messages valid"
