#include "timemory/output/exports.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "timemory/components/component_info.hpp"
#include "timemory/config.hpp"
#include "timemory/storage/entry.hpp"

namespace tim {
namespace {

Unit unit_of(const ComponentInfo& info, int k) {
    return static_cast<std::size_t>(k) < info.units.size() ? info.units[static_cast<std::size_t>(k)] : Unit::none;
}

// One exported value: display value k of the component in column `column` of the walk.
struct Metric {
    std::size_t column = 0;
    int         k      = 0;
    Unit        unit   = Unit::none;
    std::string name;  // "wall_clock", or "network_stats rx_bytes" for a component of several values
};

// Whether value k of a node holds its children's values plus its own: a difference of
// readings taken at its start and its stop (time, memory, counts); not a rate, a percentage,
// a reading or a timestamp (additive), nor a count of the node's own calls (trip_count) or
// data handed to the node (the data trackers), which have no reader. A Python-defined
// component nests when its rule is a sum (its self value is then its own, as in the tables).
bool nests(const ComponentInfo& info, int k) {
    if (info.user) return info.combine == Combine::sum;
    return additive(info, k) && info.combine == Combine::delta && info.read != nullptr;
}

// The values that nest, in column order: the only ones a flame graph or a callgrind cost
// can show.
std::vector<Metric> metrics_of(const JoinSource& src) {
    std::vector<Metric> out;
    const auto          indices = src.indices();
    const auto&         table   = component_table();
    for (std::size_t c = 0; c < indices.size(); ++c) {
        if (indices[c] < 0 || static_cast<std::size_t>(indices[c]) >= table.size()) continue;
        const auto& info = table[static_cast<std::size_t>(indices[c])];
        const int   n    = std::min(info.n_disp, max_values);
        for (int k = 0; k < n; ++k) {
            if (!nests(info, k)) continue;
            Metric m{c, k, unit_of(info, k), info.key};
            if (n > 1 && static_cast<std::size_t>(k) < info.sub_labels.size()) {
                std::string_view sub = info.sub_labels[static_cast<std::size_t>(k)];
                while (!sub.empty() && sub.front() == ' ') sub.remove_prefix(1);
                m.name += ' ';
                m.name += sub.empty() ? std::to_string(k) : std::string(sub);
            } else if (n > 1) {
                m.name += ' ' + std::to_string(k);
            }
            out.push_back(std::move(m));
        }
    }
    return out;
}

// A node's value of a metric in its base unit; a negative or non-finite one counts as 0 (a
// flame graph has no negative widths, a callgrind cost no sign).
double value_of(const Entry* e, const Metric& m) {
    if (!e) return 0.0;
    const double v = e->stats.sum[m.k];
    return std::isfinite(v) && v > 0.0 ? v : 0.0;
}

std::int64_t laps_of(const JoinedRow& row) {
    for (const auto* e : row.inclusive)
        if (e) return e->laps;
    return 0;
}

// Which thread view a row belongs to: the walk gives the rows of one view together, a new one
// starting at a top-level row of another rank or (threads not collapsed) another thread.
struct ViewKey {
    int  rank = 0;
    int  tid  = 0;
    bool operator==(const ViewKey& o) const { return rank == o.rank && tid == o.tid; }
};

ViewKey view_key(const JoinedRow& row, bool collapsed) { return {row.rank, collapsed ? 0 : row.tid}; }

// "thread 2", "all threads" (threads collapsed), "rank 1, thread 0" (several ranks).
std::string view_text(const ViewKey& key, bool collapsed, bool ranks) {
    std::string out;
    if (ranks) out = "rank " + std::to_string(key.rank) + ", ";
    out += collapsed ? std::string("all threads") : "thread " + std::to_string(key.tid);
    return out;
}

// A map of 64-bit keys to 32-bit values in two arrays (open addressing, linear probing, at
// most 3/4 full): a graph of a million functions costs some 20 bytes each, not the 40 and more
// of std::unordered_map's nodes and buckets.
class FlatIndex {
public:
    static constexpr std::uint32_t none = 0xffffffffU;

