"""``python -m timemory.plotting`` (= ``timemory-plotter``): bar charts of the flat JSON files
timemory writes.

    python -m timemory.plotting -f timemory-app-output/wall.json
    python -m timemory.plotting -f timemory-app-output/ -o plots --img-type svg -t "my app"
    python -m timemory.plotting -T -f timemory-app-output/     # ./timem_time.png, ...

With -T/--table, the flat JSON is summarised in tables instead (see ``timemory.plotting.timem``):
one image per category of component present, ``<output-dir>/timem_<category>.<img-type>``,
with category one of time, utilization, memory, page_faults, context_switches, io, hw, other.

``main(argv)`` is the status of ``timemory.plotting.embedded_plot(argv)``, which also returns
the images written.

Exit status 0 when every input was plotted, 2 for a usage error, an input that cannot be read
or is not flat timemory JSON (one line each on stderr; the other inputs are still plotted
unless --exit-on-failure), or a missing matplotlib.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from timemory import _cli

if TYPE_CHECKING:
    from timemory.plotting import EmbeddedPlot

PROG = "python -m timemory.plotting"

DESCRIPTION = """\
Draw a horizontal bar chart per component (and rank) of timemory's flat JSON output
(<label>.json): one bar per call-graph entry with its accumulated value, labelled with the
entry's label indented by its call-graph depth and its count; one panel per value for
components that record several (current_peak_rss, read_bytes...). The images are written to
<output-dir>/<json file name>.<img-type>, e.g. wall.json -> wall.png. No display is needed.

With -T/--table, tables instead of charts: the components are sorted into the categories time,
utilization, memory, page_faults, context_switches, io, hw (and other), and each category present
becomes one table image, <output-dir>/timem_<category>.<img-type> (e.g. timem_memory.png), with
a row per entry (the top-level ones; see --table-depth) and sub-value: metric, label, count,
value, units, and the mean, min and max of a lap. -T reads timemory's flat JSON, not the JSON of
the timem tool."""

EPILOG = """\
examples:
  %(prog)s -f timemory-app-output/wall.json                 # ./wall.png
  %(prog)s -f timemory-app-output/ -o plots                  # every flat JSON in the folder
  %(prog)s -f a/wall.json b/wall.json -t run-a run-b --img-type svg
  %(prog)s -f wall.json --max-nodes 20 --min-percent 0.01 --log-x
  %(prog)s -c -f a/wall.json b/wall.json -t before after     # one chart, entries tagged
  %(prog)s --plot-max slowest -t "slowest of 3" -f run1 run2 run3
  %(prog)s -T -f timemory-app-output/ -t my app              # timem_time.png, timem_memory.png...
  %(prog)s -T --table-depth 1 -f before/ after/ -t before after   # rows labelled per input"""


