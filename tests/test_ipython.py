"""The IPython/Jupyter magics: ``%load_ext timemory``, ``%%timemory``, ``%timemory`` and
``%%timemory_lines``.

In-process, on IPython's test shell (fast, every option), and in a real Jupyter kernel: a
notebook built with nbformat and executed with nbclient on ipykernel, whose outputs (the HTML
and text results, the files written, the one-line errors) are checked. Durations come from the
fake clock (the cells advance it), so the rankings and shares asserted are exact.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
import timemory
from timemory import _core
from tool_helpers import clean_env

IPython = pytest.importorskip("IPython")


#: cell functions whose self times the fake clock makes exact: leaf 2 x 3 ms, middle 2 x 1 ms,
#: top 0.5 ms (the clock advances inside each, through a C call the profiler does not record)
FUNCTIONS = """\
from timemory import _core as _clock

def leaf():
    _clock._test_clock_advance(3_000_000)

def middle():
    _clock._test_clock_advance(1_000_000)
    leaf()

def top():
    for _ in range(2):
        middle()
    _clock._test_clock_advance(500_000)
"""


@pytest.fixture(scope="module")
def shell(tmp_path_factory):
    """IPython's core shell (no terminal), history in memory, with the magics loaded and
    FUNCTIONS defined in a cell."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    config.InteractiveShell.ipython_dir = str(tmp_path_factory.mktemp("ipython"))
    ip = InteractiveShell.instance(config=config)
    ip.run_line_magic("load_ext", "timemory")
    ip.user_ns["timemory"] = timemory
    assert ip.run_cell(FUNCTIONS, store_history=True).success
    yield ip
    ip.run_line_magic("unload_ext", "timemory")
    InteractiveShell.clear_instance()


def run(shell, source):
    """Run a cell; its result (the magic's value) and IPython's ExecutionResult."""
    outcome = shell.run_cell(source, store_history=True)
    return outcome.result, outcome


