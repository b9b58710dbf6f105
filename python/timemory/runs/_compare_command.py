"""``timemory compare A B``: which nodes of a call graph got slower or faster between two sets
of repeats, with statistics that know noise (:func:`timemory.runs.compare`).

A and B are each an output folder (``timemory profile -d DIR``: one repeat), a run's folder
in a store (``STORE/runs/<id>``), or several of these joined by commas (their repeats
pooled); with ``--store DIR``, a run id or a filter list (``n=1000,code=v2``: every done run
that matches, pooled).

The table goes to stderr; ``--json FILE`` writes the rows (``--json -``: to stdout).
Exit status: 0; with ``--fail-on``, 1 when a row has that verdict (``change``: slower or
faster); 1 for data that cannot be read; 2 for a usage error (one line).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

__all__ = ["main"]

PROG = "python -m timemory.runs._compare_command"
FAIL_ON = ("slower", "faster", "change")

EPILOG = """\
verdicts:
  slower / faster   q <= alpha (Benjamini-Hochberg over the rows tested) and B/A beyond the
                    minimum effect (1.05x or 1/1.05x by default)
  no change         not significant, or smaller than the minimum effect
  not enough data   too few repeats for any difference to reach alpha (the note says how
                    many are needed), or the node is missing from some repeats
  added / removed   the node is only in B / only in A

With --normalize run (the default) each repeat's shared factor (the whole machine a little
faster or slower) is divided out before the nodes are tested, and compared as the row
"(whole run)": a global slowdown shows there, a node's ratio is relative to it.

