#!/usr/bin/env bash
# interop-report.sh RESULTS_DIR OUT.md [TEST...]
#
# Writes the interop matrix (docs/interop.md) from the result rows that the
# interop tests (tests/e2e/interop*.sh, CTest label `interop`) leave in
# RESULTS_DIR: one TSV file per test,
#   peer<TAB>profile<TAB>direction<TAB>outcome<TAB>version<TAB>suite<TAB>note
# plus "#peer<TAB>NAME<TAB>VERSION" lines and TEST.<n>.md evidence files.
# TEST...: the tests whose results the report must contain (CTest passes the
# registered interop tests); a missing or empty one is listed as not run.
#
# Exit: 0 written; 77 nothing to report, or written but some TEST has no
# results (skipped or not run: the matrix is incomplete); 1 a malformed row
# or an error.
#
# CTest runs it as `interop.report` after the other interop tests and writes
# BUILD/docs/interop.md; the committed docs/interop.md is a copy of that
# file from a full run:
#   ctest -L interop && cp BUILD/docs/interop.md docs/interop.md
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: $0 RESULTS_DIR OUT.md [TEST...]" >&2; exit 1; }
dir=$1 out=$2
shift 2
expected=("$@")

# Nothing to report is "not run", not a failure.
[ -d "$dir" ] || { echo "interop-report: no results directory $dir (run ctest -L interop first)"; exit 77; }
mapfile -t files < <(find "$dir" -maxdepth 1 -name '*.tsv' -type f | sort)
[ ${#files[@]} -gt 0 ] || { echo "interop-report: no result files in $dir (run ctest -L interop first)"; exit 77; }

# Tests expected but without rows.
missing=()
for t in "${expected[@]}"; do
    f=$dir/$t.tsv
    if [ ! -s "$f" ] || ! grep -qv '^#' "$f"; then missing+=("$t"); fi
done

# Malformed rows stop the report.
bad=$(awk -F'\t' '!/^#/ && (NF != 7 || $4 !~ /^(pass|pinned|peer-fault|fail)$/) {
          printf "%s:%d: %s\n", FILENAME, FNR, substr($0, 1, 120) }' "${files[@]}")
if [ -n "$bad" ]; then
    echo "interop-report: malformed result rows:" >&2
    echo "$bad" >&2
    exit 1
fi

mkdir -p "$(dirname "$out")"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

# One stream: TEST<TAB>row, in file order (each test writes in a fixed order).
for f in "${files[@]}"; do
    t=$(basename "$f" .tsv)
    awk -v t="$t" '{ print t "\t" $0 }' "$f"
done > "$tmp"

{
awk -F'\t' -v missing="${missing[*]}" '
function esc(s) { gsub(/\|/, "\\|", s); return s }
function dirname_of(d) {
    if (d == "peer->dtp-storescp") return "peer → dtp-storescp"
    if (d == "dtp-storescu->peer") return "dtp-storescu → peer"
    if (d == "scan->dtp-storescp") return "scanner → dtp-storescp"
    if (d == "peer->s_server") return "peer → openssl s_server (peer only)"
    return d
}
function outcome_name(o) {
    if (o == "pass") return "pass"
    if (o == "pinned") return "pinned refusal"
    if (o == "peer-fault") return "peer fault"
    return "**FAIL**"
}
# note_pass KEY VERSION SUITE: remember a negotiated (version, suite) of a
# matrix cell; SUITE "" for scans (versions only).
function note_pass(key, v, s,   k) {
    k = key SUBSEP v
    if (!(k in vseen)) { vseen[k] = 1; nv[key]++; vlist[key, nv[key]] = v }
    if (s == "") return
    k = key SUBSEP v SUBSEP s
    if (k in sseen) return
    sseen[k] = 1
    ns[key, v]++
    ncombo[key]++
    combo[key, ncombo[key]] = v " " s
}
# cell_text KEY: up to two combinations in full, else suites per version.
function cell_text(key,   t, i, v) {
    if (!(key in nv)) return ""
    t = ""
    if (!(key in ncombo)) {
        for (i = 1; i <= nv[key]; i++) t = t (i > 1 ? ", " : "") vlist[key, i]
        return t
    }
    if (ncombo[key] <= 2) {
        for (i = 1; i <= ncombo[key]; i++) t = t (i > 1 ? "<br>" : "") combo[key, i]
        return t
    }
    for (i = 1; i <= nv[key]; i++) {
        v = vlist[key, i]
        t = t (i > 1 ? "<br>" : "") v ": " ns[key, v] " suite" (ns[key, v] > 1 ? "s" : "")
    }
    return t
}
BEGIN {
    # Fixed orders; anything else is appended in order of appearance.
    np = split("openssl gnutls dcmtk orthanc sslscan nmap sslscan+nmap", po, " ")
    for (i = 1; i <= np; i++) prank[po[i]] = i
    nprof = split("bcp195 bcp195-nd bcp195-ex cryptrec bcp195-8996 bcp195-8996-mod", prof, " ")
    for (i = 1; i <= nprof; i++) profrank[prof[i]] = i
    nd = split("peer->dtp-storescp dtp-storescu->peer scan->dtp-storescp peer->s_server", dord, " ")
    for (i = 1; i <= nd; i++) drank[dord[i]] = i
}
$2 == "#peer" {
    if (!($3 in pver)) { pver[$3] = $4; pverorder[++npv] = $3 }
    next
}
{
    test = $1; peer = $2; p = $3; d = $4; o = $5; v = $6; s = $7; note = $8
    n++
    R_test[n] = test; R_peer[n] = peer; R_prof[n] = p; R_dir[n] = d; R_out[n] = o
    R_v[n] = v; R_s[n] = s; R_note[n] = note
    if (!(peer in prank)) { prank[peer] = ++np; po[np] = peer }
    if (!(p in profrank)) { profrank[p] = ++nprof; prof[nprof] = p }
    if (!(d in drank)) { drank[d] = ++nd; dord[nd] = d }
    total[o]++
    cnt[peer, d, o]++; pd[peer, d] = 1
    cell[peer, d, p, o]++; haveprof[peer, d, p] = 1
    # Negotiated version/suite of passing handshakes; for scans (whose
    # suite column lists everything found) the versions only.
    if (o == "pass" && v != "-" && s !~ /^\(/) {
        if (d ~ /^scan/) { nw = split(v, vw, " "); for (w = 1; w <= nw; w++) note_pass(peer SUBSEP d SUBSEP p, vw[w], "") }
        else note_pass(peer SUBSEP d SUBSEP p, v, s)
    }
}
END {
    print "# Interoperability matrix"
    print ""
    print "Generated by `scripts/interop-report.sh` from the result rows of the CTest"
    print "interop tests (label `interop`, `tests/e2e/interop*.sh`); do not edit by hand."
    print "Regenerate with `ctest -L interop` in a build directory (test `interop.report`"
    print "writes `BUILD/docs/interop.md`) and copy that file here."
    print ""
    print "Every row is one handshake, transfer or scan check against software nobody"
    print "here wrote, judged against the profile table (`dtp-storescu --list-profiles`):"
    print ""
    print "- **pass**: connected (or scanned) exactly as the profile says; the"
    print "  negotiated version and suite are shown;"
    print "- **pinned refusal**: refused, as the profile says, with the expected provider"
    print "  reason (C6) on our side;"
    print "- **peer fault**: the peer misbehaves or cannot check something; the evidence"
    print "  is below;"
    print "- **FAIL**: differs from what the profile says, a bug on our side (its test"
    print "  fails too)."
    print ""
    print "## Summary"
    print ""
    printf "%d checks: **%d passed**, **%d pinned refusals**, %d peer faults, %d failures.\n", \
        n, total["pass"], total["pinned"], total["peer-fault"], total["fail"]
    if (missing != "") {
        print ""
        print "**Incomplete:** no results from " missing " (skipped or not run)."
    }
    print ""
    print "| peer | direction | pass | pinned refusal | peer fault | FAIL |"
    print "|---|---|---:|---:|---:|---:|"
    for (i = 1; i <= np; i++) for (j = 1; j <= nd; j++) {
        peer = po[i]; d = dord[j]
        if (!((peer, d) in pd)) continue
        printf "| %s | %s | %d | %d | %d | %s |\n", peer, dirname_of(d), \
            cnt[peer, d, "pass"], cnt[peer, d, "pinned"], cnt[peer, d, "peer-fault"], \
            cnt[peer, d, "fail"] ? "**" cnt[peer, d, "fail"] "**" : "0"
    }
    print ""
    print "## Matrix: peer × profile × direction"
    print ""
    print "Each cell: passed / pinned refusals (and peer faults, failures where there"
    print "are any), then what the passing checks negotiated: the version and suite,"
    print "or the number of distinct suites per version (all listed under Details);"
    print "for scanners, the versions found."
    print ""
    printf "| peer | direction |"
    for (k = 1; k <= nprof; k++) printf " %s |", prof[k]
    print ""
    printf "|---|---|"
    for (k = 1; k <= nprof; k++) printf "---|"
    print ""
    for (i = 1; i <= np; i++) for (j = 1; j <= nd; j++) {
        peer = po[i]; d = dord[j]
        if (!((peer, d) in pd)) continue
        printf "| %s | %s |", peer, dirname_of(d)
        for (k = 1; k <= nprof; k++) {
            p = prof[k]
            if (!((peer, d, p) in haveprof)) { printf " – |"; continue }
            c = sprintf("%d / %d", cell[peer, d, p, "pass"], cell[peer, d, p, "pinned"])
            if (cell[peer, d, p, "peer-fault"]) c = c sprintf(", %d peer fault%s", cell[peer, d, p, "peer-fault"], cell[peer, d, p, "peer-fault"] > 1 ? "s" : "")
            if (cell[peer, d, p, "fail"]) c = c sprintf(", **%d FAIL**", cell[peer, d, p, "fail"])
            t = cell_text(peer SUBSEP d SUBSEP p)
            if (t != "") c = c "<br>" t
            printf " %s |", esc(c)
        }
        print ""
    }
    print ""
    print "## Peers"
    print ""
    print "| peer | version |"
    print "|---|---|"
    for (i = 1; i <= npv; i++) printf "| %s | %s |\n", pverorder[i], esc(pver[pverorder[i]])
    print ""
    print "## Failures (our side)"
    print ""
    nf = 0
    for (r = 1; r <= n; r++) if (R_out[r] == "fail") {
        if (!nf++) { print "| test | peer | profile | direction | version | suite | what happened |"; print "|---|---|---|---|---|---|---|" }
        printf "| %s | %s | %s | %s | %s | %s | %s |\n", R_test[r], R_peer[r], R_prof[r], dirname_of(R_dir[r]), R_v[r], esc(R_s[r]), esc(R_note[r])
    }
    if (!nf) print "None."
    print ""
    print "## Peer faults"
    print ""
    print "Interop problems that are the peer'"'"'s, with the evidence; none is counted as"
    print "a pass."
    print ""
    nf = 0
    for (r = 1; r <= n; r++) if (R_out[r] == "peer-fault") {
        if (!nf++) { print "| test | peer | profile | direction | version | suite | evidence |"; print "|---|---|---|---|---|---|---|" }
        printf "| %s | %s | %s | %s | %s | %s | %s |\n", R_test[r], R_peer[r], R_prof[r], dirname_of(R_dir[r]), R_v[r], esc(R_s[r]), esc(R_note[r])
    }
    if (!nf) print "None."
    print ""
    print "@@EVIDENCE@@"
    print "## Details"
    for (i = 1; i <= np; i++) {
        peer = po[i]; printed = 0
        for (j = 1; j <= nd; j++) {
            d = dord[j]
            if (!((peer, d) in pd)) continue
            if (!printed++) { print ""; print "### " peer }
            print ""
            print "#### " dirname_of(d)
            print ""
            print "| profile | outcome | version | suite | note |"
            print "|---|---|---|---|---|"
            for (k = 1; k <= nprof; k++) for (r = 1; r <= n; r++)
                if (R_peer[r] == peer && R_dir[r] == d && R_prof[r] == prof[k])
                    printf "| %s | %s | %s | %s | %s |\n", R_prof[r], outcome_name(R_out[r]), R_v[r], esc(R_s[r]), esc(R_note[r])
        }
    }
}' "$tmp"
} > "$out.tmp"

# Evidence files go where the marker is.
{
    while IFS= read -r line; do
        if [ "$line" = "@@EVIDENCE@@" ]; then
            ev=()
            mapfile -t ev < <(find "$dir" -maxdepth 1 -name '*.md' -type f | sort)
            if [ ${#ev[@]} -gt 0 ]; then
                echo "### Evidence kept by the tests"
                for f in "${ev[@]}"; do
                    echo
                    cat "$f"
                done
                echo
            fi
        else
            printf '%s\n' "$line"
        fi
    done < "$out.tmp"
} > "$out"
rm -f "$out.tmp"

summary=$(grep -m1 -E '^[0-9]+ checks:' "$out" | sed 's/\*//g')
echo "interop-report: $out: $summary"
if [ ${#missing[@]} -gt 0 ]; then
    echo "interop-report: no results from: ${missing[*]} (skipped or not run)"
    exit 77
fi