    // The value of `key`, or none.
    std::uint32_t find(std::uint64_t key) const {
        if (vals_.empty()) return none;
        for (std::size_t i = slot(key);; i = (i + 1) & (vals_.size() - 1)) {
            if (vals_[i] == none) return none;
            if (keys_[i] == key) return vals_[i];
        }
    }
    // Stores `value` for `key`, which has none.
    void add(std::uint64_t key, std::uint32_t value) {
        if ((size_ + 1) * 4 > vals_.size() * 3) grow();
        std::size_t i = slot(key);
        while (vals_[i] != none) i = (i + 1) & (vals_.size() - 1);
        keys_[i] = key;
        vals_[i] = value;
        ++size_;
    }
    void clear() {
        std::vector<std::uint64_t>().swap(keys_);
        std::vector<std::uint32_t>().swap(vals_);
        size_ = 0;
    }

private:
    std::size_t slot(std::uint64_t key) const {
        key ^= key >> 31;
        key *= 0x9E3779B97F4A7C15ULL;
        return static_cast<std::size_t>(key >> 17) & (vals_.size() - 1);
    }
    void grow() {
        std::vector<std::uint64_t> keys;
        std::vector<std::uint32_t> vals;
        keys.swap(keys_);
        vals.swap(vals_);
        const std::size_t n = vals.empty() ? 64 : vals.size() * 2;
        keys_.assign(n, 0);
        vals_.assign(n, none);
        for (std::size_t j = 0; j < vals.size(); ++j) {
            if (vals[j] == none) continue;
            std::size_t i = slot(keys[j]);
            while (vals_[i] != none) i = (i + 1) & (n - 1);
            keys_[i] = keys[j];
            vals_[i] = vals[j];
        }
    }

