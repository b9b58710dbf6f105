#include "hot_types.hpp"

#include <frameobject.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <new>

#include "timemory/components/perf_event.hpp"
#include "timemory/config.hpp"
#include "timemory/storage/call_graph.hpp"

namespace timemory_python {
namespace {

using tim::Bundle;
using tim::ComponentInfo;
using tim::max_values;

PyObject* g_name_cache = nullptr;      // str -> int, names already resolved
PyObject* g_format_args = nullptr;     // timemory.bundle._format_call_args, set lazily
PyObject* g_component_classes[128] = {};  // enum -> Python class (for make_component)

const ComponentInfo& info_of(int index) { return tim::component_table()[static_cast<std::size_t>(index)]; }

// ------------------------------------------------------------------ resolution
int resolve_one(PyObject* item, IndexList& out, bool measurable_only);

int add_index(int index, IndexList& out, bool measurable_only) {
    if (index < 0 || index >= tim::component_count() || info_of(index).class_name.empty()) {
        PyErr_Format(PyExc_ValueError, "Unknown component index %d. Valid choices are: %s", index,
                     valid_component_choices().c_str());
        return -1;
    }
    const auto& info = info_of(index);
    if (measurable_only && (!info.available || !info.has_value)) return 0;
    for (int i : out)
        if (i == index) return 0;  // listed twice: measure once
    out.push_back(index);
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
    int index = tim::find_component(s);
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
        return add_index(static_cast<int>(v), out, measurable_only);
    }
    if (PyType_Check(item)) {
        PyObject* idx = PyObject_GetAttrString(item, "_index");
        if (!idx) {
            PyErr_Clear();
        } else {
            long v = PyLong_AsLong(idx);
            Py_DECREF(idx);
            if (v == -1 && PyErr_Occurred()) return -1;
            return add_index(static_cast<int>(v), out, measurable_only);
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

// ------------------------------------------------------------------ labels
enum Mode { mode_blank = 0, mode_basic = 1, mode_full = 2, mode_defer = 3 };

int parse_mode(PyObject* obj, int* mode) {
    *mode = mode_defer;
    if (!obj || obj == Py_None) return 0;
    if (PyLong_Check(obj)) {
        long v = PyLong_AsLong(obj);
        if (v >= 0 && v <= 3) *mode = static_cast<int>(v);
        return 0;
    }
    const char* s = PyUnicode_Check(obj) ? PyUnicode_AsUTF8(obj) : nullptr;
    if (!s) {
        PyErr_SetString(PyExc_TypeError, "mode must be one of 'defer', 'blank', 'basic', 'full'");
        return -1;
    }
    if (!std::strcmp(s, "blank")) *mode = mode_blank;
    else if (!std::strcmp(s, "basic")) *mode = mode_basic;
    else if (!std::strcmp(s, "full")) *mode = mode_full;
    else if (!std::strcmp(s, "defer")) *mode = mode_defer;
    else {
        PyErr_Format(PyExc_ValueError, "unknown mode '%s'. Valid choices are: defer, blank, basic, full", s);
        return -1;
    }
    return 0;
}

std::string basename_of(const char* path) {
    const char* slash = std::strrchr(path, '/');
    return slash ? slash + 1 : path;
}

void strip_slashes(std::string& s) {
    auto b = s.find_first_not_of('/');
    if (b == std::string::npos) {
        s.clear();
        return;
    }
    auto e = s.find_last_not_of('/');
    s = s.substr(b, e - b + 1);
}

// func[args][@file:line]/key, stripped of '/'
std::string compose_label(int mode, const std::string& func, const std::string& args, const std::string& file,
                          int line, const std::string& key) {
    std::string s;
    if (mode == mode_blank) {
        s = key + args;
    } else {
        s = func + args;
        if (mode == mode_full) s += "@" + file + ":" + std::to_string(line);
        s += "/" + key;
    }
    strip_slashes(s);
    return s;
}

// ------------------------------------------------------------------ Marker
// A measurement started while the marker's own one was running: re-entered
// recursively, or entered by another thread (a marker object shared by threads).
struct NestedBundle {
    std::unique_ptr<Bundle> bundle;
    tim::ThreadData*        owner;
};

struct MarkerObject {
    PyObject_HEAD
    PyObject*         components;  // as given (list, str, callable...)
    PyObject*         key;         // str
    int               mode;
    bool              add_args;
    bool              report_at_exit;
    bool              lazy;        // components is a callable evaluated at each use
    bool              constructed; // the C++ members below are alive
    signed char       flat;        // -1: follow settings.flat_profile at each use
    signed char       timeline;    // -1: follow settings.timeline_profile
    PyObject*         weakrefs;
    // C++ members, placement-constructed right after allocation so a `with`
    // costs no heap allocation beyond the object itself
    IndexList         indices;
    Bundle            bundle;      // the context-manager measurement
    std::vector<NestedBundle> nested;  // started while `bundle` was running
};

// Markers are created and destroyed once per `with`: keep a few dead ones
// (C++ members alive) for reuse instead of malloc + zeroing ~450 bytes.
constexpr int  marker_freelist_capacity = 16;
MarkerObject*  marker_freelist[marker_freelist_capacity];
int            marker_freelist_size = 0;

extern PyTypeObject MarkerType;

MarkerObject* alloc_marker(PyTypeObject* tp) {
    if (tp == &MarkerType && marker_freelist_size > 0) {
        auto* self = marker_freelist[--marker_freelist_size];
        PyObject_Init(reinterpret_cast<PyObject*>(self), tp);
        return self;
    }
    auto* self = reinterpret_cast<MarkerObject*>(tp->tp_alloc(tp, 0));
    if (!self) return nullptr;
    new (&self->indices) IndexList();
    new (&self->bundle) Bundle();
    new (&self->nested) std::vector<NestedBundle>();
    self->constructed = true;
    return self;
}

PyTypeObject MarkerType         = {PyVarObject_HEAD_INIT(nullptr, 0)};
PyTypeObject MarkedFunctionType = {PyVarObject_HEAD_INIT(nullptr, 0)};

int tristate(PyObject* obj, signed char* out) {
    *out = -1;
    if (!obj || obj == Py_None) return 0;
    int v = PyObject_IsTrue(obj);
    if (v < 0) return -1;
    *out = static_cast<signed char>(v);
    return 0;
}

int marker_setup(MarkerObject* self, PyObject* components, PyObject* key, PyObject* add_args,
                 PyObject* report_at_exit, PyObject* mode, PyObject* flat, PyObject* timeline) {
    if (tristate(flat, &self->flat) < 0 || tristate(timeline, &self->timeline) < 0) return -1;
    // the reference accepts (key, components) swapped
    if (components && PyUnicode_Check(components) && key && !PyUnicode_Check(key) && key != Py_None) {
        std::swap(components, key);
    }
    self->components = components ? components : PyList_New(0);
    if (components) Py_INCREF(components);
    if (!self->components) return -1;
    if (!key || key == Py_None) {
        self->key = PyUnicode_FromStringAndSize("", 0);
    } else if (PyUnicode_Check(key)) {
        Py_INCREF(key);
        self->key = key;
    } else {
        PyErr_Format(PyExc_TypeError, "key must be a str, not %.100s", Py_TYPE(key)->tp_name);
        return -1;
    }
    int flag = add_args ? PyObject_IsTrue(add_args) : 0;
    if (flag < 0) return -1;
    self->add_args = flag != 0;
    flag           = report_at_exit ? PyObject_IsTrue(report_at_exit) : 0;
    if (flag < 0) return -1;
    self->report_at_exit = flag != 0;
    if (parse_mode(mode, &self->mode) < 0) return -1;
    self->lazy = PyCallable_Check(self->components) && !PyType_Check(self->components);
    if (!self->lazy) return resolve_components(self->components, self->indices, true);
    return 0;
}

PyObject* marker_vectorcall(PyObject* type, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
    static const char* names[] = {"components", "key", "add_args", "is_class", "report_at_exit", "mode",
                                  "flat", "timeline"};
    constexpr int      nnames  = 8;
    PyObject*          vals[nnames] = {};
    Py_ssize_t         nargs   = PyVectorcall_NARGS(nargsf);
    if (nargs > 6) {
        PyErr_SetString(PyExc_TypeError, "marker() takes at most 6 positional arguments");
        return nullptr;
    }
    for (Py_ssize_t i = 0; i < nargs; ++i) vals[i] = args[i];
    if (kwnames) {
        static PyObject* interned[nnames] = {};
        if (!interned[0])
            for (int j = 0; j < nnames; ++j) interned[j] = PyUnicode_InternFromString(names[j]);
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(kwnames); ++k) {
            PyObject*   name = PyTuple_GET_ITEM(kwnames, k);
            int         j    = 0;
            while (j < nnames && name != interned[j]) ++j;  // call-site names are interned
            const char* kw = j < nnames ? names[j] : PyUnicode_AsUTF8(name);
            if (!kw) return nullptr;
            if (j == nnames)
                for (j = 0; j < nnames; ++j)
                    if (!std::strcmp(kw, names[j])) break;
            if (j == nnames) {
                PyErr_Format(PyExc_TypeError, "marker() got an unexpected keyword argument '%s'", kw);
                return nullptr;
            }
            if (vals[j]) {
                PyErr_Format(PyExc_TypeError, "marker() got multiple values for argument '%s'", kw);
                return nullptr;
            }
            vals[j] = args[nargs + k];
        }
    }
    auto* self = alloc_marker(reinterpret_cast<PyTypeObject*>(type));
    if (!self) return nullptr;
    if (marker_setup(self, vals[0], vals[1], vals[2], vals[4], vals[5], vals[6], vals[7]) < 0) {
        Py_DECREF(self);
        return nullptr;
    }
    return reinterpret_cast<PyObject*>(self);
}

PyObject* marker_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
    static const char* kwlist[] = {"components", "key", "add_args", "is_class", "report_at_exit", "mode",
                                   "flat", "timeline", nullptr};
    PyObject *components = nullptr, *key = nullptr, *add_args = nullptr, *is_class = nullptr, *rae = nullptr,
             *mode = nullptr, *flat = nullptr, *timeline = nullptr;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OOOOOO$OO:marker", const_cast<char**>(kwlist), &components,
                                     &key, &add_args, &is_class, &rae, &mode, &flat, &timeline))
        return nullptr;
    auto* self = alloc_marker(type);
    if (!self) return nullptr;
    if (marker_setup(self, components, key, add_args, rae, mode, flat, timeline) < 0) {
        Py_DECREF(self);
        return nullptr;
    }
    return reinterpret_cast<PyObject*>(self);
}

