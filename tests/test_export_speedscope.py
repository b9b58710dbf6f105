"""The speedscope and callgrind exports (timemory._output._speedscope): the speedscope file
validates against the published schema (tests/data) and its events nest and carry the tree's
values; the callgrind file follows the format line by line and gprof2dot reads the tree's
totals from it; a source read back from the tree JSON writes the same files as the live one;
hostile labels keep both valid."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import threading
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

import gprof2dot
import jsonschema
import pytest
from timemory import _core, settings
from timemory._components import resolve
from timemory._output._speedscope import make_callgrind, make_speedscope
from timemory.bundle import marker
from timemory.profiler import profile
from timemory.storage import storage_class
from tool_helpers import clean_env

SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "speedscope-file-format-schema.json").read_text()
)
TIME_COMPONENTS = ["wall_clock", "cpu_clock"]


# ---------------------------------------------------------------- sources and files


def live_source(components=TIME_COMPONENTS):
    """An export source of this process's data (what helper "exports" makes; its contract)."""
    idx = resolve(components)
    return SimpleNamespace(indices=idx, native=idx, rank=0, copy=False)


def loaded_source(components=TIME_COMPONENTS, ranks=1, edit=None):
    """The same data read back from the tree JSON (each rank a copy of this process's); `edit`
    changes the JSON documents first."""
    idx = resolve(components)
    native = []
    for i in idx:
        cls = storage_class(i)
        doc = json.loads(json.dumps(cls.dumps(cls.dmp_get_tree())))
        if edit:
            edit(doc)
        trees = cls.load_json_tree_dmp(doc)
        native.append((i, [trees[0]] * ranks))
    return SimpleNamespace(indices=idx, native=native, rank=0, copy=False)


def write(make, src, path: Path) -> Path:
    make(src)(os.fsencode(path))
    return path


def speedscope_of(src, tmp_path: Path, name="profile.speedscope.json") -> dict:
    path = write(make_speedscope, src, tmp_path / name)
    doc = json.loads(path.read_bytes().decode("utf-8"))  # strict: the file is UTF-8
    jsonschema.Draft7Validator(SCHEMA).validate(doc)
    return doc


def tree_rows(component):
    """(label, depth, inclusive, exclusive, laps, tid) of every node of every view of
    `component`, in pre-order, values in base units (ns for the clocks)."""
    rows = []

    def visit(t, depth):
        v = t.value()
        if not v.is_dummy():
            rows.append(
                (
                    v.prefix(),
                    depth,
                    v.inclusive().data().get_raw(),
                    v.exclusive().data().get_raw(),
                    v.inclusive().data().laps(),
                    min(v.tid()),
                )
            )
            depth += 1
        for c in t.children():
            visit(c, depth)

    for root in storage_class(component).get_tree():
        visit(root, 0)
    return rows


def layout(profile: dict, frames: list[dict]) -> list[tuple[str, int, float, float]]:
    """(frame name, depth, start, width) of every node of an evented profile, in pre-order,
    checking on the way that its events nest: every C closes the last open frame, the times
    never decrease, nothing is left open, all within startValue..endValue."""
    assert profile["type"] == "evented"
    out: list[list] = []
    stack: list[tuple[int, float, int]] = []  # (frame, at, position in out)
    last = profile["startValue"]
    for ev in profile["events"]:
        at = ev["at"]
        assert at >= last, (ev, last)
        last = at
        assert 0 <= ev["frame"] < len(frames)
        if ev["type"] == "O":
            out.append([frames[ev["frame"]]["name"], len(stack), at, None])
            stack.append((ev["frame"], at, len(out) - 1))
        else:
            assert stack, f"close without an open frame: {ev}"
            frame, start, pos = stack.pop()
            assert frame == ev["frame"], (frame, ev)
            out[pos][3] = at - start
    assert not stack, "frames left open"
    assert last <= profile["endValue"]
    return [tuple(r) for r in out]


