#pragma once
// The joined view of several components' call graphs: one row per call-graph node of every
// thread view (live data) or every rank (trees read back from files or gathered from other
// processes), with the values of each component side by side. What the NumPy snapshot
// (GraphTable) and the exports (pstats, speedscope, callgrind) read: they stream it, so a
// graph of a million nodes is never held twice.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "timemory/storage/entry.hpp"
#include "timemory/storage/snapshot.hpp"

namespace tim {

// Where the joined rows come from.
struct JoinSource {
    // One component's trees read back: the root trees (TreeNode, dummy roots included, as
    // tree_snapshot makes them and the tree JSON holds them) of each rank.
    struct Loaded {
        int                                       index = -1;  // component enum index
        std::vector<std::vector<const TreeNode*>> ranks;       // pointers valid during the walk
    };
    std::vector<int>    live;          // this process's call graphs of these components, or
    std::vector<Loaded> loaded;        // trees read back (live is then empty)
    int                 rank = 0;      // live: the rank the rows carry (MPI rank or 0)
    bool                copy = false;  // live: copy each graph under its lock (a checkpoint)

    // The components, in column order (live, else the loaded ones' indices).
    std::vector<int> indices() const;
};

// One row of the walk.
struct JoinedRow {
    std::int64_t     row    = 0;      // position in the walk, from 0
    std::int64_t     parent = -1;     // row of the parent; -1 at the top level of a view
    int              depth  = 0;      // top level 0
    int              rank   = 0;      // live: JoinSource::rank; loaded: position in `ranks`
    std::int64_t     pid    = 0;      // the process (live: getpid(); loaded: the node's lowest pid)
    int              tid    = 0;      // the thread (the lowest of a node merged over threads)
    std::uint64_t    hash   = 0;      // the node's identity (hash_label of label and where)
    std::string_view label;           // the label as the files show it (valid during the call)
    bool             remote = false;  // ran elsewhere beneath its parent (any component's node)
    // Per component of JoinSource::indices(), in that order: the node's inclusive and
    // exclusive (self) values, nullptr where this component has no such node.
    std::vector<const Entry*> inclusive;
    std::vector<const Entry*> exclusive;
};

// visit(row) for every node but the dummy roots. Views come one after the other (rank, then
// thread); the rows of one view are contiguous and in pre-order, so a row's ancestors are
// the rows before it with smaller depths. Nodes of different components join when their
// paths of hashes from the top level are equal (a bundle records each of its components
// under the same path). Threads are merged or not as settings.collapse_threads says.
void for_each_joined(const JoinSource& src, const std::function<void(const JoinedRow&)>& visit);

// Where a function's code is, when the profiler or tracer registered it (file path as the
// code object has it, first line): false for markers and unknown hashes.
bool hash_source(std::uint64_t hash, std::string& file, int& line);

}  // namespace tim
