#include "timemory/storage/joined.hpp"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <unordered_map>
#include <utility>

#include "timemory/config.hpp"
#include "timemory/storage/merged_graph.hpp"

namespace tim {

std::vector<int> JoinSource::indices() const {
    if (!live.empty()) return live;
    std::vector<int> out;
    out.reserve(loaded.size());
    for (const auto& l : loaded) out.push_back(l.index);
    return out;
}

namespace {

// One component's nodes of one view (a thread's or a rank's graph): node 0 is the (dummy)
// root and every node comes after its parent.
class ViewNodes {
public:
    virtual ~ViewNodes()                               = default;
    virtual std::size_t   size() const                 = 0;
    virtual std::int32_t  parent(std::int32_t i) const = 0;
    virtual std::uint64_t hash(std::int32_t i) const   = 0;
    virtual bool          unique(std::int32_t i) const = 0;
    // Node::remote: ran elsewhere beneath its parent, not part of the parent's value
    virtual bool                remote(std::int32_t i) const         = 0;
    virtual const std::int32_t* children_begin(std::int32_t i) const = 0;
    virtual const std::int32_t* children_end(std::int32_t i) const   = 0;
    // The node's inclusive and exclusive values.
    virtual void values(std::int32_t i, Entry& inclusive, Entry& exclusive) const = 0;
    // Loaded trees carry their label, threads and processes per node; live graphs do not.
    virtual const TreeNode* tree(std::int32_t) const { return nullptr; }
};

// A live graph of this process (threads merged or not).
class LiveNodes final : public ViewNodes {
public:
    LiveNodes(const ComponentInfo& info, const detail::MergedGraph& g) : info_(info), g_(g) {}
    std::size_t         size() const override { return g_.nodes().size(); }
    std::int32_t        parent(std::int32_t i) const override { return node(i).parent; }
    std::uint64_t       hash(std::int32_t i) const override { return node(i).hash; }
    bool                unique(std::int32_t i) const override { return node(i).unique; }
    bool                remote(std::int32_t i) const override { return node(i).remote; }
    const std::int32_t* children_begin(std::int32_t i) const override { return g_.children_begin(i); }
    const std::int32_t* children_end(std::int32_t i) const override { return g_.children_end(i); }
    void                values(std::int32_t i, Entry& inclusive, Entry& exclusive) const override {
        inclusive = g_.store().entry(i);
        exclusive = inclusive;  // less its children's inclusive values, as compute_exclusive does
        for (auto c = g_.children_begin(i); c != g_.children_end(i); ++c) {
            if (node(*c).remote) continue;  // ran elsewhere: never part of this node's value
            child_ = g_.store().entry(*c);
            exclusive.subtract(info_, child_);
        }
    }

private:
    const Node& node(std::int32_t i) const { return g_.nodes()[static_cast<std::size_t>(i)]; }

