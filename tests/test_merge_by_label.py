"""``_core.merge_by_label``: the per-label totals the summary (``timemory._output._summary``)
ranks (count, every call's value, inclusive once per recursion chain, self, peak) of flat
entries in pre-order, in the value's base unit (ns for times), computed in one native pass
(a Python loop over a 200,000-node graph takes about a second); with no results, read from
this process's call graphs with the labels a snapshot shows."""

from __future__ import annotations

import importlib
import random
import sys

import pytest
from timemory import _core
from timemory._output._summary import summarize
from timemory.bundle import marker
from timemory.profiler import Config, profile
from timemory.region import pop, push
from timemory.storage import WallClockStorage

WALL_CLOCK = _core.find_component("wall_clock")
MS = 1e-3  # the fake clock advances in seconds
NS = 1e9  # the values are in the base unit of times, ns


def record_example(fake_clock) -> None:
    """main(a(a), b) then a top-level a; the milliseconds each one spends in itself."""
    with marker(["wall_clock"], key="main"):
        fake_clock.advance(1 * MS)
        with marker(["wall_clock"], key="a"):
            fake_clock.advance(2 * MS)
            with marker(["wall_clock"], key="a"):  # a recursion
                fake_clock.advance(3 * MS)
        with marker(["wall_clock"], key="b"):
            fake_clock.advance(4 * MS)
    with marker(["wall_clock"], key="a"):
        fake_clock.advance(5 * MS)


def as_dict(rows):
    return {r[0]: r[1:] for r in rows}


def test_totals_of_a_recursive_graph(fake_clock):
    record_example(fake_clock)
    rows, total = _core.merge_by_label(WALL_CLOCK, _core.flat_snapshot(WALL_CLOCK))
    assert [r[0] for r in rows] == ["main", "a", "b"]  # the order labels first occur in
    got = as_dict(rows)
    # (count, every, inclusive, self, peak)
    expected = {
        "main": (1, 10 * MS, 10 * MS, 1 * MS, 10 * MS),
        # every: 5 + 3 + 5; inclusive: the nested a adds nothing; peak: one call's largest
        "a": (3, 13 * MS, 10 * MS, 10 * MS, 5 * MS),
        "b": (1, 4 * MS, 4 * MS, 4 * MS, 4 * MS),
    }
    for label, values in expected.items():
        assert got[label][0] == values[0]
        assert got[label][1:] == pytest.approx([v * NS for v in values[1:]], rel=1e-9)
    assert total == pytest.approx(15 * MS * NS, rel=1e-9)
    assert sum(r[4] for r in rows) == pytest.approx(total, rel=1e-9)  # self adds up


def test_inputs_storage_results_and_ranks(fake_clock):
    record_example(fake_clock)
    batch = _core.flat_snapshot(WALL_CLOCK)
    from_batch = _core.merge_by_label(WALL_CLOCK, batch)
    results = WallClockStorage.get()
    assert _core.merge_by_label(WALL_CLOCK, results) == from_batch
    entries = [batch[i] for i in range(len(batch))]
    assert _core.merge_by_label(WALL_CLOCK, entries) == from_batch
    # two ranks with the same data: counts and values double, the order stays
    rows2, total2 = _core.merge_by_label(WALL_CLOCK, [batch, [batch]])
    rows, total = from_batch
    assert [r[0] for r in rows2] == [r[0] for r in rows]
    assert [r[1] for r in rows2] == [2 * r[1] for r in rows]
    for two, one in zip(rows2, rows):
        assert two[2:5] == pytest.approx([2 * v for v in one[2:5]], rel=1e-9)
        assert two[5] == one[5]  # the peak of one call
    assert total2 == pytest.approx(2 * total, rel=1e-9)
    assert _core.merge_by_label(WALL_CLOCK, []) == ([], 0.0)
    # no results: read from the recorded graph without a snapshot, the same totals
    assert _core.merge_by_label(WALL_CLOCK) == from_batch


def test_bad_input():
    with pytest.raises(TypeError, match="FlatBatch"):
        _core.merge_by_label(WALL_CLOCK, [1, 2])
    with pytest.raises(IndexError, match="value index"):
        _core.merge_by_label(WALL_CLOCK, [], 5)


def test_peak_of_a_label_without_calls_is_minus_infinity():
    """A node still open (no completed call) has no largest call: the summary shows '-'."""
    with marker(["wall_clock"], key="done"):
        pass
    entries = [_core.flat_snapshot(WALL_CLOCK)[0]]
    entries[0].entry.laps = 0
    ((label, count, *_, peak),), _ = _core.merge_by_label(WALL_CLOCK, entries)
    assert (label, count, peak) == ("done", 0, float("-inf"))


def reference(batch):
    """The same totals by the obvious Python loop (the summary's original one)."""
    merged: dict[str, list] = {}
    path: list[list] = []  # [label, value, children's values]
    to_base = _core.unit_info(WALL_CLOCK)[0][0]  # display unit -> ns
    total = 0.0

    def close(node):
        merged[node[0]][3] += node[1] - node[2]

    for i in range(len(batch)):
        depth = batch.depth(i)
        while len(path) > depth:
            close(path.pop())
        label = batch.label(i)
        stats = _core.stats_view(WALL_CLOCK, batch.entry(i).entry)[0]
        value, peak = stats["sum"] * to_base, stats["max"] * to_base
        row = merged.setdefault(label, [0, 0.0, 0.0, 0.0, float("-inf")])
        row[0] += batch.laps(i)
        row[1] += value
        if batch.laps(i):
            row[4] = max(row[4], peak)
        if all(node[0] != label for node in path):
            row[2] += value
        if path:
            path[-1][2] += value
        else:
            total += value
        path.append([label, value, 0.0])
    while path:
        close(path.pop())
    return merged, total


