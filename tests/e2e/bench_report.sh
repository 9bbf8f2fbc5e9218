#!/usr/bin/env bash
# bench_report.sh -- the CTest case bench.report: the report step of the
# benchmark (bench/report.sh) on synthetic raw data with known numbers, no
# network and no apps.
#
# Checks figures only the right computation gives: medians of three runs
# whose mean differs (a failed run with a wild figure left out), ratios of
# medians and the range of the per-repetition ratios, PASS and MISS
# verdicts, the association cost over plain per backend, the failure list,
# the GnuTLS/OpenSSL table; the association rate under load (ours/stock and
# baseline/current ratios with their per-round ranges, SCP CPU per
# association, resumed counts) and the fsync cost per object; that missing
# data files (stall, transport) give "-" / "n/a", that a run without a
# baseline or without --no-fsync says so, and that an empty raw dir still
# gives every section.
# Exit: 0 ok, 1 a check failed.
# shellcheck disable=SC2016  # expected Markdown has backquotes, single-quoted on purpose
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPORT=$HERE/../../bench/report.sh
T=$(mktemp -d "${TMPDIR:-/tmp}/bench-report.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail=0

# expect FILE TEXT...: FILE has a line containing each TEXT (fixed strings)
expect() {
    local f=$1 x; shift
    for x in "$@"; do
        grep -qF -- "$x" "$f" || { echo "FAIL: $(basename "$f") has no line with: $x"; fail=1; }
    done
}
# expect_row FILE START VERDICT: the line starting with START ends in "| VERDICT |"
expect_row() {
    local line
    line=$(grep -F -- "$2" "$1" | head -n 1)
    [[ $line == "$2"*"| $3 |" ]] || { echo "FAIL: row '$2' does not end in '| $3 |': ${line:-no such row}"; fail=1; }
}
# report DIR OUT: bench/report.sh DIR > OUT, which must succeed
report() {
    bash "$REPORT" "$1" > "$2" 2> "$2.err" || { echo "FAIL: report.sh $1 exited $?: $(cat "$2.err")"; fail=1; }
}
# every section of the report is in FILE
expect_sections() {
    expect "$1" '# Performance' '## Machine' '## Targets' '## Throughput' '### Ratios' \
        '## Transport alone (no DICOM)' '## Association rate' '## Association rate under load' \
        '## Baseline vs current dtp-storescp' '## Concurrency' '## Stall delay' '## fsync per object' \
        '## Audit trail' '## Backends' '## Raw data'
}

# ------------------------------------------------ synthetic run, 64 KiB --
R=$T/raw
mkdir "$R"
cat > "$R/meta" <<'EOF'
quick=0
reps=3
sizes=64k
batch.64k=10
batch_nagle.64k=2
obj_bytes.64k=1048576
profiles=bcp195-nd bcp195-8996
default_profile=bcp195-8996
stock=1
gnutls=1
assoc_n=3
conc_clients=8
conc_size=8m
conc_per=8
conc_reps=1
stall_silent=100
stall_half=100
stall_rounds=3
elapsed_s=42
tls.bcp195-nd=TLS: profile bcp195-nd: TLSv1.3 TLS_AES_128_GCM_SHA256 group=x25519/255bits peer=/CN=localhost
tls.gnutls:bcp195-nd=TLS: profile bcp195-nd: TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 group=x25519/255bits peer=/CN=localhost
failure=throughput 64 KiB bcp195-nd rep 4: exit 1, 3 of 10 objects stored
rate_clients=16
rate_per=4
rate_rounds=3
rate_profile=bcp195-nd
baseline_build=/base/build
baseline_src=/base
baseline_rev=0123456789ab
baseline_bin_time=2026-01-02 03:04 UTC
rate_tls.stock-full=TLS: profile bcp195-nd: TLSv1.3 TLS_AES_256_GCM_SHA384 group=secp256r1/256bits peer=/CN=localhost
fsync_sizes=64k 8m
fsync_reps=3
fsync_batch.64k=10
fsync_batch.8m=4
fsync_nofsync=yes
fsync_dir=/disk/bench-fsync.x
fsync_fs=ext4 on /dev/vda
audit_batch=16
audit_reps=3
audit_expected=4
audit_spooled.down=4
audit_spooled.silent=4
audit_file_lines=7
EOF
# xfer VARIANT MB/s...: one successful run per figure (rep 1, 2, ...) of
# 10 objects of 1 MiB (2 for stock-default), wall time = MiB / figure
xfer() {
    local v=$1 rep=0 mb mib=10 x; shift
    [ "$v" = stock-default ] && mib=2
    for x in "$@"; do
        rep=$((rep + 1))
        mb=$(awk -v m="$mib" -v x="$x" 'BEGIN { printf "%.6f", m / x }')
        printf '64k\t%s\t%s\t%s\t%s\t%s\t0.10\t0.05\t20480\t10240\t1\n' "$v" "$rep" "$mib" $((mib * 1048576)) "$mb"
    done >> "$R/xfer.tsv"
}
xfer plain 100 200 160                 # median 160 (mean 153.3)
xfer bcp195-nd 80 200 125              # median 125: 0.78 of plain (mean: 0.88)
xfer bcp195-8996 160 200 250           # median 200: 1.25 of plain
xfer stock-nodelay 50 100 32           # median 50: ours/stock 2.50
xfer stock-default 4 5 8               # median 5: ours default/stock default 40×
xfer gnutls:bcp195-nd 100 50 250       # median 100: 0.80 of OpenSSL's 125
xfer gnutls:bcp195-8996 400 250 200    # median 250: 1.25 of OpenSSL's 200
# a failed run, 10000 MB/s: in no figure
printf '64k\tbcp195-nd\t4\t10\t10485760\t0.001\t0.1\t0.1\t20480\t10240\t0\n' >> "$R/xfer.tsv"
# assoc VARIANT RESUMED "WALL_MS ASSOC_MS"...
assoc() {
    local a=$1 res=$2 i=0 x; shift 2
    for x in "$@"; do
        i=$((i + 1))
        printf '%s\t%s\t%s\t%s\t%s\t1\n' "$a" "$i" "${x% *}" "${x#* }" "${res:i-1:1}"
    done >> "$R/assoc.tsv"
}
assoc plain 000 "20 2.0" "22 3.0" "21 2.5"               # medians 21 / 2.5
assoc tls-full 000 "30 6" "31 7" "29 5"                  # 30 / 6: +9.00 / +3.50
assoc tls-resumed 111 "25 4.0" "26 4.2" "40 9.0"         # 26 / 4.2: +5.00 / +1.70 (mean +3.23)
assoc gnutls-full 000 "33 8" "34 9" "35 10"              # 34 / 9: +13.00 / +6.50
assoc gnutls-resumed 101 "22 3.0" "23 3.5" "40 12"       # 23 / 3.5: +2.00 / +1.00, 2 of 3 resumed
assoc stock-plain 000 "24 -" "25 -" "26 -"
assoc stock-tls 000 "30 -" "32 -" "31 -"
# concurrency: summed PSS 70000 KiB = 68.4 MiB, over the 64 MiB target
printf 'conc-tls\t1\t67108864\t1.0\t81920\t70000\t9\t0.5\t1.0\t1\t20480\n' > "$R/conc.tsv"
printf 'conc-plain\t1\t67108864\t0.5\t40960\t30000\t1\t0.2\t0.8\t1\t16384\n' >> "$R/conc.tsv"
# dtp-check scans: medians 0.70 s (OpenSSL; a failed run of 50 s left out) and 12.5 s (GnuTLS)
printf 'bcp195-nd\t1\t0.500\t0.4\t69\t1\nbcp195-nd\t2\t50.0\t-\t-\t0\nbcp195-nd\t3\t0.700\t0.6\t69\t1\n' > "$R/scan.tsv"
printf 'bcp195-nd\t4\t0.900\t0.8\t69\t1\ngnutls:bcp195-nd\t1\t12.5\t12\t69\t1\n' >> "$R/scan.tsv"
# rate VARIANT "ASSOC_PER_S SCP_MS [RESUMED [CLIENTS_MS]]"...: one successful
# round per figure, 16 clients x 4 = 64 associations; wall time =
# 64 / ASSOC_PER_S, SCP CPU = SCP_MS ms per association (RESUMED and the
# clients' CPU "-" when not given)
rate() {
    local v=$1 r=0 x a ms res cms; shift
    for x in "$@"; do
        r=$((r + 1))
        read -r a ms res cms <<< "$x"
        awk -v v="$v" -v r="$r" -v a="$a" -v ms="$ms" -v res="${res:--}" -v cms="${cms:--}" 'BEGIN {
            printf "%s\t%d\t16\t64\t64\t%s\t%.6f\t%.3f\t%s\t1\n", v, r, res, 64 / a, ms * 64 / 1000,
                (cms == "-") ? "-" : sprintf("%.3f", cms * 64 / 1000) }'
    done >> "$R/rate.tsv"
}
rate ours-full "40 5 0 25" "32 6 0 30" "50 4 0 20"   # medians 40/s, 5 ms SCP, 25 ms clients
rate ours-resumed "64 3 64" "80 4 60" "40 2 64"      # 64/s, 3 ms; 188 of 192 resumed
rate stock-full "20 10 0" "40 8 0" "25 9 0"          # 25/s, 9 ms: ours/stock 1.60 (0.80–2.00), CPU 0.56 (0.44–0.75)
rate stock-resumed "32 6 64" "40 7 64" "50 5 64"     # 40/s, 6 ms: 1.60 (0.80–2.00), CPU 0.50 (0.40–0.57)
rate stockcli-full "30 10" "34 12"                   # 32/s, 11 ms, resumed unknown
rate base-full "20 7 0" "25 8 0" "50 6 0"            # 25/s, 7 ms: current/baseline 1.60 (1.00–2.00), CPU 0.71 (0.67–0.75)
rate base-resumed "32 5 64" "64 6 64" "40 4 64"      # 40/s, 5 ms: 1.60 (1.00–2.00), CPU 0.60 (0.50–0.67)
# a failed round, 6000 associations/s: in no figure
printf 'ours-full\t4\t16\t64\t60\t0\t0.010000\t0.001\t-\t0\n' >> "$R/rate.tsv"
# fsync_rows SIZE VARIANT N MS_PER_OBJECT...: successful runs (rep 1, 2, ...)
# of N objects
fsync_rows() {
    local size=$1 v=$2 n=$3 rep=0 x; shift 3
    for x in "$@"; do
        rep=$((rep + 1))
        awk -v s="$size" -v v="$v" -v r="$rep" -v n="$n" -v x="$x" \
            'BEGIN { printf "%s\t%s\t%d\t%d\t%d\t%.6f\t1\n", s, v, r, n, n * 65536, x * n / 1000 }'
    done >> "$R/fsync.tsv"
}
fsync_rows 64k fsync 10 5 7 6          # median 6 ms per object
fsync_rows 64k nofsync 10 2 1 4        # median 2: cost 4.00, 3.00 (per rep 1.50–7.00)
fsync_rows 8m fsync 4 100 80 90        # median 90
fsync_rows 8m nofsync 4 50 60 45       # median 50: cost 40.00, 1.80 (per rep 1.33–2.00)
# a failed fsync run, 0.1 ms per object: in no figure
printf '64k\tfsync\t4\t10\t655360\t0.001\t0\n' >> "$R/fsync.tsv"
# audit_rows VARIANT WALL_MS:XFER_MS...: successful runs (rep 1, 2, ...)
audit_rows() {
    local v=$1 rep=0 x; shift
    for x in "$@"; do
        rep=$((rep + 1))
        awk -v v="$v" -v r="$rep" -v w="${x%:*}" -v t="${x#*:}" \
            'BEGIN { printf "%s\t%d\t16\t8388608\t%.6f\t%.6f\t1\n", v, r, w / 1000, t / 1000 }'
    done >> "$R/audit.tsv"
}
audit_rows none 100:50 120:60 110:40      # medians 110 / 50
audit_rows file 121:55 132:66 110:44      # 121 / 55: 1.10 (1.00–1.21), 1.10 (1.10–1.10)
audit_rows down 110:50 240:60 99:40       # 110 / 50: 1.00 (0.90–2.00), 1.00 (1.00–1.00)
# a failed run: in no figure
printf 'silent\t1\t16\t8388608\t9.000000\t-\t0\n' >> "$R/audit.tsv"
# no stall.tsv, transport.tsv, prefault.tsv: as if those sections never ran

