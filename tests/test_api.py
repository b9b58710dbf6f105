"""Top-level API of the timemory package."""

from __future__ import annotations

import argparse
import inspect
import re

import pytest
import timemory
from timemory import settings
from timemory.bundle import marker

TOP_LEVEL = [
    "initialize",
    "init",
    "timemory_init",
    "finalize",
    "timemory_finalize",
    "report",
    "toggle",
    "enable",
    "disable",
    "is_enabled",
    "enabled",
    "get",
    "get_text",
    "clear",
    "size",
    "get_hash",
    "add_hash_id",
    "get_hash_identifier",
    "add_arguments",
    "timemory_argparse",
    "has_mpi_support",
    "set_rusage_children",
    "set_rusage_self",
    "manager",
    "settings",
    "component_bundle",
    "component_tuple",
    "component_decorator",
    "timer",
    "timer_decorator",
    "rss_usage",
    "scope_destructor",
    "component",
    "storage",
    "units",
    "scope",
    "bundle",
    "util",
    "version",
    "version_info",
    "build_info",
    "FILE",
    "FUNC",
    "LINE",
    "FRAME",
]


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_top_level_name_exists(name):
    assert hasattr(timemory, name)
    assert name in timemory.__all__


def test_all_names_resolve():
    for name in timemory.__all__:
        assert hasattr(timemory, name), name


def test_aliases_are_the_same_functions():
    assert timemory.init is timemory.initialize is timemory.timemory_init
    assert timemory.timemory_finalize is timemory.finalize
    assert timemory.add_hash_id is timemory.get_hash
    assert timemory.timemory_argparse is timemory.add_arguments
    assert timemory.enabled is timemory.is_enabled


def test_signatures_and_defaults():
    sig = inspect.signature(timemory.initialize)
    assert [p.default for p in sig.parameters.values()][1:] == ["timemory-", "-output"]
    assert list(inspect.signature(timemory.get).parameters) == ["hierarchy", "components"]
    assert inspect.signature(timemory.get).parameters["hierarchy"].default is False
    assert inspect.signature(timemory.report).parameters["filename"].default == ""


def test_version_information():
    assert isinstance(timemory.version, str)
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", timemory.version)
    assert isinstance(timemory.version_info, tuple) and len(timemory.version_info) == 3
    assert all(isinstance(x, int) for x in timemory.version_info)
    assert timemory.version.startswith(".".join(map(str, timemory.version_info)))
    assert set(timemory.build_info) == {
        "date",
        "library_architecture",
        "system_name",
        "system_version",
        "build_type",
        "compiler",
        "compiler_id",
        "compiler_version",
    }
    assert all(isinstance(v, str) and v for v in timemory.build_info.values())


def test_toggle_enable_disable(monkeypatch):
    monkeypatch.setattr(settings, "enabled", True)
    timemory.disable()
    assert timemory.is_enabled() is False and settings.enabled is False
    timemory.enable()
    assert timemory.is_enabled() is True and settings.enabled is True
    timemory.toggle(False)
    assert settings.enabled is False
    timemory.toggle()
    assert settings.enabled is True


def test_metadata_round_trip():
    timemory.manager.add_metadata("API_TEST_STR", "bar")
    timemory.manager.add_metadata("API_TEST_INT", 42)
    timemory.manager.add_metadata("API_TEST_FLOAT", 2.5)
    timemory.manager.add_metadata("API_TEST_LIST", [1, 2.5, "three"])
    info = timemory.manager.get_metadata()["info"]
    assert info["API_TEST_STR"] == "bar"
    assert info["API_TEST_INT"] == 42
    assert info["API_TEST_FLOAT"] == 2.5
    assert info["API_TEST_LIST"] == [1, 2.5, "three"]
    assert isinstance(info["API_TEST_LIST"], list)
    assert timemory.add_metadata is timemory.manager.add_metadata
    assert timemory.get_metadata()["info"]["API_TEST_STR"] == "bar"


@pytest.mark.parametrize("value", [{"a": 1}, object(), [1, {"x": 2}], None])
def test_metadata_rejects_other_values(value):
    with pytest.raises(RuntimeError):
        timemory.manager.add_metadata("API_TEST_BAD", value)
    assert "API_TEST_BAD" not in timemory.manager.get_metadata()["info"]


def test_metadata_is_stable_between_calls():
    first = timemory.manager.get_metadata()
    second = timemory.manager.get_metadata()
    assert first == second and first is not second
    assert {"info", "settings", "output", "environment"} <= set(first)
    assert first["settings"]["output_path"] == settings.output_path
    for key in ("LAUNCH_DATE", "LAUNCH_TIME", "TIMEMORY_VERSION", "CPU_MODEL", "HW_CONCURRENCY"):
        assert key in first["info"], key
    first["info"]["MUTATED"] = 1
    assert "MUTATED" not in timemory.manager.get_metadata()["info"]


