#!/usr/bin/env bash
# bench/report.sh RAWDIR -- the report step of the benchmark: turns the raw
# data one bench/run.sh run left in RAWDIR into the Markdown report, on
# stdout. It measures nothing, so it can be rerun by hand on a kept raw dir:
#   bash bench/report.sh build/bench-raw > docs/performance.md
# (bench/run.sh calls it that way once it has measured.) Tested by
# tests/e2e/bench_report.sh on synthetic data.
#
# RAWDIR (tab-separated files, no header line; every file is optional: what
# is missing shows as "-" or "n/a" in the report, never as a crash):
#   meta           KEY=VALUE lines: parameters (quick, reps, sizes, batch.SIZE,
#                  ...), machine and build facts, the negotiated line of each
#                  variant (tls.VARIANT), and one `failure=` line per failed run
#   xfer.tsv       throughput: size variant rep objects bytes wall_s
#                  sender_cpu_s receiver_cpu_s scp_peak_rss_kib
#                  scu_peak_rss_kib ok
#   assoc.tsv      association rate: variant run wall_ms association_ms
#                  resumed ok
#   conc.tsv       concurrency: variant rep bytes wall_s peak_sum_rss_kib
#                  peak_sum_pss_kib peak_processes receiver_cpu_s
#                  senders_cpu_s ok largest_process_rss_kib
#   stall.tsv      stall delay: round phase wall_ms transfer_ms ok
#   transport.tsv  transport alone: mode rep MB/s writer_cpu_s reader_cpu_s ok
#   prefault.tsv   prefault before each timed run: MiB MB/s
#   scan.tsv       dtp-check scans: target rep wall_s scan_s probes ok
#   rate.tsv       association rate under load: variant round clients
#                  associations ok_associations resumed ("-": not known)
#                  wall_s scp_cpu_s clients_cpu_s ("-": not measured) ok
#   fsync.tsv      fsync per object: size variant rep objects bytes wall_s ok
#   audit.tsv      audit trail: variant rep objects bytes wall_s xfer_s ok
# Variants: plain, a profile key (OpenSSL backend), gnutls:PROFILE (both
# apps on --tls-backend gnutls), stock-nodelay, stock-default; association
# variants plain, tls-full, tls-resumed, gnutls-full, gnutls-resumed,
# stock-plain, stock-tls; association rate under load: ours-full,
# ours-resumed, base-full, base-resumed (the BENCH_BASELINE_BUILD SCP),
# stock-full, stock-resumed (stock storescp --fork, our clients),
# stockcli-full (stock storescu into it); fsync: fsync, nofsync.
# Exit: 0 report written; 2 usage (no such directory).
# shellcheck disable=SC2016  # awk programs and expressions are single-quoted on purpose
set -Eeuo pipefail
trap 'echo "report.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

if [ $# -ne 1 ] || [ ! -d "$1" ]; then echo "usage: $0 RAWDIR (the raw data of bench/run.sh)" >&2; exit 2; fi
RAW=$1

# ------------------------------------------------------------- raw data --

# data FILE: the path of RAWDIR/FILE, or /dev/null when it is missing
data() { if [ -f "$RAW/$1" ]; then echo "$RAW/$1"; else echo /dev/null; fi; }
XFER=$(data xfer.tsv) ASSOC=$(data assoc.tsv) CONC=$(data conc.tsv)
STALL=$(data stall.tsv) TRANSPORT=$(data transport.tsv) PREFAULT=$(data prefault.tsv)
SCAN=$(data scan.tsv) RATE=$(data rate.tsv) FSYNC=$(data fsync.tsv) AUDIT=$(data audit.tsv)

declare -A M=()
FAIL_NOTES=()
while IFS= read -r line || [ -n "$line" ]; do
    [[ $line == *=* ]] || continue
    if [ "${line%%=*}" = failure ]; then FAIL_NOTES+=("${line#*=}"); else M[${line%%=*}]=${line#*=}; fi
done < "$(data meta)"
# m KEY [DEFAULT]: a meta value ("-" when it was not recorded)
m() { printf '%s' "${M[$1]:-${2--}}"; }

QUICK=$(m quick 0) REPS=$(m reps) STOCK=$(m stock 1) GNUTLS=$(m gnutls 0)
DEFAULT_PROFILE=$(m default_profile bcp195-8996)
read -r -a SIZES <<< "$(m sizes '64k 512k 8m 128m')"
read -r -a PROFILES <<< "$(m profiles 'bcp195 bcp195-nd bcp195-ex cryptrec bcp195-8996 bcp195-8996-mod')"
CONC_CLIENTS=$(m conc_clients) CONC_SIZE=$(m conc_size 8m) CONC_PER=$(m conc_per) CONC_REPS=$(m conc_reps)
STALL_SILENT=$(m stall_silent) STALL_HALF=$(m stall_half) STALL_ROUNDS=$(m stall_rounds)
STALL_HELD_OK=$(m stall_held_ok) STALL_OTHER=$(m stall_other)
STALL_TOTAL=-
[[ $STALL_SILENT =~ ^[0-9]+$ && $STALL_HALF =~ ^[0-9]+$ ]] && STALL_TOTAL=$((STALL_SILENT + STALL_HALF))

size_label() { case $1 in *k) echo "${1%k} KiB" ;; *m) echo "${1%m} MiB" ;; *) echo "$1" ;; esac; }
declare -A SIZE_LABEL=()
for s in 64k 8m "${SIZES[@]}" "$CONC_SIZE"; do SIZE_LABEL[$s]=$(size_label "$s"); done

VARIANTS=(plain "${PROFILES[@]}" stock-nodelay stock-default)
GVARIANTS=()
if [ "$GNUTLS" = 1 ]; then for p in "${PROFILES[@]}"; do GVARIANTS+=("gnutls:$p"); done; fi
# the profile's name in the DICOM standard, after its key
pnote() { case $1 in bcp195-8996) echo " (B.12${2-})" ;; bcp195-8996-mod) echo " (B.13)" ;; esac; }
declare -A VLABEL=(
    [plain]="ours, plain TCP"
    [stock-nodelay]="stock DCMTK, TLS +py, TCP_NODELAY=1"
    [stock-default]="stock DCMTK, TLS +py, defaults (Nagle on)")
for p in "${PROFILES[@]}"; do
    VLABEL[$p]="ours, TLS $p$(pnote "$p" ', default')"
    VLABEL[gnutls:$p]="ours, GnuTLS $p$(pnote "$p")"
done
is_stock() { [[ $1 == stock-* ]]; }

# -------------------------------------------------------------- figures --

# summary: numbers on stdin -> "n median min max" ("0 - - -" if none)
summary() {
    sort -g | awk '{ v[NR] = $1 }
        END { if (NR == 0) { print "0 - - -"; exit }
              m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
              print NR, m, v[1], v[NR] }'
}
# xcol SIZE VARIANT EXPR: EXPR over the successful throughput runs
# ($5 bytes, $6 wall s, $7 SCU CPU s, $8 SCP CPU s, $9 SCP RSS KiB, $10 SCU RSS KiB)
xcol() {
    awk -F'\t' -v s="$1" -v v="$2" '$1 == s && $2 == v && $11 == 1 { print '"$3"' }' "$XFER"
}
# rows FILE COL VALUE: how many lines of FILE have VALUE in column COL
rows() { awk -F'\t' -v c="$2" -v x="$3" '$c == x { n++ } END { print n + 0 }' "$1"; }
MBPS='$5 / 1048576 / $6'
declare -A MED=() LO=() HI=() NOK=() NALL=()
for size in "${SIZES[@]}"; do
    for v in "${VARIANTS[@]}" "${GVARIANTS[@]}"; do
        read -r n med lo hi < <(xcol "$size" "$v" "$MBPS" | summary)
        MED[$size,$v]=$med LO[$size,$v]=$lo HI[$size,$v]=$hi NOK[$size,$v]=$n
        NALL[$size,$v]=$(awk -F'\t' -v s="$size" -v v="$v" '$1 == s && $2 == v { n++ } END { print n + 0 }' "$XFER")
    done
