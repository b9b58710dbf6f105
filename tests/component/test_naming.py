"""Component classes and their names."""

from __future__ import annotations

import enum

import pytest
import timemory
from timemory import component

# The enumerators of the original timemory, in enum order, without the two placeholders that
# have no class (user_list_bundle, user_tuple_bundle).
ENUM_KEYS = """
allinea_map caliper_marker caliper_config caliper_loop_marker cpu_clock cpu_roofline_dp_flops
cpu_roofline_flops cpu_roofline_sp_flops cpu_util craypat_counters craypat_flush_buffer
craypat_heap_stats craypat_record craypat_region cuda_event cuda_profiler cupti_activity
cupti_counters cupti_pcsampling current_peak_rss data_tracker_integer data_tracker_unsigned
data_tracker_floating gperftools_cpu_profiler gperftools_heap_profiler gpu_roofline_dp_flops
gpu_roofline_flops gpu_roofline_hp_flops gpu_roofline_sp_flops hip_event kernel_mode_time
likwid_marker likwid_nvmarker malloc_gotcha memory_allocations monotonic_clock
monotonic_raw_clock network_stats num_io_in num_io_out num_major_page_faults
num_minor_page_faults nvtx_marker ompt_handle page_rss papi_array papi_vector peak_rss
perfetto_trace printer priority_context_switch process_cpu_clock process_cpu_util read_bytes
read_char roctx_marker sys_clock tau_marker thread_cpu_clock thread_cpu_util timestamp trip_count
user_clock user_mode_time user_global_bundle user_kokkosp_bundle user_mpip_bundle
user_ncclp_bundle user_ompt_bundle user_profiler_bundle user_trace_bundle virtual_memory
voluntary_context_switch vtune_event vtune_frame vtune_profiler wall_clock written_bytes
written_char
""".split()


def class_name_of(key: str) -> str:
    """Class names: first character and every character after '_' or '-' upper-cased, delimiters
    removed."""
    out, upper = [], True
    for ch in key:
        if ch in "_-":
            upper = True
            continue
        out.append(ch.upper() if upper else ch)
        upper = False
    return "".join(out)


# primary id (differs from the key in three cases) and documented aliases
PRIMARY_IDS = {
    "sys_clock": "system_clock",
    "papi_array": "papi_array_t",
    "user_kokkosp_bundle": "user_kokkos_bundle",
}
ALIASES = {
    "wall_clock": ["real_clock", "virtual_clock"],
    "sys_clock": ["sys_clock", "system_clock"],
    "thread_cpu_clock": ["cpu_thread_clock"],
    "process_cpu_clock": ["cpu_process_clock"],
    "cpu_util": ["cpu_utilization"],
    "process_cpu_util": ["process_cpu_utilization", "cpu_process_util", "cpu_process_utilization"],
    "thread_cpu_util": ["thread_cpu_utilization", "cpu_thread_util", "cpu_thread_utilization"],
    "num_minor_page_faults": ["minor_page_faults"],
    "num_major_page_faults": ["major_page_faults"],
    "voluntary_context_switch": ["vol_ctx_switch"],
    "priority_context_switch": ["prio_ctx_switch"],
    "read_char": ["rchar"],
    "written_char": ["write_char", "wchar"],
    "written_bytes": ["write_bytes"],
    "network_stats": ["network"],
    "data_tracker_integer": ["integer_data_tracker"],
    "user_global_bundle": ["global_bundle", "tuple_bundle", "list_bundle"],
    "user_kokkosp_bundle": ["user_kokkos_bundle", "kokkos_bundle", "kokkosp_bundle"],
    "papi_vector": ["papi", "perf_event"],
    "papi_array": ["papi_array_t"],
    "nvtx_marker": ["nvtx"],
    "cupti_pcsampling": ["cuda_pcsampling"],
    "roctx_marker": ["roctx"],
    "caliper_marker": ["caliper", "cali"],
    "tau_marker": ["tau"],
    "allinea_map": ["allinea", "forge"],
    "gperftools_cpu_profiler": ["gperftools_cpu", "gperf_cpu_profiler", "gperf_cpu"],
    "perfetto_trace": ["perfetto"],
    "user_mpip_bundle": ["mpip", "mpi_tools", "mpi"],
    "ompt_handle": ["ompt", "openmp", "openmp_tools"],
}
LABELS = {
    "wall_clock": "wall",
    "sys_clock": "sys",
    "user_clock": "user",
    "cpu_clock": "cpu",
    "monotonic_clock": "monotonic_clock",
    "monotonic_raw_clock": "monotonic_raw_clock",
    "thread_cpu_clock": "thread_cpu",
    "process_cpu_clock": "process_cpu",
    "cpu_util": "cpu_util",
    "process_cpu_util": "proc_cpu_util",
    "thread_cpu_util": "thread_cpu_util",
    "peak_rss": "peak_rss",
    "page_rss": "page_rss",
    "current_peak_rss": "current_peak_rss",
    "virtual_memory": "virtual_memory",
    "num_io_in": "io_in",
    "num_io_out": "io_out",
    "num_minor_page_faults": "minor_page_flts",
    "num_major_page_faults": "major_page_flts",
    "voluntary_context_switch": "vol_cxt_swch",
    "priority_context_switch": "prio_cxt_swch",
    "user_mode_time": "user_mode",
    "kernel_mode_time": "kernel_mode",
    "read_char": "read_char",
    "written_char": "written_char",
    "read_bytes": "read_bytes",
    "written_bytes": "written_bytes",
    "trip_count": "trip_count",
    "timestamp": "timestamp",
    "network_stats": "network_stats",
    "data_tracker_integer": "data_integer",
    "printer": "printer",
}
# papi_vector / papi_array count perf_event_open events (tests/hardware_counters/); the
# cpu_roofline_* components count declared work (tests/roofline/)
UNAVAILABLE = [
    "cuda_event",
    "cupti_activity",
    "nvtx_marker",
    "caliper_marker",
    "tau_marker",
    "likwid_marker",
    "vtune_event",
    "craypat_record",
    "allinea_map",
    "gperftools_cpu_profiler",
    "perfetto_trace",
    "hip_event",
    "gpu_roofline_flops",
    "malloc_gotcha",
    "ompt_handle",
]


