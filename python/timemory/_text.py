"""Text helpers of the base layer: the words read as booleans, lists of names, and the one
way timemory prints a line.

Every boolean that a user writes (a setting in a config file or a ``TIMEMORY_*`` variable, an
on/off option of a command line, the ``TIMEMORY_LIBRARY_CTOR``-style switches read at import)
is read by :func:`parse_bool`, so the same words mean the same thing everywhere.

Everything timemory prints goes through :func:`echo`: a record of the ``logging`` logger named
``timemory``, which ends on stderr, never on the program's stdout (see :func:`echo` for the
levels, the verbosity and how a user's own logging configuration is kept).
"""

from __future__ import annotations

import math
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any, TextIO

__all__ = [
    "BOOL_WORDS",
    "DEBUG",
    "ERROR",
    "FALSE_WORDS",
    "INFO",
    "LOGGER_NAME",
    "TRUE_WORDS",
    "WARNING",
    "echo",
    "env_flag",
    "parse_bool",
    "split_names",
    "threshold",
]

TRUE_WORDS = frozenset({"on", "true", "yes", "y", "t", "1"})
FALSE_WORDS = frozenset({"off", "false", "no", "n", "f", "0"})
#: How the accepted words are named in error messages.
BOOL_WORDS = "on/true/yes/y/t/1, off/false/no/n/f/0 (any case), or a number (non-zero is true)"


def parse_bool(value: Any) -> bool:
    """``value`` (a bool, a number, or one of the words of :data:`BOOL_WORDS`) as a bool.

    Raises ``ValueError`` (``TypeError`` for other types) naming the accepted words."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"invalid boolean {value!r}: expected {BOOL_WORDS}")
        return value != 0
    if not isinstance(value, str):
        raise TypeError(f"expected a bool, got {type(value).__name__}")
    text = value.strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ValueError(f"invalid boolean {value!r}: expected {BOOL_WORDS}")
    return number != 0


def env_flag(name: str, default: bool = False) -> bool:
    """The environment variable ``name`` read by :func:`parse_bool`; ``default`` when it is
    unset or empty, and also when it holds something that is not a boolean (a switch read at
    import or exit must never stop the program)."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        return parse_bool(text)
    except ValueError:
        return default


def split_names(value: str) -> list[str]:
    """The names in a list written as text: separated by commas, semicolons or white space
    (``"wall_clock, cpu_clock;peak_rss"``), empty items dropped, order kept."""
    return value.replace(",", " ").replace(";", " ").split()


#: The name of timemory's logger: ``logging.getLogger("timemory")``.
LOGGER_NAME = "timemory"
#: The levels of :func:`echo`, the ``logging`` module's numbers (without importing it).
DEBUG, INFO, WARNING, ERROR = 10, 20, 30, 40
_LEVEL_NAMES = {"debug": DEBUG, "info": INFO, "warning": WARNING, "error": ERROR}
#: The environment variables in which MPI launchers give each process its rank: read before
#: MPI is initialised (or without mpi4py), so that the start of a run is quiet on the other
#: ranks too.
RANK_VARIABLES = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "MV2_COMM_WORLD_RANK")

# the stderr handler timemory added to its logger (while nobody else handles its records), and
# the level timemory set on the logger (a level a user set is kept)
_handler: list[Any] = []
_level_set: list[int] = []


def _rank() -> int:
    """This process's rank: the MPI launcher's variable, else the job's rank once MPI is in
    use, else 0."""
    for name in RANK_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value.isdigit():
            return int(value)
    try:
        from . import _processes

        return _processes.rank()
    except Exception:  # noqa: BLE001 - a message must never fail on the rank
        return 0


def threshold() -> int:
    """The lowest level :func:`echo` prints now: everything (:data:`DEBUG`) when
    ``settings.debug`` or ``settings.verbose >= 1``; else on rank zero :data:`INFO` (the
    summary, the output folders, warnings, errors) at ``verbose`` 0 and only :data:`ERROR` at
    ``verbose`` -1 (``-q``, ``TIMEMORY_VERBOSE=-1``); on the other ranks of an MPI job
    :data:`WARNING` (their problems, not their copies of rank zero's lines)."""
    try:
        from . import settings

        verbose, debug = int(settings.verbose), bool(settings.debug)
    except Exception:  # noqa: BLE001 - while settings are imported, or broken
        verbose, debug = 0, False
    if debug or verbose >= 1:
        return DEBUG
    if verbose < 0:
        return ERROR
    return INFO if _rank() == 0 else WARNING


def _standard(stream: Any) -> bool:
    return stream is None or any(
        stream is s and s is not None
        for s in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
    )


