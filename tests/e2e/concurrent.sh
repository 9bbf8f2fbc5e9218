#!/bin/bash
# concurrent.sh -- 16 dtp-storescu clients at once into one dtp-storescp.
#
# The SCP runs the Non-Downgrading BCP195 profile with an RSA certificate;
# the 16 clients are 4 each of bcp195, bcp195-nd, bcp195-ex and cryptrec
# (with an RSA certificate every pair of profiles connects: matrix.sh),
# alternating RSA and ECDSA client certificates. Each client sends its own
# three objects (copies of the small and medium fixtures with new SOP
# Instance UIDs: dcmodify -gin), 48 distinct objects in all. The clients
# wait for one start signal so that their associations really overlap; the
# peak number of association processes of the SCP is printed.
#
# Checked: every client exits 0 with "3 of 3 objects stored" and the TLS
# version its profile must reach (TLS 1.2 for bcp195-ex, E4; TLS 1.3 for the
# others); the SCP logs 16 associations that ended with 3 objects stored and
# no failure; at least two associations ran at the same time; the output
# directory holds exactly the 48 objects, byte-identical, and no temporary
# file.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/checks.sh"

dtp_init concurrent
: "${DTP_BIN:?}" "${DTP_PKI:?}" "${DTP_DATA:?}"
dtp_need_cmd dcmdump dcmodify timeout setsid pgrep
PKI=$DTP_PKI
CLIENTS=16
PROFILES=(bcp195 bcp195-nd bcp195-ex cryptrec)
SRC=("$DTP_DATA/small/small-1.dcm" "$DTP_DATA/small/small-2.dcm" "$DTP_DATA/medium/medium-1.dcm")
for f in "${SRC[@]}"; do [ -f "$f" ] || dtp_fail "fixture $f missing"; done

# Each client's own objects: copies with fresh SOP Instance UIDs.
ALL=()
for ((i = 0; i < CLIENTS; i++)); do
    mkdir -p "$DTP_WORK/in/c$i"
    for f in "${SRC[@]}"; do
        cp "$f" "$DTP_WORK/in/c$i/"
        ALL+=("$DTP_WORK/in/c$i/${f##*/}")
    done
done
dcmodify -nb -gin "${ALL[@]}" > "$DTP_WORK/dcmodify.txt" 2>&1 ||
    dtp_fail "dcmodify -gin failed: $(tail -n 5 "$DTP_WORK/dcmodify.txt")"
