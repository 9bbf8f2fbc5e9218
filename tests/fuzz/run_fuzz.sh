#!/bin/bash
# run_fuzz.sh HARNESS SEEDDIR WORKDIR SECONDS -- one bounded libFuzzer run.
#
# Fuzzes for SECONDS starting from the seeds (left untouched: new inputs go
# to WORKDIR/corpus, crash/leak/timeout inputs to WORKDIR/artifacts), then
# prints one line: executions, time, rate, coverage (libFuzzer's "cov":
# edges of our instrumented code -- OpenSSL is not instrumented -- and
# "ft" features) at the start and at the end, corpus size.
# Exit 0 only if libFuzzer ran to its time limit with no crash, sanitizer
# report, leak or per-input timeout; otherwise 1, with the report and the
# reproducer's path. Reproduce with: HARNESS ARTIFACT (DTP_PKI set).
set -uo pipefail

[ $# -eq 4 ] || { echo "usage: $0 HARNESS SEEDDIR WORKDIR SECONDS" >&2; exit 2; }
harness=$1 seeds=$2 work=$3 seconds=$4
name=$(basename "$harness")
[ -x "$harness" ] || { echo "FAIL: no harness $harness" >&2; exit 1; }
n_seeds=$(find "$seeds" -maxdepth 1 -type f 2>/dev/null | wc -l)
[ "$n_seeds" -gt 0 ] || { echo "FAIL: no seeds in $seeds (fixture fuzz.seeds)" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
log=$work/fuzz.log
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

start=$SECONDS
rc=0
"$harness" -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
    "$work/corpus" "$seeds" > "$log" 2>&1 || rc=$?
elapsed=$((SECONDS - start))

# "#123 INITED cov: 456 ft: 789 corp: 12/3456b ..." and later lines alike.
cov_line() { grep -E "^#[0-9]+[[:space:]]+$1 .*cov: " "$log" | tail -n 1; }
field() { sed -nE "s/.* $1: ([0-9]+).*/\1/p" <<< "$2"; }
inited=$(cov_line INITED)
last=$(grep -E '^#[0-9]+[[:space:]]+[A-Z]+ .*cov: ' "$log" | tail -n 1)
execs=$(sed -nE 's/^stat::number_of_executed_units:[[:space:]]+([0-9]+).*/\1/p' "$log" | tail -n 1)
[ -n "$execs" ] || execs=$(sed -nE 's/^Done ([0-9]+) runs in.*/\1/p' "$log" | tail -n 1)
execs=${execs:-0}
peak=$(sed -nE 's/^stat::peak_rss_mb:[[:space:]]+([0-9]+).*/\1/p' "$log" | tail -n 1)
corpus=$(find "$work/corpus" -type f | wc -l)
rate=$((elapsed > 0 ? execs / elapsed : execs))

v() { local x; x=$(field "$1" "$2"); echo "${x:-?}"; }
echo "fuzz: $name: $execs executions in ${elapsed} s ($rate/s);" \
    "coverage at start cov $(v cov "$inited") ft $(v ft "$inited")," \
    "at end cov $(v cov "$last") ft $(v ft "$last");" \
    "corpus $n_seeds seeds + $corpus new inputs; peak RSS ${peak:-?} MB"

artifacts=$(find "$work/artifacts" -type f | sort)
if [ "$rc" -ne 0 ] || [ -n "$artifacts" ] || grep -qE '^(==[0-9]+==ERROR|SUMMARY: (Address|Undefined|Leak)Sanitizer)|runtime error:' "$log"; then
    echo "FAIL: $name exited $rc after ${elapsed} s" >&2
    grep -nE 'ERROR|runtime error|SUMMARY|fuzz_handshake:|fuzz_password:|Test unit written' "$log" | head -n 20 >&2
    echo "----- $log (last 60 lines) -----" >&2
    tail -n 60 "$log" >&2
    [ -z "$artifacts" ] || echo "reproduce with: DTP_PKI=\$DTP_PKI $harness $artifacts" >&2
    exit 1
fi
if [ "$execs" -eq 0 ]; then
    echo "FAIL: $name ran no input" >&2
    tail -n 30 "$log" >&2
    exit 1
fi
echo "PASS: $name: no crash, sanitizer report or leak in $execs executions"
