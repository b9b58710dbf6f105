// The Component type: one measurement of one component (start, stop, the values read in
// display or raw units, push/pop into the call graph, arithmetic), and the component
// objects made for stored values (make_component).
#include "component_type.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include "callbacks.hpp"
#include "compat.hpp"
#include "timemory/components/perf_event.hpp"
#include "timemory/config.hpp"
#include "timemory/storage/call_graph.hpp"

namespace timemory_python {
namespace {

using tim::ComponentInfo;
using tim::max_values;

// enum -> Python class (for make_component): the built-in components and the free slots of
// Python-defined ones (component_count() is 145)
constexpr int max_component_classes                      = 256;
PyObject*     g_component_classes[max_component_classes] = {};

const ComponentInfo& info_of(int index) { return tim::component_table()[static_cast<std::size_t>(index)]; }

struct ComponentObject {
    PyObject_HEAD
    const ComponentInfo* info;
    PyObject*            key;
    tim::Entry           entry;
    double               start[max_values];
    bool                 running;
    // push()/pop() into the call graph
    bool            pushed;
    tim::CallGraph* graph;
    std::int32_t    node;
    std::int32_t    prev;
    std::uint64_t   generation;
    std::int64_t    laps_at_push;
    double          accum_at_push[max_values];
};

PyTypeObject ComponentType = {PyVarObject_HEAD_INIT(nullptr, 0)};

int index_of_type(PyTypeObject* type) {
    PyObject* idx = PyObject_GetAttrString(reinterpret_cast<PyObject*>(type), "_index");
    if (!idx) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "%s is abstract: use a component class such as WallClock", type->tp_name);
        return -1;
    }
    long v = PyLong_AsLong(idx);
    Py_DECREF(idx);
    if (v < 0 || v >= tim::component_count()) {
        if (!PyErr_Occurred()) PyErr_Format(PyExc_ValueError, "invalid component index %ld", v);
        return -1;
    }
    return static_cast<int>(v);
}

ComponentObject* alloc_component(PyTypeObject* type, int index) {
    auto* self = reinterpret_cast<ComponentObject*>(type->tp_alloc(type, 0));
    if (!self) return nullptr;
    new (&self->entry) tim::Entry();
    self->info = &info_of(index);
    self->node = -1;
    return self;
}

PyObject* component_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
    static const char* kwlist[] = {"key", nullptr};
    PyObject*          key      = nullptr;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:Component", const_cast<char**>(kwlist), &key)) return nullptr;
    int index = index_of_type(type);
    if (index < 0) return nullptr;
    if (key && key != Py_None && !PyUnicode_Check(key)) {
        PyErr_Format(PyExc_TypeError, "key must be a str, not %.100s", Py_TYPE(key)->tp_name);
        return nullptr;
    }
    auto* self = alloc_component(type, index);
    if (!self) return nullptr;
    self->key = (key && key != Py_None) ? Py_NewRef(key) : PyUnicode_FromString(self->info->label.c_str());
    if (!self->key) {
        Py_DECREF(self);
        return nullptr;
    }
    return reinterpret_cast<PyObject*>(self);
}

int component_init(PyObject*, PyObject*, PyObject*) { return 0; }

// A started papi_vector / papi_array object counts as running (perf::g_running) until it
// stops, is reset or is freed: settings.papi_events cannot change under it.
void set_running(ComponentObject* self, bool running) {
    if (self->running != running && self->info->hw_counter) tim::perf::add_running(running ? 1 : -1);
    self->running = running;
}

void component_dealloc(ComponentObject* self) {
    set_running(self, false);
    Py_CLEAR(self->key);
    Py_TYPE(self)->tp_free(reinterpret_cast<PyObject*>(self));
}

bool measurable(const ComponentObject* self) { return self->info->available && self->info->has_value; }

PyObject* component_start(ComponentObject* self, PyObject*) {
    if (measurable(self)) {
        set_running(self, true);  // before the reading: the events must not change under it
        tim::read_now(*self->info, self->start);
    }
    return Py_NewRef(reinterpret_cast<PyObject*>(self));
}

PyObject* component_stop(ComponentObject* self, PyObject*) {
    if (self->running) {
        double stop[max_values], value[max_values];
        tim::read_now(*self->info, stop);
        tim::interval_value(*self->info, self->start, stop, value);
        self->entry.record(*self->info, value);
        set_running(self, false);
    }
    return Py_NewRef(reinterpret_cast<PyObject*>(self));
}

