"""The summary that leads to the hot spot (timemory._output._summary): rows ranked by self
time, percentages of the program's total that add up, units per value, the width of the
terminal, the top N rows with a line naming the rest, the HTML table, metrics without self
values; and the same rules in the tools' summary, the text tables and the cross-process table.
"""

from __future__ import annotations

import io
import os
import re

import pytest
from timemory import _cli, _core, settings
from timemory._components import is_additive
from timemory._output._summary import format_value, short_label, summarize
from timemory.bundle import marker

WALL = _core.find_component("wall_clock")
NS = 1e9


def ns(seconds: float) -> float:
    return seconds * NS


def approx(value: float) -> object:
    # the values come back from display units (seconds), multiplied by the unit's divisor
    return pytest.approx(value, rel=1e-12, abs=1e-6)


def timed(clock, key: str, seconds: float, inner=None) -> None:
    with marker(["wall_clock"], key=key):
        clock.advance(seconds)
        if inner is not None:
            inner()


def dispatcher_program(clock) -> None:
    """main (1 s of its own) -> dispatch (0.5 s) -> work (6 s), tiny (3 µs), other (2 s)."""

    def below_dispatch() -> None:
        timed(clock, "work", 6)
        timed(clock, "tiny", 3e-6)
        timed(clock, "other", 2)

    timed(clock, "main", 1, lambda: timed(clock, "dispatch", 0.5, below_dispatch))


def row_of(summary, label):
    return next(r for r in summary.rows if r.label == label)


# ------------------------------------------------------------------ ranking and totals
def test_rows_ranked_by_self_time_not_inclusive(fake_clock):
    dispatcher_program(fake_clock)
    summary = summarize(WALL)
    assert [r.label for r in summary.rows] == ["work", "other", "main", "dispatch", "tiny"]
    assert summary.additive and summary.family == "timing"
    assert summary.total == approx(ns(9.500003))
    main, dispatch = row_of(summary, "main"), row_of(summary, "dispatch")
    assert main.self_value == approx(ns(1)) and main.inclusive == approx(ns(9.500003))
    assert dispatch.self_value == approx(ns(0.5)) and dispatch.inclusive == approx(ns(8.500003))
    assert row_of(summary, "tiny").self_value == approx(3000)


def test_self_column_adds_up_to_the_total(fake_clock):
    # a single-threaded program whose top level is measured: self shares add up to 100%
    dispatcher_program(fake_clock)
    summary = summarize(WALL)
    assert sum(r.self_value for r in summary.rows) == approx(summary.total)
    shares = [100 * r.self_value / summary.total for r in summary.rows]
    assert sum(shares) == pytest.approx(100.0)
    # and the printed column too (rounded to 0.1 each, "<0.1%" for the 3 µs row)
    text = summary.to_text(width=200)
    printed = [float(m) for m in re.findall(r"\s(\d+\.\d)%\s+\S+ \S+\s+\S+%", text)]
    assert len(printed) == 4 and sum(printed) == pytest.approx(100.0, abs=0.2)
    assert all(r.inclusive <= summary.total * (1 + 1e-12) for r in summary.rows)


def test_two_top_level_calls_share_the_total(fake_clock):
    timed(fake_clock, "setup", 1)
    timed(fake_clock, "run", 3)
    summary = summarize(WALL)
    assert summary.total == approx(ns(4))
    assert [(r.label, r.self_value) for r in summary.rows] == [
        ("run", approx(ns(3))),
        ("setup", approx(ns(1))),
    ]


def test_recursion_counted_once_in_inclusive(fake_clock):
    def rec(n: int) -> None:
        with marker(["wall_clock"], key="rec"):
            fake_clock.advance(1)
            if n > 1:
                rec(n - 1)

    def a_b_a() -> None:  # a -> b -> a: the inner a is inside the outer one
        timed(
            fake_clock, "a", 1, lambda: timed(fake_clock, "b", 1, lambda: timed(fake_clock, "a", 1))
        )

    timed(fake_clock, "main", 0, lambda: (rec(3), a_b_a()))
    summary = summarize(WALL)
    rec_row, a_row, b_row = (row_of(summary, k) for k in ("rec", "a", "b"))
    assert rec_row.count == 3
    assert rec_row.inclusive == approx(ns(3))  # not 3 + 2 + 1
    assert rec_row.self_value == approx(ns(3))
    assert rec_row.mean == approx(ns(6) / 3)  # every call's time over the calls
    assert (
        a_row.count == 2 and a_row.inclusive == approx(ns(3)) and a_row.self_value == approx(ns(2))
    )
    assert b_row.inclusive == approx(ns(2)) and b_row.self_value == approx(ns(1))
    assert summary.total == approx(ns(6))
    assert sum(r.self_value for r in summary.rows) == approx(summary.total)


