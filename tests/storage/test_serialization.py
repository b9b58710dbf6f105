"""timemory.get(), dumps and the load functions."""

from __future__ import annotations

import io
import json

import fakeclock
import pytest
import timemory
from timemory import component
from timemory.bundle import marker
from timemory.storage import CurrentPeakRssStorage, ReadCharStorage, WallClockStorage

META_KEYS = [
    "properties",
    "type",
    "description",
    "unit_value",
    "unit_repr",
    "thread_scope_only",
    "thread_count",
    "mpi_size",
    "upcxx_size",
    "process_count",
    "num_ranks",
    "concurrency",
]
STAT_KEYS = ["sum", "count", "min", "max", "sqr", "mean", "stddev"]
NODE_KEYS = ["hash", "prefix", "tid", "pid", "depth", "is_dummy", "inclusive", "exclusive"]


@pytest.fixture(autouse=True)
def _on_the_fake_clock(fake_clock):
    """Every test here records on the fake clock: exact and non-zero wall times."""
    return fake_clock


def record(components=("wall_clock",)):
    """main (10 ms itself) > child x3 (2 ms each), other (0)."""
    comps = list(components)
    clock = fakeclock.FakeClock()
    with marker(comps, key="main"):
        clock.advance(0.01)
        for _ in range(3):
            with marker(comps, key="child"):
                clock.advance(0.002)
        with marker(comps, key="other"):
            pass


def flat_rows(results):
    return [
        (
            e.prefix(),
            e.depth(),
            e.hash(),
            e.rolling_hash(),
            e.hierarchy(),
            e.data().laps(),
            e.data().get_raw(),
            e.data().get(),
        )
        for e in results
    ]


def stats_tuple(s):
    return (s.count(), s.sum(), s.min(), s.max(), s.sqr(), s.mean(), s.stddev())


def tree_rows(trees):
    out = []

    def visit(t):
        v = t.value()
        out.append(
            (
                v.prefix(),
                v.depth(),
                v.hash(),
                v.is_dummy(),
                v.inclusive().data().laps(),
                v.inclusive().data().get_raw(),
                v.exclusive().data().get_raw(),
            )
        )
        for c in t.children():
            visit(c)

    for t in trees:
        visit(t)
    return out


def assert_json_close(a, b, path="$"):
    """Same structure, key order and ints; floats equal to rounding (the stddev is computed from
    sum and sum of squares, so its last digits are sensitive to the sum's last bit)."""
    assert type(a) is type(b), path
    if isinstance(a, dict):
        assert list(a) == list(b), path
        for k in a:
            assert_json_close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_json_close(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12), path
    else:
        assert a == b, path


# ------------------------------------------------------------------ get() / dumps agreement


@pytest.mark.parametrize("hierarchy", [False, True])
def test_get_equals_dumps_including_key_order(hierarchy):
    record(("wall_clock", "peak_rss"))
    got = timemory.get(hierarchy=hierarchy, components=["wall_clock"])
    data = WallClockStorage.dmp_get_tree() if hierarchy else WallClockStorage.dmp_get()
    assert str(got) == str(WallClockStorage.dumps(data))
    assert list(got["timemory"]) == ["wall_clock"]


def test_get_components_filter_accepts_aliases_and_enums():
    record(("wall_clock", "peak_rss"))
    assert sorted(timemory.get()["timemory"]) == ["peak_rss", "wall_clock"]
    for spec in (
        ["wall_clock"],
        ["real_clock"],
        [component.id.wall_clock],
        [component.WallClock.index()],
    ):
        assert list(timemory.get(components=spec)["timemory"]) == ["wall_clock"]
    with pytest.raises(ValueError, match="wall_clock"):
        timemory.get(components=["no_such_component"])


def test_get_returns_a_fresh_dict_each_call():
    record()
    first = timemory.get(hierarchy=True)
    second = timemory.get(hierarchy=True)
    assert first == second and first is not second
    node = first["timemory"]["wall_clock"]["graph"][0][0]["children"][0]["node"]
    del node["inclusive"]["stats"]["count"]  # what hatchet's reader does
    first["timemory"]["wall_clock"]["type"] = "changed"
    third = timemory.get(hierarchy=True)
    assert third == second
    assert (
        "count"
        in third["timemory"]["wall_clock"]["graph"][0][0]["children"][0]["node"]["inclusive"][
            "stats"
        ]
    )
    flat = timemory.get()
    flat["timemory"]["wall_clock"]["ranks"][0]["graph"].clear()
    assert len(timemory.get()["timemory"]["wall_clock"]["ranks"][0]["graph"]) == 3


