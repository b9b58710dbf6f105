"""A call-graph node of the function profiler is a function, not a name: two functions with
the same name are two nodes everywhere (storage, trees, JSON, text, hatchet, merges of several
processes), shown as ``name [file:line]`` only where they would otherwise share a label."""

from __future__ import annotations

import importlib
import json
import re
import sys
import types

import pytest
import timemory
from timemory import _core
from timemory.bundle import marker
from timemory.profiler import Config, config, profile
from timemory.storage import WallClockStorage
from timemory.trace import Config as TraceConfig
from timemory.trace import trace
from tool_helpers import run_tool, write

PARSE = """\
def parse(n):
    return n + 1
"""

# two classes of one file with a method of the same name, on different lines
METHODS = """\
class A:
    def run(self):
        return 1


class B:
    def run(self):
        return 2
"""


@pytest.fixture(autouse=True)
def _fresh_config():
    Config.reset()
    TraceConfig.reset()
    yield
    Config.reset()
    TraceConfig.reset()


@pytest.fixture
def modules(tmp_path, monkeypatch):
    """Imports a.py and b.py (each defining ``parse`` on line 1) and m.py (classes A and B,
    each with ``run``) from a fresh folder on sys.path."""
    for name, text in (("a", PARSE), ("b", PARSE), ("m", METHODS)):
        (tmp_path / f"{name}.py").write_text(text)
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    mods = {name: importlib.import_module(name) for name in ("a", "b", "m")}
    yield mods
    for name in mods:
        sys.modules.pop(name, None)


def flat_laps(component: str = "wall_clock") -> dict[str, int]:
    """label -> laps over the flat view (every node of that label)."""
    out: dict[str, int] = {}
    for e in WallClockStorage.get():
        out[e.label()] = out.get(e.label(), 0) + e.data().laps()
    return out


def tree_labels(tree_json: dict) -> list[tuple[int, str, int]]:
    """(depth, label, laps) in pre-order of the first rank's tree JSON."""
    out: list[tuple[int, str, int]] = []

    def walk(node: dict, depth: int) -> None:
        out.append((depth, node["node"]["prefix"], node["node"]["inclusive"]["entry"]["laps"]))
        for child in node.get("children", []):
            walk(child, depth + 1)

    for root in tree_json["timemory"]["wall_clock"]["graph"][0]:
        for child in root.get("children", []):
            walk(child, 0)
    return out


def run_parses(mods, na: int = 3, nb: int = 5) -> None:
    with profile(["wall_clock"]):
        for _ in range(na):
            mods["a"].parse(1)
        for _ in range(nb):
            mods["b"].parse(1)


def test_same_named_functions_of_two_files_are_two_nodes(modules):
    run_parses(modules)
    laps = flat_laps()
    assert laps["parse [a, line 1]"] == 3
    assert laps["parse [b, line 1]"] == 5
    assert "parse" not in laps
    results = [e for e in WallClockStorage.get() if e.label().startswith("parse")]
    assert len({e.hash() for e in results}) == 2
    # the decorated label of the flat view carries the same label
    assert {e.prefix().split(">>> ")[-1].lstrip("|_") for e in results} == {
        "parse [a, line 1]",
        "parse [b, line 1]",
    }


def test_labels_in_the_json_the_tree_and_the_text(modules, tmp_path):
    run_parses(modules)
    flat = timemory.get()["timemory"]["wall_clock"]["ranks"][0]["graph"]
    by_prefix = {e["prefix"]: e["entry"]["laps"] for e in flat}
    assert by_prefix[">>> parse [a, line 1]"] == 3
    assert by_prefix[">>> parse [b, line 1]"] == 5
    tree = tree_labels(timemory.get(hierarchy=True))
    assert (0, "parse [a, line 1]", 3) in tree and (0, "parse [b, line 1]", 5) in tree
    assert not [t for t in tree if t[1] == "parse"]
    out = tmp_path / "out"
    timemory.report(str(out))
    text = (out / "wall.txt").read_text()
    assert re.search(r">>> parse \[a, line 1\] +\|", text), text
    assert re.search(r">>> parse \[b, line 1\] +\|", text), text
    assert not re.search(r">>> parse +\|", text), text
    written = json.loads((out / "wall.json").read_text())
    prefixes = [e["prefix"] for e in written["timemory"]["wall_clock"]["ranks"][0]["graph"]]
    assert ">>> parse [a, line 1]" in prefixes and ">>> parse [b, line 1]" in prefixes
    written_tree = json.loads((out / "wall.tree.json").read_text())
    assert (0, "parse [a, line 1]", 3) in tree_labels(written_tree)


