"""Alias of :mod:`timemory.bundle` (the name the original API used)."""

from ..bundle import (  # noqa: F401
    auto_timer,
    auto_tuple,
    base_decorator,
    context,
    marker,
    rss_usage,
    timer,
)
from . import util  # noqa: F401

__all__ = ["auto_timer", "auto_tuple", "base_decorator", "context", "marker", "rss_usage", "timer", "util"]
