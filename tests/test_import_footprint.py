"""What `import timemory` and the profiler's command line load, and that what they defer
still works when first used.

`python -m timemory.profiler` adds timemory to every program it runs, so its memory counts
against the profiled program (benchmarks/profiler_overhead.py measures it). The heavy parts
(the component and storage classes, inspect, dataclasses, tempfile, platform...) are loaded
on first use; these tests keep it that way and check each deferred path in a fresh process.
"""

from __future__ import annotations

import argparse
import ast
import gettext
import json
import os
import subprocess
import sys

from timemory import _cli
from tool_helpers import clean_env

# Heavy standard-library modules none of the start-up paths may import: each costs from a
# few hundred KiB to 2 MiB of resident memory in the profiled program.
# typing alone is about 0.8 MiB of RSS (annotations import it only under TYPE_CHECKING)
HEAVY_STDLIB = (
    "inspect",
    "dataclasses",
    "tempfile",
    "platform",
    "subprocess",
    "difflib",
    "ast",
    "typing",
    # argparse's help formatter imports shutil (with bz2, lzma, zlib: about 0.5 MiB) for the
    # terminal width; timemory._cli finds it with os alone
    "shutil",
    # about 0.9 MiB: timemory's lines are written without it unless the program imported it
    "logging",
)
DEFERRED_TIMEMORY = ("timemory.component", "timemory.storage", "timemory.util", "timemory.scope")
# plotting is imported only to plot (settings.plot_output at finalize, timemory.plotting)
PLOTTING = ("matplotlib", "timemory.plotting")
# numpy (about 10 MiB) is imported only when a NumPy view of the data is asked for
NUMPY = ("numpy",)

LOADED = """
import json, sys
{imports}
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after(run_python, imports: str) -> set[str]:
    proc = run_python(LOADED.format(imports=imports))
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_import_timemory_defers_heavy_modules(run_python):
    loaded = _modules_after(run_python, "import timemory")
    assert not loaded & set(HEAVY_STDLIB), sorted(loaded & set(HEAVY_STDLIB))
    assert not loaded & set(DEFERRED_TIMEMORY), sorted(loaded & set(DEFERRED_TIMEMORY))
    assert not loaded & set(PLOTTING), sorted(loaded & set(PLOTTING))
    assert not loaded & set(NUMPY), sorted(loaded & set(NUMPY))


def test_storage_defers_numpy_until_a_view_is_asked_for(run_python):
    # the storage classes, their flat and tree views and a snapshot without a view: no numpy
    loaded = _modules_after(
        run_python,
        "import timemory\n"
        "from timemory.bundle import marker\n"
        "with marker(['wall_clock'], key='x'):\n"
        "    pass\n"
        "from timemory.storage import WallClockStorage\n"
        "WallClockStorage.get(); WallClockStorage.get_tree()\n"
        "snap = timemory.snapshot()\n"
        "assert len(snap) == 1 and snap.labels == ['x']\n",
    )
    assert not loaded & set(NUMPY), sorted(loaded & set(NUMPY))
    # the deferred path works when first used
    loaded = _modules_after(
        run_python,
        "import timemory\n"
        "from timemory.bundle import marker\n"
        "with marker(['wall_clock'], key='x'):\n"
        "    pass\n"
        "arr = timemory.as_numpy('wall_clock')\n"
        "assert arr['wall_clock']['count'].tolist() == [1]\n",
    )
    assert "numpy" in loaded


def test_profiler_command_line_start_up_defers_heavy_modules(run_python):
    # everything `python -m timemory.profiler` imports before it runs the script
    loaded = _modules_after(run_python, "import timemory.profiler.__main__")
    assert not loaded & set(HEAVY_STDLIB), sorted(loaded & set(HEAVY_STDLIB))
    assert not loaded & set(DEFERRED_TIMEMORY), sorted(loaded & set(DEFERRED_TIMEMORY))
    assert not loaded & set(PLOTTING), sorted(loaded & set(PLOTTING))
    assert not loaded & set(NUMPY), sorted(loaded & set(NUMPY))


def test_deferred_names_resolve_on_first_use(run_python):
    proc = run_python(
        """
import timemory
from timemory import marker, component_bundle, timer, rss_usage, FILE, LINE
import timemory.component as component
assert timemory.component is component
assert "component" in dir(timemory) and "marker" in dir(timemory)
w = timemory.component.WallClock("w")
assert type(w).__name__ == "WallClock" and isinstance(w, timemory.component.Component)
assert timemory.component.WallClock is type(w)          # made once, then cached
assert int(timemory.component.wall_clock) == int(timemory.component.id.wall_clock)
assert timemory.component.WallClock.index() == timemory.component.id.wall_clock
assert "PeakRss" in dir(timemory.component) and "WallClockStorage" in dir(timemory.storage)
from timemory.storage import WallClockStorage, PeakRssStorageResult
assert WallClockStorage.__name__ == "WallClockStorage"
try:
    timemory.no_such_thing