def build_parser(prog: str = PROG) -> _cli.ArgumentParser:
    parser = _cli.ArgumentParser(
        prog=prog,
        usage="%(prog)s [options] -f FILE_OR_FOLDER [FILE_OR_FOLDER ...]",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-f",
        "--files",
        nargs="*",
        default=[],
        metavar="FILE",
        help="Flat JSON files (<label>.json) or output folders (every flat JSON in them).",
    )
    parser.add_argument("inputs", nargs="*", metavar="FILE", help="More files or folders.")
    parser.add_argument(
        "-t",
        "--titles",
        nargs="*",
        default=[],
        metavar="TITLE",
        help="One title for every plot, or one per input file. Default: the component's label. "
        "With -T: one per input (when there are several) labels each input's rows; any other "
        "number of words is the tables' heading (default: timem).",
    )
    parser.add_argument(
        "-o", "--output-dir", default=".", metavar="DIR", help="Folder of the images (default: .)."
    )
    parser.add_argument(
        "-c",
        "--combine",
        action="store_true",
        help="One chart per component for all the inputs together, every entry tagged with its "
        "input's title (one per input) or file name: <output-dir>/combined_<label>.<img-type>.",
    )
    parser.add_argument(
        "--plot-max",
        default=None,
        metavar="NAME",
        help="One chart per component where every call-graph entry shows its largest value "
        "over the inputs (several runs, ranks...): <output-dir>/NAME.<img-type>. Needs one "
        "title (-t).",
    )
    parser.add_argument(
        "-T",
        "--table",
        action="store_true",
        help="Summary tables instead of bar charts: one image per category of component "
        "(time, utilization, memory, page_faults, context_switches, io, hw, other), "
        "<output-dir>/timem_<category>.<img-type>.",
    )
    parser.add_argument(
        "--table-depth",
        type=_cli.number(int, minimum=-1, note=" (-1: every depth)"),
        default=0,
        metavar="DEPTH",
        help="With -T: the rows are the entries down to this call-graph depth (default 0: the "
        "top level; -1: all), at most --max-nodes per component.",
    )
    parser.add_argument(
        "-d", "--display", action="store_true", help="Show the plots instead of saving them."
    )
    parser.add_argument(
        "-e",
        "--echo-dart",
        action="store_true",
        help="Print a CDash <DartMeasurementFile> tag for every image.",
    )
    parser.add_argument(
        "--min-percent",
        type=_cli.number(float, 0, 1),
        default=0.05,
        metavar="FRACTION",
        help="Leave out entries below this fraction of the largest value (default 0.05, i.e. "
        "5%%; 0 keeps all).",
    )
    parser.add_argument(
        "--max-nodes",
        type=_cli.number(int, minimum=0, note=" (0: no limit)"),
        default=40,
        metavar="N",
        help="Draw at most the N largest entries (default 40; 0: no limit).",
    )
    parser.add_argument(
        "--label-width",
        type=_cli.number(int, above=0),
        default=60,
        metavar="CHARS",
        help="Shorten longer labels (indentation included) in the middle (default 60).",
    )
    parser.add_argument(
        "--img-dpi",
        type=_cli.number(float, above=0),
        default=100,
        metavar="DPI",
        help="Resolution of the images in dots per inch (default 100).",
    )
    parser.add_argument(
        "--img-size",
        type=_cli.number(float, above=0),
        nargs=2,
        default=[1000, 600],
        metavar=("W", "H"),
        help="Smallest image size in pixels (default 1000 600); it grows with the number of "
        "entries and the width of the labels.",
    )
    parser.add_argument(
        "--img-type",
        default="png",
        metavar="TYPE",
        help="Image format: png (default), svg, pdf, jpg... (what matplotlib writes).",
    )
    parser.add_argument("--log-x", action="store_true", help="Logarithmic value axis.")
    parser.add_argument(
        "--font-size",
        type=_cli.number(float, above=0),
        default=11,
        metavar="PT",
        help="Size of the text in points (default 11); titles are larger, values smaller.",
    )
    parser.add_argument(
        "--exit-on-failure",
        action="store_true",
        help="Stop at the first input that cannot be plotted (default: plot the others, then "
        "exit with status 2).",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    from timemory import plotting

    argv = sys.argv[1:] if argv is None else list(argv)
    return plotting.embedded_plot(argv).status


def run(argv: list[str], prog: str | None = None) -> EmbeddedPlot:
    """The command line ``argv`` run in this process: ``EmbeddedPlot(status, files)`` (see
    ``timemory.plotting.embedded_plot``)."""
    from timemory import plotting

    parser = build_parser(prog or _cli.program_name(PROG))
    try:
        opts = parser.parse_args(argv)
        files = [*opts.files, *opts.inputs]
        if not files:
            raise _cli.CliError("no input: give flat JSON files or output folders with -f")
        if opts.table and (opts.plot_max is not None or opts.combine):
            raise _cli.CliError("-T/--table draws tables: it does not go with --plot-max or -c")
        if opts.titles and len(opts.titles) not in (1, len(files)) and not opts.table:
            raise _cli.CliError(
                f"{len(opts.titles)} titles for {len(files)} inputs: give one title, "
                "or one per input"
            )
        if opts.plot_max is not None and (len(opts.titles) != 1 or opts.combine):
            raise _cli.CliError("--plot-max needs exactly one title (-t TITLE) and no --combine")
    except _cli.CliExit as exc:
        return plotting.EmbeddedPlot(_cli.error_status(parser.prog, exc), [])

    params = plotting.plot_parameters(
        min_percent=opts.min_percent,
        img_dpi=opts.img_dpi,
        img_size={"w": opts.img_size[0], "h": opts.img_size[1]},
        img_type=opts.img_type,
        log_xaxis=opts.log_x,
        font_size=opts.font_size,
        max_nodes=opts.max_nodes,
        label_width=opts.label_width,
    )
    failed: list[plotting.InputError] = []

    def input_error(err: plotting.InputError) -> None:
        _cli.error_status(parser.prog, _cli.CliError(str(err)))
        failed.append(err)
        if opts.exit_on_failure:
            raise _cli.CliExit(_cli.USAGE_STATUS)

    common = {
        "files": files,
        "plot_params": params,
        "display": opts.display,
        "output_dir": opts.output_dir,
        "echo_dart": opts.echo_dart,
        "on_input_error": input_error,
    }
    written: list[str] = []
    try:
        if opts.table:
            depth = None if opts.table_depth < 0 else opts.table_depth
            written = plotting.timem(titles=opts.titles, max_depth=depth, **common)
        elif opts.plot_max is not None:
            written = plotting.plot_maximums(opts.plot_max, opts.titles[0], **common)
        else:
            written = plotting.plot(titles=opts.titles, combine=opts.combine, **common)
    except _cli.CliExit as exc:  # --exit-on-failure, reported already
        return plotting.EmbeddedPlot(exc.status, written)
    except (plotting.MatplotlibMissing, plotting.PlotError, plotting.InputError, OSError) as err:
        status = _cli.error_status(parser.prog, _cli.CliError(_message(err)))
        return plotting.EmbeddedPlot(status, written)
    _cli.print_files(written)
    return plotting.EmbeddedPlot(_cli.USAGE_STATUS if failed else 0, written)


def _message(err: BaseException) -> str:
    if isinstance(err, OSError) and err.filename:
        return f"{err.filename}: {err.strerror or err}"
    return str(err)


if __name__ == "__main__":
    sys.exit(main())
