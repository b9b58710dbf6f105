"""The Perfetto / Chrome trace export of the timeline (settings.timeline_events): each
measurement's real begin and end per thread, named process and thread tracks, counter tracks
for the components that are not clocks, the cap and its dropped count, and the flame-graph
layout when no timeline was recorded. Every file is checked against the trace-event format
(tests/trace_event_format.py, written from its specification), and loaded with the
``perfetto`` package's trace processor when it can run here."""

from __future__ import annotations

import json
import resource
import threading
import time
import types
from pathlib import Path

import pytest
import timemory
import trace_event_format
from timemory import _core, settings
from timemory._components import resolve
from timemory._output import _timeline
from timemory.bundle import marker

WALL = resolve(["wall_clock"])[0]
START_US = 1_000_000  # fakeclock.START_NS in microseconds


@pytest.fixture
def recording():
    """The timeline recorded for the test, off and empty after it."""
    settings.timeline_events = True
    try:
        yield
    finally:
        settings.timeline_events = False
        _core.timeline_clear()


def live_source(*names: str) -> types.SimpleNamespace:
    indices = resolve(list(names or ["wall_clock"]))
    return types.SimpleNamespace(indices=indices, native=indices, rank=0, copy=False)


def write(tmp_path: Path, src: types.SimpleNamespace | None = None, name: str = "trace.json"):
    path = tmp_path / name
    _timeline.make_perfetto(src or live_source())(bytes(path))
    doc = json.loads(path.read_text())
    assert trace_event_format.check(doc) == []
    return doc


def of_phase(doc: dict, ph: str) -> list[dict]:
    return [e for e in doc["traceEvents"] if e["ph"] == ph]


def slices(doc: dict) -> list[tuple]:
    return [
        (e["name"], e["tid"], e["ts"], e["dur"], e["args"]["depth"]) for e in of_phase(doc, "X")
    ]


# ---------------------------------------------------------------- the checker itself
def test_checker_finds_what_the_specification_forbids():
    ok = {
        "traceEvents": [
            {"ph": "M", "name": "thread_name", "pid": 1, "tid": 1, "args": {"name": "t"}},
            {"ph": "B", "name": "a", "pid": 1, "tid": 1, "ts": 1},
            {"ph": "E", "pid": 1, "tid": 1, "ts": 3},
            {"ph": "X", "name": "b", "pid": 1, "tid": 1, "ts": 0, "dur": 10},
            {"ph": "X", "name": "c", "pid": 1, "tid": 1, "ts": 2, "dur": 2.5},
            {"ph": "C", "name": "n", "pid": 1, "tid": 1, "ts": 2, "args": {"v": 1.5}},
        ]
    }
    assert trace_event_format.check(ok) == []
    bad = [
        ({"ph": "X", "name": "x", "pid": 1, "tid": 1, "ts": 0, "dur": -1}, "negative dur"),
        ({"ph": "X", "name": "x", "pid": 1, "tid": 1, "ts": 0}, "without a numeric dur"),
        ({"ph": "E", "pid": 1, "tid": 2, "ts": 0}, "no open B"),
        ({"ph": "B", "name": "x", "pid": 1, "tid": 3, "ts": 0}, "never closed"),
        ({"ph": "C", "name": "n", "pid": 1, "tid": 1, "ts": 0, "args": {"v": "1"}}, "not a number"),
        ({"ph": "M", "name": "thread_name", "pid": 1, "tid": 1, "args": {}}, "args.name"),
        ({"ph": "M", "name": "nonsense", "pid": 1, "tid": 1, "args": {}}, "unknown metadata"),
        ({"ph": "X", "name": "x", "pid": "1", "tid": 1, "ts": 0, "dur": 1}, "pid is not"),
        ({"ph": "Q", "name": "x", "pid": 1, "tid": 1, "ts": 0}, "unknown phase"),
        ({"ph": "b", "name": "x", "pid": 1, "tid": 1, "ts": 0}, "no id"),
    ]
    for event, problem in bad:
        found = trace_event_format.check({"traceEvents": [event]})
        assert any(problem in p for p in found), (event, found)
    # slices of a thread that overlap without nesting, and duration events out of order
    overlap = [
        {"ph": "X", "name": "a", "pid": 1, "tid": 1, "ts": 0, "dur": 10},
        {"ph": "X", "name": "b", "pid": 1, "tid": 1, "ts": 5, "dur": 10},
    ]
    assert any("overlaps" in p for p in trace_event_format.check(overlap))
    order = [
        {"ph": "B", "name": "a", "pid": 1, "tid": 1, "ts": 5},
        {"ph": "E", "pid": 1, "tid": 1, "ts": 4},
    ]
    assert any("out of timestamp order" in p for p in trace_event_format.check(order))
    assert trace_event_format.check({"displayTimeUnit": "s", "traceEvents": []})


