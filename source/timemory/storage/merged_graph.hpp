#pragma once
// The per-view graphs the snapshots read: one component's call graphs of every thread,
// merged per collapse_threads (MergedGraph, views), and the labels they show. Internal to
// the storage views (snapshot.cpp, joined.cpp).
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "timemory/config.hpp"
#include "timemory/storage/snapshot.hpp"

namespace tim {
namespace detail {

struct ParentHash {
    std::size_t operator()(const std::pair<std::int32_t, std::uint64_t>& k) const {
        return static_cast<std::size_t>(k.second ^ (static_cast<std::uint64_t>(k.first) * 0x9E3779B97F4A7C15ULL));
    }
};

// The threads a merged node belongs to: the lowest one inline, the others
// (only when threads are merged) in a sorted vector.
struct Tids {
    int              lo = -1;
    std::vector<int> rest;

    void insert(int t) {
        if (lo < 0 || t == lo) {
            lo = t;
        } else if (t < lo) {
            rest.insert(rest.begin(), lo);
            lo = t;
        } else {
            auto it = std::lower_bound(rest.begin(), rest.end(), t);
            if (it == rest.end() || *it != t) rest.insert(it, t);
        }
    }
    std::set<int> to_set() const {
        std::set<int> out(rest.begin(), rest.end());
        if (lo >= 0) out.insert(lo);
        return out;
    }
};

// A graph with threads merged (or a single thread). The first thread's
// nodes are taken as they are (their (parent, hash) keys are unique already);
// later threads are merged into them by (parent, hash). Children are indexed
// once, in creation order, after the last add.
struct MergedGraph {
    int                       tid0 = -1;  // the thread of every node while one graph was added
    std::vector<Tids>         tids;       // per node, once a second graph was merged in
    std::vector<std::int32_t> child_start, child_list;

    // node 0: the root; Node::parent links
    const std::vector<Node>& nodes() const { return store().nodes(); }
    const NodeStore&         store() const { return borrowed_ ? *borrowed_ : owned_; }

    void add(const ComponentInfo& info, const CallGraph& graph, int tid) {
        if (!borrowed_ && owned_.empty() && snapshot_copies) {
            owned_ = graph.copy();
            tid0   = tid;
            return;
        }
        if (!borrowed_ && owned_.empty()) {
            // the first graph is read in place, under its lock, until another is merged in
            lock_     = graph.lock_nodes();
            borrowed_ = &graph.store_locked();
            tid0      = tid;
            return;
        }
        if (borrowed_) {
            owned_    = *borrowed_;
            borrowed_ = nullptr;
            lock_.unlock();
        }
        const NodeStore src   = graph.copy();
        auto&           nodes = owned_;
        if (tids.empty()) {
            tids.resize(nodes.size());
            for (auto& t : tids) t.insert(tid0);
        }
        tids[0].insert(tid);
        std::unordered_map<std::pair<std::int32_t, std::uint64_t>, std::int32_t, ParentHash> lookup;
        lookup.reserve(nodes.size() + src.size());
        for (std::size_t i = 1; i < nodes.size(); ++i)
            if (!nodes[i].unique)
                lookup.emplace(std::make_pair(nodes[i].parent, nodes[i].hash), static_cast<std::int32_t>(i));
        std::vector<std::int32_t> map(src.size(), 0);
        for (std::size_t i = 1; i < src.size(); ++i) {
            const auto&  n   = src[i];
            auto         pm  = map[static_cast<std::size_t>(n.parent)];
            std::int32_t idx = -1;
            if (!n.unique) {
                auto it = lookup.find({pm, n.hash});
                if (it != lookup.end()) idx = it->second;
            }
            if (idx < 0) {
                idx = static_cast<std::int32_t>(nodes.size());
                Node m;
                m.hash   = n.hash;
                m.parent = pm;
                m.depth  = n.depth;
                m.unique = n.unique;
                nodes.push_back(m);  // zero values
                tids.emplace_back();
                if (!n.unique) lookup.emplace(std::make_pair(pm, n.hash), idx);
            }
            // a node is remote (context) when any thread's is: a task's work beneath the
            // submitter's own node, which its thread measured without it
            Node& merged   = nodes.node(idx);
            merged.remote  = merged.remote || n.remote;
            merged.context = merged.context || n.context;
            map[i]         = idx;
            tids[static_cast<std::size_t>(idx)].insert(tid);
            nodes.entry(idx).merge(info, src.entry(static_cast<std::int32_t>(i)));
        }
    }

