// Bindings of the native configuration (the settings timemory.settings mirrors into the
// core) and of the facts of this build (build_info).
#include <string>

#include "bindings.hpp"
#include "timemory/config.hpp"
#include "timemory/hooks/call_stack.hpp"

namespace py = pybind11;
using namespace tim;

namespace timemory_python {
namespace {

void config_set(const std::string& name, py::object value) {
    auto& c = config();
    auto  b = [&] { return value.cast<bool>(); };
    auto  i = [&] { return value.cast<int>(); };
    if (name == "enabled") c.enabled = b();
    else if (name == "flat_profile") c.flat_profile = b();
    else if (name == "timeline_profile") c.timeline_profile = b();
    else if (name == "max_depth") c.max_depth = i();
    else if (name == "collapse_threads") c.collapse_threads = b();
    else if (name == "stack_clearing") c.stack_clearing = b();
    else if (name == "timeline_events") c.timeline_events = b();
    else if (name == "perfetto_output") c.perfetto_output = b();
    else if (name == "timeline_max_events") c.timeline_max_events = value.cast<std::int64_t>();
    else if (name == "precision") c.precision = i();
    else if (name == "width") c.width = i();
    else if (name == "max_width") c.max_width = i();
    else if (name == "scientific") c.scientific = b();
    else if (name == "timing_precision") c.timing_precision = i();
    else if (name == "timing_width") c.timing_width = i();
    else if (name == "timing_scientific") c.timing_scientific = b();
    else if (name == "memory_precision") c.memory_precision = i();
    else if (name == "memory_width") c.memory_width = i();
    else if (name == "memory_scientific") c.memory_scientific = b();
    else if (name == "timing_unit") c.timing_unit = value.cast<double>();
    else if (name == "timing_unit_repr") c.timing_unit_repr = value.cast<std::string>();
    else if (name == "memory_unit") c.memory_unit = value.cast<double>();
    else if (name == "memory_unit_repr") c.memory_unit_repr = value.cast<std::string>();
    else throw py::key_error("unknown core setting '" + name + "'");
    // the profiler's callbacks test the settings they depend on once per change, not per event
    tim::hooks::invalidate_fast_paths();
}

py::object config_get(const std::string& name) {
    auto& c = config();
    if (name == "enabled") return py::bool_(c.enabled);
    if (name == "flat_profile") return py::bool_(c.flat_profile);
    if (name == "timeline_profile") return py::bool_(c.timeline_profile);
    if (name == "max_depth") return py::int_(c.max_depth);
    if (name == "collapse_threads") return py::bool_(c.collapse_threads);
    if (name == "stack_clearing") return py::bool_(c.stack_clearing);
    if (name == "timeline_events") return py::bool_(c.timeline_events);
    if (name == "perfetto_output") return py::bool_(c.perfetto_output);
    if (name == "timeline_max_events") return py::int_(c.timeline_max_events);
    if (name == "timing_unit") return py::float_(c.timing_unit);
    if (name == "timing_unit_repr") return py::str(c.timing_unit_repr);
    if (name == "memory_unit") return py::float_(c.memory_unit);
    if (name == "memory_unit_repr") return py::str(c.memory_unit_repr);
    throw py::key_error("unknown core setting '" + name + "'");
}
}  // namespace

void add_config_bindings(py::module_& m) {
    m.def("config_set", &config_set, py::arg("name"), py::arg("value"),
          "Mirror one setting into the native core (called by timemory.settings).");
    m.def("config_get", &config_get, py::arg("name"));
}

void add_build_info(py::module_& m) {
    py::dict build;
    build["version"]              = TIMEMORY_VERSION_STRING;
    build["build_type"]           = TIMEMORY_BUILD_TYPE;
    build["compiler_id"]          = TIMEMORY_COMPILER_ID;
    build["compiler_version"]     = TIMEMORY_COMPILER_VERSION;
    build["system_name"]          = TIMEMORY_SYSTEM_NAME;
    build["system_version"]       = TIMEMORY_SYSTEM_VERSION;
    build["library_architecture"] = TIMEMORY_ARCHITECTURE;
    build["date"]                 = __DATE__ " " __TIME__;
    m.attr("build_info")          = build;
}

}  // namespace timemory_python
