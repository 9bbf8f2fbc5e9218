#!/usr/bin/env bash
# Every row of the reason table (dcmtls-profiles/src/reasons.c) must be
# asserted by at least one test: a C test naming DTP_R_<NAME> (test_reasons.c,
# which walks the whole table, does not count) or an end-to-end script naming
# "<code> <NAME>" (bad_config.sh's walk of the conformance text does not
# count). Prints the row -> tests table; fails listing the rows without one.
set -euo pipefail
src=${1:?source dir}
reasons=$src/dcmtls-profiles/src/reasons.c
header=$src/dcmtls-profiles/include/dtp/dtp.h
missing=()
printf '%-6s %-24s %s\n' code name "asserted by"
while read -r name; do
  code=$(sed -n "s/^ *DTP_R_$name = \([0-9]*\),\{0,1\}.*/\1/p" "$header")
  [ -n "$code" ] || { echo "FAIL: $name has no code in dtp.h" >&2; exit 1; }
  users=$(
    { grep -l -E "(CHECK_REASON|EXPECT_CTX|expect_fail)\(.*DTP_R_$name\b" "$src"/tests/unit/*.c |
        grep -v '/test_reasons\.c$' || true
      grep -l -E "\b$code $name\b|\b$code\b.*\b$name\b" "$src"/tests/e2e/*.sh | grep -v '/bad_config\.sh$' || true
    } | xargs -r -n1 basename | sort -u | tr '\n' ' ')
  # bad_config.sh does assert the config rows it triggers by name: count those.
  if grep -q -E "\b$name\b" "$src/tests/e2e/bad_config.sh" &&
     grep -E "\b$name\b" "$src/tests/e2e/bad_config.sh" | grep -q -v 'reasons\.c'; then
    users="$users bad_config.sh"
  fi
  printf '%-6s %-24s %s\n' "$code" "$name" "${users:-NONE}"
  [ -n "$users" ] || missing+=("$code $name")
done < <(sed -n 's/^ *\(CFG\|HS\|SES\|ASSOC\)(DTP_R_\([A-Z_]*\),.*/\2/p' "$reasons")
if [ ${#missing[@]} -gt 0 ]; then
  echo "FAIL: ${#missing[@]} reason row(s) without a test: ${missing[*]}" >&2
  exit 1
fi
echo "PASS: every reason row is asserted by a test"