def test_get_is_json_serialisable():
    record(("wall_clock", "current_peak_rss", "read_char"))
    for hierarchy in (False, True):
        data = timemory.get(hierarchy=hierarchy)
        assert json.loads(json.dumps(data)) == data


# ------------------------------------------------------------------ schema


def test_flat_schema_and_key_order():
    record()
    wc = timemory.get()["timemory"]["wall_clock"]
    assert list(wc) == META_KEYS + ["ranks"]
    assert wc["properties"] == {
        "value": int(component.WallClock.index()),
        "enum": "WALL_CLOCK",
        "id": "wall_clock",
        "ids": ["real_clock", "virtual_clock", "wall_clock"],
    }
    assert wc["type"] == "wall"
    assert wc["description"] == component.WallClock.description()
    assert wc["unit_value"] == 1_000_000_000 and wc["unit_repr"] == "sec"
    assert wc["thread_scope_only"] is False
    for key in (
        "thread_count",
        "mpi_size",
        "upcxx_size",
        "process_count",
        "num_ranks",
        "concurrency",
    ):
        assert isinstance(wc[key], int) and wc[key] >= 1, key
    assert (wc["mpi_size"], wc["num_ranks"], wc["process_count"]) == (1, 1, 1)
    assert len(wc["ranks"]) == 1
    rank = wc["ranks"][0]
    assert list(rank) == ["rank", "graph_size", "graph"]
    assert rank["rank"] == 0 and rank["graph_size"] == len(rank["graph"]) == 3
    graph = rank["graph"]
    assert [g["prefix"] for g in graph] == [">>> main", ">>> |_child", ">>> |_other"]
    assert [g["depth"] for g in graph] == [0, 1, 1]
    for g in graph:
        assert list(g) == ["hash", "prefix", "depth", "entry", "stats", "rolling_hash"]
        assert list(g["stats"]) == STAT_KEYS
        assert list(g["entry"])[:3] == ["laps", "value", "accum"]
        assert {"repr_data", "repr_display"} <= set(g["entry"])
        assert "tid" not in g and "pid" not in g
    child = graph[1]
    assert child["entry"]["laps"] == 3 and child["stats"]["count"] == 3
    assert child["entry"]["accum"] == 6_000_000 and graph[0]["entry"]["accum"] == 16_000_000
    assert child["rolling_hash"] == (graph[0]["hash"] + child["hash"]) % 2**64
    assert child["entry"]["repr_data"] == pytest.approx(child["entry"]["accum"] / 1e9)
    assert child["stats"]["sum"] == pytest.approx(child["entry"]["repr_data"])
    # what users read
    assert graph[-1]["depth"] == 1


def test_tree_schema_and_key_order():
    record()
    wc = timemory.get(hierarchy=True)["timemory"]["wall_clock"]
    assert list(wc) == META_KEYS + ["graph"]
    assert len(wc["graph"]) == 1  # one rank
    roots = wc["graph"][0]
    assert isinstance(roots, list) and len(roots) == 1
    root = roots[0]
    assert list(root) == ["node", "children"]
    assert list(root["node"]) == NODE_KEYS
    assert root["node"]["hash"] == 0 and root["node"]["depth"] == 0
    assert root["node"]["prefix"] == "unknown-hash=0"
    main = root["children"][0]
    node = main["node"]
    assert list(node) == NODE_KEYS
    assert node["prefix"] == "main" and node["depth"] == 1 and node["is_dummy"] is False
    assert isinstance(node["tid"], list) and isinstance(node["pid"], list)
    assert list(node["inclusive"]) == ["entry", "stats"]
    assert list(node["inclusive"]["stats"]) == STAT_KEYS
    assert [c["node"]["prefix"] for c in main["children"]] == ["child", "other"]
    assert [c["node"]["depth"] for c in main["children"]] == [2, 2]
    inc = node["inclusive"]["entry"]["accum"]
    exc = node["exclusive"]["entry"]["accum"]
    assert exc == inc - sum(c["node"]["inclusive"]["entry"]["accum"] for c in main["children"])
    assert (inc, exc) == (16_000_000, 10_000_000)


