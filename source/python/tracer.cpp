// The line tracer's callback: a Py_tracefunc installed with PyEval_SetTrace,
// the C-level trace hook (on 3.12+ CPython drives it from sys.monitoring
// through its legacy-tracing layer), so no Python code runs per event. The
// labels of a code object's lines, and whether it is traced at all, are
// policy and come from Python (timemory.trace._config); they are asked for
// once per code object and cached on it (PEP 523 co_extra). Per event the
// work is a pointer comparison, one reading of the components and, when a
// line ends, a flat call-graph record (tim::hooks::LineTracker + GraphSink).
#include <Python.h>
#include <frameobject.h>

#include <algorithm>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "compat.hpp"
#include "hook_support.hpp"
#include "line_hook.hpp"
#include "names.hpp"
#include "regions.hpp"
#include "resolver.hpp"
#include "timemory/hooks/line_storage.hpp"
#include "timemory/hooks/line_tracker.hpp"
#include "timemory/storage/call_graph.hpp"
#include "tracer.hpp"

namespace timemory_python {
namespace {

using tim::hooks::g_line_session;
using tim::hooks::LabeledLines;
using tim::hooks::LineTable;
using tim::hooks::this_line_tracker;

// What the labeler decided for one code object.
struct TracerRecord {
    std::uint64_t                 generation = 0;  // g_label_generation when computed
    std::unique_ptr<LabeledLines> table;           // null: not traced
    // include_args: the label of line i is heads[i] + the call's arguments +
    // tails[i], so each distinct argument list gets a table of its own
    std::vector<std::string>                                       heads, tails;
    std::unordered_map<std::string, std::unique_ptr<LabeledLines>> by_args;
};

Py_ssize_t    g_extra_index      = -1;
std::uint64_t g_label_generation = 1;        // bumped when the labeler or its config changes
PyObject*     g_labeler          = nullptr;  // callable(code) -> None | [(lineno, label | (head, tail), shown)]
PyObject*     g_format_args      = nullptr;  // callable(frame) -> str
PyObject*     g_hook_object      = nullptr;  // what sys.gettrace() returns while we trace
bool          g_labeler_failed   = false;    // report a broken labeler once, not per code object

// Tables replaced or freed while a session runs: a thread's stack may still
// point at them (a frame entered before its code object's labels changed, or
// whose code object is gone after its return was missed). Freed at stop.
std::vector<std::unique_ptr<LabeledLines>> g_retired;

// The trace hooks a session replaced (the starting thread's, those of the
// threads that joined it with tracer_attach), each restored exactly, on its
// own thread, when the session ends.
SavedHooks g_saved_hooks;

void retire_tables(TracerRecord& rec) {
    if (!g_line_session.active) {
        rec.table.reset();
        rec.by_args.clear();
        return;
    }
    if (rec.table) g_retired.push_back(std::move(rec.table));
    for (auto& entry : rec.by_args) g_retired.push_back(std::move(entry.second));
    rec.by_args.clear();
}

// Called for every code object that has any co_extra slot set, ours or not.
void free_record(void* p) {
    auto* rec = static_cast<TracerRecord*>(p);
    if (!rec) return;
    retire_tables(*rec);
    delete rec;
}

// A str's text (escaped when it is not valid UTF-8, see names.hpp); false for anything else.
bool utf8(PyObject* obj, std::string& out) {
    if (!PyUnicode_Check(obj)) return false;
    out = utf8_string(obj);
    return true;
}

void report_labeler_error() {
    if (!g_labeler_failed) PyErr_WriteUnraisable(g_labeler);
    else PyErr_Clear();
    g_labeler_failed = true;
}

// Builds the record's table from the labeler's answer: a sequence of
// (lineno, label or (head, tail), shown-before-it-runs) per line with code.
bool build_table(TracerRecord& rec, PyObject* answer) {
    PyObject* items = PySequence_Fast(answer, "the tracer's labeler must return None or a sequence");
    if (!items) return false;
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(items);
    struct Item {
        long        lineno;
        std::string head, tail;
        bool        split, shown;
    };
    std::vector<Item> parsed;
    bool              ok = true;
    for (Py_ssize_t i = 0; i < n && ok; ++i) {
        PyObject* it = PySequence_Fast_GET_ITEM(items, i);
        Item      item{};
        ok = PyTuple_Check(it) && PyTuple_GET_SIZE(it) == 3;
        if (ok) {
            item.lineno     = PyLong_AsLong(PyTuple_GET_ITEM(it, 0));
            PyObject* label = PyTuple_GET_ITEM(it, 1);
            item.split      = PyTuple_Check(label) && PyTuple_GET_SIZE(label) == 2;
            ok              = item.lineno > 0 && (item.split ? utf8(PyTuple_GET_ITEM(label, 0), item.head) &&
                                                                   utf8(PyTuple_GET_ITEM(label, 1), item.tail)
                                                             : utf8(label, item.head));
            const int shown = ok ? PyObject_IsTrue(PyTuple_GET_ITEM(it, 2)) : 0;
            ok              = ok && shown >= 0;
            item.shown      = shown > 0;
        }
        if (ok) parsed.push_back(std::move(item));
    }
    Py_DECREF(items);
    if (!ok) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError,
                            "the tracer's labeler must give (lineno, label or (head, tail), bool) per line");
        return false;
    }
    auto t = std::make_unique<LabeledLines>();
    if (!parsed.empty()) {
        long lo = parsed.front().lineno, hi = lo;
        for (const auto& item : parsed) {
            lo = std::min(lo, item.lineno);
            hi = std::max(hi, item.lineno);
        }
        const auto size = static_cast<std::size_t>(hi - lo + 1);
        t->first_line   = static_cast<int>(lo);
        t->has_line.assign(size, 0);
        t->hashes.assign(size, 0);
        t->labels.assign(size, std::string{});
        const bool split = g_format_args && parsed.front().split;
        if (split) {
            rec.heads.assign(size, std::string{});
            rec.tails.assign(size, std::string{});
        }
        for (auto& item : parsed) {
            const auto k   = static_cast<std::size_t>(item.lineno - lo);
            t->has_line[k] = 1;
            t->labels[k]   = item.head + item.tail;
            t->hashes[k]   = tim::hash_label(t->labels[k]);
            if (item.shown) t->registered.push_back(static_cast<int>(k));
            if (split) {
                rec.heads[k] = std::move(item.head);
                rec.tails[k] = std::move(item.tail);
            }
        }
    }
    rec.table = std::move(t);
    return true;
}