def test_matches_the_python_loop_on_a_random_graph(fake_clock):
    rng = random.Random(16)
    stack: list[str] = []  # regions measure wall_clock unless the environment says otherwise
    for _ in range(3000):  # a random walk: enter one of a few labels, or leave
        fake_clock.advance(rng.randint(0, 50) * 1e-6)
        if stack and (rng.random() < 0.45 or len(stack) > 12):
            pop(stack.pop())
        else:
            stack.append(rng.choice("fghijk"))
            push(stack[-1])
    while stack:
        pop(stack.pop())
    batch = _core.flat_snapshot(WALL_CLOCK)
    rows, total = _core.merge_by_label(WALL_CLOCK, batch)
    assert _core.merge_by_label(WALL_CLOCK) == (rows, total)
    want, want_total = reference(batch)
    assert sorted(r[0] for r in rows) == sorted(want)
    for label, count, every, inclusive, self_value, peak in rows:
        assert count == want[label][0]
        assert [every, inclusive, self_value, peak] == pytest.approx(want[label][1:], abs=1e-3)
    assert total == pytest.approx(want_total, abs=1e-3)
    # recursion happened (an inclusive below every), so the once-per-chain rule was exercised
    assert any(r[3] < r[2] for r in rows)


PARSE = """\
def parse(n):
    return n + 1
"""


@pytest.fixture
def parsers(tmp_path, monkeypatch):
    """Modules a and b, each defining ``parse`` on line 1, imported from a fresh folder."""
    Config.reset()
    for name in ("a", "b"):
        (tmp_path / f"{name}.py").write_text(PARSE)
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    mods = [importlib.import_module(name) for name in ("a", "b")]
    yield mods
    for name in ("a", "b"):
        sys.modules.pop(name, None)
    Config.reset()


def test_same_named_functions_keep_the_labels_of_the_snapshot(parsers):
    """Read from the graphs, two functions named alike are two rows labelled as every
    output labels them (``parse [a, line 1]``), the same rows as from a snapshot."""
    a, b = parsers
    with profile(["wall_clock"]):
        for _ in range(3):
            a.parse(1)
        for _ in range(5):
            b.parse(1)
    live, live_total = _core.merge_by_label(WALL_CLOCK)
    snap = _core.merge_by_label(WALL_CLOCK, _core.flat_snapshot(WALL_CLOCK))
    assert (live, live_total) == snap
    counts = {r[0]: r[1] for r in live}
    assert counts["parse [a, line 1]"] == 3 and counts["parse [b, line 1]"] == 5
    assert "parse" not in counts
    stored = {e.label() for e in WallClockStorage.get()}
    assert set(counts) == stored
    shown = {r.label: r.count for r in summarize(WALL_CLOCK)}
    assert shown == counts


# ------------------------------------------------------------------ the summary's inputs
def test_summary_from_each_kind_of_input(fake_clock):
    """The recorded graph, a FlatBatch, storage results, a generator of them, per-rank lists
    and gathered processes give the same rows (twice the counts and values for two ranks)."""
    import os

    from timemory.storage import Processes

    record_example(fake_clock)
    batch = _core.flat_snapshot(WALL_CLOCK)

    def rows(summary):
        return [(r.label, r.count, r.self_value, r.inclusive, r.every, r.peak) for r in summary]

    live = summarize(WALL_CLOCK)
    assert [r.label for r in live] == ["a", "b", "main"]  # by self time: 10, 4, 1 ms
    assert live.total == pytest.approx(15 * MS * NS)
    for results in (batch, WallClockStorage.get(), (e for e in WallClockStorage.get())):
        assert rows(summarize(WALL_CLOCK, results)) == rows(live)
    two = summarize(WALL_CLOCK, [batch, WallClockStorage.get()])
    assert [(r.label, r.count) for r in two] == [(r.label, 2 * r.count) for r in live]
    assert two.total == pytest.approx(2 * live.total)
    assert [r.peak for r in two] == [r.peak for r in live]  # the largest single call
    payload = {WALL_CLOCK: {"flat": _core.pack_flat(WALL_CLOCK, batch)}}
    procs = Processes([(0, os.getpid(), payload), (0, os.getpid() + 1, payload)], 1)
    gathered = summarize(WALL_CLOCK, processes=procs)
    assert [(r.label, r.count) for r in gathered] == [(r.label, r.count) for r in two]
    assert gathered.total == pytest.approx(two.total)


def test_print_summary_reads_the_graph_without_a_snapshot(fake_clock, monkeypatch):
    """This process's summary at the end of a run copies nothing: no snapshot, no storage
    results (the native merge reads the call graphs)."""
    import io

    from timemory import _cli

    record_example(fake_clock)

    def forbidden(*args, **kwargs):
        raise AssertionError("the summary of this process made a snapshot")

    monkeypatch.setattr(_core, "flat_snapshot", forbidden)
    monkeypatch.setattr(WallClockStorage, "get", forbidden)
    out = io.StringIO()
    _cli.print_summary(stream=out, width=100)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[timemory]> wall_clock: 3 labels by self time, total 15.00 ms")
    assert [line.split()[:3] for line in lines[2:5]] == [
        ["a", "3", "10.00"],
        ["b", "1", "4.000"],
        ["main", "1", "1.000"],
    ]
