"""Parameters of runs: canonical form, command-line text, filters."""

from __future__ import annotations

import pytest
from timemory.runs import RunsError
from timemory.runs._params import (
    canonical,
    canonical_json,
    matches,
    parse_filter,
    parse_param,
    parse_value,
)


def test_canonical_sorts_and_keeps_names():
    assert list(canonical({"b": 1, "a": (1, 2)})) == ["a", "b"]
    assert canonical({"b": 1, "a": (1, 2)})["a"] == [1, 2]
    # batchpy hashed values only; here the names are part of what is compared
    assert canonical_json(canonical({"a": 1, "b": 2})) != canonical_json(
        canonical({"a": 2, "b": 1})
    )


@pytest.mark.parametrize(
    "params",
    [{"a__b": 1}, {"1x": 1}, {"": 1}, {"x": float("nan")}, {"x": {"k": 1}}, {"x": object()}],
)
def test_canonical_rejects_bad_names_and_values(params):
    with pytest.raises(RunsError) as err:
        canonical(params)
    assert "\n" not in str(err.value)


def test_canonical_accepts_numpy_scalars():
    np = pytest.importorskip("numpy")
    assert canonical({"n": np.int64(3), "x": np.float32(0.5)}) == {"n": 3, "x": 0.5}


@pytest.mark.parametrize(
    "text, value",
    [
        ("1000", 1000),
        ("0.5", 0.5),
        ("true", True),
        ("null", None),
        ("[1,2]", [1, 2]),
        ("fast", "fast"),
        ('"7"', "7"),
        ("", ""),
        ("nan", "nan"),
        ('{"a":1}', '{"a":1}'),
    ],
)
def test_parse_value(text, value):
    assert parse_value(text) == value
    assert type(parse_value(text)) is type(value)


def test_parse_param():
    assert parse_param("n=1000") == ("n", 1000)
    assert parse_param("mode=fast") == ("mode", "fast")
    assert parse_param("expr=a=b") == ("expr", "a=b")
    for bad in ("n", "=3", "a__b=1", "1n=2"):
        with pytest.raises(RunsError):
            parse_param(bad)


@pytest.mark.parametrize(
    "text, parsed",
    [
        ("mode=fast", ("mode", "fast")),
        ("n__ge=1000", ("n__ge", 1000)),
        ("n>=1000", ("n__ge", 1000)),
        ("n<=5", ("n__le", 5)),
        ("n<5", ("n__lt", 5)),
        ("n>5", ("n__gt", 5)),
        ("n!=3", ("n__ne", 3)),
        ("n==3", ("n", 3)),
        ("mode__in=a,b", ("mode__in", ["a", "b"])),
        ("n__in=1,2", ("n__in", [1, 2])),
    ],
)
def test_parse_filter(text, parsed):
    assert parse_filter(text) == parsed


@pytest.mark.parametrize("text", ["mode", "n__zz=3", "n__ge>=3", ">=3", "3=n"])
def test_parse_filter_rejects(text):
    with pytest.raises(RunsError) as err:
        parse_filter(text)
    assert "\n" not in str(err.value)


def test_matches_every_suffix():
    p = {"n": 1000, "mode": "fast", "flag": True}
    assert matches(p, {"n": 1000, "mode": "fast"})
    assert not matches(p, {"n": 999})
    assert matches(p, {"n__ge": 1000}) and not matches(p, {"n__gt": 1000})
    assert matches(p, {"n__le": 1000}) and not matches(p, {"n__lt": 1000})
    assert matches(p, {"n__ne": 3}) and not matches(p, {"n__ne": 1000})
    assert matches(p, {"n__in": [1, 1000]}) and not matches(p, {"n__in": [1, 2]})
    assert matches(p, {"n": [2, 5, 1000]})  # batchpy: a list means any of them
    assert not matches(p, {"missing": 1}) and matches(p, {"missing__ne": 1})
    assert not matches(p, {"mode__ge": 3})  # not comparable: no match, no error
    assert not matches(p, {"flag": 1})  # a bool is not the number 1
    with pytest.raises(RunsError):
        matches(p, {"n__zz": 1})
