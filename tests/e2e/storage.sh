#!/bin/bash
# storage.sh MODE -- how dtp-storescp stores what it receives (plain TCP on
# 127.0.0.1: the storage rules do not depend on TLS).
#
#   MODE main       start-up sweep: a ".dtp-PID-N.part" file of a process
#                   that is gone is removed, one of a running process kept;
#                   hostile SOP Instance UIDs ("../x", "/abs", letters, a
#                   leading zero, 65+ characters, empty) are refused, 0xC000
#                   for a request UID that is not a valid UID and 0xA900 for
#                   a data set whose (0008,0018) differs from the request's,
#                   each with a logged reason, nothing written outside the
#                   output directory (its parent stays unchanged) and no
#                   temporary file left, while the good objects of the same
#                   association are stored intact and the SCU prints each
#                   object not stored and exits 6; the same object again (also
#                   from another AE title) is one file acknowledged twice; a
#                   different object with the same UID is kept as
#                   "<name>.dup-1", logged as a collision, both intact, and
#                   sent again is found identical to .dup-1; --no-fsync stores.
#   MODE fsync      under strace: per object the temporary file is fsynced,
#                   moved to its name without replacing (renameat2
#                   RENAME_NOREPLACE), the directory fsynced, and only then is
#                   the C-STORE response sent; with --no-fsync no fsync at
#                   all.  SKIP without strace or where ptrace is not allowed.
#   MODE disk-full  in a private mount namespace, the output directory is a
#                   2 MiB tmpfs: objects that fit are stored intact, the rest
#                   get 0xA700 in the same association (the data set is read
#                   to its end: the association stays in step), no temporary
#                   file is left, and the SCP serves a later association.
#                   SKIP where no mount namespace can be made.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
MODE=${1:-}
case $MODE in main | fsync | disk-full) ;; *) echo "usage: $0 main|fsync|disk-full" >&2; exit 1 ;; esac

# disk-full: re-run this script as (namespace) root in a private mount
# namespace, so that it may mount a small tmpfs seen by no one else.
if [ "$MODE" = disk-full ] && [ -z "${DTP_STORAGE_NS:-}" ]; then
    if ! command -v unshare >/dev/null 2>&1 || ! unshare -rm true 2>/dev/null; then
        echo "SKIP: cannot create a mount namespace (unshare -rm), disk-full case not run"
        exit 77
    fi
    DTP_STORAGE_NS=1 exec unshare -rm bash "$0" "$MODE"
fi

. "$HERE/lib.sh"
. "$HERE/checks.sh"
dtp_init "storage-$MODE"
: "${DTP_BIN:?}" "${DTP_DATA:?}"
dtp_need_cmd dcmdump dcmodify timeout setsid cmp

SCU=$DTP_BIN/dtp-storescu
SCP=$DTP_BIN/dtp-storescp
IN=$DTP_WORK/in
OUT=$DTP_WORK/out
mkdir "$IN" "$OUT"

# uid FILE: the SOP Instance UID of FILE.
uid() { dcmdump -s +P 0008,0018 "$1" | sed -n 's/^[^[]*\[\([^]]*\)\].*$/\1/p' | head -n 1; }

# re STRING: STRING as a literal in an ERE (UIDs: the dots).
re() { printf '%s' "${1//./\\.}"; }

# check CASE MESSAGE CONDITION-COMMAND...: a check of this script's own.
check() {
    local name=$1 msg=$2; shift 2
    DTP_CHECKS=$((DTP_CHECKS + 1))
    "$@" || dtp_check_fail "$name: $msg"
}

# outside: everything next to and around $OUT (recursively), less $OUT's
# contents, this script's logs and outputs, and lib.sh's own files.
outside() {
    find "$DTP_WORK" -mindepth 1 \( -path "$OUT/*" -o -path "$DTP_WORK/.dtp" -o -path "$DTP_WORK/.dtp/*" \
        -o -name '*.out' -o -name '*.log' -o -name '*.trace' -o -name '.outside-*' \) -prune -o -print | sort
}

