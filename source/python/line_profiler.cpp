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
//
// On 3.12+ a session gets its events from sys.monitoring instead (a tool id of
// its own, the ids CPython leaves unnamed: 3, else 4), when one is free:
// PyEval_SetTrace is emulated there on top of sys.monitoring, and starting or
// stopping it re-instruments every code object on every thread's stack and
// then every code object run (a decorated function called in a loop starts and
// stops a session per call). LINE, JUMP (a backward jump within a line is a
// line event, as sys.settrace reports it), PY_RETURN and PY_YIELD are set
// locally on the registered code objects only, so only they are instrumented,
// and PY_UNWIND (which sys.monitoring has only globally; no code object is
// instrumented for it) closes the last line of a frame that an exception
// leaves. A frame's first line event puts it on the thread's stack (its start
// or resume needs no event). The callbacks are C functions, called by
// vectorcall; a frame is identified by its interpreter frame, which needs no
// frame object. The events are set and cleared with each session, so that the
// tool id is free whenever nothing is profiled; with more registered code
// objects than k_max_codes, a session uses PyEval_SetTrace (cheaper then).
#include <Python.h>
#include <frameobject.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
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

inline StatsLines* table_of_code(PyObject* code) {
    void* extra = nullptr;
    if (!code_extra(reinterpret_cast<PyCodeObject*>(code), g_extra_index, &extra)) return nullptr;
    return static_cast<StatsLines*>(extra);
}

bool monitoring_session();

int profile_callback(PyObject*, PyFrameObject* frame, int what, PyObject*) {
    if (!session_is_ours() || monitoring_session()) {
        // left on a thread that the end of a session could not reach (a session on
        // sys.monitoring reports this thread's lines already: not twice)
        put_back_own_trace(g_saved_hooks);
        return 0;
    }
    feed_line_tracker(frame, what, table_of, true);
    return 0;
}

