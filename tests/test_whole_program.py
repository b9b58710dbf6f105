"""``-m package`` under the three tools that run a program (``timemory.profiler``,
``timemory.trace``, ``timemory.line_profiler``) runs like ``python -m package``: the package's
import is measured (its ``__init__`` runs after the tool started, with the tool's builtins and
the program's ``sys.argv``), the counts are cProfile's, stdout and the exit status are plain
Python's, and a module that cannot be run is one line and status 2 before anything runs."""

from __future__ import annotations

import json
import pstats
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tool_helpers import clean_env, run_tool, write

TOOLS = ["timemory.profiler", "timemory.trace", "timemory.line_profiler"]
PROGS = {tool: f"python -m {tool}" for tool in TOOLS}

# The package's functions have unique names (wp_...) and one-line bodies, so that a
# function's calls are also the hits of its body line (what the tracer and the line
# profiler count). wp_mid and wp_init_step are called only while the package is imported.
PACKAGE = {
    "wp_pkg/__init__.py": """\
        import builtins
        import json
        import sys

        from wp_pkg import work

        PROFILE_IS_BUILTIN = hasattr(builtins, "profile")
        try:
            profile
        except NameError:  # plain python: no profiler builtins

            def profile(function):
                return function


        INIT_ARGV = list(sys.argv)


        def wp_init_step(n):
            return n * 2


        @profile
        def wp_decorated(n):
            return work.wp_leaf(n) + 1


        for i in range(5):
            wp_init_step(i)
        for i in range(3):
            work.wp_mid(i)
        wp_decorated(1)
        wp_decorated(2)
        print("PKG init", json.dumps(INIT_ARGV))
        """,
    "wp_pkg/work.py": """\
        def wp_leaf(n):
            return n + 1


        def wp_mid(n):
            return wp_leaf(n) + wp_leaf(n + 1)
        """,
    "wp_pkg/__main__.py": """\
        import json
        import sys

        import wp_pkg
        from wp_pkg import work


        def wp_main_step(n):
            return work.wp_leaf(n)


        for i in range(4):
            wp_main_step(i)
        print("PKG main", json.dumps([__name__, sys.argv]))
        print(f"PKG profile is a builtin: {wp_pkg.PROFILE_IS_BUILTIN}", file=sys.stderr)
        sys.exit(3)
        """,
    "wp_pkg/sub/__init__.py": """\
        import json
        import sys

        from wp_pkg import work


        def wp_sub_init_step(n):
            return work.wp_mid(n)


        wp_sub_init_step(10)
        wp_sub_init_step(11)
        print("PKG sub init", json.dumps(sys.argv))
        """,
    "wp_pkg/sub/__main__.py": """\
        import json
        import sys

        from wp_pkg import work


        def wp_sub_main_step(n):
            return work.wp_leaf(n)


        wp_sub_main_step(1)
        print("PKG sub main", json.dumps([__name__, sys.argv]))
        """,
    # a package without __main__, whose import would leave a trace
    "wp_nomain/__init__.py": """\
        open("nomain-imported", "w").close()
        """,
    # a package whose __init__ fails: the program's error
    "wp_broken/__init__.py": """\
        print("PKG broken init")
        raise ValueError("broken init")
        """,
    "wp_broken/__main__.py": """\
        print("PKG broken main")
        """,
}


@pytest.fixture
def package(tmp_path: Path) -> Path:
    for name, source in PACKAGE.items():
        write(tmp_path / name, source)
    return tmp_path


