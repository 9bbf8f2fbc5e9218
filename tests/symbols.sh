#!/usr/bin/env bash
# symbols.sh LIB HEADER... -- the library exports exactly its API: every
# global symbol defined in LIB (dtp-core, static or shared) with default
# visibility is a DTP_API function of one of the HEADERs (dtp/dtp.h,
# dtp/check.h, dtp/peermap.h), and every DTP_API function is defined there; everything else
# (dtp__* helpers, backend tables) is hidden.
set -euo pipefail
lib=${1:?LIB}
shift
[ $# -ge 1 ] || { echo "usage: $0 LIB HEADER..." >&2; exit 2; }
command -v readelf >/dev/null || { echo "SKIP: readelf missing"; exit 77; }
api=$(sed -nE 's/^DTP_API [^(]*[ *](dtp_[a-z0-9_]+)\(.*/\1/p' "$@" | sort -u)
exported=$(readelf -sW "$lib" | awk '$5 == "GLOBAL" && $6 == "DEFAULT" && $7 != "UND" { print $8 }' | sort -u)
[ -n "$api" ] || { echo "FAIL: no DTP_API declaration found in $*"; exit 1; }
# Every function the header declares is marked DTP_API (else a shared build
# would hide it).
declared=$(sed -nE 's/^(DTP_API )?[a-z][^(;]*[ *](dtp_[a-z0-9_]+)\(.*/\2/p' "$@" | sort -u)
unmarked=$(comm -23 <(echo "$declared") <(echo "$api"))
[ -z "$unmarked" ] || { echo "FAIL: declared without DTP_API: $(echo "$unmarked" | tr '\n' ' ')"; exit 1; }
extra=$(comm -13 <(echo "$api") <(echo "$exported"))
missing=$(comm -23 <(echo "$api") <(echo "$exported"))
if [ -n "$extra" ] || [ -n "$missing" ]; then
    [ -z "$extra" ] || echo "FAIL: exported but not API: $(echo "$extra" | tr '\n' ' ')"
    [ -z "$missing" ] || echo "FAIL: API but not exported: $(echo "$missing" | tr '\n' ' ')"
    exit 1
fi
echo "PASS: $(echo "$api" | wc -l) API functions exported, nothing else"
