"""Type stub of the private ERT extension module (source/python/ert/module.cpp); used by
timemory.roofline.ert only."""

from typing import Any

# A measurement dict: isa, working_set (bytes per thread), nthreads, trials, seconds,
# total_bytes, total_ops (all threads, all trials).
def ert_isas() -> list[str]: ...
def ert_resolve_isa(isa: str) -> str: ...
def ert_fma(
    dtype: str,
    working_set: int,
    reps: int,
    trials: int,
    nthreads: int,
    alignment: int = ...,
    isa: str = ...,
) -> dict[str, Any]: ...
def ert_copy(
    working_set: int, trials: int, nthreads: int, alignment: int = ..., isa: str = ...
) -> dict[str, Any]: ...
def ert_frequency(seconds: float = ...) -> float: ...
