#pragma once
// Per-thread, per-component call graph. Node 0 is the dummy root. A node is
// keyed by (parent, hash of label); re-entering the same label under the same
// parent accumulates into the same node (tree scope). Flat scope keys every
// label under the root; timeline scope creates a new node on every push.
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "timemory/storage/entry.hpp"

namespace tim {

// 48 bytes: the structure and the two counters; the values are in the
// graph's arena (NodeStore), sized by the component.
struct Node {
    // the child entered last: a loop re-entering the same child (or a
    // recursion) skips the lookup table (first: what push reads)
    std::uint64_t last_child_hash = 0;
    std::int32_t  last_child      = -1;
    std::int32_t  parent          = -1;
    std::uint64_t hash            = 0;
    std::int64_t  laps            = 0;
    std::int32_t  depth           = 0;      // raw depth: root 0, top level 1
    bool          unique          = false;  // timeline node: never merged with a same-label sibling
    // A task submitted elsewhere runs beneath the submitting call path (enter_context): the
    // path's nodes are placeholders (no values of their own here) and the last one is marked
    // `context`; a node created beneath a `context` node is `remote`: it ran in parallel with
    // its parent's own measurement, which neither includes it nor has it subtracted from its
    // self value (docs/guide/executors.md).
    bool context = false;
    bool remote  = false;
    // not next to laps: the compiler would pack the two increments of
    // record_scalar into vector instructions, more of them than two adds
    std::int64_t count = 0;  // statistics samples (Entry::stats.count)
};
static_assert(sizeof(Node) == 48, "a node is 48 bytes (its values are in the arena)");

// Nodes and their values: one arena of doubles, `stride` per node (value and
// accum: n_store each; sum, sqr, min, max: n_disp each). What a call graph
// records into and what a copy of one is.
class NodeStore {
public:
    NodeStore() = default;
    explicit NodeStore(const ComponentInfo& info)
        : n_store_(arena_store_values(info)), n_disp_(arena_disp_values(info)), stride_(2 * n_store_ + 4 * n_disp_) {}

    std::size_t              size() const { return nodes_.size(); }
    bool                     empty() const { return nodes_.empty(); }
    const std::vector<Node>& nodes() const { return nodes_; }
    Node&                    node(std::int32_t i) { return nodes_[static_cast<std::size_t>(i)]; }
    const Node&              node(std::int32_t i) const { return nodes_[static_cast<std::size_t>(i)]; }
    const Node&              operator[](std::size_t i) const { return nodes_[i]; }

    EntryRef entry(std::int32_t i) {
        Node& n = nodes_[static_cast<std::size_t>(i)];
        return EntryRef(n.laps, n.count, values_.data() + static_cast<std::size_t>(i) * stride_, n_store_, n_disp_);
    }
    ConstEntryRef entry(std::int32_t i) const {
        const Node& n = nodes_[static_cast<std::size_t>(i)];
        return ConstEntryRef(n.laps, n.count, values_.data() + static_cast<std::size_t>(i) * stride_, n_store_,
                             n_disp_);
    }
    // record_scalar() of node i's values; fixed offsets when the component
    // keeps one value (what the profiler's and the markers' clocks record).
    // Always inline (the profiler's return path), any other layout out of line.
    __attribute__((always_inline)) void record_scalar(std::int32_t i, double v) {
        if (stride_ == scalar_stride) record_scalar_fixed(i, v);
        else record_scalar_entry(i, v);
    }
    // record_scalar() when the store is known to keep one value (stride() == scalar_stride).
    __attribute__((always_inline)) void record_scalar_fixed(std::int32_t i, double v) {
        Node&   n = nodes_[static_cast<std::size_t>(i)];
        double* b = values_.data() + static_cast<std::size_t>(i) * scalar_stride;
        b[0]      = v;  // value
        b[1] += v;      // accum
        if (n.count == 0) b[4] = b[5] = v;
        else {
            if (v < b[4]) b[4] = v;  // min
            if (v > b[5]) b[5] = v;  // max
        }
        b[2] += v;      // sum
        b[3] += v * v;  // sqr
        ++n.count;
        ++n.laps;
    }
    __attribute__((noinline)) void record_scalar_entry(std::int32_t i, double v) { entry(i).record_scalar(v); }
    static constexpr int           scalar_stride = 6;  // n_store 1, n_disp 1

