// timemory._core: the module and the list of its subjects. Each subject file adds its own
// functions and types; this file only says in which order (a pybind11 signature names the
// Python type of an argument when that type was added before it). A new subject adds its
// add_* call here, in the list below.
#include <pybind11/pybind11.h>

#include "bindings.hpp"
#include "callbacks.hpp"
#include "capi.hpp"
#include "component_type.hpp"
#include "hardware_counters.hpp"
#include "line_profiler.hpp"
#include "marker.hpp"
#include "profiler.hpp"
#include "roofline.hpp"
#include "test_clock.hpp"
#include "tracer.hpp"
#include "user_components.hpp"

namespace py = pybind11;

namespace {
// The C-API subjects report an error as -1 with the Python exception set.
void check(int rc) {
    if (rc < 0) throw py::error_already_set();
}
}  // namespace

PYBIND11_MODULE(_core, m) {
    namespace tp = timemory_python;
    m.doc()      = "timemory native core (private: use the timemory package)";

    // ---------------------------------------------------------------- pybind11 subjects
    tp::add_config_bindings(m);     // config_set/get
    tp::add_component_bindings(m);  // the component table, the resolver, readings
    tp::add_storage_bindings(m);    // stored values, views, snapshots, hashes, packing
    tp::add_table_bindings(m);      // GraphTable: the NumPy snapshot
    tp::add_import_watcher(m);      // ImportWatcher
    tp::add_output_bindings(m);     // writers, atomic_write
    tp::add_export_bindings(m);     // write_speedscope, write_callgrind
    tp::add_timeline_bindings(m);   // timeline_*, write_trace_events, write_flame_trace
    tp::add_exit_status(m);         // set_exit_status_on_success: a lost output's status
    tp::add_fork_signals(m);        // set_watched_wakeup_fd: a forked child forgets the watcher's pipe
    tp::add_build_info(m);          // build_info
    tp::add_hardware_counters(m);   // hw_*
    tp::add_roofline(m);            // roofline_*
    tp::add_test_clock(m);          // _test_clock*: the tests' fake clock
    tp::add_pstats_bindings(m);     // hash_sources, add_hash_sources, pstats_functions
    tp::add_context_bindings(m);    // context_*: the submitting call path follows a task
    tp::add_merge_bindings(m);      // packed_component: other processes' components

    // ---------------------------------------------------------------- C-API subjects
    check(tp::add_callbacks(m.ptr()));        // _set_callbacks: the package's helpers
    check(tp::add_marker_types(m.ptr()));     // marker, MarkedFunction
    check(tp::add_component_type(m.ptr()));   // Component, _register_component_class
    check(tp::add_profiler(m.ptr()));         // profiler_*
    check(tp::add_tracer(m.ptr()));           // tracer_*, region_*, trace_*
    check(tp::add_line_profiler(m.ptr()));    // line_profiler_*
    check(tp::add_user_components(m.ptr()));  // register_user_component: Python-defined components
    check(tp::add_capi(m.ptr()));             // _C_API: the capsule of the C API for extensions
}
