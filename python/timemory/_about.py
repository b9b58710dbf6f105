"""What the command lines say about this installation, in the base layer so that every tool
(the settings and hardware-counter listings too) can use it: the ``--version`` line, the name
a tool runs under, the did-you-mean of a misspelled name, and the one-line message of an
optional package that is not installed.

The message of a missing package names it and this package's extra that brings it, never
``pip install timemory[...]``: on PyPI the name ``timemory`` belongs to another project (the
original NERSC package), so that command would install something else.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    import argparse
    from collections.abc import Iterable
    from typing import Any

__all__ = [
    "EXTRAS",
    "line_error_parser",
    "MissingPackage",
    "close_matches",
    "did_you_mean",
    "explain_unrecognized",
    "install_hint",
    "missing_package",
    "program_name",
    "version_line",
]

#: The extras of ``[project.optional-dependencies]`` that bring a package the code imports,
#: with their requirements as pyproject lists them (tests/test_command.py compares the two).
EXTRAS = {
    "plot": ("matplotlib>=3.5",),
    "mpi": ("mpi4py>=4", "mpich>=4.1"),
    "line": ("line_profiler",),
    "pandas": ("pandas>=2.1",),
    "hatchet": ("llnl-hatchet",),
    "dask": ("dask[distributed]",),
}

#: The name the ``timemory`` command runs a tool under (``timemory profile``), set by it
#: before it calls the tool's ``main``; None otherwise.
invoked_as: str | None = None


def version_line() -> str:
    """``timemory 0.1.0 (Python 3.12.4)``: what every command prints for ``--version``."""
    from . import _core

    python = ".".join(str(n) for n in sys.version_info[:3])
    return f"timemory {_core.build_info['version']} (Python {python})"


def program_name(default: str) -> str:
    """The name a tool reports itself by: ``timemory <command>`` when the ``timemory``
    command runs it, its console script's (``timemory-plotter``) when it runs as one, else
    ``default`` (``python -m timemory.plotting``)."""
    if invoked_as:
        return invoked_as
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return name if name.startswith("timemory-") else default


def close_matches(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """The ``choices`` closest to ``word``, compared without case: the best one, and up to
    ``n`` in all that are about as close (``wal_clock`` gives ``wall_clock`` alone, not the
    other clocks as well). A name that only shares a suffix such as ``_clock`` is not close
    (``no_such_clock`` gives nothing). difflib is imported here only, on the way to an error
    message."""
    import difflib

    by_folded: dict[str, str] = {}
    for choice in choices:
        by_folded.setdefault(choice.lower(), choice)
    folded = word.lower()
    scored = []
    for candidate in difflib.get_close_matches(folded, list(by_folded), n=n, cutoff=0.7):
        ratio = difflib.SequenceMatcher(None, folded, candidate).ratio()
        scored.append((ratio, candidate))
    best = scored[0][0] if scored else 0.0
    return [by_folded[c] for ratio, c in scored if ratio >= best - 0.05]


def did_you_mean(matches: Iterable[str]) -> str:
    """``"did you mean 'a'?"`` / ``"did you mean 'a' or 'b'?"``; "" without matches."""
    quoted = [repr(m) for m in matches]
    if not quoted:
        return ""
    if len(quoted) == 1:
        return f"did you mean {quoted[0]}?"
    return f"did you mean {', '.join(quoted[:-1])} or {quoted[-1]}?"


def explain_unrecognized(message: str, options: Iterable[str]) -> str:
    """argparse's ``message`` with a did-you-mean added when it is about an unknown option
    (``unrecognized arguments: --compnents x``) that is close to one of ``options`` (a
    parser's option strings)."""
    head = "unrecognized arguments: "
    if not message.startswith(head):
        return message
    longs = [o for o in options if o.startswith("--")]
    for word in message[len(head) :].split():
        # --name=value and -xVALUE: the option part; short options are too short to match
        name = word.split("=", 1)[0]
        if not name.startswith("--") or len(name) < 4:
            continue
        matches = close_matches(name, longs)
        if matches:
            return f"{message} ({did_you_mean(matches)})"
    return message


def line_error_parser(**kwargs: Any) -> argparse.ArgumentParser:
    """An ``argparse.ArgumentParser(**kwargs)`` whose usage error is one line (``<prog>:
    error: <message>``, status 2) rather than the usage followed by the message, with a
    did-you-mean for a misspelled option. For the listings below the tools' layer
    (``timemory settings``); the tools use ``timemory._cli.ArgumentParser``, which raises
    instead of exiting. argparse is imported here, not with this module, which the
    ``timemory`` command loads before it knows whether a parser is needed."""
    import argparse

    class LineErrorParser(argparse.ArgumentParser):
        def error(self, message: str) -> Any:  # argparse's signature is NoReturn
            message = explain_unrecognized(message, self._option_string_actions)
            self.exit(2, f"{self.prog}: error: {message}\n")

    return LineErrorParser(**kwargs)


def _source_folder() -> str | None:
    """The folder this package was installed from (``pip install /path/to/timemory``), as
    pip recorded it (PEP 610 ``direct_url.json``); None when unknown."""
    try:
        import json
        from importlib import metadata

        text = metadata.distribution("timemory").read_text("direct_url.json")
        url = json.loads(text or "{}").get("url", "")
    except Exception:  # noqa: BLE001 - no record, another distribution: no folder to name
        return None
    if not isinstance(url, str) or not url.startswith("file://"):
        return None
    from urllib.parse import unquote, urlparse

    path = unquote(urlparse(url).path)
    # the folder must still hold this project's sources for the command to work
    return path if os.path.isfile(os.path.join(path, "pyproject.toml")) else None


def install_hint(extra: str) -> str:
    """How to install what ``extra`` brings: its requirements, or this package again with
    the extra from its source folder (named when pip recorded it)."""
    requirements = " ".join(f"'{r}'" if any(c in r for c in "<>=!~;") else r for r in EXTRAS[extra])
    folder = _source_folder() or "<timemory source folder>"
    return (
        f"pip install {requirements} (or, from timemory's source folder, its '{extra}' "
        f"extra: pip install '{folder}[{extra}]')"
    )


class MissingPackage(ImportError):
    """An optional package is not installed; the message is one line with the install
    command. ``name`` is the timemory module that needs it (as ``ImportError.name``)."""


def missing_package(module: str, package: str, extra: str) -> BaseException:
    """What ``module`` raises when ``package`` (of this package's ``extra``) cannot be
    imported: a :class:`MissingPackage`, or, when ``module`` is being located as the target
    of ``python -m`` (its command line), a ``SystemExit`` with the same line, status 1.

    runpy would report the ImportError with a line of its own around it, or, for an
    ImportError of another name, with two chained tracebacks; the command line owns the
    process at that point, so it ends it with one line instead."""
    message = f"{module} needs the {package} package, which is not installed: " + install_hint(
        extra
    )
    if _located_by_python_m(module):
        return SystemExit(f"python -m {_python_m_target()}: error: {message}")
    return MissingPackage(message, name=module)


def _python_m_target() -> str:
    argv = getattr(sys, "orig_argv", None) or []
    for i, arg in enumerate(argv[1:], 1):
        if arg == "-m" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("-m") and len(arg) > 2:
            return arg[2:]
    return ""


def _located_by_python_m(module: str) -> bool:
    """Whether ``python -m`` is locating ``module`` or a module of it: while it does,
    ``sys.argv[0]`` is ``"-m"`` (``sys.orig_argv``, 3.10 and later, names the target)."""
    if not sys.argv or sys.argv[0] != "-m":
        return False
    target = _python_m_target()
    return target == module or target.startswith(module + ".")