def record_tree(comps=TIME_COMPONENTS, clock=None):
    """main (10 ms wall, 5 ms CPU itself) > child x3 (2 ms, 1 ms) > leaf (1 ms, 0); other (0)."""
    with marker(comps, key="main"):
        clock.advance(0.01, 0.005)
        for _ in range(3):
            with marker(comps, key="child"):
                clock.advance(0.002, 0.001)
                with marker(comps, key="leaf"):
                    clock.advance(0.001)
        with marker(comps, key="other"):
            pass


# ---------------------------------------------------------------- callgrind, line by line

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*\Z")
_NUMBER = r"(?:0x[0-9a-fA-F]+|\d+)"
_COST_LINE = re.compile(rf"{_NUMBER}(?: {_NUMBER})*\Z")
_POSITION = re.compile(r"(c?f[ln])=\((\d+)\)(?: (.*))?\Z")


def parse_callgrind(text: str) -> list[dict]:
    """Every line of a callgrind file checked against the format (valgrind's "Callgrind
    Format Specification", positions: line): the parts, each with its header keys, events,
    self costs per function and calls per caller -> callee (count, inclusive costs)."""
    assert text.endswith("\n")
    lines = text[:-1].split("\n")
    assert lines[0] == "version: 1", lines[0]
    assert lines[1].startswith("creator: ")
    names: dict[str, dict[int, str]] = {"fl": {}, "fn": {}}
    parts: list[dict] = []
    part: dict | None = None
    in_body = False
    fn = fl = cfn = None
    pending_call = None
    for no, line in enumerate(lines[2:], start=3):
        where = f"line {no}: {line[:80]!r}"
        assert not any(ord(ch) < 0x20 for ch in line), where
        if pending_call is not None:  # the cost line after calls=
            assert _COST_LINE.match(line), where
            values = [int(v, 0) for v in line.split()]
            assert len(values) == 1 + len(part["events"]), where
            key = (fn, pending_call[0])
            count, costs = part["calls"].get(key, (0, [0] * len(part["events"])))
            part["calls"][key] = (
                count + pending_call[1],
                [a + b for a, b in zip(costs, values[1:])],
            )
            pending_call = None
            continue
        if line == "" or line.startswith("#"):
            continue
        header = re.match(r"(\w+): ?(.*)\Z", line)
        if header and header.group(1) in {
            "part",
            "thread",
            "pid",
            "cmd",
            "desc",
            "positions",
            "event",
            "events",
            "summary",
            "totals",
        }:
            key, value = header.groups()
            if key == "totals":
                assert part is not None and in_body is not None, where
                totals = [int(v) for v in value.split()]
                assert part["summary"] in (None, totals), where  # summary: is optional
                assert totals == [
                    sum(c[e] for c in part["self"].values()) for e in range(len(totals))
                ], where
                in_body = False
                continue
            if in_body or part is None or key == "part":
                part = {
                    "header": {},
                    "events": [],
                    "long": {},
                    "self": {},
                    "calls": {},
                    "summary": None,
                }
                parts.append(part)
                in_body = False
                if key == "part":
                    assert int(value) == len(parts), where
            if key == "positions":
                assert value == "line", where
            elif key == "events":
                part["events"] = value.split()
                assert part["events"] and all(_NAME.match(e) for e in part["events"]), where
                assert len(set(part["events"])) == len(part["events"]), where
            elif key == "event":
                short, _, long = value.partition(" : ")
                assert _NAME.match(short) and long, where
                part["long"][short] = long
            elif key == "summary":
                part["summary"] = [int(v) for v in value.split()]
            elif key in ("part", "thread", "pid"):
                assert re.fullmatch(r"\d+", value), where
                part["header"][key] = int(value)
            else:
                part["header"].setdefault(key, []).append(value)
            continue
        assert part is not None and part["events"], where
        if not in_body:
            assert set(part["long"]) == set(part["events"]), where
            in_body = True
        pos = _POSITION.match(line)
        if pos:
            spec, ident, name = pos.group(1), int(pos.group(2)), pos.group(3)
            table = names["fl" if spec.endswith("l") else "fn"]
            if name is not None:
                assert table.get(ident, name) == name, where  # an id names one thing
                table[ident] = name
            assert ident in table, f"{where}: id used before it is defined"
            if spec == "fn":
                fn = table[ident]
                part["self"].setdefault(fn, [0] * len(part["events"]))
            elif spec == "fl":
                fl = table[ident]
            elif spec == "cfn":
                cfn = table[ident]
            continue
        if line.startswith("calls="):
            m = re.fullmatch(rf"calls=(\d+) {_NUMBER}", line)
            assert m and fn is not None and cfn is not None, where
            pending_call = (cfn, int(m.group(1)))
            cfn = None  # each call names its callee
            continue
        assert _COST_LINE.match(line), where
        values = [int(v, 0) for v in line.split()]
        assert len(values) == 1 + len(part["events"]) and fn is not None and fl is not None, where
        part["self"][fn] = [a + b for a, b in zip(part["self"][fn], values[1:])]
    assert pending_call is None
    assert parts and not in_body, "the last part has no totals line"
    return parts


