"""The tree view: get_tree(), inclusive and exclusive values."""

from __future__ import annotations

import os

import pytest
from timemory.bundle import marker
from timemory.storage import PeakRssStorage, TripCountStorage, WallClockStorage


def record(clock):
    """main (20 ms itself) > child x2 (10 ms each), other (5 ms) > grandchild (0), on the
    fake clock."""
    with marker(["wall_clock", "trip_count"], key="main"):
        clock.advance(0.02)
        for _ in range(2):
            with marker(["wall_clock", "trip_count"], key="child"):
                clock.advance(0.01)
        with marker(["wall_clock", "trip_count"], key="other"):
            clock.advance(0.005)
            with marker(["wall_clock", "trip_count"], key="grandchild"):
                pass


def walk(tree, depth=0):
    """(label, depth, inclusive laps) in pre-order, skipping the dummy root."""
    out = []
    value = tree.value()
    if not value.is_dummy():
        out.append((value.prefix(), value.depth(), value.inclusive().data().laps()))
    for child in tree.children():
        out.extend(walk(child))
    return out


def test_dummy_root_then_children(fake_clock):
    record(fake_clock)
    roots = WallClockStorage.get_tree()
    assert len(roots) == 1
    root = roots[0].value()
    assert root.is_dummy() is True
    assert root.depth() == -1
    assert root.hash() == 0
    assert root.pid() == {os.getpid()}
    assert isinstance(root.tid(), set) and len(root.tid()) == 1
    assert [c.value().prefix() for c in roots[0].children()] == ["main"]
    assert walk(roots[0]) == [
        ("main", 0, 1),
        ("child", 1, 2),
        ("other", 1, 1),
        ("grandchild", 2, 1),
    ]


def test_tree_nodes_match_the_flat_view(fake_clock):
    record(fake_clock)
    flat = WallClockStorage.get()
    nodes = []

    def collect(tree):
        v = tree.value()
        if not v.is_dummy():
            nodes.append(v)
        for c in tree.children():
            collect(c)

    collect(WallClockStorage.get_tree()[0])
    assert [n.hash() for n in nodes] == [e.hash() for e in flat]
    assert [n.depth() for n in nodes] == [e.depth() for e in flat]
    assert [n.inclusive().data().get_raw() for n in nodes] == [e.data().get_raw() for e in flat]
    for n in nodes:
        assert n.is_dummy() is False
        assert n.pid() == {os.getpid()}
        assert ">>>" not in n.prefix()


def test_exclusive_is_inclusive_minus_children(fake_clock):
    record(fake_clock)
    main = WallClockStorage.get_tree()[0].children()[0]
    child, other = main.children()
    grandchild = other.children()[0]

    def inc(t):
        return t.value().inclusive().data().get_raw()

    def exc(t):
        return t.value().exclusive().data().get_raw()

    assert exc(main) == inc(main) - inc(child) - inc(other)
    assert exc(other) == inc(other) - inc(grandchild)
    assert exc(child) == inc(child)  # a leaf
    assert exc(grandchild) == inc(grandchild)
    # main took 20 ms itself, 25 ms in its children
    assert main.value().exclusive().data().get() == 0.02
    assert main.value().inclusive().data().get() == 0.045
    assert [(inc(t), exc(t)) for t in (main, child, other, grandchild)] == [
        (45e6, 20e6),
        (20e6, 20e6),
        (5e6, 5e6),
        (0.0, 0.0),
    ]


def test_exclusive_statistics(fake_clock):
    record(fake_clock)
    main = WallClockStorage.get_tree()[0].children()[0]
    children = main.children()
    inc = main.value().inclusive().stats()
    exc = main.value().exclusive().stats()
    # sum (and sum of squares) subtract; count, min and max are kept
    assert exc.sum() == pytest.approx(
        inc.sum() - sum(c.value().inclusive().stats().sum() for c in children)
    )
    assert exc.sqr() == pytest.approx(
        inc.sqr() - sum(c.value().inclusive().stats().sqr() for c in children)
    )
    # 45 ms - (10 + 10 + 5) ms; 0.045^2 - (0.01^2 + 0.01^2 + 0.005^2)
    assert exc.sum() == pytest.approx(0.02, abs=1e-15)
    assert exc.sqr() == pytest.approx(0.045**2 - 0.000225, abs=1e-15)
    assert exc.count() == inc.count() == 1
    assert (exc.min(), exc.max()) == (inc.min(), inc.max())


def test_exclusive_counts_with_trip_count(fake_clock):
    record(fake_clock)
    main = TripCountStorage.get_tree()[0].children()[0]
    assert main.value().inclusive().data().get() == 1
    assert [c.value().inclusive().data().get() for c in main.children()] == [2, 1]
    # 1 - (2 + 1)
    assert main.value().exclusive().data().get() == -2


def test_tree_is_per_component():
    with marker(["wall_clock"], key="only-wall"):
        with marker(["wall_clock", "peak_rss"], key="both"):
            pass
    assert walk(WallClockStorage.get_tree()[0]) == [("only-wall", 0, 1), ("both", 1, 1)]
    assert walk(PeakRssStorage.get_tree()[0]) == [("both", 0, 1)]


def test_empty_storage_has_no_tree():
    assert WallClockStorage.get_tree() == []
    assert WallClockStorage.get() == []
