"""The filters of the function profiler and the line tracer (issue 16): by default nothing the
user wrote is skipped (no ``__init__.py``, no substring of a file name, code with a
``<...>`` file name measured and labelled by what it is), the few defaults match whole
standard-library file names, ``config`` and the command lines can replace them, ``--help``
lists them, and the profiler and the tracer agree."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
import timemory
from timemory import _core, _hook_config
from timemory._hook_config import DEFAULT_SKIP_FILENAMES, DEFAULT_SKIP_FUNCTIONS
from timemory.profiler import Config as ProfilerConfig
from timemory.profiler import config as profiler_config
from timemory.profiler import profile
from timemory.storage import storage_class
from timemory.trace import Config as TracerConfig
from timemory.trace import config as tracer_config
from timemory.trace import trace
from tool_helpers import assert_one_error_line, clean_env, run_tool, write

CONFIGS = (ProfilerConfig, TracerConfig)
TOOLS = ("timemory.profiler", "timemory.trace")


@pytest.fixture(autouse=True)
def _fresh_config():
    for cls in CONFIGS:
        cls.reset()
    yield
    for cls in CONFIGS:
        cls.reset()
    assert not _core.profiler_active() and not _core.tracer_active()


def code_in(filename: str, name: str = "work", module: bool = False) -> types.CodeType:
    """A code object of a function ``name`` (or a module's code) whose file is ``filename``."""
    source = f"def {name}():\n    return 1\n"
    compiled = compile(source, filename, "exec")
    if module:
        return compiled
    return next(c for c in compiled.co_consts if isinstance(c, types.CodeType))


USER_FILES = (
    "/home/u/project/autoencoder.py",  # matched `(encoder|decoder).py$` before
    "/home/u/project/json_decoder.py",
    "/home/u/project/my_threading.py",  # `threading.py$`
    "/home/u/project/functools_extra.py",
    "/home/u/project/functools.py",  # a user's module may take a stdlib module's name
    "/home/u/project/pkg/__init__.py",  # every package's __init__ was skipped
    "/home/u/project/pkg/__main__.py",
    "/home/u/project/_pylab_helpers.py",
    "<string>",  # python -c, exec of a string
    "<stdin>",  # the interactive interpreter
    "<ipython-input-3-5f0e2a1b9c7d>",  # IPython before 8 / Python before 3.11
    "/tmp/ipykernel_4242/2871562651.py",  # ipykernel's cell files
    "<template>",  # jinja2's Environment.from_string
    "<dynamic-code>",  # cloudpickle's functions (Dask, loky, Ray)
    "<frozen posixpath>",  # frozen standard library (3.11+): os.path.join and others
    "/home/u/project/<frozen importlib._bootstrap>",  # only the whole name is the stdlib's
)


# ------------------------------------------------------------------ defaults
def test_defaults_are_minimal_and_anchored():
    assert DEFAULT_SKIP_FUNCTIONS == ()
    assert DEFAULT_SKIP_FILENAMES  # the import machinery, justified where defined
    for pattern in DEFAULT_SKIP_FILENAMES:
        assert pattern.startswith("^") and pattern.endswith("$"), pattern
    keep = _hook_config.make_filter({**_hook_config.pattern_defaults(), "include_internal": False})
    assert not keep("_find_and_load", "<frozen importlib._bootstrap>", False)
    assert not keep("exec_module", "<frozen importlib._bootstrap_external>", False)
    assert keep("_find_and_load", "<frozen importlib._bootstrap>x", False)
    for path in USER_FILES:
        for name in ("work", "__exit__", "basename", "isfunction", "_shutdown", "<lambda>"):
            assert keep(name, path, False), (name, path)


def test_the_defaults_name_the_files_this_interpreter_runs():
    import importlib._bootstrap as bootstrap
    import importlib._bootstrap_external as external
    import sysconfig
    import threading

    names = {
        bootstrap._find_and_load.__code__.co_filename,
        external.SourceFileLoader.exec_module.__code__.co_filename,
        threading.Thread.run.__code__.co_filename,
    }
    assert all(any(re.search(p, n) for p in DEFAULT_SKIP_FILENAMES) for n in names), names
    # the threading pattern is the whole path of the standard library's file
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert Path(threading.__file__).resolve() == stdlib / "threading.py"
    assert [p for p in DEFAULT_SKIP_FILENAMES if re.search(p, threading.__file__)] == [
        "^" + re.escape(threading.__file__) + "$"
    ]
    for elsewhere in ("/home/u/threading.py", threading.__file__ + "x", "x" + threading.__file__):
        assert not any(re.search(p, elsewhere) for p in DEFAULT_SKIP_FILENAMES), elsewhere


def test_a_threads_graph_starts_at_its_function():
    import threading

    def in_thread():
        return sum(range(100))

    timemory.settings.collapse_threads = False
    try:
        with profile(["wall_clock"]):
            worker = threading.Thread(target=in_thread)
            worker.start()
            worker.join()
        roots = timemory.get(hierarchy=True)["timemory"]["wall_clock"]["graph"]
        labels = [
            child["node"]["prefix"].split(">>> ")[-1]
            for per_thread in roots
            for root in per_thread
            for child in root.get("children", [])
        ]
    finally:
        timemory.settings.collapse_threads = True
    assert "in_thread" in labels, labels
    assert not {"run", "_bootstrap", "_bootstrap_inner", "_delete", "start", "join"} & set(labels)


def test_timemory_itself_is_internal_but_not_a_package_named_alike():
    package = _hook_config.PACKAGE_DIR
    assert _hook_config.is_internal(_hook_config.__file__)
    assert not _hook_config.is_internal(package + "_extras/work.py")
    assert not _hook_config.is_internal(package + ".py")


@pytest.mark.parametrize("cls", CONFIGS, ids=["profiler", "tracer"])
@pytest.mark.parametrize("path", USER_FILES)
def test_user_files_are_labelled_not_skipped(cls, path):
    labeler = cls.labeler()
    assert labeler(code_in(path)) is not None
    assert labeler(code_in(path, module=True)) is not None


def test_the_profiler_and_the_tracer_agree():
    assert ProfilerConfig.skip_filenames == TracerConfig.skip_filenames
    assert ProfilerConfig.skip_functions == TracerConfig.skip_functions
    paths = (*USER_FILES, "<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>")
    for setting in (None, ["^work$"], []):
        if setting is not None:
            profiler_config.skip_filenames = setting
            tracer_config.skip_filenames = setting
        for path in paths:
            code = code_in(path)
            profiled = ProfilerConfig.labeler()(code) is not None
            traced = TracerConfig.labeler()(code) is not None
            assert profiled == traced, (setting, path)


# ------------------------------------------------------------------ labels
@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("/home/u/project/script.py", "<module script.py>"),
        ("/home/u/project/pkg/__init__.py", "<module pkg/__init__.py>"),
        ("/home/u/project/pkg/__main__.py", "<module pkg/__main__.py>"),
        ("<string>", "<module <string>>"),
        ("<stdin>", "<module <stdin>>"),
        ("<ipython-input-3-5f0e2a1b9c7d>", "<module <ipython-input-3-5f0e2a1b9c7d>>"),
        ("<template>", "<module <template>>"),
    ],
)
def test_module_level_code_is_named_by_its_file(path, label):
    assert ProfilerConfig.labeler()(code_in(path, module=True))[0] == label
    # the tracer's labels end [function][file:line]: without the file, the function names it
    tracer_config.include_filename = False
    assert all(
        f"[{label}:" in text for _, text, _ in TracerConfig.labeler()(code_in(path, module=True))
    )


