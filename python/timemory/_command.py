"""The ``timemory`` command (also ``python -m timemory``): one name for the package's
command-line tools, ``timemory <command> [options ...]``.

Each command is a tool's own ``main(argv)``, unchanged: ``timemory profile ...`` is
``python -m timemory.profiler ...`` with the same options, exit statuses and output, and
names itself ``timemory profile`` in its messages. A tool is imported only when its command
runs, so ``timemory --help`` and a mistyped command answer without loading any of them.

Usage problems are one line on stderr with status 2: no command (the usage and the commands
are printed, on stderr), an unknown command or option (with a did-you-mean). A tool whose
optional package is missing (``timemory lines`` without line_profiler) is one line naming
the package and this package's extra, status 1.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Sequence
    from typing import TextIO

__all__ = ["COMMANDS", "line_profiler_script", "main"]

PROG = "timemory"

#: command -> (module with the tool's ``main(argv) -> int``, one line about it), in the
#: order the help lists them
COMMANDS = {
    "profile": (
        "timemory.profiler.__main__",
        "run a Python program with every function call measured",
    ),
    "trace": ("timemory.trace.__main__", "run a Python program with every line measured"),
    "lines": (
        "timemory.line_profiler.__main__",
        "profile the @profile functions of a program line by line (kernprof-like)",
    ),
    "plot": ("timemory.plotting.__main__", "bar charts or summary tables of the JSON output"),
    "analyze": (
        "timemory.analyze.__main__",
        "call graphs read with hatchet: filter, add, subtract, trees, tables, dot, flame graphs",
    ),
    "export": (
        "timemory._output._export_command",
        "a saved output folder as pstats, speedscope, callgrind or Perfetto files",
    ),
    "compare": (
        "timemory.runs._compare_command",
        "which nodes got slower or faster between two sets of repeats, with statistics",
    ),
    "roofline": (
        "timemory.roofline.__main__",
        "roofline plot of a program's cpu_roofline_* data",
    ),
    "ert": (
        "timemory.roofline.ert",
        "this machine's peak GFLOP/s and memory bandwidths (ERT)",
    ),
    "settings": (
        "timemory.settings.__main__",
        "every setting, its value and source; --components lists the components",
    ),
    "counters": (
        "timemory.hardware_counters.__main__",
        "the hardware counters this machine can count",
    ),
    "run": (
        "timemory.runs._run_command",
        "profile a script or module N times into a run store, keyed by its parameters",
    ),
    "runs": ("timemory.runs._runs_command", "list, show or remove the runs of a run store"),
    "gperftools": (
        "timemory.api.gperftools.__main__",
        "run a command under gperftools' CPU or heap profiler",
    ),
}


def _python_m(module: str) -> str:
    return module[: -len(".__main__")] if module.endswith(".__main__") else module


def usage(prog: str = PROG) -> str:
    return (
        f"usage: {prog} <command> [options ...]\n"
        f"       {prog} <command> --help | --version\n"
        f"       {prog} --help | --version"
    )


def help_text(prog: str = PROG) -> str:
    """The usage, the commands with one line each, and what they are the same as."""
    width = max(len(name) for name in COMMANDS)
    rows = "\n".join(f"  {name:<{width}}  {about}" for name, (_, about) in COMMANDS.items())
    same = ", ".join(f"{name} = {_python_m(module)}" for name, (module, _) in COMMANDS.items())
    return f"""{usage(prog)}

Measure Python programs and look at the results. `{prog} <command> --help` shows a
command's options.

commands:
{rows}

Each command is also `python -m <module>` with the same options: {same}.

examples:
  {prog} profile -- script.py arg1 arg2       # every call of script.py, a summary at the end
  {prog} profile -c wall_clock peak_rss -m package.module arg1
  {prog} lines -v -- script.py                # @profile functions, line by line
  {prog} plot -f timemory-script-output/       # an image per component
  {prog} export timemory-script-output/ --to speedscope   # open it in speedscope
  {prog} settings --components                 # the component names -c accepts"""


def _write(text: str, stream: TextIO) -> None:
    stream.write(text.rstrip("\n") + "\n")
    stream.flush()


def _error(prog: str, message: str, status: int = 2) -> int:
    from timemory._text import echo

    echo(f"{prog}: error: {message}", sys.stderr)
    return status


def _unknown(prog: str, word: str) -> int:
    """One line for an argument that is no command nor option, naming the valid ones."""
    from timemory import _about

    commands = ", ".join(COMMANDS)
    if word.startswith("-"):
        hint = _about.did_you_mean(_about.close_matches(word, ["--help", "--version"]))
        return _error(
            prog,
            f"unknown option {word!r}"
            + (f"; {hint}" if hint else "")
            + f" (before a command: --help, --version; the commands: {commands})",
        )
    hint = _about.did_you_mean(_about.close_matches(word, COMMANDS))
    if not hint and word.endswith((".py", ".pyw")):
        hint = f"did you mean `{prog} profile {word}`?"
    return _error(
        prog,
        f"unknown command {word!r}"
        + (f"; {hint}" if hint else "")
        + f" (the commands: {commands})",
    )


def run(command: str, argv: Sequence[str], prog: str | None = None) -> int:
    """Run ``command``'s tool with ``argv``; ``prog`` is the name it reports itself by
    (None: its own, as when it runs as a console script)."""
    import importlib

    from timemory import _about

    module_name, _ = COMMANDS[command]
    try:
        module = importlib.import_module(module_name)
    except _about.MissingPackage as err:
        name = prog or _about.program_name(f"python -m {_python_m(module_name)}")
        return _error(name, str(err), 1)
    saved = _about.invoked_as
    _about.invoked_as = prog or saved
    try:
        return int(module.main(list(argv)) or 0)
    finally:
        _about.invoked_as = saved


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    """The ``timemory`` command line ``argv`` (default ``sys.argv[1:]``); returns the exit
    status. ``prog`` is the name it is run by (``python -m timemory``)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        # nothing asked: what could be asked, where a pipe's reader does not take it for output
        _write(help_text(prog), sys.stderr)
        return 2
    first, rest = argv[0], argv[1:]
    if first in ("-h", "--help"):
        _write(help_text(prog), sys.stdout)
        return 0
    if first == "--version":
        from timemory import _about

        _write(_about.version_line(), sys.stdout)
        return 0
    if first == "help":  # `timemory help profile` is `timemory profile --help`
        if not rest:
            _write(help_text(prog), sys.stdout)
            return 0
        if rest[0] in COMMANDS:
            return run(rest[0], ["--help"], f"{prog} {rest[0]}")
        return _unknown(prog, rest[0])
    if first not in COMMANDS:
        return _unknown(prog, first)
    return run(first, rest, f"{prog} {first}")


def line_profiler_script() -> int:
    """The ``timemory-python-line-profiler`` console script: ``timemory lines`` under its old
    name, with a missing line_profiler reported in one line (the script's own import of the
    tool would fail with a traceback before anything could report it)."""
    return run("lines", sys.argv[1:])
