#pragma once
// Read-time views of the call graphs: threads merged (collapse_threads),
// flat pre-order list and tree with inclusive/exclusive values.
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "timemory/storage/call_graph.hpp"

namespace tim {

struct FlatEntry {
    std::uint64_t              hash = 0;
    std::string                prefix;     // decorated: "|0>>> |_foo" or ">>> |_foo"
    std::string                label;      // plain label "foo"
    int                        depth = 0;  // top level 0
    int                        tid   = 0;
    int                        pid   = 0;
    std::vector<std::uint64_t> hierarchy;         // hashes from the top level down to self
    std::uint64_t              rolling_hash = 0;  // sum of hierarchy, mod 2^64
    Entry                      entry;
};

struct TreeNode {
    std::uint64_t         hash = 0;
    std::string           label;  // plain label; "unknown-hash=0" on the dummy root
    std::set<int>         tids;
    std::set<int>         pids;
    int                   depth    = 0;  // raw: root 0, top level 1
    bool                  is_dummy = false;
    Entry                 inclusive;
    Entry                 exclusive;
    std::vector<TreeNode> children;
};

// Decorated flat label: ">>> " + indent + label, with "|<tid>" in front
// when threads are not collapsed (tid zero-padded to the width of nthreads).
std::string flat_prefix(const std::string& label, int depth, int tid, int nthreads, bool show_tid);

// One node of the flat view as for_each_flat visits it (pointers valid during the call).
struct FlatItem {
    std::uint64_t                     hash = 0;
    std::string                       label;
    int                               depth    = 0;  // top level 0
    int                               tid      = 0;
    int                               pid      = 0;
    bool                              show_tid = false;  // threads not collapsed
    int                               nthreads = 1;
    std::size_t                       total    = 0;        // nodes in the whole view
    const std::vector<std::uint64_t>* path     = nullptr;  // hierarchy
    const Entry*                      entry    = nullptr;
};

// While true on this thread, a snapshot copies each call graph under its lock (held for the
// copy alone) instead of reading the first one in place under its lock (no copy, the final
// write's memory): a background checkpoint then never makes a recording thread wait long.
extern thread_local bool snapshot_copies;

bool                   has_data(int index);       // any thread recorded anything
std::size_t            graph_size(int index);     // nodes (merged view) besides the root
std::vector<FlatEntry> flat_snapshot(int index);  // pre-order, merged per collapse_threads
// The flat view without building FlatEntry objects (what flat_snapshot is made of).
void                  for_each_flat(int index, const std::function<void(const FlatItem&)>& visit);
std::vector<TreeNode> tree_snapshot(int index);  // roots (one dummy root per thread view)
void                  clear(int index);

// Recomputes every exclusive value of a tree from the inclusive values.
void compute_exclusive(const ComponentInfo& info, TreeNode& node);

}  // namespace tim
