"""Hostile input to every reader: the storage ``load*`` functions, plotting's flat JSON reader and
the roofline reader answer a malformed document with one ``ValueError`` line that names the
document, the place in it and what was expected; their command lines print that line and exit
with status 2. The exact messages of common mistakes (tests/test_fuzz_readers.py tries many
more documents)."""

from __future__ import annotations

import io
import json
import os
import sys

import pytest
from readers_helpers import copy, load, make_documents
from timemory import _documents, roofline
from timemory._documents import DocumentError, parse_json, read_json
from timemory.plotting import InputError, read_file
from timemory.storage import CurrentPeakRssStorage, WallClockStorage
from tool_helpers import run_tool


@pytest.fixture(scope="session")
def documents(tmp_path_factory):
    return make_documents(tmp_path_factory)


def _write(path, doc) -> str:
    path.write_text(json.dumps(doc))
    return str(path)


def _message(call, *args) -> str:
    with pytest.raises(ValueError) as info:
        call(*args)
    text = str(info.value)
    assert "\n" not in text
    return text


# ------------------------------------------------------------------ the helpers
def test_location_names_the_document_and_the_path():
    where = ((((("wall.json", "timemory"), "wall_clock"), "ranks"), 0), "graph")
    assert _documents.location(where) == "wall.json: timemory.wall_clock.ranks[0].graph"
    assert _documents.location("wall.json") == "wall.json"
    assert _documents.location((("x.json", "a b"), 2)) == 'x.json: ["a b"][2]'
    assert _documents.location((("x.json", "exec-params"), "0")) == 'x.json: exec-params["0"]'
    assert _documents.location(("x.json", 0)) == "x.json: [0]"
    assert _documents.document_name(where) == "wall.json"


@pytest.mark.parametrize(
    ("value", "check", "message"),
    [
        ([], _documents.as_object, "w.json: a.b: expected an object, found a list of 0 items"),
        ({}, _documents.as_list, "w.json: a.b: expected a list, found an object"),
        (None, _documents.as_string, "w.json: a.b: expected a string, found null"),
        ("3", _documents.as_number, 'w.json: a.b: expected a number, found a string ("3")'),
        (True, _documents.as_number, "w.json: a.b: expected a number, found true"),
        (10**400, _documents.as_number, "within the range of a double"),
        (-1, _documents.as_integer(), "expected a non-negative integer, found the number -1"),
        (1.5, _documents.as_integer(), "expected a non-negative integer, found the number 1.5"),
        (float("nan"), _documents.as_integer(), "found the number nan"),
        (2**64, _documents.as_integer(0, 2**64 - 1), "an integer from 0 to 18446744073709551615"),
        ([1] * 3, _documents.as_numbers(2), "at most 2 numbers, found a list of 3 items"),
        ([1, "x"], _documents.as_numbers(2), "w.json: a.b[1]: expected a number, found a string"),
        ({"first": 1}, _documents.as_numbers(2), "w.json: a.b.second: missing (expected a number)"),
        (2, _documents.as_bool, "w.json: a.b: expected true or false, found the number 2"),
    ],
)
def test_checks_say_what_was_expected_and_found(value, check, message):
    assert message in _message(check, value, (("w.json", "a"), "b"))


def test_checks_accept_what_they_name():
    where = "w.json"
    assert _documents.as_integer()(3.0, where) == 3
    assert _documents.as_numbers(2)({"first": 1, "second": 2.5}, where) == [1.0, 2.5]
    assert _documents.as_numbers(2)(4, where) == [4.0]
    assert _documents.member({"a": 1}, "b", where, _documents.as_number, 7) == 7
    with pytest.raises(DocumentError, match=r"^w.json: b: missing \(expected a number\)$"):
        _documents.member({"a": 1}, "b", where, _documents.as_number)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ('{"a":\n  [1, 2,, 3]}', "x.json: not valid JSON: line 2 column 9: Expecting value"),
        (
            b'{"a": "\xc3\xa9",\n"b": "\xff"}',
            "x.json: not valid UTF-8: byte 0xff at line 2 column 7",
        ),
        ("[" * 100_000 + "]" * 100_000, "x.json: not readable: its JSON is nested deeper than"),
        ("1" * 5000, "x.json: not valid JSON: Exceeds the limit"),
        ("", "x.json: not valid JSON: line 1 column 1: Expecting value"),
        (
            '{"a": "abc',
            "x.json: not valid JSON: line 1 column 7: Unterminated string starting there",
        ),
    ],
)
def test_parse_errors_are_one_line_naming_the_document(data, message):
    if message.endswith("Exceeds the limit") and not hasattr(sys, "set_int_max_str_digits"):
        pytest.skip("no limit on the digits of an integer before Python 3.11")
    assert _message(parse_json, data, "x.json").startswith(message)


