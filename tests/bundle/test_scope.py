"""Tree, flat and timeline scopes and max_depth."""

from __future__ import annotations

import pytest
from timemory import settings
from timemory.bundle import marker
from timemory.storage import WallClockStorage


def rows():
    return [(e.prefix(), e.depth(), e.data().laps()) for e in WallClockStorage.get()]


def nested(**kwargs):
    """outer > middle > inner, with the scope keywords applied to every marker."""
    with marker(["wall_clock"], key="outer", **kwargs):
        with marker(["wall_clock"], key="middle", **kwargs):
            with marker(["wall_clock"], key="inner", **kwargs):
                pass
        with marker(["wall_clock"], key="inner", **kwargs):
            pass


def test_tree_is_the_default():
    nested()
    nested()
    assert rows() == [
        (">>> outer", 0, 2),
        (">>> |_middle", 1, 2),
        (">>>   |_inner", 2, 2),
        (">>> |_inner", 1, 2),
    ]


def check_flat():
    # every entry at depth 0, merged by label whatever the call stack
    assert rows() == [(">>> outer", 0, 2), (">>> middle", 0, 2), (">>> inner", 0, 4)]


def check_timeline():
    # every entry is new: count 1 each time; nesting kept
    assert (
        rows()
        == [
            (">>> outer", 0, 1),
            (">>> |_middle", 1, 1),
            (">>>   |_inner", 2, 1),
            (">>> |_inner", 1, 1),
        ]
        * 2
    )


def test_flat_per_marker():
    nested(flat=True)
    nested(flat=True)
    check_flat()


def test_flat_via_settings(monkeypatch):
    monkeypatch.setattr(settings, "flat_profile", True)
    nested()
    nested()
    check_flat()


def test_timeline_per_marker():
    nested(timeline=True)
    nested(timeline=True)
    check_timeline()


def test_timeline_via_settings(monkeypatch):
    monkeypatch.setattr(settings, "timeline_profile", True)
    nested()
    nested()
    check_timeline()


def test_flat_and_timeline_together(monkeypatch):
    monkeypatch.setattr(settings, "flat_profile", True)
    monkeypatch.setattr(settings, "timeline_profile", True)
    nested()
    assert rows() == [
        (">>> outer", 0, 1),
        (">>> middle", 0, 1),
        (">>> inner", 0, 1),
        (">>> inner", 0, 1),
    ]


def test_per_marker_flag_overrides_settings(monkeypatch):
    monkeypatch.setattr(settings, "flat_profile", True)
    nested(flat=False)
    assert [d for _, d, _ in rows()] == [0, 1, 2, 1]


def test_a_flat_marker_inside_a_tree():
    with marker(["wall_clock"], key="a"):
        with marker(["wall_clock"], key="b"):
            with marker(["wall_clock"], key="c", flat=True):
                with marker(["wall_clock"], key="d"):
                    pass
    got = rows()
    assert got[:2] == [(">>> a", 0, 1), (">>> |_b", 1, 1)]
    assert (">>> c", 0, 1) in got


def test_decorator_scope_flags():
    @marker(["wall_clock"], key="f", mode="blank", flat=True)
    def flat_fn(n):
        if n:
            flat_fn(n - 1)

    flat_fn(3)
    assert rows() == [(">>> f", 0, 4)]


def test_settings_apply_to_markers_created_before_the_change(monkeypatch):
    m = marker(["wall_clock"], key="late")
    with marker(["wall_clock"], key="parent"):
        monkeypatch.setattr(settings, "flat_profile", True)
        with m:
            pass
    assert (">>> late", 0, 1) in rows()


@pytest.mark.parametrize(
    "max_depth, expected",
    [
        (1, [(">>> d1", 0)]),
        (2, [(">>> d1", 0), (">>> |_d2", 1)]),
        (3, [(">>> d1", 0), (">>> |_d2", 1), (">>>   |_d3", 2)]),
    ],
)
def test_max_depth_cuts_deeper_entries(monkeypatch, max_depth, expected):
    monkeypatch.setattr(settings, "max_depth", max_depth)

    def deep(n):
        with marker(["wall_clock"], key=f"d{n}"):
            if n < 5:
                deep(n + 1)

    deep(1)
    deep(1)
    assert [(p, d) for p, d, _ in rows()] == expected
    assert all(laps == 2 for _, _, laps in rows())
    # after the cut-off entries, the tree continues at the right place
    with marker(["wall_clock"], key="d1"):
        pass
    assert rows()[0] == (">>> d1", 0, 3)
