"""Unavailable components are inert; units follow the settings."""

from __future__ import annotations

import pytest
import timemory
from timemory import component, settings
from timemory.component import CudaEvent, PeakRss, VtuneEvent, WallClock

UNAVAILABLE = [n for n in component.get_types() if not getattr(component, n).available]


def test_there_are_unavailable_components():
    assert "VtuneEvent" in UNAVAILABLE and "CudaEvent" in UNAVAILABLE


@pytest.mark.parametrize("cls", [VtuneEvent, CudaEvent])
def test_available_is_false_on_class_getattr_and_instance(cls):
    assert cls.available is False
    assert getattr(cls, "available") is False  # noqa: B009  (users spell it so)
    assert cls().available is False
    assert cls.has_value is False and cls().has_value is False


@pytest.mark.parametrize("name", UNAVAILABLE)
def test_unavailable_methods_are_no_ops(name):
    cls = getattr(component, name)
    obj = cls("k")
    assert obj.start() is obj
    assert obj.stop() is obj
    assert obj.get() is None
    assert obj.get_raw() is None
    assert obj.laps() == 0
    assert obj.push() is obj and obj.pop() is obj
    assert obj.reset() is obj and obj.measure() is obj
    assert cls.unit() == 1
    assert cls.display_unit() == ""
    assert "not available" in cls.description()
    assert isinstance(str(obj), str) and isinstance(repr(obj), str)
    # nothing reached the storage
    assert timemory.size([cls.index()]) == {int(cls.index()): 0}
    assert timemory.get() == {"timemory": {}}


def test_unavailable_components_in_a_marker_are_skipped():
    from timemory.bundle import marker

    with marker(["wall_clock", "vtune_event", "cuda_event"], key="mixed"):
        pass
    data = timemory.get()["timemory"]
    assert list(data) == ["wall_clock"]


def test_default_units():
    assert WallClock.unit() == 1_000_000_000 and WallClock.display_unit() == "sec"
    assert PeakRss.unit() == 1_000_000 and PeakRss.display_unit() == "MB"


def test_units_follow_settings_and_restore(monkeypatch, fake_clock):
    w = WallClock()
    w.start()
    fake_clock.advance(0.05)
    w.stop()
    seconds = w.get()
    monkeypatch.setattr(settings, "timing_units", "msec")
    monkeypatch.setattr(settings, "memory_units", "kb")
    assert WallClock.unit() == 1_000_000
    assert WallClock.display_unit() == "msec"
    assert PeakRss.unit() == 1_000
    assert PeakRss.display_unit() == "kb"
    # the same measurement, now shown in milliseconds
    assert w.get() == pytest.approx(seconds * 1000)
    assert w.get() == 50.0
    assert "msec" in str(w)
    monkeypatch.undo()
    assert WallClock.unit() == 1_000_000_000 and WallClock.display_unit() == "sec"
    assert PeakRss.unit() == 1_000_000 and PeakRss.display_unit() == "MB"
    assert w.get() == pytest.approx(seconds)


def test_units_apply_to_stored_values(monkeypatch, fake_clock):
    from timemory.bundle import marker

    with marker(["wall_clock"], key="u"):
        fake_clock.advance(0.02)
    seconds = timemory.storage.WallClockStorage.get()[0].data().get()
    assert seconds == 0.02
    monkeypatch.setattr(settings, "timing_units", "usec")
    entry = timemory.storage.WallClockStorage.get()[0]
    assert entry.data().get() == pytest.approx(seconds * 1e6)
    assert entry.stats().sum() == pytest.approx(seconds * 1e6)
    assert "usec" in timemory.get_text()
