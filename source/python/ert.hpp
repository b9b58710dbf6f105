#pragma once
// Bindings of the ERT kernels (timemory.roofline.ert).
#include <pybind11/pybind11.h>

namespace timemory_python {

// Adds the ert_* functions to the module.
void add_ert(pybind11::module_& m);

}  // namespace timemory_python
