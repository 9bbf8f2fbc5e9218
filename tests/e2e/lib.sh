# shellcheck shell=bash
# lib.sh -- helpers for the end-to-end CTest scripts.  Source it:
#
#     . "$(dirname "$0")/lib.sh"
#     dtp_init my-test
#     dtp_need_cmd storescp storescu
#     port=$(dtp_free_port)
#     dtp_start scp storescp ... "$port"
#     dtp_wait_port "$port" || dtp_fail "storescp did not start"
#     dtp_expect_exit 0 storescu ... 127.0.0.1 "$port" f.dcm
#
# Exit codes: 0 pass, 1 fail, 77 skip (set SKIP_RETURN_CODE 77 in CTest).
# Works under `set -euo pipefail`; predicates (dtp_same_dataset,
# dtp_wait_port) return non-zero, assertions (dtp_expect_*, dtp_same_tree)
# call dtp_fail.  dtp_fail/dtp_skip exit the current shell, so call them from
# the test's main shell, not inside $(...).
#
# $DTP_WORK/.dtp holds the library's own files (stdin FIFO, ports handed
# out): give receivers a subdirectory of $DTP_WORK, not $DTP_WORK itself.
#
# Environment: DTP_TEST_TMP (parent of work dirs, default /tmp),
# DTP_CMD_TIMEOUT (dtp_expect_exit limit, default 60 s).

DTP_PIDS=()         # background processes started by dtp_start
DTP_PID_NAMES=()    # their NAME, for messages
DTP_PID_GROUP=()    # 1 if the process leads its own process group

# ---------------------------------------------------------------- outcome --

dtp_fail() {
    local log
    {
        echo "FAIL: $*"
        if [ -n "${DTP_WORK:-}" ] && [ -d "$DTP_WORK" ]; then
            while IFS= read -r log; do
                echo "----- ${log#"$DTP_WORK"/} (last 30 lines) -----"
                tail -n 30 "$log"
            done < <(find "$DTP_WORK" -name '*.log' -type f 2>/dev/null | sort)
        fi
    } >&2
    exit 1
}

dtp_skip() {
    echo "SKIP: $*"
    exit 77
}

