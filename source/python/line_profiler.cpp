// The line profiler's hook (timemory.line_profiler): a Py_tracefunc installed
// with PyEval_SetTrace, driving the shared line tracker (LineTracker) in
// inclusive mode into per-line counters (StatsSink), so no Python code runs
// per event. Only the code objects registered with line_profiler_add are
// profiled; they carry their table in a co_extra slot of their own. A frame
// of any other code gets its line events switched off at its call event
// (f_trace_lines = 0): from then on CPython does not call the hook for its
// lines, only for its call and return, which keep the frame stack right.
#include <Python.h>
#include <frameobject.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "compat.hpp"
#include "hook_support.hpp"
#include "line_hook.hpp"
#include "line_profiler.hpp"
#include "resolver.hpp"
#include "timemory/hooks/line_stats.hpp"
#include "timemory/hooks/line_tracker.hpp"

namespace timemory_python {
namespace {

using tim::hooks::g_line_session;
using tim::hooks::StatsLines;

constexpr const char* k_owner = "timemory.line_profiler";

Py_ssize_t g_extra_index = -1;
// Every table ever registered, indexed by id. Never freed: a registered code
// object is kept alive by the Python side, and ids must stay unique.
std::vector<std::unique_ptr<StatsLines>> g_tables;
PyObject*                                g_hook_object  = nullptr;  // what sys.gettrace() returns meanwhile
long                                     g_enable_count = 0;
int                                      g_component    = -1;  // measured by the running session

// The trace hooks the session replaced (the enabling thread's, those of
// threads hooked by a later enable), each restored exactly, on its own
// thread, at the session's end, whichever thread ends it.
SavedHooks g_saved_hooks;

bool session_is_ours() { return g_line_session.active && g_line_session.owner == k_owner; }

inline StatsLines* table_of(PyFrameObject* frame) {
    PyCodeObject* code  = PyFrame_GetCode(frame);
    void*         extra = nullptr;
    if (_PyCode_GetExtra(reinterpret_cast<PyObject*>(code), g_extra_index, &extra) < 0) {
        PyErr_Clear();
        extra = nullptr;
    }
    Py_DECREF(code);  // the frame keeps it alive
    return static_cast<StatsLines*>(extra);
}

int profile_callback(PyObject*, PyFrameObject* frame, int what, PyObject*) {
    if (!session_is_ours()) {
        // left on a thread that the end of the session could not reach
        put_back_own_trace(g_saved_hooks);
        return 0;
    }
    feed_line_tracker(frame, what, table_of, true);
    return 0;
}

// ------------------------------------------------------------------ Python functions
PyObject* scalar_choices() {
    std::string names;
    for (const auto& info : tim::component_table())
        if (!info.class_name.empty() && tim::hooks::is_line_scalar(info))
            names += (names.empty() ? "" : ", ") + info.id;
    return PyUnicode_FromString(names.c_str());
}

// line_profiler_component(indices) -> int: the one scalar component of `indices`, which
// Python resolved (timemory._components.resolve: an unknown name is refused there).
PyObject* py_component(PyObject*, PyObject* spec) {
    IndexList indices;
    if (indices_from_ints(spec, indices, false) < 0) return nullptr;
    if (indices.size() != 1) {
        PyObject* choices = scalar_choices();
        if (choices)
            PyErr_Format(PyExc_ValueError, "the line profiler measures one component, not %d. Valid choices are: %U",
                         static_cast<int>(indices.size()), choices);
        Py_XDECREF(choices);
        return nullptr;
    }
    const auto& info = tim::component_table()[static_cast<std::size_t>(indices.data()[0])];
    if (!tim::hooks::is_line_scalar(info)) {
        const char* why     = !info.available                          ? "is not available on this system"
                              : info.n_disp != 1 || info.n_raw != 1    ? "has more than one value per measurement"
                              : info.combine == tim::Combine::abs_pair ? "has more than one value per measurement"
                                                                       : "has values that do not add up over lines";
        PyObject*   choices = scalar_choices();
        if (choices)
            PyErr_Format(PyExc_ValueError,
                         "component '%s' %s; the line profiler needs a scalar component. Valid choices are: %U",
                         info.id.c_str(), why, choices);
        Py_XDECREF(choices);
        return nullptr;
    }
    return PyLong_FromLong(info.index);
}

PyObject* py_scalar_components(PyObject*, PyObject*) {
    PyObject* out = PyList_New(0);
    for (const auto& info : tim::component_table()) {
        if (!out || info.class_name.empty() || !tim::hooks::is_line_scalar(info)) continue;
        PyObject* v = PyLong_FromLong(info.index);
        if (!v || PyList_Append(out, v) < 0) Py_CLEAR(out);
        Py_XDECREF(v);
    }
    return out;
}

// line_profiler_add(code, lines) -> int: registers a code object (idempotent)
// with the line numbers it has code on; returns its table id.
PyObject* py_add(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyCode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "line_profiler_add(code, lines) takes a code object and line numbers");
        return nullptr;
    }
    void* extra = nullptr;
    if (_PyCode_GetExtra(args[0], g_extra_index, &extra) < 0) return nullptr;
    if (extra) return PyLong_FromLong(static_cast<StatsLines*>(extra)->id);
    PyObject* items = PySequence_Fast(args[1], "lines must be a sequence of line numbers");
    if (!items) return nullptr;
    std::vector<long> lines;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(items); ++i) {
        const long v = PyLong_AsLong(PySequence_Fast_GET_ITEM(items, i));
        if (v == -1 && PyErr_Occurred()) {
            Py_DECREF(items);
            return nullptr;
        }
        if (v > 0) lines.push_back(v);
    }
    Py_DECREF(items);
    auto t = std::make_unique<StatsLines>();
    t->id  = static_cast<int>(g_tables.size());
    if (!lines.empty()) {
        const auto [lo, hi] = std::minmax_element(lines.begin(), lines.end());
        t->first_line       = static_cast<int>(*lo);
        t->has_line.assign(static_cast<std::size_t>(*hi - *lo + 1), 0);
        for (long v : lines) t->has_line[static_cast<std::size_t>(v - *lo)] = 1;
    }
    if (_PyCode_SetExtra(args[0], g_extra_index, t.get()) < 0) return nullptr;
    g_tables.push_back(std::move(t));
    return PyLong_FromLong(g_tables.back()->id);
}

