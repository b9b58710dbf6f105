"""timemory.settings: typed properties, validation, environment, units, copies, core mirroring."""

from __future__ import annotations

import os
import time

import pytest
from timemory import settings


class FakeCore:
    """Stands in for timemory._core: records config_set calls, knows a few components."""

    names = ["wall_clock", "cpu_clock", "peak_rss", "cpu_util", "user_clock"]

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def config_set(self, name: str, value: object) -> None:
        self.calls.append((name, value))

    def find_component(self, name: str) -> int:
        key = name.strip().lower()
        return self.names.index(key) if key in self.names else -1

    def component_names(self) -> list[str]:
        return list(self.names)

    # hardware counters: papi_events is pushed with hw_configure
    def hw_configure(self, names: list[str], multiplexing: bool) -> None:
        self.calls.append(("hw_configure", (list(names), multiplexing)))

    def hw_configured(self) -> list[tuple[str, bool, str]]:
        return []

    def hw_canonical_name(self, name: str) -> str:
        return name

    def hw_component_indices(self) -> list[int]:
        return []


@pytest.fixture(autouse=True)
def core(monkeypatch: pytest.MonkeyPatch):
    """Isolate each test: fake core, clean TIMEMORY_* environment, global settings restored."""
    fake = FakeCore()
    snapshot = settings()
    monkeypatch.setattr(settings, "_core_module", lambda: fake)
    monkeypatch.setattr(settings, "_warned_env", set())
    for name in list(os.environ):
        if name.startswith("TIMEMORY_"):
            monkeypatch.delenv(name)
    yield fake
    settings._GLOBAL._values = snapshot._values
    settings._GLOBAL._sources = snapshot._sources
    settings._GLOBAL._unverified = snapshot._unverified


# every setting of the original timemory with its default
EXPECTED_DEFAULTS = {
    "verbose": 0,
    "debug": False,
    "banner": False,
    "enabled": True,
    "auto_output": True,
    "cout_output": True,
    "file_output": True,
    "text_output": True,
    "json_output": True,
    "tree_output": True,
    "flamegraph_output": True,
    "dart_output": False,
    "dart_type": "",
    "dart_count": 1,
    "dart_label": True,
    "plot_output": False,
    "diff_output": False,
    "time_output": False,
    "time_format": "%F_%I.%M_%p",
    "ctest_notes": False,
    "output_path": "timemory-output",
    "output_prefix": "",
    "input_path": "",
    "input_prefix": "",
    "input_extensions": "json,xml",
    "flat_profile": False,
    "timeline_profile": False,
    "max_depth": 65535,
    "collapse_threads": True,
    "collapse_processes": True,
    "precision": -1,
    "width": -1,
    "max_width": 120,
    "scientific": False,
    "timing_precision": -1,
    "timing_width": -1,
    "timing_units": "",
    "timing_scientific": False,
    "memory_precision": -1,
    "memory_width": -1,
    "memory_units": "",
    "memory_scientific": False,
    "separator_frequency": 0,
    "throttle_count": 10000,
    "throttle_value": 10000,
    "global_components": "",
    "components": "",
    "trace_components": "",
    "profiler_components": "",
    "ompt_components": "",
    "mpip_components": "",
    "ncclp_components": "",
    "kokkos_components": "",
    "mpi_init": False,
    "mpi_finalize": False,
    "mpi_thread": True,
    "mpi_thread_type": "",
    "upcxx_init": False,
    "upcxx_finalize": False,
    "node_count": 0,
    "cpu_affinity": False,
    "target_pid": os.getpid(),
    "max_thread_bookmarks": 50,
    "stack_clearing": True,
    "add_secondary": True,
    "destructor_report": False,
    "enable_signal_handler": False,
    "allow_signal_handler": True,
    "enable_all_signals": False,
    "disable_all_signals": False,
    "config_file": (
        "~/.timemory.cfg;~/.timemory.json;~/.config/timemory.cfg;~/.config/timemory.json"
    ),
    "suppress_config": False,
    "suppress_parsing": False,
    "python_exe": "python",
    "command_line": [],
    "papi_threading": True,
    "papi_multiplexing": False,
    "papi_fail_on_error": False,
    "papi_quiet": False,
    "papi_attach": False,
    "papi_events": "",
    "papi_overflow": 0,
    "cuda_event_batch_size": 5,
    "nvtx_marker_device_sync": True,
    "cupti_activity_level": 1,
    "cupti_activity_kinds": "",
    "cupti_events": "",
    "cupti_metrics": "",
    "cupti_device": 0,
    "roofline_mode": "op",
    "cpu_roofline_mode": "op",
    "gpu_roofline_mode": "op",
    "cpu_roofline_events": "",
    "gpu_roofline_events": "",
    "roofline_type_labels": False,
    "roofline_type_labels_cpu": False,
    "roofline_type_labels_gpu": False,
    "instruction_roofline": False,
    "ert_num_threads": 0,
    "ert_num_threads_cpu": os.cpu_count(),
    "ert_num_threads_gpu": 1,
    "ert_num_streams": 1,
    "ert_grid_size": 0,
    "ert_block_size": 1024,
    "ert_alignment": 0,
    "ert_min_working_size": 0,
    "ert_min_working_size_cpu": 64,
    "ert_min_working_size_gpu": 10_000_000,
    "ert_max_data_size": 0,
    "ert_max_data_size_cpu": 0,
    "ert_max_data_size_gpu": 500_000_000,
    "ert_skip_ops": "",
}


