#!/usr/bin/env bash
# README.md's profile and reason tables must equal what the library's
# tables generate (scripts/update-docs.sh), so docs cannot drift.
set -euo pipefail
src=${1:?source dir} build=${2:?build dir}
copy=$(mktemp)
trap 'rm -f "$copy"' EXIT
cp "$src/README.md" "$copy"
BUILD_DIR=$build "$src/scripts/update-docs.sh" "$copy"
if ! diff -u "$src/README.md" "$copy"; then
  echo "FAIL: README.md tables differ from the library tables; run scripts/update-docs.sh" >&2
  exit 1
fi
for t in profiles reasons; do
  grep -q "<!-- $t:begin -->" "$src/README.md" || { echo "FAIL: README.md lacks the $t table markers" >&2; exit 1; }
done
echo "PASS: README tables match the library"
