# shellcheck shell=bash
# audit_lib.sh -- an audit record repository for the end-to-end tests: rsyslog
# in the foreground with a private configuration, receiving RFC 5424 syslog
# messages over TLS (RFC 5425, octet-counted) and over UDP (RFC 5426) on
# 127.0.0.1, and writing each received message to a file, one JSON object a
# line, with its header fields and its MSG (the DICOM audit message XML,
# PS3.15 A.5) escaped so that the XML stays byte for byte intact.  Source it
# after lib.sh and dtp_init:
#
#     . "$HERE/lib.sh"; . "$HERE/audit_lib.sh"
#     dtp_init audit-x
#     dtp_audit_need                 # SKIP without rsyslogd, its gtls driver, jq, xmllint
#     dtp_audit_setup                # ports and config; nothing runs yet
#     dtp_audit_start                # rsyslogd up, both inputs listening
#     ... dtp-storescp --audit "tls://127.0.0.1:$AUDIT_TLS_PORT" ...
#     dtp_audit_wait 3 10 || dtp_fail "..."
#     dtp_audit_extract "$DTP_WORK/msgs"   # msgs/0001.xml, 0001.json, ...
#     dtp_audit_stop
#
# Variables set by dtp_audit_setup: AUDIT_DIR (rsyslog's private directory
# below $DTP_WORK: config, work directory, pid file, logs), AUDIT_OUT (the
# received messages), AUDIT_TLS_PORT, AUDIT_UDP_PORT.  The ports stay the
# same across dtp_audit_stop / dtp_audit_start, so a sender configured once
# finds the receiver again, and AUDIT_OUT is appended to, never truncated.
#
# A line of AUDIT_OUT:  {"input":"imtcp"|"imudp","fromhost":IP,"pri":"N",
#   "version":"1","timestamp":...,"hostname":...,"appname":...,"procid":...,
#   "msgid":...,"sd":...,"msg":...}   ("version" is 1 for an RFC 5424 header).
#
# The TLS input uses the test PKI's server-rsa certificate and key (gtls reads
# only an unencrypted key, which the fixture's server-rsa.key is) and checks
# the sender's certificate against ca.pem (x509/certvalid: RFC 5425 mutual
# authentication); DTP_AUDIT_AUTHMODE=anon accepts senders without one.
# Nothing is written outside AUDIT_DIR: rsyslog's work directory (queues,
# state), pid file and internal messages are all there.

AUDIT_RSYSLOGD=     # the rsyslogd binary (often in /usr/sbin, off a user's PATH)
AUDIT_PID=          # rsyslogd while it runs
AUDIT_PID_INDEX=    # its slot in lib.sh's DTP_PIDS

# _dtp_audit_udp_busy PORT: true if some local UDP socket uses PORT.
_dtp_audit_udp_busy() {
    local hex
    printf -v hex ':%04X ' "$1"
    cat /proc/net/udp /proc/net/udp6 2>/dev/null |
        awk -v p="$hex" 'NR > 1 && index($2 " ", p) { found = 1 } END { exit !found }'
}

# dtp_audit_need: SKIP (77) unless rsyslogd, jq, xmllint (libxml2-utils) and
# ss are here.  (rsyslog's GnuTLS driver, package rsyslog-gnutls, is checked
# by dtp_audit_setup, which loads the modules of the real configuration.)
dtp_audit_need() {
    dtp_need_cmd jq xmllint ss
    AUDIT_RSYSLOGD=$(command -v rsyslogd || true)
    [ -n "$AUDIT_RSYSLOGD" ] || [ ! -x /usr/sbin/rsyslogd ] || AUDIT_RSYSLOGD=/usr/sbin/rsyslogd
    [ -n "$AUDIT_RSYSLOGD" ] || dtp_skip "missing command(s): rsyslogd (package rsyslog)"
}

# dtp_audit_setup: pick the two ports (free for TCP and UDP both) and write
# the configuration into AUDIT_DIR.  Starts nothing.
dtp_audit_setup() {
    : "${DTP_WORK:?call dtp_init first}" "${DTP_PKI:?DTP_PKI not set}"
    AUDIT_DIR=$DTP_WORK/audit-receiver
    AUDIT_OUT=$AUDIT_DIR/received.jsonl
    mkdir -p "$AUDIT_DIR/work"
    local p tries
    for tries in 1 2 3 4 5 6 7 8 9 10; do
        p=$(dtp_free_port) || dtp_fail "no free port for the audit receiver"
        _dtp_audit_udp_busy "$p" || break
    done
    AUDIT_TLS_PORT=$p
    for tries in 1 2 3 4 5 6 7 8 9 10; do
        p=$(dtp_free_port) || dtp_fail "no free port for the audit receiver"
        _dtp_audit_udp_busy "$p" || break
    done
    AUDIT_UDP_PORT=$p
    : "$tries"
    local authmode=${DTP_AUDIT_AUTHMODE:-x509/certvalid}
    cat > "$AUDIT_DIR/rsyslog.conf" <<EOF
# Written by audit_lib.sh for one test; everything stays in $AUDIT_DIR.
global(workDirectory="$AUDIT_DIR/work"
       maxMessageSize="256k"
       net.enableDNS="off"
       defaultNetstreamDriver="gtls"
       defaultNetstreamDriverCAFile="$DTP_PKI/ca.pem"
       defaultNetstreamDriverCertFile="$DTP_PKI/server-rsa.pem"
       defaultNetstreamDriverKeyFile="$DTP_PKI/server-rsa.key")
# Keep the message as sent: no #012-style escaping of line ends or tabs,
# and a line end at its end stays too.
\$EscapeControlCharactersOnReceive off
\$DropTrailingLFOnReception off

# RFC 5425: TLS only (mode 1), octet-counted frames (imtcp's default).
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1"
       streamDriver.authMode="$authmode")
