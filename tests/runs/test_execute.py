"""timemory.runs._execute: a run's repeats of a callable, a script or a module, each profiled
into its own output folder, with the parameters handed to the target."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import timemory
from timemory._output._plan import written_count
from timemory.bundle import marker
from timemory.runs import RunsError, _execute, parameters
from timemory.runs._execute import Module, describe, measure
from timemory.runs._graph import read_folder
from tool_helpers import clean_env, write

COMPONENTS = ["wall_clock"]


# ------------------------------------------------------------------ callables
def leaf(n):
    return sum(range(n))


def work(n, mode="fast"):
    total = 0
    for _ in range(2):
        total += leaf(n)
    return {"total": total, "mode": mode}


def report_parameters(**kwargs):
    return {"kwargs": kwargs, "parameters": parameters()}


def fail_on_second(counter, limit=1):
    # a file: each repeat runs in its own child process, which shares no memory
    path = Path(counter)
    done = int(path.read_text()) if path.exists() else 0
    path.write_text(str(done + 1))
    leaf(10)
    if done >= limit:
        raise ValueError(f"repeat {done} failed")
    return done


def returns_object():
    return object()


def paths_of(folder):
    return set(read_folder(folder).paths)


def test_callable_repeats_are_folders_with_the_call_graph(tmp_path):
    measured = measure(
        work, {"n": 50, "mode": "slow"}, repeats=3, components=COMPONENTS, workdir=tmp_path
    )
    assert measured.error is None
    assert measured.result == {"total": 2 * sum(range(50)), "mode": "slow"}
    assert measured.repeat_dirs == [str(tmp_path / f"repeat-{i:03d}") for i in range(3)]
    assert len(measured.runtime) == 3 and all(t > 0 for t in measured.runtime)
    for folder in measured.repeat_dirs:
        assert (Path(folder) / "wall.tree.json").is_file()
        # the repeat alone: the callable at the top, what it calls below it, nothing else
        assert paths_of(folder) == {("work",), ("work", "leaf")}
    table = measured.table
    assert table.repeats == 3
    assert table.components == ["wall_clock"]
    index = table.index()
    assert list(table.values["wall_clock"]["count"][index[("work", "leaf")]]) == [2, 2, 2]
    assert list(table.values["wall_clock"]["count"][index[("work",)]]) == [1, 1, 1]


def test_repeat_folders_load_in_hatchet(tmp_path):
    hatchet = pytest.importorskip("hatchet")
    measured = measure(work, {"n": 5}, repeats=2, components=COMPONENTS, workdir=tmp_path)
    for folder in measured.repeat_dirs:
        gf = hatchet.GraphFrame.from_timemory(folder)
        names = {str(node.frame["name"]) for node in gf.graph.traverse()}
        assert {"work", "leaf"} <= names


def test_a_callable_gets_the_parameters_as_keywords_and_from_parameters(tmp_path):
    before = os.environ.get(_execute.ENV)
    params = {"n": 3, "mode": "fast", "sizes": [1, 2]}
    measured = measure(
        report_parameters, params, repeats=1, components=COMPONENTS, workdir=tmp_path
    )
    assert measured.error is None
    assert measured.result == {"kwargs": params, "parameters": params}
    assert os.environ.get(_execute.ENV) == before
    assert parameters() == {}


def test_an_exception_stops_the_run_and_keeps_what_was_measured(tmp_path):
    counter = tmp_path / "counter"
    measured = measure(
        fail_on_second,
        {"counter": str(counter)},
        repeats=5,
        components=COMPONENTS,
        workdir=tmp_path / "w",
    )
    assert measured.error == "ValueError('repeat 1 failed')"
    assert counter.read_text() == "2"  # the remaining repeats were skipped
    # the repeat that succeeded and the one that failed (it left a call graph)
    assert [Path(d).name for d in measured.repeat_dirs] == ["repeat-000", "repeat-001"]
    assert measured.table.repeats == 2
    assert measured.result == 0  # the last successful repeat's
    assert ("fail_on_second", "leaf") in paths_of(measured.repeat_dirs[1])
    assert not (tmp_path / "w" / "repeat-002").exists()


def killed():
    import signal

    os.kill(os.getpid(), signal.SIGKILL)


def test_a_repeat_killed_by_a_signal_is_the_runs_error(tmp_path):
    measured = measure(killed, {}, repeats=3, components=COMPONENTS, workdir=tmp_path)
    assert measured.error == "the repeat's process was killed by signal 9"
    assert measured.repeat_dirs == [] and measured.table.repeats == 0
    assert not (tmp_path / "repeat-001").exists()


def test_a_result_that_json_cannot_hold_is_kept_as_its_repr(tmp_path, capfd):
    measured = measure(returns_object, {}, repeats=2, components=COMPONENTS, workdir=tmp_path)
    assert measured.error is None and len(measured.repeat_dirs) == 2
    assert re.fullmatch(r"<object object at 0x[0-9a-f]+>", measured.result)
    err = capfd.readouterr().err
    assert "the result (object) is not JSON-serialisable" in err and "kept as its repr()" in err


def returns_numpy():
    import numpy as np

    return {"n": np.int64(3), "values": np.arange(3)}


def test_numpy_results_are_stored_as_numbers(tmp_path):
    measured = measure(returns_numpy, {}, repeats=1, components=COMPONENTS, workdir=tmp_path)
    assert measured.result == {"n": 3, "values": [0, 1, 2]}


def test_the_users_data_survives_a_callable_measurement(tmp_path):
    with marker(COMPONENTS, key="user_before"):
        leaf(10)
    before = timemory.get()["timemory"]["wall_clock"]
    with marker(COMPONENTS, key="user_open"):
        measured = measure(work, {"n": 5}, repeats=2, components=COMPONENTS, workdir=tmp_path)
    assert measured.error is None
    for folder in measured.repeat_dirs:
        # not under the user's open marker, and without the user's data
        assert paths_of(folder) == {("work",), ("work", "leaf")}
    labels = {e["prefix"].lstrip("|_> ").strip() for e in _entries()}
    assert labels == {"user_before", "user_open"}
    after = timemory.get()["timemory"]["wall_clock"]
    assert _entry(after, "user_before") == _entry(before, "user_before")


def _entries():
    return timemory.get()["timemory"]["wall_clock"]["ranks"][0]["graph"]


def _entry(doc, label):
    for entry in doc["ranks"][0]["graph"]:
        if entry["prefix"].lstrip("|_> ").strip() == label:
            return entry
    raise AssertionError(label)


def pooled(n):
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(2) as pool:
        return sum(pool.map(leaf, [n] * 4))


def test_pool_workers_of_a_callable_are_in_its_repeat_not_in_the_program(tmp_path):
    measured = measure(pooled, {"n": 10}, repeats=1, components=COMPONENTS, workdir=tmp_path)
    assert measured.error is None and measured.result == 4 * sum(range(10))
    paths = paths_of(measured.repeat_dirs[0])
    assert ("pooled",) in paths
    assert any(path[-1] == "leaf" for path in paths), paths  # the workers' calls
    assert not timemory.get()["timemory"]  # nothing reached this process's data


def test_under_a_running_profiler_each_repeat_is_its_own(tmp_path):
    profiler = timemory.profiler.Profiler(COMPONENTS)
    with profiler:
        measured = measure(work, {"n": 5}, repeats=2, components=COMPONENTS, workdir=tmp_path)
    assert measured.error is None
    for folder in measured.repeat_dirs:
        assert paths_of(folder) == {("work",), ("work", "leaf")}


def test_in_process_when_fork_is_unusable(tmp_path, monkeypatch):
    monkeypatch.setattr(_execute, "_fork_unusable", lambda: "no fork in this test")
    listed = (written_count(), list(timemory.manager.json_files))
    measured = measure(work, {"n": 5}, repeats=2, components=COMPONENTS, workdir=tmp_path)
    assert measured.error is None and measured.result["total"] == 2 * sum(range(5))
    # the program's own lists of the files it wrote do not name the repeats' files
    assert (written_count(), list(timemory.manager.json_files)) == listed
    for folder in measured.repeat_dirs:
        assert paths_of(folder) == {("work",), ("work", "leaf")}
    assert not timemory.get()["timemory"]  # emptied after each repeat
    # with the user's data in the process, measuring there would mix or destroy it
    with marker(COMPONENTS, key="user"):
        pass
    with pytest.raises(
        RunsError, match=r"no fork in this test.*holds timemory data \(wall_clock\)"
    ):
        measure(work, {"n": 5}, repeats=1, components=COMPONENTS, workdir=tmp_path / "2")
    assert "user" in json.dumps(timemory.get())


# ------------------------------------------------------------------ scripts and modules
PROBE = """\
import json, os, sys
import timemory.runs

