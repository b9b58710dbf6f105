"""Cost of the C API for native extensions (timemory/capi.h), measured in C++.

    python benchmarks/capi_overhead.py [--iterations N] [--repeats R] [--json FILE] [--check]

Builds benchmarks/capi_overhead.cpp into an extension module (the C++ compiler ``$CXX`` or
``c++``, in a temporary folder), imports timemory, and measures ns per iteration of
  * a push/pop pair of a region measuring wall_clock (``timemory_push_region`` and
    ``timemory_pop_region`` by name, and by a precomputed ``timemory_region_id``)
  * the baseline: a bare pair of ``clock_gettime(CLOCK_MONOTONIC)`` calls
  * push + pop while the API is not bound (timemory not imported) against the empty loop
as the median over repeats, the repeats of all variants interleaved so that machine noise
hits them alike. Target (issue 20): a pair <= 2x the bare clock_gettime pair.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shlex
import statistics
import subprocess
import sys
import sysconfig
import tempfile

import timemory

TARGET = 2.0
SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "capi_overhead.cpp")


def build(folder: str) -> str:
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    out = os.path.join(folder, "_capi_overhead" + suffix)
    cxx = shlex.split(os.environ.get("CXX", "c++"))
    command = cxx + [
        "-O2",
        "-std=c++17",
        "-shared",
        "-fPIC",
        "-I" + sysconfig.get_paths()["include"],
        "-I" + timemory.get_include(),
        SOURCE,
        "-o",
        out,
    ]
    subprocess.run(command, check=True)
    return out


def load(path: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("_capi_overhead", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args(argv)

    from timemory import region

    timemory.settings.auto_output = False  # the benchmark's own storage is not the point
    region.set_default(["wall_clock"])
    with tempfile.TemporaryDirectory() as folder:
        bench = load(build(folder))
    if not bench.bind():
        print("the C API did not bind to timemory", file=sys.stderr)
        return 1

    cases = ("bare", "pair", "pair_id", "noop", "empty")
    n = args.iterations
    for name in cases:  # warm up: the nodes, the thread's storage, the caches
        getattr(bench, name)(n // 10 or 1)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.repeats):
        for name in cases:
            samples[name].append(getattr(bench, name)(n))
    median = {name: statistics.median(values) for name, values in samples.items()}

    ratio = median["pair"] / median["bare"]
    ratio_id = median["pair_id"] / median["bare"]
    noop_extra = median["noop"] - median["empty"]
    print(f"iterations {n}, repeats {args.repeats} (medians, ns per iteration)", file=sys.stderr)
    for name in cases:
        print(f"  {name:<8} {median[name]:8.2f} ns", file=sys.stderr)
    print(
        f"push/pop pair by name: {ratio:.2f}x the bare clock_gettime pair (target <= {TARGET}x), "
        f"{median['pair'] - median['bare']:.1f} ns more\n"
        f"push/pop pair by id:   {ratio_id:.2f}x\n"
        f"not bound: push + pop cost {noop_extra:.2f} ns over the empty loop",
        file=sys.stderr,
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"median_ns": median, "ratio": ratio, "ratio_id": ratio_id}, f, indent=2)
    return 1 if args.check and ratio > TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