module(load="imudp")

# One JSON object a line: every field escaped, so a message's line ends,
# quotes and angle brackets survive and one line is one message.
template(name="dtpAudit" type="list") {
    constant(value="{\"input\":\"")      property(name="inputname" format="json")
    constant(value="\",\"fromhost\":\"") property(name="fromhost-ip" format="json")
    constant(value="\",\"pri\":\"")      property(name="pri" format="json")
    constant(value="\",\"version\":\"")  property(name="protocol-version" format="json")
    constant(value="\",\"timestamp\":\"") property(name="timereported" dateFormat="rfc3339" format="json")
    constant(value="\",\"hostname\":\"") property(name="hostname" format="json")
    constant(value="\",\"appname\":\"")  property(name="app-name" format="json")
    constant(value="\",\"procid\":\"")   property(name="procid" format="json")
    constant(value="\",\"msgid\":\"")    property(name="msgid" format="json")
    constant(value="\",\"sd\":\"")       property(name="structured-data" format="json")
    constant(value="\",\"msg\":\"")      property(name="msg" format="json")
    constant(value="\"}\n")
}

ruleset(name="audit") {
    action(type="omfile" file="$AUDIT_OUT" template="dtpAudit"
           asyncWriting="off" flushOnTXEnd="on")
}
input(type="imtcp" address="127.0.0.1" port="$AUDIT_TLS_PORT" ruleset="audit")
input(type="imudp" address="127.0.0.1" port="$AUDIT_UDP_PORT" ruleset="audit")

# rsyslog's own messages (start, stop, TLS errors) stay apart from the audit
# messages: the default ruleset gets nothing else.
action(type="omfile" file="$AUDIT_DIR/internal.log")
EOF
    # A check-only run loads the modules: a missing lmnsd_gtls.so shows here.
    local out
    if ! out=$("${AUDIT_RSYSLOGD:?call dtp_audit_need first}" -N1 -f "$AUDIT_DIR/rsyslog.conf" \
               -i "$AUDIT_DIR/check.pid" 2>&1); then
        case $out in
            *gtls* | *lmnsd* | *"could not load module"*)
                dtp_skip "rsyslog's GnuTLS driver is missing (package rsyslog-gnutls): ${out//$'\n'/ }" ;;
        esac
        dtp_fail "rsyslogd -N1 refuses the receiver's configuration: $out"
    fi
}

# dtp_audit_start [TIMEOUT_S]: run rsyslogd in the foreground (output in
# $DTP_WORK/audit-rsyslogd.log), wait (bounded, default 10 s) until the TLS
# port listens and the UDP port is bound.
dtp_audit_start() {
    local limit=${1:-10} i
    [ -n "${AUDIT_DIR:-}" ] || dtp_fail "dtp_audit_start: call dtp_audit_setup first"
    [ -z "$AUDIT_PID" ] || dtp_fail "dtp_audit_start: the receiver runs already (PID $AUDIT_PID)"
    [ -n "$AUDIT_RSYSLOGD" ] || dtp_fail "dtp_audit_start: call dtp_audit_need first"
    rm -f "$AUDIT_DIR/rsyslogd.pid"
    dtp_start audit-rsyslogd "$AUDIT_RSYSLOGD" -n -f "$AUDIT_DIR/rsyslog.conf" -i "$AUDIT_DIR/rsyslogd.pid"
    local slots=("${!DTP_PIDS[@]}")    # sparse after an earlier stop
    AUDIT_PID_INDEX=${slots[-1]}
    AUDIT_PID=${DTP_PIDS[$AUDIT_PID_INDEX]}
    dtp_wait_port "$AUDIT_TLS_PORT" 127.0.0.1 "$limit" ||
        dtp_fail "rsyslogd did not listen on 127.0.0.1:$AUDIT_TLS_PORT (TLS)"
    for ((i = 0; i < limit * 10; i++)); do
        ss -Hlun "sport = :$AUDIT_UDP_PORT" 2>/dev/null | grep -q . && return 0
        sleep 0.1
    done
    dtp_fail "rsyslogd did not bind 127.0.0.1:$AUDIT_UDP_PORT (UDP)"
}