def test_manager_write_ctest_notes(tmp_path):
    path = timemory.manager.write_ctest_notes(str(tmp_path))
    assert path == str(tmp_path / "CTestNotes.cmake")
    assert (tmp_path / "CTestNotes.cmake").exists()


def test_add_arguments_without_subparser(monkeypatch):
    monkeypatch.setattr(settings, "flat_profile", settings.flat_profile)
    parser = argparse.ArgumentParser(prog="prog")
    assert timemory.add_arguments(parser, subparser=False) is parser
    parser.parse_args(["--timemory-flat-profile", "ON"])
    assert settings.flat_profile is True


def test_add_arguments_subparser(monkeypatch):
    monkeypatch.setattr(settings, "max_depth", settings.max_depth)
    parser = argparse.ArgumentParser(prog="prog")
    timemory.add_arguments(parser)
    parser.parse_args(["timemory-config", "--max-depth", "7"])
    assert settings.max_depth == 7


def test_has_mpi_support_is_a_bool():
    assert isinstance(timemory.has_mpi_support(), bool)


def test_rusage_target_switch(run_python):
    import resource

    from timemory.component import UserModeTime

    # a child that burns CPU, so that the children's user time is clearly non-zero
    assert (
        run_python(
            "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"
        ).returncode
        == 0
    )

    def expected(who):
        return resource.getrusage(who).ru_utime * 1e9

    timemory.set_rusage_children()
    try:
        children = UserModeTime.record()
        assert children == pytest.approx(expected(resource.RUSAGE_CHILDREN), abs=2e7)
    finally:
        timemory.set_rusage_self()
    mine = UserModeTime.record()
    assert mine == pytest.approx(expected(resource.RUSAGE_SELF), abs=5e7)
    assert children >= 2e8  # the child's 0.3 s, give or take scheduling


def test_common_frame_helpers():
    def probe():
        # FILE nests one level deeper than FUNC/LINE: FILE(2) is FUNC(1)'s frame
        return timemory.FUNC(1), timemory.LINE(1), timemory.FILE(2), timemory.FRAME(1)

    func, line, file, frame = probe()
    assert func == "probe"
    assert line == probe.__code__.co_firstlineno + 2
    assert file == "test_api.py"
    assert frame.f_code is probe.__code__

    def outer():
        return inner()

    def inner():
        # the defaults describe the caller of the function that calls them
        return timemory.FUNC(), timemory.FILE(), timemory.common.FILE(3, only_basename=False)

    assert outer()[:2] == ("outer", "test_api.py")
    assert outer()[2] == __file__


def test_util_is_an_alias_of_bundle():
    import timemory.util

    for name in (
        "marker",
        "auto_timer",
        "timer",
        "rss_usage",
        "auto_tuple",
        "base_decorator",
        "context",
    ):
        assert getattr(timemory.util, name) is getattr(timemory.bundle, name), name
    assert timemory.util.util.marker is marker
    assert [m.name for m in timemory.util.context] == ["blank", "basic", "full", "defer"]
    assert [int(m) for m in timemory.util.context] == [0, 1, 2, 3]


def test_units_constants():
    u = timemory.units
    assert (u.nsec, u.usec, u.msec, u.sec) == (1, 1000, 10**6, 10**9)
    assert (u.byte, u.kilobyte, u.megabyte, u.gigabyte) == (1, 1000, 10**6, 10**9)
    assert all(
        isinstance(getattr(u, n), int)
        for n in ("nsec", "usec", "msec", "sec", "byte", "kilobyte", "megabyte")
    )


def test_scope_constants():
    s = timemory.scope
    assert {repr(s.TREE), repr(s.FLAT), repr(s.TIMELINE)} == {"TREE", "FLAT", "TIMELINE"}


def test_size_of_every_type_present():
    sizes = timemory.size()
    assert sizes and all(isinstance(k, int) and v == 0 for k, v in sizes.items())
    with marker(["wall_clock"], key="k"):
        pass
    assert timemory.size()[int(timemory.component.WallClock.index())] == 1


def test_suite_fails_a_test_that_leaves_a_hook_installed(tmp_path, python_runner):
    """The autouse guard of tests/conftest.py (house style), checked on a throw-away suite."""
    import pathlib
    import shutil

    for name in ("conftest.py", "tool_helpers.py", "fakeclock.py"):  # the conftest imports them
        shutil.copy(pathlib.Path(__file__).with_name(name), tmp_path / name)
    (tmp_path / "test_leaky.py").write_text(
        "import sys\n\n"
        "def test_leaves_profile():\n    sys.setprofile(lambda *a: None)\n\n"
        "def test_clean():\n    pass\n"
    )
    proc = python_runner(
        "import sys, pytest\nsys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', '.']))\n",
        tmp_path,
        name="run_suite.py",
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "left a profile/trace hook installed" in proc.stdout
    # reported at teardown, so as an error of that test; the clean test still passes
    assert "ERROR test_leaky.py::test_leaves_profile" in proc.stdout
    assert "2 passed, 1 error" in proc.stdout
