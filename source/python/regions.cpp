// Named measurements pushed and popped by key: timemory.region (the C
// library's region API, never throttled) and the library trace API
// (timemory.trace.push/pop, throttled per thread). Both are called once per
// region from user code, so they are plain C functions taking the key as
// their only argument (METH_O); the per-thread stacks live in
// tim::hooks::RegionStack.
#include <Python.h>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "capi.hpp"
#include "compat.hpp"
#include "names.hpp"
#include "regions.hpp"
#include "resolver.hpp"
#include "timemory/components/component_info.hpp"
#include "timemory/config.hpp"
#include "timemory/hooks/regions.hpp"

namespace timemory_python {
namespace {

using tim::hooks::RegionKind;
using tim::hooks::RegionStack;
using tim::hooks::this_region_stack;

// A key: a str, or the int hash of a label registered with timemory.get_hash.
// `label` views the str (or `storage`), so it lives as long as the key does.
struct Key {
    std::uint64_t    hash = 0;
    std::string_view label;
    std::string      storage;
};

// needs_label: a push creates the node, so an int hash must name a known label.
bool parse_key(PyObject* obj, Key& key, bool needs_label) {
    if (PyUnicode_Check(obj)) {
        // a key that is not valid UTF-8 (surrogates) is recorded escaped, in key.storage
        key.label = utf8_name(obj, key.storage);
        key.hash  = tim::hash_label(key.label);
        return true;
    }
    if (!PyLong_Check(obj) || PyBool_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "the key must be a str or the int hash of one, not %.100s",
                     Py_TYPE(obj)->tp_name);
        return false;
    }
    key.hash = PyLong_AsUnsignedLongLong(obj);
    if (PyErr_Occurred()) {
        PyErr_Format(PyExc_ValueError, "%R is not a hash: hashes are unsigned 64-bit ints", obj);
        return false;
    }
    if (!needs_label) return true;
    key.storage = tim::get_hash_identifier(key.hash);
    if (key.storage.empty()) {
        PyErr_Format(PyExc_ValueError,
                     "unknown hash %llu: get it from timemory.get_hash(label), which registers the label",
                     static_cast<unsigned long long>(key.hash));
        return false;
    }
    key.label = key.storage;
    return true;
}

std::vector<int> wall_clock_only() { return {tim::find_component("wall_clock")}; }

// ------------------------------------------------------------------ timemory.region
// Function-local statics: the component table must not be read during static
// initialisation.
std::vector<int>& region_indices() {
    static std::vector<int> indices = wall_clock_only();
    return indices;
}

// begin()/end(): a region owned by its id rather than by a key on a thread.
std::unordered_map<unsigned long long, std::unique_ptr<tim::Bundle>> g_regions_by_id;
unsigned long long                                                   g_next_region_id = 1;

PyObject* py_region_set_components(PyObject*, PyObject* spec) {
    IndexList indices;
    if (indices_from_ints(spec, indices, true) < 0) return nullptr;
    region_indices().assign(indices.begin(), indices.end());
    capi_set_region_components(indices.data(), indices.size());  // the C API's regions too
    Py_RETURN_NONE;
}

PyObject* py_region_push(PyObject*, PyObject* obj) {
    Key key;
    if (!parse_key(obj, key, true)) return nullptr;
    const auto& indices = region_indices();
    this_region_stack(RegionKind::region_api)
        .push(key.hash, key.label, indices.data(), static_cast<int>(indices.size()));
    Py_RETURN_NONE;
}

PyObject* py_region_pop(PyObject*, PyObject* obj) {
    Key key;
    if (!parse_key(obj, key, false)) return nullptr;
    this_region_stack(RegionKind::region_api).pop(key.hash, nullptr);
    Py_RETURN_NONE;
}

PyObject* py_region_begin(PyObject*, PyObject* obj) {
    Key key;
    if (!parse_key(obj, key, true)) return nullptr;
    const auto& indices = region_indices();
    auto        bundle  = std::make_unique<tim::Bundle>();
    if (tim::config().enabled)
        bundle->start(indices.data(), static_cast<int>(indices.size()), key.hash, key.label, tim::config().flat_profile,
                      tim::config().timeline_profile);
    const unsigned long long id = g_next_region_id++;
    g_regions_by_id.emplace(id, std::move(bundle));
    return PyLong_FromUnsignedLongLong(id);
}

PyObject* py_region_end(PyObject*, PyObject* obj) {
    const unsigned long long id = PyLong_Check(obj) ? PyLong_AsUnsignedLongLong(obj) : 0;
    if (PyErr_Occurred()) PyErr_Clear();
    auto it = id ? g_regions_by_id.find(id) : g_regions_by_id.end();
    if (it == g_regions_by_id.end()) {
        PyErr_Format(PyExc_ValueError, "no region with id %R is running (ids come from begin(key))", obj);
        return nullptr;
    }
    g_regions_by_id.erase(it);  // the destructor stops it
    Py_RETURN_NONE;
}

// ------------------------------------------------------------------ library trace API
// What the trace library measures and its throttle limits, from Python
// (settings.trace_components, throttle_count, throttle_value). Asked again
// for every key new on a thread and after every throttle decision, so that
// changed settings apply without a Python call per push.
struct LibraryParams {
    PyObject*                  source  = nullptr;  // callable() -> (components, count, value_ns)
    bool                       stale   = true;
    bool                       failed  = false;  // report a broken source once
    std::vector<int>           indices = wall_clock_only();
    tim::hooks::ThrottleLimits limits{10000, 10000};
};
LibraryParams& library() {
    static LibraryParams params;
    return params;
}

void refresh_library_params() {
    auto& lib = library();
    lib.stale = false;
    if (!lib.source) return;
    PyObject*          res = PyObject_CallNoArgs(lib.source);
    IndexList          indices;
    unsigned long long count = 0, value = 0;
    const bool         ok = res && PyTuple_Check(res) && PyTuple_GET_SIZE(res) == 3 &&
                            indices_from_ints(PyTuple_GET_ITEM(res, 0), indices, true) == 0 &&
                            (count = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(res, 1)), !PyErr_Occurred()) &&
                            (value = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(res, 2)), !PyErr_Occurred());
    Py_XDECREF(res);
    if (!ok) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "the trace library's settings must be (component indices, int, int)");
        if (!lib.failed) PyErr_WriteUnraisable(lib.source);
        else PyErr_Clear();
        lib.failed = true;
        return;
    }
    lib.indices.assign(indices.begin(), indices.end());
    lib.limits = tim::hooks::ThrottleLimits{count, value};
}

