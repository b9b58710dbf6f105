"""A boolean that a user writes means the same wherever it is written: a ``TIMEMORY_*``
variable, a config file (text or JSON), a ``--timemory-*`` option, an on/off option of the
tools (``--trace-c on``), the ``TIMEMORY_LIBRARY_CTOR`` switch read at import. Every one of
them is read by timemory._text.parse_bool, and a word it does not know is refused naming
BOOL_WORDS."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import warnings

import pytest
from timemory import _cli, _text, settings
from timemory.profiler.__main__ import build_parser as profiler_parser
from timemory.trace.__main__ import build_parser as trace_parser

WORDS = sorted(_text.TRUE_WORDS | _text.FALSE_WORDS)
# every word, in the case it is listed in and upper case, and numbers other than 0 and 1
CASES = [
    *((word, word in _text.TRUE_WORDS) for word in WORDS),
    *((word.upper(), word in _text.TRUE_WORDS) for word in WORDS if word.isalpha()),
    ("2", True),
    ("0.0", False),
]
BAD = "maybe"


@pytest.fixture
def copy():
    """A copy of the settings, so that the global ones stay as they are."""
    return settings()


def _opposite(inst, expected: bool) -> None:
    inst.cout_output = not expected  # so that reading the word has to change it


@pytest.mark.parametrize(("word", "expected"), CASES)
def test_environment(copy, monkeypatch, word, expected):
    _opposite(copy, expected)
    monkeypatch.setenv("TIMEMORY_COUT_OUTPUT", word)
    settings.parse(copy)
    assert copy.cout_output is expected
    assert copy.source("cout_output") == "environment"


@pytest.mark.parametrize(("word", "expected"), CASES)
def test_text_config_file(copy, tmp_path, word, expected):
    _opposite(copy, expected)
    path = tmp_path / "timemory.cfg"
    path.write_text(f"cout_output = {word}\n")
    settings.read(copy, path)
    assert copy.cout_output is expected


@pytest.mark.parametrize(("word", "expected"), CASES)
def test_json_config_file(copy, tmp_path, word, expected):
    _opposite(copy, expected)
    path = tmp_path / "timemory.json"
    path.write_text(json.dumps({"timemory": {"settings": {"cout_output": word}}}))
    settings.read(copy, path)
    assert copy.cout_output is expected


@pytest.mark.parametrize(("word", "expected"), CASES)
def test_settings_option(copy, word, expected):
    _opposite(copy, expected)
    parser = argparse.ArgumentParser()
    settings.add_arguments(parser, copy, subparser=False)
    parser.parse_args(["--timemory-cout-output", word])
    assert copy.cout_output is expected
    assert copy.source("cout_output") == "command line"


@pytest.mark.parametrize(("word", "expected"), CASES)
def test_api(copy, word, expected):
    _opposite(copy, expected)
    copy.cout_output = word
    assert copy.cout_output is expected


@pytest.mark.parametrize(("word", "expected"), CASES)
def test_tool_options(word, expected):
    assert _cli.str2bool(word) is expected
    assert profiler_parser().parse_args(["--trace-c", word]).trace_c is expected
    assert profiler_parser().parse_args(["-a", word]).include_args is expected
    assert trace_parser().parse_args(["-l", word]).include_line is expected
    # the option alone still means "on"
    assert profiler_parser().parse_args(["--trace-c"]).trace_c is True


def test_unknown_word_is_refused_naming_the_words(copy, monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="cout_output") as info:
        copy.cout_output = BAD
    assert _text.BOOL_WORDS in str(info.value)

    parser = _cli.ArgumentParser(prog="example")
    settings.add_arguments(parser, copy, subparser=False)
    with pytest.raises(_cli.CliError) as error:
        parser.parse_args(["--timemory-cout-output", BAD])
    assert _text.BOOL_WORDS in error.value.message

    for parser in (profiler_parser(), trace_parser()):
        with pytest.raises(_cli.CliError) as error:
            parser.parse_args(["-a", BAD])
        assert error.value.message == (
            f"argument -a/--include-args: expected a boolean ({_text.BOOL_WORDS}), got '{BAD}'"
        )

    before = copy.cout_output
    monkeypatch.setenv("TIMEMORY_COUT_OUTPUT", BAD)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        settings.parse(copy)
    assert [str(w.message) for w in caught if _text.BOOL_WORDS in str(w.message)]
    assert copy.cout_output is before  # the value kept


@pytest.mark.parametrize(
    ("ctor", "initialized"),
    [("off", False), ("NO", False), ("0", False), ("on", True), ("Yes", True), ("1", True)],
)
def test_library_ctor_switch_reads_the_same_words(tmp_path, ctor, initialized):
    """TIMEMORY_LIBRARY_CTOR decides whether importing timemory names the output folder after
    the program (initialize); TIMEMORY_LIBRARY_DTOR whether the output is written at exit."""
    script = tmp_path / "ctor_probe.py"
    script.write_text("import timemory\nprint(timemory.settings.output_path)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMEMORY_")}
    env.update(HOME=str(tmp_path), TIMEMORY_LIBRARY_CTOR=ctor, TIMEMORY_LIBRARY_DTOR="off")
    done = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    expected = "timemory-ctor-probe-output" if initialized else "timemory-output"
    assert done.stdout.strip() == expected
    assert not (tmp_path / expected).exists()  # DTOR=off: nothing written at exit
