#!/bin/bash
# check.sh LOG... -- judges valgrind memcheck logs (one per process, as
# memcheck.sh writes them) and prints what they report.
#
# A log fails when
#  * its ERROR SUMMARY counts an error: a memory error anywhere (invalid
#    read/write/free, uninitialised value, bad syscall argument, ...) or a
#    definite leak (--errors-for-leak-kinds=definite) that dtp.supp does not
#    suppress;
#  * its process died of a crash signal (SIGSEGV, SIGABRT, SIGBUS, SIGILL,
#    SIGFPE);
#  * it has no ERROR SUMMARY at all: valgrind did not get to its final check
#    (the process was SIGKILLed, e.g. by a script's cleanup), so a leak would
#    have gone unseen. DTP_VG_ALLOW_INCOMPLETE=1 only reports that.
# Each distinct error (same kind, same stack) is printed once, with the
# number of processes that had it and one command line, and marked [OURS]
# when a frame is in project code (dtp_*, Dtp*, dtp*, StoreSCP, serveOne, or
# a source path in dcmtls-profiles/, apps/ or tests/), [FOREIGN] otherwise.
# A foreign leak is a candidate for a commented suppression in dtp.supp --
# if it really is DCMTK's or OpenSSL's own state and not something we
# failed to free; nothing in our code is ever suppressed.
# Exit: 0 all clean, 1 otherwise.
set -uo pipefail

[ $# -gt 0 ] || { echo "usage: $0 LOG..." >&2; exit 2; }

# Frames in our code: function names and source paths (memcheck.sh runs
# valgrind with --fullpath-after=, so frames carry the full source path).
OURS_RE='(: (dtp_|dtp__|Dtp|dtp[A-Z]|StoreSCP|BusySCP|FileSink|SinkStream|serveOne|workerMain|reapChildren|onBusyTerm|onStopSignal|LLVMFuzzer)|/dcmtls-profiles/(src|dcmtk|include)/|/apps/(common|store|dtp-store[a-z]+)\.(cc|h):|/tests/(unit|fuzz)/)'
# Anything compiled from this source tree counts too (DTP_SOURCE_DIR: set
# by dtp_e2e).
if [ -n "${DTP_SOURCE_DIR:-}" ]; then
    src_re=$(sed 's/[][\\.^$*+?(){}|]/\\&/g' <<< "${DTP_SOURCE_DIR%/}")
    OURS_RE="($OURS_RE|$src_re/)"
fi

# (Through the environment: awk -v would interpret the backslashes.)
OURS_RE=$OURS_RE DTP_VG_ALLOW_INCOMPLETE=${DTP_VG_ALLOW_INCOMPLETE:-0} awk '
    BEGIN { ours_re = ENVIRON["OURS_RE"]; allow_incomplete = ENVIRON["DTP_VG_ALLOW_INCOMPLETE"] }
    function basename(p) { sub(/.*\//, "", p); return p }
    # One block (lines between "==PID== " separators) of the current log.
    function flush(   i, first, is_err, key, text) {
        if (n == 0) return
        first = blk[1]
        is_err = 0
        if (first ~ /are definitely lost in loss record/) is_err = 1
        else if (first ~ /^(Invalid (read|write|free)|Mismatched free|Conditional jump|Use of uninitialised|Syscall param|Source and destination overlap|Argument .* of function|Fishy value|Invalid alignment|Jump to the invalid address|.*realloc\(\) with size 0)/) is_err = 1
        else if (first ~ /^Process terminating with default action of signal/ && first ~ /SIG(SEGV|ABRT|BUS|ILL|FPE)/) { crash = 1; is_err = 1 }
        if (is_err) {
            # Same error = same kind and frames (sizes and addresses aside).
            key = first
            gsub(/[0-9,]+ (\([0-9,]+ direct, [0-9,]+ indirect\) )?bytes in [0-9,]+ blocks/, "N bytes", key)
            gsub(/loss record [0-9,]+ of [0-9,]+/, "loss record", key)
            text = ""
            for (i = 2; i <= n; i++) {
                line = blk[i]
                gsub(/0x[0-9A-Fa-f]+/, "0x", line)
                key = key "\n" line
                text = text "        " blk[i] "\n"
            }
            if (!(key in seen)) {
                seen[key] = ++nkeys
                ours = 0
                for (i = 1; i <= n; i++) if (blk[i] ~ ours_re) { ours = 1; break }
                k_ours[nkeys] = ours
                k_first[nkeys] = first
                k_text[nkeys] = text
                k_cmd[nkeys] = cmd
                k_log[nkeys] = basename(FILENAME)
            }
            id = seen[key]
            if (!((id, FILENAME) in counted)) { counted[id, FILENAME] = 1; k_procs[id]++ }
            if (k_ours[id]) f_ours++; else f_foreign++
        }
        n = 0
    }
    function end_file(   problem) {
        if (FNAME == "") return
        flush()
        nlogs++
        problem = ""
        if (!complete) {
            if (allow_incomplete == 1) printf "valgrind: %s: INCOMPLETE (no ERROR SUMMARY: killed before the final check), allowed: %s\n", basename(FNAME), cmd
            else problem = "INCOMPLETE: no ERROR SUMMARY (killed before valgrind'"'"'s final check; leaks unseen)"
        }
        if (errors > 0 || crash || f_ours || f_foreign)
            problem = problem (problem == "" ? "" : "; ") errors " error(s) in ERROR SUMMARY: " f_ours " with a frame in project code, " f_foreign " foreign" (crash ? "; the process CRASHED" : "")
        if (problem != "") {
            nbad++
            printf "valgrind: %s: FAIL: %s\n", basename(FNAME), problem
            if (!complete) printf "    command: %s\n", cmd
        }
    }
    FNR == 1 { end_file(); FNAME = FILENAME; n = 0; cmd = ""; complete = 0; errors = 0; crash = 0; f_ours = 0; f_foreign = 0 }
    {
        line = $0
        if (line !~ /^==[0-9]+== ?/) next
        sub(/^==[0-9]+== ?/, "", line)
        if (line ~ /^Command: /) cmd = substr(line, 10)
        if (line ~ /^ERROR SUMMARY: /) { complete = 1; split(line, f, " "); errors = f[3] + 0 }
        if (line ~ /^[ \t]*$/) { flush(); next }
        blk[++n] = line
    }
    END {
        end_file()
        for (id = 1; id <= nkeys; id++) {
            printf "\n%s %s\n    in %d process(es), e.g. %s: %s\n%s", k_ours[id] ? "[OURS]   " : "[FOREIGN]", k_first[id], k_procs[id], k_log[id], k_cmd[id], k_text[id]
            if (k_ours[id]) nours++; else nforeign++
        }
        printf "%svalgrind: %d log(s): %d clean, %d with problems; %d distinct error(s): %d in project code, %d foreign\n", nkeys ? "\n" : "", nlogs, nlogs - nbad, nbad, nkeys, nours, nforeign
        exit nbad > 0
    }' "$@"
