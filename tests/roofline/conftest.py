"""Short ERT runs for every roofline test: one trial per measurement, at most 16 MiB of data,
results cached in a temporary folder (also for the programs the tests start)."""

from __future__ import annotations

import pytest

SMALL_ERT = {
    "TIMEMORY_ERT_NUM_TRIALS": "1",
    "TIMEMORY_ERT_MAX_DATA_SIZE_CPU": str(16 << 20),
}


@pytest.fixture
def ert_env(tmp_path) -> dict[str, str]:
    """Environment of a program that writes roofline data: small ERT, private cache."""
    return {**SMALL_ERT, "TIMEMORY_ERT_CACHE_DIR": str(tmp_path / "ert-cache")}
