"""``python -m timemory.profiler`` (= ``timemory-python-profiler``): run a Python script or
module with every function call recorded.

    python -m timemory.profiler script.py arg1 arg2
    python -m timemory.profiler -c wall_clock cpu_clock -- script.py arg1 arg2
    python -m timemory.profiler -c wall_clock -m package.module arg1

Differences from the reference, on purpose: an unknown option is an error (the reference
ignored it), options may be given without ``--`` when the program is a module (``-m``), and
the program's exit status, traceback and Ctrl-C are passed through after the data is written.
"""

from __future__ import annotations

import argparse
import sys

from timemory import _cli
from timemory.profiler import FakeProfiler, Profiler, config

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any

PROG = "python -m timemory.profiler"

DESCRIPTION = """\
Profile a Python program: every Python function call (and, with --trace-c, every call of a
C function) between the program's first and last line is recorded with the chosen
components. The program runs as __main__ with its own sys.argv, sys.path[0] and __file__, and
its exit status is this command's exit status. The output files (text, flat JSON, tree JSON
that hatchet loads, flame graph, metadata) are written to timemory-<script>-output/ (see -d),
also when the program raises, exits or is interrupted with Ctrl-C, and a short summary is
printed.

Inside the program, `profile` and `trace` (the profiler) and `noprofile` and `notrace` (do
nothing) are available without an import, so `@profile` decorates a function."""

EPILOG = """\
examples:
  # profile script.py, which gets the arguments a b
  %(prog)s script.py a b
  # with options, -- separates them from the script
  %(prog)s -c wall_clock cpu_clock -- script.py a b
  # run a module like python -m (this ends the options too); labels [func][file.py:line]
  %(prog)s -f -l -m package.module a b
  # only while functions decorated with @profile run
  %(prog)s -b -- script.py

The value of -m decides its meaning: an integer is the maximum stack depth (as in the
reference's command line), anything else is a module to run. --max-stack-depth is always the
depth."""


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def build_parser(prog: str = PROG) -> _cli.ArgumentParser:
    parser = _cli.tool_parser(prog, DESCRIPTION, EPILOG)
    on_off: dict[str, Any] = {
        "type": _cli.str2bool,
        "nargs": "?",
        "const": True,
        "default": None,
        "metavar": "BOOL",
    }
    parser.add_argument(
        "-c",
        "--components",
        nargs="+",
        default=None,
        metavar="COMPONENT",
        help="Components to record for every call, e.g. wall_clock cpu_clock peak_rss. "
        "Without -c: TIMEMORY_PROFILER_COMPONENTS, else TIMEMORY_GLOBAL_COMPONENTS, else "
        "wall_clock. `timemory settings --components` lists the names.",
    )
    parser.add_argument(
        "-d",
        "--output-dir",
        default=None,
        metavar="DIR",
        help="Folder for the output files. Default: TIMEMORY_OUTPUT_PATH if set, else "
        "timemory-<script name>-output in the current directory.",
    )
    parser.add_argument(
        "-b",
        "--builtin",
        **on_off,
        help="Do not profile the whole program: only make `profile` available, so that only "
        "the calls made while a function decorated with @profile (or a `with profile:` "
        "block) runs are recorded.",
    )
    parser.add_argument(
        "-s",
        "--setup",
        default=None,
        metavar="FILE",
        help="Python file run before the program, not profiled (as its own __main__), "
        "e.g. to import heavy modules or change timemory.settings first.",
    )
    parser.add_argument(
        "--trace-c",
        **on_off,
        help="Also record calls of C functions (builtins and extension modules).",
    )
    parser.add_argument(
        "-a",
        "--include-args",
        **on_off,
        help="Add the argument values to the labels, e.g. fibonacci(n=5): one entry per "
        "distinct call.",
    )
    parser.add_argument(
        "-l",
        "--include-line",
        **on_off,
        help="Add the line number of the function's definition to the labels.",
    )
    parser.add_argument(
        "-f",
        "--include-file",
        **on_off,
        help="Add the file name to the labels; with -l the label reads [func][file.py:line].",
    )
    parser.add_argument(
        "-F",
        "--full-filepath",
        **on_off,
        help="Use the full path of the file instead of its base name in the labels.",
    )
    parser.add_argument(
        "-m",
        "--max-stack-depth",
        type=_cli.number(int, minimum=1),
        default=None,
        metavar="N",
        help="Record N levels of calls: 1 records the program's top-level code and the "
        "functions it calls (with -b: only the decorated functions), 2 also what they call, "
        "and so on (default 65535). `-m NAME` with a NAME that is not an integer runs module "
        "NAME instead, like python -m, and ends the options.",
    )
    skip_help = _cli.skip_options_help("record")
    parser.add_argument(
        "--skip-funcs",
        nargs="+",
        type=_cli.regex,
        default=None,
        metavar="REGEX",
        help=skip_help["skip_funcs"],
    )
    parser.add_argument(
        "--skip-files",
        nargs="+",
        type=_cli.regex,
        default=None,
        metavar="REGEX",
        help=skip_help["skip_files"],
    )
    parser.add_argument(
        "--no-default-skips",
        action="store_true",
        help=skip_help["no_default_skips"],
    )
    parser.add_argument(
        "--only-funcs",
        nargs="+",
        type=_cli.regex,
        default=None,
        metavar="REGEX",
        help="Record only functions whose name matches one of these regular expressions.",
    )
    parser.add_argument(
        "--only-files",
        nargs="+",
        type=_cli.regex,
        default=None,
        metavar="REGEX",
        help="Record only functions whose file path matches one of these regular expressions.",
    )
    parser.add_argument(
        "-v",
        "--verbosity",
        type=int,
        default=None,
        metavar="N",
        help="Verbosity of the profiler's messages (default: TIMEMORY_VERBOSE, 0).",
    )
    return parser


class _Profile(_cli.Tool):
    prog = PROG
    verb = "profile"
    doing = "profiling"
    # `-m N` is the maximum stack depth; `-m name` runs a module
    is_module = staticmethod(lambda value: not _is_int(value))

    def build_parser(self, prog: str) -> _cli.ArgumentParser:
        return build_parser(prog)

    def make_hook(self, opts: argparse.Namespace) -> Profiler:
        # created before anything runs, so an unknown component is a usage error; without -c
        # it takes its components from the settings when it starts (after the setup file)
        return Profiler(opts.components)

    def configure(self, opts: argparse.Namespace, hook: Profiler) -> None:
        depth = opts.max_stack_depth
        values = _cli.label_and_filter_options(opts)
        values["trace_c"] = opts.trace_c
        # the profiler counts levels from the first frame it sees: the program's module frame
        # under the runner, the decorated function with -b
        if depth is not None:
            values["max_stack_depth"] = depth + (0 if opts.builtin else _cli.PROGRAM_DEPTH)
        _cli.set_options(config, values)

    def builtins(self, hook: Profiler) -> dict[str, Any]:
        return {
            "profile": hook,
            "trace": hook,
            "noprofile": FakeProfiler(),
            "notrace": FakeProfiler(),
        }


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    return _Profile().main(argv)


def start_in_worker(options: list[str]) -> None:
    """In a process spawned by ``multiprocessing`` while this tool runs: the same measuring."""
    _Profile().start_in_worker(options)


if __name__ == "__main__":
    sys.exit(main())