int marker_init(PyObject*, PyObject*, PyObject*) { return 0; }  // all done in __new__ (subclass-friendly)

void marker_dealloc(MarkerObject* self) {
    if (self->weakrefs) PyObject_ClearWeakRefs(reinterpret_cast<PyObject*>(self));
    if (self->constructed && Py_TYPE(self) == &MarkerType && marker_freelist_size < marker_freelist_capacity) {
        self->nested.clear();  // destructors stop what is still running: data kept
        self->bundle.stop();
        self->indices.clear();
        Py_CLEAR(self->components);
        Py_CLEAR(self->key);
        self->mode = mode_defer;
        self->add_args = self->report_at_exit = self->lazy = false;
        self->flat = self->timeline = -1;
        self->weakrefs = nullptr;
        marker_freelist[marker_freelist_size++] = self;
        return;
    }
    if (self->constructed) {
        using Nested = std::vector<NestedBundle>;
        self->nested.~Nested();
        self->bundle.~Bundle();  // stops a measurement left running: its data is kept
        self->indices.~IndexList();
    }
    Py_CLEAR(self->components);
    Py_CLEAR(self->key);
    Py_TYPE(self)->tp_free(reinterpret_cast<PyObject*>(self));
}


// Frame info of the code that holds the `with` (or the decorated function).
void caller_info(std::string& func, std::string& file, int& line) {
    PyFrameObject* frame = PyEval_GetFrame();
    if (!frame) {
        func = "<unknown>";
        file = "<unknown>";
        line = 0;
        return;
    }
    PyCodeObject* code = PyFrame_GetCode(frame);
    func               = PyUnicode_AsUTF8(code->co_name);
    file               = basename_of(PyUnicode_AsUTF8(code->co_filename));
    line               = PyFrame_GetLineNumber(frame);
    Py_DECREF(code);
}

