"""``timemory run --store DIR [--param NAME=VALUE ...] [--repeat N] [-c COMPONENT ...]
[--code CODE] [--force] -- script.py [args ...]`` (or ``-m module [args ...]``): one run of a
script or module, profiled ``N`` times into a run store (:class:`timemory.runs.Store`).

The run's id hashes its parameters, the code identity and the environment: a run already done
is not recomputed (one line says so; ``--force`` recomputes it). Everything this command
prints goes to stderr, one line per run; the program's own stdout and stderr are its own.
Exit status: 0 the run is done, 1 it failed (its repeats measured before the failure are
kept), 2 a usage error (one line naming the valid choices).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Sequence
    from typing import Any

    from timemory import _cli

__all__ = ["main"]

PROG = "python -m timemory.runs._run_command"

DESCRIPTION = """\
Profile a script or module N times (--repeat) into a run store: a folder that keeps every
repeat's call graph (hatchet-loadable), keyed by the run's parameters, the code identity
(--code) and the environment. A run that is done already is reused, not recomputed.

The parameters reach the program three ways: the environment variable
TIMEMORY_RUN_PARAMETERS (JSON), timemory.runs.parameters() (a dict), and {name} placeholders
in its arguments (`-- solve.py --size {n}`; {{ and }} are literal braces)."""

EPILOG = """\
examples:
  %(prog)s --store runs/ --param n=1000 --param mode=fast -- solve.py --size {n}
  %(prog)s --store runs/ -n 20 -c wall_clock peak_rss -m package.module
  %(prog)s --store runs/ --code git:. --param n=10 -- bench.py    # code = the git commit
  timemory runs ls runs/ 'n>=1000'                                  # what the store holds

Values are parsed like JSON where they can be (1000, 0.5, true, null, [1,2]), else strings.
Prints one line on stderr: the run's id, its repeats and parameters. Exit status: 0 done,
1 the run failed, 2 a usage error."""


def build_parser(prog: str) -> _cli.ArgumentParser:
    from timemory import _cli

    parser = _cli.ArgumentParser(
        prog=prog,
        usage=(
            "%(prog)s --store DIR [options] -- script.py [args ...]\n"
            "       %(prog)s --store DIR [options] -m module [args ...]"
        ),
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=_cli.HelpFormatter,
    )
    parser.add_argument(
        "-s",
        "--store",
        required=True,
        metavar="DIR",
        help="The run store (a folder; created when missing).",
    )
    parser.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="A parameter of the run (repeat the option for several).",
    )
    parser.add_argument(
        "-n",
        "--repeat",
        type=_cli.number(int, minimum=1),
        default=10,
        metavar="N",
        help="How many times the program is run and profiled (default 10).",
    )
    parser.add_argument(
        "-c",
        "--components",
        nargs="+",
        default=["wall_clock"],
        metavar="COMPONENT",
        help="Components recorded for every call (default wall_clock). `timemory settings "
        "--components` lists the names.",
    )
    parser.add_argument(
        "--code",
        default=None,
        metavar="CODE",
        help="The code identity, part of the run's id: a version string (v1.2), or git:PATH "
        "for the commit of the git checkout at PATH (with -dirty when it has changes).",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="Recompute the run even if the store has it done (the old run is replaced).",
    )
    return parser


def parse_params(texts: Sequence[str]) -> dict[str, Any]:
    """``--param`` values as a dict (CliError for a malformed one or a name given twice)."""
    from timemory import _cli
    from timemory.runs import _params
    from timemory.runs._errors import RunsError

    params: dict[str, Any] = {}
    for text in texts:
        try:
            name, value = _params.parse_param(text)
        except RunsError as err:
            raise _cli.CliError(f"argument --param: {err}") from None
        if name in params:
            raise _cli.CliError(f"argument --param: {name!r} is given twice")
        params[name] = value
    return params


def describe_params(params: dict[str, Any]) -> str:
    """``n=1000, mode=fast`` (values as JSON would write them), or ``no parameters``."""
    from timemory.runs import _params

    if not params:
        return "no parameters"
    return ", ".join(
        f"{name}={value if isinstance(value, str) else _params.canonical_json(value)}"
        for name, value in params.items()
    )


def main(argv: Sequence[str] | None = None) -> int:
    """The command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    from timemory import _cli
    from timemory.runs._errors import RunsError

    argv = sys.argv[1:] if argv is None else list(argv)
    with _cli.untranslated_argparse():
        parser = build_parser(_cli.program_name(PROG))
    try:
        options, command = _cli.split_command(argv, "-m")
        with _cli.untranslated_argparse():
            opts = parser.parse_args(options)
        if not command:
            raise _cli.CliError(
                f"no program to run: give one, e.g. `{parser.prog} --store DIR -- script.py "
                f"[args]` or `{parser.prog} --store DIR -m module`"
            )
        params = parse_params(opts.param)
    except _cli.CliExit as exc:
        return _cli.error_status(parser.prog, exc)
    try:
        return _run(parser.prog, opts, command, params)
    except RunsError as err:
        return _cli.error_status(parser.prog, _cli.CliError(str(err)))
    except KeyboardInterrupt:
        # the run stays pending in the store (its partial repeats are not kept): the next
        # `timemory run` of it measures it
        from timemory._text import echo

        echo(f"{parser.prog}: interrupted; the run was not finished", sys.stderr)
        return _cli.INTERRUPT_STATUS


def _run(prog: str, opts: Any, command: list[str], params: dict[str, Any]) -> int:
    import os

    from timemory import _cli
    from timemory._text import echo
    from timemory.runs import _execute
    from timemory.runs._store import Store

    if command[0] == "-m":
        if len(command) < 2:
            raise _execute.RunsError("argument -m: expected a module name")
        target: Any = _execute.Module(command[1])
        args = command[2:]
    elif command[0].startswith("-m"):  # -mpackage, as python accepts it
        target, args = _execute.Module(command[0][2:]), command[1:]
    else:
        target, args = command[0], command[1:]
    # every problem with the target, the components and the placeholders is found before a
    # store is created or anything runs
    _execute.describe(target, args)
    try:
        _cli.resolve_target(command)  # a module that cannot be found, a folder given as script
    except _cli.CliError as err:
        raise _execute.RunsError(err.message) from None
    _execute.format_arguments(_execute._arguments(args), params)
    _execute._components(opts.components)
    store = Store(opts.store)
    run = store.add_run(
        target, params, repeats=opts.repeat, components=opts.components, code=opts.code, args=args
    )
    where = os.path.relpath(store.path) if not os.path.isabs(opts.store) else store.path
    about = f"{opts.repeat} repeats, {describe_params(params)}"
    if run.done and not opts.force:
        echo(
            f"timemory: run {run.id} ({run.repeats} repeats, {describe_params(params)}) in "
            f"{where}: done already, not recomputed (--force recomputes it)",
            sys.stderr,
        )
        return 0
    if opts.force and run.done:
        store.remove([run])
        run = store.add_run(
            target,
            params,
            repeats=opts.repeat,
            components=opts.components,
            code=opts.code,
            args=args,
        )
    # this run only: calling the store would also measure every other pending run in it
    run = store.compute(run)
    if run.status == "failed":
        echo(
            f"timemory: run {run.id} ({about}) in {where} failed after {run.repeats} "
            f"repeats: {run.error}",
            sys.stderr,
        )
        return 1
    if run.status != "done":  # left pending by the store, which said why
        echo(f"timemory: run {run.id} ({about}) in {where} was not measured", sys.stderr)
        return 1
    echo(f"timemory: run {run.id} ({about}) in {where}", sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
