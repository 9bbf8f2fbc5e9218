#!/usr/bin/env bash
# Regenerates the tables in README.md from the library (between the
# <!-- NAME:begin --> / <!-- NAME:end --> markers). BUILD_DIR as build.sh.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
describe=${BUILD_DIR:-$top/build}/tests/dtp-describe
[ -x "$describe" ] || { echo "update-docs: build first ($describe missing)" >&2; exit 1; }
readme=${1:-$top/README.md}
tmp=$(mktemp)
for table in profiles reasons; do
  "$describe" "--$table-md" > "$tmp.$table"
  awk -v begin="<!-- $table:begin -->" -v end="<!-- $table:end -->" -v file="$tmp.$table" '
    $0 == begin { print; while ((getline line < file) > 0) print line; skip = 1; next }
    $0 == end   { skip = 0 }
    !skip' "$readme" > "$tmp" && cat "$tmp" > "$readme"
  rm -f "$tmp.$table"
done
rm -f "$tmp"
