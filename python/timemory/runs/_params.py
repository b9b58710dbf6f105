"""Parameters of a run: their canonical form (what a run's id hashes), the ``NAME=VALUE`` text
of the command lines, and the batchpy-like filters of ``Store.get_runs_with``.

A parameter name is a Python identifier without ``__`` (the double underscore separates a name
from a filter's suffix: ``n__ge=1000``). A value is ``None``, a bool, an int, a finite float, a
string, or a list of those (a tuple becomes a list). Two runs have the same parameters when
their canonical JSON texts are equal, so ``{"a": 1, "b": 2}`` and ``{"a": 2, "b": 1}`` differ:
names are part of what is compared, not only the values.
"""

from __future__ import annotations

import math

from ._errors import RunsError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

__all__ = [
    "SUFFIXES",
    "canonical",
    "canonical_json",
    "jsonable",
    "matches",
    "parse_filter",
    "parse_param",
    "parse_value",
]

#: the filter suffixes: ``name__<suffix>=value``
SUFFIXES = ("ne", "lt", "le", "gt", "ge", "in")

# the operators a command-line filter may use instead of a suffix, longest first
_OPERATORS = (("!=", "ne"), ("<=", "le"), (">=", "ge"), ("==", ""), ("<", "lt"), (">", "gt"))


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.isidentifier() or "__" in name:
        raise RunsError(
            f"parameter name {name!r} is not valid: use a Python identifier without '__' "
            "(e.g. n, mode, grid_size)"
        )
    return name


def _scalar(name: str, value: Any) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise RunsError(f"parameter {name}={value!r}: a value must be a finite number")
        return float(value)
    # numpy scalars and the like: accept what converts exactly to a plain number
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, (list, tuple, dict)):
        try:
            plain = item()
        except (TypeError, ValueError):
            plain = value
        if plain is not value and isinstance(plain, (bool, int, float, str)):
            return _scalar(name, plain)
    raise RunsError(
        f"parameter {name}={value!r}: a value must be None, a bool, a number, a string or a "
        f"list of those, not {type(value).__name__}"
    )


def _value(name: str, value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_scalar(name, v) for v in value]
    return _scalar(name, value)


def canonical(parameters: Mapping[str, Any] | None) -> dict[str, Any]:
    """The parameters checked and in canonical form (sorted by name, tuples as lists, numpy
    scalars as plain numbers); :class:`RunsError` for a bad name or value."""
    if parameters is None:
        return {}
    if not hasattr(parameters, "items"):
        raise RunsError(
            f"parameters must be a mapping of names to values, not {type(parameters).__name__}"
        )
    out = {_check_name(k): _value(k, v) for k, v in parameters.items()}
    return dict(sorted(out.items()))


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no spaces: the text a run's id hashes."""
    import json

    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def parse_value(text: str) -> Any:
    """A value written on a command line: JSON when it reads as JSON (``1000`` -> 1000,
    ``0.5``, ``true``, ``null``, ``[1,2]``, ``"x"``), otherwise the text itself."""
    import json

    stripped = text.strip()
    if not stripped:
        return text
    try:
        value = json.loads(stripped)
    except ValueError:
        return text
    if isinstance(value, dict):
        return text
    if isinstance(value, float) and not math.isfinite(value):
        return text
    return value


