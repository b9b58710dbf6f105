#pragma once
// Python-defined components: _core.register_user_component and the hooks through which the
// native measurements call the objects' start/stop/get (user_components.cpp).
#include <Python.h>

namespace timemory_python {

// Adds register_user_component and user_component_failed to the module. Returns 0 / -1.
int add_user_components(PyObject* module);

}  // namespace timemory_python
