"""The vendor programming interfaces of timemory: PAPI (:mod:`timemory.api.papi`), CUPTI
(:mod:`timemory.api.cupti`), CUDA (:mod:`timemory.api.cuda`) and the gperftools helpers
(:mod:`timemory.api.gperftools`).

This build links none of these vendor libraries. What this machine has instead:

* hardware counters are counted through Linux ``perf_event_open``
  (:mod:`timemory.hardware_counters`, the ``papi_vector`` / ``papi_array`` components,
  ``settings.papi_events``); :func:`timemory.api.papi.query_event` says whether an event can
  be counted here;
* the gperftools helpers run a command under gperftools' profilers wherever gperftools'
  libraries are installed: they look for them when called.

How an unavailable part behaves, everywhere in this package: each vendor module has
``available`` (a bool) and ``reason`` (why not; "" when available). Queries return a
documented empty answer (``papi.working()`` is False, ``cupti.available_events()`` is []);
actions, which would have to measure or change something, raise :class:`UnavailableError`
naming what is missing. Nothing fails at import.

    from timemory.api import papi, UnavailableError
    papi.available, papi.reason
    papi.query_event("PAPI_TOT_INS")     # True when this machine counts instructions
"""

from __future__ import annotations

__all__ = ["UnavailableError", "cuda", "cupti", "gperftools", "papi"]


class UnavailableError(RuntimeError):
    """A vendor library (or tool) this call needs is not part of this build or machine.

    ``feature`` names what was asked for and ``reason`` says why it is missing; the message is
    ``"<feature> is not available: <reason>"``. A ``RuntimeError``, as the original library
    raised for a tool it could not start.
    """

    def __init__(self, feature: str, reason: str) -> None:
        super().__init__(f"{feature} is not available: {reason}")
        #: What was asked for (``"PAPI library call papi.start"``).
        self.feature = feature
        #: Why it is missing.
        self.reason = reason


from . import cuda, cupti, gperftools, papi  # noqa: E402  (they import UnavailableError)