def test_same_label_in_two_places_sums_self_and_inclusive(fake_clock):
    def two_callers() -> None:
        timed(fake_clock, "left", 1, lambda: timed(fake_clock, "parse", 2))
        timed(fake_clock, "right", 1, lambda: timed(fake_clock, "parse", 3))

    timed(fake_clock, "main", 0, two_callers)
    parse = row_of(summarize(WALL), "parse")
    assert parse.count == 2
    assert parse.self_value == approx(ns(5)) and parse.inclusive == approx(ns(5))


# ------------------------------------------------------------------ units
@pytest.mark.parametrize(
    ("value", "family", "text"),
    [
        (3000, "timing", "3.000 µs"),
        (999, "timing", "999.0 ns"),
        (12_345_678, "timing", "12.35 ms"),
        (1.5e9, "timing", "1.500 s"),
        (7.2e12, "timing", "7200.0 s"),
        (-2500, "timing", "-2.500 µs"),
        (1500, "memory", "1.500 KB"),
        (3.2e7, "memory", "32.00 MB"),
        (512, "memory", "512.0 B"),
        (2e6, "memory_rate", "2.000 MB/s"),
        (42, "count", "42"),
        (21891, "count", "21.89k"),
        (3.5e6, "none", "3.500M"),
        (97.25, "percent", "97.2%"),
        (0, "timing", "0"),
    ],
)
def test_format_value_picks_the_unit(value, family, text):
    assert format_value(value, family) == text


def test_a_small_time_prints_in_its_unit_never_as_zero(fake_clock):
    dispatcher_program(fake_clock)
    text = summarize(WALL).to_text(width=200)
    tiny = next(line for line in text.splitlines() if line.split()[0] == "tiny")
    assert "3.000 µs" in tiny and "<0.1%" in tiny
    assert "0.000" not in text
    assert "500.0 ms" in text and "6.000 s" in text


def test_print_summary_writes_us_where_the_stream_cannot_write_mu(fake_clock):
    dispatcher_program(fake_clock)
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    _cli.print_summary(stream=stream, width=200)
    stream.flush()
    text = raw.getvalue().decode("ascii")
    assert "3.000 us" in text


# ------------------------------------------------------------------ text layout
def test_table_fits_the_width_and_shortens_labels_in_the_middle(fake_clock):
    label = "function_with_a_long_name(x=1, y=2, z=3, w=4) [some/long/path/to/file.py:123]"
    timed(fake_clock, label, 1)
    timed(fake_clock, "short", 2)
    summary = summarize(WALL)
    text = summary.to_text(width=80)
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines[1:]), text
    row = next(line for line in lines if "..." in line)
    assert row.split()[0].startswith("function_with") and row.split()[0].endswith(".py:123]")
    # wide enough: nothing is cut
    assert label in summary.to_text(width=300)
    assert short_label("fib", 60) == "fib"
    cut = short_label(label, 40)
    assert len(cut) == 40 and cut.startswith("function_with") and cut.endswith("file.py:123]")


def test_narrow_width_drops_mean_and_inclusive_before_the_labels(fake_clock):
    dispatcher_program(fake_clock)
    summary = summarize(WALL)
    header = summary.to_text(width=45).splitlines()[1].split()
    assert header == ["LABEL", "COUNT", "SELF", "%", "SELF", "INCL"]
    header = summary.to_text(width=30).splitlines()[1].split()
    assert header == ["LABEL", "COUNT", "SELF", "%", "SELF"]


def test_width_defaults_to_columns(fake_clock, monkeypatch):
    timed(fake_clock, "x" * 200, 1)
    monkeypatch.setenv("COLUMNS", "90")
    lines = summarize(WALL).to_text().splitlines()
    assert max(len(line) for line in lines[1:]) == 90


