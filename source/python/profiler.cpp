// The function profiler's callbacks, native so that no Python code runs per
// event. Two backends, the mechanisms cProfile uses:
//  * up to 3.11, a Py_tracefunc installed with PyEval_SetProfile on each thread;
//  * on 3.12+, sys.monitoring (PEP 669) events with C functions as callbacks,
//    for every thread at once. CPython's PyEval_SetProfile is emulated there on
//    top of sys.monitoring and creates a frame object per event, which costs
//    more than the measurement; the events give the code object directly.
//    (Falls back to PyEval_SetProfile when no monitoring tool id is free.)
// Labels and the filter decision are policy and live in Python
// (timemory.profiler._config); they are asked for once per code object and
// cached on the code object itself (PEP 523 co_extra), so the per-event work
// is one pointer load, the component readings and a call-graph update.
#include <Python.h>
#include <frameobject.h>

#include <cstdint>
#include <string>
#include <unordered_map>

#include "compat.hpp"
#include "hook_support.hpp"
#include "names.hpp"
#include "profiler.hpp"
#include "resolver.hpp"
#include "timemory/config.hpp"
#include "timemory/hooks/call_stack.hpp"

#if PY_VERSION_HEX >= 0x030D0000
// Exported, but declared only in the internal headers since 3.13.
extern "C" int _PyEval_SetProfile(PyThreadState* tstate, Py_tracefunc func, PyObject* arg);
#endif

