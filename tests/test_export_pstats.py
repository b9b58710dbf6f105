"""The pstats export: the file pstats.Stats, snakeviz and gprof2dot read, with cProfile's counts.

In-process with the fake clock, the same program is profiled by timemory and by cProfile (with
the fake clock as its timer) and the two stats dicts are compared function by function: keys
(the real file and first line), primitive and total calls, self and cumulative time, callers.
A subprocess runs the profiler as users do and the saved folder is exported later.
"""

from __future__ import annotations

import cProfile
import json
import marshal
import math
import os
import pstats
import subprocess
import sys
import threading
import types
from pathlib import Path

import pytest
import timemory
from timemory import _core
from timemory._output._pstats import make_pstats, time_component, timer_names
from timemory.profiler import profile

HERE = os.path.abspath(__file__)
MS = 1_000_000  # ns


# a C function: its time is its caller's self time (the profiler and cProfile here record no
# C calls), as a Python helper's would not be
advance = _core._test_clock_advance


# ------------------------------------------------------------------ the profiled program
def fib(n: int) -> int:
    advance(MS, 0)
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def is_even(n: int) -> bool:
    advance(MS, 0)
    return True if n == 0 else is_odd(n - 1)


def is_odd(n: int) -> bool:
    advance(2 * MS, 0)
    return False if n == 0 else is_even(n - 1)


def leaf() -> None:
    advance(3 * MS, 0)


def parent_a() -> None:
    advance(MS, 0)
    leaf()


def parent_b() -> None:
    advance(MS, 0)
    leaf()
    leaf()


def program() -> None:
    fib(6)
    is_even(5)
    parent_a()
    parent_b()
    parent_b()


def index(name: str) -> int:
    return _core.find_component(name)


def live_source(*names: str) -> types.SimpleNamespace:
    indices = [index(n) for n in names]
    return types.SimpleNamespace(indices=indices, native=indices, rank=0, copy=False)


def ours(stats: dict) -> dict:
    """The entries of this file's functions, with the callers of this file only."""
    out = {}
    for key, (cc, nc, tt, ct, callers) in stats.items():
        if key[0] == HERE:
            mine = {k: v for k, v in callers.items() if k[0] == HERE}
            out[key] = (cc, nc, tt, ct, mine)
    return out


def assert_same(got: dict, expected: dict) -> None:
    assert set(got) == set(expected)
    for key, (cc, nc, tt, ct, callers) in expected.items():
        g_cc, g_nc, g_tt, g_ct, g_callers = got[key]
        assert (g_cc, g_nc) == (cc, nc), key
        assert g_tt == pytest.approx(tt, abs=1e-9), key
        assert g_ct == pytest.approx(ct, abs=1e-9), key
        assert set(g_callers) == set(callers), key
        for caller, (c_nc, c_cc, c_tt, c_ct) in callers.items():
            got_edge = g_callers[caller]
            assert got_edge[:2] == (c_nc, c_cc), (key, caller)
            assert got_edge[2:] == pytest.approx((c_tt, c_ct), abs=1e-9), (key, caller)


def cprofile_stats() -> dict:
    """cProfile's stats dict of program() with the fake clock as its timer."""
    prof = cProfile.Profile(lambda: _core._test_clock_state()[1], 1e-9, builtins=False)
    prof.enable()
    program()
    prof.disable()
    prof.create_stats()
    return prof.stats


def timemory_stats(components: tuple[str, ...] = ("wall_clock",)) -> dict:
    with profile(list(components)):
        program()
    data = make_pstats(live_source(*components))
    assert isinstance(data, bytes)
    return marshal.loads(data)


def code_key(f: types.FunctionType) -> tuple[str, int, str]:
    return (f.__code__.co_filename, f.__code__.co_firstlineno, f.__code__.co_name)