// Never raises: a broken labeler must not abort the user's program (CPython
// would remove the hook and raise in user code), so the error is reported
// once and the code object is not traced.
//
// The labeler is Python code: other threads run while it does, and may call
// the same code object. They see the record as not filled yet (its old
// generation) and fill it too, rather than taking a half-built record for an
// untraced one (which lost their calls). So the answer is built aside and
// installed at the end, with no Python code in between; a table replaced by
// another thread's is retired (a frame may be using it), not freed.
void fill_record(TracerRecord& rec, PyObject* code) {
    const std::uint64_t generation = g_label_generation;
    TracerRecord        fresh;
    if (g_labeler) {
        PyObject* answer = PyObject_CallOneArg(g_labeler, code);
        if (!answer) report_labeler_error();
        else {
            if (answer != Py_None && !build_table(fresh, answer)) report_labeler_error();
            Py_DECREF(answer);
        }
    }
    if (rec.generation == g_label_generation && generation != g_label_generation) return;  // a newer fill won
    retire_tables(rec);
    rec.table      = std::move(fresh.table);
    rec.heads      = std::move(fresh.heads);
    rec.tails      = std::move(fresh.tails);
    rec.generation = generation;
}

TracerRecord* record_for_code(PyCodeObject* code) {
    return code_record<TracerRecord>(code, g_extra_index, g_label_generation, fill_record);
}

// The table of this call's argument values (include_args); the table without
// arguments if they cannot be formatted.
LabeledLines* table_with_args(TracerRecord& rec, PyFrameObject* frame) {
    PyObject*   formatted = PyObject_CallOneArg(g_format_args, reinterpret_cast<PyObject*>(frame));
    std::string args;
    const bool  ok = formatted && utf8(formatted, args);
    Py_XDECREF(formatted);
    if (!ok) PyErr_Clear();
    // (another thread may have filled the record again while format_args ran)
    if (!ok || !rec.table || rec.heads.empty()) return rec.table.get();
    auto& slot = rec.by_args[args];
    if (!slot) {
        const LabeledLines& base = *rec.table;
        slot                     = std::make_unique<LabeledLines>();
        slot->first_line         = base.first_line;
        slot->has_line           = base.has_line;
        slot->registered         = base.registered;
        slot->hashes.assign(base.hashes.size(), 0);
        slot->labels.assign(base.labels.size(), std::string{});
        for (std::size_t k = 0; k < base.has_line.size(); ++k) {
            if (!base.has_line[k]) continue;
            slot->labels[k] = rec.heads[k] + args + rec.tails[k];
            slot->hashes[k] = tim::hash_label(slot->labels[k]);
        }
    }
    return slot.get();
}

