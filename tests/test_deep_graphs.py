"""Call graphs far deeper than recursion allows (regions pushed 100,000 deep, recursion under
markers and under the profiler): every walk of the graph (snapshot, writers, packing, loaders)
uses its own stack, so the program ends normally with valid files, and the files grow linearly
with the depth (labels show 32 levels of indentation, then the depth as a number)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from tool_helpers import clean_env, run_tool, write

MAX_DEPTH = 65535  # settings.max_depth's default and largest value

DEEP_REGIONS = """
    import sys
    from timemory import region
    n = int(sys.argv[1])
    for _ in range(n):
        region.push("x")
"""


def _run(script: Path, *args: str, timeout: float = 600):
    import subprocess

    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=script.parent,
        # every row of the text table: its size and frame at depth are what is checked
        env=clean_env({"TIMEMORY_COUT_OUTPUT": "OFF", "TIMEMORY_TEXT_MAX_ROWS": "0"}),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _files(folder: Path) -> dict[str, Path]:
    return {p.name: p for p in folder.iterdir()}


def _flat_graph(path: Path) -> list[dict]:
    data = json.loads(path.read_text())
    (component,) = data["timemory"].values()
    return component["ranks"][0]["graph"]


def test_regions_100k_deep_write_valid_files(tmp_path):
    script = write(tmp_path / "deep.py", DEEP_REGIONS)
    proc = _run(script, "100000")
    assert proc.returncode == 0, proc.stderr[-2000:]
    files = _files(tmp_path / "timemory-deep-output")
    assert {"wall.json", "wall.tree.json", "wall.flamegraph.json", "wall.txt"} <= set(files)
    # max_depth (at most 65,535, a 16-bit setting as in the reference) cuts the rest off;
    # the native writers are tested 200,000 levels deep in tests/native
    graph = _flat_graph(files["wall.json"])
    assert len(graph) == MAX_DEPTH
    assert [g["depth"] for g in graph[:3]] == [0, 1, 2]
    assert graph[-1]["depth"] == MAX_DEPTH - 1
    assert graph[-1]["prefix"] == ">>> " + " " * 62 + f"|_[depth {MAX_DEPTH - 1}] x"
    assert graph[32]["prefix"] == ">>> " + " " * 62 + "|_x"
    assert graph[31]["prefix"] == ">>> " + " " * 60 + "|_x"
    flame = json.loads(files["wall.flamegraph.json"].read_text())
    assert len(flame["traceEvents"]) == MAX_DEPTH
    # the tree file nests 100,000 levels: checked for balance here (Python's json module
    # cannot read it at this depth, see test_loading_a_too_deep_tree_says_so)
    text = files["wall.tree.json"].read_text()
    assert text.count('{"node":') == MAX_DEPTH + 1  # with the dummy root
    assert text.count("[") == text.count("]") and text.count("{") == text.count("}")
    table = files["wall.txt"].read_text().splitlines()
    assert sum("|_[depth " in line for line in table) == MAX_DEPTH - 33  # rows past 32 levels
    assert len({len(line) for line in table}) == 1  # one frame width


def test_output_size_is_linear_in_depth(tmp_path):
    sizes = {}
    for n in (2000, 20000):
        folder = tmp_path / str(n)
        script = write(folder / "deep.py", DEEP_REGIONS)
        proc = _run(script, str(n))
        assert proc.returncode == 0, proc.stderr[-2000:]
        files = _files(folder / "timemory-deep-output")
        sizes[n] = {name: files[name].stat().st_size for name in files if name.startswith("wall")}
    for name, small in sizes[2000].items():
        # ten times the depth: about ten times the bytes (quadratic would be a hundred)
        assert 9 <= sizes[20000][name] / small <= 11, (name, small, sizes[20000][name])


def test_tree_json_round_trips_at_moderate_depth(tmp_path):
    # deep enough to need the iterative paths, shallow enough for Python's json module
    script = write(
        tmp_path / "mid.py",
        DEEP_REGIONS
        + """
    import timemory
    from timemory.storage import WallClockStorage as S
    trees = S.get_tree()
    sys.setrecursionlimit(50000)
    again = S.load_json_tree(S.dumps(trees))
    node, depth = again[0], 0
    while node.children():
        (node,) = node.children()
        depth += 1
    assert node.value().depth() == n - 1, node.value().depth()
    print("depth", depth)
""",
    )
    proc = _run(script, "3000")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "depth 3000" in proc.stdout.splitlines()


def test_loading_a_too_deep_tree_says_so(tmp_path):
    script = write(tmp_path / "deep.py", DEEP_REGIONS)
    assert _run(script, "5000").returncode == 0
    tree = tmp_path / "timemory-deep-output" / "wall.tree.json"
    loader = write(
        tmp_path / "load.py",
        """
        import sys
        from timemory.storage import WallClockStorage as S
        try:
            S.load_json_tree(sys.argv[1])
        except ValueError as err:
            print(err)
        """,
    )
    proc = _run(loader, str(tree))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "nested deeper than Python's JSON reader can go" in proc.stdout
    assert "<label>.json" in proc.stdout


RECURSIVE = """
    import sys, threading
    {setup}
    sys.setrecursionlimit(1_000_000)
    threading.stack_size(1 << 30)  # the recursion itself needs room: run it in a big thread

    {decorator}
    def down(n):
        return 0 if n == 0 else down(n - 1) + 1

    t = threading.Thread(target=lambda: print(down(int(sys.argv[1]))))
    t.start()
    t.join()
"""


# Python 3.12 and later bound calls made through C (the marker decorator is native) by a C
# recursion limit whatever sys.setrecursionlimit says: about 750 decorated levels on 3.12 and
# 4,500 on 3.13 end in Python's RecursionError, timemory or not.
MARKER_DEPTH = 20000 if sys.version_info < (3, 12) else 700 if sys.version_info < (3, 13) else 4000


@pytest.mark.parametrize("depth", [MARKER_DEPTH])
def test_recursion_under_marker(tmp_path, depth):
    source = RECURSIVE.format(
        setup="from timemory.bundle import marker\n    import timemory\n"
        "    timemory.settings.collapse_threads = True",
        decorator='@marker(["wall_clock"])',
    )
    script = write(tmp_path / "rec.py", source)
    proc = _run(script, str(depth))
    assert proc.returncode == 0, proc.stderr[-2000:]
    # the program's output alone: timemory's lines go to stderr
    assert proc.stdout.split() == [str(depth)], proc.stderr[-2000:]
    graph = _flat_graph(tmp_path / "timemory-rec-output" / "wall.json")
    assert len(graph) == depth + 1
    assert max(g["depth"] for g in graph) == depth
    json.loads((tmp_path / "timemory-rec-output" / "wall.flamegraph.json").read_text())


def test_recursion_under_profiler(tmp_path):
    depth = 20000
    source = RECURSIVE.format(setup="", decorator="")
    write(tmp_path / "rec.py", source)
    proc = run_tool(
        "timemory.profiler",
        "-c",
        "wall_clock",
        "--",
        "rec.py",
        str(depth),
        cwd=tmp_path,
        env={"TIMEMORY_COUT_OUTPUT": "OFF"},
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    outputs = list(tmp_path.rglob("wall.json"))
    assert outputs, proc.stderr[-2000:]
    graph = _flat_graph(outputs[0])
    assert max(g["depth"] for g in graph) >= depth
    for name in ("wall.flamegraph.json",):
        for path in tmp_path.rglob(name):
            json.loads(path.read_text())