    // Appends a node with zero values (its laps and count are reset too).
    std::int32_t push_back(const Node& n) {
        const auto idx = static_cast<std::int32_t>(nodes_.size());
        nodes_.push_back(n);
        nodes_.back().laps = nodes_.back().count = 0;
        values_.resize(values_.size() + static_cast<std::size_t>(stride_), 0.0);
        return idx;
    }
    void reserve(std::size_t n) {
        nodes_.reserve(n);
        values_.reserve(n * static_cast<std::size_t>(stride_));
    }
    // Keeps the first n nodes.
    void truncate(std::size_t n) {
        nodes_.resize(n);
        values_.resize(n * static_cast<std::size_t>(stride_));
    }
    void shrink_to_fit() {
        nodes_.shrink_to_fit();
        values_.shrink_to_fit();
    }
    int stride() const { return stride_; }
    // bytes held (capacity) by the nodes and the arena
    std::size_t capacity_bytes() const {
        return nodes_.capacity() * sizeof(Node) + values_.capacity() * sizeof(double);
    }

private:
    std::vector<Node>   nodes_;
    std::vector<double> values_;
    int                 n_store_ = 0;
    int                 n_disp_  = 0;
    int                 stride_  = 0;
};

// Open-addressing table from (parent, hash) to a node index: 4 bytes a slot,
// the key read from the node (a std::unordered_map costs 50-60 bytes a key).
class NodeIndex {
public:
    // Index of the node under `parent` with `hash`, or -1.
    std::int32_t find(const std::vector<Node>& nodes, std::int32_t parent, std::uint64_t hash) const {
        if (slots_.empty()) return -1;
        for (std::size_t i = home(parent, hash);; i = (i + 1) & mask_) {
            const std::int32_t s = slots_[i];
            if (s < 0) return -1;
            const Node& n = nodes[static_cast<std::size_t>(s)];
            if (n.hash == hash && n.parent == parent) return s;
        }
    }
    // Adds node `idx` (its key not present yet).
    void insert(const std::vector<Node>& nodes, std::int32_t idx) {
        if ((used_ + 1) * 2 > slots_.size()) grow(nodes);
        place(nodes[static_cast<std::size_t>(idx)], idx);
        ++used_;
    }
    void clear() {
        std::vector<std::int32_t>().swap(slots_);
        mask_ = 0;
        used_ = 0;
    }

private:
    std::size_t home(std::int32_t parent, std::uint64_t hash) const {
        std::uint64_t h =
            hash ^ (static_cast<std::uint64_t>(static_cast<std::uint32_t>(parent)) * 0x9E3779B97F4A7C15ULL);
        h ^= h >> 29;
        h *= 0xBF58476D1CE4E5B9ULL;
        h ^= h >> 32;
        return static_cast<std::size_t>(h) & mask_;
    }
    void place(const Node& n, std::int32_t idx) {
        std::size_t i = home(n.parent, n.hash);
        while (slots_[i] >= 0) i = (i + 1) & mask_;
        slots_[i] = idx;
    }
    void grow(const std::vector<Node>& nodes) {
        std::vector<std::int32_t> old;
        old.swap(slots_);
        const std::size_t n = old.empty() ? 64 : old.size() * 2;
        slots_.assign(n, -1);
        mask_ = n - 1;
        for (std::int32_t s : old)
            if (s >= 0) place(nodes[static_cast<std::size_t>(s)], s);
    }

    std::vector<std::int32_t> slots_;  // node index, -1 empty; a power of two, at most half full
    std::size_t               mask_ = 0;
    std::size_t               used_ = 0;
};

class CallGraph {
public:
    explicit CallGraph(const ComponentInfo* info);

