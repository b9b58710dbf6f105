"""The CUPTI interface of timemory (``timemory.api.cupti``): NVIDIA's profiling interface.

This build has no CUDA or CUPTI support, so there are no CUPTI events or metrics: the two
queries return an empty list (``available`` is False and ``reason`` says why), and the
``cupti_*`` components have ``available == False``.
"""

from __future__ import annotations

__all__ = ["available", "reason", "available_events", "available_metrics"]

#: False: CUPTI is not part of this build.
available = False
#: Why CUPTI is unavailable.
reason = "this build has no CUDA/CUPTI support (no NVIDIA GPU libraries are linked)"


def available_events(device: int = 0) -> list[str]:
    """The CUPTI event names of GPU ``device``: always [] here (no CUPTI; see ``reason``)."""
    return []


def available_metrics(device: int = 0) -> list[str]:
    """The CUPTI metric names of GPU ``device``: always [] here (no CUPTI; see ``reason``)."""
    return []
