#pragma once
// CPython C-API functions newer than the oldest Python timemory supports (3.9), written
// out for the versions that lack them, so the binding files can use the current names.
#include <Python.h>

#if PY_VERSION_HEX < 0x030A0000
inline PyObject* Py_NewRef(PyObject* o) {
    Py_INCREF(o);
    return o;
}
inline int PyModule_AddObjectRef(PyObject* m, const char* name, PyObject* v) {
    Py_INCREF(v);
    if (PyModule_AddObject(m, name, v) < 0) {
        Py_DECREF(v);
        return -1;
    }
    return 0;
}
inline PyObject* Py_XNewRef(PyObject* o) {
    Py_XINCREF(o);
    return o;
}
inline PyObject* PyObject_CallNoArgs(PyObject* f) { return PyObject_CallObject(f, nullptr); }
#endif
