#pragma once
// The C API for native extensions: the capsule timemory._core._C_API (capi.cpp).
#include <Python.h>

namespace timemory_python {

// Adds the capsule _C_API to the module. Returns 0 / -1.
int add_capi(PyObject* module);
// The components the C API's regions measure from now on (timemory.region's set; the
// Python-defined ones are left out: the C API runs without the GIL). Called with the GIL.
void capi_set_region_components(const int* indices, int n);

}  // namespace timemory_python
