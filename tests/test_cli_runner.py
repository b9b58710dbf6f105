"""timemory._cli: the pieces the command-line tools share, tested in-process."""

from __future__ import annotations

import argparse
import builtins
import io
import json
import os
import signal
import sys

import pytest
from timemory import _cli, _text
from tool_helpers import write


# ------------------------------------------------------------------ parsing
# the words of timemory._text.BOOL_WORDS, as in TIMEMORY_* variables and config files
@pytest.mark.parametrize("text", ["yes", "YES", "true", "True", "t", "y", "Y", "1", "on", "2"])
def test_str2bool_true(text):
    assert _cli.str2bool(text) is True


@pytest.mark.parametrize("text", ["no", "NO", "false", "False", "f", "n", "0", "off", "OFF"])
def test_str2bool_false(text):
    assert _cli.str2bool(text) is False


@pytest.mark.parametrize("text", ["", "maybe", "yess", "nan", "onn"])
def test_str2bool_rejects(text):
    with pytest.raises(argparse.ArgumentTypeError, match="expected a boolean") as info:
        _cli.str2bool(text)
    assert _text.BOOL_WORDS in str(info.value)


def test_str2bool_passes_bools_through():
    # argparse hands `const=True` to the action untouched; a default may be a bool too
    assert _cli.str2bool(True) is True and _cli.str2bool(False) is False


def test_parser_error_is_a_typed_one_line_error(capsys):
    parser = _cli.ArgumentParser(prog="tool")
    parser.add_argument("--flag", type=_cli.str2bool, nargs="?", const=True)
    assert parser.parse_args(["--flag"]).flag is True
    assert parser.parse_args(["--flag", "no"]).flag is False
    with pytest.raises(_cli.CliError) as info:
        parser.parse_args(["--flag", "maybe"])
    assert info.value.status == 2
    assert info.value.message.startswith("argument --flag: expected a boolean")
    with pytest.raises(_cli.CliError, match="unrecognized arguments: --other"):
        parser.parse_args(["--other"])
    assert capsys.readouterr() == ("", "")  # nothing printed: the caller reports


def test_help_raises_exit_zero_instead_of_exiting(capsys):
    parser = _cli.ArgumentParser(prog="tool", description="does things")
    with pytest.raises(_cli.CliExit) as info:
        parser.parse_args(["--help"])
    assert info.value.status == 0 and not isinstance(info.value, _cli.CliError)
    assert "does things" in capsys.readouterr().out


@pytest.mark.parametrize("columns", [None, "", "0", "-3", "abc", "40", "120"])
def test_terminal_columns_is_shutils(monkeypatch, columns):
    # the help width without importing shutil: the same as argparse's own formatter finds
    import shutil

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert _cli.terminal_columns() == shutil.get_terminal_size().columns
    formatter = _cli.HelpFormatter("prog")
    assert formatter._width == argparse.RawDescriptionHelpFormatter("prog")._width


def test_argparse_untranslated_only_where_no_catalog_exists(monkeypatch, tmp_path):
    import gettext

    # no catalog of the domain: argparse gets the messages as they are, and gettext back after
    monkeypatch.setattr(gettext, "_localedirs", {"messages": str(tmp_path)})
    with _cli.untranslated_argparse():
        assert argparse._ is not gettext.gettext
        assert argparse._("usage: ") == "usage: "
        assert argparse.ngettext("one", "many", 1) == "one"
        assert argparse.ngettext("one", "many", 2) == "many"
    assert argparse._ is gettext.gettext and argparse.ngettext is gettext.ngettext
    # with one, gettext translates as ever
    (tmp_path / "xx" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "xx" / "LC_MESSAGES" / "messages.mo").write_bytes(b"")
    with _cli.untranslated_argparse():
        assert argparse._ is gettext.gettext and argparse.ngettext is gettext.ngettext


