#!/usr/bin/env bash
# Builds and runs the native component and perf_event tests: tests/native/build_and_run.sh [extra g++ flags]
# e.g. tests/native/build_and_run.sh -fsanitize=address,undefined
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
core=("$root/source/timemory/components/registry.cpp" "$root/source/timemory/components/perf_event.cpp"
      "$root/source/timemory/components/roofline.cpp"
      "$root/source/timemory/config.cpp")
for test in test_components test_perf_event; do
    g++ -std=c++17 -O2 -g -Wall -Wextra -Werror -pthread -I "$root/source" "$@" \
        "$root/tests/native/$test.cpp" "${core[@]}" -o "$out/$test"
    "$out/$test"
done
