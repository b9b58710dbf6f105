"""timemory.analyze and timemory-analyze: the original's hatchet front-end."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import timemory
from timemory import analyze
from timemory.analyze import AnalyzeError
from timemory.analyze.__main__ import main
from timemory.bundle import marker
from tool_helpers import clean_env

hatchet = pytest.importorskip("hatchet")

INC = "sum.wall_clock (inc)"
SELF = "sum.wall_clock"


def record(clock, scale: float = 1.0, components=("wall_clock",), extra: bool = False) -> None:
    """main (10 ms itself) > child x2 (5 ms each), other > grandchild (2 ms); times ``scale``;
    ``extra``: also main > added (1 ms)."""
    comps = list(components)
    with marker(comps, key="main"):
        clock.advance(0.01 * scale)
        for _ in range(2):
            with marker(comps, key="child"):
                clock.advance(0.005 * scale)
        with marker(comps, key="other"):
            with marker(comps, key="grandchild"):
                clock.advance(0.002 * scale)
        if extra:
            with marker(comps, key="added"):
                clock.advance(0.001)


def folder(tmp_path: Path, name: str, clock, **kwargs) -> Path:
    """An output folder of one recording."""
    timemory.clear()
    record(clock, **kwargs)
    out = tmp_path / name
    timemory.report(str(out))
    timemory.clear()
    return out


@pytest.fixture
def out(tmp_path, fake_clock) -> Path:
    return folder(tmp_path, "out", fake_clock)


def values(gf, column: str = INC) -> dict[str, float]:
    """{name: value} of a GraphFrame (names unique in these graphs)."""
    df = gf.dataframe
    return {str(n): float(v) for n, v in zip(df["name"], df[column])}


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback (most recent call last)" not in err
    return lines[0]


# ------------------------------------------------------------------ load
def test_load_a_folder_a_tree_file_a_flat_file_and_a_dict(out):
    expected = {"main": 0.022, "child": 0.01, "other": 0.002, "grandchild": 0.002}
    for source in (out, out / "wall.tree.json", out / "wall.json", str(out)):
        gf = analyze.load(source)
        assert values(gf) == pytest.approx(expected), source
    with open(out / "wall.tree.json") as stream:
        assert values(analyze.load(stream)) == pytest.approx(expected)
    assert values(analyze.load(json.loads((out / "wall.tree.json").read_text()))) == (
        pytest.approx(expected)
    )


def test_load_selects_components(tmp_path, fake_clock):
    both = folder(tmp_path, "both", fake_clock, components=("wall_clock", "peak_rss"))
    gf = analyze.load(both, select="peak_rss")
    assert "sum.peak_rss" in gf.dataframe.columns and SELF not in gf.dataframe.columns
    gf = analyze.load(both, select=["wall_clock"])
    assert SELF in gf.dataframe.columns and "sum.peak_rss" not in gf.dataframe.columns
    with pytest.raises(
        AnalyzeError,
        match="--select cpu_clock matches no component here; the components: peak_rss, wall_clock",
    ):
        analyze.load(both, select="cpu_clock")


def test_load_bad_inputs_are_one_line(tmp_path, out):
    with pytest.raises(AnalyzeError, match="no such file or folder"):
        analyze.load(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(AnalyzeError, match=r"no call-graph files \(\*\.tree\.json\)"):
        analyze.load(empty)
    (tmp_path / "flat").mkdir()
    flat = tmp_path / "flat" / "wall.json"
    flat.write_text((out / "wall.json").read_text())
    with pytest.raises(AnalyzeError, match="no call graph: it holds the flat entries"):
        analyze.load(flat)
    bad = tmp_path / "bad.tree.json"
    bad.write_text("{not json")
    with pytest.raises(AnalyzeError, match="bad.tree.json: not valid JSON"):
        analyze.load(bad)
    other = tmp_path / "other.json"
    other.write_text('{"a": 1}')
    with pytest.raises(AnalyzeError, match="not timemory JSON"):
        analyze.load(other)
    with pytest.raises(AnalyzeError, match="cannot load a int"):
        analyze.load(3)


def test_run_folders_of_a_store_are_their_repeats(tmp_path, fake_clock):
    run = tmp_path / "store" / "runs" / "0123456789abcdef"
    for i, scale in enumerate((1.0, 2.0)):
        folder(run, f"repeat-{i:03d}", fake_clock, scale=scale)
    (run / "run.json").write_text("{}")
    assert analyze.is_run_folder(str(run))
    assert analyze.expand_inputs([str(run)]) == [
        str(run / "repeat-000"),
        str(run / "repeat-001"),
    ]
    with pytest.raises(AnalyzeError, match="nope: no such file or folder"):
        analyze.expand_inputs([str(tmp_path / "nope")])


# ------------------------------------------------------------------ columns
def test_metric_columns(tmp_path, fake_clock):
    gf = analyze.load(folder(tmp_path, "b", fake_clock, components=("peak_rss", "wall_clock")))
    # the default: every inclusive sum, the frame's default component (wall_clock) first
    assert analyze.metric_columns(gf) == [INC, "sum.peak_rss (inc)"]
    assert analyze.metric_columns(gf, SELF) == [SELF]  # an exact name is that column alone
    assert analyze.metric_columns(gf, r"^max\.peak") == ["max.peak_rss", "max.peak_rss (inc)"]
    with pytest.raises(AnalyzeError, match=r"--metric '\(' is not a valid regular expression"):
        analyze.metric_columns(gf, "(")
    with pytest.raises(AnalyzeError, match="matches no metric column; the columns: sum.peak_rss"):
        analyze.metric_columns(gf, "nothing")


# ------------------------------------------------------------------ filters
def test_search_and_match(out):
    gf = analyze.load(out)
    assert sorted(values(analyze.search(gf, "child"))) == ["child", "grandchild"]
    assert sorted(values(analyze.match(gf, "child"))) == ["child"]
    assert sorted(values(analyze.match(gf, "child|main"))) == ["child", "main"]
    # lists in, lists out
    both = analyze.search([gf, gf], "^other$")
    assert [sorted(values(f)) for f in both] == [["other"], ["other"]]
    with pytest.raises(AnalyzeError, match=f"--search 'zzz' keeps no node of {out}$"):
        analyze.search(gf, "zzz")
    with pytest.raises(AnalyzeError, match="--expression 'x > 5' keeps no node"):
        analyze.expression(gf, "x > 5")
    with pytest.raises(AnalyzeError, match="--field 'nope' is not a column"):
        analyze.search(gf, "x", field="nope")
    with pytest.raises(AnalyzeError, match="--match '\\[' is not a valid regular expression"):
        analyze.match(gf, "[")


@pytest.mark.parametrize(
    ("expr", "kept"),
    [
        ("x > 0.005", ["child", "main"]),
        ("x >= 0.01 && x < 0.02", ["child"]),
        ("0.005 > x", ["grandchild", "other"]),
        # && separates what must all hold, || the alternatives inside it (as the original)
        ("x > 0.015 || x < 0.003 && x < 0.015", ["grandchild", "other"]),
        ("x<0.003||x>0.02", ["grandchild", "main", "other"]),
    ],
)
def test_expression(out, expr, kept):
    assert sorted(values(analyze.expression(analyze.load(out), expr))) == kept


@pytest.mark.parametrize(
    ("expr", "why"),
    [
        ("x > y", "'y' is not valid"),
        ("x == 3", "'==' is not valid"),
        ("x > 1 & x < 2", "'&' is not valid"),
        ("import os", "'import' is not valid"),
        ("", "empty"),
        ("x > 1 &&", "'nothing' is not a comparison"),
        ("3 < 4", "must compare x with a number"),
        ("x > nan", "not a number to compare with"),
    ],
)
def test_bad_expressions(expr, why):
    with pytest.raises(AnalyzeError, match="use x, numbers and x < <= > >= && ||") as err:
        analyze.parse_expression(expr)
    assert why in str(err.value)


# ------------------------------------------------------------------ tables
def test_sort(out):
    table = analyze.sort(analyze.load(out), INC)
    assert list(table["name"]) == ["main", "child", "other", "grandchild"]
    table = analyze.sort(analyze.load(out), SELF, ascending=True)
    assert list(table["name"])[:2] == ["other", "grandchild"]
    assert list(table.columns) == ["name", "depth", "count", SELF]


def test_group_is_a_flat_profile(tmp_path, fake_clock):
    gf = analyze.load(folder(tmp_path, "x", fake_clock))
    two = analyze.add([gf, gf])  # the same names under one parent: still one row each
    flat = analyze.group(two, SELF)
    assert dict(zip(flat["name"], flat[SELF])) == pytest.approx(
        {"main": 0.02, "child": 0.02, "grandchild": 0.004, "other": 0.0}
    )
    assert list(flat["name"])[:2] == ["main", "child"] or list(flat["name"])[:2] == [
        "child",
        "main",
    ]
    assert dict(zip(flat["name"], flat["count"])) == {
        "main": 2,
        "child": 4,
        "grandchild": 2,
        "other": 2,
    }
    with pytest.raises(AnalyzeError, match="--group 'nope' is not a column"):
        analyze.group(gf, SELF, field="nope")


# ------------------------------------------------------------------ combining
def test_add_subtract_unify(tmp_path, fake_clock):
    a = analyze.load(folder(tmp_path, "a", fake_clock, scale=2.0, extra=True))
    b = analyze.load(folder(tmp_path, "b", fake_clock))
    summed = values(analyze.add([a, b]))
    assert summed == pytest.approx(
        {"main": 0.067, "child": 0.03, "other": 0.006, "grandchild": 0.006, "added": 0.001}
    )
    diff = values(analyze.subtract([a, b]))
    assert diff == pytest.approx(
        {"main": 0.023, "child": 0.01, "other": 0.002, "grandchild": 0.002, "added": 0.001}
    )
    assert values(analyze.subtract([b, b])) == pytest.approx(
        {"main": 0.0, "child": 0.0, "other": 0.0, "grandchild": 0.0}
    )
    assert values(analyze.add([a, b]), "count")["child"] == 4  # calls add up too
    unified = analyze.unify([b, a])
    assert sorted(values(unified)) == ["added", "child", "grandchild", "main", "other"]
    assert values(unified)["child"] == pytest.approx(0.01)  # the first's values
    with pytest.raises(AnalyzeError, match="subtract needs two inputs or more"):
        analyze.subtract([a])
    # the inputs are left as they were
    assert values(b)["main"] == pytest.approx(0.022)


# ------------------------------------------------------------------ output
def test_formats_render(out):
    gf = analyze.load(out)
    tree = analyze.render(gf, analyze.DEFAULT_METRIC, "tree")
    assert tree.splitlines()[0] == INC
    assert "\x1b[" not in tree and "main" in tree and "└─" in tree
    table = analyze.render(gf, INC, "table").splitlines()
    assert table[0].split() == ["name", "depth", "count", "sum.wall_clock", "(inc)"]
    assert [r.split()[0] for r in table[1:]] == ["main", "child", "other", "grandchild"]
    md = analyze.render(gf, INC, "markdown").splitlines()
    assert md[0].startswith("| name") and md[1].startswith("|:") and len(md) == 6
    grid = analyze.render(gf, INC, "markdown_grid").splitlines()
    assert grid[0].startswith("+--") and grid[2].startswith("+==") and len(grid) == 11
    html = analyze.render(gf, INC, "html")
    assert html.startswith("<table") and "<td>grandchild</td>" in html
    dot = analyze.render(gf, INC, "dot")
    assert dot.startswith("strict digraph") and 'label="grandchild"' in dot
    # folded stacks: a node's own part (the exclusive column of an inclusive metric)
    folded = dict(
        line.rsplit(" ", 1) for line in analyze.render(gf, INC, "flamegraph").splitlines()
    )
    assert {k: float(v) for k, v in folded.items()} == pytest.approx(
        {"main": 0.01, "main;child": 0.01, "main;other;grandchild": 0.002}
    )
    with pytest.raises(AnalyzeError, match="format 'svg': the formats: tree, table"):
        analyze.render(gf, INC, "svg")
    sorted_table = analyze.sort(gf, INC)
    with pytest.raises(AnalyzeError, match="-f tree: a sorted or grouped table has no call graph"):
        analyze.render(sorted_table, INC, "tree")


def test_output_names():
    assert analyze.output_name("out/analysis", "tree") == "out/analysis.txt"
    assert analyze.output_name("out/analysis", "tree", ["tree", "table"]) == (
        "out/analysis.tree.txt"
    )
    assert analyze.output_name("out/analysis.txt", "table", ["table"]) == "out/analysis.txt"
    assert analyze.output_name("out/analysis.txt", "dot") == "out/analysis.dot"
    assert analyze.output_name("a.b", "markdown") == "a.b.md"
    assert analyze.output_name("x", "flamegraph") == "x.flamegraph.txt"


def test_dump_to_files_stdout_and_streams(tmp_path, out, capsys):
    gf = analyze.load(out)
    files = analyze.dump(gf, INC, "table", str(tmp_path / "res" / "a"))
    assert files == [str(tmp_path / "res" / "a.txt")]
    assert (tmp_path / "res" / "a.txt").read_text().split()[:2] == ["name", "depth"]
    # a list of results and one name: one file with a section per input
    files = analyze.dump([gf, gf], INC, "tree", str(tmp_path / "two"))
    text = (tmp_path / "two.txt").read_text()
    assert text.count(f"# {out}") == 2
    # one name per result
    files = analyze.dump([gf, gf], INC, "tree", [str(tmp_path / "p"), str(tmp_path / "q")])
    assert files == [str(tmp_path / "p.txt"), str(tmp_path / "q.txt")]
    (tmp_path / "afile").write_text("")
    with pytest.raises(AnalyzeError, match="afile/x.txt: cannot be written: .*Not a directory"):
        analyze.dump(gf, INC, "table", str(tmp_path / "afile" / "x"))
    with pytest.raises(AnalyzeError, match="3 output names for 2 results"):
        analyze.dump([gf, gf], INC, "tree", ["a", "b", "c"])
    capsys.readouterr()
    assert analyze.dump(gf, INC, "table") == []
    assert capsys.readouterr().err.startswith("name")
    stream = io.StringIO()
    analyze.dump(gf, INC, "markdown", stream)
    assert stream.getvalue().startswith("| name")
    analyze.dump(gf, INC, "table", str(tmp_path / "dart"), echo_dart=True)
    assert f'<DartMeasurementFile name="dart.txt" type="text/string">{tmp_path / "dart.txt"}' in (
        capsys.readouterr().err
    )


# ------------------------------------------------------------------ the command line
def test_the_originals_script_line(tmp_path, out, capsys):
    status = main([str(out / "wall.json"), "-f", "tree", "table", "-o", str(tmp_path / "analysis")])
    assert status == 0, capsys.readouterr().err
    tree = (tmp_path / "analysis.tree.txt").read_text()
    table = (tmp_path / "analysis.table.txt").read_text()
    assert tree.splitlines()[0] == INC and "grandchild" in tree
    assert table.splitlines()[0].split()[0] == "name"
    err = capsys.readouterr().err
    assert f"Outputting '{tmp_path / 'analysis.tree.txt'}'" in err


def test_command_filters_modes_and_sort(tmp_path, fake_clock, capsys):
    a = folder(tmp_path, "a", fake_clock, scale=2.0)
    b = folder(tmp_path, "b", fake_clock)
    assert main([str(a), str(b), "-M", "subtract", "-f", "table", "-m", SELF]) == 0
    lines = capsys.readouterr().err.splitlines()  # messages, then the table (stderr both)
    rows = lines[[line.split()[:1] for line in lines].index(["name"]) + 1 :]
    assert {r.split()[0]: float(r.split()[-1]) for r in rows} == pytest.approx(
        {"main": 0.01, "child": 0.01, "other": 0.0, "grandchild": 0.002}
    )
    assert main([str(a), "--search", "child", "--expression", "x > 0.01", "-s", "ascending"]) == 0
    rows = capsys.readouterr().err.splitlines()
    rows = rows[[line.split()[:1] for line in rows].index(["name"]) :]
    assert rows[0].split()[0] == "name" and [r.split()[0] for r in rows[1:]] == ["child"]
    assert main([str(a), "-g", "name", "-m", SELF, "-f", "markdown"]) == 0
    out = capsys.readouterr().err
    assert out.startswith("| name") and "| count |" in out
    assert main([str(a), "--match", "main", "-f", "tree", "table", "-s", "descending"]) == 0
    out = capsys.readouterr().err
    assert out.splitlines()[0] == INC  # the tree is drawn, then the sorted table


def test_verbose_lists_the_columns(out, capsys):
    assert analyze.embedded_analyze([str(out), "-f", "table"], verbose=1) == 0
    err = capsys.readouterr().err
    assert f"[analyze]> {out}: sum.wall_clock, min.wall_clock" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["MISSING"], "MISSING: no such file or folder"),
        (["OUT", "--search", "("], "argument --search: invalid regular expression '('"),
        (["OUT", "--match", "[a"], "argument --match: invalid regular expression '[a'"),
        (["OUT", "--expression", "x > os"], "--expression 'x > os': 'os' is not valid"),
        (["OUT", "-m", "("], "--metric '(' is not a valid regular expression"),
        (["OUT", "-m", "zzz"], "--metric 'zzz' matches no metric column"),
        (["OUT", "-f", "svg"], "argument -f/--format: invalid choice: 'svg'"),
        (["OUT", "-M", "add"], "-M add needs two inputs or more"),
        (["OUT", "OUT", "-M", "add", "subtract"], "-M add subtract: choose one of"),
        (["OUT", "-g", "name", "-f", "tree"], "-f tree: a grouped table has no call graph"),
        (["OUT", "--vs", "OUT"], "--vs gives the second side of -M subtract"),
        (["OUT", "--min-effect", "0.1"], "--min-effect and --alpha apply to -M subtract"),
        ([], "nothing to analyze: give files or folders"),
    ],
)
def test_bad_command_lines_are_one_line_and_status_2(out, argv, message, capsys):
    argv = [str(out) if a == "OUT" else a for a in argv]
    assert main(argv) == 2
    captured = capsys.readouterr()
    line = one_line(captured.err)
    assert line.startswith("python -m timemory.analyze: error: ") and message in line, line
    assert captured.out == ""


def test_embedded_analyze(out, capsys):
    data = json.loads((out / "wall.tree.json").read_text())
    assert analyze.embedded_analyze(["-f", "table"], data=[data]) == 0
    assert capsys.readouterr().err.splitlines()[1].split()[0] == "main"
    # a failure: one line and its status, or the exit with call_exit / --exit-on-failure
    assert analyze.embedded_analyze(["missing-file"]) == 2
    assert "missing-file: no such file or folder" in one_line(capsys.readouterr().err)
    with pytest.raises(SystemExit) as done:
        analyze.embedded_analyze(["missing-file"], call_exit=True)
    assert done.value.code == 2
    with pytest.raises(SystemExit):
        analyze.embedded_analyze(["missing-file", "--exit-on-failure"])
    capsys.readouterr()
    # another rank analyses nothing (this process is rank 0)
    assert analyze.embedded_analyze(["missing-file"], ranks=[1]) == 0
    assert capsys.readouterr() == ("", "")


def test_console_script_and_timemory_analyze(tmp_path, out):
    exe = Path(sys.executable).with_name("timemory-analyze")
    commands = [[sys.executable, "-m", "timemory", "analyze"]]
    if exe.exists():
        commands.append([str(exe)])
    for i, command in enumerate(commands):
        name = str(tmp_path / f"res{i}" / "analysis")
        proc = subprocess.run(
            [*command, str(out / "wall.json"), "-f", "tree", "table", "-o", name],
            cwd=tmp_path,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        assert os.path.isfile(name + ".tree.txt") and os.path.isfile(name + ".table.txt")
        proc = subprocess.run(
            [*command, str(out), "--expression", "x >> 1"],
            cwd=tmp_path,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 2
        assert "--expression 'x >> 1'" in one_line(proc.stderr)


def test_without_hatchet_one_line_naming_the_extra(tmp_path, out):
    code = (
        "import sys; sys.modules['hatchet'] = None\n"
        "from timemory.analyze.__main__ import main\n"
        f"sys.exit(main([{str(out)!r}]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1
    line = one_line(proc.stderr)
    assert "needs the hatchet package" in line and "'hatchet' extra" in line, line


# ------------------------------------------------------------------ groups of runs
def test_subtract_groups_of_runs_uses_the_statistics(tmp_path, fake_clock, capsys):
    pytest.importorskip("timemory.runs._compare")
    new, old = [], []
    for i in range(10):
        # every repeat a little different; the new side's grandchild 2x slower
        jitter = 1.0 + 0.01 * i
        old.append(str(folder(tmp_path, f"old{i}", fake_clock, scale=jitter)))
        timemory.clear()
        with marker(["wall_clock"], key="main"):
            fake_clock.advance(0.01 * jitter)
            for _ in range(2):
                with marker(["wall_clock"], key="child"):
                    fake_clock.advance(0.005 * jitter)
            with marker(["wall_clock"], key="other"):
                with marker(["wall_clock"], key="grandchild"):
                    fake_clock.advance(0.004 * jitter)
        timemory.report(str(tmp_path / f"new{i}"))
        new.append(str(tmp_path / f"new{i}"))
    timemory.clear()
    comparison = analyze.subtract([new, old])
    verdicts = {row.path[-1]: row.verdict for row in comparison.rows if row.path}
    assert verdicts["grandchild"] == "slower"
    assert verdicts["child"] == "no change"
    assert main([*new, "-M", "subtract", "--vs", *old, "-f", "table"]) == 0
    out = capsys.readouterr().err
    assert "grandchild" in out and "slower" in out
    assert main([*new, "-M", "subtract", "--vs", *old, "--search", "x"]) == 2
    assert "--search: apply to call graphs" in one_line(capsys.readouterr().err)


def make_run_folder(path: Path, repeats: list[str]) -> Path:
    """A run folder as a store keeps it: run.json, table.json and its repeats' folders."""
    import shutil

    from timemory.runs import Table, read_folder

    path.mkdir(parents=True)
    for i, repeat in enumerate(repeats):
        shutil.copytree(repeat, path / f"repeat-{i:03d}")
    table = Table.from_graphs([read_folder(r) for r in repeats])
    (path / "table.json").write_text(json.dumps(table.to_json()))
    (path / "run.json").write_text(json.dumps({"format": "timemory-run", "version": 1}))
    return path


