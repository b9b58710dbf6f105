/* The floor of a profile hook: a C hook that does nothing, installed the way
 * timemory's function profiler installs its own (source/python/profiler.cpp),
 * so that what any profiler using that mechanism pays per call and return can
 * be told apart from the profiler's own work. Built by benchmarks/hook_floor.py
 * (module `_hook_floor`) against each interpreter it measures.
 *
 *  - up to 3.11: a Py_tracefunc set with PyEval_SetProfile, returning 0;
 *  - 3.12+: sys.monitoring callbacks (METH_FASTCALL C functions returning None)
 *    on the events timemory registers without trace_c: PY_START, PY_RESUME,
 *    PY_THROW, PY_RETURN, PY_YIELD, PY_UNWIND, under tool id 4 (else 3), as
 *    timemory claims them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static int noop_profile(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg) {
    (void)obj;
    (void)frame;
    (void)what;
    (void)arg;
    return 0;
}

#if PY_VERSION_HEX >= 0x030C0000
#define FLOOR_MONITORING 1
static int g_tool = -1;

static PyObject *noop_event(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    (void)args;
    (void)nargs;
    Py_RETURN_NONE;
}

static PyMethodDef g_noop_def = {"hook_floor_noop", (PyCFunction)(void (*)(void))noop_event, METH_FASTCALL, NULL};

static const char *const g_events[] = {"PY_START", "PY_RESUME", "PY_THROW", "PY_RETURN", "PY_YIELD", "PY_UNWIND"};

static long event_bit(PyObject *events, const char *name) {
    PyObject *v = PyObject_GetAttrString(events, name);
    if (!v) return -1;
    long bit = PyLong_AsLong(v);
    Py_DECREF(v);
    return bit;
}

static int monitoring_start(void) {
    PyObject *mod = PySys_GetObject("monitoring"); /* borrowed */
    if (!mod) return -1;
    PyObject *events = PyObject_GetAttrString(mod, "events");
    if (!events) return -1;
    static const int ids[] = {4, 3};
    for (int k = 0; k < 2 && g_tool < 0; ++k) {
        PyObject *r = PyObject_CallMethod(mod, "use_tool_id", "is", ids[k], "hook_floor");
        if (r) {
            Py_DECREF(r);
            g_tool = ids[k];
        } else {
            PyErr_Clear();
        }
    }
    if (g_tool < 0) {
        Py_DECREF(events);
        PyErr_SetString(PyExc_RuntimeError, "no free sys.monitoring tool id (4 or 3)");
        return -1;
    }
    PyObject *f = PyCFunction_NewEx(&g_noop_def, NULL, NULL);
    long mask = 0;
    int ok = f != NULL;
    for (size_t i = 0; ok && i < sizeof g_events / sizeof g_events[0]; ++i) {
        const long bit = event_bit(events, g_events[i]);
        PyObject *r = bit > 0 ? PyObject_CallMethod(mod, "register_callback", "ilO", g_tool, bit, f) : NULL;
        ok = r != NULL;
        Py_XDECREF(r);
        mask |= bit;
    }
    if (ok) {
        PyObject *r = PyObject_CallMethod(mod, "set_events", "il", g_tool, mask);
        ok = r != NULL;
        Py_XDECREF(r);
    }
    Py_XDECREF(f);
    Py_DECREF(events);
    return ok ? 0 : -1;
}

static void monitoring_stop(void) {
    if (g_tool < 0) return;
    PyObject *mod = PySys_GetObject("monitoring");
    PyObject *events = mod ? PyObject_GetAttrString(mod, "events") : NULL;
    if (mod) Py_XDECREF(PyObject_CallMethod(mod, "set_events", "ii", g_tool, 0));
    for (size_t i = 0; events && i < sizeof g_events / sizeof g_events[0]; ++i) {
        const long bit = event_bit(events, g_events[i]);
        if (bit > 0) Py_XDECREF(PyObject_CallMethod(mod, "register_callback", "ilO", g_tool, bit, Py_None));
    }
    if (mod) Py_XDECREF(PyObject_CallMethod(mod, "free_tool_id", "i", g_tool));
    Py_XDECREF(events);
    PyErr_Clear();
    g_tool = -1;
}
#endif

/* install(monitoring=True): the no-op hook, by sys.monitoring on 3.12+ unless
 * monitoring is false, else by PyEval_SetProfile. Returns the mechanism used. */
static PyObject *install(PyObject *self, PyObject *args) {
    (void)self;
    int use_monitoring = 1;
    if (!PyArg_ParseTuple(args, "|p", &use_monitoring)) return NULL;
#ifdef FLOOR_MONITORING
    if (use_monitoring) {
        if (monitoring_start() < 0) return NULL;
        return PyUnicode_FromString("monitoring");
    }
#endif
    PyEval_SetProfile(noop_profile, NULL);
    return PyUnicode_FromString("setprofile");
}

static PyObject *uninstall(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
#ifdef FLOOR_MONITORING
    monitoring_stop();
#endif
    PyEval_SetProfile(NULL, NULL);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"install", install, METH_VARARGS, "install(monitoring=True) -> 'monitoring' | 'setprofile'"},
    {"uninstall", uninstall, METH_NOARGS, "Remove the no-op hook."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_hook_floor", "A profile hook that does nothing.", -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__hook_floor(void) { return PyModule_Create(&module); }
