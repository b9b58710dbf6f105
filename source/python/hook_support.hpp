#pragma once
// What the three native hooks (profiler.cpp, tracer.cpp, line_profiler.cpp)
// share: walking the interpreter's threads, moving the trace hook of the
// threads already running, keeping the hooks they replaced to put each back on
// its own thread, the Python-callable form of a hook, and adding their
// functions to the module.
#include <Python.h>
#include <frameobject.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <vector>

#include "compat.hpp"

namespace timemory_python {

// Every thread state of this interpreter, the current one included.
template <typename F>
void for_each_thread(F&& f) {
    PyThreadState* self = PyThreadState_Get();
    for (PyThreadState* ts = PyInterpreterState_ThreadHead(PyThreadState_GetInterpreter(self)); ts;
         ts                = PyThreadState_Next(ts))
        f(ts);
}

// Whether `ts` (read before: `id` is its PyThreadState_GetID) is still a thread
// of this interpreter: a thread state is freed when its thread ends, and its
// memory may hold another thread's state since.
inline bool thread_alive(PyThreadState* ts, std::uint64_t id) {
    bool found = false;
    for_each_thread([&](PyThreadState* t) { found |= t == ts; });
    return found && PyThreadState_GetID(ts) == id;
}

// The hook a session replaced on one thread.
struct SavedHook {
    PyThreadState* ts   = nullptr;
    std::uint64_t  id   = 0;
    Py_tracefunc   func = nullptr;
    PyObject*      obj  = nullptr;  // a reference of its own
};

// The hooks a session replaced (a user's sys.setprofile / sys.settrace
// function, a debugger's), one per thread, each put back on its own thread
// when the session ends, whichever thread ends it: a stop() called from
// another thread, or timemory.finalize() from the main thread while a worker
// thread started the session, must not leave the worker without its hook nor
// give it to the thread that stopped. Used with the GIL held.
class SavedHooks {
public:
    // Keeps what `ts` has now, unless a record of it is still waiting to be
    // put back (that one is what the thread had before any session).
    void save(PyThreadState* ts, Py_tracefunc func, PyObject* obj) {
        prune();
        for (const auto& h : hooks_)
            if (h.ts == ts) return;
        hooks_.push_back(SavedHook{ts, PyThreadState_GetID(ts), func, Py_XNewRef(obj)});
    }
    // Takes out the record of `ts` (the caller owns out.obj); false if none.
    bool take(PyThreadState* ts, SavedHook& out) {
        for (auto it = hooks_.begin(); it != hooks_.end(); ++it) {
            if (it->ts != ts || PyThreadState_GetID(ts) != it->id) continue;
            out = *it;
            hooks_.erase(it);
            return true;
        }
        return false;
    }
    bool pending(PyThreadState* ts) const {
        for (const auto& h : hooks_)
            if (h.ts == ts) return true;
        return false;
    }
    // Puts each saved hook back on its thread if that thread still has `ours`
    // (a hook the user installed meanwhile stays): current(ts) reads a
    // thread's hook, put(ts, func, obj) sets it and returns false when it
    // cannot set that thread from here (the record is then kept for the
    // thread to take itself, at its next event).
    template <typename Current, typename Put>
    void restore(Py_tracefunc ours, Current&& current, Put&& put) {
        prune();
        std::vector<SavedHook> kept;
        for (auto& h : hooks_) {
            if (current(h.ts) == ours && !put(h.ts, h.func, h.obj)) {
                kept.push_back(h);
                continue;
            }
            Py_XDECREF(h.obj);
        }
        hooks_.swap(kept);
    }

private:
    // Forgets the threads that ended.
    void prune() {
        std::vector<SavedHook> live;
        for (auto& h : hooks_) {
            if (thread_alive(h.ts, h.id)) live.push_back(h);
            else Py_XDECREF(h.obj);
        }
        hooks_.swap(live);
    }

