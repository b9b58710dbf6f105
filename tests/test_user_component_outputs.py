"""Python-defined components (timemory.component.Base) in every output: the JSON and text
written at exit, ``timemory.get()``, the storage classes and their views, dumps/load (also of
a file written by a process that registered a component this one has not), the summary ranked
by self value, NumPy/pandas/hatchet, the exports and the bar charts.

The components return known numbers (popped from a list the test fills), so their values are
asserted exactly; the wall-clock times are on the fake clock.
"""

from __future__ import annotations

import json
import os

import pytest
import timemory
import timemory.storage as ts
from timemory import _core
from timemory.bundle import marker
from timemory.component import Base, register

DEPTHS: list[float] = []
PAIRS: list[tuple[float, float]] = []


@register
class OutDepth(Base):
    """Depth of the test's queue"""

    label = "out_depth"
    unit = "items"
    combine = "max"

    def get(self) -> float:
        return DEPTHS.pop(0)


@register
class OutBytes(Base):
    label = "out_bytes"
    description = "bytes sent and received"
    unit = "bytes"
    display_unit = "KB"
    scale = 1000.0
    combine = "sum"
    names = ("sent", "received")

    def get(self) -> tuple[float, float]:
        return PAIRS.pop(0)


@pytest.fixture(autouse=True)
def _on_the_fake_clock(fake_clock):
    return fake_clock


def record(fake_clock=None) -> None:
    """outer x3 (10 ms each on the fake clock), inner once under the first outer (2 ms).

    The components stop in this order: inner, outer, outer, outer. out_depth reads 3 (inner)
    then 7, 5, 2 (outer: max 7, mean 14/3); out_bytes returns (1000, 2000) at inner, then
    (3000, 4000), (5000, 6000), (100, 200) at outer: outer sums (8100, 10200) bytes = (8.1,
    10.2) KB, its self value (7.1, 8.2) KB."""
    from fakeclock import FakeClock

    clock = fake_clock or FakeClock()
    DEPTHS[:] = [3, 7, 5, 2]
    PAIRS[:] = [(1000, 2000), (3000, 4000), (5000, 6000), (100, 200)]
    comps = ["wall_clock", OutDepth, OutBytes]
    for i in range(3):
        with marker(comps, key="outer"):
            clock.advance(0.008)
            if i == 0:
                with marker(comps, key="inner"):
                    clock.advance(0.002)
            else:
                clock.advance(0.002)
    assert not DEPTHS and not PAIRS  # every measurement read its value once


def by_prefix(graph):
    return {g["prefix"].replace(">>> ", "").replace("|_", "").strip(): g for g in graph}


# ------------------------------------------------------------------ timemory.get and JSON
def test_get_flat_json_holds_the_value_by_the_rule_in_display_units():
    record()
    data = timemory.get()["timemory"]
    depth, sent = data["out_depth"], data["out_bytes"]
    assert depth["type"] == "out_depth"
    assert depth["description"] == "Depth of the test's queue"
    assert (depth["unit_value"], depth["unit_repr"], depth["combine"]) == (1, "items", "max")
    rows = by_prefix(depth["ranks"][0]["graph"])
    assert rows["outer"]["entry"]["laps"] == 3
    assert rows["outer"]["entry"]["repr_data"] == 7.0  # the max, not the sum (14)
    assert rows["outer"]["stats"]["mean"] == pytest.approx(14 / 3)
    assert (rows["outer"]["stats"]["min"], rows["outer"]["stats"]["max"]) == (2.0, 7.0)
    assert rows["inner"]["entry"]["repr_data"] == 3.0
    assert sent["type"] == ["sent", "received"]
    assert sent["unit_repr"] == ["KB", "KB"] and sent["unit_value"] == [1000, 1000]
    assert sent["combine"] == "sum"
    rows = by_prefix(sent["ranks"][0]["graph"])
    assert rows["outer"]["entry"]["accum"] == {"first": 8100.0, "second": 10200.0}
    assert rows["outer"]["entry"]["repr_data"] == {"first": 8.1, "second": 10.2}
    assert rows["inner"]["entry"]["repr_data"] == {"first": 1.0, "second": 2.0}
    # the built-in component beside them, on the fake clock
    wall = by_prefix(data["wall_clock"]["ranks"][0]["graph"])
    assert wall["outer"]["entry"]["accum"] == 30_000_000