    std::vector<std::uint64_t> keys_;
    std::vector<std::uint32_t> vals_;  // none: an empty slot
    std::size_t                size_ = 0;
};

// FNV-1a, continued from `h`.
std::uint64_t fnv(std::uint64_t h, std::string_view s) {
    for (const unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

// The functions of the walk: one per distinct label + file + line (where the profiler or
// tracer registered the code, hash_source); a hash whose code is unknown (a marker, a region,
// trees from another process) is a function of its own. With `keep_names` the names are kept
// in one buffer (speedscope writes them after the profiles); without, only a hash of each
// (callgrind writes a name where the function first appears). A function costs some 50 bytes
// besides its name.
class Functions {
public:
    explicit Functions(bool keep_names) : keep_names_(keep_names) {}

    // The function of `row`'s node; `added`: it is new.
    std::uint32_t id(const JoinedRow& row, bool* added = nullptr) {
        if (added) *added = false;
        if (const auto got = by_hash_.find(row.hash); got != FlatIndex::none) return got;
        const auto          next  = static_cast<std::uint32_t>(list_.size());
        const std::uint64_t label = fnv(kBasis, row.label);
        Info info{keep_names_ ? names_.size() : label, static_cast<std::uint32_t>(row.label.size()), 0, 0};
        if (hash_source(row.hash, file_buf_, info.line) && !file_buf_.empty()) {
            info.file = file_index(file_buf_);
            // the same code under another hash (another "where" of the label) is the same function
            std::uint64_t place = label;
            place ^= (static_cast<std::uint64_t>(info.file) << 32) ^ static_cast<std::uint32_t>(info.line);
            place *= 1099511628211ULL;
            const auto same = by_place_.find(place);
            if (same != FlatIndex::none && same_label(same, row.label, label) && list_[same].file == info.file &&
                list_[same].line == info.line) {
                by_hash_.add(row.hash, same);
                return same;
            }
            if (same == FlatIndex::none) by_place_.add(place, next);
        } else {
            info.line = 0;
        }
        by_hash_.add(row.hash, next);
        if (keep_names_) names_.append(row.label.data(), row.label.size());
        list_.push_back(info);
        if (added) *added = true;
        return next;
    }
    // A function of no hash: the root a callgrind part gives its top-level calls.
    std::uint32_t add_named(std::string_view name) {
        const auto next = static_cast<std::uint32_t>(list_.size());
        list_.push_back(
            {keep_names_ ? names_.size() : fnv(kBasis, name), static_cast<std::uint32_t>(name.size()), 0, 0});
        if (keep_names_) names_.append(name.data(), name.size());
        return next;
    }
    std::size_t size() const { return list_.size(); }
    // The name (kept names only).
    std::string_view name(std::uint32_t id) const {
        const auto& f = list_[id];
        return std::string_view(names_).substr(f.name, f.name_len);
    }
    // The function's file: its index among the files (0: unknown, "") and its name.
    std::uint32_t      file_id(std::uint32_t id) const { return list_[id].file; }
    const std::string& file(std::uint32_t id) const { return files_[list_[id].file]; }
    int                line(std::uint32_t id) const { return list_[id].line; }  // 0: unknown

private:
    static constexpr std::uint64_t kBasis = 14695981039346656037ULL;

    struct Info {
        std::uint64_t name;  // where in names_ (kept names), else the name's hash
        std::uint32_t name_len;
        std::uint32_t file;
        int           line;
    };

    bool same_label(std::uint32_t id, std::string_view label, std::uint64_t hash) const {
        return keep_names_ ? name(id) == label : list_[id].name == hash && list_[id].name_len == label.size();
    }

    std::uint32_t file_index(const std::string& file) {
        const std::uint64_t key = fnv(kBasis, file);
        const auto          got = file_ids_.find(key);
        if (got != FlatIndex::none && files_[got] == file) return got;
        const auto id = static_cast<std::uint32_t>(files_.size());
        files_.push_back(file);
        if (got == FlatIndex::none) file_ids_.add(key, id);  // else two files of one hash: kept apart
        return id;
    }

    bool                     keep_names_;
    FlatIndex                by_hash_, by_place_, file_ids_;
    std::string              names_;  // every function's name, one after the other (kept names)
    std::vector<Info>        list_;
    std::vector<std::string> files_{std::string()};
    std::string              file_buf_;
};

void append_int(std::string& out, long long v) {
    char buf[24];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

void append_uint(std::string& out, unsigned long long v) {
    char buf[24];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

// A JSON number: integers (what clocks in ns and bytes are) without a fraction, others in the
// shortest form that reads back the same.
void append_number(std::string& out, double v) {
    if (v == std::floor(v) && std::fabs(v) < 9.0e15) append_int(out, static_cast<long long>(v));
    else json_number(out, v, false);
}

// ---------------------------------------------------------------- speedscope

const char* speedscope_unit(Unit u) {
    switch (u) {
        case Unit::timing: return "nanoseconds";
        case Unit::memory: return "bytes";
        default: return "none";
    }
}

// Whether the profile names carry the rank: trees of several ranks, or a live rank past 0.
bool several_ranks(const JoinSource& src) {
    if (src.loaded.empty()) return src.rank != 0;
    for (const auto& l : src.loaded)
        if (l.ranks.size() > 1) return true;
    return false;
}

// The evented profiles of one metric, a profile per thread view, written as the walk goes.
class ProfileWriter {
public:
    ProfileWriter(Out& out, Functions& fns, const Metric& m, bool collapsed, bool ranks, bool& first_profile)
        : out_(out), fns_(fns), m_(m), collapsed_(collapsed), ranks_(ranks), first_profile_(first_profile) {}

    void row(const JoinedRow& row) {
        const auto key = view_key(row, collapsed_);
        if (!in_view_ || (row.parent < 0 && !(key == key_))) {
            finish();
            key_        = key;
            in_view_    = true;
            top_        = 0.0;
            skip_depth_ = -1;
        }
        while (!stack_.empty() && stack_.back().depth >= row.depth) close();
        if (skip_depth_ >= 0) {
            if (row.depth > skip_depth_) return;
            skip_depth_ = -1;
        }
        const Entry* e = m_.column < row.inclusive.size() ? row.inclusive[m_.column] : nullptr;
        if (!e) {  // this component has no such node: nor any below it
            skip_depth_ = row.depth;
            return;
        }
        if (!open_) begin();  // the view's first node of this component: no profile without one
        const double v     = value_of(e, m_);
        const double start = stack_.empty() ? top_ : stack_.back().cursor;
        double       end   = start + v;
        if (stack_.empty()) {
            top_ = end;
        } else {
            // a child never ends past its parent: the children of a node whose values add up
            // to more than its own (jitter, a clamped negative) are cut at its end
            end                  = std::min(end, stack_.back().end);
            stack_.back().cursor = end;
        }
        const std::uint32_t frame = fns_.id(row);
        event('O', frame, start);
        stack_.push_back({frame, row.depth, end, start});
        out_.step();
    }

    void finish() {
        if (!open_) return;
        while (!stack_.empty()) close();
        out_.buf += "],\"startValue\":0,\"endValue\":";
        append_number(out_.buf, top_);
        out_.buf += '}';
        open_ = false;
        out_.step();
    }

private:
    struct Open {
        std::uint32_t frame;
        int           depth;
        double        end;
        double        cursor;  // where the next child starts
    };

    void begin() {
        open_            = true;
        std::string name = m_.name;
        name += " \xe2\x80\x94 ";  // an em dash
        name += view_text(key_, collapsed_, ranks_);
        name += " (call graph, not a timeline)";
        if (!first_profile_) out_.buf += ',';
        first_profile_ = false;
        out_.buf += "{\"type\":\"evented\",\"name\":";
        json_escape(out_.buf, name);
        out_.buf += ",\"unit\":\"";
        out_.buf += speedscope_unit(m_.unit);
        out_.buf += "\",\"events\":[";
        first_event_ = true;
    }

    void close() {
        event('C', stack_.back().frame, stack_.back().end);
        stack_.pop_back();
    }

    void event(char type, std::uint32_t frame, double at) {
        if (!first_event_) out_.buf += ',';
        first_event_ = false;
        out_.buf += "{\"type\":\"";
        out_.buf += type;
        out_.buf += "\",\"frame\":";
        append_uint(out_.buf, frame);
        out_.buf += ",\"at\":";
        append_number(out_.buf, at);
        out_.buf += '}';
    }

    Out&              out_;
    Functions&        fns_;
    const Metric&     m_;
    bool              collapsed_;
    bool              ranks_;
    bool&             first_profile_;
    bool              in_view_     = false;  // a row was read: key_ is its view's
    bool              open_        = false;  // the view's profile is being written
    bool              first_event_ = true;
    ViewKey           key_;
    double            top_        = 0.0;  // where the next top-level node starts
    int               skip_depth_ = -1;   // rows below this depth are skipped (-1: none)
    std::vector<Open> stack_;
};

// ---------------------------------------------------------------- callgrind

// An event's short name: the grammar allows letters and digits only ("wall_clock" ->
// "WallClock", "network_stats rx_bytes" -> "NetworkStatsRxBytes").
std::string event_name(const std::string& name) {
    std::string out;
    bool        up = true;
    for (const char ch : name) {
        const auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) && c < 0x80) {
            out += static_cast<char>(up ? std::toupper(c) : c);
            up = false;
        } else {
            up = true;
        }
    }
    if (out.empty() || !std::isalpha(static_cast<unsigned char>(out.front()))) out.insert(0, "E");
    return out;
}

const char* callgrind_unit(Unit u) {
    switch (u) {
        case Unit::timing: return "ns";
        case Unit::memory: return "bytes";
        case Unit::count: return "count";
        default: return "";
    }
}

// A name on one line of the file: line breaks and other control characters, backslashes and
// bytes that are not UTF-8 are written as \n, \xNN..., so the file stays line-based UTF-8.
void append_name(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    auto                  esc   = [&](unsigned char c) {
        out += "\\x";
        out += hex[c >> 4];
        out += hex[c & 0xf];
    };
    if (s.empty()) {
        out += "???";
        return;
    }
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            if (c == ' ' && i == 0) esc(c);  // readers take the name from its first non-space
            else if (c == '\n') out += "\\n";
            else if (c == '\r') out += "\\r";
            else if (c == '\t') out += "\\t";
            else if (c == '\\') out += "\\\\";
            else if (c < 0x20 || c == 0x7f) esc(c);
            else out += static_cast<char>(c);
            ++i;
            continue;
        }
        const std::size_t n = utf8_sequence_at(s, i);
        if (n == 0) {
            esc(c);
            ++i;
            continue;
        }
        out.append(s.data() + i, n);
        i += n;
    }
}

// A cost as callgrind wants it: an unsigned integer.
unsigned long long cost_of(double v) {
    if (!(v > 0.0)) return 0;
    if (v >= 1.8e19) return std::numeric_limits<unsigned long long>::max();
    return static_cast<unsigned long long>(std::llround(v));
}

// The costs of one thread view, per function and per caller -> callee pair, written as one
// part of the file: its header when the view starts, the names of its new functions as they
// come (name compression allows a definition anywhere before its use), its costs when it ends.
// What it keeps is per function and per pair, not per node: a function's costs with its first
// caller's call (most functions have one caller), other callers' calls in an index.
class CallgrindWriter {
public:
    CallgrindWriter(Out& out, Functions& fns, const std::vector<Metric>& metrics, bool collapsed, bool ranks)
        : out_(out), fns_(fns), metrics_(metrics), collapsed_(collapsed), ranks_(ranks) {
        nev_ = metrics_.empty() ? 1 : metrics_.size();
        // short names, each once ("Calls" when no value nests)
        for (const auto& m : metrics_) {
            std::string name = event_name(m.name), unique = name;
            for (int n = 2; std::find(events_.begin(), events_.end(), unique) != events_.end(); ++n)
                unique = name + std::to_string(n);
            events_.push_back(std::move(unique));
        }
        if (metrics_.empty()) events_.emplace_back("Calls");
    }