# ------------------------------------------------------------------ in-process, exact
def test_stats_equal_cprofile_on_the_same_program(fake_clock):
    expected = ours(cprofile_stats())
    assert {code_key(f) for f in (fib, is_even, is_odd, leaf, parent_a, parent_b)} <= set(expected)
    assert expected[code_key(fib)][2] == pytest.approx(0.025)  # the fake clock is cProfile's timer
    timemory.clear()
    got = ours(timemory_stats())
    assert_same(got, expected)


def test_recursion_counts_as_cprofile_counts_it(fake_clock):
    stats = timemory_stats()
    cc, nc, tt, ct, callers = stats[code_key(fib)]
    # fib(6): 25 calls, one of them primitive; 1 ms each, all of it self time
    assert (cc, nc) == (1, 25)
    assert tt == pytest.approx(0.025) and ct == pytest.approx(0.025)
    # from program() once; from itself 24 times, 2 of them primitive on that edge (fib(5) and
    # fib(4) of the outermost call), whose inclusive time is the 24 ms below the outermost
    assert callers[code_key(program)] == pytest.approx((1, 1, 0.001, 0.025))
    assert callers[code_key(fib)] == pytest.approx((24, 2, 0.024, 0.024))
    # mutual recursion: is_even(5) -> is_odd(4) -> ... -> is_odd(0)
    even, odd = stats[code_key(is_even)], stats[code_key(is_odd)]
    assert (even[0], even[1], odd[0], odd[1]) == (1, 3, 1, 3)
    assert even[2] == pytest.approx(0.003) and odd[2] == pytest.approx(0.006)
    assert even[3] == pytest.approx(0.009) and odd[3] == pytest.approx(0.008)
    # a function called from two parents: one entry, one caller each
    cc, nc, tt, ct, callers = stats[code_key(leaf)]
    assert (cc, nc, tt, ct) == pytest.approx((5, 5, 0.015, 0.015))
    assert callers[code_key(parent_a)] == pytest.approx((1, 1, 0.003, 0.003))
    assert callers[code_key(parent_b)] == pytest.approx((4, 4, 0.012, 0.012))


def test_pstats_stats_loads_the_file(fake_clock, tmp_path):
    with profile(["wall_clock"]):
        program()
    path = tmp_path / "run.prof"
    path.write_bytes(make_pstats(live_source("wall_clock")))
    st = pstats.Stats(str(path))
    assert st.total_calls >= 25 + 6 + 5 + 3
    # the file and first line of each function are the code's own
    funcs = {key[2]: key for key in st.stats}
    assert funcs["fib"] == code_key(fib)
    assert funcs["leaf"] == (HERE, leaf.__code__.co_firstlineno, "leaf")
    out = tmp_path / "printed.txt"
    with out.open("w") as stream:
        pstats.Stats(str(path), stream=stream).sort_stats("cumulative").print_stats()
    text = out.read_text()
    assert "25/1" in text and f"{os.path.basename(HERE)}:{fib.__code__.co_firstlineno}(fib)" in text


def test_threads_merge_into_one_function(fake_clock):
    with profile(["wall_clock"]):
        for _ in range(3):  # one after the other: the fake clock is one for every thread
            t = threading.Thread(target=parent_b)
            t.start()
            t.join()
    cc, nc, tt, ct, callers = marshal.loads(make_pstats(live_source("wall_clock")))[code_key(leaf)]
    assert (cc, nc) == (6, 6) and tt == pytest.approx(0.018)
    assert callers[code_key(parent_b)][:2] == (6, 6)


def test_arguments_in_labels_are_one_function(fake_clock):
    from timemory.profiler import config

    config.include_args = True
    try:
        with profile(["wall_clock"]):
            fib(4)
    finally:
        config.include_args = False
    stats = marshal.loads(make_pstats(live_source("wall_clock")))
    cc, nc, tt, ct, callers = stats[code_key(fib)]
    assert (cc, nc) == (1, 9) and ct == pytest.approx(0.009)
    assert callers[code_key(fib)][:2] == (8, 2)


