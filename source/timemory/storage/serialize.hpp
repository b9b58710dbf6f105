#pragma once
// Compact binary form of the flat and tree views, for moving one process's
// data to another (MPI ranks gathered on rank zero, pool workers merged into
// their parent), and the cross-process merge and summary done on arrival.
//
// The format is native-endian and versioned: it is read by the same build on
// the same machine kind (the ranks of one job), never stored.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "timemory/storage/snapshot.hpp"

namespace tim {

// What a packed list's header says of its component: the sending process's index, and for a
// Python-defined component its identity (the row a receiving process finds by key, or makes
// with no class when it never registered the component: it then holds the merged data).
struct PackedComponent {
    int  index  = -1;
    int  n_raw  = 0;
    int  n_disp = 0;
    bool user   = false;
    // a native row made at run time in a free slot (a perf:: event): named by key, as its
    // index depends on the order the process named such rows
    bool                                        keyed_native = false;
    std::string                                 key, label, description, class_name;
    Combine                                     combine = Combine::sum;
    std::vector<std::pair<double, std::string>> units;  // per value: divisor, display string
    std::vector<std::string>                    sub_labels;
};
// The header of packed flat or tree data (std::invalid_argument for data that are neither).
PackedComponent packed_component(std::string_view data);

std::string pack_flat(const ComponentInfo& info, const std::vector<FlatEntry>& entries);
// flat_snapshot(info.index) packed, without building FlatEntry objects
std::string pack_flat_snapshot(const ComponentInfo& info);
// `prefix` goes in front of every decorated label
std::vector<FlatEntry> unpack_flat(const ComponentInfo& info, std::string_view data, const std::string& prefix = "");
std::string            pack_tree(const ComponentInfo& info, const std::vector<TreeNode>& roots);
std::vector<TreeNode>  unpack_tree(const ComponentInfo& info, std::string_view data);

// One flat list holding several processes' packed lists: nodes with the same call
// path (hashes from the top level down) are merged, the rest kept, in
// pre-order of first appearance. Thread decorations are dropped (the merged
// data belong to no single thread).
std::vector<FlatEntry> merge_flat(const ComponentInfo& info, const std::vector<std::string_view>& processes);

// Cross-process statistics of one call-graph node (display values, display units):
// over the processes where the node exists.
struct ProcessSummary {
    std::uint64_t              hash = 0;
    std::string                label;
    std::string                prefix;  // ">>> |_label" as in the merged flat view
    int                        depth = 0;
    std::vector<std::uint64_t> hierarchy;
    bool                       remote = false;         // ran beneath its submitter elsewhere
    std::vector<int>           processes;              // indices of the processes that have the node
                                                       // (measured it: a count past 0)
    std::int64_t               laps = 0;               // over all processes
    std::vector<double>        min, max, mean, total;  // per display value
    std::vector<int>           max_process;            // per display value
    std::vector<double>        imbalance;              // max / mean (0 when mean is 0)
};
std::vector<ProcessSummary> summarize_processes(const ComponentInfo&                 info,
                                                const std::vector<std::string_view>& processes);

}  // namespace tim