def test_hatchet_reads_two_nodes(modules):
    """hatchet keys a node by its name under its parent: the labels must keep the two apart
    (a ``dir/file:line`` suffix would be read as a file and line, and the name before it
    merged)."""
    hatchet = pytest.importorskip("hatchet")
    run_parses(modules)
    gf = hatchet.GraphFrame.from_timemory(timemory.get(hierarchy=True))
    df = gf.dataframe.set_index("name")
    assert df.index.is_unique
    assert df.loc["parse [a, line 1]", "count"] == 3
    assert df.loc["parse [b, line 1]", "count"] == 5
    assert "parse" not in df.index


def test_dumps_and_load_round_trip_keep_identity(modules):
    run_parses(modules)
    got = WallClockStorage.get()
    loaded = WallClockStorage.load(WallClockStorage.dumps(got))
    assert [(e.label(), e.hash(), e.data().laps()) for e in loaded] == [
        (e.label(), e.hash(), e.data().laps()) for e in got
    ]
    tree = WallClockStorage.get_tree()
    loaded_tree = WallClockStorage.load(WallClockStorage.dumps(tree))

    def rows(roots):
        out = []
        stack = list(roots)
        while stack:
            t = stack.pop()
            out.append((t.value().prefix(), t.value().hash(), t.value().inclusive().data().laps()))
            stack.extend(t.children())
        return sorted(out)

    assert rows(loaded_tree) == rows(tree)


def test_processes_merge_by_identity_and_disambiguate_what_meets():
    """Each process shows its own labels (one parse each: no suffix); the merge of the two
    keeps two nodes and labels them apart, as the summary across processes does."""
    index = WallClockStorage._index
    # two processes simulated: what one packs, measured and then cleared, then the other; the
    # files lie on no sys.path entry (their last three path parts are shown)
    packed = []
    for name, count in (("pa", 2), ("pb", 4)):
        mod = types.ModuleType(name)
        exec(compile(PARSE, f"/srv/proc/{name}.py", "exec"), mod.__dict__)
        with profile(["wall_clock"]):
            for _ in range(count):
                mod.parse(0)
        packed.append(bytes(_core.pack_flat_snapshot(index)))
        assert [e.label() for e in WallClockStorage.get()] == ["parse"]
        timemory.clear()
    alone = WallClockStorage._result._list(_core.unpack_flat(index, packed[0]))
    assert [(e.label(), e.data().laps()) for e in alone] == [("parse", 2)]
    merged = WallClockStorage._result._list(_core.merge_packed_flat(index, packed))
    got = {e.label(): e.data().laps() for e in merged}
    assert got == {"parse [srv.proc.pa, line 1]": 2, "parse [srv.proc.pb, line 1]": 4}
    assert [e.prefix() for e in merged] == [">>> " + e.label() for e in merged]
    summary = _core.summarize_packed_flat(index, packed)
    assert sorted(r.label for r in summary) == sorted(got)
    # the same process twice merges by identity: one node with the counts added
    twice = WallClockStorage._result._list(_core.merge_packed_flat(index, [packed[0]] * 2))
    assert [(e.label(), e.data().laps()) for e in twice] == [("parse", 4)]


