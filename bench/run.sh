#!/usr/bin/env bash
# bench/run.sh -- the benchmark: measures the targets of our apps against
# plain TCP and stock DCMTK, and the stall delay.
#
# On 127.0.0.1 only, with the apps in $BUILD_DIR and stock DCMTK from PATH:
#   1. throughput: per object size (64 KiB, 512 KiB, 8 MiB, 128 MiB) a fixed
#      batch over ONE association per run, for our apps in plain TCP and
#      under each of the six profiles on OpenSSL and on GnuTLS (both apps
#      with --tls-backend gnutls), and stock storescu/storescp +py with
#      TCP_NODELAY=1 and with its defaults; variants interleaved
#      (round-robin per repetition), $REPS repetitions; MB/s, CPU per MB of
#      sender and receiver, peak RSS of the SCP;
#   2. association rate: one small object per dtp-storescu run, plain, TLS
#      with a full handshake, TLS resumed from --session-file, each TLS one
#      on both backends (and stock);
#   3. concurrency: 8 clients at once into one dtp-storescp (OpenSSL);
#   4. stall delay: a small transfer with and without 100 silent + 100
#      half-handshake connections held open (OpenSSL);
#   5. transport alone: tests/tools/dtp-transport-bench, plain TCP vs TLS
#      through the library between two threads, no DICOM (how close TLS
#      can get to plain on this machine before the apps' work is added);
#   6. dtp-check: the time of a full server scan of one port, per backend;
#   7. association rate under load: $RATE_CLIENTS clients at once, each
#      running dtp-storescu $RATE_PER times in a row (one small object per
#      association), into dtp-storescp and into stock storescp --fork
#      (both TLS bcp195-nd / +py, the same dtp-storescu clients), full
#      handshakes and resumed (--session-file per client), and stock
#      storescu into stock storescp for reference; with
#      BENCH_BASELINE_BUILD, the dtp-storescp of that build too, in the
#      same rounds (baseline vs current);
#   8. fsync per object: dtp-storescp writing to a disk directory with and
#      without --no-fsync (when its --help has it), 64 KiB and 8 MiB;
#   9. audit trail: the same transfer into dtp-storescp without --audit,
#      with a file: sink, with a TLS repository that is down (closed port)
#      and one that accepts and never answers; per run wall time and the
#      SCU's transfer time, and what the spool holds afterwards;
# writes what it measured to the raw-data directory $BENCH_RAW (the layout
# is in bench/report.sh), then runs `bench/report.sh $BENCH_RAW`, which
# turns it into the Markdown report $BENCH_OUT (generated; never edit it).
#
# Environment:
#   BUILD_DIR   build tree with apps/dtp-storescu, apps/dtp-storescp
#               (default: <source>/build; built with scripts/build.sh if
#               the binaries are missing)
#   QUICK=1     small version (64 KiB and 512 KiB, 2 repetitions, 20+20
#               stalls): under a minute; proves the script works
#   REPS        repetitions of the throughput rounds (default 7, QUICK 2)
#   BENCH_OUT   report (default docs/performance.md; QUICK:
#               $BUILD_DIR/performance-quick.md)
#   BENCH_RAW   raw-data directory, kept (default $BUILD_DIR/bench-raw;
#               QUICK: $BUILD_DIR/bench-raw-quick); its data files are
#               replaced at the start of a run
#   BENCH_TMP   where objects and received files go (default /dev/shm
#               when it has room, else $TMPDIR or /tmp)
#   BENCH_BACKENDS  TLS backends of our apps to measure (default "openssl
#               gnutls"; "openssl" leaves the GnuTLS variants out, as does
#               a build without the GnuTLS backend)
#   BENCH_ONLY  for working on the script: run only these sections (any of
#               throughput assoc conc stall transport scan rate fsync audit); the
#               report is then incomplete
#   BENCH_BASELINE_BUILD  another build tree (e.g. of the previous commit:
#               `git archive REV | tar -x -C DIR`, then scripts/build.sh with
#               BUILD_DIR set): its apps/dtp-storescp runs in the association
#               rate rounds beside ours (same clients), as "baseline"
#   BENCH_FSYNC_DIR  where dtp-storescp writes in the fsync section: a
#               directory on the disk to measure (default: a temporary
#               directory under $BUILD_DIR; removed afterwards)
# Exit: 0 report written and every run succeeded; 1 a run failed (the
# report is still written and says which); 77 a needed tool is missing.
# shellcheck disable=SC2016  # awk programs and expressions are single-quoted on purpose
set -Eeuo pipefail
trap 'echo "run.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
QUICK=${QUICK:-0}
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$PWD/$BUILD_DIR ;; esac
if [ "$QUICK" = 1 ]; then
    REPS=${REPS:-2}
    BENCH_OUT=${BENCH_OUT:-$BUILD_DIR/performance-quick.md}
    RAW=${BENCH_RAW:-$BUILD_DIR/bench-raw-quick}
else
    REPS=${REPS:-7}
    BENCH_OUT=${BENCH_OUT:-$ROOT/docs/performance.md}
    RAW=${BENCH_RAW:-$BUILD_DIR/bench-raw}
fi
case $BENCH_OUT in /*) ;; *) BENCH_OUT=$PWD/$BENCH_OUT ;; esac
case $RAW in /*) ;; *) RAW=$PWD/$RAW ;; esac
BENCH_BACKENDS=${BENCH_BACKENDS:-openssl gnutls}
# Our apps turn TCP_NODELAY on unless the environment says 0; stock DCMTK
# turns it on only if it is set. Every variant sets it explicitly or not
# at all, so nothing leaks in from the caller.
unset TCP_NODELAY
BENCH_ONLY=${BENCH_ONLY:-}
want() { [ -z "$BENCH_ONLY" ] || [[ " $BENCH_ONLY " == *" $1 "* ]]; }

T_START=${EPOCHREALTIME/[.,]/}
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
say() {
    local us=$(( ${EPOCHREALTIME/[.,]/} - T_START ))
    printf '[%4d.%01ds] %s\n' $((us / 1000000)) $((us / 100000 % 10)) "$*" >&2
}

# ------------------------------------------------------------ parameters --

# size key, label, rows x columns of the 8-bit pixel data
SIZES=(64k 512k 8m 128m)
declare -A SIZE_LABEL=([64k]="64 KiB" [512k]="512 KiB" [8m]="8 MiB" [128m]="128 MiB")
declare -A SIZE_DIMS=([64k]="256 256" [512k]="512 1024" [8m]="2048 4096" [128m]="8192 16384")
# objects per run (one association); the stock-defaults variant (Nagle on:
# ~50 ms per object) gets a smaller batch: MB/s is a rate.
declare -A BATCH=([64k]=512 [512k]=256 [8m]=32 [128m]=2)
declare -A BATCH_NAGLE=([64k]=40 [512k]=40 [8m]=16 [128m]=2)
ASSOC_N=40          # runs per variant in the association-rate test
CONC_CLIENTS=8 CONC_SIZE=8m CONC_PER=8 CONC_REPS=3
STALL_SILENT=100 STALL_HALF=100 STALL_ROUNDS=5
RUN_LIMIT=600       # seconds, any single client run
TRANSPORT_MIB=1024  # per transport-alone run
# association rate under load: clients at once, associations per client
# per round, rounds (every variant once per round, round-robin)
RATE_CLIENTS=16 RATE_PER=5 RATE_ROUNDS=5 RATE_PROFILE=bcp195-nd
# fsync per object: objects per run (one association) and repetitions
declare -A FSYNC_BATCH=([64k]=64 [8m]=8)
FSYNC_SIZES=(64k 8m) FSYNC_REPS=9
# audit trail: objects (512 KiB) per run and repetitions
AUDIT_BATCH=16 AUDIT_REPS=7
if [ "$QUICK" = 1 ]; then
    SIZES=(64k 512k)
    BATCH=([64k]=64 [512k]=16)
    BATCH_NAGLE=([64k]=8 [512k]=8)
    ASSOC_N=5
    CONC_SIZE=512k CONC_PER=2 CONC_REPS=1
    STALL_SILENT=20 STALL_HALF=20 STALL_ROUNDS=2
    RUN_LIMIT=60
    TRANSPORT_MIB=64
    RATE_PER=2 RATE_ROUNDS=1
    FSYNC_BATCH=([64k]=16 [8m]=2) FSYNC_REPS=1
    AUDIT_BATCH=4 AUDIT_REPS=1
fi
PROFILES=(bcp195 bcp195-nd bcp195-ex cryptrec bcp195-8996 bcp195-8996-mod)
# Throughput variants: a profile key runs our apps on OpenSSL (their
# default backend), gnutls:PROFILE on GnuTLS (added below when built).
VARIANTS=(plain "${PROFILES[@]}" stock-nodelay stock-default)
# What our apps use with no --profile (B.12, as DCMTK 3.6.8+).
DEFAULT_PROFILE=bcp195-8996

# ---------------------------------------------------------------- tools ---

# shellcheck source=../tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"

for c in dump2dcm dcmodify dcmdump dcmftest openssl timeout setsid ss awk sort; do
    command -v "$c" >/dev/null 2>&1 || { echo "run.sh: SKIP: $c not found (needed to make the test data)" >&2; exit 77; }
done
SCU=$BUILD_DIR/apps/dtp-storescu
SCP=$BUILD_DIR/apps/dtp-storescp
if [ ! -x "$SCU" ] || [ ! -x "$SCP" ]; then
    say "no binaries in $BUILD_DIR/apps: building with scripts/build.sh"
    BUILD_DIR=$BUILD_DIR bash "$ROOT/scripts/build.sh"
fi
if [ ! -x "$SCU" ] || [ ! -x "$SCP" ]; then echo "run.sh: $SCU / $SCP missing after the build" >&2; exit 1; fi
STOCK=1
STOCK_SCU=$(command -v storescu || true) STOCK_SCP=$(command -v storescp || true)
[ -n "$STOCK_SCU" ] && [ -n "$STOCK_SCP" ] || STOCK=0
# The GnuTLS variants need the backend in both apps: their --help lists the
# backends built in ("TLS library: openssl, gnutls").
backends_of() { "$1" --help 2>&1 | sed -n 's/.*TLS library: \([a-z0-9, ]*[a-z0-9]\).*/\1/p'; }
has_backend() { [[ ", $(backends_of "$1"), " == *", $2, "* ]]; }
GNUTLS=0 GNUTLS_NOTE=
if [[ " $BENCH_BACKENDS " != *" gnutls "* ]]; then
    GNUTLS_NOTE="BENCH_BACKENDS=$BENCH_BACKENDS"
