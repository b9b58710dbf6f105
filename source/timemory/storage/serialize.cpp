#include "timemory/storage/serialize.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <unordered_map>
#include <utility>

namespace tim {

namespace {

// "TMF5"/"TMT3": the header names a Python-defined component by its identity (key, units...),
// not by its index, which depends on the order a process registered its components in.
constexpr std::uint32_t flat_magic = 0x464d5435;  // "TMF5": entries carry their where and flags
constexpr std::uint32_t tree_magic = 0x544d5433;  // "TMT3": nodes carry their flags

// A node's flags, one byte: what a task's work beneath its submitting call path is
// (Node::remote, Node::context), kept when a process's data moves to another.
constexpr std::uint8_t node_remote  = 1;
constexpr std::uint8_t node_context = 2;
std::uint8_t           node_flags(bool remote, bool context) {
    return static_cast<std::uint8_t>((remote ? node_remote : 0) | (context ? node_context : 0));
}

class Writer {
public:
    explicit Writer(std::string& out) : out_(out) {}
    template <typename T>
    void put(const T& v) {
        out_.append(reinterpret_cast<const char*>(&v), sizeof(T));
    }
    void put(const double* v, int n) {
        out_.append(reinterpret_cast<const char*>(v), sizeof(double) * static_cast<std::size_t>(n));
    }
    void put(const std::string& s) {
        put(static_cast<std::uint32_t>(s.size()));
        out_.append(s);
    }
    void put(const Entry& e, int nr, int nd) {
        put(e.laps);
        put(e.value, nr);
        put(e.accum, nr);
        put(e.stats.count);
        put(e.stats.sum, nd);
        put(e.stats.sqr, nd);
        put(e.stats.min, nd);
        put(e.stats.max, nd);
    }

private:
    std::string& out_;
};

class Reader {
public:
    explicit Reader(std::string_view in) : in_(in) {}
    void need(std::size_t n) const {
        if (pos_ + n > in_.size()) throw std::invalid_argument("truncated timemory storage data");
    }
    template <typename T>
    T get() {
        need(sizeof(T));
        T v;
        std::memcpy(&v, in_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }
    void get(double* v, int n) {
        auto bytes = sizeof(double) * static_cast<std::size_t>(n);
        need(bytes);
        std::memcpy(v, in_.data() + pos_, bytes);
        pos_ += bytes;
    }
    std::string_view view() {
        auto n = get<std::uint32_t>();
        need(n);
        std::string_view s(in_.data() + pos_, n);
        pos_ += n;
        return s;
    }
    std::string str() { return std::string(view()); }
    void        entry(Entry& e, int nr, int nd) {
        e.laps = get<std::int64_t>();
        get(e.value, nr);
        get(e.accum, nr);
        e.stats.count = get<std::int64_t>();
        get(e.stats.sum, nd);
        get(e.stats.sqr, nd);
        get(e.stats.min, nd);
        get(e.stats.max, nd);
    }
    bool        done() const { return pos_ == in_.size(); }
    std::size_t remaining() const { return in_.size() - pos_; }

private:
    std::string_view in_;
    std::size_t      pos_ = 0;
};

// The header: magic, the sender's index, n_raw, n_disp, then whether the component is a
// Python-defined one and, if so, what the receiver needs to find or make its row: key,
// label, description, class name, combine, per value its unit (divisor, display
// string), the sub-labels.
void header(Writer& w, std::uint32_t magic, const ComponentInfo& info) {
    w.put(magic);
    w.put(static_cast<std::int32_t>(info.index));
    w.put(static_cast<std::int32_t>(info.n_raw));
    w.put(static_cast<std::int32_t>(info.n_disp));
    // 0: a built-in component (by index); 1: a Python-defined one (what makes its row); 2: a
    // native row made in a free slot at run time (a perf:: event: by key, the receiver makes it)
    const bool slot_native = !info.user && info.index >= builtin_component_count();
    w.put(static_cast<std::uint8_t>(info.user ? 1 : slot_native ? 2 : 0));
    if (slot_native) w.put(info.key);
    if (!info.user) return;
    w.put(info.key);
    w.put(info.label);
    w.put(info.description);
    w.put(info.class_name);
    w.put(static_cast<std::uint8_t>(info.combine));
    for (int i = 0; i < info.n_disp; ++i) {
        const Unit u = i < static_cast<int>(info.units.size()) ? info.units[static_cast<std::size_t>(i)] : Unit::none;
        w.put(unit_divisor(u));
        w.put(unit_repr(u));
    }
    w.put(static_cast<std::uint32_t>(info.sub_labels.size()));
    for (const auto& s : info.sub_labels) w.put(s);
}

PackedComponent read_component(Reader& r, std::uint32_t magic) {
    if (r.get<std::uint32_t>() != magic)
        throw std::invalid_argument(magic == flat_magic ? "not packed flat storage data"
                                                        : "not packed tree storage data");
    PackedComponent c;
    c.index  = r.get<std::int32_t>();
    c.n_raw  = r.get<std::int32_t>();
    c.n_disp = r.get<std::int32_t>();
    if (c.n_raw < 0 || c.n_raw > max_values || c.n_disp < 0 || c.n_disp > max_values)
        throw std::invalid_argument("corrupt timemory storage data (value counts)");
    const auto kind = r.get<std::uint8_t>();
    if (kind > 2) throw std::invalid_argument("corrupt timemory storage data (component kind)");
    c.user         = kind == 1;
    c.keyed_native = kind == 2;
    if (c.keyed_native) c.key = r.str();
    if (!c.user) return c;
    c.key              = r.str();
    c.label            = r.str();
    c.description      = r.str();
    c.class_name       = r.str();
    const auto combine = r.get<std::uint8_t>();
    c.combine          = static_cast<Combine>(combine);
    if (!is_user_combine(c.combine) || combine > static_cast<std::uint8_t>(Combine::latest))
        throw std::invalid_argument("corrupt timemory storage data (combine rule)");
    for (int i = 0; i < c.n_disp; ++i) {
        const auto divisor = r.get<double>();
        c.units.emplace_back(divisor, r.str());
    }
    const auto nsub = r.get<std::uint32_t>();
    r.need(nsub);  // each takes at least its length
    for (std::uint32_t i = 0; i < nsub; ++i) c.sub_labels.push_back(r.str());
    return c;
}

// The packed component must be `info`: a built-in one by index, a Python-defined one by
// key (its index in the sending process may differ).
void check_header(Reader& r, std::uint32_t magic, const ComponentInfo& info) {
    const auto c      = read_component(r, magic);
    const bool by_key = c.user || c.keyed_native;
    const bool same   = by_key ? (info.user == c.user && c.key == info.key) : (!info.user && c.index == info.index);
    if (!same || c.n_raw != info.n_raw || c.n_disp != info.n_disp)
        throw std::invalid_argument("packed storage data of component " +
                                    (by_key ? "'" + c.key + "'" : std::to_string(c.index)) + ", expected " + info.id +
                                    " (" + std::to_string(info.index) + ")");
}

}  // namespace

PackedComponent packed_component(std::string_view data) {
    Reader r(data);
    if (data.size() < sizeof(std::uint32_t)) throw std::invalid_argument("truncated timemory storage data");
    std::uint32_t magic = 0;
    std::memcpy(&magic, data.data(), sizeof(magic));
    return read_component(r, magic == tree_magic ? tree_magic : flat_magic);
}

namespace {

// Pre-order: a node's fields and child count, then its children. Both directions use an
// explicit stack: a tree can be deeper than the thread's stack allows recursion.
void put_tree(Writer& w, const TreeNode& root, int nr, int nd) {
    std::vector<const TreeNode*> stack{&root};
    while (!stack.empty()) {
        const TreeNode& n = *stack.back();
        stack.pop_back();
        w.put(n.hash);
        w.put(n.label);
        w.put(static_cast<std::uint32_t>(n.tids.size()));
        for (int t : n.tids) w.put(static_cast<std::int32_t>(t));
        w.put(static_cast<std::uint32_t>(n.pids.size()));
        for (int p : n.pids) w.put(static_cast<std::int32_t>(p));
        w.put(static_cast<std::int32_t>(n.depth));
        w.put(static_cast<std::uint8_t>(n.is_dummy));
        w.put(node_flags(n.remote, n.context));
        w.put(n.inclusive, nr, nd);
        w.put(n.exclusive, nr, nd);
        w.put(static_cast<std::uint32_t>(n.children.size()));
        for (auto c = n.children.rbegin(); c != n.children.rend(); ++c) stack.push_back(&*c);
    }
}

// One node's fields; returns its child count (space reserved for them).
std::uint32_t get_tree_node(Reader& r, TreeNode& n, int nr, int nd) {
    n.hash  = r.get<std::uint64_t>();
    n.label = r.str();
    for (auto i = r.get<std::uint32_t>(); i > 0; --i) n.tids.insert(r.get<std::int32_t>());
    for (auto i = r.get<std::uint32_t>(); i > 0; --i) n.pids.insert(r.get<std::int32_t>());
    n.depth          = r.get<std::int32_t>();
    n.is_dummy       = r.get<std::uint8_t>() != 0;
    const auto flags = r.get<std::uint8_t>();
    n.remote         = (flags & node_remote) != 0;
    n.context        = (flags & node_context) != 0;
    r.entry(n.inclusive, nr, nd);
    r.entry(n.exclusive, nr, nd);
    auto nchild = r.get<std::uint32_t>();
    // each child takes far more than one byte: a corrupt count fails here, not in reserve()
    r.need(nchild);
    n.children.reserve(nchild);
    return nchild;
}

TreeNode get_tree(Reader& r, int nr, int nd) {
    TreeNode root;
    // (node, children still to read); children are reserved, so the pointers stay valid
    std::vector<std::pair<TreeNode*, std::uint32_t>> stack;
    if (auto k = get_tree_node(r, root, nr, nd)) stack.emplace_back(&root, k);
    while (!stack.empty()) {
        auto& [parent, left] = stack.back();
        if (left == 0) {
            stack.pop_back();
            continue;
        }
        --left;
        TreeNode& child = parent->children.emplace_back();
        if (auto k = get_tree_node(r, child, nr, nd)) stack.emplace_back(&child, k);
    }
    return root;
}

// One entry of a packed flat list as read_flat sees it (label views the buffer).
struct PackedEntry {
    std::uint64_t    hash    = 0;
    int              depth   = 0;
    int              tid     = 0;
    int              pid     = 0;
    bool             remote  = false;
    bool             context = false;
    std::string_view label;
    std::string_view where;   // where a function is ("module, line N"), else empty
    std::string_view prefix;  // empty unless stored
    Entry            entry;
};

constexpr std::uint8_t flat_has_prefix = 1;

struct FlatHead {
    std::uint8_t  flags    = 0;
    int           nthreads = 1;
    bool          show_tid = false;
    std::uint64_t count    = 0;
};

// The header of a packed flat list, after which its entries follow.
FlatHead read_head(Reader& r, const ComponentInfo& info) {
    check_header(r, flat_magic, info);
    FlatHead head;
    head.flags    = r.get<std::uint8_t>();
    head.nthreads = r.get<std::int32_t>();
    head.show_tid = r.get<std::uint8_t>() != 0;
    head.count    = r.get<std::uint64_t>();
    // the smallest an entry can be packed (an empty label): a count the data cannot hold is
    // refused before anyone reserves memory for it
    const std::size_t smallest = 8 + 4 + 4 + 4 + 1 + 4 + 4 + ((head.flags & flat_has_prefix) ? 4 : 0) + 8 +
                                 16 * static_cast<std::size_t>(info.n_raw) + 8 +
                                 32 * static_cast<std::size_t>(info.n_disp);
    if (head.count > r.remaining() / smallest) throw std::invalid_argument("truncated timemory storage data");
    return head;
}

// Reads a packed flat list: `visit(head)` once, then `on_entry(entry)` per entry.
template <typename H, typename F>
void read_flat(const ComponentInfo& info, std::string_view data, H&& visit_head, F&& on_entry) {
    Reader         r(data);
    const FlatHead head = read_head(r, info);
    visit_head(head);
    PackedEntry e;
    for (std::uint64_t i = 0; i < head.count; ++i) {
        e.hash           = r.get<std::uint64_t>();
        e.depth          = r.get<std::int32_t>();
        e.tid            = r.get<std::int32_t>();
        e.pid            = r.get<std::int32_t>();
        const auto flags = r.get<std::uint8_t>();
        e.remote         = (flags & node_remote) != 0;
        e.context        = (flags & node_context) != 0;
        e.label          = r.view();
        e.where          = r.view();
        if (head.flags & flat_has_prefix) e.prefix = r.view();
        e.entry = Entry{};
        r.entry(e.entry, info.n_raw, info.n_disp);
        on_entry(e);
    }
    if (!r.done()) throw std::invalid_argument("trailing bytes after packed flat storage data");
}

template <typename F>
void read_flat(const ComponentInfo& info, std::string_view data, F&& on_entry) {
    read_flat(info, data, [](const FlatHead&) {}, std::forward<F>(on_entry));
}

// The entry count of a packed flat list (its header only).
std::size_t flat_count(const ComponentInfo& info, std::string_view data) {
    Reader r(data);
    return static_cast<std::size_t>(read_head(r, info).count);
}

// The union of several processes' call graphs, keyed by (parent, hash).
struct UnionGraph {
    struct Node {
        std::uint64_t             hash = 0;
        std::string               label;            // without its where
        std::string               where;            // where a function is
        int                       depth   = 0;      // top level 0
        bool                      remote  = false;  // in any process (a task's work beneath its
        bool                      context = false;  // submitter: not part of the parent's value)
        std::vector<std::int32_t> children;
    };
    std::vector<Node> nodes{Node{}};  // 0: root
    struct KeyHash {
        std::size_t operator()(const std::pair<std::int32_t, std::uint64_t>& k) const {
            return static_cast<std::size_t>(k.second ^ (static_cast<std::uint64_t>(k.first) * 0x9E3779B97F4A7C15ULL));
        }
    };
    std::unordered_map<std::pair<std::int32_t, std::uint64_t>, std::int32_t, KeyHash> lookup;

