// The line profiler's hook (timemory.line_profiler): a Py_tracefunc installed
// with PyEval_SetTrace, driving the shared line tracker (LineTracker) in
// inclusive mode into per-line counters (StatsSink), so no Python code runs
// per event. Only the code objects registered with line_profiler_add are
// profiled; they carry their table in a co_extra slot of their own. A frame
// of any other code gets its line events switched off at its call event
// (f_trace_lines = 0): from then on CPython does not call the hook for its
// lines, only for its call and return, which keep the frame stack right.
//
// Turning profiling on and off by count (line_profiler's enable_by_count /
// disable_by_count) is native too: each LineProfiler has a switch
// (LineProfilerSwitch) counting its own enables, and the functions it decorates
// are wrapped by LineProfiledFunction, which flips the switch around the call
// without a Python frame of its own. A Python-level wrapper and enable/disable
// methods would run as traced Python code on every call of a decorated
// function (under PyEval_SetTrace every instruction of every frame pays the
// interpreter's tracing checks), which is most of the cost on recursive and
// call-heavy decorated code.
#include <Python.h>
#include <frameobject.h>

#include <algorithm>
#include <cstdint>
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

// ------------------------------------------------------------------ on and off
// threading's hook (threading.settrace) while a session runs, and the one it replaced
PyObject* g_threading       = nullptr;  // the module, imported at the first session
PyObject* g_saved_threading = nullptr;  // threading._trace_hook before the session (a reference)
bool      g_threading_set   = false;    // this session set threading._trace_hook
// Bumped by line_profiler_reset(): the enables counted before it are forgotten, so a
// profiler left enabled (a suspended decorated generator) cannot end a later session.
std::uint64_t g_reset_epoch = 0;

PyObject* trace_hook_name() {
    static PyObject* name = PyUnicode_InternFromString("_trace_hook");
    return name;
}

// threading.settrace(our hook), keeping what it had; errors are not the caller's: cleared
// (a thread started meanwhile then misses profiling, nothing else)
void hook_threading() {
    if (g_threading_set) return;  // still ours: what it had before is kept already
    if (!g_threading) g_threading = PyImport_ImportModule("threading");
    PyObject* name = trace_hook_name();
    if (!g_threading || !name) {
        PyErr_Clear();
        return;
    }
    PyObject* before = PyObject_GetAttr(g_threading, name);
    if (!before) {
        PyErr_Clear();
        before = Py_NewRef(Py_None);
    }
    if (PyObject_SetAttr(g_threading, name, g_hook_object) < 0) {
        PyErr_Clear();
        Py_DECREF(before);
        return;
    }
    Py_XSETREF(g_saved_threading, before);
    g_threading_set = true;
}

// threading.settrace(what it had), unless someone replaced our hook there meanwhile
void unhook_threading() {
    if (!g_threading_set) return;
    g_threading_set   = false;
    PyObject* saved   = g_saved_threading;
    g_saved_threading = nullptr;
    PyObject* name    = trace_hook_name();
    PyObject* now     = name ? PyObject_GetAttr(g_threading, name) : nullptr;
    if (now == g_hook_object && PyObject_SetAttr(g_threading, name, saved ? saved : Py_None) < 0) PyErr_Clear();
    if (!now) PyErr_Clear();
    Py_XDECREF(now);
    Py_XDECREF(saved);
}

// Starts the session (the first enable): hooks this thread, the running threads without a
// tracer of their own and the threads started from now on. -1 with an exception when
// another line-level session runs.
int start_session(int component) {
    if (g_line_session.active) {
        PyErr_Format(PyExc_RuntimeError,
                     "cannot start the line profiler while %s is running (one line-level session at a "
                     "time): stop it first",
                     *g_line_session.owner ? g_line_session.owner : "another line tracer");
        return -1;
    }
    PyThreadState* self = PyThreadState_Get();
    if (self->c_tracefunc != profile_callback && self->c_traceobj != g_hook_object)
        g_saved_hooks.save(self, self->c_tracefunc, self->c_traceobj);
    g_component = component;
    tim::hooks::begin_line_session({g_component}, tim::hooks::make_stats_sink, k_owner, true);
    rehook_other_threads(nullptr, profile_callback, g_hook_object, &g_saved_hooks);
    PyEval_SetTrace(profile_callback, g_hook_object);
    hook_threading();
    return 0;
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
    unhook_threading();
}