report "$R" "$T/report.md"
F=$T/report.md
expect_sections "$F"
expect "$F" '**1 run(s) FAILED** (not counted in the figures):' \
    '- throughput 64 KiB bcp195-nd rep 4: exit 1, 3 of 10 objects stored' \
    'it took 42 s for this report'
# throughput tables: medians and min–max, the failed run counted but left out
expect "$F" '| ours, plain TCP | 10 | 3/3 | 160.0 | 100.0–200.0 |' \
    '| ours, TLS bcp195-nd | 10 | 3/4 | 125.0 | 80.0–200.0 |' \
    '| stock DCMTK, TLS +py, defaults (Nagle on) | 2 | 3/3 | 5.0 | 4.0–8.0 |' \
    '| ours, GnuTLS bcp195-nd | 10 | 3/3 | 100.0 | 50.0–250.0 |' \
    '| ours, GnuTLS bcp195-8996 (B.12) | 10 | 3/3 | 250.0 |'
# ratios of medians, with the range of the per-repetition ratios
expect "$F" '| 64 KiB | 0.78 (0.78–1.00) | 1.25 (1.00–1.60) | 2.50 (1.60–3.91) | 40.00 |'
# targets: PASS, MISS, n/a
expect_row "$F" '| TLS/plain ≥ 0.90 at every size, bcp195-nd (our apps) | lowest 0.78 (64 KiB); 64 KiB 0.78; best runs 1.00; transport alone (no DICOM): - ' MISS
expect_row "$F" '| TLS/plain ≥ 0.90 at every size, bcp195-8996 (our apps) | lowest 1.25 (64 KiB)' PASS
expect_row "$F" '| ours/stock TLS ≥ 1.3 at 64 KiB (both TCP_NODELAY) | 2.50 (bcp195-nd 125.0 vs stock +py 50.0 MB/s); best runs 2.00 ' PASS
expect_row "$F" '| ours/stock TLS ≥ 1.3 at 8 MiB (both TCP_NODELAY) | not measured ' n/a
expect_row "$F" '| ours default / stock default ≥ 20× at 64 KiB | 40.00× (bcp195-8996 200.0 vs stock +py, Nagle on, 5.00 MB/s) ' PASS
expect_row "$F" '| TLS cost per association ≤ 2 ms over plain, with resumption | 1.70 ms per association (median 4.20 vs 2.50 ms, association request to release); per client run 5.00 ms; full handshake 3.50 ms per association, 9.00 ms per run ' PASS
expect_row "$F" '| resumption across separate runs with --session-file | 3 of 3 runs resumed ' PASS
expect_row "$F" '| peak memory of dtp-storescp, 8 concurrent TLS associations, < 64 MiB (judged by PSS: see Concurrency) | 68.4 MiB summed PSS' MISS
expect_row "$F" '| full dtp-check server scan of one port < 10 s | 0.70 s (median of 3, 69 probes' PASS
expect "$F" '| dtp-storescp bcp195-nd (OpenSSL) | 3/4 | 0.70 | 0.50–0.90 | 69 |' \
    '| dtp-storescp bcp195-nd (GnuTLS) | 1/1 | 12.50 | 12.50–12.50 | 69 |'