    void index_children() {
        const auto& nodes = this->nodes();
        const auto  n     = nodes.size();
        child_start.assign(n + 1, 0);
        for (std::size_t i = 1; i < n; ++i) ++child_start[static_cast<std::size_t>(nodes[i].parent) + 1];
        for (std::size_t i = 0; i < n; ++i) child_start[i + 1] += child_start[i];
        child_list.resize(n > 0 ? n - 1 : 0);
        std::vector<std::int32_t> fill(child_start.begin(), child_start.end() - 1);
        for (std::size_t i = 1; i < n; ++i)
            child_list[static_cast<std::size_t>(fill[static_cast<std::size_t>(nodes[i].parent)]++)] =
                static_cast<std::int32_t>(i);
    }
    const std::int32_t* children_begin(std::int32_t i) const {
        return child_list.data() + child_start[static_cast<std::size_t>(i)];
    }
    const std::int32_t* children_end(std::int32_t i) const {
        return child_list.data() + child_start[static_cast<std::size_t>(i) + 1];
    }

    int           first_tid(std::int32_t i) const { return tids.empty() ? tid0 : tids[static_cast<std::size_t>(i)].lo; }
    std::set<int> tid_set(std::int32_t i) const {
        return tids.empty() ? std::set<int>{tid0} : tids[static_cast<std::size_t>(i)].to_set();
    }

    // Pre-order over the nodes besides the root, without recursion:
    // visit(node, path of hashes from the top level down to it).
    // visit(node, path of hashes from the top level down to it, sum of that path).
    template <typename F>
    void preorder(F&& visit) const {
        std::vector<std::uint64_t>                                path, sums;
        std::vector<std::pair<std::int32_t, const std::int32_t*>> stack{{0, children_begin(0)}};  // (node, next child)
        while (!stack.empty()) {
            auto& top = stack.back();
            if (top.second == children_end(top.first)) {
                stack.pop_back();
                if (!path.empty()) {
                    path.pop_back();
                    sums.pop_back();
                }
                continue;
            }
            auto c = *top.second++;
            path.push_back(nodes()[static_cast<std::size_t>(c)].hash);
            sums.push_back((sums.empty() ? 0 : sums.back()) + path.back());
            visit(c, path, sums.back());
            stack.emplace_back(c, children_begin(c));
        }
    }

private:
    const NodeStore*                    borrowed_ = nullptr;
    std::shared_lock<std::shared_mutex> lock_;
    NodeStore                           owned_;
};

// One merged graph per view: a single one when threads are collapsed,
// otherwise one per thread. Threads with no data are left out.
inline std::vector<std::pair<int, MergedGraph>> views(int index) {
    const auto&                              info = component_table()[static_cast<std::size_t>(index)];
    std::vector<std::pair<int, MergedGraph>> out;
    for (auto* td : all_thread_data()) {
        const auto& g = td->graphs[static_cast<std::size_t>(index)];
        if (!g) continue;
        if (g->empty()) continue;
        if (config().collapse_threads && !out.empty()) {
            out.front().second.add(info, *g, td->tid);
        } else {
            out.emplace_back(td->tid, MergedGraph{});
            out.back().second.add(info, *g, td->tid);
        }
    }
    for (auto& v : out) v.second.index_children();
    return out;
}

// The labels of a view's nodes as shown (ShownLabels: ` [where]` where two functions of
// the view share a label). Over every thread's view: the files of one component then
// show one label per node, whichever thread ran it.
inline ShownLabels shown_labels(const std::vector<std::pair<int, MergedGraph>>& all) {
    if (!any_where()) return {};  // markers only: every label is its node's identity
    // each hash once: a graph has far fewer labels than nodes (sympy: 5,000 for 170,000), and
    // the files written at once each make their own
    std::unordered_set<std::uint64_t> seen;
    std::vector<std::uint64_t>        hashes;
    for (const auto& v : all)
        for (const auto& n : v.second.nodes())
            if (seen.insert(n.hash).second) hashes.push_back(n.hash);
    return ShownLabels(hashes);
}

}  // namespace detail
}  // namespace tim
