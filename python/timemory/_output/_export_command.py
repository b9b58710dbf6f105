"""``timemory export DIR --to FORMAT[,FORMAT...]``: the exports of a saved output folder, made
from its tree JSON after the run (:func:`timemory._output._exports.export`).

Every problem the user can fix (a missing folder, a folder without tree JSON, an unknown
format or component, a destination that cannot be written) is one line on stderr and exit
status 2; the files written are named in one line per folder, on stderr as well. A format
that can hold none of the components (pstats without a timer) writes nothing, its writer
says why, and the status is 1.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Sequence

__all__ = ["main"]

PROG = "python -m timemory._output._export_command"


def _epilog() -> str:
    from ._exports import EXPORTS

    files = {name: name + suffix for name, (_, suffix, *_) in EXPORTS.items()}
    width, file_width = max(map(len, files)), max(map(len, files.values()))
    rows = "\n".join(
        f"  {name:<{width}}  {files[name]:<{file_width}}  {tools}"
        for name, (*_, tools) in EXPORTS.items()
    )
    return f"""\
the formats (file written, what opens it):
{rows}

The exports are made from the folder's tree JSON (<component>.tree.json), which a run writes
while tree_output is on (the default). A program can write them at its end instead: the
settings pstats_output, speedscope_output, callgrind_output, perfetto_output
(TIMEMORY_SPEEDSCOPE_OUTPUT=1...) or the command lines' --format. The perfetto timeline needs
the begin/end events recorded while the program ran: from a folder it is the trace of the
call graph.

examples:
  timemory export timemory-app-output --to speedscope
  timemory export timemory-app-output --to pstats,callgrind -o exports/
  timemory export timemory-app-output --to pstats -o app.prof -c wall_clock"""


def main(argv: Sequence[str] | None = None) -> int:
    """The command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    from .. import _about
    from .._text import echo

    prog = _about.program_name(PROG)
    parser = _about.line_error_parser(
        prog=prog,
        description="Write the exports of a saved timemory output folder: the call graph of\n"
        "every component as a pstats, speedscope, callgrind or Perfetto file.",
        epilog=_epilog(),
        formatter_class=_raw_formatter(),
    )
    parser.add_argument(
        "folder",
        metavar="DIR",
        help="The output folder of a run (or one of its *.tree.json files).",
    )
    parser.add_argument(
        "-t",
        "--to",
        required=True,
        action="append",
        metavar="FORMAT[,FORMAT...]",
        help="The formats to write: pstats, speedscope, callgrind, perfetto.",
    )
    parser.add_argument(
        "-o",
        "--output",
        default=None,
        metavar="PATH",
        help="Where to write: a file (one format) or a folder (an existing one, a path ending "
        "in /, or several formats). Default: DIR, files named as at the end of a run "
        "(speedscope.json...); a file of that name is replaced.",
    )
    parser.add_argument(
        "-c",
        "--components",
        nargs="+",
        default=None,
        metavar="COMPONENT",
        help="Export only these components (default: every one in DIR).",
    )
    parser.add_argument("--version", action="version", version=_about.version_line())
    args = parser.parse_args(argv)
    from ._exports import export, export_names, parse_formats
    from ._plan import folder_lines

    try:
        written = export(args.to, args.output, components=args.components, source=args.folder)
    except ValueError as err:
        return _error(prog, str(err))
    except OSError as err:  # names the file and why
        return _error(prog, err.strerror or str(err))
    for line in folder_lines(written):
        echo(line, sys.stderr)
    # a format that could hold none of the components wrote nothing (its writer said why)
    return 0 if len(written) == len(parse_formats(args.to, export_names())) else 1


def _error(prog: str, message: str) -> int:
    from .._text import echo

    echo(f"{prog}: error: {' '.join(message.split())}", sys.stderr)
    return 2


def _raw_formatter() -> type:
    import argparse

    return argparse.RawDescriptionHelpFormatter


if __name__ == "__main__":
    sys.exit(main())
