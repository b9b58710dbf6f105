#include "timemory/storage/snapshot.hpp"

#include <unistd.h>

#include <functional>
#include <map>
#include <unordered_map>

#include "timemory/config.hpp"

namespace tim {

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

// A graph with threads merged (or a single thread), with child lists.
struct MergedNode {
    std::uint64_t             hash   = 0;
    std::int32_t              parent = -1;
    int                       depth  = 0;
    std::set<int>             tids;
    Entry                     entry;
    std::vector<std::int32_t> children;
};

struct MergedGraph {
    std::vector<MergedNode> nodes;
    MergedGraph() { nodes.emplace_back(); }

    void add(const ComponentInfo& info, const std::vector<Node>& src, int tid) {
        std::vector<std::int32_t>                                      map(src.size(), 0);
        std::unordered_map<std::pair<std::int32_t, std::uint64_t>, std::int32_t, ParentHash> lookup;
        lookup.reserve(nodes.size() + src.size());
        for (std::size_t p = 0; p < nodes.size(); ++p)
            for (auto c : nodes[p].children) lookup[{static_cast<std::int32_t>(p), nodes[c].hash}] = c;
        nodes[0].tids.insert(tid);
        for (std::size_t i = 1; i < src.size(); ++i) {
            const auto& n  = src[i];
            auto        pm = map[static_cast<std::size_t>(n.parent)];
            std::int32_t idx = -1;
            if (!n.unique) {
                auto it = lookup.find({pm, n.hash});
                if (it != lookup.end()) idx = it->second;
            }
            if (idx < 0) {
                idx = static_cast<std::int32_t>(nodes.size());
                MergedNode m;
                m.hash   = n.hash;
                m.parent = pm;
                m.depth  = n.depth;
                nodes.push_back(std::move(m));
                nodes[static_cast<std::size_t>(pm)].children.push_back(idx);
                if (!n.unique) lookup[{pm, n.hash}] = idx;
            }
            map[i] = idx;
            nodes[static_cast<std::size_t>(idx)].tids.insert(tid);
            nodes[static_cast<std::size_t>(idx)].entry.merge(info, n.entry);
        }
    }
};

// One merged graph per view: a single one when threads are collapsed,
// otherwise one per thread. Threads with no data are left out.
std::vector<std::pair<int, MergedGraph>> views(int index) {
    const auto&                              info = component_table()[static_cast<std::size_t>(index)];
    std::vector<std::pair<int, MergedGraph>> out;
    for (auto* td : all_thread_data()) {
        const auto& g = td->graphs[static_cast<std::size_t>(index)];
        if (!g) continue;
        auto nodes = g->copy_nodes();
        if (nodes.size() <= 1) continue;
        if (config().collapse_threads && !out.empty()) {
            out.front().second.add(info, nodes, td->tid);
        } else {
            out.emplace_back(td->tid, MergedGraph{});
            out.back().second.add(info, nodes, td->tid);
        }
    }
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
    for (auto& v : views(index)) n += v.second.nodes.size() - 1;
    return n;
}

std::vector<FlatEntry> flat_snapshot(int index) {
    std::vector<FlatEntry> out;
    const int              pid      = static_cast<int>(getpid());
    const bool             show_tid = !config().collapse_threads;
    const int              nthreads = thread_count();
    for (auto& [tid, graph] : views(index)) {
        auto&                                   nodes = graph.nodes;
        std::vector<std::uint64_t>              path;
        std::function<void(std::int32_t)> visit = [&](std::int32_t i) {
            const auto& n = nodes[static_cast<std::size_t>(i)];
            path.push_back(n.hash);
            FlatEntry e;
            e.hash      = n.hash;
            e.label     = get_hash_identifier(n.hash);
            e.depth     = n.depth - 1;
            e.tid       = show_tid ? tid : *n.tids.begin();
            e.pid       = pid;
            e.prefix    = flat_prefix(e.label, e.depth, e.tid, nthreads, show_tid);
            e.hierarchy = path;
            for (auto h : path) e.rolling_hash += h;
            e.entry = n.entry;
            out.push_back(std::move(e));
            for (auto c : n.children) visit(c);
            path.pop_back();
        };
        for (auto c : nodes[0].children) visit(c);
    }
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
        (void) tid;
        auto&                                 nodes = graph.nodes;
        std::function<TreeNode(std::int32_t)> build = [&](std::int32_t i) {
            const auto& n = nodes[static_cast<std::size_t>(i)];
            TreeNode    t;
            t.hash      = n.hash;
            t.label     = i == 0 ? std::string("unknown-hash=0") : get_hash_identifier(n.hash);
            // Merged data belong to the process, reported as thread 0 (as the
            // flat view does). hatchet's reader also breaks on a single-rank
            // tree whose nodes carry other thread ids.
            t.tids      = config().collapse_threads ? std::set<int>{0} : n.tids;
            t.pids      = {pid};
            t.depth     = n.depth;
            t.inclusive = n.entry;
            for (auto c : n.children) t.children.push_back(build(c));
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