# names: the entries of $OUT, one line each.
names() { find "$OUT" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort; }

# no_temp CASE: no temporary (dot) file left in $OUT.
no_temp() {
    local left
    left=$(find "$OUT" -mindepth 1 -name '.*' -printf '%f ')
    check "$1" "temporary files left in the output directory: $left" test -z "$left"
}

# log_has CASE LOG PATTERN: dtp_out_has on a log file of the SCP (the
# output of the last command stays the one dtp_out_has reads).
log_has() {
    local out=$DTP_LAST_OUT rc_ok=$DTP_RC_OK
    DTP_LAST_OUT=$2 DTP_RC_OK=1
    dtp_out_has "$1" "$3"
    DTP_LAST_OUT=$out DTP_RC_OK=$rc_ok
}

# start_scp NAME [OPTIONS...]: an SCP on a free port of 127.0.0.1 into $OUT.
start_scp() {
    local name=$1; shift
    PORT=$(dtp_free_port)
    dtp_start "$name" "$SCP" --bind 127.0.0.1 -od "$OUT" -v "$@" "$PORT"
    dtp_wait_port "$PORT" 127.0.0.1 10 || dtp_fail "dtp-storescp ($name) did not listen on 127.0.0.1:$PORT"
}

run_main() {
    local good1=$DTP_DATA/small/small-1.dcm good2=$DTP_DATA/small/small-2.dcm med=$DTP_DATA/medium/medium-1.dcm
    local u1 um i f mark long dead live
    u1=$(uid "$good1")
    um=$(uid "$med")
    if [ -z "$u1" ] || [ -z "$um" ]; then dtp_fail "no SOP Instance UID in $good1 or $med"; fi

    # Start-up sweep: the temporary file of a process that has ended is
    # removed; one of a running process (this shell) is kept, as is a file
    # that is not one of the SCP's temporary files.
    sleep 0 &
    dead=$!
    wait "$dead"
    live=$BASHPID
    touch "$OUT/.dtp-$dead-1.part" "$OUT/.dtp-$live-7.part" "$OUT/.dtp-notes.part"
    start_scp scp
    check sweep "stale .dtp-$dead-1.part (process gone) not removed at start-up" test ! -e "$OUT/.dtp-$dead-1.part"
    check sweep "temporary file .dtp-$live-7.part of a running process removed" test -e "$OUT/.dtp-$live-7.part"
    check sweep ".dtp-notes.part (not a temporary file name) removed" test -e "$OUT/.dtp-notes.part"
    log_has sweep "$DTP_WORK/scp.log" "removed stale temporary file .*/\\.dtp-$dead-1\\.part\$"
    rm -f "$OUT/.dtp-$live-7.part" "$OUT/.dtp-notes.part"

    # Hostile UIDs between good objects, in one association.
    local -a hostile=("../x" "/abs" "1.2.abc" "1.02.3" "1.2.3.$(printf '1%.0s' {1..70})")
    local -a reason=("empty component" "character other than digits and dots" "character other than digits and dots"
        "component with a leading zero")
    for i in "${!hostile[@]}"; do
        f=$IN/hostile-$i.dcm
        cp "$good2" "$f"
        dcmodify -nb -m "(0008,0018)=${hostile[$i]}" "$f"
    done
    cp "$good2" "$IN/empty.dcm"
    dcmodify -nb -m "(0008,0018)=" "$IN/empty.dcm"
    outside >"$DTP_WORK/.outside-before"

    mark=$(dtp_log_lines "$DTP_WORK/scp.log")
    dtp_run_rc hostile 6 "$SCU" 127.0.0.1 "$PORT" "$good1" "$IN"/hostile-*.dcm "$IN/empty.dcm" "$med"
    dtp_out_has hostile '^summary: 2 of 7 objects stored, 5 failed, 0 not sent, 1 input files skipped'
    for i in 0 1 2 3; do
        dtp_out_has "hostile-$i" "object $(re "${hostile[$i]}") not stored: C-STORE status 0xc000\$"
        log_has "scp-hostile-$i" "$DTP_WORK/scp.log" \
            "status 0xC000 .*UID \"$(re "${hostile[$i]}")\" of the request is not a valid UID: ${reason[$i]}\$"
    done
    # A 65+ character UID does not fit the request (DCMTK cuts it to 64
    # characters, a valid UID): the data set's (0008,0018) differs from it.
    long=${hostile[4]}
    dtp_out_has hostile-long "object $(re "$long") not stored: C-STORE status 0xa900\$"
    log_has scp-long "$DTP_WORK/scp.log" "status 0xA900 .*\(0008,0018\) \"$(re "$long")\" differs from the request's"
    # An empty UID never leaves the SCU (DCMTK refuses the request).
    dtp_out_has hostile-empty 'skipping .*empty\.dcm: Invalid SOP Instance UID'
    dtp_out_lacks hostile "not stored: .*status 0x(0|a700)"
    dtp_wait_log hostile "$DTP_WORK/scp.log" "$mark" 'ended: 2 objects stored \([0-9]+ bytes\), 5 failed'
    # Nothing written outside $OUT, and in it only the good objects.
    outside >"$DTP_WORK/.outside-after"
    check outside "entries around the output directory changed: $(diff "$DTP_WORK/.outside-before" \
        "$DTP_WORK/.outside-after" | sed -n 's/^[<>] //p' | tr '\n' ' ')" \
        cmp -s "$DTP_WORK/.outside-before" "$DTP_WORK/.outside-after"
    check outside "a file named x or abs was created" test -z "$(find "$DTP_WORK" \( -name x -o -name abs \) -print)"
    check stored "expected only SC.$u1 and SC.$um in the output directory, found: $(names | tr '\n' ' ')" \
        test "$(names | tr '\n' ' ')" = "$(printf '%s\n' "SC.$u1" "SC.$um" | sort | tr '\n' ' ')"
    check stored "SC.$u1 differs from $good1" dtp_same_dataset "$good1" "$OUT/SC.$u1"
    check stored "SC.$um differs from $med" dtp_same_dataset "$med" "$OUT/SC.$um"
    no_temp hostile

    # The same object again, then from another AE title (another Source AE
    # Title in the meta information): acknowledged, still one file.
    mark=$(dtp_log_lines "$DTP_WORK/scp.log")
    dtp_run_rc again 0 "$SCU" 127.0.0.1 "$PORT" "$good1"
    dtp_out_has again '^summary: 1 of 1 objects stored,'
    dtp_run_rc again-aet 0 "$SCU" -aet OTHER-SENDER 127.0.0.1 "$PORT" "$good1"
    dtp_out_has again-aet '^summary: 1 of 1 objects stored,'
    dtp_wait_log again "$DTP_WORK/scp.log" "$mark" "already stored, identical: .*/SC\\.$(re "$u1")\$"
    dtp_wait_log again "$DTP_WORK/scp.log" "$mark" 'OTHER-SENDER at'
    dtp_wait_log again "$DTP_WORK/scp.log" "$mark" 'ended: 1 objects stored \([0-9]+ bytes\), 0 failed' 5
    check again "UID collision logged for the same object" \
        test -z "$(tail -n +"$((mark + 1))" "$DTP_WORK/scp.log" | grep 'UID collision')"
    check again "expected 2 files after storing the same object 3 times, found: $(names | tr '\n' ' ')" \
        test "$(names | wc -l)" -eq 2

    # A different object with the same UID: both kept, collision logged;
    # the same colliding object again is found identical to the .dup-1.
    cp "$good2" "$IN/collide.dcm"
    dcmodify -nb -m "(0008,0018)=$u1" "$IN/collide.dcm"
    mark=$(dtp_log_lines "$DTP_WORK/scp.log")
    dtp_run_rc collision 0 "$SCU" 127.0.0.1 "$PORT" "$IN/collide.dcm"
    dtp_out_has collision '^summary: 1 of 1 objects stored,'
    dtp_wait_log collision "$DTP_WORK/scp.log" "$mark" \
        "UID collision: .*/SC\\.$(re "$u1") exists with different content, object kept as .*/SC\\.$(re "$u1")\\.dup-1\$"
    check collision "original SC.$u1 was changed" dtp_same_dataset "$good1" "$OUT/SC.$u1"
    check collision "SC.$u1.dup-1 missing or different from the colliding object" \
        dtp_same_dataset "$IN/collide.dcm" "$OUT/SC.$u1.dup-1"
    mark=$(dtp_log_lines "$DTP_WORK/scp.log")
    dtp_run_rc collision-again 0 "$SCU" 127.0.0.1 "$PORT" "$IN/collide.dcm"
    dtp_wait_log collision-again "$DTP_WORK/scp.log" "$mark" \
        "already stored, identical: .*/SC\\.$(re "$u1")\\.dup-1\$"
    check collision "expected SC.$u1, SC.$u1.dup-1 and SC.$um, found: $(names | tr '\n' ' ')" \
        test "$(names | wc -l)" -eq 3
    no_temp collision
    dtp_stop_all

    # --no-fsync: objects still stored.
    rm -f "$OUT"/*
    start_scp scp-nofsync --no-fsync
    dtp_run_rc no-fsync 0 "$SCU" 127.0.0.1 "$PORT" "$good1" "$med"
    dtp_out_has no-fsync '^summary: 2 of 2 objects stored,'
    dtp_wait_log no-fsync "$DTP_WORK/scp-nofsync.log" 0 'ended: 2 objects stored \([0-9]+ bytes\), 0 failed'
    check no-fsync "object stored with --no-fsync differs" dtp_same_dataset "$med" "$OUT/SC.$um"
    no_temp no-fsync
}

# fsync_order CASE TRACE N WANT: in an strace -f -y trace of the SCP, each
# of the N objects was moved into place with renameat2(RENAME_NOREPLACE)
# and its C-STORE response sent (write or sendto on the socket) after
# it; WANT "fsync": the
# temporary file fsynced right before the rename and the directory right
# after it, before the response; WANT "none": no fsync at all.
fsync_order() {
    local name=$1 trace=$2 n=$3 want=$4 got
    got=$(awk -v out="$OUT" -v want="$want" '
        # one process (the association) at a time: the last call of each pid
        { pid = $1; $1 = ""; call = $0; sub(/^ /, "", call) }
        call ~ /^(---|\+\+\+) / { next }   # signals, exits
        call ~ /^write\([0-9]+<(pipe|\/)/ { next }   # data into the pipe, log lines
        call ~ /^fsync\(/ { nf++ }
        call ~ /^renameat2\(/ && call ~ /RENAME_NOREPLACE/ && index(call, out "/SC.") {
            ok = (want == "none") || (last[pid] ~ /^fsync\([0-9]+<.*\/\.dtp-[0-9]+-[0-9]+\.part>\)/)
            if (!ok) bad = bad " rename-without-file-fsync"
            pending[pid] = 1; renames++; last[pid] = call; next }
        pending[pid] && call ~ /^fsync\(/ {
            if (want == "fsync" && index(call, "<" out ">)")) pending[pid] = 2
            last[pid] = call; next }
        pending[pid] && call ~ /^(sendto|write)\([0-9]+<(socket|TCP)/ {
            if (want == "fsync" && pending[pid] != 2) bad = bad " response-before-directory-fsync"
            pending[pid] = 0; responses++ }
        { last[pid] = call }
        END {
            if (want == "none" && nf) bad = bad " " nf "-fsync-calls"
            printf "renames=%d responses=%d%s\n", renames, responses, bad }' "$trace")
    check "$name" "expected $n renames each followed by its response ($want), got: $got" \
        test "$got" = "renames=$n responses=$n"
}

run_fsync() {
    local med=$DTP_DATA/medium/medium-1.dcm trace
    dtp_need_cmd strace
    strace -f -qq -o /dev/null true 2>/dev/null || dtp_skip "strace cannot trace here (ptrace not allowed)"
    local -a objs=("$DTP_DATA/small/small-1.dcm" "$med" "$DTP_DATA/small/small-2.dcm")

    for trace in fsync none; do
        rm -f "$OUT"/*
        PORT=$(dtp_free_port)
        local opt=()
        [ "$trace" = none ] && opt=(--no-fsync)
        dtp_start "scp-$trace" strace -f -qq -y -e trace=fsync,renameat2,sendto,write -o "$DTP_WORK/$trace.trace" \
            "$SCP" --bind 127.0.0.1 -od "$OUT" -v "${opt[@]}" "$PORT"
        dtp_wait_port "$PORT" 127.0.0.1 10 || dtp_fail "dtp-storescp (strace, $trace) did not listen on $PORT"
        dtp_run_rc "store-$trace" 0 "$SCU" 127.0.0.1 "$PORT" "${objs[@]}"
        dtp_out_has "store-$trace" '^summary: 3 of 3 objects stored,'
        dtp_wait_log "store-$trace" "$DTP_WORK/scp-$trace.log" 0 'ended: 3 objects stored \([0-9]+ bytes\), 0 failed'
        dtp_stop_all
        fsync_order "order-$trace" "$DTP_WORK/$trace.trace" 3 "$trace"
        check "intact-$trace" "medium object differs" dtp_same_dataset "$med" "$OUT/SC.$(uid "$med")"
        no_temp "$trace"
    done
}

run_disk_full() {
    local big=$DTP_DATA/medium/medium-1.dcm small=$DTP_DATA/small/small-1.dcm i f mark n
    mount -t tmpfs -o size=2m dtp-storage-full "$OUT" ||
        dtp_skip "cannot mount a tmpfs in the mount namespace"
    # Six distinct objects of about 0.5 MiB each: three fit into 2 MiB.
    for i in 1 2 3 4 5 6; do
        f=$IN/big-$i.dcm
        cp "$big" "$f"
        dcmodify -nb -gin "$f"
    done
    start_scp scp
    dtp_run_rc full 6 "$SCU" 127.0.0.1 "$PORT" "$IN"/big-*.dcm
    dtp_out_has full '^summary: 3 of 6 objects stored, 3 failed, 0 not sent'
    for f in "$IN"/big-*.dcm; do
        if ! [ -e "$OUT/SC.$(uid "$f")" ]; then
            dtp_out_has full "object $(re "$(uid "$f")") not stored: C-STORE status 0xa700\$"
        fi
    done
    dtp_out_lacks full 'not stored: C-STORE status 0x[^a]|status 0xa[^7]'
    dtp_wait_log full "$DTP_WORK/scp.log" 0 'ended: 3 objects stored \([0-9]+ bytes\), 3 failed'
    log_has full-scp "$DTP_WORK/scp.log" \
        'cannot store .* \(status 0xA700, out of resources\): (write|fsync|close|create) .*/\.dtp-[0-9]+-[0-9]+\.part: No space left on device$'
    # What fits is intact, nothing half-written stays.
    n=0
    for f in "$IN"/big-*.dcm; do
        if [ -e "$OUT/SC.$(uid "$f")" ]; then
            n=$((n + 1))
            check intact "stored $(basename "$f") differs from the sent file" dtp_same_dataset "$f" "$OUT/SC.$(uid "$f")"
        fi
    done
    check intact "expected 3 stored objects, found $n" test "$n" -eq 3
    no_temp full

    # The SCP still serves a later association (a small object fits).
    mark=$(dtp_log_lines "$DTP_WORK/scp.log")
    dtp_run_rc later 0 "$SCU" 127.0.0.1 "$PORT" "$small"
    dtp_out_has later '^summary: 1 of 1 objects stored,'
    dtp_wait_log later "$DTP_WORK/scp.log" "$mark" 'ended: 1 objects stored \([0-9]+ bytes\), 0 failed'
    check later "small object stored after the disk ran full differs" \
        dtp_same_dataset "$small" "$OUT/SC.$(uid "$small")"
    no_temp later
    dtp_stop_all
    umount "$OUT" || true
}

case $MODE in
    main) run_main ;;
    fsync) run_fsync ;;
    disk-full) run_disk_full ;;
esac
dtp_checks_done
