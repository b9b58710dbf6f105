"""The function profiler's own work per call, above the floor of its hook mechanism.

    python benchmarks/hook_floor.py [--check] [--jobs J] PYTHON [PYTHON ...]

For each interpreter (each with timemory installed; default: this one) it builds
``benchmarks/hook_floor.c`` with ``cc`` against that interpreter's headers: a profile hook
that does nothing, installed as timemory's function profiler installs its own
(``PyEval_SetProfile`` up to 3.11, ``sys.monitoring`` PY_START/PY_RESUME/PY_THROW/PY_RETURN/
PY_YIELD/PY_UNWIND callbacks on 3.12+). Then, under ``valgrind --tool=callgrind`` with
``PYTHONHASHSEED=0``, it counts the instructions of ``benchmarks/profiler_instructions.py``
running ``fibonacci(22)`` and ``fibonacci(20)`` in four modes: unprofiled, the no-op hook
(the floor every profiler using that mechanism pays), cProfile, and timemory's profiler
measuring ``wall_clock``. The difference of the two runs divided by the 35,422 calls it
adds is the instructions per call and return (start-up and import cancel out).

"own work" is timemory's added instructions over the floor's: (timemory - unprofiled) /
(floor - unprofiled). Targets (issue 21): <= 1.15 on 3.11 and below, <= 1.3 on 3.12+;
``--check`` exits 1 when one is missed. Instruction counts do not depend on how busy the
machine is, so one run per interpreter is enough; valgrind does give the clock reads'
system-call fallback rather than the vDSO, so the clock's real cost is not in the figures.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKLOAD = HERE / "profiler_instructions.py"
SOURCE = HERE / "hook_floor.c"
MODES = ("none", "floor", "cprofile", "timemory")
LABELS = {
    "none": "unprofiled",
    "floor": "no-op C hook (floor)",
    "cprofile": "cProfile",
    "timemory": "timemory wall_clock",
}
SIZES = (22, 20)


def fib_calls(n: int) -> int:
    """Calls fibonacci(n) makes: 2 * F(n + 1) - 1."""
    a, b = 0, 1
    for _ in range(n + 1):
        a, b = b, a + b
    return 2 * a - 1


CALLS = fib_calls(SIZES[0]) - fib_calls(SIZES[1])  # 57,313 - 21,891 = 35,422


def interpreter_facts(python: str) -> dict[str, str]:
    code = (
        "import sys, sysconfig; print(sys.version.split()[0]); "
        "print(sysconfig.get_paths()['include']); print(sysconfig.get_config_var('EXT_SUFFIX'))"
    )
    out = subprocess.run(
        [python, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    version, include, suffix = out.strip().splitlines()
    return {"version": version, "include": include, "suffix": suffix}


def build_floor(python: str, facts: dict[str, str], into: Path) -> None:
    cc = os.environ.get("CC", "cc")
    target = into / f"_hook_floor{facts['suffix']}"
    cmd = [cc, "-O2", "-shared", "-fPIC", f"-I{facts['include']}", str(SOURCE), "-o", str(target)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if res.returncode != 0:
        raise RuntimeError(f"building the no-op hook for {python} failed:\n{res.stderr.strip()}")


def instructions(python: str, mode: str, n: int, floor_dir: Path, out_dir: Path) -> int:
    """Total instructions (callgrind's Ir) of one run of the workload."""
    out = out_dir / f"{mode}.{n}.out"
    cmd = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        python,
        str(WORKLOAD),
        mode,
        str(n),
    ]
    if mode == "floor":
        cmd.append(str(floor_dir))
    env = dict(os.environ, PYTHONHASHSEED="0", TIMEMORY_AUTO_OUTPUT="0")
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
    if res.returncode != 0:
        raise RuntimeError(
            f"{python} {mode} {n} under callgrind failed:\n{res.stderr.strip()[-2000:]}"
        )
    text = out.read_text(errors="replace")
    m = re.search(r"^(?:summary|totals):\s+(\d+)", text, re.M)
    if not m:
        raise RuntimeError(f"no instruction total in {out}")
    return int(m.group(1))


def measure(python: str, jobs: int, keep: Path | None) -> dict:
    facts = interpreter_facts(python)
    work = Path(tempfile.mkdtemp(prefix="hook_floor."))
    try:
        build_floor(python, facts, work)
        runs = [(mode, n) for mode in MODES for n in SIZES]
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            totals = list(pool.map(lambda mn: instructions(python, mn[0], mn[1], work, work), runs))
        ir = dict(zip(runs, totals))
        per_call = {mode: (ir[(mode, SIZES[0])] - ir[(mode, SIZES[1])]) / CALLS for mode in MODES}
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            for f in work.glob("*.out"):
                shutil.copy2(
                    f, keep / f"{Path(python).parent.parent.name}.{facts['version']}.{f.name}"
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = per_call["none"]
    floor_added = per_call["floor"] - base
    own = (per_call["timemory"] - base) / floor_added if floor_added > 0 else float("nan")
    target = 1.3 if tuple(int(x) for x in facts["version"].split(".")[:2]) >= (3, 12) else 1.15
    return {
        "python": python,
        "version": facts["version"],
        "per_call": per_call,
        "own": own,
        "target": target,
    }


def report(rows: list[dict]) -> None:
    head = [
        "interpreter",
        *(LABELS[m] for m in MODES),
        "timemory above the floor",
        "own work / floor",
        "target",
    ]
    print("instructions per call+return of fibonacci (callgrind, fib(22) - fib(20), 35,422 calls)")
    print("| " + " | ".join(head) + " |")
    print("|---" + "|---:" * (len(head) - 1) + "|")
    for r in rows:
        pc = r["per_call"]
        cells = [f"{r['version']} {r['python']}", *(f"{pc[m]:,.1f}" for m in MODES)]
        cells.append(f"{pc['timemory'] - pc['floor']:,.1f}")
        cells.append(f"{r['own']:.3f}x")
        cells.append(f"<= {r['target']}x")
        print("| " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "pythons",
        nargs="*",
        metavar="PYTHON",
        help="interpreters with timemory (default: this one)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="callgrind runs at once (default 1)")
    parser.add_argument("--keep", type=Path, help="copy the callgrind outputs into this directory")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    for tool in ("valgrind", os.environ.get("CC", "cc")):
        if not shutil.which(tool):
            print(
                f"hook_floor: '{tool}' is not installed; it is needed to build and count",
                file=sys.stderr,
            )
            return 2
    pythons = args.pythons or [sys.executable]
    for p in pythons:
        if not shutil.which(p) and not Path(p).is_file():
            print(f"hook_floor: no interpreter at '{p}'", file=sys.stderr)
            return 2
    rows = []
    for p in pythons:
        try:
            rows.append(measure(p, args.jobs, args.keep))
        except (RuntimeError, subprocess.SubprocessError) as exc:
            print(f"hook_floor: {exc}", file=sys.stderr)
            return 1
    report(rows)
    missed = [r for r in rows if not r["own"] <= r["target"]]
    for r in missed:
        print(
            f"missed: {r['version']} ({r['python']}) own work {r['own']:.3f}x > {r['target']}x",
            file=sys.stderr,
        )
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
