#pragma once
// Bindings of the perf_event backend (timemory.hardware_counters, papi_events).
#include <pybind11/pybind11.h>

namespace timemory_python {

// Adds the hw_* functions to the module.
void add_hardware_counters(pybind11::module_& m);

}  // namespace timemory_python