expect_row "$F" '| extra delay of a transfer with 100 silent + 100 half-handshake connections held open < 100 ms | - ms (median - vs - ms)' n/a
# association rate, both backends
expect "$F" '| ours, TLS bcp195-nd, resumed (--session-file) | 3/3 | 26.00 | 25.00–40.00 | 4.20 | 5.00 / 1.70 ms |' \
    '| ours, GnuTLS bcp195-nd, full handshake | 3/3 | 34.00 | 33.00–35.00 | 9.00 | 13.00 / 6.50 ms |' \
    '| stock DCMTK, TLS +py (TCP_NODELAY=1), full handshake | 3/3 | 31.00 | 30.00–32.00 | - | 6.00 ms / - |' \
    'GnuTLS: 2 of 3 runs with --session-file resumed, 0 of 3 without.'
# association rate under load: medians, ranges, resumed counts, CPU per association
expect "$F" '| dtp-storescp | dtp-storescu | full | 3/4 | 40.0 | 32.0–50.0 | 0 of 192 | 5.00 | 25.00 |' \
    '| dtp-storescp | dtp-storescu --session-file | resumed | 3/3 | 64.0 | 40.0–80.0 | 188 of 192 | 3.00 | - |' \
    '| stock storescp --fork | dtp-storescu | full | 3/3 | 25.0 | 20.0–40.0 | 0 of 192 | 9.00 | - |' \
    '| stock storescp --fork | stock storescu | full | 2/2 | 32.0 | 30.0–34.0 | - | 11.00 | - |' \
    '| baseline dtp-storescp | dtp-storescu --session-file | resumed | 3/3 | 40.0 | 32.0–64.0 | 192 of 192 | 5.00 | - |' \
    '- stock storescp --fork, full: `profile bcp195-nd: TLSv1.3 TLS_AES_256_GCM_SHA384 group=secp256r1/256bits peer=/CN=localhost`'
