// The C API's cost per push/pop pair (timemory/capi.h), measured in C++: a Python extension
// module built and run by benchmarks/capi_overhead.py. Each function runs its loop `n` times
// and returns the nanoseconds per iteration (CLOCK_MONOTONIC around the whole loop).
//   bare     two clock_gettime calls: the baseline (what a wall_clock region reads)
//   pair     timemory_push_region("bench") + timemory_pop_region("bench")
//   pair_id  the same by a precomputed id (timemory_region_id): no hashing of the name
//   noop     push + pop while the API is not bound (timemory not imported)
//   empty    the loop alone (what noop is compared with)
#include <Python.h>
#include <time.h>

#include <cstdint>

#include "timemory/capi.h"

namespace {

std::int64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

volatile std::int64_t g_sink = 0;

template <typename Body>
double per_iteration(long n, Body body) {
    const std::int64_t t0 = now_ns();
    for (long i = 0; i < n; ++i) {
        body();
        asm volatile("" ::: "memory");  // the loop stays a loop
    }
    return static_cast<double>(now_ns() - t0) / static_cast<double>(n);
}

long arg_n(PyObject* arg) {
    const long n = PyLong_AsLong(arg);
    if (n <= 0 && !PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "n must be positive");
    return n;
}

PyObject* bare(PyObject*, PyObject* arg) {
    const long n = arg_n(arg);
    if (PyErr_Occurred()) return nullptr;
    return PyFloat_FromDouble(per_iteration(n, [] {
        timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        clock_gettime(CLOCK_MONOTONIC, &b);
        g_sink = g_sink + (b.tv_nsec - a.tv_nsec);
    }));
}

PyObject* pair(PyObject*, PyObject* arg) {
    const long n = arg_n(arg);
    if (PyErr_Occurred()) return nullptr;
    return PyFloat_FromDouble(per_iteration(n, [] {
        timemory_push_region("bench");
        timemory_pop_region("bench");
    }));
}

PyObject* pair_id(PyObject*, PyObject* arg) {
    const long n = arg_n(arg);
    if (PyErr_Occurred()) return nullptr;
    const std::uint64_t id = timemory_region_id("bench_id");
    return PyFloat_FromDouble(per_iteration(n, [id] {
        timemory_push_region_id(id);
        timemory_pop_region_id(id);
    }));
}

PyObject* noop(PyObject*, PyObject* arg) {
    const long n = arg_n(arg);
    if (PyErr_Occurred()) return nullptr;
    const timemory_capi_table* bound = TIMEMORY_CAPI_LOAD();
    TIMEMORY_CAPI_STORE(nullptr);  // as if timemory were not imported
    const double ns = per_iteration(n, [] {
        timemory_push_region("bench");
        timemory_pop_region("bench");
    });
    TIMEMORY_CAPI_STORE(bound);
    return PyFloat_FromDouble(ns);
}

PyObject* empty(PyObject*, PyObject* arg) {
    const long n = arg_n(arg);
    if (PyErr_Occurred()) return nullptr;
    return PyFloat_FromDouble(per_iteration(n, [] {}));
}

PyObject* bind(PyObject*, PyObject*) {
    const int rc = timemory_capi_import();
    if (rc < 0) return nullptr;
    return PyBool_FromLong(rc);
}

PyMethodDef methods[] = {{"bare", bare, METH_O, "ns per pair of clock_gettime calls"},
                         {"pair", pair, METH_O, "ns per push/pop pair"},
                         {"pair_id", pair_id, METH_O, "ns per push/pop pair by id"},
                         {"noop", noop, METH_O, "ns per push/pop pair, API not bound"},
                         {"empty", empty, METH_O, "ns per empty iteration"},
                         {"bind", bind, METH_NOARGS, "timemory_capi_import(): True when bound"},
                         {nullptr, nullptr, 0, nullptr}};

PyModuleDef module = {PyModuleDef_HEAD_INIT, "_capi_overhead", nullptr, -1, methods};

}  // namespace

PyMODINIT_FUNC PyInit__capi_overhead(void) { return PyModule_Create(&module); }
