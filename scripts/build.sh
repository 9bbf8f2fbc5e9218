#!/usr/bin/env bash
# Configures and builds into BUILD_DIR (default: build). Extra arguments go
# to cmake's configure step, e.g. -DDTP_SANITIZE=ON. Fails on any compiler
# warning: the project builds clean with -Wall -Wextra.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}
mkdir -p "$build"
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDTP_BUILD_TESTS=ON "$@" >"$build/configure.log" ||
  { cat "$build/configure.log"; exit 1; }
if ! cmake --build "$build" -j "$(nproc)" >"$build/build.log" 2>&1; then
  grep -E -B2 -A5 'error|Error' "$build/build.log" | head -60
  echo "build: failed (full log: $build/build.log)" >&2
  exit 1
fi
if grep -q 'warning:' "$build/build.log"; then
  grep -A3 'warning:' "$build/build.log" | head -40
  echo "build: compiler warnings (full log: $build/build.log)" >&2
  exit 1
fi