    void row(const JoinedRow& row) {
        const auto key = view_key(row, collapsed_);
        if (!open_ || (row.parent < 0 && !(key == key_))) {
            finish();
            begin(key, row.pid);
        }
        while (!stack_.empty() && stack_.back().depth >= row.depth) stack_.pop_back();
        bool                added = false;
        const std::uint32_t fn    = fns_.id(row, &added);
        if (added) define(fn, row.label);
        const std::size_t slot = fn_slot(fn);
        const auto        laps = std::max<std::int64_t>(laps_of(row), 0);
        double*           self = &self_[slot * nev_];
        if (metrics_.empty()) self[0] += static_cast<double>(laps);
        for (std::size_t e = 0; e < metrics_.size(); ++e) {
            const auto& m = metrics_[e];
            self[e] += value_of(m.column < row.exclusive.size() ? row.exclusive[m.column] : nullptr, m);
        }
        if (!stack_.empty()) {
            const std::uint32_t caller = stack_.back().fn;
            std::int64_t*       calls  = nullptr;
            double*             cost   = nullptr;
            if (first_caller_[slot] == FlatIndex::none || first_caller_[slot] == caller) {
                first_caller_[slot] = caller;
                calls               = &first_calls_[slot];
                cost                = &first_cost_[slot * nev_];
            } else {
                const std::size_t edge = edge_slot(caller, fn);
                calls                  = &calls_[edge];
                cost                   = &edge_cost_[edge * nev_];
            }
            *calls += laps;
            if (metrics_.empty()) cost[0] += static_cast<double>(laps);
            // a remote call ran in parallel elsewhere: listed beneath its caller, but its cost
            // is not part of the caller's inclusive cost (which is what the caller's own thread
            // measured)
            for (std::size_t e = 0; e < metrics_.size() && !row.remote; ++e) {
                const auto& m = metrics_[e];
                cost[e] += value_of(m.column < row.inclusive.size() ? row.inclusive[m.column] : nullptr, m);
            }
        }
        stack_.push_back({fn, row.depth});
        out_.step();
    }

