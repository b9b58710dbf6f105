// The marker type (`with marker(...)`, `@marker(...)`) and MarkedFunction, the function
// a marker decorates: their labels, the reuse of marker objects, and the start and stop of
// their bundles, all per call. The components are resolved once, when the marker is made
// (each use for a callable list).
#include "marker.hpp"

#include <frameobject.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "callbacks.hpp"
#include "compat.hpp"
#include "names.hpp"
#include "resolver.hpp"
#include "timemory/config.hpp"
#include "timemory/storage/call_graph.hpp"

namespace timemory_python {
namespace {

using tim::Bundle;

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

std::string basename_of(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

void strip_slashes(std::string& s) {
    auto b = s.find_first_not_of('/');
    if (b == std::string::npos) {
        s.clear();
        return;
    }
    auto e = s.find_last_not_of('/');
    s      = s.substr(b, e - b + 1);
}

// func[args][@file:line]/key, stripped of '/'
std::string compose_label(int mode, const std::string& func, const std::string& args, const std::string& file, int line,
                          const std::string& key) {
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
    PyObject*   components;  // as given (list, str, callable...)
    PyObject*   key;         // str
    int         mode;
    bool        add_args;
    bool        report_at_exit;
    bool        lazy;         // components is a callable evaluated at each use
    bool        constructed;  // the C++ members below are alive
    signed char flat;         // -1: follow settings.flat_profile at each use
    signed char timeline;     // -1: follow settings.timeline_profile
    PyObject*   weakrefs;
    // C++ members, placement-constructed right after allocation so a `with`
    // costs no heap allocation beyond the object itself
    IndexList                 indices;
    Bundle                    bundle;  // the context-manager measurement
    std::vector<NestedBundle> nested;  // started while `bundle` was running
};

// Markers are created and destroyed once per `with`: keep a few dead ones
// (C++ members alive) for reuse instead of malloc + zeroing ~450 bytes.
constexpr int marker_freelist_capacity = 16;
MarkerObject* marker_freelist[marker_freelist_capacity];
int           marker_freelist_size = 0;

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

// `with marker(["wall_clock"], key="k")` builds its list afresh on every use, of the same
// interned names each time: the indices those names resolve to are kept, found again by the
// identity of the items (held strongly, so no other object can take their addresses). What is
// kept is the resolution before the "measurable" filter, which is applied on every use, as
// resolve_components does: a component's availability can change at run time (perf events,
// roofline). Lists of anything but str (classes, callables, enum values) resolve every time.
struct SpecCacheSlot {
    static constexpr int max_items        = 4;
    PyObject*            items[max_items] = {};  // strong references
    Py_ssize_t           n                = -1;  // -1: empty slot
    IndexList            raw;                    // every named component, measurable or not
};
constexpr std::size_t spec_cache_slots = 16;
SpecCacheSlot         g_spec_cache[spec_cache_slots];

SpecCacheSlot* spec_slot(PyObject* const* items, Py_ssize_t n) {
    std::uintptr_t h = static_cast<std::uintptr_t>(n);
    for (Py_ssize_t i = 0; i < n; ++i) h = h * 31 + (reinterpret_cast<std::uintptr_t>(items[i]) >> 4);
    return &g_spec_cache[h % spec_cache_slots];
}

inline void measurable_from(const IndexList& raw, IndexList& out) {
    // the table is built once and never moves (call graphs keep pointers into it)
    static const auto& table = tim::component_table();
    for (int i : raw) {
        const auto& info = table[static_cast<std::size_t>(i)];
        if (info.available && info.has_value) out.push_back(i);
    }
}

// resolve_components(spec, out, true), through the cache for a list or tuple of str.
int resolve_spec(PyObject* spec, IndexList& out) {
    PyObject* const* items;
    Py_ssize_t       n;
    if (PyList_CheckExact(spec)) {
        items = PySequence_Fast_ITEMS(spec);
        n     = PyList_GET_SIZE(spec);
    } else if (PyTuple_CheckExact(spec)) {
        items = PySequence_Fast_ITEMS(spec);
        n     = PyTuple_GET_SIZE(spec);
    } else {
        return resolve_components(spec, out, true);
    }
    if (n == 0 || n > SpecCacheSlot::max_items) return resolve_components(spec, out, true);
    for (Py_ssize_t i = 0; i < n; ++i)
        if (!PyUnicode_CheckExact(items[i])) return resolve_components(spec, out, true);
    SpecCacheSlot* slot = spec_slot(items, n);
    bool           hit  = slot->n == n;
    for (Py_ssize_t i = 0; hit && i < n; ++i) hit = slot->items[i] == items[i];
    if (!hit) {
        PyObject* key[SpecCacheSlot::max_items] = {};
        for (Py_ssize_t i = 0; i < n; ++i) key[i] = Py_NewRef(items[i]);
        IndexList raw;
        const int rc = resolve_components(spec, raw, false);
        // resolving can run Python code (a user component's import) that changes the list:
        // what was resolved is kept only under the items it was resolved from
        bool same = rc == 0 && PySequence_Fast_GET_SIZE(spec) == n;
        for (Py_ssize_t i = 0; same && i < n; ++i) same = PySequence_Fast_ITEMS(spec)[i] == key[i];
        if (!same) {
            for (Py_ssize_t i = 0; i < n; ++i) Py_DECREF(key[i]);
            if (rc < 0) return -1;
            measurable_from(raw, out);
            return 0;
        }
        slot->n = -1;
        for (Py_ssize_t i = 0; i < SpecCacheSlot::max_items; ++i) Py_CLEAR(slot->items[i]);
        for (Py_ssize_t i = 0; i < n; ++i) slot->items[i] = key[i];
        slot->n   = n;
        slot->raw = raw;
    }
    measurable_from(slot->raw, out);
    return 0;
}

int marker_setup(MarkerObject* self, PyObject* components, PyObject* key, PyObject* add_args, PyObject* report_at_exit,
                 PyObject* mode, PyObject* flat, PyObject* timeline) {
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
    self->lazy = !PyList_CheckExact(self->components) && !PyTuple_CheckExact(self->components) &&
                 PyCallable_Check(self->components) && !PyType_Check(self->components);
    if (!self->lazy) return resolve_spec(self->components, self->indices);
    return 0;
}

PyObject* marker_vectorcall(PyObject* type, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
    static const char* names[]      = {"components",     "key",  "add_args", "is_class",
                                       "report_at_exit", "mode", "flat",     "timeline"};
    constexpr int      nnames       = 8;
    PyObject*          vals[nnames] = {};
    Py_ssize_t         nargs        = PyVectorcall_NARGS(nargsf);
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
            PyObject* name = PyTuple_GET_ITEM(kwnames, k);
            int       j    = 0;
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
    static const char* kwlist[]   = {"components", "key",  "add_args", "is_class", "report_at_exit",
                                     "mode",       "flat", "timeline", nullptr};
    PyObject *         components = nullptr, *key = nullptr, *add_args = nullptr, *is_class = nullptr, *rae = nullptr,
             *mode = nullptr, *flat = nullptr, *timeline = nullptr;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OOOOOO$OO:marker", const_cast<char**>(kwlist), &components, &key,
                                     &add_args, &is_class, &rae, &mode, &flat, &timeline))
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
        self->mode     = mode_defer;
        self->add_args = self->report_at_exit = self->lazy = false;
        self->flat = self->timeline             = -1;
        self->weakrefs                          = nullptr;
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
    func               = utf8_string(code->co_name);
    file               = basename_of(utf8_string(code->co_filename));
    line               = PyFrame_GetLineNumber(frame);
    Py_DECREF(code);
}

// The add_args part of a label, from timemory.bundle's formatter (registered when
// timemory.bundle is imported, which every public way to a marker does).
PyObject* format_args(PyObject* func, PyObject* args_tuple, PyObject* kwargs) {
    PyObject* formatter = format_call_args_callback();
    if (!formatter) {
        PyErr_SetString(PyExc_RuntimeError,
                        "marker(add_args=True) needs timemory.bundle's argument formatter: import timemory.bundle");
        return nullptr;
    }
    return PyObject_CallFunctionObjArgs(formatter, func ? func : Py_None, args_tuple ? args_tuple : Py_None,
                                        kwargs ? kwargs : Py_None, nullptr);
}

const IndexList* current_indices(MarkerObject* self, IndexList& scratch) {
    if (!self->lazy) return &self->indices;
    if (resolve_components(self->components, scratch, true) < 0) return nullptr;
    return &scratch;
}

// The key's UTF-8 and label hash, kept for the str object (keys in user code are interned
// constants, the same object on every use); the slot's reference keeps the UTF-8 alive.
struct KeyCacheSlot {
    PyObject*        key = nullptr;  // strong reference
    std::string_view utf8;
    std::uint64_t    hash = 0;
};
constexpr std::size_t key_cache_slots = 16;
KeyCacheSlot          g_key_cache[key_cache_slots];

// nullptr when the key has no UTF-8 form of its own (lone surrogates): not cached.
const KeyCacheSlot* cached_key(PyObject* key) {
    auto& slot = g_key_cache[(reinterpret_cast<std::uintptr_t>(key) >> 4) % key_cache_slots];
    if (slot.key == key) return &slot;
    Py_ssize_t  n    = 0;
    const char* utf8 = PyUnicode_AsUTF8AndSize(key, &n);
    if (!utf8) {
        PyErr_Clear();
        return nullptr;
    }
    Py_XSETREF(slot.key, Py_NewRef(key));
    slot.utf8 = {utf8, static_cast<std::size_t>(n)};
    slot.hash = tim::hash_label(slot.utf8);
    return &slot;
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
    int                 mode = self->mode == mode_defer ? mode_blank : self->mode;
    const KeyCacheSlot* kc   = cached_key(self->key);
    std::string         key_scratch;
    std::string_view    view   = kc ? kc->utf8 : utf8_name(self->key, key_scratch);
    const auto          keylen = view.size();
    std::string         label;
    bool                own_label = false;  // view is not the key's: hash it
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
            args = utf8_string(s);
            Py_DECREF(s);
        }
        // an empty key would give an empty label: name the enclosing function instead
        if (mode == mode_blank && keylen == 0) mode = mode_basic;
        label     = compose_label(mode, func, args, file, line, std::string(view));
        view      = label;
        own_label = true;
    }
    Bundle* b = &self->bundle;
    if (b->running()) {
        self->nested.push_back({std::make_unique<Bundle>(), &tim::thread_data()});
        b = self->nested.back().bundle.get();
    }
    const std::uint64_t hash = kc && !own_label ? kc->hash : tim::hash_label(view);
    b->start(idx->data(), idx->size(), hash, view, scope_flat(self), scope_timeline(self));
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