def test_multi_valued_schema():
    record(("current_peak_rss", "read_char"))
    data = timemory.get()["timemory"]
    cp = data["current_peak_rss"]
    assert cp["type"] == ["start peak rss", " stop peak rss"]
    assert cp["unit_value"] == [1_000_000, 1_000_000] and cp["unit_repr"] == ["MB", "MB"]
    assert isinstance(cp["description"], str)
    entry = cp["ranks"][0]["graph"][0]
    assert set(entry["entry"]["repr_data"]) == {"first", "second"}
    # the raw start/stop pair is stored whole (both values), consistent with the display values
    accum = entry["entry"]["accum"]
    assert set(accum) == {"first", "second"}
    assert 0 < accum["first"] <= accum["second"]
    assert accum["second"] / 1e6 == pytest.approx(entry["entry"]["repr_data"]["second"])
    assert set(entry["stats"]["sum"]) == {"first", "second"}
    rc = data["read_char"]
    assert rc["type"] == ["read_char", "read_rate"]
    assert rc["unit_repr"] == ["MB", "MB/sec"]


def test_unit_json_names_the_units_of_its_values(monkeypatch):
    """unit_value / unit_repr are the units repr_data is written in (the original wrote the
    static defaults whatever the settings), and loading honours them."""
    record()
    wc = timemory.get()["timemory"]["wall_clock"]
    assert (wc["unit_value"], wc["unit_repr"]) == (1_000_000_000, "sec")
    seconds = wc["ranks"][0]["graph"][0]["stats"]["sum"]
    assert seconds == 0.016
    monkeypatch.setattr(timemory.settings, "timing_units", "msec")
    wc = timemory.get()["timemory"]["wall_clock"]
    assert (wc["unit_value"], wc["unit_repr"]) == (1_000_000, "msec")
    assert wc["ranks"][0]["graph"][0]["stats"]["sum"] == pytest.approx(1000 * seconds)
    written_in_msec = {"timemory": {"wall_clock": wc}}
    monkeypatch.setattr(timemory.settings, "timing_units", "sec")
    (loaded, *_) = WallClockStorage.load_json(written_in_msec)
    assert loaded.stats().sum() == pytest.approx(seconds)


# ------------------------------------------------------------------ round trips


def test_flat_round_trip_from_dict_string_file_and_path(tmp_path):
    record()
    original = WallClockStorage.get()
    dumped = WallClockStorage.dumps(original)
    path = tmp_path / "wall.json"
    path.write_text(json.dumps(dumped))
    sources = [dumped, json.dumps(dumped), io.StringIO(json.dumps(dumped)), str(path), path]
    for source in sources:
        loaded = WallClockStorage.load_json(source)
        assert flat_rows(loaded) == flat_rows(original)
        for a, b in zip(loaded, original):
            assert stats_tuple(a.stats()) == pytest.approx(
                stats_tuple(b.stats()), rel=1e-9, abs=1e-12
            )
        # and back to the same JSON (statistics are stored in display units: the scaling
        # back to raw units may change the last bit)
        assert_json_close(WallClockStorage.dumps(loaded), dumped)


def test_dmp_round_trip():
    record()
    dumped = WallClockStorage.dumps(WallClockStorage.dmp_get())
    ranks = WallClockStorage.load_json_dmp(dumped)
    assert len(ranks) == 1
    assert flat_rows(ranks[0]) == flat_rows(WallClockStorage.get())