def test_labels_that_show_the_file_keep_module_short():
    profiler_config.include_filename = True
    profiler_config.include_line = True
    assert ProfilerConfig.labeler()(code_in("<string>", module=True))[0] == "[<module>][<string>:1]"
    assert ProfilerConfig.labeler()(code_in("<dynamic-code>"))[0] == "[work][<dynamic-code>:1]"
    profiler_config.full_filepath = True
    profiler_config.include_filename = False
    profiler_config.include_line = False
    assert ProfilerConfig.labeler()(code_in("/a/b.py", module=True))[0] == "<module /a/b.py>"
    labels = TracerConfig.labeler()(code_in("<template>", module=True))
    assert labels and all(text.endswith("[<module>][<template>:1]") for _, text, _ in labels)


def flat_labels(component: str = "wall_clock") -> list[str]:
    return [e.label() for e in storage_class(component).get()]


TEMPLATE = """\
def render(n):
    return "".join(str(i) for i in range(n))


out = render(50)
"""


def test_exec_of_compiled_code_is_measured():
    code = compile(TEMPLATE, "<template>", "exec")
    with profile(["wall_clock"]):
        exec(code, {})
    labels = flat_labels()
    assert "<module <template>>" in labels and "render" in labels, labels
    assert "<genexpr>" in labels, labels  # a generator expression is code the user wrote
    timemory.clear()
    with trace(["wall_clock"]):
        exec(code, {})
    lines = flat_labels()
    assert any(label.endswith("[render][<template>:2]") for label in lines), lines
    assert any(label.endswith("[<module>][<template>:5]") for label in lines), lines


