#!/usr/bin/env bash
# Checks that the C++ of source/ and tests/native/ is formatted as .clang-format says; changes
# nothing. `tools/check-format.sh --fix` reformats the files in place instead.
#
# Uses $CLANG_FORMAT, else the clang-format of .venv/bin, else the one on PATH; installs
# nothing. The version the style was tuned with is pinned in pyproject.toml (the "lint"
# extra: pip install ".[lint]"); other major versions may format some lines differently.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tool=${CLANG_FORMAT:-}
if [[ -z $tool ]]; then
    if [[ -x .venv/bin/clang-format ]]; then tool=.venv/bin/clang-format
    elif command -v clang-format > /dev/null; then tool=$(command -v clang-format)
    fi
fi
if [[ -z $tool ]] || ! "$tool" --version > /dev/null 2>&1; then
    echo "check-format.sh: clang-format not found: pip install \".[lint]\" (or set CLANG_FORMAT)" >&2
    exit 2
fi
pinned=$(sed -n 's/.*"clang-format==\([0-9.]*\)".*/\1/p' pyproject.toml)
version=$("$tool" --version | sed -n 's/.*clang-format version \([0-9.]*\).*/\1/p')
if [[ -n $pinned && ${version%%.*} != "${pinned%%.*}" ]]; then
    echo "check-format.sh: warning: $tool is version $version, the style is checked with $pinned" >&2
fi

mapfile -t files < <(git ls-files 'source/*.cpp' 'source/*.hpp' 'source/*.inc' 'tests/native/*.cpp' 'tests/native/*.hpp')
if [[ ${1:-} == --fix ]]; then
    "$tool" -i "${files[@]}"
    echo "reformatted ${#files[@]} files"
    exit 0
fi
if "$tool" --dry-run -Werror "${files[@]}"; then
    echo "clang-format: ${#files[@]} files formatted as .clang-format says"
else
    echo "check-format.sh: the files above differ from .clang-format; tools/check-format.sh --fix reformats them" >&2
    exit 1
fi