// ------------------------------------------------------------------ __enter__ / __exit__
// `with m:` looks both methods up on every use (_PyObject_LookupSpecial), binding each to the
// marker: with ordinary method descriptors that makes two GC-tracked builtin-method objects
// per `with` (allocation, GC link/unlink, trashcan, free: about a fifth of a marker's
// instructions). These descriptors bind into a small untracked object with vectorcall, taken
// from a free list, and called as methods (LOAD_METHOD, `m.__enter__()`) bind nothing at all.
using MethodFn = PyObject* (*)(MarkerObject*, PyObject* const*, Py_ssize_t);

PyObject* enter_method(MarkerObject* self, PyObject* const*, Py_ssize_t nargs) {
    if (nargs != 0) {
        PyErr_Format(PyExc_TypeError, "marker.__enter__() takes no arguments (%zd given)", nargs);
        return nullptr;
    }
    return marker_enter(self, nullptr);
}

struct MethodDescrObject {
    PyObject_HEAD
    MethodFn       fn;
    const char*    name;
    const char*    doc;
    vectorcallfunc vectorcall;
};

struct BoundMethodObject {
    PyObject_HEAD
    vectorcallfunc     vectorcall;
    MethodDescrObject* descr;   // borrowed: the descriptors live as long as the type
    MarkerObject*      marker;  // strong
};