PyObject* values_to_python(const ComponentInfo& info, const double* v, int n, bool integral) {
    auto one = [integral](double x) -> PyObject* {
        return integral && std::isfinite(x) ? PyLong_FromLongLong(static_cast<long long>(std::llround(x)))
                                            : PyFloat_FromDouble(x);
    };
    (void)info;
    if (n == 1) return one(v[0]);
    PyObject* t = PyTuple_New(n);
    if (!t) return nullptr;
    for (int i = 0; i < n; ++i) {
        PyObject* x = one(v[i]);
        if (!x) {
            Py_DECREF(t);
            return nullptr;
        }
        PyTuple_SET_ITEM(t, i, x);
    }
    return t;
}

PyObject* component_get(ComponentObject* self, PyObject*) {
    if (!measurable(self)) Py_RETURN_NONE;
    double out[max_values];
    tim::display_values(*self->info, self->entry.accum, out);
    // counters (page faults, context switches, trip count...) are whole numbers: return ints
    bool counts = self->info->integral_raw;
    for (auto u : self->info->units) counts = counts && u == tim::Unit::count;
    return values_to_python(*self->info, out, self->info->n_disp, counts);
}

PyObject* component_get_accum(ComponentObject* self, PyObject*) {
    if (!measurable(self)) Py_RETURN_NONE;
    return values_to_python(*self->info, self->entry.accum, tim::stored_values(*self->info), self->info->integral_raw);
}

PyObject* component_get_value(ComponentObject* self, PyObject*) {
    if (!measurable(self)) Py_RETURN_NONE;
    return values_to_python(*self->info, self->entry.value, tim::stored_values(*self->info), self->info->integral_raw);
}

PyObject* component_measure(ComponentObject* self, PyObject*) {
    if (measurable(self)) tim::read_now(*self->info, self->entry.value);
    return Py_NewRef(reinterpret_cast<PyObject*>(self));
}

PyObject* component_reset(ComponentObject* self, PyObject*) {
    self->entry = tim::Entry();
    set_running(self, false);
    return Py_NewRef(reinterpret_cast<PyObject*>(self));
}

PyObject* component_noop(ComponentObject* self, PyObject*) { return Py_NewRef(reinterpret_cast<PyObject*>(self)); }

PyObject* component_laps(ComponentObject* self, PyObject*) { return PyLong_FromLongLong(self->entry.laps); }
PyObject* component_key(ComponentObject* self, PyObject*) { return Py_NewRef(self->key); }
PyObject* component_hash(ComponentObject* self, PyObject*) {
    Py_ssize_t  n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(self->key, &n);
    if (!s) return nullptr;
    return PyLong_FromUnsignedLongLong(tim::add_hash_id(std::string_view(s, static_cast<std::size_t>(n))));
}

PyObject* component_rekey(ComponentObject* self, PyObject* key) {
    if (!PyUnicode_Check(key)) {
        PyErr_SetString(PyExc_TypeError, "rekey() takes a str");
        return nullptr;
    }
    Py_SETREF(self->key, Py_NewRef(key));
    return Py_NewRef(reinterpret_cast<PyObject*>(self));
}

PyObject* component_push(ComponentObject* self, PyObject*) {
    if (measurable(self) && !self->pushed && tim::config().enabled) {
        Py_ssize_t  n = 0;
        const char* s = PyUnicode_AsUTF8AndSize(self->key, &n);
        if (!s) return nullptr;
        std::string_view label(s, static_cast<std::size_t>(n));
        auto&            cfg = tim::config();
        self->graph          = &tim::thread_data().graph(self->info->index);
        self->prev           = self->graph->current();
        self->node           = self->graph->push(tim::hash_label(label), label, cfg.flat_profile, cfg.timeline_profile);
        self->generation     = self->graph->generation();
        self->laps_at_push   = self->entry.laps;
        std::memcpy(self->accum_at_push, self->entry.accum, sizeof(self->accum_at_push));
        self->pushed = true;
    }
    return Py_NewRef(reinterpret_cast<PyObject*>(self));
}

PyObject* component_pop(ComponentObject* self, PyObject*) {
    if (self->pushed) {
        auto& g    = *self->graph;
        auto  laps = self->entry.laps - self->laps_at_push;
        if (self->generation == g.generation()) {
            if (self->node >= 0 && laps > 0) {
                double     value[max_values];
                const bool accumulates =
                    self->info->combine == tim::Combine::delta || self->info->combine == tim::Combine::trip;
                for (int i = 0; i < tim::stored_values(*self->info); ++i)
                    value[i] = accumulates ? self->entry.accum[i] - self->accum_at_push[i] : self->entry.value[i];
                g.record(self->node, value, laps);
            }
            g.pop(self->node, self->prev);
        }
        self->pushed = false;
    }
    return Py_NewRef(reinterpret_cast<PyObject*>(self));
}