PyObject* format_args(PyObject* func, PyObject* args_tuple, PyObject* kwargs) {
    if (!g_format_args) {
        PyObject* mod = PyImport_ImportModule("timemory.bundle");
        if (!mod) return nullptr;
        g_format_args = PyObject_GetAttrString(mod, "_format_call_args");
        Py_DECREF(mod);
        if (!g_format_args) return nullptr;
    }
    return PyObject_CallFunctionObjArgs(g_format_args, func ? func : Py_None, args_tuple ? args_tuple : Py_None,
                                        kwargs ? kwargs : Py_None, nullptr);
}

const IndexList* current_indices(MarkerObject* self, IndexList& scratch) {
    if (!self->lazy) return &self->indices;
    if (resolve_components(self->components, scratch, true) < 0) return nullptr;
    return &scratch;
}

bool scope_flat(const MarkerObject* m) { return m->flat < 0 ? tim::config().flat_profile : m->flat != 0; }
bool scope_timeline(const MarkerObject* m) {
    return m->timeline < 0 ? tim::config().timeline_profile : m->timeline != 0;
}

PyObject* marker_enter(MarkerObject* self, PyObject*) {
    Py_INCREF(self);
    if (!tim::config().enabled) return reinterpret_cast<PyObject*>(self);
    IndexList        scratch;
    const IndexList* idx = current_indices(self, scratch);
    if (!idx) {
        Py_DECREF(self);
        return nullptr;
    }
    int         mode = self->mode == mode_defer ? mode_blank : self->mode;
    Py_ssize_t  keylen = 0;
    const char* key    = PyUnicode_AsUTF8AndSize(self->key, &keylen);
    std::string label;
    std::string_view view(key, static_cast<std::size_t>(keylen));
    if (mode != mode_blank || self->add_args || keylen == 0) {
        std::string func, file, args;
        int         line = 0;
        caller_info(func, file, line);
        if (self->add_args) {
            PyFrameObject* frame = PyEval_GetFrame();
            PyObject*      s     = format_args(reinterpret_cast<PyObject*>(frame), nullptr, nullptr);
            if (!s) {
                Py_DECREF(self);
                return nullptr;
            }
            args = PyUnicode_AsUTF8(s);
            Py_DECREF(s);
        }
        // an empty key would give an empty label: name the enclosing function instead
        if (mode == mode_blank && keylen == 0) mode = mode_basic;
        label = compose_label(mode, func, args, file, line, std::string(view));
        view  = label;
    }
    Bundle* b = &self->bundle;
    if (b->running()) {
        self->nested.push_back({std::make_unique<Bundle>(), &tim::thread_data()});
        b = self->nested.back().bundle.get();
    }
    b->start(idx->data(), idx->size(), tim::hash_label(view), view, scope_flat(self),
             scope_timeline(self));
    return reinterpret_cast<PyObject*>(self);
}