def test_tree_round_trip():
    record()
    original = WallClockStorage.get_tree()
    dumped = WallClockStorage.dumps(original)
    loaded = WallClockStorage.load_json_tree(dumped)
    assert tree_rows(loaded) == tree_rows(original)
    main_l = loaded[0].children()[0].value()
    main_o = original[0].children()[0].value()
    assert stats_tuple(main_l.exclusive().stats()) == pytest.approx(
        stats_tuple(main_o.exclusive().stats()), rel=1e-9, abs=1e-12
    )
    dumped_dmp = WallClockStorage.dumps(WallClockStorage.dmp_get_tree())
    dmp = WallClockStorage.load_json_tree_dmp(dumped_dmp)
    assert len(dmp) == 1 and tree_rows(dmp[0]) == tree_rows(original)


def test_load_detects_the_shape():
    record()
    flat = WallClockStorage.load(WallClockStorage.dumps(WallClockStorage.get()))
    tree = WallClockStorage.load(WallClockStorage.dumps(WallClockStorage.get_tree()))
    assert flat_rows(flat) == flat_rows(WallClockStorage.get())
    assert tree_rows(tree) == tree_rows(WallClockStorage.get_tree())


@pytest.mark.parametrize(
    "storage", [CurrentPeakRssStorage, ReadCharStorage], ids=["current_peak_rss", "read_char"]
)
def test_multi_valued_round_trip(storage):
    record(("current_peak_rss", "read_char"))
    original = storage.get()
    loaded = storage.load_json(storage.dumps(original))
    assert [e.data().get() for e in loaded] == [e.data().get() for e in original]
    assert [e.data().get_raw() for e in loaded] == [e.data().get_raw() for e in original]
    assert [e.data().laps() for e in loaded] == [e.data().laps() for e in original]


def test_load_errors_are_clear(tmp_path):
    record()
    with pytest.raises(ValueError, match="wall_clock"):
        WallClockStorage.load_json({"timemory": {"peak_rss": {}}})
    with pytest.raises(OSError, match="missing.json"):
        WallClockStorage.load_json(str(tmp_path / "missing.json"))
    with pytest.raises(TypeError):
        WallClockStorage.load_json(42)
    tree = WallClockStorage.dumps(WallClockStorage.get_tree())
    with pytest.raises(ValueError):
        WallClockStorage.load_json(tree)


def test_corrupt_gathered_data_is_refused_with_a_clear_error():
    """What rank zero receives from the others is checked before it is used: cut short,
    trailing bytes, another component's data, or an entry count the bytes cannot hold raise
    ValueError, and merging fails the same way."""
    from timemory import _core

    record()
    index = WallClockStorage._index
    packed = bytes(_core.pack_flat_snapshot(index))
    assert len(WallClockStorage._result._list(_core.unpack_flat(index, packed))) == 3
    # magic, index, n_raw, n_disp, user (a built-in: no identity follows); flags, nthreads, show_tid
    count_at = 4 * 4 + 1 + 1 + 4 + 1
    assert int.from_bytes(packed[count_at : count_at + 8], "little") == 3
    too_many = packed[:count_at] + (10**12).to_bytes(8, "little") + packed[count_at + 8 :]
    cases = {
        "truncated": [packed[:-3], too_many],
        "trailing bytes": [packed + b"x"],
        "wall_clock": [bytes(_core.pack_flat_snapshot(CurrentPeakRssStorage._index))],
    }
    for message, buffers in cases.items():
        for data in buffers:
            with pytest.raises(ValueError, match=message):
                _core.unpack_flat(index, data)
            with pytest.raises(ValueError, match=message):
                _core.merge_packed_flat(index, [packed, data])


def test_dumps_of_empty_storage():
    dumped = WallClockStorage.dumps(WallClockStorage.get())
    assert dumped["timemory"]["wall_clock"]["ranks"][0]["graph"] == []
    assert WallClockStorage.load_json(dumped) == []


def test_labels_with_special_characters_survive_json():
    key = 'we"ird \\ key\n\ttab ü✓'
    with marker(["wall_clock"], key=key):
        pass
    flat = json.loads(json.dumps(timemory.get()))
    assert flat["timemory"]["wall_clock"]["ranks"][0]["graph"][0]["prefix"] == ">>> " + key
    tree = timemory.get(hierarchy=True)
    assert tree["timemory"]["wall_clock"]["graph"][0][0]["children"][0]["node"]["prefix"] == key
    assert [e.prefix() for e in WallClockStorage.load_json(flat)] == [">>> " + key]