def test_get_tree_self_value_of_a_sum_only():
    record()
    data = timemory.get(hierarchy=True)["timemory"]

    def nodes(key):
        out = {}
        stack = list(data[key]["graph"][0])
        while stack:
            t = stack.pop()
            out[t["node"]["prefix"]] = t["node"]
            stack += t.get("children", [])
        return out

    outer = nodes("out_depth")["outer"]
    # a max has no self part: exclusive = inclusive, as for peak readings
    assert outer["inclusive"]["entry"]["repr_data"] == 7.0
    assert outer["exclusive"]["entry"]["repr_data"] == 7.0
    outer = nodes("out_bytes")["outer"]
    assert outer["inclusive"]["entry"]["repr_data"] == {"first": 8.1, "second": 10.2}
    excl = outer["exclusive"]["entry"]["repr_data"]
    assert (excl["first"], excl["second"]) == (pytest.approx(7.1), pytest.approx(8.2))


def test_text_table_names_the_kept_value_and_the_self_share():
    record()
    depth = timemory.get_text([OutDepth])
    assert "DEPTH OF THE TEST'S QUEUE" in depth
    assert "|  VALUE   |" in depth and "|   SUM    |" not in depth
    outer = next(line for line in depth.splitlines() if ">>> outer" in line)
    cells = [c.strip() for c in outer.split("|")[1:-1]]
    # LABEL COUNT DEPTH METRIC UNITS VALUE MEAN MIN MAX STDDEV % SELF
    assert cells[1:10] == [
        "3",
        "0",
        "out_depth",
        "items",
        "7.000",
        "4.667",
        "2.000",
        "7.000",
        "2.517",
    ]
    assert cells[10] == "-"  # no self value for a max
    sent = timemory.get_text([OutBytes])
    assert "BYTES SENT AND RECEIVED" in sent
    outer = next(line for line in sent.splitlines() if ">>> outer" in line)
    cells = [c.strip() for c in outer.split("|")[1:-1]]
    assert cells[3:6] == ["sent", "KB", "8.100"]
    assert cells[10] == "87.7"  # (8.1 - 1.0) / 8.1
    assert cells[11:14] == ["received", "KB", "10.200"]
    assert cells[18] == "80.4"  # (10.2 - 2.0) / 10.2


def test_files_written_at_exit(run_python, tmp_path):
    script = f"""
    import sys
    sys.path.insert(0, {os.path.dirname(__file__)!r})
    from fakeclock import PRELUDE
    exec(PRELUDE)
    import timemory
    from timemory import settings
    from timemory.component import Base, register
    from timemory.bundle import marker

    @register
    class Level(Base):
        label = "exit_level"
        unit = "items"
        combine = "min"
        values = [4, 9, 6]
        def get(self):
            return Level.values.pop(0)

    settings.output_path = "out"
    settings.time_output = False
    for _ in range(3):
        with marker(["wall_clock", "exit_level"], key="step"):
            nap(0.01)
    """
    proc = run_python(script)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    for name in ("exit_level.json", "exit_level.tree.json", "exit_level.txt", "wall.json"):
        assert (out / name).is_file(), sorted(os.listdir(out))
    doc = json.loads((out / "exit_level.json").read_text())["timemory"]["exit_level"]
    assert doc["combine"] == "min"
    (row,) = doc["ranks"][0]["graph"]
    assert row["entry"]["laps"] == 3 and row["entry"]["repr_data"] == 4.0
    text = (out / "exit_level.txt").read_text()
    assert "VALUE" in text and "4.000" in text
    assert not (out / "exit_level.flamegraph.json").exists()  # a reading, not a duration


# ------------------------------------------------------------------ storage classes
def test_storage_class_get_tree_dmp_get():
    record()
    storage = ts.storage_class(OutDepth)
    assert storage is ts.storage_class("out_depth") is ts.OutDepthStorage
    assert "OutDepthStorage" in dir(ts)
    flat = {r.label(): r for r in storage.get()}
    assert flat["outer"].data().get() == 7.0
    assert flat["outer"].stats().mean() == pytest.approx(14 / 3)
    assert flat["inner"].data().get() == 3.0
    assert [[r.data().get() for r in rank] for rank in storage.dmp_get()] == [[7.0, 3.0]]
    (root,) = storage.get_tree()
    (outer,) = root.children()
    assert outer.value().inclusive().data().get() == 7.0
    assert outer.value().exclusive().data().get() == 7.0
    (inner,) = outer.children()
    assert inner.value().inclusive().data().get() == 3.0
    sent = {r.label(): r.data().get() for r in ts.storage_class(OutBytes).get()}
    assert sent["outer"] == pytest.approx((8.1, 10.2))