namespace timemory_python {
namespace {

#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000 && !defined(Py_GIL_DISABLED)
#define TIMEMORY_INTERP_FRAME_CODE 1
// The heads of 3.11's struct _frame and struct _PyInterpreterFrame (internal/pycore_frame.h,
// the same in every 3.11 release): a frame object points at its interpreter frame, whose
// fifth field is the code object (a strong reference the frame holds).
struct InterpFrameHead {
    PyObject*     f_func;
    PyObject*     f_globals;
    PyObject*     f_builtins;
    PyObject*     f_locals;
    PyCodeObject* f_code;
};
struct FrameObjectHead {
    PyObject_HEAD
    PyFrameObject*   f_back;
    InterpFrameHead* f_frame;
};
inline PyCodeObject* interp_frame_code(PyFrameObject* frame) {
    return reinterpret_cast<FrameObjectHead*>(frame)->f_frame->f_code;
}
#endif

using tim::hooks::CallStack;
using tim::hooks::this_call_stack;

// What the labeler decided for one code object (or one C function).
struct CodeRecord {
    std::uint64_t generation = 0;  // g_label_generation when computed
    std::uint64_t ready      = 0;  // == generation when the fast path may enter it (not skipped, no arguments)
    bool          skip       = true;
    bool          with_args  = false;  // label = head + formatted arguments + tail, per call
    std::uint64_t hash       = 0;      // hash_label(label, where): the function's identity
    std::string   label;               // head + tail
    std::string   head;
    std::string   tail;
    std::string   where;  // "module, line N" ("" when the label names the function alone)
    // where the code is (only kept with_args: each argument list is a hash of its own)
    std::string source_file;
    std::string source_name;
    int         source_line = -1;  // -1: no source
};

Py_ssize_t    g_extra_index      = -1;
std::uint64_t g_label_generation = 1;        // bumped when the labeler or its config changes
PyObject*     g_labeler          = nullptr;  // callable(code | builtin) -> None | str | (head, tail[, where[, source]])
PyObject*     g_format_args      = nullptr;  // callable(frame) -> str
PyObject*     g_hook_object      = nullptr;  // what sys.getprofile() returns while we profile
bool          g_trace_c          = false;
bool          g_labeler_failed   = false;  // report a broken labeler once, not per event
std::unordered_map<const PyMethodDef*, CodeRecord> g_builtin_records;

// The profile hook start() replaced on its thread (a user's sys.setprofile
// function), restored exactly, on that thread, by stop() from any thread.
SavedHooks g_saved_hooks;

void free_record(void* p) { delete static_cast<CodeRecord*>(p); }

// Fills `rec` from the labeler's answer for `subject`: a label, or (head, tail) with
// format_args (the call's arguments go between), and a where ("module, line N") that makes
// the node the function's rather than the name's (registered with the label here, once
// per code object: the views show `label [where]` when two functions share a label), and
// the source (file, first line, name) the exports key the function by (registered with the
// hash here too, once per code object: nothing is added to the per-call path).
// Never raises: a broken labeler must not abort the user's program (CPython would
// uninstall the hook and raise in user code), so the error is reported once and
// the frame skipped.
void fill_record(CodeRecord& rec, PyObject* subject) {
    rec.generation = g_label_generation;
    rec.ready      = 0;
    rec.skip       = true;
    rec.with_args  = false;
    rec.where.clear();
    rec.source_line = -1;
    if (!g_labeler) return;
    PyObject* res = PyObject_CallOneArg(g_labeler, subject);
    if (!res) {
        if (!g_labeler_failed) PyErr_WriteUnraisable(g_labeler);
        else PyErr_Clear();
        g_labeler_failed = true;
        return;
    }
    if (PyUnicode_Check(res)) {
        rec.label = utf8_string(res);  // a file or function name not valid UTF-8 comes escaped
        rec.hash  = tim::hash_label(rec.label);
        rec.skip  = false;
    } else if (PyTuple_Check(res) && PyTuple_GET_SIZE(res) >= 2 && PyTuple_GET_SIZE(res) <= 4) {
        const Py_ssize_t n = PyTuple_GET_SIZE(res);
        PyObject*        h = PyTuple_GET_ITEM(res, 0);
        PyObject*        t = PyTuple_GET_ITEM(res, 1);
        PyObject*        w = n >= 3 ? PyTuple_GET_ITEM(res, 2) : nullptr;
        PyObject*        s = n == 4 ? PyTuple_GET_ITEM(res, 3) : nullptr;  // (file, line, name)
        if (PyUnicode_Check(h) && PyUnicode_Check(t) && (!w || PyUnicode_Check(w))) {
            rec.head      = utf8_string(h);
            rec.tail      = utf8_string(t);
            rec.where     = w ? utf8_string(w) : std::string{};
            rec.label     = rec.head + rec.tail;
            rec.hash      = tim::hash_label(rec.label, rec.where);
            rec.with_args = g_format_args != nullptr;
            rec.skip      = false;
            if (!rec.where.empty()) tim::add_hash_id(rec.hash, rec.label, rec.where);
            if (s && PyTuple_Check(s) && PyTuple_GET_SIZE(s) == 3 && PyUnicode_Check(PyTuple_GET_ITEM(s, 0)) &&
                PyLong_Check(PyTuple_GET_ITEM(s, 1)) && PyUnicode_Check(PyTuple_GET_ITEM(s, 2))) {
                const long line = PyLong_AsLong(PyTuple_GET_ITEM(s, 1));
                if (line >= 0 && line <= INT32_MAX) {
                    rec.source_file = utf8_string(PyTuple_GET_ITEM(s, 0));
                    rec.source_name = utf8_string(PyTuple_GET_ITEM(s, 2));
                    rec.source_line = static_cast<int>(line);
                    tim::add_hash_source(rec.hash, rec.source_file, rec.source_line, rec.source_name);
                }
            }
            if (!rec.with_args) {  // only enter_with_args reads them
                std::string().swap(rec.where);
                std::string().swap(rec.source_file);
                std::string().swap(rec.source_name);
            }
        }
    }
    if (PyErr_Occurred()) PyErr_Clear();
    Py_DECREF(res);
    if (!rec.skip && !rec.with_args) rec.ready = rec.generation;
}

CodeRecord* record_for_code(PyCodeObject* code) {
    return code_record<CodeRecord>(code, g_extra_index, g_label_generation, fill_record);
}

CodeRecord* record_for_builtin(PyObject* callable) {
    if (!PyCFunction_Check(callable)) return nullptr;
    auto& rec = g_builtin_records[reinterpret_cast<PyCFunctionObject*>(callable)->m_ml];
    if (rec.generation != g_label_generation) fill_record(rec, callable);
    return &rec;
}

// sys.monitoring reports `obj.method(...)` of a C type as a call of the method
// descriptor with `self_arg` first; PyEval_SetProfile reported the bound
// builtin method, which is what the labeler is given (once per method).
CodeRecord* record_for_descriptor(PyObject* descr, PyObject* self_arg) {
    auto& rec = g_builtin_records[reinterpret_cast<PyMethodDescrObject*>(descr)->d_method];
    if (rec.generation == g_label_generation) return &rec;
    descrgetfunc get   = Py_TYPE(descr)->tp_descr_get;
    PyObject*    bound = get ? get(descr, self_arg, reinterpret_cast<PyObject*>(Py_TYPE(self_arg))) : nullptr;
    if (!bound) {
        PyErr_Clear();
        return nullptr;
    }
    fill_record(rec, bound);
    Py_DECREF(bound);
    return &rec;
}

void enter_with_args(CallStack& cs, const CodeRecord& rec, PyFrameObject* frame) {
    PyObject* args = PyObject_CallOneArg(g_format_args, reinterpret_cast<PyObject*>(frame));
    if (!args || !PyUnicode_Check(args)) {
        Py_XDECREF(args);
        PyErr_Clear();
        cs.enter(rec.hash, rec.label);
        return;
    }
    std::string scratch;
    std::string label = rec.head;
    label += utf8_name(args, scratch);
    label += rec.tail;
    Py_DECREF(args);
    const std::uint64_t hash = tim::hash_label(label, rec.where);
    if (!rec.where.empty()) tim::add_hash_id(hash, label, rec.where);  // a lookup when known
    if (rec.source_line >= 0) tim::add_hash_source(hash, rec.source_file, rec.source_line, rec.source_name);
    cs.enter(hash, label);
}

// A frame of `code` starts or resumes; `frame` is only needed (and only
// looked up, when null) for labels with the call's arguments. Every case but
// the usual one (a thread's first event of a session, profiling off, too deep,
// a code object not labelled yet or skipped, labels with arguments) is in
// on_call_slow, out of line, so that the usual one is a few loads and tests
// before the frame's entry.
__attribute__((noinline)) void on_call_slow(PyCodeObject* code, PyFrameObject* frame) {
    if (!tim::hooks::g_session.active) return;
    CallStack& cs = this_call_stack();
    cs.sync();
    if (!tim::config().enabled || cs.too_deep()) return cs.enter_skipped();
    CodeRecord* rec = record_for_code(code);
    if (!rec || rec->skip) return cs.enter_skipped();
    if (rec->with_args) {
        if (!frame) frame = PyEval_GetFrame();  // borrowed: the frame that starts
        if (frame) return enter_with_args(cs, *rec, frame);
    }
    cs.enter(rec->hash, rec->label);
}

// The usual case: the stack's fast paths apply (one epoch compare: the session is running and
// this stack is bound to it, profiling is enabled, one native one-value component, no
// timeline), the frame is within the depth limit and the buffer, and the code object's cached
// record is current and measured without arguments (one compare).
__attribute__((always_inline)) inline void on_call(PyCodeObject* code, PyFrameObject* frame) {
    CallStack* cs = tim::hooks::detail::tls_stack;
    if (__builtin_expect(cs->fast() && cs->has_room(), 1)) {
        void* extra = nullptr;
        if (code_extra(code, g_extra_index, &extra)) {
            const auto* rec = static_cast<const CodeRecord*>(extra);
            if (rec && rec->ready == g_label_generation) return cs->enter_fast(rec->hash, rec->label);
        }
    }
    on_call_slow(code, frame);
}

void on_call(PyFrameObject* frame) {
#if defined(TIMEMORY_INTERP_FRAME_CODE)
    // the frame's code in place: PyFrame_GetCode is a call into the interpreter and a
    // reference taken and dropped
    on_call(interp_frame_code(frame), frame);
#else
    PyCodeObject* code = PyFrame_GetCode(frame);
    Py_DECREF(code);  // the frame keeps it alive
    on_call(code, frame);
#endif
}

__attribute__((noinline)) void on_c_call(PyObject* callable, PyObject* self_arg = nullptr) {
    if (!tim::hooks::g_session.active) return;
    CallStack& cs = this_call_stack();
    cs.sync();
    if (!tim::config().enabled || cs.too_deep()) return cs.enter_skipped();
    CodeRecord* rec = self_arg ? record_for_descriptor(callable, self_arg) : record_for_builtin(callable);
    if (!rec || rec->skip) return cs.enter_skipped();
    cs.enter(rec->hash, rec->label);
}

// The event callbacks: GCC's partial inlining split them at their first test (session active)
// and called the rest, one call more per event; each is one function instead. The attribute is
// GCC's alone (clang has no partial inlining to turn off, and warns on `optimize`).
#if defined(__GNUC__) && !defined(__clang__)
#define TIMEMORY_NO_SPLIT __attribute__((optimize("no-partial-inlining")))
#else
#define TIMEMORY_NO_SPLIT
#endif

__attribute__((noinline)) void on_return_slow() {
    if (!tim::hooks::g_session.active) return;
    CallStack& cs = this_call_stack();
    cs.sync();
    cs.leave();
}

__attribute__((always_inline)) inline void on_return() {
    CallStack* cs = tim::hooks::detail::tls_stack;
    if (__builtin_expect(cs->fast(), 1)) return cs->leave_fast();
    on_return_slow();
}

// Every event tests the session first on its slow path (the fast paths' epoch changes when
// the session ends): events that arrive while no session runs are ignored.
// A call and a return are tail calls of a function each, which saves only the registers its
// own path needs (the whole callback in one function saved six for every event).
__attribute__((noinline)) int on_call_event(PyFrameObject* frame) {
    on_call(frame);
    return 0;
}
__attribute__((noinline)) int on_return_event() {
    on_return();
    return 0;
}

TIMEMORY_NO_SPLIT int profile_callback(PyObject*, PyFrameObject* frame, int what, PyObject* arg) {
    if (__builtin_expect(what == PyTrace_CALL, 1)) return on_call_event(frame);
    if (__builtin_expect(what == PyTrace_RETURN, 1)) return on_return_event();
    switch (what) {
        case PyTrace_C_CALL:
            if (g_trace_c) on_c_call(arg);
            break;
        case PyTrace_C_RETURN:
        case PyTrace_C_EXCEPTION:
            if (g_trace_c) on_return();
            break;
        default: break;
    }
    return 0;
}

// ------------------------------------------------------------------ sys.monitoring (3.12+)
// The callbacks are C functions (METH_FASTCALL): CPython calls them through
// vectorcall with the event's arguments, as it calls cProfile's. They never
// raise: an error in a callback would turn monitoring off for the program.
#if PY_VERSION_HEX >= 0x030C0000
#define TIMEMORY_MONITORING 1

namespace monitoring {
int       g_tool    = -1;       // tool id in use; -1 when profiling with PyEval_SetProfile
PyObject* g_missing = nullptr;  // sys.monitoring.MISSING (no first argument)

// PY_START, PY_RESUME, PY_THROW: (code, offset[, exception])
TIMEMORY_NO_SPLIT PyObject* on_start(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    if (__builtin_expect(nargs >= 1 && PyCode_Check(args[0]), 1))
        on_call(reinterpret_cast<PyCodeObject*>(args[0]), nullptr);
    Py_RETURN_NONE;
}

// PY_RETURN, PY_YIELD, PY_UNWIND
TIMEMORY_NO_SPLIT PyObject* on_end(PyObject*, PyObject* const*, Py_ssize_t) {
    on_return();
    Py_RETURN_NONE;
}

// CALL, C_RETURN, C_RAISE: (code, offset, callable, arg0). Both sides apply the
// same test, so the calls entered are exactly those left: a C function, or a
// C method descriptor with its self argument (what PyEval_SetProfile reports).
// A Python function's call is left to its frame's PY_START.
enum class CKind { none, function, descriptor };
inline CKind c_kind(PyObject* const* args, Py_ssize_t nargs) {
    if (nargs < 4) return CKind::none;
    if (PyCFunction_Check(args[2])) return CKind::function;
    if (Py_IS_TYPE(args[2], &PyMethodDescr_Type) && args[3] != g_missing) return CKind::descriptor;
    return CKind::none;
}

PyObject* on_c_start(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    if (!tim::hooks::g_session.active) Py_RETURN_NONE;
    switch (c_kind(args, nargs)) {
        case CKind::function: on_c_call(args[2]); break;
        case CKind::descriptor: on_c_call(args[2], args[3]); break;
        case CKind::none: break;
    }
    Py_RETURN_NONE;
}

PyObject* on_c_end(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    if (tim::hooks::g_session.active && c_kind(args, nargs) != CKind::none) on_return();
    Py_RETURN_NONE;
}

PyMethodDef g_defs[] = {
    callback_def<on_start>("timemory_py_start"),
    callback_def<on_end>("timemory_py_end"),
    callback_def<on_c_start>("timemory_c_start"),
    callback_def<on_c_end>("timemory_c_end"),
};

// (event name, callback) pairs; the C ones only with trace_c.
struct Binding {
    const char*  event;
    PyMethodDef* def;
    bool         c_only;
};
const Binding g_bindings[] = {
    {"PY_START", &g_defs[0], false},  {"PY_RESUME", &g_defs[0], false}, {"PY_THROW", &g_defs[0], false},
    {"PY_RETURN", &g_defs[1], false}, {"PY_YIELD", &g_defs[1], false},  {"PY_UNWIND", &g_defs[1], false},
    {"CALL", &g_defs[2], true},       {"C_RETURN", &g_defs[3], true},   {"C_RAISE", &g_defs[3], true},
};

long event_bit(PyObject* events, const char* name) {
    PyObject* v = PyObject_GetAttrString(events, name);
    if (!v) return -1;
    long bit = PyLong_AsLong(v);
    Py_DECREF(v);
    return bit;
}

// Unregisters our callbacks and frees the tool id. Keeps an exception that was
// already set.
void stop() {
    if (g_tool < 0) return;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject* mod    = PySys_GetObject("monitoring");  // borrowed
    PyObject* events = mod ? PyObject_GetAttrString(mod, "events") : nullptr;
    if (mod) Py_XDECREF(PyObject_CallMethod(mod, "set_events", "ii", g_tool, 0));
    if (events)
        for (const auto& b : g_bindings) {
            const long bit = event_bit(events, b.event);
            if (bit > 0) Py_XDECREF(PyObject_CallMethod(mod, "register_callback", "ilO", g_tool, bit, Py_None));
        }
    if (mod) Py_XDECREF(PyObject_CallMethod(mod, "free_tool_id", "i", g_tool));
    Py_XDECREF(events);
    PyErr_Clear();
    PyErr_Restore(type, value, tb);
    g_tool = -1;
}

// Claims a free tool id (4, else 3: the ids CPython does not name, so
// cProfile, coverage and debuggers keep theirs) and turns the events on.
// False, with no exception set, when sys.monitoring cannot be used.
bool start(bool trace_c) {
    PyObject* mod = PySys_GetObject("monitoring");  // borrowed
    if (!mod) {
        PyErr_Clear();
        return false;
    }
    if (!g_missing) g_missing = PyObject_GetAttrString(mod, "MISSING");  // kept for good
    PyObject* events = PyObject_GetAttrString(mod, "events");
    if (!events || !g_missing) {
        Py_XDECREF(events);
        PyErr_Clear();
        return false;
    }
    for (int id : {4, 3}) {
        PyObject* r = PyObject_CallMethod(mod, "use_tool_id", "is", id, "timemory");
        if (r) {
            Py_DECREF(r);
            g_tool = id;
            break;
        }
        PyErr_Clear();  // ValueError: in use
    }
    bool ok   = g_tool >= 0;
    long mask = 0;
    for (const auto& b : g_bindings) {
        if (!ok || (b.c_only && !trace_c)) continue;
        const long bit = event_bit(events, b.event);
        PyObject*  f   = bit > 0 ? PyCFunction_NewEx(b.def, nullptr, nullptr) : nullptr;
        PyObject*  r   = f ? PyObject_CallMethod(mod, "register_callback", "ilO", g_tool, bit, f) : nullptr;
        Py_XDECREF(f);
        Py_XDECREF(r);
        ok = r != nullptr;
        mask |= bit;
    }
    if (ok) {
        PyObject* r = PyObject_CallMethod(mod, "set_events", "il", g_tool, mask);
        ok          = r != nullptr;
        Py_XDECREF(r);
    }
    Py_DECREF(events);
    if (!ok) {
        PyErr_Clear();
        stop();
    }
    return ok;
}
}  // namespace monitoring
#endif

// ------------------------------------------------------------------ Python functions
PyObject* py_profiler_start(PyObject*, PyObject* args, PyObject* kwargs) {
    static const char* kwlist[]    = {"indices",   "labeler", "format_args", "flat",       "timeline",
                                      "max_depth", "trace_c", "all_threads", "monitoring", nullptr};
    PyObject*          components  = nullptr;
    PyObject*          labeler     = nullptr;
    PyObject*          format_args = Py_None;
    int                flat = 0, timeline = 0, max_depth = 65535, trace_c = 0, all_threads = 1, use_monitoring = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|Oppippp", const_cast<char**>(kwlist), &components, &labeler,
                                     &format_args, &flat, &timeline, &max_depth, &trace_c, &all_threads,
                                     &use_monitoring))
        return nullptr;
    if (tim::hooks::g_session.active) {
        PyErr_SetString(PyExc_RuntimeError, "the function profiler is already running");
        return nullptr;
    }
    if (!PyCallable_Check(labeler)) {
        PyErr_SetString(PyExc_TypeError, "labeler must be callable");
        return nullptr;
    }
    IndexList indices;
    if (indices_from_ints(components, indices, true) < 0) return nullptr;
    std::vector<int> list(indices.begin(), indices.end());

