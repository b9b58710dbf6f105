#pragma once
// What the two line-event hooks (tracer.cpp for timemory.trace,
// line_profiler.cpp for timemory.line_profiler) share: turning a
// PyEval_SetTrace event into this thread's LineTracker calls.
#include <Python.h>
#include <frameobject.h>

#include "timemory/hooks/line_tracker.hpp"

namespace timemory_python {

inline int line_number(PyFrameObject* frame) {
#if PY_VERSION_HEX < 0x030A0000
    // Set by the interpreter before a line event. PyFrame_GetLineNumber would
    // decode co_lnotab instead, because f_trace is NULL under a C-level hook.
    return frame->f_lineno;
#else
    return PyFrame_GetLineNumber(frame);
#endif
}

#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030E0000
#define TIMEMORY_FRAME_HEAD 1
// The head of CPython's struct _frame (internal since 3.11), identical in
// 3.11, 3.12 and 3.13: enough to reach f_trace_lines without a setattr call.
// Other versions go through the f_trace_lines attribute.
struct FrameHead {
    PyObject_HEAD
    PyFrameObject* f_back;
    void*          f_frame;
    PyObject*      f_trace;
    int            f_lineno;
    char           f_trace_lines;
};
#endif

// No more line events for this frame: CPython then calls the hook only for
// its call and return.
inline void skip_lines(PyFrameObject* frame) {
#if defined(TIMEMORY_FRAME_HEAD)
    reinterpret_cast<FrameHead*>(frame)->f_trace_lines = 0;
#elif PY_VERSION_HEX < 0x030B0000
    frame->f_trace_lines = 0;
#else
    if (PyObject_SetAttrString(reinterpret_cast<PyObject*>(frame), "f_trace_lines", Py_False) < 0) PyErr_Clear();
#endif
}

// Feeds one trace event to this thread's line tracker. `table_for(frame)`
// gives the frame's line table (null: the code is not traced). With
// `skip_untraced`, a frame of untraced code that starts during the session
// gets its line events switched off (frames adopted from before the session
// keep theirs: they outlive it, and a debugger may trace them later).
template <typename TableFor>
void feed_line_tracker(PyFrameObject* frame, int what, TableFor&& table_for, bool skip_untraced) {
    if (__builtin_expect(tim::hooks::g_line_session.closing, 0)) return;  // a component's stop() at the end
    auto& tracker = tim::hooks::this_line_tracker();
    tracker.sync();
    switch (what) {
        case PyTrace_LINE: {
            const int lineno = line_number(frame);
            if (!tracker.line(frame, lineno)) {
                // a frame that began before the session (the caller of a decorated function)
                tracker.adopt(frame, table_for(frame));
                tracker.line(frame, lineno);
            }
            break;
        }
        case PyTrace_CALL: {
            auto* table = table_for(frame);
            if (!table && skip_untraced) skip_lines(frame);
            tracker.call(frame, table);
            break;
        }
        case PyTrace_RETURN: tracker.ret(frame); break;
        default: break;  // exception, opcode: the events that follow tell where execution goes
    }
}

}  // namespace timemory_python