    // Enters a node for `hash` (label registered on first creation) and makes
    // it current. Returns the node index, or -1 when max_depth cuts it off.
    __attribute__((always_inline)) std::int32_t push(std::uint64_t hash, std::string_view label, bool flat,
                                                     bool timeline) {
        // inline fast path: re-entering the child entered last under the current node
        if (!flat && !timeline) {
            const Node& p = store_.node(current_);
            if (p.last_child >= 0 && p.last_child_hash == hash) return current_ = p.last_child;
        }
        return push_slow(hash, label, flat, timeline);
    }
    // push()'s inline half, for a caller that keeps the current node itself: whether the child
    // entered last under `cur` (the current node) is `hash`'s (tree scope), and which.
    __attribute__((always_inline)) bool last_child_is(std::int32_t cur, std::uint64_t hash, std::int32_t& child) const {
        const Node& p = store_.node(cur);
        child         = p.last_child;
        return p.last_child >= 0 && p.last_child_hash == hash;
    }
    void set_current(std::int32_t node) { current_ = node; }
    // Leaves `node`: the current node becomes `prev` (what was current at push).
    void pop(std::int32_t node, std::int32_t prev) {
        (void)node;
        current_ = prev;
    }
    void record(std::int32_t node, const double* raw, std::int64_t laps = 1) {
        if (scalar_ && laps == 1) store_.record_scalar(node, raw[0]);
        else store_.entry(node).record(*info_, raw, laps);
    }
    // record() of a scalar delta component's one value (is_scalar_delta)
    __attribute__((always_inline)) void record_scalar(std::int32_t node, double v) { store_.record_scalar(node, v); }
    // The same when one_value_layout() (the stack's fast path checks it once per session).
    __attribute__((always_inline)) void record_scalar_fixed(std::int32_t node, double v) {
        store_.record_scalar_fixed(node, v);
    }
    // The node store keeps one value per node (fixed for the graph's life).
    bool          one_value_layout() const { return store_.stride() == NodeStore::scalar_stride; }
    EntryRef      entry(std::int32_t node) { return store_.entry(node); }
    ConstEntryRef entry(std::int32_t node) const { return store_.entry(node); }

    std::int32_t current() const { return current_; }
    // Enters the call path `hashes` (from the top level; labels already registered) as
    // placeholder nodes, marks its last node `context` and makes it current: what a task
    // submitted from another thread or process records lands beneath it. Returns the node
    // that was current, for leave_context. An empty path makes the root current.
    std::int32_t enter_context(const std::uint64_t* hashes, std::size_t n);
    // Makes `prev` (what enter_context returned) current again.
    void leave_context(std::int32_t prev) { current_ = prev; }
    // The hashes of the path from the top level to the current node (empty at the root).
    std::vector<std::uint64_t> current_path() const;
    // Bumped by clear(): a bundle started before a clear must not record into
    // a node index that now means something else.
    std::uint64_t        generation() const { return generation_; }
    const ComponentInfo& info() const { return *info_; }
    bool                 empty() const;  // no node besides the root has laps or children
    std::size_t          size() const;   // nodes besides the root
    void                 clear();
    // Copy of the nodes and their values, taken under the structure lock (safe
    // while the owning thread keeps recording): as compact as the graph.
    NodeStore copy() const;
    // The nodes alone (no values), copied under the structure lock.
    std::vector<Node> copy_nodes() const;
    // The nodes read in place: only while the lock from lock_nodes() is held
    // (the owning thread then waits before it creates a node). Shared: several writers
    // (the files of one write, written at once) read the same graph in place together.
    std::shared_lock<std::shared_mutex> lock_nodes() const { return std::shared_lock<std::shared_mutex>(structure_); }
    const std::vector<Node>&            nodes_locked() const { return store_.nodes(); }
    const NodeStore&                    store_locked() const { return store_; }

private:
    std::int32_t push_slow(std::uint64_t hash, std::string_view label, bool flat, bool timeline);