# ------------------------------------------------------------------ in-process
def test_import_timemory_does_not_import_ipython(python_runner, tmp_path):
    proc = python_runner(
        "import sys, timemory\n"
        "assert callable(timemory.load_ipython_extension)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'IPython'))\n",
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


#: leaf's row of the text table: count, self and its share of the total, inclusive and its
#: share, the mean of a call
LEAF_ROW = r"^\s*leaf\s+2\s+6\.000 ms\s+70\.6%\s+6\.000 ms\s+70\.6%\s+3\.000 ms$"


def test_cell_ranked_by_self_time_with_counts(shell, fake_clock):
    result, outcome = run(shell, "%%timemory -c wall_clock\ntop()\n")
    assert outcome.success
    rows = result.rows("wall_clock")
    by_label = {label: (count, self_, inclusive) for label, count, self_, inclusive in rows}
    assert [label for label, *_ in rows][:3] == ["leaf", "middle", "top"]
    assert by_label["leaf"] == (2, pytest.approx(0.006), pytest.approx(0.006))
    assert by_label["middle"] == (2, pytest.approx(0.002), pytest.approx(0.008))
    assert by_label["top"] == (1, pytest.approx(0.0005), pytest.approx(0.0085))
    # the cell's own code is kept and labelled by its number, not skipped as <module>
    cell = [label for label in by_label if re.fullmatch(r"In\[\d+\]", label)]
    assert len(cell) == 1 and by_label[cell[0]][0] == 1
    # the shares of self time add up to the cell's total
    assert sum(s for _, _, s, _ in rows) == pytest.approx(0.0085)
    text = result.text()
    assert re.search(LEAF_ROW, text, re.M), text
    html = result._repr_html_()
    cells = re.findall(r"<tr><td[^>]*>([^<]*)</td><td[^>]*>(\d+)</td>", html)
    assert cells[:3] == [("leaf", "2"), ("middle", "2"), ("top", "1")], html


def test_each_cell_reports_its_own_calls(shell, fake_clock):
    first, _ = run(shell, "%%timemory\ntop()\ntop()\n")
    second, _ = run(shell, "%%timemory\ntop()\n")
    counts = lambda r: {label: count for label, count, _, _ in r.rows()}  # noqa: E731
    assert counts(first)["leaf"] == 4
    assert counts(second)["leaf"] == 2
    # the session keeps every call: the storage holds both cells
    leaf = [e for e in timemory.storage.WallClockStorage.get() if e.label() == "leaf"]
    assert sum(e.stats().count() for e in leaf) == 6


def test_cell_inside_a_region_left_open(shell, fake_clock):
    """A marker opened in an earlier cell and still open: the cell's calls are recorded under
    it, which has no completed call of its own, and are the cell's result all the same."""
    run(shell, "_open = timemory.bundle.marker(['wall_clock'], key='open')\n_open.__enter__()")
    try:
        result, _ = run(shell, "%%timemory --tree\ntop()\n")
    finally:
        run(shell, "_open.__exit__(None, None, None)")
    rows = [(label.strip(), count) for label, count, _, _ in result.rows()]
    assert rows[0] == ("open", 0)
    assert ("leaf", 2) in rows and ("top", 1) in rows
    by_self = {label: s for label, _, s, _ in result.rows()}
    assert by_self["leaf"] == pytest.approx(0.006)


def test_line_magic_and_tree(shell, fake_clock):
    result, outcome = run(shell, "%timemory --tree -- top()")
    assert outcome.success
    rows = result.rows()
    labels = [label for label, *_ in rows]
    assert labels[1:] == ["top", "middle", "leaf"]
    assert rows[3][1:] == (2, pytest.approx(0.006), pytest.approx(0.006))
    assert "    leaf" in result.text()  # indented by depth
    plain, _ = run(shell, "%timemory top()")
    assert [r[0] for r in plain.rows()][0] == "leaf"
    flat, _ = run(shell, "%timemory --flat top()")  # the default view, named
    shape = lambda r: [(re.sub(r"\d+", "N", label), n) for label, n, _, _ in r.rows()]  # noqa: E731
    assert shape(flat) == shape(plain)


def test_several_components_and_top(shell, fake_clock):
    result, _ = run(shell, "%%timemory -c wall_clock cpu_clock --top 1\ntop()\n")
    assert {c.metric.id for c in result.components.values()} == {"wall_clock", "cpu_clock"}
    text = result.text()
    assert "timemory cpu_clock" in text and "timemory wall_clock" in text
    assert text.count("... and 3 more rows") == 2 and "--top 0 shows every row" in text
    assert len(result.rows("cpu_clock")) == 4  # rows() gives them all


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("%%timemory -c wal_clock", "unknown component 'wal_clock'; did you mean wall_clock?"),
        ("%%timemory --top x", "--top takes a number of rows (0: all), not 'x'"),
        ("%%timemory --flat --tree", "--flat and --tree exclude each other"),
        ("%%timemory --bogus", "unknown option '--bogus'"),
        ("%%timemory -o", "-o needs a value"),
        ("%%timemory_lines -c read_bytes", "read_bytes"),
        ("%%timemory_lines -f no_such_function", "-f no_such_function: NameError"),
        ("%%timemory_lines --tree", "unknown option '--tree'"),
    ],
)
def test_usage_errors_are_one_line(shell, capsys, line, message):
    from IPython.core.error import UsageError

    name, _, rest = line[2:].partition(" ")
    with pytest.raises(UsageError) as err:
        shell.run_cell_magic(name, rest, "top()\n")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_line_magic_needs_a_statement(shell):
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match="no statement to profile"):
        shell.run_line_magic("timemory", "-c wall_clock")


