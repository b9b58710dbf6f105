// The C API for native extensions (python/timemory/include/timemory/capi.h): a table of
// function pointers exported as the capsule timemory._core._C_API. Extensions reach it with
// PyCapsule_Import and never link against _core.
//
// Everything behind the table runs without the GIL, on any thread (threads Python never
// created included): it touches no Python object, each thread records into its own call
// graphs (tim::thread_data()), merged when read like any thread's. The component set comes
// from Python (timemory.region's) through capi_set_region_components, published as an
// immutable set behind an atomic pointer so that native threads read it without a lock.
#include "capi.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "compat.hpp"
#include "timemory/capi.h"
#include "timemory/components/component_info.hpp"
#include "timemory/config.hpp"
#include "timemory/storage/call_graph.hpp"

namespace timemory_python {
namespace {

// ------------------------------------------------------------------ the component set
struct ComponentSet {
    std::vector<int> indices;
};

// Every set ever published, kept: a native thread may still read one after it is replaced
// (sets are few: one per distinct choice made from Python).
struct SetRegistry {
    std::mutex                                 mtx;
    std::vector<std::unique_ptr<ComponentSet>> sets;
};
SetRegistry& set_registry() {
    static auto* reg = new SetRegistry{};  // leaked: native threads may outlive the interpreter
    return *reg;
}
std::atomic<const ComponentSet*> g_set{nullptr};

const ComponentSet* publish(std::vector<int> indices) {
    auto&                       reg = set_registry();
    std::lock_guard<std::mutex> lk(reg.mtx);
    for (const auto& s : reg.sets)
        if (s->indices == indices) return s.get();
    reg.sets.push_back(std::make_unique<ComponentSet>(ComponentSet{std::move(indices)}));
    return reg.sets.back().get();
}

const ComponentSet& current_set() {
    const ComponentSet* s = g_set.load(std::memory_order_acquire);
    if (__builtin_expect(s != nullptr, 1)) return *s;
    // before Python chose (timemory.region not imported yet): what regions measure by default
    const ComponentSet* dflt = publish({tim::find_component("wall_clock")});
    const ComponentSet* none = nullptr;
    g_set.compare_exchange_strong(none, dflt, std::memory_order_acq_rel);
    return *g_set.load(std::memory_order_acquire);
}

int g_tracker = -1;  // data_tracker_floating, set with the table

// ------------------------------------------------------------------ per-thread regions
// The regions the C API runs on one thread, newest last. Bundles are reused across pushes;
// never freed (stop_all_bundles at finalize may stop them from another thread after this
// thread exited).
struct RegionFrames {
    std::vector<std::unique_ptr<tim::Bundle>> bundles;
    std::vector<std::uint64_t>                hashes;
    std::size_t                               depth = 0;
    // the contexts entered (timemory_context_enter), newest last: per graph entered,
    // (component index, node current before, the graph's generation)
    std::vector<std::vector<std::tuple<int, std::int32_t, std::uint64_t>>> contexts;
};
thread_local RegionFrames* tls_frames = nullptr;

RegionFrames& frames() {
    if (__builtin_expect(tls_frames == nullptr, 0)) tls_frames = new RegionFrames{};
    return *tls_frames;
}

void push_hashed(std::uint64_t hash, std::string_view label) {
    auto& f = frames();
    if (f.depth == f.bundles.size()) {
        f.bundles.push_back(std::make_unique<tim::Bundle>());
        f.hashes.push_back(0);
    }
    f.hashes[f.depth] = hash;
    const auto& cfg   = tim::config();
    // while recording is off the frame is still taken, so that its pop pops the right one
    if (cfg.enabled) {
        const auto& s = current_set();
        f.bundles[f.depth]->start(s.indices.data(), static_cast<int>(s.indices.size()), hash, label, cfg.flat_profile,
                                  cfg.timeline_profile);
    }
    ++f.depth;
}

void pop_hashed(std::uint64_t hash) {
    RegionFrames* f = tls_frames;
    if (!f || f->depth == 0) return;
    std::size_t k = f->depth;
    while (k > 0 && f->hashes[k - 1] != hash) --k;
    if (k == 0) return;  // no region of that name runs on this thread
    const std::size_t slot = k - 1;
    f->bundles[slot]->stop();
    // a region popped out of order: the newer ones keep running, one slot down
    for (std::size_t i = slot; i + 1 < f->depth; ++i) {
        std::swap(f->bundles[i], f->bundles[i + 1]);
        std::swap(f->hashes[i], f->hashes[i + 1]);
    }
    --f->depth;
}

std::uint64_t hash_of(const char* name, std::string_view& label) {
    label = name ? std::string_view(name) : std::string_view();
    return tim::hash_label(label);
}

void capi_push_region(const char* name) {
    std::string_view label;
    const auto       hash = hash_of(name, label);
    push_hashed(hash, label);
}

void capi_pop_region(const char* name) {
    std::string_view label;
    pop_hashed(hash_of(name, label));
}

std::uint64_t capi_region_id(const char* name) {
    return tim::add_hash_id(name ? std::string_view(name) : std::string_view());
}

// the label of an id was registered by capi_region_id: the node needs none of its own
void capi_push_region_id(std::uint64_t id) {
    if (id) push_hashed(id, std::string_view());
}

void capi_pop_region_id(std::uint64_t id) {
    if (id) pop_hashed(id);
}

// ------------------------------------------------------------------ data trackers
// The graph whose current node is "the current region" of this thread: the first region
// component's with a node open, else any graph's with one (a Python marker measuring other
// components), else none (the value lands at the top level).
const tim::CallGraph* current_region_graph(const tim::ThreadData& td) {
    for (int index : current_set().indices) {
        const auto& g = td.graphs[static_cast<std::size_t>(index)];
        if (g && g->current() != 0) return g.get();
    }
    for (std::size_t i = 0; i < td.graphs.size(); ++i) {
        const auto& g = td.graphs[i];
        if (g && static_cast<int>(i) != g_tracker && g->current() != 0) return g.get();
    }
    return nullptr;
}

void capi_record(const char* name, double value) {
    if (!tim::config().enabled || g_tracker < 0) return;
    std::string_view label = name ? std::string_view(name) : std::string_view();
    auto&            td    = tim::thread_data();
    auto&            g     = td.graph(g_tracker);
    const auto       prev  = g.current();
    const bool       flat  = tim::config().flat_profile;
    if (!flat) {
        // the tracker's graph follows the region's path: the same nodes by hash, a context
        // entered (its placeholder path and [parallel] mark) entered here too. Only this
        // thread changes its graphs, so its own nodes are read without the lock.
        std::vector<std::uint64_t> path;
        std::size_t                context_end = 0;  // path[0, context_end) is an entered context
        if (const tim::CallGraph* src = current_region_graph(td)) {
            const auto& nodes = src->store_locked().nodes();
            for (std::int32_t at = src->current(); at > 0; at = nodes[static_cast<std::size_t>(at)].parent)
                path.push_back(nodes[static_cast<std::size_t>(at)].hash);
            std::reverse(path.begin(), path.end());
            std::size_t depth = path.size();
            for (std::int32_t at = src->current(); at > 0; at = nodes[static_cast<std::size_t>(at)].parent, --depth)
                if (nodes[static_cast<std::size_t>(at)].context) {
                    context_end = depth;
                    break;
                }
        }
        g.enter_context(path.data(), context_end);
        for (std::size_t k = context_end; k < path.size(); ++k)
            if (g.push(path[k], std::string_view(), false, false) < 0) {
                g.leave_context(prev);
                return;  // deeper than max_depth
            }
    }
    const std::int32_t node = g.push(tim::hash_label(label), label, flat, false);
    if (node >= 0) {
        const double raw[tim::max_values] = {value};
        g.record(node, raw);
    }
    g.leave_context(prev);
}

// ------------------------------------------------------------------ contexts
struct timemory_context_impl {
    std::vector<std::pair<int, std::vector<std::uint64_t>>> paths;  // per graph with a node open
};

timemory_context* capi_context_capture() {
    auto* ctx = new timemory_context_impl{};
    auto& td  = tim::thread_data();
    for (std::size_t i = 0; i < td.graphs.size(); ++i) {
        const auto& g = td.graphs[i];
        if (g && g->current() != 0) ctx->paths.emplace_back(static_cast<int>(i), g->current_path());
    }
    return reinterpret_cast<timemory_context*>(ctx);
}

void capi_context_enter(const timemory_context* context) {
    auto& f = frames();
    f.contexts.emplace_back();
    if (!context) return;
    auto& token = f.contexts.back();
    auto& td    = tim::thread_data();
    for (const auto& [index, hashes] : reinterpret_cast<const timemory_context_impl*>(context)->paths) {
        auto&              g    = td.graph(index);
        const std::int32_t prev = g.enter_context(hashes.data(), hashes.size());
        token.emplace_back(index, prev, g.generation());
    }
}

void capi_context_leave() {
    RegionFrames* f = tls_frames;
    if (!f || f->contexts.empty()) return;
    auto& td = tim::thread_data();
    for (const auto& [index, prev, generation] : f->contexts.back()) {
        auto& g = td.graph(index);
        g.leave_context(g.generation() == generation ? prev : 0);  // cleared meanwhile: its nodes are gone
    }
    f->contexts.pop_back();
}

void capi_context_release(timemory_context* context) { delete reinterpret_cast<timemory_context_impl*>(context); }

const timemory_capi_table g_table = {
    TIMEMORY_CAPI_VERSION, static_cast<std::uint32_t>(sizeof(timemory_capi_table)),
    capi_push_region,      capi_pop_region,
    capi_region_id,        capi_push_region_id,
    capi_pop_region_id,    capi_record,
    capi_context_capture,  capi_context_enter,
    capi_context_leave,    capi_context_release,
};

}  // namespace

void capi_set_region_components(const int* indices, int n) {
    // Python-defined components are read through their objects, under the GIL: not here
    std::vector<int> kept;
    const auto&      table = tim::component_table();
    for (int i = 0; i < n; ++i)
        if (!table[static_cast<std::size_t>(indices[i])].user) kept.push_back(indices[i]);
    g_set.store(publish(std::move(kept)), std::memory_order_release);
}

int add_capi(PyObject* module) {
    g_tracker = tim::find_component("data_tracker_floating");
    // the table is static and constant: the capsule names it, owning nothing
    PyObject* capsule = PyCapsule_New(const_cast<timemory_capi_table*>(&g_table), TIMEMORY_CAPI_CAPSULE, nullptr);
    if (!capsule) return -1;
    const int rc = PyModule_AddObjectRef(module, "_C_API", capsule);
    Py_DECREF(capsule);
    return rc;
}

}  // namespace timemory_python
