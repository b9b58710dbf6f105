"""What the pytest plugin (timemory.runs._pytest) costs a pytest session, in one run.

    python benchmarks/pytest_plugin.py [--tests N] [--repeats R]

Runs a pytest session of N trivial tests in a subprocess, R times each way, interleaved so
that machine noise hits every variant alike, and prints the median wall time of the session:
  * ``-p no:timemory``: the plugin not loaded (the baseline);
  * the plugin loaded, without ``--timemory`` (what every pytest session of an environment
    with timemory installed pays: the import of the ``timemory`` package, the options);
  * ``--timemory`` (each test profiled into a store, one repeat).
Then what a process pays to load the plugin: ``python -c "import pytest"`` against
``python -c "import pytest, timemory.runs._pytest"`` (the import of the ``timemory`` package
and its exit), 3R times each, interleaved; and the import of the plugin module alone in a
process where pytest and timemory are loaded. Ratios are against the baseline measured in
the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

TESTS = """
import pytest

@pytest.mark.parametrize("n", range({n}))
def test_sum(n):
    assert sum(range(100)) == 4950
"""

IMPORT = """
import importlib, sys, time
import pytest, timemory.runs
times = []
for _ in range(50):
    sys.modules.pop("timemory.runs._pytest", None)
    start = time.perf_counter()
    importlib.import_module("timemory.runs._pytest")
    times.append(time.perf_counter() - start)
print(sorted(times)[len(times) // 2])
"""


def session(folder: str, args: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"pytest {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=7)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "test_many.py"), "w") as out:
            out.write(TESTS.format(n=options.tests))
        store = os.path.join(folder, "store")
        variants = {
            "-p no:timemory (baseline)": ["-p", "no:timemory"],
            "plugin loaded, no --timemory": [],
            "--timemory": ["--timemory", "--timemory-store", store],
        }
        times: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(options.repeats):
            for name, args in variants.items():
                times[name].append(session(folder, args))
        module = subprocess.run(
            [sys.executable, "-c", IMPORT], capture_output=True, text=True, check=True
        )
        processes: dict[str, list[float]] = {"import pytest": [], "+ the plugin": []}
        for _ in range(3 * options.repeats):
            for name, code in zip(
                processes, ("import pytest", "import pytest, timemory.runs._pytest")
            ):
                start = time.perf_counter()
                subprocess.run([sys.executable, "-c", code], check=True)
                processes[name].append(time.perf_counter() - start)
    base = statistics.median(times["-p no:timemory (baseline)"])
    print(f"pytest session of {options.tests} trivial tests, median of {options.repeats}:")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:<32} {median * 1e3:8.1f} ms  {median / base:5.2f}x")
    alone = statistics.median(processes["import pytest"])
    loaded = statistics.median(processes["+ the plugin"])
    print(
        f"a process importing pytest: {alone * 1e3:.1f} ms; with the plugin: "
        f"{loaded * 1e3:.1f} ms (+{(loaded - alone) * 1e3:.1f} ms)"
    )
    print(f"import of the plugin module alone: {float(module.stdout) * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