def test_dumps_and_load_round_trip_to_the_same_component():
    record()
    storage = ts.storage_class(OutBytes)
    doc = storage.dumps(storage.get())
    back = storage.load(doc)
    assert [(r.label(), r.data().get()) for r in back] == [
        (r.label(), r.data().get()) for r in storage.get()
    ]
    # the module-level reader finds the registered component by its label: the same one
    loaded = ts.load(json.dumps(doc))
    assert list(loaded) == ["out_bytes"]
    assert type(loaded["out_bytes"][0]) is storage._result
    trees = storage.dumps(storage.get_tree())
    (root,) = storage.load(trees)
    (outer,) = root.children()
    assert outer.value().exclusive().data().get() == pytest.approx((7.1, 8.2))


FOREIGN = """
import sys
sys.path.insert(0, {here!r})
from fakeclock import PRELUDE
exec(PRELUDE)
from timemory import settings
from timemory.component import Base, register
from timemory.bundle import marker

@register
class Foreign(Base):
    "Only the writer knows this one"
    label = "foreign_gauge"
    unit = "B"
    display_unit = "MB"
    scale = 1e6
    combine = "max"
    names = ("used", "free")
    values = [(2e6, 9e6), (5e6, 3e6), (1e6, 1e6)]
    def get(self):
        return Foreign.values.pop(0)

settings.output_path = "out"
settings.time_output = False
with marker(["wall_clock", Foreign], key="top"):
    for _ in range(2):
        with marker(["wall_clock", Foreign], key="leaf"):
            nap(0.01)
"""


def test_load_a_component_this_process_never_registered(run_python, tmp_path):
    proc = run_python(FOREIGN.format(here=os.path.dirname(__file__)))
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    assert _core.find_component("foreign_gauge") < 0  # not in this process
    loaded = ts.load(out / "foreign_gauge.json")
    rows = {r.label(): r for r in loaded["foreign_gauge"]}
    # leaf: max of (2, 9) and (5, 3) MB; top: (1, 1) MB
    assert rows["leaf"].data().get() == (5.0, 9.0)
    assert rows["top"].data().get() == (1.0, 1.0)
    index = _core.find_component("foreign_gauge")
    info = _core.component_info(index)
    assert info["user"] and info["combine"] == "max"
    assert info["sub_labels"] == ["used", "free"]
    assert info["description"] == "Only the writer knows this one"
    assert _core.unit_info(index) == ([1e6, 1e6], ["MB", "MB"])
    # the tree file, the folder readers and the NumPy snapshot of the folder
    ((_, ranks),) = [x for x in ts.load_folder(out) if x[0] == index]
    (root,) = ranks[0]
    (top,) = root.children()
    assert top.value().inclusive().data().get() == (1.0, 1.0)
    arr = timemory.snapshot(["foreign_gauge"], source=out).as_numpy()
    assert sorted(arr["foreign_gauge"]["inclusive"].tolist()) == [[1e6, 1e6], [5e6, 9e6]]
    # registering a class of that label afterwards: the same component, which now measures
    assert ts.storage_class("foreign_gauge")._index == index

    @register
    class Gauge(Base):
        label = "foreign_gauge"
        combine = "max"
        names = ("used", "free")

        def get(self):
            return (7e6, 8e6)

    assert Gauge._index == index
    with marker([Gauge], key="here"):
        pass
    (row,) = ts.storage_class(Gauge).get()
    assert row.data().get() == (7.0, 8.0)  # its units are the ones it was registered with


def test_load_refuses_a_foreign_section_that_is_not_one(tmp_path):
    doc = {"timemory": {"odd_gauge": {"combine": "max", "unit_value": [1, 2], "unit_repr": "x"}}}
    doc["timemory"]["odd_gauge"]["unit_value"] = [-1]
    with pytest.raises(ValueError, match=r"odd_gauge.*unit_value.*positive"):
        ts.load(doc)
    with pytest.raises(ValueError, match=r"nosuch_component.*a component this build knows"):
        ts.load({"timemory": {"nosuch_component": {"ranks": []}}})