    if (labeler != g_labeler) {
        Py_XSETREF(g_labeler, Py_NewRef(labeler));
        ++g_label_generation;
        g_labeler_failed = false;
    }
    PyObject* args_formatter = format_args == Py_None ? nullptr : format_args;
    if (args_formatter != g_format_args) {
        // the records' with_args was decided with the previous formatter: decided again
        Py_XSETREF(g_format_args, Py_XNewRef(args_formatter));
        ++g_label_generation;
    }
    g_trace_c = trace_c != 0;

    tim::hooks::begin_session(list, flat != 0, timeline != 0, max_depth);
#ifdef TIMEMORY_MONITORING
    // every thread, those already running included
    if (use_monitoring && monitoring::start(trace_c != 0)) Py_RETURN_NONE;
#else
    (void)use_monitoring;
#endif
    PyThreadState* self = PyThreadState_Get();
    if (self->c_profilefunc != profile_callback && self->c_profileobj != g_hook_object)
        g_saved_hooks.save(self, self->c_profilefunc, self->c_profileobj);
    PyEval_SetProfile(profile_callback, g_hook_object);
    if (all_threads) {
        // Threads already running: only those with no profiler of their own.
        int failed = 0;
        for_each_thread([&](PyThreadState* ts) {
            if (ts != self && ts->c_profilefunc == nullptr)
                failed |= _PyEval_SetProfile(ts, profile_callback, g_hook_object) < 0;
        });
        if (failed) PyErr_Clear();
    }
    Py_RETURN_NONE;
}

