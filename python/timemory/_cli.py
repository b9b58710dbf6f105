"""Pieces shared by the command-line tools that run a user's program under measurement
(``python -m timemory.profiler``, and the trace and line-profiler tools).

* :class:`ArgumentParser` raises :class:`CliError` instead of printing usage and exiting, so a
  ``main(argv) -> int`` can turn every usage problem into one line on stderr and exit status 2,
  and tests can call ``main`` in-process.
* :func:`split_command` separates the tool's options from the program's command line.
* :func:`resolve_target` checks what to run (a script, or ``-m module``) before anything starts.
* :func:`run` executes it as ``__main__`` the way ``python script.py`` / ``python -m`` would, maps
  the way it ended to an exit status, and always calls the caller's ``after`` hook, so the data
  collected so far is stopped and written whatever happens (exit, exception, Ctrl-C).
* :func:`write_output` and :func:`print_summary` write the files and print a short table.
* :class:`Tool` puts these together into a tool's ``main(argv) -> int``; each tool says how to
  build its parser, its measuring hook and its configuration.
"""

from __future__ import annotations

import argparse
import builtins
import collections
import contextlib
import importlib.machinery
import importlib.util
import os
import signal
import sys
import types
from collections.abc import Iterator, Sequence

from timemory._text import BOOL_WORDS, DEBUG, ERROR, echo, parse_bool

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any, Callable, TextIO

__all__ = [
    "ArgumentParser",
    "CliError",
    "CliExit",
    "Target",
    "Tool",
    "deferred_sigint",
    "echo",
    "error_status",
    "injected_builtins",
    "number",
    "print_summary",
    "program_name",
    "resolve_target",
    "run",
    "split_command",
    "str2bool",
    "write_output",
]

# Exit status of a usage error, as argparse and the shells' builtins use.
USAGE_STATUS = 2
# Exit status after Ctrl-C: 128 + SIGINT, what a shell reports for a program killed by it.
INTERRUPT_STATUS = 128 + int(signal.SIGINT)
# The program's top-level functions are this many frames below the first frame that run()'s
# ``before`` hook can see (the program's module frame is at 0): a tool that limits the stack
# depth from its first event adds it to count levels from the program's top level.
PROGRAM_DEPTH = 1


# ------------------------------------------------------------------ errors and parsing
class CliExit(Exception):
    """The tool stops before running anything, with ``status`` (``--help`` gives 0)."""

    def __init__(self, status: int = 0) -> None:
        super().__init__(status)
        self.status = status


class CliError(CliExit):
    """A problem the user can fix from the command line; reported as one line."""

    def __init__(self, message: str, status: int = USAGE_STATUS) -> None:
        # one line whatever the message is built from (e.g. an exception that spans lines)
        self.message = " ".join(str(message).split())
        super().__init__(status)
        self.args = (self.message,)

    def __str__(self) -> str:
        return self.message


def regex(text: str) -> str:
    """argparse type: a valid regular expression."""
    import re

    try:
        re.compile(text)
    except re.error as exc:
        raise argparse.ArgumentTypeError(f"invalid regular expression {text!r}: {exc}") from None
    return text


