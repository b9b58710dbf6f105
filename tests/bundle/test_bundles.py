"""auto_timer / timer / rss_usage decorators and the bundle classes."""

from __future__ import annotations

import gc
import mmap
import re

import pytest
import timemory
from timemory import component
from timemory.bundle import auto_timer, rss_usage, timer
from timemory.storage import CpuClockStorage, PeakRssStorage, WallClockStorage


def touch_new_memory(nbytes):
    block = mmap.mmap(-1, nbytes)
    for i in range(0, nbytes, mmap.PAGESIZE):
        block[i] = 1
    return block


def recorded_components():
    return sorted(timemory.get()["timemory"])


# ------------------------------------------------------------------ auto_timer


def test_auto_timer_context_manager_records(capsys, fake_clock):
    with auto_timer("auto-block"):
        fake_clock.advance(0.02)
    assert recorded_components() == ["cpu_clock", "cpu_util", "peak_rss", "wall_clock"]
    entry = WallClockStorage.get()[0]
    assert entry.prefix() == ">>> auto-block"
    assert entry.data().get() == 0.02
    assert [e.prefix() for e in CpuClockStorage.get()] == [">>> auto-block"]
    # nothing printed unless report_at_exit
    assert capsys.readouterr().err == ""


def test_auto_timer_decorator_records_each_call():
    @auto_timer()
    def auto_timed():
        pass

    auto_timed()
    auto_timed()
    entries = WallClockStorage.get()
    assert len(entries) == 1 and entries[0].data().laps() == 2
    assert entries[0].prefix().endswith("auto_timed")


def test_auto_timer_report_at_exit_prints(capsys, fake_clock):
    with auto_timer("reported", report_at_exit=True):
        fake_clock.advance(0.01)
    out = capsys.readouterr().err
    assert "reported" in out
    assert re.search(r"\d+\.\d+ sec wall", out)
    assert [e.prefix() for e in WallClockStorage.get()] == [">>> reported"]


# ------------------------------------------------------------------ timer decorator


def test_timer_prints_and_does_not_record(capsys, fake_clock):
    with timer("printed-timer"):
        fake_clock.advance(0.02)
    out = capsys.readouterr().err
    assert "printed-timer" in out
    match = re.search(r"(\d+\.\d+) sec wall", out)
    assert match and float(match.group(1)) == 0.02
    assert "cpu" in out and "peak_rss" in out
    assert timemory.get() == {"timemory": {}}


def test_timer_decorator_prints_per_call(capsys):
    @timer()
    def timed():
        return 1

    assert timed() == 1 and timed() == 1
    out = capsys.readouterr().err
    assert out.count("sec wall") == 2
    assert "timed" in out


# ------------------------------------------------------------------ rss_usage decorator


def test_rss_usage_prints_memory_change(capsys):
    with rss_usage("rss-block"):
        block = touch_new_memory(30 * 1024 * 1024)
    block.close()
    out = capsys.readouterr().err
    assert "rss-block" in out
    match = re.search(r"(-?\d+\.\d+) MB page_rss", out)
    assert match and 25.0 <= float(match.group(1)) <= 200.0
    assert "minor_page_flts" in out and "vol_cxt_swch" in out
    assert timemory.get() == {"timemory": {}}


# ------------------------------------------------------------------ component_tuple


def test_component_tuple_push_pop_records_into_storage(fake_clock):
    ct = timemory.component_tuple(["wall_clock", "peak_rss"], "tuple-key")
    assert ct.push() is ct
    ct.start()
    fake_clock.advance(0.02)
    ct.stop()
    assert ct.pop() is ct
    values = ct.get()
    assert set(values) == {"wall", "peak_rss"}
    assert values["wall"] == 0.02
    raw = ct.get_raw()
    assert isinstance(raw, tuple) and len(raw) == 2
    assert "tuple-key" in str(ct) and "wall" in str(ct)
    assert [e.prefix() for e in WallClockStorage.get()] == [">>> tuple-key"]
    assert [e.prefix() for e in PeakRssStorage.get()] == [">>> tuple-key"]
    assert WallClockStorage.get()[0].data().get_raw() == raw[0]


def test_component_tuple_without_push_does_not_record():
    ct = timemory.component_tuple(["wall_clock"], "unpushed")
    ct.start()
    ct.stop()
    assert ct.get()["wall"] >= 0.0
    assert timemory.get() == {"timemory": {}}


def test_component_tuple_arguments_may_be_swapped():
    ct = timemory.component_tuple("swapped", ["wall_clock"])
    ct.push().start().stop().pop()
    assert [e.prefix() for e in WallClockStorage.get()] == [">>> swapped"]