PyObject* py_profiler_stop(PyObject*, PyObject*) {
    if (!tim::hooks::g_session.active) Py_RETURN_NONE;
    tim::hooks::end_session();
#ifdef TIMEMORY_MONITORING
    if (monitoring::g_tool >= 0) {
        monitoring::stop();
        Py_RETURN_NONE;
    }
#endif
    // Whichever thread stops (another thread, timemory.finalize()), the thread
    // that started gets its own hook back, and the others lose ours.
    int  failed = 0;
    auto ours   = [](PyThreadState* ts) {
        return ts->c_profilefunc == profile_callback || ts->c_profileobj == g_hook_object;
    };
    g_saved_hooks.restore(
        profile_callback, [&](PyThreadState* ts) { return ours(ts) ? profile_callback : ts->c_profilefunc; },
        [&](PyThreadState* ts, Py_tracefunc func, PyObject* obj) {
            failed |= _PyEval_SetProfile(ts, func, obj) < 0;
            return true;
        });
    for_each_thread([&](PyThreadState* ts) {
        if (ours(ts)) failed |= _PyEval_SetProfile(ts, nullptr, nullptr) < 0;
    });
    if (failed) PyErr_Clear();
    Py_RETURN_NONE;
}

PyObject* py_profiler_active(PyObject*, PyObject*) { return PyBool_FromLong(tim::hooks::g_session.active); }