elif ! has_backend "$SCU" gnutls || ! has_backend "$SCP" gnutls; then
    GNUTLS_NOTE="the apps were built without the GnuTLS backend"
else
    GNUTLS=1
    for p in "${PROFILES[@]}"; do VARIANTS+=("gnutls:$p"); done
fi
[ "$GNUTLS" = 1 ] || say "GnuTLS variants skipped: $GNUTLS_NOTE"
# Section 7's baseline: the dtp-storescp of another build (the clients stay
# ours, so only the SCP differs). Set but unusable stops the run here.
BASE_SCP='' BASELINE_NOTE="BENCH_BASELINE_BUILD not set"
if [ -n "${BENCH_BASELINE_BUILD:-}" ]; then
    case $BENCH_BASELINE_BUILD in /*) ;; *) BENCH_BASELINE_BUILD=$PWD/$BENCH_BASELINE_BUILD ;; esac
    BASE_SCP=$BENCH_BASELINE_BUILD/apps/dtp-storescp
    if [ ! -x "$BASE_SCP" ]; then
        echo "run.sh: BENCH_BASELINE_BUILD=$BENCH_BASELINE_BUILD has no apps/dtp-storescp" >&2
        exit 1
    fi
    BASELINE_NOTE=
fi
# Section 8 compares with and without --no-fsync, when dtp-storescp has it.
NOFSYNC=0
"$SCP" --help 2>&1 | grep -q -e '--no-fsync' && NOFSYNC=1
TIME_BIN=
[ -x /usr/bin/time ] && /usr/bin/time -f '%U' -o /dev/null true 2>/dev/null && TIME_BIN=/usr/bin/time
CLK_TCK=$(getconf CLK_TCK)
PAGE_KB=$(( $(getconf PAGESIZE) / 1024 ))

# Work space: objects and received files on tmpfs when there is room, so the
# figures are about the network path, not the disk.
need_mb=2500
[ "$QUICK" = 1 ] && need_mb=300
if [ -z "${BENCH_TMP:-}" ]; then
    BENCH_TMP=${TMPDIR:-/tmp}
    if [ -d /dev/shm ] && [ -w /dev/shm ] &&
       [ "$(df -Pk /dev/shm | awk 'NR == 2 { print int($4 / 1024) }')" -ge "$need_mb" ]; then
        BENCH_TMP=/dev/shm
    fi
fi
export DTP_TEST_TMP=$BENCH_TMP
dtp_init bench
W=$DTP_WORK
# Big files must not outlive a failed run in tmpfs (lib.sh keeps the work
# dir for post-mortem): drop them, keep the logs, then lib.sh's own cleanup.
_bench_exit() {
    local rc=$?
    trap - ERR
    set +e
    [ "$BASHPID" = "${DTP_OWNER_PID:-}" ] && rm -rf "$W/obj" "$W"/out-* ${FSYNC_DIR:+"$FSYNC_DIR"} 2>/dev/null
    ( exit "$rc" )
    _dtp_on_exit
}
trap _bench_exit EXIT
say "work dir $W (BENCH_TMP=$BENCH_TMP), build $BUILD_DIR, QUICK=$QUICK, REPS=$REPS, raw data $RAW"

# ------------------------------------------------------------- raw data ---

# Everything the report is made from goes to $RAW: the data files (each
# section appends its runs) and meta, KEY=VALUE lines (layout: bench/report.sh).
mkdir -p "$RAW"
rm -f "$RAW"/{meta,xfer.tsv,assoc.tsv,conc.tsv,stall.tsv,transport.tsv,prefault.tsv,scan.tsv,rate.tsv,fsync.tsv,audit.tsv}
# meta KEY VALUE [KEY VALUE]...: lines of $RAW/meta (a newline in a value
# becomes a blank)
meta() {
    while [ $# -ge 2 ]; do
        printf '%s=%s\n' "$1" "${2//$'\n'/ }" >> "$RAW/meta"
        shift 2
    done
}
meta quick "$QUICK" reps "$REPS" sizes "${SIZES[*]}" profiles "${PROFILES[*]}" \
    default_profile "$DEFAULT_PROFILE" stock "$STOCK" gnutls "$GNUTLS" gnutls_note "$GNUTLS_NOTE" \
    assoc_n "$ASSOC_N" conc_clients "$CONC_CLIENTS" conc_size "$CONC_SIZE" conc_per "$CONC_PER" \
    conc_reps "$CONC_REPS" stall_silent "$STALL_SILENT" stall_half "$STALL_HALF" \
    stall_rounds "$STALL_ROUNDS" transport_mib "$TRANSPORT_MIB" build_dir "$BUILD_DIR" \
    bench_tmp "$BENCH_TMP" bench_tmp_fs "$(df -PT "$BENCH_TMP" | awk 'NR == 2 { print $2 }')" \
    load_start "$LOAD_START"
for key in "${SIZES[@]}"; do
    meta "batch.$key" "${BATCH[$key]}" "batch_nagle.$key" "${BATCH_NAGLE[$key]}"
done
meta rate_clients "$RATE_CLIENTS" rate_per "$RATE_PER" rate_rounds "$RATE_ROUNDS" rate_profile "$RATE_PROFILE" \
    baseline_note "$BASELINE_NOTE" fsync_sizes "${FSYNC_SIZES[*]}" fsync_reps "$FSYNC_REPS" \
    fsync_nofsync "$([ "$NOFSYNC" = 1 ] && echo yes || echo 'n/a (no --no-fsync)')"
for key in "${FSYNC_SIZES[@]}"; do meta "fsync_batch.$key" "${FSYNC_BATCH[$key]}"; done
meta audit_batch "$AUDIT_BATCH" audit_reps "$AUDIT_REPS"
if [ -n "$BASE_SCP" ]; then
    base_src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:[A-Z]*=//p' "$BENCH_BASELINE_BUILD/CMakeCache.txt" 2>/dev/null | head -n 1)
    base_rev=$(git -C "${base_src:-/nonexistent}" rev-parse --short=12 HEAD 2>/dev/null || echo "unknown (not a git tree)")
    meta baseline_build "$BENCH_BASELINE_BUILD" baseline_src "${base_src:-unknown}" baseline_rev "$base_rev" \
        baseline_bin_time "$(date -u -r "$BASE_SCP" '+%Y-%m-%d %H:%M UTC')"
fi

# ------------------------------------------------------------ test data ---

say "certificates (tests/fixtures/make_pki.sh)"
bash "$ROOT/tests/fixtures/make_pki.sh" "$W/pki" >"$W/make_pki.log" 2>&1 ||
    { cat "$W/make_pki.log" >&2; exit 1; }
PKI=$W/pki
say "DICOM objects (tests/fixtures/make_dicom.sh + copies)"
bash "$ROOT/tests/fixtures/make_dicom.sh" "$W/fixture" >"$W/make_dicom.log" 2>&1 ||
    { cat "$W/make_dicom.log" >&2; exit 1; }

# make_set KEY COUNT: COUNT objects of size KEY in $W/obj/KEY, each with its
# own SOP Instance UID. 64 KiB and 512 KiB come from make_dicom.sh as they
# are; the larger ones are its 64 KiB object with Rows/Columns and random
# pixels replaced the way make_dicom.sh puts pixels in (dcmodify -if).
declare -A OBJ_BYTES=()
make_set() {
    local key=$1 count=$2 dir=$W/obj/$1 rows cols tmpl i
    read -r rows cols <<< "${SIZE_DIMS[$key]}"
    mkdir -p "$dir"
    tmpl=$dir/template.dcm
    case $key in
        64k)  cp "$W/fixture/small/small-1.dcm" "$tmpl" ;;
        512k) cp "$W/fixture/medium/medium-1.dcm" "$tmpl" ;;
        *)
            cp "$W/fixture/small/small-1.dcm" "$tmpl"
            head -c $((rows * cols)) /dev/urandom > "$dir/pixels.raw"
            dcmodify -nb -m "(0028,0010)=$rows" -m "(0028,0011)=$cols" \
                -if "(7fe0,0010)=$dir/pixels.raw" "$tmpl" >"$W/dcmodify.log" 2>&1 ||
                { cat "$W/dcmodify.log" >&2; exit 1; }
            rm -f "$dir/pixels.raw"
            ;;
    esac
    dcmftest "$tmpl" >/dev/null || { echo "run.sh: $tmpl is not a DICOM file" >&2; exit 1; }
    local pix
    pix=$(dcmdump -s +P 7fe0,0010 "$tmpl" | sed -n 's/.*# *\([0-9]*\),.*/\1/p')
    [ "$pix" = $((rows * cols)) ] || { echo "run.sh: $tmpl: pixel data $pix bytes, expected $((rows * cols))" >&2; exit 1; }
    for ((i = 1; i <= count; i++)); do
        printf -v f '%s/o%04d.dcm' "$dir" "$i"
        cp "$tmpl" "$f"
    done
    # New SOP Instance UIDs (dataset and meta header), in one process.
    find "$dir" -name 'o*.dcm' -print0 | xargs -0 dcmodify -nb -gin >"$W/dcmodify.log" 2>&1 ||
        { cat "$W/dcmodify.log" >&2; exit 1; }
    rm -f "$tmpl"
    local n
    n=$(dcmdump -s +P 0008,0018 "$dir"/o*.dcm 2>/dev/null | grep "^(0008,0018)" | sort -u | wc -l)
    [ "$n" = "$count" ] || { echo "run.sh: $dir: $n distinct SOP Instance UIDs for $count objects" >&2; exit 1; }
    OBJ_BYTES[$key]=$(stat -c %s "$dir/o0001.dcm")
}
# objects needed per size: the largest count any section sends
declare -A NEED_OBJ=()
need_objects() { [ "${NEED_OBJ[$1]:-0}" -ge "$2" ] || NEED_OBJ[$1]=$2; }
for key in "${SIZES[@]}"; do need_objects "$key" "${BATCH[$key]}"; done
need_objects "$CONC_SIZE" $((CONC_CLIENTS * CONC_PER))
need_objects 64k "$RATE_CLIENTS"     # one object of its own per rate client
for key in "${FSYNC_SIZES[@]}"; do need_objects "$key" "${FSYNC_BATCH[$key]}"; done
need_objects 512k "$AUDIT_BATCH"
for key in "${!NEED_OBJ[@]}"; do make_set "$key" "${NEED_OBJ[$key]}"; done
for key in "${!OBJ_BYTES[@]}"; do meta "obj_bytes.$key" "${OBJ_BYTES[$key]}"; done
say "objects ready: $(du -sh "$W/obj" | cut -f1) in $W/obj"