def test_pool_workers_merge_by_identity(tmp_path):
    """Pool workers each run both parse functions; the parent's merged output has one node
    per function with every worker's calls."""
    write(tmp_path / "a.py", PARSE)
    write(tmp_path / "b.py", PARSE)
    write(
        tmp_path / "work.py",
        """
        import multiprocessing as mp
        import a, b

        def task(i):
            return (a.parse if i % 2 else b.parse)(i)

        if __name__ == "__main__":
            with mp.get_context("fork").Pool(2) as pool:
                print(sum(pool.map(task, range(10), chunksize=1)))
        """,
    )
    proc = run_tool("timemory.profiler", "-c", "wall_clock", "--", "work.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    flat = json.loads((tmp_path / "timemory-work-output/wall.json").read_text())
    graph = flat["timemory"]["wall_clock"]["ranks"][0]["graph"]
    counts: dict[str, int] = {}
    for e in graph:
        label = e["prefix"].split("|_")[-1]
        counts[label] = counts.get(label, 0) + e["stats"]["count"]
    assert counts.get("parse [a, line 1]") == 5, sorted(counts)
    assert counts.get("parse [b, line 1]") == 5, sorted(counts)
    assert "parse" not in counts


def test_one_function_called_from_two_places_keeps_one_label(modules):
    a = modules["a"]

    def site_one():
        return a.parse(1)

    def site_two():
        return a.parse(1) + a.parse(2)

    with profile(["wall_clock"]):
        site_one()
        site_two()
    tree = tree_labels(timemory.get(hierarchy=True))
    parses = [(d, lab, n) for d, lab, n in tree if lab.startswith("parse")]
    # two nodes (one per caller), one label without a suffix: a single function
    assert parses == [(1, "parse", 1), (1, "parse", 2)]


def test_same_named_methods_of_one_file_are_distinct(modules):
    m = modules["m"]
    with profile(["wall_clock"]):
        m.A().run()
        m.B().run()
        m.B().run()
    laps = flat_laps()
    assert laps["run [m, line 2]"] == 1
    assert laps["run [m, line 7]"] == 2
    assert "run" not in laps


def test_a_unique_name_has_no_suffix(modules):
    with profile(["wall_clock"]):
        modules["a"].parse(1)
        modules["m"].A().run()
    assert flat_laps() == {"parse": 1, "run": 1}


def test_a_marker_of_the_same_name_keeps_its_label(modules):
    """Markers and regions are named by the user: same name, same node; a function of that
    name is told apart from them."""
    with profile(["wall_clock"]):
        modules["a"].parse(1)
    for _ in range(2):
        with marker(["wall_clock"], key="parse"):
            pass
    assert flat_laps() == {"parse [a, line 1]": 1, "parse": 2}


def test_labels_that_name_the_file_and_line_need_no_suffix(modules):
    config.include_filename = True
    config.include_line = True
    run_parses(modules, 1, 2)
    assert flat_laps() == {"[parse][a.py:1]": 1, "[parse][b.py:1]": 2}


def test_include_args_labels_stay_per_function(modules):
    config.include_args = True
    run_parses(modules, 1, 1)
    assert flat_laps() == {"parse(n=1) [a, line 1]": 1, "parse(n=1) [b, line 1]": 1}


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def test_recursion_is_one_function(modules):
    with profile(["wall_clock"]):
        fib(10)
    tree = tree_labels(timemory.get(hierarchy=True))
    assert {lab for _, lab, _ in tree} == {"fib"}
    assert sum(n for _, _, n in tree) == 177  # fib(10) makes 177 calls
    assert max(d for d, _, _ in tree) == 9


def test_tracer_line_labels_are_unchanged(modules):
    """The tracer labels lines with their function, file and line already: no suffix, and
    the same-named functions of two files are two sets of lines."""
    with trace(["wall_clock"]):
        modules["a"].parse(1)
        modules["b"].parse(1)
    labels = [e.label() for e in WallClockStorage.get()]
    line = re.compile(r"^ *return n \+ 1 +\[parse\]\[(a|b)\.py:2\]$")
    body = [lab for lab in labels if "return n + 1" in lab]
    assert len(body) == 2 and all(line.match(lab) for lab in body), labels


def test_short_module_names_the_file_from_its_sys_path_entry(tmp_path, monkeypatch):
    from timemory.profiler._config import short_module

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [str(tmp_path / "lib"), str(tmp_path / "lib" / "site")])
    lib = tmp_path / "lib"
    assert short_module(str(lib / "site" / "pkg" / "core" / "basic.py")) == "pkg.core.basic"
    assert short_module(str(lib / "pkg" / "__init__.py")) == "pkg.__init__"
    assert short_module(str(lib / "templates" / "page.html")) == "templates.page.html"
    # on no sys.path entry: from the current directory, else the last three parts
    assert short_module(str(tmp_path / "tools" / "run.py")) == "tools.run"
    assert short_module("/elsewhere/x/y/z.py") == "x.y.z"
    assert short_module("<string>") == "<string>"
