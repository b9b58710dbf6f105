"""The checkpoint thread's lifecycle (timemory._checkpoint) and what one checkpoint writes.

What a killed program keeps is tested in tests/test_checkpoint_faults.py."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
import timemory
from timemory import _checkpoint, _output, settings
from timemory.bundle import marker


def _threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "timemory-checkpoint"]


@pytest.fixture
def checkpoints(tmp_path: Path):
    """Checkpoints into ``tmp_path/out`` for the test (a long interval: the test writes them
    itself), and no thread, no stop, the default setting after it."""
    settings.checkpoint_interval = 0  # a thread another test left (or none) ends
    for thread in _threads():
        thread.join(timeout=60)
    saved_path = settings.output_path
    saved_state = dict(_checkpoint._state)
    _checkpoint._state["stopped"] = False  # a test before may have called finalize()
    settings.output_path = str(tmp_path / "out")
    try:
        yield tmp_path / "out"
    finally:
        settings.checkpoint_interval = 0
        for thread in _threads():
            thread.join(timeout=60)
        assert not _threads(), "the checkpoint thread did not stop"
        _checkpoint._state.update(saved_state, thread=None, wake=None)
        settings.output_path = saved_path


def _record(n: int = 3) -> None:
    for i in range(n):
        with marker(["wall_clock"], key=f"region-{i}"):
            pass


def test_interval_zero_means_no_thread(checkpoints: Path) -> None:
    settings.checkpoint_interval = 0
    assert not _checkpoint.start()
    assert not _checkpoint.running()
    assert not _threads()


def test_one_thread_follows_the_setting(checkpoints: Path) -> None:
    settings.checkpoint_interval = 3600
    assert _checkpoint.running()
    settings.checkpoint_interval = 1800  # a change wakes the thread; no second one
    assert _checkpoint.start()
    assert len(_threads()) == 1
    (thread,) = _threads()
    assert thread.daemon
    settings.checkpoint_interval = 0  # off: the thread ends
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert not _checkpoint.running()


def test_a_checkpoint_is_quiet_and_says_so(
    checkpoints: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    _record()
    files_before = {k: list(v) for k, v in _output.manager._outputs.items()}
    assert _checkpoint.write_checkpoint()
    assert capfd.readouterr() == ("", "")  # nothing printed
    assert _output.manager._outputs == files_before  # the run's list of files is untouched
    meta = json.loads((checkpoints / "metadata.json").read_text())["timemory"]["metadata"]
    marker_ = meta["checkpoint"]
    assert marker_["final"] is False
    assert marker_["sequence"] >= 1
    assert sorted(meta["output"]) == ["flamegraph", "json", "text", "tree"]
    flat = json.loads((checkpoints / "wall.json").read_text())
    assert flat["checkpoint"]["final"] is False
    labels = {e["prefix"] for e in flat["timemory"]["wall_clock"]["ranks"][0]["graph"]}
    assert labels == {f">>> region-{i}" for i in range(3)}
    tree = json.loads((checkpoints / "wall.tree.json").read_text())
    assert tree["checkpoint"]["sequence"] == marker_["sequence"]
    assert not [p for p in os.listdir(checkpoints) if p.startswith(".")]


def test_no_checkpoint_while_another_write_holds_the_lock(checkpoints: Path) -> None:
    _record()
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with _checkpoint._LOCK:
            held.set()
            release.wait(60)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(60)
        assert not _checkpoint.write_checkpoint()  # skipped, not queued behind the lock
        assert not checkpoints.exists()
    finally:
        release.set()
        thread.join()
    assert _checkpoint.write_checkpoint()


def test_after_stop_nothing(checkpoints: Path) -> None:
    _record()
    settings.checkpoint_interval = 3600
    (thread,) = _threads()
    _checkpoint.stop()
    assert not thread.is_alive()  # stop() waits for the thread
    assert not _checkpoint.write_checkpoint()
    assert not _checkpoint.start()
    assert not checkpoints.exists()


def test_not_in_a_worker(checkpoints: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_checkpoint, "_exclusions", [lambda: True])
    _record()
    settings.checkpoint_interval = 3600
    assert not _checkpoint.running()
    assert not _checkpoint.write_checkpoint()


def test_an_error_is_reported_once(
    checkpoints: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    def fail(plan: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(_output, "write_run", fail)
    monkeypatch.setitem(_checkpoint._state, "reported", False)
    _record()
    assert not _checkpoint.write_checkpoint()
    assert not _checkpoint.write_checkpoint()
    err = capfd.readouterr().err.splitlines()
    assert err == ["[timemory]> checkpoint failed (reported once): OSError: disk full"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_no_thread_in_a_forked_child(checkpoints: Path) -> None:
    settings.checkpoint_interval = 3600
    assert _checkpoint.running()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave at once
        try:
            facts = (_checkpoint.running(), bool(_threads()), _checkpoint.write_checkpoint())
            os.write(write, repr(facts).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        reported = f.read()
    os.waitpid(pid, 0)
    assert reported == "(False, False, False)"
    assert _checkpoint.running()  # the parent's thread goes on


def test_final_write_replaces_the_checkpoint(run_python, tmp_path: Path) -> None:
    """A run with checkpoints ends with the final write: metadata says final, and a file of a
    checkpoint that the final write does not make (text output switched off since) is gone."""
    result = run_python(
        """
        import json, os, sys
        import timemory
        from timemory import _checkpoint, settings
        from timemory.bundle import marker

        with marker(["wall_clock"], key="work"):
            pass
        assert _checkpoint.write_checkpoint()
        assert os.path.exists("out/wall.txt")
        settings.text_output = False
        with marker(["wall_clock"], key="more"):
            pass
        """,
        env={"TIMEMORY_CHECKPOINT_INTERVAL": "3600", "TIMEMORY_OUTPUT_PATH": "out"},
    )
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    meta = json.loads((out / "metadata.json").read_text())["timemory"]["metadata"]
    assert meta["checkpoint"]["final"] is True
    assert not (out / "wall.txt").exists()
    flat = json.loads((out / "wall.json").read_text())
    assert "checkpoint" not in flat  # the final files are as they always were
    labels = {e["prefix"] for e in flat["timemory"]["wall_clock"]["ranks"][0]["graph"]}
    assert labels == {">>> work", ">>> more"}


def test_without_checkpoints_metadata_is_unchanged(run_python, tmp_path: Path) -> None:
    result = run_python(
        """
        from timemory.bundle import marker
        with marker(["wall_clock"], key="work"):
            pass
        """,
        env={"TIMEMORY_OUTPUT_PATH": "out"},
    )
    assert result.returncode == 0, result.stderr
    meta = json.loads((tmp_path / "out" / "metadata.json").read_text())["timemory"]["metadata"]
    assert "checkpoint" not in meta


def test_the_tools_default_to_30_seconds(tmp_path: Path) -> None:
    from tool_helpers import run_tool

    (tmp_path / "show.py").write_text(
        "from timemory import settings, _checkpoint\n"
        "print(settings.checkpoint_interval, _checkpoint.running())\n"
    )
    cases = [((), {}, "30.0 True"), (("--checkpoint-interval", "0"), {}, "0.0 False")]
    cases.append(((), {"TIMEMORY_CHECKPOINT_INTERVAL": "7"}, "7.0 True"))
    cases.append(
        (("--checkpoint-interval", "2.5"), {"TIMEMORY_CHECKPOINT_INTERVAL": "7"}, "2.5 True")
    )
    for options, env, expected in cases:
        result = run_tool("timemory.trace", *options, "--", "show.py", cwd=tmp_path, env=env)
        assert result.returncode == 0, result.stderr
        assert expected in result.stdout.splitlines(), (options, env, result.stdout)


def test_plain_import_defaults_to_off() -> None:
    assert settings.source("checkpoint_interval") in ("default", "api")
    assert timemory.settings.checkpoint_interval == 0 or _checkpoint.running()


def test_checkpoints_while_the_program_adds_nodes(
    checkpoints: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A checkpoint reads the graph while the program's thread keeps creating nodes (each
    graph is copied, and each pass of a writer reads it anew): every checkpoint is written,
    valid, with at least the nodes that existed when it began."""
    _record(2000)
    results: list[bool] = []
    stop = threading.Event()

    def checkpoint_thrice() -> None:
        try:
            for _ in range(3):
                results.append(_checkpoint.write_checkpoint())
        finally:
            stop.set()

    thread = threading.Thread(target=checkpoint_thrice)
    thread.start()
    k = 0
    while k < 100 or (not stop.is_set() and k < 20_000):  # new nodes and longer labels
        with marker(["wall_clock"], key=f"added-while-writing-{k:08d}-" + "x" * (k % 40)):
            pass
        k += 1
    thread.join(timeout=120)
    assert results == [True, True, True], capsys.readouterr().err
    data = json.loads((checkpoints / "wall.json").read_text())
    labels = [e["prefix"] for e in data["timemory"]["wall_clock"]["ranks"][0]["graph"]]
    assert sum(lbl.endswith(f"region-{i}") for i in range(2000) for lbl in [labels[i]]) == 2000
    assert data["checkpoint"]["final"] is False
    text = (checkpoints / "wall.txt").read_text()
    # a frame of rows, then the line naming the rows past settings.text_max_rows
    lines = [line for line in text.splitlines() if line]
    assert lines[-1].startswith("... and ")
    assert lines[-1].endswith(f" more rows in {checkpoints / 'wall.json'}")
    assert all(line.startswith("|") for line in lines[:-1])
    timemory.clear()
