"""The CUDA interface of timemory (``timemory.api.cuda``): CUDA streams for the GPU
components.

This build has no CUDA support: ``available`` is False, and making a stream raises
:class:`~timemory.api.UnavailableError` with ``reason``.
"""

from __future__ import annotations

from . import UnavailableError

__all__ = ["available", "reason", "Stream", "stream", "default_stream"]

#: False: CUDA is not part of this build.
available = False
#: Why CUDA is unavailable.
reason = "this build has no CUDA support (no NVIDIA GPU libraries are linked)"


class Stream:
    """A CUDA stream (``Stream(default_stream=False)``; the default stream when True).

    Raises :class:`~timemory.api.UnavailableError` when made: this build has no CUDA."""

    def __init__(self, default_stream: bool = False) -> None:
        raise UnavailableError("CUDA stream", reason)


def stream() -> Stream:
    """A new CUDA stream: raises :class:`~timemory.api.UnavailableError` (no CUDA here)."""
    return Stream(False)


def default_stream() -> Stream:
    """CUDA's default stream: raises :class:`~timemory.api.UnavailableError` (no CUDA here)."""
    return Stream(True)
