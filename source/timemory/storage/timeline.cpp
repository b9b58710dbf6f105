#include "timemory/storage/timeline.hpp"

#include <pthread.h>

#include <vector>

#include "timemory/components/component_info.hpp"
#include "timemory/components/procfs.hpp"
#include "timemory/components/timing.hpp"
#include "timemory/storage/call_graph.hpp"

namespace tim::timeline {

namespace {
struct Registry {
    std::mutex                 mtx;
    std::vector<ThreadEvents*> threads;  // never freed: read after their thread exits
};
Registry& registry() {
    static auto* reg = new Registry{};
    return *reg;
}
// The process's budget: events granted to threads since the last clear, and that clear.
std::atomic<std::int64_t>  g_granted{0};
std::atomic<std::uint64_t> g_generation{1};
// Events a thread takes from the budget at once: the shared counter is touched once per
// this many events, not per event (the threads do not contend on it).
constexpr std::int64_t grant_size = 256;

thread_local ThreadEvents* this_events __attribute__((tls_model("initial-exec"))) = nullptr;

// Takes up to grant_size events from the budget; false when it is spent.
bool refill(ThreadEvents& te) {
    const std::int64_t cap   = config().timeline_max_events;
    std::int64_t       taken = g_granted.load(std::memory_order_relaxed);
    for (;;) {
        const std::int64_t left = cap - taken;
        if (left <= 0) return false;
        const std::int64_t n = left < grant_size ? left : grant_size;
        if (g_granted.compare_exchange_weak(taken, taken + n, std::memory_order_relaxed)) {
            te.quota = n;
            return true;
        }
    }
}

// The owner, after a clear: its buffer starts again empty (under its lock: a reader may be
// walking it).
void renew(ThreadEvents& te, std::uint64_t generation) {
    std::lock_guard<std::mutex> lk(te.mtx);
    te.events.reset();
    te.samples.reset();
    te.dropped.store(0, std::memory_order_relaxed);
    te.quota      = 0;
    te.generation = generation;
}

}  // namespace

ThreadEvents& this_thread_events() {
    if (this_events) return *this_events;
    auto* te                        = new ThreadEvents{};
    te->tid                         = thread_data().tid;
    te->ident                       = static_cast<unsigned long>(pthread_self());
    te->generation                  = g_generation.load(std::memory_order_acquire);
    auto&                       reg = registry();
    std::lock_guard<std::mutex> lk(reg.mtx);
    reg.threads.push_back(te);
    return *(this_events = te);
}

void record(const Event& ev, const Sample* samples, int n) {
    ThreadEvents& te = this_thread_events();
    if (te.tid == ev.tid && te.open > 0) --te.open;
    const std::uint64_t gen = g_generation.load(std::memory_order_acquire);
    if (te.generation != gen) renew(te, gen);
    if (te.quota <= 0 && !refill(te)) {
        te.dropped.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    --te.quota;
    // the samples first: a reader that sees the event sees them
    for (int i = 0; i < n; ++i) te.samples.append(samples[i], te.mtx);
    te.events.append(ev, te.mtx);
}

unsigned sampled_values(const ComponentInfo& info) {
    // computed at each stop, not cached: the hardware counters' values follow papi_events
    if (!info.read || info.combine != Combine::delta) return 0;
    // a display function makes other values of the readings (a rate, a percentage) but the
    // I/O components' first value, the bytes, is their first reading
    const bool as_read = !info.display || info.display == readers::display_io_rate;
    if (!as_read) return 0;
    unsigned mask = 0;
    for (int k = 0; k < info.n_raw && k < info.n_disp && k < static_cast<int>(info.units.size()) && k < 32; ++k) {
        const Unit u = info.units[static_cast<std::size_t>(k)];
        if (u == Unit::memory || u == Unit::count || u == Unit::none) mask |= 1u << k;
    }
    return mask;
}

int wall_clock_index() {
    static const int index = find_component("wall_clock");
    return index;
}

double now_ns() { return readers::wall_clock_ns(); }

void clear() {
    g_generation.fetch_add(1, std::memory_order_acq_rel);
    g_granted.store(0, std::memory_order_relaxed);
    if (this_events) renew(*this_events, g_generation.load(std::memory_order_acquire));
}

void for_each_thread(const std::function<void(const ThreadEvents&)>& visit) {
    std::vector<ThreadEvents*> threads;
    {
        auto&                       reg = registry();
        std::lock_guard<std::mutex> lk(reg.mtx);
        threads = reg.threads;
    }
    const std::uint64_t gen = g_generation.load(std::memory_order_acquire);
    for (auto* te : threads) {
        std::lock_guard<std::mutex> lk(te->mtx);
        if (te->generation != gen) continue;  // cleared: its owner has not recorded since
        visit(*te);
    }
}

Totals totals() {
    Totals t;
    for_each_thread([&](const ThreadEvents& te) {
        te.events.for_each([&](const Event&) { ++t.recorded; });
        t.dropped += te.dropped.load(std::memory_order_relaxed);
        t.bytes += te.events.capacity_bytes() + te.samples.capacity_bytes();
    });
    return t;
}

}  // namespace tim::timeline