PyObject* py_trace_library_configure(PyObject*, PyObject* source) {
    if (source != Py_None && !PyCallable_Check(source)) {
        PyErr_SetString(PyExc_TypeError, "trace_library_configure takes a callable or None");
        return nullptr;
    }
    auto& lib = library();
    Py_XSETREF(lib.source, source == Py_None ? nullptr : Py_NewRef(source));
    lib.stale  = true;
    lib.failed = false;
    Py_RETURN_NONE;
}

PyObject* py_trace_push(PyObject*, PyObject* obj) {
    Key key;
    if (!parse_key(obj, key, true)) return nullptr;
    auto& lib   = library();
    auto& stack = this_region_stack(RegionKind::trace_library);
    if (lib.stale || !stack.contains(key.hash)) refresh_library_params();
    stack.push(key.hash, key.label, lib.indices.data(), static_cast<int>(lib.indices.size()));
    Py_RETURN_NONE;
}

PyObject* py_trace_pop(PyObject*, PyObject* obj) {
    Key key;
    if (!parse_key(obj, key, false)) return nullptr;
    auto& lib   = library();
    auto& stack = this_region_stack(RegionKind::trace_library);
    if (stack.pop(key.hash, &lib.limits) == RegionStack::Pop::checked) lib.stale = true;
    Py_RETURN_NONE;
}

PyObject* py_trace_is_throttled(PyObject*, PyObject* obj) {
    Key key;
    if (!parse_key(obj, key, false)) return nullptr;
    return PyBool_FromLong(this_region_stack(RegionKind::trace_library).is_throttled(key.hash));
}

PyObject* py_trace_library_reset(PyObject*, PyObject*) {
    tim::hooks::reset_regions(RegionKind::trace_library);
    library().stale = true;
    Py_RETURN_NONE;
}

PyMethodDef region_method_table[] = {
    {"region_set_components", py_region_set_components, METH_O,
     "region_set_components(indices)\nComponents (enum indices) of the regions pushed or begun from now on."},
    {"region_push", py_region_push, METH_O,
     "region_push(key)\nStart a region (key: str, or the int hash of a registered label)."},
    {"region_pop", py_region_pop, METH_O, "region_pop(key)\nStop the newest region of key on this thread."},
    {"region_begin", py_region_begin, METH_O, "region_begin(key) -> int\nStart a region; end(id) stops it."},
    {"region_end", py_region_end, METH_O, "region_end(id)\nStop the region begin() returned id for."},
    {"trace_library_configure", py_trace_library_configure, METH_O,
     "trace_library_configure(source)\n"
     "source() -> (component indices, throttle_count, throttle_value_ns), asked for again when a key is new on a "
     "thread and after each throttle decision."},
    {"trace_push", py_trace_push, METH_O,
     "trace_push(key)\nStart a trace-library region (ignored while key is throttled on this thread)."},
    {"trace_pop", py_trace_pop, METH_O, "trace_pop(key)\nStop the newest trace-library region of key."},
    {"trace_is_throttled", py_trace_is_throttled, METH_O,
     "trace_is_throttled(key) -> bool\nWhether key is throttled on this thread."},
    {"trace_library_reset", py_trace_library_reset, METH_NOARGS,
     "Stop the trace-library regions of every thread and forget their throttling."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

PyMethodDef* region_methods() { return region_method_table; }

}  // namespace timemory_python