    const ComponentInfo&       info_;
    const detail::MergedGraph& g_;
    mutable Entry              child_;
};

// A root tree read back (or gathered), flattened in pre-order with its children indexed.
class LoadedNodes final : public ViewNodes {
public:
    explicit LoadedNodes(const TreeNode* root) {
        std::vector<std::pair<const TreeNode*, std::int32_t>> stack{{root, -1}};
        while (!stack.empty()) {
            auto [n, p] = stack.back();
            stack.pop_back();
            nodes_.push_back(n);
            parent_.push_back(p);
            const auto id = static_cast<std::int32_t>(nodes_.size() - 1);
            for (auto c = n->children.rbegin(); c != n->children.rend(); ++c) stack.emplace_back(&*c, id);
        }
        const auto n = nodes_.size();
        start_.assign(n + 1, 0);
        for (std::size_t i = 1; i < n; ++i) ++start_[static_cast<std::size_t>(parent_[i]) + 1];
        for (std::size_t i = 0; i < n; ++i) start_[i + 1] += start_[i];
        list_.resize(n > 0 ? n - 1 : 0);
        std::vector<std::int32_t> fill(start_.begin(), start_.end() - 1);
        for (std::size_t i = 1; i < n; ++i)
            list_[static_cast<std::size_t>(fill[static_cast<std::size_t>(parent_[i])]++)] =
                static_cast<std::int32_t>(i);
    }
    std::size_t         size() const override { return nodes_.size(); }
    std::int32_t        parent(std::int32_t i) const override { return parent_[static_cast<std::size_t>(i)]; }
    std::uint64_t       hash(std::int32_t i) const override { return tree(i)->hash; }
    bool                unique(std::int32_t) const override { return false; }
    bool                remote(std::int32_t i) const override { return tree(i)->remote; }
    const std::int32_t* children_begin(std::int32_t i) const override {
        return list_.data() + start_[static_cast<std::size_t>(i)];
    }
    const std::int32_t* children_end(std::int32_t i) const override {
        return list_.data() + start_[static_cast<std::size_t>(i) + 1];
    }
    void values(std::int32_t i, Entry& inclusive, Entry& exclusive) const override {
        inclusive = tree(i)->inclusive;
        exclusive = tree(i)->exclusive;
    }
    const TreeNode* tree(std::int32_t i) const override { return nodes_[static_cast<std::size_t>(i)]; }

private:
    std::vector<const TreeNode*> nodes_;
    std::vector<std::int32_t>    parent_, start_, list_;
};

// Two nodes of different components join when their parents joined and their hashes are
// equal; the k-th same-hash timeline node under a parent (never merged within a graph)
// joins the k-th of the other component.
struct JoinKey {
    std::int32_t  parent;
    std::uint64_t hash;
    std::int32_t  ordinal;
    bool operator==(const JoinKey& o) const { return parent == o.parent && hash == o.hash && ordinal == o.ordinal; }
};
struct JoinKeyHash {
    std::size_t operator()(const JoinKey& k) const {
        std::uint64_t h =
            k.hash ^ (static_cast<std::uint64_t>(static_cast<std::uint32_t>(k.parent)) * 0x9E3779B97F4A7C15ULL);
        h ^= static_cast<std::uint64_t>(static_cast<std::uint32_t>(k.ordinal)) * 0xBF58476D1CE4E5B9ULL;
        return static_cast<std::size_t>(h ^ (h >> 31));
    }
};

// One view of every component (nullptr where a component has no such view), joined.
class JoinedView {
public:
    explicit JoinedView(std::vector<const ViewNodes*> comps) : comps_(std::move(comps)) {
        const std::size_t k = comps_.size();
        for (std::size_t c = 0; c < k; ++c)
            if (comps_[c] && !single_) single_ = comps_[c];
        std::size_t present = 0;
        for (auto* v : comps_) present += v != nullptr;
        if (present == 1) {  // one component: its own nodes, no table
            for (std::size_t c = 0; c < k; ++c)
                if (comps_[c]) only_ = static_cast<int>(c);
            return;
        }
        // the joined nodes: the first component's, then what the others add
        parent_.push_back(-1);
        hash_.push_back(0);
        at_.assign(k, -1);
        for (std::size_t c = 0; c < k; ++c)
            if (comps_[c]) at_[c] = 0;  // every root is the joined root
        std::unordered_map<JoinKey, std::int32_t, JoinKeyHash> lookup;
        std::unordered_map<JoinKey, std::int32_t, JoinKeyHash> ordinals;  // timeline nodes only
        for (std::size_t c = 0; c < k; ++c) {
            const ViewNodes* v = comps_[c];
            if (!v) continue;
            ordinals.clear();
            std::vector<std::int32_t> map(v->size(), 0);
            for (std::size_t i = 1; i < v->size(); ++i) {
                const auto id = static_cast<std::int32_t>(i);
                const auto jp = map[static_cast<std::size_t>(v->parent(id))];
                JoinKey    key{jp, v->hash(id), 0};
                if (v->unique(id)) key.ordinal = ordinals[JoinKey{jp, key.hash, 0}]++;
                auto         it = lookup.find(key);
                std::int32_t j  = -1;
                if (it != lookup.end() && at_[static_cast<std::size_t>(it->second) * k + c] < 0) {
                    j = it->second;
                } else {
                    j = static_cast<std::int32_t>(parent_.size());
                    parent_.push_back(jp);
                    hash_.push_back(key.hash);
                    at_.resize(at_.size() + k, -1);
                    lookup.emplace(key, j);
                }
                at_[static_cast<std::size_t>(j) * k + c] = id;
                map[i]                                   = j;
            }
        }
        const auto n = parent_.size();
        start_.assign(n + 1, 0);
        for (std::size_t i = 1; i < n; ++i) ++start_[static_cast<std::size_t>(parent_[i]) + 1];
        for (std::size_t i = 0; i < n; ++i) start_[i + 1] += start_[i];
        list_.resize(n > 0 ? n - 1 : 0);
        std::vector<std::int32_t> fill(start_.begin(), start_.end() - 1);
        for (std::size_t i = 1; i < n; ++i)
            list_[static_cast<std::size_t>(fill[static_cast<std::size_t>(parent_[i])]++)] =
                static_cast<std::int32_t>(i);
    }