except AttributeError as exc:
    assert "no_such_thing" in str(exc)
else:
    raise AssertionError("expected AttributeError")
try:
    timemory.component.NoSuchClock
except AttributeError:
    pass
else:
    raise AssertionError("expected AttributeError")
print("ok")
"""
    )
    assert proc.returncode == 0, proc.stderr
    assert "ok" in proc.stdout.splitlines()


def test_stored_values_come_back_as_their_component_class(run_python):
    # The native side makes the Python class of a component the program never named: the
    # class is created on demand, not left as the bare base type.
    proc = run_python(
        """
import timemory
with timemory.marker(["cpu_clock"], key="region"):
    sum(range(1000))
from timemory.storage import storage_class
[result] = storage_class("cpu_clock").get()
value = result.data()
assert type(value).__name__ == "CpuClock", type(value)
assert value.laps() == 1 and value.get() >= 0
print("ok")
"""
    )
    assert proc.returncode == 0, proc.stderr
    assert "ok" in proc.stdout.splitlines()


def test_star_import_gives_every_class(run_python):
    proc = run_python(
        """
from timemory.component import *
from timemory.storage import *
names = (WallClock, PeakRss, WallClockStorage, WallClockStorageTree)
print(*(cls.__name__ for cls in names))
"""
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [
        "WallClock",
        "PeakRss",
        "WallClockStorage",
        "WallClockStorageTree",
    ]


# What the profiler's finalize may not import: the files are written from the native call
# graph (no storage or component objects) and metadata.json without the json module.
FINALIZE_DEFERRED = ("json", "timemory.storage", "timemory.component", "logging", *NUMPY)

PROFILED = """
import sys

print("loaded at start:", sorted(sys.modules), flush=True)

import timemory._lifecycle as lifecycle

write_all = lifecycle._write_all


def watched(*args, **kwargs):
    before = set(sys.modules)
    try:
        return write_all(*args, **kwargs)
    finally:
        print("imported at finalize:", sorted(set(sys.modules) - before), flush=True)


lifecycle._write_all = watched


def work(n):
    return n if n < 2 else work(n - 1) + work(n - 2)


work(10)
"""


def test_profiler_start_up_and_finalize_import_no_heavy_modules(tmp_path):
    (tmp_path / "prog.py").write_text(PROFILED)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "timemory.profiler",
            "-c",
            "wall_clock",
            "peak_rss",
            "--",
            "prog.py",
        ],
        cwd=tmp_path,
        env=clean_env({"TIMEMORY_OUTPUT_PATH": str(tmp_path / "out")}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    # what the profiler loaded before the program started: parsing its command line included
    line = next(s for s in proc.stdout.splitlines() if s.startswith("loaded at start:"))
    loaded = set(ast.literal_eval(line.partition(":")[2].strip()))
    assert not loaded & set(HEAVY_STDLIB), sorted(loaded & set(HEAVY_STDLIB))
    assert not loaded & set(DEFERRED_TIMEMORY), sorted(loaded & set(DEFERRED_TIMEMORY))
    assert not loaded & set(FINALIZE_DEFERRED), sorted(loaded & set(FINALIZE_DEFERRED))
    # gettext's look-up imports locale (0.4 MiB): argparse skips it where no catalog exists
    with _cli.untranslated_argparse():
        no_catalog = argparse._ is not gettext.gettext
    if no_catalog:
        assert "locale" not in loaded
    line = next(s for s in proc.stdout.splitlines() if s.startswith("imported at finalize:"))
    imported = ast.literal_eval(line.partition(":")[2].strip())
    assert not set(imported) & set(FINALIZE_DEFERRED), imported
    written = sorted(os.listdir(tmp_path / "out"))
    assert written == [
        "functions.json",
        "metadata.json",
        "peak_rss.json",
        "peak_rss.tree.json",
        "peak_rss.txt",
        "wall.flamegraph.json",
        "wall.json",
        "wall.tree.json",
        "wall.txt",
    ]
    for name in written:
        if name.endswith(".json"):
            with open(tmp_path / "out" / name) as f:
                data = json.load(f)
            assert ("traceEvents" if "flamegraph" in name else "timemory") in data
