#!/bin/bash
# run.sh SCRIPT ARGS... -- runs the e2e script tests/e2e/SCRIPT with both
# apps under valgrind memcheck, then fails if any process's valgrind log
# reports a memory error or a definite leak (check.sh).
#
# Expects the environment of a dtp_e2e test (DTP_BIN = the real apps'
# directory, DTP_PKI, DTP_DATA, ...). Runs the script with DTP_BIN pointing
# at the wrappers in this directory and DTP_REAL_BIN at the real apps; the
# script itself is unchanged. Logs go to a directory of their own (the
# script's work dir is removed when it passes), kept on failure.
#
# Exit: the script's code if it failed (77: skipped), else 1 if a log has a
# problem, else 0. Skips (77) when valgrind is missing or the apps are
# built with AddressSanitizer (the ASan build of the suite; valgrind cannot
# run those).
#
# Environment: DTP_VG_CMD_TIMEOUT (default 300 s) becomes DTP_CMD_TIMEOUT for
# the commands the script runs through dtp_expect_exit without a limit of
# its own; DTP_VG_EXTRA adds valgrind options (e.g. --gen-suppressions=all).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 SCRIPT ARGS..." >&2; exit 2; }
script=$1
shift
# The e2e scripts of the same tree as the test (dtp_e2e sets DTP_SOURCE_DIR).
case $script in
    /*) path=$script ;;
    *) path=${DTP_SOURCE_DIR:-$HERE/../..}/tests/e2e/$script ;;
esac
[ -f "$path" ] || { echo "FAIL: no script $path" >&2; exit 1; }

command -v valgrind >/dev/null 2>&1 || { echo "SKIP: valgrind is not installed"; exit 77; }
: "${DTP_BIN:?DTP_BIN must name the directory of the real apps}"
for app in dtp-storescu dtp-storescp; do
    [ -x "$DTP_BIN/$app" ] || { echo "FAIL: $DTP_BIN/$app is missing" >&2; exit 1; }
    if grep -qa -e __asan_init -e __tsan_init -e __msan_init "$DTP_BIN/$app"; then
        echo "SKIP: $DTP_BIN/$app is built with a sanitizer; valgrind cannot run it"
        exit 77
    fi
done

parent=${DTP_TEST_TMP:-/tmp}
mkdir -p "$parent"
name=$(basename "$script" .sh)
for a in "$@"; do name=$name-$a; done
logdir=$(mktemp -d "$parent/dtp-valgrind-${name//[^A-Za-z0-9_.-]/_}.XXXXXX")

echo "valgrind: $script $*: apps from $DTP_BIN under memcheck, logs in $logdir"
start=$SECONDS
rc=0
DTP_REAL_BIN=$DTP_BIN DTP_BIN=$HERE DTP_VG_LOGDIR=$logdir \
    DTP_CMD_TIMEOUT=${DTP_VG_CMD_TIMEOUT:-300} bash "$path" "$@" || rc=$?
echo "valgrind: $script $* exited $rc after $((SECONDS - start)) s"
if [ "$rc" -eq 77 ]; then
    rm -rf "$logdir"
    exit 77
fi

mapfile -t logs < <(find "$logdir" -maxdepth 1 -name 'valgrind-*.log' -type f | sort)
check=0
if [ ${#logs[@]} -eq 0 ]; then
    echo "valgrind: FAIL: no valgrind log in $logdir: the apps did not run under valgrind"
    check=1
else
    bash "$HERE/check.sh" "${logs[@]}" || check=1
fi
if [ "$rc" -ne 0 ]; then
    echo "FAIL: $script $* failed under valgrind (exit $rc); logs kept in $logdir" >&2
    exit "$rc"
fi
if [ "$check" -ne 0 ]; then
    echo "FAIL: valgrind reported problems; logs kept in $logdir" >&2
    exit 1
fi
rm -rf "$logdir"
echo "PASS: $script $* under valgrind: ${#logs[@]} process(es), no memory error, no definite leak"
