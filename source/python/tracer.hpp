#pragma once
// The line tracer's native hook (tracer.cpp) and, through it, the region and
// library trace APIs (regions.cpp).
#include <Python.h>

namespace timemory_python {

// Adds tracer_start/stop/active/invalidate/depth, tracer_function and the
// functions of region_methods() to the module. Returns 0 / -1.
int add_tracer(PyObject* module);

}  // namespace timemory_python
