"""Call graphs keyed by call path: one repeat (Graph), the repeats of a run (Table)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from timemory.runs import RunsError, Table, read_folder
from timemory.runs._graph import Graph

SCRIPT = """
import threading
from timemory.bundle import marker

def work():
    with marker(["wall_clock", "peak_rss"], key="outer"):
        with marker(["wall_clock", "peak_rss"], key="inner"):
            pass
        with marker(["wall_clock", "peak_rss"], key="inner"):
            pass

work()
t = threading.Thread(target=work)
t.start()
t.join()
"""


def _run(tmp_path, name, extra_env=None):
    script = tmp_path / "prog.py"
    script.write_text(SCRIPT)
    out = tmp_path / name
    env = {"TIMEMORY_OUTPUT_PATH": str(out), "TIMEMORY_COLLAPSE_THREADS": "OFF"}
    import os

    env = {**os.environ, **env, **(extra_env or {})}
    subprocess.run(
        [sys.executable, str(script)], env=env, check=True, timeout=120, capture_output=True
    )
    return out


def test_read_folder_sums_threads_per_call_path(tmp_path):
    graph = read_folder(_run(tmp_path, "out"))
    assert set(graph.components) == {"wall_clock", "peak_rss"}
    assert graph.units["wall_clock"] == "ns"
    assert graph.paths == [("outer",), ("outer", "inner")]
    count = graph.values["wall_clock"]["count"]
    # two threads, each: outer once, inner twice
    assert count.tolist() == [2.0, 4.0]
    inc = graph.values["wall_clock"]["inclusive"]
    assert inc[0] >= inc[1] > 0
    self_ = graph.values["wall_clock"]["self"]
    assert self_[0] == pytest.approx(inc[0] - inc[1], rel=1e-9, abs=1e-6)


def test_read_folder_picks_components_and_reports_bad_folders(tmp_path):
    out = _run(tmp_path, "out")
    assert read_folder(out, ["wall_clock"]).components == ["wall_clock"]
    for bad in (tmp_path / "missing", tmp_path / "prog.py", tmp_path):
        with pytest.raises(RunsError) as err:
            read_folder(bad)
        assert "\n" not in str(err.value)


def _graph(paths, inc):
    inc = np.asarray(inc, dtype=float)
    values = {"wall_clock": {"inclusive": inc, "self": inc / 2, "count": np.ones(len(paths))}}
    return Graph(["wall_clock"], {"wall_clock": "ns"}, [tuple(p) for p in paths], values)


def test_table_unions_paths_with_nan_for_missing_nodes():
    a = _graph([("m",), ("m", "x")], [10, 4])
    b = _graph([("m",), ("m", "y"), ("m", "y", "z")], [12, 5, 1])
    t = Table.from_graphs([a, b])
    assert t.repeats == 2
    assert t.paths == [("m",), ("m", "x"), ("m", "y"), ("m", "y", "z")]
    inc = t.values["wall_clock"]["inclusive"]
    assert inc[0].tolist() == [10, 12]
    assert inc[1, 0] == 4 and np.isnan(inc[1, 1])
    assert np.isnan(inc[3, 0]) and inc[3, 1] == 1
    pooled = Table.concat([t, Table.from_graphs([a])])
    assert pooled.repeats == 3 and pooled.values["wall_clock"]["inclusive"][0].tolist() == [
        10,
        12,
        10,
    ]


def test_table_json_round_trip():
    t = Table.from_graphs([_graph([("m",), ("m", "x")], [10, 4]), _graph([("m",)], [11])])
    doc = json.loads(json.dumps(t.to_json()))
    back = Table.from_json(doc)
    assert back.paths == t.paths and back.repeats == 2 and back.units == t.units
    for m in ("inclusive", "self", "count"):
        np.testing.assert_array_equal(back.values["wall_clock"][m], t.values["wall_clock"][m])


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(format="x"),
        lambda d: d.update(version=99),
        lambda d: d.update(parents=[0, 0]),
        lambda d: d.update(labels=["m"]),
        lambda d: d["components"]["wall_clock"].update(inclusive=[[1]]),
        lambda d: d["components"]["wall_clock"].update(self="x"),
        lambda d: d.update(labels=["m", "m"], parents=[-1, -1]),
    ],
)
def test_table_from_json_rejects_malformed(mutate):
    doc = Table.from_graphs([_graph([("m",), ("m", "x")], [10, 4])]).to_json()
    mutate(doc)
    with pytest.raises(RunsError) as err:
        Table.from_json(doc, "runs/abc/table.json")
    assert "runs/abc/table.json" in str(err.value) and "\n" not in str(err.value)


def test_from_live_reads_this_process_without_clearing(tmp_path):
    code = (
        "import timemory\n"
        "from timemory.bundle import marker\n"
        "from timemory.runs import from_live\n"
        "with marker(['wall_clock'], key='a'):\n"
        "    with marker(['wall_clock'], key='b'): pass\n"
        "g = from_live(['wall_clock'])\n"
        "print(g.paths, g.values['wall_clock']['count'].tolist())\n"
        "print(timemory.size(['wall_clock']))\n"
    )
    env = {**__import__("os").environ, "TIMEMORY_OUTPUT_PATH": str(tmp_path / "o")}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    assert out[0] == "[('a',), ('a', 'b')] [1.0, 1.0]"
    assert "2}" in out[1]  # both nodes still recorded
