"""``python -m timemory.trace`` (= ``timemory-python-trace``): run a Python script or module
with every line it executes recorded.

    python -m timemory.trace script.py arg1 arg2
    python -m timemory.trace -c wall_clock cpu_clock -- script.py arg1 arg2
    python -m timemory.trace -b -m package.module arg1

The options are the function profiler's without ``--trace-c`` and the stack depth, and the
labels name the file and line by default. The program runs as the profiler's command line
runs it (``timemory.profiler.__main__``): same exit statuses, output written on error and
Ctrl-C, and ``trace``/``profile`` (``notrace``/``noprofile``) available without an import.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from timemory import _cli
from timemory.trace import FakeTracer, Tracer, config

PROG = "python -m timemory.trace"

DESCRIPTION = """\
Trace a Python program line by line: every line that a traced function executes between the
program's first and last line is recorded with the chosen components, as one flat entry per
line labelled with its source text and [function][file:line]. The program runs as __main__
with its own sys.argv, sys.path[0] and __file__, and its exit status is this command's exit
status. The output files (text, flat JSON, tree JSON that hatchet loads, flame graph,
metadata) are written to timemory-<script>-output/ (see -d), also when the program raises,
exits or is interrupted with Ctrl-C, and the slowest lines are printed.

Inside the program, `trace` and `profile` (the tracer) and `notrace` and `noprofile` (do
nothing) are available without an import, so `@trace` or `@profile` decorates a function."""

EPILOG = """\
examples:
  # trace script.py, which gets the arguments a b
  %(prog)s script.py a b
  # with options, -- separates them from the script
  %(prog)s -c wall_clock cpu_clock -- script.py a b
  # run a module like python -m (this ends the options too)
  %(prog)s -m package.module a b
  # only while functions decorated with @trace or @profile run
  %(prog)s -b -- script.py"""


def build_parser(prog: str = PROG) -> _cli.ArgumentParser:
    parser = _cli.tool_parser(prog, DESCRIPTION, EPILOG)
    on_off: dict[str, Any] = {"type": _cli.str2bool, "nargs": "?", "const": True, "default": None}
    patterns: dict[str, Any] = {
        "nargs": "+",
        "type": _cli.regex,
        "default": None,
        "metavar": "REGEX",
    }
    add = parser.add_argument
    add(
        "-c",
        "--components",
        nargs="+",
        default=None,
        metavar="COMPONENT",
        help="Components to record for every line, e.g. wall_clock cpu_clock peak_rss. "
        "Without -c: TIMEMORY_TRACE_COMPONENTS, else TIMEMORY_GLOBAL_COMPONENTS, else "
        "wall_clock. `timemory settings --components` lists the names.",
    )
    add(
        "-d",
        "--output-dir",
        default=None,
        metavar="DIR",
        help="Folder for the output files. Default: TIMEMORY_OUTPUT_PATH if set, else "
        "timemory-<script name>-output in the current directory.",
    )
    add(
        "-b",
        "--builtin",
        metavar="BOOL",
        **on_off,
        help="Do not trace the whole program: only make `trace` and `profile` available, so "
        "that only the lines run while a decorated function (or a `with trace:` block) runs "
        "are recorded.",
    )
    add(
        "-s",
        "--setup",
        default=None,
        metavar="FILE",
        help="Python file run before the program, not traced (as its own __main__), e.g. to "
        "import heavy modules or change timemory.settings first.",
    )
    add(
        "-a",
        "--include-args",
        metavar="BOOL",
        **on_off,
        help="Add the argument values of each call to the labels: one entry per line and "
        "distinct call.",
    )
    add(
        "-l",
        "--include-line",
        metavar="BOOL",
        **on_off,
        help="End labels with the line number, [func][file.py:NN] (default: yes; -l no "
        "gives [func][file.py], which merges the lines of a function with the same text).",
    )
    add(
        "-f",
        "--include-file",
        metavar="BOOL",
        **on_off,
        help="Name the file in the labels (default: yes; -f no gives [func:NN]).",
    )
    add(
        "-F",
        "--full-filepath",
        metavar="BOOL",
        **on_off,
        help="Use the full path of the file instead of its base name in the labels.",
    )
    skip_help = _cli.skip_options_help("trace")
    add("--skip-funcs", **patterns, help=skip_help["skip_funcs"])
    add("--skip-files", **patterns, help=skip_help["skip_files"])
    add("--no-default-skips", action="store_true", help=skip_help["no_default_skips"])
    add(
        "--only-funcs",
        **patterns,
        help="Trace only functions whose name matches one of these regular expressions.",
    )
    add(
        "--only-files",
        **patterns,
        help="Trace only functions whose file path matches one of these regular expressions.",
    )
    add(
        "-v",
        "--verbosity",
        type=int,
        default=None,
        metavar="N",
        help="Verbosity of the tracer's messages (default: TIMEMORY_VERBOSE, 0).",
    )
    return parser


class _Trace(_cli.Tool):
    prog = PROG
    verb = "trace"
    doing = "tracing"

    def build_parser(self, prog: str) -> _cli.ArgumentParser:
        return build_parser(prog)

    def make_hook(self, opts: argparse.Namespace) -> Tracer:
        # created before anything runs, so an unknown component is a usage error; without -c
        # it takes its components from the settings when it starts (after the setup file)
        return Tracer(opts.components)

    def configure(self, opts: argparse.Namespace, hook: Tracer) -> None:
        # options not given keep the configuration's own values (which name file and line)
        _cli.set_options(config, _cli.label_and_filter_options(opts))

    def builtins(self, hook: Tracer) -> dict[str, Any]:
        # as under the profiler's command line: trace/profile are the tracer
        return {"profile": hook, "trace": hook, "noprofile": FakeTracer(), "notrace": FakeTracer()}


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    return _Trace().main(argv)


def start_in_worker(options: list[str]) -> None:
    """In a process spawned by ``multiprocessing`` while this tool runs: the same measuring."""
    _Trace().start_in_worker(options)


if __name__ == "__main__":
    sys.exit(main())
