"""Structured fuzzing of every reader: documents timemory wrote (tests/readers_helpers.py),
mutated by hypothesis — keys deleted, values replaced by other types, null, huge or
non-finite numbers, strings, lists or another part of the document, nesting deeper than the
JSON reader goes, the bytes cut short or made invalid UTF-8 — are read back. A reader either
succeeds or raises ``ValueError`` whose one-line message starts with the document's name;
never another exception, never a hang (each read has a time limit).

Bounded and reproducible: ``derandomize=True``, a fixed number of examples per reader.
"""

from __future__ import annotations

import copy
import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable

import pytest
from readers_helpers import load, make_documents

pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from timemory import roofline  # noqa: E402
from timemory.plotting import read_file  # noqa: E402
from timemory.plotting._entries import read as read_rank  # noqa: E402
from timemory.storage import storage_class  # noqa: E402

FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)

#: a read that takes longer is a hang (the documents are a few kB; a read takes milliseconds)
TIME_LIMIT = 60


@pytest.fixture(scope="session")
def documents(tmp_path_factory):
    return make_documents(tmp_path_factory)


# ------------------------------------------------------------------ mutations
# Text put in place of a value after json.dumps (what json.dumps cannot write, or would
# refuse to: nesting deeper than the reader goes, numbers beyond a double, too many digits).
RAW = [
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 50_000 + "1" + "}" * 50_000,
    "NaN",
    "-Infinity",
    "1e400",
    "-1e400",
    "1" * 5000,
    "18446744073709551616",
    "-9223372036854775809",
]

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**31, 2**63, 2**64, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from([[], {}, [1] * 9, {"first": 1}, {"first": "a", "second": None}, [[1]]]),
    st.lists(st.one_of(st.integers(), st.floats(), st.text(max_size=3)), max_size=4),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
)


def _paths(doc: Any) -> list[tuple[Any, ...]]:
    """The path (keys and indices) of every value in ``doc``, the document itself first."""
    out: list[tuple[Any, ...]] = []
    stack: list[tuple[tuple[Any, ...], Any]] = [((), doc)]
    while stack:
        path, value = stack.pop()
        out.append(path)
        if isinstance(value, dict):
            stack.extend(((*path, k), v) for k, v in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(value))))
    return out


def _parent(doc: Any, path: tuple[Any, ...]) -> Any:
    """The container of ``path``'s value, or None when the path is gone (a mutation before
    deleted or replaced a part of it)."""
    node = doc
    for step in path[:-1]:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return None
    holds = isinstance(node, dict) and path[-1] in node
    holds = holds or (isinstance(node, list) and isinstance(path[-1], int) and path[-1] < len(node))
    return node if holds else None


@st.composite
def mutated(draw: Any, doc: Any, bytes_too: bool = True) -> bytes:
    """``doc`` with one to three mutations, as the bytes of a file (valid JSON, when not
    ``bytes_too``)."""
    doc = copy.deepcopy(doc)
    paths = _paths(doc)
    raw: dict[str, str] = {}
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths[1:]))
        parent = _parent(doc, path)
        if parent is None:
            continue
        kinds = ["delete", "value", "value", "other part"] + ["raw"] * bytes_too
        kind = draw(st.sampled_from(kinds))
        if kind == "delete":
            del parent[path[-1]]
        elif kind == "value":
            parent[path[-1]] = draw(VALUES)
        elif kind == "other part":
            other = draw(st.sampled_from(paths))
            source = _parent(doc, other) if other else None
            parent[path[-1]] = copy.deepcopy(source[other[-1]] if source is not None else doc)
        else:
            marker = f"@raw{len(raw)}@"
            raw[json.dumps(marker)] = draw(st.sampled_from(RAW))
            parent[path[-1]] = marker
    text = json.dumps(doc)
    for marker, replacement in raw.items():
        text = text.replace(marker, replacement)
    data = text.encode("utf-8")
    if bytes_too and draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(0, len(data)))
        how = draw(st.sampled_from(["cut", "invalid utf-8", "byte"]))
        if how == "cut":
            data = data[:at]
        elif how == "invalid utf-8":
            invalid = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80"]))
            data = data[:at] + invalid + data[at:]
        else:
            data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    return data