# ours/stock and baseline/current: ratios of medians, per-round ranges
expect "$F" '| full | 40.0 | 25.0 | 1.60 (0.80–2.00) | 5.00 | 9.00 | 0.56 (0.44–0.75) |' \
    '| resumed | 64.0 | 40.0 | 1.60 (0.80–2.00) | 3.00 | 6.00 | 0.50 (0.40–0.57) |' \
    '| full | 25.0 (20.0–50.0) | 40.0 (32.0–50.0) | 1.60 (1.00–2.00) | 7.00 | 5.00 | 0.71 (0.67–0.75) |' \
    '| resumed | 40.0 (32.0–64.0) | 64.0 (40.0–80.0) | 1.60 (1.00–2.00) | 5.00 | 3.00 | 0.60 (0.50–0.67) |' \
    'The association rate rounds above with the dtp-storescp of `/base/build` as "baseline"' \
    '(source `/base`, revision 0123456789ab, binary built 2026-01-02 03:04 UTC) and this'
# fsync per object: medians, the cost and ratio, the failed run left out
expect "$F" '| 64 KiB | 10 | 3/4 / 3/3 | 6.00 | 5.00–7.00 | 2.00 | 1.00–4.00 | 4.00 | 3.00 (1.50–7.00) |' \
    '| 8 MiB | 4 | 3/3 / 3/3 | 90.00 | 80.00–100.00 | 50.00 | 45.00–60.00 | 40.00 | 1.80 (1.33–2.00) |' \
    'receiving into `/disk/bench-fsync.x` (ext4 on /dev/vda)'