// One LineProfiler's switch: its component and how many of its enables are not matched
// by a disable yet. Every profiler counts into one process-wide count (g_enable_count):
// the first enable of any starts the session, the disable that matches the last ends it.
struct SwitchObject {
    PyObject_HEAD
    int           component;
    long          count;
    std::uint64_t epoch;  // g_reset_epoch when `count` was last changed
};

PyTypeObject SwitchType       = {PyVarObject_HEAD_INIT(nullptr, 0)};
PyTypeObject ProfiledFuncType = {PyVarObject_HEAD_INIT(nullptr, 0)};

long own_count(const SwitchObject* s) { return s->epoch == g_reset_epoch ? s->count : 0; }

// Counts an enable of `s`; -1 with an exception when profiling cannot start (another
// line-level session, or a profiler of another component, is running).
int switch_enable(SwitchObject* s) {
    if (g_enable_count == 0 || !session_is_ours()) {
        g_enable_count = 0;
        if (start_session(s->component) < 0) return -1;
    } else if (s->component != g_component) {
        const auto& running = tim::component_table()[static_cast<std::size_t>(g_component)];
        const auto& wanted  = tim::component_table()[static_cast<std::size_t>(s->component)];
        PyErr_Format(PyExc_RuntimeError, "cannot profile lines with %s while a line profiler measuring %s is enabled",
                     wanted.id.c_str(), running.id.c_str());
        return -1;
    } else if (PyThreadState_Get()->c_tracefunc == nullptr) {
        // a thread that started without the threading hook (or lost it)
        PyEval_SetTrace(profile_callback, g_hook_object);
    }
    s->count = own_count(s) + 1;
    s->epoch = g_reset_epoch;
    ++g_enable_count;
    return 0;
}

// Counts a disable of `s` (none if it has no enable left); the one matching the first
// enable ends the session: the open lines are recorded and the hooks restored.
void switch_disable(SwitchObject* s) {
    if (own_count(s) == 0) return;
    --s->count;
    if (g_enable_count > 0 && --g_enable_count == 0 && session_is_ours()) end_session();
}

PyObject* switch_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
    long               component = -1;
    static const char* kwlist[]  = {"component", nullptr};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "l:LineProfilerSwitch", const_cast<char**>(kwlist), &component))
        return nullptr;
    if (component < 0 || component >= tim::component_count() ||
        !tim::hooks::is_line_scalar(tim::component_table()[static_cast<std::size_t>(component)])) {
        PyErr_Format(PyExc_ValueError, "LineProfilerSwitch: %ld is not a scalar component index", component);
        return nullptr;
    }
    auto* s = reinterpret_cast<SwitchObject*>(type->tp_alloc(type, 0));
    if (!s) return nullptr;
    s->component = static_cast<int>(component);
    s->count     = 0;
    s->epoch     = g_reset_epoch;
    return reinterpret_cast<PyObject*>(s);
}

PyObject* switch_py_enable(PyObject* self, PyObject*) {
    if (switch_enable(reinterpret_cast<SwitchObject*>(self)) < 0) return nullptr;
    return PyLong_FromLong(g_enable_count);
}

PyObject* switch_py_disable(PyObject* self, PyObject*) {
    switch_disable(reinterpret_cast<SwitchObject*>(self));
    return PyLong_FromLong(g_enable_count);
}

PyObject* switch_get_count(PyObject* self, void*) {
    return PyLong_FromLong(own_count(reinterpret_cast<SwitchObject*>(self)));
}
PyObject* switch_get_component(PyObject* self, void*) {
    return PyLong_FromLong(reinterpret_cast<SwitchObject*>(self)->component);
}

PyMethodDef switch_methods[] = {
    {"enable", switch_py_enable, METH_NOARGS,
     "enable() -> int\nCount an enable of this profiler (the first of any starts profiling); the process-wide "
     "count."},
    {"disable", switch_py_disable, METH_NOARGS,
     "disable() -> int\nCount a disable of this profiler (none if it has no enable left; the last of all stops "
     "profiling); the process-wide count."},
    {nullptr, nullptr, 0, nullptr}};