PyTypeObject MethodDescrType = {PyVarObject_HEAD_INIT(nullptr, 0)};
PyTypeObject BoundMethodType = {PyVarObject_HEAD_INIT(nullptr, 0)};

int check_marker(PyObject* obj, const MethodDescrObject* d) {
    if (obj && PyObject_TypeCheck(obj, &MarkerType)) return 0;
    PyErr_Format(PyExc_TypeError, "descriptor '%s' requires a 'timemory._core.marker' object but received '%.100s'",
                 d->name, obj ? Py_TYPE(obj)->tp_name : "nothing");
    return -1;
}

// unbound: marker.__enter__(m), and LOAD_METHOD's m.__enter__() (the marker is args[0])
PyObject* descr_vectorcall(PyObject* obj, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
    auto*            d     = reinterpret_cast<MethodDescrObject*>(obj);
    const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (kwnames && PyTuple_GET_SIZE(kwnames)) {
        PyErr_Format(PyExc_TypeError, "marker.%s() takes no keyword arguments", d->name);
        return nullptr;
    }
    if (check_marker(nargs > 0 ? args[0] : nullptr, d) < 0) return nullptr;
    return d->fn(reinterpret_cast<MarkerObject*>(args[0]), args + 1, nargs - 1);
}

PyObject* bound_vectorcall(PyObject* obj, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
    auto* b = reinterpret_cast<BoundMethodObject*>(obj);
    if (kwnames && PyTuple_GET_SIZE(kwnames)) {
        PyErr_Format(PyExc_TypeError, "marker.%s() takes no keyword arguments", b->descr->name);
        return nullptr;
    }
    return b->descr->fn(b->marker, args, PyVectorcall_NARGS(nargsf));
}

