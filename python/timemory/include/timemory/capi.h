/* timemory's C API for native extensions: named regions and data trackers recorded by the
 * running timemory (the Python package), reached through the capsule timemory._core._C_API.
 * Header-only: an extension includes it and does not link against timemory.
 *
 *     #include <timemory/capi.h>
 *
 *     PyMODINIT_FUNC PyInit_myext(void) {
 *         ...
 *         if (timemory_capi_import() < 0) return NULL;  // binds if timemory is imported
 *         ...
 *     }
 *
 *     static void kernel(void) {            // any thread, with or without the GIL
 *         timemory_push_region("kernel");
 *         ...
 *         timemory_record("items", 42.0);   // a data tracker under the current region
 *         timemory_pop_region("kernel");
 *     }
 *
 * Until the API is bound (timemory not imported), every call is a no-op costing one
 * predictable branch. Push, pop and record take no GIL and touch no Python object: they may
 * run on threads Python never created; each thread records into its own storage, merged
 * like any thread's. The components are the ones Python chose for regions
 * (timemory.region: TIMEMORY_COMPONENTS, set_default, push_components...), without the
 * Python-defined ones (they need the GIL). See docs/guide/native.md.
 *
 * C++: timemory/capi.hpp adds scoped objects (timemory::scoped_region...).
 */
#ifndef TIMEMORY_CAPI_H
#define TIMEMORY_CAPI_H

#include <Python.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The layout of timemory_capi_table: bumped when a member changes or moves (members are
 * only ever appended otherwise, and `size` says how many a running timemory has). */
#define TIMEMORY_CAPI_VERSION 1
#define TIMEMORY_CAPI_CAPSULE "timemory._core._C_API"

/* A calling thread's call path, captured to be entered by other threads (opaque). */
typedef struct timemory_context timemory_context;

typedef struct timemory_capi_table {
    uint32_t version; /* TIMEMORY_CAPI_VERSION of the running timemory */
    uint32_t size;    /* sizeof its table */
    void (*push_region)(const char* name);
    void (*pop_region)(const char* name);
    uint64_t (*region_id)(const char* name);
    void (*push_region_id)(uint64_t id);
    void (*pop_region_id)(uint64_t id);
    void (*record)(const char* name, double value);
    timemory_context* (*context_capture)(void);
    void (*context_enter)(const timemory_context* context);
    void (*context_leave)(void);
    void (*context_release)(timemory_context* context);
} timemory_capi_table;

/* The bound table, or NULL. One per shared object (weak, hidden): every translation unit of
 * an extension sees what its module init bound; each extension binds its own. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((weak, visibility("hidden"))) const timemory_capi_table* timemory_capi_bound = 0;
#define TIMEMORY_CAPI_LOAD() __atomic_load_n(&timemory_capi_bound, __ATOMIC_ACQUIRE)
#define TIMEMORY_CAPI_STORE(t) __atomic_store_n(&timemory_capi_bound, (t), __ATOMIC_RELEASE)
#define TIMEMORY_CAPI_LIKELY(x) __builtin_expect(!!(x), 1)
#else
/* without weak symbols: one per translation unit (call timemory_capi_import in each) */
static const timemory_capi_table* timemory_capi_bound = 0;
#define TIMEMORY_CAPI_LOAD() (timemory_capi_bound)
#define TIMEMORY_CAPI_STORE(t) (timemory_capi_bound = (t))
#define TIMEMORY_CAPI_LIKELY(x) (x)
#endif

/* Binds the API to the running timemory when the program has imported it (timemory is not
 * imported by this call: an instrumented extension does not turn timemory on). Returns 1
 * bound, 0 timemory not imported (the API stays a no-op; call again later, e.g. at the entry
 * of a function, to bind once it is), -1 with a Python exception set (a timemory whose C API
 * this header does not match). Needs the GIL. Cheap once bound. */
