"""Instructions per decorated call of the line profilers (kernprof's and timemory's), by callgrind.

    python benchmarks/line_profiler_instructions.py [--python EXE ...] [--workloads NAME ...]
        [--tools NAME ...] [--extra-functions N] [--json FILE]

The workloads are those of ``benchmarks/workloads/`` where a line profiler pays per call:
``fib`` (the recursive function decorated), ``tree_walk`` (a decorated recursive walk of a
3-ary tree, several lines per call) and ``hot_call`` (a small decorated function called from
an undecorated loop, so every call enables and disables the profiler). Each runs under
``valgrind --tool=callgrind`` at two sizes, in a fresh process of each ``--python`` with
``PYTHONHASHSEED=0``, under each tool: ``none`` (the functions undecorated), ``kernprof``
(``line_profiler.LineProfiler``, what ``kernprof -l`` uses) and ``timemory``
(``timemory.line_profiler.LineProfiler``, wall_clock). The difference of the two runs'
instruction counts divided by the difference of their decorated calls is the instructions
per decorated call (start-up and the profiler's set-up and output cancel out). Printed per
interpreter: that figure per tool, each profiler's added instructions per call (minus
``none``'s), and timemory's added cost over kernprof's.

Instruction counts do not depend on how busy the machine is, unlike the wall-time slowdowns
of ``benchmarks/profiler_overhead.py`` (which runs the same workloads as whole programs).
Give several ``--python`` (say a base install and the build under test) to compare them in
one run. ``--extra-functions N`` has each profiler also profile N small functions that the
workload never calls, as a program decorating more functions does (on 3.12+ timemory sets and
clears the events of every profiled code object per enable). Inside each measured process the
script runs itself with ``--run TOOL WORKLOAD SIZE EXTRA``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

TOOLS = ("none", "kernprof", "timemory")
# workload -> (small size, large size): fib(n), tree depth, number of hot-loop calls
SIZES = {"fib": (15, 18), "tree_walk": (6, 8), "hot_call": (2_000, 10_000)}


# ---------------------------------------------------------------------- the measured code
# The same functions as benchmarks/workloads/{fib,tree_walk,hot_call}.py, decorated here by
# the tool under test (the workloads take theirs from builtins).
def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


class Node:
    __slots__ = ("children", "value")

    def __init__(self, value: int, children: list[Node]) -> None:
        self.value = value
        self.children = children


def build(depth: int, fanout: int, value: int = 1) -> Node:
    if depth == 0:
        return Node(value, [])
    return Node(value, [build(depth - 1, fanout, value * fanout + k) for k in range(fanout)])


def walk(node: Node, depth: int) -> int:
    total = node.value % 7 * depth
    if not node.children:
        return total
    for child in node.children:
        total += walk(child, depth + 1)
    return total


def clamp(x: int, lo: int, hi: int) -> int:
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x


def calls(workload: str, size: int) -> int:
    """Decorated calls one run of ``workload`` at ``size`` makes."""
    if workload == "fib":
        a, b = 1, 1  # fib(n) makes 2 * F(n + 1) - 1 calls
        for _ in range(size):
            a, b = b, a + b
        return 2 * a - 1
    if workload == "tree_walk":
        return (3 ** (size + 1) - 1) // 2
    return size


def run(tool: str, workload: str, size: int, extra: int = 0) -> int:
    global fib, walk, clamp
    prof = None
    if tool == "kernprof":
        import line_profiler

        prof = line_profiler.LineProfiler()
    elif tool == "timemory":
        from timemory.line_profiler import LineProfiler

        prof = LineProfiler()
    elif tool != "none":
        print(f"unknown tool '{tool}'. Valid choices are: {', '.join(TOOLS)}", file=sys.stderr)
        return 2
    if prof is not None:
        for k in range(extra):
            namespace: dict = {}
            exec(f"def unused_{k}(x):\n    y = x + 1\n    return y\n", namespace)
            prof.add_function(namespace[f"unused_{k}"])
        fib, walk, clamp = prof(fib), prof(walk), prof(clamp)
    if workload == "fib":
        fib(size)
    elif workload == "tree_walk":
        walk(build(size, 3), 0)
    elif workload == "hot_call":
        total = 0
        for i in range(size):
            total += clamp(i % 1000 - 250, 0, 500)
    else:
        print(f"unknown workload '{workload}'. Valid choices are: {', '.join(SIZES)}")
        return 2
    if prof is not None:
        stats = prof.get_stats()
        hits = sum(t[1] for lines in stats.timings.values() for t in lines)
        if hits == 0:
            print("no line was counted", file=sys.stderr)
            return 1
    return 0


# ---------------------------------------------------------------------- the harness
def instructions(python: str, tool: str, workload: str, size: int, where: str, extra: int) -> int:
    out = os.path.join(where, f"cg.{tool}.{workload}.{size}.out")
    env = dict(os.environ, PYTHONHASHSEED="0")
    cmd = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        python,
        os.path.abspath(__file__),
        "--run",
        tool,
        workload,
        str(size),
        str(extra),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=where, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {res.returncode}: {res.stderr[-500:]}")
    with open(out) as f:
        for line in f:
            m = re.match(r"(summary|totals):\s+(\d+)", line)
            if m:
                return int(m.group(2))
    raise RuntimeError(f"{out}: no instruction total")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--python", nargs="+", default=[sys.executable], metavar="EXE")
    parser.add_argument("--workloads", nargs="+", choices=list(SIZES), default=list(SIZES))
    parser.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS))
    parser.add_argument(
        "--extra-functions",
        type=int,
        default=0,
        metavar="N",
        help="also profile N small functions the workload never calls (default 0)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument(
        "--run", nargs=4, metavar=("TOOL", "WORKLOAD", "SIZE", "EXTRA"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.run:
        return run(args.run[0], args.run[1], int(args.run[2]), int(args.run[3]))
    if args.extra_functions < 0:
        print("--extra-functions must be 0 or more", file=sys.stderr)
        return 2
    if shutil.which("valgrind") is None:
        print(
            "valgrind not found: this benchmark counts instructions with callgrind", file=sys.stderr
        )
        return 2
    # the runs start in a temporary directory: a relative --python (not resolved further: a
    # virtual environment's python is a symlink) needs its absolute path
    args.python = [os.path.abspath(shutil.which(p) or p) for p in args.python]
    tools = [t for t in TOOLS if t in args.tools]
    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="tm-lp-instr-") as where:
        for python in args.python:
            version = subprocess.run(
                [python, "-c", "import sys; print(sys.version.split()[0])"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            key = f"{python} ({version})"
            results[key] = {}
            for workload in args.workloads:
                small, large = SIZES[workload]
                row: dict[str, float] = {}
                for tool in tools:
                    counts = [
                        instructions(python, tool, workload, s, where, args.extra_functions)
                        for s in (small, large)
                    ]
                    row[tool] = (counts[1] - counts[0]) / (
                        calls(workload, large) - calls(workload, small)
                    )
                    print(
                        f"{key} {workload} {tool}: {row[tool]:,.0f} instructions per call",
                        file=sys.stderr,
                    )
                results[key][workload] = row
    command = " ".join(
        ["python", "benchmarks/line_profiler_instructions.py", *(argv or sys.argv[1:])]
    )
    print(f"`{command}`: instructions per decorated call (callgrind, difference of two sizes)\n")
    head = "| python | workload | " + " | ".join(tools)
    extra = [t for t in ("kernprof", "timemory") if t in tools and "none" in tools]
    head += "".join(f" | {t} added" for t in extra)
    both = len(extra) == 2
    if both:
        head += " | timemory added / kernprof added"
    print(head + " |\n|" + "---|" * (head.count("|") - 1))
    for key, rows in results.items():
        for workload, row in rows.items():
            cells = [f"{row[t]:,.0f}" for t in tools]
            cells += [f"{row[t] - row['none']:,.0f}" for t in extra]
            if both:
                ratio = (row["timemory"] - row["none"]) / (row["kernprof"] - row["none"])
                cells.append(f"{ratio:.2f}")
            print(f"| {key} | {workload} | " + " | ".join(cells) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"command": command, "instructions_per_call": results}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