# audit trail: medians, ratios to none with per-repetition ranges, the failed run left out
expect "$F" '| none | 3/3 | 110.0 | 100.0–120.0 | 50.0 | 40.0–60.0 | - | - |' \
    '| file | 3/3 | 121.0 | 110.0–132.0 | 55.0 | 44.0–66.0 | 1.10 (1.00–1.21) | 1.10 (1.10–1.10) |' \
    '| down | 3/3 | 110.0 | 99.0–240.0 | 50.0 | 40.0–60.0 | 1.00 (0.90–2.00) | 1.00 (1.00–1.00) |' \
    '| silent | 0/1 | - | -–- | - | -–- | - | - |' \
    'per run expected: 4): down 4, silent 4;'
# backends
expect "$F" '### 64 KiB objects by backend' \
    '| bcp195-nd | 125.0 | 100.0 | 0.80 (0.25–2.00) |' \
    '| bcp195-8996 | 200.0 | 250.0 | 1.25 (0.80–2.50) |' \
    '| OpenSSL | 9.00 / 3.50 ms | 5.00 / 1.70 ms | 3 of 3 |' \
    '| GnuTLS | 13.00 / 6.50 ms | 2.00 / 1.00 ms | 2 of 3 |' \
    '- ours, GnuTLS bcp195-nd: `profile bcp195-nd: TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 group=x25519/255bits peer=/CN=localhost`'
