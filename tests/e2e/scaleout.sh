#!/bin/bash
# scaleout.sh [PROFILE] -- two dtp-storescp nodes behind HAProxy, sharing one
# --ticket-key-file (R37), the way a site runs several nodes under one name.
#
# HAProxy runs in mode tcp (TLS passes through to the nodes), balance
# roundrobin, with TCP health checks every 200 ms (fall 1). Each node has its
# own port and output directory and the same ticket key file (made here
# with `openssl rand -hex 32`, mode 0600).
#
# 1. A world-readable key file is refused: exit 3, reason 113 TICKET_KEYS.
# 2. 200 associations: sequential dtp-storescu runs sharing one
#    --session-file, one distinct object each. Round robin sends each run to
#    the other node than the run before, so a run resumes only if the node
#    reads the ticket the other node issued: the resumed share must be
#    >= 95 % (the first run has nothing to resume); both nodes served
#    associations; every object is stored exactly once across both output
#    directories, byte-identical.
# 3. Node 1 dies while runs continue: a background loop of runs goes on;
#    node 1 is frozen (SIGSTOP) until a run is parked on it, then killed
#    (SIGKILL), so one association is in flight on the dying node every
#    time. Runs that fail exit non-zero and report their object as not
#    stored; HAProxy marks node 1 DOWN; the runs go on until 10 started more
#    than a second after the kill, and each of those succeeds, on node 2;
#    every object whose run reported success is stored exactly once, and no
#    object is stored twice.
#
# Prints "scaleout: resumed N/200" (the measured resumption) and a summary
# of the kill phase. Skips (77) without haproxy.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

PROFILE=${1:-bcp195-8996}
RUNS=200        # phase 2 associations
KILL_MAX=100    # phase 3: at most this many associations
KILL_AFTER=10   # phase 3 runs done before node 1 is frozen
AFTER_WANT=10   # phase 3 runs started more than 1 s after the kill

dtp_init "scaleout-$PROFILE"
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}"
dtp_need_cmd haproxy openssl dcmodify dcmdump timeout setsid ss
PKI=$DTP_PKI
W=$DTP_WORK

# ---- key file, objects ---------------------------------------------------

KEYS=$W/ticket.keys
{
    echo "# session-ticket keys of the test nodes; the first encrypts"
    openssl rand -hex 32
} > "$KEYS"
chmod 600 "$KEYS"

# One distinct object per run: copies of a fixture object, each with a new
# SOP Instance UID (dcmodify -gin, which also updates the meta header).
mkdir "$W/objs"
TOTAL=$((RUNS + KILL_MAX))
for ((i = 1; i <= TOTAL; i++)); do
    cp "$DTP_DATA/small/small-1.dcm" "$(printf '%s/objs/%03d.dcm' "$W" "$i")"
