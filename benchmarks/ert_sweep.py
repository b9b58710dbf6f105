"""How long ERT's first (uncached) sweep takes on a machine with a very large last cache, without
such a machine: the sweep is planned for given cache sizes (``TIMEMORY_ERT_CACHE_SIZES``) and
run here, where working sets beyond this machine's own last cache are served by DRAM (so the
figures are an upper bound for the machine planned for, whose L3 would serve some of them).

    python benchmarks/ert_sweep.py [--caches 32K,1M,300M:2] [--rounds 2] [--threads N]
        [--baseline /path/to/python] [--bounded-only] [--check]

Each round runs, one after the other in fresh processes (interleaved, so a busy moment of a
shared machine slows one run of each kind rather than every run of one):

* ``bounded``: this timemory's default sweep for those caches;
* ``full`` (unless ``--bounded-only``): this timemory with ``TIMEMORY_ERT_FULL_SWEEP=1``
  (working sets to 4 x the last cache, buffers kept between measurements);
* ``baseline`` (with ``--baseline PYTHON``, a timemory without ``ert_cache_sizes``): its
  default sweep for the same caches, i.e. ``TIMEMORY_ERT_MAX_DATA_SIZE_CPU`` = 4 x the last
  cache, every power of two up to it, new buffers for every measurement.

Prints the median seconds of each kind, its ratio to the baseline (else to ``full``), the
median bandwidth ceilings of each, and the bounded sweep's planned work
(``ert.planned_work``). ``--check`` exits 1 when the bounded sweep's median exceeds 10 s (the
target of issue 21) or the run failed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

TARGET_SECONDS = 10.0

RUN = """
import json, sys, time
from timemory.roofline import ert
start = time.monotonic()
data = ert.run(cache=False, progress=False)
print(json.dumps({"seconds": time.monotonic() - start,
                  "largest": max(e["working-set"] for e in data["ert"]),
                  "bandwidth": data["ceilings"]["bandwidth"]}))
"""

PLAN = """
import json
from timemory.roofline import ert
print(json.dumps(ert.planned_work()))
"""


def _last_cache_bytes(caches: str) -> int:
    last = caches.split(",")[-1].split(":")[0].strip().upper()
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(last[-1:], 1)
    return int(last.rstrip("KMG")) * scale


def _run(python: str, env: dict[str, str], code: str) -> dict:
    proc = subprocess.run(
        [python, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        raise SystemExit(f"ert_sweep.py: {python} failed: {proc.stderr.strip()[-400:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--caches", default="32K,1M,300M:2", help="cache sizes planned for")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (2)")
    parser.add_argument("--threads", type=int, default=0, help="ERT threads (0: all)")
    parser.add_argument("--baseline", metavar="PYTHON", help="a timemory before the bound")
    parser.add_argument("--check", action="store_true", help="exit 1 above 10 s")
    parser.add_argument("--bounded-only", action="store_true", help="no full sweep (for CI)")
    args = parser.parse_args(argv)

    common = {"TIMEMORY_ERT_CACHE_SIZES": args.caches}
    if args.threads:
        common["TIMEMORY_ERT_NUM_THREADS"] = str(args.threads)
    kinds = {"bounded": (sys.executable, common)}
    if not args.bounded_only:
        kinds["full"] = (sys.executable, {**common, "TIMEMORY_ERT_FULL_SWEEP": "1"})
    if args.baseline:
        old_max = max(4 * _last_cache_bytes(args.caches), 64 << 20)
        baseline_env = {"TIMEMORY_ERT_MAX_DATA_SIZE_CPU": str(old_max)}
        if args.threads:
            baseline_env["TIMEMORY_ERT_NUM_THREADS"] = str(args.threads)
        kinds["baseline"] = (args.baseline, baseline_env)
    plan = _run(sys.executable, common, PLAN)
    seconds: dict[str, list[float]] = {k: [] for k in kinds}
    largest: dict[str, int] = {}
    bandwidth: dict[str, dict[str, list[float]]] = {k: {} for k in kinds}
    started = time.monotonic()
    for _ in range(max(args.rounds, 1)):
        for kind, (python, env) in kinds.items():
            result = _run(python, env, RUN)
            seconds[kind].append(result["seconds"])
            largest[kind] = result["largest"]
            for level, gbs in result["bandwidth"].items():
                bandwidth[kind].setdefault(level, []).append(gbs)
    reference = "baseline" if args.baseline else "full" if "full" in kinds else "bounded"
    ref = statistics.median(seconds[reference])
    elapsed = time.monotonic() - started
    print(f"caches {args.caches}, {args.rounds} interleaved rounds, {elapsed:.0f} s")
    header = f"{'sweep':<10} {'median s':>9} {'runs (s)':<28} {'largest/thread':>15}"
    print(f"{header} {'vs ' + reference:>12}")
    for kind, values in seconds.items():
        median = statistics.median(values)
        runs = ", ".join(f"{v:.1f}" for v in values)
        print(
            f"{kind:<10} {median:9.1f} {runs:<28} {largest[kind] / 2**20:12.0f} MiB "
            f"{median / ref:11.2f}x"
        )
    print("median bandwidth ceilings, GB/s (levels as each version reads them):")
    for kind, levels in bandwidth.items():
        figures = ", ".join(f"{k} {statistics.median(v):.1f}" for k, v in levels.items())
        print(f"  {kind:<10} {figures}")
    by_level = ", ".join(f"{k} {v / 2**30:.2f}" for k, v in plan["bytes_by_level"].items())
    print(
        f"bounded plan: {plan['kernels']} kernels, {plan['runs']} runs, largest "
        f"{plan['largest_working_set'] / 2**20:.0f} MiB per thread; GiB touched per thread by "
        f"level: {by_level}" + (f"; {plan['note']}" if plan["note"] else "")
    )
    if args.check and statistics.median(seconds["bounded"]) > TARGET_SECONDS:
        print(f"bounded sweep above {TARGET_SECONDS:.0f} s", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