def test_subtract_two_run_folders_and_tree_files(tmp_path, fake_clock, capsys):
    pytest.importorskip("timemory.runs._compare")
    slow, fast = [], []
    for i in range(6):
        jitter = 1.0 + 0.01 * i
        fast.append(str(folder(tmp_path, f"fast{i}", fake_clock, scale=jitter)))
        slow.append(str(folder(tmp_path, f"slow{i}", fake_clock, scale=3 * jitter)))
    a = make_run_folder(tmp_path / "store" / "runs" / "a", slow)
    b = make_run_folder(tmp_path / "store" / "runs" / "b", fast)
    # two run folders: the statistical comparison without --vs
    assert main([str(a), str(b), "-M", "subtract", "-f", "tree", "markdown"]) == 0
    out = capsys.readouterr().err
    assert "A: b (6 repeats)  B: a (6 repeats)" in out
    assert "| path" in out and "slower" in out
    comparison = analyze.subtract([str(a), str(b)])
    assert comparison.repeats == (6, 6)
    # tree files: each is its call graph alone
    trees = [str(Path(p) / "wall.tree.json") for p in slow]
    comparison = analyze.subtract([trees, [str(Path(p) / "wall.tree.json") for p in fast]])
    assert comparison.repeats == (6, 6)
    assert main([str(a), str(b), "-M", "subtract", "-f", "dot"]) == 2
    assert "a comparison of groups has no call graph" in one_line(capsys.readouterr().err)


