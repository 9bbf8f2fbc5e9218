#!/usr/bin/env bash
# README command two: install dependencies, build, run the whole CTest suite
# (everything but the 'slow' label) -- first in build/, then again in
# build-asan/ with AddressSanitizer + UndefinedBehaviorSanitizer.
#   --no-sanitize   only the normal build
#   --sanitize      only the sanitizer build
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/install-deps.sh"

modes=(normal sanitize)
case "${1:-}" in
  --no-sanitize) modes=(normal) ;;
  --sanitize) modes=(sanitize) ;;
  "") ;;
  *) echo "usage: $0 [--no-sanitize|--sanitize]" >&2; exit 1 ;;
esac

for mode in "${modes[@]}"; do
  if [ "$mode" = sanitize ]; then
    echo "== ASan + UBSan build (build-asan/)"
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    BUILD_DIR=$top/build-asan "$top/scripts/build.sh" -DDTP_SANITIZE=ON
    dir=$top/build-asan
  else
    echo "== build (build/)"
    BUILD_DIR=${BUILD_DIR:-$top/build} "$top/scripts/build.sh"
    dir=${BUILD_DIR:-$top/build}
  fi
  (cd "$dir" && ctest -j "$(nproc)" -LE slow --output-on-failure --timeout 600)
done
