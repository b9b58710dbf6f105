"""``python -m timemory.profiler`` (= ``timemory-python-profiler``): run a Python script or
module with every function call recorded (reference §4.4).

    python -m timemory.profiler script.py arg1 arg2
    python -m timemory.profiler -c wall_clock cpu_clock -- script.py arg1 arg2
    python -m timemory.profiler -c wall_clock -m package.module arg1

Differences from the reference, on purpose: an unknown option is an error (the reference
ignored it), options may be given without ``--`` when the program is a module (``-m``), and
the program's exit status, traceback and Ctrl-C are passed through after the data is written.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

import timemory
from timemory import _cli, settings
from timemory.profiler import FakeProfiler, Profiler, config

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


def _depth(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _regex(text: str) -> str:
    try:
        re.compile(text)
    except re.error as exc:
        raise argparse.ArgumentTypeError(f"invalid regular expression {text!r}: {exc}") from None
    return text


def build_parser(prog: str = PROG) -> _cli.ArgumentParser:
    parser = _cli.ArgumentParser(
        prog=prog,
        usage=(
            "%(prog)s [options] -- script.py [args ...]\n"
            "       %(prog)s [options] -m module [args ...]\n"
            "       %(prog)s script.py [args ...]"
        ),
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    on_off = {
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
        "wall_clock. An unknown name is an error that lists the valid ones.",
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
        type=_depth,
        default=None,
        metavar="N",
        help="Record N levels of calls: 1 records only the functions that the program's "
        "top-level code calls (with -b: only the decorated functions), 2 also what they call, "
        "and so on (default 65535). `-m NAME` with a NAME that is not an integer runs module "
        "NAME instead, like python -m, and ends the options.",
    )
    parser.add_argument(
        "--skip-funcs",
        nargs="+",
        type=_regex,
        default=None,
        metavar="REGEX",
        help="Do not record functions whose name matches one of these regular expressions "
        "(added to the default list, which skips e.g. <module> and <lambda>).",
    )
    parser.add_argument(
        "--skip-files",
        nargs="+",
        type=_regex,
        default=None,
        metavar="REGEX",
        help="Do not record functions whose file path matches one of these regular "
        "expressions (added to the defaults, which skip e.g. __init__.py and threading.py).",
    )
    parser.add_argument(
        "--only-funcs",
        nargs="+",
        type=_regex,
        default=None,
        metavar="REGEX",
        help="Record only functions whose name matches one of these regular expressions.",
    )
    parser.add_argument(
        "--only-files",
        nargs="+",
        type=_regex,
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


def _prog() -> str:
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return name if name.startswith("timemory-") else PROG


def _parse(parser: _cli.ArgumentParser, argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    options, command = _cli.split_command(argv, "-m", is_module=lambda v: not _is_int(v))
    try:
        opts = parser.parse_args(options)
    except _cli.CliError as err:
        # e.g. `-b script.py`: without --, the script was read as the value of an option
        script = next((o for o in options if not o.startswith("-") and os.path.isfile(o)), None)
        if script and not command:
            raise _cli.CliError(
                f"{err.message} (put -- between the options and the script {script!r})"
            ) from None
        raise
    if not command:
        raise _cli.CliError(
            "no script to profile: give one, e.g. "
            f"`{parser.prog} [options] -- script.py [args]` or `{parser.prog} -m module`"
        )
    return opts, command


def _setup_target(path: str) -> _cli.Target:
    try:
        return _cli.resolve_target([path])
    except _cli.CliError as err:
        raise _cli.CliError(f"argument -s/--setup: {err.message}") from None


def _profiler(components: list[str] | None) -> Profiler:
    """The profiler, created before anything runs so that an unknown component is a usage
    error. Without -c it takes its components from the settings when it starts (after the
    setup file, which may change them)."""
    try:
        return Profiler(components)
    except ValueError as err:  # names the valid choices
        raise _cli.CliError(str(err)) from None


def _configure(opts: argparse.Namespace) -> None:
    """Copy the options into ``timemory.profiler.config``; options not given keep the
    configuration's own values."""
    values = {
        "trace_c": opts.trace_c,
        "include_args": opts.include_args,
        "include_line": opts.include_line,
        "include_filename": opts.include_file,
        "full_filepath": opts.full_filepath,
        # the profiler counts levels from the first frame it sees: the program's module frame
        # under the runner, the decorated function with -b
        "max_stack_depth": None
        if opts.max_stack_depth is None
        else opts.max_stack_depth + (0 if opts.builtin else _cli.PROGRAM_DEPTH),
        "verbosity": opts.verbosity,
        # the pattern sets add to what is there (the defaults), as in the reference
        "skip_functions": opts.skip_funcs,
        "skip_filenames": opts.skip_files,
        "only_functions": opts.only_funcs,
        "only_filenames": opts.only_files,
    }
    for name, value in values.items():
        if value is not None:
            setattr(config, name, value)


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_prog())
    try:
        opts, command = _parse(parser, argv)
        target = _cli.resolve_target(command)
        setup = _setup_target(opts.setup) if opts.setup else None
        profiler = _profiler(opts.components)
    except _cli.CliExit as exc:
        return _cli.error_status(parser.prog, exc)

    # output directory: -d, else TIMEMORY_OUTPUT_PATH (initialize re-reads the environment),
    # else timemory-<script stem>-output
    timemory.initialize([target.path if target.kind == "script" else target.name])
    if opts.output_dir:
        settings.output_path = opts.output_dir
    _configure(opts)
    _cli.echo(f"[timemory]> profiling: {target.command}")
    try:
        status = _run(opts, target, setup, profiler, parser.prog)
    except KeyboardInterrupt:  # outside the program: at the end of the setup file, say
        status = _cli.INTERRUPT_STATUS
    finally:
        # whatever happened above, the data collected so far is written
        held = _cli.write_output()
    try:
        _cli.print_summary()
    except KeyboardInterrupt:
        held = True
    return _cli.INTERRUPT_STATUS if held and status == 0 else status


def _run(
    opts: argparse.Namespace,
    target: _cli.Target,
    setup: _cli.Target | None,
    profiler: Profiler,
    prog: str,
) -> int:
    if setup is not None:
        status = _cli.run(setup)
        if status != 0:
            _cli.echo(
                f"{prog}: the setup file {opts.setup!r} exited with status {status}; "
                "the program was not run",
                sys.stderr,
            )
            return status
    with _cli.injected_builtins(
        profile=profiler, trace=profiler, noprofile=FakeProfiler(), notrace=FakeProfiler()
    ):
        if opts.builtin:
            # the program's @profile / `with profile:` start and stop this same instance
            return _cli.run(target)
        return _cli.run(target, before=profiler.start, after=profiler.stop)


if __name__ == "__main__":
    sys.exit(main())