// line_profiler_enable(component) -> int: counts an enable; the first one
// starts the session and hooks this thread and the running threads without a
// tracer of their own. Returns the new count.
PyObject* py_enable(PyObject*, PyObject* arg) {
    const long component = PyLong_AsLong(arg);
    if (component == -1 && PyErr_Occurred()) return nullptr;
    if (component < 0 || component >= tim::component_count() ||
        !tim::hooks::is_line_scalar(tim::component_table()[static_cast<std::size_t>(component)])) {
        PyErr_Format(PyExc_ValueError, "line_profiler_enable: %ld is not a scalar component index", component);
        return nullptr;
    }
    if (g_line_session.active && !session_is_ours()) {
        PyErr_Format(PyExc_RuntimeError,
                     "cannot start the line profiler while %s is running (one line-level session at a "
                     "time): stop it first",
                     *g_line_session.owner ? g_line_session.owner : "another line tracer");
        return nullptr;
    }
    PyThreadState* self = PyThreadState_Get();
    if (g_enable_count == 0) {
        if (self->c_tracefunc != profile_callback && self->c_traceobj != g_hook_object)
            g_saved_hooks.save(self, self->c_tracefunc, self->c_traceobj);
        g_component = static_cast<int>(component);
        tim::hooks::begin_line_session({g_component}, tim::hooks::make_stats_sink, k_owner, true);
        rehook_other_threads(nullptr, profile_callback, g_hook_object, &g_saved_hooks);
        PyEval_SetTrace(profile_callback, g_hook_object);
    } else if (component != g_component) {
        const auto& running = tim::component_table()[static_cast<std::size_t>(g_component)];
        const auto& wanted  = tim::component_table()[static_cast<std::size_t>(component)];
        PyErr_Format(PyExc_RuntimeError, "cannot profile lines with %s while a line profiler measuring %s is enabled",
                     wanted.id.c_str(), running.id.c_str());
        return nullptr;
    } else if (self->c_tracefunc == nullptr) {
        // a thread that started without the threading hook (or lost it)
        PyEval_SetTrace(profile_callback, g_hook_object);
    }
    return PyLong_FromLong(++g_enable_count);
}

void end_session() {
    tim::hooks::end_line_session();
    auto ours = [](PyThreadState* ts) {
        return ts->c_tracefunc == profile_callback || ts->c_traceobj == g_hook_object;
    };
    g_saved_hooks.restore(
        profile_callback, [&](PyThreadState* ts) { return ours(ts) ? profile_callback : ts->c_tracefunc; },
        set_trace_of);
    rehook_other_threads(profile_callback, nullptr, nullptr, &g_saved_hooks);
    if (ours(PyThreadState_Get())) PyEval_SetTrace(nullptr, nullptr);
}

