#pragma once
// Bindings of the perf_event backend (timemory.hardware_counters, papi_events).
#include <string>

namespace pybind11 {
class module_;
}

namespace timemory_python {

// Adds the hw_* functions to the module.
void add_hardware_counters(pybind11::module_& m);

// The resolver's part for "perf::<event>" names (GIL held). perf_component_error: the
// ValueError of a perf:: name find_component refused (unknown event, no free slot): -1,
// or 0 when `name` is not a perf:: name. note_component: the first time a perf:: component
// is resolved, tell timemory through the hook timemory._components sets
// (hw_set_component_hook: the package's component table, and the one warning when it is not
// available); -1 with the error set.
int perf_component_error(const std::string& name);
int note_component(int index);

}  // namespace timemory_python