PyObject* marker_exit(MarkerObject* self, PyObject* const*, Py_ssize_t) {
    if (self->nested.empty()) {
        self->bundle.stop();
        Py_RETURN_FALSE;
    }
    // stop the innermost measurement of *this* thread: with a marker shared by
    // threads, the last one started may belong to another thread
    auto* td = &tim::thread_data();
    for (auto i = self->nested.size(); i-- > 0;) {
        if (self->nested[i].owner == td) {
            self->nested.erase(self->nested.begin() + static_cast<std::ptrdiff_t>(i));  // destructor stops it
            Py_RETURN_FALSE;
        }
    }
    if (self->bundle.owner() == td) self->bundle.stop();
    Py_RETURN_FALSE;
}

PyObject* marker_call(PyObject* self_obj, PyObject* args, PyObject* kwargs);

PyMethodDef marker_methods[] = {
    {"__enter__", reinterpret_cast<PyCFunction>(marker_enter), METH_NOARGS, "Start measuring."},
    {"__exit__", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(marker_exit)), METH_FASTCALL,
     "Stop measuring; exceptions propagate."},
    {nullptr, nullptr, 0, nullptr}};

PyObject* marker_get_key(MarkerObject* self, void*) { return Py_NewRef(self->key); }
PyObject* marker_get_components(MarkerObject* self, void*) { return Py_NewRef(self->components); }
PyObject* marker_get_mode(MarkerObject* self, void*) {
    static const char* names[] = {"blank", "basic", "full", "defer"};
    return PyUnicode_FromString(names[self->mode]);
}
PyObject* marker_get_add_args(MarkerObject* self, void*) { return PyBool_FromLong(self->add_args); }

