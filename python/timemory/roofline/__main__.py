"""``python -m timemory.roofline`` (= ``timemory-roofline``): the roofline plot of a program's
``cpu_roofline_*`` data.

    python -m timemory.roofline -ai run/cpu_roofline_ai.json -op run/cpu_roofline_op.json
    python -m timemory.roofline -t cpu_roofline_dp -b l1 l2 l3 dram -- python app.py

With a command it runs it twice, with ``TIMEMORY_ROOFLINE_MODE`` (and ``_MODE_CPU``) set to
``ai`` and then ``op``, and reads ``<output path>/<prefix><rtype>_ai.json`` and ``_op.json``
for ``-t``'s rtype or, by default, for every ``cpu_roofline*`` component the program recorded.
Exit status 0 when the image was written, 2 for a usage error or an input that cannot be
plotted (one line on stderr), the command's status when a pass fails (unless -k).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from timemory import _cli
from timemory._text import DEBUG, ERROR

PROG = "python -m timemory.roofline"

DESCRIPTION = """\
Draw the roofline (log-log: arithmetic intensity in FLOP/byte against GFLOP/s) of the
regions a program recorded with the cpu_roofline_* components, under this machine's
compute and bandwidth ceilings measured by the empirical roofline toolkit (ERT, embedded
in the JSON). Either give the two files of an 'ai' and an 'op' run (-ai, -op), or a
command after '--', which is run once in each mode."""

EPILOG = """\
examples:
  %(prog)s -ai out/cpu_roofline_ai.json -op out/cpu_roofline_op.json
  %(prog)s -t cpu_roofline_dp -b l1 l2 l3 dram --format svg -- python examples/roofline.py
  %(prog)s -r op -- python app.py          # rerun the op pass only, reuse the ai file"""


def build_parser(prog: str = PROG) -> _cli.ArgumentParser:
    from . import RTYPES

    parser = _cli.ArgumentParser(
        prog=prog,
        usage="%(prog)s [options] -ai FILE -op FILE\n       %(prog)s [options] -- command ...",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("-ai", "--arithmetic-intensity", dest="ai", metavar="FILE", help="JSON of the ai run")
    add("-op", "--operations", dest="op", metavar="FILE", help="JSON of the op run")
    add("-d", "--display", action="store_true", help="Show the plot instead of saving it.")
    add("-o", "--output-file", default="roofline", help="Image name without extension.")
    add("-D", "--output-dir", default=os.getcwd(), help="Folder of the image (default: .).")
    add(
        "-b",
        "--bandwidth",
        nargs="+",
        default=["dram"],
        choices=("l1", "l2", "l3", "dram"),
        help="Bandwidth ceilings to draw (default: dram).",
    )
    add(
        "-tb",
        "--txn_bandwidth",
        nargs=3,
        type=float,
        default=[437.5, 93.6, 25.9],
        metavar="GBS",
        help="GPU instruction roofline only (not supported here).",
    )
    add("-iP", "--inst_peak", type=float, default=489.6, help="GPU instruction roofline only.")
    add("--format", default="png", help="Image type (png, svg, pdf, ...).")
    add("-T", "--title", default="Roofline")
    add(
        "-P",
        "--plot-dimensions",
        nargs=3,
        type=float,
        default=[1600, 1200, 100],
        metavar=("W", "H", "DPI"),
    )
    add("-R", "--rank", type=int, default=None, help="Plot this rank's regions only.")
    add("-v", "--verbose", action="store_true")
    add("-e", "--echo-dart", action="store_true", help="Print a DartMeasurementFile tag.")
    add(
        "-t",
        "--rtype",
        default=None,
        choices=RTYPES,
        help="Roofline component to plot (with a command, default: each cpu_roofline* "
        "component the program recorded, one image each, named <rtype>_<output-file> when "
        "there are several; with -ai/-op: the files' component).",
    )
    add("-p", "--preload", action="store_true", help="Accepted; no effect (no LD_PRELOAD library).")
    add("-k", "--keep-going", action="store_true", help="Plot even when a pass fails.")
    add("-r", "--rerun", choices=("ai", "op"), help="Run only this pass; reuse the other file.")
    add(
        "-n",
        "--num-threads",
        type=_cli.number(int, above=0),
        help="Sets TIMEMORY_ROOFLINE_NUM_THREADS for the command (ERT threads).",
    )
    return parser


def _run_passes(opts: argparse.Namespace, command: list[str]) -> tuple[str, int]:
    """Run ``command`` in ai and op mode; returns the folder and prefix of its files and the
    worst status."""
    env = dict(os.environ)
    env["TIMEMORY_PYTHON_BINDINGS"] = "0"
    env["TIMEMORY_JSON_OUTPUT"] = "ON"
    # the program's name: the script of "python script.py", else the command itself
    named = [c for c in command[1:] if not c.startswith("-")] if "python" in command[0] else []
    base = os.path.splitext(os.path.basename((named or command)[0]))[0]
    env.setdefault("TIMEMORY_OUTPUT_PATH", f"timemory-{base}-output")
    env.setdefault("TIMEMORY_OUTPUT_PREFIX", "")
    if opts.num_threads:
        env["TIMEMORY_ROOFLINE_NUM_THREADS"] = str(opts.num_threads)
    folder = os.path.join(env["TIMEMORY_OUTPUT_PATH"], env["TIMEMORY_OUTPUT_PREFIX"])
    status = 0
    for mode in ("ai", "op"):
        if opts.rerun and mode != opts.rerun:
            continue
        env["TIMEMORY_ROOFLINE_MODE"] = env["TIMEMORY_ROOFLINE_MODE_CPU"] = mode
        if opts.verbose:
            _cli.echo(f"[{PROG}] {mode} pass: {' '.join(command)}")
        code = subprocess.call(command, env=env)
        if code != 0:
            status = status or code
            _cli.echo(f"{PROG}: the {mode} pass exited with status {code}", level=ERROR)
            if not opts.keep_going:
                return folder, status
    return folder, status


def _pairs(opts: argparse.Namespace, folder: str) -> list[tuple[str, str, str]]:
    """(rtype, ai file, op file) to plot from a command's output ``folder`` (a path prefix):
    ``-t``'s, or every CPU roofline component with both files."""
    from . import RTYPES

    wanted = [opts.rtype] if opts.rtype else [r for r in RTYPES if r.startswith("cpu_")]
    pairs = [(r, f"{folder}{r}_ai.json", f"{folder}{r}_op.json") for r in wanted]
    found = [p for p in pairs if os.path.isfile(p[1]) and os.path.isfile(p[2])]
    if found:
        return found
    if opts.rtype:  # the reader names the missing file
        return pairs
    directory = os.path.dirname(folder) or "."
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith(".json"))
    except OSError:
        names = []
    raise _cli.CliError(
        f"the command wrote no cpu_roofline* ai/op files in {directory}/ (JSON files there: "
        f"{', '.join(names) or 'none'}); record regions with a cpu_roofline_flops, "
        "cpu_roofline_dp_flops or cpu_roofline_sp_flops component"
    )


