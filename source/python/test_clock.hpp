#pragma once
// Bindings of the tests' fake clock (tests/fakeclock.py).
#include <pybind11/pybind11.h>

namespace timemory_python {

// Adds _test_clock, _test_clock_advance and _test_clock_state to the module.
void add_test_clock(pybind11::module_& m);

}  // namespace timemory_python