done
fmt() { awk -v x="$1" -v p="${2:-1}" 'BEGIN { if (x == "-" || x == "") print "-"; else printf "%.*f", p, x }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%.2f", a - b }'; }
# transport alone: median MB/s per mode and their ratio (targets, section 5)
declare -A TMED=()
for mode in plain tls; do
    read -r _ TMED[$mode] _ _ < <(awk -F'\t' -v m="$mode" '$1 == m && $6 == 1 { print $3 }' "$TRANSPORT" | summary)
done
TRATIO=$(ratio "${TMED[tls]}" "${TMED[plain]}")
# paired SIZE VA VB: "min–max" of the per-repetition ratios VA/VB
paired() {
    awk -F'\t' -v s="$1" -v a="$2" -v b="$3" '
        $1 == s && $11 == 1 && ($2 == a || $2 == b) { r[$2, $3] = $5 / 1048576 / $6; reps[$3] = 1 }
        END { lo = ""; for (k in reps) if ((a, k) in r && (b, k) in r && r[b, k] > 0) {
                  x = r[a, k] / r[b, k]; if (lo == "" || x < lo) lo = x; if (hi == "" || x > hi) hi = x }
              if (lo == "") print "-"; else printf "%.2f–%.2f", lo, hi }' "$XFER"
}
verdict() {  # VALUE OP LIMIT -> PASS / MISS / n/a
    awk -v x="$1" -v op="$2" -v l="$3" 'BEGIN {
        if (x == "-" || x == "") { print "n/a"; exit }
        ok = (op == ">=") ? (x >= l) : (op == "<=") ? (x <= l) : (op == "<") ? (x < l) : (x > l)
        print ok ? "PASS" : "MISS" }'
}
# association figures: per variant runs ok, median/min/max ms per run, and
# the median of the association time the SCU reports itself
acol() { awk -F'\t' -v a="$1" '$1 == a && $6 == 1 { print $'"$2"' }' "$ASSOC"; }
declare -A AMED=() AN=() ALO=() AHI=() AIN=() ARES=() AALL=()
for a in plain tls-full tls-resumed gnutls-full gnutls-resumed stock-plain stock-tls; do
    read -r AN[$a] AMED[$a] ALO[$a] AHI[$a] < <(acol "$a" 3 | summary)
    read -r _ AIN[$a] _ _ < <(acol "$a" 4 | { grep -v '^-$' || true; } | summary)
    ARES[$a]=$(awk -F'\t' -v a="$a" '$1 == a && $5 == 1 && $6 == 1 { n++ } END { print n + 0 }' "$ASSOC")
    AALL[$a]=$(rows "$ASSOC" 1 "$a")
done
# over_plain VARIANT: "ms per run / ms per association" over ours, plain TCP
over_plain() { echo "$(sub "${AMED[$1]}" "${AMED[plain]}") / $(sub "${AIN[$1]}" "${AIN[plain]}") ms"; }
OVR_RES=$(sub "${AMED[tls-resumed]}" "${AMED[plain]}")
OVR_FULL=$(sub "${AMED[tls-full]}" "${AMED[plain]}")
OVR_RES_IN=$(sub "${AIN[tls-resumed]}" "${AIN[plain]}")
OVR_FULL_IN=$(sub "${AIN[tls-full]}" "${AIN[plain]}")
RES_N=${ARES[tls-resumed]} RES_ALL=${AALL[tls-resumed]}
# peak of column COL of the successful concurrency runs of NAME, in MiB
conc_peak_mib() {
    awk -F'\t' -v n="$1" -v c="$2" '$1 == n && $10 == 1 && (!seen || $c > x) { x = $c; seen = 1 }
        END { if (seen) printf "%.1f", x / 1024; else print "-" }' "$CONC"
}
scol() { awk -F'\t' -v p="$1" '$2 == p && $5 == 1 { print $3 }' "$STALL"; }
read -r _ SBASE _ _ < <(scol baseline | summary)
read -r _ SHELD _ _ < <(scol held | summary)
read -r _ SBURST _ _ < <(scol burst | summary)
SDELAY=$(sub "$SHELD" "$SBASE")
SBURST_DELAY=$(sub "$SBURST" "$SBASE")

