#!/usr/bin/env bash
# Builds and runs the native component tests: tests/native/build_and_run.sh [extra g++ flags]
# e.g. tests/native/build_and_run.sh -fsanitize=address,undefined
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
g++ -std=c++17 -O2 -g -Wall -Wextra -Werror -pthread -I "$root/source" "$@" \
    "$root/tests/native/test_components.cpp" "$root/source/timemory/components/registry.cpp" \
    "$root/source/timemory/config.cpp" \
    -o "$out/test_components"
"$out/test_components"
