#!/usr/bin/env bash
# An AddressSanitizer + UndefinedBehaviorSanitizer build of timemory's native modules,
# run under the storage, profiler, trace and bundle tests.
#
#   tests/native/sanitize.sh [extra pytest arguments]
#
# Env: PYTHON (default: .venv/bin/python if present, else python3): an interpreter with the
#      test dependencies (pip install ".[test]"); BUILD_DIR (default: build/sanitize);
#      SANITIZE_TESTS (default: "tests/storage tests/profiler tests/trace tests/bundle").
#
# The package is built by pip (scikit-build-core, the project's own CMake) with
# TIMEMORY_SANITIZE=address,undefined, RelWithDebInfo and libstdc++ linked shared (the
# sanitizer runtimes replace its allocator), into an overlay folder put first on PYTHONPATH:
# the installed package is not touched, and subprocesses started by the tests use the overlay
# too. CPython itself is not instrumented, so libasan is preloaded; leak detection is off
# because CPython does not free everything at exit. Reports go to files, so a report in a
# subprocess whose output a test does not show fails the run too.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
if [[ -z ${PYTHON:-} ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
build=${BUILD_DIR:-$root/build/sanitize}
overlay=$build/overlay
reports=$build/reports
read -r -a tests <<< "${SANITIZE_TESTS:-tests/storage tests/profiler tests/trace tests/bundle}"

cxx=${CXX:-g++}
libasan=$("$cxx" -print-file-name=libasan.so)
# preloaded too: ASan finds the C++ runtime's __cxa_throw when it starts, and python itself
# does not load libstdc++ (without it the first C++ exception stops the process)
libstdcxx=$("$cxx" -print-file-name=libstdc++.so.6)
if [[ ! -e $libasan || ! -e $libstdcxx ]]; then
    echo "sanitize.sh: $cxx has no libasan.so or libstdc++.so.6 (install the compiler's sanitizer runtimes)" >&2
    exit 2
fi

start=$(date +%s)
echo "== building the sanitized package into $overlay"
rm -rf "$overlay"
mkdir -p "$build"
# With the build requirements at hand the build is incremental (an isolated build environment
# has a new path each time, which rebuilds everything).
isolation=()
if "$PYTHON" -c "import scikit_build_core, pybind11" 2> /dev/null; then isolation=(--no-build-isolation); fi
"$PYTHON" -m pip install --quiet --no-deps "${isolation[@]}" --target "$overlay" \
    -Cbuild-dir="$build/cmake" \
    -Ccmake.build-type=RelWithDebInfo \
    -Ccmake.define.TIMEMORY_SANITIZE=address,undefined \
    -Ccmake.define.TIMEMORY_STATIC_LIBSTDCXX=OFF \
    .
built=$(date +%s)
echo "== built in $((built - start)) s"

rm -rf "$reports"
mkdir -p "$reports"
export PYTHONPATH="$overlay${PYTHONPATH:+:$PYTHONPATH}"
export LD_PRELOAD="$libasan:$libstdcxx${LD_PRELOAD:+:$LD_PRELOAD}"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:log_path=$reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"

# the sanitized _core must be the one imported
"$PYTHON" -c "import timemory._core as c, sys; sys.exit(not c.__file__.startswith('$overlay'))" || {
    echo "sanitize.sh: the overlay's timemory._core is not the one imported" >&2
    exit 2
}

status=0
echo "== pytest ${tests[*]} (ASan + UBSan)"
"$PYTHON" -m pytest -q -p no:cacheprovider "${tests[@]}" "$@" || status=$?
end=$(date +%s)

if compgen -G "$reports/*" > /dev/null; then
    echo "== sanitizer reports:" >&2
    for f in "$reports"/*; do
        echo "---- $f" >&2
        cat "$f" >&2
    done
    status=1
fi
echo "== sanitizer run: build $((built - start)) s, tests $((end - built)) s, status $status"
exit "$status"
