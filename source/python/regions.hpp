#pragma once
// timemory.region and the library trace API of timemory.trace (regions.cpp).
#include <Python.h>

namespace timemory_python {

// region_push/pop/begin/end/set_components and trace_push/pop/is_throttled/
// library_configure/library_reset, null-terminated; add_tracer() adds them.
PyMethodDef* region_methods();

}  // namespace timemory_python