    // Writes the costs of the view read so far.
    void finish() {
        if (!open_) return;
        open_   = false;
        auto& b = out_.buf;
        b += '\n';
        const std::size_t nslots = order_.size();
        // every call, grouped by its caller (by the caller's slot), in the order they were seen:
        // a callee's first caller's call is its slot's (below nslots), the others nslots + edge
        std::vector<std::uint32_t> first(nslots + 1, 0);
        for (std::size_t i = 0; i < nslots; ++i)
            if (first_caller_[i] != FlatIndex::none) ++first[slot_of_[first_caller_[i]] + 1];
        for (const auto& ed : edges_) ++first[slot_of_[ed.caller] + 1];
        for (std::size_t i = 0; i < nslots; ++i) first[i + 1] += first[i];
        std::vector<std::uint32_t> by_caller(first.back());
        {
            std::vector<std::uint32_t> fill(first.begin(), first.end() - 1);
            for (std::size_t i = 0; i < nslots; ++i)
                if (first_caller_[i] != FlatIndex::none)
                    by_caller[fill[slot_of_[first_caller_[i]]]++] = static_cast<std::uint32_t>(i);
            for (std::size_t i = 0; i < edges_.size(); ++i)
                by_caller[fill[slot_of_[edges_[i].caller]]++] = static_cast<std::uint32_t>(nslots + i);
        }
        std::vector<unsigned long long> total(nev_, 0);
        for (std::size_t i = 0; i < nslots; ++i) {
            const auto fn = order_[i];
            b += "fl=(";
            append_uint(b, fns_.file_id(fn) + 1);
            b += ")\nfn=(";
            append_uint(b, fn + 1);
            b += ")\n";
            costs(fns_.line(fn), &self_[i * nev_], total.data());
            for (std::size_t j = first[i]; j < first[i + 1]; ++j) {
                const auto          k           = by_caller[j];
                const bool          inline_call = k < nslots;
                const std::uint32_t callee      = inline_call ? order_[k] : edges_[k - nslots].callee;
                b += "cfl=(";
                append_uint(b, fns_.file_id(callee) + 1);
                b += ")\ncfn=(";
                append_uint(b, callee + 1);
                b += ")\ncalls=";
                append_uint(b, static_cast<unsigned long long>(inline_call ? first_calls_[k] : calls_[k - nslots]));
                b += ' ';
                append_int(b, std::max(fns_.line(callee), 0));
                b += '\n';
                costs(fns_.line(fn), inline_call ? &first_cost_[k * nev_] : &edge_cost_[(k - nslots) * nev_], nullptr);
            }
            b += '\n';
            out_.step();
        }
        b += "totals:";
        for (auto t : total) {
            b += ' ';
            append_uint(b, t);
        }
        b += '\n';
        out_.step();

        for (const auto fn : order_) slot_of_[fn] = FlatIndex::none;
        std::vector<std::uint32_t>().swap(order_);
        std::vector<double>().swap(self_);
        std::vector<std::uint32_t>().swap(first_caller_);
        std::vector<std::int64_t>().swap(first_calls_);
        std::vector<double>().swap(first_cost_);
        std::vector<Edge>().swap(edges_);
        edge_index_.clear();
        std::vector<std::int64_t>().swap(calls_);
        std::vector<double>().swap(edge_cost_);
        stack_.clear();
    }

