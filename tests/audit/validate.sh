#!/bin/bash
# validate.sh [--expect KIND] FILE... -- check DICOM audit messages (PS3.15
# A.5) against the audit message schema and the per-event rules of A.5.2 and
# A.5.3 that a schema cannot say.
#
#   --expect KIND   every FILE must be that event: app-start, app-stop,
#                   app-activity (either), alert, transferred, any (default)
#   --describe      print one line per valid FILE instead of OK lines:
#                   FILE<TAB>event=CODE type=CODES outcome=N action=X
#
# Output, one line per FILE (stable, for scripts):
#   audit-validate: OK FILE event=CODE
#   audit-validate: FAIL FILE: WHAT
# Exit 0 if every FILE passes, 1 if one fails, 2 on usage, 77 if xmllint
# (Debian package libxml2-utils) is missing.  DTP_AUDIT_SCHEMA names another
# schema file (to show that a test fails when the schema says no).
#
# Rules beyond the schema (A.5.2 general, A.5.3 per event):
#   all          EventDateTime carries a UTC offset (A.5.2.5); EventID is a
#                DCM code; AuditSourceID is not empty
#   110100       Application Activity: EventActionCode E, exactly one
#                EventTypeCode, 110120 (start) or 110121 (stop), DCM; an
#                ActiveParticipant with RoleIDCode 110150 (Application)
#   110113       Security Alert: EventActionCode E, an EventTypeCode of
#                CID 403 (110126..110142) DCM; an ActiveParticipant that is
#                the requestor (reporting process); a participant object
#                naming the alert subject
#   110104       DICOM Instances Transferred: EventActionCode C, R or U;
#                a Source (110153) and a Destination (110152) participant;
#                a study object (ParticipantObjectIDTypeCode 110180 DCM,
#                type 2, role 3) with at least one SOPClass and
#                NumberOfInstances >= 1; a patient object (type 1, role 1)
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SCHEMA=${DTP_AUDIT_SCHEMA:-$HERE/audit-message.rng}

usage() {
    echo "usage: $0 [--expect app-start|app-stop|app-activity|alert|transferred|any] [--describe] FILE..." >&2
    exit 2
}

expect=any describe=0
while [ $# -gt 0 ]; do
    case $1 in
        --expect) [ $# -ge 2 ] || usage; expect=$2; shift 2 ;;
        --describe) describe=1; shift ;;
        --) shift; break ;;
        -*) usage ;;
        *) break ;;
    esac