done
dcmodify -nb -gin "$W"/objs/*.dcm >"$W/dcmodify.out" 2>&1 || dtp_fail "dcmodify -gin failed: $(cat "$W/dcmodify.out")"
declare -A UID_OF=()
while IFS=$'\t' read -r uid f; do UID_OF[$f]=$uid; done < <(_dtp_sop_uids "$W"/objs/*.dcm)
[ ${#UID_OF[@]} -eq "$TOTAL" ] || dtp_fail "expected $TOTAL objects with a SOP Instance UID, read ${#UID_OF[@]}"
[ "$(printf '%s\n' "${UID_OF[@]}" | sort -u | wc -l)" -eq "$TOTAL" ] || dtp_fail "the objects' UIDs are not distinct"
obj() { printf '%s/objs/%03d.dcm' "$W" "$1"; }

SCP_TLS=(--profile "$PROFILE" +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" +cf "$PKI/ca.pem")
SCU_TLS=(--profile "$PROFILE" +tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem")

# ---- 1. a key file others can read is refused ---------------------------

cp "$KEYS" "$W/open.keys"
chmod 644 "$W/open.keys"
mkdir "$W/out-refused"
DTP_CMD_TIMEOUT=20 dtp_expect_exit 3 "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 "${SCP_TLS[@]}" \
    --ticket-key-file "$W/open.keys" -od "$W/out-refused" "$(dtp_free_port)"
dtp_expect_grep 'reason 113 TICKET_KEYS: .*open\.keys: mode 0644 .*chmod 600' "$W/last.out"

# ---- nodes and HAProxy ------------------------------------------------------

P1=$(dtp_free_port)
P2=$(dtp_free_port)
PF=$(dtp_free_port)
mkdir "$W/out1" "$W/out2"
dtp_start node1 "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 "${SCP_TLS[@]}" --ticket-key-file "$KEYS" \
    -od "$W/out1" -v "$P1"
NODE1_INDEX=$((${#DTP_PIDS[@]} - 1))
dtp_start node2 "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 "${SCP_TLS[@]}" --ticket-key-file "$KEYS" \
    -od "$W/out2" -v "$P2"
dtp_wait_port "$P1" 127.0.0.1 10 || dtp_fail "node 1 did not listen on $P1"
dtp_wait_port "$P2" 127.0.0.1 10 || dtp_fail "node 2 did not listen on $P2"
# Both nodes name the same key: the file's first line, derived alike.
for n in 1 2; do
    dtp_wait_grep 'session tickets: 1 key\(s\) from .*, new tickets under key [0-9a-f]{8}' "$W/node$n.log" 5 ||
        dtp_fail "node $n did not log its ticket key"
done
id1=$(grep -oE 'new tickets under key [0-9a-f]{8}' "$W/node1.log" | head -n 1)
id2=$(grep -oE 'new tickets under key [0-9a-f]{8}' "$W/node2.log" | head -n 1)
[ "$id1" = "$id2" ] || dtp_fail "the nodes use different ticket keys: node 1 '$id1', node 2 '$id2'"

cat > "$W/haproxy.cfg" <<EOF
global
    maxconn 256

defaults
    mode tcp
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    # A connection refused by a dead node before the health check noticed
    # goes to the other node instead of failing.
    retries 2
    option redispatch

frontend dicom_tls
    bind 127.0.0.1:$PF
    default_backend nodes

backend nodes
    balance roundrobin
    server node1 127.0.0.1:$P1 check inter 200ms fall 1 rise 2
    server node2 127.0.0.1:$P2 check inter 200ms fall 1 rise 2
EOF
haproxy -c -f "$W/haproxy.cfg" >"$W/haproxy-check.out" 2>&1 ||
    dtp_fail "haproxy refuses the configuration: $(cat "$W/haproxy-check.out")"
dtp_start haproxy haproxy -db -f "$W/haproxy.cfg"
dtp_wait_port "$PF" 127.0.0.1 10 || dtp_fail "haproxy did not listen on $PF"

SESSION=$W/session.pem
mkdir "$W/runs"
# run_scu I: one dtp-storescu run through HAProxy with object I; output in
# runs/I.out; prints its exit code.
run_scu() {
    local rc=0
    timeout -k 5 30 "$DTP_BIN/dtp-storescu" "${SCU_TLS[@]}" --session-file "$SESSION" \
        127.0.0.1 "$PF" "$(obj "$1")" </dev/null >"$W/runs/$1.out" 2>&1 || rc=$?
    echo "$rc"
}
stored_line() { grep -q '^summary: 1 of 1 objects stored,' "$W/runs/$1.out"; }
# (never sent, or sent without a response: "0 failed, 1 not sent" or "1 failed, 0 not sent")
not_stored_line() { grep -q '^summary: 0 of 1 objects stored, ' "$W/runs/$1.out"; }

# The stored objects: "UID<TAB>node" for every stored file of both output
# directories, by the SOP Instance UID inside (temporaries left out).
stored_uids() {
    local n uid _f files
    for n in 1 2; do
        mapfile -d '' files < <(find "$W/out$n" -type f ! -name '.*' ! -name '*.part' -print0)
        while IFS=$'\t' read -r uid _f; do
            printf '%s\t%s\n' "$uid" "$n"
        done < <(_dtp_sop_uids "${files[@]}")
    done
}
stored_files() { find "$W/out1" "$W/out2" -type f ! -name '.*' ! -name '*.part' | wc -l; }

# ---- 2. 200 associations, both nodes up ---------------------------------

t0=${EPOCHREALTIME/[.,]/}
resumed=0
for ((i = 1; i <= RUNS; i++)); do
    rc=$(run_scu "$i")
    if [ "$rc" -ne 0 ] || ! stored_line "$i"; then
        dtp_fail "run $i exited $rc without storing its object:
$(tail -n 20 "$W/runs/$i.out")"
    fi
    grep -q '^TLS: .* resumed$' "$W/runs/$i.out" && resumed=$((resumed + 1))
done
ms=$(((${EPOCHREALTIME/[.,]/} - t0) / 1000))
echo "scaleout: resumed $resumed/$RUNS"
echo "scaleout: $RUNS associations in $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s"

# Each node logs every association it served; wait until all 200 are in.
ended() { grep -c "association from .* ended: 1 objects stored" "$W/node$1.log" || true; }
for ((i = 0; i < 50 && $(ended 1) + $(ended 2) < RUNS; i++)); do sleep 0.1; done
n1=$(ended 1) n2=$(ended 2)
r1=$(grep -c '^association from .*: TLS .* resumed$' "$W/node1.log" || true)
r2=$(grep -c '^association from .*: TLS .* resumed$' "$W/node2.log" || true)
echo "scaleout: node 1 served $n1 ($r1 resumed), node 2 served $n2 ($r2 resumed)"
[ $((n1 + n2)) -eq "$RUNS" ] || dtp_fail "the nodes logged $((n1 + n2)) stored associations, expected $RUNS"
if [ "$n1" -eq 0 ] || [ "$n2" -eq 0 ]; then dtp_fail "one node served nothing (node 1: $n1, node 2: $n2)"; fi
if [ "$r1" -eq 0 ] || [ "$r2" -eq 0 ]; then dtp_fail "one node resumed nothing (node 1: $r1, node 2: $r2)"; fi
[ $((resumed * 100)) -ge $((RUNS * 95)) ] ||
    dtp_fail "only $resumed of $RUNS associations resumed their TLS session (>= 95 % expected)"

# Every object stored exactly once across both nodes, byte-identical.
[ "$(stored_files)" -eq "$RUNS" ] || dtp_fail "$(stored_files) files stored for $RUNS objects sent"
dups=$(stored_uids | cut -f1 | sort | uniq -d)
[ -z "$dups" ] || dtp_fail "objects stored twice: $dups"
mkdir "$W/all"
for n in 1 2; do
    while IFS= read -r -d '' f; do ln "$f" "$W/all/node$n-${f##*/}"; done \
        < <(find "$W/out$n" -type f ! -name '.*' ! -name '*.part' -print0)