    // A part without functions (a source without nodes).
    void empty_part() {
        begin({}, 0);
        stack_.clear();
        finish();
    }

    // Parts written so far.
    unsigned long long parts() const { return part_; }

private:
    struct Edge {
        std::uint32_t caller, callee;
    };
    struct Open {
        std::uint32_t fn;
        int           depth;
    };

    // The part's header, and its root: every top-level node is called by it, because
    // KCachegrind takes a called function's inclusive cost from its calls alone, so a function
    // both at the top level and called elsewhere would otherwise lose its top-level cost.
    void begin(const ViewKey& key, std::int64_t pid) {
        key_  = key;
        open_ = true;
        ++part_;
        auto& b = out_.buf;
        b += "\npart: ";
        append_uint(b, part_);
        b += '\n';
        if (!collapsed_) {
            b += "thread: ";
            append_int(b, std::max(key.tid, 0));
            b += '\n';
        }
        b += "pid: ";
        append_int(b, std::max<std::int64_t>(pid, 0));
        b += '\n';
        if (ranks_) {
            b += "desc: Rank: ";
            append_int(b, key.rank);
            b += '\n';
        }
        b += "desc: Layout: the call graph's sums per function and per call, not a trace\n";
        b += "positions: line\n";
        if (metrics_.empty()) b += "event: Calls : calls (no component value nests along the call graph)\n";
        for (std::size_t e = 0; e < metrics_.size(); ++e) {
            b += "event: ";
            b += events_[e];
            b += " : ";
            b += metrics_[e].name;
            if (const char* u = callgrind_unit(metrics_[e].unit); *u) {
                b += " (";
                b += u;
                b += ')';
            }
            b += '\n';
        }
        b += "events:";
        for (const auto& name : events_) {
            b += ' ';
            b += name;
        }
        b += "\n\n";
        const std::string root = "[root: " + view_text(key, collapsed_, ranks_) + "]";
        const auto        fn   = fns_.add_named(root);
        define(fn, root);
        fn_slot(fn);
        stack_.push_back({fn, -1});
    }

