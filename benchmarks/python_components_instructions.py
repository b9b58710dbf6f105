"""Workload for instruction counts of Python-defined components in markers: repeatable where
wall time on a shared machine is not (benchmarks/python_components.py times the same cases).

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python benchmarks/python_components_instructions.py queue_wall 12000
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python benchmarks/python_components_instructions.py queue_wall 2000

The difference of the two totals divided by 10,000 is the instruction count of one iteration.
``--table`` runs every mode that way (valgrind on PATH) and prints the per-iteration counts
and the ratios: what a component adds to a marker (``X_wall - native``, ``X_reused -
native_reused``) over its bare ``start(); stop()`` (``X_bare - empty``).

Modes: ``empty``; ``trivial_bare``/``queue_bare`` (the component's own methods called from
Python); ``native``/``native_reused`` (``marker(["wall_clock"])``, made per iteration / once);
``trivial``/``queue`` (``marker([Q])``), ``trivial_wall``/``queue_wall`` (``marker(
["wall_clock", Q])``), ``trivial_reused``/``queue_reused`` (``marker(["wall_clock", Q])``
made once).
"""

from __future__ import annotations

import subprocess
import sys

import timemory

# the same components as the wall-time benchmark (this folder is the script's sys.path[0])
from python_components import QueueDepth, Trivial  # noqa: E402
from timemory.bundle import marker

MODES = (
    "empty",
    "trivial_bare",
    "queue_bare",
    "native",
    "native_reused",
    "trivial",
    "trivial_wall",
    "trivial_reused",
    "queue",
    "queue_wall",
    "queue_reused",
)


def run(mode: str, n: int) -> None:
    classes = {"trivial": Trivial, "queue": QueueDepth}
    if mode == "empty":
        for _ in range(n):
            pass
    elif mode == "native":
        for _ in range(n):
            with marker(["wall_clock"], key="k"):
                pass
    elif mode == "native_reused":
        m = marker(["wall_clock"], key="k")
        for _ in range(n):
            with m:
                pass
    elif mode == "trivial_bare":
        q = Trivial()
        for _ in range(n):
            q.start()
            q.stop()
            q.get()
    elif mode == "queue_bare":
        q = QueueDepth()
        for _ in range(n):
            q.start()
            q.stop()
    else:
        name, _, kind = mode.partition("_")
        cls = classes[name]
        if kind == "":
            for _ in range(n):
                with marker([cls], key="k"):
                    pass
        elif kind == "wall":
            for _ in range(n):
                with marker(["wall_clock", cls], key="k"):
                    pass
        else:
            m = marker(["wall_clock", cls], key="k")
            for _ in range(n):
                with m:
                    pass


def count(mode: str, n: int) -> int:
    out = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            __file__,
            mode,
            str(n),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    line = next(x for x in out.splitlines() if "Collected" in x)
    return int(line.split()[-1])


def table() -> int:
    per = {m: (count(m, 12000) - count(m, 2000)) / 10000 for m in MODES}
    for m in MODES:
        print(f"  {m:<16}{per[m]:>9.0f} instructions per iteration")
    for name in ("trivial", "queue"):
        bare = per[f"{name}_bare"] - per["empty"]
        added = per[f"{name}_wall"] - per["native"]
        reused = per[f"{name}_reused"] - per["native_reused"]
        print(
            f"{name}: bare {bare:.0f}; added to a marker made per iteration {added:.0f} "
            f"({added / bare:.2f}x), to a reused marker {reused:.0f} ({reused / bare:.2f}x)"
        )
    return 0


def main(argv: list[str]) -> int:
    timemory.settings.auto_output = False
    if argv[:1] == ["--table"]:
        return table()
    mode = argv[0] if argv else "queue_wall"
    if mode not in MODES:
        print(f"unknown mode '{mode}'. Valid choices are: {', '.join(MODES)}", file=sys.stderr)
        return 2
    run(mode, int(argv[1]) if len(argv) > 1 else 2000)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
