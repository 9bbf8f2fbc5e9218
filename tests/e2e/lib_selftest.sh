#!/bin/bash
# lib_selftest.sh -- checks lib.sh itself, with DCMTK's storescp/storescu as
# the peers and objects from tests/fixtures/make_dicom.sh.  Every assertion is
# tried both ways: it must pass on good input and fail on bad input.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

dtp_init lib-selftest
dtp_need_cmd dump2dcm dcmodify dcmdump storescp storescu timeout setsid

step() { echo "-- [${SECONDS}s] $*"; }

# must_fail CODE CMD...: CMD (a lib function, run in a subshell so that its
# exit does not end this script) must exit with CODE.  Output in $DTP_WORK/neg.out.
must_fail() {
    local want=$1 rc=0; shift
    ( "$@" ) >"$DTP_WORK/neg.out" 2>&1 || rc=$?
    [ "$rc" -eq "$want" ] ||
        dtp_fail "expected '$*' to exit $want, got $rc: $(cat "$DTP_WORK/neg.out")"
}

step "fixtures"
"$HERE/../fixtures/make_dicom.sh" "$DTP_WORK/data" >/dev/null
DATA=$DTP_WORK/data
mapfile -t TREE < <(find "$DATA/tree" -name '*.dcm' | sort)
[ ${#TREE[@]} -eq 3 ] || dtp_fail "expected 3 tree files, got ${#TREE[@]}"

step "dtp_need_cmd / dtp_skip"
must_fail 77 dtp_need_cmd ls no-such-command-dtp
dtp_expect_grep '^SKIP: missing command\(s\): no-such-command-dtp$' "$DTP_WORK/neg.out"
dtp_need_cmd ls cat

step "dtp_free_port"
p1=$(dtp_free_port)
p2=$(dtp_free_port)
[[ $p1 =~ ^[0-9]+$ ]] && [ "$p1" -ge 20000 ] && [ "$p1" -le 60000 ] ||
    dtp_fail "bad port '$p1'"
[ "$p1" != "$p2" ] || dtp_fail "dtp_free_port gave $p1 twice"
if (exec 3<>"/dev/tcp/127.0.0.1/$p1") 2>/dev/null; then
    dtp_fail "port $p1 is in use"
fi

step "dtp_wait_port times out on a closed port"
t0=$SECONDS
if dtp_wait_port "$p2" 127.0.0.1 1 2>/dev/null; then
    dtp_fail "dtp_wait_port succeeded on closed port $p2"
fi
[ $((SECONDS - t0)) -le 3 ] || dtp_fail "dtp_wait_port 1 s took $((SECONDS - t0)) s"

step "dtp_wait_grep: counts matching lines, waits for late ones, times out"
printf 'a ended\nb\na ended\n' > "$DTP_WORK/log.txt"
dtp_wait_grep 'ended$' "$DTP_WORK/log.txt" 1 2 || dtp_fail "dtp_wait_grep missed 2 matching lines"
t0=$SECONDS
if dtp_wait_grep 'ended$' "$DTP_WORK/log.txt" 1 3; then
    dtp_fail "dtp_wait_grep found 3 matching lines where there are 2"
fi
[ $((SECONDS - t0)) -le 3 ] || dtp_fail "dtp_wait_grep 1 s took $((SECONDS - t0)) s"
(sleep 0.3; echo 'c ended' >> "$DTP_WORK/log.txt") &
dtp_wait_grep 'ended$' "$DTP_WORK/log.txt" 5 3 || dtp_fail "dtp_wait_grep missed a line written later"
wait
if dtp_wait_grep 'x' "$DTP_WORK/no-such-file" 1; then
    dtp_fail "dtp_wait_grep matched in a missing file"
fi

step "dtp_wait_line: first match after a line, waits for late ones, times out"
printf 'x ended 1\ny\nx ended 2\n' > "$DTP_WORK/log2.txt"
[ "$(dtp_wait_line 'ended' "$DTP_WORK/log2.txt" 0 1)" = "x ended 1" ] || dtp_fail "dtp_wait_line missed the first match"
[ "$(dtp_wait_line 'ended' "$DTP_WORK/log2.txt" 1 1)" = "x ended 2" ] || dtp_fail "dtp_wait_line did not skip line 1"
t0=$SECONDS
if dtp_wait_line 'ended' "$DTP_WORK/log2.txt" 3 1 >/dev/null; then
    dtp_fail "dtp_wait_line found a match after the last line"
fi
[ $((SECONDS - t0)) -le 3 ] || dtp_fail "dtp_wait_line 1 s took $((SECONDS - t0)) s"
(sleep 0.3; echo 'z ended 3' >> "$DTP_WORK/log2.txt") &
[ "$(dtp_wait_line 'ended' "$DTP_WORK/log2.txt" 3 5)" = "z ended 3" ] || dtp_fail "dtp_wait_line missed a line written later"
wait

step "storescp/storescu round trip + dtp_same_tree"
mkdir "$DTP_WORK/store"
export TCP_NODELAY=1
dtp_start scp storescp --output-directory "$DTP_WORK/store" "$p1"
dtp_wait_port "$p1" || dtp_fail "storescp did not listen on $p1"
dtp_expect_exit 0 storescu --scan-directories --recurse 127.0.0.1 "$p1" "$DATA/tree"
dtp_expect_exit 0 storescu 127.0.0.1 "$p1" "$DATA/small/small-2.dcm"
dtp_same_tree "${TREE[@]}" "$DATA/small/small-2.dcm" -- "$DTP_WORK/store"

step "dtp_same_tree: missing object, leftover files"
must_fail 1 dtp_same_tree "${TREE[@]}" "$DATA/small/small-3.dcm" -- "$DTP_WORK/store"
dtp_expect_grep 'missing in .*small-3\.dcm' "$DTP_WORK/neg.out"
touch "$DTP_WORK/store/obj.part"
must_fail 1 dtp_same_tree "${TREE[@]}" -- "$DTP_WORK/store"
dtp_expect_grep 'leftover temporary file: .*/obj\.part' "$DTP_WORK/neg.out"
rm "$DTP_WORK/store/obj.part"
touch "$DTP_WORK/store/.incoming"
must_fail 1 dtp_same_tree "${TREE[@]}" -- "$DTP_WORK/store"
dtp_expect_grep 'leftover temporary file: .*/\.incoming' "$DTP_WORK/neg.out"
rm "$DTP_WORK/store/.incoming"
dtp_same_tree "${TREE[@]}" -- "$DTP_WORK/store"

step "dtp_same_dataset"
src=$DATA/small/small-2.dcm
# storescp wrote its own, longer meta header (it adds the source AE title):
# the datasets must still compare equal, at different offsets.
uid=$(dcmdump -s +P 0008,0018 "$src" | sed 's/.*\[\(.*\)\].*/\1/')
stored=$DTP_WORK/store/SC.$uid
[ -f "$stored" ] || dtp_fail "storescp did not store $stored"
cmp -s "$src" "$stored" && dtp_fail "stored file has the same meta header"
[ "$(_dtp_dataset_offset "$src")" != "$(_dtp_dataset_offset "$stored")" ] ||
    dtp_fail "meta headers have the same length; the offset logic is not exercised"
dtp_same_dataset "$src" "$stored" || dtp_fail "same dataset, new meta: reported different"
dtp_same_dataset "$src" "$src" || dtp_fail "a file differs from itself"
# One flipped pixel byte near the end: must differ.
cp "$src" "$DTP_WORK/pixel.dcm"
size=$(stat -c %s "$src")
printf '\x00\xff' | dd of="$DTP_WORK/pixel.dcm" bs=1 seek=$((size - 100)) conv=notrunc status=none
if dtp_same_dataset "$src" "$DTP_WORK/pixel.dcm"; then
    # The two bytes might have been 00 ff already; try the inverse pattern.
    printf '\xff\x00' | dd of="$DTP_WORK/pixel.dcm" bs=1 seek=$((size - 100)) conv=notrunc status=none
    dtp_same_dataset "$src" "$DTP_WORK/pixel.dcm" && dtp_fail "modified pixels not detected"
fi
# A changed attribute: must differ.
cp "$src" "$DTP_WORK/attr.dcm"
dcmodify -nb -m "(0010,0010)=Other^Name" "$DTP_WORK/attr.dcm" >/dev/null
dtp_same_dataset "$src" "$DTP_WORK/attr.dcm" && dtp_fail "modified attribute not detected"
# Truncated copy and a non-DICOM file: must differ, not crash.
head -c 1000 "$src" > "$DTP_WORK/short.dcm"
dtp_same_dataset "$src" "$DTP_WORK/short.dcm" && dtp_fail "truncated file not detected"
echo "not dicom" > "$DTP_WORK/text.dcm"
dtp_same_dataset "$src" "$DTP_WORK/text.dcm" 2>/dev/null && dtp_fail "text file compared equal"
# ...and dtp_same_tree reports a stored object whose dataset changed.
mkdir "$DTP_WORK/store2"
cp "$DTP_WORK/pixel.dcm" "$DTP_WORK/store2/changed.dcm"
must_fail 1 dtp_same_tree "$src" -- "$DTP_WORK/store2"
dtp_expect_grep 'different dataset: .*small-2\.dcm' "$DTP_WORK/neg.out"

step "dtp_expect_exit / dtp_expect_grep"
dtp_expect_exit 0 sh -c 'echo hello-out; echo hello-err >&2'
dtp_expect_grep '^hello-out$' "$DTP_WORK/last.out"
dtp_expect_grep '^hello-err$' "$DTP_WORK/last.out"
dtp_expect_exit 3 sh -c 'exit 3'
dtp_expect_exit '!0' false
must_fail 1 dtp_expect_exit 0 sh -c 'echo some-output; exit 5'
dtp_expect_grep 'expected exit 0, got exit code 5' "$DTP_WORK/neg.out"
dtp_expect_grep 'some-output' "$DTP_WORK/neg.out"
must_fail 1 dtp_expect_grep 'no-such-text' "$DTP_WORK/last.out"
must_fail 1 dtp_expect_grep 'x' "$DTP_WORK/does-not-exist"
must_fail 1 env DTP_CMD_TIMEOUT=1 bash -c ". '$HERE/lib.sh'; DTP_WORK='$DTP_WORK'; dtp_expect_exit 0 sleep 10"
dtp_expect_grep 'timed out after 1 s' "$DTP_WORK/neg.out"
# dtp_fail shows the tail of the server logs.
must_fail 1 dtp_fail "demo failure"
dtp_expect_grep '^FAIL: demo failure$' "$DTP_WORK/neg.out"
dtp_expect_grep '^----- scp\.log' "$DTP_WORK/neg.out"

step "openssl s_server keeps serving under dtp_start (stdin never at EOF)"
if command -v openssl >/dev/null; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
        -subj /CN=localhost -keyout "$DTP_WORK/k.pem" -out "$DTP_WORK/c.pem" 2>/dev/null
    p3=$(dtp_free_port)
    dtp_start tls openssl s_server -accept "127.0.0.1:$p3" -cert "$DTP_WORK/c.pem" -key "$DTP_WORK/k.pem"
    dtp_wait_port "$p3" || dtp_fail "s_server did not listen"
    dtp_expect_exit 0 openssl s_client -connect "127.0.0.1:$p3" -CAfile "$DTP_WORK/c.pem"
    dtp_expect_grep 'Verify return code: 0' "$DTP_WORK/last.out"
    dtp_expect_grep 'New, TLSv1\.3, Cipher is' "$DTP_WORK/last.out"
fi

step "dtp_stop_all: TERM, then KILL for a process that ignores TERM, forked children too"
dtp_start stubborn bash -c 'trap "" TERM; sleep 300 & wait; sleep 300'
dtp_start polite sleep 300
sleep 0.3    # let bash install its trap and fork
pids=("${DTP_PIDS[@]}")
kids=$(pgrep -g "${DTP_PIDS[-2]}" | tr '\n' ' ')
t0=$SECONDS
dtp_stop_all
took=$((SECONDS - t0))
sleep 0.2    # orphaned children are reaped by init, not by us
for pid in "${pids[@]}" $kids; do
    _dtp_alive "$pid" && dtp_fail "pid $pid survived dtp_stop_all: $(ps -o pid,stat,cmd -p "$pid")"
done
[ "$took" -le 5 ] || dtp_fail "dtp_stop_all took $took s"
[ ${#DTP_PIDS[@]} -eq 0 ] || dtp_fail "DTP_PIDS not cleared"

step "dtp_init: work dir removed on success, kept on failure, processes stopped"
nested=$DTP_WORK/nested
for outcome in 0 1 77; do
    rc=0
    DTP_TEST_TMP=$nested/$outcome bash -c '
        . "$1"; dtp_init nested
        dtp_start sleeper sleep 300
        echo "$DTP_WORK" > "$2/dir"; echo "${DTP_PIDS[0]}" > "$2/pid"
        case $3 in 1) dtp_fail boom ;; 77) dtp_skip later ;; esac' \
        _ "$HERE/lib.sh" "$DTP_WORK" "$outcome" >"$DTP_WORK/neg.out" 2>&1 || rc=$?
    [ "$rc" = "$outcome" ] || dtp_fail "nested test exited $rc, expected $outcome"
    kill -0 "$(cat "$DTP_WORK/pid")" 2>/dev/null && dtp_fail "nested test left its sleeper running"
    if [ "$outcome" = 1 ]; then
        [ -d "$(cat "$DTP_WORK/dir")" ] || dtp_fail "work dir removed after a failure"
        dtp_expect_grep 'work dir kept' "$DTP_WORK/neg.out"
    else
        [ ! -e "$(cat "$DTP_WORK/dir")" ] || dtp_fail "work dir left after exit $outcome"
    fi
done

echo "PASS: lib_selftest"
