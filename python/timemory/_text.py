"""Text helpers of the base layer: the words read as booleans, lists of names, and the one
way timemory prints a line.

Every boolean that a user writes (a setting in a config file or a ``TIMEMORY_*`` variable, an
on/off option of a command line, the ``TIMEMORY_LIBRARY_CTOR``-style switches read at import)
is read by :func:`parse_bool`, so the same words mean the same thing everywhere.
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
    "FALSE_WORDS",
    "TRUE_WORDS",
    "echo",
    "env_flag",
    "parse_bool",
    "split_names",
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


def echo(text: str, stream: TextIO | None = None) -> None:
    """Print ``text`` and flush, without letting a closed or broken stream (``| head``, a
    closed terminal) stop what follows: the output files still get written."""
    try:
        print(text, file=stream or sys.stdout, flush=True)
    except (OSError, ValueError):
        pass