def test_component_tuple_reset_and_report(capsys, fake_clock):
    ct = timemory.component_tuple([component.WallClock], "r")
    ct.start()
    fake_clock.advance(0.005)
    ct.stop()
    ct.report()
    assert "wall" in capsys.readouterr().err
    ct.reset()
    assert ct.get() == {"wall": 0.0}


def test_component_tuple_unknown_component():
    with pytest.raises(ValueError, match="wall_clock"):
        timemory.component_tuple(["no_such_component"], "k")


# ------------------------------------------------------------------ component_bundle


@pytest.fixture
def reset_bundle():
    yield timemory.component_bundle
    timemory.component_bundle.reset()


def test_component_bundle_default_is_wall_clock(reset_bundle, fake_clock):
    b = timemory.component_bundle("func", "file.py", 12)
    b.start()
    fake_clock.advance(0.01)
    b.stop()
    assert recorded_components() == ["wall_clock"]
    assert [e.prefix() for e in WallClockStorage.get()] == [">>> func@file.py:12"]


def test_component_bundle_configure_and_extra(reset_bundle):
    timemory.component_bundle.configure(["wall_clock", "cpu_clock"])
    b = timemory.component_bundle("func", "file.py", 12, ["extra", "more"])
    b.start()
    b.stop()
    assert recorded_components() == ["cpu_clock", "wall_clock"]
    assert [e.prefix() for e in CpuClockStorage.get()] == [">>> func@file.py:12/extra/more"]
    timemory.component_bundle.reset()
    timemory.clear()
    timemory.component_bundle("g", "f.py", 1).start().stop()
    assert recorded_components() == ["wall_clock"]


def test_component_bundle_configure_flat(reset_bundle):
    timemory.component_bundle.configure(["wall_clock"], flat_profile=True)
    outer = timemory.component_bundle("outer", "f.py", 1).start()
    timemory.component_bundle("inner", "f.py", 2).start().stop()
    outer.stop()
    assert [(e.prefix(), e.depth()) for e in WallClockStorage.get()] == [
        (">>> outer@f.py:1", 0),
        (">>> inner@f.py:2", 0),
    ]


def test_component_bundle_configure_unknown(reset_bundle):
    with pytest.raises(ValueError, match="wall_clock"):
        timemory.component_bundle.configure(["no_such_component"])


def test_component_bundle_stops_when_destroyed(reset_bundle):
    b = timemory.component_bundle("dropped", "f.py", 3)
    b.start()
    del b
    gc.collect()
    entries = WallClockStorage.get()
    assert [(e.prefix(), e.data().laps()) for e in entries] == [(">>> dropped@f.py:3", 1)]


# ------------------------------------------------------------------ RAII bundles


def test_component_decorator_records_until_destroyed(fake_clock):
    d = timemory.component_decorator([component.id.wall_clock], "raii")
    fake_clock.advance(0.01)
    del d
    gc.collect()
    entry = WallClockStorage.get()[0]
    assert entry.prefix() == ">>> raii" and entry.data().laps() == 1
    assert entry.data().get() == 0.01


def test_timer_decorator_class(capsys, fake_clock):
    t = timemory.timer_decorator("td", True)
    fake_clock.advance(0.01)
    del t
    gc.collect()
    assert recorded_components() == ["cpu_clock", "cpu_util", "peak_rss", "wall_clock"]
    assert "td" in capsys.readouterr().err


def test_timer_class(fake_clock):
    t = timemory.timer("my-timer")
    t.start()
    fake_clock.advance(0.02)
    t.stop()
    assert t.real_elapsed() == 0.02
    assert t.user_elapsed() >= 0.0 and t.sys_elapsed() >= 0.0
    assert "wall" in t.get()
    assert "my-timer" in str(t) and "sec" in str(t)
    assert timemory.get() == {"timemory": {}}


def test_rss_usage_class_snapshots_subtract():
    before = timemory.rss_usage("r", record=True)
    block = touch_new_memory(30 * 1024 * 1024)
    after = timemory.rss_usage("r", record=True)
    diff = after - before
    assert 25.0 <= diff.current() <= 200.0
    assert after.current() > before.current()
    assert diff.get()["page_rss"] == pytest.approx(after.current() - before.current())
    assert (before + diff).current() == pytest.approx(after.current())
    block.close()


def test_scope_destructor_calls_on_destruction():
    called = []
    s = timemory.scope_destructor(lambda: called.append(1))
    assert called == []
    del s
    gc.collect()
    assert called == [1]
