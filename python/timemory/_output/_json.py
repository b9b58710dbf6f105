"""``json.dumps(obj, indent=2)`` without importing json: the finalize path needs no other JSON,
and importing json there costs about 100 KiB of memory at exit. The same text, byte for byte
(tests/test_output.py compares them), except for the floats JSON has no number for: NaN and
the infinities are written as ``null``, as the native writers write them (``json.dumps``
writes ``NaN``/``Infinity``, which strict JSON readers refuse)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any

__all__ = ["dumps"]

_JSON_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def _json_str(text: str) -> str:
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return '"' + text + '"'
    out = []
    for ch in text:
        if ch in _JSON_ESCAPES:
            out.append(_JSON_ESCAPES[ch])
        elif " " <= ch <= "~":
            out.append(ch)
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            n = ord(ch) - 0x10000
            out.append(f"\\u{0xD800 | (n >> 10):04x}\\u{0xDC00 | (n & 0x3FF):04x}")
    return '"' + "".join(out) + '"'


def dumps(obj: Any, level: str = "") -> str:
    """``json.dumps(obj, indent=2)``, with ``null`` for NaN and the infinities."""
    if isinstance(obj, str):
        return _json_str(obj)
    if obj is None:
        return "null"
    if obj is True or obj is False:
        return "true" if obj else "false"
    if isinstance(obj, int):
        return int.__repr__(obj)
    if isinstance(obj, float):
        if obj != obj or obj in (float("inf"), float("-inf")):
            return "null"
        return float.__repr__(obj)
    inner = level + "  "
    if isinstance(obj, (list, tuple)):
        if not obj:
            return "[]"
        items = [inner + dumps(v, inner) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + level + "]"
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        pairs = []
        for key, value in obj.items():
            if not isinstance(key, str):
                if key is not None and not isinstance(key, (int, float)):
                    raise TypeError(
                        f"keys must be str, int, float, bool or None, not {type(key).__name__}"
                    )
                key = dumps(key)
            pairs.append(f"{inner}{_json_str(key)}: {dumps(value, inner)}")
        return "{\n" + ",\n".join(pairs) + "\n" + level + "}"
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")