nuids=$(dcmdump -s -Un +P 0008,0018 "${ALL[@]}" 2>/dev/null | grep "^(0008,0018)" | sort -u | wc -l)
[ "$nuids" -eq ${#ALL[@]} ] || dtp_fail "expected ${#ALL[@]} distinct SOP Instance UIDs, got $nuids"

OUT=$DTP_WORK/out
mkdir "$OUT"
port=$(dtp_free_port)
dtp_start scp "$DTP_BIN/dtp-storescp" --bind 127.0.0.1 --profile bcp195-nd \
    +tls "$PKI/server-rsa.key" "$PKI/server-rsa.pem" +cf "$PKI/ca.pem" \
    --max-associations 64 -od "$OUT" "$port"
dtp_wait_port "$port" 127.0.0.1 10 || dtp_fail "dtp-storescp did not listen on 127.0.0.1:$port"
SCP_PID=${DTP_PIDS[0]}

# The clients wait (bounded) for the file $GO, then exec dtp-storescu.
GO=$DTP_WORK/go
WAIT_GO='for ((i = 0; i < 1000; i++)); do [ -e "$1" ] && break; sleep 0.01; done; shift; exec "$@"'
for ((i = 0; i < CLIENTS; i++)); do
    profile=${PROFILES[$((i % 4))]}
    if ((i / 4 % 2)); then kt=ec; else kt=rsa; fi
    dtp_start "scu-$i" bash -c "$WAIT_GO" wait-go "$GO" timeout -k 5 60 "$DTP_BIN/dtp-storescu" \
        --profile "$profile" +tls "$PKI/client-$kt.key" "$PKI/client-$kt.pem" +cf "$PKI/ca.pem" \
        -aet "SCU$i" 127.0.0.1 "$port" "$DTP_WORK/in/c$i"
done
sleep 0.3 # all 16 are waiting
start=${EPOCHREALTIME/[.,]/}
touch "$GO"

# Wait for every client (bounded by their own 60 s limit); sample how many
# association processes the SCP runs meanwhile.
peak=0
deadline=$((SECONDS + 90))
while [ "$SECONDS" -lt "$deadline" ]; do
    running=0
    for ((i = 1; i <= CLIENTS; i++)); do _dtp_alive "${DTP_PIDS[$i]}" && running=$((running + 1)); done
    kids=$(pgrep -x -P "$SCP_PID" dtp-assoc | wc -l || true)
    [ "$kids" -le "$peak" ] || peak=$kids
    [ "$running" -gt 0 ] || break
    sleep 0.02
done
ms=$(( (${EPOCHREALTIME/[.,]/} - start) / 1000 ))
echo "$CLIENTS clients done in $ms ms; peak $peak association processes at once"

for ((i = 0; i < CLIENTS; i++)); do
    rc=0
    wait "${DTP_PIDS[$((i + 1))]}" 2>/dev/null || rc=$?
    log=$DTP_WORK/scu-$i.log
    profile=${PROFILES[$((i % 4))]}
    if [ "$profile" = bcp195-ex ]; then version=TLSv1.2; else version=TLSv1.3; fi
    DTP_CHECKS=$((DTP_CHECKS + 3))
    [ "$rc" -eq 0 ] || dtp_check_fail "client $i ($profile): exit $rc
$(tail -n 8 "$log" | dtp_quote)"
    grep -q '^summary: 3 of 3 objects stored' "$log" || dtp_check_fail "client $i ($profile): not 3 of 3 stored
$(tail -n 4 "$log" | dtp_quote)"
    grep -Eq "^TLS: profile $profile: $version " "$log" || dtp_check_fail "client $i ($profile): not $version
$(grep '^TLS' "$log" | dtp_quote)"
done

# The SCP: 16 associations ended well (they may log just after the clients exit).
n=0
for ((t = 0; t < 50; t++)); do
    n=$(grep -Ec '^association from 127\.0\.0\.1:[0-9]+ ended: 3 objects stored \([0-9]+ bytes\), 0 failed$' "$DTP_WORK/scp.log" || true)
    [ "$n" -lt "$CLIENTS" ] || break
    sleep 0.1
done
DTP_CHECKS=$((DTP_CHECKS + 3))
[ "$n" -eq "$CLIENTS" ] || dtp_check_fail "expected $CLIENTS 'association ... ended: 3 objects stored, 0 failed' lines in the SCP log, found $n"
if grep -Eq 'provider reason|refusing connection' "$DTP_WORK/scp.log"; then
    dtp_check_fail "the SCP logged failures:
$(grep -E 'provider reason|refusing connection' "$DTP_WORK/scp.log" | head -n 5 | dtp_quote)"
fi
[ "$peak" -ge 2 ] || dtp_check_fail "the associations did not overlap (peak $peak association process at once)"

DTP_CHECKS=$((DTP_CHECKS + 2))
if ! (dtp_same_tree "${ALL[@]}" -- "$OUT") > "$DTP_WORK/tree.txt" 2>&1; then
    dtp_check_fail "the output directory is not the 48 objects:
$(sed -n '/^FAIL: /,/^-----/p' "$DTP_WORK/tree.txt" | grep -v '^-----' | head -n 10 | dtp_quote)"
fi
nfiles=$(find "$OUT" -mindepth 1 | wc -l)
[ "$nfiles" -eq ${#ALL[@]} ] || dtp_check_fail "expected ${#ALL[@]} files in the output directory, found $nfiles"

dtp_checks_done
echo "PASS: $CLIENTS concurrent clients (peak $peak associations at once), ${#ALL[@]} objects stored intact in $ms ms"