// line_profiler_disable() -> int: counts a disable; the one matching the
// first enable ends the session (open lines are recorded) and restores the
// hooks. Returns the new count.
PyObject* py_disable(PyObject*, PyObject*) {
    if (g_enable_count > 0 && --g_enable_count == 0 && session_is_ours()) end_session();
    return PyLong_FromLong(g_enable_count);
}

// line_profiler_reset(): ends the session whatever the count (at exit).
PyObject* py_reset(PyObject*, PyObject*) {
    g_enable_count = 0;
    if (session_is_ours()) end_session();
    Py_RETURN_NONE;
}

PyObject* py_state(PyObject*, PyObject*) {
    return Py_BuildValue("(lO)", g_enable_count, session_is_ours() ? Py_True : Py_False);
}

// line_profiler_stats(component) -> [(table id, lineno, hits, total raw value)]
PyObject* py_stats(PyObject*, PyObject* arg) {
    const long component = PyLong_AsLong(arg);
    if (component == -1 && PyErr_Occurred()) return nullptr;
    const auto counts = tim::hooks::collect_line_stats(static_cast<int>(component));
    PyObject*  out    = PyList_New(static_cast<Py_ssize_t>(counts.size()));
    for (std::size_t i = 0; out && i < counts.size(); ++i) {
        const auto& c    = counts[i];
        const int   line = g_tables[static_cast<std::size_t>(c.table)]->first_line + c.index;
        PyObject*   item = Py_BuildValue("(iiLd)", c.table, line, static_cast<long long>(c.hits), c.total);
        if (!item) Py_CLEAR(out);
        else PyList_SET_ITEM(out, static_cast<Py_ssize_t>(i), item);
    }
    return out;
}

PyObject* py_clear(PyObject*, PyObject*) {
    tim::hooks::clear_line_stats();
    Py_RETURN_NONE;
}

// line_profiler_function(frame, event, arg): the hook as a Python callable
// (threading.settrace); the calling thread switches to the native hook.
PyObject* py_hook_function(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    int what = -1;
    if (!parse_hook_call("line_profiler_function", args, nargs, what)) return nullptr;
    if (!session_is_ours()) {
        put_back_own_trace(g_saved_hooks);
        Py_RETURN_NONE;
    }
    PyEval_SetTrace(profile_callback, g_hook_object);
    if (what == PyTrace_CALL || what == PyTrace_LINE || what == PyTrace_RETURN)
        profile_callback(nullptr, reinterpret_cast<PyFrameObject*>(args[0]), what, args[2]);
    Py_RETURN_NONE;
}

#define LP_FN(f) reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(f))
PyMethodDef line_profiler_methods[] = {
    {"line_profiler_component", py_component, METH_O,
     "line_profiler_component(indices) -> int\nThe one scalar component of a list of enum indices (ValueError "
     "otherwise)."},
    {"line_profiler_scalar_components", py_scalar_components, METH_NOARGS,
     "Indices of the components the line profiler can measure."},
    {"line_profiler_add", LP_FN(py_add), METH_FASTCALL,
     "line_profiler_add(code, lines) -> int\nProfile the lines of a code object; returns its table id."},
    {"line_profiler_enable", py_enable, METH_O,
     "line_profiler_enable(component) -> int\nCount an enable (the first starts profiling); the new count."},
    {"line_profiler_disable", py_disable, METH_NOARGS,
     "line_profiler_disable() -> int\nCount a disable (the last stops profiling); the new count."},
    {"line_profiler_reset", py_reset, METH_NOARGS, "Stop profiling whatever the enable count."},
    {"line_profiler_state", py_state, METH_NOARGS, "line_profiler_state() -> (enable count, running)"},
    {"line_profiler_stats", py_stats, METH_O,
     "line_profiler_stats(component) -> [(table id, lineno, hits, total)]\nEvery thread's counts added up."},
    {"line_profiler_clear", py_clear, METH_NOARGS, "Forget every line count."},
    {nullptr, nullptr, 0, nullptr}};

PyMethodDef hook_function_def = {"line_profiler_function", LP_FN(py_hook_function), METH_FASTCALL,
                                 "line_profiler_function(frame, event, arg)\n"
                                 "The line profiler's hook as a Python callable (threading.settrace);\n"
                                 "it switches the calling thread to the native hook."};
#undef LP_FN

}  // namespace

int add_line_profiler(PyObject* module) {
    g_extra_index = _PyEval_RequestCodeExtraIndex(nullptr);
    if (g_extra_index < 0) {
        PyErr_SetString(PyExc_RuntimeError, "no code-object extra slot left for the line profiler");
        return -1;
    }
    return add_hook_functions(module, {line_profiler_methods}, &hook_function_def, &g_hook_object);
}

}  // namespace timemory_python
