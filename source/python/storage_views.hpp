#pragma once
// The storage views handed to Python without copies: one component's flat entries
// (FlatBatch) or tree views (TreeBatch), which the storage result and tree objects of
// timemory.storage point into (slots _b and _i), and the reading of such sequences back
// into native pointers for the packers and writers.
#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "timemory/storage/joined.hpp"
#include "timemory/storage/snapshot.hpp"

namespace timemory_python {

// One component's flat entries, held together: the storage results
// (timemory.storage.StorageResult, slots _b and _i) point into it, so a list
// of results costs one small Python object per entry and no copies.
struct FlatBatch {
    int                         index = -1;
    std::vector<tim::FlatEntry> entries;

    const tim::FlatEntry& at(pybind11::ssize_t i) const {
        if (i < 0 || static_cast<std::size_t>(i) >= entries.size())
            throw pybind11::index_error("flat entry index out of range");
        return entries[static_cast<std::size_t>(i)];
    }
};
using BatchPtr = std::shared_ptr<FlatBatch>;

// One component's tree views (one root per thread view or process), held
// together with a pre-order index: the tree objects of timemory.storage
// (slots _b and _i) point into it, so walking a tree copies nothing.
struct TreeBatch {
    int                               index = -1;
    std::vector<tim::TreeNode>        roots;
    std::vector<const tim::TreeNode*> nodes;  // pre-order over every root
    std::vector<std::int32_t>         child_start, child_list, root_ids;

    void build_index() {
        nodes.clear();
        root_ids.clear();
        std::vector<std::int32_t>                                  parent;
        std::vector<std::pair<const tim::TreeNode*, std::int32_t>> stack;  // (node, parent id)
        for (auto r = roots.rbegin(); r != roots.rend(); ++r) stack.emplace_back(&*r, -1);
        while (!stack.empty()) {
            auto [n, p] = stack.back();
            stack.pop_back();
            auto id = static_cast<std::int32_t>(nodes.size());
            nodes.push_back(n);
            parent.push_back(p);
            if (p < 0) root_ids.push_back(id);
            for (auto c = n->children.rbegin(); c != n->children.rend(); ++c) stack.emplace_back(&*c, id);
        }
        const auto count = nodes.size();
        child_start.assign(count + 1, 0);
        for (auto p : parent)
            if (p >= 0) ++child_start[static_cast<std::size_t>(p) + 1];
        for (std::size_t i = 0; i < count; ++i) child_start[i + 1] += child_start[i];
        child_list.resize(count);
        std::vector<std::int32_t> fill(child_start.begin(), child_start.end() - 1);
        for (std::size_t i = 0; i < count; ++i)
            if (parent[i] >= 0)
                child_list[static_cast<std::size_t>(fill[static_cast<std::size_t>(parent[i])]++)] =
                    static_cast<std::int32_t>(i);
    }
    const tim::TreeNode& at(pybind11::ssize_t i) const {
        if (i < 0 || static_cast<std::size_t>(i) >= nodes.size())
            throw pybind11::index_error("tree node index out of range");
        return *nodes[static_cast<std::size_t>(i)];
    }
    std::vector<std::int32_t> children(pybind11::ssize_t i) const {
        at(i);
        return {child_list.begin() + child_start[static_cast<std::size_t>(i)],
                child_list.begin() + child_start[static_cast<std::size_t>(i) + 1]};
    }
};
using TreePtr = std::shared_ptr<TreeBatch>;

// Tree nodes from a sequence of storage tree objects (slots _b, _i) or TreeNode
// objects; the pointers stay valid while `seq` lives.
std::vector<const tim::TreeNode*> tree_ptrs_of(const pybind11::handle& seq);

// Flat entries from a FlatBatch, or a sequence of storage results or FlatEntry objects,
// without copies: the pointers stay valid while `obj` lives.
std::vector<const tim::FlatEntry*> entries_of(const pybind11::handle& obj);

// The source of a joined walk from its Python form: a list of component indices (this
// process's live graphs, rows carrying `rank`; `copy`: each graph copied under its lock), or
// a list of (index, ranks) tuples, ranks a list per rank of tree objects (what
// Storage.load_json_tree_dmp returns). The tree pointers stay valid while `source` lives.
tim::JoinSource join_source_of(const pybind11::handle& source, int rank, bool copy);

}  // namespace timemory_python