// "monitoring" or "setprofile" while a session runs, else None.
PyObject* py_profiler_backend(PyObject*, PyObject*) {
    if (!tim::hooks::g_session.active) Py_RETURN_NONE;
#ifdef TIMEMORY_MONITORING
    if (monitoring::g_tool >= 0) return PyUnicode_FromString("monitoring");
#endif
    return PyUnicode_FromString("setprofile");
}

PyObject* py_profiler_invalidate(PyObject*, PyObject*) {
    ++g_label_generation;
    g_labeler_failed = false;
    Py_RETURN_NONE;
}

// profiler_function(frame, event, arg): the hook as a Python callable, for
// sys.setprofile / threading.setprofile. A thread that calls it switches
// itself to the native callback, so only its first event pays for the call.
PyObject* py_profiler_function(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    int what = -1;
    if (!parse_hook_call("profiler_function", args, nargs, what)) return nullptr;
    bool covered = false;  // sys.monitoring already reports this thread's events
#ifdef TIMEMORY_MONITORING
    covered = monitoring::g_tool >= 0;
#endif
    if (!tim::hooks::g_session.active || covered) {
        // a left-over hook (e.g. threading.setprofile kept by user code), or one that
        // would count every event twice: retire it
        PyEval_SetProfile(nullptr, nullptr);
        Py_RETURN_NONE;
    }
    PyEval_SetProfile(profile_callback, g_hook_object);
    if (what >= 0) profile_callback(nullptr, reinterpret_cast<PyFrameObject*>(args[0]), what, args[2]);
    Py_RETURN_NONE;
}

