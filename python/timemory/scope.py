"""Storage scopes: tree (default), flat and timeline.

``config(flat=None, time=None)`` describes a scope to pass to bundles that
accept one; the settings ``flat_profile`` / ``timeline_profile`` set the
default for every marker created afterwards.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class _tree:
    def __repr__(self) -> str:
        return "TREE"


class _flat:
    def __repr__(self) -> str:
        return "FLAT"


class _timeline:
    def __repr__(self) -> str:
        return "TIMELINE"


TREE = _tree()
FLAT = _flat()
TIMELINE = _timeline()


class config(NamedTuple):
    """A scope: ``flat`` and ``timeline`` are True, False or None (= the settings)."""

    flat: bool | None = None
    time: bool | None = None

    @classmethod
    def make(cls, flat: Any = None, time: Any = None) -> config:
        def as_bool(value: Any, scope: Any) -> bool | None:
            if value is None:
                return None
            if isinstance(value, (_tree, _flat, _timeline)):
                return isinstance(value, type(scope))
            return bool(value)

        return cls(as_bool(flat, FLAT), as_bool(time, TIMELINE))
