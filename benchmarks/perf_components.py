"""Cost of a ``perf::<event>`` component in a marker, against the same marker without it and
against ``papi_vector`` counting the same event, in one run.

    python benchmarks/perf_components.py [--iterations N] [--repeats R] [--event EVENT]

Measures ns per iteration of
  * ``with marker(["wall_clock"], key="k"): pass``                        (baseline)
  * ``with marker(["wall_clock", "perf::<event>"], key="k"): pass``
  * ``with marker(["wall_clock", "papi_vector"], key="k"): pass`` with
    ``settings.papi_events = <event>``
  * a bare ``os.times()`` pair (a system call pair from Python, for scale)
as the median over repeats, the repeats of all variants interleaved so machine noise hits them
alike, the empty loop subtracted. A perf:: reading is one ``read()`` system call, as is a
papi_vector reading of one group: the two should cost about the same.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Callable

import timemory
from timemory import hardware_counters
from timemory.bundle import marker


def make_cases(n: int, event: str) -> dict[str, Callable[[], None]]:
    perf_name = hardware_counters.component(event)

    def empty() -> None:
        for _ in range(n):
            pass

    def baseline() -> None:
        for _ in range(n):
            with marker(["wall_clock"], key="k"):
                pass

    def perf() -> None:
        for _ in range(n):
            with marker(["wall_clock", perf_name], key="k"):
                pass

    def papi_vector() -> None:
        for _ in range(n):
            with marker(["wall_clock", "papi_vector"], key="k"):
                pass

    def syscalls() -> None:
        for _ in range(n):
            os.times()
            os.times()

    return {
        "empty": empty,
        "marker": baseline,
        "marker+perf": perf,
        "marker+papi_vector": papi_vector,
        "os.times pair": syscalls,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--event", default="page-faults")
    args = parser.parse_args(argv)
    info = hardware_counters.Info(args.event)
    if not info.available():
        print(f"{info.symbol()} is not available here: {info.reason()}", file=sys.stderr)
        return 2
    timemory.settings.auto_output = False
    timemory.settings.papi_quiet = True
    timemory.settings.papi_events = info.symbol()
    cases = make_cases(args.iterations, args.event)
    for case in cases.values():  # warm up: counters opened, names resolved
        case()
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.repeats):
        for name, case in cases.items():
            t0 = time.perf_counter_ns()
            case()
            samples[name].append((time.perf_counter_ns() - t0) / args.iterations)
        timemory.clear()
    median = {name: statistics.median(v) for name, v in samples.items()}
    net = {name: median[name] - median["empty"] for name in cases if name != "empty"}
    print(f"event {info.symbol()}, {args.iterations} iterations x {args.repeats} repeats")
    for name, value in net.items():
        print(f"  {name:20s} {value:9.1f} ns")
    extra_perf = net["marker+perf"] - net["marker"]
    extra_papi = net["marker+papi_vector"] - net["marker"]
    print(f"  perf:: reading pair  {extra_perf:9.1f} ns added to the marker")
    print(f"  papi_vector pair     {extra_papi:9.1f} ns added to the marker")
    print(f"  ratio perf:: / papi_vector added cost: {extra_perf / extra_papi:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