    // "fl=(id) file" the first time the file appears, then "fn=(id) name": the names are
    // written once in the file, where the function first appears.
    void define(std::uint32_t fn, std::string_view name) {
        auto&      b    = out_.buf;
        const auto file = fns_.file_id(fn);
        if (file >= files_defined_.size()) files_defined_.resize(file + 1, false);
        if (!files_defined_[file]) {
            files_defined_[file] = true;
            b += "fl=(";
            append_uint(b, file + 1);
            b += ") ";
            append_name(b, fns_.file(fn));
            b += '\n';
        }
        b += "fn=(";
        append_uint(b, fn + 1);
        b += ") ";
        append_name(b, name);
        b += '\n';
    }

    // The function's position in order_ (this view's functions, first seen first).
    std::size_t fn_slot(std::uint32_t fn) {
        if (fn >= slot_of_.size()) slot_of_.resize(std::max<std::size_t>(fns_.size(), fn + 1), FlatIndex::none);
        if (slot_of_[fn] == FlatIndex::none) {
            slot_of_[fn] = static_cast<std::uint32_t>(order_.size());
            order_.push_back(fn);
            self_.resize(self_.size() + nev_, 0.0);
            first_caller_.push_back(FlatIndex::none);
            first_calls_.push_back(0);
            first_cost_.resize(first_cost_.size() + nev_, 0.0);
        }
        return slot_of_[fn];
    }

    // A call from another caller than the callee's first.
    std::size_t edge_slot(std::uint32_t caller, std::uint32_t callee) {
        const std::uint64_t key = (static_cast<std::uint64_t>(caller) << 32) | callee;
        if (const auto got = edge_index_.find(key); got != FlatIndex::none) return got;
        const auto id = static_cast<std::uint32_t>(edges_.size());
        edge_index_.add(key, id);
        edges_.push_back({caller, callee});
        calls_.push_back(0);
        edge_cost_.resize(edge_cost_.size() + nev_, 0.0);
        return id;
    }

    // A cost line; a self cost adds to the part's `total` too.
    void costs(int line, const double* v, unsigned long long* total) {
        auto& b = out_.buf;
        append_int(b, std::max(line, 0));
        for (std::size_t e = 0; e < nev_; ++e) {
            const auto c = cost_of(v[e]);
            if (total) total[e] += c;
            b += ' ';
            append_uint(b, c);
        }
        b += '\n';
    }