done
sent=()
for ((i = 1; i <= RUNS; i++)); do sent+=("$(obj "$i")"); done
dtp_same_tree "${sent[@]}" -- "$W/all"

# ---- 3. node 1 dies while runs continue ----------------------------------

# The runs, in the background until told to stop: "I RC START_US END_US"
# per run.
RESULTS=$W/kill-results.txt
: > "$RESULTS"
(
    for ((i = RUNS + 1; i <= TOTAL; i++)); do
        [ ! -e "$W/stop" ] || break
        s=${EPOCHREALTIME/[.,]/}
        rc=$(run_scu "$i")
        echo "$i $rc $s ${EPOCHREALTIME/[.,]/}" >> "$RESULTS"
    done
) &
LOOP_PID=$!
done_runs() { wc -l < "$RESULTS"; }
for ((i = 0; i < 200 && $(done_runs) < KILL_AFTER; i++)); do sleep 0.05; done
[ "$(done_runs)" -ge "$KILL_AFTER" ] || dtp_fail "the runs of the kill phase did not start"

# Freeze node 1 (its main and worker processes): the kernel still accepts
# connections for it and HAProxy's TCP check still passes, so the next run
# that round robin sends there waits on it. Wait until one does: no run
# finished for a second, and a connection from HAProxy to node 1 is open.
node1_pid=${DTP_PIDS[$NODE1_INDEX]}
kill -STOP -- "-$node1_pid"
parked=0
last=$(done_runs) still=0
for ((i = 0; i < 100; i++)); do
    sleep 0.1
    now=$(done_runs)
    if [ "$now" != "$last" ]; then last=$now still=0; continue; fi
    still=$((still + 1))
    if [ "$still" -ge 10 ] && [ -n "$(ss -Htn state established "( dport = :$P1 )" 2>/dev/null)" ]; then
        parked=1
        break
    fi
