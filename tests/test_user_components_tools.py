"""Python-defined components (timemory.component.Base) in the profiler, the tracer, the line
profiler and their command lines: every call (line) measured, by the component's rule, its
own methods never profiled, bad ``-c`` values one line with status 2."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
import timemory
from timemory import _core
from timemory.component import Base, register
from timemory.line_profiler import LineProfiler
from timemory.profiler import Config, Profiler, profile
from timemory.trace import Tracer
from timemory.trace import config as trace_config
from tool_helpers import assert_one_error_line, run_tool, write

# what the components below saw, reset by each test
EVENTS = {"start": 0, "stop": 0, "init": 0}
LEVEL = [0]


@register
class ToolsCalls(Base):
    """One per measured interval: its sum is the number of intervals."""

    label = "tools_calls"

    def __init__(self) -> None:
        EVENTS["init"] += 1

    def start(self) -> None:
        EVENTS["start"] += 1

    def stop(self) -> None:
        EVENTS["stop"] += 1

    def get(self) -> int:
        return 1


@register
class ToolsLevel(Base):
    """The level at the stop of each interval, the largest kept."""

    label = "tools_level"
    combine = "max"

    def sample(self) -> int:
        return LEVEL[0]


@register
class ToolsPair(Base):
    """Two values at once: not a line profiler component."""

    label = "tools_pair"
    names = ("first", "second")

    def get(self) -> tuple[int, int]:
        return (1, 2)


class ToolsBroken(Base):
    """get() raises on its third call."""

    label = "tools_broken"
    calls = [0]

    def get(self) -> int:
        ToolsBroken.calls[0] += 1
        if ToolsBroken.calls[0] == 3:
            raise ValueError("boom")
        return 1


@pytest.fixture(autouse=True)
def _fresh():
    Config.reset()
    EVENTS.update(start=0, stop=0, init=0)
    LEVEL[0] = 0
    # each test reads its own measurements (the storage of Python-defined components is
    # emptied here, whatever timemory.clear() covers)
    for cls in (ToolsCalls, ToolsLevel, ToolsPair, ToolsBroken):
        if cls._index is not None:
            _core.clear(cls._index)
    yield
    Config.reset()
    assert not _core.profiler_active(), "a test left the profiler running"


def tree(component: object) -> dict[tuple[str, ...], tuple[int, list[float]]]:
    """{label path: (laps, accumulated raw values)} of this process's tree of ``component``
    (a class or a name), threads merged; the dummy root left out."""
    index = component._index if isinstance(component, type) else _core.find_component(component)
    n = _core.component_info(index)["n_raw"]
    batch = _core.tree_snapshot(index)
    out: dict[tuple[str, ...], tuple[int, list[float]]] = {}
    stack = [(i, ()) for i in batch.roots()]
    while stack:
        i, prefix = stack.pop()
        path = prefix if batch.hash(i) == 0 else (*prefix, batch.label(i))
        if path:
            entry = batch.inclusive(i)
            laps, accum = out.get(path, (0, []))
            out[path] = (laps + entry.laps, accum or list(entry.accum)[:n])
        stack += [(c, path) for c in batch.children(i)]
    return out


def leaf(n: int) -> int:
    LEVEL[0] = n
    return n


def branch(n: int) -> int:
    return sum(leaf(i) for i in range(n))


def labels_with(paths, word: str) -> list[tuple[str, ...]]:
    return [p for p in paths if any(word in part for part in p)]


# ------------------------------------------------------------------ function profiler
@pytest.mark.parametrize("spec", [ToolsCalls, "tools_calls", f"{__name__}:ToolsCalls"])
def test_profiler_measures_every_call(spec) -> None:
    with profile(["wall_clock", spec]):
        branch(3)
        branch(2)
    calls = tree(ToolsCalls)
    clocks = tree("wall_clock")
    branch_path = next(p for p in calls if p[-1].startswith("branch"))
    leaf_path = next(p for p in calls if p[-1].startswith("leaf"))
    # a call, a measurement: laps and the summed value (1 per call) agree with wall_clock's
    assert calls[branch_path][0] == 2 and calls[branch_path][1] == [2.0]
    assert calls[leaf_path][0] == 5 and calls[leaf_path][1] == [5.0]
    assert clocks[branch_path][0] == 2 and clocks[leaf_path][0] == 5
    # every interval started and stopped its object exactly once
    measured = sum(laps for laps, _ in calls.values())
    assert EVENTS["start"] == EVENTS["stop"] == measured
    # the component's own methods (start/stop/get, __init__) were never profiled
    for word in ("start", "stop", "get", "__init__", "ToolsCalls"):
        assert not labels_with(calls, word), calls.keys()
        assert not labels_with(clocks, word), clocks.keys()


def test_profiler_combines_by_the_rule() -> None:
    @profile([ToolsLevel])
    def run() -> None:
        for n in (3, 9, 4):
            leaf(n)

    run()
    levels = tree(ToolsLevel)
    leaf_path = next(p for p in levels if p[-1].startswith("leaf"))
    assert levels[leaf_path] == (3, [9.0])  # max over the three calls, not their sum
    run_path = next(p for p in levels if p[-1].startswith("run"))
    assert levels[run_path] == (1, [4.0])  # the level when run() returned


def test_profiler_class_api_and_tuple_values() -> None:
    prof = Profiler(components=[ToolsPair, "wall_clock"])
    prof.start()
    try:
        branch(2)
    finally:
        prof.stop()
    pairs = tree(ToolsPair)
    leaf_path = next(p for p in pairs if p[-1].startswith("leaf"))
    assert pairs[leaf_path] == (2, [2.0, 4.0])


def test_profiler_drops_a_failing_component_and_goes_on(capfd) -> None:
    ToolsBroken.calls[0] = 0
    with profile(["wall_clock", ToolsBroken]):
        for _ in range(5):
            leaf(1)
    err = capfd.readouterr().err
    lines = [line for line in err.splitlines() if "tools_broken" in line]
    assert len(lines) == 1, err
    assert "get() raised ValueError: boom" in lines[0]
    assert "Traceback (most recent call last)" not in err
    assert _core.user_component_failed(ToolsBroken._index)
    leaf_path = next(p for p in tree("wall_clock") if p[-1].startswith("leaf"))
    assert tree("wall_clock")[leaf_path][0] == 5  # the rest of the measurement continued
    assert tree(ToolsBroken)[leaf_path] == (2, [2.0])  # the two calls before it failed


def test_profiler_threads_measure_their_own_objects() -> None:
    import threading

    def work() -> None:
        branch(4)

    with profile([ToolsCalls]):
        threads = [threading.Thread(target=work) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    leaf_path = next(p for p in tree(ToolsCalls) if p[-1].startswith("leaf"))
    assert tree(ToolsCalls)[leaf_path] == (12, [12.0])
    assert EVENTS["start"] == EVENTS["stop"]


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring is 3.12+")
def test_profiler_setprofile_backend_on_new_pythons() -> None:
    from timemory.profiler import _config  # noqa: F401  (the labeler's module)

    prof = Profiler(components=[ToolsCalls])
    indices = prof.configure()
    _core.profiler_start(indices, Config.labeler(), monitoring=False)
    try:
        assert _core.profiler_backend() == "setprofile"
        branch(3)
    finally:
        _core.profiler_stop()
    calls = tree(ToolsCalls)
    leaf_path = next(p for p in calls if p[-1].startswith("leaf"))
    assert calls[leaf_path] == (3, [3.0])
    for word in ("start", "stop", "get", "__init__"):
        assert not labels_with(calls, word), calls.keys()


# ------------------------------------------------------------------ line tracer
def traced(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def test_tracer_measures_every_line() -> None:
    trace_config.include_line = True
    tracer = Tracer(["wall_clock", ToolsCalls])
    tracer.start()
    try:
        traced(3)
    finally:
        tracer.stop()
    calls = tree(ToolsCalls)
    clocks = tree("wall_clock")
    assert calls, "no line recorded"
    # each execution of a line is one interval of its own object: value == laps
    for path, (laps, accum) in calls.items():
        assert accum == [float(laps)], (path, laps, accum)
        assert clocks[path][0] == laps
    assert sum(laps for laps, _ in calls.values()) == EVENTS["start"] == EVENTS["stop"]
    assert max(laps for laps, _ in calls.values()) == 4  # the `for` line: 3 turns and the end
    for word in ("def start", "def stop", "def get", "EVENTS"):
        assert not labels_with(calls, word), calls.keys()


# ------------------------------------------------------------------ line profiler
def profiled(n: int) -> int:
    LEVEL[0] = 0
    for i in range(n):
        LEVEL[0] = i * 10
    return LEVEL[0]


@pytest.mark.parametrize(("component", "per_line"), [(ToolsCalls, "hits"), (ToolsLevel, "max")])
def test_line_profiler_with_a_scalar_component(component, per_line) -> None:
    lp = LineProfiler(component=component)
    lp.add_function(profiled)
    lp.enable_by_count()
    try:
        profiled(4)
    finally:
        lp.disable_by_count()
    stats = lp.get_stats()
    (timings,) = stats.timings.values()
    assert stats.component == component.label
    by_line = {lineno: (hits, total) for lineno, hits, total in timings}
    first = profiled.__code__.co_firstlineno
    loop_body = by_line[first + 3]  # LEVEL[0] = i * 10
    assert loop_body[0] == 4
    if per_line == "hits":
        assert all(total == hits for hits, total in by_line.values())
    else:  # the level read at the end of each execution of the line, the largest kept
        assert loop_body[1] == 30
        assert by_line[first + 1][1] == 0  # LEVEL[0] = 0


def test_line_profiler_refuses_a_tuple_component() -> None:
    with pytest.raises(ValueError) as info:
        LineProfiler(component=ToolsPair)
    message = str(info.value)
    assert "\n" not in message
    assert "tools_pair" in message and "more than one value" in message
    assert "Valid choices are:" in message and "tools_calls" in message


# ------------------------------------------------------------------ component objects
def test_native_component_object_of_a_user_component() -> None:
    cls = timemory.component._class_for(ToolsCalls._index)
    obj = cls()
    for _ in range(3):
        obj.start()
        obj.stop()
    assert obj.laps() == 3
    assert obj.get_accum() == 3
    assert EVENTS["start"] == EVENTS["stop"] == 3
    LEVEL[0] = 7
    level = timemory.component._class_for(ToolsLevel._index)()
    assert level.measure().get_value() == 7
    obj.start()
    del obj  # an object started and never stopped gives its interval back
    assert EVENTS["start"] == EVENTS["stop"] == 4


# ------------------------------------------------------------------ command lines
COMPONENTS_MODULE = """\
from timemory.component import Base