constexpr int      bound_freelist_capacity = 8;
BoundMethodObject* bound_freelist[bound_freelist_capacity];
int                bound_freelist_size = 0;

PyObject* descr_get(PyObject* obj, PyObject* instance, PyObject*) {
    auto* d = reinterpret_cast<MethodDescrObject*>(obj);
    if (!instance || instance == Py_None) return Py_NewRef(obj);
    if (check_marker(instance, d) < 0) return nullptr;
    BoundMethodObject* b;
    if (bound_freelist_size > 0) {
        b = bound_freelist[--bound_freelist_size];
        PyObject_Init(reinterpret_cast<PyObject*>(b), &BoundMethodType);
    } else {
        b = PyObject_New(BoundMethodObject, &BoundMethodType);
        if (!b) return nullptr;
    }
    b->vectorcall = bound_vectorcall;
    b->descr      = d;
    b->marker     = reinterpret_cast<MarkerObject*>(Py_NewRef(instance));
    return reinterpret_cast<PyObject*>(b);
}

void bound_dealloc(BoundMethodObject* b) {
    MarkerObject* m = b->marker;
    b->marker       = nullptr;
    if (bound_freelist_size < bound_freelist_capacity) bound_freelist[bound_freelist_size++] = b;
    else PyObject_Free(b);
    Py_XDECREF(m);  // last: it may run the marker's dealloc, which stops a measurement left running
}

PyObject* descr_repr(MethodDescrObject* d) {
    return PyUnicode_FromFormat("<method '%s' of 'marker' objects>", d->name);
}
PyObject* descr_get_name(MethodDescrObject* d, void*) { return PyUnicode_FromString(d->name); }
PyObject* descr_get_qualname(MethodDescrObject* d, void*) { return PyUnicode_FromFormat("marker.%s", d->name); }
PyObject* descr_get_doc(MethodDescrObject* d, void*) { return PyUnicode_FromString(d->doc); }
PyObject* descr_get_objclass(MethodDescrObject*, void*) { return Py_NewRef(reinterpret_cast<PyObject*>(&MarkerType)); }