done
case $expect in app-start | app-stop | app-activity | alert | transferred | any) ;; *) usage ;; esac
[ $# -gt 0 ] || usage
command -v xmllint >/dev/null 2>&1 || { echo "audit-validate: SKIP xmllint not found (libxml2-utils)"; exit 77; }
[ -r "$SCHEMA" ] || { echo "audit-validate: schema $SCHEMA not readable" >&2; exit 2; }

# x FILE XPATH: the string value of XPATH (an XPath 1.0 string/number
# expression) in FILE.
x() {
    xmllint --xpath "$2" "$1" 2>/dev/null
}

# The first failed rule of FILE on stdout; nothing if every rule holds.
check_rules() {
    local f=$1 ev dt n
    ev=$(x "$f" 'string(/AuditMessage/EventIdentification/EventID/@csd-code)')
    [ "$(x "$f" 'string(/AuditMessage/EventIdentification/EventID/@codeSystemName)')" = DCM ] ||
        { echo "EventID $ev is not a DCM code"; return; }
    dt=$(x "$f" 'string(/AuditMessage/EventIdentification/@EventDateTime)')
    [[ $dt =~ (Z|[+-][0-9][0-9]:[0-9][0-9])$ ]] ||
        { echo "EventDateTime '$dt' has no UTC offset (A.5.2.5)"; return; }
    [ -n "$(x "$f" 'normalize-space(/AuditMessage/AuditSourceIdentification/@AuditSourceID)')" ] ||
        { echo "empty AuditSourceID"; return; }

    local action types
    action=$(x "$f" 'string(/AuditMessage/EventIdentification/@EventActionCode)')
    types=$(x "$f" 'count(/AuditMessage/EventIdentification/EventTypeCode)')
    case $ev in
        110100)   # Application Activity (A.5.3.1)
            [ "$action" = E ] || { echo "Application Activity: EventActionCode '$action', want E"; return; }
            [ "$types" = 1 ] || { echo "Application Activity: $types EventTypeCode, want 1"; return; }
            [ "$(x "$f" 'count(/AuditMessage/EventIdentification/EventTypeCode[@codeSystemName="DCM" and (@csd-code="110120" or @csd-code="110121")])')" = 1 ] ||
                { echo "Application Activity: EventTypeCode is not 110120/110121 DCM"; return; }
            [ "$(x "$f" 'count(/AuditMessage/ActiveParticipant[RoleIDCode[@csd-code="110150" and @codeSystemName="DCM"]])')" -ge 1 ] ||
                { echo "Application Activity: no ActiveParticipant with RoleIDCode 110150 (Application)"; return; }
            ;;
        110113)   # Security Alert (A.5.3.11)
            [ "$action" = E ] || { echo "Security Alert: EventActionCode '$action', want E"; return; }
            n=$(x "$f" 'count(/AuditMessage/EventIdentification/EventTypeCode[@codeSystemName="DCM" and @csd-code >= 110126 and @csd-code <= 110142])')
            [ "$n" -ge 1 ] || { echo "Security Alert: no EventTypeCode of CID 403 (110126..110142, DCM)"; return; }
            [ "$(x "$f" 'count(/AuditMessage/ActiveParticipant[@UserIsRequestor="true" or @UserIsRequestor="1"])')" -ge 1 ] ||
                { echo "Security Alert: no reporting ActiveParticipant (UserIsRequestor true)"; return; }
            [ "$(x "$f" 'count(/AuditMessage/ParticipantObjectIdentification)')" -ge 1 ] ||
                { echo "Security Alert: no participant object (alert subject)"; return; }
            ;;
        110104)   # DICOM Instances Transferred (A.5.3.10)
            case $action in C | R | U) ;; *) echo "Instances Transferred: EventActionCode '$action', want C, R or U"; return ;; esac
            [ "$(x "$f" 'count(/AuditMessage/ActiveParticipant[RoleIDCode[@csd-code="110153" and @codeSystemName="DCM"]])')" -ge 1 ] ||
                { echo "Instances Transferred: no Source participant (RoleIDCode 110153)"; return; }
            [ "$(x "$f" 'count(/AuditMessage/ActiveParticipant[RoleIDCode[@csd-code="110152" and @codeSystemName="DCM"]])')" -ge 1 ] ||
                { echo "Instances Transferred: no Destination participant (RoleIDCode 110152)"; return; }
            local study='/AuditMessage/ParticipantObjectIdentification[ParticipantObjectIDTypeCode[@csd-code="110180" and @codeSystemName="DCM"]]'
            [ "$(x "$f" "count($study)")" -ge 1 ] ||
                { echo "Instances Transferred: no study object (ParticipantObjectIDTypeCode 110180 DCM)"; return; }
            [ "$(x "$f" "count(${study}[not(@ParticipantObjectTypeCode=\"2\" and @ParticipantObjectTypeCodeRole=\"3\")])")" = 0 ] ||
                { echo "Instances Transferred: study object not type 2 / role 3"; return; }
            # SOPClass sits in ParticipantObjectDescription or, in later
            # editions, directly in the object.
            [ "$(x "$f" "count(${study}[not(.//SOPClass[@NumberOfInstances >= 1])])")" = 0 ] ||
                { echo "Instances Transferred: a study object without SOPClass NumberOfInstances >= 1"; return; }
            [ "$(x "$f" 'count(/AuditMessage/ParticipantObjectIdentification[@ParticipantObjectTypeCode="1" and @ParticipantObjectTypeCodeRole="1"])')" -ge 1 ] ||
                { echo "Instances Transferred: no patient object (type 1, role 1)"; return; }
            ;;
    esac

    local type
    type=$(x "$f" 'string(/AuditMessage/EventIdentification/EventTypeCode/@csd-code)')
    case $expect in
        app-start) [ "$ev/$type" = 110100/110120 ] || echo "want Application Start (110100/110120), got $ev/$type" ;;
        app-stop) [ "$ev/$type" = 110100/110121 ] || echo "want Application Stop (110100/110121), got $ev/$type" ;;
        app-activity) [ "$ev" = 110100 ] || echo "want Application Activity (110100), got $ev" ;;
        alert) [ "$ev" = 110113 ] || echo "want Security Alert (110113), got $ev" ;;
        transferred) [ "$ev" = 110104 ] || echo "want DICOM Instances Transferred (110104), got $ev" ;;
    esac
}

rc=0
for f in "$@"; do
    if [ ! -r "$f" ]; then
        echo "audit-validate: FAIL $f: not readable"
        rc=1
        continue
    fi
    if ! err=$(xmllint --noout --relaxng "$SCHEMA" "$f" 2>&1); then
        # The first schema error, on one line.
        err=$(printf '%s\n' "$err" | grep -v ' fails to validate$' | head -n 1)
        echo "audit-validate: FAIL $f: schema: ${err:-does not validate}"
        rc=1
        continue
    fi
    why=$(check_rules "$f")
    if [ -n "$why" ]; then
        echo "audit-validate: FAIL $f: $why"
        rc=1
        continue
    fi
    ev=$(x "$f" 'string(/AuditMessage/EventIdentification/EventID/@csd-code)')
    if [ "$describe" = 1 ]; then
        types=$(x "$f" 'string(/AuditMessage/EventIdentification/EventTypeCode[1]/@csd-code)')
        printf '%s\tevent=%s type=%s outcome=%s action=%s\n' "$f" "$ev" "${types:--}" \
            "$(x "$f" 'string(/AuditMessage/EventIdentification/@EventOutcomeIndicator)')" \
            "$(x "$f" 'string(/AuditMessage/EventIdentification/@EventActionCode)')"
    else
        echo "audit-validate: OK $f event=$ev"
    fi
done
exit "$rc"
