#!/usr/bin/env bash
# README command two: install dependencies, build, run the whole CTest suite
# (everything but the 'slow' label). Pass --sanitize to build and test with
# AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/install-deps.sh"

args=()
export BUILD_DIR=${BUILD_DIR:-$top/build}
if [ "${1:-}" = --sanitize ]; then
  export BUILD_DIR=$top/build-asan
  args+=(-DDTP_SANITIZE=ON)
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi
"$top/scripts/build.sh" "${args[@]}"
cd "$BUILD_DIR"
ctest -j "$(nproc)" -LE slow --output-on-failure --timeout 600