    const ComponentInfo* info_;
    // is_scalar_delta, fixed for the graph's life (the hardware counters' arity is not)
    bool                      scalar_;
    NodeStore                 store_;
    NodeIndex                 lookup_;
    std::int32_t              current_    = 0;
    std::uint64_t             generation_ = 0;
    mutable std::shared_mutex structure_;  // node creation (exclusive) vs readers (shared)
};

// One component of a running bundle: where it was pushed and its start reading.
struct Measurement {
    CallGraph*    graph      = nullptr;
    std::int32_t  node       = -1;
    std::int32_t  prev       = 0;
    std::uint64_t generation = 0;
    double        start[max_values];  // written by start(); not zeroed (hot path)
};

// Raw value of one interval from its start and stop readings (per Combine).
void interval_value(const ComponentInfo& info, const double* start, const double* stop, double* out);
// Takes a reading (zeros when the component has no reader). With `ev`, the event's shared
// kernel reads (components/event_reads.hpp): every component of one event that reads the same
// kernel source (getrusage, /proc/self/statm, ...) takes that source's one reading. One `ev`
// per event, declared by the caller just before its readings: never kept for another event.
inline void read_now(const ComponentInfo& info, double* out, readers::EventReads& ev) {
    if (info.read_shared) info.read_shared(ev, out);
    else if (info.read) info.read(out);
    else
        for (int i = 0; i < info.n_raw; ++i) out[i] = 0.0;
}
// A reading on its own: reads its kernel source afresh.
inline void read_now(const ComponentInfo& info, double* out) {
    if (info.read) info.read(out);
    else
        for (int i = 0; i < info.n_raw; ++i) out[i] = 0.0;
}
// The start and stop readings of a measurement: read_now, or for a Python-defined component
// (info.user) its object's start and stop through the bindings' hooks, with the GIL held.
// `start` is what the start reading wrote; a stop with no value (the component failed and
// was dropped) writes NaN into out[0] (no_value).
inline void start_reading(const ComponentInfo& info, double* start, readers::EventReads& ev) {
    if (__builtin_expect(info.user, 0)) {
        if (const auto& h = user_component_hooks(); h.start) h.start(info.index, start);
        else start[0] = start[1] = 0.0;
    } else {
        read_now(info, start, ev);
    }
}
inline void stop_reading(const ComponentInfo& info, const double* start, double* out, readers::EventReads& ev) {
    if (__builtin_expect(info.user, 0)) {
        const auto& h = user_component_hooks();
        if (!h.stop || !h.stop(info.index, start, out)) out[0] = __builtin_nan("");
    } else {
        read_now(info, out, ev);
    }
}
// The same, each reading on its own (a component with a shared source reads it afresh).
inline void start_reading(const ComponentInfo& info, double* start) {
    if (__builtin_expect(info.user, 0)) {
        if (const auto& h = user_component_hooks(); h.start) h.start(info.index, start);
        else start[0] = start[1] = 0.0;
    } else {
        read_now(info, start);
    }
}
inline void stop_reading(const ComponentInfo& info, const double* start, double* out) {
    if (__builtin_expect(info.user, 0)) {
        const auto& h = user_component_hooks();
        if (!h.stop || !h.stop(info.index, start, out)) out[0] = __builtin_nan("");
    } else {
        read_now(info, out);
    }
}
inline bool no_value(const ComponentInfo& info, const double* stop) {
    return __builtin_expect(info.user, 0) && stop[0] != stop[0];
}

struct ThreadData;

// A set of components measured together under one label (a marker, a
// decorated call). Running bundles are linked per thread so finalize() can
// stop them (stack_clearing) without losing their data.
class Bundle {
public:
    static constexpr int inline_capacity = 3;  // keeps a marker object under pymalloc's 512 B

    Bundle()                         = default;
    Bundle(const Bundle&)            = delete;
    Bundle& operator=(const Bundle&) = delete;
    ~Bundle();

    // Pushes every component under `hash` and takes the start readings.
    void start(const int* indices, int n, std::uint64_t hash, std::string_view label, bool flat, bool timeline);
    // Takes the stop readings, records the interval and pops. No-op when not running.
    void        stop();
    bool        running() const { return running_; }
    ThreadData* owner() const { return owner_; }  // thread that started it

private:
    friend void  stop_all_bundles();
    friend void  forget_other_threads_bundles();
    Measurement* data() { return n_ <= inline_capacity ? inline_ : heap_.get(); }
    // The timeline's side (timemory/storage/timeline.hpp), out of line: only while recording.
    void begin_event(std::uint64_t hash, const int* indices, int n);
    void end_event(const double (*stop)[max_values]);

    Measurement                    inline_[inline_capacity];
    std::unique_ptr<Measurement[]> heap_;
    int                            n_        = 0;
    bool                           running_  = false;
    bool                           timeline_ = false;  // this measurement goes into the timeline
    std::uint16_t                  hw_n_     = 0;      // hardware-counter components counted in perf::g_running
    readers::EventPlan             plan_;              // the components' kernel reads (event_reads.hpp)
    std::uint16_t                  tl_depth_  = 0;     // timeline: the event's depth
    double                         tl_begin_  = 0.0;
    std::uint64_t                  tl_hash_   = 0;
    ThreadData*                    owner_     = nullptr;
    Bundle*                        prev_link_ = nullptr;
    Bundle*                        next_link_ = nullptr;
};

struct ThreadData {
    int                                     tid = 0;            // 0 for the first thread that records
    std::vector<std::unique_ptr<CallGraph>> graphs;             // indexed by component enum
    Bundle*                                 running = nullptr;  // intrusive list head

