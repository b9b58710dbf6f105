"""``timemory runs ls|show|rm DIR [ID|FILTER ...]``: what a run store holds.

* ``ls``: one line per run (id, status, repeats, parameters, code), as a table on stderr.
* ``show``: a run's manifest and, per call-graph node, the median over its repeats of the
  first component's self and inclusive values, the nodes with the most self first.
* ``rm``: remove the runs selected (filters or ids are required, or ``--all``); says how many.

A selection is run ids (or their first digits) and filters on the parameters: ``n=1000``,
``n>=1000``, ``n!=3``, ``mode=fast``, ``mode__in=a,b``, ``n__ge=1000``; every one must match.
Everything is printed on stderr, except what ``--json`` asks for: JSON for machines goes to
stdout, and only with ``--json`` (``-o FILE`` writes it to a file instead). Exit status: 0,
1 when nothing matched (``show``, ``rm``), 2 a usage error (one line naming the valid choices).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Sequence
    from typing import Any

    from timemory import _cli

__all__ = ["main"]

PROG = "python -m timemory.runs._runs_command"

ACTIONS = ("ls", "show", "rm")

DESCRIPTION = """\
List, show or remove the runs of a run store (made by `timemory run` or timemory.runs.Store).
Runs are selected by id (or its first digits) and by filters on their parameters."""

EPILOG = """\
filters: NAME=VALUE, NAME!=VALUE, NAME<VALUE, NAME<=VALUE, NAME>VALUE, NAME>=VALUE, and the
suffixes NAME__ne, __lt, __le, __gt, __ge, __in (NAME__in=a,b: any of the values); a value
is parsed like JSON where it can be (1000, 0.5, true), else it is a string.

examples:
  %(prog)s ls runs/                        # every run, one line each
  %(prog)s ls runs/ 'n>=1000' mode=fast    # quote < and > for the shell
  %(prog)s show runs/ 3f2a                 # the run whose id starts with 3f2a
  %(prog)s ls runs/ --json > runs.json     # the manifests, as JSON on stdout
  %(prog)s rm runs/ mode=slow              # remove the matching runs
  %(prog)s rm runs/ --all"""


def build_parser(prog: str) -> _cli.ArgumentParser:
    from timemory import _cli

    parser = _cli.ArgumentParser(
        prog=prog,
        usage="%(prog)s {ls,show,rm} DIR [ID|FILTER ...] [options]",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=_cli.HelpFormatter,
    )
    parser.add_argument("action", choices=ACTIONS, help="ls, show or rm.")
    parser.add_argument("store", metavar="DIR", help="The run store.")
    parser.add_argument(
        "select",
        nargs="*",
        metavar="ID|FILTER",
        help="Run ids (or their first digits) and filters on the parameters.",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="ls, show: write JSON to stdout (or to -o FILE) instead of the text on stderr.",
    )
    parser.add_argument(
        "-o",
        "--output",
        default=None,
        metavar="FILE",
        help="With --json: write it to FILE (atomically) instead of stdout.",
    )
    parser.add_argument(
        "--top",
        type=_cli.number(int, minimum=0, note=" (0: every node)"),
        default=15,
        metavar="N",
        help="show: the N nodes with the most self (default 15; 0: every node).",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="rm: remove every run (rm requires a selection or --all).",
    )
    return parser


def _is_filter(text: str) -> bool:
    return any(c in text for c in "=<>!")


def parse_selection(texts: Sequence[str]) -> tuple[list[str], dict[str, Any]]:
    """``(ids, filters)`` of the selection arguments (CliError for a malformed filter or a
    filter key given twice)."""
    from timemory import _cli
    from timemory.runs import _params
    from timemory.runs._errors import RunsError

    ids: list[str] = []
    filters: dict[str, Any] = {}
    for text in texts:
        if not _is_filter(text):
            ids.append(text.strip().lower())
            continue
        try:
            key, value = _params.parse_filter(text)
        except RunsError as err:
            raise _cli.CliError(str(err)) from None
        if key in filters:
            raise _cli.CliError(f"the filter {key!r} is given twice ({text!r})")
        filters[key] = value
    return ids, filters


def select(store: Any, ids: list[str], filters: dict[str, Any]) -> list[Any]:
    """The runs of ``store`` whose id starts with one of ``ids`` (all when none) and that
    match every filter. An id that matches no run: RunsError naming the close ids."""
    from timemory.runs._errors import RunsError

    runs = store.get_runs_with(**filters) if filters else list(store.runs)
    if not ids:
        return runs
    chosen = []
    every = list(store.runs)
    for prefix in ids:
        found = [r for r in every if r.id.startswith(prefix)]
        if not found:
            store.get(prefix)  # raises, naming the close ids
            raise RunsError(f"no run {prefix!r} in {store.path}")
        chosen += [r for r in found if r not in chosen]
    wanted = {r.id for r in runs}
    return [r for r in chosen if r.id in wanted]


def main(argv: Sequence[str] | None = None) -> int:
    """The command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    from timemory import _cli
    from timemory.runs._errors import RunsError

    argv = sys.argv[1:] if argv is None else list(argv)
    with _cli.untranslated_argparse():
        parser = build_parser(_cli.program_name(PROG))
    try:
        with _cli.untranslated_argparse():
            # filters such as n>=3 and ids mix with options: parse what is known, keep the rest
            opts, rest = parser.parse_known_args(argv)
        unknown = [r for r in rest if r.startswith("-") and not _is_filter(r)]
        if unknown:
            parser.parse_args(argv)  # the one-line error, with a did-you-mean
        opts.select = [*opts.select, *rest]
        if opts.output and not opts.json:
            raise _cli.CliError("argument -o/--output: only with --json")
        if opts.json and opts.action == "rm":
            raise _cli.CliError("argument --json: only with ls and show")
        ids, filters = parse_selection(opts.select)
        if opts.action == "rm" and not (ids or filters or opts.all):
            raise _cli.CliError(
                "rm needs a selection: run ids or filters (e.g. mode=slow 'n>=1000'), or --all"
            )
        if opts.all and opts.action != "rm":
            raise _cli.CliError("argument --all: only with rm")
        if opts.all and (ids or filters):
            raise _cli.CliError("argument --all: not with ids or filters")
    except _cli.CliExit as exc:
        return _cli.error_status(parser.prog, exc)
    try:
        from timemory.runs._store import Store

        store = Store(opts.store, create=False)
        runs = select(store, ids, filters)
        if opts.action == "ls":
            return _ls(opts, runs)
        if opts.action == "show":
            return _show(opts, store, runs)
        return _rm(store, runs)
    except RunsError as err:
        return _cli.error_status(parser.prog, _cli.CliError(str(err)))