    // Visits the entries of one process's packed flat list: `on_entry(node, entry)`.
    template <typename F>
    void add(const ComponentInfo& info, std::string_view packed, F&& on_entry) {
        std::vector<std::int32_t> stack;  // node per depth
        read_flat(info, packed, [&](const PackedEntry& e) {
            auto depth = static_cast<std::size_t>(std::max(e.depth, 0));
            if (stack.size() > depth) stack.resize(depth);
            std::int32_t parent = stack.empty() ? 0 : stack.back();
            auto         key    = std::make_pair(parent, e.hash);
            auto         it     = lookup.find(key);
            std::int32_t idx;
            if (it == lookup.end()) {
                idx = static_cast<std::int32_t>(nodes.size());
                Node n;
                n.hash  = e.hash;
                n.label = std::string(plain_label(e.label, e.where));
                n.where = std::string(e.where);
                n.depth = static_cast<int>(stack.size());
                nodes.push_back(std::move(n));
                nodes[static_cast<std::size_t>(parent)].children.push_back(idx);
                lookup.emplace(key, idx);
            } else {
                idx = it->second;
            }
            auto& node   = nodes[static_cast<std::size_t>(idx)];
            node.remote  = node.remote || e.remote;
            node.context = node.context || e.context;
            stack.push_back(idx);
            on_entry(idx, e);
        });
    }