// ------------------------------------------------------------------ sys.monitoring (3.12+)
#if PY_VERSION_HEX >= 0x030C0000
#define TIMEMORY_LP_MONITORING 1
namespace mon {

int  g_tool   = -1;     // the tool id of the running session; -1: none (not running, or PyEval_SetTrace)
bool g_ready  = false;  // the objects below are made (once)
bool g_failed = false;  // sys.monitoring cannot be used here: every session uses PyEval_SetTrace
// sys.monitoring's functions and DISABLE, kept for good
PyObject* g_use_tool_id       = nullptr;
PyObject* g_free_tool_id      = nullptr;
PyObject* g_register_callback = nullptr;
PyObject* g_set_local_events  = nullptr;
PyObject* g_set_events        = nullptr;
PyObject* g_disable           = nullptr;
PyObject* g_name              = nullptr;             // the tool's name
PyObject* g_tool_ids[2]       = {nullptr, nullptr};  // 3, 4
PyObject* g_local_mask        = nullptr;             // the events set on each registered code object
PyObject* g_global_mask       = nullptr;             // PY_UNWIND
PyObject* g_zero              = nullptr;
// Every registered code object (strong references, never dropped: the tables are kept
// for good too), to set and clear their local events with the sessions.
std::vector<PyObject*> g_codes;
// Setting and clearing a code object's local events costs about 2,800 instructions per session
// (3.13, a small function); past this many registered code objects a session costs less with
// PyEval_SetTrace, whose cost does not grow with them (docs/performance.md).
constexpr std::size_t k_max_codes = 32;

struct Binding {
    PyObject* event;     // the event's bit
    PyObject* callback;  // its C function
};
std::vector<Binding> g_bindings;

// The interpreter frame running the event: a frame's identity from its start to its end
// (a generator's lives in the generator), without making a frame object.
inline const void* frame_id() {
    PyThreadState* ts = PyThreadState_Get();
#if PY_VERSION_HEX >= 0x030D0000
    return ts->current_frame;
#else
    return ts->cframe ? ts->cframe->current_frame : nullptr;
#endif
}

inline bool live() { return g_line_session.active && !g_line_session.closing && g_line_session.owner == k_owner; }

inline void line_event(PyObject* code, int lineno) {
    auto& tracker = tim::hooks::this_line_tracker();
    tracker.sync();
    const void* frame = frame_id();
    if (!tracker.line(frame, lineno)) {
        // a frame that began before the session (the caller of a decorated function)
        tracker.adopt(frame, table_of_code(code));
        tracker.line(frame, lineno);
    }
}

// LINE: (code, line number)
PyObject* on_line(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    if (nargs == 2 && live()) {
        const long lineno = PyLong_AsLong(args[1]);
        if (lineno >= 0) line_event(args[0], static_cast<int>(lineno));
        else PyErr_Clear();
    }
    Py_RETURN_NONE;
}

// JUMP: (code, from offset, to offset). sys.settrace reports a backward jump that stays on
// its line (a loop written on one line, a comprehension) as a line event; any other jump
// never is, wherever and whenever it runs: DISABLE for the location. (sys.monitoring keeps
// a DISABLE for the tool id until restart_events(), also after the id is freed: a later
// user of the id that sets JUMP on a profiled code object calls restart_events() first.)
PyObject* on_jump(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    if (nargs != 3) Py_RETURN_NONE;
    const long from = PyLong_AsLong(args[1]);
    const long to   = PyLong_AsLong(args[2]);
    if (from < 0 || to < 0) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    if (to > from) return Py_NewRef(g_disable);
    auto*     code      = reinterpret_cast<PyCodeObject*>(args[0]);
    const int to_line   = PyCode_Addr2Line(code, static_cast<int>(to));
    const int from_line = PyCode_Addr2Line(code, static_cast<int>(from));
    if (to_line != from_line || to_line < 0) return Py_NewRef(g_disable);  // never a line event here
    if (live()) line_event(args[0], to_line);
    Py_RETURN_NONE;
}

// PY_RETURN, PY_YIELD: (code, offset, value); PY_UNWIND (global): (code, offset, exception)
PyObject* on_end(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    if (nargs >= 1 && live() && table_of_code(args[0])) {
        auto& tracker = tim::hooks::this_line_tracker();
        tracker.sync();
        tracker.ret(frame_id());
    }
    Py_RETURN_NONE;
}

PyMethodDef g_defs[] = {
    callback_def<on_line>("timemory_line_profiler_line"),
    callback_def<on_jump>("timemory_line_profiler_jump"),
    callback_def<on_end>("timemory_line_profiler_end"),
};

PyObject* call(PyObject* f, std::initializer_list<PyObject*> args) {
    return PyObject_Vectorcall(f, const_cast<PyObject**>(args.begin()), args.size(), nullptr);
}

// Makes the objects a session needs, once. False (no exception) when sys.monitoring
// cannot be used.
bool init() {
    if (g_ready || g_failed) return g_ready;
    g_failed            = true;
    PyObject* mod       = PySys_GetObject("monitoring");  // borrowed
    PyObject* ev        = mod ? PyObject_GetAttrString(mod, "events") : nullptr;
    auto      get       = [&](const char* name) { return ev ? PyObject_GetAttrString(mod, name) : nullptr; };
    g_use_tool_id       = get("use_tool_id");
    g_free_tool_id      = get("free_tool_id");
    g_register_callback = get("register_callback");
    g_set_local_events  = get("set_local_events");
    g_set_events        = get("set_events");
    g_disable           = get("DISABLE");
    auto bit            = [&](const char* name) {
        PyObject* v = ev ? PyObject_GetAttrString(ev, name) : nullptr;
        long      b = v ? PyLong_AsLong(v) : -1;
        Py_XDECREF(v);
        return b;
    };
    struct Event {
        const char*  name;
        PyMethodDef* def;
        bool         local;
    };
    // A frame's start (PY_START, PY_RESUME, PY_THROW) needs no event: its first line event
    // puts it on the thread's stack (LineTracker::line, then adopt), and one always
    // follows a start or resume (the instruction after RESUME reports its line).
    const Event events[] = {{"LINE", &g_defs[0], true},
                            {"JUMP", &g_defs[1], true},
                            {"PY_RETURN", &g_defs[2], true},
                            {"PY_YIELD", &g_defs[2], true},
                            {"PY_UNWIND", &g_defs[2], false}};
    long        local = 0, global = 0;
    bool ok = g_use_tool_id && g_free_tool_id && g_register_callback && g_set_local_events && g_set_events && g_disable;
    for (const auto& e : events) {
        const long b = ok ? bit(e.name) : -1;
        PyObject*  v = b > 0 ? PyLong_FromLong(b) : nullptr;
        PyObject*  f = v ? PyCFunction_NewEx(e.def, nullptr, nullptr) : nullptr;
        ok           = ok && f;
        if (!ok) {
            Py_XDECREF(v);
            Py_XDECREF(f);
            continue;
        }
        g_bindings.push_back({v, f});
        (e.local ? local : global) |= b;
    }
    Py_XDECREF(ev);
    if (ok) {
        g_name        = PyUnicode_InternFromString("timemory.line_profiler");
        g_tool_ids[0] = PyLong_FromLong(3);
        g_tool_ids[1] = PyLong_FromLong(4);
        g_local_mask  = PyLong_FromLong(local);
        g_global_mask = PyLong_FromLong(global);
        g_zero        = PyLong_FromLong(0);
        ok            = g_name && g_tool_ids[0] && g_tool_ids[1] && g_local_mask && g_global_mask && g_zero;
    }
    PyErr_Clear();
    g_ready  = ok;
    g_failed = !ok;
    return ok;
}

// Sets the local events of a registered code object for the running session's tool.
bool watch(PyObject* code) {
    PyObject* r = call(g_set_local_events, {g_tool_ids[g_tool - 3], code, g_local_mask});
    Py_XDECREF(r);
    return r != nullptr;
}

// Clears the events and callbacks of the session's tool and frees the id. Keeps an
// exception that was already set.
void stop() {
    if (g_tool < 0) return;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject* id = g_tool_ids[g_tool - 3];
    Py_XDECREF(call(g_set_events, {id, g_zero}));
    for (PyObject* code : g_codes) Py_XDECREF(call(g_set_local_events, {id, code, g_zero}));
    for (const auto& b : g_bindings) Py_XDECREF(call(g_register_callback, {id, b.event, Py_None}));
    Py_XDECREF(call(g_free_tool_id, {id}));
    PyErr_Clear();
    PyErr_Restore(type, value, tb);
    g_tool = -1;
}

// Claims a tool id (3, else 4: the function profiler takes 4 first) and sets the events.
// False, with no exception set, when sys.monitoring cannot be used (no id free).
bool start() {
    if (!init()) return false;
    for (int k = 0; k < 2 && g_tool < 0; ++k) {
        PyObject* r = call(g_use_tool_id, {g_tool_ids[k], g_name});
        if (r) g_tool = 3 + k;
        else PyErr_Clear();  // ValueError: in use
        Py_XDECREF(r);
    }
    if (g_tool < 0) return false;
    PyObject* id = g_tool_ids[g_tool - 3];
    bool      ok = true;
    for (const auto& b : g_bindings) {
        PyObject* r = ok ? call(g_register_callback, {id, b.event, b.callback}) : nullptr;
        ok          = r != nullptr;
        Py_XDECREF(r);
    }
    for (PyObject* code : g_codes) ok = ok && watch(code);
    if (ok) {
        PyObject* r = call(g_set_events, {id, g_global_mask});
        ok          = r != nullptr;
        Py_XDECREF(r);
    }
    if (!ok) {
        PyErr_Clear();
        stop();
    }
    return ok;
}

}  // namespace mon
#endif

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
#ifdef TIMEMORY_LP_MONITORING
    mon::g_codes.push_back(Py_NewRef(args[0]));
    // added while a session runs: its lines are profiled from now on
    if (mon::g_tool >= 0 && !mon::watch(args[0])) PyErr_Clear();