ROOT = "[root: all threads]"  # the function a part's top-level calls come from


def expected_totals(rows, root=ROOT):
    """What the callgrind file of `rows` (one thread view) holds, per label: the self value
    summed over its nodes; its total, the inclusive value of its nodes not inside another node
    of the same label (what a function's total means); and per caller -> callee, the calls and
    the callee nodes' inclusive value. The part's root calls the top-level nodes."""
    self_: dict[str, float] = defaultdict(float, {root: 0})
    total: dict[str, float] = defaultdict(float, {root: 0})
    calls: dict[tuple[str, str], list] = defaultdict(lambda: [0, 0])
    path = [root]
    for label, depth, inc, exc, laps, _ in rows:
        del path[depth + 1 :]
        self_[label] += exc
        if label not in path:
            total[label] += inc
        if depth == 0:
            total[root] += inc
        calls[(path[-1], label)][0] += laps
        calls[(path[-1], label)][1] += inc
        path.append(label)
    return dict(self_), dict(total), dict(calls)


def gprof2dot_totals(path: Path) -> dict[str, tuple[float, float]]:
    """(self, total) of each function as gprof2dot reads the first event of the file."""
    with open(path, encoding="utf-8") as f:
        prof = gprof2dot.CallgrindParser(f).parse()
    whole = prof[gprof2dot.SAMPLES]
    return {
        fn.name: (fn[gprof2dot.SAMPLES], fn[gprof2dot.TOTAL_TIME_RATIO] * whole)
        for fn in prof.functions.values()
    }


def kcachegrind_inclusive(part: dict, e: int = 0) -> dict[str, int]:
    """Each function's inclusive cost as KCachegrind computes it without cycle detection
    (TracePartFunction::update in its libcore/tracedata.cpp): the sum of the calls to it from
    other functions when it has any, else its self cost plus its calls to other functions;
    a call of a function to itself counts in neither."""
    called: dict[str, int] = defaultdict(int)
    calling: dict[str, int] = defaultdict(int)
    has_callers: set[str] = set()
    for (caller, callee), (count, costs) in part["calls"].items():
        if caller == callee:
            continue
        if count > 0:
            has_callers.add(callee)
        called[callee] += costs[e]
        calling[caller] += costs[e]
    return {
        fn: called[fn] if fn in has_callers else self_[e] + calling[fn]
        for fn, self_ in part["self"].items()
    }


# ---------------------------------------------------------------- speedscope