def test_exception_and_interrupt_keep_the_data(shell, fake_clock, capsys):
    for raised, note in (("ValueError('x')", "raised ValueError"), ("KeyboardInterrupt", "interr")):
        outcome = shell.run_cell(f"%%timemory\ntop()\nraise {raised}\n", store_history=True)
        assert not outcome.success
        assert type(outcome.error_in_exec).__name__ == raised.split("(")[0]
        shown = capsys.readouterr().out
        assert re.search(r"^\s*leaf\s+2\s+6\.000 ms", shown, re.M), shown
        assert note in shown


def test_output_files_of_the_cell(shell, fake_clock, tmp_path):
    folder = tmp_path / "cell out"
    result, outcome = run(shell, f"%%timemory -o '{folder}'\ntop()\ntop()\n")
    assert outcome.success, outcome.error_in_exec
    names = sorted(p.name for p in folder.iterdir())
    assert {"wall.json", "wall.tree.json", "wall.txt", "metadata.json"} <= set(names)
    assert sorted(os.path.basename(f) for f in result.files) == names
    flat = json.loads((folder / "wall.json").read_text())["timemory"]["wall_clock"]
    graph = flat["ranks"][0]["graph"]
    laps = {g["prefix"].split(">>> ")[-1].lstrip("|_ "): g["entry"]["laps"] for g in graph}
    assert laps["top"] == 2 and laps["middle"] == 4 and laps["leaf"] == 4
    tree = timemory.storage.WallClockStorage.load_json_tree(folder / "wall.tree.json")
    assert tree, "the tree file reads back"
    assert f"{len(names)} files in {folder}" in result.text()


def test_output_files_switched_off_is_said(shell, fake_clock, tmp_path, capsys):
    from timemory import settings

    saved = settings.file_output
    settings.file_output = False
    try:
        result, _ = run(shell, f"%%timemory -o {tmp_path / 'none'}\ntop()\n")
    finally:
        settings.file_output = saved
    assert result.files == [] and not (tmp_path / "none").exists()
    assert "-o wrote no files: settings.file_output is off" in capsys.readouterr().err


def test_cells_functions_and_lambdas_are_profiled(shell, fake_clock):
    result, _ = run(
        shell,
        "%%timemory\n"
        "def local(n):\n"
        "    _clock._test_clock_advance(n)\n"
        "list(map(lambda n: local(n), [1_000_000, 2_000_000]))\n",
    )
    rows = {label: (count, s) for label, count, s, _ in result.rows()}
    assert rows["local"] == (2, pytest.approx(0.003))
    assert rows["<lambda>"][0] == 2


def test_patterns_the_user_added_still_apply_to_cells(shell, fake_clock):
    from timemory.profiler import config

    config.skip_functions = ["^leaf$"]
    try:
        result, _ = run(shell, "%%timemory\ntop()\n")
    finally:
        config.reset()
    rows = {label: (count, s) for label, count, s, _ in result.rows()}
    assert "leaf" not in rows
    assert rows["middle"] == (2, pytest.approx(0.008))  # leaf's time is its caller's now


def test_profiler_already_running_is_refused(shell):
    from IPython.core.error import UsageError
    from timemory.profiler import profile

    with profile(["wall_clock"]):
        with pytest.raises(UsageError, match="already running"):
            shell.run_cell_magic("timemory", "", "top()\n")


