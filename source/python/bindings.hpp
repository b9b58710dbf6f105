#pragma once
// The pybind11 half of _core: everything that is not per call (configuration, component
// metadata, storage views and their transport, writers, the import watch). One add_*
// function per subject file; module.cpp calls them in order.
#include <pybind11/pybind11.h>

#include <string>

#include "timemory/components/component_info.hpp"

namespace timemory_python {

// The description of component `index`; ValueError for an index that names none.
const tim::ComponentInfo& info_at(int index);

void add_config_bindings(pybind11::module_& m);     // config_bindings.cpp: config_set/get
void add_build_info(pybind11::module_& m);          // config_bindings.cpp: build_info
void add_component_bindings(pybind11::module_& m);  // component_bindings.cpp: metadata, resolver
void add_storage_bindings(pybind11::module_& m);    // storage_bindings.cpp: views, snapshots, packing
void add_import_watcher(pybind11::module_& m);      // import_watcher.cpp: ImportWatcher
void add_output_bindings(pybind11::module_& m);     // output_bindings.cpp: writers, atomic_write
void add_table_bindings(pybind11::module_& m);      // table_bindings.cpp: GraphTable, graph_table
void add_export_bindings(pybind11::module_& m);     // export_bindings.cpp: speedscope, callgrind
void add_exit_status(pybind11::module_& m);         // exit_status.cpp: set_exit_status_on_success
void add_fork_signals(pybind11::module_& m);        // fork_signals.cpp: set_watched_wakeup_fd
void add_pstats_bindings(pybind11::module_& m);     // pstats_bindings.cpp: hash sources, pstats
void add_context_bindings(pybind11::module_& m);    // context_bindings.cpp: context_capture/enter/leave
void add_timeline_bindings(pybind11::module_& m);   // timeline_bindings.cpp: timeline_*, write_trace_events
void add_merge_bindings(pybind11::module_& m);      // merge_bindings.cpp: packed_component, user_component_indices

}  // namespace timemory_python