def test_a_function_from_dynamic_code_is_measured():
    # cloudpickle rebuilds a function sent to a worker with this file name (Dask, loky, Ray)
    shipped = types.FunctionType(code_in("<dynamic-code>", "shipped"), {})
    profiler_config.include_filename = True
    with profile(["wall_clock"]):
        for _ in range(3):
            shipped()
    (entry,) = [e for e in storage_class("wall_clock").get() if "shipped" in e.label()]
    assert entry.label() == "[shipped][<dynamic-code>]" and entry.data().laps() == 3


# ------------------------------------------------------------------ config replaces and adds
def test_config_can_replace_the_defaults_and_add_to_them():
    import importlib

    for cfg in (profiler_config, tracer_config):
        cfg.skip_filenames += r"helper\.py$"
        assert cfg.skip_filenames == [*DEFAULT_SKIP_FILENAMES, r"helper\.py$"]
        cfg.skip_filenames = []
        assert cfg.skip_filenames == []
        with pytest.raises(ValueError, match=r"^config\.skip_filenames: invalid regular"):
            cfg.skip_filenames = ["("]
        with pytest.raises(TypeError, match="takes a regex or a list"):
            cfg.skip_functions = 3
        assert cfg.skip_filenames == []  # a rejected value changes nothing
    # without the defaults the import system's frames are measured
    sys.modules.pop("json.tool", None)
    with profile(["wall_clock"]):
        importlib.import_module("json.tool")
    assert "_find_and_load" in flat_labels()


