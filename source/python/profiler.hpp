#pragma once
// The function profiler's native hook (profiler.cpp).
#include <Python.h>

namespace timemory_python {

// Adds profiler_start/stop/active/invalidate/depth and profiler_function to
// the module. Returns 0 / -1.
int add_profiler(PyObject* module);

}  // namespace timemory_python
