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
    flat_prefix(out, label, depth, tid, nthreads, show_tid);
    return out;
}

void flat_prefix(std::string& out, std::string_view label, int depth, int tid, int nthreads, bool show_tid) {
    out.clear();
    if (show_tid) {
        auto digits = std::to_string(std::max(nthreads - 1, 0)).size();
        auto t      = std::to_string(tid);
        out += '|';
        out.append(digits > t.size() ? digits - t.size() : 0, '0');
        out += t;
    }
    out += ">>> ";
    if (depth > 0) {
        // the indentation stops growing past max_indent_levels, so the text of a deep
        // graph grows linearly with its depth; deeper rows say their depth instead
        const int shown = std::min(depth, max_indent_levels);
        out.append(static_cast<std::size_t>(2 * (shown - 1)), ' ');
        out += "|_";
        if (depth > max_indent_levels) {
            out += "[depth ";
            out += std::to_string(depth);
            out += "] ";
        }
    }
    out += label;
}

std::vector<std::uint64_t> hierarchy_at(const std::vector<FlatEntry>& entries, std::size_t i) {
    const auto& e = entries.at(i);
    if (!e.hierarchy.empty()) return e.hierarchy;
    // the ancestors precede the entry in pre-order: the last entry one level up, and so on
    std::vector<std::uint64_t> path{e.hash};
    int                        want = e.depth;
    for (std::size_t j = i; j-- > 0 && want > 0;) {
        if (entries[j].depth < want) {
            path.push_back(entries[j].hash);
            want = entries[j].depth;
        }
    }
    std::reverse(path.begin(), path.end());
    return path;
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
            map[i] = idx;
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
    const NodeStore*             borrowed_ = nullptr;
    std::unique_lock<std::mutex> lock_;
    NodeStore                    owned_;
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

// The labels of a view's nodes as shown (ShownLabels: ` [where]` where two functions of
// the view share a label). Over every thread's view: the files of one component then
// show one label per node, whichever thread ran it.
ShownLabels shown_labels(const std::vector<std::pair<int, MergedGraph>>& all) {
    if (!any_where()) return {};  // markers only: every label is its node's identity
    std::vector<std::uint64_t> hashes;
    for (const auto& v : all)
        for (const auto& n : v.second.nodes()) hashes.push_back(n.hash);
    return ShownLabels(hashes);
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
    const ShownLabels labels = shown_labels(all);
    Entry             entry;  // the node's values, copied out of the graph's arena
    for (auto& [tid, graph] : all) {
        const auto& nodes = graph.nodes();
        graph.preorder([&](std::int32_t i, const std::vector<std::uint64_t>& path, std::uint64_t rolling) {
            const auto& n     = nodes[static_cast<std::size_t>(i)];
            item.rolling_hash = rolling;
            item.hash         = n.hash;
            labels.label(n.hash, item.label);
            item.depth = n.depth - 1;
            item.tid   = item.show_tid ? tid : graph.first_tid(i);
            item.path  = &path;
            entry      = graph.store().entry(i);
            item.entry = &entry;
            visit(item);
        });
    }
}

std::vector<FlatEntry> flat_snapshot(int index) {
    std::vector<FlatEntry> out;
    for_each_flat(index, [&](const FlatItem& it) {
        if (out.empty()) out.reserve(it.total);
        FlatEntry e;
        e.hash   = it.hash;
        e.label  = it.label;
        e.depth  = it.depth;
        e.tid    = it.tid;
        e.pid    = it.pid;
        e.prefix = flat_prefix(e.label, e.depth, e.tid, it.nthreads, it.show_tid);
        // the hierarchy is left empty (hierarchy_at makes it on demand): stored with every
        // entry it costs memory quadratic in the depth
        e.rolling_hash = it.rolling_hash;
        e.entry        = *it.entry;
        out.push_back(std::move(e));
    });
    return out;
}

void compute_exclusive(const ComponentInfo& info, TreeNode& node) {
    // post-order with an explicit stack: a node's children are done before it
    std::vector<std::pair<TreeNode*, bool>> stack{{&node, false}};
    while (!stack.empty()) {
        auto [n, expanded] = stack.back();
        if (!expanded) {
            stack.back().second = true;
            for (auto& c : n->children) stack.emplace_back(&c, false);
            continue;
        }
        stack.pop_back();
        n->exclusive = n->inclusive;
        for (const auto& c : n->children)
            if (!c.is_dummy) n->exclusive.subtract(info, c.inclusive);
    }
}

std::vector<TreeNode> tree_snapshot(int index) {
    const auto&           info = component_table()[static_cast<std::size_t>(index)];
    const int             pid  = static_cast<int>(getpid());
    std::vector<TreeNode> roots;
    auto                  all    = views(index);
    const ShownLabels     labels = shown_labels(all);
    for (auto& [tid, graph] : all) {
        (void)tid;
        const auto& nodes = graph.nodes();
        auto        fill  = [&](TreeNode& t, std::int32_t i) {
            const auto& n = nodes[static_cast<std::size_t>(i)];
            t.hash        = n.hash;
            t.label       = i == 0 ? std::string("unknown-hash=0") : labels.label(n.hash);
            // Merged data belong to the process, reported as thread 0 (as the
            // flat view does). hatchet's reader also breaks on a single-rank
            // tree whose nodes carry other thread ids.
            t.tids      = config().collapse_threads ? std::set<int>{0} : graph.tid_set(i);
            t.pids      = {pid};
            t.depth     = n.depth;
            t.inclusive = graph.store().entry(i);
            t.children.reserve(static_cast<std::size_t>(graph.children_end(i) - graph.children_begin(i)));
        };
        roots.emplace_back();
        fill(roots.back(), 0);
        // (node, graph id): each node's children are made (reserved first, so the
        // pointers stay valid) before they are filled in turn
        std::vector<std::pair<TreeNode*, std::int32_t>> stack{{&roots.back(), 0}};
        while (!stack.empty()) {
            auto [t, i] = stack.back();
            stack.pop_back();
            for (auto c = graph.children_begin(i); c != graph.children_end(i); ++c)
                fill(t->children.emplace_back(), *c);
            std::size_t k = 0;
            for (auto c = graph.children_begin(i); c != graph.children_end(i); ++c, ++k)
                stack.emplace_back(&t->children[k], *c);
        }
        compute_exclusive(info, roots.back());
    }
    return roots;
}

void for_each_tree(int index, const std::function<void(const TreeNode&)>& enter, const std::function<void()>& leave) {
    const auto& info = component_table()[static_cast<std::size_t>(index)];
    TreeNode    t;
    t.pids              = {static_cast<int>(getpid())};
    const bool collapse = config().collapse_threads;
    if (collapse) t.tids = {0};  // set once: a set per node is an allocation per node
    auto              all    = views(index);
    const ShownLabels labels = shown_labels(all);
    for (auto& [tid, graph] : all) {
        (void)tid;
        const auto& nodes = graph.nodes();
        auto        visit = [&](std::int32_t i) {
            const auto& n = nodes[static_cast<std::size_t>(i)];
            t.hash        = n.hash;
            if (i == 0) t.label = "unknown-hash=0";
            else labels.label(n.hash, t.label);
            if (!collapse) t.tids = graph.tid_set(i);
            t.depth     = n.depth;
            t.inclusive = graph.store().entry(i);
            t.exclusive = t.inclusive;  // as compute_exclusive: less every child's inclusive value
            for (auto c = graph.children_begin(i); c != graph.children_end(i); ++c)
                t.exclusive.subtract(info, graph.store().entry(*c));
            enter(t);
        };
        std::vector<std::pair<std::int32_t, const std::int32_t*>> stack{{0, graph.children_begin(0)}};
        visit(0);
        while (!stack.empty()) {
            auto& top = stack.back();
            if (top.second == graph.children_end(top.first)) {
                leave();
                stack.pop_back();
                continue;
            }
            auto c = *top.second++;
            visit(c);
            stack.emplace_back(c, graph.children_begin(c));
        }
    }
}

void clear(int index) {
    for (auto* td : all_thread_data()) {
        auto& g = td->graphs[static_cast<std::size_t>(index)];
        if (g) g->clear();
    }
}

}  // namespace tim