LineTable* table_for(PyFrameObject* frame) {
    PyCodeObject* code = PyFrame_GetCode(frame);
    TracerRecord* rec  = record_for_code(code);
    Py_DECREF(code);  // the frame keeps it alive
    if (!rec || !rec->table) return nullptr;
    if (!rec->heads.empty()) return table_with_args(*rec, frame);
    return rec->table.get();
}

constexpr const char* k_owner = "timemory.trace";

// The session is the tracer's (timemory.line_profiler runs the other kind).
bool session_is_ours() { return g_line_session.active && g_line_session.owner == k_owner; }

int trace_callback(PyObject*, PyFrameObject* frame, int what, PyObject*);

// Whether `ts` runs the tracer's hook: the native callback, or its Python form
// (sys.settrace / threading.settrace with tracer_function) before its first event.
bool hooked(PyThreadState* ts) { return ts->c_tracefunc == trace_callback || ts->c_traceobj == g_hook_object; }

int trace_callback(PyObject*, PyFrameObject* frame, int what, PyObject*) {
    if (!session_is_ours()) {
        // left on a thread that stop() could not reach (see py_tracer_stop)
        put_back_own_trace(g_saved_hooks);
        return 0;
    }
    feed_line_tracker(frame, what, table_for, false);
    return 0;
}

// ------------------------------------------------------------------ Python functions
PyObject* py_tracer_start(PyObject*, PyObject* args, PyObject* kwargs) {
    static const char* kwlist[]    = {"indices", "labeler", "format_args", "all_threads", nullptr};
    PyObject*          components  = nullptr;
    PyObject*          labeler     = nullptr;
    PyObject*          format_args = Py_None;
    int                all_threads = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|Op", const_cast<char**>(kwlist), &components, &labeler,
                                     &format_args, &all_threads))
        return nullptr;
    if (g_line_session.active) {
        if (session_is_ours()) PyErr_SetString(PyExc_RuntimeError, "the line tracer is already running");
        else
            PyErr_Format(PyExc_RuntimeError,
                         "cannot start the line tracer while %s is running (one line-level session at a "
                         "time): stop it first",
                         *g_line_session.owner ? g_line_session.owner : "another line profiler");
        return nullptr;
    }
    if (!PyCallable_Check(labeler) || (format_args != Py_None && !PyCallable_Check(format_args))) {
        PyErr_SetString(PyExc_TypeError, "labeler and format_args must be callable");
        return nullptr;
    }
    IndexList indices;
    if (indices_from_ints(components, indices, true) < 0) return nullptr;

    if (labeler != g_labeler) {
        Py_XSETREF(g_labeler, Py_NewRef(labeler));
        ++g_label_generation;
        g_labeler_failed = false;
    }
    Py_XSETREF(g_format_args, format_args == Py_None ? nullptr : Py_NewRef(format_args));
    g_retired.clear();  // every thread's stack belongs to the previous session

    PyThreadState* self = PyThreadState_Get();
    if (!hooked(self)) g_saved_hooks.save(self, self->c_tracefunc, self->c_traceobj);
    tim::hooks::begin_line_session(std::vector<int>(indices.begin(), indices.end()), tim::hooks::make_graph_sink,
                                   k_owner);
    if (all_threads) rehook_other_threads(nullptr, trace_callback, g_hook_object, &g_saved_hooks);
    PyEval_SetTrace(trace_callback, g_hook_object);
    Py_RETURN_NONE;
}

// Ends the session from any thread: every thread's open line is recorded, and
// each thread gets back the hook the session replaced on it (on 3.13, where
// another thread's hook cannot be set from here, at its next event).
PyObject* py_tracer_stop(PyObject*, PyObject*) {
    if (!session_is_ours()) Py_RETURN_NONE;
    tim::hooks::end_line_session();
    g_saved_hooks.restore(
        trace_callback, [](PyThreadState* ts) { return hooked(ts) ? trace_callback : ts->c_tracefunc; }, set_trace_of);
    rehook_other_threads(trace_callback, nullptr, nullptr, &g_saved_hooks);
    PyThreadState* self = PyThreadState_Get();
    if (hooked(self)) PyEval_SetTrace(nullptr, nullptr);
    g_retired.clear();
    Py_RETURN_NONE;
}

