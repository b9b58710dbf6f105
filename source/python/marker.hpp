#pragma once
// timemory.marker and the functions it decorates: CPython C-API types, because their
// enter/exit and decorated calls are per-call hot paths (a pybind11 class costs about 4x
// more per call there).
#include <Python.h>

namespace timemory_python {

// Adds marker and MarkedFunction to the module. Returns 0 / -1.
int add_marker_types(PyObject* module);

}  // namespace timemory_python