# files KEY N: the first N objects of size KEY, into the array FILES
files() {
    FILES=()
    local i
    for ((i = 1; i <= $2; i++)); do
        printf -v f '%s/obj/%s/o%04d.dcm' "$W" "$1" "$i"
        FILES+=("$f")
    done
}
# sum of the sizes of FILES (one stat for all of them)
files_bytes() {
    printf '%s\0' "${FILES[@]}" | xargs -0 stat -c %s | awk '{ t += $1 } END { printf "%d\n", t }'
}

# ------------------------------------------------------ process helpers ---

# cpu_ticks PID: utime+stime+cutime+cstime of PID (clock ticks) in CPU_TICKS;
# cutime/cstime include the children PID has reaped.
cpu_ticks() {
    local s
    read -r s 2>/dev/null < "/proc/$1/stat" || { CPU_TICKS=0; return 1; }
    s=${s##*) }
    local -a f
    read -r -a f <<< "$s"
    # f[0] is field 3 (state): utime is field 14
    CPU_TICKS=$(( f[11] + f[12] + f[13] + f[14] ))
}
# kids PID: its live (or not yet reaped) children in KIDS
kids() {
    KIDS=
    read -r KIDS 2>/dev/null < "/proc/$1/task/$1/children" || true
}
# wait_port_idle PORT LIMIT_S: until no TCP connection to PORT is open
wait_port_idle() {
    local port=$1 deadline=$(( ${EPOCHREALTIME/[.,]/} + $2 * 1000000 ))
    while [ -n "$(ss -Htn "( sport = :$port )" 2>/dev/null | grep -v LISTEN || true)" ]; do
        [ "${EPOCHREALTIME/[.,]/}" -lt "$deadline" ] || return 1
        read -rt 0.02 -u "$DTP_STDIN_FD" _ || true
    done
}

# tree_ticks PID: CPU of PID and its children, reaped or not (clock ticks)
# in TREE_TICKS: PID's own utime+stime+cutime+cstime, then each live child's.
# PID is read first: a child reaped before that is in PID's cutime and no
# longer listed; one still listed afterwards cannot be in it yet. So an SCP
# that keeps its association processes (a worker pool) counts like one that
# reaps one per connection.
tree_ticks() {
    local t p
    cpu_ticks "$1" || { TREE_TICKS=0; return 0; }
    t=$CPU_TICKS
    kids "$1"
    for p in $KIDS; do
        if cpu_ticks "$p"; then t=$((t + CPU_TICKS)); fi
    done
    TREE_TICKS=$t
}
# scp_settle NAME [LIMIT_S]: until the SCP NAME is idle: no connection to
# its port, and no more live child processes than it had when idle after
# its start (IDLE_KIDS: 0 for one process per connection, the pool for a
# pre-forked one). Zombies are done: their CPU is in tree_ticks, and stock
# storescp --fork reaps its children only when the next connection comes.
# Bounded; 1 if the limit passed.
declare -A IDLE_KIDS=()
scp_settle() {
    local name=$1 lim=${2:-10} pid p st n deadline
    pid=${SCP_PID[$name]}
    deadline=$(( ${EPOCHREALTIME/[.,]/} + lim * 1000000 ))
    wait_port_idle "${PORT[$name]}" "$lim" || return 1
    while :; do
        kids "$pid"
        n=0
        for p in $KIDS; do
            st=
            read -r st 2>/dev/null < "/proc/$p/stat" || continue
            st=${st##*) }
            [ "${st%% *}" = Z ] || n=$((n + 1))
        done
        [ "$n" -le "${IDLE_KIDS[$name]:-0}" ] && return 0
        [ "${EPOCHREALTIME/[.,]/}" -lt "$deadline" ] || return 1
        read -rt 0.02 -u "$DTP_STDIN_FD" _ || true
    done
}
# idle_kids NAME: records IDLE_KIDS[NAME], the children of the SCP NAME once
# their number has not changed for 0.1 s (at most 2 s after it listens)
idle_kids() {
    local pid=${SCP_PID[$1]} n last=-1 i
    for ((i = 0; i < 20; i++)); do
        kids "$pid"
        n=$(wc -w <<< "$KIDS")
        [ "$n" = "$last" ] && break
        last=$n
        read -rt 0.1 -u "$DTP_STDIN_FD" _ || true
    done
    IDLE_KIDS[$1]=$n
}

# sampler PID OUT PSS: every ~50 ms, the sum of the RSS (and, if PSS=1, the
# PSS) of PID and its children; on SIGTERM writes "max_rss_kb max_pss_kb
# max_processes max_one_process_rss_kb" to OUT. Started in the background,
# stopped by its PID.
sampler() {
    local root=$1 out=$2 want_pss=$3 max_rss=0 max_pss=0 max_n=0 max_one=0 sum psum n p r k v
    trap 'echo "$max_rss $max_pss $max_n $max_one" > "$out"; exit 0' TERM
    while :; do
        kids "$root"
        sum=0 psum=0 n=0
        for p in $root $KIDS; do
            r=
            read -r _ r _ 2>/dev/null < "/proc/$p/statm" || continue
            sum=$((sum + r * PAGE_KB)) n=$((n + 1))
            if [ $((r * PAGE_KB)) -gt "$max_one" ]; then max_one=$((r * PAGE_KB)); fi
            if [ "$want_pss" = 1 ]; then
                while read -r k v _; do
                    if [ "$k" = Pss: ]; then psum=$((psum + v)); break; fi
                done 2>/dev/null < "/proc/$p/smaps_rollup" || true
            fi
        done
        if [ "$sum" -gt "$max_rss" ]; then max_rss=$sum; fi
        if [ "$psum" -gt "$max_pss" ]; then max_pss=$psum; fi
        if [ "$n" -gt "$max_n" ]; then max_n=$n; fi
        read -rt 0.05 -u "$DTP_STDIN_FD" _ || true
    done
}
start_sampler() { sampler "$1" "$2" "${3:-0}" & SAMPLER_PID=$!; }
stop_sampler() {
    kill -TERM "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
}

# prefault BYTES: writes BYTES to a file next to the received files and
# removes it, right before a timed run. On this VM, memory that has been
# free for a while is about 10x slower to touch again than memory freed a
# moment ago (dd: 0.85 s instead of 0.1 s per 256 MiB once ~1 GiB had been
# touched; likely handed back to the host: the VM has a virtio-balloon
# device), and which run happens to get it is chance: without this, a run's
# receiver CPU doubled or quadrupled at random (seen as 1.1 s instead of
# 0.25 s for 256 MiB). The write rate of each prefault goes to PREFAULT_LOG
# (MB/s), so the report shows how cold memory was.
PREFAULT_LOG=$RAW/prefault.tsv
: > "$PREFAULT_LOG"
prefault() {
    local mib=$(( ($1 + 1048575) / 1048576 )) t0 t1
    t0=${EPOCHREALTIME/[.,]/}
    dd if=/dev/zero of="$W/prefault.bin" bs=1M count="$mib" status=none
    rm -f "$W/prefault.bin"
    t1=${EPOCHREALTIME/[.,]/}
    awk -v m="$mib" -v us=$((t1 - t0)) 'BEGIN { printf "%d\t%.1f\n", m, m / (us / 1e6) }' >> "$PREFAULT_LOG"
}

# run_client LOG CMD...: runs CMD (bounded by RUN_LIMIT); sets RC, WALL_US,
# CLIENT_CPU (user+sys seconds) and CLIENT_RSS (KiB, 0 if unknown).
run_client() {
    local log=$1; shift
    local t0 t1 c0 c1
    RC=0 CLIENT_RSS=0
    if [ -n "$TIME_BIN" ]; then
        t0=${EPOCHREALTIME/[.,]/}
        timeout -k 5 "$RUN_LIMIT" "$TIME_BIN" -f 'cpu %U %S %M' -o "$W/time.out" "$@" \
            </dev/null >"$log" 2>&1 || RC=$?
        t1=${EPOCHREALTIME/[.,]/}
        local u s m
        read -r _ u s m < <(grep '^cpu ' "$W/time.out" || echo "cpu 0 0 0")
        CLIENT_CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.3f", u + s }')
        CLIENT_RSS=$m
    else
        # Without GNU time: this shell's cutime+cstime grow by what the
        # client (reaped through timeout) used; 1/CLK_TCK resolution.
        cpu_ticks $BASHPID; c0=$CPU_TICKS
        t0=${EPOCHREALTIME/[.,]/}
        timeout -k 5 "$RUN_LIMIT" "$@" </dev/null >"$log" 2>&1 || RC=$?
        t1=${EPOCHREALTIME/[.,]/}
        cpu_ticks $BASHPID; c1=$CPU_TICKS
        CLIENT_CPU=$(awk -v d=$((c1 - c0)) -v h="$CLK_TCK" 'BEGIN { printf "%.3f", d / h }')
    fi
    WALL_US=$((t1 - t0))
}

# ------------------------------------------------------------- variants ---

declare -A PORT=() SCP_PID=() OUTDIR=()
TLS_SCP_ARGS=(+tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" +cf "$PKI/ca.pem")
TLS_SCU_ARGS=(+tls "$PKI/client-rsa.key" "$PKI/client-rsa.pem" +cf "$PKI/ca.pem")

# tls_opts KIND: our apps' TLS options for KIND, a profile key (OpenSSL,
# their default backend) or gnutls:PROFILE, in TLS_OPTS
tls_opts() {
    case $1 in
        gnutls:*) TLS_OPTS=(--profile "${1#gnutls:}" --tls-backend gnutls) ;;
        *)        TLS_OPTS=(--profile "$1") ;;
    esac
}

# start_scp NAME KIND [extra args]: KIND is plain, a profile key,
# gnutls:PROFILE, stock-nodelay, stock-default, stock-plain,
# stock-fork:PROFILE (stock storescp --fork) or base:PROFILE (the baseline
# build's dtp-storescp). Receives into $W/out-NAME, or SCP_OUT when set.
# Sets PORT/SCP_PID/OUTDIR[NAME].
start_scp() {
    local name=$1 kind=$2; shift 2
    local port out
    port=$(dtp_free_port)
    out=${SCP_OUT:-$W/out-$name}
    mkdir -p "$out"
    case $kind in
        plain)
            dtp_start "scp-$name" "$SCP" --bind 127.0.0.1 -od "$out" "$@" "$port" ;;
        stock-nodelay)
            dtp_start "scp-$name" env TCP_NODELAY=1 "$STOCK_SCP" "${TLS_SCP_ARGS[@]}" +py -od "$out" "$@" "$port" ;;
        stock-default)
            dtp_start "scp-$name" env -u TCP_NODELAY "$STOCK_SCP" "${TLS_SCP_ARGS[@]}" +py -od "$out" "$@" "$port" ;;
        stock-plain)
            dtp_start "scp-$name" env TCP_NODELAY=1 "$STOCK_SCP" -od "$out" "$@" "$port" ;;
        stock-fork:*)   # a process per association, as ours
            dtp_start "scp-$name" env TCP_NODELAY=1 "$STOCK_SCP" --fork "${TLS_SCP_ARGS[@]}" \
                "$(stock_flag "${kind#stock-fork:}")" -od "$out" "$@" "$port" ;;
        base:*)         # the baseline build's dtp-storescp (section 7)
            tls_opts "${kind#base:}"
            dtp_start "scp-$name" "$BASE_SCP" --bind 127.0.0.1 "${TLS_OPTS[@]}" "${TLS_SCP_ARGS[@]}" \
                -od "$out" "$@" "$port" ;;
        *)
            tls_opts "$kind"
            dtp_start "scp-$name" "$SCP" --bind 127.0.0.1 "${TLS_OPTS[@]}" "${TLS_SCP_ARGS[@]}" \
                -od "$out" "$@" "$port" ;;
    esac
    SCP_PID[$name]=${DTP_PIDS[${#DTP_PIDS[@]} - 1]}
    dtp_wait_port "$port" 127.0.0.1 10 || dtp_fail "SCP $name ($kind) did not listen on port $port"
    PORT[$name]=$port OUTDIR[$name]=$out
    idle_kids "$name"
}
# stock_flag PROFILE: stock DCMTK 3.6.7's option for a profile key
stock_flag() {
    case $1 in
        bcp195) echo +px ;; bcp195-nd) echo +py ;; bcp195-ex) echo +pz ;;
        *) echo "run.sh: stock DCMTK 3.6.7 has no $1 profile" >&2; return 1 ;;
    esac
}

