"""diff_output: a run's output also gets a comparison with an earlier run's output folder
(input_path, input_prefix, input_extensions)."""

from __future__ import annotations

import json
from pathlib import Path

import fakeclock
import pytest

pytest.importorskip("timemory.runs._compare")

# a program on the fake clock: "work" takes WORK seconds; "only_first" or "only_second"
# exists in one of the two runs
PROGRAM = (
    fakeclock.PRELUDE
    + """
import os
from timemory.bundle import marker

work = float(os.environ["WORK"])
with marker(["wall_clock"], key="main"):
    nap(0.01)
    with marker(["wall_clock"], key="work"):
        nap(work)
    with marker(["wall_clock"], key=os.environ["EXTRA"]):
        nap(0.001)
"""
)


def run(run_python, out: Path, work: float, extra: str, **env: str):
    proc = run_python(
        PROGRAM,
        env={
            "WORK": str(work),
            "EXTRA": extra,
            "TIMEMORY_OUTPUT_PATH": str(out),
            "TIMEMORY_COUT_OUTPUT": "OFF",
            **env,
        },
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def notes(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "diff_output" in line]


def rows(out: Path, name: str = "diff.json") -> dict[tuple[str, ...], dict]:
    doc = json.loads((out / name).read_text())
    assert doc["format"] == "timemory-diff"
    return {tuple(r["path"]): r for r in doc["comparison"]["rows"]}


def test_second_run_is_compared_with_the_first(tmp_path, run_python):
    first, second = tmp_path / "first", tmp_path / "second"
    run(run_python, first, 0.02, "only_first")
    proc = run(
        run_python,
        second,
        0.04,
        "only_second",
        TIMEMORY_DIFF_OUTPUT="1",
        TIMEMORY_INPUT_PATH=str(first),
    )
    (line,) = notes(proc.stderr)
    assert f"compared with {first}: 2 rows matched, 1 added, 1 removed" in line
    assert str(second / "diff.txt") in line
    found = rows(second)
    work = found[("main", "work")]
    # one run a side: the ratio as measured, no verdict from statistics
    assert work["ratio"] == pytest.approx(2.0) and work["verdict"] == "not enough data"
    assert (work["median_a"], work["median_b"]) == (2e7, 4e7)
    assert (work["n_a"], work["n_b"]) == (1, 1)
    assert found[("main",)]["ratio"] == pytest.approx(0.051 / 0.031)
    assert found[("main", "only_second")]["verdict"] == "added"
    assert found[("main", "only_first")]["verdict"] == "removed"
    doc = json.loads((second / "diff.json").read_text())
    assert doc["input"] == str(first) and doc["input_files"] == ["wall.tree.json"]
    text = (second / "diff.txt").read_text()
    assert "one run on each side: no statistics" in text
    assert "2.000" in text and "only_second" in text and "only_first" in text
    # the run's own files are there as without diff_output
    assert (second / "wall.tree.json").is_file() and (second / "wall.json").is_file()


def test_input_prefix_picks_the_files_of_one_run(tmp_path, run_python):
    shared = tmp_path / "shared"
    run(run_python, shared, 0.02, "x", TIMEMORY_OUTPUT_PREFIX="old")
    run(run_python, shared, 0.08, "x", TIMEMORY_OUTPUT_PREFIX="decoy")
    proc = run(
        run_python,
        shared,
        0.04,
        "x",
        TIMEMORY_OUTPUT_PREFIX="new",
        TIMEMORY_DIFF_OUTPUT="1",
        TIMEMORY_INPUT_PATH=str(shared),
        TIMEMORY_INPUT_PREFIX="old",
    )
    assert len(notes(proc.stderr)) == 1
    doc = json.loads((shared / "new-diff.json").read_text())
    assert doc["input_files"] == ["old-wall.tree.json"]
    assert rows(shared, "new-diff.json")[("main", "work")]["ratio"] == pytest.approx(2.0)
    assert (shared / "new-diff.txt").is_file()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "input_path is empty: set TIMEMORY_INPUT_PATH"),
        ({"TIMEMORY_INPUT_PATH": "nowhere"}, "input_path 'nowhere' does not exist"),
        (
            {"TIMEMORY_INPUT_PATH": "FIRST", "TIMEMORY_INPUT_EXTENSIONS": "xml"},
            "named *.xml (input_prefix '', input_extensions 'xml')",
        ),
        (
            {"TIMEMORY_INPUT_PATH": "FIRST", "TIMEMORY_INPUT_EXTENSIONS": "txt"},
            "none of the 1 input files in",
        ),
        ({"TIMEMORY_INPUT_PATH": "SECOND"}, "names this run's own files"),
    ],
)
def test_nothing_to_compare_is_one_line_and_the_run_goes_on(tmp_path, run_python, env, message):
    first, second = tmp_path / "first", tmp_path / "second"
    run(run_python, first, 0.02, "x")
    env = {k: v.replace("FIRST", str(first)).replace("SECOND", str(second)) for k, v in env.items()}
    proc = run(run_python, second, 0.04, "x", TIMEMORY_DIFF_OUTPUT="1", **env)
    (line,) = notes(proc.stderr)
    assert line.startswith("[timemory]> diff_output: no comparison written: ") and message in line
    assert "Traceback (most recent call last)" not in proc.stderr
    assert not (second / "diff.txt").exists() and not (second / "diff.json").exists()
    assert (second / "wall.tree.json").is_file()


def test_diff_output_off_writes_no_diff(tmp_path, run_python):
    first, second = tmp_path / "first", tmp_path / "second"
    run(run_python, first, 0.02, "x")
    proc = run(run_python, second, 0.04, "x", TIMEMORY_INPUT_PATH=str(first))
    assert notes(proc.stderr) == []
    assert not (second / "diff.txt").exists()


def test_input_files_follow_the_settings(tmp_path, monkeypatch):
    from timemory import settings
    from timemory.analyze import _diff

    for name in ("old-wall.tree.json", "old-wall.json", "old-wall.txt", "new-wall.tree.json"):
        (tmp_path / name).write_text("{}")
    monkeypatch.setattr(settings, "input_path", str(tmp_path))
    monkeypatch.setattr(settings, "input_prefix", "old")  # "-" added as for output_prefix
    monkeypatch.setattr(settings, "input_extensions", "json")
    folder, counted, trees = _diff.input_files()
    assert folder == str(tmp_path)
    assert [Path(p).name for p in counted] == ["old-wall.json", "old-wall.tree.json"]
    assert [Path(p).name for p in trees] == ["old-wall.tree.json"]
    monkeypatch.setattr(settings, "input_extensions", "txt,.json")
    assert len(_diff.input_files()[1]) == 3