    bool          empty() const { return single_ == nullptr; }
    std::uint64_t hash(std::int32_t j) const {
        return only_ >= 0 ? single_->hash(j) : hash_[static_cast<std::size_t>(j)];
    }
    const std::int32_t* children_begin(std::int32_t j) const {
        return only_ >= 0 ? single_->children_begin(j) : list_.data() + start_[static_cast<std::size_t>(j)];
    }
    const std::int32_t* children_end(std::int32_t j) const {
        return only_ >= 0 ? single_->children_end(j) : list_.data() + start_[static_cast<std::size_t>(j) + 1];
    }
    // The node of component c joined at j, or -1.
    std::int32_t at(std::int32_t j, std::size_t c) const {
        if (only_ >= 0) return static_cast<int>(c) == only_ ? j : -1;
        return at_[static_cast<std::size_t>(j) * comps_.size() + c];
    }
    const ViewNodes* component(std::size_t c) const { return comps_[c]; }

private:
    std::vector<const ViewNodes*> comps_;
    const ViewNodes*              single_ = nullptr;
    int                           only_   = -1;
    std::vector<std::int32_t>     parent_, start_, list_, at_;
    std::vector<std::uint64_t>    hash_;
};

// The rows of one joined view in pre-order. `label(j, c, node, out)` fills the shown label;
// `ids(row)` sets the row's pid and tid from the component that has the node.
template <typename Label, typename Ids>
void walk(const JoinedView& view, std::size_t k, JoinedRow& row, std::vector<Entry>& inc, std::vector<Entry>& exc,
          std::string& label_buf, const Label& label, const Ids& ids,
          const std::function<void(const JoinedRow&)>& visit) {
    // (joined node, its row, next child)
    struct Frame {
        std::int32_t        node;
        std::int64_t        row;
        const std::int32_t* next;
    };
    std::vector<Frame> stack{{0, -1, view.children_begin(0)}};
    while (!stack.empty()) {
        auto& top = stack.back();
        if (top.next == view.children_end(top.node)) {
            stack.pop_back();
            continue;
        }
        const std::int32_t j = *top.next++;
        row.parent           = top.row;
        row.depth            = static_cast<int>(stack.size()) - 1;
        row.hash             = view.hash(j);
        row.remote           = false;
        bool labelled        = false;
        for (std::size_t c = 0; c < k; ++c) {
            const std::int32_t i = view.at(j, c);
            if (i < 0) {
                row.inclusive[c] = row.exclusive[c] = nullptr;
                continue;
            }
            const ViewNodes* v = view.component(c);
            v->values(i, inc[c], exc[c]);
            row.inclusive[c] = &inc[c];
            row.exclusive[c] = &exc[c];
            row.remote       = row.remote || v->remote(i);
            if (!labelled) {
                label(*v, i, label_buf);
                ids(*v, i, row);
                labelled = true;
            }
        }
        row.label = label_buf;
        visit(row);
        const std::int64_t mine = row.row++;
        stack.push_back({j, mine, view.children_begin(j)});
    }
}

struct SnapshotCopies {
    explicit SnapshotCopies(bool copy) : old_(snapshot_copies) { snapshot_copies = copy; }
    ~SnapshotCopies() { snapshot_copies = old_; }

private:
    bool old_;
};

void walk_live(const JoinSource& src, const std::function<void(const JoinedRow&)>& visit) {
    const std::size_t k = src.live.size();
    // every component's views: threads merged or one per thread
    std::vector<std::vector<std::pair<int, detail::MergedGraph>>> views(k);
    {
        SnapshotCopies copies(src.copy);
        for (std::size_t c = 0; c < k; ++c) views[c] = detail::views(src.live[c]);
    }
    // the labels shown: over every view of every component, as one component's files do
    std::vector<std::uint64_t> hashes;
    bool                       wanted = any_where();
    if (wanted)
        for (const auto& vs : views)
            for (const auto& v : vs)
                for (const auto& n : v.second.nodes()) hashes.push_back(n.hash);
    const ShownLabels labels = wanted ? ShownLabels(hashes) : ShownLabels{};
    std::vector<std::uint64_t>().swap(hashes);

    const bool collapse = config().collapse_threads;
    // views keyed by thread (one key when threads are merged), in thread order
    std::map<int, std::vector<const ViewNodes*>> by_tid;
    std::vector<std::unique_ptr<LiveNodes>>      owned;
    for (std::size_t c = 0; c < k; ++c) {
        const auto& info = component_table()[static_cast<std::size_t>(src.live[c])];
        for (const auto& [tid, graph] : views[c]) {
            const int key  = collapse ? 0 : tid;
            auto&     slot = by_tid[key];
            slot.resize(k, nullptr);
            if (slot[c]) continue;  // one view per thread and component
            owned.push_back(std::make_unique<LiveNodes>(info, graph));
            slot[c] = owned.back().get();
        }
    }
    JoinedRow row;
    row.rank = src.rank;
    row.pid  = static_cast<std::int64_t>(getpid());
    row.inclusive.assign(k, nullptr);
    row.exclusive.assign(k, nullptr);
    std::vector<Entry> inc(k), exc(k);
    std::string        label_buf;
    for (const auto& [tid, comps] : by_tid) {
        JoinedView view(comps);
        if (view.empty()) continue;
        row.tid = tid;
        walk(
            view, k, row, inc, exc, label_buf,
            [&](const ViewNodes& v, std::int32_t i, std::string& out) { labels.label(v.hash(i), out); },
            [](const ViewNodes&, std::int32_t, JoinedRow&) {}, visit);
    }
}

void walk_loaded(const JoinSource& src, const std::function<void(const JoinedRow&)>& visit) {
    const std::size_t k      = src.loaded.size();
    std::size_t       nranks = 0;
    for (const auto& l : src.loaded) nranks = std::max(nranks, l.ranks.size());
    JoinedRow row;
    row.inclusive.assign(k, nullptr);
    row.exclusive.assign(k, nullptr);
    std::vector<Entry> inc(k), exc(k);
    std::string        label_buf;
    for (std::size_t r = 0; r < nranks; ++r) {
        // the roots of each component in this rank, keyed by their lowest thread (the k-th
        // root of a thread pairs with the other components' k-th)
        std::map<std::pair<int, int>, std::vector<const ViewNodes*>> by_tid;
        std::vector<std::unique_ptr<LoadedNodes>>                    owned;
        for (std::size_t c = 0; c < k; ++c) {
            if (r >= src.loaded[c].ranks.size()) continue;
            std::map<int, int> seen;
            for (const TreeNode* root : src.loaded[c].ranks[r]) {
                if (!root) continue;
                const int tid  = root->tids.empty() ? 0 : *root->tids.begin();
                auto&     slot = by_tid[{tid, seen[tid]++}];
                slot.resize(k, nullptr);
                owned.push_back(std::make_unique<LoadedNodes>(root));
                slot[c] = owned.back().get();
            }
        }
        row.rank = static_cast<int>(r);
        for (const auto& [key, comps] : by_tid) {
            JoinedView view(comps);
            if (view.empty()) continue;
            walk(
                view, k, row, inc, exc, label_buf,
                [](const ViewNodes& v, std::int32_t i, std::string& out) { out = v.tree(i)->label; },
                [](const ViewNodes& v, std::int32_t i, JoinedRow& out) {
                    const TreeNode* t = v.tree(i);
                    out.tid           = t->tids.empty() ? 0 : *t->tids.begin();
                    out.pid           = t->pids.empty() ? 0 : *t->pids.begin();
                },
                visit);
        }
    }
}

}  // namespace

void for_each_joined(const JoinSource& src, const std::function<void(const JoinedRow&)>& visit) {
    if (!src.live.empty()) walk_live(src, visit);
    else if (!src.loaded.empty()) walk_loaded(src, visit);
}

// hash_source is with the label database (call_graph.cpp): the profiler registers the sources.

}  // namespace tim