def test_dot_and_flamegraph_images_through_their_converters(tmp_path, out, monkeypatch, capsys):
    """graphviz's dot and flamegraph.pl turn the text files into images when installed (fake
    converters here: they print what they were given)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("dot", "flamegraph.pl"):
        script = bin_dir / name
        script.write_text(f'#!/bin/sh\necho "{name} $@"\n')
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    gf = analyze.load(out)
    name = str(tmp_path / "graph")
    assert analyze.dump(gf, INC, "dot", name) == [name + ".dot", name + ".dot.png"]
    assert Path(name + ".dot.png").read_text() == f"dot -Tpng {name}.dot\n"
    files = analyze.dump(gf, INC, "flamegraph", name)
    assert files == [name + ".flamegraph.txt", name + ".flamegraph.svg"]
    assert Path(name + ".flamegraph.svg").read_text() == (
        f"flamegraph.pl --hash {name}.flamegraph.txt\n"
    )
    # a converter that fails: one line, the text file is still written
    (bin_dir / "dot").write_text('#!/bin/sh\necho "no layout" >&2\nexit 3\n')
    capsys.readouterr()
    assert analyze.dump(gf, INC, "dot", str(tmp_path / "again")) == [str(tmp_path / "again.dot")]
    assert "[analyze]> dot failed: no layout" in capsys.readouterr().err


def test_a_filter_merges_nodes_with_their_calls(tmp_path, fake_clock):
    """leaf under a (1 call) and under b (3 calls): kept alone, they become one node of 4."""
    with marker(["wall_clock"], key="main"):
        for parent, calls in (("a", 1), ("b", 3)):
            with marker(["wall_clock"], key=parent):
                for _ in range(calls):
                    with marker(["wall_clock"], key="leaf"):
                        fake_clock.advance(0.001)
    timemory.report(str(tmp_path / "leafs"))
    gf = analyze.search(analyze.load(tmp_path / "leafs"), "^leaf$")
    assert values(gf, "count") == {"leaf": 4}
    assert values(gf) == pytest.approx({"leaf": 0.004})
