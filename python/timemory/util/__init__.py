"""Alias of :mod:`timemory.bundle` (the name the original API used)."""

from . import util
from .util import *  # noqa: F401,F403
from .util import __all__ as _names

__all__ = [*_names, "util"]