static inline int timemory_capi_import_impl(int load) {
    PyObject*                  name;
    PyObject*                  module;
    PyObject*                  regions;
    const timemory_capi_table* table;
    if (TIMEMORY_CAPI_LOAD()) return 1;
    if (!load) {
        name = PyUnicode_FromString("timemory._core");
        if (!name) return -1;
        module = PyImport_GetModule(name);
        Py_DECREF(name);
        if (!module) return PyErr_Occurred() ? -1 : 0;
        Py_DECREF(module);
    }
    table = (const timemory_capi_table*)PyCapsule_Import(TIMEMORY_CAPI_CAPSULE, 0);
    if (!table) return -1;
    if (table->version != TIMEMORY_CAPI_VERSION || table->size < sizeof(timemory_capi_table)) {
        PyErr_Format(PyExc_ImportError,
                     "the running timemory has C API version %u (%u bytes), this extension was built "
                     "with the header of version %d (%u bytes): rebuild it with timemory.get_include()",
                     (unsigned)table->version, (unsigned)table->size, TIMEMORY_CAPI_VERSION,
                     (unsigned)sizeof(timemory_capi_table));
        return -1;
    }
    /* the component set Python chose for regions (TIMEMORY_COMPONENTS...) is applied when
     * timemory.region is imported */
    regions = PyImport_ImportModule("timemory.region");
    if (!regions) return -1;
    Py_DECREF(regions);
    TIMEMORY_CAPI_STORE(table);
    return 1;
}

static inline int timemory_capi_import(void) { return timemory_capi_import_impl(0); }

/* As timemory_capi_import, but imports timemory when the program has not (1 bound, -1 with
 * the exception set, e.g. ModuleNotFoundError). */
static inline int timemory_capi_load(void) { return timemory_capi_import_impl(1); }

/* Whether the API is bound (calls record something). */
static inline int timemory_capi_available(void) { return TIMEMORY_CAPI_LOAD() != 0; }

/* Starts a region named `name` on the calling thread, nested in what runs there. */
static inline void timemory_push_region(const char* name) {
    const timemory_capi_table* t = TIMEMORY_CAPI_LOAD();
    if (TIMEMORY_CAPI_LIKELY(t)) t->push_region(name);
}

/* Stops the newest region named `name` on the calling thread (nothing if none runs). */
static inline void timemory_pop_region(const char* name) {
    const timemory_capi_table* t = TIMEMORY_CAPI_LOAD();
    if (TIMEMORY_CAPI_LIKELY(t)) t->pop_region(name);
}

/* The id of a region name (registers the name): push/pop by id skip hashing the name.
 * 0 while the API is not bound (push/pop of 0 do nothing). */
static inline uint64_t timemory_region_id(const char* name) {
    const timemory_capi_table* t = TIMEMORY_CAPI_LOAD();
    return TIMEMORY_CAPI_LIKELY(t) ? t->region_id(name) : 0;
}

static inline void timemory_push_region_id(uint64_t id) {
    const timemory_capi_table* t = TIMEMORY_CAPI_LOAD();
    if (TIMEMORY_CAPI_LIKELY(t)) t->push_region_id(id);
}

static inline void timemory_pop_region_id(uint64_t id) {
    const timemory_capi_table* t = TIMEMORY_CAPI_LOAD();
    if (TIMEMORY_CAPI_LIKELY(t)) t->pop_region_id(id);
}

/* Records `value` into the data tracker `name` (component data_tracker_floating: count, sum,
 * min, max and mean of the values recorded) beneath the calling thread's current region. */
static inline void timemory_record(const char* name, double value) {
    const timemory_capi_table* t = TIMEMORY_CAPI_LOAD();
    if (TIMEMORY_CAPI_LIKELY(t)) t->record(name, value);
}

/* The calling thread's call path (e.g. the Python call that entered the extension), for
 * threads the extension starts: timemory_context_enter(ctx) in each makes its regions nest
 * beneath it, marked [parallel]. Release it with timemory_context_release once the threads
 * have entered it. NULL while the API is not bound (enter/release accept NULL). */
static inline timemory_context* timemory_context_capture(void) {
    const timemory_capi_table* t = TIMEMORY_CAPI_LOAD();
    return TIMEMORY_CAPI_LIKELY(t) ? t->context_capture() : 0;
}

/* Enters `context` on the calling thread until the matching timemory_context_leave(). */
static inline void timemory_context_enter(const timemory_context* context) {
    const timemory_capi_table* t = TIMEMORY_CAPI_LOAD();
    if (TIMEMORY_CAPI_LIKELY(t)) t->context_enter(context);
}

static inline void timemory_context_leave(void) {
    const timemory_capi_table* t = TIMEMORY_CAPI_LOAD();
    if (TIMEMORY_CAPI_LIKELY(t)) t->context_leave();
}

static inline void timemory_context_release(timemory_context* context) {
    const timemory_capi_table* t = TIMEMORY_CAPI_LOAD();
    if (TIMEMORY_CAPI_LIKELY(t) && context) t->context_release(context);
}

#ifdef __cplusplus
}
#endif

#endif /* TIMEMORY_CAPI_H */