def test_markers_and_c_functions_are_keyed_as_cprofile_keys_builtins(fake_clock):
    from timemory.bundle import marker
    from timemory.profiler import config

    config.trace_c = True
    try:
        with profile(["wall_clock"]):
            with marker(["wall_clock"], key="phase"):
                advance(5 * MS, 0)
                sorted([3, 1, 2])
    finally:
        config.trace_c = False
    stats = marshal.loads(make_pstats(live_source("wall_clock")))
    assert ("~", 0, "phase") in stats
    assert ("~", 0, "<built-in method builtins.sorted>") in stats
    assert stats[("~", 0, "phase")][2] == pytest.approx(0.005)


def c_calls() -> float:
    items: list[float] = []
    for k in range(3):
        items.append(math.sqrt(k))
    return sum(sorted(items)) + len(items)


def test_c_functions_have_cprofile_names_and_counts():
    from timemory.profiler import config

    prof = cProfile.Profile(builtins=True)
    prof.enable()
    c_calls()
    prof.disable()
    prof.create_stats()
    expected = {k: v[:2] for k, v in prof.stats.items() if k[0] == "~" and "disable" not in k[2]}
    assert ("~", 0, "<method 'append' of 'list' objects>") in expected
    assert ("~", 0, "<built-in method math.sqrt>") in expected
    config.trace_c = True
    try:
        with profile(["wall_clock"]):
            c_calls()
    finally:
        config.trace_c = False
    stats = marshal.loads(make_pstats(live_source("wall_clock")))
    # (the profiler also records the lock its stop() releases before the hook is off)
    got = {k: v[:2] for k, v in stats.items() if k in expected}
    assert got == expected
    assert stats[("~", 0, "<built-in method math.sqrt>")][4][code_key(c_calls)][:2] == (3, 3)


def test_the_time_component_is_wall_then_cpu_then_any_timer(capsys):
    assert time_component([index("peak_rss"), index("cpu_clock"), index("wall_clock")]) == index(
        "wall_clock"
    )
    assert time_component([index("peak_rss"), index("user_clock"), index("cpu_clock")]) == index(
        "cpu_clock"
    )
    assert time_component([index("peak_rss"), index("user_clock")]) == index("user_clock")
    assert time_component([index("peak_rss")]) is None
    assert {"wall_clock", "cpu_clock", "user_clock"} <= set(timer_names())
    assert "peak_rss" not in timer_names()


def test_no_timer_writes_nothing_and_says_which_can(capsys):
    with profile(["peak_rss"]):
        program_without_clock()
    assert make_pstats(live_source("peak_rss")) is None
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "pstats" in err[0] and "peak_rss" in err[0] and "wall_clock" in err[0]


def program_without_clock() -> int:
    return sum(range(100))


def test_cpu_clock_when_no_wall_clock(fake_clock):
    def busy() -> None:
        advance(500 * MS, 250 * MS)

    with profile(["cpu_clock", "peak_rss"]):
        busy()
    stats = marshal.loads(make_pstats(live_source("cpu_clock", "peak_rss")))
    (entry,) = [v for k, v in stats.items() if k[2] == "busy"]
    assert entry[2] == pytest.approx(0.25) and entry[3] == pytest.approx(0.25)


# ------------------------------------------------------------------ sources saved and read back
def test_functions_json_keeps_the_sources_beside_the_functions(fake_clock, tmp_path):
    with profile(["wall_clock"]):
        program()
    path = tmp_path / "functions.json"
    _core.write_functions_json(str(path), "\n")
    doc = json.loads(path.read_text())["timemory"]
    # the functions member is what it was: {label: [hash, ...]}
    functions: dict[str, list[int]] = {}
    for hash_id, label in _core.hash_ids():
        functions.setdefault(label, []).append(hash_id)
    assert doc["functions"] == functions
    sources = {h: (f, line, name) for h, f, line, name in doc["sources"]}
    assert code_key(fib) in sources.values()
    assert [list(s) for s in _core.hash_sources()] == doc["sources"]
    for h, source in sources.items():
        assert _core.hash_source(h) == source
    assert _core.add_hash_sources(doc["sources"]) == len(doc["sources"])