PyGetSetDef marker_getset[] = {
    {"key", reinterpret_cast<getter>(marker_get_key), nullptr, "label key", nullptr},
    {"components", reinterpret_cast<getter>(marker_get_components), nullptr, "components as given", nullptr},
    {"mode", reinterpret_cast<getter>(marker_get_mode), nullptr, "label mode", nullptr},
    {"add_args", reinterpret_cast<getter>(marker_get_add_args), nullptr, "append call arguments to the label",
     nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

// ------------------------------------------------------------------ MarkedFunction
struct MarkedFunctionObject {
    PyObject_HEAD
    PyObject*    func;
    MarkerObject* marker;
    PyObject*    label;  // str, computed at decoration (without args)
    std::uint64_t hash;
    vectorcallfunc vectorcall;
    PyObject*    dict;
    PyObject*    weakrefs;
};

PyObject* marked_vectorcall(PyObject* obj, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
    auto* self = reinterpret_cast<MarkedFunctionObject*>(obj);
    if (!tim::config().enabled) return PyObject_Vectorcall(self->func, args, nargsf, kwnames);
    IndexList        scratch;
    const IndexList* idx = current_indices(self->marker, scratch);
    if (!idx) return nullptr;
    Py_ssize_t  len   = 0;
    const char* label = PyUnicode_AsUTF8AndSize(self->label, &len);
    std::string with_args;
    std::string_view view(label, static_cast<std::size_t>(len));
    std::uint64_t hash = self->hash;
    if (self->marker->add_args) {
        Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
        PyObject*  tuple = PyTuple_New(nargs);
        PyObject*  kw    = kwnames ? PyDict_New() : nullptr;
        if (!tuple || (kwnames && !kw)) {
            Py_XDECREF(tuple);
            Py_XDECREF(kw);
            return nullptr;
        }
        for (Py_ssize_t i = 0; i < nargs; ++i) PyTuple_SET_ITEM(tuple, i, Py_NewRef(args[i]));
        if (kwnames)
            for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(kwnames); ++k)
                PyDict_SetItem(kw, PyTuple_GET_ITEM(kwnames, k), args[nargs + k]);
        PyObject* s = format_args(self->func, tuple, kw);
        Py_DECREF(tuple);
        Py_XDECREF(kw);
        if (!s) return nullptr;
        // the args go between the function name and the "/key" or "@file" part
        std::string base(view), a(PyUnicode_AsUTF8(s));
        Py_DECREF(s);
        auto cut  = base.find_first_of("@/");
        with_args = cut == std::string::npos ? base + a : base.substr(0, cut) + a + base.substr(cut);
        view      = with_args;
        hash      = tim::hash_label(view);
    }
    Bundle bundle;
    bundle.start(idx->data(), idx->size(), hash, view, scope_flat(self->marker),
                 scope_timeline(self->marker));
    PyObject* result = PyObject_Vectorcall(self->func, args, nargsf, kwnames);
    bundle.stop();  // also when the call raised: the time spent is still recorded
    return result;
}

PyObject* marker_call(PyObject* self_obj, PyObject* args, PyObject* kwargs) {
    auto*     self = reinterpret_cast<MarkerObject*>(self_obj);
    PyObject* func = nullptr;
    if (!PyArg_ParseTuple(args, "O:marker", &func) || (kwargs && PyDict_GET_SIZE(kwargs))) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "marker(...) decorates one callable");
        return nullptr;
    }
    if (!PyCallable_Check(func)) {
        PyErr_Format(PyExc_TypeError, "marker(...) decorates a callable, not %.100s", Py_TYPE(func)->tp_name);
        return nullptr;
    }
    // Label parts come from the function itself (its definition), which stays
    // right when the decorator is applied away from the definition.
    std::string name = "<callable>", file = "<unknown>";
    int         line = 0;
    if (PyObject* n = PyObject_GetAttrString(func, "__qualname__")) {
        if (PyUnicode_Check(n)) name = PyUnicode_AsUTF8(n);
        Py_DECREF(n);
    } else {
        PyErr_Clear();
        if (PyObject* n2 = PyObject_GetAttrString(func, "__name__")) {
            if (PyUnicode_Check(n2)) name = PyUnicode_AsUTF8(n2);
            Py_DECREF(n2);
        } else PyErr_Clear();
    }
    if (PyObject* code = PyObject_GetAttrString(func, "__code__")) {
        if (PyCode_Check(code)) {
            auto* c = reinterpret_cast<PyCodeObject*>(code);
            file    = basename_of(PyUnicode_AsUTF8(c->co_filename));
            line    = c->co_firstlineno;
        }
        Py_DECREF(code);
    } else {
        PyErr_Clear();
        std::string f;
        caller_info(f, file, line);
    }
    // "outer.<locals>.inner" reads better as "outer.inner"
    for (auto pos = name.find("<locals>."); pos != std::string::npos; pos = name.find("<locals>."))
        name.erase(pos, 9);
    int       mode  = self->mode == mode_defer ? mode_basic : self->mode;
    auto      label = compose_label(mode, name, "", file, line, PyUnicode_AsUTF8(self->key));
    auto*     obj   = PyObject_GC_New(MarkedFunctionObject, &MarkedFunctionType);
    if (!obj) return nullptr;
    obj->func       = Py_NewRef(func);
    obj->marker     = reinterpret_cast<MarkerObject*>(Py_NewRef(self_obj));
    obj->label      = PyUnicode_FromStringAndSize(label.data(), static_cast<Py_ssize_t>(label.size()));
    obj->hash       = tim::hash_label(label);
    obj->vectorcall = marked_vectorcall;
    obj->dict       = nullptr;
    obj->weakrefs   = nullptr;
    PyObject_GC_Track(obj);
    if (!obj->label) {
        Py_DECREF(obj);
        return nullptr;
    }
    // functools.update_wrapper: __name__, __doc__, __wrapped__... for introspection
    PyObject* functools = PyImport_ImportModule("functools");
    PyObject* res       = functools ? PyObject_CallMethod(functools, "update_wrapper", "OO", obj, func) : nullptr;
    Py_XDECREF(functools);
    if (!res) {
        Py_DECREF(obj);
        return nullptr;
    }
    Py_DECREF(res);
    return reinterpret_cast<PyObject*>(obj);
}

