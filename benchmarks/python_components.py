"""What a Python-defined component costs in a marker, against calling its own methods from
Python, in one run.

    python benchmarks/python_components.py [--iterations N] [--repeats R] [--json FILE] [--check]

Two components: ``Trivial`` (``start()``/``stop()`` do nothing, ``get()`` returns a constant)
and ``QueueDepth`` (a realistic one: ``start()`` reads ``len(deque)``, ``stop()`` returns the
depth then). For each, ns per iteration of

  * the bare loop: ``q.start(); q.stop()`` (and ``q.get()`` for Trivial, whose value comes from
    it) on one reused object;
  * ``with marker([Q], key="k"): pass``;
  * ``with marker(["wall_clock", Q], key="k"): pass`` and ``with marker(["wall_clock"],
    key="k"): pass``: their difference is what the component adds to a marker;
  * ``with m: pass`` with ``m = marker([Q], key="k")`` made once;

as medians over interleaved repeats (machine noise hits every case alike), the empty ``for``
loop subtracted. Figures:

  * **added**: (marker with wall_clock and Q) - (marker with wall_clock), over the bare loop:
    what the component costs in a marker, the target (<= 1.5x the bare cost);
  * **whole**: (marker with Q only) - (empty loop), over the bare loop: the component with all
    of the marker's own work (the call-graph node, the label's hash) on top.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import time

import timemory
from timemory.bundle import marker
from timemory.component import Base, register

TARGET = 1.5  # the added cost of a component in a marker, over its bare start()+stop()


@register
class Trivial(Base):
    """Does nothing: the floor of the cost."""

    label = "bench_trivial"

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def get(self) -> float:
        return 1.0


DEPTH: collections.deque[int] = collections.deque(range(10))


@register
class QueueDepth(Base):
    """Depth of a queue at the stop of each interval (the largest kept)."""

    label = "bench_queue_depth"
    combine = "max"

    def start(self) -> None:
        self.begin = len(DEPTH)

    def stop(self) -> int:
        return len(DEPTH)


def make_cases(n: int) -> dict[str, object]:
    def empty() -> None:
        for _ in range(n):
            pass

    def native() -> None:
        for _ in range(n):
            with marker(["wall_clock"], key="k"):
                pass

    cases: dict[str, object] = {"empty": empty, "native": native}
    for name, cls in (("trivial", Trivial), ("queue", QueueDepth)):
        q = cls()
        if cls is Trivial:

            def bare(q: Base = q) -> None:
                for _ in range(n):
                    q.start()
                    q.stop()
                    q.get()

            def bare_no_get(q: Base = q) -> None:
                for _ in range(n):
                    q.start()
                    q.stop()

            cases[f"{name}_bare_no_get"] = bare_no_get
        else:

            def bare(q: Base = q) -> None:
                for _ in range(n):
                    q.start()
                    q.stop()

        def alone(cls: type = cls) -> None:
            for _ in range(n):
                with marker([cls], key="k"):
                    pass

        def with_wall(cls: type = cls) -> None:
            for _ in range(n):
                with marker(["wall_clock", cls], key="k"):
                    pass

        reused_marker = marker([cls], key="k")

        def reused(m: object = reused_marker) -> None:
            for _ in range(n):
                with m:  # type: ignore[attr-defined]
                    pass

        cases.update(
            {
                f"{name}_bare": bare,
                f"{name}_marker": alone,
                f"{name}_with_wall": with_wall,
                f"{name}_reused": reused,
            }
        )
    return cases


def run(n: int, repeats: int) -> dict[str, float]:
    cases = make_cases(n)
    samples: dict[str, list[float]] = {k: [] for k in cases}
    for fn in cases.values():  # warm-up
        fn()  # type: ignore[operator]
    for _ in range(repeats):
        for name, fn in cases.items():
            t0 = time.perf_counter_ns()
            fn()  # type: ignore[operator]
            samples[name].append((time.perf_counter_ns() - t0) / n)
            timemory.clear()  # the storage stays one node per component either way
    return {k: statistics.median(v) for k, v in samples.items()}


def figures(med: dict[str, float]) -> dict[str, dict[str, float]]:
    loop = med["empty"]
    out = {}
    for name in ("trivial", "queue"):
        bare = med[f"{name}_bare"] - loop
        added = med[f"{name}_with_wall"] - med["native"]
        whole = med[f"{name}_marker"] - loop
        reused = med[f"{name}_reused"] - loop
        out[name] = {
            "bare_ns": bare,
            "added_ns": added,
            "whole_ns": whole,
            "reused_ns": reused,
            "added_ratio": added / bare,
            "whole_ratio": whole / bare,
            "reused_ratio": reused / bare,
        }
    out["trivial"]["bare_no_get_ns"] = med["trivial_bare_no_get"] - loop
    out["trivial"]["added_ratio_vs_no_get"] = out["trivial"]["added_ns"] / (
        med["trivial_bare_no_get"] - loop
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--iterations", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--check", action="store_true", help="exit 1 if the target is missed")
    args = parser.parse_args(argv)
    import platform

    timemory.settings.auto_output = False
    med = run(args.iterations, args.repeats)
    fig = figures(med)
    print(
        f"timemory {timemory.version}, Python {platform.python_version()}, "
        f"{args.iterations} iterations x {args.repeats} repeats (medians, ns per iteration)"
    )
    for key in sorted(med):
        print(f"  {key:<26}{med[key]:>9.1f}")
    native_net = med["native"] - med["empty"]
    print(f'  with marker(["wall_clock"]) net of the loop: {native_net:.1f} ns')
    ok = True
    for name, f in fig.items():
        met = f["added_ratio"] <= TARGET
        ok &= met
        print(
            f"{name}: bare start()+stop(){'+get()' if name == 'trivial' else ''} "
            f"{f['bare_ns']:.1f} ns; added to a marker {f['added_ns']:.1f} ns = "
            f"{f['added_ratio']:.2f}x (target <= {TARGET}x: {'MET' if met else 'MISSED'}); "
            f"a marker of it alone {f['whole_ns']:.1f} ns = {f['whole_ratio']:.2f}x; "
            f"reused marker {f['reused_ns']:.1f} ns = {f['reused_ratio']:.2f}x"
        )
    print(
        f"trivial: bare start()+stop() without get() {fig['trivial']['bare_no_get_ns']:.1f} ns; "
        f"added over it {fig['trivial']['added_ratio_vs_no_get']:.2f}x"
    )
    if args.json:
        import json

        with open(args.json, "w") as f:
            json.dump({"ns_per_iteration": med, "figures": fig, "target": TARGET}, f, indent=2)
    return 0 if (ok or not args.check) else 1


if __name__ == "__main__":
    sys.exit(main())
