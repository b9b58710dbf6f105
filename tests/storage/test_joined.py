"""The joined walk over several components' call graphs (what the NumPy snapshot and the
exports read): rows in pre-order, components side by side, live and loaded alike."""

from __future__ import annotations

import threading

import pytest
from timemory import _core, region, settings
from timemory._components import resolve
from timemory.bundle import marker
from timemory.storage import PeakRssStorage, TripCountStorage, WallClockStorage

WALL = resolve("wall_clock")[0]
TRIPS = resolve("trip_count")[0]
RSS = resolve("peak_rss")[0]


def record(clock):
    """outer (30 ms with its children) > inner x3 (wall only), trips (trip_count only)."""
    with marker(["wall_clock", "trip_count"], key="outer"):
        clock.advance(0.015)
        for _ in range(3):
            with marker(["wall_clock"], key="inner"):
                clock.advance(0.005)
        with marker(["trip_count"], key="trips"):
            pass


def strip(rows):
    """Rows without the pid and hash (they differ per process, not per run)."""
    return [(r[0], r[1], r[2], r[3], r[5], r[7], r[8]) for r in rows]


def test_components_join_by_path_and_keep_their_own_values(fake_clock):
    record(fake_clock)
    rows = strip(_core.joined_rows([WALL, TRIPS]))
    assert rows == [
        (0, -1, 0, 0, 0, "outer", [(1, 30e6, 15e6), (1, 1.0, 0.0)]),
        (1, 0, 1, 0, 0, "inner", [(3, 15e6, 15e6), None]),
        (2, 0, 1, 0, 0, "trips", [None, (1, 1.0, 1.0)]),
    ]
    # one component: its own nodes only, the same values
    assert strip(_core.joined_rows([WALL])) == [
        (0, -1, 0, 0, 0, "outer", [(1, 30e6, 15e6)]),
        (1, 0, 1, 0, 0, "inner", [(3, 15e6, 15e6)]),
    ]
    # the order of the components is the order of the columns
    assert strip(_core.joined_rows([TRIPS, WALL]))[0][6] == [(1, 1.0, 0.0), (1, 30e6, 15e6)]


def test_loaded_trees_give_the_rows_of_the_live_graphs(fake_clock):
    record(fake_clock)
    live = _core.joined_rows([WALL, TRIPS], rank=3)
    loaded = [
        (
            WALL,
            WallClockStorage.load_json_tree_dmp(
                WallClockStorage.dumps(WallClockStorage.get_tree())
            ),
        ),
        (
            TRIPS,
            TripCountStorage.load_json_tree_dmp(
                TripCountStorage.dumps(TripCountStorage.get_tree())
            ),
        ),
    ]
    rows = _core.joined_rows(loaded)
    assert [r[:3] + r[4:] for r in rows] == [r[:3] + r[4:] for r in live]
    assert {r[3] for r in live} == {3} and {r[3] for r in rows} == {0}
    # a checkpoint's copy of the graphs reads the same
    assert _core.joined_rows([WALL, TRIPS], 3, True) == live


def test_threads_are_views_of_their_own_unless_collapsed(fake_clock, monkeypatch):
    record(fake_clock)
    worker = threading.Thread(target=record, args=(fake_clock,))
    worker.start()
    worker.join()
    monkeypatch.setattr(settings, "collapse_threads", False)
    rows = _core.joined_rows([WALL, TRIPS])
    assert [(r[0], r[1], r[5], r[7]) for r in rows] == [
        (0, -1, 0, "outer"),
        (1, 0, 0, "inner"),
        (2, 0, 0, "trips"),
        (3, -1, 1, "outer"),
        (4, 3, 1, "inner"),
        (5, 3, 1, "trips"),
    ]
    monkeypatch.setattr(settings, "collapse_threads", True)
    merged = _core.joined_rows([WALL, TRIPS])
    assert [(r[5], r[7], r[8][0]) for r in merged[:2]] == [
        (0, "outer", (2, 60e6, 30e6)),
        (0, "inner", (6, 30e6, 30e6)),
    ]


def test_a_deep_graph_is_walked_without_recursion():
    depth = 20000
    for _ in range(depth):
        region.push("level")
    for _ in range(depth):
        region.pop("level")
    rows = _core.joined_rows([WALL])
    assert len(rows) == depth
    assert rows[-1][2] == depth - 1 and rows[-1][1] == depth - 2


def test_bad_sources_are_type_errors():
    with pytest.raises(TypeError):
        _core.joined_rows(WALL)
    with pytest.raises(TypeError):
        _core.joined_rows([WALL, (TRIPS, [])])
    with pytest.raises(ValueError):
        _core.joined_rows([10**6])
    assert _core.joined_rows([]) == []
    assert _core.joined_rows([RSS]) == []  # nothing recorded
    assert PeakRssStorage.get() == []
