// _core._set_callbacks: where the package hands the native side the Python helpers it
// calls (see callbacks.hpp).
#include "callbacks.hpp"

#include "compat.hpp"

namespace timemory_python {
namespace {

PyObject* g_format_call_args = nullptr;  // strong references, kept for good
PyObject* g_component_class  = nullptr;

bool acceptable(PyObject* value) { return !value || value == Py_None || PyCallable_Check(value); }

// A keyword given sets its callback; None removes it; a keyword not given leaves it as it is.
void set_one(PyObject** slot, PyObject* value) {
    if (value) Py_XSETREF(*slot, value == Py_None ? nullptr : Py_NewRef(value));
}

PyObject* set_callbacks(PyObject*, PyObject* args, PyObject* kwargs) {
    static const char* kwlist[] = {"format_call_args", "component_class", nullptr};
    PyObject*          format   = nullptr;
    PyObject*          cls      = nullptr;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|$OO:_set_callbacks", const_cast<char**>(kwlist), &format, &cls))
        return nullptr;
    if (!acceptable(format) || !acceptable(cls)) {
        PyErr_Format(PyExc_TypeError, "_set_callbacks: %s must be callable or None",
                     acceptable(format) ? "component_class" : "format_call_args");
        return nullptr;
    }
    set_one(&g_format_call_args, format);
    set_one(&g_component_class, cls);
    Py_RETURN_NONE;
}

PyMethodDef callback_methods[] = {
    {"_set_callbacks", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(set_callbacks)),
     METH_VARARGS | METH_KEYWORDS,
     "_set_callbacks(*, format_call_args=..., component_class=...)\n"
     "Hand the native side the package's Python helpers (None removes one): the argument "
     "formatter of add_args labels and the maker of component classes."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

PyObject* format_call_args_callback() { return g_format_call_args; }
PyObject* component_class_callback() { return g_component_class; }

int add_callbacks(PyObject* module) { return PyModule_AddFunctions(module, callback_methods); }

}  // namespace timemory_python
