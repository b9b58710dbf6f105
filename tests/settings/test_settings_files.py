"""timemory.settings config files: text and JSON read, dump/read round trip, implicit reads."""

from __future__ import annotations

import json
import os

import pytest
from timemory import settings


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch):
    """No core, clean TIMEMORY_* environment, global settings restored after the test."""
    snapshot = settings()
    monkeypatch.setattr(settings, "_core_module", lambda: None)
    for name in list(os.environ):
        if name.startswith("TIMEMORY_"):
            monkeypatch.delenv(name)
    yield
    settings._GLOBAL._values = snapshot._values
    settings._GLOBAL._sources = snapshot._sources
    settings._GLOBAL._unverified = snapshot._unverified


def test_read_text_config(tmp_path, monkeypatch):
    monkeypatch.setenv("MY_PREFIX", "nightly")
    cfg = tmp_path / "timemory.cfg"
    cfg.write_text(
        "# a comment line\n"
        "$DIR = /scratch/run\n"
        "TIMEMORY_VERBOSE = 2\n"
        "max_depth 7   # trailing comment\n"
        "global_components = wall_clock, cpu_clock\n"
        "output_path = $DIR/out\n"
        "output_prefix\t$env:MY_PREFIX\n"
        "enabled=off;\n"
        'time_format "%H %M"\n'
        "\n"
    )
    assert settings.read(str(cfg)) is True
    assert (settings.verbose, settings.max_depth, settings.enabled) == (2, 7, False)
    assert settings.global_components == "wall_clock,cpu_clock"
    assert (settings.output_path, settings.output_prefix) == ("/scratch/run/out", "nightly")
    assert settings.time_format == "%H %M"
    assert settings.source("max_depth") == f"config file {cfg}"


def test_read_json_config_both_layouts(tmp_path):
    plain = tmp_path / "a.json"
    plain.write_text(json.dumps({"timemory": {"settings": {"verbose": 3, "flat_profile": True}}}))
    meta = tmp_path / "b.json"
    meta.write_text(
        json.dumps(
            {
                "timemory": {
                    "metadata": {
                        "settings": {
                            "cereal_class_version": 0,
                            "TIMEMORY_TIMING_UNITS": {"value": "msec", "environ": "x"},
                            "max_width": {"value": 90},
                        }
                    }
                }
            }
        )
    )
    copy = settings()
    settings.read(copy, plain)
    settings.read(copy, str(meta))
    assert (copy.verbose, copy.flat_profile) == (3, True)
    assert (copy.timing_units, copy.max_width) == ("msec", 90)
    assert settings.verbose == 0  # read into the copy only


def test_unknown_keys_and_bad_values_warn_naming_the_file(tmp_path):
    cfg = tmp_path / "bad.cfg"
    cfg.write_text("verbsoe 1\nmax_depth lots\nverbose 2\n")
    with pytest.warns(settings.TimemoryWarning) as record:
        settings.read(cfg)
    messages = [str(w.message) for w in record]
    assert any(str(cfg) in m and "'verbsoe'" in m and "verbose" in m for m in messages)
    assert any(str(cfg) in m and "'lots'" in m and "[0, 65535]" in m for m in messages)
    assert (settings.verbose, settings.max_depth) == (2, 65535)


def test_explicit_read_errors_are_clear(tmp_path):
    missing = tmp_path / "missing.cfg"
    with pytest.raises(FileNotFoundError, match="missing.cfg"):
        settings.read(missing)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ValueError, match="broken.json.*invalid JSON"):
        settings.read(broken)
    empty = tmp_path / "other.json"
    empty.write_text('{"something": 1}')
    with pytest.raises(ValueError, match="timemory.settings"):
        settings.read(empty)
    with pytest.raises(TypeError):
        settings.read(settings())


def test_dump_read_round_trip(tmp_path):
    source = settings()
    source.verbose, source.flat_profile, source.memory_units = 4, True, "KiB"
    source.command_line = ["python", "run.py"]
    source.global_components = "wall_clock,peak_rss"
    target = tmp_path / "dumped.json"
    written = settings.dump(str(target), instance=source)
    assert json.loads(target.read_text()) == {"timemory": {"settings": written}}
    assert os.listdir(tmp_path) == ["dumped.json"]  # atomic: no temp file left behind
    fresh = settings.Settings()
    settings.read(fresh, target)
    assert settings.dump(instance=fresh) == written
    assert fresh.memory_units == "kib" and fresh.source("verbose") == f"config file {target}"


def test_dump_bare_name_goes_to_output_path(tmp_path):
    settings.output_path = str(tmp_path / "out")
    settings.output_prefix = "p"
    values = settings.dump("settings")
    path = tmp_path / "out" / "p-settings.json"
    assert json.loads(path.read_text())["timemory"]["settings"]["output_prefix"] == "p"
    assert values["output_path"] == str(tmp_path / "out")
    assert settings.dump() == values  # no filename: just the dict


def test_read_config_files_is_implicit_and_lowest_priority(tmp_path, monkeypatch):
    cfg = tmp_path / "one.cfg"
    cfg.write_text("verbose 5\nmax_depth 11\ndebug on\n")
    monkeypatch.setenv("TIMEMORY_MAX_DEPTH", "12")
    settings.parse()
    settings.debug = False  # api beats the file
    settings.config_file = f"{cfg};{tmp_path}/absent.cfg"
    with pytest.warns(settings.TimemoryWarning, match="absent.cfg"):
        assert settings.read_config_files() == [str(cfg)]
    assert (settings.verbose, settings.max_depth, settings.debug) == (5, 12, False)
    assert [settings.source(n) for n in ("verbose", "max_depth", "debug")] == [
        f"config file {cfg}",
        "environment",
        "api",
    ]


def test_read_config_files_default_list_and_suppress(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".config").mkdir()
    (tmp_path / ".config" / "timemory.json").write_text(
        '{"timemory": {"settings": {"verbose": 6}}}'
    )
    settings.suppress_config = True
    assert settings.read_config_files() == []
    settings.suppress_config = False
    assert settings.read_config_files() == [str(tmp_path / ".config" / "timemory.json")]
    assert settings.verbose == 6


def test_unreadable_implicit_file_warns(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    settings.config_file = str(broken)
    with pytest.warns(settings.TimemoryWarning, match="broken.json"):
        assert settings.read_config_files() == []