STARTS = [0]


class Depth(Base):
    label = "cli_depth"
    combine = "max"

    def start(self):
        STARTS[0] += 1

    def get(self):
        return 5


class NotAComponent:
    pass
"""

SCRIPT = """\
import sys

from timemory import _core


def work(n):
    return n * 2


for i in range(4):
    work(i)

import components  # the module -c imported: the same, not a second copy

index = _core.find_component("cli_depth")
batch = _core.tree_snapshot(index)
found = {}
stack = list(batch.roots())
while stack:
    i = stack.pop()
    if batch.hash(i):
        found[batch.label(i)] = (batch.inclusive(i).laps, list(batch.inclusive(i).accum))
    stack += batch.children(i)
laps, accum = next(v for k, v in found.items() if k.startswith("work"))
print(f"work laps={laps} value={accum[0]:g} starts={components.STARTS[0] > 0}", file=sys.stderr)
"""


@pytest.mark.parametrize("module", ["timemory.profiler", "timemory"])
def test_profiler_command_line_with_an_import_path(tmp_path: Path, module: str) -> None:
    write(tmp_path / "components.py", COMPONENTS_MODULE)
    write(tmp_path / "script.py", SCRIPT)
    pre = ["profile"] if module == "timemory" else []
    proc = run_tool(
        module, *pre, "-c", "wall_clock", "components:Depth", "--", "script.py", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert "work laps=4 value=5 starts=True" in proc.stderr, proc.stderr


def test_tracer_command_line_with_an_import_path(tmp_path: Path) -> None:
    write(tmp_path / "components.py", COMPONENTS_MODULE)
    write(tmp_path / "script.py", "import components\n\nx = 1\nfor i in range(3):\n    x += i\n")
    proc = run_tool("timemory.trace", "-c", "components:Depth", "--", "script.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback (most recent call last)" not in proc.stderr


BAD_VALUES = [
    ("nosuchmodule:Depth", "cannot import 'nosuchmodule'"),
    ("components:Missing", "has no 'Missing'"),
    ("components:NotAComponent", "is not a subclass of timemory.component.Base"),
    ("wal_clock", "did you mean 'wall_clock'?"),
    # a label is known once its class is registered: here by the import path before it
    ("components:Depth cli_dept", "did you mean 'cli_depth'?"),
]


@pytest.mark.parametrize(("value", "text"), BAD_VALUES)
@pytest.mark.parametrize("tool", ["timemory.profiler", "timemory.trace"])
def test_bad_component_values_are_one_line(
    tmp_path: Path, tool: str, value: str, text: str
) -> None:
    write(tmp_path / "components.py", COMPONENTS_MODULE)
    write(tmp_path / "script.py", "print('ran')\n")
    proc = run_tool(tool, "-c", *value.split(), "--", "script.py", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "ran" not in proc.stdout
    assert_one_error_line(proc.stderr, f"python -m {tool}", text)
    if value.endswith(("Depth", "Missing", "NotAComponent")):  # a failing import path
        assert "Valid choices are:" in proc.stderr and "wall_clock" in proc.stderr


def test_line_profiler_command_line_refuses_a_tuple_component(tmp_path: Path) -> None:
    write(
        tmp_path / "components.py",
        COMPONENTS_MODULE
        + textwrap.dedent(
            """
            class Pair(Base):
                label = "cli_pair"
                names = ("a", "b")

                def get(self):
                    return (1, 2)
            """
        ),
    )
    write(tmp_path / "script.py", "print('ran')\n")
    proc = run_tool(
        "timemory.line_profiler", "-c", "components:Pair", "--", "script.py", cwd=tmp_path
    )
    assert proc.returncode == 2, proc.stderr
    assert_one_error_line(proc.stderr, "python -m timemory.line_profiler", "more than one value")


def test_line_profiler_command_line_with_a_scalar_component(tmp_path: Path) -> None:
    write(tmp_path / "components.py", COMPONENTS_MODULE)
    write(
        tmp_path / "script.py",
        "@profile\ndef work(n):\n    total = 0\n    for i in range(n):\n        total += i\n"
        "    return total\n\n\nwork(3)\n",
    )
    proc = run_tool(
        "timemory.line_profiler",
        "-c",
        "components:Depth",
        "-o",
        "out.lprof",
        "--",
        "script.py",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback (most recent call last)" not in proc.stderr
    from timemory.line_profiler import load_stats

    stats = load_stats(tmp_path / "out.lprof")
    (timings,) = stats.timings.values()
    by_line = {lineno: (hits, total) for lineno, hits, total in timings}
    assert by_line[5] == (3, 5)  # total += i: three executions, the max of their values (5)
    assert stats.component == "cli_depth"


def test_profiler_components_from_the_settings_by_label() -> None:
    # the settings take names: a Python-defined component's label once it is registered
    saved = timemory.settings.profiler_components
    timemory.settings.profiler_components = "wall_clock, tools_level"
    try:
        with profile():
            leaf(6)
            leaf(2)
    finally:
        timemory.settings.profiler_components = saved
    leaf_path = next(p for p in tree(ToolsLevel) if p[-1].startswith("leaf"))
    assert tree(ToolsLevel)[leaf_path] == (2, [6.0])