# association rate under load: per variant the rounds ok, medians and
# min–max of associations/s, SCP and clients' CPU per association
# rcol VARIANT EXPR [COND]: EXPR over the successful rounds ($4 associations,
# $5 succeeded, $6 resumed, $7 wall s, $8 SCP CPU s, $9 clients' CPU s)
rcol() { awk -F'\t' -v v="$1" '$1 == v && $10 == 1 && $5 > 0 && $7 > 0 && ('"${3:-1}"') { print '"$2"' }' "$RATE"; }
RVARS=(ours-full ours-resumed base-full base-resumed stock-full stock-resumed stockcli-full)
declare -A RMED=() RLO=() RHI=() RN=() RALL=() RSCP=() RCLI=() RRES=()
for v in "${RVARS[@]}"; do
    read -r "RN[$v]" "RMED[$v]" "RLO[$v]" "RHI[$v]" < <(rcol "$v" '$5 / $7' | summary)
    read -r _ "RSCP[$v]" _ _ < <(rcol "$v" '$8 * 1000 / $5' | summary)
    read -r _ "RCLI[$v]" _ _ < <(rcol "$v" '$9 * 1000 / $5' '$9 != "-"' | summary)
    RALL[$v]=$(rows "$RATE" 1 "$v")
    RRES[$v]=$(awk -F'\t' -v v="$v" '$1 == v && $10 == 1 { if ($6 == "-") u = 1; r += $6; n += $5 }
        END { if (u || !n) print "-"; else printf "%d of %d", r, n }' "$RATE")
done
# rpaired VA VB EXPR: "min–max" of the per-round ratios of EXPR, VA/VB
rpaired() {
    awk -F'\t' -v a="$1" -v b="$2" '
        $10 == 1 && $5 > 0 && $7 > 0 && ($1 == a || $1 == b) { x[$1, $2] = '"$3"'; r[$2] = 1 }
        END { lo = ""; for (k in r) if ((a, k) in x && (b, k) in x && x[b, k] > 0) {
                  q = x[a, k] / x[b, k]; if (lo == "" || q < lo) lo = q; if (hi == "" || q > hi) hi = q }
              if (lo == "") print "-"; else printf "%.2f–%.2f", lo, hi }' "$RATE"
}
# inb VALUE RANGE: "VALUE (RANGE)", or VALUE alone when RANGE is "-"
inb() { if [ "$2" = - ] || [ "$1" = - ]; then printf '%s' "$1"; else printf '%s (%s)' "$1" "$2"; fi; }
# mr MEDIAN MIN MAX [PLACES]: "median (min–max)", or "-"
mr() { if [ "$1" = - ]; then printf -- -; else printf '%s (%s–%s)' "$(fmt "$1" "${4:-1}")" "$(fmt "$2" "${4:-1}")" "$(fmt "$3" "${4:-1}")"; fi; }
# fsync per object: ms per object of the successful runs of SIZE VARIANT
fcol() { awk -F'\t' -v s="$1" -v v="$2" '$1 == s && $2 == v && $7 == 1 && $4 > 0 { print $6 * 1000 / $4 }' "$FSYNC"; }
# fpaired SIZE: "min–max" of the per-repetition ratios fsync/nofsync
fpaired() {
    awk -F'\t' -v s="$1" '$1 == s && $7 == 1 && $4 > 0 { x[$2, $3] = $6 / $4; r[$3] = 1 }
        END { lo = ""; for (k in r) if (("fsync", k) in x && ("nofsync", k) in x && x["nofsync", k] > 0) {
                  q = x["fsync", k] / x["nofsync", k]; if (lo == "" || q < lo) lo = q; if (hi == "" || q > hi) hi = q }
              if (lo == "") print "-"; else printf "%.2f–%.2f", lo, hi }' "$FSYNC"
}

# --------------------------------------------------------------- report --

echo "<!-- Generated by bench/report.sh from the bench/run.sh data of $(m date). Do not edit: run the scripts again. -->"
echo "# Performance"
echo
if [ "$QUICK" = 1 ]; then
    echo "**QUICK=1 run**: a small version that proves the script works; the figures are"
    echo "not the benchmark (the committed docs/performance.md comes from full runs only)."
    echo
fi
if [ ${#FAIL_NOTES[@]} -gt 0 ]; then
    echo "**${#FAIL_NOTES[@]} run(s) FAILED** (not counted in the figures):"
    echo
    for x in "${FAIL_NOTES[@]}"; do echo "- $x"; done
    echo
fi
echo "Measured by \`bench/run.sh\` (the benchmark targets and the stall delay) on 127.0.0.1;"
echo "written by \`bench/report.sh\` from its raw data (see Raw data)."
echo "Run it with \`bash bench/run.sh\` (\`QUICK=1\` for the small version, \`REPS=N\`,"
echo "\`BUILD_DIR=...\`); it took $(m elapsed_s) s for this report."
echo
echo "## Machine"
echo
echo "| | |"
echo "|---|---|"
echo "| date | $(m date) |"
echo "| git revision | \`$(m git_rev unknown)\` $(m git_subject '') |"
echo "| CPU | $(m cpu_model unknown), $(m nproc) cores online (nproc), AES-NI: $(m aesni) |"
echo "| RAM | $(m ram) |"
echo "| OS, kernel | $(m os unknown), $(m kernel unknown) |"
echo "| OpenSSL | library package libssl3 $(m libssl_pkg unknown); CLI: $(m openssl_cli unknown) |"
echo "| DCMTK | package dcmtk $(m dcmtk_pkg 'not installed')${M[dcmtk_lib]:+ (${M[dcmtk_lib]})}; stock tools: $(m stock_ver 'not installed') |"
echo "| compilers | C: $(m cc_ver unknown); C++: $(m cxx_ver unknown) |"
STALE=$(m stale '')
echo "| build | \`$(m build_dir)\`, CMAKE_BUILD_TYPE=$(m build_type '?'), DTP_SANITIZE=$(m sanitize OFF); binaries built $(m bin_time) from the working tree$([ -n "$STALE" ] && echo "; **sources changed after that build** ($STALE): the figures are for the binaries, not the current sources") |"
echo "| load average (1, 5, 15 min) | $(m load_start) at the start, $(m load_end) at the end; anything above 0 is other work competing for the $(m nproc) cores and adds noise |"
echo "| files | objects and received files on \`$(m bench_tmp)\` ($(m bench_tmp_fs)) |"
echo
echo "## Targets"
echo
echo "The benchmark targets (and the stall delay), each from this run; ratios are of medians,"
echo "and the verdict is on them. \"best runs\" is the ratio of the fastest run of each variant,"
echo "in the same size order: this VM's interference only ever slows a run down (see the"
echo "min–max columns and the raw data), so it shows what the code does when left alone."
echo
echo "| target | measured | result |"
echo "|---|---|---|"
for p in "${PROFILES[@]}"; do
    worst=- worst_at=- all="" best=""
    for size in "${SIZES[@]}"; do
        r=$(ratio "${MED[$size,$p]}" "${MED[$size,plain]}")
        all+="${all:+, }${SIZE_LABEL[$size]} $r"
        best+="${best:+, }$(ratio "${HI[$size,$p]}" "${HI[$size,plain]}")"
        if [ "$r" != - ] && { [ "$worst" = - ] || awk -v a="$r" -v b="$worst" 'BEGIN { exit !(a < b) }'; }; then
            worst=$r worst_at=${SIZE_LABEL[$size]}
        fi
    done
    echo "| TLS/plain ≥ 0.90 at every size, $p (our apps) | lowest $worst ($worst_at); $all; best runs $best; transport alone (no DICOM): $TRATIO | $(verdict "$worst" '>=' 0.90)$([ "$QUICK" = 1 ] && echo ' (QUICK: 64 KiB and 512 KiB only)') |"
done
for size in 64k 8m; do
    if [ "$STOCK" = 0 ]; then
        echo "| ours/stock TLS ≥ 1.3 at ${SIZE_LABEL[$size]} (both TCP_NODELAY) | stock DCMTK not installed | n/a |"
    elif [[ " ${SIZES[*]} " != *" $size "* ]]; then
        echo "| ours/stock TLS ≥ 1.3 at ${SIZE_LABEL[$size]} (both TCP_NODELAY) | not measured$([ "$QUICK" = 1 ] && echo ' (QUICK=1)') | n/a |"
    else
        r=$(ratio "${MED[$size,bcp195-nd]}" "${MED[$size,stock-nodelay]}")
        echo "| ours/stock TLS ≥ 1.3 at ${SIZE_LABEL[$size]} (both TCP_NODELAY) | $r (bcp195-nd $(fmt "${MED[$size,bcp195-nd]}") vs stock +py $(fmt "${MED[$size,stock-nodelay]}") MB/s); best runs $(ratio "${HI[$size,bcp195-nd]}" "${HI[$size,stock-nodelay]}") | $(verdict "$r" '>=' 1.3) |"
    fi
done
if [ "$STOCK" = 1 ]; then
    r=$(ratio "${MED[64k,$DEFAULT_PROFILE]:--}" "${MED[64k,stock-default]:--}")
    echo "| ours default / stock default ≥ 20× at 64 KiB | ${r}× ($DEFAULT_PROFILE $(fmt "${MED[64k,$DEFAULT_PROFILE]:--}") vs stock +py, Nagle on, $(fmt "${MED[64k,stock-default]:--}" 2) MB/s) | $(verdict "$r" '>=' 20) |"
else
    echo "| ours default / stock default ≥ 20× at 64 KiB | stock DCMTK not installed | n/a |"
fi
echo "| TLS cost per association ≤ 2 ms over plain, with resumption | $OVR_RES_IN ms per association (median $(fmt "${AIN[tls-resumed]}" 2) vs $(fmt "${AIN[plain]}" 2) ms, association request to release); per client run $OVR_RES ms; full handshake $OVR_FULL_IN ms per association, $OVR_FULL ms per run | $(verdict "$OVR_RES_IN" '<=' 2) |"
res_verdict=n/a
if [ "$RES_ALL" -gt 0 ]; then res_verdict=MISS; [ "$RES_N" = "$RES_ALL" ] && res_verdict=PASS; fi
echo "| resumption across separate runs with --session-file | $RES_N of $RES_ALL runs resumed | $res_verdict |"
CPSS_MIB=$(conc_peak_mib conc-tls 6)
echo "| peak memory of dtp-storescp, $CONC_CLIENTS concurrent TLS associations, < 64 MiB (judged by PSS: see Concurrency) | ${CPSS_MIB} MiB summed PSS over the parent and its association processes (highest sample); largest single process RSS $(conc_peak_mib conc-tls 11) MiB; summed RSS $(conc_peak_mib conc-tls 5) MiB, which counts shared pages once per process | $(verdict "$CPSS_MIB" '<' 64) |"
# dtp-check: median wall time of a full scan per target (section 6)
declare -A SCAN_MED=() SCAN_N=() SCAN_LO=() SCAN_HI=() SCAN_PROBES=()
for t in bcp195-nd gnutls:bcp195-nd; do
    read -r SCAN_N[$t] SCAN_MED[$t] SCAN_LO[$t] SCAN_HI[$t] < <(awk -F'\t' -v t="$t" '$1 == t && $6 == 1 { print $3 }' "$SCAN" | summary)
    SCAN_PROBES[$t]=$(awk -F'\t' -v t="$t" '$1 == t && $6 == 1 { p = $5 } END { print p == "" ? "-" : p }' "$SCAN")
done
if [ "${SCAN_N[bcp195-nd]}" = 0 ]; then
    echo "| full dtp-check server scan of one port < 10 s | not measured | n/a |"
else
    echo "| full dtp-check server scan of one port < 10 s | $(fmt "${SCAN_MED[bcp195-nd]}" 2) s (median of ${SCAN_N[bcp195-nd]}, ${SCAN_PROBES[bcp195-nd]} probes and a C-ECHO, dtp-storescp bcp195-nd on OpenSSL; see dtp-check scan) | $(verdict "${SCAN_MED[bcp195-nd]}" '<' 10) |"
fi
STALL_VERDICT=$(verdict "$SDELAY" '<' 100)
[ "$STALL_HELD_OK" != 0 ] || STALL_VERDICT="$STALL_VERDICT (not all stalls were held)"
echo "| extra delay of a transfer with $STALL_SILENT silent + $STALL_HALF half-handshake connections held open < 100 ms | $SDELAY ms (median $(fmt "$SHELD" 1) vs $(fmt "$SBASE" 1) ms); started while they are still being accepted: $SBURST_DELAY ms (see Stall delay) | $STALL_VERDICT |"
echo
echo "## Throughput"
echo
echo "One association per run carries a batch of objects (Secondary Capture, 8-bit random"
echo "pixels, Explicit VR Little Endian; each with its own SOP Instance UID). MB/s = bytes of"
echo "the files sent / wall time of the sending process (start to exit: includes process"
echo "start, reading the files, TLS handshake, association setup and release); 1 MB = 2^20"
echo "bytes, as dtp-storescu prints. $REPS repetitions, variants interleaved round-robin"
echo "(each repetition starts one variant later). Our apps run with their defaults"
echo "(TCP_NODELAY on, maximum PDU 131072), RSA-2048 certificates, client certificates"
echo "required; stock DCMTK runs with its defaults (maximum PDU 16384) plus \`+tls ... +py\`."
echo "CPU s/MB: user+system seconds per MB; sender from GNU time (rusage of the client),"
echo "receiver from the utime+stime+cutime+cstime delta of the SCP parent in /proc/PID/stat"
echo "read after its association process was reaped (stock storescp: one process, same"
echo "fields). SCP peak RSS: highest sum of the RSS of the SCP and its children, sampled"
echo "every 50 ms. Medians, with min–max of MB/s."
if [ "$GNUTLS" = 1 ]; then
    echo "\"GnuTLS\" rows: both apps with \`--tls-backend gnutls\`, in the same round-robin (see Backends)."
fi
echo
echo "Before each timed run the script writes and removes as much memory as the run will"
echo "store (plus two objects and 32 MiB), in the directory the SCP writes to. On this VM,"
echo "memory that has been free for a while costs about 10 times more to touch again than"
echo "memory freed a moment ago (likely given back to the host); without the prefault that cost fell at"
echo "random on some runs (receiver CPU up to 4 times higher). Prefault write rates in this"
echo "run: $(awk -F'\t' '{ print $2 }' "$PREFAULT" | sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "median %.0f MB/s, min %.0f, max %.0f over %d prefaults", v[int((NR + 1) / 2)], v[1], v[NR], NR; else printf "none" }')"
echo "(a low rate means the memory was cold, and the timed run after it got it warm)."
echo
echo "Negotiated (first run of each variant):"
echo
# negotiated VARIANT...: one list item per variant that has a TLS line
negotiated() {
    local v
    for v in "$@"; do
        [ -n "${M[tls.$v]:-}" ] && echo "- ${VLABEL[$v]}: \`${M[tls.$v]#TLS: }\`"
    done
    return 0
}
negotiated "${VARIANTS[@]}"
echo
for size in "${SIZES[@]}"; do
    echo "### ${SIZE_LABEL[$size]} objects ($(fmt "$(awk -v b="$(m "obj_bytes.$size")" 'BEGIN { if (b == "-") print "-"; else print b / 1048576 }')" 3) MB each)"
    echo
    echo "| variant | objects/run | runs ok | MB/s median | MB/s min–max | sender CPU s/MB | receiver CPU s/MB | SCP peak RSS MiB | SCU peak RSS MiB |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    for v in "${VARIANTS[@]}" "${GVARIANTS[@]}"; do
        if is_stock "$v" && [ "$STOCK" = 0 ]; then
            echo "| ${VLABEL[$v]} | - | - | not installed | - | - | - | - | - |"
            continue
        fi
        n=$(m "batch.$size")
        [ "$v" = stock-default ] && n=$(m "batch_nagle.$size")
        read -r _ scu_cpu _ _ < <(xcol "$size" "$v" '$7 / ($5 / 1048576)' | summary)
        read -r _ scp_cpu _ _ < <(xcol "$size" "$v" '$8 / ($5 / 1048576)' | summary)
        read -r _ _ _ scp_rss < <(xcol "$size" "$v" '$9 / 1024' | summary)
        read -r _ _ _ scu_rss < <(xcol "$size" "$v" '$10 / 1024' | summary)
        lohi="$(fmt "${LO[$size,$v]}")–$(fmt "${HI[$size,$v]}")"
        [ "${LO[$size,$v]}" = - ] && lohi=-
        echo "| ${VLABEL[$v]} | $n | ${NOK[$size,$v]}/${NALL[$size,$v]} | $(fmt "${MED[$size,$v]}") | $lohi | $(fmt "$scu_cpu" 4) | $(fmt "$scp_cpu" 4) | $(fmt "$scp_rss" 1) | $(fmt "$scu_rss" 1) |"
    done
    echo
done
echo "### Ratios"
echo
echo "Ratio of the medians; in brackets the range of the per-repetition ratios (the"
echo "variants of one repetition ran back to back)."
echo
hdr="| size |"; sep="|---|"
for p in "${PROFILES[@]}"; do hdr+=" $p / plain |"; sep+="---:|"; done
hdr+=" ours bcp195-nd / stock (TCP_NODELAY=1) | ours default / stock default |"; sep+="---:|---:|"
echo "$hdr"
echo "$sep"
for size in "${SIZES[@]}"; do
    line="| ${SIZE_LABEL[$size]} |"
    for p in "${PROFILES[@]}"; do
        line+=" $(ratio "${MED[$size,$p]}" "${MED[$size,plain]}") ($(paired "$size" "$p" plain)) |"
    done
    if [ "$STOCK" = 1 ]; then
        line+=" $(ratio "${MED[$size,bcp195-nd]}" "${MED[$size,stock-nodelay]}") ($(paired "$size" bcp195-nd stock-nodelay)) |"
        line+=" $(ratio "${MED[$size,$DEFAULT_PROFILE]}" "${MED[$size,stock-default]}") |"
    else
        line+=" not installed | not installed |"
    fi
    echo "$line"
done
echo
echo "\"ours default\" is the $DEFAULT_PROFILE row: our apps with nothing set (TCP_NODELAY is their"
echo "default). Stock with defaults ran a smaller batch (Nagle's algorithm plus delayed ACK"
echo "cost it about 40-50 ms per object); MB/s is a rate, so the batches compare."
echo
echo "## Transport alone (no DICOM)"
echo
if [ ! -s "$TRANSPORT" ]; then
    echo "Not measured: \`tests/tools/dtp-transport-bench\` is not in \`$(m build_dir)\` (a build with tests)."
else
    TRANSPORT_MIB=$(m transport_mib)
    echo "\`tests/tools/dtp-transport-bench\` (source \`bench/transport.c\`): one TCP connection on 127.0.0.1"
    echo "between two threads of one process, $TRANSPORT_MIB MiB in 128 KiB writes, plain or TLS through the"
    echo "library (bcp195-nd, TLS 1.3 AES-128-GCM), the handshake not counted; $REPS runs each, interleaved."
    echo "No DICOM encoding, no files: this is how close TLS can get to plain TCP on this machine"
    echo "before the apps add their own work. CPU s/MB: thread CPU time of the writer and reader."
    echo
    echo "| mode | runs ok | MB/s median | min–max | writer CPU s/MB | reader CPU s/MB |"
    echo "|---|---:|---:|---:|---:|---:|"
    for mode in plain tls; do
        read -r n med lo hi < <(awk -F'\t' -v m="$mode" '$1 == m && $6 == 1 { print $3 }' "$TRANSPORT" | summary)
        read -r _ wc _ _ < <(awk -F'\t' -v m="$mode" -v mib="$TRANSPORT_MIB" '$1 == m && $6 == 1 { print $4 / mib }' "$TRANSPORT" | summary)
        read -r _ rc _ _ < <(awk -F'\t' -v m="$mode" -v mib="$TRANSPORT_MIB" '$1 == m && $6 == 1 { print $5 / mib }' "$TRANSPORT" | summary)
        echo "| $([ "$mode" = tls ] && echo "TLS bcp195-nd" || echo "plain TCP") | $n/$(rows "$TRANSPORT" 1 "$mode") | $(fmt "$med") | $(fmt "$lo")–$(fmt "$hi") | $(fmt "$wc" 5) | $(fmt "$rc" 5) |"
    done
    echo
    echo "TLS/plain, transport alone: **$TRATIO** (ratio of the medians)."
fi
echo
echo "## dtp-check scan"
echo
if [ "${SCAN_N[bcp195-nd]}" = 0 ]; then
    echo "Not measured (no \`apps/dtp-check\` in the build, or BENCH_ONLY)."
else
    echo "\`dtp-check\` with its defaults (8 probes at a time, 3 s timeout each) against the throughput"
    echo "SCP of bcp195-nd: every probe of the plan, then an association with C-ECHO. Wall time of the"
    echo "dtp-check process; medians, min–max."
    echo
    echo "| target | scans ok | wall s median | min–max | probes |"
    echo "|---|---:|---:|---:|---:|"
    for t in bcp195-nd gnutls:bcp195-nd; do
        [ "${SCAN_N[$t]}" != 0 ] || continue
        echo "| dtp-storescp $([ "$t" = bcp195-nd ] && echo "bcp195-nd (OpenSSL)" || echo "bcp195-nd (GnuTLS)") | ${SCAN_N[$t]}/$(rows "$SCAN" 1 "$t") | $(fmt "${SCAN_MED[$t]}" 2) | $(fmt "${SCAN_LO[$t]}" 2)–$(fmt "${SCAN_HI[$t]}" 2) | ${SCAN_PROBES[$t]} |"
    done
fi
echo
echo "## Association rate"
echo
echo "$(m assoc_n) separate client runs per variant (interleaved), each one association carrying"
echo "one $(fmt "$(awk -v b="$(m obj_bytes.64k)" 'BEGIN { if (b == "-") print "-"; else print b / 1024 }')" 1) KiB object. Per run: wall time of the client process (start to exit), and for"
echo "our SCU the time it reports itself from association request to release (\"association\")."
echo "Our SCP: dtp-storescp (plain / bcp195-nd, RSA-2048, client certificate required);"
echo "TLS resumed: \`dtp-storescu --session-file\`, primed by one run before the measurement."
if [ "$GNUTLS" = 1 ]; then
    echo "GnuTLS: both apps with \`--tls-backend gnutls\`, a session file of its own (primed the same way)."
fi
echo
echo "| variant | runs ok | ms per run, median | min–max | association ms, median | overhead over plain (per run / association) |"
echo "|---|---:|---:|---:|---:|---:|"
declare -A ALABEL=([plain]="ours, plain TCP" [tls-full]="ours, TLS bcp195-nd, full handshake"
    [tls-resumed]="ours, TLS bcp195-nd, resumed (--session-file)"
    [gnutls-full]="ours, GnuTLS bcp195-nd, full handshake"
    [gnutls-resumed]="ours, GnuTLS bcp195-nd, resumed (--session-file)"
    [stock-plain]="stock DCMTK, plain TCP (TCP_NODELAY=1)"
    [stock-tls]="stock DCMTK, TLS +py (TCP_NODELAY=1), full handshake")
AVARIANTS=(plain tls-full tls-resumed)
[ "$GNUTLS" = 1 ] && AVARIANTS+=(gnutls-full gnutls-resumed)
AVARIANTS+=(stock-plain stock-tls)
for a in "${AVARIANTS[@]}"; do
    if [[ $a == stock-* ]] && [ "$STOCK" = 0 ]; then
        echo "| ${ALABEL[$a]} | - | not installed | - | - | - |"
        continue
    fi
    case $a in
        plain | stock-plain) o="-" ;;
        stock-tls) o="$(sub "${AMED[stock-tls]}" "${AMED[stock-plain]}") ms / -" ;;
        *) o=$(over_plain "$a") ;;
    esac
    echo "| ${ALABEL[$a]} | ${AN[$a]}/${AALL[$a]} | $(fmt "${AMED[$a]}" 2) | $(fmt "${ALO[$a]}" 2)–$(fmt "${AHI[$a]}" 2) | $(fmt "${AIN[$a]}" 2) | $o |"
