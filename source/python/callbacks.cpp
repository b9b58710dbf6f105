// _core._set_callbacks: where the package hands the native side the Python helpers it
// calls (see callbacks.hpp).
#include "callbacks.hpp"

#include "compat.hpp"

namespace timemory_python {
namespace {

PyObject* g_format_call_args = nullptr;  // strong references, kept for good
PyObject* g_component_class  = nullptr;
PyObject* g_user_component   = nullptr;

bool acceptable(PyObject* value) { return !value || value == Py_None || PyCallable_Check(value); }

// A keyword given sets its callback; None removes it; a keyword not given leaves it as it is.
void set_one(PyObject** slot, PyObject* value) {
    if (value) Py_XSETREF(*slot, value == Py_None ? nullptr : Py_NewRef(value));
}

PyObject* set_callbacks(PyObject*, PyObject* args, PyObject* kwargs) {
    static const char* kwlist[] = {"format_call_args", "component_class", "user_component", nullptr};
    PyObject*          format   = nullptr;
    PyObject*          cls      = nullptr;
    PyObject*          user     = nullptr;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|$OOO:_set_callbacks", const_cast<char**>(kwlist), &format, &cls,
                                     &user))
        return nullptr;
    if (!acceptable(format) || !acceptable(cls) || !acceptable(user)) {
        PyErr_Format(PyExc_TypeError, "_set_callbacks: %s must be callable or None",
                     !acceptable(format) ? "format_call_args"
                     : !acceptable(cls)  ? "component_class"
                                         : "user_component");
        return nullptr;
    }
    set_one(&g_format_call_args, format);
    set_one(&g_component_class, cls);
    set_one(&g_user_component, user);
    Py_RETURN_NONE;
}

PyMethodDef callback_methods[] = {
    {"_set_callbacks", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(set_callbacks)),
     METH_VARARGS | METH_KEYWORDS,
     "_set_callbacks(*, format_call_args=..., component_class=..., user_component=...)\n"
     "Hand the native side the package's Python helpers (None removes one): the argument "
     "formatter of add_args labels, the maker of component classes and the resolver of "
     "Python-defined components."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

PyObject* format_call_args_callback() { return g_format_call_args; }
PyObject* component_class_callback() { return g_component_class; }
PyObject* user_component_callback() { return g_user_component; }

int add_callbacks(PyObject* module) { return PyModule_AddFunctions(module, callback_methods); }

}  // namespace timemory_python