    std::vector<SavedHook> hooks_;
};

// Sets the trace hook of thread `ts` from the current thread. False when this
// Python cannot (3.13 exports no per-thread setter for another thread): the
// thread then puts its hook back itself at its next event (put_back_own_trace).
inline bool set_trace_of(PyThreadState* ts, Py_tracefunc func, PyObject* obj) {
    if (ts == PyThreadState_Get()) {
        PyEval_SetTrace(func, obj);
        return true;
    }
#if PY_VERSION_HEX >= 0x030D0000
    return false;
#else
    if (_PyEval_SetTrace(ts, func, obj) < 0) PyErr_Clear();
    return true;
#endif
}

// A trace hook of ours, still on this thread after its session ended: gives the
// thread back the hook the session replaced on it, if any, else none.
inline void put_back_own_trace(SavedHooks& saved) {
    SavedHook own;
    if (saved.take(PyThreadState_Get(), own)) {
        PyEval_SetTrace(own.func, own.obj);
        Py_XDECREF(own.obj);
    } else {
        PyEval_SetTrace(nullptr, nullptr);
    }
}

// Sets the trace hook of the other threads whose hook is `from` (starting:
// nullptr, the threads without a tracer of their own; stopping: ours).
// `saved`: hooks still to be put back on their threads (3.13 leaves those
// threads alone).
inline void rehook_other_threads(Py_tracefunc from, Py_tracefunc to, PyObject* obj, const SavedHooks* saved = nullptr) {
    PyThreadState* self = PyThreadState_Get();
#if PY_VERSION_HEX >= 0x030D0000
    // 3.13 no longer exports _PyEval_SetTrace: the threads can only be set all
    // at once, done when that overrides nobody's tracer (nor a hook a thread is
    // still to get back). Otherwise a thread left with our hook removes it (or
    // puts its own back) at its next event.
    // (Starting, the current thread's own hook does not count: the caller
    // replaces it afterwards. Stopping, it does: it may have just got it back.)
    bool foreign = false;
    for_each_thread([&](PyThreadState* ts) {
        const bool counts = ts != self || from != nullptr;
        foreign |= counts && ts->c_tracefunc != nullptr && ts->c_tracefunc != from && ts->c_tracefunc != to;
        foreign |= counts && saved && saved->pending(ts);
    });
    if (!foreign) PyEval_SetTraceAllThreads(to, obj);
#else
    (void)saved;
    int failed = 0;
    for_each_thread([&](PyThreadState* ts) {
        if (ts != self && ts->c_tracefunc == from) failed |= _PyEval_SetTrace(ts, to, obj) < 0;
    });
    if (failed) PyErr_Clear();
#endif
}

// Checks the arguments of a hook's Python-callable form, `name(frame, event,
// arg)` (what sys.settrace / sys.setprofile / threading.* call), and gives the
// event as a PyTrace_* value (-1 for an event the hooks do not handle).
// Returns false with TypeError set for bad arguments.
inline bool parse_hook_call(const char* name, PyObject* const* args, Py_ssize_t nargs, int& what) {
    if (nargs != 3 || !PyFrame_Check(args[0]) || !PyUnicode_Check(args[1])) {
        PyErr_Format(PyExc_TypeError, "%s(frame, event, arg) expects a frame, an event name and an argument", name);
        return false;
    }
    const char* ev = PyUnicode_AsUTF8(args[1]);
    if (!ev) return false;
    static const struct {
        const char* name;
        int         what;
    } events[] = {{"call", PyTrace_CALL},          {"line", PyTrace_LINE},         {"return", PyTrace_RETURN},
                  {"c_call", PyTrace_C_CALL},      {"c_return", PyTrace_C_RETURN}, {"c_exception", PyTrace_C_EXCEPTION},
                  {"exception", PyTrace_EXCEPTION}};
    what       = -1;
    for (const auto& e : events)
        if (std::strcmp(ev, e.name) == 0) what = e.what;
    return true;
}

// The record (an R made with new, freed by the slot's free function) that
// `code` carries in its co_extra slot `index`. A record whose generation is
// not `generation` (the labels or filters changed since) is filled again:
// fill(*rec, code) sets rec->generation among the rest. Null if the slot
// cannot be read or set (no exception is left set).
//
// The slot is read in place (code_extra): _PyCode_GetExtra is a call into the
// interpreter on every profiled call for the same three loads.
#if PY_VERSION_HEX < 0x030E0000 && !defined(Py_GIL_DISABLED)
// CPython's _PyCodeObjectExtra (Objects/codeobject.c, internal): what a code
// object's co_extra points to, the same from 3.6 to 3.13 (newer or free-threaded
// interpreters go through _PyCode_GetExtra).
struct CodeExtraSlots {
    Py_ssize_t ce_size;
    void*      ce_extras[1];
};
inline bool code_extra(PyCodeObject* code, Py_ssize_t index, void** out) {
    const auto* slots = static_cast<const CodeExtraSlots*>(code->co_extra);
    // one unsigned compare: a negative index is out of range too
    *out = slots && static_cast<std::size_t>(index) < static_cast<std::size_t>(slots->ce_size) ? slots->ce_extras[index]
                                                                                               : nullptr;
    return true;
}
#else
inline bool code_extra(PyCodeObject* code, Py_ssize_t index, void** out) {
    if (_PyCode_GetExtra(reinterpret_cast<PyObject*>(code), index, out) == 0) return true;
    PyErr_Clear();
    return false;
}
#endif

template <typename R, typename Fill>
R* code_record(PyCodeObject* code, Py_ssize_t index, std::uint64_t generation, Fill&& fill) {
    PyObject* obj   = reinterpret_cast<PyObject*>(code);
    void*     extra = nullptr;
    if (!code_extra(code, index, &extra)) return nullptr;
    auto* rec = static_cast<R*>(extra);
    if (rec && rec->generation == generation) return rec;
    if (!rec) {
        rec = new R{};
        if (_PyCode_SetExtra(obj, index, rec) < 0) {
            PyErr_Clear();
            delete rec;
            return nullptr;
        }
    }
    fill(*rec, obj);
    return rec;
}

// Adds the functions of `tables` to `module`, then `hook_def` (the hook as a
// Python callable), whose object is also kept in *hook_object for good: it is
// what sys.gettrace()/getprofile() return while the hook is installed.
inline int add_hook_functions(PyObject* module, std::initializer_list<PyMethodDef*> tables, PyMethodDef* hook_def,
                              PyObject** hook_object) {
    PyObject* name = PyModule_GetNameObject(module);
    if (!name) return -1;
    int rc = 0;
    for (PyMethodDef* defs : tables)
        for (PyMethodDef* def = defs; def->ml_name && rc == 0; ++def) {
            PyObject* f = PyCFunction_NewEx(def, nullptr, name);
            rc          = f ? PyModule_AddObject(module, def->ml_name, f) : -1;
            if (rc < 0) Py_XDECREF(f);
        }
    *hook_object = rc == 0 ? PyCFunction_NewEx(hook_def, nullptr, name) : nullptr;
    Py_DECREF(name);
    if (!*hook_object) return -1;
    // the module keeps one reference, *hook_object another (never released)
    return PyModule_AddObjectRef(module, hook_def->ml_name, *hook_object);
}

// A sys.monitoring callback as a METH_FASTCALL builtin: `F(self, args, nargs)`, called by
// vectorcall (the profiler's and the line profiler's callbacks).
template <PyObject* (*F)(PyObject*, PyObject* const*, Py_ssize_t)>
PyMethodDef callback_def(const char* name) {
    return {name, reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(F)), METH_FASTCALL, nullptr};
}

}  // namespace timemory_python
