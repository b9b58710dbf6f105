"""``timemory.line_profiler.LineProfiler``: hit counts, per-line values, threads, generators,
exceptions, the trace hook left as it was, components, and the ``.lprof`` files that the
``line_profiler`` package reads."""

from __future__ import annotations

import io
import pickle
import subprocess
import sys
import threading

import line_profiler
import pytest
from timemory import _core
from timemory.line_profiler import LineProfiler, LineStats, load_stats, scalar_components
from timemory.trace import Tracer


def _lines(stats: LineStats, func) -> dict[int, tuple[int, int]]:
    """{line offset from the def: (hits, total)} of ``func``'s entry in ``stats``."""
    code = func.__code__
    key = next(k for k in stats.timings if k[0] == code.co_filename and k[1] == code.co_firstlineno)
    first = code.co_firstlineno
    return {lineno - first: (hits, total) for lineno, hits, total in stats.timings[key]}


def loop(n):
    total = 0
    for i in range(n):
        total += i
    return total


def test_exact_hit_counts_of_a_loop():
    prof = LineProfiler()
    prof.add_function(loop)
    prof.runcall(loop, 10)
    prof.runcall(loop, 5)
    hits = {k: v[0] for k, v in _lines(prof.get_stats(), loop).items()}
    # total = 0 / for (n + 1 per call) / total += i / return
    assert hits == {1: 2, 2: 17, 3: 15, 4: 2}


def test_hit_counts_match_line_profilers_own():
    ours, theirs = LineProfiler(), line_profiler.LineProfiler()
    theirs.add_function(loop)  # first: it may give the function a code object of its own
    ours.add_function(loop)
    for prof in (ours, theirs):
        prof.runcall(loop, 25)
    assert {k: v[0] for k, v in _lines(ours.get_stats(), loop).items()} == {
        k: v[0] for k, v in _lines(theirs.get_stats(), loop).items()
    }


# time passes on the fake clock (the fake_clock fixture), as the builtin called in the line
def napper():
    _core._test_clock_advance(20_000_000)
    x = sum(range(20000))
    _core._test_clock_advance(10_000_000)
    return x


def test_lines_add_up_to_the_functions_time(fake_clock):
    prof = LineProfiler(napper)
    prof.runcall(napper)
    stats = prof.get_stats()
    assert stats.unit == 1e-9 and stats.component == "wall_clock"
    lines = _lines(stats, napper)
    # (hits, ns) of each line: the lines cover the call, each line has its own time
    assert {k: lines[k] for k in (1, 2, 3, 4)} == {
        1: (1, 20_000_000),
        2: (1, 0),
        3: (1, 10_000_000),
        4: (1, 0),
    }


def outer(n):
    s = 0
    for _ in range(n):
        s += inner()
    return s


def inner():
    _core._test_clock_advance(2_000_000)
    return 1


def test_a_line_includes_the_profiled_functions_it_calls(fake_clock):
    prof = LineProfiler(outer, inner)
    prof.runcall(outer, 5)
    stats = prof.get_stats()
    calling_line = _lines(stats, outer)[3]
    inner_total = sum(v[1] for v in _lines(stats, inner).values())
    assert calling_line == (5, 5 * 2_000_000) and inner_total == 5 * 2_000_000