# client_cmd KIND PORT: the client command line (without files) in CMD
client_cmd() {
    local kind=$1 port=$2
    case $kind in
        plain)         CMD=("$SCU" 127.0.0.1 "$port") ;;
        stock-nodelay) CMD=(env TCP_NODELAY=1 "$STOCK_SCU" "${TLS_SCU_ARGS[@]}" +py 127.0.0.1 "$port") ;;
        stock-default) CMD=(env -u TCP_NODELAY "$STOCK_SCU" "${TLS_SCU_ARGS[@]}" +py 127.0.0.1 "$port") ;;
        stock-plain)   CMD=(env TCP_NODELAY=1 "$STOCK_SCU" 127.0.0.1 "$port") ;;
        *)             tls_opts "$kind"; CMD=("$SCU" "${TLS_OPTS[@]}" "${TLS_SCU_ARGS[@]}" 127.0.0.1 "$port") ;;
    esac
}
is_stock() { [[ $1 == stock-* ]]; }

FAILURES=0
note_failure() {
    FAILURES=$((FAILURES + 1))
    meta failure "$1"
    say "FAILED: $1"
}

# -------------------------------------------------------- 1. throughput ---

XFER=$RAW/xfer.tsv      # size variant rep objects bytes wall_s scu_cpu_s scp_cpu_s scp_rss_kb scu_rss_kb ok
: > "$XFER"
declare -A TLS_LINE=()
for v in "${VARIANTS[@]}"; do
    if is_stock "$v" && [ "$STOCK" = 0 ]; then continue; fi
    start_scp "$v" "$v"
done
say "throughput SCPs listening: $(for v in "${!PORT[@]}"; do printf '%s:%s ' "$v" "${PORT[$v]}"; done)"

# Warm-up: one small untimed transfer per variant (first exec, page cache).
for v in "${VARIANTS[@]}"; do
    [ -n "${PORT[$v]:-}" ] || continue
    files 64k 2
    client_cmd "$v" "${PORT[$v]}"
    run_client "$W/warmup-$v.log" "${CMD[@]}" "${FILES[@]}"
    [ "$RC" = 0 ] || note_failure "warm-up $v: exit $RC ($(tail -n 3 "$W/warmup-$v.log" | tr '\n' ' '))"
done

# One round = every variant once for one size; the receiver's CPU is read
# once its association process has been reaped (dtp-storescp) or its
# connection is closed (stock), which is waited for at the end of the round.
declare -A PEND=() CPU0=()
xfer_run() {
    local size=$1 v=$2 rep=$3 n bytes rc
    if is_stock "$v" && [ "$STOCK" = 0 ]; then return 0; fi
    n=${BATCH[$size]}
    [ "$v" = stock-default ] && n=${BATCH_NAGLE[$size]}
    files "$size" "$n"
    bytes=$(files_bytes)
    client_cmd "$v" "${PORT[$v]}"
    tree_ticks "${SCP_PID[$v]}"; CPU0[$v]=$TREE_TICKS
    local log=$W/xfer-$size-$v-$rep.log
    # what the receiver stores, plus the sender's copies of two objects
    prefault $(( bytes + 2 * OBJ_BYTES[$size] + 33554432 ))
    start_sampler "${SCP_PID[$v]}" "$W/rss.out" 0
    run_client "$log" "${CMD[@]}" "${FILES[@]}"
    stop_sampler
    local rss=0
    read -r rss _ < "$W/rss.out" || true
    if [ -z "${TLS_LINE[$v]:-}" ]; then
        TLS_LINE[$v]=$(grep -m1 '^TLS: ' "$log" || true)
        [ -z "${TLS_LINE[$v]}" ] || meta "tls.$v" "${TLS_LINE[$v]}"
    fi
    PEND[$v]="$size $v $rep $n $bytes $WALL_US $CLIENT_CPU $rss $CLIENT_RSS $RC"
    local mbps
    mbps=$(awk -v b="$bytes" -v us="$WALL_US" 'BEGIN { printf "%.1f", b / 1048576 / (us / 1e6) }')
    say "  ${SIZE_LABEL[$size]} x$n $v: $mbps MB/s (exit $RC)"
}
xfer_finish() {
    local v size rep n bytes wall_us ccpu rss crss rc got ok
    for v in "${!PEND[@]}"; do
        read -r size _ rep n bytes wall_us ccpu rss crss rc <<< "${PEND[$v]}"
        scp_settle "$v" 10 || true
        tree_ticks "${SCP_PID[$v]}"
        local scp_cpu
        scp_cpu=$(awk -v d=$((TREE_TICKS - CPU0[$v])) -v h="$CLK_TCK" 'BEGIN { printf "%.3f", d / h }')
        got=$(find "${OUTDIR[$v]}" -type f ! -name '.*' | wc -l)
        ok=1
        if [ "$rc" != 0 ] || [ "$got" != "$n" ]; then
            ok=0
            note_failure "throughput ${SIZE_LABEL[$size]} $v rep $rep: exit $rc, $got of $n objects stored (log xfer-$size-$v-$rep.log)"
            cp "$W/xfer-$size-$v-$rep.log" "$W/failed-xfer-$size-$v-$rep.log" 2>/dev/null || true
        fi
        find "${OUTDIR[$v]}" -mindepth 1 -delete
        rm -f "$W/xfer-$size-$v-$rep.log"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$v" "$rep" "$n" "$bytes" \
            "$(awk -v us="$wall_us" 'BEGIN { printf "%.6f", us / 1e6 }')" "$ccpu" "$scp_cpu" "$rss" "$crss" "$ok" >> "$XFER"
    done
    PEND=()
}

