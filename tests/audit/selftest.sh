#!/bin/bash
# selftest.sh -- the audit message validator checked against its samples
# (CTest audit.schema): every samples/valid-*.xml passes, every
# samples/bad-*.xml fails, and fails for the reason its "fail:" comment names.
#
# Each sample says what it is in comments after the XML declaration:
#   <!-- expect: KIND -->     the --expect KIND it is validated with
#   <!-- fail: REGEX -->      bad-* only: the FAIL line must match REGEX (ERE)
# Exit 0 pass, 1 fail, 77 skip (no xmllint).
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
VALIDATE=$HERE/validate.sh
SAMPLES=$HERE/samples

command -v xmllint >/dev/null 2>&1 || { echo "SKIP: xmllint not found (package libxml2-utils)"; exit 77; }

problems=() n=0
meta() {   # meta FILE KEY: the value of the <!-- KEY: VALUE --> comment
    sed -n "s/^<!-- $2: \\(.*\\) -->\$/\\1/p" "$1" | head -n 1
}

shopt -s nullglob
valid=("$SAMPLES"/valid-*.xml)
bad=("$SAMPLES"/bad-*.xml)
if [ ${#valid[@]} -lt 4 ] || [ ${#bad[@]} -lt 10 ]; then
    echo "FAIL: expected samples in $SAMPLES (found ${#valid[@]} valid, ${#bad[@]} bad)"
    exit 1
fi

for f in "${valid[@]}"; do
    n=$((n + 1))
    kind=$(meta "$f" expect)
    [ -n "$kind" ] || { problems+=("${f##*/}: no 'expect:' comment"); continue; }
    out=$(bash "$VALIDATE" --expect "$kind" "$f") rc=$?
    if [ "$rc" -ne 0 ] || [[ $out != "audit-validate: OK $f event="* ]]; then
        problems+=("${f##*/} should pass as $kind: exit $rc: $out")
    fi
done

for f in "${bad[@]}"; do
    n=$((n + 1))
    kind=$(meta "$f" expect) re=$(meta "$f" fail)
    if [ -z "$kind" ] || [ -z "$re" ]; then
        problems+=("${f##*/}: no 'expect:' or 'fail:' comment")
        continue
    fi
    out=$(bash "$VALIDATE" --expect "$kind" "$f") rc=$?
    if [ "$rc" -ne 1 ]; then
        problems+=("${f##*/} should fail (exit 1), got exit $rc: $out")
    elif ! grep -Eq -- "^audit-validate: FAIL [^ ]+: .*$re" <<<"$out"; then
        problems+=("${f##*/} failed for another reason than /$re/: $out")
    fi
done

# Several files at once: one bad file makes the run fail, the good ones
# still get their OK line.
n=$((n + 1))
out=$(bash "$VALIDATE" "${valid[0]}" "$SAMPLES/bad-schema-no-eventid.xml" "${valid[1]}") rc=$?
oks=$(grep -c '^audit-validate: OK ' <<<"$out")
if [ "$rc" -ne 1 ] || [ "$oks" -ne 2 ]; then
    problems+=("mixed run: want exit 1 and 2 OK lines, got exit $rc: $out")
fi

# --describe: the fields a test reads to sort received messages.
n=$((n + 1))
out=$(bash "$VALIDATE" --describe "$SAMPLES/valid-alert.xml") rc=$?
want=$(printf '%s\tevent=110113 type=110126 outcome=4 action=E' "$SAMPLES/valid-alert.xml")
[ "$rc/$out" = "0/$want" ] || problems+=("--describe: got exit $rc: $out")

# Not XML at all.
n=$((n + 1))
junk=$(mktemp)
trap 'rm -f "$junk"' EXIT
printf '<AuditMessage><EventIdentification' > "$junk"
out=$(bash "$VALIDATE" "$junk") rc=$?
case $rc/$out in
    "1/audit-validate: FAIL $junk: schema"*) ;;
    *) problems+=("truncated XML: got exit $rc: $out") ;;
esac

if [ ${#problems[@]} -gt 0 ]; then
    printf 'FAIL: %s\n' "${problems[@]}"
    exit 1
fi
echo "audit.schema: $n checks passed (${#valid[@]} valid, ${#bad[@]} broken samples)"