def test_cli_error_is_one_line_and_reported_as_such(capsys):
    err = _cli.CliError("first line\nsecond   line\n")
    assert err.message == "first line second line" == str(err)
    assert _cli.error_status("tool", err) == 2
    assert capsys.readouterr().err == "tool: error: first line second line\n"
    assert _cli.error_status("tool", _cli.CliExit(0)) == 0
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], ([], [])),
        (["s.py"], ([], ["s.py"])),
        (["s.py", "-c", "x", "--", "y"], ([], ["s.py", "-c", "x", "--", "y"])),
        (["-c", "a", "b", "--", "s.py", "x"], (["-c", "a", "b"], ["s.py", "x"])),
        (["-c", "a", "--"], (["-c", "a"], [])),
        (["-c", "a", "b"], (["-c", "a", "b"], [])),
        (["--", "-m", "mod", "x"], ([], ["-m", "mod", "x"])),
        (
            ["-c", "a", "-m", "pkg.mod", "-v", "--", "x"],
            (["-c", "a"], ["-m", "pkg.mod", "-v", "--", "x"]),
        ),
        (["-mpkg", "x"], ([], ["-m", "pkg", "x"])),
        (["-m", "5", "--", "s.py"], (["-m", "5"], ["s.py"])),  # rejected by is_module
        (["-m5", "--", "s.py"], (["-m5"], ["s.py"])),
        (["-m"], (["-m"], [])),
        (["-m", "-v"], (["-m", "-v"], [])),
        (["--max-stack-depth", "x"], (["--max-stack-depth", "x"], [])),
    ],
)
def test_split_command(argv, expected):
    assert _cli.split_command(argv, "-m", is_module=lambda v: not v.isdigit()) == expected


def test_split_command_without_a_module_flag():
    assert _cli.split_command(["-m", "x", "--", "s.py"], module_flag=None) == (
        ["-m", "x"],
        ["s.py"],
    )