    // After the last add: the labels as shown (each process showed its own nodes' labels;
    // two functions of one name may meet here only), per node.
    std::vector<std::string> shown_labels() const {
        std::vector<LabelIdentity> ids;
        ids.reserve(nodes.size());
        for (std::size_t i = 1; i < nodes.size(); ++i)
            ids.push_back({nodes[i].hash, hash_label(nodes[i].label), !nodes[i].where.empty()});
        const auto               suffixed = to_disambiguate(ids);
        std::vector<std::string> out(nodes.size());
        for (std::size_t i = 1; i < nodes.size(); ++i) {
            out[i] = nodes[i].label;
            if (suffixed.count(nodes[i].hash)) out[i].append(" [").append(nodes[i].where).append("]");
        }
        return out;
    }

    // Pre-order over the nodes besides the root: `visit(node, hierarchy)`.
    template <typename F>
    void preorder(F&& visit) const {
        // explicit stack: a graph can be deeper than the thread's stack allows recursion
        std::vector<std::uint64_t>                        path;
        std::vector<std::pair<std::int32_t, std::size_t>> stack{{0, 0}};  // (node, next child)
        while (!stack.empty()) {
            auto& [i, next]  = stack.back();
            const auto& kids = nodes[static_cast<std::size_t>(i)].children;
            if (next == kids.size()) {
                stack.pop_back();
                if (!path.empty()) path.pop_back();
                continue;
            }
            const auto c = kids[next++];
            path.push_back(nodes[static_cast<std::size_t>(c)].hash);
            visit(c, path);
            stack.emplace_back(c, 0);
        }
    }
};

}  // namespace

// Flat format: header, flags (bit 0: decorated labels stored), nthreads and
// show_tid (to decorate labels on arrival when they are not stored), the
// entry count, then per entry hash, depth, tid, pid, flags (node_remote, node_context),
// label, where (where a function is, else empty), [prefix,] entry.
namespace {
void put_flat_head(Writer& w, const ComponentInfo& info, std::uint8_t flags, int nthreads, bool show_tid) {
    header(w, flat_magic, info);
    w.put(flags);
    w.put(static_cast<std::int32_t>(nthreads));
    w.put(static_cast<std::uint8_t>(show_tid));
}

std::size_t reserve_hint(const ComponentInfo& info, std::size_t n) {
    return 64 + n * (64 + 16 * static_cast<std::size_t>(info.n_raw) + 32 * static_cast<std::size_t>(info.n_disp));
}
}  // namespace

std::string pack_flat(const ComponentInfo& info, const std::vector<FlatEntry>& entries) {
    std::string out;
    out.reserve(reserve_hint(info, entries.size()));
    Writer w(out);
    put_flat_head(w, info, flat_has_prefix, 1, false);
    w.put(static_cast<std::uint64_t>(entries.size()));
    for (const auto& e : entries) {
        w.put(e.hash);
        w.put(static_cast<std::int32_t>(e.depth));
        w.put(static_cast<std::int32_t>(e.tid));
        w.put(static_cast<std::int32_t>(e.pid));
        w.put(node_flags(e.remote, e.context));
        w.put(e.label);
        w.put(hash_where(e.hash));
        w.put(e.prefix);
        w.put(e.entry, info.n_raw, info.n_disp);
    }
    return out;
}

std::string pack_flat_snapshot(const ComponentInfo& info) {
    std::string   out;
    Writer        w(out);
    std::uint64_t count    = 0;
    std::size_t   count_at = 0;
    bool          started  = false;
    std::string   where;
    for_each_flat(info.index, [&](const FlatItem& it) {
        if (!started) {
            started = true;
            out.reserve(reserve_hint(info, it.total));
            put_flat_head(w, info, 0, it.nthreads, it.show_tid);
            count_at = out.size();
            w.put(count);
        }
        w.put(it.hash);
        w.put(static_cast<std::int32_t>(it.depth));
        w.put(static_cast<std::int32_t>(it.tid));
        w.put(static_cast<std::int32_t>(it.pid));
        w.put(node_flags(it.remote, it.context));
        w.put(it.label);
        where = hash_where(it.hash);
        w.put(where);
        w.put(*it.entry, info.n_raw, info.n_disp);
        ++count;
    });
    if (!started) return pack_flat(info, {});
    std::memcpy(&out[count_at], &count, sizeof(count));
    return out;
}

std::vector<FlatEntry> unpack_flat(const ComponentInfo& info, std::string_view data, const std::string& prefix) {
    std::vector<FlatEntry>     out;
    std::vector<std::uint64_t> path;
    FlatHead                   head;
    read_flat(
        info, data,
        [&](const FlatHead& h) {
            head = h;
            out.reserve(h.count);
        },
        [&](const PackedEntry& p) {
            // built in place: an Entry is 400 bytes, which a local and a move would copy twice
            auto& e   = out.emplace_back();
            e.hash    = p.hash;
            e.depth   = p.depth;
            e.tid     = p.tid;
            e.pid     = p.pid;
            e.remote  = p.remote;
            e.context = p.context;
            e.label.assign(p.label);
            if (head.flags & flat_has_prefix) {
                e.prefix.reserve(prefix.size() + p.prefix.size());
                e.prefix.append(prefix).append(p.prefix);
            } else {
                e.prefix = prefix + flat_prefix(e.label, e.depth, e.tid, head.nthreads, head.show_tid);
            }
            e.entry    = p.entry;
            auto depth = static_cast<std::size_t>(std::max(e.depth, 0));
            if (path.size() > depth) path.resize(depth);  // path: the rolling sums per level
            path.push_back((path.empty() ? 0 : path.back()) + e.hash);
            e.rolling_hash = path.back();
        });
    return out;
}

std::string pack_tree(const ComponentInfo& info, const std::vector<TreeNode>& roots) {
    std::string out;
    Writer      w(out);
    header(w, tree_magic, info);
    w.put(static_cast<std::uint64_t>(roots.size()));
    for (const auto& t : roots) put_tree(w, t, info.n_raw, info.n_disp);
    return out;
}

std::vector<TreeNode> unpack_tree(const ComponentInfo& info, std::string_view data) {
    Reader r(data);
    check_header(r, tree_magic, info);
    auto n = r.get<std::uint64_t>();
    r.need(n);
    std::vector<TreeNode> out;
    out.reserve(n);
    for (std::uint64_t i = 0; i < n; ++i) out.push_back(get_tree(r, info.n_raw, info.n_disp));
    if (!r.done()) throw std::invalid_argument("trailing bytes after packed tree storage data");
    return out;
}

std::vector<FlatEntry> merge_flat(const ComponentInfo& info, const std::vector<std::string_view>& processes) {
    UnionGraph         graph;
    std::vector<Entry> merged(1);
    std::vector<int>   pid(1, 0);
    // the processes usually share most of their graph: room for the largest one up front
    // (an Entry is 400 bytes; regrowing copies them all, into freshly mapped pages)
    std::size_t largest = 0;
    for (const auto& packed : processes) largest = std::max(largest, flat_count(info, packed));
    merged.reserve(largest + 1);
    pid.reserve(largest + 1);
    graph.nodes.reserve(largest + 1);
    graph.lookup.reserve(largest);
    for (const auto& packed : processes) {
        graph.add(info, packed, [&](std::int32_t idx, const PackedEntry& e) {
            if (static_cast<std::size_t>(idx) >= merged.size()) {
                merged.resize(static_cast<std::size_t>(idx) + 1);
                pid.resize(static_cast<std::size_t>(idx) + 1, e.pid);
            }
            merged[static_cast<std::size_t>(idx)].merge(info, e.entry);
        });
    }
    std::vector<FlatEntry>     out;
    std::vector<std::uint64_t> sums;  // the rolling hash per level of the current path
    const auto                 labels = graph.shown_labels();
    out.reserve(graph.nodes.size() - 1);
    graph.preorder([&](std::int32_t i, const std::vector<std::uint64_t>& path) {
        const auto& n = graph.nodes[static_cast<std::size_t>(i)];
        auto&       e = out.emplace_back();  // in place: one copy of the Entry, not three
        e.hash        = n.hash;
        e.label       = labels[static_cast<std::size_t>(i)];
        e.depth       = n.depth;
        e.pid         = pid[static_cast<std::size_t>(i)];
        e.prefix      = flat_prefix(e.label, n.depth, 0, 1, false);
        sums.resize(path.size() - 1);
        sums.push_back((sums.empty() ? 0 : sums.back()) + path.back());
        e.rolling_hash = sums.back();
        e.remote       = n.remote;
        e.context      = n.context;
        e.entry        = merged[static_cast<std::size_t>(i)];
    });
    return out;
}

std::vector<ProcessSummary> summarize_processes(const ComponentInfo&                 info,
                                                const std::vector<std::string_view>& processes) {
    UnionGraph graph;
    // per node: (process, that process's merged entry), processes in increasing order
    std::vector<std::vector<std::pair<int, Entry>>> per(1);
    for (std::size_t p = 0; p < processes.size(); ++p) {
        graph.add(info, processes[p], [&](std::int32_t idx, const PackedEntry& e) {
            if (static_cast<std::size_t>(idx) >= per.size()) per.resize(static_cast<std::size_t>(idx) + 1);
            // a node this process never measured (a placeholder of a task's submitting path,
            // count 0) does not make it a process that has the node
            if (e.entry.laps == 0) return;
            auto& list = per[static_cast<std::size_t>(idx)];
            if (list.empty() || list.back().first != static_cast<int>(p))
                list.emplace_back(static_cast<int>(p), Entry{});
            list.back().second.merge(info, e.entry);
        });
    }
    const auto                  nd     = static_cast<std::size_t>(info.n_disp);
    const auto                  labels = graph.shown_labels();
    std::vector<ProcessSummary> out;
    out.reserve(graph.nodes.size() - 1);
    graph.preorder([&](std::int32_t i, const std::vector<std::uint64_t>& path) {
        const auto&    n = graph.nodes[static_cast<std::size_t>(i)];
        ProcessSummary s;
        s.hash      = n.hash;
        s.label     = labels[static_cast<std::size_t>(i)];
        s.depth     = n.depth;
        s.prefix    = flat_prefix(s.label, n.depth, 0, 1, false);
        s.hierarchy = path;
        s.remote    = n.remote;
        s.min.assign(nd, 0.0);
        s.max.assign(nd, 0.0);
        s.total.assign(nd, 0.0);
        s.mean.assign(nd, 0.0);
        s.imbalance.assign(nd, 0.0);
        s.max_process.assign(nd, -1);
        double disp[max_values];
        for (const auto& [p, entry] : per[static_cast<std::size_t>(i)]) {
            s.processes.push_back(p);
            s.laps += entry.laps;
            display_values(info, entry.accum, disp);
            for (std::size_t k = 0; k < nd; ++k) {
                if (s.max_process[k] < 0 || disp[k] > s.max[k]) {
                    s.max[k]         = disp[k];
                    s.max_process[k] = p;
                }
                if (s.processes.size() == 1 || disp[k] < s.min[k]) s.min[k] = disp[k];
                s.total[k] += disp[k];
            }
        }
        const double count = static_cast<double>(s.processes.size());
        for (std::size_t k = 0; k < nd && count > 0; ++k) {
            s.mean[k]      = s.total[k] / count;
            s.imbalance[k] = s.mean[k] != 0.0 ? s.max[k] / s.mean[k] : 0.0;
        }
        out.push_back(std::move(s));
    });
    return out;
}

}  // namespace tim