def test_add_hash_sources_rejects_what_is_not_a_source():
    for bad in (
        [[1, "f.py", 1]],
        [["1", "f.py", 1, "f"]],
        [[0, "f.py", 1, "f"]],
        [[5, "f", -1, "f"]],
        [7],
    ):
        with pytest.raises(ValueError, match=r"sources\[0\] is not \[hash, file, line, name\]"):
            _core.add_hash_sources(bad)
    assert _core.hash_source(12345678901) is None


def test_sources_read_back_replace_those_of_the_same_hash():
    # two scripts of one name in two folders: the same label and where, so the same hash;
    # the folder read back last is the one exported next
    hash_id = 0xFEEDFACE12345
    _core.add_hash_sources([[hash_id, "/first/script.py", 3, "f"]])
    _core.add_hash_sources([(hash_id, "/second/script.py", 4, "f")])
    assert _core.hash_source(hash_id) == ("/second/script.py", 4, "f")
    assert [hash_id, "/second/script.py", 4, "f"] in [list(s) for s in _core.hash_sources()]


def test_a_name_that_is_not_utf8_is_replaced_not_lost(fake_clock, tmp_path):
    # a hostile functions.json may hold lone surrogates: registered, read back and written
    # with U+FFFD where they were
    def odd() -> None:
        advance(MS, 0)

    with profile(["wall_clock"]):
        odd()
    (hash_id,) = [
        h for h, f, line, name in _core.hash_sources() if (f, line, name) == code_key(odd)
    ]
    _core.add_hash_sources([[hash_id, "bad\udcff.py", 7, "o\ud800dd"]])
    assert _core.hash_source(hash_id) == ("bad\ufffd.py", 7, "o\ufffddd")
    data = make_pstats(live_source("wall_clock"))
    stats = marshal.loads(data)
    assert ("bad\ufffd.py", 7, "o\ufffddd") in stats
    assert stats == _core.pstats_functions([index("wall_clock")], 0, False, index("wall_clock"))


def tree_source(folder: Path, name: str = "wall") -> types.SimpleNamespace:
    """The export source of a saved folder's tree JSON, with the sources of its functions.json
    registered (what timemory.storage.load_folder does)."""
    doc = json.loads((folder / "functions.json").read_text())["timemory"]
    _core.add_hash_sources(doc.get("sources", []))
    wall = index("wall_clock")
    from timemory.storage import WallClockStorage

    ranks = WallClockStorage.load_json_tree_dmp(str(folder / f"{name}.tree.json"))
    return types.SimpleNamespace(indices=[wall], native=[(wall, ranks)], rank=0, copy=False)


def test_a_saved_folder_gives_the_same_stats_as_live(fake_clock, tmp_path):
    from timemory.storage import WallClockStorage

    with profile(["wall_clock"]):
        program()
    live = marshal.loads(make_pstats(live_source("wall_clock")))
    # the files a run writes: the tree JSON and functions.json
    folder = tmp_path / "out"
    folder.mkdir()
    tree = WallClockStorage.dumps(WallClockStorage.dmp_get_tree())
    (folder / "wall.tree.json").write_text(json.dumps(tree))
    _core.write_functions_json(str(folder / "functions.json"), "\n")
    loaded = marshal.loads(make_pstats(tree_source(folder)))
    assert set(loaded) == set(live)
    assert_same(loaded, live)


