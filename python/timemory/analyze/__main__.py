"""``timemory-analyze`` (also ``timemory analyze``, ``python -m timemory.analyze``): call graphs
read with hatchet, filtered, combined and written as trees, tables, dot or flame graphs.

    timemory-analyze timemory-app-output/                      # the tree of every component
    timemory-analyze out/wall.json -f tree table -o out/analysis
    timemory-analyze new/ old/ -M subtract -f table            # per-node difference new - old
    timemory-analyze new1/ new2/ new3/ -M subtract --vs old1/ old2/ old3/   # with statistics

Exit status 0; 2 for a usage error or an input that cannot be analysed (one line on stderr);
1 when hatchet is not installed.
"""

from __future__ import annotations

import argparse
import sys

from timemory import _about, _cli

from . import DEFAULT_METRIC, FORMATS, GRAPH_FORMATS, MODES, AnalyzeError

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any

PROG = "python -m timemory.analyze"

DESCRIPTION = f"""\
Read call graphs with hatchet (output folders, <label>.tree.json files, a flat <label>.json
whose tree file is beside it, run folders of a run store) and print or write them. In order:
--search, --match, --expression filter the nodes; -M add|subtract|unify combines the inputs;
-s sorts and -g groups the table formats; -f writes each format (stderr without -o).

--metric is a regular expression over hatchet's metric columns, default '{DEFAULT_METRIC}':
the inclusive sums (sum.wall_clock (inc), ...). sum.<component> without " (inc)" is the
node's own part; min., max., mean., stddev. and sqr. are the other statistics.

-M subtract of two inputs is the per-node difference of the first less the second. Between
groups of runs (several inputs before and after --vs, or two run folders of a run store) it
is a statistical comparison per node (rank test, false discovery rate controlled across
nodes, minimum effect --min-effect) whose verdicts say whether the first side is slower or
faster than the second."""

EPILOG = """\
examples:
  %(prog)s timemory-app-output/
  %(prog)s out/wall.json -f tree table -o out/analysis     # out/analysis.tree.txt, .table.txt
  %(prog)s out/ --search solve --expression 'x > 1e-3' -f table
  %(prog)s out/ -g name -m 'sum.wall_clock$'               # a flat profile by self time
  %(prog)s new/ old/ -M subtract
  %(prog)s store/runs/ID1 store/runs/ID2 -M subtract       # the repeats, with statistics"""


def build_parser(prog: str = PROG) -> _cli.ArgumentParser:
    parser = _cli.ArgumentParser(
        prog=prog,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=_cli.HelpFormatter,
    )
    add = parser.add_argument
    add("files", metavar="file", nargs="*", default=[], help="Inputs to analyze.")
    add(
        "-f",
        "--format",
        nargs="*",
        choices=tuple(FORMATS),
        default=None,
        metavar="FORMAT",
        help=f"Output formats: {', '.join(FORMATS)} (default: tree; table with -s or -g).",
    )
    add(
        "-o",
        "--output",
        nargs="*",
        default=None,
        metavar="NAME",
        help="Write to files named NAME plus each format's extension (one NAME, or one per "
        "input) instead of stderr.",
    )
    add(
        "-M",
        "--mode",
        nargs="*",
        choices=MODES,
        default=[],
        metavar="MODE",
        help=f"Analysis modes: {', '.join(MODES)}.",
    )
    add(
        "-m",
        "--metric",
        "--column",
        default=DEFAULT_METRIC,
        help="Metric column: its name, or a regular expression (default: '%(default)s').",
    )
    add("-s", "--sort", choices=("ascending", "descending"), default=None, help="Sort the tables.")
    add("-g", "--group", default=None, metavar="FIELD", help="Group the rows by this column.")
    add("--field", default="name", help="Column --search and --match read (default: name).")
    add("--search", type=_cli.regex, default=None, help="Keep nodes with a match (re.search).")
    add("--match", type=_cli.regex, default=None, help="Keep nodes matched in full (re.fullmatch).")
    add(
        "--expression",
        default=None,
        help="Keep nodes whose metric x satisfies this: x, numbers and < <= > >= && ||, "
        "e.g. 'x > 1.0e3 && x < 100000'.",
    )
    add("-e", "--echo-dart", action="store_true", help="Print a CDash tag for each file.")
    add("--per-thread", action="store_true", help="Keep threads' nodes apart.")
    add("--per-rank", action="store_true", help="Keep ranks' nodes apart.")
    add(
        "--select",
        default=None,
        help="Components to read (space-separated, e.g. 'wall_clock peak_rss').",
    )
    add(
        "--exit-on-failure",
        action="store_true",
        help="Exit with the failure's status (embedded_analyze returns it otherwise).",
    )
    add(
        "--vs",
        nargs="+",
        default=None,
        metavar="file",
        help="With -M subtract: the second side of a comparison of groups of runs.",
    )
    add(
        "--min-effect",
        type=_cli.number(float, minimum=0.0),
        default=None,
        help="Comparison of groups: the smallest change reported, a fraction (default: "
        "timemory compare's).",
    )
    add(
        "--alpha",
        type=_cli.number(float, above=0.0),
        default=None,
        help="Comparison of groups: the false discovery rate (default: timemory compare's).",
    )
    return parser


