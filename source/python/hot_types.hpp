#pragma once
// CPython C-API types for the per-call hot paths (marker enter/exit, decorated
// calls, component start/stop). pybind11 costs ~4x more per call here; see
// ARCHITECTURE.md "The seam between C++ and Python".
#include <Python.h>

#include <cstdint>
#include <string>
#include <vector>

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

namespace timemory_python {

// Component indices of a marker: inline for the common short lists, so
// creating a marker does not allocate.
class IndexList {
public:
    void push_back(int v) {
        if (n_ < inline_capacity) inline_[n_] = v;
        else {
            if (n_ == inline_capacity) heap_.assign(inline_, inline_ + inline_capacity);
            heap_.push_back(v);
        }
        ++n_;
    }
    void       clear() {
        n_ = 0;
        heap_.clear();
    }
    const int* data() const { return n_ <= inline_capacity ? inline_ : heap_.data(); }
    int        size() const { return n_; }
    const int* begin() const { return data(); }
    const int* end() const { return data() + n_; }

private:
    static constexpr int inline_capacity = 6;
    int                  inline_[inline_capacity];
    int                  n_ = 0;
    std::vector<int>     heap_;
};

// Adds Marker, MarkedFunction and Component to the module. Returns 0 / -1.
int add_hot_types(PyObject* module);

// Resolves a component spec (str, int/enum, Component subclass, callable, or
// a sequence of those) into enum indices; raises ValueError naming the valid
// choices for an unknown name. Unavailable and value-less components are
// dropped when `measurable_only`.
int resolve_components(PyObject* spec, IndexList& out, bool measurable_only);

// "cpu_clock, cpu_util, ..." — the names users may pass.
std::string valid_component_choices();

// New reference: a Component object of enum `index` holding `entry`-like data.
PyObject* make_component(int index, std::int64_t laps, const double* value, const double* accum);

}  // namespace timemory_python