def number(
    kind: type = int,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    note: str = "",
) -> Callable[[str], Any]:
    """argparse type: an ``int`` (or ``float``) at least ``minimum``, at most ``maximum`` and
    greater than ``above`` (each when given); ``note`` is added to the message of a bound,
    e.g. ``" (0: no limit)"``."""

    def convert(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if above is not None and not value > above:
            problem = f"must be greater than {above:g}"
        elif minimum is not None and maximum is not None and not minimum <= value <= maximum:
            problem = f"must be between {minimum:g} and {maximum:g}"
        elif minimum is not None and value < minimum:
            problem = f"must be at least {minimum:g}"
        elif maximum is not None and value > maximum:
            problem = f"must be at most {maximum:g}"
        else:
            return value
        raise argparse.ArgumentTypeError(f"{problem}{note}, got {text}")

    return convert


#: seconds between checkpoints under the command-line tools, unless the setting or
#: --checkpoint-interval says otherwise: a killed run loses at most this much
DEFAULT_CHECKPOINT_INTERVAL = 30.0


def seconds(text: str) -> float:
    """argparse type: a number of seconds, finite and at least 0."""
    value = _parse_seconds(text)
    if value is None:
        raise argparse.ArgumentTypeError(
            f"expected a number of seconds >= 0 (0: off), got {text!r}"
        )
    return value


def _parse_seconds(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value >= 0 and value != float("inf") else None  # NaN fails >= too


def add_checkpoint_option(parser: ArgumentParser) -> None:
    """``--checkpoint-interval SECONDS``, which every tool that runs a program has."""
    parser.add_argument(
        "--checkpoint-interval",
        type=seconds,
        default=None,
        metavar="SECONDS",
        help="Rewrite the output files in the background every SECONDS, so that a run that "
        "is killed (SIGKILL, out of memory) or crashes keeps what it measured up to the last "
        f"checkpoint; 0 turns it off. Default: TIMEMORY_CHECKPOINT_INTERVAL if set, else "
        f"{DEFAULT_CHECKPOINT_INTERVAL:g}.",
    )


def add_top_option(parser: ArgumentParser) -> None:
    """``--top N``: the rows of the summary printed at the end (``settings.summary_top``)."""
    parser.add_argument(
        "--top",
        type=number(int, minimum=0, maximum=65535, note=" (0: every row)"),
        default=None,
        metavar="N",
        help="Print the N labels with the most self time in the summary at the end; 0 prints "
        "every label (the files keep every row). Default: TIMEMORY_SUMMARY_TOP if set, else 20.",
    )


def add_quiet_option(parser: ArgumentParser) -> None:
    """``-q``/``--quiet``, which every tool that runs a program has."""
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=False,
        help="Print nothing but errors (settings.verbose = -1, as TIMEMORY_VERBOSE=-1): no "
        "summary, no output-folder line; the files are written as ever. By default a run ends "
        "with its summary and one line per output folder on stderr; TIMEMORY_VERBOSE=1 "
        "also names every file.",
    )


def _format_list(text: str) -> list[str]:
    """argparse type of ``--format``: the format names of a comma-separated list."""
    from timemory._output import _exports

    try:
        return _exports.parse_formats(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_format_option(parser: ArgumentParser) -> None:
    """``--format LIST``: which files the run writes (the registry's formats, by name)."""
    from timemory._output import _exports

    choices = ", ".join(_exports.format_choices())
    parser.add_argument(
        "--format",
        type=_format_list,
        action="extend",
        default=None,
        metavar="LIST",
        help="Write exactly these formats, comma-separated (the option may be repeated): "
        f"{choices}. pstats (snakeviz), speedscope, callgrind (KCachegrind) and perfetto "
        "(a timeline for ui.perfetto.dev; recorded while the program runs) hold every "
        "component; metadata.json is always written. Default: the settings "
        "(TIMEMORY_<FORMAT>_OUTPUT: text, json, tree and flamegraph on). Without tree, "
        "`timemory export` cannot make the exports from the folder later.",
    )


def apply_formats(opts: argparse.Namespace) -> None:
    """``--format``: exactly those formats' settings on, the others off (and the timeline
    recorded for perfetto)."""
    names = getattr(opts, "format", None)
    if names:
        from timemory._output import _exports

        _exports.select_formats(names)


def apply_quiet(opts: argparse.Namespace) -> None:
    """``-q``: settings.verbose -1 for the rest of the run."""
    if getattr(opts, "quiet", False):
        from timemory import settings

        settings.verbose = -1


def start_checkpoints(value: float | None) -> None:
    """The tools' checkpoint interval: ``--checkpoint-interval``, else the setting when the
    environment or a config file set it, else :data:`DEFAULT_CHECKPOINT_INTERVAL`; setting it
    starts the checkpoint thread."""
    from timemory import settings

    if value is None and settings.source("checkpoint_interval") != "default":
        value = settings.checkpoint_interval
    settings.checkpoint_interval = DEFAULT_CHECKPOINT_INTERVAL if value is None else value


def tool_parser(prog: str, description: str, epilog: str) -> ArgumentParser:
    """The parser of a tool that runs a program: its usage lines and help layout."""
    return ArgumentParser(
        prog=prog,
        usage=(
            "%(prog)s [options] -- script.py [args ...]\n"
            "       %(prog)s [options] -m module [args ...]\n"
            "       %(prog)s script.py [args ...]"
        ),
        description=description,
        epilog=epilog,
        formatter_class=HelpFormatter,
    )


def terminal_columns() -> int:
    """``shutil.get_terminal_size().columns`` without importing shutil: argparse's help
    formatter imports it (and with it bz2, lzma, zlib and fnmatch, about 0.5 MiB of RSS in
    every profiled program) for this alone, and a parser makes a formatter to check every
    option it adds."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):  # no __stdout__, or not a terminal
            columns = 0
    return columns or 80


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's RawDescriptionHelpFormatter with the width found by
    :func:`terminal_columns` (the same width)."""

    def __init__(
        self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: Any = None
    ):
        if width is None:
            width = terminal_columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


@contextlib.contextmanager
def untranslated_argparse() -> Iterator[None]:
    """argparse's messages as they are, without gettext's look-up, where no catalog could
    translate them.

    argparse passes every message through gettext, whose look-up imports locale (about 0.4 MiB
    of RSS in every profiled program) to expand the language names, though most Pythons have
    no catalog of the domain at all. When there is none (no ``<localedir>/*/LC_MESSAGES/
    <domain>.mo``), gettext returns each message unchanged, and so does argparse here while
    the parser is made and used; otherwise gettext is used as ever."""
    import gettext

    domain = getattr(gettext, "_current_domain", None)
    localedirs = getattr(gettext, "_localedirs", None)
    default_dir = getattr(gettext, "_default_localedir", None)
    if not isinstance(domain, str) or not isinstance(localedirs, dict) or default_dir is None:
        yield
        return
    localedir = localedirs.get(domain) or default_dir
    try:
        languages = os.listdir(localedir)
    except OSError:
        languages = []
    if any(
        os.path.exists(os.path.join(localedir, lang, "LC_MESSAGES", f"{domain}.mo"))
        for lang in languages
    ):
        yield
        return
    module: Any = argparse  # argparse's gettext names are not in its type stubs
    saved = module._, module.ngettext
    module._ = lambda message: message
    module.ngettext = lambda singular, plural, n: singular if n == 1 else plural
    try:
        yield
    finally:
        module._, module.ngettext = saved


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but an error raises :class:`CliError` and ``--help`` raises :class:`CliExit`
    rather than calling ``sys.exit``: the caller decides how to report and what to return.

    Every parser has ``--version`` (``timemory X.Y.Z (Python X.Y.Z)``, status 0; pass
    ``add_version=False`` to leave it out), and a misspelled option gets a did-you-mean."""

    def __init__(self, *args: Any, add_version: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if add_version:
            from timemory import _about

            self.add_argument(
                "--version",
                action="version",
                version=_about.version_line(),
                help="Print timemory's version and exit.",
            )

    def error(self, message: str) -> Any:  # argparse's signature is NoReturn
        from timemory import _about

        raise CliError(_about.explain_unrecognized(message, self._option_string_actions))

    def exit(self, status: int = 0, message: str | None = None) -> Any:
        if message:
            self._print_message(message, sys.stderr)
        raise CliExit(status)


def program_name(default: str) -> str:
    """The name a tool reports itself by: ``timemory <command>`` under the ``timemory``
    command, its console script's (``timemory-plotter``) when it runs as one, else
    ``default`` (``python -m timemory.plotting``)."""
    from timemory import _about

    return _about.program_name(default)


def error_status(prog: str, exc: CliExit, stream: TextIO | None = None) -> int:
    """Report ``exc`` (a :class:`CliError` as ``<prog>: error: <message>``) and return its
    status, for ``main`` functions: ``except CliExit as exc: return error_status(prog, exc)``."""
    if isinstance(exc, CliError):
        echo(f"{prog}: error: {exc.message}", stream, level=ERROR)
    return exc.status


def str2bool(value: str | bool) -> bool:
    """argparse ``type`` for on/off options: the words of :data:`timemory._text.BOOL_WORDS`,
    as in ``TIMEMORY_*`` variables and config files (``--trace-c on``, ``-l no``, ``-a 1``)."""
    try:
        return parse_bool(value)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(
            f"expected a boolean ({BOOL_WORDS}), got {value!r}"
        ) from None


def split_command(
    argv: Sequence[str],
    module_flag: str | None = "-m",
    is_module: Callable[[str], bool] | None = None,
) -> tuple[list[str], list[str]]:
    """Split a tool's argv into ``(tool options, command)``.

    * A first argument that is not an option starts the command: ``tool script.py -x`` passes
      ``-x`` to the script, as ``python script.py -x`` would.
    * Otherwise the options end at the first ``--``: ``tool -c a b -- script.py -x``.
    * ``module_flag`` (``-m``) followed by a module name also ends the options, and everything
      after the name belongs to the module, as with ``python -m``; the command is then
      ``["-m", name, *args]``. ``is_module(value)`` can reject values that are the option's
      other meaning (the profiler keeps ``-m N`` for its maximum stack depth).
    * No command found: ``(argv, [])``; the caller reports that.
    """
    argv = list(argv)
    if argv and not argv[0].startswith("-"):
        return [], argv
    for i, token in enumerate(argv):
        if token == "--":
            return argv[:i], argv[i + 1 :]
        if not module_flag or token.startswith("--") or not token.startswith(module_flag):
            continue
        if token == module_flag:
            if i + 1 >= len(argv):
                continue
            value, rest = argv[i + 1], argv[i + 2 :]
        else:  # attached value, as in python -mjson.tool
            value, rest = token[len(module_flag) :], argv[i + 1 :]
        if value and not value.startswith("-") and (is_module is None or is_module(value)):
            return argv[:i], [module_flag, value, *rest]
    return argv, []


# ------------------------------------------------------------------ what to run
class Target(
    collections.namedtuple("Target", "kind name args path spec source", defaults=(None, b""))
):
    """A program to run as ``__main__``: a script file or a module (``-m``).

    ``kind`` is "script" or "module"; ``name`` the script path as given or the module name;
    ``args`` its arguments; ``path`` the absolute path of the file that holds the code;
    ``spec`` the module's spec (modules); ``source`` the script's bytes (scripts).

    A plain named tuple, not a dataclass or typing.NamedTuple: those import inspect or
    compile annotations, which would add to the memory of every program run under the tools.
    """

    __slots__ = ()

    def __repr__(self) -> str:  # without the spec and the source bytes
        fields = f"kind={self.kind!r}, name={self.name!r}, args={self.args!r}, path={self.path!r}"
        return f"Target({fields})"

    @property
    def command(self) -> list[str]:
        """The command line as the user wrote it (without the tool's options)."""
        head = ["-m", self.name] if self.kind == "module" else [self.name]
        return [*head, *self.args]

    @property
    def argv(self) -> list[str]:
        """``sys.argv`` inside the program: as under ``python script.py`` or ``python -m``."""
        return [self.path if self.kind == "module" else self.name, *self.args]

    @property
    def sys_path0(self) -> str:
        """``sys.path[0]`` inside the program: the script's real directory, or the cwd for -m."""
        if self.kind == "module":
            return os.getcwd()
        return os.path.dirname(os.path.realpath(self.path))

    def compile(self) -> types.CodeType:
        """The program's code, compiled with its real file name so that tracebacks, profiler
        labels and ``co_filename`` name it. Raises SyntaxError for a broken program (and
        ImportError or OSError when a module's loader fails)."""
        if self.kind == "module":
            assert self.spec is not None and self.spec.loader is not None
            code = self.spec.loader.get_code(self.spec.name)
            if code is None:
                raise ImportError(f"cannot get the code of module {self.name!r}")
            return code
        return compile(self.source, self.path, "exec", dont_inherit=True)

    def namespace(self) -> dict[str, Any]:
        """The globals of a fresh ``__main__`` module, as Python sets them up."""
        if self.kind == "module":
            spec = self.spec
            assert spec is not None
            return {
                "__file__": self.path,
                "__cached__": spec.cached,
                "__loader__": spec.loader,
                "__package__": spec.parent,
                "__spec__": spec,
                "__builtins__": builtins,
            }
        return {
            "__file__": self.path,
            "__cached__": None,
            "__loader__": importlib.machinery.SourceFileLoader("__main__", self.path),
            "__package__": None,
            "__spec__": None,
            "__builtins__": builtins,
        }


def _component_problem(err: Exception) -> str:
    """The message of a component that cannot be used, with the valid choices when the message
    (an import path that fails: its module, its class) does not name them already."""
    message = str(err).rstrip(".")
    if not isinstance(err, ValueError):
        return message  # TypeError/RuntimeError: the class itself is at fault, and says how
    if "Valid choices" in message or message.startswith("Unknown component"):
        return message  # a mistyped name: the closest names are given
    return (
        f"{message}. Valid choices are: a component name (wall_clock, cpu_clock, peak_rss...: "
        "`timemory settings --components` lists them) or 'module:Class' naming a "
        "timemory.component.Base subclass"
    )


def resolve_target(command: Sequence[str]) -> Target:
    """Check the command (``[script, *args]`` or ``["-m", module, *args]``) and read the
    program, so that a bad command is a one-line :class:`CliError` before anything starts."""
    command = list(command)
    if not command:
        raise CliError("no program to run was given")
    first, args = command[0], tuple(command[1:])
    if first == "-m":
        if not args:
            raise CliError("argument -m: expected a module name")
        return _module_target(args[0], args[1:])
    if first.startswith("-m") and len(first) > 2 and not first.startswith("--"):
        return _module_target(first[2:], args)
    return _script_target(first, args)


def _script_target(name: str, args: tuple[str, ...]) -> Target:
    path = os.path.abspath(name)
    if not os.path.exists(path):
        raise CliError(f"cannot run {name!r}: no such file")
    if os.path.isdir(path):
        raise CliError(f"cannot run {name!r}: it is a directory, not a Python file")
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as err:
        raise CliError(f"cannot read {name!r}: {err.strerror or err}") from None
    return Target("script", name, args, path, source=source)


def _module_target(name: str, args: tuple[str, ...]) -> Target:
    """What ``python -m name`` would run, found without executing anything: no package's
    ``__init__`` runs before the tool has started measuring (:func:`run` imports the parent
    packages then, as ``python -m`` does), so that a package's import is measured and sees
    the program's ``sys.argv`` and the tool's builtins. Usage errors, worded as Python words
    them: no such module, a package without ``__main__``, a relative name."""
    if name.startswith("."):
        raise CliError(f"cannot run module {name!r}: relative module names are not supported")
    # the lookup sees the sys.path the module will run with (cwd first, as python -m does)
    with _sys_path0(os.getcwd()):
        spec = _locate(name)
        if spec.submodule_search_locations is not None:  # a package runs its __main__
            if name == "__main__" or name.endswith(".__main__"):
                raise CliError(f"cannot run module {name!r}: a package cannot be __main__")
            spec = _locate(f"{name}.__main__", package=name)
    if spec.loader is None or not hasattr(spec.loader, "get_code") or not spec.origin:
        raise CliError(f"cannot run module {name!r}: it has no code to run")
    return Target("module", name, args, os.path.abspath(spec.origin), spec=spec)


def _locate(name: str, package: str | None = None) -> importlib.machinery.ModuleSpec:
    """The spec of module ``name`` as ``import name`` would find it, without importing any of
    its parent packages (``importlib.util.find_spec("a.b")`` imports ``a``, running its
    ``__init__``): a top-level name, or one whose parent is imported already, through
    importlib; a submodule otherwise by asking the meta path finders with its parent's search
    locations, which is what the import system does once the parent is imported.

    A package whose ``__init__`` changes its own ``__path__`` or installs finders could make
    a submodule importable that this does not find; ``python -m`` of such a submodule is not
    supported (the submodules of ``pkgutil``/PEP 420 namespace packages are found)."""
    parts = name.split(".")
    spec: importlib.machinery.ModuleSpec | None = None
    for i in range(1, len(parts) + 1):
        fullname = ".".join(parts[:i])
        try:
            if i == 1 or fullname in sys.modules or ".".join(parts[: i - 1]) in sys.modules:
                spec = importlib.util.find_spec(fullname)  # imports nothing here
            else:
                assert spec is not None
                spec = _find_submodule(fullname, spec.submodule_search_locations)
        except Exception as err:  # noqa: BLE001 - a broken finder, a name with empty parts...
            raise CliError(f"cannot find module {name!r} ({type(err).__name__}: {err})") from None
        if spec is None:
            if package:
                raise CliError(
                    f"no module named {name!r}: {package!r} is a package that has no __main__ "
                    "module, so it cannot be run directly"
                )
            raise CliError(f"no module named {fullname!r}")
        if i < len(parts) and spec.submodule_search_locations is None:
            raise CliError(f"no module named {name!r}: {fullname!r} is not a package")
    assert spec is not None
    return spec


def _find_submodule(
    fullname: str, path: Sequence[str] | None
) -> importlib.machinery.ModuleSpec | None:
    """``fullname``'s spec from the first meta path finder that knows it, given the search
    locations of its parent package (``importlib._bootstrap._find_spec`` without the parts
    that need the parent imported)."""
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        spec = find_spec(fullname, path, None)
        if spec is not None:
            return spec
    return None


@contextlib.contextmanager
def _sys_path0(entry: str) -> Iterator[None]:
    saved, saved_list = sys.path, list(sys.path)
    if sys.path:
        sys.path[0] = entry
    else:
        sys.path.insert(0, entry)
    try:
        yield
    finally:
        sys.path = saved
        sys.path[:] = saved_list


@contextlib.contextmanager
def _as_main(target: Target) -> Iterator[dict[str, Any]]:
    """Install a fresh ``__main__`` module, ``sys.argv`` and ``sys.path[0]`` for the program,
    and put back the caller's afterwards (tools' ``main`` functions also run in-process)."""
    saved_main = sys.modules.get("__main__")
    saved_argv, saved_argv_list = sys.argv, list(sys.argv)
    module = types.ModuleType("__main__")
    module.__dict__.update(target.namespace())
    sys.modules["__main__"] = module
    sys.argv[:] = target.argv
    try:
        with _sys_path0(target.sys_path0):
            yield module.__dict__
    finally:
        if saved_main is None:
            sys.modules.pop("__main__", None)
        else:
            sys.modules["__main__"] = saved_main
        sys.argv = saved_argv
        sys.argv[:] = saved_argv_list


# ------------------------------------------------------------------ running
@contextlib.contextmanager
def deferred_sigint() -> Iterator[list[int]]:
    """Hold off Ctrl-C while measurements are stopped and written, so a second Ctrl-C cannot
    lose the data of the first one. Yields a list that records the signals held off. Outside
    the main thread (where handlers cannot be set) it does nothing."""
    from timemory import _signals

    held: list[int] = []
    try:
        # inside a part that stops on Ctrl-C (ERT), it raises there
        previous = signal.signal(signal.SIGINT, _signals.hold_sigint(held))
    except ValueError:
        yield held
        return
    try:
        yield held
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)


def _execute(
    code: types.CodeType,
    namespace: dict[str, Any],
    before: Callable[[], object] | None,
    after: Callable[[], object] | None,
    prepare: Callable[[], types.CodeType | None] | None = None,
) -> BaseException | None:
    # The program is called as a function rather than through exec(): exec is a C function,
    # and with C calls profiled (--trace-c) it would be recorded as the parent of the whole
    # program. A module's code object has no CO_NEWLOCALS, so the function's globals are also
    # its locals, as in exec(code, namespace). before() is called here, right above the
    # program's frame, so that a measurement that counts stack depth from its first event
    # sees the program's module frame at depth 0 (PROGRAM_DEPTH). prepare() (the parent
    # packages of a -m module, imported as python -m does) runs measured at that same level,
    # as the program's own imports would, and may give other code to run.
    program = types.FunctionType(code, namespace)
    if before is not None:
        before()
    try:
        if prepare is not None:
            replaced = prepare()
            if replaced is not None:
                program = types.FunctionType(replaced, namespace)
        program()
    except BaseException as exc:  # noqa: BLE001 - the program's own ending, reported later
        return exc
    finally:
        # directly, with nothing measurable in between; a Ctrl-C that still lands in
        # after() propagates to the caller, which writes its data anyway
        if after is not None:
            after()
    return None


def run(
    target: Target,
    before: Callable[[], object] | None = None,
    after: Callable[[], object] | None = None,
    prog: str = "python",
) -> int:
    """Run ``target`` as ``__main__`` and return its exit status.

    ``before()`` is called right before the program's first line (after the code is compiled,
    so compiling is not measured) and ``after()`` right after its last, however it ended. How
    it ended is reported only after ``after()``, so that printing a traceback is not measured.
    A module in a package (``-m pkg``, ``-m pkg.mod``) runs as under ``python -m``: its parent
    packages are imported after ``before()``, with ``sys.argv[0]`` set to ``"-m"`` meanwhile,
    then ``sys.argv[0]`` is the module's file.

    Statuses: normal end or ``SystemExit(None/0)`` 0, ``SystemExit(n)`` n,
    ``SystemExit("text")`` prints the text and gives 1, an uncaught exception (also in a
    parent package's ``__init__``) prints its traceback (without this runner's frames) and
    gives 1, Ctrl-C prints ``KeyboardInterrupt`` and gives 130. A syntax error is reported
    like Python does (1), and nothing runs. A module that is no longer found once its parents
    are imported is a usage error: one line ``<prog>: error: ...``, status 2.
    """
    try:
        code = target.compile()
    except (SyntaxError, ValueError, ImportError, OSError) as exc:
        # ValueError: source with null bytes; ImportError, OSError: a module's loader failed
        _report_exception(exc.with_traceback(None), None)  # the error is the program's
        return 1
    with _as_main(target) as namespace:
        prepare = _parent_importer(target, namespace)
        outcome = _execute(code, namespace, before, after, prepare)
    if isinstance(outcome, CliError):
        return error_status(prog, outcome)
    return _exit_status(outcome)


def _parent_importer(
    target: Target, namespace: dict[str, Any]
) -> Callable[[], types.CodeType | None] | None:
    """For a module in a package: what ``runpy._run_module_as_main`` does before it runs the
    module's code, as a function :func:`_execute` calls once measuring started.

    It imports the parent package (running the ``__init__`` of each package on the way, which
    sees ``sys.argv == ["-m", *args]`` as under ``python -m``), finds the module again as the
    import system now does (a package may have changed its ``__path__``), and sets
    ``sys.argv[0]`` to the module's file. It returns the module's code when that changed the
    file found, else None. A module not found any more raises :class:`CliError`."""
    spec = target.spec
    if target.kind != "module" or spec is None or "." not in spec.name:
        return None
    parent = spec.name.rpartition(".")[0]

    def import_parents() -> types.CodeType | None:
        sys.argv[0] = "-m"
        __import__(parent)
        found = importlib.util.find_spec(spec.name)  # imports nothing: the parent is imported
        if found is None or found.loader is None or not found.origin:
            raise CliError(f"no module named {spec.name!r} once {parent!r} was imported")
        path = os.path.abspath(found.origin)
        sys.argv[0] = path
        if path == target.path:
            return None
        code = found.loader.get_code(found.name)  # type: ignore[attr-defined]
        if code is None:
            raise CliError(f"cannot run module {target.name!r}: it has no code to run")
        namespace.update(target._replace(path=path, spec=found).namespace())
        return code

    return import_parents


def _exit_status(outcome: BaseException | None) -> int:
    if outcome is None:
        return 0
    if isinstance(outcome, SystemExit):
        code = outcome.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        _as_python(str(code))
        return 1
    if isinstance(outcome, KeyboardInterrupt):
        _as_python("KeyboardInterrupt")
        return INTERRUPT_STATUS
    tb = outcome.__traceback__
    # the first entries are this module's exec call: the user's traceback starts below it
    while tb is not None and tb.tb_frame.f_code.co_filename == _execute.__code__.co_filename:
        tb = tb.tb_next
    # on the exception too: the default hook prints the exception's own __traceback__
    _report_exception(outcome.with_traceback(tb), tb)
    return 1


def _as_python(text: str) -> None:
    """What Python itself prints on stderr when a program ends (``sys.exit("text")``): the
    program's message, not timemory's, so not a log record (never silenced or reformatted)."""
    try:
        print(text, file=sys.stderr, flush=True)
    except (OSError, ValueError, AttributeError):
        pass


def _report_exception(exc: BaseException, tb: types.TracebackType | None) -> None:
    """Through ``sys.excepthook``, as Python reports an uncaught exception (a program may
    have installed its own hook)."""
    try:
        sys.excepthook(type(exc), exc, tb)
    except Exception:  # noqa: BLE001 - a broken hook must not hide the program's error
        import traceback

        traceback.print_exception(type(exc), exc, tb)


@contextlib.contextmanager
def injected_builtins(**names: Any) -> Iterator[None]:
    """Make ``names`` available to the program without an import (``@profile``), and put back
    what ``builtins`` had before."""
    missing = object()
    saved = {name: getattr(builtins, name, missing) for name in names}
    for name, value in names.items():
        setattr(builtins, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                if hasattr(builtins, name):
                    delattr(builtins, name)
            else:
                setattr(builtins, name, value)


# ------------------------------------------------------------------ output
def write_output() -> bool:
    """Write every output file (``timemory.finalize()``) without printing the full tables, then
    give back the user's ``cout_output``. Ctrl-C is held off meanwhile: an interrupted write
    would lose the run. Returns True if a Ctrl-C was held off."""
    from timemory import _lifecycle, _output, settings

    saved = settings.cout_output
    settings.cout_output = False
    deferred = _output.defer_folders(True)  # printed after the summary
    try:
        with deferred_sigint() as held:
            _lifecycle.finalize()
    finally:
        settings.cout_output = saved
        _output.defer_folders(deferred)
    return bool(held)


def print_summary(
    top: int | None = None, stream: TextIO | None = None, width: int | None = None
) -> None:
    """After the output is written: per component recorded, the ``top`` labels by self time
    (``settings.summary_top`` if None; ``--top``), fitted to ``width`` columns (the terminal's
    if None), then where the files are (``timemory._output._summary``)."""
    from timemory import _lifecycle
    from timemory._output import _summary

    gathered = _lifecycle.written_processes()
    if gathered is False:
        return  # another rank of an MPI job: rank zero wrote and summarises every rank's data
    if gathered is not None:
        recorded = gathered.indices()
    else:
        recorded = [index for index, n in sorted(_lifecycle.size().items()) if n]
    if not recorded:
        echo("[timemory]> nothing was recorded", stream)
        return
    plain = not _encodes(stream or sys.stderr, "\u00b5")
    for index in recorded:
        summary = _summary.summarize(index, processes=gathered, files=_summary.files_of(index))
        text = summary.to_text(top, width)
        echo(text.replace("\u00b5s", "us") if plain else text, stream)
    print_output_folders(stream)


def _encodes(stream: Any, text: str) -> bool:
    """Whether ``stream`` can write ``text`` (a terminal in the C locale cannot write µ)."""
    try:
        text.encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeError, LookupError):
        return False
    return True


def print_output_folders(stream: TextIO | None = None) -> None:
    """One line per folder of the files written and not yet counted in such a line
    (``timemory: 7 files in timemory-app-output/``), or, once, that no file was written.
    Calling it again prints nothing new, so the tools call it after their summary whatever
    the summary printed. ``stream``: as :func:`timemory._text.echo`."""
    from timemory._output import _plan

    if _plan.written_count() == 0:
        if not _no_output_said:
            _no_output_said.append(True)
            echo("timemory: no output files were written (see settings.file_output)", stream)
        return
    for line in _plan.folder_lines():
        echo(line, stream)


_no_output_said: list[bool] = []


def print_files(paths: list[str]) -> None:
    """One line per folder of ``paths``, the files a command wrote (the plotter's images)."""
    from timemory._output import _plan

    for line in _plan.folder_lines(paths):
        echo(line)


# ------------------------------------------------------------------ a whole tool
class Tool:
    """The common flow of the tools that run a program under a measuring hook (a
    ``Profiler``, a ``Tracer``...): parse the options, check the program, the setup file and
    the components before anything runs (a usage error is one line and status 2), name the
    output folder after the program, run it with the hook installed (or, in decorated-only
    mode, with the hook only available as the builtins the program decorates with), write
    the output whatever happened and print the summary. A subclass gives the parts that
    differ; ``main`` returns the exit status."""

    #: shown in usage and messages, unless the tool runs as a ``timemory-*`` console script
    prog = "python -m timemory"
    #: "no script to <verb>"
    verb = "measure"
    #: "[timemory]> <doing>: <command>"
    doing = "measuring"
    #: ``is_module(value)`` for :func:`split_command`'s ``-m``
    is_module: Callable[[str], bool] | None = None

    def build_parser(self, prog: str) -> ArgumentParser:
        raise NotImplementedError

    def make_hook(self, opts: argparse.Namespace) -> Any:
        """The object with ``start()``/``stop()`` that measures the program; a ValueError
        (an unknown component, naming the valid ones) is a usage error."""
        raise NotImplementedError

    def configure(self, opts: argparse.Namespace, hook: Any) -> None:
        """Apply the options once the output folder is named, before the program runs."""

    def builtins(self, hook: Any) -> dict[str, Any]:
        """The names the program may use without an import (``profile``...)."""
        return {}

    def decorated_only(self, opts: argparse.Namespace) -> bool:
        """Whether only what the program decorates is measured (``-b``)."""
        return bool(getattr(opts, "builtin", False))

    def finish(self, opts: argparse.Namespace, hook: Any) -> None:
        """After timemory's output is written (also on error or Ctrl-C): anything else the
        tool writes or prints."""

    def summary(self) -> None:
        """The short table printed last."""
        print_summary()

    def program_name(self) -> str:
        return program_name(self.prog)

    def parse(
        self, parser: ArgumentParser, argv: list[str]
    ) -> tuple[argparse.Namespace, list[str]]:
        options, command = split_command(argv, "-m", self.is_module)
        self.options = options
        try:
            opts = parser.parse_args(options)
        except CliError as err:
            # e.g. `-b script.py`: without --, the script was read as the value of an option
            script = next((o for o in options if not o.startswith("-") and _is_script(o)), None)
            if script and not command:
                raise CliError(
                    f"{err.message} (put -- between the options and the script {script!r})"
                ) from None
            raise
        if not command:
            taken = _script_taken_as_value(parser, opts)
            if taken is not None:
                # `-c wall_clock cpu_clock s.py`: the list option took the script and its
                # arguments as more of its values; show the command line that says it
                option, script = taken
                at = len(options) - 1 - options[::-1].index(script)
                fixed = " ".join([parser.prog, *options[:at], "--", *options[at:]])
                raise CliError(
                    f"no script to {self.verb}: {script!r} was read as a value of {option}; "
                    f"put -- between the options and the script {script!r}: `{fixed}`"
                )
            raise CliError(
                f"no script to {self.verb}: give one, e.g. "
                f"`{parser.prog} [options] -- script.py [args]` or `{parser.prog} -m module`"
            )
        return opts, command

    def main(self, argv: Sequence[str] | None = None) -> int:
        """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
        from timemory import _lifecycle, _output, settings

        argv = sys.argv[1:] if argv is None else list(argv)
        with untranslated_argparse():
            parser = self._parser()
        try:
            with untranslated_argparse():
                opts, command = self.parse(parser, argv)
            target = resolve_target(command)
            setup = _setup_target(opts.setup) if getattr(opts, "setup", None) else None
            hook = self._make_hook_or_fail(opts, target)
        except CliExit as exc:
            return error_status(parser.prog, exc)

        # output folder: -d, else TIMEMORY_OUTPUT_PATH (initialize re-reads the environment),
        # else timemory-<script stem>-output
        _lifecycle.initialize([target.path if target.kind == "script" else target.name])
        if getattr(opts, "output_dir", None):
            settings.output_path = opts.output_dir
        apply_quiet(opts)
        apply_formats(opts)
        self.configure(opts, hook)
        from timemory import _workers

        _workers.hand_over_tool(self._module_name(), self.options)
        start_checkpoints(getattr(opts, "checkpoint_interval", None))
        if getattr(opts, "top", None) is not None:
            settings.summary_top = opts.top
        echo(f"[timemory]> {self.doing}: {target.command}", level=DEBUG)
        held = False
        from timemory import _signals

        # an ending signal (SIGTERM...) writes what the normal end writes, then ends the
        # process as the signal would (timemory._signals)
        _signals.set_writer(lambda: self._write_on_signal(opts, hook))
        try:
            status = self._run(opts, target, setup, hook, parser.prog)
        except KeyboardInterrupt:  # outside the program: at the end of the setup file, say
            status = INTERRUPT_STATUS
        finally:
            _signals.set_writer(None)
            # whatever happened above, the data collected so far is written
            try:
                held = write_output()
            finally:
                with deferred_sigint() as late:
                    self.finish(opts, hook)
                held = held or bool(late)
        try:
            self.summary()
            print_output_folders()  # after the summary, if it did not print them
        except KeyboardInterrupt:
            held = True
        if status == 0 and _output.lost_files():  # the program succeeded, its output is lost
            status = _output.LOST_STATUS
        return INTERRUPT_STATUS if held and status == 0 else status

    def own_output(self, opts: argparse.Namespace, hook: Any) -> None:
        """The tool's own files written before timemory's output (the line profiler's
        ``.lprof``), when the program ends: normally (the tool calls it) or by an ending
        signal."""

    def _write_on_signal(self, opts: argparse.Namespace, hook: Any) -> None:
        """What an ending signal writes before it ends the program: the tool's own files,
        timemory's output, then what ``finish`` writes (the summary is not printed)."""
        try:
            with deferred_sigint():
                self.own_output(opts, hook)
        finally:
            try:
                write_output()
            finally:
                with deferred_sigint():
                    self.finish(opts, hook)

    def _parser(self) -> ArgumentParser:
        """The tool's parser with the options every tool has."""
        parser = self.build_parser(self.program_name())
        if "--checkpoint-interval" not in parser._option_string_actions:
            add_checkpoint_option(parser)
        if "--top" not in parser._option_string_actions:
            add_top_option(parser)
        if "--quiet" not in parser._option_string_actions:
            add_quiet_option(parser)
        if "--format" not in parser._option_string_actions:
            add_format_option(parser)
        return parser

    def _module_name(self) -> str:
        """The importable name of the module defining this tool (``python -m`` runs it as
        ``__main__``)."""
        module = type(self).__module__
        if module == "__main__":
            spec = getattr(sys.modules.get("__main__"), "__spec__", None)
            module = spec.name if spec is not None else module
        return module

    def _make_hook_or_fail(self, opts: argparse.Namespace, target: Target) -> Any:
        """``make_hook(opts)``, a bad component one :class:`CliError` line. A ``-c
        module:Class`` (a component written in Python) is imported now, from where the program
        will import it: the script's folder first, as when it runs."""
        folder = ""
        if target.kind == "script" and target.path:
            folder = os.path.dirname(str(target.path))
        added = bool(folder) and folder not in sys.path
        if added:
            sys.path.insert(0, folder)
        try:
            return self.make_hook(opts)
        except (ValueError, TypeError, RuntimeError) as err:
            # ValueError names the valid choices; TypeError/RuntimeError: a component class
            # that cannot be registered (its attributes, no slot left) says why
            raise CliError(_component_problem(err)) from None
        finally:
            if added and folder in sys.path:
                sys.path.remove(folder)

    def start_in_worker(self, options: list[str]) -> Any:
        """In a process that ``multiprocessing`` spawned while this tool ran a program: the
        same hook with the same ``options``, its builtins defined for good (the program's
        main module is imported again, ``@profile`` and all), measuring from now on."""
        with untranslated_argparse():
            opts = self._parser().parse_args(options)
        hook = self.make_hook(opts)
        apply_quiet(opts)
        apply_formats(opts)
        self.configure(opts, hook)
        for name, value in self.builtins(hook).items():
            setattr(builtins, name, value)
        if not self.decorated_only(opts):
            hook.start()
        return hook

    def _run(
        self,
        opts: argparse.Namespace,
        target: Target,
        setup: Target | None,
        hook: Any,
        prog: str,
    ) -> int:
        if setup is not None:
            status = run(setup)
            if status != 0:
                echo(
                    f"{prog}: the setup file {opts.setup!r} exited with status {status}; "
                    "the program was not run",
                    sys.stderr,
                )
                return status
        with injected_builtins(**self.builtins(hook)):
            if self.decorated_only(opts):
                # the program's decorators and `with` blocks start and stop this same hook
                return run(target, prog=prog)
            return run(target, before=hook.start, after=hook.stop, prog=prog)


def _is_script(value: str) -> bool:
    """Whether a value given to an option looks like the program rather than the option's
    value: a Python file's name, or an existing file."""
    return value.endswith((".py", ".pyw")) or os.path.isfile(value)


def _script_taken_as_value(
    parser: argparse.ArgumentParser, opts: argparse.Namespace
) -> tuple[str, str] | None:
    """``(option, script)`` when an option that takes a list of values (``-c A B ...``)
    took what looks like the program as one of them; None otherwise."""
    for action in parser._actions:
        values = getattr(opts, action.dest, None)
        if action.nargs not in ("+", "*") or not action.option_strings:
            continue
        if not isinstance(values, list):
            continue
        script = next((v for v in values if isinstance(v, str) and _is_script(v)), None)
        if script is not None:
            return "/".join(action.option_strings), script
    return None


def _setup_target(path: str) -> Target:
    try:
        return resolve_target([path])
    except CliError as err:
        raise CliError(f"argument -s/--setup: {err.message}") from None


def label_and_filter_options(opts: argparse.Namespace) -> dict[str, Any]:
    """The ``config`` values of the label and filter options the profiler and the tracer
    share (None where the option was not given). ``--skip-funcs``/``--skip-files`` add to
    the default skip patterns, which ``--no-default-skips`` drops (assigning a pattern set
    replaces it)."""
    from timemory._hook_config import DEFAULT_SKIP_FILENAMES, DEFAULT_SKIP_FUNCTIONS

    def skips(defaults: tuple[str, ...], given: list[str] | None) -> list[str] | None:
        if opts.no_default_skips:
            return list(given or ())
        return None if given is None else [*defaults, *given]

    return {
        "include_args": opts.include_args,
        "include_line": opts.include_line,
        "include_filename": opts.include_file,
        "full_filepath": opts.full_filepath,
        "verbosity": opts.verbosity,
        "skip_functions": skips(DEFAULT_SKIP_FUNCTIONS, opts.skip_funcs),
        "skip_filenames": skips(DEFAULT_SKIP_FILENAMES, opts.skip_files),
        "only_functions": opts.only_funcs,
        "only_filenames": opts.only_files,
    }


def skip_options_help(tool: str) -> dict[str, str]:
    """The help of ``--skip-funcs``, ``--skip-files`` and ``--no-default-skips``, which list
    the default patterns (``tool``: "record" or "trace")."""
    from timemory._hook_config import DEFAULT_SKIP_FILENAMES, DEFAULT_SKIP_FUNCTIONS

    def listed(defaults: tuple[str, ...]) -> str:
        # quoted as for a shell; argparse formats help with %: a pattern's own % is doubled
        return ", ".join(f"'{p}'".replace("%", "%%") for p in defaults) or "none"

    return {
        "skip_funcs": f"Do not {tool} functions whose name matches one of these regular "
        "expressions (searched in the name: anchor with ^ and $ to match it whole). Added "
        f"to the defaults: {listed(DEFAULT_SKIP_FUNCTIONS)}.",
        "skip_files": f"Do not {tool} functions whose file path matches one of these "
        "regular expressions (searched in the path: anchor with ^ and $). Added to the "
        f"defaults: {listed(DEFAULT_SKIP_FILENAMES)} (the import system: an import shows as "
        "the imported module's code, <module NAME.py>; the standard library's threading.py: a "
        "thread's graph starts at the function it runs).",
        "no_default_skips": "Drop the default skip patterns (see --skip-funcs, --skip-files): "
        "only timemory's own functions and those of --skip-funcs/--skip-files are left out.",
    }


def set_options(config: Any, values: dict[str, Any]) -> None:
    """Copy the options given (not None) onto a hook's ``config``; the others keep the
    configuration's own values."""
    for name, value in values.items():
        if value is not None:
            setattr(config, name, value)
