#include "timemory/output/exports.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
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
// data handed to the node (the data trackers), which have no reader.
bool nests(const ComponentInfo& info, int k) {
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

// The functions of the walk: one per distinct label + file + line (where the profiler or
// tracer registered the code, hash_source); a hash whose code is unknown (a marker, a region,
// trees from another process) is a function of its own.
class Functions {
public:
    struct Info {
        std::string name;
        std::string file;
        int         line = 0;
    };

    std::uint32_t id(const JoinedRow& row) {
        if (auto it = by_hash_.find(row.hash); it != by_hash_.end()) return it->second;
        Info info;
        info.name.assign(row.label.data(), row.label.size());
        std::uint32_t id = static_cast<std::uint32_t>(list_.size());
        if (hash_source(row.hash, info.file, info.line) && !info.file.empty()) {
            std::string place = info.name;
            place += '\0';
            place += info.file;
            place += '\0';
            place += std::to_string(info.line);
            auto [it, added] = by_place_.emplace(std::move(place), id);
            if (!added) {
                by_hash_.emplace(row.hash, it->second);
                return it->second;
            }
        } else {
            info.file.clear();
            info.line = 0;
        }
        list_.push_back(std::move(info));
        by_hash_.emplace(row.hash, id);
        return id;
    }
    const std::vector<Info>& list() const { return list_; }

private:
    std::unordered_map<std::uint64_t, std::uint32_t> by_hash_;
    std::unordered_map<std::string, std::uint32_t>   by_place_;
    std::vector<Info>                                list_;
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
        if (!open_ || (row.parent < 0 && !(key == key_))) {
            finish();
            begin(key);
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
        double       v     = value_of(e, m_);
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
        event('O', fns_.id(row), start);
        stack_.push_back({fns_.id(row), row.depth, end, start});
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

    void begin(const ViewKey& key) {
        key_             = key;
        open_            = true;
        top_             = 0.0;
        skip_depth_      = -1;
        std::string name = m_.name;
        name += " \xe2\x80\x94 ";  // an em dash
        if (ranks_) {
            name += "rank ";
            name += std::to_string(key.rank);
            name += ", ";
        }
        if (collapsed_) name += "all threads";
        else name += "thread " + std::to_string(key.tid);
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
    bool              open_        = false;
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
        std::size_t n  = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
        bool        ok = n > 0 && c <= 0xf4 && i + n <= s.size();
        for (std::size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
        if (ok && n >= 3) {
            const auto c1 = static_cast<unsigned char>(s[i + 1]);
            ok            = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0) && !(c == 0xf0 && c1 < 0x90) &&
                            !(c == 0xf4 && c1 >= 0x90);
        }
        if (!ok) {
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

// The costs of one thread view, per function and per caller -> callee pair, then written as
// one part of the file.
class CallgrindWriter {
public:
    CallgrindWriter(Out& out, Functions& fns, const std::vector<Metric>& metrics, bool collapsed, bool ranks)
        : out_(out), fns_(fns), metrics_(metrics), collapsed_(collapsed), ranks_(ranks) {
        nev_ = metrics_.empty() ? 1 : metrics_.size();
    }

    void row(const JoinedRow& row) {
        const auto key = view_key(row, collapsed_);
        if (!open_ || (row.parent < 0 && !(key == key_))) {
            finish();
            key_  = key;
            pid_  = row.pid;
            open_ = true;
        }
        while (!stack_.empty() && stack_.back().depth >= row.depth) stack_.pop_back();
        const std::uint32_t fn   = fns_.id(row);
        const std::size_t   slot = fn_slot(fn);
        const auto          laps = laps_of(row);
        if (metrics_.empty()) {
            self_[slot * nev_] += static_cast<double>(std::max<std::int64_t>(laps, 0));
        } else {
            for (std::size_t e = 0; e < nev_; ++e) {
                const auto& m = metrics_[e];
                self_[slot * nev_ + e] +=
                    value_of(m.column < row.exclusive.size() ? row.exclusive[m.column] : nullptr, m);
            }
        }
        if (!stack_.empty()) {
            const std::size_t edge = edge_slot(stack_.back().fn, fn);
            calls_[edge] += std::max<std::int64_t>(laps, 0);
            for (std::size_t e = 0; e < nev_; ++e) {
                double v = 0.0;
                if (metrics_.empty()) v = static_cast<double>(std::max<std::int64_t>(laps, 0));
                else {
                    const auto& m = metrics_[e];
                    v             = value_of(m.column < row.inclusive.size() ? row.inclusive[m.column] : nullptr, m);
                }
                edge_cost_[edge * nev_ + e] += v;
            }
        }
        stack_.push_back({fn, row.depth});
    }

    // Writes the part of the view read so far.
    void finish() {
        if (!open_) return;
        open_ = false;
        ++part_;
        auto& b = out_.buf;
        b += "\npart: ";
        append_uint(b, part_);
        b += '\n';
        if (!collapsed_) {
            b += "thread: ";
            append_int(b, std::max(key_.tid, 0));
            b += '\n';
        }
        b += "pid: ";
        append_int(b, std::max<std::int64_t>(pid_, 0));
        b += '\n';
        if (ranks_) {
            b += "desc: Rank: ";
            append_int(b, key_.rank);
            b += '\n';
        }
        b += "desc: Layout: the call graph's sums per function and per call, not a trace\n";
        b += "positions: line\n";
        if (metrics_.empty()) {
            b += "event: Calls : calls (no component value adds up along the call graph)\n";
        } else {
            for (const auto& m : metrics_) {
                b += "event: ";
                b += event_name(m.name);
                b += " : ";
                b += m.name;
                if (const char* u = callgrind_unit(m.unit); *u) {
                    b += " (";
                    b += u;
                    b += ')';
                }
                b += '\n';
            }
        }
        b += "events:";
        if (metrics_.empty()) b += " Calls";
        for (const auto& m : metrics_) {
            b += ' ';
            b += event_name(m.name);
        }
        b += '\n';
        std::vector<unsigned long long> total(nev_, 0);
        for (std::size_t i = 0; i < order_.size(); ++i)
            for (std::size_t e = 0; e < nev_; ++e) total[e] += cost_of(self_[i * nev_ + e]);
        b += "summary:";
        for (auto t : total) {
            b += ' ';
            append_uint(b, t);
        }
        b += "\n\n";

        // the calls of each caller, in the order they were first seen
        std::vector<std::size_t> first(order_.size() + 1, 0);
        for (const auto& ed : edges_) ++first[fn_index_[ed.caller] + 1];
        for (std::size_t i = 0; i < order_.size(); ++i) first[i + 1] += first[i];
        std::vector<std::size_t> by_caller(edges_.size());
        {
            std::vector<std::size_t> fill(first.begin(), first.end() - 1);
            for (std::size_t i = 0; i < edges_.size(); ++i) by_caller[fill[fn_index_[edges_[i].caller]]++] = i;
        }
        const auto& info = fns_.list();
        for (std::size_t i = 0; i < order_.size(); ++i) {
            const auto  fn = order_[i];
            const auto& f  = info[fn];
            position("fl=", file_id(f.file), f.file, true);
            position("fn=", fn + 1, f.name, false);
            costs(f.line, &self_[i * nev_]);
            for (std::size_t j = first[i]; j < first[i + 1]; ++j) {
                const auto& ed = edges_[by_caller[j]];
                const auto& g  = info[ed.callee];
                position("cfl=", file_id(g.file), g.file, true);
                position("cfn=", ed.callee + 1, g.name, false);
                b += "calls=";
                append_uint(b, static_cast<unsigned long long>(calls_[by_caller[j]]));
                b += ' ';
                append_int(b, std::max(g.line, 0));
                b += '\n';
                costs(f.line, &edge_cost_[by_caller[j] * nev_]);
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

        order_.clear();
        fn_index_.clear();
        self_.clear();
        edges_.clear();
        edge_index_.clear();
        calls_.clear();
        edge_cost_.clear();
        stack_.clear();
    }

    // A part without functions (a source without nodes).
    void empty_part() {
        open_ = true;
        key_  = {};
        pid_  = 0;
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

    std::size_t fn_slot(std::uint32_t fn) {
        auto [it, added] = fn_index_.emplace(fn, order_.size());
        if (added) {
            order_.push_back(fn);
            self_.resize(self_.size() + nev_, 0.0);
        }
        return it->second;
    }

    std::size_t edge_slot(std::uint32_t caller, std::uint32_t callee) {
        const std::uint64_t key = (static_cast<std::uint64_t>(caller) << 32) | callee;
        auto [it, added]        = edge_index_.emplace(key, edges_.size());
        if (added) {
            edges_.push_back({caller, callee});
            calls_.push_back(0);
            edge_cost_.resize(edge_cost_.size() + nev_, 0.0);
        }
        return it->second;
    }

    // fl=/cfl= and fn=/cfn= with name compression: "(id) name" the first time in the file,
    // "(id)" after (callgrind's own files do the same across parts).
    void position(const char* spec, std::size_t id, const std::string& name, bool file) {
        auto& defined = file ? files_defined_ : fns_defined_;
        auto& b       = out_.buf;
        b += spec;
        b += '(';
        append_uint(b, id);
        b += ')';
        if (id >= defined.size()) defined.resize(id + 1, false);
        if (!defined[id]) {
            defined[id] = true;
            b += ' ';
            append_name(b, name);
        }
        b += '\n';
    }

    std::size_t file_id(const std::string& file) {
        auto [it, added] = file_ids_.emplace(file, file_ids_.size() + 1);
        return it->second;
    }

    void costs(int line, const double* v) {
        auto& b = out_.buf;
        append_int(b, std::max(line, 0));
        for (std::size_t e = 0; e < nev_; ++e) {
            b += ' ';
            append_uint(b, cost_of(v[e]));
        }
        b += '\n';
    }

    Out&                                           out_;
    Functions&                                     fns_;
    const std::vector<Metric>&                     metrics_;
    bool                                           collapsed_;
    bool                                           ranks_;
    std::size_t                                    nev_  = 1;
    bool                                           open_ = false;
    ViewKey                                        key_;
    std::int64_t                                   pid_  = 0;
    unsigned long long                             part_ = 0;
    std::vector<std::uint32_t>                     order_;     // functions of the view, first seen first
    std::unordered_map<std::uint32_t, std::size_t> fn_index_;  // function -> position in order_
    std::vector<double>                            self_;      // per function, per event
    std::vector<Edge>                              edges_;
    std::unordered_map<std::uint64_t, std::size_t> edge_index_;
    std::vector<std::int64_t>                      calls_;      // per edge
    std::vector<double>                            edge_cost_;  // per edge, per event
    std::vector<Open>                              stack_;
    std::unordered_map<std::string, std::size_t>   file_ids_;
    std::vector<bool>                              files_defined_, fns_defined_;
};

template <typename F>
bool write_file(const std::string& path, std::string* error, F&& write) {
    AtomicFile file;
    if (!file.open(path, error)) return false;
    Out out;
    out.sink = [&](std::string_view chunk) { file.write(chunk); };
    write(out);
    out.flush();
    return file.commit(error);
}

}  // namespace

void speedscope_json(Out& out, const JoinSource& src, const ExportOptions& opt) {
    const auto metrics   = metrics_of(src);
    const bool collapsed = config().collapse_threads;
    const bool ranks     = several_ranks(src);
    Functions  fns;
    out.buf += "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\"exporter\":";
    json_escape(out.buf, opt.creator.empty() ? std::string("timemory") : opt.creator);
    if (!opt.name.empty()) {  // without one, speedscope shows the file's name
        out.buf += ",\"name\":";
        json_escape(out.buf, opt.name);
    }
    out.buf += ",\"activeProfileIndex\":0,\"profiles\":[";
    bool first = true;
    for (const auto& m : metrics) {
        ProfileWriter w(out, fns, m, collapsed, ranks, first);
        for_each_joined(src, [&](const JoinedRow& row) { w.row(row); });
        w.finish();
    }
    out.buf += "],\"shared\":{\"frames\":[";
    bool first_frame = true;
    for (const auto& f : fns.list()) {
        if (!first_frame) out.buf += ',';
        first_frame = false;
        out.buf += "{\"name\":";
        json_escape(out.buf, f.name);
        if (!f.file.empty()) {
            out.buf += ",\"file\":";
            json_escape(out.buf, f.file);
        }
        if (f.line > 0) {
            out.buf += ",\"line\":";
            append_int(out.buf, f.line);
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
    Functions  fns;
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

bool write_speedscope(const std::string& path, const JoinSource& src, const ExportOptions& opt, std::string* error) {
    return write_file(path, error, [&](Out& out) { speedscope_json(out, src, opt); });
}

bool write_callgrind(const std::string& path, const JoinSource& src, const ExportOptions& opt, std::string* error) {
    return write_file(path, error, [&](Out& out) { callgrind_text(out, src, opt); });
}

}  // namespace tim
