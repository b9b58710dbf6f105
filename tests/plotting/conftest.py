"""Real timemory output for the plotting tests, made once per session: a script run under
``python -m timemory.profiler`` with scalar and multi-valued components, and programs
instrumented with markers (a deep call graph with long labels, a wide one, threads not
collapsed). Every program runs on the fake clock (tests/fakeclock.py): its wall and CPU times
are the naps it takes, the same on every run however busy the machine is."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fakeclock import PRELUDE, run_tool_with_fake_clock
from tool_helpers import clean_env, write

# each work() takes 5 ms plus 10 us per leaf of fib(10) (89 leaves): 5.89 ms
PROFILED = """\
import threading


def fib(n):
    if n < 2:
        nap(1e-5)
        return n
    return fib(n - 1) + fib(n - 2)


def work():
    fib(10)
    nap(0.005)
    return len([0] * 200000)


def main():
    for _ in range(3):
        work()
    t = threading.Thread(target=work)
    t.start()
    t.join()


main()
"""

# 30 nested levels whose labels are 90 characters long, under a short root
DEEP = """\
import timemory
from timemory.bundle import marker

def nest(level):
    if level > 30:
        nap(0.001)
        return
    with marker(["wall_clock"], key=f"level_{level:02d}_" + "a_rather_long_region_name_" * 3):
        nest(level + 1)

with marker(["wall_clock"], key="deep"):
    nest(1)
timemory.finalize()
"""

# 100 siblings of different sizes under one root
WIDE = """\
import timemory
from timemory.bundle import marker

with marker(["wall_clock"], key="wide"):
    for i in range(100):
        with marker(["wall_clock"], key=f"child_{i:03d}"):
            nap(0.0002 * (i % 10 + 1))
timemory.finalize()
"""


def _profiled(folder: Path, env: dict[str, str] | None = None, *components: str) -> Path:
    write(folder / "profiled.py", PRELUDE + PROFILED)
    out = folder / "out"
    args = ["-c", *components] if components else []
    proc = run_tool_with_fake_clock(
        "timemory.profiler", *args, "-d", str(out), "--", "profiled.py", cwd=folder, env=env
    )
    assert proc.returncode == 0, proc.stderr
    return out


def _marked(folder: Path, source: str) -> Path:
    """Run a program that uses markers and calls finalize (on the fake clock); its output
    folder."""
    write(folder / "program.py", PRELUDE + source)
    out = folder / "out"
    proc = subprocess.run(
        [sys.executable, "program.py"],
        cwd=folder,
        env=clean_env({"TIMEMORY_OUTPUT_PATH": str(out)}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="session")
def profiled_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Output folder of a script profiled with wall_clock, peak_rss and current_peak_rss."""
    folder = tmp_path_factory.mktemp("profiled")
    return _profiled(folder, None, "wall_clock", "peak_rss", "current_peak_rss")


@pytest.fixture(scope="session")
def threads_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The profiled script with every thread's call graph kept apart."""
    folder = tmp_path_factory.mktemp("threads")
    return _profiled(folder, {"TIMEMORY_COLLAPSE_THREADS": "OFF"})


@pytest.fixture(scope="session")
def deep_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _marked(tmp_path_factory.mktemp("deep"), DEEP)


@pytest.fixture(scope="session")
def wide_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _marked(tmp_path_factory.mktemp("wide"), WIDE)


# one component of each table category (-T): a region run three times under a root, and a
# second root
CATEGORIES = """\
import timemory
from timemory.bundle import marker

COMPONENTS = ["wall_clock", "cpu_clock", "cpu_util", "peak_rss", "page_rss",
              "num_minor_page_faults", "voluntary_context_switch", "read_char", "trip_count"]

def inner():
    with marker(COMPONENTS, key="inner"):
        sum(range(100000))
        nap(0.002, cpu=0.001)

with marker(COMPONENTS, key="main"):
    for _ in range(3):
        inner()
with marker(COMPONENTS, key="other"):
    data = [0] * 1000000
    nap(0.001, cpu=0.0005)
timemory.finalize()
"""


@pytest.fixture(scope="session")
def categories_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Output folder with a component of every table category but hw."""
    return _marked(tmp_path_factory.mktemp("categories"), CATEGORIES)