dtp_need_cmd() {
    local c missing=()
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || missing+=("$c")
    done
    [ ${#missing[@]} -eq 0 ] || dtp_skip "missing command(s): ${missing[*]}"
}

# ----------------------------------------------------------- work dir ------

# Runs at every exit of the test script: stop what we started, then keep the
# work dir for post-mortem on failure and drop it otherwise.
_dtp_on_exit() {
    local rc=$?
    # A forked child (e.g. a dtp_start job signalled before it exec'd) can
    # still run the inherited trap: only the shell that ran dtp_init cleans up.
    [ "$BASHPID" = "${DTP_OWNER_PID:-}" ] || exit "$rc"
    set +e
    dtp_stop_all
    # (No other redirection on this exec: it would stay for the rest of the trap.)
    [ -z "${DTP_STDIN_FD:-}" ] || exec {DTP_STDIN_FD}>&-
    if [ -n "${DTP_WORK:-}" ] && [ -d "$DTP_WORK" ]; then
        if [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]; then
            rm -rf "$DTP_WORK"
        else
            echo "(work dir kept: $DTP_WORK)" >&2
        fi
    fi
    exit "$rc"
}

dtp_init() {
    local name=${1:?dtp_init TESTNAME}
    local parent=${DTP_TEST_TMP:-/tmp}
    mkdir -p "$parent"
    DTP_WORK=$(mktemp -d "$parent/dtp-${name//[^A-Za-z0-9_.-]/_}.XXXXXX")
    export DTP_WORK
    DTP_OWNER_PID=$BASHPID
    trap _dtp_on_exit EXIT
    # Turn Ctrl-C / kill into a normal exit so the EXIT trap cleans up.
    trap 'exit 130' INT
    trap 'exit 143' TERM
    # Background servers get a stdin that never delivers data and never hits
    # EOF (a FIFO we hold open read-write): `openssl s_server` drops its
    # connection and quits as soon as it reads EOF on stdin.
    mkdir "$DTP_WORK/.dtp"
    mkfifo "$DTP_WORK/.dtp/stdin"
    exec {DTP_STDIN_FD}<>"$DTP_WORK/.dtp/stdin"
}

# ------------------------------------------------------------ processes ----

# dtp_start NAME CMD...: run CMD in the background, output to $DTP_WORK/NAME.log.
# An external command gets its own process group (setsid), so that stopping
# it also stops anything it forked (e.g. storescp --fork children).
dtp_start() {
    local name=${1:?dtp_start NAME CMD...}; shift
    [ $# -gt 0 ] || dtp_fail "dtp_start $name: no command"
    [ -n "${DTP_STDIN_FD:-}" ] || dtp_fail "dtp_start: call dtp_init first"
    local group=0
    if [[ $- == *m* ]]; then
        # Job control is on: bash already makes each job a process group
        # (and setsid would fork, hiding the real PID from us).
        "$@" <&"$DTP_STDIN_FD" >"$DTP_WORK/$name.log" 2>&1 &
        group=1
    elif [ "$(type -t "$1")" = file ] && command -v setsid >/dev/null 2>&1; then
        # Our background child is not a group leader, so setsid execs in
        # place and $! is the command itself.
        setsid "$@" <&"$DTP_STDIN_FD" >"$DTP_WORK/$name.log" 2>&1 &
        group=1
    else
        "$@" <&"$DTP_STDIN_FD" >"$DTP_WORK/$name.log" 2>&1 &
    fi
    DTP_PIDS+=("$!")
    DTP_PID_NAMES+=("$name")
    DTP_PID_GROUP+=("$group")
}

# _dtp_signal SIG INDEX: signal one recorded process (its group if it has one).
_dtp_signal() {
    local sig=$1 i=$2 pid=${DTP_PIDS[$2]}
    if [ "${DTP_PID_GROUP[$i]}" = 1 ]; then
        # Right after dtp_start the child may not have called setsid yet, so
        # there is no group: signal the process itself then.
        kill "-$sig" -- "-$pid" 2>/dev/null ||
            { _dtp_alive "$pid" && kill "-$sig" "$pid" 2>/dev/null; }
    else
        kill "-$sig" "$pid" 2>/dev/null
    fi
}

# _dtp_alive PID: running (a zombie does not count: bash may not have reaped
# an exited child yet, and kill -0 still succeeds on it).
_dtp_alive() {
    local stat
    kill -0 "$1" 2>/dev/null || return 1
    if read -r stat < "/proc/$1/stat" 2>/dev/null; then
        stat=${stat##*) }      # after "PID (COMM) " comes the state letter
        [ "${stat%% *}" != Z ]
    fi
}

# dtp_stop_all: TERM everything we started, give it 3 s, then KILL; reap.
dtp_stop_all() {
    local i alive deadline
    [ ${#DTP_PIDS[@]} -gt 0 ] || return 0
    for i in "${!DTP_PIDS[@]}"; do
        _dtp_signal TERM "$i" || true
    done
    deadline=$((SECONDS + 3))
    while :; do
        alive=0
        for i in "${!DTP_PIDS[@]}"; do
            _dtp_alive "${DTP_PIDS[$i]}" && alive=1
        done
        [ "$alive" = 1 ] && [ "$SECONDS" -lt "$deadline" ] || break
        sleep 0.1
    done
    for i in "${!DTP_PIDS[@]}"; do
        # The group too: a forked child may outlive its parent.
        _dtp_signal KILL "$i" || true
        # Quietly: bash may already have reaped it and then complains.
        { wait "${DTP_PIDS[$i]}" || true; } 2>/dev/null
    done
    DTP_PIDS=() DTP_PID_NAMES=() DTP_PID_GROUP=()
}

# ----------------------------------------------------------------- ports ---

# _dtp_port_busy PORT: true if some local TCP socket (any state, IPv4 or
# IPv6) uses PORT.  Reads /proc/net/tcp*, so nobody's server gets a stray
# connection; falls back to a connect probe where /proc is not available.
_dtp_port_busy() {
    local port=$1 hex
    if [ -r /proc/net/tcp ]; then
        printf -v hex ':%04X ' "$port"
        # Field 2 is local_address, "ADDR:PORT" in hex.
        cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
            awk -v p="$hex" 'NR > 1 && index($2 " ", p) { found = 1 } END { exit !found }'
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
    fi
}

# dtp_free_port: print a TCP port on 127.0.0.1 that nothing uses now.
# Ports come from 20000-60000, but below the kernel's ephemeral range when
# that leaves room, so an outgoing connection cannot take ours before the
# server binds it.  Ports already handed out in this test are never reused
# (remembered in a file, since callers use $(dtp_free_port), a subshell), so
# two servers started one after the other cannot get the same port.
dtp_free_port() {
    local lo=20000 hi=60000 eph_lo span p tries
    local given=${DTP_WORK:+$DTP_WORK/.dtp/ports}
    if read -r eph_lo _ < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null &&
       [ "$eph_lo" -gt $((lo + 1000)) ]; then
        hi=$((eph_lo - 1))
    fi
    span=$((hi - lo + 1))
    for ((tries = 0; tries < 200; tries++)); do
        p=$((lo + (RANDOM * 32768 + RANDOM) % span))
        if [ -n "$given" ] && grep -qx "$p" "$given" 2>/dev/null; then
            continue
        fi
        _dtp_port_busy "$p" && continue
        [ -z "$given" ] || echo "$p" >> "$given"
        echo "$p"
        return 0
    done
    echo "dtp_free_port: no free port found" >&2
    return 1
}

# dtp_wait_grep PATTERN FILE [TIMEOUT_S] [COUNT]: wait (bounded, default 5 s)
# until FILE has at least COUNT (default 1) lines matching the ERE PATTERN,
# e.g. an SCP's association process logging after the client has exited;
# 1 on timeout.
dtp_wait_grep() {
    local pat=${1:?dtp_wait_grep PATTERN FILE [TIMEOUT_S] [COUNT]} file=${2:?dtp_wait_grep PATTERN FILE}
    local limit=${3:-5} want=${4:-1} i
    for ((i = 0; i < limit * 10; i++)); do
        [ "$(grep -Ec -- "$pat" "$file" 2>/dev/null || true)" -ge "$want" ] && return 0
        sleep 0.1
    done
    return 1
}

# dtp_wait_line PATTERN FILE [AFTER] [TIMEOUT_S]: wait (bounded, default 5 s)
# for a line of FILE after line AFTER (default 0) that matches the ERE
# PATTERN, and print the first one; 1, printing nothing, on timeout.
dtp_wait_line() {
    local pat=${1:?dtp_wait_line PATTERN FILE [AFTER] [TIMEOUT_S]} file=${2:?dtp_wait_line PATTERN FILE}
    local after=${3:-0} limit=${4:-5} i line
    for ((i = 0; i < limit * 20; i++)); do
        line=$(tail -n +"$((after + 1))" "$file" 2>/dev/null | grep -Em1 -- "$pat" || true)
        if [ -n "$line" ]; then
            printf '%s\n' "$line"
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# dtp_wait_port PORT [HOST] [TIMEOUT_S]: wait until a TCP socket listens on
# HOST:PORT (bound to HOST itself or to the wildcard address); 1 on timeout.
# Looks at the listening sockets with `ss` instead of connecting, so a TLS
# server does not log a probe connection as a failed handshake; falls back
# to a connect probe where `ss` is not available.
dtp_wait_port() {
    local port=${1:?dtp_wait_port PORT [HOST] [TIMEOUT_S]} host=${2:-127.0.0.1} limit=${3:-10}
    local tries=$((limit * 10)) i use_ss=0
    command -v ss >/dev/null 2>&1 && use_ss=1
    for ((i = 0; i < tries; i++)); do
        if [ "$use_ss" = 1 ]; then
            # Field 4 is "Local Address:Port", e.g. 127.0.0.2:PORT,
            # 0.0.0.0:PORT, *:PORT, [::]:PORT or [::ffff:127.0.0.1]:PORT.
            if ss -Hltn "sport = :$port" 2>/dev/null |
                awk -v h="$host" -v p=":$port" '
                    { a = $4
                      if (substr(a, length(a) - length(p) + 1) != p) next
                      a = substr(a, 1, length(a) - length(p))
                      if (a == h || a == "[" h "]" || a == "[::ffff:" h "]" ||
                          a == "0.0.0.0" || a == "*" || a == "[::]") found = 1 }
                    END { exit !found }'; then
                return 0
            fi
        elif (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "dtp_wait_port: nothing listening on $host:$port within ${limit} s" >&2
    return 1
}

# ------------------------------------------------------------ assertions ---

# dtp_expect_exit CODE CMD...: run CMD (no stdin, time limit), output in
# $DTP_WORK/last.out; fail unless it exits with CODE.  CODE '!0' accepts any
# failure except a timeout.
dtp_expect_exit() {
    local want=${1:?dtp_expect_exit CODE CMD...}; shift
    local limit=${DTP_CMD_TIMEOUT:-60} rc=0 ok=0
    timeout -k 5 "$limit" "$@" </dev/null >"$DTP_WORK/last.out" 2>&1 || rc=$?
    if [ "$want" = '!0' ]; then
        [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] && ok=1
    else
        [ "$rc" -eq "$want" ] && ok=1
    fi
    if [ "$ok" != 1 ]; then
        local why="exit code $rc"
        if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
            why="timed out after $limit s (code $rc)"
        fi
        dtp_fail "expected exit $want, got $why: $*
----- output (last 40 lines) -----
$(tail -n 40 "$DTP_WORK/last.out")"
    fi
}

# dtp_expect_grep PATTERN FILE: fail unless grep -E finds PATTERN in FILE.
dtp_expect_grep() {
    local pat=${1:?dtp_expect_grep PATTERN FILE} file=${2:?dtp_expect_grep PATTERN FILE}
    [ -f "$file" ] || dtp_fail "expected /$pat/ in $file, but the file does not exist"
    grep -Eq -- "$pat" "$file" || dtp_fail "expected /$pat/ in $file
----- $file (last 40 lines) -----
$(tail -n 40 "$file")"
}

# dtp_fixture_objects: the 7 DICOM objects of the fixture ($DTP_DATA small,
# medium, tree) into the array SENT, sorted; fails if there are not 7.
dtp_fixture_objects() {
    mapfile -t SENT < <(find "$DTP_DATA/small" "$DTP_DATA/medium" "$DTP_DATA/tree" -name '*.dcm' -type f | sort)
    [ ${#SENT[@]} -eq 7 ] || dtp_fail "expected 7 fixture objects in $DTP_DATA, found ${#SENT[@]}"
}

# ----------------------------------------------------------- expectations --

# dtp_expect_session PROFILE KEYTYPE: what a dtp-storescu -> dtp-storescp
# association of PROFILE negotiates with KEYTYPE (rsa|ec) certificates on
# both sides, as patterns of dtp_session_format's line: VERSION, SUITE and
# EXTRA (what follows peer=...). 1 for an unknown profile or key type.
# shellcheck disable=SC2034 # VERSION, SUITE and EXTRA are read by the caller
dtp_expect_session() {
    local kx12
    case $2 in
        rsa) kx12='(ECDHE|DHE)_RSA' ;;
        ec)  kx12='ECDHE_ECDSA' ;;
        *) return 1 ;;
    esac
    EXTRA=
    case $1 in
        bcp195-ex)               # E4: TLS 1.2 only
            VERSION=TLSv1.2
            SUITE="TLS_${kx12}_WITH_AES_(128_GCM_SHA256|256_GCM_SHA384)" ;;
        cryptrec)                # K5: AES-GCM only, no ChaCha20
            VERSION=TLSv1.3
            SUITE='TLS_AES_(128_GCM_SHA256|256_GCM_SHA384)' ;;
        bcp195 | bcp195-nd)      # B1, N3: strongest level first
            VERSION=TLSv1.3
            SUITE='TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)' ;;
        bcp195-8996 | bcp195-8996-mod)
            # R6/M35: TLS 1.3; R25/M21: the server prefers AES-256.
            VERSION=TLSv1.3
            SUITE='TLS_AES_256_GCM_SHA384'
            EXTRA=' alpn=dicom' ;;   # R39: both sides agree on "dicom"
        *) return 1 ;;
    esac
}

# ------------------------------------------------------------ DICOM files --

# _dtp_dataset_offset FILE: print where the dataset starts in a Part 10 file.
# Layout: 128-byte preamble, "DICM", then (0002,0000) UL explicit VR, i.e.
# bytes 132-139 = 02 00 00 00 'U' 'L' 04 00, value at 140, little endian.
_dtp_dataset_offset() {
    local b=()
    read -r -a b < <(od -An -v -tu1 -j128 -N16 -- "$1" 2>/dev/null) || true
    if [ ${#b[@]} -ne 16 ] ||
       [ "${b[*]:0:12}" != "68 73 67 77 2 0 0 0 85 76 4 0" ]; then
        echo "dtp: $1: not a DICOM Part 10 file with a (0002,0000) group length" >&2
        return 1
    fi
    echo $((144 + b[12] + (b[13] << 8) + (b[14] << 16) + (b[15] << 24)))
}

# dtp_same_dataset A B: true if both Part 10 files carry byte-identical
# datasets; the file meta group may differ (a receiver writes its own).
dtp_same_dataset() {
    local a b
    a=$(_dtp_dataset_offset "$1") || return 1
    b=$(_dtp_dataset_offset "$2") || return 1
    cmp -s -i "$a:$b" -- "$1" "$2"
}

# _dtp_sop_uids FILE...: print "UID<TAB>FILE" for each readable DICOM file
# (one dcmdump run for many files; unreadable files are just left out).
_dtp_sop_uids() {
    [ $# -gt 0 ] || return 0
    printf '%s\0' "$@" | xargs -0 dcmdump -s -Un +F +P 0008,0018 2>/dev/null |
        awk '/^# dcmdump \([0-9]+\/[0-9]+\): / { sub(/^# dcmdump \([0-9]+\/[0-9]+\): /, ""); f = $0; next }
             /^\(0008,0018\) UI \[/ && f != "" {
                 uid = $0; sub(/^[^[]*\[/, "", uid); sub(/\].*$/, "", uid)
                 print uid "\t" f; f = "" }' || true
}

# dtp_same_tree SRC_FILES... -- DIR: every source object must be stored in DIR
# (matched by SOP Instance UID, anywhere below DIR) with an identical dataset,
# and DIR must hold no leftover temporary files (*.part, dot-files).  Extra
# objects in DIR are allowed; if a UID is stored twice, the first path in
# sort order is compared.
dtp_same_tree() {
    local srcs=() dir f uid problems=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do srcs+=("$1"); shift; done
    [ "${1:-}" = -- ] && [ $# -eq 2 ] || dtp_fail "usage: dtp_same_tree SRC_FILES... -- DIR"
    dir=$2
    [ -d "$dir" ] || dtp_fail "dtp_same_tree: $dir is not a directory"
    [ ${#srcs[@]} -gt 0 ] || dtp_fail "dtp_same_tree: no source files given"

    local -A stored=()
    local stored_files=()
    while IFS= read -r -d '' f; do stored_files+=("$f"); done \
        < <(find "$dir" -type f ! -name '*.part' ! -name '.*' -print0 | sort -z)
    while IFS=$'\t' read -r uid f; do
        [ -n "${stored[$uid]:-}" ] || stored[$uid]=$f
    done < <(_dtp_sop_uids "${stored_files[@]}")

    local -A src_uid=()
    while IFS=$'\t' read -r uid f; do src_uid[$f]=$uid; done < <(_dtp_sop_uids "${srcs[@]}")

    for f in "${srcs[@]}"; do
        uid=${src_uid[$f]:-}
        if [ -z "$uid" ]; then
            problems+=("unreadable source (no SOP Instance UID): $f")
        elif [ -z "${stored[$uid]:-}" ]; then
            problems+=("missing in $dir: $f (SOP Instance UID $uid)")
        elif ! dtp_same_dataset "$f" "${stored[$uid]}"; then
            problems+=("different dataset: $f vs ${stored[$uid]}")
        fi
    done
    while IFS= read -r -d '' f; do
        problems+=("leftover temporary file: $f")
    done < <(find "$dir" -mindepth 1 \( -name '*.part' -o -name '.*' \) -print0)

    if [ ${#problems[@]} -gt 0 ]; then
        dtp_fail "dtp_same_tree: ${#problems[@]} problem(s) with $dir:
$(printf '  %s\n' "${problems[@]}")"
    fi
}
