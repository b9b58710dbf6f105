#pragma once
// Read-time views of the call graphs: threads merged (collapse_threads),
// flat pre-order list and tree with inclusive/exclusive values.
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
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
    std::vector<std::uint64_t> hierarchy;         // hashes from the top level down to self; empty in
                                                  // the views made here (see hierarchy_at)
    std::uint64_t              rolling_hash = 0;  // sum of the hierarchy, mod 2^64
    // Node::remote / Node::context of the node (OR over the threads and processes merged):
    // remote, it ran in parallel elsewhere beneath the call path that submitted it and is
    // not part of its parent's inclusive value (docs/guide/executors.md)
    bool  remote  = false;
    bool  context = false;
    Entry entry;
};

struct TreeNode {
    std::uint64_t         hash = 0;
    std::string           label;  // plain label; "unknown-hash=0" on the dummy root
    std::set<int>         tids;
    std::set<int>         pids;
    int                   depth    = 0;  // raw: root 0, top level 1
    bool                  is_dummy = false;
    bool                  remote   = false;  // Node::remote: not part of the parent's inclusive value
    bool                  context  = false;  // Node::context: a submitting path entered by a task
    Entry                 inclusive;
    Entry                 exclusive;
    std::vector<TreeNode> children;

    // Copies and destruction walk the subtree with an explicit stack: the implicit
    // ones recurse once per level, and a call graph 100,000 levels deep (max_depth
    // allows 65,535 and more) overflows the thread's stack.
    TreeNode() = default;
    TreeNode(const TreeNode& other);
    TreeNode(TreeNode&&) noexcept = default;
    TreeNode& operator=(const TreeNode& other);
    TreeNode& operator=(TreeNode&& other) noexcept;
    ~TreeNode();

    // The node's own fields, without its children.
    void assign_fields(const TreeNode& other);
};

// TreeNode's copies and destruction (inline: the writers use them without the graphs).
inline void TreeNode::assign_fields(const TreeNode& other) {
    hash      = other.hash;
    label     = other.label;
    tids      = other.tids;
    pids      = other.pids;
    depth     = other.depth;
    is_dummy  = other.is_dummy;
    remote    = other.remote;
    context   = other.context;
    inclusive = other.inclusive;
    exclusive = other.exclusive;
}

inline TreeNode::TreeNode(const TreeNode& other) { *this = other; }

inline TreeNode& TreeNode::operator=(const TreeNode& other) {
    if (this == &other) return *this;
    TreeNode copy;  // built apart first: `other` may live inside this node's subtree
    copy.assign_fields(other);
    std::vector<std::pair<const TreeNode*, TreeNode*>> stack{{&other, &copy}};
    while (!stack.empty()) {
        auto [src, dst] = stack.back();
        stack.pop_back();
        // reserved first, so the pointers to the new children stay valid
        dst->children.reserve(src->children.size());
        for (const auto& c : src->children) dst->children.emplace_back().assign_fields(c);
        for (std::size_t i = 0; i < src->children.size(); ++i) stack.emplace_back(&src->children[i], &dst->children[i]);
    }
    return *this = std::move(copy);
}

inline TreeNode& TreeNode::operator=(TreeNode&& other) noexcept {
    if (this == &other) return *this;
    auto old  = std::move(children);  // destroyed by ~TreeNode's loop below, not recursively
    hash      = other.hash;
    label     = std::move(other.label);
    tids      = std::move(other.tids);
    pids      = std::move(other.pids);
    depth     = other.depth;
    is_dummy  = other.is_dummy;
    remote    = other.remote;
    context   = other.context;
    inclusive = other.inclusive;
    exclusive = other.exclusive;
    children  = std::move(other.children);
    if (!old.empty()) {
        TreeNode sink;
        sink.children = std::move(old);
    }
    return *this;
}

inline TreeNode::~TreeNode() {
    // Detach the grandchildren onto a work list before each child is destroyed, so no
    // destructor below this one has children left to recurse into.
    if (children.empty()) return;
    std::vector<TreeNode> work = std::move(children);
    while (!work.empty()) {
        TreeNode n = std::move(work.back());
        work.pop_back();
        for (auto& c : n.children) work.push_back(std::move(c));
        n.children.clear();
    }
}

// Levels of indentation shown in decorated labels; deeper rows carry "[depth N] ".
constexpr int max_indent_levels = 32;

// Decorated flat label: ">>> " + indent + label, with "|<tid>" in front
// when threads are not collapsed (tid zero-padded to the width of nthreads).
std::string flat_prefix(const std::string& label, int depth, int tid, int nthreads, bool show_tid);
// The same into `out` (cleared first), reusing its storage: no allocation per row.
void flat_prefix(std::string& out, std::string_view label, int depth, int tid, int nthreads, bool show_tid);

// One node of the flat view as for_each_flat visits it (pointers valid during the call).
struct FlatItem {
    std::uint64_t                     hash = 0;
    std::string                       label;
    int                               depth        = 0;  // top level 0
    int                               tid          = 0;
    int                               pid          = 0;
    bool                              show_tid     = false;  // threads not collapsed
    int                               nthreads     = 1;
    std::size_t                       total        = 0;        // nodes in the whole view
    const std::vector<std::uint64_t>* path         = nullptr;  // hierarchy
    std::uint64_t                     rolling_hash = 0;        // sum of the hierarchy, mod 2^64
    bool                              remote       = false;    // Node::remote (any thread merged)
    bool                              context      = false;    // Node::context (any thread merged)
    const Entry*                      entry        = nullptr;
};

// The hierarchy of entries[i] of a pre-order list: its stored one, else found from the
// entries before it (the nearest one a level up, and so on).
std::vector<std::uint64_t> hierarchy_at(const std::vector<FlatEntry>& entries, std::size_t i);

// While true on this thread, a snapshot copies each call graph under its lock (held for the
// copy alone) instead of reading the first one in place under its lock (no copy, the final
// write's memory): a background checkpoint then never makes a recording thread wait long.
extern thread_local bool snapshot_copies;

bool                   has_data(int index);       // any thread recorded anything
std::size_t            graph_size(int index);     // nodes (merged view) besides the root
std::vector<FlatEntry> flat_snapshot(int index);  // pre-order, merged per collapse_threads
// The flat view without building FlatEntry objects (what flat_snapshot is made of).
void for_each_flat(int index, const std::function<void(const FlatItem&)>& visit);
// The flat view of a component read in several passes (the text table reads it three times):
// the graphs are read (and locked, shared) once for all of them, and each node's label is
// looked up in the first pass only (a lookup is a few cache misses in a million-label table:
// most of a pass); for_each visits what for_each_flat does.
class FlatPasses {
public:
    explicit FlatPasses(int index);
    ~FlatPasses();
    FlatPasses(const FlatPasses&)            = delete;
    FlatPasses& operator=(const FlatPasses&) = delete;

    void for_each(const std::function<void(const FlatItem&)>& visit);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};
std::vector<TreeNode> tree_snapshot(int index);  // roots (one dummy root per thread view)
// The tree view without building it: enter(node) per node in pre-order, the node as
// tree_snapshot makes it but with no children (its exclusive value computed), then
// leave() after its subtree.
void for_each_tree(int index, const std::function<void(const TreeNode&)>& enter, const std::function<void()>& leave);
void clear(int index);

// Recomputes every exclusive value of a tree from the inclusive values: a node's value less
// its children's, except the remote ones' (they ran elsewhere, in parallel with it, and are
// not part of its value).
void compute_exclusive(const ComponentInfo& info, TreeNode& node);

}  // namespace tim