def test_get_types_is_one_class_per_enumerator_in_enum_order():
    assert component.get_types() == [class_name_of(k) for k in ENUM_KEYS]


@pytest.mark.parametrize("key", ENUM_KEYS)
def test_class_naming_rules(key):
    cls = getattr(component, class_name_of(key))
    assert isinstance(cls, type) and cls.__name__ == class_name_of(key)
    assert cls.id() == PRIMARY_IDS.get(key, key)
    # index(): an int-like enum member named by the key, equal to the module-level value
    idx = cls.index()
    assert isinstance(idx, int) and isinstance(idx, enum.Enum)
    assert idx.name == key
    assert idx == getattr(component.id, key) == getattr(component, key)
    assert hash(idx) == hash(int(idx))
    assert {int(idx): "x"}[idx] == "x"
    assert isinstance(cls.label(), str) and cls.label()
    assert isinstance(cls.description(), str) and cls.description()
    if key in LABELS:
        assert cls.label() == LABELS[key]


def test_enum_values_are_distinct_and_cover_every_class():
    members = list(component.id)
    assert [m.name for m in members] == ENUM_KEYS
    assert len({int(m) for m in members}) == len(members)


@pytest.mark.parametrize("key", sorted(ALIASES))
def test_aliases_resolve_to_the_same_component(key):
    cls = getattr(component, class_name_of(key))
    names = [key, key.upper(), cls.id(), *ALIASES[key]]
    for name in names:
        # size() reports exactly the component the name resolves to
        assert list(timemory.size([name])) == [int(cls.index())], name
        generated = component.get_generator(name)() if name != key.upper() else None
        if cls.available and name != key.upper():
            assert type(generated) is cls, name
        else:
            assert generated is None, name


def test_primary_id_differs_from_json_key_where_documented():
    assert component.SysClock.id() == "system_clock"
    assert component.SysClock.index().name == "sys_clock"
    assert component.PapiArray.id() == "papi_array_t"
    assert component.UserKokkospBundle.id() == "user_kokkos_bundle"


def test_documented_unavailable_components_are_unavailable():
    for key in UNAVAILABLE:
        cls = getattr(component, class_name_of(key))
        assert cls.available is False, key
        assert component.is_available(key) is False


def test_cpu_roofline_components_are_available_under_every_alias():
    for name in ("cpu_roofline_flops", "cpu_roofline", "cpu_roofline_dp", "cpu_roofline_sp_flops"):
        assert component.is_available(name) is True, name


def test_is_available_accepts_names_aliases_and_enum_values():
    assert component.is_available("wall_clock") is True
    assert component.is_available("real_clock") is True
    assert component.is_available(component.id.peak_rss) is True
    assert component.is_available(component.WallClock.index()) is True
    assert component.is_available(component.id.cuda_event) is False
    assert component.is_available("tau") is False


def test_unknown_name_raises_value_error_listing_valid_choices():
    with pytest.raises(ValueError) as info:
        component.is_available("no_such_component")
    message = str(info.value)
    assert "no_such_component" in message
    assert "wall_clock" in message and "peak_rss" in message
    with pytest.raises(ValueError, match="wall_clock"):
        timemory.size(["no_such_component"])


def test_get_generator_exact_names():
    for name in ("WallClock", "wall_clock", "real_clock", "virtual_clock"):
        made = component.get_generator(name)()
        assert type(made) is component.WallClock, name
    # each call builds a new object
    gen = component.get_generator("wall_clock")
    assert gen() is not gen()
    # enum values work too
    assert type(component.get_generator(component.id.peak_rss)()) is component.PeakRss
    # the lookup is exact and case-sensitive; unknown or unavailable names give a factory of None
    for name in (
        "WALL_CLOCK",
        "Wall_Clock",
        "wallclock",
        "wall",
        "no_such_component",
        "vtune_event",
        "VtuneEvent",
        "cuda_event",
    ):
        gen = component.get_generator(name)
        assert callable(gen), name
        assert gen() is None, name


def test_get_available_types():
    available = component.get_available_types()
    assert "WallClock" in available and "PeakRss" in available and "CurrentPeakRss" in available
    assert "VtuneEvent" not in available and "CudaEvent" not in available
    assert set(available) <= set(component.get_types())
    for name in available:
        assert getattr(component, name).available is True
    assert [n for n in component.get_types() if getattr(component, n).available] == available


def test_get_available_types_arithmetic_keeps_scalar_valued_ones():
    arithmetic = component.get_available_types(arithmetic=True)
    assert {"WallClock", "CpuClock", "PeakRss", "PageRss", "TripCount"} <= set(arithmetic)
    # multi-valued (tuple) components are excluded, and so are value-less bundles
    for name in (
        "CurrentPeakRss",
        "ReadChar",
        "WrittenChar",
        "NetworkStats",
        "UserGlobalBundle",
        "Printer",
    ):
        assert name not in arithmetic, name
    assert set(arithmetic) < set(component.get_available_types())
    for name in arithmetic:
        cls = getattr(component, name)
        obj = cls().start().stop()
        assert isinstance(obj.get(), (int, float)), name


def test_print_repr_in_interactive_attribute():
    assert component._print_repr_in_interactive is False