def _rtype_of(path: str | None) -> str:
    """The rtype of a flat roofline JSON file's component (``cpu_roofline_dp_flops`` ->
    ``cpu_roofline_dp``); ``cpu_roofline`` when it cannot tell (the reader reports bad files)."""
    from timemory import _documents

    try:
        data = _documents.read_json(path or "")
        keys = list(data["timemory"]) if isinstance(data.get("timemory"), dict) else []
    except (OSError, ValueError, AttributeError):
        return "cpu_roofline"
    for key in keys:
        for rtype in ("cpu_roofline_dp", "cpu_roofline_sp"):
            if key.startswith(rtype):
                return rtype
    return "cpu_roofline"


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, command = argv[:at], argv[at + 1 :]
    parser = build_parser(_cli.program_name(PROG))
    try:
        opts = parser.parse_args(argv)
        if not command and not (opts.ai and opts.op):
            raise _cli.CliError("give both -ai FILE and -op FILE, or a command after '--'")
        if command and (opts.ai or opts.op):
            raise _cli.CliError("give either -ai/-op files or a command, not both")
        if opts.rtype and not opts.rtype.startswith("cpu_"):
            raise _cli.CliError(f"{opts.rtype}: GPU rooflines need a GPU and are not supported")
    except _cli.CliExit as exc:
        return _cli.error_status(parser.prog, exc)

    status = 0
    pairs = [(opts.rtype or _rtype_of(opts.op), opts.ai, opts.op)]
    if command:
        folder, status = _run_passes(opts, command)
        if status and not opts.keep_going:
            return status
        try:
            pairs = _pairs(opts, folder)
        except _cli.CliExit as exc:
            return _cli.error_status(parser.prog, exc)
    from ..plotting import figure as fig_
    from . import RooflineError, plot_roofline

    width, height, dpi = opts.plot_dimensions
    written: list[str] = []
    for rtype, ai, op in pairs:
        fname = opts.output_file if len(pairs) == 1 else f"{rtype}_{opts.output_file}"
        try:
            path = plot_roofline(
                ai,
                op,
                band_labels=opts.bandwidth,
                txn_bandwidths=opts.txn_bandwidth,
                inst_peak=opts.inst_peak,
                rtype=rtype,
                display=opts.display,
                fname=fname,
                image_type=opts.format,
                output_dir=opts.output_dir,
                title=opts.title,
                width=width,
                height=height,
                dpi=dpi,
                echo_dart=opts.echo_dart,
                index=opts.rank,
            )
        except (RooflineError, fig_.PlotError, fig_.MatplotlibMissing) as err:
            return _cli.error_status(parser.prog, _cli.CliError(str(err)))
        if path:
            _cli.echo(f"[roofline]|0> Outputting '{path}'...", level=DEBUG)
            written.append(path)
    _cli.print_files(written)
    return status


def try_plot() -> None:
    """The ``timemory-roofline`` console script."""
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