def test_parse_accepts_a_byte_order_mark():
    assert parse_json(b'\xef\xbb\xbf{"a": 1}', "x.json") == {"a": 1}
    assert parse_json('\ufeff{"a": 1}', "x.json") == {"a": 1}


def test_read_refuses_what_is_not_a_regular_file(tmp_path):
    assert _message(read_json, str(tmp_path)) == f"{tmp_path}: is a directory, not a JSON file"
    if os.path.exists("/dev/zero"):  # would never end
        assert _message(read_json, "/dev/zero").endswith(
            "not a regular file (a device, FIFO or socket)"
        )
    if hasattr(os, "mkfifo"):  # would wait for a writer
        fifo = tmp_path / "fifo.json"
        os.mkfifo(fifo)
        assert "not a regular file" in _message(read_json, str(fifo))
    with pytest.raises(FileNotFoundError):
        read_json(str(tmp_path / "missing.json"))


def test_read_refuses_files_above_the_limit(tmp_path, monkeypatch):
    path = tmp_path / "big.json"
    path.write_text('{"a": "' + "x" * 100 + '"}')
    assert read_json(path) == {"a": "x" * 100}
    monkeypatch.setattr(_documents, "MAX_BYTES", 50)
    assert _message(read_json, str(path), "big.json") == (
        "big.json: too large to read (109 bytes; the limit is 50 bytes)"
    )


# ------------------------------------------------------------------ storage
def test_storage_messages_name_the_place(documents, tmp_path):
    doc = load(documents["wall"])
    graph = doc["timemory"]["wall_clock"]["ranks"][0]["graph"]
    path = str(tmp_path / "wall.json")
    graph[3]["entry"] = [1, 2]
    _write(tmp_path / "wall.json", doc)
    assert _message(WallClockStorage.load_json, path) == (
        f"{path}: timemory.wall_clock.ranks[0].graph[3].entry: expected an object, "
        "found a list of 2 items"
    )
    del graph[1]["prefix"]
    assert _message(WallClockStorage.load, doc) == (
        "<data>: timemory.wall_clock.ranks[0].graph[1].prefix: missing (expected a string)"
    )
    graph[1]["prefix"], graph[1]["hash"] = ">>> |_x", -5
    assert _message(WallClockStorage.load_json, json.dumps(doc)).startswith(
        "<string>: timemory.wall_clock.ranks[0].graph[1].hash: expected an integer from 0 to "
    )
    with open(_write(tmp_path / "w2.json", {"timemory": {"wall_clock": {"ranks": 3}}})) as f:
        assert _message(WallClockStorage.load_json, f) == (
            f"{f.name}: timemory.wall_clock.ranks: expected a list, found the number 3"
        )
    stream = io.StringIO('{"timemory": {"wall_clock": {"ranks": [[]]}}}')
    assert _message(WallClockStorage.load_json, stream) == (
        "<stream>: timemory.wall_clock.ranks[0]: expected an object, found a list of 0 items"
    )


def test_storage_names_the_components_a_document_has(documents):
    assert _message(WallClockStorage.load, str(documents["peak"])) == (
        f"{documents['peak']}: timemory.wall_clock: missing (the components in this "
        "document: current_peak_rss)"
    )
    assert _message(WallClockStorage.load_json, {"rank": 0}) == (
        "<data>: timemory: missing (expected an object)"
    )
    assert _message(WallClockStorage.load_json_tree, str(documents["wall"])).endswith(
        "timemory.wall_clock: not a tree timemory JSON: no 'graph' or 'mpi' key"
    )
    assert _message(WallClockStorage.load_json, str(documents["wall_tree"])).endswith(
        "timemory.wall_clock: not a flat timemory JSON: no 'ranks' key"
    )


