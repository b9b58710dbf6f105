#include "timemory/storage/call_graph.hpp"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "timemory/components/perf_event.hpp"
#include "timemory/config.hpp"
#include "timemory/storage/joined.hpp"
#include "timemory/storage/timeline.hpp"

namespace tim {

// ---------------------------------------------------------------- hashing
std::uint64_t hash_label(std::string_view label) {
    std::uint64_t h = 14695981039346656037ULL;
    for (unsigned char c : label) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    // 0 marks the dummy root, so no label may hash to it
    return h == 0 ? 1 : h;
}

std::uint64_t hash_label(std::string_view label, std::string_view where) {
    if (where.empty()) return hash_label(label);
    // label, a NUL (in no label a marker can be given) and the where: a function's hash
    // never equals a label's own
    std::uint64_t h    = 14695981039346656037ULL;
    auto          feed = [&h](std::string_view s) {
        for (unsigned char c : s) {
            h ^= c;
            h *= 1099511628211ULL;
        }
    };
    feed(label);
    feed(std::string_view("\0", 1));
    feed(where);
    return h == 0 ? 1 : h;
}

namespace {
// Every label once, in registration order: its hash and where its text starts
// in one buffer (a label ends where the next starts), found through an
// open-addressing table of indices. About 20 bytes a label plus its text
// (a std::unordered_map<hash, std::string> costs 80).
//
// A function's label (the profiler's) also has a "where" ("module, line N"): its
// hash is of the label and the where, so same-named functions are different
// nodes; a view shows `label [where]` when another node of it shares the label
// (ShownLabels). The where is kept in the text right after its label, its
// length in the top bits of the label's start: no byte more per label.
struct HashDatabase {
    static constexpr int           where_shift = 48;  // text offsets stay below 2^48
    static constexpr std::uint64_t offset_mask = (std::uint64_t{1} << where_shift) - 1;
    static constexpr std::size_t   max_where   = 0xFFFF;

    // shared: the writers of one write look labels up at once (get_hash_identifier)
    std::shared_mutex          mtx;
    std::vector<std::uint64_t> hashes;  // registration order
    // starts[i]: label i in text (low 48 bits; one past the last: text.size()) and the length
    // of its where (high 16 bits), which ends the label's text
    std::vector<std::uint64_t> starts;
    std::string                text;
    std::vector<std::int32_t>  table;           // index into hashes, -1 empty; a power of two, at most half full
    std::size_t                with_where = 0;  // labels that have a where