# ------------------------------------------------------------------ output
def _emit_json(opts: Any, doc: Any) -> None:
    import json

    text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    if opts.output:
        from timemory._files import atomic_write

        try:
            atomic_write(opts.output, text)
        except OSError as err:
            from timemory.runs._errors import RunsError

            raise RunsError(f"cannot write {opts.output!r}: {err.strerror or err}") from None
        from timemory._text import echo

        echo(f"timemory: wrote {opts.output}", sys.stderr)
        return
    sys.stdout.write(text)
    sys.stdout.flush()


def _params_text(params: dict[str, Any]) -> str:
    from timemory.runs._run_command import describe_params

    return describe_params(params) if params else "-"


def _ls(opts: Any, runs: list[Any]) -> int:
    from timemory._text import echo

    if opts.json:
        _emit_json(opts, [_summary(run) for run in runs])
        return 0
    if not runs:
        echo("timemory: no runs", sys.stderr)
        return 0
    rows = [("id", "status", "repeats", "parameters", "code")]
    for run in runs:
        repeats = f"{run.repeats}/{run.requested}" if run.repeats != run.requested else run.repeats
        rows.append(
            (run.id, run.status, str(repeats), _params_text(run.parameters), run.code or "-")
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1]
        for row in rows
    ]
    echo("\n".join(line.rstrip() for line in lines), sys.stderr)
    echo(f"timemory: {len(runs)} run{'s' if len(runs) != 1 else ''}", sys.stderr)
    return 0


def _summary(run: Any) -> dict[str, Any]:
    return {
        "id": run.id,
        "status": run.status,
        "repeats": run.repeats,
        "requested": run.requested,
        "parameters": run.parameters,
        "code": run.code,
        "components": run.components,
        "target": run.target,
        "error": run.error,
    }


def node_summary(table: Any, component: str | None = None) -> list[dict[str, Any]]:
    """Per node of ``table``, the median over the repeats of ``component``'s (default the
    first) self and inclusive values and calls, the nodes with the most self first."""
    import numpy as np

    if not table.components or not table.paths:
        return []
    key = component or table.components[0]
    values = table.values[key]
    with np.errstate(all="ignore"), _no_all_nan_warning():
        self_ = np.nanmedian(values["self"], axis=1)
        incl = np.nanmedian(values["inclusive"], axis=1)
        count = np.nanmedian(values["count"], axis=1) if "count" in values else None
        present = np.sum(~np.isnan(values["self"]), axis=1)
    nodes: list[dict[str, Any]] = []
    for i, path in enumerate(table.paths):
        nodes.append(
            {
                "path": list(path),
                "self": float(self_[i]),
                "inclusive": float(incl[i]),
                "count": float(count[i]) if count is not None else None,
                "repeats": int(present[i]),
            }
        )
    # most self first; a node no repeat has (NaN) last
    nodes.sort(key=lambda n: -float(n["self"]) if n["self"] == n["self"] else float("inf"))
    return nodes


