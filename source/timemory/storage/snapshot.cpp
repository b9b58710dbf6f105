#include "timemory/storage/snapshot.hpp"

#include "timemory/storage/merged_graph.hpp"

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

using detail::MergedGraph;
using detail::shown_labels;
using detail::views;

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

namespace {
// The flat view's walk (for_each_flat, FlatPasses): every view's nodes in pre-order, each one
// visited as a FlatItem whose label `label(node, out)` sets.
template <typename Label>
void walk_flat(std::vector<std::pair<int, MergedGraph>>& all, Label&& label,
               const std::function<void(const FlatItem&)>& visit) {
    FlatItem item;
    item.pid      = static_cast<int>(getpid());
    item.show_tid = !config().collapse_threads;
    item.nthreads = thread_count();
    for (auto& v : all) item.total += v.second.nodes().size() - 1;
    Entry entry;  // the node's values, copied out of the graph's arena
    for (auto& [tid, graph] : all) {
        const auto& nodes = graph.nodes();
        graph.preorder([&](std::int32_t i, const std::vector<std::uint64_t>& path, std::uint64_t rolling) {
            const auto& n     = nodes[static_cast<std::size_t>(i)];
            item.rolling_hash = rolling;
            item.hash         = n.hash;
            label(n, item.label);
            item.depth   = n.depth - 1;
            item.tid     = item.show_tid ? tid : graph.first_tid(i);
            item.path    = &path;
            item.remote  = n.remote;
            item.context = n.context;
            entry        = graph.store().entry(i);
            item.entry   = &entry;
            visit(item);
        });
    }
}
}  // namespace

void for_each_flat(int index, const std::function<void(const FlatItem&)>& visit) {
    auto              all    = views(index);
    const ShownLabels labels = shown_labels(all);
    std::int32_t      hint   = -1;  // the label found last (get_hash_identifier)
    walk_flat(all, [&](const auto& n, std::string& out) { labels.label(n.hash, out, hint); }, visit);
}

struct FlatPasses::Impl {
    std::vector<std::pair<int, MergedGraph>> all;
    ShownLabels                              labels;
    // per node in the order the first pass visited them, its label's index in the label
    // database: 2 * index, + 1 where the label is shown with its where (ShownLabels); -1
    // unknown. 4 bytes a node: a copy of the labels' text cost several MiB on a large graph,
    // while the passes' writers ran (peak RSS).
    std::vector<std::int32_t> ids;
    bool                      known = false;  // a pass has made `ids`
};

FlatPasses::FlatPasses(int index) : impl_(std::make_unique<Impl>()) {
    impl_->all    = views(index);
    impl_->labels = shown_labels(impl_->all);
}

FlatPasses::~FlatPasses() = default;

void FlatPasses::for_each(const std::function<void(const FlatItem&)>& visit) {
    auto&       d = *impl_;
    std::size_t k = 0;
    if (d.known) {
        walk_flat(
            d.all,
            [&](const auto& n, std::string& out) {
                const std::int32_t id = d.ids[k++];
                if (id < 0) out.clear();
                else if (id & 1) d.labels.label(n.hash, out);  // with its where
                else get_identifier_at(id >> 1, out);
            },
            visit);
        return;
    }
    std::size_t total = 0;
    for (auto& v : d.all) total += v.second.nodes().size() - 1;
    d.ids.clear();
    d.ids.reserve(total);
    std::int32_t hint = -1;  // the label found last (get_hash_identifier)
    walk_flat(
        d.all,
        [&](const auto& n, std::string& out) {
            const bool found = d.labels.label(n.hash, out, hint);
            d.ids.push_back(found ? hint * 2 + (d.labels.shows_where(n.hash) ? 1 : 0) : -1);
        },
        visit);
    d.known = true;
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
        e.remote       = it.remote;
        e.context      = it.context;
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
            if (!c.is_dummy && !c.remote) n->exclusive.subtract(info, c.inclusive);
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
            t.remote    = n.remote;
            t.context   = n.context;
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
    std::int32_t      hint   = -1;  // the label found last (get_hash_identifier)
    for (auto& [tid, graph] : all) {
        (void)tid;
        const auto& nodes = graph.nodes();
        auto        visit = [&](std::int32_t i) {
            const auto& n = nodes[static_cast<std::size_t>(i)];
            t.hash        = n.hash;
            if (i == 0) t.label = "unknown-hash=0";
            else labels.label(n.hash, t.label, hint);
            if (!collapse) t.tids = graph.tid_set(i);
            t.depth     = n.depth;
            t.remote    = n.remote;
            t.context   = n.context;
            t.inclusive = graph.store().entry(i);
            t.exclusive = t.inclusive;  // as compute_exclusive: less its children's inclusive values
            for (auto c = graph.children_begin(i); c != graph.children_end(i); ++c)
                if (!nodes[static_cast<std::size_t>(*c)].remote) t.exclusive.subtract(info, graph.store().entry(*c));
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
