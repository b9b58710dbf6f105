"""The run store (timemory.runs._store): ids, caching, filters, bad folders and files, two
processes computing the same run, planted symlinks and a stale index.

Measuring is not what these tests are about: a fake ``timemory.runs._execute`` (written to
the test's folder, so that the subprocesses use it too) counts its calls in a file, makes
one output folder per repeat and returns a table of ``repeats`` repeats."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from timemory.runs import _store
from timemory.runs._errors import RunsError
from timemory.runs._params import canonical_json
from timemory.runs._store import Store, code_identity, environment
from tool_helpers import clean_env

FAKE_EXECUTE = '''\
"""A stand-in for timemory.runs._execute: counts measure() calls in $FAKE_MEASURE_CALLS."""

import json
import os
import time
import types

from timemory.runs._graph import Graph, Table

import numpy as np


def work(**parameters):
    return {"sum": sum(v for v in parameters.values() if isinstance(v, int))}


def describe(target, args=()):
    if callable(target):
        name = f"{target.__module__}:{target.__qualname__}"
        return {"kind": "callable", "name": name, "args": [str(a) for a in args]}
    return {"kind": "script", "name": str(target), "args": [str(a) for a in args]}


def make_table(repeats, scale=1.0):
    graphs = []
    for r in range(repeats):
        values = {
            "wall_clock": {
                "inclusive": np.array([10.0 + r, 4.0]) * scale,
                "self": np.array([6.0 + r, 4.0]) * scale,
                "count": np.array([1.0, 2.0]),
            }
        }
        graphs.append(
            Graph(["wall_clock"], {"wall_clock": "ns"}, [("main",), ("main", "f")], values)
        )
    return Table.from_graphs(graphs)


def measure(target, parameters, *, repeats, components, workdir, args=()):
    with open(os.environ["FAKE_MEASURE_CALLS"], "a") as handle:
        handle.write(json.dumps({"pid": os.getpid(), "parameters": parameters}) + "\\n")
    time.sleep(float(os.environ.get("FAKE_MEASURE_SLEEP", "0")))
    if parameters.get("fail"):
        return types.SimpleNamespace(
            table=None, repeat_dirs=[], result=None, runtime=[], error="it failed"
        )
    dirs = []
    for r in range(repeats):
        folder = os.path.join(workdir, f"out-{r}")
        os.mkdir(folder)
        with open(os.path.join(folder, "wall_clock.json"), "w") as handle:
            handle.write("{}")
        dirs.append(folder)
    return types.SimpleNamespace(
        table=make_table(repeats),
        repeat_dirs=dirs,
        result=target(**parameters),
        runtime=[0.5] * repeats,
        error=None,
    )
'''

# what a subprocess runs before using the store: the fake _execute in place of the real one
PRELUDE = """\
import sys
sys.path.insert(0, {folder!r})
import fake_execute
import timemory.runs
sys.modules["timemory.runs._execute"] = fake_execute
timemory.runs._execute = fake_execute
from timemory.runs._store import Store
"""


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """The fake _execute module, in place for this process; ``fake.calls()`` lists the
    measure() calls made (by every process of the test)."""
    folder = tmp_path / "fake"
    folder.mkdir()
    (folder / "fake_execute.py").write_text(FAKE_EXECUTE)
    calls = tmp_path / "calls.jsonl"
    calls.write_text("")
    monkeypatch.setenv("FAKE_MEASURE_CALLS", str(calls))
    monkeypatch.syspath_prepend(str(folder))
    sys.modules.pop("fake_execute", None)
    import fake_execute
    import timemory.runs

    monkeypatch.setitem(sys.modules, "timemory.runs._execute", fake_execute)
    monkeypatch.setattr(timemory.runs, "_execute", fake_execute, raising=False)
    fake_execute.calls = lambda: [json.loads(x) for x in calls.read_text().splitlines()]
    fake_execute.folder = folder
    yield fake_execute
    sys.modules.pop("fake_execute", None)


def run_in_subprocess(fake, source: str, cwd: Path, timeout: float = 300) -> str:
    """Run ``source`` (after the fake _execute is in place) in a new interpreter; its stdout."""
    program = PRELUDE.format(folder=str(fake.folder)) + textwrap.dedent(source)
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=cwd,
        env=clean_env({"FAKE_MEASURE_CALLS": os.environ["FAKE_MEASURE_CALLS"]}),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


# ------------------------------------------------------------------ ids


def test_the_id_hashes_parameters_code_and_environment_as_documented(tmp_path, fake):
    store = Store(tmp_path / "s")
    run = store.add_run(fake.work, {"n": 3, "mode": "fast"}, code="v1")
    text = canonical_json(
        {"parameters": {"mode": "fast", "n": 3}, "code": "v1", "environment": run.environment}
    )
    assert run.id == hashlib.sha256(text.encode()).hexdigest()[:16]
    assert run.environment == environment(["wall_clock"])


def test_ids_are_the_same_in_another_process(tmp_path, fake):
    store = Store(tmp_path / "s")
    ids = [store.add_run(fake.work, {"n": n, "x": 0.5}, code="v1").id for n in (1, 2)]
    out = run_in_subprocess(
        fake,
        f"""
        store = Store({str(tmp_path / "other")!r})
        for n in (1, 2):
            print(store.add_run(fake_execute.work, {{"x": 0.5, "n": n}}, code="v1").id)
        """,
        tmp_path,
    )
    assert out.split() == ids


def test_ids_depend_on_the_parameter_names(tmp_path, fake):
    # batchpy hashes the values only: {a: 1, b: 2} and {b: 1, a: 2} were the same run
    store = Store(tmp_path / "s")
    one = store.add_run(fake.work, {"a": 1, "b": 2})
    two = store.add_run(fake.work, {"b": 1, "a": 2})
    three = store.add_run(fake.work, {"a": 1, "c": 2})
    assert len({one.id, two.id, three.id}) == 3
    assert store.add_run(fake.work, {"b": 2, "a": 1}).id == one.id  # order does not matter


def test_ids_depend_on_code_and_environment(tmp_path, fake):
    from timemory import settings

    store = Store(tmp_path / "s")
    plain = store.add_run(fake.work, {"n": 1}).id
    assert store.add_run(fake.work, {"n": 1}, code="v2").id != plain
    assert store.add_run(fake.work, {"n": 1}, components=["cpu_clock"]).id != plain
    # the components are a set: their order does not make another run
    both = store.add_run(fake.work, {"n": 1}, components="wall_clock,cpu_clock").id
    assert store.add_run(fake.work, {"n": 1}, components=["cpu_clock", "wall_clock"]).id == both
    depth = settings.max_depth
    try:
        settings.max_depth = 5
        assert store.add_run(fake.work, {"n": 1}).id != plain
    finally:
        settings.max_depth = depth
    assert store.add_run(fake.work, {"n": 1}).id == plain
    with_packages = Store(tmp_path / "s", packages=["numpy", "no-such-distribution-xyz"])
    other = with_packages.add_run(fake.work, {"n": 1})
    assert other.id != plain
    assert other.environment["packages"]["no-such-distribution-xyz"] == "absent"
    assert other.environment["packages"]["numpy"] == other.environment["numpy"] != "absent"


def test_the_environment_fingerprint(fake):
    from timemory.profiler import config

    env = environment(["wall_clock", "peak_rss"])
    assert env["components"] == ["peak_rss", "wall_clock"]
    assert env["python"].startswith(sys.implementation.name + " ")
    assert set(env["settings"]) == set(_store.RESULT_SETTINGS)
    assert set(env["profiler"]) == set(_store.PROFILER_OPTIONS)
    assert env["profiler"]["skip_filenames"] == "default"
    for key in ("timemory", "numpy", "machine", "cpu"):
        assert isinstance(env[key], str)
    saved = config.skip_functions
    try:
        config.skip_functions = ["^helper$"]
        assert environment(["wall_clock"])["profiler"]["skip_functions"] == ["^helper$"]
    finally:
        config.skip_functions = saved
    with pytest.raises(RunsError, match="wall_clokc"):
        environment(["wall_clokc"])


def test_code_identity(tmp_path, monkeypatch):
    assert code_identity(None) is None
    assert code_identity("v1.2") == "v1.2"
    with pytest.raises(RunsError, match="must be None or a string"):
        code_identity(3)
    with pytest.raises(RunsError, match="not in a git repository"):
        code_identity(f"git:{tmp_path}")
    with pytest.raises(RunsError, match="no such file"):
        code_identity(f"git:{tmp_path / 'missing'}")
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()
    env = clean_env(
        {
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com",
        }
    )
    for args in (["init", "-q"], ["add", "a.py"], ["commit", "-q", "-m", "one"]):
        if args[0] == "add":
            (repo / "a.py").write_text("x = 1\n")
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, timeout=120)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=120
    ).stdout.strip()
    assert code_identity(f"git:{repo}") == f"git:{head}"
    assert code_identity(f"git:{repo / 'a.py'}") == f"git:{head}"
    (repo / "untracked.txt").write_text("not code\n")  # an output file is no change of code
    assert code_identity(f"git:{repo}") == f"git:{head}"
    (repo / "a.py").write_text("x = 2\n")
    assert code_identity(f"git:{repo}") == f"git:{head}-dirty"
    assert code_identity(f"git:{head}-dirty") == f"git:{head}-dirty"  # already resolved
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    with pytest.raises(RunsError, match="git is not installed"):
        code_identity(f"git:{repo}")


# ------------------------------------------------------------------ computing


def test_a_done_run_is_not_computed_again(tmp_path, fake):
    store = Store(tmp_path / "s")
    run = store.add_run(fake.work, {"n": 4}, repeats=3)
    assert (run.status, run.done, run.repeats, run.requested) == ("pending", False, 0, 3)
    [done] = store()
    assert len(fake.calls()) == 1
    assert (done.id, done.status, done.done, done.repeats) == (run.id, "done", True, 3)
    assert done.result == {"sum": 4}
    assert done.runtime == [0.5, 0.5, 0.5]
    assert [os.path.basename(p) for p in done.repeat_dirs()] == [
        "repeat-000",
        "repeat-001",
        "repeat-002",
    ]
    assert os.listdir(done.repeat_dirs()[0]) == ["wall_clock.json"]
    assert done.table().repeats == 3
    assert [r.id for r in store()] == [done.id]
    assert len(fake.calls()) == 1
    # another store object, another process: the run is taken from the folder
    again = Store(tmp_path / "s")
    cached = again.add_run(fake.work, {"n": 4}, repeats=3)
    assert cached.done and cached.id == run.id
    again()
    run_in_subprocess(
        fake,
        f"""
        store = Store({str(tmp_path / "s")!r})
        assert store.add_run(fake_execute.work, {{"n": 4}}, repeats=3).done
        store()
        """,
        tmp_path,
    )
    assert len(fake.calls()) == 1
    assert not os.listdir(tmp_path / "s" / "work")  # the measuring folders are gone


def test_the_live_target_is_measured(tmp_path, fake):
    seen = []

    def local(**parameters):  # not importable: only this object can be measured
        seen.append(parameters)
        return len(seen)

    store = Store(tmp_path / "s")
    store.add_run(local, {"n": 1}, repeats=1)
    [run] = store()
    assert (run.status, run.result, seen) == ("done", 1, [{"n": 1}])
    assert run.target["name"].endswith("test_the_live_target_is_measured.<locals>.local")


def test_factorial_runs(tmp_path, fake):
    store = Store(tmp_path / "s")
    runs = store.add_factorial_runs(fake.work, {"n": [3, 1, 2], "mode": ["b", "a"]}, repeats=1)
    assert [r.parameters for r in runs] == [
        {"mode": m, "n": n} for m in ("b", "a") for n in (3, 1, 2)
    ]
    assert [r.id for r in store.runs] == [r.id for r in runs]
    store()
    assert len(fake.calls()) == 6
    assert all(r.done for r in store.runs)
    with pytest.raises(RunsError, match="list of values"):
        store.add_factorial_runs(fake.work, {"n": 3})


def test_a_failed_run_is_kept_with_its_error_and_retried(tmp_path, fake):
    store = Store(tmp_path / "s")
    good = store.add_run(fake.work, {"n": 1}, repeats=1)
    bad = store.add_run(fake.work, {"n": 2, "fail": True}, repeats=1)
    runs = {r.id: r for r in store()}
    assert runs[good.id].status == "done"
    assert (runs[bad.id].status, runs[bad.id].error, runs[bad.id].done) == (
        "failed",
        "it failed",
        False,
    )
    with pytest.raises(RunsError, match="no table"):
        runs[bad.id].table()
    assert len(fake.calls()) == 2
    reopened = Store(tmp_path / "s")
    assert reopened.get(bad.id).status == "failed"
    reopened()
    assert len(fake.calls()) == 3  # the failed one again, not the done one


def test_a_result_that_is_not_json_is_kept_as_its_repr(tmp_path, fake, capsys):
    store = Store(tmp_path / "s")
    table = fake.make_table(1)
    run = store.save({"n": 1}, table, components=["wall_clock"], result={1, 2})
    assert run.result == "{1, 2}"
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "not JSON-serialisable" in err[0] and run.id in err[0]
    run = store.save({"n": 2}, table, components=["wall_clock"], result=(1, "a", None))
    assert run.result == [1, "a", None]
    assert Store(tmp_path / "s").get(run.id).result == [1, "a", None]


def test_a_pending_run_from_disk_imports_its_callable(tmp_path, fake):
    run_in_subprocess(
        fake,
        f"""
        store = Store({str(tmp_path / "s")!r})
        store.add_run(fake_execute.work, {{"n": 7}}, repeats=1)
        store.add_run(lambda **kw: None, {{"n": 8}}, repeats=1)
        """,
        tmp_path,
    )
    assert fake.calls() == []
    store = Store(tmp_path / "s")
    assert [r.status for r in store.runs] == ["pending", "pending"]
    with pytest.raises(RunsError) as err:
        store()
    message = str(err.value)
    assert "__main__:<lambda>" in message and store.get_runs_with(n=8)[0].id in message
    [seven] = store.get_runs_with(n=7)
    assert seven.done and seven.result == {"sum": 7}
    assert len(fake.calls()) == 1


def test_a_pending_run_of_another_environment_is_left_alone(tmp_path, fake, capsys):
    from timemory import settings

    store = Store(tmp_path / "s")
    flat = settings.flat_profile
    try:
        settings.flat_profile = not flat
        run = store.add_run(fake.work, {"n": 1}, repeats=1)
    finally:
        settings.flat_profile = flat
    [left] = store()
    assert (left.id, left.status) == (run.id, "pending")
    assert fake.calls() == []
    assert "another environment" in capsys.readouterr().err


def test_two_processes_adding_the_same_run_measure_it_once(tmp_path, fake):
    folder = tmp_path / "s"
    Store(folder)
    source = f"""
        import os, time
        open({str(tmp_path)!r} + f"/ready-{{os.getpid()}}", "w").close()
        deadline = time.monotonic() + 120
        while len([n for n in os.listdir({str(tmp_path)!r}) if n.startswith("ready-")]) < 2:
            assert time.monotonic() < deadline, "the other process did not start"
            time.sleep(0.01)
        store = Store({str(folder)!r})
        store.add_run(fake_execute.work, {{"n": 5}}, repeats=2)
        [run] = store()
        print(run.id, run.status, run.repeats)
    """
    program = PRELUDE.format(folder=str(fake.folder)) + textwrap.dedent(source)
    env = clean_env(
        {"FAKE_MEASURE_CALLS": os.environ["FAKE_MEASURE_CALLS"], "FAKE_MEASURE_SLEEP": "0.5"}
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", program],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        outs.append(out.split())
    assert len(fake.calls()) == 1
    assert outs[0] == outs[1] and outs[0][1:] == ["done", "2"]
    [run] = Store(folder).runs
    assert run.id == outs[0][0] and len(run.repeat_dirs()) == 2
    assert [n for n in os.listdir(folder / "runs") if n.startswith(".")] == []


# ------------------------------------------------------------------ reading


def test_every_filter(tmp_path, fake):
    store = Store(tmp_path / "s")
    for n in (1, 2, 3, 4):
        store.add_run(fake.work, {"n": n, "mode": "fast" if n % 2 else "slow"}, repeats=1)
    store.add_run(fake.work, {"other": 1}, repeats=1, code="v2")

    def ns(**filters):
        return sorted(r.parameters.get("n") or 0 for r in store.get_runs_with(**filters))

    assert ns() == [0, 1, 2, 3, 4]
    assert ns(n=2) == [2]
    assert ns(n__ne=2) == [0, 1, 3, 4]  # a missing parameter is "not equal"
    assert ns(n__lt=3) == [1, 2]
    assert ns(n__le=3) == [1, 2, 3]
    assert ns(n__gt=3) == [4]
    assert ns(n__ge=3) == [3, 4]
    assert ns(n__in=[1, 4, 9]) == [1, 4]
    assert ns(n=[2, 3]) == [2, 3]
    assert ns(n__ge=2, mode="fast") == [3]
    assert ns(n__ge=2, n__lt=4) == [2, 3]
    assert ns(code="v2") == [0]
    assert ns(code=None) == [1, 2, 3, 4]
    assert ns(done=False) == [0, 1, 2, 3, 4]
    for run in store.get_runs_with(n__le=2):
        store.save(run.parameters, fake.make_table(1), components=run.components)
    assert ns(done=True) == [1, 2]
    assert ns(status="pending") == [0, 3, 4]
    assert ns(status__in=["done", "failed"]) == [1, 2]
    [three] = store.get_runs_with(n=3)
    assert ns(id=three.id) == [3]
    assert ns(id__ne=three.id, n__gt=0) == [1, 2, 4]
    with pytest.raises(RunsError, match="__ge"):
        store.get_runs_with(n__gte=3)


def test_get_by_id_or_prefix(tmp_path, fake):
    store = Store(tmp_path / "s")
    run = store.add_run(fake.work, {"n": 1})
    assert store.get(run.id).id == run.id
    assert store.get(run.id[:6]).id == run.id
    with pytest.raises(RunsError, match=run.id):
        store.get(run.id[:-1] + ("0" if run.id[-1] != "0" else "1"))
    assert store.export_ids() == [
        {"id": run.id, "parameters": {"n": 1}, "code": None, "done": False}
    ]
    assert run.id in repr(run) and "n=1" in repr(run)


def test_runs_load_without_the_code(tmp_path, fake):
    store = Store(tmp_path / "s")
    store.add_run(fake.work, {"n": 2}, repeats=2)
    store()
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.modules['fake_execute'] = None\n"
            "from timemory.runs._store import Store\n"
            f"[run] = Store({str(tmp_path / 's')!r}).runs\n"
            "print(run.target['name'], run.result['sum'], run.table().repeats)",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=clean_env(),
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["fake_execute:work", "2", "2"]


# ------------------------------------------------------------------ bad folders and files


def test_bad_store_folders(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunsError, match="is not a folder") as err:
        Store(tmp_path / "file")
    assert str(tmp_path / "file") in str(err.value)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(RunsError, match="not a run store") as err:
        Store(tmp_path / "busy")
    assert str(tmp_path / "busy") in str(err.value)
    assert os.listdir(tmp_path / "busy") == ["notes.txt"]
    newer = tmp_path / "newer"
    Store(newer)
    doc = json.loads((newer / "timemory-store.json").read_text())
    assert doc["format"] == "timemory-run-store" and doc["version"] == 1
    doc["version"] = 2
    (newer / "timemory-store.json").write_text(json.dumps(doc))
    with pytest.raises(RunsError, match="version 2") as err:
        Store(newer)
    assert str(newer) in str(err.value)
    (newer / "timemory-store.json").write_text("{")
    with pytest.raises(RunsError, match="not a run store's file"):
        Store(newer)
    with pytest.raises(RunsError, match="does not exist"):
        Store(tmp_path / "missing", create=False)
    assert not (tmp_path / "missing").exists()
    (tmp_path / "empty").mkdir()
    Store(tmp_path / "empty")
    assert (tmp_path / "empty" / "timemory-store.json").is_file()
    made = Store(tmp_path / "nested" / "store")
    assert os.stat(made.path).st_mode & 0o077 == 0  # private


def test_a_corrupt_run_is_reported_once_and_skipped(tmp_path, fake, capsys):
    store = Store(tmp_path / "s")
    runs = [store.add_run(fake.work, {"n": n}, repeats=1) for n in range(3)]
    store()
    bad = runs[1]
    Path(bad.path, "run.json").write_text('{"format": "timemory-run", "version": 1, "id"')
    capsys.readouterr()
    reopened = Store(tmp_path / "s")
    assert [r.id for r in reopened.runs] == [runs[0].id, runs[2].id]
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"timemory: run {bad.id} in {bad.path} skipped: ")
    Store(tmp_path / "s").get_runs_with(n__ge=0)  # once: not again in this process
    assert capsys.readouterr().err == ""
    # a manifest of a newer format, another id, a table.json that is not a table
    doc = json.loads(Path(runs[2].path, "run.json").read_text())
    doc["version"] = 9
    Path(runs[2].path, "run.json").write_text(json.dumps(doc))
    assert [r.id for r in Store(tmp_path / "s").runs] == [runs[0].id]
    assert "format version 9" in capsys.readouterr().err
    Path(runs[0].path, "table.json").write_text('{"not": "a table"}')
    [only] = Store(tmp_path / "s").runs
    with pytest.raises(RunsError, match=only.id):
        only.table()


def test_a_planted_symlink_is_not_followed(tmp_path, fake, capsys):
    elsewhere = Store(tmp_path / "elsewhere")
    theirs = elsewhere.add_run(fake.work, {"n": 1}, repeats=1)
    before = Path(theirs.path, "run.json").read_text()
    store = Store(tmp_path / "s")
    os.symlink(theirs.path, tmp_path / "s" / "runs" / theirs.id)
    capsys.readouterr()
    assert Store(tmp_path / "s").runs == []
    assert "symlink" in capsys.readouterr().err
    # computing the same run replaces the symlink; what it pointed to is untouched
    run = store.add_run(fake.work, {"n": 1}, repeats=1)
    assert run.id == theirs.id
    store()
    assert not os.path.islink(run.path) and os.path.isdir(run.path)
    assert Store(tmp_path / "s").get(run.id).done
    assert Path(theirs.path, "run.json").read_text() == before
    assert elsewhere.get(theirs.id).status == "pending"
    # a repeat folder that is a symlink is refused
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(out, tmp_path / "link")
    with pytest.raises(RunsError, match="symlink"):
        store.save(
            {"n": 9}, fake.make_table(1), components=["wall_clock"], repeat_dirs=[tmp_path / "link"]
        )


def test_the_index_follows_other_store_objects(tmp_path, fake):
    one = Store(tmp_path / "s")
    two = Store(tmp_path / "s")
    added = two.add_run(fake.work, {"n": 1}, repeats=1)
    assert [r.id for r in one.runs] == [added.id]
    two()
    assert one.get(added.id).done
    assert one.get_runs_with(done=True)[0].id == added.id
    index = json.loads((tmp_path / "s" / "index.json").read_text())
    assert [entry[0] for entry in index["runs"]] == [added.id]
    assert two.remove([added]) == 1
    assert one.runs == [] and not os.path.exists(added.path)
    assert json.loads((tmp_path / "s" / "index.json").read_text())["runs"] == []
    # the index is a cache: a damaged one is rebuilt from the runs
    kept = one.add_run(fake.work, {"n": 2}, repeats=1)
    (tmp_path / "s" / "index.json").write_text("[1, 2")
    assert [r.id for r in Store(tmp_path / "s").runs] == [kept.id]
    assert json.loads((tmp_path / "s" / "index.json").read_text())["runs"][0][0] == kept.id


def test_an_index_that_is_fresh_is_read_alone(tmp_path, fake, monkeypatch):
    store = Store(tmp_path / "s")
    for n in range(20):
        store.save({"n": n}, fake.make_table(1), components=["wall_clock"])
    Store(tmp_path / "s")  # brings the index up to date
    read = []
    real = _store._read_json
    monkeypatch.setattr(_store, "_read_json", lambda path: read.append(path) or real(path))
    assert len(Store(tmp_path / "s").get_runs_with(n__ge=10)) == 10
    assert [os.path.basename(p) for p in read] == ["timemory-store.json", "index.json"]
    # a run changed behind the index's back is read again, alone
    changed = store.get_runs_with(n=3)[0]
    store.append(changed, fake.make_table(2), runtime=[1.0, 2.0])
    read.clear()
    again = Store(tmp_path / "s")
    assert again.get(changed.id).repeats == 3
    assert sorted(os.path.basename(p) for p in read) == [
        "index.json",
        "run.json",
        "timemory-store.json",
    ]


# ------------------------------------------------------------------ save, append, remove


def test_save_append_and_remove(tmp_path, fake):
    store = Store(tmp_path / "s")
    outs = []
    for r in range(3):
        out = tmp_path / f"out-{r}"
        out.mkdir()
        (out / "wall_clock.json").write_text(str(r))
        outs.append(out)
    run = store.save(
        {"test": "t::a"},
        fake.make_table(2),
        code="v1",
        components=["wall_clock"],
        runtime=[0.1, 0.2],
        repeat_dirs=outs[:2],
        target={"kind": "external", "name": "t::a"},
    )
    assert (run.status, run.repeats, run.requested, run.code) == ("done", 2, 2, "v1")
    assert run.target == {"kind": "external", "name": "t::a", "args": []}
    assert not outs[0].exists()
    appended = store.append(run, fake.make_table(1), runtime=[0.3], repeat_dirs=outs[2:])
    assert (appended.repeats, appended.runtime) == (3, [0.1, 0.2, 0.3])
    dirs = appended.repeat_dirs()
    assert [os.path.basename(d) for d in dirs] == ["repeat-000", "repeat-001", "repeat-002"]
    assert [Path(d, "wall_clock.json").read_text() for d in dirs] == ["0", "1", "2"]
    assert appended.table().repeats == 3
    # saving the same run again adds its repeats too: nothing measured is lost
    again = store.save({"test": "t::a"}, fake.make_table(1), code="v1", components="wall_clock")
    assert again.id == run.id and again.repeats == 4
    # a failure does not replace a done run
    failed = store.save(
        {"test": "t::a"}, None, code="v1", components="wall_clock", status="failed", error="x"
    )
    assert failed.status == "done"
    assert Store(tmp_path / "s").get(run.id).repeats == 4
    other = store.save({"test": "t::b"}, None, components="wall_clock", status="failed", error="e")
    assert (other.status, other.error) == ("failed", "e")
    assert store.remove([run.id, other]) == 2
    assert store.runs == [] and os.listdir(tmp_path / "s" / "runs") == []
    assert store.remove(run) == 0  # removing twice is no error
    with pytest.raises(RunsError, match="needs its table"):
        store.save({"n": 1}, None, components="wall_clock")


# ------------------------------------------------------------------ crashes


def dead_pid() -> int:
    """The id of a process that has ended (and was waited for)."""
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return int(proc.stdout)


def test_what_a_dead_process_left_is_recovered_or_cleared(tmp_path, fake):
    store = Store(tmp_path / "s")
    kept, lost = (store.add_run(fake.work, {"n": n}, repeats=1) for n in (1, 2))
    store()
    runs_dir = tmp_path / "s" / "runs"
    pid = dead_pid()
    # killed between moving the old folder away and renaming the new one into place
    os.rename(runs_dir / kept.id, runs_dir / f".tmp-{kept.id}-{pid}-0a1b")
    os.mkdir(runs_dir / f".trash-{kept.id}-{pid}-0a1c")
    # killed while writing: no run.json yet; and a run written since by someone else wins
    os.mkdir(runs_dir / f".tmp-{lost.id}-{pid}-0a1d")
    shutil.copytree(runs_dir / lost.id, runs_dir / f".tmp-{lost.id}-{pid}-0a1e")
    # killed while measuring
    os.makedirs(tmp_path / "s" / "work" / f"{kept.id}-{pid}-5-0" / "out-0")
    # a live process's folders are left alone
    busy = runs_dir / f".tmp-{lost.id}-{os.getpid()}-0a1f"
    os.mkdir(busy)
    reopened = Store(tmp_path / "s")
    assert sorted(r.id for r in reopened.runs) == sorted([kept.id, lost.id])
    assert reopened.get(kept.id).done and reopened.get(kept.id).table().repeats == 1
    assert sorted(os.listdir(runs_dir)) == sorted([kept.id, lost.id, busy.name])
    assert os.listdir(tmp_path / "s" / "work") == []


def test_load_tables_reports_a_corrupt_table_once(tmp_path, fake, capsys):
    store = Store(tmp_path / "s")
    runs = [store.add_run(fake.work, {"n": n}, repeats=2) for n in range(3)]
    store.add_run(fake.work, {"n": 9, "fail": True}, repeats=1)
    store()
    Path(runs[1].path, "table.json").write_text("[")
    capsys.readouterr()
    loaded = _store.load_tables(store.runs)
    assert [(r.id, t.repeats) for r, t in loaded] == [(runs[0].id, 2), (runs[2].id, 2)]
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"timemory: run {runs[1].id} in {runs[1].path} skipped: ")
    assert len(_store.load_tables(store.runs)) == 2
    assert capsys.readouterr().err == ""


def test_bad_arguments_are_one_line_errors(tmp_path, fake):
    store = Store(tmp_path / "s")
    for call, words in [
        (lambda: store.add_run(fake.work, {"n": 1}, repeats=0), "repeats"),
        (lambda: store.add_run(fake.work, {"a__b": 1}), "a__b"),
        (lambda: store.add_run(fake.work, {"n": {"x": 1}}), "n="),
        (lambda: store.add_run(fake.work, {"n": 1}, components=["wall_clokc"]), "wall_clock"),
        (lambda: store.add_run(fake.work, {"n": 1}, components=[]), "no components"),
        (lambda: store.save({"n": 1}, None, components="wall_clock", status="done?"), "status"),
        (lambda: store.get("zzzz"), "no run 'zzzz'"),
        (lambda: store.remove("zzzz"), "no run 'zzzz'"),
    ]:
        with pytest.raises(RunsError) as err:
            call()
        assert words in str(err.value) and "\n" not in str(err.value)
    assert store.runs == []