# the missing files: "-" and n/a, not a crash
expect "$F" 'Not measured: `tests/tools/dtp-transport-bench`' '| held | 0/0 | - | -–- | - |' \
    'run: none' '| ours, TLS bcp195-nd | 1/1 | 64.0 | 64.0–64.0 | 80.0 | 68.4 | 20.0 | 9 |'

# --------------------------------------------- empty raw dir, no GnuTLS --
mkdir "$T/empty"
report "$T/empty" "$T/empty.md"
expect_sections "$T/empty.md"
expect "$T/empty.md" 'the GnuTLS backend was not measured (no GnuTLS data in this run)' \
    'Not measured: no baseline in this run. To compare, build the other revision in a'
n=$(awk '/^## Targets/ { t = 1; next } /^## / { t = 0 } t && /^\| / && !/^\| target/ && !/^\|---/' "$T/empty.md" |
    grep -cvE '\| n/a[^|]*\|$')
[ "$n" = 0 ] || { echo "FAIL: with no data, $n target rows have a verdict other than n/a"; fail=1; }
printf 'gnutls=0\ngnutls_note=BENCH_BACKENDS=openssl\n' > "$T/empty/meta"
report "$T/empty" "$T/empty.md"
expect "$T/empty.md" 'the GnuTLS backend was not measured (BENCH_BACKENDS=openssl)'

# ---------------- no baseline, no --no-fsync (the notes run.sh records) --
mkdir "$T/nobase"
printf 'baseline_note=BENCH_BASELINE_BUILD not set\nfsync_nofsync=n/a (no --no-fsync)\nfsync_sizes=64k\nfsync_batch.64k=10\n' > "$T/nobase/meta"
grep -E '^(ours|stock)' "$R/rate.tsv" > "$T/nobase/rate.tsv"
awk -F'\t' '$1 == "64k" && $2 == "fsync"' "$R/fsync.tsv" > "$T/nobase/fsync.tsv"
report "$T/nobase" "$T/nobase.md"
expect_sections "$T/nobase.md"
expect "$T/nobase.md" 'Not measured: BENCH_BASELINE_BUILD not set. To compare, build the other revision in a' \
    '| 64 KiB | 10 | 3/4 / - | 6.00 | 5.00–7.00 | n/a (no --no-fsync) | - | n/a | n/a |' \
    "Without fsync: n/a (no --no-fsync) (this dtp-storescp's --help has no such option)." \
    '| full | 40.0 | 25.0 | 1.60 (0.80–2.00) | 5.00 | 9.00 | 0.56 (0.44–0.75) |'
if grep -q '^| baseline dtp-storescp' "$T/nobase.md"; then echo "FAIL: baseline rows without baseline data"; fail=1; fi

# a raw dir that does not exist: usage, exit 2
bash "$REPORT" "$T/none" > /dev/null 2>&1
rc=$?
[ "$rc" = 2 ] || { echo "FAIL: report.sh on a missing directory exited $rc, expected 2"; fail=1; }

[ "$fail" = 0 ] && echo "PASS: bench/report.sh computes the figures, verdicts and failure list of the synthetic run"
exit "$fail"