done
echo
echo "Resumed: $RES_N of $RES_ALL runs with --session-file said \"resumed\"; without a session"
echo "file ${ARES[tls-full]} of ${AN[tls-full]} did (expected 0: a new process starts without a session)."
if [ "$GNUTLS" = 1 ]; then
    echo "GnuTLS: ${ARES[gnutls-resumed]} of ${AALL[gnutls-resumed]} runs with --session-file resumed, ${ARES[gnutls-full]} of ${AN[gnutls-full]} without."
fi
echo
echo "## Association rate under load"
echo
RATE_PROFILE=$(m rate_profile bcp195-nd)
if [ ! -s "$RATE" ]; then
    echo "Not measured (BENCH_ONLY, or raw data from before this section existed)."
else
    echo "$(m rate_clients) clients at once, each running its client $(m rate_per) times in a row (one association"
    echo "per run, carrying one $(fmt "$(awk -v b="$(m obj_bytes.64k)" 'BEGIN { if (b == "-") print "-"; else print b / 1024 }')" 1) KiB object of its own), into one SCP; $(m rate_rounds) round(s), every"
    echo "variant once per round, round-robin (each round starts one variant later). Associations/s ="
    echo "associations that succeeded / time from the first client's start to the last one's exit:"
    echo "each includes starting the client process, the TLS handshake, the association, one"
    echo "C-STORE and the release. TLS $RATE_PROFILE on both SCPs (stock: \`+tls ... $(case $RATE_PROFILE in bcp195) echo +px ;; bcp195-ex) echo +pz ;; *) echo +py ;; esac)\`, \`--fork\`, TCP_NODELAY=1),"
    echo "RSA-2048 certificates, client certificates required; received files on \`$(m bench_tmp)\` ($(m bench_tmp_fs))."
    echo "The clients are our \`dtp-storescu\` into both SCPs (resumed: \`--session-file\`, one per client"
    echo "and SCP, primed by one untimed run), so only the SCP differs; stock \`storescu\` into stock"
    echo "storescp is there for reference. SCP CPU: user+system seconds of the SCP's whole process"
    echo "tree (the listener and its association processes, /proc/PID/stat, read when the SCP is idle"
    echo "again) per association; clients' CPU: GNU time over each client's loop. On $(m nproc) cores the"
    echo "clients and the SCP share the CPU, so the SCP's cost shows in associations/s only in part;"
    echo "its CPU per association is the direct figure."
    echo
    echo "| SCP | clients | handshakes | rounds ok | associations/s, median | min–max | resumed | SCP CPU ms/association | clients' CPU ms/association |"
    echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
    declare -A RLABEL=(
        [ours-full]="dtp-storescp | dtp-storescu | full"
        [ours-resumed]="dtp-storescp | dtp-storescu --session-file | resumed"
        [base-full]="baseline dtp-storescp | dtp-storescu | full"
        [base-resumed]="baseline dtp-storescp | dtp-storescu --session-file | resumed"
        [stock-full]="stock storescp --fork | dtp-storescu | full"
        [stock-resumed]="stock storescp --fork | dtp-storescu --session-file | resumed"
        [stockcli-full]="stock storescp --fork | stock storescu | full")
    for v in "${RVARS[@]}"; do
        if [[ $v == base-* ]] && [ "${RALL[$v]}" = 0 ]; then continue; fi
        if [[ $v == stock* ]] && [ "$STOCK" = 0 ]; then
            echo "| ${RLABEL[$v]} | - | not installed | - | - | - | - |"
            continue
        fi
        lohi="$(fmt "${RLO[$v]}")–$(fmt "${RHI[$v]}")"
        [ "${RLO[$v]}" = - ] && lohi=-
        echo "| ${RLABEL[$v]} | ${RN[$v]}/${RALL[$v]} | $(fmt "${RMED[$v]}") | $lohi | ${RRES[$v]} | $(fmt "${RSCP[$v]}" 2) | $(fmt "${RCLI[$v]}" 2) |"
    done
    echo
    echo "Ours/stock, the same clients: ratio of the medians; in brackets the range of the per-round"
    echo "ratios (the variants of one round ran back to back)."
    echo
    echo "| handshakes | ours associations/s | stock associations/s | ours/stock | ours SCP CPU ms/association | stock SCP CPU ms/association | ours/stock SCP CPU |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    for h in full resumed; do
        if [ "$STOCK" = 0 ]; then
            echo "| $h | $(fmt "${RMED[ours-$h]}") | not installed | - | $(fmt "${RSCP[ours-$h]}" 2) | - | - |"
            continue
        fi
        echo "| $h | $(fmt "${RMED[ours-$h]}") | $(fmt "${RMED[stock-$h]}") | $(inb "$(ratio "${RMED[ours-$h]}" "${RMED[stock-$h]}")" "$(rpaired "ours-$h" "stock-$h" '$5 / $7')") | $(fmt "${RSCP[ours-$h]}" 2) | $(fmt "${RSCP[stock-$h]}" 2) | $(inb "$(ratio "${RSCP[ours-$h]}" "${RSCP[stock-$h]}")" "$(rpaired "ours-$h" "stock-$h" '$8 / $5')") |"
    done
    echo
    echo "Negotiated (first client of each variant):"
    echo
    for v in ours-full ours-resumed base-full stock-full stock-resumed; do
        [ -z "${M[rate_tls.$v]:-}" ] || echo "- ${RLABEL[$v]%% |*}, ${v#*-}: \`${M[rate_tls.$v]#TLS: }\`"
    done
