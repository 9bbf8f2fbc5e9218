#!/usr/bin/env bash
# bench/quick_test.sh -- the CTest case bench.quick: runs `QUICK=1 bench/run.sh`
# and checks that it wrote its raw data and its report with every section,
# with GnuTLS figures when the apps have that backend. Never asserts a
# speed: the figures of a QUICK run on a busy machine mean nothing.
#
# Environment: BUILD_DIR (the build tree), BENCH_OUT (default
# $BUILD_DIR/performance-quick.md), BENCH_RAW (default
# $BUILD_DIR/bench-raw-quick). Exit: 0 ok, 1 fail, 77 skip (a tool the
# benchmark needs is missing).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
: "${BUILD_DIR:?set BUILD_DIR to the build tree}"
export BUILD_DIR
export BENCH_OUT=${BENCH_OUT:-$BUILD_DIR/performance-quick.md}
export BENCH_RAW=${BENCH_RAW:-$BUILD_DIR/bench-raw-quick}
rm -f "$BENCH_OUT"

start=$SECONDS
QUICK=1 bash "$HERE/run.sh"
rc=$?
echo "bench/run.sh QUICK=1: exit $rc after $((SECONDS - start)) s"
[ "$rc" -eq 77 ] && exit 77
fail=0
if [ "$rc" -ne 0 ]; then
    echo "FAIL: bench/run.sh exited with $rc"
    fail=1
fi
if [ ! -s "$BENCH_OUT" ]; then
    echo "FAIL: no report at $BENCH_OUT"
    exit 1
fi
for heading in '# Performance' '## Machine' '## Targets' '## Throughput' '### 64 KiB objects' \
               '### 512 KiB objects' '### Ratios' '## Association rate' '## Concurrency' \
               '## Stall delay' '## dtp-check scan' '## Transport alone (no DICOM)' '## Backends' \
               '## Association rate under load' '## Baseline vs current dtp-storescp' '## fsync per object' '## Audit trail' '## Raw data'; do
    if ! grep -qxF -- "$heading" "$BENCH_OUT" && ! grep -q -- "^$heading" "$BENCH_OUT"; then
        echo "FAIL: report $BENCH_OUT has no section '$heading'"
        fail=1
    fi
done
# Every target row carries a verdict (or n/a where it cannot be measured).
rows=$(awk '/^## Targets/ { t = 1; next } /^## / { t = 0 } t && /^\| / && !/^\| target/ && !/^\|---/' "$BENCH_OUT")
n=$(grep -c . <<< "$rows" || true)
nv=$(grep -cE '\| (PASS|MISS|n/a)[^|]*\|$' <<< "$rows" || true)
if [ "$n" -lt 9 ] || [ "$n" != "$nv" ]; then
    echo "FAIL: $n target rows, $nv with PASS/MISS/n/a"
    fail=1
fi
for f in meta xfer.tsv assoc.tsv rate.tsv fsync.tsv audit.tsv; do
    [ -s "$BENCH_RAW/$f" ] || { echo "FAIL: no raw data $BENCH_RAW/$f"; fail=1; }
done
# Both backends side by side: a GnuTLS median for every profile at 64 KiB
# (when the apps have GnuTLS; otherwise the section says why not).
if grep -qx 'gnutls=1' "$BENCH_RAW/meta" 2>/dev/null; then
    np=$(sed -n 's/^profiles=//p' "$BENCH_RAW/meta" | wc -w)
    ng=$(awk -F' [|] ' '/^### 64 KiB objects by backend/ { t = 1; next } /^#/ { t = 0 }
                       t && /^\| [a-z]/ && $3 ~ /^[0-9.]+$/ { n++ } END { print n + 0 }' "$BENCH_OUT")
    [ "$ng" = "$np" ] || { echo "FAIL: $ng of $np profiles with a GnuTLS median at 64 KiB in Backends"; fail=1; }
elif ! grep -q 'the GnuTLS backend was not measured' "$BENCH_OUT"; then
    echo "FAIL: no GnuTLS figures and no note saying why"
    fail=1
fi
[ "$fail" = 0 ] && echo "PASS: report $BENCH_OUT has all sections and $n target rows"
exit "$fail"
