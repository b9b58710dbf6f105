#include "timemory/hooks/regions.hpp"

#include <time.h>

#include <mutex>

#include "timemory/components/timing.hpp"
#include "timemory/config.hpp"

namespace tim::hooks {
namespace {

// the throttle's time is wall_clock's (the tests' fake clock included)
std::int64_t now_ns() { return static_cast<std::int64_t>(readers::wall_clock_ns()); }

constexpr int region_kinds = 2;

struct RegionRegistry {
    std::mutex                mtx;
    std::vector<RegionStack*> stacks[region_kinds];
};
RegionRegistry& region_registry() {
    static auto* reg = new RegionRegistry{};
    return *reg;
}

thread_local RegionStack* tls_stacks[region_kinds] = {};

}  // namespace

void RegionStack::push(std::uint64_t hash, std::string_view label, const int* indices, int n) {
    Key&       k       = keys_[hash];
    const bool measure = config().enabled && !k.throttled;
    if (!measure && k.depth == 0) return;
    if (k.bundles.size() <= k.depth) {
        k.bundles.push_back(std::make_unique<Bundle>());
        k.started.push_back(0);
        k.measured.push_back(0);
    }
    k.measured[k.depth] = measure;
    if (measure) {
        k.bundles[k.depth]->start(indices, n, hash, label, config().flat_profile, config().timeline_profile);
        k.started[k.depth] = now_ns();  // after the start: its bookkeeping is not the key's time
    }
    ++k.depth;
}

RegionStack::Pop RegionStack::pop(std::uint64_t hash, const ThrottleLimits* limits) {
    auto it = keys_.find(hash);
    if (it == keys_.end() || it->second.depth == 0) return Pop::none;
    Key&              k    = it->second;
    const std::size_t slot = --k.depth;
    if (!k.measured[slot]) return Pop::stopped;
    const std::int64_t elapsed = now_ns() - k.started[slot];
    k.bundles[slot]->stop();
    if (!limits || limits->count == 0) return Pop::stopped;
    ++k.pops;
    k.ns += static_cast<std::uint64_t>(elapsed > 0 ? elapsed : 0);
    if (k.pops < limits->count) return Pop::stopped;
    if (k.ns / k.pops < limits->value_ns) k.throttled = true;
    k.pops = 0;
    k.ns   = 0;
    return Pop::checked;
}

bool RegionStack::is_throttled(std::uint64_t hash) const {
    auto it = keys_.find(hash);
    return it != keys_.end() && it->second.throttled;
}

void RegionStack::reset() {
    for (auto& [hash, k] : keys_)
        while (k.depth > 0) k.bundles[--k.depth]->stop();
    keys_.clear();
}

RegionStack& this_region_stack(RegionKind kind) {
    const auto    i = static_cast<std::size_t>(kind);
    RegionStack*& s = tls_stacks[i];
    if (!s) {
        s                               = new RegionStack{};
        auto&                       reg = region_registry();
        std::lock_guard<std::mutex> lk(reg.mtx);
        reg.stacks[i].push_back(s);
    }
    return *s;
}

void reset_regions(RegionKind kind) {
    std::vector<RegionStack*> stacks;
    {
        auto&                       reg = region_registry();
        std::lock_guard<std::mutex> lk(reg.mtx);
        stacks = reg.stacks[static_cast<std::size_t>(kind)];
    }
    for (auto* s : stacks) s->reset();
}

}  // namespace tim::hooks