fi
echo
echo "## Baseline vs current dtp-storescp"
echo
if [ "${RALL[base-full]}" = 0 ] && [ "${RALL[base-resumed]}" = 0 ]; then
    echo "Not measured: $(m baseline_note 'no baseline in this run'). To compare, build the other revision in a"
    echo "directory of its own (\`git archive REV | tar -x -C DIR\`, then \`BUILD_DIR=DIR/build"
    echo "scripts/build.sh\` in DIR) and run \`BENCH_BASELINE_BUILD=DIR/build bash bench/run.sh\`: its"
    echo "dtp-storescp then runs in the rounds of Association rate under load, beside the current one."
else
    echo "The association rate rounds above with the dtp-storescp of \`$(m baseline_build)\` as \"baseline\""
    echo "(source \`$(m baseline_src)\`, revision $(m baseline_rev), binary built $(m baseline_bin_time)) and this"
    echo "build's as \"current\" (revision $(m git_rev unknown)): the same clients (this build's dtp-storescu),"
    echo "profile, objects and rounds, interleaved. Ratio of the medians; in brackets the range of"
    echo "the per-round ratios; baseline and current associations/s as median (min–max)."
    echo
    echo "| handshakes | baseline associations/s | current associations/s | current/baseline | baseline SCP CPU ms/association | current SCP CPU ms/association | current/baseline SCP CPU |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    for h in full resumed; do
        echo "| $h | $(mr "${RMED[base-$h]}" "${RLO[base-$h]}" "${RHI[base-$h]}") | $(mr "${RMED[ours-$h]}" "${RLO[ours-$h]}" "${RHI[ours-$h]}") | $(inb "$(ratio "${RMED[ours-$h]}" "${RMED[base-$h]}")" "$(rpaired "ours-$h" "base-$h" '$5 / $7')") | $(fmt "${RSCP[base-$h]}" 2) | $(fmt "${RSCP[ours-$h]}" 2) | $(inb "$(ratio "${RSCP[ours-$h]}" "${RSCP[base-$h]}")" "$(rpaired "ours-$h" "base-$h" '$8 / $5')") |"
    done
    echo
    echo "Rounds ok: baseline ${RN[base-full]}/${RALL[base-full]} full, ${RN[base-resumed]}/${RALL[base-resumed]} resumed; current ${RN[ours-full]}/${RALL[ours-full]} full, ${RN[ours-resumed]}/${RALL[ours-resumed]} resumed. Resumed: baseline ${RRES[base-resumed]}, current ${RRES[ours-resumed]}."