def _logger(level: int) -> Any:
    """timemory's logger, ready for a record of ``level``: timemory's own stderr handler is
    attached only while the user configured no handler for it (on it or, with ``propagate``,
    on the root logger), and taken off as soon as they do, so a line is never printed twice;
    the logger's level is timemory's :func:`threshold` unless the user set one."""
    import logging  # here, not at import: about 0.9 MiB of RSS and 15 ms for every program

    logger = logging.getLogger(LOGGER_NAME)
    if logger.level == logging.NOTSET or (_level_set and logger.level == _level_set[0]):
        logger.setLevel(level)
        _level_set[:] = [level]
    ours = _handler[0] if _handler else None
    if ours is None:
        ours = _StderrHandler.make(logging)
        _handler.append(ours)
    configured = any(h is not ours for h in logger.handlers)
    parent = logger.parent if logger.propagate else None
    while parent is not None and not configured:
        configured = bool(parent.handlers)
        parent = parent.parent if parent.propagate else None
    if configured and ours in logger.handlers:
        logger.removeHandler(ours)
    elif not configured and ours not in logger.handlers:
        logger.addHandler(ours)
    return logger


class _StderrHandler:
    """Made on first use (it subclasses ``logging.StreamHandler``): writes each record's
    message as it is to the *current* ``sys.stderr`` (a program or a test may replace it),
    and a closed or broken stderr is ignored instead of printing logging's error report."""

    @staticmethod
    def make(logging: Any) -> Any:
        class StderrHandler(logging.StreamHandler):
            def __init__(self) -> None:
                logging.Handler.__init__(self)
                self.setFormatter(logging.Formatter("%(message)s"))

            @property
            def stream(self) -> Any:
                return sys.stderr

            @stream.setter
            def stream(self, value: Any) -> None:  # StreamHandler.setStream's assignment
                pass

            def handleError(self, record: Any) -> None:  # noqa: N802 - logging's name
                pass  # stderr closed (`2>&1 | head`) or gone: the output files still get written

        return StderrHandler()


def echo(text: str, stream: TextIO | None = None, level: int | str | None = None) -> None:
    """Print ``text``: the one way timemory prints. Never raises (a closed or broken stream,
    ``| head``, must not stop what follows: the output files still get written).

    ``level``: :data:`DEBUG` (the per-file "Outputting ..." lines, the start banner),
    :data:`INFO` (the summary, the output folders: the default), :data:`WARNING` (a problem
    timemory recovered from: the default when ``stream`` is ``sys.stderr``) or :data:`ERROR`
    (data lost, a usage error), or their names. A message below :func:`threshold` is not
    printed (and ``logging`` is not imported for it).

    Otherwise the message is a record of the ``logging`` logger ``"timemory"``, so it goes to
    stderr and never into the program's stdout (``prog > out`` keeps only the program's
    output). While nobody configured logging, timemory's own handler writes the bare message
    to stderr; once a user adds a handler (``logging.basicConfig()``, a handler on
    ``"timemory"``), theirs formats and routes the records and timemory's is taken off, so no
    line is printed twice. The logger propagates as loggers do. A level the user set on the
    logger is kept; else timemory sets it to :func:`threshold`.

    While ``logging`` was never imported (nothing can have configured it) the bare message is
    written to stderr directly, which is what timemory's handler would print: ``logging`` is
    not imported into a program for timemory's sake (about 0.9 MiB of RSS and 15 ms), and not
    at exit, where an import can change the exit status (an import that runs ``exec`` on a
    string makes Python forget that the program ended in an uncaught KeyboardInterrupt).

    ``stream``: a stream of the caller's own (a ``StringIO``, an open file) gets ``text``
    directly, whatever the verbosity; ``None``, ``sys.stdout`` or ``sys.stderr`` mean the
    logger."""
    if not _standard(stream):
        try:
            print(text, file=stream, flush=True)
        except (OSError, ValueError):
            pass
        return
    if level is None:
        number = WARNING if stream is not None and stream in (sys.stderr, sys.__stderr__) else INFO
    elif isinstance(level, str):
        number = _LEVEL_NAMES[level.lower()]
    else:
        number = int(level)
    try:
        limit = threshold()
        if number < limit:
            return
        if "logging" not in sys.modules:
            # nobody can have configured logging: the line timemory's own handler would print
            _write_stderr(text)
            return
        _logger(limit).log(number, text)
    except Exception:  # noqa: BLE001 - printing must never stop the run
        pass


def _write_stderr(text: str) -> None:
    try:
        stream = sys.stderr
        stream.write(text + "\n")
        stream.flush()
    except (OSError, ValueError, AttributeError):
        pass  # stderr closed (`2>&1 | head`) or gone: the output files still get written