def compute(n):
    return sum(range(n))

compute(int(sys.argv[1]))
print("probe stdout", flush=True)
with open(sys.argv[2], "a") as out:
    out.write(json.dumps({
        "argv": sys.argv[1:],
        "parameters": timemory.runs.parameters(),
        "env": os.environ["TIMEMORY_RUN_PARAMETERS"],
    }) + "\\n")
"""


def test_script_repeats_get_the_parameters(tmp_path, capfd, monkeypatch):
    script = write(tmp_path / "probe.py", PROBE)
    # settings that would change what a repeat measures or where it writes are not inherited
    monkeypatch.setenv("TIMEMORY_TREE_OUTPUT", "false")
    monkeypatch.setenv("TIMEMORY_GLOBAL_COMPONENTS", "peak_rss")
    monkeypatch.setenv("TIMEMORY_OUTPUT_PATH", str(tmp_path / "elsewhere"))
    record = tmp_path / "record.jsonl"
    measured = measure(
        str(script),
        {"n": 7, "mode": "a b"},
        repeats=2,
        components=COMPONENTS,
        workdir=tmp_path / "w",
        args=["{n}", str(record), "--mode={mode}"],
    )
    assert measured.error is None, measured.error
    assert measured.result is None
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert len(lines) == 2
    for line in lines:
        assert line["argv"] == ["7", str(record), "--mode=a b"]
        assert line["parameters"] == {"n": 7, "mode": "a b"}
        assert json.loads(line["env"]) == {"n": 7, "mode": "a b"}
    out, err = capfd.readouterr()
    assert out.count("probe stdout") == 2  # the program's stdout is its own
    assert err == ""  # the profiler prints nothing
    assert len(measured.repeat_dirs) == 2 and measured.table.repeats == 2
    assert measured.table.components == ["wall_clock"]
    assert not (tmp_path / "elsewhere").exists()
    for folder in measured.repeat_dirs:
        paths = paths_of(folder)
        assert any(path[-1] == "compute" for path in paths), paths


def test_a_failing_script_stops_the_run_with_its_status_and_last_line(tmp_path, capfd):
    script = write(
        tmp_path / "fails.py",
        """\
        import sys
        def f():
            return 1
        f()
        print("something went wrong", file=sys.stderr)
        sys.exit(3)
        """,
    )
    measured = measure(script, {}, repeats=3, components=COMPONENTS, workdir=tmp_path / "w")
    assert measured.error == "exit status 3: something went wrong"
    assert [Path(d).name for d in measured.repeat_dirs] == ["repeat-000"]  # kept
    assert not (tmp_path / "w" / "repeat-001").exists()
    assert "something went wrong" in capfd.readouterr().err  # passed through


def test_module_targets(tmp_path, monkeypatch):
    write(tmp_path / "pkg" / "__init__.py", "")
    write(
        tmp_path / "pkg" / "bench.py",
        """\
        import timemory.runs

        def kernel(n):
            return list(range(n))

        kernel(timemory.runs.parameters()["n"])
        """,
    )
    monkeypatch.chdir(tmp_path)
    for target in ("-m pkg.bench", Module("pkg.bench")):
        workdir = tmp_path / str(abs(hash(str(target))))
        measured = measure(target, {"n": 4}, repeats=2, components=COMPONENTS, workdir=workdir)
        assert measured.error is None, measured.error
        assert len(measured.repeat_dirs) == 2
        for folder in measured.repeat_dirs:
            assert any(path[-1] == "kernel" for path in paths_of(folder))


# ------------------------------------------------------------------ describe and bad input
def test_describe(tmp_path):
    script = write(tmp_path / "s.py", "")
    assert describe(work) == {
        "kind": "callable",
        "name": f"{__name__}:work",
        "args": [],
    }
    assert describe(str(script), ["a", 1, tmp_path]) == {
        "kind": "script",
        "name": str(script),
        "args": ["a", "1", str(tmp_path)],
    }
    assert describe("-m pkg.mod", ["x"]) == {"kind": "module", "name": "pkg.mod", "args": ["x"]}
    assert describe(Module("pkg")) == {"kind": "module", "name": "pkg", "args": []}


@pytest.mark.parametrize(
    ("target", "args", "message"),
    [
        ("missing.py", (), "cannot run 'missing.py': no such file"),
        ("not a target", (), "a target is a Python callable"),
        (42, (), "a target is a Python callable"),
        ("-m 1bad", (), "not a module name"),
        (work, ("x",), "a callable gets the parameters as keyword arguments"),
        ("-m pkg", "abc", "args must be a list of strings"),
    ],
)
def test_bad_targets(target, args, message):
    with pytest.raises(RunsError, match=message) as info:
        describe(target, args)
    assert "\n" not in str(info.value)


def test_bad_input_to_measure(tmp_path, monkeypatch):
    script = write(tmp_path / "s.py", "")

    def bad(**kwargs):
        return measure(
            **{
                "target": script,
                "parameters": {"n": 1},
                "repeats": 1,
                "components": COMPONENTS,
                "workdir": tmp_path / "w",
                **kwargs,
            }
        )

    with pytest.raises(RunsError, match=r"unknown placeholder \{m\}.*the parameters: n\)"):
        bad(args=["{m}"])
    with pytest.raises(RunsError, match="cannot fill the placeholders"):
        bad(args=["{"])
    with pytest.raises(RunsError, match="wal_clock.*did you mean 'wall_clock'"):
        bad(components=["wal_clock"])
    with pytest.raises(RunsError, match="repeats must be an integer >= 1"):
        bad(repeats=0)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RunsError, match="no module named 'no_such_module'"):
        bad(target="-m no_such_module")
    assert not (tmp_path / "w").exists()  # nothing ran, nothing was created


def test_placeholders():
    params = {"n": 7, "name": "x"}
    assert _execute.format_arguments(["{n:03d}", "{{n}}", "{name}-{n}"], params) == [
        "007",
        "{n}",
        "x-7",
    ]


def test_parameters_outside_and_inside_a_run(monkeypatch):
    monkeypatch.delenv(_execute.ENV, raising=False)
    assert parameters() == {}
    monkeypatch.setenv(_execute.ENV, '{"n": 3}')
    assert parameters() == {"n": 3}
    monkeypatch.setenv(_execute.ENV, "[1]")
    with pytest.raises(RunsError, match="must hold a JSON object"):
        parameters()
    monkeypatch.setenv(_execute.ENV, "{")
    with pytest.raises(RunsError, match="is not valid JSON"):
        parameters()


def test_fork_is_not_used_with_mpi_initialized(monkeypatch):
    class FakeMPI:
        @staticmethod
        def Is_initialized():
            return True

        @staticmethod
        def Is_finalized():
            return False

    monkeypatch.setitem(sys.modules, "mpi4py.MPI", FakeMPI)
    assert _execute._fork_unusable() == "MPI is initialized in this process"


def test_a_program_under_timemory_profile_keeps_its_own_output(tmp_path):
    # the whole program is profiled; its callable measured in between: the repeats' graphs
    # are theirs alone, and the program's output holds none of the repeats' calls
    program = write(
        tmp_path / "prog.py",
        """\
        import sys
        from timemory.runs._execute import measure
        from timemory.runs._graph import read_folder

        def leaf(n):
            return sum(range(n))

        def work(n):
            return leaf(n) + leaf(n)

        def main():
            m = measure(work, {"n": 5}, repeats=2, components=["wall_clock"],
                        workdir=sys.argv[1])
            assert m.error is None, m.error
            for folder in m.repeat_dirs:
                paths = set(read_folder(folder).paths)
                assert paths == {("work",), ("work", "leaf")}, paths
            leaf(3)

        main()
        """,
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "timemory.profiler",
            "-q",
            "-d",
            str(tmp_path / "out"),
            "--",
            str(program),
            str(tmp_path / "w"),
        ],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    paths = set(read_folder(tmp_path / "out").paths)
    assert any(path[-2:] == ("main", "leaf") for path in paths), paths
    assert not any("work" in path for path in paths), paths  # the repeats ran elsewhere


def test_file_lists_saved_after_the_manager_module_is_imported():
    # `import timemory.manager` makes the package's attribute the module (which forwards the
    # public members only): a repeat run in this process must still save and restore the lists
    import importlib

    importlib.import_module("timemory.manager")
    listed = _execute._files_listed()
    _execute._relist(listed)
    assert _execute._files_listed() == listed