#endif
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
    g_component = component;
#ifdef TIMEMORY_LP_MONITORING
    if (mon::g_codes.size() <= mon::k_max_codes && mon::start()) {
        tim::hooks::begin_line_session({g_component}, tim::hooks::make_stats_sink, k_owner, true);
        hook_threading();  // as with PyEval_SetTrace (its hook function then steps aside)
        return 0;
    }
#endif
    PyThreadState* self = PyThreadState_Get();
    if (self->c_tracefunc != profile_callback && self->c_traceobj != g_hook_object)
        g_saved_hooks.save(self, self->c_tracefunc, self->c_traceobj);
    tim::hooks::begin_line_session({g_component}, tim::hooks::make_stats_sink, k_owner, true);
    rehook_other_threads(nullptr, profile_callback, g_hook_object, &g_saved_hooks);
    PyEval_SetTrace(profile_callback, g_hook_object);
    hook_threading();
    return 0;
}

void end_session() {
    tim::hooks::end_line_session();
#ifdef TIMEMORY_LP_MONITORING
    if (mon::g_tool >= 0) {
        mon::stop();
        unhook_threading();
        return;
    }
#endif
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

bool monitoring_session() {
#ifdef TIMEMORY_LP_MONITORING
    return mon::g_tool >= 0;
#else
    return false;
#endif
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
    } else if (!monitoring_session() && PyThreadState_Get()->c_tracefunc == nullptr) {
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

// "monitoring" (sys.monitoring, 3.12+) or "settrace" (PyEval_SetTrace) while a session
// runs, else None.
PyObject* py_backend(PyObject*, PyObject*) {
    if (!session_is_ours()) Py_RETURN_NONE;
    return PyUnicode_FromString(monitoring_session() ? "monitoring" : "settrace");
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
    if (monitoring_session()) {
        // sys.monitoring reports this thread's events already: the hook steps aside
        PyEval_SetTrace(nullptr, nullptr);
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
    {"line_profiler_backend", py_backend, METH_NOARGS,
     "line_profiler_backend() -> str | None\nHow the running session gets its events: 'monitoring' "
     "(sys.monitoring, 3.12+) or 'settrace' (PyEval_SetTrace); None when not profiling."},
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