    CallGraph& graph(int index) {
        auto& g = graphs[static_cast<std::size_t>(index)];
        return g ? *g : create_graph(index);
    }

private:
    CallGraph& create_graph(int index);
};

ThreadData&              thread_data();      // this thread's, created on first use
std::vector<ThreadData*> all_thread_data();  // every thread that ever recorded (kept after exit)
int                      thread_count();

// Stops every running bundle on every thread (finalize with stack_clearing).
void stop_all_bundles();
// In a forked child (pthread_atfork): the running bundles of the parent's other threads
// never stop here, so they no longer count as running hardware-counter measurements.
void forget_other_threads_bundles();

// Global label database (get_hash / get_hash_identifier / functions.json).
std::uint64_t hash_label(std::string_view label);  // FNV-1a 64, stable across runs
// A function's identity: the hash of the label and where it is ("module, line N"); the
// label's own hash when `where` is empty. Same-named functions are different nodes.
std::uint64_t hash_label(std::string_view label, std::string_view where);
std::uint64_t add_hash_id(std::string_view label);  // hash_label + register
// Registers `label` (and its where, if any) under `hash`; the first label of a hash stays.
void        add_hash_id(std::uint64_t hash, std::string_view label, std::string_view where = {});
std::string get_hash_identifier(std::uint64_t hash);  // the label ("" if unknown), never its where
// The same into `out`, reusing its storage: the writers' per-node label makes no allocation.
void get_hash_identifier(std::uint64_t hash, std::string& out);
// The same for a walk that meets labels mostly in the order they were registered (a graph's
// nodes in pre-order): `hint` (the caller's, -1 at first) holds the index found last, and the
// next one is tried before the table (whose probes miss the cache on a large graph).
// Whether the hash is known (else `out` is empty and `hint` unchanged).
bool get_hash_identifier(std::uint64_t hash, std::string& out, std::int32_t& hint);
// The label registered at index `idx` (a `hint` that get_hash_identifier set) into `out`: no
// lookup. A walk that reads a graph's labels again keeps each node's index (4 bytes), not a
// copy of its text.
void                                               get_identifier_at(std::int32_t idx, std::string& out);
std::vector<std::pair<std::uint64_t, std::string>> hash_ids();  // (hash, label) in registration order
// The where registered with `hash` ("" for a label's own identity, or unknown).
std::string hash_where(std::uint64_t hash);
bool        any_where();  // whether any label has a where (a function's node was ever made)
// Where a function's code is: the profiler registers it with the function's hash once per code
// object (its labeler hands the code's file, first line and name); C functions are "~", line 0,
// as cProfile keys them; markers have none. What the pstats export keys functions by, and what
// functions.json keeps ("sources") so a folder read back has it too.
struct HashSource {
    std::uint64_t hash = 0;
    std::string   file;      // co_filename as the code object has it; "~" for a C function
    int           line = 0;  // co_firstlineno; 0 for a C function
    std::string   name;      // co_name (a C function: cProfile's "<built-in method ...>" form)
};
// Registers the source of `hash`. The first source of a hash stays (the profiler's, once per
// code object), unless `replace`: a folder read back registers its own over it (the same
// label and where in another program, e.g. two scripts of the same name, are another file).
void add_hash_source(std::uint64_t hash, std::string_view file, int line, std::string_view name, bool replace = false);
// The source registered with `hash` into `out`; false (out untouched) when none is.
bool                    hash_source(std::uint64_t hash, HashSource& out);
std::vector<HashSource> hash_sources();  // in registration order
// A shown label without its ` [where]` suffix (unchanged when it has none).
std::string_view plain_label(std::string_view shown, std::string_view where);

// The rule every view applies (one place): a node with a where is shown as `label [where]`
// when another node of the same view, of another identity, has the same label (another
// function of that name, or a marker named so); every other label is shown as it is.
struct LabelIdentity {
    std::uint64_t hash       = 0;
    std::uint64_t label_hash = 0;  // hash_label(label)
    bool          has_where  = false;
};
// The hashes of `ids` to show with their where.
std::unordered_set<std::uint64_t> to_disambiguate(const std::vector<LabelIdentity>& ids);

// The labels of one view of this process's nodes, from the label database.
class ShownLabels {
public:
    ShownLabels() = default;
    explicit ShownLabels(const std::vector<std::uint64_t>& hashes);  // every node's hash of the view
    void        label(std::uint64_t hash, std::string& out) const;   // into `out`, reusing its storage
    bool        label(std::uint64_t hash, std::string& out, std::int32_t& hint) const;  // see get_hash_identifier
    bool        shows_where(std::uint64_t hash) const { return !where_.empty() && where_.count(hash) != 0; }
    std::string label(std::uint64_t hash) const {
        std::string out;
        label(hash, out);
        return out;
    }

private:
    std::unordered_map<std::uint64_t, std::string> where_;  // the hashes shown with their where
};

}  // namespace tim