PyObject* py_profiler_depth(PyObject*, PyObject*) {
    auto& cs = this_call_stack();
    cs.sync();
    return PyLong_FromSize_t(cs.depth());
}

PyMethodDef profiler_methods[] = {
    {"profiler_start", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_profiler_start)),
     METH_VARARGS | METH_KEYWORDS,
     "profiler_start(indices, labeler, format_args=None, flat=False, timeline=False, "
     "max_depth=65535, trace_c=False, all_threads=True, monitoring=True)\n"
     "Install the native profile hook measuring the components of `indices` (enum indices): "
     "sys.monitoring callbacks for every thread on 3.12+ "
     "(unless monitoring=False or no tool id is free), else PyEval_SetProfile on this thread "
     "(and on running threads without a hook of their own, with all_threads)."},
    {"profiler_stop", py_profiler_stop, METH_NOARGS,
     "Close every open frame, remove the hook and give the thread that started back its previous one."},
    {"profiler_active", py_profiler_active, METH_NOARGS, "Whether a profiling session is running."},
    {"profiler_backend", py_profiler_backend, METH_NOARGS,
     "How the running session gets its events: 'monitoring' (sys.monitoring, 3.12+) or "
     "'setprofile' (PyEval_SetProfile); None when not profiling."},
    {"profiler_invalidate", py_profiler_invalidate, METH_NOARGS,
     "Forget cached labels and filter decisions (the profiler config changed)."},
    {"profiler_depth", py_profiler_depth, METH_NOARGS, "Frames on this thread's profiler stack (for tests)."},
    {nullptr, nullptr, 0, nullptr}};

PyMethodDef profiler_function_def = {
    "profiler_function", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_profiler_function)),
    METH_FASTCALL,
    "profiler_function(frame, event, arg)\n"
    "The function profiler's hook as a Python callable (sys.setprofile / threading.setprofile);\n"
    "it switches the calling thread to the native hook."};

}  // namespace

int add_profiler(PyObject* module) {
    g_extra_index = _PyEval_RequestCodeExtraIndex(free_record);
    if (g_extra_index < 0) {
        PyErr_SetString(PyExc_RuntimeError, "no code-object extra slot left for the profiler");
        return -1;
    }
    return add_hook_functions(module, {profiler_methods}, &profiler_function_def, &g_hook_object);
}

}  // namespace timemory_python