nv=${#VARIANTS[@]}
want throughput || REPS_RUN=0
for ((rep = 1; rep <= ${REPS_RUN:-$REPS}; rep++)); do
    for size in "${SIZES[@]}"; do
        say "throughput rep $rep/$REPS, ${SIZE_LABEL[$size]}"
        for ((j = 0; j < nv; j++)); do
            # round-robin, starting one variant later each repetition
            v=${VARIANTS[$(( (j + rep - 1) % nv ))]}
            xfer_run "$size" "$v" "$rep"
        done
        xfer_finish
    done
done

# ------------------------------------------------- 5. transport alone ---
# (measured here, between the throughput rounds and the association runs,
# on the same quiet-as-possible machine; section 5 of the report)
TBENCH=$BUILD_DIR/tests/tools/dtp-transport-bench
TRANSPORT=$RAW/transport.tsv   # mode rep MB/s writer_cpu_s reader_cpu_s ok
: > "$TRANSPORT"
if want transport && [ -x "$TBENCH" ]; then
    say "transport alone: $REPS x ($TRANSPORT_MIB MiB plain, $TRANSPORT_MIB MiB TLS bcp195-nd)"
    for ((rep = 1; rep <= REPS; rep++)); do
        for mode in plain tls; do
            line=$(timeout -k 5 120 "$TBENCH" "$PKI" "$mode" "$TRANSPORT_MIB" 2>"$W/transport.err") ||
                { note_failure "transport $mode rep $rep: $(tr '\n' ' ' < "$W/transport.err")"; line="$mode - - -"; }
            read -r _ mbps wcpu rcpu <<< "$line"
            printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$rep" "$mbps" "$wcpu" "$rcpu" "$([ "$mbps" = - ] && echo 0 || echo 1)" >> "$TRANSPORT"
        done
    done
elif want transport; then
    say "transport alone: $TBENCH not built (tests off?); skipped"
fi

# -------------------------------------------------- 6. dtp-check scan ---
# A full server scan (every probe of the plan, then the C-ECHO) of the
# throughput SCPs, bcp195-nd on each backend: wall time of the dtp-check
# process and the scan time it reports (--json .seconds).
CHECK_BIN=$BUILD_DIR/apps/dtp-check
SCAN=$RAW/scan.tsv   # target rep wall_s scan_s probes ok
: > "$SCAN"
if want scan && [ -x "$CHECK_BIN" ]; then
    targets=(bcp195-nd)
    [ "$GNUTLS" = 1 ] && targets+=(gnutls:bcp195-nd)
    say "dtp-check scans: $REPS x ${targets[*]}"
    for ((rep = 1; rep <= REPS; rep++)); do
        for t in "${targets[@]}"; do
            t0=${EPOCHREALTIME/[.,]/}
            rc=0
            timeout -k 5 120 "$CHECK_BIN" --no-progress "${TLS_SCU_ARGS[@]}" --json "$W/scan.json" \
                127.0.0.1 "${PORT[$t]}" > "$W/scan.out" 2>&1 || rc=$?
            t1=${EPOCHREALTIME/[.,]/}
            ok=1 scan_s=- probes=-
            if [ "$rc" != 0 ] || ! scan_s=$(jq -r .seconds "$W/scan.json" 2>/dev/null); then
                ok=0 scan_s=-
                note_failure "dtp-check scan of $t rep $rep: exit $rc ($(tail -n 2 "$W/scan.out" | tr '\n' ' '))"
            else
                probes=$(jq -r '.probes | length' "$W/scan.json")
            fi
            printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$rep" "$(awk -v us=$((t1 - t0)) 'BEGIN { printf "%.3f", us / 1e6 }')" \
                "$scan_s" "$probes" "$ok" >> "$SCAN"
        done
    done
elif want scan; then
    say "dtp-check scans: $CHECK_BIN not built; skipped"
fi
[ -n "${OUTDIR[bcp195-nd]:-}" ] && find "${OUTDIR[bcp195-nd]}" -mindepth 1 -delete

# --------------------------------------------------- 2. association rate ---

# One 64 KiB object per dtp-storescu run. Our SCPs are the throughput ones
# (plain, bcp195-nd and gnutls:bcp195-nd); stock gets a plain storescp too.
# Each backend resumes from a session file of its own (their formats differ).
say "association rate: $ASSOC_N runs per variant"
ASSOC=$RAW/assoc.tsv    # variant i wall_ms inproc_ms resumed ok
: > "$ASSOC"
AVARIANTS=(plain tls-full tls-resumed)
[ "$GNUTLS" = 1 ] && AVARIANTS+=(gnutls-full gnutls-resumed)
if [ "$STOCK" = 1 ]; then
    start_scp stock-plain stock-plain
    AVARIANTS+=(stock-plain stock-tls)
fi
assoc_cmd() {
    case $1 in
        plain)          client_cmd plain "${PORT[plain]}" ;;
        tls-full)       client_cmd bcp195-nd "${PORT[bcp195-nd]}" ;;
        tls-resumed)    client_cmd bcp195-nd "${PORT[bcp195-nd]}"; CMD+=(--session-file "$W/session.pem") ;;
        gnutls-full)    client_cmd gnutls:bcp195-nd "${PORT[gnutls:bcp195-nd]}" ;;
        gnutls-resumed) client_cmd gnutls:bcp195-nd "${PORT[gnutls:bcp195-nd]}"
                        CMD+=(--session-file "$W/session-gnutls.pem") ;;
        stock-plain)    client_cmd stock-plain "${PORT[stock-plain]}" ;;
        stock-tls)      client_cmd stock-nodelay "${PORT[stock-nodelay]}" ;;
    esac
}
files 64k 1
ASSOC_FILE=${FILES[0]}
# Prime the session files (a full handshake each, not counted).
for a in "${AVARIANTS[@]}"; do
    [[ $a == *-resumed ]] || continue
    assoc_cmd "$a"
    run_client "$W/assoc-prime-$a.log" "${CMD[@]}" "$ASSOC_FILE"
    [ "$RC" = 0 ] || note_failure "association: priming the session file of $a failed (exit $RC)"