def test_speedscope_validates_and_events_lay_out_the_tree(fake_clock, tmp_path):
    record_tree(clock=fake_clock)
    doc = speedscope_of(live_source(), tmp_path)
    assert doc["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    assert doc["exporter"].startswith("timemory@")
    frames = doc["shared"]["frames"]
    assert sorted(f["name"] for f in frames) == ["child", "leaf", "main", "other"]  # shared
    profiles = doc["profiles"]
    assert len(profiles) == 2 and doc["activeProfileIndex"] == 0
    for prof, comp in zip(profiles, TIME_COMPONENTS):
        assert prof["unit"] == "nanoseconds"
        assert prof["name"].startswith(comp + " ")
        assert "not a timeline" in prof["name"]
        nodes = layout(prof, frames)
        rows = tree_rows(comp)
        assert [(n[0], n[1], n[3]) for n in nodes] == [(r[0], r[1], r[2]) for r in rows]
        assert prof["endValue"] == sum(r[2] for r in rows if r[1] == 0)
    # the wall clock's numbers, from the recording above: children packed from their parent's
    # start, siblings one after the other
    wall = layout(profiles[0], frames)
    assert [n[3] for n in wall] == [19_000_000, 9_000_000, 3_000_000, 0]
    assert [n[2] for n in wall] == [0, 0, 0, 9_000_000]
    cpu = layout(profiles[1], frames)
    assert [n[3] for n in cpu] == [8_000_000, 3_000_000, 0, 0]
    assert [n[2] for n in cpu] == [0, 0, 0, 3_000_000]


def test_speedscope_one_profile_per_component_and_thread(fake_clock, tmp_path):
    settings.collapse_threads = False
    try:

        def work(seconds):
            with marker(TIME_COMPONENTS, key="work"):
                fake_clock.advance(seconds, seconds / 2)

        with marker(TIME_COMPONENTS, key="main"):
            t = threading.Thread(target=work, args=(0.004,))
            t.start()
            t.join()
            work(0.001)
        doc = speedscope_of(live_source(), tmp_path)
        names = [p["name"] for p in doc["profiles"]]
        assert len(names) == 4 and len(set(names)) == 4
        frames = doc["shared"]["frames"]
        for comp in TIME_COMPONENTS:
            rows = tree_rows(comp)
            mine = [p for p in doc["profiles"] if p["name"].startswith(comp + " ")]
            assert len(mine) == 2
            got = [(n[0], n[1], n[3]) for p in mine for n in layout(p, frames)]
            assert got == [(r[0], r[1], r[2]) for r in rows]
            assert {p["name"].split(" (")[0].rsplit("thread ", 1)[1] for p in mine} == {
                str(r[5]) for r in rows
            }
    finally:
        settings.collapse_threads = True


def test_speedscope_no_profile_for_a_view_without_the_component(fake_clock, tmp_path):
    settings.collapse_threads = False
    try:

        def wall_only():
            with marker(["wall_clock"], key="wall_only"):
                fake_clock.advance(0.002)

        with marker(TIME_COMPONENTS, key="both"):
            fake_clock.advance(0.001, 0.001)
            with marker(["wall_clock"], key="wall_inside"):
                fake_clock.advance(0.001)
        t = threading.Thread(target=wall_only)
        t.start()
        t.join()
        doc = speedscope_of(live_source(), tmp_path)
        frames = doc["shared"]["frames"]
        names = [p["name"].split(" (")[0] for p in doc["profiles"]]
        assert len(names) == 3 and sum(n.startswith("cpu_clock ") for n in names) == 1
        cpu = next(p for p in doc["profiles"] if p["name"].startswith("cpu_clock "))
        assert [(n[0], n[3]) for n in layout(cpu, frames)] == [("both", 1_000_000)]
        wall = [[(n[0], n[3]) for n in layout(p, frames)] for p in doc["profiles"][:2]]
        assert sorted(wall) == [
            [("both", 2_000_000), ("wall_inside", 1_000_000)],
            [("wall_only", 2_000_000)],
        ]
    finally:
        settings.collapse_threads = True


def test_speedscope_units_by_component(fake_clock, tmp_path):
    comps = ["wall_clock", "peak_rss", "num_minor_page_faults", "trip_count", "cpu_util"]
    with marker(comps, key="outer"):
        fake_clock.advance(0.003)
        with marker(comps, key="inner"):
            fake_clock.advance(0.001)
    doc = speedscope_of(live_source(comps), tmp_path)
    units = {p["name"].split(" ")[0]: p["unit"] for p in doc["profiles"]}
    # cpu_util (a percentage) and trip_count (a node's own calls) do not nest: no flame graph
    assert units == {
        "wall_clock": "nanoseconds",
        "peak_rss": "bytes",
        "num_minor_page_faults": "none",
    }
    for prof in doc["profiles"]:
        assert [n[0] for n in layout(prof, doc["shared"]["frames"])] == ["outer", "inner"]


def test_values_that_do_not_nest_have_no_export(fake_clock):
    values = _core.export_values(resolve(["wall_clock", "cpu_util", "read_bytes", "trip_count"]))
    # read_bytes: its amount nests, its rate does not; cpu_util and trip_count have none
    assert [v[2:] for v in values] == [
        ("wall_clock", "nanoseconds"),
        ("read_bytes read_bytes", "bytes"),
    ]
    with marker(["cpu_util", "trip_count"], key="only"):
        fake_clock.advance(0.001, 0.001)
    src = live_source(["cpu_util", "trip_count"])
    assert make_speedscope(src) is None and make_callgrind(src) is None  # no file for them


def test_speedscope_loaded_source_writes_the_live_file(fake_clock, tmp_path):
    record_tree(clock=fake_clock)
    live = write(make_speedscope, live_source(), tmp_path / "live.json").read_bytes()
    loaded = write(make_speedscope, loaded_source(), tmp_path / "loaded.json").read_bytes()
    assert loaded == live


def test_speedscope_loaded_two_threads_write_the_live_file(fake_clock, tmp_path):
    settings.collapse_threads = False
    try:
        with marker(TIME_COMPONENTS, key="main"):
            t = threading.Thread(target=record_tree, kwargs={"clock": fake_clock})
            t.start()
            t.join()
        live = write(make_speedscope, live_source(), tmp_path / "live.json").read_bytes()
        loaded = write(make_speedscope, loaded_source(), tmp_path / "loaded.json").read_bytes()
        assert loaded == live
        assert len(json.loads(live)["profiles"]) == 4
    finally:
        settings.collapse_threads = True


def test_speedscope_one_profile_per_rank(fake_clock, tmp_path):
    record_tree(clock=fake_clock)
    doc = speedscope_of(loaded_source(ranks=2), tmp_path)
    names = [p["name"] for p in doc["profiles"]]
    assert len(names) == 4
    assert sum("rank 0," in n for n in names) == 2 and sum("rank 1," in n for n in names) == 2
    single = speedscope_of(live_source(), tmp_path, "live.json")
    for prof in doc["profiles"]:
        twin = next(
            p for p in single["profiles"] if p["name"].split()[0] == prof["name"].split()[0]
        )
        assert prof["events"] == twin["events"]


def test_live_rank_is_named(fake_clock, tmp_path):
    """An MPI rank past 0 writing its own data: its rank in the profile names and parts."""
    record_tree(clock=fake_clock)
    src = live_source()
    src.rank = 3
    doc = speedscope_of(src, tmp_path)
    assert all("rank 3, all threads" in p["name"] for p in doc["profiles"])
    path = write(make_callgrind, src, tmp_path / "callgrind.out")
    (part,) = parse_callgrind(path.read_text(encoding="utf-8"))
    assert part["header"]["desc"][0] == "Rank: 3"
    assert "[root: rank 3, all threads]" in part["self"]


def test_speedscope_negative_nan_and_oversized_children_stay_valid(fake_clock, tmp_path):
    record_tree(clock=fake_clock)

    def edit(doc):
        section = next(iter(doc["timemory"].values()))
        main = section["graph"][0][0]["children"][0]
        child, other = main["children"]
        child["node"]["inclusive"]["stats"]["sum"] = 1e9  # far more than its parent
        child["children"][0]["node"]["inclusive"]["stats"]["sum"] = float("nan")
        other["node"]["inclusive"]["stats"]["sum"] = -5.0

    doc = speedscope_of(loaded_source(edit=edit), tmp_path)
    for prof in doc["profiles"]:
        nodes = layout(prof, doc["shared"]["frames"])
        main, child, leaf, other = nodes
        assert child[3] == main[3]  # cut at its parent's end
        assert leaf[3] == 0 and other[3] == 0  # NaN and negative count as 0
        assert all(math.isfinite(n[2]) and n[3] >= 0 for n in nodes)


# ---------------------------------------------------------------- callgrind


def test_callgrind_format_and_gprof2dot_totals(fake_clock, tmp_path):
    record_tree(clock=fake_clock)
    path = write(make_callgrind, live_source(), tmp_path / "callgrind.out")
    (part,) = parse_callgrind(path.read_text(encoding="utf-8"))
    assert part["events"] == ["WallClock", "CpuClock"]
    assert part["long"] == {"WallClock": "wall_clock (ns)", "CpuClock": "cpu_clock (ns)"}
    for e, comp in enumerate(TIME_COMPONENTS):
        self_, _, calls = expected_totals(tree_rows(comp))
        assert {fn: costs[e] for fn, costs in part["self"].items()} == self_
        # a call's count and cost: the callee's nodes under that caller
        assert {k: [v[0], v[1][e]] for k, v in part["calls"].items()} == calls
    # gprof2dot reads the first event
    self_, total, _ = expected_totals(tree_rows("wall_clock"))
    got = gprof2dot_totals(path)
    assert {k: v[0] for k, v in got.items()} == self_
    assert {k: v[1] for k, v in got.items()} == pytest.approx(total)
    assert total[ROOT] == 19_000_000
    assert total["main"] == 19_000_000 and total["child"] == 9_000_000
    assert kcachegrind_inclusive(part) == total


def test_callgrind_a_function_at_the_top_level_and_called(fake_clock, tmp_path):
    """leaf is called at the top level and by main: the part's root calls the top-level
    nodes, so KCachegrind (which sums a called function's calls) counts both."""
    with marker(TIME_COMPONENTS, key="leaf"):
        fake_clock.advance(0.004)
    with marker(TIME_COMPONENTS, key="main"):
        fake_clock.advance(0.001)
        with marker(TIME_COMPONENTS, key="leaf"):
            fake_clock.advance(0.002)
    path = write(make_callgrind, live_source(), tmp_path / "callgrind.out")
    (part,) = parse_callgrind(path.read_text(encoding="utf-8"))
    _, total, _ = expected_totals(tree_rows("wall_clock"))
    assert total["leaf"] == 6_000_000 and total[ROOT] == 7_000_000
    assert kcachegrind_inclusive(part) == total
    assert {k: v[1] for k, v in gprof2dot_totals(path).items()} == pytest.approx(total)


def test_callgrind_recursion_counts_each_cost_once(fake_clock, tmp_path):
    def rec(n):
        with marker(TIME_COMPONENTS, key="rec"):
            fake_clock.advance(0.001)
            if n:
                rec(n - 1)

    with marker(TIME_COMPONENTS, key="main"):
        rec(3)
        with marker(TIME_COMPONENTS, key="ping"):
            fake_clock.advance(0.001)
            with marker(TIME_COMPONENTS, key="pong"):
                fake_clock.advance(0.001)
                with marker(TIME_COMPONENTS, key="ping"):
                    fake_clock.advance(0.001)
    path = write(make_callgrind, live_source(), tmp_path / "callgrind.out")
    (part,) = parse_callgrind(path.read_text(encoding="utf-8"))
    rows = tree_rows("wall_clock")
    self_, total, _ = expected_totals(rows)
    assert total["rec"] == 4_000_000 and self_["rec"] == 4_000_000
    # the recursive call: 3 calls carrying the inner nodes' inclusive cost, as callgrind writes it
    assert part["calls"][("rec", "rec")][0] == 3
    assert part["calls"][("rec", "rec")][1][0] == 3_000_000 + 2_000_000 + 1_000_000
    got = gprof2dot_totals(path)
    assert {k: v[0] for k, v in got.items()} == self_
    # self recursion is no cycle for gprof2dot nor for KCachegrind: its total is the
    # outermost node's
    assert got["rec"][1] == pytest.approx(total["rec"])
    assert got["main"][1] == pytest.approx(total["main"])
    kc = kcachegrind_inclusive(part)
    assert kc["rec"] == total["rec"] and kc["main"] == total["main"]
    # ping -> pong -> ping is a cycle: gprof2dot integrates it; KCachegrind without its cycle
    # detection counts the inner ping's cost in ping's twice, as for callgrind's own files
    assert got["ping"][1] == pytest.approx(total["ping"])
    assert kc["ping"] == total["ping"] + 1_000_000


def test_callgrind_threads_and_ranks_are_parts(fake_clock, tmp_path):
    settings.collapse_threads = False
    try:
        with marker(TIME_COMPONENTS, key="main"):
            t = threading.Thread(target=record_tree, kwargs={"clock": fake_clock})
            t.start()
            t.join()
        path = write(make_callgrind, live_source(), tmp_path / "live.out")
        parts = parse_callgrind(path.read_text(encoding="utf-8"))
        assert sorted(p["header"]["thread"] for p in parts) == sorted(
            {r[5] for r in tree_rows("wall_clock")}
        )
        assert all(p["header"]["pid"] == os.getpid() for p in parts)
        loaded = write(make_callgrind, loaded_source(), tmp_path / "loaded.out")
        assert loaded.read_bytes() == path.read_bytes()
        ranks = write(make_callgrind, loaded_source(ranks=2), tmp_path / "ranks.out")
        parts2 = parse_callgrind(ranks.read_text(encoding="utf-8"))
        assert len(parts2) == 2 * len(parts)
        assert sorted(p["header"]["desc"][0] for p in parts2) == sorted(
            ["Rank: 0"] * len(parts) + ["Rank: 1"] * len(parts)
        )
    finally:
        settings.collapse_threads = True


# ---------------------------------------------------------------- both


HOSTILE = [
    'say "hi"',
    "line\nbreak\r\tand\\back",
    "bad \udcff\udcfe bytes",  # not UTF-8 (surrogate-escaped, as os.fsdecode gives them)
    "(1) looks compressed",
    " leading space",
    "ünïcödé ☃ 😀",
    "x" * 100_000,
]


def test_hostile_labels_keep_both_files_valid(fake_clock, tmp_path):
    with marker(TIME_COMPONENTS, key="root"):
        for label in HOSTILE:
            with marker(TIME_COMPONENTS, key=label):
                fake_clock.advance(0.001)
    doc = speedscope_of(live_source(), tmp_path)
    names = [f["name"] for f in doc["shared"]["frames"]]
    assert len(names) == 1 + len(HOSTILE)
    assert 'say "hi"' in names and "line\nbreak\r\tand\\back" in names
    assert "x" * 100_000 in names and "ünïcödé ☃ 😀" in names
    wall = [n[3] for n in layout(doc["profiles"][0], doc["shared"]["frames"])]
    assert wall == [len(HOSTILE) * 1_000_000] + [1_000_000] * len(HOSTILE)
    for prof in doc["profiles"][1:]:
        layout(prof, doc["shared"]["frames"])
    path = write(make_callgrind, live_source(), tmp_path / "callgrind.out")
    (part,) = parse_callgrind(path.read_text(encoding="utf-8"))
    assert len(part["self"]) == 2 + len(HOSTILE)  # the root, "root" and the labels
    assert "line\\nbreak\\r\\tand\\\\back" in part["self"]
    got = gprof2dot_totals(path)
    assert len(got) == 2 + len(HOSTILE)
    assert got["root"][1] == pytest.approx(len(HOSTILE) * 1_000_000)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gprof2dot",
            "-f",
            "callgrind",
            str(path),
            "-o",
            str(tmp_path / "g.dot"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr


def test_empty_source_writes_valid_files(tmp_path):
    doc = speedscope_of(live_source(), tmp_path)
    assert doc["profiles"] == [] and doc["shared"]["frames"] == []
    path = write(make_callgrind, live_source(), tmp_path / "callgrind.out")
    (part,) = parse_callgrind(path.read_text(encoding="utf-8"))
    assert part["self"] == {ROOT: [0, 0]}


def test_write_failure_is_an_oserror_naming_the_path(fake_clock, tmp_path):
    record_tree(clock=fake_clock)
    blocker = tmp_path / "file"
    blocker.write_text("")
    for make in (make_speedscope, make_callgrind):
        with pytest.raises(OSError, match="file"):
            write(make, live_source(), blocker / "sub" / "x.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # no temporary left


def test_profiled_program_in_a_subprocess(tmp_path):
    """The profiler on real code in a program of its own (two threads, real clocks): both
    exports of its live data and of its tree JSON read back, checked with the real tools."""
    script = tmp_path / "prog.py"
    script.write_text(
        "import os, sys, threading\n"
        "from types import SimpleNamespace\n"
        "from timemory import settings\n"
        "from timemory._components import resolve\n"
        "from timemory._output._speedscope import make_callgrind, make_speedscope\n"
        "from timemory.profiler import profile\n"
        "settings.collapse_threads = False\n"
        "def leaf(n):\n"
        "    return sum(range(n))\n"
        "def work():\n"
        "    for i in range(50):\n"
        "        leaf(1000 + i)\n"
        "with profile(['wall_clock', 'peak_rss']):\n"
        "    t = threading.Thread(target=work)\n"
        "    t.start()\n"
        "    work()\n"
        "    t.join()\n"
        "idx = resolve(['wall_clock', 'peak_rss'])\n"
        "src = SimpleNamespace(indices=idx, native=idx, rank=0, copy=True)\n"
        "out = sys.argv[1]\n"
        "make_speedscope(src)(os.fsencode(os.path.join(out, 'live.speedscope.json')))\n"
        "make_callgrind(src)(os.fsencode(os.path.join(out, 'live.callgrind')))\n"
    )
    out = tmp_path / "out"
    out.mkdir()
    env = clean_env({"TIMEMORY_OUTPUT_PATH": str(out / "data"), "TIMEMORY_COUT_OUTPUT": "OFF"})
    proc = subprocess.run(
        [sys.executable, str(script), str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((out / "live.speedscope.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(SCHEMA).validate(doc)
    assert {p["unit"] for p in doc["profiles"]} == {"nanoseconds", "bytes"}
    assert len(doc["profiles"]) >= 4  # two components, two threads
    for prof in doc["profiles"]:
        layout(prof, doc["shared"]["frames"])
    assert {"work", "leaf"} <= {f["name"].split()[0] for f in doc["shared"]["frames"]}
    parts = parse_callgrind((out / "live.callgrind").read_text(encoding="utf-8"))
    assert len({p["header"]["thread"] for p in parts}) >= 2
    dot = subprocess.run(
        [sys.executable, "-m", "gprof2dot", "-f", "callgrind", str(out / "live.callgrind")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert dot.returncode == 0 and "digraph" in dot.stdout, dot.stderr
    # the tree JSON the program wrote at exit, read back here: the same components and threads
    trees = sorted((out / "data").rglob("wall*.json"))
    tree_file = next(p for p in trees if '"graph"' in p.read_text() and "children" in p.read_text())
    idx = resolve(["wall_clock"])
    native = [(idx[0], storage_class("wall_clock").load_json_tree_dmp(tree_file))]
    src = SimpleNamespace(indices=idx, native=native, rank=0, copy=False)
    settings.collapse_threads = False
    try:
        back = speedscope_of(src, tmp_path)
    finally:
        settings.collapse_threads = True
    live_wall = [p for p in doc["profiles"] if p["name"].startswith("wall_clock ")]
    assert len(back["profiles"]) == len(live_wall)
    assert [len(p["events"]) for p in back["profiles"]] == [len(p["events"]) for p in live_wall]


def test_profiled_functions_in_process(fake_clock, tmp_path):
    """Functions the profiler records (their labels carry where they are)."""

    def inner():
        fake_clock.advance(0.002)

    def outer():
        fake_clock.advance(0.001)
        inner()
        inner()

    with profile(["wall_clock"]):
        outer()
    doc = speedscope_of(live_source(["wall_clock"]), tmp_path)
    (prof,) = doc["profiles"]
    nodes = layout(prof, doc["shared"]["frames"])
    rows = tree_rows("wall_clock")
    assert [(n[0], n[1], n[3]) for n in nodes] == [(r[0], r[1], r[2]) for r in rows]
    widths = {n[0].split()[0]: n[3] for n in nodes}
    assert any(k.endswith("outer") for k in widths)
    assert [w for k, w in widths.items() if k.endswith("outer")] == [5_000_000]
    path = write(make_callgrind, live_source(["wall_clock"]), tmp_path / "callgrind.out")
    (part,) = parse_callgrind(path.read_text(encoding="utf-8"))
    self_, total, _ = expected_totals(rows)
    assert {k: v[0] for k, v in part["self"].items()} == self_
    got = gprof2dot_totals(path)
    assert {k: v[1] for k, v in got.items()} == pytest.approx(total)