fi
echo
echo "## Concurrency"
echo
echo "$CONC_CLIENTS dtp-storescu processes started at once into one dtp-storescp, each sending"
echo "$CONC_PER × ${SIZE_LABEL[$CONC_SIZE]} over its own association; $CONC_REPS run(s) each, TLS and plain"
echo "interleaved. Aggregate MB/s = all bytes / time from the first start to the last exit."
echo "Peak RSS: every ~50 ms the RSS (/proc/PID/statm) of the dtp-storescp parent and each of"
echo "its association processes (/proc/PID/task/PID/children) is summed; the table shows the"
echo "highest sum. Summed RSS counts the pages the forked processes share (libraries, the"
echo "parent's copy-on-write heap) once per process; PSS (/proc/PID/smaps_rollup, sampled the"
echo "same way) divides shared pages among the processes that map them, so its sum is the"
echo "memory the tree really uses. The memory target is judged by that sum: dtp-storescp"
echo "runs each association in a forked process (a stalled or crashing peer cannot take the"
echo "listener with it), and summed RSS would count every shared library and every"
echo "copy-on-write page of the listener once per association. The largest single"
echo "process is shown as well."
echo
echo "| variant | runs ok | aggregate MB/s, median | min–max | peak sum RSS MiB | peak sum PSS MiB | largest process RSS MiB | SCP processes, peak (parent + associations) | receiver CPU s/MB | senders' CPU s/MB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for name in conc-tls conc-plain; do
    read -r n cm clo chi < <(awk -F'\t' -v n="$name" '$1 == n && $10 == 1 { print $3 / 1048576 / $4 }' "$CONC" | summary)
    read -r _ _ _ npmax < <(awk -F'\t' -v n="$name" '$1 == n && $10 == 1 { print $7 }' "$CONC" | summary)
    read -r _ rc _ _ < <(awk -F'\t' -v n="$name" '$1 == n && $10 == 1 { print $8 / ($3 / 1048576) }' "$CONC" | summary)
    read -r _ sc _ _ < <(awk -F'\t' -v n="$name" '$1 == n && $10 == 1 && $9 > 0 { print $9 / ($3 / 1048576) }' "$CONC" | summary)
    label="ours, plain TCP"
    [ "$name" = conc-tls ] && label="ours, TLS bcp195-nd"
    echo "| $label | $n/$(rows "$CONC" 1 "$name") | $(fmt "$cm") | $(fmt "$clo")–$(fmt "$chi") | $(conc_peak_mib "$name" 5) | $(conc_peak_mib "$name" 6) | $(conc_peak_mib "$name" 11) | $npmax | $(fmt "$rc" 4) | $(fmt "$sc" 4) |"