// user-fed value (data trackers): one lap of `value`
PyObject* component_store(ComponentObject* self, PyObject* arg) {
    double v = PyFloat_AsDouble(arg);
    if (v == -1.0 && PyErr_Occurred()) return nullptr;
    if (measurable(self)) {
        double raw[max_values] = {v};
        self->entry.record(*self->info, raw);
    }
    return Py_NewRef(reinterpret_cast<PyObject*>(self));
}

PyObject* component_binary(PyObject* a, PyObject* b, bool add, bool inplace) {
    if (!PyObject_TypeCheck(a, &ComponentType) || !PyObject_TypeCheck(b, &ComponentType)) Py_RETURN_NOTIMPLEMENTED;
    auto* x = reinterpret_cast<ComponentObject*>(a);
    auto* y = reinterpret_cast<ComponentObject*>(b);
    if (x->info != y->info) {
        PyErr_Format(PyExc_TypeError, "cannot combine %s with %s", x->info->class_name.c_str(),
                     y->info->class_name.c_str());
        return nullptr;
    }
    ComponentObject* out = x;
    if (!inplace) {
        out = alloc_component(Py_TYPE(a), x->info->index);
        if (!out) return nullptr;
        out->key   = Py_NewRef(x->key);
        out->entry = x->entry;
    } else {
        Py_INCREF(out);
    }
    if (add) out->entry.merge(*x->info, y->entry);
    else {
        out->entry.subtract(*x->info, y->entry);
        out->entry.laps -= y->entry.laps;
    }
    return reinterpret_cast<PyObject*>(out);
}

PyObject* component_add(PyObject* a, PyObject* b) { return component_binary(a, b, true, false); }
PyObject* component_sub(PyObject* a, PyObject* b) { return component_binary(a, b, false, false); }
PyObject* component_iadd(PyObject* a, PyObject* b) { return component_binary(a, b, true, true); }
PyObject* component_isub(PyObject* a, PyObject* b) { return component_binary(a, b, false, true); }

PyNumberMethods component_number = {};

std::string format_value(double v, int precision) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%*.*f", 8, precision, v);
    return buf;
}

PyObject* component_str(ComponentObject* self) {
    if (!measurable(self)) return PyUnicode_FromFormat("%s (not available)", self->info->label.c_str());
    double out[max_values];
    tim::display_values(*self->info, self->entry.accum, out);
    std::string s;
    for (int i = 0; i < self->info->n_disp; ++i) {
        if (i) s += ", ";
        auto u = self->info->units[static_cast<std::size_t>(i)];
        s += format_value(out[i], self->info->precision);
        auto repr = tim::unit_repr(u);
        if (!repr.empty()) s += " " + repr;
        s += " " + (!self->info->sub_labels.empty() ? self->info->sub_labels[static_cast<std::size_t>(i)]
                                                    : self->info->label);
    }
    return PyUnicode_FromString(s.c_str());
}

PyObject* component_repr(ComponentObject* self) {
    PyObject* str = component_str(self);
    if (!str) return nullptr;
    PyObject* r = PyUnicode_FromFormat("<%s key=%R laps=%lld: %U>", Py_TYPE(self)->tp_name, self->key,
                                       static_cast<long long>(self->entry.laps), str);
    Py_DECREF(str);
    return r;
}