def test_lines_of_the_cell_and_its_functions(shell, fake_clock, tmp_path):
    pytest.importorskip("line_profiler")
    folder = tmp_path / "lines"
    result, outcome = run(
        shell,
        f"%%timemory_lines -f middle -o {folder}\n"
        "def inner():\n"
        "    _clock._test_clock_advance(2_000_000)\n"
        "inner()\n"
        "middle()\n",
    )
    assert outcome.success, outcome.error_in_exec
    functions = dict(result.functions())
    cell = next(name for name in functions if name.startswith("In["))
    by_line = {line: (hits, value) for line, hits, value, _ in functions[cell]}
    assert by_line[3] == (1, pytest.approx(0.002))  # inner()
    assert by_line[4] == (1, pytest.approx(0.004))  # middle()
    inner = {src.strip(): (hits, value) for _, hits, value, src in functions["inner"]}
    assert inner["_clock._test_clock_advance(2_000_000)"] == (1, pytest.approx(0.002))
    middle = {src.strip(): (hits, value) for _, hits, value, src in functions["middle"]}
    assert middle["leaf()"] == (1, pytest.approx(0.003))
    assert "leaf" not in functions  # not named, not defined in the cell
    html = result._repr_html_()
    assert "<code>inner()</code>" in html
    names = sorted(p.name for p in folder.iterdir())
    assert any(n.endswith(".lprof") for n in names) and any(n.endswith(".lines.txt") for n in names)
    from timemory.line_profiler import load_stats

    lprof = next(folder / n for n in names if n.endswith(".lprof"))
    assert load_stats(lprof).component == "wall_clock"


# ------------------------------------------------------------------ a real kernel
NOTEBOOK_CELLS = [
    "%load_ext timemory",
    # the fake clock in the kernel: the durations below are exact whatever the machine does
    "from timemory import _core as _clock\n_clock._test_clock(True, 10**9, 10**9)",
    FUNCTIONS.replace("from timemory import _core as _clock\n", ""),
    "%%timemory -c wall_clock\ntop()\nprint('ran')",
    "%timemory top()",
    "%%timemory_lines\ndef inner():\n    _clock._test_clock_advance(2_000_000)\ninner()",
    "%%timemory -o {out}\ntop()",
    "%%timemory -c no_such_component\ntop()",
    # Ctrl-C as the kernel gets it (what "interrupt" in Jupyter sends): SIGINT
    "%%timemory\ntop()\nimport os, signal, time\n"
    "os.kill(os.getpid(), signal.SIGINT)\ntime.sleep(60)",
    "_clock._test_clock(False)",
]


@pytest.fixture(scope="module")
def executed_notebook(tmp_path_factory):
    """The notebook of NOTEBOOK_CELLS run in a real ipykernel of this interpreter (kernel spec
    installed into a temporary prefix), in a temporary folder."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    tmp = tmp_path_factory.mktemp("notebook")
    prefix = tmp / "prefix"
    subprocess.run(
        [sys.executable, "-m", "ipykernel", "install", "--prefix", str(prefix)],
        check=True,
        capture_output=True,
        timeout=120,
        env=clean_env({"JUPYTER_PLATFORM_DIRS": "1"}),
    )
    work = tmp / "work"
    work.mkdir()
    out = work / "cell-output"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c.format(out=out)) for c in NOTEBOOK_CELLS]
    env = clean_env(
        {
            "IPYTHONDIR": str(tmp / "ipython"),
            "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
            "TIMEMORY_AUTO_OUTPUT": "OFF",
        }
    )
    saved = {k: os.environ.get(k) for k in ("JUPYTER_PATH", "JUPYTER_RUNTIME_DIR")}
    os.environ["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")
    os.environ["JUPYTER_RUNTIME_DIR"] = str(tmp / "runtime")
    try:
        client = nbclient.NotebookClient(
            nb,
            timeout=120,
            startup_timeout=120,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": str(work)}},
        )
        client.execute(env=env)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return nb, work, out


#: the first rows of FUNCTIONS' table (label, count, self), for one call of top()
RANKED = [("leaf", "2", "6.000 ms"), ("middle", "2", "2.000 ms"), ("top", "1", "500.0 µs")]


def _outputs(nb, index):
    return nb.cells[index].outputs


def _result(nb, index):
    """The text/html and text/plain of a cell's result (its execute_result or display_data)."""
    for output in _outputs(nb, index):
        if output.output_type in ("execute_result", "display_data"):
            return output.data.get("text/html", ""), output.data.get("text/plain", "")
    raise AssertionError(f"cell {index} shows no result: {_outputs(nb, index)}")