PyGetSetDef switch_getset[] = {
    {"count", switch_get_count, nullptr, "this profiler's enables not matched by a disable yet", nullptr},
    {"component", switch_get_component, nullptr, "the enum index of the component measured", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

// A function decorated by a LineProfiler: enable, call, disable (also when the call
// raises), as line_profiler's wrapper does, in C. Binds as a method like a function.
struct ProfiledFuncObject {
    PyObject_HEAD
    PyObject*      func;
    SwitchObject*  sw;
    vectorcallfunc vectorcall;
    PyObject*      dict;
    PyObject*      weakrefs;
};

PyObject* profiled_vectorcall(PyObject* obj, PyObject* const* args, size_t nargsf, PyObject* kwnames) {
    auto* self = reinterpret_cast<ProfiledFuncObject*>(obj);
    if (!self->func) {  // cleared by the garbage collector (a finalizer calling it)
        PyErr_SetString(PyExc_ReferenceError, "the profiled function was cleared");
        return nullptr;
    }
    if (switch_enable(self->sw) < 0) return nullptr;
    PyObject* result = PyObject_Vectorcall(self->func, args, nargsf, kwnames);
    if (result) {
        switch_disable(self->sw);
        return result;
    }
    // the end of a session may run Python code (audit hooks, finalizers): not with the
    // call's exception set
    PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
    PyErr_Fetch(&type, &value, &tb);
    switch_disable(self->sw);
    PyErr_Restore(type, value, tb);
    return nullptr;
}

PyObject* profiled_new(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyCallable_Check(args[0]) || !PyObject_TypeCheck(args[1], &SwitchType)) {
        PyErr_SetString(PyExc_TypeError, "line_profiler_wrap(func, switch) takes a callable and a LineProfilerSwitch");
        return nullptr;
    }
    auto* obj = PyObject_GC_New(ProfiledFuncObject, &ProfiledFuncType);
    if (!obj) return nullptr;
    obj->func       = Py_NewRef(args[0]);
    obj->sw         = reinterpret_cast<SwitchObject*>(Py_NewRef(args[1]));
    obj->vectorcall = profiled_vectorcall;
    obj->dict       = nullptr;
    obj->weakrefs   = nullptr;
    PyObject_GC_Track(obj);
    return reinterpret_cast<PyObject*>(obj);
}

void profiled_dealloc(ProfiledFuncObject* self) {
    PyObject_GC_UnTrack(self);
    if (self->weakrefs) PyObject_ClearWeakRefs(reinterpret_cast<PyObject*>(self));
    Py_CLEAR(self->func);
    Py_CLEAR(self->sw);
    Py_CLEAR(self->dict);
    PyObject_GC_Del(self);
}

int profiled_traverse(ProfiledFuncObject* self, visitproc visit, void* arg) {
    Py_VISIT(self->func);
    Py_VISIT(self->sw);
    Py_VISIT(self->dict);
    return 0;
}

int profiled_clear(ProfiledFuncObject* self) {
    Py_CLEAR(self->func);
    Py_CLEAR(self->dict);
    return 0;
}

// methods: bind like a function
PyObject* profiled_descr_get(PyObject* self, PyObject* obj, PyObject*) {
    if (!obj || obj == Py_None) return Py_NewRef(self);
    return PyMethod_New(self, obj);
}

PyObject* profiled_get_func(PyObject* self, void*) {
    PyObject* f = reinterpret_cast<ProfiledFuncObject*>(self)->func;
    if (!f) {
        PyErr_SetString(PyExc_AttributeError, "the profiled function was cleared");
        return nullptr;
    }
    return Py_NewRef(f);
}
PyObject* profiled_get_switch(PyObject* self, void*) {
    return Py_NewRef(reinterpret_cast<PyObject*>(reinterpret_cast<ProfiledFuncObject*>(self)->sw));
}

PyGetSetDef profiled_getset[] = {
    {"__timemory_function__", profiled_get_func, nullptr, "the function profiled", nullptr},
    {"__timemory_switch__", profiled_get_switch, nullptr, "the LineProfilerSwitch flipped around each call", nullptr},
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, nullptr, nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

// pickled by reference, as the function it decorates is (multiprocessing sends the
// decorated module-level function to pool workers): the name is looked up in __module__
PyObject* profiled_reduce(PyObject* self, PyObject*) { return PyObject_GetAttrString(self, "__qualname__"); }

PyMethodDef profiled_methods[] = {
    {"__reduce__", profiled_reduce, METH_NOARGS, "Pickled by qualified name, like a function."},
    {nullptr, nullptr, 0, nullptr}};

PyObject* profiled_repr(ProfiledFuncObject* self) {
    if (!self->func) return PyUnicode_FromString("<timemory line-profiled function (cleared)>");
    return PyUnicode_FromFormat("<timemory line-profiled %R>", self->func);
}

// line_profiler_reset(): ends the session whatever the count (at exit); every enable
// counted so far is forgotten.
PyObject* py_reset(PyObject*, PyObject*) {
    g_enable_count = 0;
    ++g_reset_epoch;
    if (session_is_ours()) end_session();
    unhook_threading();  // a session that another owner's reset ended
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
    {"line_profiler_wrap", LP_FN(profiled_new), METH_FASTCALL,
     "line_profiler_wrap(func, switch) -> LineProfiledFunction\nfunc, with switch.enable() before each call and "
     "switch.disable() after it."},
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
    SwitchType.tp_name      = "timemory._core.LineProfilerSwitch";
    SwitchType.tp_basicsize = sizeof(SwitchObject);
    SwitchType.tp_flags     = Py_TPFLAGS_DEFAULT;
    SwitchType.tp_doc =
        "LineProfilerSwitch(component)\n\nOne line profiler's enable count; the first enable of any starts "
        "profiling lines with `component` (a scalar component's enum index), the last disable stops it.";
    SwitchType.tp_new     = switch_new;
    SwitchType.tp_methods = switch_methods;
    SwitchType.tp_getset  = switch_getset;

    ProfiledFuncType.tp_name      = "timemory._core.LineProfiledFunction";
    ProfiledFuncType.tp_basicsize = sizeof(ProfiledFuncObject);
    // METHOD_DESCRIPTOR: obj.method(...) calls it with obj first, without a bound method,
    // as for a function (the two are equivalent: tp_descr_get binds the same way)
    ProfiledFuncType.tp_flags =
        Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR;
    ProfiledFuncType.tp_doc               = "A function line-profiled by a timemory LineProfiler on every call.";
    ProfiledFuncType.tp_dealloc           = reinterpret_cast<destructor>(profiled_dealloc);
    ProfiledFuncType.tp_traverse          = reinterpret_cast<traverseproc>(profiled_traverse);
    ProfiledFuncType.tp_clear             = reinterpret_cast<inquiry>(profiled_clear);
    ProfiledFuncType.tp_vectorcall_offset = offsetof(ProfiledFuncObject, vectorcall);
    ProfiledFuncType.tp_call              = PyVectorcall_Call;
    ProfiledFuncType.tp_descr_get         = profiled_descr_get;
    ProfiledFuncType.tp_getset            = profiled_getset;
    ProfiledFuncType.tp_methods           = profiled_methods;
    ProfiledFuncType.tp_repr              = reinterpret_cast<reprfunc>(profiled_repr);
    ProfiledFuncType.tp_dictoffset        = offsetof(ProfiledFuncObject, dict);
    ProfiledFuncType.tp_weaklistoffset    = offsetof(ProfiledFuncObject, weakrefs);
    for (auto* t : {&SwitchType, &ProfiledFuncType})
        if (PyType_Ready(t) < 0) return -1;
    if (PyModule_AddObjectRef(module, "LineProfilerSwitch", reinterpret_cast<PyObject*>(&SwitchType)) < 0 ||
        PyModule_AddObjectRef(module, "LineProfiledFunction", reinterpret_cast<PyObject*>(&ProfiledFuncType)) < 0)
        return -1;
    return add_hook_functions(module, {line_profiler_methods}, &hook_function_def, &g_hook_object);
}

}  // namespace timemory_python