# ------------------------------------------------------------------ summary, NumPy, pandas
def test_summary_ranked_by_self_value_in_the_display_unit():
    from timemory._output._summary import summarize

    record()
    summary = summarize(OutBytes._index)
    assert summary.additive
    assert [(r.label, r.count, r.self_value, r.inclusive) for r in summary.rows] == [
        ("outer", 3, 7100.0, 8100.0),
        ("inner", 1, 1000.0, 1000.0),
    ]
    text = summary.to_text(width=120)
    assert "total 8.1 KB" in text and "7.1 KB" in text
    depth = summarize(OutDepth._index)
    assert not depth.additive
    assert [(r.label, r.peak) for r in depth.rows] == [("outer", 7.0), ("inner", 3.0)]
    assert "by mean per call" in depth.to_text(width=120)


def test_numpy_and_pandas_views():
    record()
    arr = ts.storage_class(OutBytes).as_numpy()
    assert arr["inclusive"].tolist() == [[8100.0, 10200.0], [1000.0, 2000.0]]
    assert arr["self"].tolist() == [[7100.0, 8200.0], [1000.0, 2000.0]]
    arr = ts.storage_class(OutDepth).as_numpy()
    assert arr["inclusive"].tolist() == [7.0, 3.0] and arr["self"].tolist() == [7.0, 3.0]
    snap = timemory.snapshot(["wall_clock", "out_depth", "out_bytes"])
    assert snap.components == ["wall_clock", "out_depth", "out_bytes"]
    assert snap.value_names["out_bytes"] == ["sent", "received"]
    # the values are what the component returned: its unit when it has no scale
    assert snap.value_units["out_depth"] == ["items"]
    assert snap.value_units["out_bytes"] == ["", ""]  # returned in bytes, shown in KB
    pytest.importorskip("pandas")
    frame = ts.storage_class(OutBytes).to_pandas()  # display units (KB)
    assert frame.attrs["units"]["sent"] == "KB"
    assert frame["sum.sent (inc)"].tolist() == [8.1, 1.0]
    assert frame["sum.received"].tolist() == pytest.approx([8.2, 2.0])
    frame = ts.storage_class(OutDepth).to_pandas()
    # a max has no part of its own: the exclusive statistics are the inclusive ones
    assert frame["max.out_depth"].tolist() == frame["max.out_depth (inc)"].tolist() == [7.0, 3.0]
    assert frame["sum.out_depth"].tolist() == [14.0, 3.0]


def test_hatchet_reads_the_tree_json():
    hatchet = pytest.importorskip("hatchet")
    record()
    gf = hatchet.GraphFrame.from_timemory(timemory.get(hierarchy=True))
    frame = gf.dataframe.set_index("name")
    assert frame.loc["outer", "max.out_depth"] == frame.loc["outer", "max.out_depth (inc)"] == 7.0
    assert frame.loc["inner", "max.out_depth (inc)"] == 3.0
    assert frame.loc["outer", "sum.sent"] == pytest.approx(7.1)  # self: less inner's 1.0
    assert frame.loc["outer", "sum.received (inc)"] == pytest.approx(10.2)
    frame = ts.storage_class(OutDepth).to_hatchet().dataframe
    # the value by the rule is the statistic of that name (the largest reading of a max)
    assert sorted(frame["max.out_depth (inc)"].tolist()) == [3.0, 7.0]
    assert sorted(frame["max.out_depth"].tolist()) == [3.0, 7.0]
    gf = ts.storage_class(OutBytes).to_hatchet()
    assert sorted(gf.dataframe["sum.sent"].tolist()) == pytest.approx([1.0, 7.1])


# ------------------------------------------------------------------ exports and plots
def test_exports_of_a_sum_component(tmp_path):
    record()
    written = timemory.export(
        ["speedscope", "callgrind"], f"{tmp_path / 'x'}{os.sep}", components=[OutBytes]
    )
    assert sorted(os.path.basename(p) for p in written) == [
        "callgrind.out.timemory",
        "speedscope.json",
    ]
    speed = json.loads((tmp_path / "x" / "speedscope.json").read_text())
    names = sorted(p["name"] for p in speed["profiles"])
    assert any("out_bytes sent" in n for n in names) and any(
        "out_bytes received" in n for n in names
    )
    grind = (tmp_path / "x" / "callgrind.out.timemory").read_text()
    assert "out_bytes" in grind