# ------------------------------------------------------------------ the check
class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def expired(signum: int, frame: Any) -> None:
        raise Hang(f"the read took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def succeeds_or_names_the_document(read: Callable[[], Any], name: str) -> Any:
    """``read()``'s result, or None after a ValueError whose message is one line that starts
    with ``name``; any other exception fails the test."""
    try:
        with time_limit(TIME_LIMIT):
            result = read()
    except ValueError as err:
        text = str(err)
        assert text.startswith(f"{name}: "), text
        assert "\n" not in text, text
        # what went wrong, for --hypothesis-show-statistics: "expected an object", ...
        event(text.rsplit(": ", 1)[-1].split(",")[0][:40])
        return None
    event("read")
    return result


def _touch_flat(results: Any) -> None:
    """Use what was loaded as a program would: a malformed value must fail at load time."""
    for rank in results if results and isinstance(results[0], list) else [results]:
        for r in rank:
            r.prefix(), r.label(), r.hierarchy(), r.depth(), r.data().get()
            s = r.stats()
            s.mean(), s.stddev(), s.count()


def _touch_trees(trees: Any) -> None:
    stack = list(trees if not trees or not isinstance(trees[0], list) else sum(trees, []))
    while stack:
        tree = stack.pop()
        value = tree.value()
        value.prefix(), value.tid(), value.is_dummy(), value.depth()
        value.inclusive().data().get(), value.exclusive().stats().stddev()
        stack.extend(tree.children())


# ------------------------------------------------------------------ the readers
def _write(tmp_path_factory: Any, name: str, data: bytes) -> str:
    path = tmp_path_factory.getbasetemp() / "fuzz"
    path.mkdir(exist_ok=True)
    path = path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(
    ("document", "component"),
    [("wall", "wall_clock"), ("peak", "current_peak_rss")],
)
def test_storage_flat_readers(documents, tmp_path_factory, document, component):
    storage = storage_class(component)
    original = load(documents[document])

    @FUZZ
    @given(data=st.data())
    def check(data: Any) -> None:
        path = _write(tmp_path_factory, f"{document}.json", data.draw(mutated(original)))
        loaded = succeeds_or_names_the_document(lambda: storage.load_json_dmp(path), path)
        if loaded is not None:
            _touch_flat(loaded)
        succeeds_or_names_the_document(lambda: storage.load(path), path)

    check()


@pytest.mark.parametrize(
    ("document", "component"),
    [("wall_tree", "wall_clock"), ("peak_tree", "current_peak_rss")],
)
def test_storage_tree_readers(documents, tmp_path_factory, document, component):
    storage = storage_class(component)
    original = load(documents[document])

    @FUZZ
    @given(data=st.data())
    def check(data: Any) -> None:
        path = _write(tmp_path_factory, f"{document}.json", data.draw(mutated(original)))
        loaded = succeeds_or_names_the_document(lambda: storage.load_json_tree_dmp(path), path)
        if loaded is not None:
            _touch_trees(loaded)
        succeeds_or_names_the_document(lambda: storage.load(path), path)

    check()


@pytest.mark.parametrize("document", ["wall", "peak"])
def test_plotting_reader(documents, tmp_path_factory, document):
    original = load(documents[document])

    @FUZZ
    @given(data=st.data())
    def check(data: Any) -> None:
        path = _write(tmp_path_factory, f"{document}.json", data.draw(mutated(original)))
        components = succeeds_or_names_the_document(lambda: read_file(path), path)
        for component in components or []:
            for _, nodes in component.ranks:
                assert all(len(n.values) == len(component.types) for n in nodes)

    check()


def test_plotting_rank_reader(documents):
    """``timemory.plotting.read`` takes one rank of a loaded document (no file to name): it
    raises ValueError or succeeds."""
    original = load(documents["peak"])["timemory"]["current_peak_rss"]["ranks"][0]

    @FUZZ
    @given(data=st.data())
    def check(data: Any) -> None:
        rank = json.loads(data.draw(mutated(original, bytes_too=False)))
        try:
            with time_limit(TIME_LIMIT):
                read_rank(rank).component()
        except ValueError:
            pass

    check()


@pytest.mark.parametrize("which", ["op", "ai"])
def test_roofline_reader(documents, tmp_path_factory, which):
    """Each file mutated in turn, the other one kept: ``load`` and what the plot computes from
    the pair (the regions' points and the ceilings)."""
    original = load(documents[f"roofline_{which}"])
    other = str(documents["roofline_ai" if which == "op" else "roofline_op"])

    @FUZZ
    @given(data=st.data())
    def check(data: Any) -> None:
        path = _write(tmp_path_factory, f"{which}.json", data.draw(mutated(original)))
        if succeeds_or_names_the_document(lambda: roofline.load(path), path) is None:
            return
        ai, op = (other, path) if which == "op" else (path, other)
        try:
            with time_limit(TIME_LIMIT):
                points = roofline.hotspots(ai, op)
                ceilings = roofline._ceilings(roofline.load(ai), roofline.load(op))
        except roofline.RooflineError:
            return  # a pair that cannot be drawn (no such column, other regions, no ERT)
        for point in points:
            assert point["intensity"] > 0 and point["gflops"] > 0
        for figures in (ceilings["peak"], ceilings["bandwidth"]):
            assert all(0 <= v < float("inf") for v in figures.values())

    check()


# ------------------------------------------------------------------ drawing what was read
# Numbers a document may hold that a chart cannot draw as they are.
EXTREME = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1e100, -1e100, 1e-100, 5e-324, 1e30, 1e-30, 2**63, 1e308]),
)
DRAWS = settings(FUZZ, max_examples=12)