# ---------------------------------------------------------------- recording
def test_off_by_default_records_nothing_and_holds_no_memory(python_runner, tmp_path):
    proc = python_runner(
        """
        import timemory
        from timemory import _core, settings
        from timemory.bundle import marker
        settings.auto_output = False
        for _ in range(1000):
            with marker(["wall_clock", "peak_rss"], key="k"):
                pass
        print(settings.timeline_events, _core.timeline_stats())
        """,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    on, stats = proc.stdout.split(" ", 1)
    assert on == "False"
    stats = eval(stats)  # the dict's repr
    assert (stats["events"], stats["dropped"], stats["bytes"]) == (0, 0, 0)


def test_nested_markers_on_two_threads_have_exact_times(tmp_path, fake_clock, recording):
    def nested(outer: str, inner: str) -> None:
        with marker(["wall_clock"], key=outer):
            fake_clock.advance(0.001)
            with marker(["wall_clock"], key=inner):
                fake_clock.advance(0.002)
            fake_clock.advance(0.0005)

    release = threading.Event()
    started = threading.Event()

    def alive() -> None:  # still running when the file is written: its name is known
        nested("a-outer", "a-inner")
        started.set()
        release.wait(60)

    a = threading.Thread(target=alive, name="worker-A")
    a.start()
    assert started.wait(60)
    b = threading.Thread(target=nested, args=("b-outer", "b-inner"), name="worker-B")
    b.start()
    b.join()
    try:
        doc = write(tmp_path)
    finally:
        release.set()
        a.join()
    names = {e["tid"]: e["args"]["name"] for e in of_phase(doc, "M") if e["name"] == "thread_name"}
    got = slices(doc)
    tid_a = next(t for n, t, *_ in got if n == "a-outer")
    tid_b = next(t for n, t, *_ in got if n == "b-outer")
    assert tid_a != tid_b
    assert names[tid_a] == "worker-A"
    assert names[tid_b] == "worker-B"  # ended before the write: its name when it recorded
    # microseconds, exact: a starts at the clock's start, b where a ended
    assert got == [
        ("a-outer", tid_a, START_US, 3500, 0),
        ("a-inner", tid_a, START_US + 1000, 2000, 1),
        ("b-outer", tid_b, START_US + 3500, 3500, 0),
        ("b-inner", tid_b, START_US + 4500, 2000, 1),
    ]
    (process,) = [e for e in of_phase(doc, "M") if e["name"] == "process_name"]
    assert {e["pid"] for e in doc["traceEvents"]} == {process["pid"]}
    assert doc["otherData"]["dropped_events"] == 0
    assert doc["otherData"]["timemory_version"] == _core.build_info["version"]


def test_a_thread_python_does_not_know_is_numbered(tmp_path, fake_clock, recording):
    import _thread

    done = threading.Event()

    def raw() -> None:
        with marker(["wall_clock"], key="raw"):
            fake_clock.advance(0.001)
        done.set()

    _thread.start_new_thread(raw, ())
    assert done.wait(60)
    doc = write(tmp_path)
    (tid,) = [t for n, t, *_ in slices(doc) if n == "raw"]
    names = {e["tid"]: e["args"]["name"] for e in of_phase(doc, "M") if e["name"] == "thread_name"}
    assert names[tid] == f"thread {tid}"


def test_fractional_microseconds_and_decorators_and_regions(tmp_path, fake_clock, recording):
    @marker(["wall_clock"])
    def decorated() -> None:
        fake_clock.advance(1.5e-9 * 1000)  # 1.5 µs

    decorated()
    timemory.region.push("region")
    _core._test_clock_advance(1_234)  # ns
    timemory.region.pop("region")
    got = [(n, ts, dur) for n, _, ts, dur, _ in slices(write(tmp_path))]
    assert [(ts, dur) for _, ts, dur in got] == [(START_US, 1.5), (START_US + 1.5, 1.234)]
    assert got[1][0] == "region"
    assert "decorated" in got[0][0]


def test_auto_timer_leaves_its_slice_and_its_peak_rss(tmp_path, fake_clock, recording):
    from timemory.bundle import auto_timer

    with auto_timer("timed"):
        fake_clock.advance(0.002)
    doc = write(tmp_path)
    assert [(n, ts, dur) for n, _, ts, dur, _ in slices(doc)] == [("timed", START_US, 2000)]
    # cpu_clock is a clock and cpu_util a percentage: peak_rss alone is a counter
    assert [c["name"] for c in of_phase(doc, "C")] == ["peak_rss [MB]"]


def test_counter_tracks_carry_the_reading_at_each_stop(tmp_path, fake_clock, recording):
    with marker(["wall_clock", "peak_rss"], key="outer"):
        fake_clock.advance(0.001)
        with marker(["wall_clock", "peak_rss"], key="inner"):
            fake_clock.advance(0.001)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6
    doc = write(tmp_path)
    counters = of_phase(doc, "C")
    assert [c["name"] for c in counters] == ["peak_rss [MB]", "peak_rss [MB]"]
    # a sample per stop, at the stop: inner's end, then outer's
    assert [c["ts"] for c in counters] == [START_US + 2000, START_US + 2000]
    for c in counters:
        (value,) = c["args"].values()
        assert 0 < value <= peak_mb + 1e-6
    # wall_clock is the events' time, not a counter
    assert [n for n, *_ in slices(doc)] == ["outer", "inner"]


def test_the_cap_drops_events_and_says_how_many(tmp_path, fake_clock, recording, capsys):
    settings.timeline_max_events = 5
    try:
        for i in range(12):
            with marker(["wall_clock"], key=f"m{i}"):
                fake_clock.advance(0.001)
        stats = _core.timeline_stats()
        assert (stats["events"], stats["dropped"]) == (5, 7)
        doc = write(tmp_path)
    finally:
        settings.timeline_max_events = 1_000_000
    assert [n for n, *_ in slices(doc)] == [f"m{i}" for i in range(5)]
    assert doc["otherData"]["dropped_events"] == 7
    assert doc["otherData"]["max_events"] == 5
    err = capsys.readouterr().err
    assert "first 5 events: 7 more were not recorded" in err
    assert err.count("\n") == 1
    # the call graph kept all of them
    assert len(timemory.get()["timemory"]["wall_clock"]["ranks"][0]["graph"]) == 12


def test_clear_forgets_the_events_and_a_checkpoint_keeps_them(tmp_path, fake_clock, recording):
    with marker(["wall_clock"], key="before"):
        fake_clock.advance(0.001)
    timemory.clear()
    assert _core.timeline_stats()["events"] == 0
    with marker(["wall_clock"], key="first"):
        fake_clock.advance(0.001)
    assert [n for n, *_ in slices(write(tmp_path, name="checkpoint.json"))] == ["first"]
    with marker(["wall_clock"], key="second"):
        fake_clock.advance(0.001)
    # the write took nothing away: the next one has every event
    assert [n for n, *_ in slices(write(tmp_path))] == ["first", "second"]


def test_written_while_threads_keep_recording(tmp_path, recording):
    # a background checkpoint: the writer reads each thread's buffer while its owner appends
    stop = threading.Event()
    counts = [0, 0]

    def work(slot: int) -> None:
        while not stop.is_set() and counts[slot] < 20_000:
            with marker(["wall_clock", "page_rss"], key=f"work{slot}"):
                counts[slot] += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    seen = []
    try:
        for i in range(5):
            doc = write(tmp_path, name=f"checkpoint{i}.json")
            seen.append(len(of_phase(doc, "X")))
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert seen == sorted(seen)
    doc = write(tmp_path)
    assert len(of_phase(doc, "X")) == sum(counts)
    # each slice has its counter sample: as many as slices, none torn
    assert len(of_phase(doc, "C")) == sum(counts)


def test_profiler_events_are_real_times(tmp_path, recording):
    from timemory.profiler import profile

    def inner(n: int) -> int:
        return sum(range(n))

    def outer(n: int) -> int:
        return inner(n) + inner(n)

    before = time.monotonic_ns() / 1000
    with profile(["wall_clock"]):
        for _ in range(3):
            outer(10_000)
    after = time.monotonic_ns() / 1000
    doc = write(tmp_path)
    got = [(n, ts, dur, depth) for n, _, ts, dur, depth in slices(doc)]
    outers = [s for s in got if s[0].startswith("outer")]
    inners = [s for s in got if s[0].startswith("inner")]
    assert (len(outers), len(inners)) == (3, 6)
    for _, ts, dur, _ in got:
        # CLOCK_MONOTONIC, what time.monotonic_ns() reads
        assert before <= ts and ts + dur <= after
        assert dur > 0
    # each inner call lies inside an outer call, one level deeper
    for _, ts, dur, depth in inners:
        assert any(o[1] <= ts and ts + dur <= o[1] + o[2] and depth == o[3] + 1 for o in outers)


def test_profiler_events_with_the_fake_clock(tmp_path, fake_clock, recording):
    from timemory.profiler import profile

    advance = _core._test_clock_advance  # a builtin: not profiled without trace_c

    def leaf() -> None:
        advance(2_000)

    def root() -> None:
        advance(1_000)
        leaf()
        advance(500)

    with profile(["wall_clock", "peak_rss"]):
        root()
    doc = write(tmp_path)
    got = [(n.split(" ")[0], ts, dur, depth) for n, _, ts, dur, depth in slices(doc)]
    assert got == [("root", START_US, 3.5, 0), ("leaf", START_US + 1, 2, 1)]
    assert [c["ts"] for c in of_phase(doc, "C")] == [START_US + 3, START_US + 3.5]


# ---------------------------------------------------------------- other processes
POOL_PROGRAM = """
import json, os, sys, types
import multiprocessing as mp
import timemory
from timemory.bundle import marker
from timemory._components import resolve
from timemory._output import _timeline

@marker(["wall_clock"])
def task(i):
    with marker(["wall_clock", "page_rss"], key="inner"):
        sum(range(1000))
    return os.getpid()

if __name__ == "__main__":
    timemory.settings.auto_output = False
    with marker(["wall_clock"], key="main"):
        with mp.get_context(sys.argv[1]).Pool(2) as pool:
            pids = pool.map(task, range(8), chunksize=1)
        pool.join()
    src = types.SimpleNamespace(indices=[0], native=resolve(["wall_clock"]), rank=0, copy=False)
    _timeline.make_perfetto(src)(b"trace.json")
    json.dump({"workers": sorted(set(pids)), "parent": os.getpid()}, open("result.json", "w"))
"""


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_pool_workers_are_their_own_process_tracks(run_python, tmp_path, method):
    # in the environment: spawned workers import timemory afresh and read it
    proc = run_python(POOL_PROGRAM, env={"TIMEMORY_TIMELINE_EVENTS": "1"}, args=(method,))
    assert proc.returncode == 0, proc.stderr
    result = json.loads((tmp_path / "result.json").read_text())
    doc = json.loads((tmp_path / "trace.json").read_text())
    assert trace_event_format.check(doc) == []
    procs = {e["pid"]: e["args"]["name"] for e in of_phase(doc, "M") if e["name"] == "process_name"}
    workers = {pid for pid in procs if pid != result["parent"]}
    assert workers == set(result["workers"])
    assert all(procs[pid] == f"worker {pid}" for pid in workers)
    by_pid: dict[int, list[str]] = {}
    for e in of_phase(doc, "X"):
        by_pid.setdefault(e["pid"], []).append(e["name"])
    # the parent's one marker, and each task with its inner marker in the worker that ran it
    assert by_pid.pop(result["parent"]) == ["main"]
    names = [n for pid in workers for n in by_pid[pid]]
    assert names.count("inner") == 8 and len(names) == 16
    assert {e["pid"] for e in of_phase(doc, "C")} == workers
    assert doc["otherData"]["processes"] == 1 + len(workers)


def test_a_packed_timeline_round_trips_and_bad_bytes_are_refused(tmp_path, fake_clock, recording):
    with marker(["wall_clock", "peak_rss"], key="packed"):
        fake_clock.advance(0.001)
    packed = _core.pack_trace_events()
    _core.timeline_clear()
    with marker(["wall_clock"], key="live"):
        fake_clock.advance(0.001)
    path = tmp_path / "trace.json"
    _core.write_trace_events(str(path), "me", {}, {}, 0, [("other", packed)])
    doc = json.loads(path.read_text())
    assert trace_event_format.check(doc) == []
    # the same pid (this process packed it), two process tracks' worth of slices and names
    assert [(e["name"], e["ts"], e["dur"]) for e in of_phase(doc, "X")] == [
        ("live", START_US + 1000, 1000),
        ("packed", START_US, 1000),
    ]
    assert [e["args"]["name"] for e in of_phase(doc, "M") if e["name"] == "process_name"] == [
        "me",
        "other",
    ]
    assert len(of_phase(doc, "C")) == 1
    for bad, problem in ((b"junk", "not a packed"), (packed[:-3], "cut short")):
        with pytest.raises(ValueError, match=problem):
            _core.write_trace_events(str(tmp_path / "bad.json"), "me", {}, {}, 0, [("x", bad)])
    assert not (tmp_path / "bad.json").exists()


# ---------------------------------------------------------------- without a timeline
def test_without_a_timeline_the_flame_graph_layout_and_one_line(tmp_path, fake_clock, capsys):
    with marker(["wall_clock", "cpu_clock", "peak_rss"], key="outer"):
        fake_clock.advance(0.003, cpu=0.001)
        with marker(["wall_clock", "cpu_clock", "peak_rss"], key="inner"):
            fake_clock.advance(0.001, cpu=0.001)
    doc = write(tmp_path, live_source("wall_clock", "cpu_clock", "peak_rss"))
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no timeline was recorded" in err
    assert "TIMEMORY_PERFETTO_OUTPUT=1" in err and "--format perfetto" in err
    procs = {e["pid"]: e["args"]["name"] for e in of_phase(doc, "M")}
    assert sorted(procs.values()) == [
        "cpu_clock (flame-graph layout)",
        "wall_clock (flame-graph layout)",
    ]
    wall = next(p for p, n in procs.items() if n.startswith("wall"))
    assert [(e["name"], e["ts"], e["dur"]) for e in of_phase(doc, "X") if e["pid"] == wall] == [
        ("outer", 0, 4000),
        ("inner", 0, 1000),
    ]
    assert "flame graph" in doc["otherData"]["layout"]


def test_enable_recording_turns_the_setting_on():
    try:
        _timeline.enable_recording()
        assert settings.timeline_events is True
        assert _core.config_get("timeline_events") is True
    finally:
        settings.timeline_events = False


def test_the_perfetto_export_alone_records_the_timeline(python_runner, tmp_path):
    # TIMEMORY_PERFETTO_OUTPUT=1 (or settings.perfetto_output) is enough for a real timeline:
    # the file it asks for would otherwise hold only the flame-graph layout
    proc = python_runner(
        """
        from timemory import _core, settings
        from timemory.bundle import marker
        settings.perfetto_output = True
        for _ in range(10):
            with marker(["wall_clock"], key="k"):
                pass
        settings.perfetto_output = False
        with marker(["wall_clock"], key="after"):
            pass
        print(_core.timeline_stats()["events"])
        settings.auto_output = False
        """,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["10"]


# ---------------------------------------------------------------- Perfetto's own reader
def test_perfetto_trace_processor_loads_it(tmp_path, fake_clock, recording):
    tp_module = pytest.importorskip("perfetto.trace_processor", reason="perfetto is not installed")
    with marker(["wall_clock", "peak_rss"], key="outer"):
        fake_clock.advance(0.001)
        with marker(["wall_clock"], key="inner"):
            fake_clock.advance(0.001)
    path = tmp_path / "trace.json"
    write(tmp_path)
    try:
        tp = tp_module.TraceProcessor(trace=str(path))
    except Exception as err:  # it downloads its binary at first use: no network here
        pytest.skip(f"the trace processor cannot run here ({type(err).__name__}: no binary)")
    try:
        rows = list(tp.query("select name, ts, dur, depth from slice order by ts"))
        assert [(r.name, r.ts, r.dur, r.depth) for r in rows] == [
            ("outer", START_US * 1000, 2_000_000, 0),
            ("inner", START_US * 1000 + 1_000_000, 1_000_000, 1),
        ]
        counters = list(tp.query("select count(*) as n from counter"))
        assert counters[0].n == 1
    finally:
        tp.close()