def test_export_of_a_max_component_says_it_holds_no_durations(tmp_path, capsys):
    record()
    written = timemory.export(
        ["speedscope", "callgrind"], f"{tmp_path / 'y'}{os.sep}", components=[OutDepth]
    )
    assert written == []
    err = capsys.readouterr().err
    for name in ("speedscope", "callgrind"):
        assert f"{name} file not written: no value of out_depth adds up" in err


def test_bar_chart_of_a_user_component(tmp_path):
    pytest.importorskip("matplotlib")
    from timemory import plotting
    from timemory.plotting._read import read_data

    record()
    # what the bars show: each node's value by the rule, in the display unit, per sub-value
    charts = {c.key: c for c in read_data(timemory.get())}
    depth, sent = charts["out_depth"], charts["out_bytes"]
    assert (depth.types, depth.units) == (("out_depth",), ("items",))
    assert [(n.label, n.values) for n in depth.ranks[0][1]] == [
        ("outer", (7.0,)),
        ("inner", (3.0,)),
    ]
    assert (sent.types, sent.units) == (("sent", "received"), ("KB", "KB"))
    assert sent.ranks[0][1][0].values == (8.1, 10.2)
    images = plotting.plot(data=[timemory.get()], output_dir=str(tmp_path))
    stems = sorted(os.path.basename(p) for p in images)
    assert any("out_depth" in s for s in stems), stems
    assert any("out_bytes" in s for s in stems), stems
    assert all(os.path.getsize(p) > 0 for p in images)


def test_export_a_saved_folder_of_a_component_this_process_never_registered(run_python, tmp_path):
    script = FOREIGN.replace("foreign_gauge", "export_gauge").replace('combine = "max"', "")
    proc = run_python(script.format(here=os.path.dirname(__file__)))
    assert proc.returncode == 0, proc.stderr
    assert _core.find_component("export_gauge") < 0
    written = timemory.export(
        "speedscope",
        f"{tmp_path / 'e'}{os.sep}",
        source=tmp_path / "out",
        components=["export_gauge"],
    )
    assert [os.path.basename(p) for p in written] == ["speedscope.json"]
    speed = json.loads((tmp_path / "e" / "speedscope.json").read_text())
    names = sorted(p["name"] for p in speed["profiles"])
    assert any("export_gauge used" in n for n in names), names
    assert all("wall" not in n for n in names)  # the chosen component only


def test_perfetto_timeline_has_a_counter_track_of_each_value(tmp_path, fake_clock):
    from timemory import settings
    from timemory._output import _timeline

    settings.timeline_events = True
    try:
        record(fake_clock)
        path = tmp_path / "trace.json"
        indices = [OutDepth._index, OutBytes._index]
        src = type("Src", (), dict(indices=indices, native=indices, rank=0, copy=False))
        _timeline.make_perfetto(src)(bytes(path))
    finally:
        settings.timeline_events = False
        _core.timeline_clear()
    counters = [e for e in json.loads(path.read_text())["traceEvents"] if e["ph"] == "C"]
    # the reading at each stop (inner, then the three outers), in the display unit
    depth = [(c["ts"], c["args"]["value"]) for c in counters if c["name"] == "out_depth [items]"]
    assert depth == [(1_010_000, 3.0), (1_010_000, 7.0), (1_020_000, 5.0), (1_030_000, 2.0)]
    sent = [c["args"]["sent"] for c in counters if "sent" in c["args"]]
    assert [c["name"] for c in counters if "sent" in c["args"]] == ["out_bytes [KB]"] * 4
    assert sent == [1.0, 3.0, 5.0, 0.1]


def test_a_class_named_like_a_built_in_does_not_take_its_storage_name():
    class WallClock(Base):  # noqa: N801 - the name a built-in component's classes have
        label = "out_shadow"

        def get(self):
            return 1.0

    register(WallClock)
    with marker(["wall_clock", WallClock], key="k"):
        pass
    assert ts.WallClockStorage._index == _core.find_component("wall_clock")
    mine = ts.storage_class("out_shadow")
    assert mine is not ts.WallClockStorage and mine._index == WallClock._index
    assert [r.data().get() for r in mine.get()] == [1.0]
