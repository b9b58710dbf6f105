"""Command-line options of a program measured with timemory (``timemory.options``).

Adds timemory's settings to a program's own ``argparse`` parser, plus two options of its
own, and applies what was parsed:

    import argparse
    from timemory import options

    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=10)
    args = options.add_args_and_parse_known(parser)   # sys.argv keeps what timemory did not parse

* ``--timemory-echo-dart``: print CDash measurement tags (``settings.dart_output``);
* ``--timemory-mpl-backend NAME``: the matplotlib backend (:data:`matplotlib_backend`);
* every setting with a command-line flag (``timemory-config --flat-profile on`` with
  ``subparser=True``, ``--timemory-flat-profile on`` with ``subparser=False``), see
  :func:`timemory.settings.add_arguments`. Settings change as they are parsed.

A bad value is reported by argparse as one line naming the valid choices.
"""

from __future__ import annotations

import argparse
import os
import sys

from . import settings

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any

__all__ = [
    "echo_dart",
    "ctest_notes",
    "matplotlib_backend",
    "safe_mkdir",
    "ensure_directory_exists",
    "add_arguments",
    "parse_args",
    "parse_known_args",
    "add_args_and_parse",
    "add_args_and_parse_known",
]

#: Print CDash ``<DartMeasurement>`` tags: ``settings.dart_output`` when this module was
#: imported, then what :func:`parse_args` parsed.
echo_dart: bool = bool(settings.dart_output)
#: Write CTest notes: ``settings.ctest_notes`` when this module was imported.
ctest_notes: bool = bool(settings.ctest_notes)
#: The matplotlib backend for timemory's plots: ``"default"`` leaves matplotlib's choice.
#: :func:`parse_args` sets it from ``--timemory-mpl-backend`` and, for another name than
#: ``"default"``, ``MPLBACKEND`` too (matplotlib reads it when it is imported).
matplotlib_backend: str = "default"


def safe_mkdir(directory: str | os.PathLike[str]) -> None:
    """Create ``directory`` and its parents unless it exists (``mkdir -p``); "" is the
    current directory (nothing to do). ``OSError`` when it cannot be created."""
    if os.fspath(directory):
        os.makedirs(directory, exist_ok=True)


def ensure_directory_exists(file_path: str | os.PathLike[str]) -> None:
    """Create the folder that will hold ``file_path`` (``mkdir -p $(dirname file_path)``)."""
    safe_mkdir(os.path.dirname(os.fspath(file_path)))


def add_arguments(parser: argparse.ArgumentParser | None = None, subparser: Any = True) -> Any:
    """Add timemory's options to ``parser`` (a new ``ArgumentParser`` when None) and return
    it: the settings (as :func:`timemory.settings.add_arguments` with ``subparser``), then
    ``--timemory-echo-dart`` and ``--timemory-mpl-backend`` on ``parser`` itself. Adding
    them to the same parser again adds nothing."""
    if parser is None:
        parser = argparse.ArgumentParser()
    configured = subparser is True and any(
        isinstance(action, argparse._SubParsersAction) and "timemory-config" in action.choices
        for action in parser._actions
    )
    if not configured:  # argparse refuses a second sub-command of the same name
        settings.add_arguments(parser, None, subparser)
    present = parser._option_string_actions
    if "--timemory-echo-dart" not in present:
        parser.add_argument(
            "--timemory-echo-dart",
            action="store_true",
            default=echo_dart,
            help="Print CDash <DartMeasurement> tags (settings.dart_output)",
        )
    if "--timemory-mpl-backend" not in present:
        parser.add_argument(
            "--timemory-mpl-backend",
            default=matplotlib_backend,
            metavar="BACKEND",
            help="Matplotlib backend of timemory's plots (default: matplotlib's own choice)",
        )
    return parser


def _valid_backend(name: str) -> str | None:
    """Why ``name`` is not a matplotlib backend (None when it is, or when matplotlib is not
    installed: there is nothing to plot with then)."""
    if name == "default":
        return None
    try:
        from matplotlib import rcsetup
    except ImportError:
        return None
    try:
        rcsetup.validate_backend(name)
    except ValueError as exc:
        return " ".join(str(exc).split())
    return None


def _apply(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.Namespace:
    """Copy the two options of this module into the settings and :data:`matplotlib_backend`
    (a namespace without them leaves both unchanged)."""
    global echo_dart, matplotlib_backend
    backend = str(getattr(args, "timemory_mpl_backend", matplotlib_backend))
    problem = _valid_backend(backend)
    if problem is not None:
        parser.error(f"argument --timemory-mpl-backend: {problem}")
    echo_dart = bool(getattr(args, "timemory_echo_dart", echo_dart))
    settings.dart_output = echo_dart
    matplotlib_backend = backend
    if backend != "default":
        os.environ["MPLBACKEND"] = backend
        if "matplotlib" in sys.modules:  # already imported: it read MPLBACKEND before
            sys.modules["matplotlib"].use(backend)
    return args


def parse_args(parser: argparse.ArgumentParser | None = None) -> argparse.Namespace:
    """Parse ``sys.argv`` with ``parser`` (:func:`add_arguments`' new parser when None),
    apply ``--timemory-echo-dart`` to ``settings.dart_output`` and
    ``--timemory-mpl-backend`` to :data:`matplotlib_backend`, and return the namespace.
    An unknown argument or bad value is argparse's one-line error (exit status 2)."""
    parser = add_arguments() if parser is None else parser
    return _apply(parser, parser.parse_args())


def parse_known_args(parser: argparse.ArgumentParser | None = None) -> argparse.Namespace:
    """:func:`parse_args`, but arguments the parser does not know stay for the program:
    ``sys.argv`` becomes its first item plus those (unittest's ``main`` parses them next).
    Returns the namespace."""
    parser = add_arguments() if parser is None else parser
    args, unknown = parser.parse_known_args()
    sys.argv[:] = sys.argv[:1] + unknown
    return _apply(parser, args)


def add_args_and_parse(
    parser: argparse.ArgumentParser | None = None, subparser: Any = True
) -> argparse.Namespace:
    """:func:`add_arguments` then :func:`parse_args`; returns the namespace."""
    return parse_args(add_arguments(parser, subparser))


def add_args_and_parse_known(
    parser: argparse.ArgumentParser | None = None, subparser: Any = True
) -> argparse.Namespace:
    """:func:`add_arguments` then :func:`parse_known_args`; returns the namespace."""
    return parse_known_args(add_arguments(parser, subparser))
