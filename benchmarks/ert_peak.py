"""ERT's measured peak DP GFLOP/s against the theoretical peak, and its DRAM bandwidth against
a STREAM-like copy measured in the same run.

    nice -n 19 python benchmarks/ert_peak.py [--trials N] [--threads T] [--json FILE] [--check]

* ERT: ``timemory.roofline.ert.run(force=True, cache=False)`` with the settings in force
  (``TIMEMORY_ERT_*``) and ``--trials`` repetitions per measurement (best kept).
* Theoretical peak: ``ert.theoretical_peak("dp")``: vector lanes of the kernels ERT used
  (AVX2: 4 doubles) x 2 FLOPs per FMA x 2 FMA pipes per core (assumed: Intel since Haswell and
  AMD since Zen 2 have two) x cores used x clock rate. The clock rate is the larger of the rate
  measured by a chain of dependent integer adds (1 cycle each) and /proc/cpuinfo's 'cpu MHz': a
  VM's cpuinfo shows the nominal rate while the cores run at their boost rate.
* STREAM-like copy: ``dst[i] = src[i]`` in the same native module (vector loads and plain
  stores, no non-temporal stores, not turned into memcpy), one pair of arrays per thread, each
  array of the size of ERT's largest working set (so well past the last cache level), counted
  as STREAM counts it (16 bytes per element; the write-allocate read is not counted), best of
  ``--trials``. ERT's kernel updates in place (load, FMA, store to the same line), so it has no
  write-allocate traffic and can exceed the copy.

Targets (issue 6): peak >= 70% of the theoretical peak, DRAM bandwidth >= 90% of the copy's.
The machine may be shared: the figures are noisy there; re-measure on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import sys

from timemory import _ert
from timemory.roofline import ert

TARGETS = {"peak_fraction": 0.70, "bandwidth_fraction": 0.90}


def stream_copy(working_set: int, nthreads: int, trials: int) -> float:
    """Best GB/s of the native copy with ``working_set`` bytes per array and thread."""
    best = 0.0
    passes = max(1, (256 << 20) // (2 * working_set))
    for _ in range(trials):
        m = _ert.ert_copy(working_set, passes, nthreads)
        best = max(best, m["total_bytes"] / m["seconds"] / 1e9)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5, help="repetitions, best kept (5)")
    parser.add_argument("--threads", type=int, default=0, help="threads (0: ert settings)")
    parser.add_argument("--json", metavar="FILE", help="write the figures as JSON")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    overrides = {"trials": args.trials, "nthreads": args.threads or None}
    cfg = ert.config(**overrides)
    data = ert.run(force=True, cache=False, **overrides)
    peak = data["ceilings"]["peak"]["dp"]
    dram = data["ceilings"]["bandwidth"].get("dram", 0.0)
    theory = ert.theoretical_peak("dp", data["machine"]["isa"], cfg["nthreads"])
    largest = max(e["working-set"] for e in data["ert"] if e["label"] == "dp_bandwidth")
    copy = stream_copy(largest, cfg["nthreads"], args.trials)

    figures = {
        "cpu": data["machine"]["cpu"],
        "isa": data["machine"]["isa"],
        "threads": cfg["nthreads"],
        "ert_seconds": data["seconds"],
        "peak_dp_gflops": peak,
        "theoretical_dp_gflops": theory["gflops"],
        "theoretical": theory,
        "peak_fraction": peak / theory["gflops"],
        "ert_dram_gbs": dram,
        "stream_copy_gbs": copy,
        "copy_working_set_bytes": largest,
        "bandwidth_fraction": dram / copy if copy else 0.0,
        "bandwidth": data["ceilings"]["bandwidth"],
        "peak_sp_gflops": data["ceilings"]["peak"].get("sp", 0.0),
    }
    print(f"CPU: {figures['cpu']}  kernels: {figures['isa']}  threads: {figures['threads']}")
    print(
        f"clock: measured {theory['measured_hz'] / 1e9:.3f} GHz, /proc/cpuinfo "
        f"{theory['nominal_hz'] / 1e9:.3f} GHz; used {theory['hz'] / 1e9:.3f} GHz"
    )
    print(
        f"theoretical DP peak: {theory['lanes']} lanes x 2 (FMA) x {theory['fma_units']} FMA "
        f"pipes x {theory['cores']} cores x {theory['hz'] / 1e9:.3f} GHz "
        f"= {theory['gflops']:.1f} GFLOP/s"
    )
    print(
        f"ERT peak DP: {peak:.1f} GFLOP/s = {100 * figures['peak_fraction']:.1f}% of theoretical "
        f"(target >= {100 * TARGETS['peak_fraction']:.0f}%)"
    )
    levels = ", ".join(f"{k} {v:.1f}" for k, v in data["ceilings"]["bandwidth_measured"].items())
    print(f"ERT bandwidth (GB/s): {levels}")
    print(
        f"ERT DRAM: {dram:.1f} GB/s; STREAM-like copy ({largest >> 20} MiB per array and thread): "
        f"{copy:.1f} GB/s = {100 * figures['bandwidth_fraction']:.1f}% "
        f"(target >= {100 * TARGETS['bandwidth_fraction']:.0f}%)"
    )
    print(f"ERT run: {data['seconds']:.1f} s")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=1)
    missed = [k for k, target in TARGETS.items() if figures[k] < target]
    if missed:
        print("missed: " + ", ".join(missed), file=sys.stderr)
    return 1 if (args.check and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
