"""The pytest plugin (timemory.runs._pytest): its options, what a --timemory session stores,
the comparison gate, and that it costs nothing without --timemory.

The sessions under test run in subprocesses (pytester.runpytest_subprocess): the plugin
profiles and clears timemory's storage, which this suite's own process must not see."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from timemory.runs import _pytest as plugin
from timemory.runs import read_folder

pytest_plugins = ["pytester"]

# an inner session imports timemory, NumPy and the statistics on a machine that may be busy
TIMEOUT = 600


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # the inner tests count calls across tests: in file order, whatever plugin is installed
    return pytester.runpytest_subprocess(*args, "-p", "no:randomly", timeout=TIMEOUT)


def _error_lines(result: pytest.RunResult) -> list[str]:
    return [line for line in result.errlines if line.strip()]


# ---------------------------------------------------------------------------- options
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--timemory=no_such_clock"], "--timemory: unknown component 'no_such_clock'"),
        (["--timemory", "--timemory-repeat", "0"], "--timemory-repeat: '0' is not an integer"),
        (["--timemory", "--timemory-repeat", "x"], "--timemory-repeat: 'x' is not an integer"),
        (
            ["--timemory", "--timemory-compare", "v1", "--timemory-fail-on", "slow"],
            "--timemory-fail-on: 'slow' is not one of slower, faster, change",
        ),
        (["--timemory", "--timemory-fail-on", "slower"], "--timemory-fail-on needs"),
        (["--timemory", "--timemory-alpha", "1.5"], "--timemory-alpha: '1.5' is not a number"),
        (["--timemory", "--timemory-min-effect", "-1"], "--timemory-min-effect: '-1' is not"),
        (["--timemory-store", "somewhere"], "--timemory-store needs --timemory"),
        (["--timemory", "--timemory-compare", "no/such/store"], "--timemory-compare: no run"),
        (["--timemory", "--timemory-compare", "."], "--timemory-compare: "),
        (["--timemory", "--timemory-store", "test_one.py"], "--timemory-store: "),
        (["--timemory", "--timemory-code", "git:/nonexistent"], "--timemory-code: "),
        (["--timemory-compare", "v1"], "--timemory-compare needs --timemory"),
    ],
)
def test_a_bad_option_value_is_one_usage_error_line(pytester, args, expected):
    pytester.makepyfile(test_one="def test_one():\n    pass\n")
    result = _run(pytester, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    lines = _error_lines(result)
    assert len(lines) == 1, lines
    assert lines[0].startswith("ERROR: ") and expected in lines[0], lines
    assert "Traceback (most recent call last)" not in result.stdout.str()


def test_a_path_taken_for_the_components_says_where_the_option_goes(pytester):
    pytester.makepyfile(test_one="def test_one():\n    pass\n")
    result = _run(pytester, "--timemory", "test_one.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    (line,) = _error_lines(result)
    assert "'test_one.py'" in line and "--timemory=COMPONENTS" in line and "wall_clock" in line


def test_the_options_accept_what_the_guide_says():
    options = plugin.Options(
        "wall_clock, cpu_clock,wall_clock",
        repeat="3",
        compare="v1",
        fail_on="change",
        min_effect="10%",
        alpha="0.01",
    )
    assert options.components == ["wall_clock", "cpu_clock"]
    assert (options.repeat, options.min_effect, options.alpha) == (3, pytest.approx(0.1), 0.01)
    assert plugin.Options("wall_clock").min_effect == 0.05
    for bad in ("nan", "inf", "5%%", ""):
        with pytest.raises(pytest.UsageError, match="--timemory-min-effect"):
            plugin.Options("wall_clock", min_effect=bad)
    with pytest.raises(pytest.UsageError, match="--timemory-alpha"):
        plugin.Options("wall_clock", alpha="0")
    with pytest.raises(pytest.UsageError, match="no component"):
        plugin.Options(",")


def test_p_no_timemory_disables_the_plugin(pytester):
    pytester.makepyfile(test_one="def test_one():\n    pass\n")
    result = _run(pytester, "-p", "no:timemory", "--timemory")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "unrecognized arguments: --timemory" in result.stderr.str()
    assert _run(pytester, "-p", "no:timemory").ret == pytest.ExitCode.OK


def test_without_timemory_the_plugin_loads_nothing_and_runs_no_hook(pytester):
    # the plugin is registered, and yet neither its session nor timemory's store, profiler,
    # statistics or NumPy are loaded in a session without --timemory
    pytester.makepyfile(
        test_cost="""
        import sys

        def test_nothing_loaded(pytestconfig):
            assert pytestconfig.pluginmanager.has_plugin("timemory")
            assert pytestconfig.pluginmanager.get_plugin("timemory-session") is None
            # not even the timemory package: no native core, no exit or fork hooks
            loaded = sorted(
                name for name in sys.modules
                if name == "timemory" or name.startswith(("timemory.", "numpy"))
            )
            assert loaded == []
        """
    )
    result = _run(pytester, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert not list(pytester.path.glob("*timemory*"))


# ---------------------------------------------------------------------------- pure parts
def test_run_parameters_are_the_node_id_and_the_parametrization():
    item = SimpleNamespace(
        nodeid="t.py::test_f[a-1]",
        callspec=SimpleNamespace(
            params={
                "n": 1,
                "mode": "a",
                "sizes": (1, 2),
                "obj": object,
                "x": float("nan"),
                "test": 5,
                "a__b": 1,
            }
        ),
    )
    parameters = plugin.run_parameters(item)
    assert parameters == {
        "test": "t.py::test_f[a-1]",
        "n": 1,
        "mode": "a",
        "sizes": [1, 2],
        "obj": repr(object),
        "x": "nan",
    }
    assert plugin.run_parameters(SimpleNamespace(nodeid="t.py::test_g")) == {"test": "t.py::test_g"}


def test_a_reference_matches_its_code_identity_or_an_abbreviated_commit():
    assert plugin.matches_code("v1", "v1")
    assert not plugin.matches_code("v10", "v1")
    assert not plugin.matches_code(None, "v1")
    commit = "git:0123456789abcdef0123456789abcdef01234567"
    assert plugin.matches_code(commit, "git:0123456")
    assert plugin.matches_code(commit + "-dirty", "git:0123456")
    assert not plugin.matches_code(commit, "git:012")  # too short to name a commit
    assert not plugin.matches_code(commit, "git:0123457")
    assert not plugin.matches_code("git:/some/path", "git:/some")


def test_the_default_code_is_the_git_work_tree_of_the_rootdir(tmp_path):
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "sub").mkdir()
    assert plugin.default_code(str(tmp_path / "repo" / "sub")) == f"git:{tmp_path}/repo/sub"
    in_repo = any((folder / ".git").exists() for folder in [tmp_path, *tmp_path.parents])
    assert plugin.default_code(str(tmp_path)) == (f"git:{tmp_path}" if in_repo else None)


def _graph(paths, inclusive, count):
    inclusive = np.asarray(inclusive, dtype=np.float64)
    count = np.asarray(count, dtype=np.float64)
    return SimpleNamespace(
        components=["wall_clock"],
        units={"wall_clock": "ns"},
        paths=list(paths),
        values={"wall_clock": {"inclusive": inclusive, "self": inclusive / 2, "count": count}},
    )


def test_the_difference_of_two_graphs_is_what_was_recorded_between_them():
    before = _graph([("suite",), ("suite", "setup")], [100, 40], [1, 1])
    after = _graph(
        [("suite",), ("suite", "setup"), ("suite", "test_f"), ("suite", "test_f", "g"), ("h",)],
        [100, 40, 30, 20, 5],
        [1, 1, 2, 3, 0],
    )
    graph = plugin.difference(after, before)
    # "suite" has no new call but stays: a path with new calls is below it; "setup" and "h"
    # (no call) go
    assert graph.paths == [("suite",), ("suite", "test_f"), ("suite", "test_f", "g")]
    assert graph.values["wall_clock"]["inclusive"].tolist() == [0, 30, 20]
    assert graph.values["wall_clock"]["count"].tolist() == [0, 2, 3]
    assert graph.values["wall_clock"]["self"].tolist() == [0, 15, 10]
    # the graphs given are left as they were
    assert after.values["wall_clock"]["inclusive"].tolist() == [100, 40, 30, 20, 5]
    assert len(after.paths) == 5


def _row(verdict, path=("test_f",)):
    return SimpleNamespace(
        verdict=verdict, path=path, component="wall_clock", ratio=2.0, low=1.5, high=2.5, q=0.01
    )


def test_fail_on_flags_the_verdicts_it_names():
    comparison = SimpleNamespace(
        rows=[_row("slower"), _row("faster"), _row("no change"), _row("added")]
    )
    assert [r.verdict for r in plugin.flagged(comparison, "slower")] == ["slower"]
    assert [r.verdict for r in plugin.flagged(comparison, "faster")] == ["faster"]
    assert [r.verdict for r in plugin.flagged(comparison, "change")] == ["slower", "faster"]


def test_the_summary_lists_tests_by_time_and_the_verdicts():
    def table(totals):  # a region with no call, the test below it and a child
        ones = [1.0] * len(totals)
        return SimpleNamespace(
            paths=[("region",), ("region", "test"), ("region", "test", "child")],
            units={"wall_clock": "ns"},
            values={
                "wall_clock": {
                    "inclusive": np.array([[0.0] * len(totals), totals, ones]),
                    "count": np.array([[0.0] * len(totals), ones, ones]),
                }
            },
        )

    fast = SimpleNamespace(
        nodeid="t.py::fast", table=table([1e3, 2e3, 9e9]), comparison=None, flagged=[]
    )
    few = SimpleNamespace(
        nodeid="t.py::few",
        table=table([5.0, 5.0, 5.0]),
        comparison=SimpleNamespace(rows=[_row("not enough data"), _row("added")]),
        flagged=[],
    )
    slow = SimpleNamespace(
        nodeid="t.py::slow",
        table=table([3e6, 4e6, 5e6]),
        comparison=SimpleNamespace(
            rows=[_row("slower", ("test", "child")), _row("no change"), _row("faster", ())]
        ),
        flagged=[_row("slower")],
    )
    session = SimpleNamespace(
        options=plugin.Options("wall_clock", repeat="3", compare="v1", fail_on="slower"),
        results=[fast, slow, few],
        store=SimpleNamespace(path="/store"),
        notes=[],
        problems=["not compared: t.py::x: why"],
        skipped=["t.py::test_async"],
    )
    lines = plugin.summary_lines(session)
    text = "\n".join(lines)
    # by median: slow (4 ms) before fast (2 us, whatever its one long repeat)
    assert text.index("4 ms  t.py::slow") < text.index("2 us  t.py::fast")
    assert "3 tests profiled (3 repeats each) into /store" in lines[0]
    assert "2 tests compared (1 with slower nodes, 1 with faster nodes), 1 without" in text
    assert "1 tests with not enough data for any verdict" in text
    assert "slower   2.00x [1.50, 2.50] q=0.01  t.py::slow  test/child (wall_clock)" in text
    assert "faster   2.00x [1.50, 2.50] q=0.01  t.py::slow  (whole run) (wall_clock)" in text
    assert "1 tests flagged: the session fails (exit status 1)" in text
    assert "not profiled (async, or not Python functions): 1 tests" in text
    assert "not compared: t.py::x: why" in lines


# ---------------------------------------------------------------------------- sessions
PARAMETRIZED = """
import pytest

