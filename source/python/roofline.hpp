#pragma once
// Bindings of the cpu_roofline_* components' declared work (timemory.roofline).
#include <pybind11/pybind11.h>

namespace timemory_python {

// Adds the roofline_* functions to the module.
void add_roofline(pybind11::module_& m);

}  // namespace timemory_python
