#!/usr/bin/env bash
# Builds and runs the native test of the speedscope and callgrind writers (plain -O2, then
# ASan/UBSan) and checks the files it writes with Python: strict UTF-8, JSON that parses, every
# profile's events nesting, every callgrind line of a known form (and gprof2dot reading it, and
# jsonschema validating the speedscope file against tests/data, when they are installed).
# Usage: tests/native/build_exports.sh [extra g++ flags]
# Env: BUILD_DIR (default: a temp dir), PYTHON (default: python3).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
if [[ -n ${BUILD_DIR:-} ]]; then
    build=$BUILD_DIR
    mkdir -p "$build"
else
    build=$(mktemp -d)
    trap 'rm -rf "$build"' EXIT
fi
# the writers, the joined walk and what it reads (the call graphs, the component table)
mapfile -t core < <(find "$root/source/timemory" -name '*.cpp' ! -path '*/ert/*' | sort)
flags=(-std=c++17 -O2 -pthread -Wall -Wextra -Wpedantic -I "$root/source" "$@")

for variant in plain asan; do
    extra=()
    [[ $variant == asan ]] && extra=(-g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
    echo "== $variant build"
    g++ "${flags[@]}" "${extra[@]}" "$root/tests/native/test_exports.cpp" "${core[@]}" -o "$build/test_exports_$variant"
    rm -rf "$build/out_$variant"
    mkdir -p "$build/out_$variant"
    "$build/test_exports_$variant" "$build/out_$variant"
done

"${PYTHON:-python3}" - "$build/out_plain" "$root/tests/data/speedscope-file-format-schema.json" <<'PY'
import json, math, re, sys

out, schema_path = sys.argv[1], sys.argv[2]
failures = []

def check(cond, msg):
    if not cond:
        failures.append(msg)

for name in ("test", "empty"):
    with open(f"{out}/{name}.speedscope.json", "rb") as f:
        doc = json.loads(f.read().decode("utf-8"))  # strict UTF-8, strict JSON
    try:
        import jsonschema
    except ImportError:
        pass
    else:
        with open(schema_path) as f:
            jsonschema.Draft7Validator(json.load(f)).validate(doc)
    frames = doc["shared"]["frames"]
    for prof in doc["profiles"]:
        stack, last = [], prof["startValue"]
        for ev in prof["events"]:
            check(math.isfinite(ev["at"]) and ev["at"] >= last, f"{prof['name']}: time goes back at {ev}")
            last = ev["at"]
            if ev["type"] == "O":
                stack.append(ev["frame"])
            else:
                check(stack and stack.pop() == ev["frame"], f"{prof['name']}: unmatched close {ev}")
        check(not stack and last <= prof["endValue"], f"{prof['name']}: frames left open")
    if name == "test":
        check(len(doc["profiles"]) == 2, "one profile per component")
        names = [f["name"] for f in frames]
        check("bad \ufffd\ufffd \ufffd\ufffd \ufffd\ufffd\ufffd bytes" in names, f"bad bytes: {names[:3]}")
        check('ctl \x01\x1f\x7f "q" \\ \n\r\t end' in names, "control characters round trip")
        wall = doc["profiles"][0]
        depth = max_depth = 0
        for ev in wall["events"]:
            depth += 1 if ev["type"] == "O" else -1
            max_depth = max(max_depth, depth)
        check(max_depth == 100_002, f"the deep chain: {max_depth} levels")

cost = re.compile(r"\d+( \d+)*\Z")
known = re.compile(r"(version|creator|part|thread|pid|cmd|desc|positions|event|events|summary|totals): ")
position = re.compile(r"c?f[ln]=\(\d+\)( .+)?\Z")
for name in ("test", "empty"):
    with open(f"{out}/{name}.callgrind", "rb") as f:
        text = f.read().decode("utf-8")  # strict UTF-8
    check(text.startswith("version: 1\n") and text.endswith("\n"), f"{name}: head or tail")
    pending = False
    for no, line in enumerate(text[:-1].split("\n"), 1):
        check(not any(ord(c) < 0x20 for c in line), f"{name}:{no}: control character")
        if pending:
            check(cost.match(line), f"{name}:{no}: no cost line after calls=")
            pending = False
        elif line.startswith("calls="):
            check(re.fullmatch(r"calls=\d+ \d+", line), f"{name}:{no}: {line!r}")
            pending = True
        else:
            check(line == "" or known.match(line) or position.match(line) or cost.match(line),
                  f"{name}:{no}: {line[:60]!r}")
    try:
        import gprof2dot
    except ImportError:
        continue
    with open(f"{out}/{name}.callgrind", encoding="utf-8") as f:
        prof = gprof2dot.CallgrindParser(f).parse()
    if name == "test":
        check(len(prof.functions) == 8, f"gprof2dot functions: {[f.name for f in prof.functions.values()]}")

if failures:
    print("\n".join(failures[:20]))
    sys.exit(1)
print("exports: files checked")
PY
