#pragma once
// Measurements started and stopped by key on the calling thread: the region
// API (timemory.region.push/pop) and the library trace API
// (timemory.trace.push/pop), which adds per-thread throttling of keys whose
// push-to-pop intervals are too short to be worth measuring.
#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "timemory/storage/call_graph.hpp"

namespace tim::hooks {

// Every `count` pops of a key, the key is throttled on its thread when its
// mean push-to-pop time over those pops is below `value_ns`. count 0: never.
struct ThrottleLimits {
    std::uint64_t count    = 0;
    std::uint64_t value_ns = 0;
};

class RegionStack {
public:
    enum class Pop { none, stopped, checked };  // checked: a throttle decision was made

    // Starts measuring `indices` under `hash` (nested in whatever runs on this
    // thread, per the configured scope). While recording is disabled or the
    // key is throttled nothing is measured, but a push made while another of
    // the same key runs still takes a slot so that its pop stops the right one.
    void push(std::uint64_t hash, std::string_view label, const int* indices, int n);
    // Stops the newest measurement of `hash` on this thread (nothing if none
    // runs). With `limits` the key's pops are counted for throttling.
    Pop  pop(std::uint64_t hash, const ThrottleLimits* limits);
    bool is_throttled(std::uint64_t hash) const;
    bool contains(std::uint64_t hash) const { return keys_.count(hash) != 0; }
    // Stops everything running and forgets every key (and its throttling).
    void reset();

private:
    struct Key {
        std::vector<std::unique_ptr<Bundle>> bundles;   // [0, depth) in use, reused
        std::vector<std::int64_t>            started;   // ns, per slot
        std::vector<char>                    measured;  // per slot
        std::size_t                          depth     = 0;
        std::uint64_t                        pops      = 0;  // since the last throttle check
        std::uint64_t                        ns        = 0;
        bool                                 throttled = false;
    };
    std::unordered_map<std::uint64_t, Key> keys_;
};

enum class RegionKind : int { region_api = 0, trace_library = 1 };

// This thread's stack of the given kind (created on first use, never freed:
// reset_regions() may stop it from another thread after this one exited).
RegionStack& this_region_stack(RegionKind kind);
// reset() on every thread's stack of the given kind.
void reset_regions(RegionKind kind);

}  // namespace tim::hooks