class _no_all_nan_warning:
    def __enter__(self) -> None:
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: Any) -> None:
        self._catch.__exit__(*exc)


def _scaled(value: float, unit: str) -> str:
    if value != value:
        return "-"
    steps = {
        "ns": ((1e9, "s"), (1e6, "ms"), (1e3, "us"), (1.0, "ns")),
        "B": ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"), (1.0, "B")),
        "bytes": ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"), (1.0, "B")),
    }.get(unit)
    if steps is None:
        return f"{value:.4g} {unit}".rstrip()
    for size, name in steps:
        if abs(value) >= size or size == 1.0:
            return f"{value / size:.4g} {name}"
    return f"{value:.4g} {unit}"  # pragma: no cover - the last step always matches


def _show(opts: Any, store: Any, runs: list[Any]) -> int:
    from timemory._text import echo
    from timemory.runs._errors import RunsError

    if not runs:
        echo("timemory: no run matches", sys.stderr)
        return 1
    docs = []
    texts = []
    for run in runs:
        try:
            table = run.table()
            nodes = node_summary(table)
            component = table.components[0] if table.components else None
            unit = table.units.get(component, "") if component else ""
            problem = None
        except RunsError as err:
            nodes, component, unit, problem = [], None, "", str(err)
        top = nodes if opts.top == 0 else nodes[: opts.top]
        docs.append({"run": _manifest(run), "component": component, "unit": unit, "nodes": top})
        texts.append(_show_text(run, top, len(nodes), component, unit, problem))
    if opts.json:
        _emit_json(opts, docs if len(docs) > 1 else docs[0])
    else:
        echo("\n\n".join(texts), sys.stderr)
    return 0


def _manifest(run: Any) -> dict[str, Any]:
    doc = _summary(run)
    for name in ("environment", "result", "runtime", "created", "finished"):
        doc[name] = getattr(run, name, None)
    doc["path"] = run.path
    return doc


def _show_text(
    run: Any,
    nodes: list[dict[str, Any]],
    total: int,
    component: str | None,
    unit: str,
    problem: str | None,
) -> str:
    import statistics

    target = run.target or {}
    command = " ".join([str(target.get("name", "?")), *map(str, target.get("args") or ())])
    lines = [
        f"run {run.id}: {run.status}, {run.repeats} of {run.requested} repeats",
        f"  parameters   {_params_text(run.parameters)}",
        f"  code         {run.code or '-'}",
        f"  target       {target.get('kind', '?')} {command}",
        f"  components   {', '.join(run.components or ())}",
    ]
    if run.runtime:
        median = statistics.median(run.runtime)
        lines.append(f"  runtime      median {median:.4g} s of {len(run.runtime)} repeats")
    if run.error:
        lines.append(f"  error        {run.error}")
    if getattr(run, "result", None) is not None:
        lines.append(f"  result       {_short(run.result)}")
    lines.append(f"  folder       {run.path}")
    if problem:
        lines.append(f"  (no call graph: {problem})")
        return "\n".join(lines)
    if not nodes:
        lines.append("  (no call graph)")
        return "\n".join(lines)
    shown = f"{len(nodes)} of {total} nodes" if len(nodes) < total else f"{total} nodes"
    lines.append(f"  {component}, median of the repeats, most self first ({shown}):")
    rows = [("self", "inclusive", "calls", "node")]
    for node in nodes:
        calls = node["count"]
        rows.append(
            (
                _scaled(node["self"], unit),
                _scaled(node["inclusive"], unit),
                "-" if calls is None or calls != calls else f"{calls:g}",
                _path_text(node["path"]),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        cells = [row[i].rjust(widths[i]) for i in range(3)]
        lines.append("    " + "  ".join(cells) + "  " + row[3])
    return "\n".join(lines)


def _path_text(path: list[str], keep: int = 3) -> str:
    """The node's call path, its last ``keep`` labels (``... > parent > node``)."""
    shown = " > ".join(path[-keep:])
    return f"... > {shown}" if len(path) > keep else shown


def _short(value: Any, limit: int = 100) -> str:
    import json

    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _rm(store: Any, runs: list[Any]) -> int:
    from timemory._text import echo

    if not runs:
        echo(f"timemory: no run matches; nothing removed from {store.path}", sys.stderr)
        return 1
    removed = store.remove(runs)
    echo(
        f"timemory: removed {removed} run{'s' if removed != 1 else ''} from {store.path}",
        sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