CALLS = []

def inner(n):
    return sum(range(n))

@pytest.fixture
def setup_count():
    CALLS.append("setup")
    return len(CALLS)

@pytest.mark.parametrize("n", [10, 20])
@pytest.mark.parametrize("mode", ["fast", "exact"])
def test_work(n, mode, setup_count):
    CALLS.append("call")
    assert inner(n) >= 0

def test_after():
    # fixtures were set up once per test, the test functions called three times each
    assert CALLS.count("setup") == 4 and CALLS.count("call") == 12
"""


def _store_runs(path):
    from timemory.runs import Store  # the store is a part of its own

    return Store(str(path), create=False).runs


def test_a_session_stores_one_run_per_test_with_its_parameters(pytester, monkeypatch):
    # the profiler measures the components of --timemory only, not those of the settings
    monkeypatch.setenv("TIMEMORY_PROFILER_COMPONENTS", "cpu_clock")
    pytester.makepyfile(test_inner=PARAMETRIZED)
    store = pytester.path / "store"
    result = _run(pytester, "--timemory", "--timemory-store", str(store), "--timemory-repeat", "3")
    result.assert_outcomes(passed=5)
    runs = _store_runs(store)
    assert len(runs) == 5
    by_test = {run.parameters["test"]: run for run in runs}
    work = [run for test, run in by_test.items() if "test_work" in test]
    assert sorted((run.parameters["n"], run.parameters["mode"]) for run in work) == [
        (10, "exact"),
        (10, "fast"),
        (20, "exact"),
        (20, "fast"),
    ]
    for run in runs:
        assert set(run.parameters) == (
            {"test", "n", "mode"} if "test_work" in run.parameters["test"] else {"test"}
        )
        assert run.parameters["test"].startswith("test_inner.py::")
        assert run.code is None  # the rootdir is not in a git work tree
        assert run.target["kind"] == "external" and run.target["name"] == run.parameters["test"]
        assert (run.done, run.repeats, run.components) == (True, 3, ["wall_clock"])
        assert run.table().components == ["wall_clock"]
        assert len(run.runtime) == 3
        table = run.table()
        assert table.repeats == 3
        # the graph of each repeat is the test function's call and what it calls, once
        name = run.parameters["test"].split("::")[1].split("[")[0]
        tops = [path for path in table.paths if len(path) == 1]
        assert len(tops) >= 1 and any(name in path[0] for path in tops), table.paths
        top = next(i for i, path in enumerate(table.paths) if name in path[0])
        assert table.values["wall_clock"]["count"][top].tolist() == [1.0, 1.0, 1.0]
        if name == "test_work":
            inner = [i for i, path in enumerate(table.paths) if "inner" in path[-1]]
            assert inner and table.values["wall_clock"]["count"][inner[0]].tolist() == [1.0] * 3
        # each repeat's output folder holds the same call graph
        folders = run.repeat_dirs()
        assert len(folders) == 3
        for folder in folders:
            assert read_folder(folder).paths == table.paths
    # the session's work folder is gone
    assert not list((store / "work").iterdir())
    text = result.stdout.str()
    assert "timemory: 5 tests profiled (3 repeats each)" in text
    assert "test_inner.py::test_work[" in text
    # the profiler's data left nothing for timemory's output at exit
    assert not [p for p in pytester.path.iterdir() if p.name.startswith("timemory")]


def test_the_default_store_is_in_pytests_cache(pytester):
    pytester.makepyfile(test_one="def test_one():\n    pass\n")
    _run(pytester, "--timemory").assert_outcomes(passed=1)
    runs = _store_runs(pytester.path / ".pytest_cache" / "d" / plugin.CACHE_NAME)
    assert [run.parameters for run in runs] == [{"test": "test_one.py::test_one"}]
    result = _run(pytester, "--timemory", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--timemory-store DIR" in _error_lines(result)[0]


SUITE_WITH_OWN_DATA = """
import pytest
import timemory
from timemory.bundle import marker

