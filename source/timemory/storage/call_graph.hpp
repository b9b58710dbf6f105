#pragma once
// Per-thread, per-component call graph. Node 0 is the dummy root. A node is
// keyed by (parent, hash of label); re-entering the same label under the same
// parent accumulates into the same node (tree scope). Flat scope keys every
// label under the root; timeline scope creates a new node on every push.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "timemory/storage/entry.hpp"

namespace tim {

struct Node {
    std::uint64_t hash   = 0;
    std::int32_t  parent = -1;
    std::int32_t  depth  = 0;      // raw depth: root 0, top level 1
    bool          unique = false;  // timeline node: never merged with a same-label sibling
    // the child entered last: a loop re-entering the same child (or a
    // recursion) skips the hash map
    std::uint64_t last_child_hash = 0;
    std::int32_t  last_child      = -1;
    Entry         entry;
};

class CallGraph {
public:
    explicit CallGraph(const ComponentInfo* info);

    // Enters a node for `hash` (label registered on first creation) and makes
    // it current. Returns the node index, or -1 when max_depth cuts it off.
    std::int32_t push(std::uint64_t hash, std::string_view label, bool flat, bool timeline) {
        // inline fast path: re-entering the child entered last under the current node
        if (!flat && !timeline) {
            const Node& p = nodes_[static_cast<std::size_t>(current_)];
            if (p.last_child >= 0 && p.last_child_hash == hash) return current_ = p.last_child;
        }
        return push_slow(hash, label, flat, timeline);
    }
    // Leaves `node`: the current node becomes `prev` (what was current at push).
    void pop(std::int32_t node, std::int32_t prev) {
        (void)node;
        current_ = prev;
    }
    void record(std::int32_t node, const double* raw, std::int64_t laps = 1) {
        nodes_[node].entry.record(*info_, raw, laps);
    }
    Entry& entry(std::int32_t node) { return nodes_[static_cast<std::size_t>(node)].entry; }

    std::int32_t current() const { return current_; }
    // Bumped by clear(): a bundle started before a clear must not record into
    // a node index that now means something else.
    std::uint64_t        generation() const { return generation_; }
    const ComponentInfo& info() const { return *info_; }
    bool                 empty() const;  // no node besides the root has laps or children
    std::size_t          size() const;   // nodes besides the root
    void                 clear();
    // Copy of the nodes, taken under the structure lock (safe while the owning
    // thread keeps recording).
    std::vector<Node> copy_nodes() const;
    // The nodes read in place: only while the lock from lock_nodes() is held
    // (the owning thread then waits before it creates a node).
    std::unique_lock<std::mutex> lock_nodes() const { return std::unique_lock<std::mutex>(structure_); }
    const std::vector<Node>&     nodes_locked() const { return nodes_; }

private:
    std::int32_t push_slow(std::uint64_t hash, std::string_view label, bool flat, bool timeline);

    struct Key {
        std::int32_t  parent;
        std::uint64_t hash;
        bool          operator==(const Key& o) const { return parent == o.parent && hash == o.hash; }
    };
    struct KeyHash {
        std::size_t operator()(const Key& k) const {
            return static_cast<std::size_t>(k.hash ^ (static_cast<std::uint64_t>(k.parent) * 0x9E3779B97F4A7C15ULL));
        }
    };

    const ComponentInfo*                           info_;
    std::vector<Node>                              nodes_;
    std::unordered_map<Key, std::int32_t, KeyHash> lookup_;
    std::int32_t                                   current_    = 0;
    std::uint64_t                                  generation_ = 0;
    mutable std::mutex                             structure_;  // node creation vs readers
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
// Takes a reading (zeros when the component has no reader).
inline void read_now(const ComponentInfo& info, double* out) {
    if (info.read) info.read(out);
    else
        for (int i = 0; i < info.n_raw; ++i) out[i] = 0.0;
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

    Measurement                    inline_[inline_capacity];
    std::unique_ptr<Measurement[]> heap_;
    int                            n_         = 0;
    bool                           running_   = false;
    std::uint16_t                  hw_n_      = 0;  // hardware-counter components counted in perf::g_running
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
std::uint64_t                                      hash_label(std::string_view label);  // FNV-1a 64, stable across runs
std::uint64_t                                      add_hash_id(std::string_view label);      // hash_label + register
std::string                                        get_hash_identifier(std::uint64_t hash);  // "" if unknown
std::vector<std::pair<std::uint64_t, std::string>> hash_ids();

}  // namespace tim
