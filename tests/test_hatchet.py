"""hatchet reads timemory's data."""

from __future__ import annotations

import fakeclock
import pytest
import timemory
from timemory.bundle import marker
from timemory.storage import PeakRssStorage, WallClockStorage

hatchet = pytest.importorskip("hatchet")


@pytest.fixture(autouse=True)
def _on_the_fake_clock(fake_clock):
    """Every test here records on the fake clock: exact and non-zero wall times."""
    return fake_clock


def record(components=("wall_clock",)):
    """main (10 ms itself) > child x2 (5 ms each), other > grandchild (2 ms)."""
    comps = list(components)
    clock = fakeclock.FakeClock()
    with marker(comps, key="main"):
        clock.advance(0.01)
        for _ in range(2):
            with marker(comps, key="child"):
                clock.advance(0.005)
        with marker(comps, key="other"):
            with marker(comps, key="grandchild"):
                clock.advance(0.002)


def tree_sums(storage):
    """{label: (exclusive sum, inclusive sum, laps)} from the storage's tree."""
    out = {}

    def visit(t):
        v = t.value()
        if not v.is_dummy():
            out[v.prefix()] = (
                v.exclusive().stats().sum(),
                v.inclusive().stats().sum(),
                v.inclusive().data().laps(),
            )
        for c in t.children():
            visit(c)

    for root in storage.get_tree():
        visit(root)
    return out


def by_name(gf):
    df = gf.dataframe
    assert df["name"].is_unique
    return df.set_index("name")


def check_frame(gf, metric, storage):
    df = by_name(gf)
    expected = tree_sums(storage)
    assert sorted(df.index) == sorted(expected)  # one row per call-graph node
    for name, (exc, inc, laps) in expected.items():
        assert df.loc[name, f"sum.{metric}"] == pytest.approx(exc, rel=1e-9, abs=1e-12), name
        assert df.loc[name, f"sum.{metric} (inc)"] == pytest.approx(inc, rel=1e-9, abs=1e-12), name
        assert df.loc[name, "count"] == laps, name


def test_from_timemory_dict():
    record()
    gf = hatchet.GraphFrame.from_timemory(timemory.get(hierarchy=True))
    assert {"sum.wall_clock", "sum.wall_clock (inc)"} <= set(gf.dataframe.columns)
    assert len(gf.dataframe) == 4
    check_frame(gf, "wall_clock", WallClockStorage)
    df = by_name(gf)
    # main's own time excludes its children; inclusive includes them
    assert df.loc["main", "sum.wall_clock"] == pytest.approx(0.01, abs=1e-15)
    assert df.loc["main", "sum.wall_clock (inc)"] == 0.022


def test_from_timemory_graph_shape():
    record()
    gf = hatchet.GraphFrame.from_timemory(timemory.get(hierarchy=True))
    roots = gf.graph.roots
    assert [r.frame["name"] for r in roots] == ["main"]
    children = sorted(c.frame["name"] for c in roots[0].children)
    assert children == ["child", "other"]
    other = next(c for c in roots[0].children if c.frame["name"] == "other")
    assert [g.frame["name"] for g in other.children] == ["grandchild"]


def test_from_timemory_output_folder(tmp_path):
    record()
    timemory.report(str(tmp_path))
    gf = hatchet.GraphFrame.from_timemory(str(tmp_path))
    check_frame(gf, "wall_clock", WallClockStorage)


def test_from_timemory_tree_file(tmp_path):
    record()
    timemory.report(str(tmp_path))
    gf = hatchet.GraphFrame.from_timemory(str(tmp_path / "wall.tree.json"))
    check_frame(gf, "wall_clock", WallClockStorage)


def test_multiple_components_on_the_same_rows():
    record(("wall_clock", "peak_rss"))
    gf = hatchet.GraphFrame.from_timemory(timemory.get(hierarchy=True))
    columns = set(gf.dataframe.columns)
    assert {
        "sum.wall_clock",
        "sum.wall_clock (inc)",
        "sum.peak_rss",
        "sum.peak_rss (inc)",
    } <= columns
    assert len(gf.dataframe) == 4
    check_frame(gf, "wall_clock", WallClockStorage)
    check_frame(gf, "peak_rss", PeakRssStorage)


def test_select_a_component():
    record(("wall_clock", "peak_rss"))
    gf = hatchet.GraphFrame.from_timemory(timemory.get(hierarchy=True), select=["peak_rss"])
    columns = set(gf.dataframe.columns)
    assert "sum.peak_rss" in columns and "sum.wall_clock" not in columns


def test_reading_does_not_change_timemory_data():
    record()
    before = timemory.get(hierarchy=True)
    hatchet.GraphFrame.from_timemory(timemory.get(hierarchy=True))
    assert timemory.get(hierarchy=True) == before


def test_decorated_function_names():
    @marker(["wall_clock"], key="", mode="full")
    def located():
        pass

    located()
    gf = hatchet.GraphFrame.from_timemory(timemory.get(hierarchy=True))
    df = gf.dataframe
    assert len(df) == 1
    row = df.iloc[0]
    # "func@file:line" is split by the reader into name, file and line
    assert row["name"].endswith("located")
    assert row["file"] == "test_hatchet.py"
    assert int(row["line"]) > 0