# ------------------------------------------------------------------ targets
def test_missing_script(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(_cli.CliError) as info:
        _cli.resolve_target(["nope.py", "a"])
    assert info.value.status == 2
    assert info.value.message == "cannot run 'nope.py': no such file"


def test_directory_is_not_a_script(tmp_path):
    with pytest.raises(_cli.CliError, match="it is a directory"):
        _cli.resolve_target([str(tmp_path)])


def test_unreadable_script(tmp_path, monkeypatch):
    script = write(tmp_path / "s.py", "pass\n")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    # (chmod is no test here: root reads anything)
    monkeypatch.setattr(_cli, "open", refuse, raising=False)
    with pytest.raises(_cli.CliError) as info:
        _cli.resolve_target([str(script)])
    assert info.value.message == f"cannot read {str(script)!r}: Permission denied"


def test_empty_command():
    with pytest.raises(_cli.CliError, match="no program"):
        _cli.resolve_target([])
    with pytest.raises(_cli.CliError, match="expected a module name"):
        _cli.resolve_target(["-m"])


def test_missing_module_and_package_without_main(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "cli_runner_pkg_nomain" / "__init__.py", "")
    monkeypatch.delitem(sys.modules, "cli_runner_pkg_nomain", raising=False)
    with pytest.raises(_cli.CliError, match="no module named 'cli_runner_no_such_module'"):
        _cli.resolve_target(["-m", "cli_runner_no_such_module"])
    try:
        with pytest.raises(_cli.CliError, match="has no __main__ module"):
            _cli.resolve_target(["-m", "cli_runner_pkg_nomain"])
    finally:
        sys.modules.pop("cli_runner_pkg_nomain", None)


def test_target_properties(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "sub" / "s.py", "pass\n")
    target = _cli.resolve_target(["sub/s.py", "a", "-b"])
    assert target.kind == "script"
    assert target.path == str(tmp_path / "sub" / "s.py")
    assert target.argv == ["sub/s.py", "a", "-b"]
    assert target.command == ["sub/s.py", "a", "-b"]
    assert target.sys_path0 == os.path.realpath(tmp_path / "sub")


# ------------------------------------------------------------------ running
SPY = """\
import json, sys
seen = {
    "name": __name__,
    "file": __file__,
    "argv": list(sys.argv),
    "path0": sys.path[0],
    "spec": None if __spec__ is None else __spec__.name,
    "is_main": sys.modules["__main__"].__dict__ is globals(),
    "builtins": __builtins__ is __import__("builtins"),
    "co_filename": sys._getframe().f_code.co_filename,
}
with open(sys.argv[1], "w") as f:
    json.dump(seen, f)
"""


def test_script_runs_as_main(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    script = write(tmp_path / "dir" / "spy.py", SPY)
    report = tmp_path / "seen.json"
    main_before, argv_before, path_before = sys.modules["__main__"], sys.argv, list(sys.path)
    argv_contents = list(sys.argv)

    target = _cli.resolve_target(["dir/spy.py", str(report), "x"])
    assert _cli.run(target) == 0

    seen = json.loads(report.read_text())
    assert seen == {
        "name": "__main__",
        "file": str(script),
        "argv": ["dir/spy.py", str(report), "x"],
        "path0": os.path.realpath(tmp_path / "dir"),
        "spec": None,
        "is_main": True,
        "builtins": True,
        "co_filename": str(script),
    }
    # the caller's interpreter state is back
    assert sys.modules["__main__"] is main_before
    assert sys.argv is argv_before and sys.argv == argv_contents
    assert sys.path == path_before


def test_module_runs_as_main(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = write(tmp_path / "cli_runner_spy_module.py", SPY)
    report = tmp_path / "seen.json"
    target = _cli.resolve_target(["-m", "cli_runner_spy_module", str(report)])
    assert (target.kind, target.path) == ("module", str(module))
    assert target.command == ["-m", "cli_runner_spy_module", str(report)]
    assert _cli.run(target) == 0
    seen = json.loads(report.read_text())
    assert seen["name"] == "__main__"
    assert seen["file"] == str(module)
    assert seen["argv"] == [str(module), str(report)]  # as python -m sets it
    assert seen["path0"] == str(tmp_path)  # the current directory, as python -m
    assert seen["spec"] == "cli_runner_spy_module"
    assert seen["is_main"] and seen["co_filename"] == str(module)
    assert "cli_runner_spy_module" not in sys.modules  # run, not imported


def test_package_main_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "cli_runner_pkg" / "__init__.py", "")
    main = write(tmp_path / "cli_runner_pkg" / "__main__.py", SPY)
    report = tmp_path / "seen.json"
    try:
        assert _cli.run(_cli.resolve_target(["-m", "cli_runner_pkg", str(report)])) == 0
    finally:
        sys.modules.pop("cli_runner_pkg", None)
    seen = json.loads(report.read_text())
    assert seen["file"] == str(main) and seen["spec"] == "cli_runner_pkg.__main__"


@pytest.mark.parametrize(
    ("body", "status", "stderr"),
    [
        ("x = 1", 0, ""),
        ("import sys; sys.exit()", 0, ""),
        ("import sys; sys.exit(0)", 0, ""),
        ("import sys; sys.exit(3)", 3, ""),
        ("raise SystemExit(7)", 7, ""),
        ("import sys; sys.exit('bye now')", 1, "bye now\n"),
        ("raise KeyboardInterrupt", 130, "KeyboardInterrupt\n"),
    ],
)
def test_exit_status(tmp_path, capsys, body, status, stderr):
    script = write(tmp_path / "s.py", body + "\n")
    assert _cli.run(_cli.resolve_target([str(script)])) == status
    assert capsys.readouterr().err == stderr


def test_uncaught_exception_prints_the_programs_traceback(tmp_path, capsys):
    script = write(
        tmp_path / "boom.py",
        """\
        def inner():
            raise RuntimeError("boom")

        inner()
        """,
    )
    assert _cli.run(_cli.resolve_target([str(script)])) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):\n")
    assert f'File "{script}", line 4, in <module>' in err
    assert f'File "{script}", line 2, in inner' in err
    assert err.rstrip().endswith("RuntimeError: boom")
    assert err.count('  File "') == 2  # none of the runner's frames
    assert "_cli.py" not in err


def test_syntax_error_is_reported_like_python(tmp_path, capsys):
    script = write(tmp_path / "bad.py", "def broken(:\n")
    calls = []
    target = _cli.resolve_target([str(script)])
    status = _cli.run(
        target, before=lambda: calls.append("before"), after=lambda: calls.append("after")
    )
    assert status == 1 and calls == []  # nothing ran, nothing was started
    err = capsys.readouterr().err
    assert (
        "bad.py" in err and "SyntaxError" in err and "Traceback (most recent call last)" not in err
    )


@pytest.mark.parametrize(
    "body", ["pass", "import sys; sys.exit(2)", "raise ValueError", "raise KeyboardInterrupt"]
)
def test_after_runs_however_the_program_ends(tmp_path, capsys, body):
    script = write(
        tmp_path / "s.py", f"import builtins\nbuiltins.__cli_calls__.append('program')\n{body}\n"
    )
    calls: list[str] = []
    builtins.__cli_calls__ = calls  # type: ignore[attr-defined]
    try:
        _cli.run(
            _cli.resolve_target([str(script)]),
            before=lambda: calls.append("before"),
            after=lambda: calls.append("after"),
        )
    finally:
        del builtins.__cli_calls__  # type: ignore[attr-defined]
    assert calls == ["before", "program", "after"]


def test_exception_is_reported_after_the_after_hook(tmp_path, capsys):
    # so that printing the traceback is not measured
    script = write(tmp_path / "s.py", "raise ValueError('late')\n")
    order: list[str] = []

    def after():
        order.append("after: " + capsys.readouterr().err)

    _cli.run(_cli.resolve_target([str(script)]), after=after)
    assert order == ["after: "]
    assert "ValueError: late" in capsys.readouterr().err


def test_the_programs_excepthook_is_used(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    script = write(
        tmp_path / "s.py",
        """\
        import sys
        sys.excepthook = lambda t, v, tb: print("custom hook:", t.__name__, file=sys.stderr)
        raise ValueError
        """,
    )
    assert _cli.run(_cli.resolve_target([str(script)])) == 1
    assert capsys.readouterr().err == "custom hook: ValueError\n"


def test_injected_builtins_are_restored():
    assert not hasattr(builtins, "cli_runner_absent")
    sentinel = object()
    saved_print = builtins.print
    with _cli.injected_builtins(cli_runner_absent=sentinel, print=sentinel):
        assert builtins.cli_runner_absent is sentinel  # type: ignore[attr-defined]
        assert builtins.print is sentinel
    assert not hasattr(builtins, "cli_runner_absent")
    assert builtins.print is saved_print


def test_deferred_sigint_holds_ctrl_c():
    handler = signal.getsignal(signal.SIGINT)
    with _cli.deferred_sigint() as held:
        signal.raise_signal(signal.SIGINT)
        sum(range(10))  # a few bytecodes for the Python-level handler to run
    assert held == [signal.SIGINT]
    assert signal.getsignal(signal.SIGINT) is handler


# ------------------------------------------------------------------ summary
# (the summary's own rules: tests/test_summary.py)
def test_print_summary_from_storage():
    from timemory.bundle import marker

    def fib(n):
        with marker(["wall_clock"], key="fib"):
            return n if n < 2 else fib(n - 1) + fib(n - 2)

    with marker(["wall_clock"], key="main"):
        fib(10)
    for i in range(12):
        with marker(["wall_clock"], key=f"other{i:02d}"):
            pass
    out = io.StringIO()
    _cli.print_summary(top=3, stream=out, width=100)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[timemory]> wall_clock: top 3 of 14 by self time, total ")
    assert lines[1].split() == ["LABEL", "COUNT", "SELF", "%", "SELF", "INCL", "%", "INCL", "MEAN"]
    rows = {line.split()[0]: line.split() for line in lines[2:5]}
    assert "fib" in rows
    assert rows["fib"][1] == "177"  # calls of fib(10)
    assert lines[5].startswith("  ... and 11 more rows")
    # then the folders' lines, for the files not yet counted in one (the tools print them last)
    assert all(line.startswith("timemory: ") for line in lines[6:]), lines


def test_print_summary_without_data():
    out = io.StringIO()
    _cli.print_summary(stream=out)
    assert out.getvalue() == "[timemory]> nothing was recorded\n"