done
echo
echo "## Stall delay"
echo
echo "A dtp-storescp (bcp195-nd, \`--handshake-timeout 600\`, so nothing times out during the"
echo "measurement) gets $STALL_SILENT TCP connections that send nothing and $STALL_HALF that send"
echo "$(m stall_half_kind). Each round: a transfer of one 64 KiB object with no stalled"
echo "connection (baseline); then the $STALL_TOTAL connections are opened; a transfer right away"
echo "(burst: the SCP is still accepting and answering them); a transfer once every stalled"
echo "connection has its own association process and, for the half-handshake ones, the"
echo "SCP's answer has arrived (held); then they are closed. $STALL_ROUNDS rounds; wall time of the"
echo "dtp-storescu process; extra delay = median − median of the baseline."
echo
echo "| phase | runs ok | ms, median | min–max | extra delay over baseline, ms |"
echo "|---|---:|---:|---:|---:|"
for ph in baseline burst held; do
    read -r n med lo hi < <(scol "$ph" | summary)
    d=-
    [ "$ph" = burst ] && d=$SBURST_DELAY
    [ "$ph" = held ] && d=$SDELAY
    echo "| $ph | $n/$(rows "$STALL" 2 "$ph") | $(fmt "$med" 1) | $(fmt "$lo" 1)–$(fmt "$hi" 1) | $d |"
done
echo
held=yes
[ "$STALL_HELD_OK" = 1 ] || held=NO
[ "$STALL_HELD_OK" = - ] && held=-
echo "All stalled connections held during the \"held\" transfers: $held."
echo "Failures other than the expected HANDSHAKE_EOF (213, when the stalls were closed) in the SCP log: $STALL_OTHER."
echo
echo "## fsync per object"
echo
FS_NOTE=$(m fsync_nofsync yes)
if [ ! -s "$FSYNC" ]; then
    echo "Not measured (BENCH_ONLY, or raw data from before this section existed)."
else
    echo "dtp-storescp (TLS $(m rate_profile bcp195-nd)) receiving into \`$(m fsync_dir)\` ($(m fsync_fs)),"
    echo "as it is (every object flushed to disk before it is acknowledged) and with \`--no-fsync\`; one"
    echo "association of a batch of objects per run, $(m fsync_reps) repetition(s), the two interleaved. After each"
    echo "run its files are moved aside (removed when the section is done), and before each run the"
    echo "file system is synced (\`sync -f\`), so no run pays for another's writeback; without fsync"
    echo "the data is still in the page cache when the run ends. ms per object = wall time of the"
    echo "dtp-storescu process / objects (process start, handshake and association included, the"
    echo "same in both); fsync cost = difference of the medians."
    echo
    echo "| size | objects/run | runs ok, fsync / no-fsync | ms per object with fsync, median | min–max | ms per object with --no-fsync, median | min–max | fsync cost, ms per object | with/without fsync |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    read -r -a FSIZES <<< "$(m fsync_sizes '64k 8m')"
    for size in "${FSIZES[@]}"; do
        read -r fn fmed flo fhi < <(fcol "$size" fsync | summary)
        fall=$(awk -F'\t' -v s="$size" '$1 == s && $2 == "fsync" { n++ } END { print n + 0 }' "$FSYNC")
        if [ "$FS_NOTE" != yes ]; then
            echo "| $(size_label "$size") | $(m "fsync_batch.$size") | $fn/$fall / - | $(fmt "$fmed" 2) | $(fmt "$flo" 2)–$(fmt "$fhi" 2) | $FS_NOTE | - | n/a | n/a |"
            continue
        fi
        read -r nn nmed nlo nhi < <(fcol "$size" nofsync | summary)
        nall=$(awk -F'\t' -v s="$size" '$1 == s && $2 == "nofsync" { n++ } END { print n + 0 }' "$FSYNC")
        echo "| $(size_label "$size") | $(m "fsync_batch.$size") | $fn/$fall / $nn/$nall | $(fmt "$fmed" 2) | $(fmt "$flo" 2)–$(fmt "$fhi" 2) | $(fmt "$nmed" 2) | $(fmt "$nlo" 2)–$(fmt "$nhi" 2) | $(sub "$fmed" "$nmed") | $(inb "$(ratio "$fmed" "$nmed")" "$(fpaired "$size")") |"
    done
    [ "$FS_NOTE" = yes ] || { echo; echo "Without fsync: $FS_NOTE (this dtp-storescp's --help has no such option)."; }
    case $(m fsync_fs) in tmpfs*) echo; echo "**The directory is on tmpfs, where fsync does nothing**: set BENCH_FSYNC_DIR to a disk." ;; esac