def test_every_setting_has_its_type_and_default():
    defaults = {r.name: r.default for r in settings.describe()}
    for name, expected in EXPECTED_DEFAULTS.items():
        assert defaults[name] == expected, name
        assert type(defaults[name]) is type(expected), name
        assert type(getattr(settings, name)) is type(expected), name
    assert {"environment", "craypat_categories", "network_interface"} <= set(defaults)
    assert any(n.startswith("cupti_pcsampling_") for n in defaults)
    assert isinstance(settings.environment, list)
    assert "tuple_components" not in defaults and "list_components" not in defaults


def test_describe_records_are_complete():
    record = next(r for r in settings.describe() if r.name == "separator_frequency")
    assert (record.env, record.type) == ("TIMEMORY_SEPARATOR_FREQ", "int64")
    assert (record.value, record.source) == (0, "default")
    assert record.description
    envs = {r.name: r.env for r in settings.describe()}
    assert envs["cpu_roofline_mode"] == "TIMEMORY_ROOFLINE_MODE_CPU"
    assert envs["craypat_categories"] == "TIMEMORY_CRAYPAT"


def test_api_assignment_converts_and_records_the_source():
    settings.verbose = 2
    settings.flat_profile = "ON"
    settings.max_width = 80.0
    settings.ert_min_working_size_gpu = "20e6"
    assert (settings.verbose, settings.flat_profile, settings.max_width) == (2, True, 80)
    assert settings.ert_min_working_size_gpu == 20_000_000
    assert settings.source("verbose") == "api"
    assert settings.source("debug") == "default"


def test_bools_are_accepted_for_ints():
    settings.dart_count = True
    assert settings.dart_count == 1 and type(settings.dart_count) is int
    settings.verbose = False
    assert settings.verbose == 0


@pytest.mark.parametrize(
    "text, expected",
    [
        ("on", True),
        ("TRUE", True),
        ("Yes", True),
        ("y", True),
        ("t", True),
        ("2", True),
        ("-1", True),
        ("off", False),
        ("False", False),
        ("NO", False),
        ("n", False),
        ("f", False),
        ("0", False),
    ],
)
def test_bool_strings(text, expected):
    settings.debug = text
    assert settings.debug is expected


@pytest.mark.parametrize(
    "name, value, exc, words",
    [
        ("max_depth", 65536, ValueError, ["max_depth", "65536", "[0, 65535]"]),
        ("max_depth", -1, ValueError, ["max_depth", "[0, 65535]"]),
        ("verbose", "abc", ValueError, ["verbose", "'abc'", "integer"]),
        ("precision", 1.5, ValueError, ["precision", "not an integer"]),
        ("enabled", "maybe", ValueError, ["enabled", "'maybe'", "on/true/yes/y/t"]),
        ("enabled", None, TypeError, ["enabled", "NoneType"]),
        ("output_path", 5, TypeError, ["output_path", "str"]),
        ("timing_units", "parsec", ValueError, ["timing_units", "parsec", "nsec", "hr"]),
        ("memory_units", "furlong", ValueError, ["memory_units", "kib", "pb"]),
        ("roofline_mode", "fast", ValueError, ["roofline_mode", "'op'", "'ai'"]),
        ("command_line", 3, TypeError, ["command_line", "list"]),
    ],
)
def test_bad_api_values_raise_naming_setting_and_accepted_values(name, value, exc, words):
    before = getattr(settings, name)
    with pytest.raises(exc) as info:
        setattr(settings, name, value)
    for word in words:
        assert word in str(info.value)
    assert getattr(settings, name) == before


def test_unknown_setting_name_is_an_error_with_a_suggestion():
    with pytest.raises(AttributeError, match="verbose"):
        settings.verbsoe = 1
    with pytest.raises(AttributeError):
        settings().verbsoe = 1