@st.composite
def numbers_changed(draw: Any, doc: Any) -> bytes:
    """``doc`` with one to three of its numbers changed (its shape kept: it reads)."""
    doc = copy.deepcopy(doc)
    paths = [p for p in _paths(doc) if p]
    numbers = [p for p in paths if isinstance(_parent(doc, p)[p[-1]], (int, float))]
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(numbers))
        _parent(doc, path)[path[-1]] = draw(EXTREME)
    return json.dumps(doc).encode()


def test_plotting_draws_what_it_reads_or_says_why(documents, tmp_path_factory):
    """The command line in-process on documents that read: an image or one error line, never
    an exception from the drawing."""
    pytest.importorskip("matplotlib")
    from timemory import plotting

    original = load(documents["peak"])
    out = str(tmp_path_factory.mktemp("fuzz-images"))

    @DRAWS
    @given(data=st.data())
    def check(data: Any) -> None:
        path = _write(tmp_path_factory, "peak.json", data.draw(numbers_changed(original)))
        options = data.draw(st.sampled_from([[], ["--log-x"], ["-T"]]))
        argv = ["-f", path, "-o", out, "--min-percent", "0", *options]
        with time_limit(TIME_LIMIT):
            assert plotting.embedded_plot(argv).status in (0, 2)

    check()


def test_roofline_draws_what_it_reads_or_says_why(documents, tmp_path_factory):
    pytest.importorskip("matplotlib")
    from timemory.roofline.__main__ import main

    original = load(documents["roofline_op"])
    ai = str(documents["roofline_ai"])
    out = str(tmp_path_factory.mktemp("fuzz-rooflines"))

    @DRAWS
    @given(data=st.data())
    def check(data: Any) -> None:
        path = _write(tmp_path_factory, "op.json", data.draw(numbers_changed(original)))
        argv = ["-ai", ai, "-op", path, "-D", out, "-b", "l1", "l2", "l3", "dram"]
        argv += ["-P", "400", "300", "50"]
        with time_limit(TIME_LIMIT):
            assert main(argv) in (0, 2)

    check()
