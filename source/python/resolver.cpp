// The one component resolver of the native side (see resolver.hpp): a name cache keyed
// by the str object (names in user code are interned constants), comma-separated lists,
// enum values, component classes and callables, and the check of the indices the native
// hooks are handed.
#include "resolver.hpp"

#include <cstdint>

#include "callbacks.hpp"
#include "compat.hpp"
#include "hardware_counters.hpp"
#include "timemory/components/component_info.hpp"

namespace timemory_python {
namespace {

using tim::ComponentInfo;

PyObject* g_name_cache = nullptr;  // str -> int, names already resolved

const ComponentInfo& info_of(int index) { return tim::component_table()[static_cast<std::size_t>(index)]; }

int resolve_one(PyObject* item, IndexList& out, bool measurable_only);

// The index of a Python-defined component given as a class or a "module:Class" path, through
// timemory.component (registering the class if needed). -1 with no error set when `item` is
// not one; -1 with the error set when it is one that fails (its import, its attributes).
int resolve_user(PyObject* item) {
    PyObject* cb = user_component_callback();
    if (!cb) return -1;
    PyObject* r = PyObject_CallOneArg(cb, item);
    if (!r) return -1;
    const long v = r == Py_None ? -1 : PyLong_AsLong(r);
    Py_DECREF(r);
    if (v == -1 && PyErr_Occurred()) return -1;
    return static_cast<int>(v);
}

// `index` is a long so that an int too large for an int is refused, not wrapped into range.
int add_index(long index, IndexList& out, bool measurable_only) {
    if (index < 0 || index >= tim::component_count() || info_of(static_cast<int>(index)).class_name.empty()) {
        PyErr_Format(PyExc_ValueError, "Unknown component index %ld. Valid choices are: %s", index,
                     valid_component_choices().c_str());
        return -1;
    }
    const auto& info = info_of(static_cast<int>(index));
    if (measurable_only && (!info.available || !info.has_value)) return 0;
    for (int i : out)
        if (i == index) return 0;  // listed twice: measure once
    out.push_back(static_cast<int>(index));
    return 0;
}

// Names written in user code are interned constants, so the same str object
// comes back on every call: a pointer-identity cache resolves them without a
// C-API call (on 3.13 each dict lookup also costs thread-state TLS lookups).
struct NameCacheSlot {
    PyObject* name  = nullptr;  // strong reference
    int       index = -1;
};
constexpr std::size_t name_cache_slots = 64;
NameCacheSlot         g_name_slots[name_cache_slots];

inline NameCacheSlot& name_slot(PyObject* name) {
    return g_name_slots[(reinterpret_cast<std::uintptr_t>(name) >> 4) % name_cache_slots];
}

int resolve_name(PyObject* name, IndexList& out, bool measurable_only) {
    auto& slot = name_slot(name);
    if (slot.name == name) return add_index(slot.index, out, measurable_only);
    PyObject* cached = PyDict_GetItemWithError(g_name_cache, name);
    if (cached) {
        int index = static_cast<int>(PyLong_AsLong(cached));
        Py_INCREF(name);
        Py_XSETREF(slot.name, name);
        slot.index = index;
        return add_index(index, out, measurable_only);
    }
    if (PyErr_Occurred()) return -1;
    const char* utf8 = PyUnicode_AsUTF8(name);
    if (!utf8) return -1;
    // a comma/space separated list in one string, as in the *_COMPONENTS settings
    std::string s(utf8);
    if (s.find_first_of(", \t;") != std::string::npos) {
        std::size_t pos = 0;
        while (pos < s.size()) {
            auto end = s.find_first_of(", \t;", pos);
            if (end == std::string::npos) end = s.size();
            if (end > pos) {
                PyObject* part = PyUnicode_FromStringAndSize(s.data() + pos, static_cast<Py_ssize_t>(end - pos));
                if (!part) return -1;
                int rc = resolve_name(part, out, measurable_only);
                Py_DECREF(part);
                if (rc < 0) return -1;
            }
            pos = end + 1;
        }
        return 0;
    }
    int index = tim::find_component(s);  // "perf::<event>" too: made on first use
    if (index < 0 && perf_component_error(s) < 0) return -1;
    if (index >= 0 && note_component(index) < 0) return -1;
    if (index < 0 && s.find(':') != std::string::npos) index = resolve_user(name);  // "module:Class"
    if (index < 0 && PyErr_Occurred()) return -1;
    if (index < 0) {
        PyErr_Format(PyExc_ValueError, "Unknown component: '%s'. Valid choices are: %s", utf8,
                     valid_component_choices().c_str());
        return -1;
    }
    PyObject* value = PyLong_FromLong(index);
    if (!value || PyDict_SetItem(g_name_cache, name, value) < 0) {
        Py_XDECREF(value);
        return -1;
    }
    Py_DECREF(value);
    return add_index(index, out, measurable_only);
}

int resolve_one(PyObject* item, IndexList& out, bool measurable_only) {
    if (PyUnicode_Check(item)) return resolve_name(item, out, measurable_only);
    if (PyLong_Check(item)) {
        long v = PyLong_AsLong(item);
        if (v == -1 && PyErr_Occurred()) return -1;
        return add_index(v, out, measurable_only);
    }
    if (PyType_Check(item)) {
        // interned once: a fresh str each time would miss the type attribute cache (a marker
        // made per call with a component class resolves it every time)
        static PyObject* index_name = PyUnicode_InternFromString("_index");
        if (!index_name) return -1;
        PyObject* idx = PyObject_GetAttr(item, index_name);
        if (!idx || idx == Py_None) {  // None: a Python-defined component not registered yet
            if (!idx) PyErr_Clear();
            Py_XDECREF(idx);
            // a Python-defined component class not registered yet: register it now
            const int index = resolve_user(item);
            if (index >= 0) return add_index(index, out, measurable_only);
            if (PyErr_Occurred()) return -1;
        } else {
            long v = PyLong_AsLong(idx);
            Py_DECREF(idx);
            if (v == -1 && PyErr_Occurred()) return -1;
            return add_index(v, out, measurable_only);
        }
    }
    if (PyCallable_Check(item)) {
        PyObject* res = PyObject_CallNoArgs(item);
        if (!res) return -1;
        int rc = resolve_components(res, out, measurable_only);
        Py_DECREF(res);
        return rc;
    }
    if (PySequence_Check(item) && !PyBytes_Check(item)) return resolve_components(item, out, measurable_only);
    PyErr_Format(PyExc_TypeError,
                 "component must be a name (str), an enum value, a component class or a callable "
                 "returning those, not %.100s",
                 Py_TYPE(item)->tp_name);
    return -1;
}

}  // namespace

int resolve_components(PyObject* spec, IndexList& out, bool measurable_only) {
    if (!g_name_cache && !(g_name_cache = PyDict_New())) return -1;
    if (PyList_Check(spec) || PyTuple_Check(spec)) {
        PyObject* fast = PySequence_Fast(spec, "components");
        if (!fast) return -1;
        Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
        for (Py_ssize_t i = 0; i < n; ++i) {
            if (resolve_one(PySequence_Fast_GET_ITEM(fast, i), out, measurable_only) < 0) {
                Py_DECREF(fast);
                return -1;
            }
        }
        Py_DECREF(fast);
        return 0;
    }
    if (PyUnicode_Check(spec) || PyLong_Check(spec) || PyType_Check(spec) || PyCallable_Check(spec))
        return resolve_one(spec, out, measurable_only);
    if (PySequence_Check(spec) || PyIter_Check(spec) || PyAnySet_Check(spec)) {
        PyObject* it = PyObject_GetIter(spec);
        if (!it) return -1;
        while (PyObject* item = PyIter_Next(it)) {
            int rc = resolve_one(item, out, measurable_only);
            Py_DECREF(item);
            if (rc < 0) {
                Py_DECREF(it);
                return -1;
            }
        }
        Py_DECREF(it);
        return PyErr_Occurred() ? -1 : 0;
    }
    return resolve_one(spec, out, measurable_only);
}

std::string valid_component_choices() {
    std::string s;
    for (const auto& info : tim::component_table()) {
        if (info.class_name.empty() || !info.available) continue;
        if (!s.empty()) s += ", ";
        s += info.key;
    }
    return s + " (unavailable here: " + [] {
        std::string u;
        for (const auto& info : tim::component_table())
            if (!info.class_name.empty() && !info.available) u += (u.empty() ? "" : ", ") + info.key;
        return u;
    }() + "; aliases and ENUM names are accepted too)";
}
int indices_from_ints(PyObject* seq, IndexList& out, bool measurable_only) {
    if (!PyList_Check(seq) && !PyTuple_Check(seq)) {
        PyErr_Format(PyExc_TypeError,
                     "expected a list of component indices (timemory._components.resolve gives them), not %.100s",
                     Py_TYPE(seq)->tp_name);
        return -1;
    }
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t i = 0; i < n; ++i) {
        PyObject* item = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyLong_Check(item)) {
            PyErr_Format(PyExc_TypeError, "component indices are ints, not %.100s: resolve names first",
                         Py_TYPE(item)->tp_name);
            return -1;
        }
        const long v = PyLong_AsLong(item);
        if (v == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError, "Unknown component index %R", item);
            return -1;
        }
        if (add_index(v, out, measurable_only) < 0) return -1;
    }
    return 0;
}

}  // namespace timemory_python
