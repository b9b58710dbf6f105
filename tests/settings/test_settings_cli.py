"""timemory.settings argparse support, ``python -m timemory.settings``, import-time env."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import pytest
from timemory import settings
from timemory.settings.__main__ import main


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path):
    """Records core calls, clean TIMEMORY_* environment and HOME, global settings restored."""
    calls: list[tuple[str, object]] = []
    snapshot = settings()
    core = type("FakeCore", (), {"config_set": staticmethod(lambda n, v: calls.append((n, v)))})
    monkeypatch.setattr(settings, "_core_module", lambda: core)
    monkeypatch.setenv("HOME", str(tmp_path))  # no user config file is read
    for name in list(os.environ):
        if name.startswith("TIMEMORY_"):
            monkeypatch.delenv(name)
    yield calls
    settings._GLOBAL._values = snapshot._values
    settings._GLOBAL._sources = snapshot._sources
    settings._GLOBAL._unverified = snapshot._unverified


def option_strings(parser: argparse.ArgumentParser) -> set[str]:
    return set(parser._option_string_actions)


def config_subparser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["timemory-config"]


def test_subparser_mode_applies_values_immediately(isolated):
    parser = argparse.ArgumentParser("example")
    parser.add_argument("-n", type=int, default=1)
    parser.add_argument("--verbose", action="store_true")  # the user's own --verbose
    assert settings.add_arguments(parser) is parser
    argv = ["-n", "10", "timemory-config", "--enabled", "False", "--max-depth", "8"]
    args = parser.parse_args(argv)
    assert args.n == 10 and args.verbose is False
    assert settings.enabled is False and settings.max_depth == 8
    assert settings.source("enabled") == "command line"
    assert (args.timemory_enabled, args.timemory_max_depth) == (False, 8)
    assert ("enabled", False) in isolated and ("max_depth", 8) in isolated


def test_subparser_options_and_help():
    parser = settings.add_arguments(None)
    sub = config_subparser(parser)
    assert sub.description == "Configure settings for timemory"
    assert sub.formatter_class is argparse.ArgumentDefaultsHelpFormatter
    flags = option_strings(sub)
    assert {
        "--verbose",
        "--output-path",
        "--flat-profile",
        "-C",
        "--config",
        "--no-config",
        "--suppress-config",
        "--cupti-pcsampling-serialize",
        "--timing-units",
        "--args",
    } <= flags
    assert not any(f.startswith("--timemory-") for f in flags)
    assert "--timing-precision" not in flags  # no command-line flag in the reference
    verbose = sub._option_string_actions["--verbose"]
    assert verbose.help == (
        "Verbosity of timemory's lines on stderr: -1 errors only, 0 the summary and one line "
        "per output folder, 1 also every file [env: TIMEMORY_VERBOSE, type: int]"
    )
    assert (verbose.metavar, verbose.default, verbose.required) == ("VALUE", "0", False)
    assert sub._option_string_actions["--time-format"].default == "%F_%I.%M_%p"
    sub.format_help()  # '%' in help and defaults must not break the formatter


def test_existing_subparsers_are_reused():
    parser = argparse.ArgumentParser()
    subs = parser.add_subparsers(dest="command")
    subs.add_parser("run")
    settings.add_arguments(parser)
    assert parser.parse_args(["timemory-config", "--verbose", "2"]).command == "timemory-config"
    assert settings.verbose == 2


def test_user_supplied_subparser_object():
    parser = argparse.ArgumentParser()
    mine = parser.add_subparsers().add_parser("timemory-config")
    settings.add_arguments(parser, subparser=mine)
    parser.parse_args(["timemory-config", "--flat-profile", "on", "--output-path", "somewhere"])
    assert settings.flat_profile is True and settings.output_path == "somewhere"


def test_direct_mode_uses_full_names_and_keeps_user_options():
    parser = argparse.ArgumentParser()
    parser.add_argument("-C", dest="user_c")
    settings.add_arguments(parser, subparser=False)
    flags = option_strings(parser)
    expected = {
        "--timemory-verbose",
        "--timemory-config",
        "--timemory-no-config",
        "--timemory-args",
    }
    assert expected <= flags
    args = parser.parse_args(["-C", "mine", "--timemory-timing-units", "Milliseconds"])
    assert args.user_c == "mine"
    assert settings.timing_units == "msec" and settings.unit_info("timing") == (1e6, "msec")


def test_bad_value_is_a_parser_error_naming_accepted_values(capsys):
    parser = settings.add_arguments(argparse.ArgumentParser("example"))
    with pytest.raises(SystemExit) as info:
        parser.parse_args(["timemory-config", "--enabled", "maybe"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--enabled" in err and "maybe" in err and "on/true/yes/y/t" in err
    assert settings.enabled is True


def test_args_pairs():
    parser = settings.add_arguments(None)
    args = parser.parse_args(
        [
            "timemory-config",
            "--args",
            "verbose=2;TIMEMORY_FLAT_PROFILE=on:max_depth=3",
            "precision=4\tdart_count=true",
        ]
    )
    assert (settings.verbose, settings.flat_profile, settings.max_depth) == (2, True, 3)
    assert (settings.precision, settings.dart_count) == (4, 1)
    assert args.timemory_args[0] == "verbose=2"
    with pytest.warns(settings.TimemoryWarning, match="verbsoe"):
        parser.parse_args(["timemory-config", "--args", "verbsoe=1"])
    direct = settings.add_arguments(argparse.ArgumentParser(), subparser=False)
    direct.parse_args(["--timemory-args", "width=12"])
    assert settings.width == 12


def test_selection_and_instance():
    copy = settings()
    parser = settings.add_arguments(
        argparse.ArgumentParser(),
        instance=copy,
        subparser=False,
        selection=["verbose", "TIMEMORY_MAX_DEPTH", "timing_precision"],
    )
    assert option_strings(parser) == {
        "-h",
        "--help",
        "--timemory-verbose",
        "--timemory-max-depth",
        "--timemory-timing-precision",
        "--timemory-args",
    }
    parser.parse_args(["--timemory-verbose", "3", "--timemory-timing-precision", "2"])
    assert (copy.verbose, copy.timing_precision, settings.verbose) == (3, 2, 0)
    with pytest.raises(ValueError, match="verbsoe.*verbose"):
        settings.add_arguments(argparse.ArgumentParser(), selection=["verbsoe"])
    assert settings.add_argparse is settings.add_arguments


def test_config_option_reads_the_file(tmp_path, capsys):
    cfg = tmp_path / "run.cfg"
    cfg.write_text("verbose 9\n")
    parser = settings.add_arguments(None)
    parser.parse_args(["timemory-config", "-C", str(cfg)])
    assert settings.verbose == 9 and settings.config_file == str(cfg)
    with pytest.raises(SystemExit):
        parser.parse_args(["timemory-config", "--config", str(tmp_path / "nope.cfg")])
    assert "nope.cfg" in capsys.readouterr().err


# ------------------------------------------------------------------- python -m timemory.settings


def rows(output: str) -> dict[str, list[str]]:
    return {line.split()[0]: line.split() for line in output.splitlines()[1:]}


def test_main_in_process_shows_sources(capsys, monkeypatch):
    monkeypatch.setenv("TIMEMORY_MAX_DEPTH", "5")
    settings.parse()
    settings.verbose = 2
    assert main(["--filter", "^(verbose|max_depth|debug|width)$", "--timemory-width", "9"]) == 0
    table = rows(capsys.readouterr().out)
    assert table["verbose"][1:] == ["2", "api", "TIMEMORY_VERBOSE"]
    assert table["max_depth"][1:] == ["5", "environment", "TIMEMORY_MAX_DEPTH"]
    assert table["debug"][1:] == ["False", "default", "TIMEMORY_DEBUG"]
    assert table["width"][1:] == ["9", "command", "line", "TIMEMORY_WIDTH"]


def test_main_json_and_changed(capsys):
    settings.flat_profile = True
    assert main(["--json", "--changed"]) == 0
    records = json.loads(capsys.readouterr().out)
    without_description = [{k: r[k] for k in r if k != "description"} for r in records]
    assert {
        "name": "flat_profile",
        "env": "TIMEMORY_FLAT_PROFILE",
        "type": "bool",
        "value": True,
        "default": False,
        "source": "api",
    } in without_description
    assert all(r["value"] != r["default"] for r in records)


def test_main_rejects_bad_regex(capsys):
    with pytest.raises(SystemExit):
        main(["--filter", "("])
    assert "--filter" in capsys.readouterr().err


def run_python(args: list[str], tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TIMEMORY_") and k != "PYTHONWARNINGS"
    }
    clean.update(HOME=str(tmp_path), TIMEMORY_LIBRARY_CTOR="0", TIMEMORY_LIBRARY_DTOR="0", **env)
    return subprocess.run(
        [sys.executable, *args],
        env=clean,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_environment_round_trip_in_a_subprocess(tmp_path):
    code = (
        "from timemory import settings as s; "
        "print(s.max_depth, s.source('max_depth'), s.flat_profile, s.timing_units, "
        "s.unit_info('timing'))"
    )
    done = run_python(
        ["-c", code],
        tmp_path,
        TIMEMORY_MAX_DEPTH="5",
        TIMEMORY_FLAT_PROFILE="yes",
        TIMEMORY_TIMING_UNITS="US",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["5", "environment", "True", "usec", "(1000.0,", "'usec')"]


def test_suppress_parsing_in_the_environment(tmp_path):
    code = "from timemory import settings as s; print(s.verbose, s.suppress_parsing)"
    done = run_python(["-c", code], tmp_path, TIMEMORY_VERBOSE="3", TIMEMORY_SUPPRESS_PARSING="on")
    assert done.stdout.split() == ["0", "True"], done.stderr


def test_malformed_environment_warns_once_per_variable(tmp_path):
    code = "from timemory import settings as s; print(s.max_depth, s.timing_units, s.enabled)"
    done = run_python(
        ["-c", code],
        tmp_path,
        TIMEMORY_MAX_DEPTH="abc",
        TIMEMORY_TIMING_UNITS="parsec",
        TIMEMORY_ENABLED="maybe",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["65535", "True"]  # timing_units stays '' (printed as nothing)
    warnings = [line for line in done.stderr.splitlines() if "TimemoryWarning" in line]
    for variable, bad, accepted in [
        ("TIMEMORY_MAX_DEPTH", "'abc'", "[0, 65535]"),
        ("TIMEMORY_TIMING_UNITS", "'parsec'", "nsec/ns"),
        ("TIMEMORY_ENABLED", "'maybe'", "on/true/yes/y/t"),
    ]:
        mine = [line for line in warnings if variable in line]
        assert len(mine) == 1, done.stderr
        assert bad in mine[0] and accepted in mine[0]


def test_python_m_timemory_settings(tmp_path):
    done = run_python(
        ["-m", "timemory.settings", "--filter", "^(verbose|debug)$"], tmp_path, TIMEMORY_VERBOSE="2"
    )
    assert done.returncode == 0, done.stderr
    table = rows(done.stdout)
    assert table["verbose"][1:3] == ["2", "environment"]
    assert table["debug"][1:3] == ["False", "default"]
    done = run_python(
        ["-m", "timemory.settings", "--json", "--changed"], tmp_path, TIMEMORY_DEBUG="on"
    )
    assert done.returncode == 0, done.stderr
    changed = {r["name"]: r["source"] for r in json.loads(done.stdout)}
    assert changed.get("debug") == "environment"