@pytest.mark.parametrize(
    "given, display, divisor",
    [
        ("", "sec", 1e9),
        ("ns", "nsec", 1.0),
        ("Microseconds", "usec", 1e3),
        ("MS", "msec", 1e6),
        ("cs", "csec", 1e7),
        ("dsec", "dsec", 1e8),
        ("second", "sec", 1e9),
        ("minutes", "min", 60e9),
        ("hour", "hr", 3600e9),
    ],
)
def test_timing_units(given, display, divisor):
    settings.timing_units = given
    assert settings.timing_units == ("" if not given else display)
    assert settings.unit_info("timing") == (divisor, display)


@pytest.mark.parametrize(
    "given, display, divisor",
    [
        ("", "MB", 1e6),
        ("B", "byte", 1.0),
        ("bytes", "byte", 1.0),
        ("kilobyte", "kb", 1e3),
        ("MB", "mb", 1e6),
        ("gb", "gb", 1e9),
        ("TB", "tb", 1e12),
        ("petabyte", "pb", 1e15),
        ("KiB", "kib", 1024.0),
        ("mebibyte", "mib", 1024.0**2),
        ("GIB", "gib", 1024.0**3),
        ("tib", "tib", 1024.0**4),
        ("pib", "pib", 1024.0**5),
    ],
)
def test_memory_units(given, display, divisor):
    settings.memory_units = given
    assert settings.unit_info("memory") == (divisor, display)


def test_unit_info_rejects_unknown_kind():
    with pytest.raises(ValueError, match="timing"):
        settings.unit_info("distance")


def test_copies_are_independent():
    copy = settings()
    copy.verbose = 7
    assert settings.verbose == 0 and copy.source("verbose") == "api"
    settings.verbose = 3
    assert copy.verbose == 7
    assert settings.unit_info("timing", copy) == (1e9, "sec")
    before = copy.command_line
    copy.command_line.append("mutating the returned list changes nothing")
    assert copy.command_line == before


def test_parse_reads_present_variables_only(monkeypatch):
    monkeypatch.setenv("TIMEMORY_FLAT_PROFILE", "ON")
    monkeypatch.setenv("TIMEMORY_TIMELINE_PROFILE", "1")
    monkeypatch.setenv("TIMEMORY_SEPARATOR_FREQ", "5")
    settings.verbose = 4
    settings.parse()
    assert settings.flat_profile and settings.timeline_profile and settings.separator_frequency == 5
    assert settings.source("flat_profile") == "environment"
    assert (settings.verbose, settings.source("verbose")) == (4, "api")


def test_parse_into_a_copy_leaves_the_global_alone(monkeypatch):
    monkeypatch.setenv("TIMEMORY_MAX_DEPTH", "9")
    copy = settings()
    settings.parse(copy)
    assert (copy.max_depth, settings.max_depth) == (9, 65535)


def test_parse_honours_suppress_parsing(monkeypatch):
    monkeypatch.setenv("TIMEMORY_SUPPRESS_PARSING", "yes")
    monkeypatch.setenv("TIMEMORY_VERBOSE", "3")
    settings.parse()
    assert settings.suppress_parsing and settings.verbose == 0
    monkeypatch.setenv("TIMEMORY_SUPPRESS_PARSING", "no")
    settings.parse()  # already suppressed: nothing changes
    assert settings.verbose == 0


def test_parse_warns_once_per_bad_variable_and_keeps_the_value(monkeypatch):
    monkeypatch.setenv("TIMEMORY_MAX_DEPTH", "abc")
    monkeypatch.setenv("TIMEMORY_ENABLED", "maybe")
    with pytest.warns(settings.TimemoryWarning) as record:
        settings.parse()
        settings.parse()
    messages = [str(w.message) for w in record]
    assert len(messages) == 2
    assert any("TIMEMORY_MAX_DEPTH" in m and "'abc'" in m and "[0, 65535]" in m for m in messages)
    assert any("TIMEMORY_ENABLED" in m and "'maybe'" in m and "off/false" in m for m in messages)
    assert (settings.max_depth, settings.enabled) == (65535, True)


def test_component_lists_are_validated(core):
    settings.global_components = "wall_clock, CPU_CLOCK peak_rss"
    assert settings.global_components == "wall_clock,CPU_CLOCK,peak_rss"
    settings.profiler_components = ["wall_clock", "cpu_util"]
    assert settings.profiler_components == "wall_clock,cpu_util"
    with pytest.raises(ValueError) as info:
        settings.trace_components = "wall_clock,bogus"
    assert "bogus" in str(info.value) and "user_clock" in str(info.value)