PyGetSetDef descr_getset[] = {{"__name__", reinterpret_cast<getter>(descr_get_name), nullptr, nullptr, nullptr},
                              {"__qualname__", reinterpret_cast<getter>(descr_get_qualname), nullptr, nullptr, nullptr},
                              {"__objclass__", reinterpret_cast<getter>(descr_get_objclass), nullptr, nullptr, nullptr},
                              {"__doc__", reinterpret_cast<getter>(descr_get_doc), nullptr, nullptr, nullptr},
                              {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyObject* bound_repr(BoundMethodObject* b) {
    return PyUnicode_FromFormat("<bound method marker.%s of %R>", b->descr->name,
                                reinterpret_cast<PyObject*>(b->marker));
}
PyObject* bound_get_self(BoundMethodObject* b, void*) { return Py_NewRef(reinterpret_cast<PyObject*>(b->marker)); }
PyObject* bound_get_func(BoundMethodObject* b, void*) { return Py_NewRef(reinterpret_cast<PyObject*>(b->descr)); }
PyObject* bound_get_name(BoundMethodObject* b, void*) { return PyUnicode_FromString(b->descr->name); }
PyObject* bound_get_doc(BoundMethodObject* b, void*) { return PyUnicode_FromString(b->descr->doc); }
PyObject* bound_get_qualname(BoundMethodObject* b, void*) { return PyUnicode_FromFormat("marker.%s", b->descr->name); }

PyGetSetDef bound_getset[] = {{"__self__", reinterpret_cast<getter>(bound_get_self), nullptr, nullptr, nullptr},
                              {"__func__", reinterpret_cast<getter>(bound_get_func), nullptr, nullptr, nullptr},
                              {"__name__", reinterpret_cast<getter>(bound_get_name), nullptr, nullptr, nullptr},
                              {"__qualname__", reinterpret_cast<getter>(bound_get_qualname), nullptr, nullptr, nullptr},
                              {"__doc__", reinterpret_cast<getter>(bound_get_doc), nullptr, nullptr, nullptr},
                              {nullptr, nullptr, nullptr, nullptr, nullptr}};

// Adds __enter__ and __exit__ to the ready marker type.
int add_marker_methods() {
    MethodDescrType.tp_name      = "timemory._core.marker_method";
    MethodDescrType.tp_basicsize = sizeof(MethodDescrObject);
    MethodDescrType.tp_flags     = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR;
    MethodDescrType.tp_vectorcall_offset = offsetof(MethodDescrObject, vectorcall);
    MethodDescrType.tp_call              = PyVectorcall_Call;
    MethodDescrType.tp_descr_get         = descr_get;
    MethodDescrType.tp_repr              = reinterpret_cast<reprfunc>(descr_repr);
    MethodDescrType.tp_getset            = descr_getset;

    BoundMethodType.tp_name              = "timemory._core.marker_bound_method";
    BoundMethodType.tp_basicsize         = sizeof(BoundMethodObject);
    BoundMethodType.tp_flags             = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL;
    BoundMethodType.tp_vectorcall_offset = offsetof(BoundMethodObject, vectorcall);
    BoundMethodType.tp_call              = PyVectorcall_Call;
    BoundMethodType.tp_dealloc           = reinterpret_cast<destructor>(bound_dealloc);
    BoundMethodType.tp_repr              = reinterpret_cast<reprfunc>(bound_repr);
    BoundMethodType.tp_getset            = bound_getset;
    for (auto* t : {&MethodDescrType, &BoundMethodType})
        if (PyType_Ready(t) < 0) return -1;

    struct Def {
        const char* name;
        MethodFn    fn;
        const char* doc;
    };
    static const Def defs[] = {{"__enter__", enter_method, "Start measuring."},
                               {"__exit__", marker_exit, "Stop measuring; exceptions propagate."}};
    for (const auto& def : defs) {
        auto* d = PyObject_New(MethodDescrObject, &MethodDescrType);
        if (!d) return -1;
        d->fn         = def.fn;
        d->name       = def.name;
        d->doc        = def.doc;
        d->vectorcall = descr_vectorcall;
        // the type's dict keeps the one reference: the type is static, so it is never freed
        const int rc = PyDict_SetItemString(MarkerType.tp_dict, def.name, reinterpret_cast<PyObject*>(d));
        Py_DECREF(d);
        if (rc < 0) return -1;
    }
    PyType_Modified(&MarkerType);
    return 0;
}

PyMethodDef marker_methods[] = {{nullptr, nullptr, 0, nullptr}};

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
    {"add_args", reinterpret_cast<getter>(marker_get_add_args), nullptr, "append call arguments to the label", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

// ------------------------------------------------------------------ MarkedFunction
struct MarkedFunctionObject {
    PyObject_HEAD
    PyObject*      func;
    MarkerObject*  marker;
    PyObject*      label;  // str, computed at decoration (without args)
    std::uint64_t  hash;
    vectorcallfunc vectorcall;
    PyObject*      dict;
    PyObject*      weakrefs;
};

PyObject* marked_vectorcall(PyObject* obj, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
    auto* self = reinterpret_cast<MarkedFunctionObject*>(obj);
    if (!tim::config().enabled) return PyObject_Vectorcall(self->func, args, nargsf, kwnames);
    IndexList        scratch;
    const IndexList* idx = current_indices(self->marker, scratch);
    if (!idx) return nullptr;
    std::string      label_scratch;
    std::string      with_args;
    std::string_view view = utf8_name(self->label, label_scratch);
    std::uint64_t    hash = self->hash;
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
        std::string base(view), a(utf8_string(s));
        Py_DECREF(s);
        auto cut  = base.find_first_of("@/");
        with_args = cut == std::string::npos ? base + a : base.substr(0, cut) + a + base.substr(cut);
        view      = with_args;
        hash      = tim::hash_label(view);
    }
    Bundle bundle;
    bundle.start(idx->data(), idx->size(), hash, view, scope_flat(self->marker), scope_timeline(self->marker));
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
        if (PyUnicode_Check(n)) name = utf8_string(n);
        Py_DECREF(n);
    } else {
        PyErr_Clear();
        if (PyObject* n2 = PyObject_GetAttrString(func, "__name__")) {
            if (PyUnicode_Check(n2)) name = utf8_string(n2);
            Py_DECREF(n2);
        } else PyErr_Clear();
    }
    if (PyObject* code = PyObject_GetAttrString(func, "__code__")) {
        if (PyCode_Check(code)) {
            auto* c = reinterpret_cast<PyCodeObject*>(code);
            file    = basename_of(utf8_string(c->co_filename));
            line    = c->co_firstlineno;
        }
        Py_DECREF(code);
    } else {
        PyErr_Clear();
        std::string f;
        caller_info(f, file, line);
    }
    // "outer.<locals>.inner" reads better as "outer.inner"
    for (auto pos = name.find("<locals>."); pos != std::string::npos; pos = name.find("<locals>.")) name.erase(pos, 9);
    int   mode  = self->mode == mode_defer ? mode_basic : self->mode;
    auto  label = compose_label(mode, name, "", file, line, utf8_string(self->key));
    auto* obj   = PyObject_GC_New(MarkedFunctionObject, &MarkedFunctionType);
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
    // functools.update_wrapper: __name__, __doc__, __wrapped__... for introspection.
    // Imported by name, unlike timemory's own helpers (callbacks.hpp): it is the standard
    // library, below every layer of the package, so importing it cannot reach up into them; and
    // timemory.bundle, through which markers are made, has loaded it (a sys.modules lookup).
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
    {"__timemory_marker__", reinterpret_cast<getter>(marked_get_marker), nullptr, "the decorating marker", nullptr},
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

}  // namespace

int add_marker_types(PyObject* module) {
    MarkerType.tp_name      = "timemory._core.marker";
    MarkerType.tp_basicsize = sizeof(MarkerObject);
    // Not GC-tracked: one is created per `with`, and GC-tracked allocations
    // trigger a generation-0 collection every 700 of them.
    MarkerType.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE;
    MarkerType.tp_doc =
        "marker(components=[], key='', add_args=False, is_class=False, report_at_exit=False, "
        "mode='defer', *, flat=None, timeline=None)\n\nMeasure a block (with marker(...):) or every call of a function "
        "(@marker(...)) into the call-graph storage.";
    MarkerType.tp_new            = marker_new;
    MarkerType.tp_init           = marker_init;
    MarkerType.tp_dealloc        = reinterpret_cast<destructor>(marker_dealloc);
    MarkerType.tp_methods        = marker_methods;
    MarkerType.tp_getset         = marker_getset;
    MarkerType.tp_call           = marker_call;
    MarkerType.tp_vectorcall     = marker_vectorcall;
    MarkerType.tp_weaklistoffset = offsetof(MarkerObject, weakrefs);

    MarkedFunctionType.tp_name              = "timemory._core.MarkedFunction";
    MarkedFunctionType.tp_basicsize         = sizeof(MarkedFunctionObject);
    MarkedFunctionType.tp_flags             = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL;
    MarkedFunctionType.tp_doc               = "A function measured on every call by a timemory marker.";
    MarkedFunctionType.tp_dealloc           = reinterpret_cast<destructor>(marked_dealloc);
    MarkedFunctionType.tp_traverse          = reinterpret_cast<traverseproc>(marked_traverse);
    MarkedFunctionType.tp_clear             = reinterpret_cast<inquiry>(marked_clear);
    MarkedFunctionType.tp_vectorcall_offset = offsetof(MarkedFunctionObject, vectorcall);
    MarkedFunctionType.tp_call              = PyVectorcall_Call;
    MarkedFunctionType.tp_descr_get         = marked_descr_get;
    MarkedFunctionType.tp_getset            = marked_getset;
    MarkedFunctionType.tp_methods           = marked_methods;
    MarkedFunctionType.tp_repr              = reinterpret_cast<reprfunc>(marked_repr);
    MarkedFunctionType.tp_dictoffset        = offsetof(MarkedFunctionObject, dict);
    MarkedFunctionType.tp_weaklistoffset    = offsetof(MarkedFunctionObject, weakrefs);

    for (auto* t : {&MarkerType, &MarkedFunctionType})
        if (PyType_Ready(t) < 0) return -1;
    if (add_marker_methods() < 0) return -1;
    if (PyModule_AddObjectRef(module, "marker", reinterpret_cast<PyObject*>(&MarkerType)) < 0 ||
        PyModule_AddObjectRef(module, "MarkedFunction", reinterpret_cast<PyObject*>(&MarkedFunctionType)) < 0)
        return -1;
    return 0;
}

}  // namespace timemory_python