def test_the_native_marshal_is_what_marshal_dumps_makes(fake_clock, tmp_path):
    from timemory.storage import WallClockStorage

    with profile(["wall_clock"]):
        program()
    wall = index("wall_clock")
    assert marshal.loads(_core.pstats_marshal([wall], 0, False, wall)) == _core.pstats_functions(
        [wall], 0, False, wall
    )
    # counts past 32 bits (marshal's long form) and times of any size, read back from a file
    tree = WallClockStorage.dumps(WallClockStorage.dmp_get_tree())

    def grow(node: dict) -> None:
        for kind in ("inclusive", "exclusive"):
            node["node"][kind]["entry"]["laps"] *= 3_000_000_000
        for child in node.get("children", []):
            grow(child)

    for root in tree["timemory"]["wall_clock"]["graph"][0]:
        grow(root)
    ranks = WallClockStorage.load_json_tree_dmp(tree)
    loaded = [(wall, ranks)]
    stats = _core.pstats_functions(loaded, 0, False, wall)
    assert stats[code_key(fib)][:2] == (3_000_000_000, 25 * 3_000_000_000)
    assert marshal.loads(_core.pstats_marshal(loaded, 0, False, wall)) == stats


def test_stream_pstats_writes_the_same_file(fake_clock, tmp_path):
    from timemory._output._pstats import stream_pstats

    with profile(["wall_clock"]):
        program()
    src = live_source("wall_clock")
    write = stream_pstats(src)
    assert write is not None
    write(str(tmp_path / "run.prof"))
    assert (tmp_path / "run.prof").read_bytes() == make_pstats(src)
    (tmp_path / "file").write_text("")
    with pytest.raises(OSError, match="file"):
        write(str(tmp_path / "file" / "run.prof"))
    assert stream_pstats(live_source("peak_rss")) is None


def test_time_index_must_be_a_timer_of_the_source():
    wall, rss = index("wall_clock"), index("peak_rss")
    with pytest.raises(ValueError, match="not a component of the source"):
        _core.pstats_functions([wall], 0, False, rss)
    with pytest.raises(ValueError, match="peak_rss is not a timer"):
        _core.pstats_marshal([wall, rss], 0, False, rss)


# ------------------------------------------------------------------ as users run it
SCRIPT = """\
import time


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def main():
    for _ in range(3):
        fib(12)


main()
"""


def run_profiler(tmp_path: Path) -> tuple[Path, Path]:
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "timemory.profiler",
            "-c",
            "wall_clock",
            "-d",
            str(out),
            "--",
            str(script),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    folders = [p.parent for p in out.rglob("functions.json")]
    assert len(folders) == 1, list(out.rglob("*"))
    return script, folders[0]


def test_a_profiled_script_exported_from_its_folder(tmp_path):
    script, folder = run_profiler(tmp_path)
    stats_file = tmp_path / "run.prof"
    stats_file.write_bytes(make_pstats(tree_source(folder)))
    st = pstats.Stats(str(stats_file))
    fib_key = (str(script), 4, "fib")
    main_key = (str(script), 8, "main")
    assert fib_key in st.stats and main_key in st.stats
    cc, nc, tt, ct, callers = st.stats[fib_key]
    # 3 outermost calls of fib(12), 465 calls each
    assert (cc, nc) == (3, 3 * 465)
    assert callers[main_key][:2] == (3, 3)
    assert callers[fib_key][:2] == (3 * 464, 3 * 2)
    assert 0 < tt <= ct + 1e-9
    assert st.stats[main_key][3] >= ct - 1e-9  # main's cumulative time holds fib's
    assert (str(script), 1, "<module>") in st.stats


def test_gprof2dot_parses_it(tmp_path):
    pytest.importorskip("gprof2dot")  # in the test extra
    script, folder = run_profiler(tmp_path)
    stats_file = tmp_path / "run.prof"
    stats_file.write_bytes(make_pstats(tree_source(folder)))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gprof2dot",
            "-f",
            "pstats",
            "--node-thres",
            "0",
            "--edge-thres",
            "0",
            str(stats_file),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    dot = proc.stdout
    assert dot.startswith("digraph")
    assert "script:4:fib" in dot and "script:8:main" in dot
    assert "->" in dot