@pytest.fixture(scope="session", autouse=True)
def suite_region():
    with marker(["wall_clock"], key="suite_setup"):
        pass
    yield

def helper():
    return 1

def test_profiled():
    assert helper() == 1

def test_suite_data_kept():
    # the suite's own record is still in the storage after test_profiled
    assert "suite_setup" in timemory.snapshot(["wall_clock"]).labels
"""


def test_data_the_suite_recorded_is_kept_and_not_in_the_tests_graphs(pytester):
    pytester.makepyfile(test_own=SUITE_WITH_OWN_DATA)
    store = pytester.path / "store"
    result = _run(pytester, "--timemory", "--timemory-store", str(store), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    (run,) = [r for r in _store_runs(store) if r.parameters["test"].endswith("test_profiled")]
    paths = run.table().paths
    assert any("helper" in path[-1] for path in paths)
    assert run.repeat_dirs() == []  # their folders would hold the suite's data too
    assert not any("suite_setup" in label for path in paths for label in path), paths


SLOWDOWN = """
import time

DELAY = {delay}

def work():
    # sleep-bound: its time hardly depends on how busy the machine is
    time.sleep(0.02 + DELAY)

def test_case():
    work()
"""


def _session(pytester, delay, store, *args):
    pytester.makepyfile(test_speed=SLOWDOWN.format(delay=delay))
    return _run(
        pytester,
        "--timemory",
        "--timemory-store",
        str(store),
        "--timemory-repeat",
        "8",
        "-p",
        "no:cacheprovider",
        *args,
    )


def test_compare_fails_the_session_on_a_slowdown_and_passes_without(pytester):
    store = pytester.path / "store"
    _session(pytester, 0.0, store, "--timemory-code", "base").assert_outcomes(passed=1)
    # a minimum effect of 50%: the A/A session must pass however busy the machine is, and
    # 0.07 s against 0.02 s is far above it
    gate = ["--timemory-compare", "base", "--timemory-fail-on", "slower"]
    gate += ["--timemory-min-effect", "50%"]

    slower = _session(pytester, 0.05, store, "--timemory-code", "slow", *gate)
    slower.assert_outcomes(passed=1)  # the test passes, the session fails
    assert slower.ret == 1
    text = slower.stdout.str()
    assert "comparison with base: 1 tests compared (1 with slower nodes" in text
    assert "--timemory-fail-on=slower: 1 tests flagged" in text
    assert any(line.split()[:1] == ["slower"] and "work" in line for line in slower.outlines)

    same = _session(pytester, 0.0, store, "--timemory-code", "same", *gate)
    same.assert_outcomes(passed=1)
    assert same.ret == pytest.ExitCode.OK, same.stdout.str()
    assert "--timemory-fail-on=slower: no test flagged" in same.stdout.str()

    # another store as the reference: the runs of the test in it, whatever their code
    other = pytester.path / "other"
    _session(pytester, 0.0, other, "--timemory-code", "x").assert_outcomes(passed=1)
    again = _session(
        pytester, 0.05, store, "--timemory-compare", str(other), "--timemory-fail-on", "slower"
    )
    assert again.ret == 1

    runs = _store_runs(store)
    assert sorted(str(run.code) for run in runs) == ["None", "base", "same", "slow"]


def test_a_test_without_reference_does_not_fail_the_session(pytester):
    store = pytester.path / "store"
    result = _session(
        pytester, 0.0, store, "--timemory-compare", "nothing", "--timemory-fail-on", "change"
    )
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK
    assert "0 tests compared" in result.stdout.str()
    assert "1 without a reference run" in result.stdout.str()


def test_a_failing_test_fails_and_is_not_stored(pytester):
    pytester.makepyfile(
        test_bad="""
        COUNT = []

        def test_second_call_fails():
            COUNT.append(1)
            assert len(COUNT) < 2
        """
    )
    store = pytester.path / "store"
    result = _run(pytester, "--timemory", "--timemory-store", str(store), "--timemory-repeat", "2")
    result.assert_outcomes(failed=1)
    assert _store_runs(store) == []
    assert json.loads((store / "timemory-store.json").read_text())["format"]


def test_a_test_that_cannot_be_measured_still_passes_and_is_reported(pytester):
    # the profiler's gate, closed by the first test, keeps the second from being profiled:
    # nothing is recorded for it
    pytester.makepyfile(
        test_gate="""
        from timemory.profiler import Profiler

        def test_close_the_gate():
            Profiler.condition(lambda: False)

        def test_unmeasured():
            assert sum(range(10)) == 45
        """
    )
    store = pytester.path / "store"
    result = _run(pytester, "--timemory", "--timemory-store", str(store))
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.OK
    assert [run.parameters["test"] for run in _store_runs(store)] == [
        "test_gate.py::test_close_the_gate"
    ]
    (line,) = [line for line in result.outlines if line.startswith("not measured: ")]
    assert "test_gate.py::test_unmeasured: wall_clock has no data" in line
    # timemory printed nothing: the repeats' folders are not the run's output
    assert not [line for line in result.errlines if "timemory" in line]


def test_a_reference_that_cannot_be_read_is_reported_and_the_test_stored(pytester):
    store = pytester.path / "store"
    _session(pytester, 0.0, store, "--timemory-code", "base").assert_outcomes(passed=1)
    (run,) = _store_runs(store)
    (pytester.path / "store" / "runs" / run.id / "table.json").write_text("{")
    result = _session(
        pytester,
        0.0,
        store,
        "--timemory-code",
        "new",
        "--timemory-compare",
        "base",
        "--timemory-fail-on",
        "change",
    )
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK
    (line,) = [line for line in result.outlines if line.startswith("not compared: ")]
    assert line.startswith("not compared: test_speed.py::test_case: ")
    assert "1 without a reference run" in result.stdout.str()
    assert sorted(str(r.code) for r in _store_runs(store)) == ["base", "new"]


def test_a_parameter_named_like_a_runs_field_still_finds_its_reference(pytester):
    # "code" is also the store's filter of the runs' code identity
    pytester.makepyfile(
        test_named="""
        import pytest

        @pytest.mark.parametrize("code", ["a"])
        def test_named(code):
            assert code == "a"
        """
    )
    store = pytester.path / "store"
    args = ["--timemory", "--timemory-store", str(store), "-p", "no:cacheprovider"]
    _run(pytester, *args, "--timemory-code", "base").assert_outcomes(passed=1)
    result = _run(pytester, *args, "--timemory-code", "new", "--timemory-compare", "base")
    result.assert_outcomes(passed=1)
    assert "comparison with base: 1 tests compared" in result.stdout.str()
    # one repeat a side: no verdict can be reached, and the summary says so
    assert "1 tests with not enough data for any verdict" in result.stdout.str()
    assert {run.parameters["code"] for run in _store_runs(store)} == {"a"}