def test_storage_tree_messages_follow_the_children(documents):
    doc = load(documents["peak_tree"])
    [[root]] = doc["timemory"]["current_peak_rss"]["graph"]
    main = root["children"][0]
    main["children"][1]["node"]["inclusive"]["entry"]["value"] = [1, "2"]
    assert _message(CurrentPeakRssStorage.load_json_tree, doc) == (
        "<data>: timemory.current_peak_rss.graph[0][0].children[0].children[1].node.inclusive"
        '.entry.value[1]: expected a number, found a string ("2")'
    )
    main["children"][1]["node"]["inclusive"]["entry"]["value"] = [1] * 9
    assert _message(CurrentPeakRssStorage.load, doc).endswith(
        "expected a number or a list of at most 8 numbers, found a list of 9 items"
    )
    main["children"][0] = {"children": []}
    assert _message(CurrentPeakRssStorage.load, doc) == (
        "<data>: timemory.current_peak_rss.graph[0][0].children[0].children[0].node: "
        "missing (expected an object)"
    )


def test_storage_reads_a_deep_tree_without_recursion(documents):
    """A tree three times deeper than Python's default recursion limit (1,000 frames), as a
    dict: how deep JSON text can nest depends on the interpreter, the reader must not."""
    doc = load(documents["wall_tree"])
    [[root]] = doc["timemory"]["wall_clock"]["graph"]
    node = root["children"][0]["node"]
    levels = 3 * max(sys.getrecursionlimit(), 1000)
    chain = {"node": node, "children": []}
    for _ in range(levels - 1):
        chain = {"node": node, "children": [chain]}
    root["children"] = [chain]
    [tree] = WallClockStorage.load_json_tree(doc)
    depth = 0
    while tree.children():
        [tree] = tree.children()
        depth += 1
    assert depth == levels


def test_storage_io_errors_stay_os_errors(tmp_path):
    with pytest.raises(OSError, match="cannot read timemory JSON '.*missing.json'"):
        WallClockStorage.load_json(str(tmp_path / "missing.json"))
    with pytest.raises(TypeError, match="expected a dict, JSON string, path or file object"):
        WallClockStorage.load_json(42)


def test_statistics_of_huge_values_do_not_overflow(documents):
    doc = load(documents["wall"])
    stats = doc["timemory"]["wall_clock"]["ranks"][0]["graph"][0]["stats"]
    stats.update(sum=1e300, sqr=1e300, count=3)
    [first, *_] = WallClockStorage.load_json(doc)
    assert first.stats().variance() != 0  # inf or nan: no OverflowError from sum ** 2


# ------------------------------------------------------------------ plotting
def test_plotting_messages_name_the_place(documents, tmp_path):
    doc = load(documents["peak"])
    graph = doc["timemory"]["current_peak_rss"]["ranks"][0]["graph"]
    graph[2]["entry"]["repr_data"] = [1.0]
    path = _write(tmp_path / "peak.json", doc)
    assert _message(read_file, path) == (
        f"{path}: timemory.current_peak_rss.ranks[0].graph[2].entry.repr_data: 1 values for "
        "the 2 types (start peak rss, stop peak rss) of 'current_peak_rss'"
    )
    graph[2]["entry"]["repr_data"] = [1.0, float("inf")]
    _write(tmp_path / "peak.json", doc)
    assert _message(read_file, path) == (
        f"{path}: timemory.current_peak_rss.ranks[0].graph[2].entry.repr_data[1]: expected a "
        "number from -1e100 to 1e100, 0 or not closer to 0 than 1e-100, found the number inf"
    )
    graph[2]["depth"] = "2"
    graph[2]["entry"]["repr_data"] = [1.0, 2.0]
    _write(tmp_path / "peak.json", doc)
    assert _message(read_file, path) == (
        f"{path}: timemory.current_peak_rss.ranks[0].graph[2].depth: expected an integer from "
        '0 to 2147483647, found a string ("2")'
    )
    with pytest.raises(InputError):  # a ValueError as well
        read_file(path)