// tracer_attach() -> bool: hooks the current thread into the running session
// (a decorated function called on a thread the session's start did not hook:
// one with a tracer of its own, or any on 3.13 when some thread has one).
// True when this changed the thread's hook: tracer_detach() puts it back.
PyObject* py_tracer_attach(PyObject*, PyObject*) {
    PyThreadState* self = PyThreadState_Get();
    if (!session_is_ours() || self->c_tracefunc == trace_callback) Py_RETURN_FALSE;
    const bool replaces = !hooked(self);
    if (replaces) g_saved_hooks.save(self, self->c_tracefunc, self->c_traceobj);
    PyEval_SetTrace(trace_callback, g_hook_object);
    return PyBool_FromLong(replaces);
}

// tracer_detach(): the current thread gets back the hook tracer_attach()
// replaced, if the session still has it (the session's end gave it back otherwise).
PyObject* py_tracer_detach(PyObject*, PyObject*) {
    PyThreadState* self = PyThreadState_Get();
    SavedHook      saved;
    if (!session_is_ours() || !g_saved_hooks.take(self, saved)) Py_RETURN_NONE;
    if (hooked(self)) PyEval_SetTrace(saved.func, saved.obj);
    Py_XDECREF(saved.obj);
    Py_RETURN_NONE;
}

PyObject* py_tracer_active(PyObject*, PyObject*) { return PyBool_FromLong(session_is_ours()); }

PyObject* py_tracer_invalidate(PyObject*, PyObject*) {
    ++g_label_generation;
    g_labeler_failed = false;
    Py_RETURN_NONE;
}

PyObject* py_tracer_depth(PyObject*, PyObject*) {
    auto& tracker = this_line_tracker();
    tracker.sync();
    return PyLong_FromSize_t(tracker.depth());
}

// tracer_function(frame, event, arg): the hook as a Python callable, for
// sys.settrace / threading.settrace. A thread that calls it switches itself
// to the native callback, so only its first event pays for the call.
PyObject* py_tracer_function(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
    int what = -1;
    if (!parse_hook_call("tracer_function", args, nargs, what)) return nullptr;
    if (!session_is_ours()) {
        // a left-over hook (e.g. threading.settrace kept by user code): retire it
        put_back_own_trace(g_saved_hooks);
        Py_RETURN_NONE;
    }
    PyEval_SetTrace(trace_callback, g_hook_object);
    if (what == PyTrace_CALL || what == PyTrace_LINE || what == PyTrace_RETURN)
        trace_callback(nullptr, reinterpret_cast<PyFrameObject*>(args[0]), what, args[2]);
    Py_RETURN_NONE;
}

PyMethodDef tracer_methods[] = {
    {"tracer_start", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_tracer_start)),
     METH_VARARGS | METH_KEYWORDS,
     "tracer_start(indices, labeler, format_args=None, all_threads=True)\n"
     "Install the native line-trace hook, measuring the components of `indices` (enum indices),\n"
     "on this thread (and on running threads without one)."},
    {"tracer_stop", py_tracer_stop, METH_NOARGS,
     "End every open line, remove the hook and give every thread back the hook the session replaced on it."},
    {"tracer_attach", py_tracer_attach, METH_NOARGS,
     "Hook this thread into the running session; True when its own hook was replaced (see tracer_detach)."},
    {"tracer_detach", py_tracer_detach, METH_NOARGS,
     "Give this thread back the hook tracer_attach replaced, while the session runs."},
    {"tracer_active", py_tracer_active, METH_NOARGS, "Whether a tracing session is running."},
    {"tracer_invalidate", py_tracer_invalidate, METH_NOARGS,
     "Forget cached line labels and filter decisions (the tracer config changed)."},
    {"tracer_depth", py_tracer_depth, METH_NOARGS, "Frames on this thread's tracer stack (for tests)."},
    {nullptr, nullptr, 0, nullptr}};

PyMethodDef tracer_function_def = {
    "tracer_function", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(py_tracer_function)), METH_FASTCALL,
    "tracer_function(frame, event, arg)\n"
    "The line tracer's hook as a Python callable (sys.settrace / threading.settrace);\n"
    "it switches the calling thread to the native hook."};

}  // namespace

int add_tracer(PyObject* module) {
    g_extra_index = _PyEval_RequestCodeExtraIndex(free_record);
    if (g_extra_index < 0) {
        PyErr_SetString(PyExc_RuntimeError, "no code-object extra slot left for the line tracer");
        return -1;
    }
    return add_hook_functions(module, {tracer_methods, region_methods()}, &tracer_function_def, &g_hook_object);
}

}  // namespace timemory_python