def test_unknown_component_in_environment_warns_with_choices(monkeypatch):
    monkeypatch.setenv("TIMEMORY_COMPONENTS", "wall_clock,nonsense")
    with pytest.warns(settings.TimemoryWarning, match="nonsense.*peak_rss"):
        settings.parse()
    assert settings.components == ""


def test_components_accepted_without_core_are_checked_when_it_arrives(monkeypatch, core):
    monkeypatch.setattr(settings, "_core_module", lambda: None)
    settings.kokkos_components = "wall_clock,nonsense"  # cannot be checked yet
    settings.ompt_components = "cpu_clock"
    assert settings._push_all_to_core() is False
    monkeypatch.setattr(settings, "_core_module", lambda: core)
    with pytest.warns(settings.TimemoryWarning, match="kokkos_components.*nonsense"):
        assert settings._push_all_to_core() is True
    assert (settings.kokkos_components, settings.ompt_components) == ("", "cpu_clock")


def test_mirrored_settings_reach_the_core(core, monkeypatch):
    settings.enabled = False
    settings.max_depth = True
    settings.timing_units = "ms"
    settings.memory_units = "kib"
    settings.verbose = 3  # not mirrored
    copy = settings()
    copy.flat_profile = True  # copies are not mirrored
    monkeypatch.setenv("TIMEMORY_COLLAPSE_THREADS", "off")
    settings.parse()
    assert core.calls == [
        ("enabled", False),
        ("max_depth", 1),
        ("timing_unit", 1e6),
        ("timing_unit_repr", "msec"),
        ("memory_unit", 1024.0),
        ("memory_unit_repr", "kib"),
        ("collapse_threads", False),
    ]


def test_push_all_to_core_pushes_every_mirrored_value(core):
    assert settings._push_all_to_core() is True
    pushed = dict(core.calls)
    assert pushed.pop("hw_configure") == ([], False)
    assert set(pushed) == {
        "enabled",
        "flat_profile",
        "timeline_profile",
        "timeline_events",
        "perfetto_output",
        "timeline_max_events",
        "max_depth",
        "collapse_threads",
        "stack_clearing",
        "precision",
        "width",
        "max_width",
        "scientific",
        "timing_precision",
        "timing_width",
        "timing_scientific",
        "memory_precision",
        "memory_width",
        "memory_scientific",
        "timing_unit",
        "timing_unit_repr",
        "memory_unit",
        "memory_unit_repr",
    }
    assert (pushed["timing_unit"], pushed["memory_unit_repr"]) == (1e9, "MB")
    assert pushed["max_width"] == 120


def test_push_all_to_core_is_silent_without_core(monkeypatch):
    monkeypatch.setattr(settings, "_core_module", lambda: None)
    assert settings._push_all_to_core() is False
    settings.enabled = False  # no core: nothing to mirror, no error
    assert settings.enabled is False


def test_real_core_accepts_every_mirrored_key(monkeypatch):
    real = pytest.importorskip("timemory._core")
    monkeypatch.setattr(settings, "_core_module", lambda: real)
    assert settings._push_all_to_core() is True


def test_compose_output_filename(tmp_path, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "77")
    settings.output_path = str(tmp_path / "out-%p")
    settings.output_prefix = "run"
    path = settings.compose_output_filename("wall-%rank%-%j-%s", ".json", rank=3)
    assert path == f"{tmp_path}/out-{os.getpid()}/run-wall-3-77-1.json"
    assert os.path.isdir(os.path.dirname(path))
    settings.output_prefix = "run-"
    # the parts are used as given: a "--" they make is kept (no rewriting of the path)
    assert settings.compose_output_filename("-x", "txt", make_dir=False).endswith("/run--x.txt")
    ranked = settings.compose_output_filename("x", ".json", dmp=True, rank=2, make_dir=False)
    assert ranked.endswith("/run-x_2.json")
    explicit = settings.compose_output_filename("x", ".json", explicit=f"{tmp_path}//e/")
    assert explicit == f"{tmp_path}/e/x.json"


def test_compose_output_filename_time_folder(tmp_path):
    settings.output_path = str(tmp_path)
    settings.time_output = True
    settings.time_format = "%F"
    path = settings.compose_output_filename("wall", ".json")
    assert path == f"{tmp_path}/{time.strftime('%F', settings._LAUNCH_TIME)}/wall.json"
    assert os.path.isdir(os.path.dirname(path))


def test_compose_input_filename_falls_back_to_output(tmp_path):
    settings.output_path = str(tmp_path)
    assert settings.compose_input_filename("wall", ".json") == f"{tmp_path}/wall.json"
    settings.input_path, settings.input_prefix = "in", "old"
    assert settings.compose_input_filename("wall", ".json") == "in/old-wall.json"
    assert not os.path.exists("in")
