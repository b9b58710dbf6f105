"""Reading JSON documents that may be hostile: every reader of timemory's files (the storage
``load*`` functions, the plotting readers, the roofline readers) goes through these helpers,
so that a malformed document is one ``ValueError`` (:class:`DocumentError`) whose message
names the document, the place in it and what was expected, on one line::

    wall.json: timemory.wall_clock.ranks[0].graph[3].entry: expected an object, found a list
    wall.json: timemory.wall_clock.ranks[0].graph[3].entry.laps: missing (expected an integer)
    wall.json: not valid JSON: line 3 column 5: Expecting ',' delimiter

A place is a *where*: the document's name (a ``str``) or a ``(parent, step)`` pair, ``step``
a key or a list index. Pairs cost a tuple per step, and the text is only built when a
problem is reported, so a reader can check every value of a large document.

:func:`read_json` reads a file: a regular file only (a FIFO would block, ``/dev/zero``
would never end) of at most :data:`MAX_BYTES`, UTF-8 (a byte-order mark is allowed), JSON
nested no deeper than Python's reader can go. An ``OSError`` (no such file, no permission)
is left as it is, for the caller to report in its own way.
"""

from __future__ import annotations

import math
import os
import re
import stat
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any, Callable, NoReturn, Union

    Where = Union[str, tuple[Any, Union[str, int]]]

__all__ = [
    "MAX_BYTES",
    "MISSING",
    "DocumentError",
    "as_bool",
    "as_integer",
    "as_list",
    "as_number",
    "as_numbers",
    "as_object",
    "as_string",
    "document_name",
    "fail",
    "location",
    "member",
    "parse_json",
    "read_json",
]

#: The largest file :func:`read_json` reads (2 GiB): Python holds a parsed document in
#: several times its size in memory, so a larger one is refused with a clear error rather
#: than left to run the machine out of memory. Timemory's own files stay far below it
#: (a million call-graph nodes make about 0.3 GB of flat JSON).
MAX_BYTES = 2 << 30

_READ_CHUNK = 1 << 24


class DocumentError(ValueError):
    """A document that is not what its reader expects. The message is one line:
    ``<document>: <place>: <what was expected>[, found <what was there>]``."""


class _Missing:
    """The value of a key that is not there."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


# ------------------------------------------------------------------ places and messages
def document_name(where: Where) -> str:
    """The document's name of a place."""
    while isinstance(where, tuple):
        where = where[0]
    return where


# keys written as ".key" (others as '["key"]'): the names timemory writes ("exec-params")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


def _step_text(step: str | int) -> str:
    if isinstance(step, int):
        return f"[{step}]"
    if _NAME.match(step):
        return f".{step}"
    import json

    return f"[{json.dumps(step)}]"


def location(where: Where) -> str:
    """``name: path`` of a place (``wall.json: timemory.wall_clock.ranks[0]``), or the name
    alone for the whole document."""
    steps = []
    while isinstance(where, tuple):
        where, step = where
        steps.append(step)
    if not steps:
        return str(where)
    path = "".join(_step_text(s) for s in reversed(steps))
    return f"{where}: {path[1:] if path.startswith('.') else path}"