done
na=${#AVARIANTS[@]}
want assoc || ASSOC_RUN=0
for ((i = 1; i <= ${ASSOC_RUN:-$ASSOC_N}; i++)); do
    for ((j = 0; j < na; j++)); do
        a=${AVARIANTS[$(( (j + i - 1) % na ))]}
        assoc_cmd "$a"
        log=$W/assoc-$a.log
        run_client "$log" "${CMD[@]}" "$ASSOC_FILE"
        inproc=$(sed -n 's/^summary: .* bytes in \([0-9.e+-]*\) s.*/\1/p' "$log" | head -n 1)
        resumed=0
        grep -q '^TLS: .* resumed' "$log" && resumed=1
        ok=1
        if [ "$RC" != 0 ]; then
            ok=0
            note_failure "association $a run $i: exit $RC"
            cp "$log" "$W/failed-assoc-$a-$i.log"
        fi
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$a" "$i" \
            "$(awk -v us="$WALL_US" 'BEGIN { printf "%.3f", us / 1000 }')" \
            "$(awk -v s="${inproc:-}" 'BEGIN { if (s == "") print "-"; else printf "%.3f", s * 1000 }')" \
            "$resumed" "$ok" >> "$ASSOC"
    done
done
for name in plain bcp195-nd gnutls:bcp195-nd stock-plain stock-nodelay; do
    [ -n "${OUTDIR[$name]:-}" ] && find "${OUTDIR[$name]}" -mindepth 1 -delete
done

# ------------------------------------ 7. association rate under load ---

# RATE_CLIENTS client loops at once, each running the client RATE_PER times
# in a row, one 64 KiB object of its own per association, into one SCP. A
# round runs every variant once (round-robin, one variant later each
# round). Per variant and round: associations that succeeded and resumed,
# wall time from the first start to the last exit, CPU of the SCP's
# process tree (tree_ticks: the parent and its association processes or
# workers) and of the clients (GNU time over each loop, which counts the
# client processes it reaped). The clients are our dtp-storescu in every
# variant but stockcli-full (stock storescu into stock storescp, for
# reference): only the SCP differs between ours, stock and baseline.
RATE=$RAW/rate.tsv   # variant round clients associations ok_associations resumed wall_s scp_cpu_s clients_cpu_s ok
: > "$RATE"
RVARIANTS=()
if want rate; then
    start_scp rate-ours "$RATE_PROFILE"
    RVARIANTS+=(ours-full ours-resumed)
    if [ -n "$BASE_SCP" ]; then
        start_scp rate-base "base:$RATE_PROFILE"
        RVARIANTS+=(base-full base-resumed)
    fi
    if [ "$STOCK" = 1 ]; then
        start_scp rate-stock "stock-fork:$RATE_PROFILE"
        RVARIANTS+=(stock-full stock-resumed stockcli-full)
    fi
    say "association rate under load: $RATE_CLIENTS clients x $RATE_PER associations, $RATE_ROUNDS rounds of ${RVARIANTS[*]}"
fi
# rate_cmd VARIANT: its SCP's name in RATE_SCP, the client command without
# the file in CMD, RATE_SESS=1 if each client keeps a --session-file
rate_cmd() {
    case $1 in
        ours-*) RATE_SCP=rate-ours ;;
        base-*) RATE_SCP=rate-base ;;
        *)      RATE_SCP=rate-stock ;;
    esac
    case $1 in
        stockcli-*) CMD=(env TCP_NODELAY=1 "$STOCK_SCU" "${TLS_SCU_ARGS[@]}" "$(stock_flag "$RATE_PROFILE")"
                         127.0.0.1 "${PORT[$RATE_SCP]}") ;;
        *)          client_cmd "$RATE_PROFILE" "${PORT[$RATE_SCP]}" ;;
    esac
    RATE_SESS=0
    [[ $1 != *-resumed ]] || RATE_SESS=1
}
# One client: $1 runs of "${@:4}", output appended to $2, each exit code to $3.
RATE_LOOP='for ((i = 0; i < $1; i++)); do "${@:4}" >> "$2" 2>&1; echo "$?" >> "$3"; done'
declare -A RATE_TLS=()
# rate_run VARIANT ROUND PER RECORD: one run of VARIANT (PER associations
# per client); RECORD=0 for the untimed priming run
rate_run() {
    local v=$1 round=$2 per=$3 record=$4 c f t0 t1 c0 pid loops_failed=0 n ok_n resumed ccpu ok=1
    local -a pids=() cmd
    rate_cmd "$v"
    pid=${SCP_PID[$RATE_SCP]}
    scp_settle "$RATE_SCP" 10 || say "  rate: $RATE_SCP not idle after 10 s"
    rm -f "$W"/rate-c*.log "$W"/rate-c*.rc "$W"/rate-c*.time
    tree_ticks "$pid"; c0=$TREE_TICKS
    t0=${EPOCHREALTIME/[.,]/}
    for ((c = 0; c < RATE_CLIENTS; c++)); do
        cmd=("${CMD[@]}")
        [ "$RATE_SESS" = 0 ] || cmd+=(--session-file "$W/rate-session-$RATE_SCP-$c.pem")
        printf -v f '%s/obj/64k/o%04d.dcm' "$W" $((c + 1))
        if [ -n "$TIME_BIN" ]; then
            timeout -k 5 "$RUN_LIMIT" "$TIME_BIN" -f 'cpu %U %S' -o "$W/rate-c$c.time" \
                bash -c "$RATE_LOOP" rate "$per" "$W/rate-c$c.log" "$W/rate-c$c.rc" "${cmd[@]}" "$f" </dev/null &
        else
            timeout -k 5 "$RUN_LIMIT" bash -c "$RATE_LOOP" rate "$per" "$W/rate-c$c.log" "$W/rate-c$c.rc" \
                "${cmd[@]}" "$f" </dev/null &
        fi
        pids+=($!)
    done
    for c in "${!pids[@]}"; do wait "${pids[$c]}" || loops_failed=$((loops_failed + 1)); done
    t1=${EPOCHREALTIME/[.,]/}
    scp_settle "$RATE_SCP" 10 || say "  rate: $RATE_SCP not idle after 10 s"
    tree_ticks "$pid"
    n=$((RATE_CLIENTS * per))
    ok_n=$(cat "$W"/rate-c*.rc 2>/dev/null | grep -cx 0 || true)
    resumed=-
    [[ $v == stockcli-* ]] || resumed=$(cat "$W"/rate-c*.log 2>/dev/null | grep -c '^TLS: .* resumed$' || true)
    ccpu=-
    if [ -n "$TIME_BIN" ]; then
        ccpu=$(cat "$W"/rate-c*.time 2>/dev/null | awk '/^cpu / { s += $2 + $3; k++ } END { if (k) printf "%.3f", s; else print "-" }')
    fi
    if [ -z "${RATE_TLS[$v]:-}" ]; then
        RATE_TLS[$v]=$(grep -m1 '^TLS: ' "$W/rate-c0.log" 2>/dev/null || true)
        [ -z "${RATE_TLS[$v]}" ] || meta "rate_tls.$v" "${RATE_TLS[$v]}"
    fi
    if [ "$ok_n" != "$n" ] || [ "$loops_failed" != 0 ]; then
        ok=0
        [ "$record" = 1 ] || v="$v (priming)"
        note_failure "rate $v round $round: $((n - ok_n)) of $n associations failed, $loops_failed client loop(s) exited non-zero"
        for ((c = 0; c < RATE_CLIENTS; c++)); do cp "$W/rate-c$c.log" "$W/failed-rate-${v%% *}-$round-$c.log" 2>/dev/null || true; done
    fi
    [ "$record" = 1 ] || return 0
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$v" "$round" "$RATE_CLIENTS" "$n" "$ok_n" "$resumed" \
        "$(awk -v us=$((t1 - t0)) 'BEGIN { printf "%.6f", us / 1e6 }')" \
        "$(awk -v d=$((TREE_TICKS - c0)) -v h="$CLK_TCK" 'BEGIN { printf "%.3f", d / h }')" "$ccpu" "$ok" >> "$RATE"
    say "  rate $v round $round: $(awk -v n="$ok_n" -v us=$((t1 - t0)) 'BEGIN { printf "%.1f", n / (us / 1e6) }') associations/s, $ok_n of $n ok, $resumed resumed"
}
# Priming: one association per client and variant, not counted (first
# exec of each program; the session files of the resumed variants).
for v in "${RVARIANTS[@]}"; do rate_run "$v" 0 1 0; done
nrv=${#RVARIANTS[@]}
for ((round = 1; round <= RATE_ROUNDS && nrv > 0; round++)); do
    for ((j = 0; j < nrv; j++)); do
        rate_run "${RVARIANTS[$(( (j + round - 1) % nrv ))]}" "$round" "$RATE_PER" 1
    done
done
for name in rate-ours rate-base rate-stock; do
    [ -n "${OUTDIR[$name]:-}" ] && find "${OUTDIR[$name]}" -mindepth 1 -delete
done

# ------------------------------------------------------- 3. concurrency ---

say "concurrency: $CONC_CLIENTS clients x $CONC_PER x ${SIZE_LABEL[$CONC_SIZE]}"
CONC=$RAW/conc.tsv      # variant rep bytes wall_s rss_kb pss_kb processes scp_cpu_s clients_cpu_s ok one_rss_kb
: > "$CONC"
start_scp conc-tls bcp195-nd
start_scp conc-plain plain
conc_run() {
    local name=$1 kind=$2 rep=$3 c i pids=() t0 t1 bytes=0 rcs=0 ccpu=0
    local pid=${SCP_PID[$name]}
    tree_ticks "$pid"; local c0=$TREE_TICKS
    client_cmd "$kind" "${PORT[$name]}"
    prefault $(( CONC_CLIENTS * (CONC_PER + 2) * OBJ_BYTES[$CONC_SIZE] + 33554432 ))
    start_sampler "$pid" "$W/conc-rss.out" 1
    local -a lists=()
    for ((c = 0; c < CONC_CLIENTS; c++)); do
        FILES=()
        for ((i = c * CONC_PER + 1; i <= (c + 1) * CONC_PER; i++)); do
            printf -v f '%s/obj/%s/o%04d.dcm' "$W" "$CONC_SIZE" "$i"
            FILES+=("$f")
        done
        bytes=$((bytes + $(files_bytes)))
        lists[c]="${FILES[*]}"    # object paths have no blanks (made by make_set)
    done
    t0=${EPOCHREALTIME/[.,]/}
    for ((c = 0; c < CONC_CLIENTS; c++)); do
        read -r -a FILES <<< "${lists[c]}"
        if [ -n "$TIME_BIN" ]; then
            timeout -k 5 "$RUN_LIMIT" "$TIME_BIN" -f 'cpu %U %S %M' -o "$W/conc-time-$c.out" \
                "${CMD[@]}" "${FILES[@]}" </dev/null >"$W/conc-$c.log" 2>&1 &
        else
            timeout -k 5 "$RUN_LIMIT" "${CMD[@]}" "${FILES[@]}" </dev/null >"$W/conc-$c.log" 2>&1 &
        fi
        pids+=($!)
    done
    for c in "${!pids[@]}"; do
        if ! wait "${pids[$c]}"; then
            rcs=$((rcs + 1))
            cp "$W/conc-$c.log" "$W/failed-conc-$name-$rep-$c.log"
        fi
    done
    t1=${EPOCHREALTIME/[.,]/}
    scp_settle "$name" 10 || true
    stop_sampler
    tree_ticks "$pid"
    local rss pss np one
    read -r rss pss np one < "$W/conc-rss.out" || true
    if [ -n "$TIME_BIN" ]; then
        ccpu=$(cat "$W"/conc-time-*.out | awk '/^cpu / { s += $2 + $3 } END { printf "%.3f", s }')
    fi
    local got ok=1
    got=$(find "${OUTDIR[$name]}" -type f ! -name '.*' | wc -l)
    if [ "$rcs" != 0 ] || [ "$got" != $((CONC_CLIENTS * CONC_PER)) ]; then
        ok=0
        note_failure "concurrency $name rep $rep: $rcs clients failed, $got of $((CONC_CLIENTS * CONC_PER)) objects stored"
    fi
    find "${OUTDIR[$name]}" -mindepth 1 -delete
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rep" "$bytes" \
        "$(awk -v us=$((t1 - t0)) 'BEGIN { printf "%.6f", us / 1e6 }')" "$rss" "$pss" "$np" \
        "$(awk -v d=$((TREE_TICKS - c0)) -v h="$CLK_TCK" 'BEGIN { printf "%.3f", d / h }')" "$ccpu" "$ok" "${one:-0}" >> "$CONC"
    say "  $name rep $rep: $(awk -v b="$bytes" -v us=$((t1 - t0)) 'BEGIN { printf "%.1f", b / 1048576 / (us / 1e6) }') MB/s aggregate, peak sum RSS $((rss / 1024)) MiB, PSS $((pss / 1024)) MiB, $np processes"
}
want conc || CONC_RUN=0
for ((rep = 1; rep <= ${CONC_RUN:-$CONC_REPS}; rep++)); do
    conc_run conc-tls bcp195-nd "$rep"
    conc_run conc-plain plain "$rep"
done

# ------------------------------------------------------- 4. stall delay ---

say "stall delay: $STALL_SILENT silent + $STALL_HALF half-handshake connections, $STALL_ROUNDS rounds"
STALL=$RAW/stall.tsv    # round phase wall_ms inproc_ms ok
: > "$STALL"
start_scp stall bcp195-nd --handshake-timeout 600
STALL_PID=${SCP_PID[stall]} STALL_PORT=${PORT[stall]}
# A real ClientHello (openssl s_client against this SCP, recorded with
# -msg): sent alone, the SCP answers with its whole flight (ServerHello ...
# Finished) and then waits for the client's Finished that never comes, i.e.
# the handshake stops half way. If it cannot be recorded, half a
# ClientHello (as in tests/e2e/stall.sh) is sent instead.
HELLO=$W/client-hello.bin
timeout 10 openssl s_client -connect "127.0.0.1:$STALL_PORT" -msg -cert "$PKI/client-rsa.pem" \
    -key "$PKI/client-rsa.key" -CAfile "$PKI/ca.pem" </dev/null >"$W/s_client.log" 2>&1 || true
awk '/^>>> .*RecordHeader/ && !hdr { hdr = 1; grab = 1; next }
     /^>>> .*ClientHello/ && hdr == 1 { hdr = 2; grab = 1; next }
     /^(>>>|<<<)/ { grab = 0; if (hdr == 2) exit; next }
     grab { for (i = 1; i <= NF; i++) printf "%s", $i }' "$W/s_client.log" | xxd -r -p > "$HELLO" 2>/dev/null || true
HALF_KIND="a complete ClientHello, then nothing (the SCP sends its flight and waits for the client's Finished)"
if [ "$(head -c 1 "$HELLO" 2>/dev/null | od -An -tx1 | tr -d ' ')" != 16 ] ||
   [ "$(stat -c %s "$HELLO")" -lt 100 ]; then
    { printf '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'; head -c 39 /dev/urandom; } > "$HELLO"
    HALF_KIND="the first 50 bytes of a ClientHello (record announces 512), then nothing"
fi
HALF_ANSWERED=1
[[ $HALF_KIND == "a complete"* ]] || HALF_ANSWERED=0
scp_settle stall 10 || true
STALL_LOG_START=$(wc -l < "$W/scp-stall.log")
files 64k 1
STALL_FILE=${FILES[0]}
client_cmd bcp195-nd "$STALL_PORT"
STALL_CMD=("${CMD[@]}")
stall_transfer() {   # ROUND PHASE
    local log=$W/stall-$2.log
    run_client "$log" "${STALL_CMD[@]}" "$STALL_FILE"
    local inproc ok=1
    inproc=$(sed -n 's/^summary: .* bytes in \([0-9.e+-]*\) s.*/\1/p' "$log" | head -n 1)
    if [ "$RC" != 0 ]; then
        ok=0
        note_failure "stall round $1 $2 transfer: exit $RC"
        cp "$log" "$W/failed-stall-$1-$2.log"
    fi
    printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$(awk -v us="$WALL_US" 'BEGIN { printf "%.3f", us / 1000 }')" \
        "$(awk -v s="${inproc:-}" 'BEGIN { if (s == "") print "-"; else printf "%.3f", s * 1000 }')" "$ok" >> "$STALL"
}
STALL_HELD_OK=1
want stall || STALL_RUN=0
for ((round = 1; round <= ${STALL_RUN:-$STALL_ROUNDS}; round++)); do
    stall_transfer "$round" baseline
    FDS=()
    for ((i = 0; i < STALL_SILENT; i++)); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$STALL_PORT"
        FDS+=("$fd")
    done
    HALF_FDS=()
    for ((i = 0; i < STALL_HALF; i++)); do
        exec {fd}<>"/dev/tcp/127.0.0.1/$STALL_PORT"
        FDS+=("$fd") HALF_FDS+=("$fd")
        cat "$HELLO" >&"$fd"
    done
    # Right away, while the SCP is still accepting and answering them.
    stall_transfer "$round" burst
    # Held: every stalled connection has its association process, and each
    # half-handshake one has had the SCP's answer.
    deadline=$(( ${EPOCHREALTIME/[.,]/} + 30000000 ))
    while :; do
        kids "$STALL_PID"
        nk=$(wc -w <<< "$KIDS")
        answered=0
        if [ "$HALF_ANSWERED" = 1 ]; then
            for fd in "${HALF_FDS[@]}"; do
                if read -rt 0 -u "$fd" 2>/dev/null; then answered=$((answered + 1)); fi
            done
        else
            answered=$STALL_HALF
        fi
        [ "$nk" -ge $((STALL_SILENT + STALL_HALF)) ] && [ "$answered" -ge "$STALL_HALF" ] && break
        if [ "${EPOCHREALTIME/[.,]/}" -ge "$deadline" ]; then
            STALL_HELD_OK=0
            say "stall round $round: only $nk association processes, $answered of $STALL_HALF answered after 30 s"
            break
        fi
        read -rt 0.05 -u "$DTP_STDIN_FD" _ || true
    done
    stall_transfer "$round" held
    kids "$STALL_PID"
    nk=$(wc -w <<< "$KIDS")
    [ "$nk" -ge $((STALL_SILENT + STALL_HALF)) ] || STALL_HELD_OK=0
    for fd in "${FDS[@]}"; do exec {fd}>&-; done
    scp_settle stall 30 || say "stall round $round: association processes still alive 30 s after closing"
    say "  round $round: $(awk -v r="$round" '$1 == r { printf "%s %s ms  ", $2, $3 }' "$STALL")"
done
find "${OUTDIR[stall]}" -mindepth 1 -delete
# Those stalled connections were closed by us: the SCP logged them as
# HANDSHAKE_EOF. Nothing else may be in its log.
STALL_OTHER=$(tail -n +$((STALL_LOG_START + 1)) "$W/scp-stall.log" | grep -E 'provider reason' | grep -vcE 'reason 213 HANDSHAKE_EOF' || true)

meta stall_half_kind "$HALF_KIND" stall_held_ok "$STALL_HELD_OK" stall_other "$STALL_OTHER"

# ---------------------------------------------------- 8. fsync per object ---

# dtp-storescp (RATE_PROFILE) receiving into a directory on disk
# (BENCH_FSYNC_DIR, default under $BUILD_DIR: the objects elsewhere live on
# tmpfs, where fsync costs nothing), as it is, and with --no-fsync when it
# has that option; one association of FSYNC_BATCH objects per run, the two
# interleaved (round-robin per repetition). After each run its files are
# moved aside (removed only when the section is done: on a file system
# mounted with `discard`, freeing blocks slowed the next run down), and
# before each run the file system is synced (sync -f), so no run pays for
# another's writeback. Needs about 1.2 GiB there for the full run.
FSYNC=$RAW/fsync.tsv   # size variant rep objects bytes wall_s ok
: > "$FSYNC"
FSYNC_DIR=
if want fsync; then
    FSYNC_DIR=$(mktemp -d "${BENCH_FSYNC_DIR:-$BUILD_DIR}/bench-fsync.XXXXXX")
    meta fsync_dir "$FSYNC_DIR" fsync_fs "$(df -PT "$FSYNC_DIR" | awk 'NR == 2 { print $2 " on " $1 }')"
    FVARIANTS=(fsync)
    mkdir -p "$FSYNC_DIR/fsync" "$FSYNC_DIR/nofsync"
    SCP_OUT=$FSYNC_DIR/fsync start_scp fsync "$RATE_PROFILE"
    if [ "$NOFSYNC" = 1 ]; then
        SCP_OUT=$FSYNC_DIR/nofsync start_scp nofsync "$RATE_PROFILE" --no-fsync
        FVARIANTS+=(nofsync)
    fi
    say "fsync per object: ${FVARIANTS[*]} into $FSYNC_DIR, $FSYNC_REPS repetitions$([ "$NOFSYNC" = 1 ] || echo ' (dtp-storescp has no --no-fsync)')"
    nfv=${#FVARIANTS[@]}
    for ((rep = 1; rep <= FSYNC_REPS; rep++)); do
        for size in "${FSYNC_SIZES[@]}"; do
            for ((j = 0; j < nfv; j++)); do
                v=${FVARIANTS[$(( (j + rep - 1) % nfv ))]}
                n=${FSYNC_BATCH[$size]}
                files "$size" "$n"
                bytes=$(files_bytes)
                client_cmd "$RATE_PROFILE" "${PORT[$v]}"
                sync -f "${OUTDIR[$v]}"
                log=$W/fsync-$size-$v.log
                run_client "$log" "${CMD[@]}" "${FILES[@]}"
                scp_settle "$v" 10 || true
                got=$(find "${OUTDIR[$v]}" -type f ! -name '.*' | wc -l)
                mkdir -p "$FSYNC_DIR/done/$size-$v-$rep"
                find "${OUTDIR[$v]}" -mindepth 1 -maxdepth 1 -exec mv -t "$FSYNC_DIR/done/$size-$v-$rep" {} +
                ok=1
                if [ "$RC" != 0 ] || [ "$got" != "$n" ]; then
                    ok=0
                    note_failure "fsync ${SIZE_LABEL[$size]} $v rep $rep: exit $RC, $got of $n objects stored"
                    cp "$log" "$W/failed-fsync-$size-$v-$rep.log"
                fi
                printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$v" "$rep" "$n" "$bytes" \
                    "$(awk -v us="$WALL_US" 'BEGIN { printf "%.6f", us / 1e6 }')" "$ok" >> "$FSYNC"
                say "  fsync ${SIZE_LABEL[$size]} x$n $v: $(awk -v us="$WALL_US" -v n="$n" 'BEGIN { printf "%.2f", us / 1000 / n }') ms per object (exit $RC)"
            done
        done
    done
    rm -rf "${FSYNC_DIR:?}/done"
fi

# ------------------------------------------------------ 9. audit trail ---

# dtp-storescp (RATE_PROFILE) with no --audit ("none"), with --audit
# file:PATH ("file": the messages are made, spooled and written), with
# --audit tls:// to a closed port ("down") and to a listener that accepts
# and never answers ("silent", python3): the same batch of AUDIT_BATCH
# 512 KiB objects per run, the variants interleaved. The client has no
# --audit: this is the receiver's cost. Afterwards the spools of "down"
# and "silent" must hold every message (Application Start and one
# Instances Transferred per run): nothing sent, nothing lost.
AUDIT=$RAW/audit.tsv   # variant rep objects bytes wall_s xfer_s ok
: > "$AUDIT"
if want audit && "$SCP" --help 2>&1 | grep -q -e '--audit '; then
    AVARIANTS=(none file down)
    closed=$(dtp_free_port)
    start_scp a-none "$RATE_PROFILE"
    start_scp a-file "$RATE_PROFILE" --audit "file:$W/audit-sink.log" --audit-spool "$W/spool-file"
    start_scp a-down "$RATE_PROFILE" --audit "tls://127.0.0.1:$closed" --audit-spool "$W/spool-down"
    if command -v python3 >/dev/null 2>&1; then
        silent=$(dtp_free_port)
        dtp_start silent python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); held = []
while True: held.append(s.accept()[0])' "$silent"
        dtp_wait_port "$silent" 127.0.0.1 10 || dtp_fail "the silent audit listener did not start"
        start_scp a-silent "$RATE_PROFILE" --audit "tls://127.0.0.1:$silent" --audit-spool "$W/spool-silent"
        AVARIANTS+=(silent)
    fi
    say "audit trail: ${AVARIANTS[*]}, $AUDIT_REPS x $AUDIT_BATCH x 512 KiB"
    nav=${#AVARIANTS[@]}
    files 512k "$AUDIT_BATCH"
    bytes=$(files_bytes)
    for ((rep = 1; rep <= AUDIT_REPS; rep++)); do
        for ((j = 0; j < nav; j++)); do
            v=${AVARIANTS[$(( (j + rep - 1) % nav ))]}
            client_cmd "$RATE_PROFILE" "${PORT[a-$v]}"
            log=$W/audit-$v.log
            run_client "$log" "${CMD[@]}" "${FILES[@]}"
            scp_settle "a-$v" 10 || true
            got=$(find "${OUTDIR[a-$v]}" -type f ! -name '.*' | wc -l)
            find "${OUTDIR[a-$v]}" -mindepth 1 -delete
            xfer=$(sed -n 's/^summary: .* bytes in \([0-9.e+-]*\) s.*/\1/p' "$log" | head -n 1)
            ok=1
            if [ "$RC" != 0 ] || [ "$got" != "$AUDIT_BATCH" ] || [ -z "$xfer" ]; then
                ok=0
                note_failure "audit $v rep $rep: exit $RC, $got of $AUDIT_BATCH objects stored"
                cp "$log" "$W/failed-audit-$v-$rep.log"
            fi
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$v" "$rep" "$AUDIT_BATCH" "$bytes" \
                "$(awk -v us="$WALL_US" 'BEGIN { printf "%.6f", us / 1e6 }')" "${xfer:--}" "$ok" >> "$AUDIT"
            say "  audit $v: $(awk -v us="$WALL_US" 'BEGIN { printf "%.1f", us / 1000 }') ms (exit $RC)"
        done
    done
    # Nothing sent, nothing lost: Application Start + one message per run.
    for v in down silent; do
        [ -d "$W/spool-$v" ] || continue
        meta "audit_spooled.$v" "$(find "$W/spool-$v" -type f -name '*.msg' | wc -l)"
    done
    meta audit_expected $((1 + AUDIT_REPS))
    # The file sink's sender drains its spool on its own time: wait for it
    # (bounded) before counting what it wrote.
    for ((i = 0; i < 100; i++)); do
        [ "$(wc -l < "$W/audit-sink.log" 2>/dev/null || echo 0)" -ge $((1 + AUDIT_REPS)) ] && break
        read -rt 0.1 -u "$DTP_STDIN_FD" _ || true
    done
    meta audit_file_lines "$(wc -l < "$W/audit-sink.log" 2>/dev/null || echo 0)"
elif want audit; then
    meta audit_note "dtp-storescp has no --audit"
fi

dtp_stop_all
[ -z "$FSYNC_DIR" ] || rm -rf "$FSYNC_DIR"
T_END=${EPOCHREALTIME/[.,]/}
say "measurements done in $(( (T_END - T_START) / 1000000 )) s; raw data in $RAW"

# --------------------------------------------------- machine and build ---

meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
meta elapsed_s $(( (T_END - T_START) / 1000000 ))
meta load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
meta cpu_model "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)"
meta nproc "$(nproc)"
meta aesni "$(grep -qw aes /proc/cpuinfo 2>/dev/null && echo yes || echo no)"
meta ram "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
meta kernel "$(uname -sr)"
meta os "$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown}" || echo unknown)"
meta openssl_cli "$(openssl version 2>/dev/null || echo unknown)"
# pkgver PACKAGE...: the version of the first one dpkg knows
pkgver() {
    local p
    for p in "$@"; do dpkg-query -W -f '${Version}\n' "$p" 2>/dev/null | grep . && return 0; done
    return 0
}
meta libssl_pkg "$(pkgver libssl3 'libssl3:amd64')"
meta gnutls_pkg "$(pkgver libgnutls30 'libgnutls30:amd64')"
meta dcmtk_pkg "$(pkgver dcmtk)"
meta dcmtk_lib "$(dpkg-query -W -f '${Package} ${Version}\n' 'libdcmtk1*' 2>/dev/null | awk '$2 != "" { print; exit }' || true)"
STOCK_VER=
if [ "$STOCK" = 1 ]; then
    STOCK_VER=$("$STOCK_SCU" --version 2>/dev/null | sed -n 's/^\$dcmtk: \(.*\) \$$/\1/p' | head -n 1 || true)
fi
meta stock_ver "$STOCK_VER"
cache_get() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD_DIR/CMakeCache.txt" 2>/dev/null | head -n 1; }
CC_PATH=$(cache_get CMAKE_C_COMPILER)
CXX_PATH=$(cache_get CMAKE_CXX_COMPILER)
meta build_type "$(cache_get CMAKE_BUILD_TYPE)"
meta sanitize "$(cache_get DTP_SANITIZE)"
meta cc_ver "$([ -n "$CC_PATH" ] && "$CC_PATH" --version 2>/dev/null | head -n 1 || echo unknown)"
meta cxx_ver "$([ -n "$CXX_PATH" ] && "$CXX_PATH" --version 2>/dev/null | head -n 1 || echo unknown)"
GIT_REV=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ "$GIT_REV" != unknown ] &&
   [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no -- . ':!docs/performance.md' 2>/dev/null)" ]; then
    GIT_REV="$GIT_REV (with uncommitted changes)"