def test_top_rows_and_the_line_naming_the_rest(fake_clock):
    for i in range(30):
        timed(fake_clock, f"f{i:02d}", (i + 1) * 1e-3)
    summary = summarize(WALL, files=["/out/wall.json"])
    lines = summary.to_text(top=5, width=120).splitlines()
    assert lines[0] == "[timemory]> wall_clock: top 5 of 30 by self time, total 465.0 ms"
    assert [line.split()[0] for line in lines[2:7]] == ["f29", "f28", "f27", "f26", "f25"]
    assert lines[7] == "  ... and 25 more rows in /out/wall.json"
    assert len(lines) == 8
    everything = summary.to_text(top=0, width=120).splitlines()
    assert len(everything) == 32 and "more rows" not in everything[-1]


def test_top_comes_from_the_setting(fake_clock, monkeypatch):
    for i in range(4):
        timed(fake_clock, f"f{i}", 1)
    monkeypatch.setattr(settings, "summary_top", 3)
    lines = summarize(WALL).to_text(width=100).splitlines()
    assert lines[-1] == "  ... and 1 more row"
    assert len(lines) == 2 + 3 + 1


def test_negative_top_is_one_clear_error(fake_clock):
    timed(fake_clock, "f", 1)
    with pytest.raises(ValueError, match=r"expected 0 \(every row\) or more"):
        summarize(WALL).to_text(top=-1)


# ------------------------------------------------------------------ HTML
def test_html_escapes_labels_and_orders_by_self(fake_clock):
    dispatcher_program(fake_clock)
    timed(fake_clock, "<script>alert('x')</script> & co", 4)
    html = summarize(WALL).to_html()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in html
    assert html.count("<tr>") == 1 + 6  # the header and a row per label
    cells = re.findall(r'<td style="text-align:left" data-v="[^"]*">([^<]*)</td>', html)
    assert cells[:2] == ["work", "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co"]
    headers = re.findall(r"<th [^>]*>([^<]*)</th>", html)
    assert headers == ["LABEL", "COUNT", "SELF", "% SELF", "INCL", "% INCL", "MEAN"]
    # one inline script that sorts this table only, by the numbers in data-v
    table_id = re.search(r'<table id="([^"]+)"', html).group(1)
    assert html.count("<script>") == 1 and f'getElementById("{table_id}")' in html
    work_self = re.search(
        r'<tr><td[^>]*data-v="work">work</td><td[^>]*>1</td>'
        r'<td style="text-align:right" data-v="([^"]+)">',
        html,
    )
    assert float(work_self.group(1)) == approx(ns(6))
    assert summarize(WALL)._repr_html_().count("<table") == 1


def test_html_top_and_more_line(fake_clock):
    for i in range(5):
        timed(fake_clock, f"f{i}", 1)
    html = summarize(WALL, files=["w.json"]).to_html(top=2)
    assert html.count("<tr>") == 3 and "... and 3 more rows in w.json" in html


# ------------------------------------------------------------------ metrics without self values
def test_which_metrics_are_additive():
    def info(name):
        return _core.component_info(_core.find_component(name))

    for name in ("wall_clock", "cpu_clock", "peak_rss", "num_minor_page_faults", "trip_count"):
        assert is_additive(info(name)), name
    for name in ("cpu_util", "thread_cpu_util", "current_peak_rss", "timestamp"):
        assert not is_additive(info(name)), name
    read_char = info("read_char")  # an amount (additive), then a rate (not)
    if read_char["available"]:
        assert is_additive(read_char, 0) and not is_additive(read_char, 1)


def test_rate_component_has_no_self_share():
    util = _core.find_component("cpu_util")
    with marker(["cpu_util"], key="outer"):
        with marker(["cpu_util"], key="inner"):
            sum(range(20000))
    summary = summarize(util)
    assert not summary.additive
    text = summary.to_text(width=120)
    header = text.splitlines()[1].split()
    assert header == ["LABEL", "COUNT", "MEAN", "MAX"]
    assert "SELF" not in text and "by mean per call" in text.splitlines()[0]
    # the native text table shows no % SELF for it either
    table = _core.text_table(util, _core.flat_snapshot(util))
    rows = [line for line in table.splitlines() if ">>>" in line]
    assert len(rows) == 2 and all(cells(line)[-1] == "-" for line in rows)


# ------------------------------------------------------------------ the native text table
def cells(line: str) -> list[str]:
    """The cells of a text table's row (a label may hold "|_")."""
    return [c.strip() for c in re.split(r"\s\|\s", line.strip().strip("|").strip())]