# ------------------------------------------------------------------ roofline
def test_roofline_messages_name_the_place(documents, tmp_path):
    doc = load(documents["roofline_op"])
    component = doc["timemory"]["cpu_roofline_dp_flops"]
    path = str(tmp_path / "op.json")
    component["ranks"][0]["graph"][1]["entry"]["repr_data"] = 5
    _write(tmp_path / "op.json", doc)
    assert _message(roofline.load, path) == (
        f"{path}: timemory.cpu_roofline_dp_flops.ranks[0].graph[1].entry.repr_data: expected "
        "a list of 3 numbers (one per type: flops, bytes, runtime), found the number 5"
    )
    component["ranks"][0]["graph"][1]["entry"]["repr_data"] = [1, 2, 3]
    component["roofline"]["ert"][2]["exec-params"] = None
    _write(tmp_path / "op.json", doc)
    assert _message(roofline.load, path) == (
        f"{path}: timemory.cpu_roofline_dp_flops.roofline.ert[2].exec-params: expected an "
        "object, found null"
    )
    component["roofline"]["ert"] = []
    component["roofline"]["ceilings"]["peak"]["dp"] = -1
    _write(tmp_path / "op.json", doc)
    assert _message(roofline.load, path) == (
        f"{path}: timemory.cpu_roofline_dp_flops.roofline.ceilings.peak.dp: expected 0 or a "
        "number from 1e-30 to 1e30, found the number -1"
    )
    with pytest.raises(roofline.RooflineError):
        roofline.hotspots(path, documents["roofline_ai"])


def test_roofline_reads_its_own_files(documents):
    points = roofline.hotspots(documents["roofline_ai"], documents["roofline_op"])
    assert {p["label"] for p in points} >= {"main", "child", "other"}


# ------------------------------------------------------------------ command lines
def _one_error_line(proc, prog: str, start: str) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"{prog}: error: {start}"), proc.stderr
    assert "Traceback (most recent call last)" not in proc.stderr
    return lines[0]


def test_plotting_command_line_reports_a_hostile_file_in_one_line(documents, tmp_path):
    pytest.importorskip("matplotlib")
    doc = load(documents["wall"])
    doc["timemory"]["wall_clock"]["ranks"][0]["graph"][0]["entry"] = "fast"
    _write(tmp_path / "bad.json", doc)
    (tmp_path / "cut.json").write_bytes(documents["wall"].read_bytes()[:100])
    for name, words in [
        ("bad.json", "timemory.wall_clock.ranks[0].graph[0].entry: expected an object"),
        ("cut.json", "not valid JSON: line 1 column "),
    ]:
        proc = run_tool("timemory.plotting", "-f", name, cwd=tmp_path, env={"MPLBACKEND": "agg"})
        line = _one_error_line(proc, "python -m timemory.plotting", f"{name}: ")
        assert words in line, line


def test_roofline_command_line_reports_a_hostile_file_in_one_line(documents, tmp_path):
    pytest.importorskip("matplotlib")
    ai = copy(documents["roofline_ai"], tmp_path / "ai.json")
    (tmp_path / "op.json").write_bytes(b'{"timemory": {"cpu_roofline_dp_flops": \xfe}}')
    proc = run_tool("timemory.roofline", "-ai", ai.name, "-op", "op.json", cwd=tmp_path)
    line = _one_error_line(proc, "python -m timemory.roofline", "op.json: ")
    assert line.endswith("not valid UTF-8: byte 0xfe at line 1 column 40"), line
    doc = load(documents["roofline_op"])
    del doc["timemory"]["cpu_roofline_dp_flops"]["ranks"][0]["graph"][0]["prefix"]
    _write(tmp_path / "op.json", doc)
    proc = run_tool("timemory.roofline", "-ai", ai.name, "-op", "op.json", cwd=tmp_path)
    line = _one_error_line(proc, "python -m timemory.roofline", "op.json: ")
    assert "timemory.cpu_roofline_dp_flops.ranks[0].graph[0].prefix: missing" in line, line