fi
meta git_rev "$GIT_REV"
meta git_subject "$(git -C "$ROOT" log -1 --format=%s 2>/dev/null || true)"
# The figures are for the binaries: when they were built and whether the
# library or app sources changed after that.
meta bin_time "$(date -u -r "$SCU" '+%Y-%m-%d %H:%M UTC')"
STALE=$(find "$ROOT/apps" "$ROOT/dcmtls-profiles" -type f -newer "$SCU" 2>/dev/null | head -n 3 |
        sed "s|^$ROOT/||" | tr '\n' ' ')
meta stale "${STALE% }"

# ------------------------------------------------------------ the report --

mkdir -p "$(dirname "$BENCH_OUT")"
if ! bash "$HERE/report.sh" "$RAW" > "$BENCH_OUT.tmp.$$"; then
    rm -f "$BENCH_OUT.tmp.$$"
    echo "run.sh: bench/report.sh $RAW failed" >&2
    exit 1
fi
mv "$BENCH_OUT.tmp.$$" "$BENCH_OUT"
say "report: $BENCH_OUT ($(( (${EPOCHREALTIME/[.,]/} - T_START) / 1000000 )) s in all)"
if [ "$FAILURES" -gt 0 ]; then
    say "$FAILURES run(s) failed; see the report and the logs in $W"
    exit 1
fi