examples:
  timemory compare before/ after/
  timemory compare run1/,run2/,run3/ run4/,run5/,run6/ --fail-on slower
  timemory compare --store runs/ code=v1,n=1000 code=v2,n=1000 --json diff.json
  timemory compare --store runs/ 3f2a9c0d1e2b4a5c 9a8b7c6d5e4f3a2b -c wall_clock --plot diff.png"""


class _Usage(Exception):
    """A usage problem found after parsing: one line, status 2."""


def build_parser(prog: str = PROG) -> Any:
    from timemory import _cli

    from . import _compare

    parser = _cli.ArgumentParser(
        prog=prog,
        usage="%(prog)s A B [options]",
        description="Compare the call graphs of two sets of repeats node by node: the ratio "
        "B/A with its\ninterval, p and q values, and a verdict per node and component.",
        epilog=EPILOG,
        formatter_class=_cli.HelpFormatter,
    )
    parser.add_argument(
        "a",
        metavar="A",
        help="The reference: folders (comma-joined), or with --store a run id or filters.",
    )
    parser.add_argument("b", metavar="B", help="What is compared with A, the same way.")
    parser.add_argument(
        "-c",
        "--components",
        action="append",
        default=None,
        metavar="COMPONENT[,COMPONENT...]",
        help="Compare only these components (default: every one both sides have); one "
        "argument, so that A and B may follow it.",
    )
    parser.add_argument(
        "--metric",
        choices=_compare.METRICS,
        default="inclusive",
        help="inclusive (a node and its callees, the default) or self values.",
    )
    parser.add_argument(
        "--min-effect",
        type=_cli.number(float, minimum=0.0),
        default=_compare.DEFAULT_MIN_EFFECT,
        metavar="FRACTION",
        help=f"The smallest change reported (default {_compare.DEFAULT_MIN_EFFECT:g}: 5%%).",
    )
    parser.add_argument(
        "--alpha",
        type=_cli.number(float, above=0.0, maximum=0.5),
        default=_compare.DEFAULT_ALPHA,
        metavar="Q",
        help=f"The false discovery rate allowed (default {_compare.DEFAULT_ALPHA:g}).",
    )
    parser.add_argument(
        "--normalize",
        choices=_compare.NORMALIZE,
        default="run",
        help="run: divide out each repeat's shared factor (the default); none: raw values.",
    )
    parser.add_argument(
        "--store",
        metavar="DIR",
        default=None,
        help="A run store: A and B are run ids or parameter filters.",
    )
    parser.add_argument(
        "--json",
        metavar="FILE",
        default=None,
        help="Write the comparison as JSON to FILE (-: stdout).",
    )
    parser.add_argument(
        "--plot",
        metavar="FILE",
        default=None,
        help="An image of each row's ratio with its interval (matplotlib).",
    )
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default=None,
        help="Exit with status 1 when a row is slower, faster, or either (change).",
    )
    parser.add_argument(
        "--limit",
        type=_cli.number(int, minimum=0),
        default=50,
        metavar="N",
        help="Rows in the table (default 50; 0: all). JSON and plot are not limited.",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    from timemory import _cli
    from timemory._text import INFO, echo

    from ._errors import RunsError

    prog = _cli.program_name(PROG)
    parser = build_parser(prog)
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    except _cli.CliExit as exc:
        return _cli.error_status(prog, exc)
    try:
        if args.plot is not None:
            _check_plot(args.plot)
        a, b = _sides(args)
        from . import _compare

        result = _compare.compare(
            a,
            b,
            components=None if args.components is None else ",".join(args.components),
            metric=args.metric,
            min_effect=args.min_effect,
            alpha=args.alpha,
            normalize=args.normalize,
        )
        result.a, result.b = _label(args.a, a), _label(args.b, b)
        echo(result.text(limit=args.limit or None), sys.stderr, level=INFO)
        if args.json is not None:
            _write_json(args.json, result.to_json())
        if args.plot is not None:
            written = result.plot(args.plot)
            echo(f"{prog}: wrote {written}", sys.stderr, level=INFO)
    except _Usage as err:
        return _error(prog, str(err), 2)
    except RunsError as err:
        return _error(prog, str(err), 2 if _compare_usage(err) else 1)
    except OSError as err:
        return _error(prog, f"{err.filename or ''} {err.strerror or err}".strip(), 1)
    if args.fail_on is not None:
        wanted = ("slower", "faster") if args.fail_on == "change" else (args.fail_on,)
        if any(row.verdict in wanted for row in result.rows):
            return 1
    return 0


def _check_plot(path: str) -> None:
    """Before anything is compared: matplotlib is there and writes this kind of file."""
    import os

    from timemory.plotting.figure import MatplotlibMissing, supported_formats

    from ._errors import RunsError

    try:
        formats = supported_formats()
    except MatplotlibMissing as err:
        raise RunsError(str(err)) from None
    suffix = os.path.splitext(path)[1].lstrip(".").lower()
    if suffix not in formats:
        raise _Usage(
            f"cannot write the plot {path!r}: its suffix names no image format matplotlib "
            f"writes ({', '.join(sorted(formats))})"
        )


def _compare_usage(err: Exception) -> bool:
    from . import _compare

    return isinstance(err, _compare.CompareUsageError)


def _error(prog: str, message: str, status: int) -> int:
    from timemory._text import ERROR, echo

    echo(f"{prog}: error: {' '.join(message.split())}", sys.stderr, level=ERROR)
    return status


def _sides(args: Any) -> tuple[Any, Any]:
    if args.store is None:
        return _folders(args.a), _folders(args.b)
    import importlib

    from ._errors import RunsError

    # the store is another part of timemory.runs, typed there; here only its runs are used
    try:
        store = importlib.import_module(f"{__package__}._store").Store(args.store, create=False)
        return _runs(store, args.a), _runs(store, args.b)
    except RunsError as err:  # not a store, an unknown id, a filter it cannot parse
        raise _Usage(str(err)) from None


def _folders(text: str) -> list[str]:
    import os

    paths = [part for part in text.split(",") if part]
    if not paths:
        raise _Usage(f"no folder in {text!r}: expected output folders or run folders")
    for path in paths:
        if not os.path.isdir(path):
            what = "is not a folder" if os.path.exists(path) else "does not exist"
            raise _Usage(
                f"{path!r} {what}: expected an output folder, a run folder, or a run id or "
                "filters with --store DIR"
            )
    return paths


def _runs(store: Any, text: str) -> list[Any]:
    """The done runs ``text`` names in ``store``: run ids (comma-joined), or filters
    (``n=1000,mode__in=a,b``: a piece without an operator continues the previous value)."""
    from . import _params

    pieces = [piece for piece in text.split(",") if piece]
    if not pieces:
        raise _Usage(f"nothing in {text!r}: expected a run id or filters such as n=1000")
    if not any(_is_filter(piece) for piece in pieces):
        return [store.get(piece) for piece in pieces]
    joined: list[str] = []
    for piece in pieces:
        if _is_filter(piece) or not joined:
            joined.append(piece)
        else:
            joined[-1] += "," + piece
    filters: dict[str, Any] = {}
    for item in joined:
        key, value = _params.parse_filter(item)
        filters[key] = value
    runs = [run for run in store.get_runs_with(**filters) if run.done]
    if not runs:
        raise _Usage(
            f"no finished run in {store.path!r} matches {text!r} "
            f"({len(store.runs)} runs; `timemory runs ls {store.path}` lists them)"
        )
    return runs


def _is_filter(piece: str) -> bool:
    return any(operator in piece for operator in ("=", "<", ">"))


def _label(text: str, side: list[Any]) -> str:
    """How the table names a side: the filters or ids as given, with the runs they
    matched; the first folder (its name) and how many more."""
    import os

    if side and hasattr(side[0], "id"):
        return f"{text} ({len(side)} run{'s' if len(side) != 1 else ''})"
    first = os.path.basename(os.path.normpath(side[0])) or side[0]
    return first if len(side) == 1 else f"{first} + {len(side) - 1} more"


def _write_json(target: str, document: dict[str, Any]) -> None:
    import json

    text = json.dumps(document, indent=1, allow_nan=False) + "\n"
    if target == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from timemory._files import atomic_write

    atomic_write(target, text)


if __name__ == "__main__":
    sys.exit(main())
