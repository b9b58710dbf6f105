#include "timemory/storage/timeline.hpp"

#include <pthread.h>
#include <unistd.h>

#include <cstring>
#include <unordered_set>

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
std::atomic<ThreadNamer>   g_namer{nullptr};

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
    auto* te       = new ThreadEvents{};
    te->tid        = thread_data().tid;
    te->ident      = static_cast<unsigned long>(pthread_self());
    te->generation = g_generation.load(std::memory_order_acquire);
    this_events    = te;  // first: nothing the namer does may make a second buffer
    if (ThreadNamer namer = g_namer.load(std::memory_order_acquire)) namer(*te);
    auto&                       reg = registry();
    std::lock_guard<std::mutex> lk(reg.mtx);
    reg.threads.push_back(te);
    return *te;
}

void set_thread_namer(ThreadNamer namer) { g_namer.store(namer, std::memory_order_release); }

void forget(std::int32_t tid) {
    ThreadEvents& te = this_thread_events();
    if (te.tid == tid && te.open > 0) --te.open;
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
    // a Python-defined component: its value at each stop (a level, a count) is the track
    if (__builtin_expect(info.user, 0)) return (1u << (info.n_raw < 31 ? info.n_raw : 31)) - 1u;
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
        t.recorded += static_cast<std::int64_t>(te.events.size());
        t.dropped += te.dropped.load(std::memory_order_relaxed);
        t.bytes += te.events.capacity_bytes() + te.samples.capacity_bytes();
    });
    return t;
}

}  // namespace tim::timeline

namespace tim::timeline {

namespace {
constexpr char pack_magic[8] = {'T', 'M', 'T', 'L', 'v', '1', 0, 0};

template <typename T>
void put(std::string& out, const T& v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}
void put_string(std::string& out, std::string_view s) {
    put(out, static_cast<std::uint32_t>(s.size()));
    out.append(s);
}

// Reads a packed timeline; a read past the end leaves ok false (never reads out of bounds).
struct Reader {
    std::string_view data;
    std::size_t      pos = 0;
    bool             ok  = true;

    template <typename T>
    T get() {
        T v{};
        if (!ok || data.size() - pos < sizeof(T)) {
            ok = false;
            return v;
        }
        std::memcpy(&v, data.data() + pos, sizeof(T));
        pos += sizeof(T);
        return v;
    }
    std::string get_string() {
        const auto n = get<std::uint32_t>();
        if (!ok || data.size() - pos < n) {
            ok = false;
            return {};
        }
        std::string s(data.substr(pos, n));
        pos += n;
        return s;
    }
    template <typename T>
    void get_array(std::vector<T>& out, std::uint64_t n) {
        if (!ok || n > (data.size() - pos) / sizeof(T)) {
            ok = false;
            return;
        }
        out.resize(static_cast<std::size_t>(n));
        std::memcpy(static_cast<void*>(out.data()), data.data() + pos, static_cast<std::size_t>(n) * sizeof(T));
        pos += static_cast<std::size_t>(n) * sizeof(T);
    }
};
}  // namespace

std::string pack() {
    std::string                       out(pack_magic, sizeof(pack_magic));
    std::unordered_set<std::uint64_t> hashes;
    std::int64_t                      dropped = 0;
    std::string                       body;
    std::uint32_t                     n_threads = 0;
    for_each_thread([&](const ThreadEvents& te) {
        dropped += te.dropped.load(std::memory_order_relaxed);
        std::vector<const Event*> events;
        te.events.for_each([&](const Event& ev) { events.push_back(&ev); });
        if (events.empty()) return;
        std::uint64_t n_samples = 0;
        for (const Event* ev : events) n_samples += ev->n_samples;
        ++n_threads;
        put(body, static_cast<std::int32_t>(te.tid));
        put_string(body, te.name);
        put(body, static_cast<std::uint64_t>(events.size()));
        put(body, n_samples);
        for (const Event* ev : events) {
            put(body, *ev);
            hashes.insert(ev->hash);
        }
        ChunkList<Sample>::Cursor cursor(te.samples);
        for (std::uint64_t i = 0; i < n_samples; ++i) {
            const Sample* smp = cursor.next();
            put(body, smp ? *smp : Sample{});
        }
    });
    put(out, static_cast<std::int64_t>(getpid()));
    put(out, dropped);
    put(out, n_threads);
    out += body;
    const ShownLabels labels(std::vector<std::uint64_t>(hashes.begin(), hashes.end()));
    put(out, static_cast<std::uint64_t>(hashes.size()));
    std::string label;
    for (auto h : hashes) {
        labels.label(h, label);
        put(out, h);
        put_string(out, label);
    }
    return out;
}

bool unpack(std::string_view data, Unpacked& out, std::string* error) {
    if (data.size() < sizeof(pack_magic) || std::memcmp(data.data(), pack_magic, sizeof(pack_magic)) != 0) {
        if (error) *error = "not a packed timemory timeline";
        return false;
    }
    Reader r{data, sizeof(pack_magic)};
    out.pid              = r.get<std::int64_t>();
    out.dropped          = r.get<std::int64_t>();
    const auto n_threads = r.get<std::uint32_t>();
    for (std::uint32_t t = 0; r.ok && t < n_threads; ++t) {
        Unpacked::Thread th;
        th.tid               = r.get<std::int32_t>();
        th.name              = r.get_string();
        const auto n_events  = r.get<std::uint64_t>();
        const auto n_samples = r.get<std::uint64_t>();
        r.get_array(th.events, n_events);
        r.get_array(th.samples, n_samples);
        out.threads.push_back(std::move(th));
    }
    const auto n_labels = r.get<std::uint64_t>();
    for (std::uint64_t i = 0; r.ok && i < n_labels; ++i) {
        const auto h = r.get<std::uint64_t>();
        out.labels.emplace_back(h, r.get_string());
    }
    if (!r.ok && error) *error = "a packed timemory timeline cut short";
    return r.ok;
}

}  // namespace tim::timeline
