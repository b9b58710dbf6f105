#include "timemory/storage/snapshot.hpp"

#include <unistd.h>

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <unordered_map>

#include "timemory/config.hpp"

namespace tim {

thread_local bool snapshot_copies = false;

std::string flat_prefix(const std::string& label, int depth, int tid, int nthreads, bool show_tid) {
    std::string out;
    if (show_tid) {
        auto digits = std::to_string(std::max(nthreads - 1, 0)).size();
        auto t      = std::to_string(tid);
        out += '|';
        out.append(digits > t.size() ? digits - t.size() : 0, '0');
        out += t;
    }
    out += ">>> ";
    if (depth > 0) {
        out.append(static_cast<std::size_t>(2 * (depth - 1)), ' ');
        out += "|_";
    }
    out += label;
    return out;
}

namespace {

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
    const std::vector<Node>& nodes() const { return borrowed_ ? *borrowed_ : owned_; }

    void add(const ComponentInfo& info, const CallGraph& graph, int tid) {
        if (!borrowed_ && owned_.empty() && snapshot_copies) {
            owned_ = graph.copy_nodes();
            tid0   = tid;
            return;
        }
        if (!borrowed_ && owned_.empty()) {
            // the first graph is read in place, under its lock, until another is merged in
            lock_     = graph.lock_nodes();
            borrowed_ = &graph.nodes_locked();
            tid0      = tid;
            return;
        }
        if (borrowed_) {
            owned_    = *borrowed_;
            borrowed_ = nullptr;
            lock_.unlock();
        }
        std::vector<Node> src   = graph.copy_nodes();
        auto&             nodes = owned_;
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
                nodes.push_back(m);
                tids.emplace_back();
                if (!n.unique) lookup.emplace(std::make_pair(pm, n.hash), idx);
            }
            map[i] = idx;
            tids[static_cast<std::size_t>(idx)].insert(tid);
            nodes[static_cast<std::size_t>(idx)].entry.merge(info, n.entry);
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
    template <typename F>
    void preorder(F&& visit) const {
        std::vector<std::uint64_t>                                path;
        std::vector<std::pair<std::int32_t, const std::int32_t*>> stack{{0, children_begin(0)}};  // (node, next child)
        while (!stack.empty()) {
            auto& top = stack.back();
            if (top.second == children_end(top.first)) {
                stack.pop_back();
                if (!path.empty()) path.pop_back();
                continue;
            }
            auto c = *top.second++;
            path.push_back(nodes()[static_cast<std::size_t>(c)].hash);
            visit(c, path);
            stack.emplace_back(c, children_begin(c));
        }
    }

private:
    const std::vector<Node>*     borrowed_ = nullptr;
    std::unique_lock<std::mutex> lock_;
    std::vector<Node>            owned_;
};

// One merged graph per view: a single one when threads are collapsed,
// otherwise one per thread. Threads with no data are left out.
std::vector<std::pair<int, MergedGraph>> views(int index) {
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

}  // namespace

bool has_data(int index) {
    for (auto* td : all_thread_data()) {
        const auto& g = td->graphs[static_cast<std::size_t>(index)];
        if (g && !g->empty()) return true;
    }
    return false;
}

std::size_t graph_size(int index) {
    std::size_t n = 0;
    for (auto& v : views(index)) n += v.second.nodes().size() - 1;
    return n;
}

void for_each_flat(int index, const std::function<void(const FlatItem&)>& visit) {
    FlatItem item;
    item.pid      = static_cast<int>(getpid());
    item.show_tid = !config().collapse_threads;
    item.nthreads = thread_count();
    auto all      = views(index);
    for (auto& v : all) item.total += v.second.nodes().size() - 1;
    for (auto& [tid, graph] : all) {
        const auto& nodes = graph.nodes();
        graph.preorder([&](std::int32_t i, const std::vector<std::uint64_t>& path) {
            const auto& n = nodes[static_cast<std::size_t>(i)];
            item.hash     = n.hash;
            item.label    = get_hash_identifier(n.hash);
            item.depth    = n.depth - 1;
            item.tid      = item.show_tid ? tid : graph.first_tid(i);
            item.path     = &path;
            item.entry    = &n.entry;
            visit(item);
        });
    }
}

std::vector<FlatEntry> flat_snapshot(int index) {
    std::vector<FlatEntry> out;
    for_each_flat(index, [&](const FlatItem& it) {
        if (out.empty()) out.reserve(it.total);
        FlatEntry e;
        e.hash      = it.hash;
        e.label     = it.label;
        e.depth     = it.depth;
        e.tid       = it.tid;
        e.pid       = it.pid;
        e.prefix    = flat_prefix(e.label, e.depth, e.tid, it.nthreads, it.show_tid);
        e.hierarchy = *it.path;
        for (auto h : *it.path) e.rolling_hash += h;
        e.entry = *it.entry;
        out.push_back(std::move(e));
    });
    return out;
}

void compute_exclusive(const ComponentInfo& info, TreeNode& node) {
    node.exclusive = node.inclusive;
    for (auto& c : node.children) {
        compute_exclusive(info, c);
        if (!c.is_dummy) node.exclusive.subtract(info, c.inclusive);
    }
}

std::vector<TreeNode> tree_snapshot(int index) {
    const auto&           info = component_table()[static_cast<std::size_t>(index)];
    const int             pid  = static_cast<int>(getpid());
    std::vector<TreeNode> roots;
    for (auto& [tid, graph] : views(index)) {
        (void)tid;
        const auto&                           nodes = graph.nodes();
        std::function<TreeNode(std::int32_t)> build = [&](std::int32_t i) {
            const auto& n = nodes[static_cast<std::size_t>(i)];
            TreeNode    t;
            t.hash  = n.hash;
            t.label = i == 0 ? std::string("unknown-hash=0") : get_hash_identifier(n.hash);
            // Merged data belong to the process, reported as thread 0 (as the
            // flat view does). hatchet's reader also breaks on a single-rank
            // tree whose nodes carry other thread ids.
            t.tids      = config().collapse_threads ? std::set<int>{0} : graph.tid_set(i);
            t.pids      = {pid};
            t.depth     = n.depth;
            t.inclusive = n.entry;
            t.children.reserve(static_cast<std::size_t>(graph.children_end(i) - graph.children_begin(i)));
            for (auto c = graph.children_begin(i); c != graph.children_end(i); ++c) t.children.push_back(build(*c));
            return t;
        };
        roots.push_back(build(0));
        compute_exclusive(info, roots.back());
    }
    return roots;
}

void clear(int index) {
    for (auto* td : all_thread_data()) {
        auto& g = td->graphs[static_cast<std::size_t>(index)];
        if (g) g->clear();
    }
}

}  // namespace tim
