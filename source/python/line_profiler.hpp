#pragma once
// The line profiler's native hook (timemory.line_profiler): per line of the
// registered code objects, hits and the total of one scalar component.
#include <Python.h>

namespace timemory_python {

// Adds the line_profiler_* functions and line_profiler_function to the module.
// Returns 0 / -1.
int add_line_profiler(PyObject* module);

}  // namespace timemory_python
