#pragma once
// The Python helpers the native side calls, handed to it by the package as it is imported
// (timemory.bundle and timemory.component call _core._set_callbacks): _core never imports a
// timemory module by name, so the package's layers only ever call down into it.
#include <Python.h>

namespace timemory_python {

// timemory.bundle's argument formatter, func_or_frame, args, kwargs -> "(a=1, b=2)", for
// the labels of add_args markers; null until timemory.bundle is imported.
PyObject* format_call_args_callback();

// timemory.component's class maker, index -> the component's class (WallClock...), for
// the component objects storage hands out; null until timemory.component is imported.
PyObject* component_class_callback();

// timemory.component's resolver of Python-defined components, class or "module:Class"
// import path -> index (registering the class when it is not yet); null until
// timemory.component is imported.
PyObject* user_component_callback();

// Adds _set_callbacks to the module. Returns 0 / -1.
int add_callbacks(PyObject* module);

}  // namespace timemory_python