    std::size_t home(std::uint64_t h) const {
        h ^= h >> 31;
        h *= 0x9E3779B97F4A7C15ULL;
        return static_cast<std::size_t>(h >> 32) & (table.size() - 1);
    }
    std::int32_t find(std::uint64_t h) const {
        if (table.empty()) return -1;
        for (std::size_t i = home(h);; i = (i + 1) & (table.size() - 1)) {
            const std::int32_t s = table[i];
            if (s < 0 || hashes[static_cast<std::size_t>(s)] == h) return s;
        }
    }
    void place(std::int32_t idx) {
        std::size_t i = home(hashes[static_cast<std::size_t>(idx)]);
        while (table[i] >= 0) i = (i + 1) & (table.size() - 1);
        table[i] = idx;
    }
    void add(std::uint64_t h, std::string_view label, std::string_view where = {}) {
        if (find(h) >= 0) return;  // the first label of a hash stays
        if ((hashes.size() + 1) * 2 > table.size()) {
            table.assign(table.empty() ? 1024 : table.size() * 2, -1);
            for (std::size_t i = 0; i < hashes.size(); ++i) place(static_cast<std::int32_t>(i));
        }
        where = where.substr(0, max_where);
        hashes.push_back(h);
        starts.push_back(text.size() | (static_cast<std::uint64_t>(where.size()) << where_shift));
        text.append(label);
        text.append(where);
        with_where += !where.empty();
        place(static_cast<std::int32_t>(hashes.size() - 1));
    }
    // label i and its where, one after the other in text
    std::string_view span(std::int32_t idx) const {
        const auto i     = static_cast<std::size_t>(idx);
        const auto begin = starts[i] & offset_mask;
        const auto end   = i + 1 < starts.size() ? starts[i + 1] & offset_mask : text.size();
        return std::string_view(text).substr(begin, end - begin);
    }
    std::size_t where_size(std::int32_t idx) const {
        return static_cast<std::size_t>(starts[static_cast<std::size_t>(idx)] >> where_shift);
    }
    std::string_view label_view(std::int32_t idx) const {
        const auto s = span(idx);
        return s.substr(0, s.size() - where_size(idx));
    }
    std::string      label(std::int32_t idx) const { return std::string(label_view(idx)); }
    std::string_view where(std::int32_t idx) const {
        const auto s = span(idx);
        return s.substr(s.size() - where_size(idx));
    }
};
HashDatabase& hash_db() {
    static auto* db = new HashDatabase{};  // leaked: used during interpreter teardown
    return *db;
}
}  // namespace

std::uint64_t add_hash_id(std::string_view label) {
    auto h = hash_label(label);
    add_hash_id(h, label);
    return h;
}

void add_hash_id(std::uint64_t hash, std::string_view label, std::string_view where) {
    auto&                              db = hash_db();
    std::lock_guard<std::shared_mutex> lk(db.mtx);
    db.add(hash, label, where);
}

std::string hash_where(std::uint64_t hash) {
    auto&                               db = hash_db();
    std::shared_lock<std::shared_mutex> lk(db.mtx);
    const std::int32_t                  idx = db.find(hash);
    return idx < 0 ? std::string{} : std::string(db.where(idx));
}

namespace {
// Every registered source once: about 24 bytes a function, its name's text and 8 bytes of
// table, each file's path once (a std::unordered_map<hash, HashSource> costs 130 and a path
// per function: profiled programs have tens of thousands of functions in a few hundred files).
struct SourceDatabase {
    struct Record {
        std::uint64_t hash;
        std::uint32_t file;  // index into files
        std::int32_t  line;
        std::uint32_t name_begin;  // into names
        std::uint32_t name_size;
    };
    std::mutex                                     mtx;
    std::vector<Record>                            records;  // registration order
    std::string                                    names;
    std::vector<std::string>                       files;
    std::unordered_map<std::string, std::uint32_t> file_ids;
    std::vector<std::int32_t> table;  // index into records, -1 empty; a power of two, at most half full