    Out&                       out_;
    Functions&                 fns_;
    const std::vector<Metric>& metrics_;
    bool                       collapsed_;
    bool                       ranks_;
    std::size_t                nev_  = 1;
    bool                       open_ = false;
    ViewKey                    key_;
    unsigned long long         part_ = 0;
    std::vector<std::uint32_t> slot_of_;       // per function of the walk: its slot, or none
    std::vector<std::uint32_t> order_;         // per slot: this view's functions, first seen first
    std::vector<double>        self_;          // per slot, per event
    std::vector<std::uint32_t> first_caller_;  // per slot: the function's first caller, or none
    std::vector<std::int64_t>  first_calls_;   // per slot: the calls from it
    std::vector<double>        first_cost_;    // per slot, per event: their inclusive cost
    std::vector<Edge>          edges_;         // the calls from other callers
    FlatIndex                  edge_index_;    // (caller << 32 | callee) -> position in edges_
    std::vector<std::int64_t>  calls_;         // per edge
    std::vector<double>        edge_cost_;     // per edge, per event
    std::vector<Open>          stack_;
    std::vector<bool>          files_defined_;
    std::vector<std::string>   events_;  // the events' short names
};

template <typename F>
bool write_file(const std::string& path, std::string* error, F&& write) {
    AtomicFile file;
    if (!file.open(path, error)) return false;
    Out out;
    out.stream([&](std::string_view chunk) { file.write(chunk); });
    write(out);
    out.flush();
    return file.commit(error);
}

}  // namespace

void speedscope_json(Out& out, const JoinSource& src, const ExportOptions& opt) {
    const auto metrics   = metrics_of(src);
    const bool collapsed = config().collapse_threads;
    const bool ranks     = several_ranks(src);
    Functions  fns(true);
    out.buf += "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\"exporter\":";
    json_escape(out.buf, opt.creator.empty() ? std::string("timemory") : opt.creator);
    if (!opt.name.empty()) {  // without one, speedscope shows the file's name
        out.buf += ",\"name\":";
        json_escape(out.buf, opt.name);
    }
    out.buf += ",\"activeProfileIndex\":0,\"profiles\":[";
    bool first = true;
    for (auto m : metrics) {
        // a profile is one component's: its own walk, without joining the others' nodes (the
        // join costs more than the walk), the frames still shared by function
        JoinSource one;
        one.rank = src.rank;
        one.copy = src.copy;
        if (!src.live.empty()) one.live = {src.live[m.column]};
        else one.loaded = {src.loaded[m.column]};
        m.column = 0;
        ProfileWriter w(out, fns, m, collapsed, ranks, first);
        for_each_joined(one, [&](const JoinedRow& row) { w.row(row); });
        w.finish();
    }
    out.buf += "],\"shared\":{\"frames\":[";
    for (std::uint32_t f = 0; f < fns.size(); ++f) {
        if (f) out.buf += ',';
        out.buf += "{\"name\":";
        json_escape(out.buf, fns.name(f));
        if (fns.file_id(f) != 0) {
            out.buf += ",\"file\":";
            json_escape(out.buf, fns.file(f));
        }
        if (fns.line(f) > 0) {
            out.buf += ",\"line\":";
            append_int(out.buf, fns.line(f));
        }
        out.buf += '}';
        out.step();
    }
    out.buf += "]}}\n";
}

void callgrind_text(Out& out, const JoinSource& src, const ExportOptions& opt) {
    const auto metrics   = metrics_of(src);
    const bool collapsed = config().collapse_threads;
    const bool ranks     = several_ranks(src);
    Functions  fns(false);
    // no "# callgrind format" line first: it is optional, and gprof2dot reads "version:" as the
    // first line or not at all
    out.buf += "version: 1\ncreator: ";
    append_name(out.buf, opt.creator.empty() ? std::string("timemory") : opt.creator);
    out.buf += '\n';
    if (!opt.name.empty()) {
        out.buf += "cmd: ";
        append_name(out.buf, opt.name);
        out.buf += '\n';
    }
    CallgrindWriter w(out, fns, metrics, collapsed, ranks);
    for_each_joined(src, [&](const JoinedRow& row) { w.row(row); });
    w.finish();
    if (w.parts() == 0) w.empty_part();  // no node at all: the header and the events still
}

std::vector<ExportValue> export_values(const std::vector<int>& indices) {
    JoinSource src;
    src.live = indices;
    std::vector<ExportValue> out;
    for (const auto& m : metrics_of(src)) out.push_back({indices[m.column], m.k, m.name, speedscope_unit(m.unit)});
    return out;
}

bool write_speedscope(const std::string& path, const JoinSource& src, const ExportOptions& opt, std::string* error) {
    return write_file(path, error, [&](Out& out) { speedscope_json(out, src, opt); });
}

bool write_callgrind(const std::string& path, const JoinSource& src, const ExportOptions& opt, std::string* error) {
    return write_file(path, error, [&](Out& out) { callgrind_text(out, src, opt); });
}

}  // namespace tim
