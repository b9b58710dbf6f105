"""Every number the native writers put in JSON is valid JSON (no NaN/Infinity, no stray bytes)
and reads back as the value written: whole numbers of any size as exact integers (timers keep
raw nanoseconds), other values in the shortest form that round-trips."""

from __future__ import annotations

import json
import math
import random

import pytest
from timemory import _core
from timemory.storage import WallClockStorage

EXTREMES = [
    0.0,
    -0.0,
    5e-324,
    1e-300,
    0.1,
    1.0,
    float(2**53 + 2),
    float(2**63),
    float(2**64),
    1e64,
    1e65,
    1e300,
    -1e300,
    1.7976931348623157e308,
    -1.7976931348623157e308,
]


def _no_constants(name: str) -> None:
    raise AssertionError(f"not JSON: {name}")


def _written(value: float) -> dict:
    entry = _core.Entry()
    entry.laps = 1
    entry.value = [value]
    entry.accum = [value]
    flat = _core.FlatEntry()
    flat.prefix = ">>> x"
    flat.entry = entry
    text = _core.flat_json(WallClockStorage._index, [[flat]], {})
    data = json.loads(text, parse_constant=_no_constants)
    return data["ranks"][0]["graph"][0]["entry"]


def _values() -> list[float]:
    rng = random.Random(15)
    out = list(EXTREMES)
    for _ in range(300):
        bits = rng.getrandbits(64)
        value = _from_bits(bits)
        if math.isfinite(value):
            out.append(value)
    return out


def _from_bits(bits: int) -> float:
    import struct

    return struct.unpack("<d", bits.to_bytes(8, "little"))[0]


@pytest.mark.parametrize("value", _values())
def test_numbers_round_trip(value):
    entry = _written(value)
    whole = float(round(value)) if abs(value) < 9.2e18 else value  # timers: whole nanoseconds
    # the raw value is written as a whole number: an exact JSON integer
    assert isinstance(entry["value"], int)
    assert float(entry["value"]) == whole
    # the display value (seconds) in the shortest form that reads back as the same double
    assert float(entry["repr_data"]) == value / 1e9


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_null(value):
    entry = _written(value)
    assert entry["value"] is None and entry["repr_data"] is None