    std::size_t home(std::uint64_t h) const {
        h ^= h >> 31;
        h *= 0x9E3779B97F4A7C15ULL;
        return static_cast<std::size_t>(h >> 32) & (table.size() - 1);
    }
    std::int32_t find(std::uint64_t h) const {
        if (table.empty()) return -1;
        for (std::size_t i = home(h);; i = (i + 1) & (table.size() - 1)) {
            const std::int32_t s = table[i];
            if (s < 0 || records[static_cast<std::size_t>(s)].hash == h) return s;
        }
    }
    void place(std::int32_t idx) {
        std::size_t i = home(records[static_cast<std::size_t>(idx)].hash);
        while (table[i] >= 0) i = (i + 1) & (table.size() - 1);
        table[i] = idx;
    }
    void add(std::uint64_t h, std::string_view file, int line, std::string_view name, bool replace) {
        const std::int32_t known = find(h);
        if (known >= 0 && !replace) return;
        if (names.size() + name.size() > UINT32_MAX) return;  // 4 GiB of names: keep the first
        auto [it, fresh] = file_ids.try_emplace(std::string(file), static_cast<std::uint32_t>(files.size()));
        if (fresh) files.emplace_back(file);
        const Record rec{h, it->second, line, static_cast<std::uint32_t>(names.size()),
                         static_cast<std::uint32_t>(name.size())};
        names.append(name);
        if (known >= 0) {
            records[static_cast<std::size_t>(known)] = rec;
            return;
        }
        if ((records.size() + 1) * 2 > table.size()) {
            table.assign(table.empty() ? 256 : table.size() * 2, -1);
            for (std::size_t i = 0; i < records.size(); ++i) place(static_cast<std::int32_t>(i));
        }
        records.push_back(rec);
        place(static_cast<std::int32_t>(records.size() - 1));
    }
    HashSource get(std::int32_t idx) const {
        const auto& r = records[static_cast<std::size_t>(idx)];
        return {r.hash, files[r.file], r.line, names.substr(r.name_begin, r.name_size)};
    }
};
SourceDatabase& source_db() {
    static auto* db = new SourceDatabase{};  // leaked: used during interpreter teardown
    return *db;
}
}  // namespace

void add_hash_source(std::uint64_t hash, std::string_view file, int line, std::string_view name, bool replace) {
    auto&                       db = source_db();
    std::lock_guard<std::mutex> lk(db.mtx);
    db.add(hash, file, line, name, replace);
}

bool hash_source(std::uint64_t hash, HashSource& out) {
    auto&                       db = source_db();
    std::lock_guard<std::mutex> lk(db.mtx);
    const std::int32_t          idx = db.find(hash);
    if (idx < 0) return false;
    out = db.get(idx);
    return true;
}

bool hash_source(std::uint64_t hash, std::string& file, int& line) {
    HashSource src;
    if (!hash_source(hash, src)) return false;
    file = std::move(src.file);
    line = src.line;
    return true;
}

std::vector<HashSource> hash_sources() {
    auto&                       db = source_db();
    std::lock_guard<std::mutex> lk(db.mtx);
    std::vector<HashSource>     out;
    out.reserve(db.records.size());
    for (std::size_t i = 0; i < db.records.size(); ++i) out.push_back(db.get(static_cast<std::int32_t>(i)));
    return out;
}

std::unordered_set<std::uint64_t> to_disambiguate(const std::vector<LabelIdentity>& ids) {
    // per label: the first identity seen, and whether a second one was
    struct Seen {
        std::uint64_t hash;
        bool          shared;
    };
    std::unordered_map<std::uint64_t, Seen> by_label;
    by_label.reserve(ids.size());
    for (const auto& id : ids) {
        auto [it, fresh] = by_label.try_emplace(id.label_hash, Seen{id.hash, false});
        if (!fresh && it->second.hash != id.hash) it->second.shared = true;
    }
    std::unordered_set<std::uint64_t> out;
    for (const auto& id : ids)
        if (id.has_where && by_label.at(id.label_hash).shared) out.insert(id.hash);
    return out;
}

bool any_where() {
    auto&                               db = hash_db();
    std::shared_lock<std::shared_mutex> lk(db.mtx);
    return db.with_where > 0;
}

ShownLabels::ShownLabels(const std::vector<std::uint64_t>& hashes) {
    std::vector<LabelIdentity> ids;
    {
        auto&                              db = hash_db();
        std::lock_guard<std::shared_mutex> lk(db.mtx);
        if (db.with_where == 0) return;  // no function's node anywhere: every label is its identity
        std::unordered_set<std::uint64_t> seen;
        seen.reserve(hashes.size());
        for (auto h : hashes) {
            if (h == 0 || !seen.insert(h).second) continue;
            const std::int32_t idx = db.find(h);
            if (idx < 0) continue;
            ids.push_back({h, hash_label(db.label_view(idx)), !db.where(idx).empty()});
        }
        for (auto h : to_disambiguate(ids)) where_.emplace(h, std::string(db.where(db.find(h))));
    }
}

void ShownLabels::label(std::uint64_t hash, std::string& out) const {
    std::int32_t hint = -1;
    label(hash, out, hint);
}

bool ShownLabels::label(std::uint64_t hash, std::string& out, std::int32_t& hint) const {
    const bool known = get_hash_identifier(hash, out, hint);
    if (where_.empty()) return known;
    auto it = where_.find(hash);
    if (it != where_.end()) out.append(" [").append(it->second).append("]");
    return known;
}

std::string_view plain_label(std::string_view shown, std::string_view where) {
    if (where.empty() || shown.size() < where.size() + 3) return shown;
    const std::size_t at = shown.size() - where.size() - 3;
    if (shown.substr(at, 2) == " [" && shown.substr(at + 2, where.size()) == where && shown.back() == ']')
        return shown.substr(0, at);
    return shown;
}

std::string get_hash_identifier(std::uint64_t hash) {
    auto&                               db = hash_db();
    std::shared_lock<std::shared_mutex> lk(db.mtx);
    const std::int32_t                  idx = db.find(hash);
    return idx < 0 ? std::string{} : db.label(idx);
}

void get_hash_identifier(std::uint64_t hash, std::string& out) {
    auto&                               db = hash_db();
    std::shared_lock<std::shared_mutex> lk(db.mtx);
    const std::int32_t                  idx = db.find(hash);
    if (idx < 0) out.clear();
    else out.assign(db.label_view(idx));
}

bool get_hash_identifier(std::uint64_t hash, std::string& out, std::int32_t& hint) {
    auto&                               db = hash_db();
    std::shared_lock<std::shared_mutex> lk(db.mtx);
    const auto                          next = static_cast<std::size_t>(hint + 1);  // hint >= -1
    const std::int32_t                  idx =
        next < db.hashes.size() && db.hashes[next] == hash ? static_cast<std::int32_t>(next) : db.find(hash);
    if (idx < 0) {
        out.clear();
        return false;
    }
    hint = idx;
    out.assign(db.label_view(idx));
    return true;
}

void get_identifier_at(std::int32_t idx, std::string& out) {
    auto&                               db = hash_db();
    std::shared_lock<std::shared_mutex> lk(db.mtx);
    if (idx < 0 || static_cast<std::size_t>(idx) >= db.hashes.size()) out.clear();
    else out.assign(db.label_view(idx));
}

std::vector<std::pair<std::uint64_t, std::string>> hash_ids() {
    auto&                                              db = hash_db();
    std::lock_guard<std::shared_mutex>                 lk(db.mtx);
    std::vector<std::pair<std::uint64_t, std::string>> out;
    out.reserve(db.hashes.size());
    for (std::size_t i = 0; i < db.hashes.size(); ++i)
        out.emplace_back(db.hashes[i], db.label(static_cast<std::int32_t>(i)));
    return out;
}

// ---------------------------------------------------------------- call graph
CallGraph::CallGraph(const ComponentInfo* info)
    : info_(info), scalar_(is_scalar_delta(*info) && !info->hw_counter), store_(*info) {
    store_.push_back(Node{});
}

std::int32_t CallGraph::push_slow(std::uint64_t hash, std::string_view label, bool flat, bool timeline) {
    const std::int32_t parent = flat ? 0 : current_;
    Node&              pnode  = store_.node(parent);
    const std::int32_t depth  = pnode.depth + 1;
    if (!flat && depth > config().max_depth) return -1;
    if (!timeline) {
        if (pnode.last_child >= 0 && pnode.last_child_hash == hash) return current_ = pnode.last_child;
        const std::int32_t found = lookup_.find(store_.nodes(), parent, hash);
        if (found >= 0) {
            pnode.last_child_hash = hash;
            pnode.last_child      = found;
            return current_       = found;
        }
    }
    // under `hash`: a function's node was registered with its where by the profiler, and
    // every other caller's hash is hash_label(label)
    add_hash_id(hash, label);
    std::lock_guard<std::shared_mutex> lk(structure_);
    Node                               node;
    node.hash              = hash;
    node.parent            = parent;
    node.depth             = depth;
    node.unique            = timeline;
    node.remote            = pnode.context;
    const std::int32_t idx = store_.push_back(node);  // may reallocate: pnode is not used past here
    if (!timeline) {
        lookup_.insert(store_.nodes(), idx);
        store_.node(parent).last_child_hash = hash;
        store_.node(parent).last_child      = idx;
    }
    return current_ = idx;
}

std::int32_t CallGraph::enter_context(const std::uint64_t* hashes, std::size_t n) {
    const std::int32_t prev = current_;
    std::int32_t       at   = 0;
    for (std::size_t k = 0; k < n; ++k) {
        std::int32_t found = lookup_.find(store_.nodes(), at, hashes[k]);
        if (found < 0) {
            std::lock_guard<std::shared_mutex> lk(structure_);
            Node                               node;
            node.hash   = hashes[k];
            node.parent = at;
            node.depth  = store_.node(at).depth + 1;
            found       = store_.push_back(node);
            lookup_.insert(store_.nodes(), found);
        }
        at = found;
    }
    // A task run by the thread that submitted it, where it submitted it (an executor that runs
    // it inline), is not parallel work: its nodes are that thread's own children, subtracted
    // from their parent as any. Only a path entered from elsewhere makes its nodes remote.
    if (at != 0 && at != prev && !store_.node(at).context) {
        std::lock_guard<std::shared_mutex> lk(structure_);
        store_.node(at).context = true;
    }
    current_ = at;
    return prev;
}

std::vector<std::uint64_t> CallGraph::current_path() const {
    std::vector<std::uint64_t> path;
    for (std::int32_t at = current_; at > 0; at = store_.node(at).parent) path.push_back(store_.node(at).hash);
    std::reverse(path.begin(), path.end());
    return path;
}

bool CallGraph::empty() const {
    std::shared_lock<std::shared_mutex> lk(structure_);
    return store_.size() <= 1;
}

std::size_t CallGraph::size() const {
    std::shared_lock<std::shared_mutex> lk(structure_);
    return store_.size() - 1;
}

void CallGraph::clear() {
    std::lock_guard<std::shared_mutex> lk(structure_);
    // capacity kept: a thread still recording into the old nodes (its bundle
    // skips them by generation) must not touch freed memory
    store_.truncate(0);
    store_.push_back(Node{});
    current_ = 0;
    lookup_.clear();
    ++generation_;
}

NodeStore CallGraph::copy() const {
    std::shared_lock<std::shared_mutex> lk(structure_);
    return store_;
}

std::vector<Node> CallGraph::copy_nodes() const {
    std::shared_lock<std::shared_mutex> lk(structure_);
    return store_.nodes();
}

void interval_value(const ComponentInfo& info, const double* start, const double* stop, double* out) {
    switch (info.combine) {
        case Combine::delta:
            for (int i = 0; i < info.n_raw; ++i) out[i] = stop[i] - start[i];
            break;
        case Combine::abs_pair:
            out[0] = start[0];
            out[1] = stop[0];
            break;
        case Combine::trip:
            for (int i = 0; i < info.n_raw; ++i) out[i] = 1.0;
            break;
        case Combine::last:
        case Combine::sum:
        case Combine::maximum:
        case Combine::minimum:
        case Combine::latest:
            for (int i = 0; i < info.n_raw; ++i) out[i] = stop[i];
            break;
    }
}

// ---------------------------------------------------------------- threads
namespace {
struct ThreadRegistry {
    std::mutex               mtx;
    std::vector<ThreadData*> threads;  // never freed: a thread's data outlives the thread
};
ThreadRegistry& registry() {
    static auto* reg = new ThreadRegistry{};
    return *reg;
}
// initial-exec: a direct %fs-relative load instead of a __tls_get_addr call
// on every marker; one pointer of static TLS is always available.
thread_local ThreadData* this_thread __attribute__((tls_model("initial-exec"))) = nullptr;
}  // namespace

ThreadData& thread_data() {
    if (this_thread) return *this_thread;
    auto* td = new ThreadData{};
    td->graphs.resize(static_cast<std::size_t>(component_count()));
    auto&                       reg = registry();
    std::lock_guard<std::mutex> lk(reg.mtx);
    td->tid = static_cast<int>(reg.threads.size());
    reg.threads.push_back(td);
    return *(this_thread = td);
}

CallGraph& ThreadData::create_graph(int index) {
    auto*                       g = new CallGraph(&component_table()[static_cast<std::size_t>(index)]);
    std::lock_guard<std::mutex> lk(registry().mtx);  // readers iterate graphs under this lock
    graphs[static_cast<std::size_t>(index)].reset(g);
    return *g;
}

std::vector<ThreadData*> all_thread_data() {
    auto&                       reg = registry();
    std::lock_guard<std::mutex> lk(reg.mtx);
    return reg.threads;
}

int thread_count() {
    auto&                       reg = registry();
    std::lock_guard<std::mutex> lk(reg.mtx);
    return static_cast<int>(reg.threads.size());
}

// ---------------------------------------------------------------- bundles
Bundle::~Bundle() { stop(); }

void Bundle::start(const int* indices, int n, std::uint64_t hash, std::string_view label, bool flat, bool timeline) {
    if (running_) stop();
    auto& td = thread_data();
    owner_   = &td;
    n_       = n;
    if (n > inline_capacity) heap_.reset(new Measurement[static_cast<std::size_t>(n)]);
    Measurement*         m     = data();
    const auto&          table = component_table();
    int                  hw    = 0;
    readers::PlanBuilder plan;
    for (int i = 0; i < n; ++i) {
        auto& g         = td.graph(indices[i]);
        m[i].graph      = &g;
        m[i].prev       = g.current();
        m[i].node       = g.push(hash, label, flat, timeline);
        m[i].generation = g.generation();
        hw += g.info().hw_counter;
        plan.add(g.info().rusage_use, g.info().read_shared != nullptr);
    }
    hw_n_ = static_cast<std::uint16_t>(hw);
    plan_ = plan.plan();
    if (hw) perf::add_running(hw);  // before the readings: the events must not change under them
    // off: one load and a branch predicted not taken
    timeline_ = timeline::recording();
    if (__builtin_expect(timeline_, 0)) begin_event(hash, indices, n);
    // readings last, so the bookkeeping above is not part of the measurement
    if (plan_.shared) {
        readers::EventReads ev(plan_);  // the event's shared kernel reads
        for (int i = 0; i < n; ++i) start_reading(table[static_cast<std::size_t>(indices[i])], m[i].start, ev);
    } else {
        for (int i = 0; i < n; ++i) start_reading(table[static_cast<std::size_t>(indices[i])], m[i].start);
    }
    next_link_ = td.running;
    prev_link_ = nullptr;
    if (td.running) td.running->prev_link_ = this;
    td.running = this;
    running_   = true;
}

void Bundle::stop() {
    if (!running_) return;
    Measurement*                          m = data();
    double                                inline_stop[inline_capacity][max_values];
    std::unique_ptr<double[][max_values]> heap_stop;
    double (*stop)[max_values] = inline_stop;
    if (n_ > inline_capacity) {
        heap_stop.reset(new double[static_cast<std::size_t>(n_)][max_values]);
        stop = heap_stop.get();
    }
    if (plan_.shared) {
        readers::EventReads ev(plan_);  // the event's shared kernel reads
        for (int i = 0; i < n_; ++i) stop_reading(m[i].graph->info(), m[i].start, stop[i], ev);
    } else {
        for (int i = 0; i < n_; ++i) stop_reading(m[i].graph->info(), m[i].start, stop[i]);
    }
    if (__builtin_expect(timeline_, 0)) end_event(stop);
    for (int i = 0; i < n_; ++i) {
        auto& g = *m[i].graph;
        if (m[i].generation != g.generation()) continue;
        if (m[i].node >= 0 && !no_value(g.info(), stop[i])) {
            double value[max_values];
            interval_value(g.info(), m[i].start, stop[i], value);
            g.record(m[i].node, value);
        }
        g.pop(m[i].node, m[i].prev);
    }
    if (prev_link_) prev_link_->next_link_ = next_link_;
    else owner_->running = next_link_;
    if (next_link_) next_link_->prev_link_ = prev_link_;
    prev_link_ = next_link_ = nullptr;
    running_                = false;
    if (hw_n_) perf::add_running(-static_cast<std::int64_t>(hw_n_));
    hw_n_ = 0;
}

void Bundle::begin_event(std::uint64_t hash, const int* indices, int n) {
    tl_hash_  = hash;
    tl_depth_ = timeline::open_depth();
    // the time of the event: wall_clock's own start reading when the bundle has it (the
    // same number, so the event lasts exactly what wall_clock recorded: end_event takes
    // it), else read now, before the components' readings
    const int wc = timeline::wall_clock_index();
    for (int i = 0; i < n; ++i)
        if (indices[i] == wc) return;
    tl_begin_ = timeline::now_ns();
}

void Bundle::end_event(const double (*stop)[max_values]) {
    timeline_      = false;
    Measurement* m = data();
    // the storage was cleared since the start (timemory.clear(), a forked child that inherited
    // the running marker): the event goes as the call graph's interval goes
    if (n_ > 0 && m[0].generation != m[0].graph->generation()) return timeline::forget(owner_ ? owner_->tid : 0);
    const int       wc = timeline::wall_clock_index();
    timeline::Event ev;
    ev.begin_ns = tl_begin_;
    ev.end_ns   = -1.0;
    ev.hash     = tl_hash_;
    ev.tid      = owner_ ? owner_->tid : 0;
    ev.depth    = tl_depth_;
    timeline::SampleBuffer samples;
    for (int i = 0; i < n_; ++i) {
        const auto& info = m[i].graph->info();
        if (info.index == wc) {
            ev.begin_ns = m[i].start[0];
            ev.end_ns   = stop[i][0];
        } else {
            timeline::add_samples(info, stop[i], samples);
        }
    }
    if (ev.end_ns < 0.0) ev.end_ns = timeline::now_ns();
    ev.n_samples = static_cast<std::uint16_t>(samples.size() > 65535 ? 65535 : samples.size());
    timeline::record(ev, samples.data(), ev.n_samples);
}

void stop_all_bundles() {
    for (auto* td : all_thread_data())
        while (td->running) td->running->stop();
}

void forget_other_threads_bundles() {
    // only the forking thread exists: no lock (another thread of the parent may have held it)
    for (auto* td : registry().threads) {
        if (td == this_thread) continue;
        for (Bundle* b = td->running; b; b = b->next_link_) {
            if (b->hw_n_) perf::add_running(-static_cast<std::int64_t>(b->hw_n_));
            b->hw_n_ = 0;
        }
    }
}

namespace {
[[maybe_unused]] const bool g_fork_handler = [] {
    pthread_atfork(nullptr, nullptr, forget_other_threads_bundles);
    return true;
}();
}  // namespace

}  // namespace tim