def _kind(value: Any) -> str:
    """What a JSON value is, for ``found ...``: ``a string ("abc")``, ``a list of 3 items``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{'true' if value else 'false'}"
    if isinstance(value, (int, float)):
        text = repr(value)
        return f"the number {text if len(text) <= 24 else text[:10] + '...' + text[-10:]}"
    if isinstance(value, str):
        import json

        text = json.dumps(value[:40] + ("..." if len(value) > 40 else ""))
        return f"a string ({text})"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def fail(where: Where, expected: str, found: Any = MISSING) -> NoReturn:
    """Raise the :class:`DocumentError` of ``where``: ``expected`` is what should be there
    (``"an object"``) or, with ``found`` left out, the whole problem (``"no 'ranks' list"``)."""
    if found is MISSING:
        raise DocumentError(f"{location(where)}: {expected}")
    raise DocumentError(f"{location(where)}: expected {expected}, found {_kind(found)}")


# ------------------------------------------------------------------ checks
# A check is ``check(value, where) -> value`` and raises DocumentError; its ``expected``
# attribute says what it accepts, for the message of a missing key.
def as_object(value: Any, where: Where) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    fail(where, "an object", value)


def as_list(value: Any, where: Where) -> list[Any]:
    if isinstance(value, list):
        return value
    fail(where, "a list", value)


def as_string(value: Any, where: Where) -> str:
    if isinstance(value, str):
        return value
    fail(where, "a string", value)


def as_bool(value: Any, where: Where) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    fail(where, "true or false", value)


def as_number(value: Any, where: Where) -> float:
    """A JSON number as a float (NaN and infinities included: Python's JSON reader accepts
    them, and they cannot crash a reader)."""
    if isinstance(value, float):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            fail(where, "a number within the range of a double", value)
    fail(where, "a number", value)


def as_integer(minimum: int = 0, maximum: int = 2**63 - 1) -> Callable[[Any, Where], int]:
    """A check of whole numbers from ``minimum`` to ``maximum`` (a float with no fraction,
    ``3.0``, is one)."""
    if minimum == 0 and maximum == 2**63 - 1:
        expected = "a non-negative integer"
    else:
        expected = f"an integer from {minimum} to {maximum}"

    def check(value: Any, where: Where) -> int:
        if isinstance(value, bool):
            fail(where, expected, value)
        if isinstance(value, float):
            if not math.isfinite(value) or value != int(value):
                fail(where, expected, value)
            value = int(value)
        if isinstance(value, int) and minimum <= value <= maximum:
            return value
        fail(where, expected, value)

    setattr(check, "expected", expected)  # noqa: B010 - a function attribute
    return check


def as_numbers(limit: int) -> Callable[[Any, Where], list[float]]:
    """A check of one value or several: a number, a list of at most ``limit`` numbers, or
    the ``{"first": a, "second": b}`` object of a pair; returns the numbers as a list."""
    expected = f"a number or a list of at most {limit} numbers"

    def check(value: Any, where: Where) -> list[float]:
        if isinstance(value, list):
            if len(value) > limit:
                fail(where, expected, value)
            return [as_number(v, (where, i)) for i, v in enumerate(value)]
        if isinstance(value, dict):
            return [
                member(value, "first", where, as_number),
                member(value, "second", where, as_number),
            ]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return [as_number(value, where)]
        fail(where, expected, value)

    setattr(check, "expected", expected)  # noqa: B010 - a function attribute
    return check


for _check, _expected in (
    (as_object, "an object"),
    (as_list, "a list"),
    (as_string, "a string"),
    (as_bool, "true or false"),
    (as_number, "a number"),
):
    setattr(_check, "expected", _expected)  # noqa: B010 - a function attribute
del _check, _expected


def member(
    mapping: dict[str, Any],
    key: str,
    where: Where,
    check: Callable[[Any, Where], Any],
    default: Any = MISSING,
) -> Any:
    """``check(mapping[key])`` at ``(where, key)``; ``default`` (unchecked) when the key is
    missing, or a DocumentError without one."""
    value = mapping.get(key, MISSING)
    if value is MISSING:
        if default is not MISSING:
            return default
        fail((where, key), f"missing (expected {getattr(check, 'expected', 'a value')})")
    return check(value, (where, key))


# ------------------------------------------------------------------ reading
def parse_json(data: str | bytes | bytearray, name: str) -> Any:
    """The JSON document of ``data`` (text, or bytes in UTF-8), named ``name`` in errors."""
    import json

    if isinstance(data, (bytes, bytearray)):
        try:
            text = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as err:
            line = data.count(b"\n", 0, err.start) + 1
            column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
            raise DocumentError(
                f"{name}: not valid UTF-8: byte 0x{data[err.start]:02x} at line {line} "
                f"column {column}"
            ) from None
    else:
        text = data[1:] if data.startswith("\ufeff") else data
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        # "Unterminated string starting at": the line and column say where
        what = err.msg[: -len(" at")] + " there" if err.msg.endswith(" at") else err.msg
        raise DocumentError(
            f"{name}: not valid JSON: line {err.lineno} column {err.colno}: {what}"
        ) from None
    except RecursionError:
        raise DocumentError(
            f"{name}: not readable: its JSON is nested deeper than Python's JSON reader can go "
            f"with the recursion limit {sys.getrecursionlimit()} (a tree file of a deep call "
            "graph: read the flat <label>.json file instead, or raise sys.setrecursionlimit)"
        ) from None
    except ValueError as err:  # e.g. an integer of more digits than int() converts
        # without the advice to call sys.set_int_max_str_digits, which is not the user's
        reason = " ".join(str(err).split(";")[0].split())
        raise DocumentError(f"{name}: not valid JSON: {reason}") from None


def read_json(path: str | os.PathLike[str], name: str | None = None) -> Any:
    """The JSON document of the file ``path`` (named ``name``, default the path as given, in
    errors). Raises :class:`DocumentError` for a file that is not a regular file, is larger
    than :data:`MAX_BYTES` or is not JSON; ``OSError`` when it cannot be opened or read."""
    text_path = os.fspath(path)
    name = text_path if name is None else name
    # non-blocking: opening a FIFO for reading would wait for a writer
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(text_path, flags)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise DocumentError(f"{name}: is a directory, not a JSON file")
        if not stat.S_ISREG(info.st_mode):
            raise DocumentError(f"{name}: not a regular file (a device, FIFO or socket)")
        if info.st_size > MAX_BYTES:
            raise DocumentError(
                f"{name}: too large to read ({info.st_size} bytes; the limit is {MAX_BYTES} bytes)"
            )
        chunks = []
        size = 0
        while True:  # bounded even if the file grows while it is read
            chunk = os.read(fd, _READ_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_BYTES:
                raise DocumentError(f"{name}: too large to read (more than {MAX_BYTES} bytes)")
            chunks.append(chunk)
    finally:
        os.close(fd)
    return parse_json(b"".join(chunks), name)