def test_an_import_reads_as_the_imported_modules_code(tmp_path, monkeypatch):
    write(tmp_path / "filters_mod_a.py", "import filters_mod_b\n")
    write(tmp_path / "filters_mod_b.py", "def f():\n    return 1\n\n\nf()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with profile(["wall_clock"]):
            import filters_mod_a  # noqa: F401
        tree = timemory.get(hierarchy=True)["timemory"]["wall_clock"]["graph"][0]
        paths = []

        def walk(node: dict, path: tuple[str, ...]) -> None:
            here = (*path, re.sub(r"^(\|\d+)*>>> (\s*\|_)?", "", node["node"]["prefix"]))
            paths.append(here)
            for child in node.get("children", []):
                walk(child, here)

        for root in tree:
            for child in root.get("children", []):
                walk(child, ())
        wanted = ("<module filters_mod_a.py>", "<module filters_mod_b.py>", "f")
        assert any(p[-3:] == wanted for p in paths), paths
    finally:
        sys.modules.pop("filters_mod_a", None)
        sys.modules.pop("filters_mod_b", None)


# ------------------------------------------------------------------ python -c
PYTHON_C = """\
import json, sys
from timemory.storage import storage_class
if sys.argv[1] == "timemory.profiler":
    from timemory.profiler import profile as measure
else:
    from timemory.trace import trace as measure

def work():
    return sum(range(100))

with measure(["wall_clock"]):
    work()
    exec("x = work()")
print(json.dumps([e.label() for e in storage_class("wall_clock").get()]))
"""


@pytest.mark.parametrize("tool", TOOLS)
def test_code_of_python_dash_c_is_measured(tmp_path, tool):
    proc = subprocess.run(
        [sys.executable, "-c", PYTHON_C, tool],
        cwd=tmp_path,
        env=clean_env({"TIMEMORY_AUTO_OUTPUT": "OFF"}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    labels = json.loads(proc.stdout.strip().splitlines()[-1])
    if tool == "timemory.profiler":
        assert "work" in labels and "<module <string>>" in labels, labels
    else:
        # line numbers are zero-padded to the widest in the code (3.13 traces line 11 too)
        assert any(re.search(r"\[work\]\[<string>:0*9\]$", label) for label in labels), labels
        assert any(re.search(r"\[<module>\]\[<string>:0*1\]$", label) for label in labels), labels


# ------------------------------------------------------------------ command lines
PACKAGE_INIT = """\
def setup():
    return sum(range(10))


def work():
    return setup()


setup()
"""
AUTOENCODER = """\
def encode(x):
    return x * 2
"""
SCRIPT = """\
import filters_pkg
from autoencoder import encode


def main():
    filters_pkg.work()
    encode(3)


main()
"""


def _program(tmp_path: Path) -> None:
    write(tmp_path / "filters_pkg" / "__init__.py", PACKAGE_INIT)
    write(tmp_path / "autoencoder.py", AUTOENCODER)
    write(tmp_path / "script.py", SCRIPT)


def _labels(folder: Path) -> list[str]:
    data = json.loads((folder / "wall.json").read_text())
    graph = data["timemory"]["wall_clock"]["ranks"][0]["graph"]
    return [re.sub(r"^(\|\d+)*>>> (\s*\|_)?", "", entry["prefix"]) for entry in graph]


def test_profiler_measures_init_and_autoencoder(tmp_path):
    _program(tmp_path)
    proc = run_tool("timemory.profiler", "-d", "out", "--", "script.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    labels = _labels(tmp_path / "out")
    wanted = {
        "<module script.py>",
        "<module filters_pkg/__init__.py>",
        "<module autoencoder.py>",
        "main",
        "setup",
        "work",
        "encode",
    }
    assert wanted <= set(labels), labels
    assert "_find_and_load" not in labels
    # the program is the root: nothing timemory calls while it starts (threading.setprofile)
    assert labels[0] == "<module script.py>" and "setprofile" not in labels, labels
    assert labels.count("setup") == 2  # at import and from work(): two call sites, two nodes


def test_tracer_measures_init_and_autoencoder(tmp_path):
    _program(tmp_path)
    proc = run_tool("timemory.trace", "-d", "out", "--", "script.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    labels = _labels(tmp_path / "out")
    for tail in (
        "[setup][__init__.py:2]",
        "[work][__init__.py:6]",
        "[<module>][__init__.py:9]",
        "[encode][autoencoder.py:2]",
        "[main][script.py:06]",
        "[<module>][script.py:10]",
    ):
        assert any(label.endswith(tail) for label in labels), (tail, labels)
    assert not [label for label in labels if "threading.py" in label]  # threading.settrace


def _functions(folder: Path) -> set[str]:
    """The functions of the labels: the profiler's labels, the tracer's [function]s."""
    labels = _labels(folder)
    tails = [re.search(r"\[([^\]]+)\]\[[^\]]+\]$", label) for label in labels]
    if all(tails):
        return {tail[1] for tail in tails if tail}
    return set(labels)


@pytest.mark.parametrize("tool", TOOLS)
def test_command_lines_add_to_or_drop_the_defaults(tmp_path, tool):
    _program(tmp_path)
    proc = run_tool(tool, "-d", "default", "--", "script.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    default = _functions(tmp_path / "default")
    assert {"setup", "encode", "main"} <= default and "_find_and_load" not in default
    # --skip-files adds: the import system stays hidden and the package goes too
    proc = run_tool(
        tool, "-d", "add", "--skip-files", r"/filters_pkg/", "--", "script.py", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    added = _functions(tmp_path / "add")
    assert {"encode", "main"} <= added and not {"setup", "_find_and_load"} & added, added
    # --no-default-skips drops the defaults: the import system's frames are measured
    proc = run_tool(tool, "-d", "none", "--no-default-skips", "--", "script.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    dropped = _functions(tmp_path / "none")
    assert {"_find_and_load", "setup", "encode"} <= dropped, dropped
    # both: only what --skip-files names
    proc = run_tool(
        tool,
        *("-d", "both", "--no-default-skips", "--skip-files", "autoencoder"),
        *("--", "script.py"),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    both = _functions(tmp_path / "both")
    assert {"_find_and_load", "setup"} <= both and "encode" not in both, both


@pytest.mark.parametrize("tool", TOOLS)
def test_help_lists_the_default_patterns(tmp_path, tool):
    proc = run_tool(tool, "--help", cwd=tmp_path, env={"COLUMNS": "100"})
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    for pattern in DEFAULT_SKIP_FILENAMES:
        assert f"'{pattern}'" in text, text
    assert "--no-default-skips" in text


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("option", ["--skip-files", "--skip-funcs", "--only-files"])
def test_an_invalid_regex_is_one_line(tmp_path, tool, option):
    proc = run_tool(tool, option, "(", "--", "x.py", cwd=tmp_path)
    assert proc.returncode == 2
    assert_one_error_line(proc.stderr, f"python -m {tool}", "invalid regular expression '('")


@pytest.mark.skipif(sys.version_info < (3, 11), reason="the standard library is frozen from 3.11")
def test_frozen_standard_library_lines_show_their_source():
    import linecache
    import posixpath

    code = posixpath.join.__code__
    if not code.co_filename.startswith("<frozen "):
        pytest.skip(f"posixpath is not frozen here: {code.co_filename}")
    source = linecache.getlines(posixpath.__file__)
    labels = TracerConfig.labeler()(code)
    shown = [(line, text) for line, text, show in labels if show]
    assert shown, labels
    for line, text in shown:
        assert text.startswith(source[line - 1].rstrip().expandtabs()), (line, text)
        assert re.search(rf"\[join\]\[<frozen posixpath>:0*{line}\]$", text), text