void marked_dealloc(MarkedFunctionObject* self) {
    PyObject_GC_UnTrack(self);
    if (self->weakrefs) PyObject_ClearWeakRefs(reinterpret_cast<PyObject*>(self));
    Py_CLEAR(self->func);
    Py_CLEAR(self->marker);
    Py_CLEAR(self->label);
    Py_CLEAR(self->dict);
    PyObject_GC_Del(self);
}

int marked_traverse(MarkedFunctionObject* self, visitproc visit, void* arg) {
    Py_VISIT(self->func);
    Py_VISIT(self->marker);
    Py_VISIT(self->dict);
    return 0;
}

int marked_clear(MarkedFunctionObject* self) {
    Py_CLEAR(self->func);
    Py_CLEAR(self->marker);
    Py_CLEAR(self->dict);
    return 0;
}

// methods: bind like a function
PyObject* marked_descr_get(PyObject* self, PyObject* obj, PyObject*) {
    if (!obj || obj == Py_None) return Py_NewRef(self);
    return PyMethod_New(self, obj);
}

PyObject* marked_get_label(MarkedFunctionObject* self, void*) { return Py_NewRef(self->label); }
PyObject* marked_get_marker(MarkedFunctionObject* self, void*) {
    return Py_NewRef(reinterpret_cast<PyObject*>(self->marker));
}

