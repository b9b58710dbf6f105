#pragma once
// timemory._core.Component, the base of every component class (WallClock, PeakRss...): a
// CPython C-API type, because start() and stop() are per-call hot paths.
#include <Python.h>

#include <cstdint>

namespace timemory_python {

// Adds Component and _register_component_class to the module. Returns 0 / -1.
int add_component_type(PyObject* module);

// New reference: a Component object of enum `index` holding `entry`-like data, of the
// component's own class once timemory.component has handed over its class maker
// (callbacks.hpp), else of the base type.
PyObject* make_component(int index, std::int64_t laps, const double* value, const double* accum);

}  // namespace timemory_python