done
[ "$parked" = 1 ] || { kill -CONT -- "-$node1_pid"; dtp_fail "no run waited on the frozen node 1 within 10 s"; }
kill_us=${EPOCHREALTIME/[.,]/}
kill -KILL -- "-$node1_pid"
echo "scaleout: node 1 killed after $(done_runs) runs of the kill phase"

# Runs go on until AFTER_WANT of them started more than 1 s after the kill.
later() { awk -v t=$((kill_us + 1000000)) '$3 >= t { n++ } END { print n + 0 }' "$RESULTS"; }
deadline=$((SECONDS + 60))
while _dtp_alive "$LOOP_PID" && [ "$(later)" -lt "$AFTER_WANT" ] && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.1
done
touch "$W/stop"
while _dtp_alive "$LOOP_PID" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
_dtp_alive "$LOOP_PID" && { kill "$LOOP_PID"; dtp_fail "the runs of the kill phase did not finish within 60 s"; }
wait "$LOOP_PID" || true
KILL_RUNS=$(done_runs)
dtp_wait_grep 'Server nodes/node1 is DOWN' "$W/haproxy.log" 5 || dtp_fail "HAProxy did not mark node 1 DOWN"

declare -A WHERE=()
while IFS=$'\t' read -r uid n; do
    [ -z "${WHERE[$uid]:-}" ] || dtp_fail "object $uid stored on node ${WHERE[$uid]} and on node $n"
    WHERE[$uid]=$n
done < <(stored_uids)

failed=0 after=0 ok=0 failed_stored=0
while read -r i rc start _; do
    uid=${UID_OF[$(obj "$i")]}
    if [ "$rc" -eq 0 ]; then
        ok=$((ok + 1))
        stored_line "$i" || dtp_fail "run $i exited 0 but did not report its object stored:
$(tail -n 20 "$W/runs/$i.out")"
        [ -n "${WHERE[$uid]:-}" ] || dtp_fail "run $i reported success, but its object $uid is stored nowhere"
    else
        failed=$((failed + 1))
        not_stored_line "$i" || dtp_fail "run $i failed ($rc) but did not report its object as not stored:
$(tail -n 20 "$W/runs/$i.out")"
        echo "scaleout: run $i failed with exit $rc: $(grep -m1 -E 'E: ' "$W/runs/$i.out" || echo '(no error line)')"
        # It never got a response: at most node 1 may have written it before dying.
        case ${WHERE[$uid]:-} in
            '') ;;
            1) failed_stored=$((failed_stored + 1)) ;;
            *) dtp_fail "run $i failed, but node ${WHERE[$uid]} stored its object" ;;
        esac
    fi
    if [ "$start" -ge $((kill_us + 1000000)) ]; then
        after=$((after + 1))
        [ "$rc" -eq 0 ] || dtp_fail "run $i, started more than 1 s after node 1 was killed, failed ($rc)"
        [ "${WHERE[$uid]:-}" = 2 ] || dtp_fail "run $i, after node 1 was killed, stored on node '${WHERE[$uid]:-}'"
    fi
done < "$RESULTS"
echo "scaleout: kill phase: $ok of $KILL_RUNS runs stored, $failed failed and reported not stored" \
     "($failed_stored of those stored by node 1 before it died), $after runs after the kill all on node 2"
[ "$failed" -ge 1 ] || dtp_fail "no run failed although one was in flight on node 1 when it was killed"
[ "$after" -ge "$AFTER_WANT" ] || dtp_fail "only $after runs started after the kill, $AFTER_WANT wanted"
# Every object of a successful run, both phases: exactly once (checked above
# per UID), and nothing else stored.
[ "$(stored_files)" -eq $((RUNS + ok + failed_stored)) ] ||
    dtp_fail "$(stored_files) files stored, expected $((RUNS + ok + failed_stored))"
echo "ok: scale-out: resumption across nodes, even spread, exactly-once storage, node death handled"