PyMethodDef component_methods[] = {
    {"start", reinterpret_cast<PyCFunction>(component_start), METH_NOARGS, "Begin a measurement; returns self."},
    {"stop", reinterpret_cast<PyCFunction>(component_stop), METH_NOARGS,
     "End a measurement: accumulate it and count a lap; returns self."},
    {"get", reinterpret_cast<PyCFunction>(component_get), METH_NOARGS,
     "Accumulated value in display units (float, or tuple for multi-valued); None if unavailable."},
    {"get_raw", reinterpret_cast<PyCFunction>(component_get_accum), METH_NOARGS,
     "Accumulated raw value (ns, bytes, counts)."},
    {"get_accum", reinterpret_cast<PyCFunction>(component_get_accum), METH_NOARGS, "Accumulated raw value."},
    {"get_value", reinterpret_cast<PyCFunction>(component_get_value), METH_NOARGS,
     "Raw value of the last interval (or of the last measure())."},
    {"get_last", reinterpret_cast<PyCFunction>(component_get_value), METH_NOARGS, "Alias of get_value()."},
    {"measure", reinterpret_cast<PyCFunction>(component_measure), METH_NOARGS,
     "Take a sample of the current raw reading into the value; returns self."},
    {"sample", reinterpret_cast<PyCFunction>(component_measure), METH_NOARGS, "Alias of measure()."},
    {"reset", reinterpret_cast<PyCFunction>(component_reset), METH_NOARGS, "Zero laps and values; returns self."},
    {"mark_begin", reinterpret_cast<PyCFunction>(component_noop), METH_NOARGS, "Marker hook (no-op)."},
    {"mark_end", reinterpret_cast<PyCFunction>(component_noop), METH_NOARGS, "Marker hook (no-op)."},
    {"push", reinterpret_cast<PyCFunction>(component_push), METH_NOARGS,
     "Insert into the call-graph storage under key(); returns self."},
    {"pop", reinterpret_cast<PyCFunction>(component_pop), METH_NOARGS,
     "Add what was measured since push() to the storage node and leave it; returns self."},
    {"laps", reinterpret_cast<PyCFunction>(component_laps), METH_NOARGS, "Number of completed start/stop laps."},
    {"key", reinterpret_cast<PyCFunction>(component_key), METH_NOARGS, "The label used by push()."},
    {"hash", reinterpret_cast<PyCFunction>(component_hash), METH_NOARGS, "Hash of key() (registered)."},
    {"rekey", reinterpret_cast<PyCFunction>(component_rekey), METH_O, "Change the label; returns self."},
    {"store", reinterpret_cast<PyCFunction>(component_store), METH_O,
     "Record one lap of a user-supplied value (data trackers); returns self."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

namespace {
// The Python class of a component (WallClock, ...). timemory.component makes its classes on
// first use and registers each one here; a component the program has not named yet gets its
// class made now, by the class maker timemory.component registered. Falls back to the base
// type without one, or if it fails (the error is cleared: the caller wants an object, and the
// base type has every method).
PyTypeObject* component_class(int index) {
    if (index < 0 || index >= max_component_classes) return &ComponentType;
    if (!g_component_classes[index]) {
        PyObject* maker = component_class_callback();
        PyObject* cls   = maker ? PyObject_CallFunction(maker, "i", index) : nullptr;
        if (cls && PyType_Check(cls) && PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(cls), &ComponentType))
            Py_XSETREF(g_component_classes[index], Py_NewRef(cls));
        Py_XDECREF(cls);
        if (PyErr_Occurred()) PyErr_Clear();
    }
    PyObject* cls = g_component_classes[index];
    return cls ? reinterpret_cast<PyTypeObject*>(cls) : &ComponentType;
}
}  // namespace

PyObject* make_component(int index, std::int64_t laps, const double* value, const double* accum) {
    auto* self = alloc_component(component_class(index), index);
    if (!self) return nullptr;
    self->key        = PyUnicode_FromString(self->info->label.c_str());
    self->entry.laps = laps;
    std::memcpy(self->entry.value, value, sizeof(double) * max_values);
    std::memcpy(self->entry.accum, accum, sizeof(double) * max_values);
    return reinterpret_cast<PyObject*>(self);
}

namespace {
PyObject* register_component_class(PyObject*, PyObject* args) {
    int       index = 0;
    PyObject* cls   = nullptr;
    if (!PyArg_ParseTuple(args, "iO:_register_component_class", &index, &cls)) return nullptr;
    if (index < 0 || index >= max_component_classes || !PyType_Check(cls)) {
        PyErr_SetString(PyExc_ValueError, "bad component class registration");
        return nullptr;
    }
    Py_XSETREF(g_component_classes[index], Py_NewRef(cls));
    Py_RETURN_NONE;
}
PyMethodDef module_methods[] = {{"_register_component_class", register_component_class, METH_VARARGS,
                                 "Associate a Python component class with its enum index."},
                                {nullptr, nullptr, 0, nullptr}};
}  // namespace

int add_component_type(PyObject* module) {
    component_number.nb_add              = component_add;
    component_number.nb_subtract         = component_sub;
    component_number.nb_inplace_add      = component_iadd;
    component_number.nb_inplace_subtract = component_isub;
    ComponentType.tp_name                = "timemory._core.Component";
    ComponentType.tp_basicsize           = sizeof(ComponentObject);
    ComponentType.tp_flags               = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE;
    ComponentType.tp_doc                 = "Base of every component class (WallClock, PeakRss, ...).";
    ComponentType.tp_new                 = component_new;
    ComponentType.tp_init                = component_init;
    ComponentType.tp_dealloc             = reinterpret_cast<destructor>(component_dealloc);
    ComponentType.tp_methods             = component_methods;
    ComponentType.tp_as_number           = &component_number;
    ComponentType.tp_str                 = reinterpret_cast<reprfunc>(component_str);
    ComponentType.tp_repr                = reinterpret_cast<reprfunc>(component_repr);

    if (PyType_Ready(&ComponentType) < 0) return -1;
    if (PyModule_AddObjectRef(module, "Component", reinterpret_cast<PyObject*>(&ComponentType)) < 0) return -1;
    return PyModule_AddFunctions(module, module_methods);
}

}  // namespace timemory_python
