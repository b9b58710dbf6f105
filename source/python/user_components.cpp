// Python-defined components (timemory.component.Base): their registration into a free slot
// of the native component table, and the start/stop hooks the native measurements call for
// them (tim::UserComponentHooks). A measurement of one takes an object of the class from a
// free list (made with cls() when the list is empty), calls its start(); at the stop calls
// stop() and, unless stop() returned the value, get() (or sample() for a component that only
// samples), and gives the object back. The objects and the free lists are guarded by the
// GIL: every native path that can start a Python-defined component holds it (the C API for
// native extensions skips them, docs/guide/components.md).
#include "user_components.hpp"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "compat.hpp"
#include "timemory/components/component_info.hpp"

namespace timemory_python {
namespace {

using tim::ComponentInfo;

struct UserClass {
    PyObject*              cls = nullptr;  // strong
    std::string            name;           // "mypkg.QueueDepth" for the messages
    int                    n          = 1;  // values per measurement
    bool                   has_start  = false;
    bool                   has_stop   = false;
    bool                   has_sample = false;  // sample() and no get() of its own: the stop reading
    bool                   failed     = false;  // dropped after an exception (reported once)
    std::vector<PyObject*> free;                // objects not in a measurement (strong)
};

constexpr std::size_t max_free_objects = 64;
UserClass             g_classes[tim::max_user_components];

PyObject* g_start  = nullptr;  // interned method names
PyObject* g_stop   = nullptr;
PyObject* g_get    = nullptr;
PyObject* g_sample = nullptr;

UserClass* class_of(int index) {
    const int k = index - tim::builtin_component_count();
    if (k < 0 || k >= tim::max_user_components || !g_classes[k].cls) return nullptr;
    return &g_classes[k];
}

// Reports the exception set now, once for the component, and drops the component: later
// measurements of it record nothing. KeyboardInterrupt is not swallowed: it is raised
// again at the next chance Python has (as a second Ctrl-C would).
void fail(UserClass& uc, const char* method) {
    PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
    PyErr_Fetch(&type, &value, &tb);
    const bool interrupt = type && PyErr_GivenExceptionMatches(type, PyExc_KeyboardInterrupt);
    if (!uc.failed) {
        uc.failed      = true;
        PyObject* text = value ? PyObject_Str(value) : nullptr;
        if (!text) PyErr_Clear();
        const char* tname = type ? reinterpret_cast<PyTypeObject*>(type)->tp_name : "error";
        const char* msg   = text ? PyUnicode_AsUTF8(text) : nullptr;
        if (!msg) PyErr_Clear();
        PySys_FormatStderr(
            "timemory: component %s: %s() raised %s%s%s; it is dropped from the measurement (the rest continues)\n",
            uc.name.c_str(), method, tname, msg && *msg ? ": " : "", msg ? msg : "");
        Py_XDECREF(text);
    }
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    if (interrupt) PyErr_SetInterrupt();
}

// A number, or a tuple/list of `n` numbers, into out. 1 converted, 0 not a value (no error
// set), -1 a value of the wrong shape (error set).
int to_values(UserClass& uc, PyObject* r, double* out) {
    if (PyFloat_Check(r) || (PyLong_Check(r) && !PyBool_Check(r))) {
        if (uc.n != 1) {
            PyErr_Format(PyExc_TypeError, "returned one number; %d values (its `names`) were expected", uc.n);
            return -1;
        }
        out[0] = PyFloat_AsDouble(r);
        return out[0] == -1.0 && PyErr_Occurred() ? -1 : 1;
    }
    if (PyTuple_Check(r) || PyList_Check(r)) {
        const Py_ssize_t n = PySequence_Fast_GET_SIZE(r);
        if (n != uc.n) {
            PyErr_Format(PyExc_TypeError, "returned %zd values; %d were expected (its `names`)", n, uc.n);
            return -1;
        }
        for (Py_ssize_t i = 0; i < n; ++i) {
            PyObject* item = PySequence_Fast_GET_ITEM(r, i);
            out[i]         = PyFloat_AsDouble(item);
            if (out[i] == -1.0 && PyErr_Occurred()) return -1;
        }
        return 1;
    }
    return 0;
}

PyObject* take_object(UserClass& uc) {
    if (!uc.free.empty()) {
        PyObject* o = uc.free.back();
        uc.free.pop_back();
        return o;
    }
    return PyObject_CallNoArgs(uc.cls);
}

void give_back(UserClass& uc, PyObject* o) {
    if (uc.free.size() < max_free_objects) uc.free.push_back(o);
    else Py_DECREF(o);
}

// slot[0]: the object's address (its reference is the measurement's); slot[1]: 1 when set
void put_object(double* slot, PyObject* o) {
    std::memcpy(&slot[0], &o, sizeof(o));
    slot[1] = o ? 1.0 : 0.0;
}
PyObject* object_in(const double* slot) {
    if (slot[1] != 1.0) return nullptr;
    PyObject* o = nullptr;
    std::memcpy(&o, &slot[0], sizeof(o));
    return o;
}

void hook_start(int index, double* slot) {
    put_object(slot, nullptr);
    UserClass* uc = class_of(index);
    if (!uc || uc->failed || !PyGILState_Check()) return;
    PyObject* o = take_object(*uc);
    if (!o) return fail(*uc, "__init__");
    if (uc->has_start) {
        PyObject* r = PyObject_CallMethodNoArgs(o, g_start);
        if (!r) {
            Py_DECREF(o);
            return fail(*uc, "start");
        }
        Py_DECREF(r);
    }
    put_object(slot, o);
}

bool hook_stop(int index, const double* slot, double* out) {
    PyObject* o = object_in(slot);
    if (!o) return false;
    UserClass* uc = class_of(index);
    if (!uc || !PyGILState_Check()) return false;  // the object is leaked rather than freed without the GIL
    if (uc->failed) {
        Py_DECREF(o);
        return false;
    }
    int         got    = 0;
    const char* method = "stop";
    if (uc->has_stop) {
        PyObject* r = PyObject_CallMethodNoArgs(o, g_stop);
        if (r) {
            got = r == Py_None ? 0 : to_values(*uc, r, out);
            if (got < 0) PyErr_Clear();  // stop() returning something else: get() says the value
            got = got < 0 ? 0 : got;
            Py_DECREF(r);
        }
        if (!r) got = -1;
    }
    if (got == 0) {
        method      = uc->has_sample ? "sample" : "get";
        PyObject* r = PyObject_CallMethodNoArgs(o, uc->has_sample ? g_sample : g_get);
        got         = r ? to_values(*uc, r, out) : -1;
        if (got == 0) {
            PyErr_Format(PyExc_TypeError, "returned %.100s; a number or a tuple of numbers was expected",
                         Py_TYPE(r)->tp_name);
            got = -1;
        }
        Py_XDECREF(r);
    }
    if (got < 0) {
        Py_DECREF(o);
        fail(*uc, method);
        return false;
    }
    give_back(*uc, o);
    return true;
}

// _core.register_user_component(cls, spec) -> index
PyObject* register_component(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    // cls None: a row that holds data read back or received (another process registered the
    // class), measuring nothing until the class itself is registered under the same key
    if (nargs != 2 || !(PyType_Check(args[0]) || args[0] == Py_None) || !PyDict_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "register_user_component(cls: type | None, spec: dict)");
        return nullptr;
    }
    PyObject* cls  = args[0];
    PyObject* spec = args[1];
    auto str       = [&](const char* key, std::string& out) -> bool {
        PyObject* v = PyDict_GetItemString(spec, key);
        if (!v || !PyUnicode_Check(v)) {
            PyErr_Format(PyExc_TypeError, "register_user_component: spec['%s'] must be a str", key);
            return false;
        }
        const char* s = PyUnicode_AsUTF8(v);
        if (!s) return false;
        out = s;
        return true;
    };
    auto flag = [&](const char* key) -> int {
        PyObject* v = PyDict_GetItemString(spec, key);
        return v ? PyObject_IsTrue(v) : 0;
    };
    ComponentInfo info;
    std::string   combine, name;
    if (!str("key", info.key) || !str("class_name", info.class_name) || !str("label", info.label) ||
        !str("description", info.description) || !str("combine", combine) || !str("name", name))
        return nullptr;
    info.id        = info.key;
    info.enum_name = info.key;
    for (auto& ch : info.enum_name) ch = static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch);
    if (combine == "sum") info.combine = tim::Combine::sum;
    else if (combine == "max") info.combine = tim::Combine::maximum;
    else if (combine == "min") info.combine = tim::Combine::minimum;
    else if (combine == "last") info.combine = tim::Combine::latest;
    else {
        PyErr_Format(PyExc_ValueError, "unknown combine rule '%s'. Valid choices are: sum, max, min, last",
                     combine.c_str());
        return nullptr;
    }
    // units: [(divisor, repr), ...], one per value; sub_labels: names when more than one
    PyObject* units = PyDict_GetItemString(spec, "units");
    PyObject* subs  = PyDict_GetItemString(spec, "sub_labels");
    if (!units || !PyList_Check(units) || PyList_GET_SIZE(units) < 1 || PyList_GET_SIZE(units) > tim::max_values) {
        PyErr_Format(PyExc_ValueError, "register_user_component: spec['units'] must list 1 to %d (divisor, repr)",
                     tim::max_values);
        return nullptr;
    }
    const int n = static_cast<int>(PyList_GET_SIZE(units));
    for (int i = 0; i < n; ++i) {
        double      divisor = 1.0;
        const char* repr    = nullptr;
        if (!PyArg_ParseTuple(PyList_GET_ITEM(units, i), "ds", &divisor, &repr)) return nullptr;
        if (!(divisor > 0.0) || !std::isfinite(divisor)) {
            PyErr_SetString(PyExc_ValueError, "a component's scale must be a positive finite number");
            return nullptr;
        }
        info.units.push_back(tim::custom_unit(divisor, repr));
    }
    if (subs && PyList_Check(subs))
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(subs); ++i) {
            const char* s = PyUnicode_AsUTF8(PyList_GET_ITEM(subs, i));
            if (!s) return nullptr;
            info.sub_labels.emplace_back(s);
        }
    info.n_raw = info.n_disp = n;
    info.integral_raw        = false;
    info.has_value           = true;
    info.flamegraph          = false;
    int has[4];
    if ((has[0] = flag("has_start")) < 0 || (has[1] = flag("has_stop")) < 0 || (has[2] = flag("has_sample")) < 0)
        return nullptr;
    const int index = tim::register_user_component(info);
    if (index < 0) {
        if (tim::find_component(info.key) >= 0 && tim::find_component(info.key) < tim::builtin_component_count())
            PyErr_Format(PyExc_ValueError, "component name '%s' is taken by a built-in component: choose another label",
                         info.key.c_str());
        else
            PyErr_Format(PyExc_RuntimeError, "at most %d Python-defined components can be registered",
                         tim::max_user_components);
        return nullptr;
    }
    if (!g_start) {
        g_start  = PyUnicode_InternFromString("start");
        g_stop   = PyUnicode_InternFromString("stop");
        g_get    = PyUnicode_InternFromString("get");
        g_sample = PyUnicode_InternFromString("sample");
        if (!g_start || !g_stop || !g_get || !g_sample) return nullptr;
        tim::UserComponentHooks hooks;
        hooks.start = hook_start;
        hooks.stop  = hook_stop;
        tim::set_user_component_hooks(hooks);
    }
    UserClass& uc = g_classes[index - tim::builtin_component_count()];
    if (cls == Py_None && uc.cls) return PyLong_FromLong(index);    // the class measures on
    Py_XSETREF(uc.cls, cls == Py_None ? nullptr : Py_NewRef(cls));  // the same key again: the newer class measures
    for (PyObject* o : uc.free) Py_DECREF(o);
    uc.free.clear();
    uc.name       = name;
    uc.n          = n;
    uc.has_start  = has[0] != 0;
    uc.has_stop   = has[1] != 0;
    uc.has_sample = has[2] != 0;
    uc.failed     = false;
    return PyLong_FromLong(index);
}

// _core.user_component_failed(index) -> bool: dropped after an exception
PyObject* component_failed(PyObject*, PyObject* arg) {
    const long index = PyLong_AsLong(arg);
    if (index == -1 && PyErr_Occurred()) return nullptr;
    UserClass* uc = class_of(static_cast<int>(index));
    return PyBool_FromLong(uc && uc->failed);
}

PyMethodDef methods[] = {
    {"register_user_component", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(register_component)),
     METH_FASTCALL,
     "register_user_component(cls, spec) -> index\nFill a free slot of the component table with a Python-defined "
     "component (timemory.component.register validates spec)."},
    {"user_component_failed", component_failed, METH_O,
     "user_component_failed(index) -> bool\nWhether the component was dropped after one of its methods raised."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int add_user_components(PyObject* module) { return PyModule_AddFunctions(module, methods); }

}  // namespace timemory_python