def python(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def cprofile_counts(cwd: Path, module: str, *args: str) -> dict[str, int]:
    """The calls of each wp_ function in ``python -m cProfile -m module args``."""
    proc = python(cwd, "-m", "cProfile", "-o", "out.prof", "-m", module, *args)
    assert (cwd / "out.prof").exists(), proc.stderr
    stats = pstats.Stats(str(cwd / "out.prof"))
    counts: dict[str, int] = {}
    for (filename, _line, name), (_cc, calls, *_rest) in stats.stats.items():  # type: ignore[attr-defined]
        if name.startswith("wp_") and filename.startswith(str(cwd)):
            counts[name] = counts.get(name, 0) + calls
    (cwd / "out.prof").unlink()
    return counts


def body_lines(cwd: Path) -> dict[tuple[str, int], str]:
    """(file name, line of the one-line body) -> function, for the package's functions."""
    out: dict[tuple[str, int], str] = {}
    for path in (cwd / "wp_pkg").rglob("*.py"):
        for number, text in enumerate(path.read_text().splitlines(), 1):
            match = re.match(r"\s*def (wp_\w+)\(", text)
            if match:
                out[(path.name, number + 1)] = match[1]
    return out


def measured(tool: str, cwd: Path, folder: str) -> dict[str, int]:
    """The calls of each wp_ function the tool recorded, from its output files."""
    out = cwd / folder
    counts: dict[str, int] = {}
    if tool == "timemory.profiler":
        tree = json.loads((out / "wall.tree.json").read_text())

        def visit(node: dict) -> None:
            # a function's name (a module's top-level code, <module wp_pkg/...>, is not one)
            match = re.search(r"(?<!<module )\bwp_\w+", node["node"]["prefix"])
            if match:
                laps = node["node"]["inclusive"]["entry"]["laps"]
                counts[match[0]] = counts.get(match[0], 0) + laps
            for child in node.get("children", []):
                visit(child)

        for rank in tree["timemory"]["wall_clock"]["graph"]:
            for root in rank:
                visit(root)
    elif tool == "timemory.trace":  # one entry per line: the body line's hits are the calls
        lines = body_lines(cwd)
        flat = json.loads((out / "wall.json").read_text())
        for entry in flat["timemory"]["wall_clock"]["ranks"][0]["graph"]:
            match = re.search(r"\[(wp_\w+)\]\[([^\]:]+):0*(\d+)\]", entry["prefix"])
            if match and lines.get((match[2], int(match[3]))) == match[1]:
                counts[match[1]] = counts.get(match[1], 0) + entry["entry"]["laps"]
    else:  # the line profiler: the functions decorated with @profile, line by line
        lines = body_lines(cwd)
        body = json.loads((out / "wall.lines.json").read_text())["timemory"]["line_profile"]
        for function in body["functions"]:
            name = Path(function["file"]).name
            for number, hits, *_ in function["lines"]:
                if lines.get((name, number)) == function["function"]:
                    counts[function["function"]] = hits
    return counts


def kept_by_default(tool: str, path: Path) -> bool:
    """Whether the tool's default file filters keep the functions of ``path``."""
    if tool == "timemory.line_profiler":
        return True
    if tool == "timemory.profiler":
        from timemory.profiler import config
    else:
        from timemory.trace import config
    config.reset()
    return not any(re.search(p, str(path)) for p in config.skip_filenames)


def assert_like_python(proc: subprocess.CompletedProcess, plain: subprocess.CompletedProcess):
    """The exit status and the program's stdout are plain Python's (timemory's own messages
    around it are allowed only before and after the program's output)."""
    assert proc.returncode == plain.returncode, proc.stderr
    assert plain.stdout and plain.stdout in proc.stdout, (plain.stdout, proc.stdout)
    assert proc.stdout.count("PKG ") == plain.stdout.count("PKG "), proc.stdout
    assert "Traceback (most recent call last)" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("tool", TOOLS)
def test_the_packages_import_is_measured_like_python_runs_it(tool, package):
    plain = python(package, "-m", "wp_pkg", "a", "b")
    assert plain.returncode == 3, plain.stderr
    # what python -m shows the program: "-m" while the package is imported, then the file
    assert plain.stdout.splitlines() == [
        'PKG init ["-m", "a", "b"]',
        "PKG main " + json.dumps(["__main__", [str(package / "wp_pkg" / "__main__.py"), "a", "b"]]),
    ]
    assert "PKG profile is a builtin: False" in plain.stderr
    expected = cprofile_counts(package, "wp_pkg", "a", "b")
    assert expected == {
        "wp_leaf": 12,
        "wp_mid": 3,
        "wp_init_step": 5,
        "wp_decorated": 2,
        "wp_main_step": 4,
    }

    proc = run_tool(tool, "-m", "wp_pkg", "a", "b", cwd=package)
    assert_like_python(proc, plain)
    # the bare @profile in __init__ was the tool's builtin
    assert "PKG profile is a builtin: True" in proc.stderr

    counts = measured(tool, package, "timemory-wp-pkg-output")
    if tool == "timemory.line_profiler":  # what the program decorates
        assert counts == {"wp_decorated": 2}
        return
    # every function measured has cProfile's count, and those the default filters keep are
    # all measured: wp_mid runs only during the import
    assert {name: expected[name] for name in counts} == counts
    required = {"wp_leaf", "wp_mid", "wp_main_step"}
    if kept_by_default(tool, package / "wp_pkg" / "__init__.py"):
        required |= {"wp_init_step", "wp_decorated"}
    assert required <= set(counts), counts


@pytest.mark.parametrize("tool", ["timemory.profiler", "timemory.trace"])
def test_decorated_only_mode_sees_the_decorator_in_init(tool, package):
    proc = run_tool(tool, "-b", "-m", "wp_pkg", "a", "b", cwd=package)
    assert_like_python(proc, python(package, "-m", "wp_pkg", "a", "b"))
    counts = measured(tool, package, "timemory-wp-pkg-output")
    # only while wp_decorated runs (twice): itself, unless a filter hides its file, and
    # the wp_leaf it calls
    assert counts.pop("wp_decorated", 2) == 2
    assert counts == {"wp_leaf": 2}


@pytest.mark.parametrize("tool", TOOLS)
def test_a_dotted_module_imports_its_parents_under_the_tool(tool, package):
    plain = python(package, "-m", "wp_pkg.sub", "x")
    assert plain.returncode == 0, plain.stderr
    main_file = str(package / "wp_pkg" / "sub" / "__main__.py")
    assert plain.stdout.splitlines() == [
        'PKG init ["-m", "x"]',
        'PKG sub init ["-m", "x"]',
        "PKG sub main " + json.dumps(["__main__", [main_file, "x"]]),
    ]
    expected = cprofile_counts(package, "wp_pkg.sub", "x")

    proc = run_tool(tool, "-m", "wp_pkg.sub", "x", cwd=package)
    assert_like_python(proc, plain)
    counts = measured(tool, package, "timemory-wp-pkg.sub-output")
    if tool == "timemory.line_profiler":
        assert counts == {"wp_decorated": 2}
        return
    assert {name: expected[name] for name in counts} == counts
    # both parents' imports are measured (wp_pkg's, then wp_pkg.sub's)
    assert {"wp_mid", "wp_leaf", "wp_sub_main_step"} <= set(counts), counts
    assert counts["wp_mid"] == 3 + 2


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize(
    ("module", "text"),
    [
        ("wp_no_such_module", "no module named 'wp_no_such_module'"),
        ("wp_pkg.no_such_module", "no module named 'wp_pkg.no_such_module'"),
        ("wp_nomain", "'wp_nomain' is a package that has no __main__ module"),
        (".wp_pkg", "relative module names are not supported"),
    ],
)
def test_a_module_that_cannot_run_is_one_line_before_anything_runs(tool, module, text, package):
    before = sorted(p.name for p in package.iterdir())
    proc = run_tool(tool, "-m", module, cwd=package)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{PROGS[tool]}: error: "), proc.stderr
    assert text in lines[0], lines
    assert proc.stdout == ""
    # no package's __init__ ran, nothing was written
    assert sorted(p.name for p in package.iterdir()) == before


@pytest.mark.parametrize("tool", TOOLS)
def test_a_failure_in_init_is_the_programs_error(tool, package):
    plain = python(package, "-m", "wp_broken")
    assert plain.returncode == 1 and plain.stdout == "PKG broken init\n"
    proc = run_tool(tool, "-m", "wp_broken", cwd=package)
    assert proc.returncode == 1, proc.stderr
    assert "PKG broken init" in proc.stdout and "PKG broken main" not in proc.stdout
    # the program's traceback, from its __init__, without the runner's frames
    assert "Traceback" in proc.stderr and "ValueError: broken init" in proc.stderr
    assert str(package / "wp_broken" / "__init__.py") in proc.stderr
    assert "_cli.py" not in proc.stderr and "error:" not in proc.stderr


WORKERS = {
    "wpw_pkg/__init__.py": """\
        from wpw_pkg.tasks import wpw_task
        """,
    "wpw_pkg/tasks.py": """\
        @profile
        def wpw_task(i):
            return i * 2
        """,
    "wpw_pkg/__main__.py": """\
        import multiprocessing as mp
        import sys

        from wpw_pkg import wpw_task

        if __name__ == "__main__":
            with mp.get_context(sys.argv[1]).Pool(2) as pool:
                print(sum(pool.map(wpw_task, range(8), chunksize=1)))
        """,
}


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_spawned_workers_of_a_package_import_it_with_the_builtins(tmp_path, method):
    """Spawned workers import the package again (its bare @profile in __init__) and measure."""
    for name, source in WORKERS.items():
        write(tmp_path / name, source)
    proc = run_tool("timemory.profiler", "-m", "wpw_pkg", method, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback (most recent call last)" not in proc.stderr, proc.stderr
    assert "56" in proc.stdout.split()
    flat = json.loads((tmp_path / "timemory-wpw-pkg-output/wall.json").read_text())
    graph = flat["timemory"]["wall_clock"]["ranks"][0]["graph"]
    tasks = [e for e in graph if "wpw_task" in e["prefix"]]
    assert sum(e["stats"]["count"] for e in tasks) == 8, [e["prefix"] for e in graph]


def test_resolving_a_dotted_module_imports_nothing(package, monkeypatch):
    """The check before the run finds wp_pkg.sub's __main__ without running any __init__."""
    from timemory import _cli

    monkeypatch.chdir(package)
    for name in ("wp_pkg", "wp_pkg.sub", "wp_pkg.work", "wp_pkg.sub.__main__"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    target = _cli.resolve_target(["-m", "wp_pkg.sub", "x"])
    assert target.path == str(package / "wp_pkg" / "sub" / "__main__.py")
    assert target.spec.name == "wp_pkg.sub.__main__"
    assert target.argv == [target.path, "x"]
    assert not {"wp_pkg", "wp_pkg.sub", "wp_pkg.work"} & set(sys.modules)
    with pytest.raises(_cli.CliError, match="'wp_pkg.work' is not a package"):
        _cli.resolve_target(["-m", "wp_pkg.work.x"])
    assert "wp_pkg" not in sys.modules