fi
echo
echo "## Audit trail"
echo
# acol VARIANT COLUMN: that column (5 wall_s, 6 xfer_s) of the successful runs, in ms
acol() { awk -F'\t' -v v="$1" -v c="$2" '$1 == v && $7 == 1 && $c != "-" { print $c * 1000 }' "$AUDIT"; }
# apaired VARIANT COLUMN: "min–max" of the per-repetition ratios VARIANT/none
apaired() {
    awk -F'\t' -v a="$1" -v c="$2" '$7 == 1 && $c != "-" && ($1 == a || $1 == "none") { x[$1, $2] = $c; r[$2] = 1 }
        END { lo = ""; for (k in r) if ((a, k) in x && ("none", k) in x && x["none", k] > 0) {
                  q = x[a, k] / x["none", k]; if (lo == "" || q < lo) lo = q; if (hi == "" || q > hi) hi = q }
              if (lo == "") print "-"; else printf "%.2f–%.2f", lo, hi }' "$AUDIT"
}
if [ ! -s "$AUDIT" ]; then
    echo "Not measured ($(m audit_note 'BENCH_ONLY, or raw data from before this section existed'))."
else
    echo "dtp-storescp (TLS $(m rate_profile bcp195-nd)) receiving $(m audit_batch) objects of 512 KiB per run"
    echo "(one dtp-storescu association), $(m audit_reps) repetition(s), the variants interleaved: no \`--audit\`;"
    echo "\`--audit file:\` (every message made, spooled, fsynced and written); \`--audit tls://\` to a"
    echo "closed port (repository down) and to a listener that accepts and never answers (silent). The"
    echo "client has no \`--audit\`. Wall = the dtp-storescu process; transfer = its own"
    echo "association-to-release time (the summary line). Ratio to \"none\" of the medians; in"
    echo "brackets the range of the per-repetition ratios."
    echo
    echo "| variant | runs ok | wall ms, median | min–max | transfer ms, median | min–max | wall / none | transfer / none |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    read -r _ ANONE_W _ _ < <(acol none 5 | summary)
    read -r _ ANONE_X _ _ < <(acol none 6 | summary)
    for v in none file down silent; do
        grep -qP "^$v\\t" "$AUDIT" || continue
        aall=$(awk -F'\t' -v v="$v" '$1 == v { n++ } END { print n + 0 }' "$AUDIT")
        read -r an wmed wlo whi < <(acol "$v" 5 | summary)
        read -r _ xmed xlo xhi < <(acol "$v" 6 | summary)
        if [ "$v" = none ]; then
            rw=- rx=-
        else
            rw=$(inb "$(ratio "$wmed" "$ANONE_W")" "$(apaired "$v" 5)")
            rx=$(inb "$(ratio "$xmed" "$ANONE_X")" "$(apaired "$v" 6)")
        fi
        echo "| $v | $an/$aall | $(fmt "$wmed" 1) | $(fmt "$wlo" 1)–$(fmt "$whi" 1) | $(fmt "$xmed" 1) | $(fmt "$xlo" 1)–$(fmt "$xhi" 1) | $rw | $rx |"
    done
    echo
    echo "Messages waiting in the spool afterwards (Application Start and one Instances Transferred"
    echo "per run expected: $(m audit_expected)): down $(m audit_spooled.down), silent $(m audit_spooled.silent);"
    echo "lines written by the file sink: $(m audit_file_lines)."
fi
echo
echo "## Backends"
echo
if [ "$GNUTLS" != 1 ]; then
    echo "Our apps on OpenSSL only: the GnuTLS backend was not measured ($(m gnutls_note 'no GnuTLS data in this run'))."
else
    echo "Our apps on each TLS backend: OpenSSL (the default; the rows above) and GnuTLS"
    echo "(\`--tls-backend gnutls\` on both apps; library package libgnutls30 $(m gnutls_pkg unknown)), the same"
    echo "batches in the same round-robin. Concurrency, the stall delay and the transport alone"
    echo "run on OpenSSL only. Ratio of the medians; in brackets the range of the per-repetition"
    echo "ratios."
    echo
    for size in "${SIZES[@]}"; do
        echo "### ${SIZE_LABEL[$size]} objects by backend"
        echo
        echo "| profile | OpenSSL MB/s median | GnuTLS MB/s median | GnuTLS/OpenSSL |"
        echo "|---|---:|---:|---:|"
        for p in "${PROFILES[@]}"; do
            echo "| $p | $(fmt "${MED[$size,$p]}") | $(fmt "${MED[$size,gnutls:$p]}") | $(ratio "${MED[$size,gnutls:$p]}" "${MED[$size,$p]}") ($(paired "$size" "gnutls:$p" "$p")) |"
        done
        echo
    done
    echo "### Association cost by backend"
    echo
    echo "bcp195-nd, ms over ours plain TCP (medians of the Association rate rows: per client run /"
    echo "per association, association request to release)."
    echo
    echo "| backend | full handshake | resumed (--session-file) | runs resumed |"
    echo "|---|---:|---:|---:|"
    echo "| OpenSSL | $(over_plain tls-full) | $(over_plain tls-resumed) | $RES_N of $RES_ALL |"
    echo "| GnuTLS | $(over_plain gnutls-full) | $(over_plain gnutls-resumed) | ${ARES[gnutls-resumed]} of ${AALL[gnutls-resumed]} |"
    echo
    echo "Negotiated on GnuTLS (first run of each variant):"
    echo
    negotiated "${GVARIANTS[@]}"
fi
echo
echo "## Raw data"
echo
echo "The raw data of this report is in \`$RAW\` (meta, xfer.tsv, assoc.tsv, conc.tsv,"
echo "stall.tsv, transport.tsv, prefault.tsv, scan.tsv, rate.tsv, fsync.tsv, audit.tsv); \`bash bench/report.sh $RAW > FILE\`"
echo "writes this report again from it."
echo
echo "<details><summary>every run (tab-separated)</summary>"
echo
echo '```'
echo "# throughput: size variant rep objects bytes wall_s sender_cpu_s receiver_cpu_s scp_peak_rss_kib scu_peak_rss_kib ok"
cat "$XFER"
echo "# association: variant run wall_ms association_ms resumed ok"
cat "$ASSOC"
echo "# concurrency: variant rep bytes wall_s peak_sum_rss_kib peak_sum_pss_kib peak_processes receiver_cpu_s senders_cpu_s ok largest_process_rss_kib"
cat "$CONC"
echo "# stall: round phase wall_ms transfer_ms ok"
cat "$STALL"
echo "# dtp-check scan: target rep wall_s scan_s probes ok"
cat "$SCAN"
echo "# association rate under load: variant round clients associations ok_associations resumed wall_s scp_cpu_s clients_cpu_s ok"
cat "$RATE"
echo "# fsync per object: size variant rep objects bytes wall_s ok"
cat "$FSYNC"
echo '```'
echo
echo "</details>"