def test_threads_are_profiled_and_added_up():
    prof = LineProfiler()
    profiled = prof(loop)
    threads = [threading.Thread(target=profiled, args=(100,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    profiled(100)
    lines = _lines(prof.get_stats(), loop)
    assert lines[3][0] == 5 * 100
    assert lines[1][0] == 5


def counter(n):
    for i in range(n):  # noqa: UP028 - a loop with a yield line is the point
        yield i


def test_generators_count_every_resume():
    prof = LineProfiler()
    gen = prof(counter)
    assert list(gen(7)) == list(range(7))
    lines = _lines(prof.get_stats(), counter)
    assert lines[2][0] == 7  # the yield line, once per value
    assert lines[1][0] == 8  # the for line, once more to end


def fails(n):
    x = n * 2
    raise ValueError(x)


def test_a_raising_line_is_counted_and_the_hook_restored():
    prof = LineProfiler()
    wrapped = prof(fails)
    for _ in range(3):
        with pytest.raises(ValueError):
            wrapped(1)
    lines = _lines(prof.get_stats(), fails)
    assert lines[1][0] == 3 and lines[2][0] == 3
    assert sys.gettrace() is None
    assert prof.enable_count == 0


def test_the_previous_trace_hook_is_put_back():
    events = []

    def tracer(frame, event, arg):
        events.append(event)
        return None

    sys.settrace(tracer)
    try:
        prof = LineProfiler()
        prof(loop)(3)
        assert sys.gettrace() is tracer
    finally:
        sys.settrace(None)
    assert threading._trace_hook is None  # type: ignore[attr-defined]


def test_a_frame_alive_across_the_session_keeps_its_line_events():
    # the caller was running before profiling started: a debugger tracing it afterwards must
    # still get its line events (only frames started during the session lose them)
    prof = LineProfiler()
    prof.add_function(loop)
    lines = []

    def tracer(frame, event, arg):
        if event == "line":
            lines.append(frame.f_lineno)
        return tracer

    def caller():
        prof.enable_by_count()
        loop(3)
        total = 0  # a line event of this frame during the session: it is adopted
        prof.disable_by_count()
        here = sys._getframe()
        here.f_trace = tracer
        sys.settrace(tracer)
        first = here.f_lineno + 1
        total += 1
        total += 2
        sys.settrace(None)
        return first, total

    first, total = caller()
    assert total == 3
    assert first in lines and first + 1 in lines, (first, lines)


@pytest.mark.parametrize("name", ["current_peak_rss", "read_bytes", "cpu_util", "timestamp"])
def test_a_non_scalar_component_is_refused_naming_the_scalar_ones(name):
    with pytest.raises(ValueError) as err:
        LineProfiler(component=name)
    text = str(err.value)
    assert name in text and "scalar" in text
    assert "wall_clock" in text and "peak_rss" in text and "cpu_clock" in text


def test_an_unknown_component_names_the_closest_choice():
    with pytest.raises(
        ValueError, match="Unknown component: 'wal_clock'; did you mean 'wall_clock'"
    ):
        LineProfiler(component="wal_clock")


@pytest.mark.parametrize(
    ("spec", "component", "display"),
    [
        ("WallClock", "wall_clock", "sec"),
        ("cpu_clock", "cpu_clock", "sec"),
        ("peak_rss", "peak_rss", "MB"),
        ("num_minor_page_faults", "num_minor_page_faults", ""),
    ],
)
def test_components_and_their_units(spec, component, display):
    prof = LineProfiler(component=spec)
    assert prof.component == component
    prof.runcall(prof(loop), 10)
    stats = prof.get_stats()
    assert stats.component == component and stats.display_unit == display
    assert _lines(stats, loop)[3][0] == 10
    assert component in scalar_components()


def test_page_faults_of_a_touching_line():
    def touch():
        block = bytearray(64 * 1024 * 1024)
        for i in range(0, len(block), 4096):
            block[i] = 1
        return len(block)

    prof = LineProfiler(component="num_minor_page_faults")
    prof.runcall(prof(touch))
    lines = _lines(prof.get_stats(), touch)
    assert lines[1][1] + lines[3][1] >= 1000  # 16k pages were touched


def test_only_one_line_session_at_a_time():
    prof = LineProfiler()
    tracer = Tracer(["wall_clock"])
    tracer.start()
    try:
        with pytest.raises(RuntimeError, match="timemory.trace"):
            prof.enable_by_count()
    finally:
        tracer.stop()
    assert prof.enable_count == 0
    prof.enable_by_count()
    try:
        with pytest.raises(RuntimeError, match="timemory.line_profiler"):
            Tracer(["wall_clock"]).start()
    finally:
        prof.disable_by_count()
    assert sys.gettrace() is None


def test_another_component_while_enabled_is_refused():
    wall, rss = LineProfiler(), LineProfiler(component="peak_rss")
    with wall:
        with pytest.raises(RuntimeError, match="peak_rss.*wall_clock"):
            rss.enable_by_count()


def test_print_stats_labels_the_metric():
    prof = LineProfiler(component="peak_rss")
    prof.runcall(prof(loop), 3)
    out = io.StringIO()
    prof.print_stats(stream=out)
    text = out.getvalue()
    for piece in ("Line #", "Hits", "Metric", "Per Hit", "% Metric", "Line Contents"):
        assert piece in text
    assert "Metric unit: 1e-06 MB" in text
    assert "Total metric: " in text and "total += i" in text


def test_lprof_files_round_trip_and_load_without_timemory_classes(tmp_path):
    prof = LineProfiler(component="cpu_clock")
    prof.runcall(prof(loop), 50)
    path = tmp_path / "loop.lprof"
    prof.dump_stats(path)
    raw = pickle.loads(path.read_bytes())
    assert type(raw) is line_profiler.LineStats  # no timemory class needed to read it
    assert raw.component == "cpu_clock" and raw.unit == 1e-9
    again = load_stats(path)
    assert isinstance(again, LineStats) and again.component == "cpu_clock"
    assert again.timings == prof.get_stats().timings
    both = load_stats(path, path)
    assert _lines(both, loop)[3][0] == 100
    assert line_profiler.load_stats(str(path)).timings == again.timings


def test_python_m_line_profiler_shows_the_file(tmp_path):
    prof = LineProfiler()
    prof.runcall(prof(loop), 1000)
    path = tmp_path / "loop.lprof"
    prof.dump_stats(path)
    res = subprocess.run(
        [sys.executable, "-m", "line_profiler", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert "Timer unit:" in res.stdout and "Total time:" in res.stdout
    assert "Function: loop at line" in res.stdout
    row = next(line for line in res.stdout.splitlines() if line.rstrip().endswith("total += i"))
    assert row.split()[1] == "1000"