def _html_rows(html):
    return re.findall(r"<tr><td[^>]*>([^<]*)</td><td[^>]*>(\d+)</td><td[^>]*>([^<]*)</td>", html)


def _cell_rows(html):
    """The rows of FUNCTIONS' functions, in the table's order. The fake clock is the process's,
    and on 3.12+ the profiler sees every thread: a kernel thread's call that spans the cell (a
    select(), a module ``__getattr__``) is charged the whole advance and may rank among them."""
    names = {label for label, _, _ in RANKED}
    return [row for row in _html_rows(html) if row[0] in names]


@pytest.mark.slow
def test_notebook_cell_result(executed_notebook):
    nb, _, _ = executed_notebook
    errors = [o for c in nb.cells[:7] for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    html, text = _result(nb, 3)
    rows = _html_rows(html)
    assert _cell_rows(html) == RANKED
    assert any(re.fullmatch(r"In\[\d+\]", label) for label, _, _ in rows), rows
    assert re.search(LEAF_ROW, text, re.M), text
    # the cell's own output is untouched
    printed = [o.text for o in _outputs(nb, 3) if o.output_type == "stream" and o.name == "stdout"]
    assert "ran\n" in printed


@pytest.mark.slow
def test_notebook_line_magic_and_lines(executed_notebook):
    nb, _, _ = executed_notebook
    html, text = _result(nb, 4)
    assert _cell_rows(html) == RANKED
    assert text.startswith("timemory wall_clock")
    html, text = _result(nb, 5)
    assert "<code>    _clock._test_clock_advance(2_000_000)</code>" in html
    assert re.search(r"^\s+2\s+1\s+2 ms\s+2 ms\s+100\.0\s+_clock", text, re.M), text


@pytest.mark.slow
def test_notebook_output_files(executed_notebook):
    nb, _, out = executed_notebook
    names = set(os.listdir(out))
    assert {"wall.json", "wall.tree.json", "wall.txt", "metadata.json"} <= names
    graph = json.loads((out / "wall.json").read_text())["timemory"]["wall_clock"]["ranks"][0]
    laps = {g["prefix"].split(">>> ")[-1].lstrip("|_ "): g["entry"]["laps"] for g in graph["graph"]}
    assert laps["top"] == 1 and laps["middle"] == 2 and laps["leaf"] == 2
    _, text = _result(nb, 6)
    assert f"files in {out}" in text


@pytest.mark.slow
def test_notebook_usage_error_is_one_line(executed_notebook):
    nb, _, _ = executed_notebook
    outputs = _outputs(nb, 7)
    assert [o.output_type for o in outputs] == ["stream"]
    assert outputs[0].name == "stderr"
    message = outputs[0].text.strip()
    assert "\n" not in message
    assert message.startswith("UsageError: unknown component 'no_such_component'")


@pytest.mark.slow
def test_notebook_interrupt_shows_the_data(executed_notebook):
    nb, _, _ = executed_notebook
    html, text = _result(nb, 8)
    # among the rows, not necessarily first: the fake clock is the process's, so a kernel
    # thread's select() that happens to span the cell is charged its whole time
    assert RANKED[0] in _html_rows(html), html
    assert "the cell was interrupted" in text
    errors = [o for o in _outputs(nb, 8) if o.output_type == "error"]
    assert [e.ename for e in errors] == ["KeyboardInterrupt"]


def test_extension_is_reached_from_the_package():
    assert timemory.load_ipython_extension.__module__ == "timemory"
    assert _core.profiler_active() is False


@pytest.mark.slow
def test_notebook_every_cell_ran(executed_notebook):
    """No cell hung or was skipped (the interrupted one included): each has its count."""
    nb, _, _ = executed_notebook
    assert [c.execution_count for c in nb.cells] == list(range(1, len(nb.cells) + 1))