def test_text_table_capped_to_the_rows_with_most_self(fake_clock):
    def body() -> None:
        for i in range(10):
            timed(fake_clock, f"f{i}", (i + 1) * 1e-3, lambda: timed(fake_clock, "leaf", 1e-3))
        timed(fake_clock, "hot", 0, lambda: timed(fake_clock, "hotter", 5))

    timed(fake_clock, "main", 0, body)
    flat = _core.flat_snapshot(WALL)
    assert len(flat) == 1 + 20 + 2
    table = _core.text_table(WALL, flat, 6, " in wall.json")
    lines = table.rstrip("\n").splitlines()
    labels = [cells(line)[0] for line in lines if ">>>" in line]
    # hotter (5 s of its own) with the two rows above it, then f9, f8, f7 (10, 9, 8 ms of
    # their own), in the table's order: the call graph still reads from top to bottom
    assert labels == [">>> main", ">>> |_f7", ">>> |_f8", ">>> |_f9", ">>> |_hot", ">>>   |_hotter"]
    assert lines[-1] == "... and 17 more rows in wall.json"
    # no limit, or a limit above the rows: everything, no last line
    assert "more row" not in _core.text_table(WALL, flat)
    assert "more row" not in _core.text_table(WALL, flat, 23)


def test_text_table_rows_in_their_own_units(fake_clock):
    def body() -> None:
        timed(fake_clock, "tiny", 3e-6)
        timed(fake_clock, "slow", 2)

    timed(fake_clock, "main", 0.25, body)
    flat = _core.flat_snapshot(WALL)
    rows = {
        cells(line)[0].replace(">>>", "").replace("|_", "").strip(): cells(line)
        for line in _core.text_table(WALL, flat, 0, "", True, False).splitlines()
        if ">>>" in line
    }
    assert rows["tiny"][4:6] == ["usec", "3.000"]
    assert rows["slow"][4:6] == ["sec", "2.000"]
    assert rows["main"][4:6] == ["sec", "2.250"]
    # the configured unit for every row unless asked
    fixed = [cells(line) for line in _core.text_table(WALL, flat).splitlines() if ">>>" in line]
    assert {r[4] for r in fixed} == {"sec"} and fixed[1][5] == "0.000"


def test_text_table_labels_shortened_to_max_width(fake_clock, monkeypatch):
    label = "a" * 100 + "_middle_" + "z" * 100
    timed(fake_clock, label, 1)
    monkeypatch.setattr(settings, "max_width", 60)
    table = _core.text_table(WALL, _core.flat_snapshot(WALL))
    cell = cells(next(line for line in table.splitlines() if ">>>" in line))[0]
    assert len(cell) == 60 and cell.startswith(">>> aaa") and cell.endswith("zzz") and "..." in cell


# ------------------------------------------------------------------ the tools
def test_print_summary_from_storage(fake_clock):
    dispatcher_program(fake_clock)
    out = io.StringIO()
    _cli.print_summary(top=2, stream=out, width=100)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[timemory]> wall_clock: top 2 of 5 by self time")
    assert lines[1].split() == ["LABEL", "COUNT", "SELF", "%", "SELF", "INCL", "%", "INCL", "MEAN"]
    assert [line.split()[0] for line in lines[2:4]] == ["work", "other"]
    assert lines[4].startswith("  ... and 3 more rows")
    # then the folders' lines, for what was not yet counted in one (said once a process)
    assert all(line.startswith("timemory: ") for line in lines[5:]), lines


def test_print_summary_without_data():
    out = io.StringIO()
    _cli.print_summary(stream=out)
    assert out.getvalue() == "[timemory]> nothing was recorded\n"


# the clock is advanced by a C function, which the profiler does not measure (without
# --trace-c): each function's time is its own
SCRIPT = """\
advance = _fake_clock_core._test_clock_advance

def f(i):
    advance(1_000_000 * (i + 1))

def main():
    for i in range(8):
        f(i)
    for i in range(8):
        globals()[f"g{i}"]()
"""
SCRIPT += "".join(f"\ndef g{i}():\n    advance({(i + 1) * 10_000_000})\n" for i in range(8))
SCRIPT += "\nmain()\n"


def run_profiler(tmp_path, *args, env=None):
    from fakeclock import PRELUDE, run_tool_with_fake_clock

    (tmp_path / "script.py").write_text(PRELUDE + SCRIPT)
    env = {"COLUMNS": "100", **(env or {})}
    return run_tool_with_fake_clock("timemory.profiler", *args, cwd=tmp_path, env=env)


