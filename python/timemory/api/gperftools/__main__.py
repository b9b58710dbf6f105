"""``python -m timemory.api.gperftools``: run a command under gperftools' CPU or heap
profiler, or post-process a profile already written.

    python -m timemory.api.gperftools -- ./app input            # cpu.prof.app/gperf.0 (+ .txt)
    python -m timemory.api.gperftools -t heap_profiler -- python script.py
    python -m timemory.api.gperftools -i cpu.prof.app/gperf.0 -E ./app -g text

Problems (an unknown option value, gperftools or pprof not installed) are one line on stderr:
exit status 2 for a usage error, 1 when a tool is missing, else 0 (the program's output, and
its exit status when not 0, are reported in ``<profile>.log`` and on stderr).
"""

from __future__ import annotations

import sys

from ... import _cli
from .. import UnavailableError
from . import cpu_profiler, heap_profiler, utils

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Sequence

PROG = "python -m timemory.api.gperftools"


def build_parser(prog: str = PROG) -> _cli.ArgumentParser:
    """The command line's options."""
    parser = _cli.ArgumentParser(
        prog=prog,
        usage=(
            "%(prog)s [options] -- command [args ...]\n"
            "       %(prog)s -i PROFILE -E PROGRAM [options]"
        ),
        description="Run a command under gperftools' CPU or heap profiler (preloaded).",
        formatter_class=_cli.HelpFormatter,
    )
    add = parser.add_argument
    add("-t", "--type", choices=tuple(utils.LIBRARIES), default="cpu_profiler", help="profiler")
    add(
        "-f",
        "--frequency",
        type=_cli.number(int, minimum=1),
        default=250,
        help="CPU samples per second",
    )
    add(
        "-m",
        "--malloc-stats",
        type=_cli.number(int, minimum=0),
        default=0,
        help="MALLOCSTATS level",
    )
    add(
        "-r",
        "--realtime",
        type=_cli.str2bool,
        default=True,
        help="sample wall-clock time (CPU profiler)",
    )
    add(
        "-s",
        "--selected",
        type=_cli.str2bool,
        default=False,
        help="profile only the selected regions",
    )
    add(
        "-o",
        "--output-prefix",
        default=None,
        help="output folder prefix (default: cpu.prof / heap.prof)",
    )
    add(
        "--img-type",
        choices=("png", "jpeg", "tif", "svg"),
        default="jpeg",
        help="graph image format",
    )
    add(
        "-g",
        "--generate",
        nargs="+",
        choices=("text", "cum", "dot", "callgrind"),
        default=["text", "cum", "dot"],
        help="what pprof makes of a CPU profile",
    )
    add(
        "-a",
        "--args",
        nargs="*",
        default=["--no_strip_temp", "--functions"],
        help="pprof arguments",
    )
    add("-d", "--dot-args", nargs="*", default=[], help="graphviz dot arguments")
    add("-l", "--libs", nargs="*", default=[], help="shared libraries pprof reads symbols from")
    add(
        "--no-preload",
        action="store_true",
        help="do not preload the library (the program links it)",
    )
    add(
        "-e",
        "--echo-dart",
        action="store_true",
        help="print a CDash tag of the graph image (stderr)",
    )
    add("-i", "--input", default=None, help="post-process this CPU profile instead of running")
    add("-E", "--exe", default=None, help="the program the --input profile is of")
    return parser


def run(argv: Sequence[str]) -> int:
    """The command line ``argv`` (without the program's name); returns the exit status."""
    options, command = _cli.split_command(argv, module_flag=None)
    parser = build_parser(_cli.program_name(PROG))
    opts = parser.parse_args(options)
    if opts.input is not None:
        if command or opts.exe is None:
            raise _cli.CliError("--input needs --exe PROGRAM and no command")
        utils.post_process(
            opts.exe,
            opts.input,
            opts.img_type,
            opts.echo_dart,
            opts.libs,
            opts.args,
            opts.generate,
            opts.dot_args,
        )
        return 0
    if not command:
        raise _cli.CliError("no command to profile: put it after --")
    prefix = opts.output_prefix or f"{opts.type.split('_')[0]}.prof"
    if opts.type == "heap_profiler":
        heap_profiler.execute(
            command, prefix, opts.malloc_stats, not opts.no_preload, int(opts.selected)
        )
    else:
        cpu_profiler.execute(
            command,
            prefix,
            opts.frequency,
            opts.malloc_stats,
            int(opts.realtime),
            not opts.no_preload,
            int(opts.selected),
            opts.img_type,
            opts.echo_dart,
            opts.libs,
            opts.args,
            opts.generate,
            opts.dot_args,
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: :func:`run` with problems reported as one line on stderr."""
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except _cli.CliExit as exc:
        return _cli.error_status(_cli.program_name(PROG), exc)
    except (UnavailableError, OSError, RuntimeError, ValueError) as exc:
        return _cli.error_status(_cli.program_name(PROG), _cli.CliError(str(exc), status=1))


if __name__ == "__main__":
    sys.exit(main())