def parse_param(text: str) -> tuple[str, Any]:
    """``"n=1000"`` -> ``("n", 1000)``: a command line's ``--param NAME=VALUE``."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise RunsError(f"parameter {text!r} is not NAME=VALUE (e.g. n=1000 or mode=fast)")
    _check_name(name)
    return name, _value(name, parse_value(value))


def parse_filter(text: str) -> tuple[str, Any]:
    """A command line's filter: ``"mode=fast"``, ``"n__ge=1000"``, ``"n>=1000"``, ``"n!=3"``,
    ``"mode__in=a,b"`` -> ``(key with its suffix, value)``; ``__in`` values are split at
    commas."""
    import re

    found = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(!=|<=|>=|==|<|>|=)(.*)\Z", text, re.S)
    if not found:
        raise RunsError(
            f"filter {text!r} is not NAME=VALUE, NAME__SUFFIX=VALUE or NAME<op>VALUE "
            f"(suffixes: {', '.join(SUFFIXES)}; operators: = != < <= > >=)"
        )
    key, op, right = found.groups()
    suffix = dict(_OPERATORS).get(op, "")
    if suffix:
        if "__" in key:
            raise RunsError(f"filter {text!r}: use either a suffix or an operator, not both")
        key = f"{key}__{suffix}"
    _, suffix = _split_key(key)
    if suffix == "in":
        return key, [parse_value(v) for v in right.split(",")]
    return key, parse_value(right)


def _split_key(key: str) -> tuple[str, str]:
    name, sep, suffix = key.rpartition("__")
    if not sep:
        return key, ""
    if suffix not in SUFFIXES:
        raise RunsError(
            f"filter {key!r}: unknown suffix __{suffix} (valid suffixes: "
            f"{', '.join('__' + s for s in SUFFIXES)})"
        )
    return name, suffix


def _compare(have: Any, suffix: str, want: Any) -> bool:
    if suffix == "in":
        wanted = want if isinstance(want, (list, tuple, set, frozenset)) else [want]
        return any(_equal(have, w) for w in wanted)
    if suffix == "ne":
        return not _equal(have, want)
    try:
        if suffix == "lt":
            return bool(have < want)
        if suffix == "le":
            return bool(have <= want)
        if suffix == "gt":
            return bool(have > want)
        return bool(have >= want)
    except TypeError:  # e.g. "fast" >= 3: not comparable, so not a match
        return False


def _equal(have: Any, want: Any) -> bool:
    if isinstance(have, list) and isinstance(want, tuple):
        want = list(want)
    # True == 1 in Python; a parameter's type matters for a filter (mode=True vs mode=1)
    if isinstance(have, bool) != isinstance(want, bool):
        return False
    return bool(have == want)


def matches(parameters: Mapping[str, Any], filters: Mapping[str, Any]) -> bool:
    """Whether ``parameters`` pass every filter: ``name=value`` (equal; a list, tuple or set
    value means any of them), ``name__ne``, ``__lt``, ``__le``, ``__gt``, ``__ge``, ``__in``.
    A run without the parameter fails every filter on it except ``__ne``.
    :class:`RunsError` for an unknown suffix."""
    for key, want in filters.items():
        name, suffix = _split_key(key)
        if not suffix and isinstance(want, (list, tuple, set, frozenset)):
            suffix = "in"
        if name not in parameters:
            if suffix == "ne":
                continue
            return False
        have = parameters[name]
        ok = _equal(have, want) if not suffix else _compare(have, suffix, want)
        if not ok:
            return False
    return True


def jsonable(value: Any, what: str) -> Any:
    """``value`` as it reads back from JSON (a NumPy value becomes a number or a list), or,
    when JSON cannot hold it, its ``repr()`` with a one-line warning naming ``what`` (e.g.
    "run 0123abcd: its result"). Never pickled: a store is read without running code."""
    import json

    def default(obj: Any) -> Any:
        tolist = getattr(obj, "tolist", None)  # numpy scalars and arrays
        if callable(tolist):
            return tolist()
        raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")

    try:
        return json.loads(json.dumps(value, default=default, allow_nan=False))
    except (TypeError, ValueError, RecursionError) as err:
        from timemory._text import WARNING, echo

        echo(
            f"timemory: {what} ({type(value).__name__}) is not JSON-serialisable ({err}): "
            "kept as its repr()",
            level=WARNING,
        )
        try:
            return repr(value)
        except Exception as exc:  # noqa: BLE001 - a broken __repr__ must not lose the run
            return f"<unrepresentable {type(value).__name__}: {exc!r}>"