# dtp_audit_stop: stop rsyslogd (TERM, bounded wait, then KILL), by its PID.
dtp_audit_stop() {
    local i
    [ -n "$AUDIT_PID" ] || return 0
    _dtp_signal TERM "$AUDIT_PID_INDEX" || true
    for ((i = 0; i < 50; i++)); do
        _dtp_alive "$AUDIT_PID" || break
        sleep 0.1
    done
    _dtp_alive "$AUDIT_PID" && { _dtp_signal KILL "$AUDIT_PID_INDEX" || true; }
    { wait "$AUDIT_PID" || true; } 2>/dev/null
    # Out of lib.sh's list, so dtp_stop_all never signals a reused PID.
    unset "DTP_PIDS[$AUDIT_PID_INDEX]" "DTP_PID_NAMES[$AUDIT_PID_INDEX]" "DTP_PID_GROUP[$AUDIT_PID_INDEX]"
    AUDIT_PID='' AUDIT_PID_INDEX=''
    # The ports are free again once the process is gone.
    for ((i = 0; i < 50; i++)); do
        _dtp_port_busy "$AUDIT_TLS_PORT" || break
        sleep 0.1
    done
}

# dtp_audit_count: how many messages the receiver has written so far.
dtp_audit_count() {
    local n=0
    [ -f "${AUDIT_OUT:?}" ] && n=$(wc -l < "$AUDIT_OUT")
    echo "$((n))"
}

# dtp_audit_wait N [TIMEOUT_S] [PATTERN]: wait (bounded, default 10 s) until
# the receiver has at least N messages (lines matching the ERE PATTERN, if
# given); 1 on timeout.
dtp_audit_wait() {
    local want=${1:?dtp_audit_wait N [TIMEOUT_S] [PATTERN]} limit=${2:-10} pat=${3:-} i n
    for ((i = 0; i < limit * 10; i++)); do
        if [ -n "$pat" ]; then
            n=$(grep -Ec -- "$pat" "$AUDIT_OUT" 2>/dev/null || true)
        else
            n=$(dtp_audit_count)
        fi
        [ "${n:-0}" -ge "$want" ] && return 0
        sleep 0.1
    done
    return 1
}

# dtp_audit_extract DIR: one file pair per received message, in order of
# arrival: DIR/NNNN.xml (the MSG, without the UTF-8 BOM RFC 5424 puts before
# it) and DIR/NNNN.json (the whole line: header fields and MSG).  Prints the
# number of messages.  1 if AUDIT_OUT has a line that is not JSON.
dtp_audit_extract() {
    local dir=${1:?dtp_audit_extract DIR} n=0 line name
    mkdir -p "$dir"
    [ -f "$AUDIT_OUT" ] || { echo 0; return 0; }
    while IFS= read -r line; do
        n=$((n + 1))
        printf -v name '%s/%04d' "$dir" "$n"
        printf '%s\n' "$line" > "$name.json"
        jq -j '.msg | ltrimstr("\ufeff")' <<<"$line" > "$name.xml" 2>/dev/null || {
            echo "dtp_audit_extract: line $n of $AUDIT_OUT is not JSON" >&2
            return 1
        }
    done < "$AUDIT_OUT"
    echo "$n"
}

# dtp_audit_classify DIR: validate every DIR/NNNN.xml (tests/audit/validate.sh)
# and print one line per message, "NNNN KIND", KIND one of app-start,
# app-stop, alert, transferred, other:EVENT; 1 (after printing what failed
# on stderr) if a message does not validate.
dtp_audit_classify() {
    local dir=${1:?dtp_audit_classify DIR} f out rc=0 ev ty base
    local validate=${DTP_SOURCE_DIR:?}/tests/audit/validate.sh
    shopt -s nullglob
    local files=("$dir"/[0-9]*.xml)
    shopt -u nullglob
    [ ${#files[@]} -gt 0 ] || return 0
    out=$(bash "$validate" --describe "${files[@]}") || rc=1
    if [ "$rc" -ne 0 ]; then
        grep '^audit-validate: FAIL' <<<"$out" >&2
    fi
    while IFS=$'\t' read -r f rest; do
        [[ $f == audit-validate:* ]] && continue
        base=${f##*/}; base=${base%.xml}
        ev=${rest#event=}; ev=${ev%% *}
        ty=${rest#*type=}; ty=${ty%% *}
        case $ev/$ty in
            110100/110120) echo "$base app-start" ;;
            110100/110121) echo "$base app-stop" ;;
            110113/*) echo "$base alert" ;;
            110104/*) echo "$base transferred" ;;
            *) echo "$base other:$ev" ;;
        esac
    done <<<"$out"
    return "$rc"
}

# dtp_audit_xpath FILE XPATH: the string value of an XPath 1.0 expression.
dtp_audit_xpath() {
    xmllint --xpath "$2" "$1" 2>/dev/null
}
