#!/bin/sh
# memcheck.sh APP ARGS... -- runs the real APP (in $DTP_REAL_BIN) under
# valgrind memcheck. The wrappers dtp-storescu / dtp-storescp beside this
# file call it, so the e2e scripts run unchanged with DTP_BIN pointing at
# this directory (run.sh sets that up).
#
# exec all the way down: the PID a script records (dtp_start, $!) is the
# app's, so signals reach it as they would without valgrind. dtp-storescp
# forks one process per association without exec: valgrind follows it, and
# %p gives each process its own log, in $DTP_VG_LOGDIR (set by run.sh; else
# $DTP_WORK). run.sh checks every log after the script.
#
# --error-exitcode=99: a process with a memory error or a definite leak
# exits 99 (an SCU then fails its script; an association process's code
# counts for dtp-storescp --exit-after).  DTP_VG_EXTRA: more valgrind options.
# DTP_VG_BACKEND: run the app with --tls-backend DTP_VG_BACKEND (except for
# the listing and help options, which take no backend).
app=${1:?usage: memcheck.sh APP ARGS...}
shift
if [ -n "${DTP_VG_BACKEND:-}" ]; then
    backend=yes
    for a in "$@"; do
        case $a in --list-profiles | --print-conformance | --help | -h | --version) backend= ;; esac
    done
    [ -z "$backend" ] || set -- --tls-backend "$DTP_VG_BACKEND" "$@"
fi
here=$(cd "$(dirname "$0")" && pwd)
: "${DTP_REAL_BIN:?DTP_REAL_BIN must name the directory of the real $app}"
logdir=${DTP_VG_LOGDIR:-${DTP_WORK:?DTP_VG_LOGDIR or DTP_WORK must be set}}
# shellcheck disable=SC2086 # DTP_VG_EXTRA is a list of options
exec valgrind --tool=memcheck --error-exitcode=99 \
    --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
    --track-fds=no --num-callers=40 --fullpath-after= \
    --suppressions="$here/dtp.supp" \
    --log-file="$logdir/valgrind-$app-%p.log" \
    ${DTP_VG_EXTRA:-} \
    "$DTP_REAL_BIN/$app" "$@"