PyGetSetDef marked_getset[] = {
    {"__timemory_label__", reinterpret_cast<getter>(marked_get_label), nullptr, "the recorded label", nullptr},
    {"__timemory_marker__", reinterpret_cast<getter>(marked_get_marker), nullptr, "the decorating marker",
     nullptr},
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, nullptr, nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

// pickled by reference, as the function it decorates is (multiprocessing sends the
// decorated module-level function to pool workers): the name is looked up in __module__
PyObject* marked_reduce(PyObject* self, PyObject*) { return PyObject_GetAttrString(self, "__qualname__"); }

PyMethodDef marked_methods[] = {
    {"__reduce__", marked_reduce, METH_NOARGS, "Pickled by qualified name, like a function."},
    {nullptr, nullptr, 0, nullptr}};

PyObject* marked_repr(MarkedFunctionObject* self) {
    return PyUnicode_FromFormat("<timemory marked function %U>", self->label);
}

// ------------------------------------------------------------------ Component
struct ComponentObject {
    PyObject_HEAD
    const ComponentInfo* info;
    PyObject*            key;
    tim::Entry           entry;
    double               start[max_values];
    bool                 running;
    // push()/pop() into the call graph
    bool                 pushed;
    tim::CallGraph*      graph;
    std::int32_t         node;
    std::int32_t         prev;
    std::uint64_t        generation;
    std::int64_t         laps_at_push;
    double               accum_at_push[max_values];
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
    (void) info;
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
        self->node = self->graph->push(tim::hash_label(label), label, cfg.flat_profile, cfg.timeline_profile);
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
                double value[max_values];
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
        s += " " + (!self->info->sub_labels.empty() ? self->info->sub_labels[static_cast<std::size_t>(i)] : self->info->label);
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


int resolve_components(PyObject* spec, IndexList& out, bool measurable_only) {
    if (!g_name_cache && !(g_name_cache = PyDict_New())) return -1;
    if (PyList_Check(spec) || PyTuple_Check(spec)) {
        PyObject*  fast = PySequence_Fast(spec, "components");
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

namespace {
// The Python class of a component (WallClock, ...). timemory.component makes its classes on
// first use and registers each one here; a component the program has not named yet gets its
// class made now. Falls back to the base type if that fails (the error is cleared: the
// caller wants an object, and the base type has every method).
PyTypeObject* component_class(int index) {
    if (index < 0 || index >= 128) return &ComponentType;
    if (!g_component_classes[index]) {
        PyObject* mod = PyImport_ImportModule("timemory.component");
        PyObject* cls = mod ? PyObject_CallMethod(mod, "_class_for", "i", index) : nullptr;
        Py_XDECREF(mod);
        Py_XDECREF(cls);  // _class_for registered it (register_component_class keeps a reference)
        if (!cls) PyErr_Clear();
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
    if (index < 0 || index >= 128 || !PyType_Check(cls)) {
        PyErr_SetString(PyExc_ValueError, "bad component class registration");
        return nullptr;
    }
    Py_XSETREF(g_component_classes[index], Py_NewRef(cls));
    Py_RETURN_NONE;
}
PyMethodDef module_methods[] = {
    {"_register_component_class", register_component_class, METH_VARARGS,
     "Associate a Python component class with its enum index."},
    {nullptr, nullptr, 0, nullptr}};
}  // namespace

int add_hot_types(PyObject* module) {
    MarkerType.tp_name        = "timemory._core.marker";
    MarkerType.tp_basicsize   = sizeof(MarkerObject);
    // Not GC-tracked: one is created per `with`, and GC-tracked allocations
    // trigger a generation-0 collection every 700 of them.
    MarkerType.tp_flags       = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE;
    MarkerType.tp_doc         = "marker(components=[], key='', add_args=False, is_class=False, report_at_exit=False, "
                                "mode='defer', *, flat=None, timeline=None)\n\nMeasure a block (with marker(...):) or every call of a function "
                                "(@marker(...)) into the call-graph storage.";
    MarkerType.tp_new         = marker_new;
    MarkerType.tp_init        = marker_init;
    MarkerType.tp_dealloc     = reinterpret_cast<destructor>(marker_dealloc);
    MarkerType.tp_methods     = marker_methods;
    MarkerType.tp_getset      = marker_getset;
    MarkerType.tp_call        = marker_call;
    MarkerType.tp_vectorcall  = marker_vectorcall;
    MarkerType.tp_weaklistoffset = offsetof(MarkerObject, weakrefs);

    MarkedFunctionType.tp_name      = "timemory._core.MarkedFunction";
    MarkedFunctionType.tp_basicsize = sizeof(MarkedFunctionObject);
    MarkedFunctionType.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL;
    MarkedFunctionType.tp_doc   = "A function measured on every call by a timemory marker.";
    MarkedFunctionType.tp_dealloc  = reinterpret_cast<destructor>(marked_dealloc);
    MarkedFunctionType.tp_traverse = reinterpret_cast<traverseproc>(marked_traverse);
    MarkedFunctionType.tp_clear    = reinterpret_cast<inquiry>(marked_clear);
    MarkedFunctionType.tp_vectorcall_offset = offsetof(MarkedFunctionObject, vectorcall);
    MarkedFunctionType.tp_call      = PyVectorcall_Call;
    MarkedFunctionType.tp_descr_get = marked_descr_get;
    MarkedFunctionType.tp_getset    = marked_getset;
    MarkedFunctionType.tp_methods   = marked_methods;
    MarkedFunctionType.tp_repr      = reinterpret_cast<reprfunc>(marked_repr);
    MarkedFunctionType.tp_dictoffset    = offsetof(MarkedFunctionObject, dict);
    MarkedFunctionType.tp_weaklistoffset = offsetof(MarkedFunctionObject, weakrefs);

    component_number.nb_add          = component_add;
    component_number.nb_subtract     = component_sub;
    component_number.nb_inplace_add  = component_iadd;
    component_number.nb_inplace_subtract = component_isub;
    ComponentType.tp_name      = "timemory._core.Component";
    ComponentType.tp_basicsize = sizeof(ComponentObject);
    ComponentType.tp_flags     = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE;
    ComponentType.tp_doc       = "Base of every component class (WallClock, PeakRss, ...).";
    ComponentType.tp_new       = component_new;
    ComponentType.tp_init      = component_init;
    ComponentType.tp_dealloc   = reinterpret_cast<destructor>(component_dealloc);
    ComponentType.tp_methods   = component_methods;
    ComponentType.tp_as_number = &component_number;
    ComponentType.tp_str       = reinterpret_cast<reprfunc>(component_str);
    ComponentType.tp_repr      = reinterpret_cast<reprfunc>(component_repr);

    for (auto* t : {&MarkerType, &MarkedFunctionType, &ComponentType})
        if (PyType_Ready(t) < 0) return -1;
    if (PyModule_AddObjectRef(module, "marker", reinterpret_cast<PyObject*>(&MarkerType)) < 0 ||
        PyModule_AddObjectRef(module, "MarkedFunction", reinterpret_cast<PyObject*>(&MarkedFunctionType)) < 0 ||
        PyModule_AddObjectRef(module, "Component", reinterpret_cast<PyObject*>(&ComponentType)) < 0)
        return -1;
    return PyModule_AddFunctions(module, module_methods);
}

}  // namespace timemory_python