def summary_lines(proc) -> list[str]:
    # the summary is printed through timemory._text.echo (stderr once all messages are)
    return (proc.stderr + proc.stdout).splitlines()


def test_profiler_top_option(tmp_path):
    proc = run_profiler(tmp_path, "--top", "3", "--", "script.py")
    assert proc.returncode == 0, proc.stderr
    lines = summary_lines(proc)
    head = next(i for i, line in enumerate(lines) if line.startswith("[timemory]> wall_clock:"))
    assert re.match(r"\[timemory\]> wall_clock: top 3 of \d+ by self time", lines[head])
    assert [line.split()[0] for line in lines[head + 2 : head + 5]] == ["g7", "g6", "g5"]
    assert re.match(r"  \.\.\. and \d+ more rows in .*wall\.json$", lines[head + 5])


def test_profiler_top_from_the_environment(tmp_path):
    proc = run_profiler(tmp_path, "--", "script.py", env={"TIMEMORY_SUMMARY_TOP": "2"})
    assert proc.returncode == 0, proc.stderr
    assert any(re.match(r"\[timemory\]> wall_clock: top 2 of", x) for x in summary_lines(proc))


@pytest.mark.parametrize("bad", ["x", "-1", "70000"])
def test_profiler_bad_top_is_one_line(tmp_path, bad):
    proc = run_profiler(tmp_path, "--top", bad, "--", "script.py")
    assert proc.returncode == 2
    assert "Traceback (most recent call last)" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--top" in lines[0], proc.stderr


def test_bad_top_in_the_environment_warns_once(tmp_path):
    proc = run_profiler(tmp_path, "--", "script.py", env={"TIMEMORY_SUMMARY_TOP": "many"})
    assert proc.returncode == 0, proc.stderr
    warned = [line for line in proc.stderr.splitlines() if "TIMEMORY_SUMMARY_TOP" in line]
    assert len(warned) == 1, proc.stderr
    # the default, 20, is more than the program's 11 labels (its top-level code, main, f, g0
    # to g7)
    lines = summary_lines(proc)
    assert any(re.match(r"\[timemory\]> wall_clock: 11 labels by self time", x) for x in lines)
    assert not any("more row" in line for line in lines)


def test_setting_rejects_a_negative_top():
    with pytest.raises(ValueError) as err:
        settings.summary_top = -3
    assert "\n" not in str(err.value)


def test_text_file_capped_with_the_json_keeping_every_row(tmp_path):
    import json

    proc = run_profiler(tmp_path, "--", "script.py", env={"TIMEMORY_TEXT_MAX_ROWS": "4"})
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "timemory-script-output"
    text = (out / "wall.txt").read_text().rstrip("\n").splitlines()
    assert len([line for line in text if ">>>" in line]) == 4
    flat = json.loads((out / "wall.json").read_text())["timemory"]["wall_clock"]
    rows = len(flat["ranks"][0]["graph"])
    assert rows > 4
    # named as the run named its files (relative to where it ran)
    assert text[-1] == f"... and {rows - 4} more rows in timemory-script-output/wall.json"


CROSS_PROCESS = """
import multiprocessing as mp
from timemory.bundle import marker

def task(i):
    with marker(["wall_clock"], key="task"):
        nap(0.001 * (i + 1))
    return i

if __name__ == "__main__":
    with marker(["wall_clock"], key="main"):
        with mp.get_context("fork").Pool(2) as pool:
            pool.map(task, range(4), chunksize=1)
        with marker(["wall_clock"], key="after"):
            nap(2)
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_cross_process_table_uses_the_summary_order_and_units(run_python, tmp_path):
    from fakeclock import PRELUDE

    proc = run_python(PRELUDE + CROSS_PROCESS, timeout=120)
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "timemory-script-output" / "wall.txt").read_text()
    table = text[text.index("CROSS-PROCESS SUMMARY") :].splitlines()
    rows = [cells(line) for line in table[2:] if line.startswith("| ")]
    assert rows[0][:3] == ["LABEL", "DEPTH", "PROCS"]
    # by self time over every process: after (2 s), task (10 ms in the workers), main (0)
    assert [r[0] for r in rows[1:]] == ["after", "task", "main"]
    after = dict(zip(rows[0], rows[1]))
    assert after["MIN"] == after["MEAN"] == after["MAX"] == "2.000 s"
    assert after["PROCS"] == "1" and after["IMBALANCE"] == "1.00"