def _columns_line(name: str, frame: Any) -> str:
    return f"[analyze]> {name}: {', '.join(list(frame.exc_metrics) + list(frame.inc_metrics))}"


def analyze(opts: argparse.Namespace, data: list[Any], verbose: int = 0) -> list[str]:
    """Do what the parsed options ``opts`` ask with the inputs ``data`` plus ``opts.files``;
    returns the files written. :class:`AnalyzeError` for a user's mistake."""
    from . import (
        add,
        compare_groups,
        dump,
        expand_inputs,
        expression,
        group,
        is_run_folder,
        load,
        match,
        search,
        sort,
        subtract,
        unify,
    )

    modes = list(opts.mode or [])
    combine = [m for m in modes if m in ("add", "subtract", "unify")]
    if len(combine) > 1:
        raise AnalyzeError(f"-M {' '.join(combine)}: choose one of add, subtract, unify")
    if opts.vs is not None and combine != ["subtract"]:
        raise AnalyzeError("--vs gives the second side of -M subtract; add -M subtract")
    grouped = opts.group is not None or "group" in modes
    formats = list(opts.format or []) or (["table"] if grouped or opts.sort else ["tree"])
    echo_dart = opts.echo_dart
    if not data and not opts.files:
        raise AnalyzeError("nothing to analyze: give files or folders")

    statistical = combine == ["subtract"] and (
        opts.vs is not None
        or (not data and len(opts.files) == 2 and all(is_run_folder(f) for f in opts.files))
    )
    if statistical:
        used = [o for o in ("search", "match", "expression", "sort", "group") if getattr(opts, o)]
        if used or "group" in modes:
            names = ", ".join(f"--{o}" for o in used) or "-M group"
            raise AnalyzeError(
                f"{names}: apply to call graphs, not to a comparison of groups of runs"
            )
        side_a = list(opts.files) + list(data)
        side_b = list(opts.vs) if opts.vs is not None else [side_a.pop()]
        if opts.vs is None:
            side_a, side_b = side_a[0], side_b[0]
        options = {}
        if opts.min_effect is not None:
            options["min_effect"] = opts.min_effect
        if opts.alpha is not None:
            options["alpha"] = opts.alpha
        comparison = compare_groups(side_a, side_b, **options)
        written: list[str] = []
        for fmt in formats:
            written += dump(comparison, opts.metric, fmt, _names(opts), echo_dart, formats)
        return written
    if opts.min_effect is not None or opts.alpha is not None:
        raise AnalyzeError(
            "--min-effect and --alpha apply to -M subtract between groups of runs (--vs)"
        )

    reading = (opts.select, opts.per_thread, opts.per_rank)
    frames = [item if hasattr(item, "graph") else load(item, *reading) for item in data]
    frames += [load(path, *reading) for path in expand_inputs(opts.files)]
    if verbose > 0:
        for frame in frames:
            source = frame.dataframe.attrs.get("source", "data")
            _cli.echo(_columns_line(source, frame))

    # the less restrictive filter first, as the original did
    if opts.search is not None:
        frames = search(frames, opts.search, opts.field)
    if opts.match is not None:
        frames = match(frames, opts.match, opts.field)
    if opts.expression is not None:
        frames = expression(frames, opts.expression, opts.metric)
    if combine:
        if len(frames) < 2:
            raise AnalyzeError(f"-M {combine[0]} needs two inputs or more")
        combined = {"add": add, "subtract": subtract, "unify": unify}[combine[0]](frames)
        frames = [combined]

    tables: list[Any] | None = None
    if grouped:
        tables = group(frames, opts.metric, opts.group or "name", opts.sort == "ascending")
        drawn = [f for f in formats if f in GRAPH_FORMATS]
        if drawn:
            raise AnalyzeError(
                f"-f {' '.join(drawn)}: a grouped table has no call graph; use -f table, "
                "markdown, html or markdown_grid"
            )
    elif opts.sort is not None:
        tables = sort(frames, opts.metric, opts.sort == "ascending")

    written = []
    for fmt in formats:
        # the graph formats draw the graph (its order is the call order); the table formats
        # show the sorted or grouped rows
        shown = frames if (fmt in GRAPH_FORMATS or tables is None) else tables
        written += dump(shown, opts.metric, fmt, _names(opts), echo_dart, formats)
    return written


def _names(opts: argparse.Namespace) -> Any:
    if not opts.output:
        return None
    return opts.output[0] if len(opts.output) == 1 else list(opts.output)


def run(
    argv: list[str], data: list[Any], verbose: int = 0, prog: str | None = None
) -> tuple[int, bool]:
    """The command line ``argv`` with the extra inputs ``data``: (exit status, whether
    ``--exit-on-failure`` was given)."""
    name = prog or _cli.program_name(PROG)
    parser = build_parser(name)
    try:
        opts = parser.parse_args(argv)
    except _cli.CliExit as exc:
        return _cli.error_status(name, exc), False
    try:
        analyze(opts, data, verbose)
    except _about.MissingPackage as err:
        _cli.echo(f"{name}: error: {err}")
        return 1, opts.exit_on_failure
    except AnalyzeError as err:
        return _cli.error_status(name, _cli.CliError(str(err))), opts.exit_on_failure
    return 0, False


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    from . import _verbosity

    return run(argv, [], _verbosity(None))[0]


def try_analyze() -> None:
    """The ``timemory-analyze`` console script."""
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
