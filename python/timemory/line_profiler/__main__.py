"""``python -m timemory.line_profiler`` (= ``timemory-python-line-profiler``): kernprof for
timemory components. Runs a script with ``profile`` (and ``line_profile``) in
builtins, so the functions it decorates with ``@profile`` are profiled line by line, and
writes the results as an ``.lprof`` file that ``python -m line_profiler`` reads.

    python -m timemory.line_profiler -- script.py arg1 arg2
    python -m timemory.line_profiler -c peak_rss -v -o work.lprof -- script.py
    python -m timemory.line_profiler -m package.module arg1

The program runs through the shared runner (``timemory._cli.Tool``): the same exit statuses
as ``python script.py``, usage errors in one line with status 2, and the data written also
when the program raises, exits or is interrupted. Besides the ``.lprof`` file, the line
profile is written as text and JSON into timemory's output folder (``<label>.lines.txt``,
``<label>.lines.json`` in timemory-<script>-output/, see ``-d``), with its metadata.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from timemory import _cli, _output, settings
from timemory.line_profiler import DEFAULT_COMPONENT, LineProfiler, _lprof, _stop_for_finalize

PROG = "python -m timemory.line_profiler"

DESCRIPTION = """\
Profile the functions a Python program decorates with @profile, line by line, measuring any
scalar timemory component per line (wall_clock by default; cpu_clock, peak_rss, page faults,
context switches...). `profile` and `line_profile` are available to the program without an
import. The results are written as an .lprof file (a pickled line_profiler.LineStats, read by
`python -m line_profiler FILE`; its "Timer unit ... s" means seconds only for the clocks,
see -c) and, as text and JSON, into timemory's output folder. The program runs as __main__
with its own sys.argv, and its exit status is this command's exit status; the results are
written also when it raises, exits or is interrupted."""

EPILOG = """\
examples:
  # profile the @profile functions of script.py, which gets the arguments a b
  %(prog)s -- script.py a b
  # measure the growth of the peak RSS per line, and print the results
  %(prog)s -c peak_rss -v -- script.py
  # view the results again later
  python -m line_profiler script.py.lprof"""


def build_parser(prog: str = PROG) -> _cli.ArgumentParser:
    parser = _cli.tool_parser(prog, DESCRIPTION, EPILOG)
    add = parser.add_argument
    add(
        "-c",
        "--component",
        default=DEFAULT_COMPONENT,
        metavar="COMPONENT",
        help="The scalar component measured per line: an id, alias or class name, e.g. "
        "wall_clock (default), WallClock, cpu_clock, peak_rss, num_minor_page_faults. A "
        "component with several values (current_peak_rss, read_bytes...) is an error that "
        "lists the valid ones.",
    )
    add(
        "-o",
        "--outfile",
        default=None,
        metavar="FILE",
        help="The .lprof file to write (default: <script name>.lprof, or <module>.lprof, in "
        "the current directory).",
    )
    add(
        "-d",
        "--output-dir",
        default=None,
        metavar="DIR",
        help="timemory's output folder (default: TIMEMORY_OUTPUT_PATH if set, else "
        "timemory-<script name>-output).",
    )
    add("-v", "--view", action="store_true", help="Print the results after the program ends.")
    add(
        "-s",
        "--setup",
        default=None,
        metavar="FILE",
        help="Python file run before the program, not profiled (as its own __main__).",
    )
    add(
        "-p",
        "--num-preallocated",
        type=int,
        default=0,
        metavar="N",
        help="Accepted for compatibility; counters are made for each line as it first runs.",
    )
    add(
        "-l",
        "--line-by-line",
        action="store_true",
        help="Accepted for kernprof compatibility: the profiler is always line by line.",
    )
    add(
        "-b",
        "--builtin",
        action="store_true",
        help="Accepted for kernprof compatibility: `profile` is always put in builtins, and "
        "only what the program decorates (or enables with `with profile:`) is profiled.",
    )
    return parser


def _default_outfile(command: list[str]) -> str:
    if command and command[0] == "-m" and len(command) > 1:
        name = command[1]
    elif command and command[0].startswith("-m"):
        name = command[0][2:]
    else:
        name = os.path.basename(command[0]) if command else "profile"
    return f"{name}.lprof"


def _json_text(stats: Any) -> str:
    functions = [
        {"file": f, "line": line, "function": name, "lines": [list(t) for t in timings]}
        for (f, line, name), timings in stats.timings.items()
    ]
    body = {
        "component": stats.component,
        "unit": stats.unit,
        "metric_unit": stats.metric_unit,
        "display_unit": stats.display_unit,
        "functions": functions,
    }
    return json.dumps({"timemory": {"line_profile": body}}, indent=2) + "\n"


class LineProfilerTool(_cli.Tool):
    """The kernprof-like command line on the shared runner."""

    prog = PROG
    verb = "profile"
    doing = "line profiling"

    def __init__(self) -> None:
        self.outfile = ""
        self.written: list[str] = []
        self.stats: Any = None  # what was written: every rank's lines under MPI
        self.writer = True  # False on the ranks other than zero of an MPI job

    def build_parser(self, prog: str) -> _cli.ArgumentParser:
        return build_parser(prog)

    def parse(
        self, parser: _cli.ArgumentParser, argv: list[str]
    ) -> tuple[argparse.Namespace, list[str]]:
        opts, command = super().parse(parser, argv)
        self.outfile = opts.outfile or _default_outfile(command)
        return opts, command

    def make_hook(self, opts: argparse.Namespace) -> LineProfiler:
        return LineProfiler(component=opts.component, num_preallocated=opts.num_preallocated)

    def builtins(self, hook: LineProfiler) -> dict[str, Any]:
        return {"profile": hook, "line_profile": hook}

    def decorated_only(self, opts: argparse.Namespace) -> bool:
        return True  # kernprof -b: only what the program decorates is profiled

    def configure(self, opts: argparse.Namespace, hook: LineProfiler) -> None:
        from timemory import manager

        manager.add_metadata("line_profiler_component", hook.component)
        manager.add_metadata("line_profiler_outfile", os.path.abspath(self.outfile))
        from timemory import _workers

        # pool workers (forked, or spawned with this tool started in them) leave their lines
        _workers.add_extra("line_stats", hook.get_stats, after_fork=hook._rebase)
        from timemory import _lifecycle

        # an MPI rank that aborts on an uncaught exception writes its own lines
        _lifecycle.add_local_writer(lambda: self._write(hook, local=True))
        from timemory import _checkpoint

        # the lines so far go into every checkpoint too (a killed run keeps them)
        label = f"{stats_label(hook)}.lines"
        _checkpoint.add_writer(
            lambda plan: _output.write_view(plan, "lines", hook.get_stats(), label, label)
        )

    def _run(self, opts: argparse.Namespace, target: Any, setup: Any, hook: Any, prog: str) -> int:
        try:
            return super()._run(opts, target, setup, hook, prog)
        finally:
            # before timemory writes its output, so that its metadata lists these files
            with _cli.deferred_sigint():
                self.own_output(opts, hook)

    def own_output(self, opts: argparse.Namespace, hook: LineProfiler) -> None:
        _stop_for_finalize()  # a decorated generator left suspended, say
        self._write(hook)

    def _write(self, hook: LineProfiler, local: bool = False) -> None:
        """Write the lines: every rank's, gathered on rank zero, or with ``local`` (an MPI
        rank about to abort) this rank's alone, to ``<name>_<rank>`` files."""
        from timemory import _workers

        if self.written:
            return  # once: the abort path may come after the normal one started
        stats = hook.get_stats()
        for worker in _workers.extras("line_stats"):
            stats += worker
        outfile = self.outfile
        if local:
            from timemory import mpi

            stem, ext = os.path.splitext(outfile)
            outfile = f"{stem}_{mpi.rank()}{ext}"
        else:
            stats = gathered_stats(stats)
        self.writer = stats is not None
        if stats is None:
            return  # rank zero writes the lines of every rank
        self.stats = stats
        # where the file cannot be written, it goes to a fallback folder (reported), or is
        # reported lost and a program that succeeded exits with _output.LOST_STATUS
        written = _output.write_named(outfile, _lprof(stats))
        if written is not None:
            self.written.append(written)
            if local:
                _cli.echo(f"Wrote this rank's profile results to {written}", sys.stderr)
            else:
                self.outfile = written
        if not settings.file_output:
            return
        plan = _output.OutputPlan.from_settings(rank_suffix=local)
        _output.write_view(plan, "lines", stats, f"{stats_label(hook)}.lines", "line_profiler")

    def summary(self) -> None:
        from timemory import _lifecycle

        if not self.writer:
            return  # rank zero prints the summary of every rank
        if any(_lifecycle.size().values()):  # the program's own markers recorded something
            _cli.print_summary()
        else:  # the line table is this tool's summary (-v)
            _cli.print_output_folders()

    def finish(self, opts: argparse.Namespace, hook: LineProfiler) -> None:
        if self.outfile in self.written:
            _cli.echo(f"Wrote profile results to {self.outfile}")
        if not self.writer:
            return
        if opts.view:
            stats = self.stats if self.stats is not None else hook.get_stats()
            _cli.echo(_text(stats).rstrip("\n"))
        elif self.outfile in self.written:
            _cli.echo(f"Inspect results with:\npython -m line_profiler {self.outfile}")


def gathered_stats(stats: Any) -> Any:
    """Under MPI, the line stats of every rank summed on rank zero (hits and totals per line),
    None on the other ranks: a collective, which every rank reaches when its program ends.
    Without MPI, ``stats`` itself."""
    from timemory import mpi

    if mpi.size() < 2:
        return stats
    parts = mpi.gather(stats)
    if parts is None:
        return None
    for other in parts[1:]:
        stats += other
    return stats


def stats_label(hook: LineProfiler) -> str:
    from timemory import _core

    return str(_core.component_info(hook._component)["label"])


def _text(stats: Any) -> str:
    import io

    out = io.StringIO()
    stats.print(stream=out)
    return out.getvalue()


# the line table and its JSON, as <label>.lines.txt / .json beside timemory's own files
_output.register_format(
    _output.Format("lines-text", "text_output", ".txt", _text, "lines", kind="text")
)
_output.register_format(_output.Format("lines-json", "json_output", ".json", _json_text, "lines"))


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    return LineProfilerTool().main(argv)


def start_in_worker(options: list[str]) -> None:
    """In a process spawned by ``multiprocessing`` while this tool runs: the same profiling."""
    LineProfilerTool().start_in_worker(options)


if __name__ == "__main__":
    sys.exit(main())
