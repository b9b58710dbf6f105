#include "timemory/output/writers.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>

#include "timemory/config.hpp"
#include "timemory/storage/entry.hpp"

namespace tim {

// ---------------------------------------------------------------- primitives

namespace {
// A JSON string of `s`: valid UTF-8 copied as it is, or (`ascii`, as Python's json.dumps
// writes) every character outside printable ASCII as \uXXXX (surrogate pairs above U+FFFF);
// a byte that starts no well-formed sequence (an overlong, a surrogate, past U+10FFFF) is
// U+FFFD.
template <bool ascii>
void escape_json(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    auto                  u16   = [&](unsigned v) {
        out += "\\u";
        for (int shift = 12; shift >= 0; shift -= 4) out += hex[(v >> shift) & 0xf];
    };
    out += '"';
    for (std::size_t i = 0; i < s.size();) {
        // a run of characters written as they are, appended at once
        std::size_t plain = i;
        while (plain < s.size()) {
            const auto p = static_cast<unsigned char>(s[plain]);
            if (p < 0x20 || p >= 0x80 || p == '"' || p == '\\' || (ascii && p == 0x7f)) break;
            ++plain;
        }
        if (plain > i) {
            out.append(s.data() + i, plain - i);
            i = plain;
            continue;
        }
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            switch (c) {
                case '"': out += "\\\""; break;
                case '\\': out += "\\\\"; break;
                case '\n': out += "\\n"; break;
                case '\t': out += "\\t"; break;
                case '\r': out += "\\r"; break;
                case '\b': out += "\\b"; break;
                case '\f': out += "\\f"; break;
                default:
                    if (c < 0x20 || (ascii && c == 0x7f)) u16(c);
                    else out += static_cast<char>(c);
            }
            ++i;
            continue;
        }
        const std::size_t n = utf8_sequence_at(s, i);
        if (n == 0) {
            u16(0xfffd);
            ++i;
            continue;
        }
        if constexpr (!ascii) {
            out.append(s.data() + i, n);
        } else {
            unsigned cp = c & (n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07);
            for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
            if (cp >= 0x10000) {
                cp -= 0x10000;
                u16(0xd800 | (cp >> 10));
                u16(0xdc00 | (cp & 0x3ff));
            } else {
                u16(cp);
            }
        }
        i += n;
    }
    out += '"';
}
}  // namespace

void json_escape(std::string& out, std::string_view s) { escape_json<false>(out, s); }

void json_escape_ascii(std::string& out, std::string_view s) { escape_json<true>(out, s); }

namespace {
void json_shortest(std::string& out, double v, char* buf, std::size_t size);
}  // namespace

void json_number(std::string& out, double v, bool integral) {
    if (!std::isfinite(v)) {
        out += "null";
        return;
    }
    // room for the longest fixed form of a double (DBL_MAX has 309 digits) and any
    // scientific one; a failing to_chars would otherwise leave the buffer unwritten
    char buf[400];
    if (integral) {
        auto r = std::fabs(v) < 9.2e18 ? std::to_chars(buf, buf + sizeof buf, static_cast<long long>(std::llround(v)))
                                       : std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 0);
        if (r.ec != std::errc{}) {
            out += "null";
            return;
        }
        out.append(buf, r.ptr);
        return;
    }
    // A node's entry and statistics repeat the same few values (repr_data and repr_display,
    // sum, min, max and mean of one lap): the text of the last few is kept and copied, as
    // the shortest round-trip digits cost several times more than the comparison.
    struct Memo {
        std::uint64_t bits = 0;
        std::uint8_t  size = 0;  // 0: empty slot
        char          text[31];
    };
    thread_local std::array<Memo, 4> memo{};
    thread_local unsigned            next_slot = 0;
    std::uint64_t                    bits;
    std::memcpy(&bits, &v, sizeof bits);
    for (const auto& m : memo)
        if (m.size && m.bits == bits) {
            out.append(m.text, m.size);
            return;
        }
    const std::size_t start = out.size();
    json_shortest(out, v, buf, sizeof buf);
    if (const std::size_t n = out.size() - start; n <= sizeof(Memo::text)) {
        auto& m = memo[next_slot++ % memo.size()];
        m.bits  = bits;
        m.size  = static_cast<std::uint8_t>(n);
        std::memcpy(m.text, out.data() + start, n);
    }
}

namespace {
// Shortest round-trip digits, laid out like Python's float repr so the JSON
// reads the same as what json.dumps would produce for the same value.
void json_shortest(std::string& out, double v, char* buf, std::size_t size) {
    auto r = std::to_chars(buf, buf + size, v, std::chars_format::scientific);
    if (r.ec != std::errc{}) {
        out += "null";
        return;
    }
    std::string_view sci(buf, static_cast<std::size_t>(r.ptr - buf));
    auto             epos = sci.find('e');
    int              exp  = 0;
    const char*      ep   = sci.data() + epos + 1;
    std::from_chars(ep + (*ep == '+'), r.ptr, exp);
    if (exp < -4 || exp >= 16) {
        out += sci;
        return;
    }
    std::string_view mant = sci.substr(0, epos);
    if (mant.front() == '-') {
        out += '-';
        mant.remove_prefix(1);
    }
    char        digits[32];
    std::size_t nd = 0;
    for (char c : mant)
        if (c != '.') digits[nd++] = c;
    if (exp < 0) {
        out += "0.";
        out.append(static_cast<std::size_t>(-exp - 1), '0');
        out.append(digits, nd);
        return;
    }
    const auto whole = static_cast<std::size_t>(exp) + 1;
    out.append(digits, std::min(nd, whole));
    if (nd < whole) out.append(whole - nd, '0');
    out += '.';
    if (nd > whole) out.append(digits + whole, nd - whole);
    else out += '0';
}
}  // namespace

void functions_json(Out& o, const std::vector<std::pair<std::uint64_t, std::string>>& ids,
                    const std::vector<HashSource>& sources) {
    // Labels in order of first appearance, each with its hashes. Grouped through two int32
    // arrays and an open-addressed table of first occurrences (about 20 bytes a label at most)
    // rather than a map and a vector per label (about 130 bytes a label): a million labels are
    // written at the end of a run whose memory is mostly those labels' nodes.
    const auto                at = [](std::int32_t k) { return static_cast<std::size_t>(k); };
    const std::size_t         n  = ids.size();
    std::vector<std::int32_t> next(n, -1);  // the label's next occurrence
    std::vector<std::int32_t> tail(n, -1);  // on a first occurrence: its last one so far
    std::vector<char>         head(n, 0);   // a first occurrence
    {
        std::size_t cap = 16;
        while (cap < 2 * n) cap <<= 1;
        std::vector<std::int32_t>         table(cap, -1);
        const std::hash<std::string_view> hasher;
        for (std::size_t i = 0; i < n; ++i) {
            const std::string_view label = ids[i].second;
            const auto             self  = static_cast<std::int32_t>(i);
            for (std::size_t slot = hasher(label) & (cap - 1);; slot = (slot + 1) & (cap - 1)) {
                const std::int32_t first = table[slot];
                if (first < 0) {
                    table[slot] = self;
                    head[i]     = 1;
                    tail[i]     = self;
                    break;
                }
                if (ids[at(first)].second == label) {
                    next[at(tail[at(first)])] = self;
                    tail[at(first)]           = self;
                    break;
                }
            }
        }
    }
    tail               = {};
    std::size_t groups = 0;
    for (char h : head) groups += h ? 1 : 0;
    auto& out = o.buf;
    out += "{\n  \"timemory\": {\n    \"functions\": ";
    if (groups == 0) out += "{}";
    else {
        out += "{\n";
        std::size_t g = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (!head[i]) continue;
            out += "      ";
            json_escape_ascii(out, ids[i].second);
            out += ": [\n";
            for (auto k = static_cast<std::int32_t>(i); k >= 0; k = next[at(k)]) {
                out += "        ";
                char buf[24];
                out.append(buf, std::to_chars(buf, buf + sizeof buf, ids[at(k)].first).ptr);
                out += next[at(k)] >= 0 ? ",\n" : "\n";
            }
            out += ++g < groups ? "      ],\n" : "      ]\n";
            o.step();
        }
        out += "    }";
    }
    if (!sources.empty()) {
        out += ",\n    \"sources\": [\n";
        for (std::size_t i = 0; i < sources.size(); ++i) {
            const auto& s = sources[i];
            out += "      [\n        ";
            char buf[24];
            out.append(buf, std::to_chars(buf, buf + sizeof buf, s.hash).ptr);
            out += ",\n        ";
            json_escape_ascii(out, s.file);
            out += ",\n        ";
            out.append(buf, std::to_chars(buf, buf + sizeof buf, s.line).ptr);
            out += ",\n        ";
            json_escape_ascii(out, s.name);
            out += i + 1 < sources.size() ? "\n      ],\n" : "\n      ]\n";
            o.step();
        }
        out += "    ]";
    }
    out += "\n  }\n}";
}

std::string json_pretty(std::string_view json, int indent) {
    std::string out;
    out.reserve(json.size() * 2);
    int  level     = 0;
    bool in_string = false;
    auto newline   = [&] {
        out += '\n';
        out.append(static_cast<std::size_t>(level * indent), ' ');
    };
    for (std::size_t i = 0; i < json.size(); ++i) {
        char c = json[i];
        if (in_string) {
            out += c;
            if (c == '\\' && i + 1 < json.size()) out += json[++i];
            else if (c == '"') in_string = false;
            continue;
        }
        switch (c) {
            case '"':
                in_string = true;
                out += c;
                break;
            case '{':
            case '[':
                out += c;
                if (i + 1 < json.size() && (json[i + 1] == '}' || json[i + 1] == ']')) {
                    out += json[++i];  // keep empty containers on one line
                } else {
                    ++level;
                    newline();
                }
                break;
            case '}':
            case ']':
                --level;
                newline();
                out += c;
                break;
            case ',':
                out += c;
                newline();
                break;
            case ':': out += ": "; break;
            case ' ':
            case '\n':
            case '\t':
            case '\r': break;
            default: out += c;
        }
    }
    return out;
}

namespace {

void json_uint(std::string& out, std::uint64_t v) {
    char buf[24];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

void json_int(std::string& out, long long v) {
    char buf[24];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

void json_key(std::string& out, std::string_view k) {
    json_escape(out, k);
    out += ':';
}

Unit unit_at(const ComponentInfo& info, int k) {
    return static_cast<std::size_t>(k) < info.units.size() ? info.units[static_cast<std::size_t>(k)] : Unit::none;
}

// One value as a scalar, two as a pair (what cereal writes for std::pair),
// more as an array.
void json_values(std::string& out, const double* v, int n, bool integral) {
    if (n == 1) return json_number(out, v[0], integral);
    if (n == 2) {
        out += "{\"first\":";
        json_number(out, v[0], integral);
        out += ",\"second\":";
        json_number(out, v[1], integral);
        out += '}';
        return;
    }
    out += '[';
    for (int i = 0; i < n; ++i) {
        if (i) out += ',';
        json_number(out, v[i], integral);
    }
    out += ']';
}

void json_entry(std::string& out, const ComponentInfo& info, const Entry& e) {
    double disp[max_values] = {};
    display_values(info, e.accum, disp);
    out += "{\"laps\":";
    json_int(out, e.laps);
    out += ",\"value\":";
    json_values(out, e.value, stored_values(info), info.integral_raw);
    out += ",\"accum\":";
    json_values(out, e.accum, stored_values(info), info.integral_raw);
    out += ",\"repr_data\":";
    json_values(out, disp, info.n_disp, false);
    out += ",\"repr_display\":";
    json_values(out, disp, info.n_disp, false);
    out += '}';
}

// Statistics in display units, one array per key (see stats_view).
struct DisplayStats {
    double sum[max_values] = {}, min[max_values] = {}, max[max_values] = {}, sqr[max_values] = {};
    double mean[max_values] = {}, stddev[max_values] = {};
};

DisplayStats display_stats(const ComponentInfo& info, const Stats& s) {
    DisplayStats d;
    for (int k = 0; k < info.n_disp && k < max_values; ++k) {
        const auto v = stats_view(info, s, k);
        d.sum[k]     = v.sum;
        d.min[k]     = v.min;
        d.max[k]     = v.max;
        d.sqr[k]     = v.sqr;
        d.mean[k]    = v.mean;
        d.stddev[k]  = v.stddev;
    }
    return d;
}

void json_stats(std::string& out, const ComponentInfo& info, const Stats& s) {
    const auto d = display_stats(info, s);
    const int  n = info.n_disp;
    out += "{\"sum\":";
    json_values(out, d.sum, n, false);
    out += ",\"count\":";
    json_int(out, s.count);
    out += ",\"min\":";
    json_values(out, d.min, n, false);
    out += ",\"max\":";
    json_values(out, d.max, n, false);
    out += ",\"sqr\":";
    json_values(out, d.sqr, n, false);
    out += ",\"mean\":";
    json_values(out, d.mean, n, false);
    out += ",\"stddev\":";
    json_values(out, d.stddev, n, false);
    out += '}';
}

// A Python-defined component's rule as its class names it (timemory.component.Base.combine).
const char* combine_rule(Combine c) {
    switch (c) {
        case Combine::maximum: return "max";
        case Combine::minimum: return "min";
        case Combine::latest: return "last";
        default: return "sum";
    }
}

void json_metadata(std::string& out, const ComponentInfo& info, const OutputMeta& meta) {
    const bool multi = info.n_disp > 1;
    out += "\"properties\":{\"value\":";
    json_int(out, info.index);
    out += ",\"enum\":";
    json_escape(out, info.enum_name);
    out += ",\"id\":";
    json_escape(out, info.id);
    out += ",\"ids\":[";
    std::set<std::string> ids(info.aliases.begin(), info.aliases.end());
    ids.insert(info.id);
    bool first = true;
    for (const auto& id : ids) {
        if (!first) out += ',';
        first = false;
        json_escape(out, id);
    }
    out += "]},\"type\":";
    if (multi) {
        out += '[';
        for (std::size_t i = 0; i < info.sub_labels.size(); ++i) {
            if (i) out += ',';
            json_escape(out, info.sub_labels[i]);
        }
        out += ']';
    } else {
        json_escape(out, info.label);
    }
    out += ",\"description\":";
    json_escape(out, info.description);

    // the units of repr_data under the current settings (timing_units, memory_units); the
    // original wrote the static defaults whatever the settings (README, "Where this differs")
    const int n = std::max(info.n_disp, 1);
    out += ",\"unit_value\":";
    if (multi) out += '[';
    for (int k = 0; k < n; ++k) {
        if (k) out += ',';
        json_number(out, unit_divisor(unit_at(info, k)), true);
    }
    if (multi) out += ']';
    out += ",\"unit_repr\":";
    if (multi) out += '[';
    for (int k = 0; k < n; ++k) {
        if (k) out += ',';
        json_escape(out, unit_repr(unit_at(info, k)));
    }
    if (multi) out += ']';

    if (is_user_combine(info.combine)) {
        // a Python-defined component: how its values combine, so that a process that has not
        // registered it reads it back (timemory.storage) with its rule
        out += ",\"combine\":";
        json_escape(out, combine_rule(info.combine));
    }
    out += ",\"thread_scope_only\":false";
    const std::pair<const char*, int> counts[] = {
        {"thread_count", meta.thread_count},   {"mpi_size", meta.mpi_size},   {"upcxx_size", meta.upcxx_size},
        {"process_count", meta.process_count}, {"num_ranks", meta.num_ranks}, {"concurrency", meta.concurrency}};
    for (const auto& [key, value] : counts) {
        out += ',';
        json_key(out, key);
        json_int(out, value);
    }
    if (info.json_extra) out += ',' + info.json_extra();
}

void json_int_set(std::string& out, const std::set<int>& values) {
    out += '[';
    bool first = true;
    for (int v : values) {
        if (!first) out += ',';
        first = false;
        json_int(out, v);
    }
    out += ']';
}

// A node's fields up to the opening of its "children" list.
void json_tree_node_head(std::string& out, const ComponentInfo& info, const TreeNode& n) {
    out += "{\"node\":{\"hash\":";
    json_uint(out, n.hash);
    out += ",\"prefix\":";
    json_escape(out, n.label);
    out += ",\"tid\":";
    json_int_set(out, n.tids);
    out += ",\"pid\":";
    json_int_set(out, n.pids);
    out += ",\"depth\":";
    json_int(out, n.depth);
    out += n.is_dummy ? ",\"is_dummy\":true" : ",\"is_dummy\":false";
    // only when set: a file without tasks is what it was before tasks carried their context
    if (n.remote) out += ",\"remote\":true";
    if (n.context) out += ",\"context\":true";
    out += ",\"inclusive\":{\"entry\":";
    json_entry(out, info, n.inclusive);
    out += ",\"stats\":";
    json_stats(out, info, n.inclusive.stats);
    out += "},\"exclusive\":{\"entry\":";
    json_entry(out, info, n.exclusive);
    out += ",\"stats\":";
    json_stats(out, info, n.exclusive.stats);
    out += "}},\"children\":[";
}

// A node and its subtree, with an explicit stack (a graph can be deeper than the
// thread's stack allows recursion).
void json_tree_node(Out& out, const ComponentInfo& info, const TreeNode& root) {
    std::vector<std::pair<const TreeNode*, std::size_t>> stack{{&root, 0}};  // (node, next child)
    json_tree_node_head(out.buf, info, root);
    while (!stack.empty()) {
        auto& [n, next] = stack.back();
        if (next == n->children.size()) {
            out.buf += "]}";
            stack.pop_back();
            out.step();  // a deep chain's closings add up too
            continue;
        }
        if (next) out.buf += ',';
        const TreeNode& c = n->children[next++];
        json_tree_node_head(out.buf, info, c);
        stack.emplace_back(&c, 0);
        out.step();
    }
}

}  // namespace

// ---------------------------------------------------------------- JSON views

void flat_json_rows(Out& o, const ComponentInfo& info, const std::vector<FlatSource>& ranks, const OutputMeta& meta) {
    auto& out = o.buf;
    out += '{';
    json_metadata(out, info, meta);
    out += ",\"ranks\":[";
    for (std::size_t r = 0; r < ranks.size(); ++r) {
        if (r) out += ',';
        out += "{\"rank\":";
        json_uint(out, r);
        out += ",\"graph_size\":";
        json_uint(out, ranks[r].size);
        out += ",\"graph\":[";
        bool first = true;
        ranks[r].rows([&](const FlatRow& e) {
            if (!first) out += ',';
            first = false;
            out += "{\"hash\":";
            json_uint(out, e.hash);
            out += ",\"prefix\":";
            json_escape(out, e.prefix);
            out += ",\"depth\":";
            json_int(out, e.depth);
            out += ",\"entry\":";
            json_entry(out, info, *e.entry);
            out += ",\"stats\":";
            json_stats(out, info, e.entry->stats);
            out += ",\"rolling_hash\":";
            json_uint(out, e.rolling_hash);
            if (e.remote) out += ",\"remote\":true";
            if (e.context) out += ",\"context\":true";
            out += '}';
            o.step();
        });
        out += "]}";
    }
    out += "]}";
}

namespace {
FlatRows rows_of(const std::vector<const FlatEntry*>& entries) {
    return [&entries](const std::function<void(const FlatRow&)>& row) {
        FlatRow r;
        r.total = entries.size();
        for (const FlatEntry* e : entries) {
            r.hash         = e->hash;
            r.prefix       = e->prefix;
            r.depth        = e->depth;
            r.entry        = &e->entry;
            r.rolling_hash = e->rolling_hash;
            r.remote       = e->remote;
            r.context      = e->context;
            row(r);
        }
    };
}
}  // namespace

void flat_json(Out& o, const ComponentInfo& info, const std::vector<std::vector<const FlatEntry*>>& ranks,
               const OutputMeta& meta) {
    std::vector<FlatSource> sources;
    for (const auto& r : ranks) sources.push_back({r.size(), rows_of(r)});
    flat_json_rows(o, info, sources, meta);
}

std::string flat_json(const ComponentInfo& info, const std::vector<std::vector<const FlatEntry*>>& ranks,
                      const OutputMeta& meta) {
    Out o;
    flat_json(o, info, ranks, meta);
    return std::move(o.buf);
}

void tree_json(Out& o, const ComponentInfo& info, const std::vector<std::vector<const TreeNode*>>& ranks,
               const OutputMeta& meta, const std::string& ranks_key) {
    auto& out = o.buf;
    out += '{';
    json_metadata(out, info, meta);
    out += ',';
    json_key(out, ranks_key);
    out += '[';
    for (std::size_t r = 0; r < ranks.size(); ++r) {
        if (r) out += ',';
        out += '[';
        for (std::size_t i = 0; i < ranks[r].size(); ++i) {
            if (i) out += ',';
            json_tree_node(o, info, *ranks[r][i]);
        }
        out += ']';
    }
    out += "]}";
}

std::string tree_json(const ComponentInfo& info, const std::vector<std::vector<const TreeNode*>>& ranks,
                      const OutputMeta& meta, const std::string& ranks_key) {
    Out o;
    tree_json(o, info, ranks, meta, ranks_key);
    return std::move(o.buf);
}

void tree_json_walk(Out& o, const ComponentInfo& info, const TreeWalk& rank, const OutputMeta& meta,
                    const std::string& ranks_key) {
    auto& out = o.buf;
    out += '{';
    json_metadata(out, info, meta);
    out += ',';
    json_key(out, ranks_key);
    out += "[[";
    std::vector<std::size_t> written;  // per open node: the children written so far
    std::size_t              roots = 0;
    rank(
        [&](const TreeNode& n) {
            if ((written.empty() ? roots++ : written.back()++) > 0) out += ',';
            json_tree_node_head(out, info, n);
            written.push_back(0);
            o.step();  // on the way down too: a deep chain is never held whole
        },
        [&] {
            out += "]}";
            written.pop_back();
            o.step();
        });
    out += "]]}";
}

namespace {
template <typename T>
std::vector<const T*> pointers(const std::vector<T>& items) {
    std::vector<const T*> out;
    out.reserve(items.size());
    for (const auto& x : items) out.push_back(&x);
    return out;
}
}  // namespace

std::string flat_json(const ComponentInfo& info, const std::vector<std::vector<FlatEntry>>& ranks,
                      const OutputMeta& meta) {
    std::vector<std::vector<const FlatEntry*>> lists;
    for (const auto& r : ranks) lists.push_back(pointers(r));
    return flat_json(info, lists, meta);
}

std::string tree_json(const ComponentInfo& info, const std::vector<std::vector<TreeNode>>& ranks,
                      const OutputMeta& meta, const std::string& ranks_key) {
    std::vector<std::vector<const TreeNode*>> lists;
    for (const auto& r : ranks) lists.push_back(pointers(r));
    return tree_json(info, lists, meta, ranks_key);
}

namespace {

// Inclusive time in µs. Timers keep raw nanoseconds, so timers do not depend
// on the timing_units setting; anything else is taken as seconds after division.
double duration_us(const ComponentInfo& info, const TreeNode& n) {
    double disp[max_values] = {};
    if (unit_at(info, 0) == Unit::timing) {
        to_display(info, n.inclusive.accum, disp);
        return disp[0] / 1000.0;
    }
    display_values(info, n.inclusive.accum, disp);
    return disp[0] * 1.0e6;
}

void flame_event(std::string& out, const TreeNode& n, double ts, double dur, bool& first, long long pid = -1) {
    if (n.is_dummy || n.hash == 0 || n.inclusive.laps <= 0) return;
    if (!first) out += ',';
    first = false;
    out += "{\"dur\":";
    json_number(out, dur, false);
    out += ",\"name\":";
    json_escape(out, n.label);
    out += ",\"ph\":\"X\",\"pid\":";
    json_int(out, pid >= 0 ? pid : (n.pids.empty() ? 0 : *n.pids.begin()));
    out += ",\"tid\":";
    json_int(out, n.tids.empty() ? 0 : *n.tids.begin());
    out += ",\"ts\":";
    json_number(out, ts, false);
    out += '}';
}

// Pre-order with an explicit stack: each child starts where its previous sibling ended.
void flame_events(Out& out, const ComponentInfo& info, const TreeNode& root, double ts, double dur, bool& first) {
    struct Frame {
        const TreeNode* node;
        std::size_t     next;
        double          cursor;
    };
    flame_event(out.buf, root, ts, dur, first);
    std::vector<Frame> stack{{&root, 0, ts}};
    while (!stack.empty()) {
        auto& f = stack.back();
        if (f.next == f.node->children.size()) {
            stack.pop_back();
            continue;
        }
        const TreeNode& c     = f.node->children[f.next++];
        const double    d     = duration_us(info, c);
        const double    start = f.cursor;
        f.cursor += d;
        flame_event(out.buf, c, start, d, first);
        stack.push_back({&c, 0, start});
        out.step();
    }
}

}  // namespace

void flamegraph_json(Out& out, const ComponentInfo& info, const std::vector<const TreeNode*>& roots) {
    out.buf += "{\"traceEvents\":[";
    bool   first = true;
    double ts    = 0.0;
    for (const auto* r : roots) {
        const double d = duration_us(info, *r);
        flame_events(out, info, *r, ts, d, first);
        ts += d;  // dummy roots carry no time, so each thread view starts at 0
    }
    out.buf += "]}";
}

void flamegraph_json_walk(Out& out, const ComponentInfo& info, const TreeWalk& roots) {
    out.buf += "{\"traceEvents\":[";
    bool first = true;
    flamegraph_events_walk(out, info, roots, first, -1);
    out.buf += "]}";
}

void flamegraph_events_walk(Out& out, const ComponentInfo& info, const TreeWalk& roots, bool& first, long long pid) {
    double              ts = 0.0;  // where the next root starts
    std::vector<double> cursor;    // per open node: where its next child starts
    roots(
        [&](const TreeNode& n) {
            const double d     = duration_us(info, n);
            const double start = cursor.empty() ? ts : cursor.back();
            if (cursor.empty()) ts += d;  // dummy roots carry no time: each view starts at 0
            else cursor.back() += d;
            flame_event(out.buf, n, start, d, first, pid);
            cursor.push_back(start);
            out.step();
        },
        [&] {
            cursor.pop_back();
            out.step();
        });
}

std::string flamegraph_json(const ComponentInfo& info, const std::vector<const TreeNode*>& roots) {
    Out o;
    flamegraph_json(o, info, roots);
    return std::move(o.buf);
}

std::string flamegraph_json(const ComponentInfo& info, const std::vector<TreeNode>& roots) {
    return flamegraph_json(info, pointers(roots));
}

// ---------------------------------------------------------------- text table

namespace {

struct NumberFormat {
    int  precision;
    int  width;
    bool scientific;
};

NumberFormat number_format(const ComponentInfo& info, Unit u) {
    const Config& c = config();
    NumberFormat  f{info.precision, info.width, c.scientific};
    if (c.precision >= 0) f.precision = c.precision;
    if (c.width >= 0) f.width = c.width;
    auto specific = [&](int precision, int width, bool scientific) {
        if (precision >= 0) f.precision = precision;
        if (width >= 0) f.width = width;
        f.scientific = f.scientific || scientific;
    };
    if (u == Unit::timing) specific(c.timing_precision, c.timing_width, c.timing_scientific);
    if (u == Unit::memory || u == Unit::memory_rate) specific(c.memory_precision, c.memory_width, c.memory_scientific);
    return f;
}

std::string to_upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

std::string centered(const std::string& s, std::size_t width) {
    if (s.size() >= width) return s;
    const std::size_t left = (width - s.size()) / 2;
    return std::string(left, ' ') + s + std::string(width - s.size() - left, ' ');
}

// printf's %.*f (as to_chars gives it) for the common case, several times faster: the value
// scaled by 10^precision is rounded to an integer, which is exact when the scaled value is
// below 2^40 (its rounding error is then under 2^-13) and not within 1e-3 of a tie; any
// other value returns 0 and is left to to_chars.
std::size_t fixed_fast(char* buf, double v, int precision) {
    static constexpr double        scale[]  = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    static constexpr std::uint64_t iscale[] = {1,      10,      100,      1000,      10000,
                                               100000, 1000000, 10000000, 100000000, 1000000000};
    if (precision < 0 || precision > 9) return 0;
    const bool   neg    = std::signbit(v);
    const double a      = neg ? -v : v;
    const double scaled = a * scale[precision];
    if (!(scaled < 0x1p40)) return 0;  // also NaN and infinities
    const double whole = std::floor(scaled);
    const double frac  = scaled - whole;
    if (std::fabs(frac - 0.5) < 1e-3) return 0;
    const auto q = static_cast<std::uint64_t>(whole) + (frac > 0.5 ? 1 : 0);
    char*      p = buf;
    if (neg) *p++ = '-';
    p = std::to_chars(p, p + 24, q / iscale[precision]).ptr;
    if (precision > 0) {
        *p++   = '.';
        auto f = q % iscale[precision];
        for (int d = precision - 1; d >= 0; --d, f /= 10) p[d] = static_cast<char>('0' + f % 10);
        p += precision;
    }
    return static_cast<std::size_t>(p - buf);
}

// `s` cut to `width` bytes in the middle ("head...tail"), at UTF-8 character boundaries: the
// start names the function, the end often its file and line.
std::string_view shortened(std::string_view s, std::size_t width, std::string& buf) {
    if (width < 8 || s.size() <= width) return s;
    auto boundary = [&](std::size_t i) {
        while (i > 0 && i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
        return i;
    };
    const std::size_t head = boundary((width - 3) * 2 / 3);
    std::size_t       tail = s.size() - (width - 3 - head);
    while (tail < s.size() && (static_cast<unsigned char>(s[tail]) & 0xC0) == 0x80) ++tail;
    buf.assign(s.substr(0, head));
    buf += "...";
    buf += s.substr(tail);
    return buf;
}

// The rows a limit keeps (all when it keeps every row): by self value (value less the
// children's) or, for a metric that is not additive, by value, largest first; each with the
// rows above it, while they fit.
// A row's parent in the table's first pass (4 bytes a row: a table of a million rows keeps
// three such arrays at once).
using RowIndex                   = std::uint32_t;
constexpr RowIndex no_parent_row = static_cast<RowIndex>(-1);

std::vector<char> kept_rows(const TextLimit& limit, const std::vector<double>& key,
                            const std::vector<RowIndex>& parent) {
    const std::size_t n = key.size();
    std::vector<char> keep(n, 1);
    if (limit.max_rows == 0 || n <= limit.max_rows) return keep;
    std::fill(keep.begin(), keep.end(), 0);
    std::vector<RowIndex> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<RowIndex>(i);
    std::stable_sort(order.begin(), order.end(), [&](RowIndex a, RowIndex b) { return key[a] > key[b]; });
    constexpr auto none = no_parent_row;
    std::size_t    kept = 0;
    for (const auto row : order) {
        if (kept == limit.max_rows) break;
        // counted up to the room left: a row too deep to fit costs at most that many steps
        const std::size_t room  = limit.max_rows - kept;
        std::size_t       added = 0;
        for (auto r = row; r != none && !keep[r] && added <= room; r = parent[r]) ++added;
        if (added > room) continue;
        for (auto r = row; r != none && !keep[r]; r = parent[r]) keep[r] = 1;
        kept += added;
    }
    return keep;
}

// The unit that suits a value (in base units: ns, bytes, bytes per second) of unit family u:
// (divisor, name); the divisor 0 when the family has no such choice.
std::pair<double, const char*> row_unit(Unit u, double value) {
    static constexpr std::pair<double, const char*> timing[] = {
        {1e9, "sec"}, {1e6, "msec"}, {1e3, "usec"}, {1.0, "nsec"}};
    static constexpr std::pair<double, const char*> memory[] = {
        {1e12, "TB"}, {1e9, "GB"}, {1e6, "MB"}, {1e3, "KB"}, {1.0, "B"}};
    static constexpr std::pair<double, const char*> rate[] = {
        {1e12, "TB/sec"}, {1e9, "GB/sec"}, {1e6, "MB/sec"}, {1e3, "KB/sec"}, {1.0, "B/sec"}};
    const std::pair<double, const char*>* table = nullptr;
    std::size_t                           n     = 0;
    if (u == Unit::timing) table = timing, n = 4;
    else if (u == Unit::memory) table = memory, n = 5;
    else if (u == Unit::memory_rate) table = rate, n = 5;
    if (!table) return {0.0, ""};
    const double a = std::fabs(value);
    for (std::size_t i = 0; i + 1 < n; ++i)
        if (a >= table[i].first * 0.9995) return table[i];
    return table[n - 1];
}

struct Column {
    std::string header;
    bool        left_align = false;
    std::size_t width      = 0;
};

}  // namespace

const char* const remote_marker = "[parallel] ";
const char* const remote_legend =
    "[parallel]: ran in parallel elsewhere (another thread or process), beneath the call path that "
    "submitted it; not part of that path's inclusive value, nor subtracted from its self value\n";

bool additive(const ComponentInfo& info, int k) {
    // a Python-defined component's values add up when its rule is a sum, whatever its unit
    if (is_user_combine(info.combine)) return info.combine == Combine::sum;
    const auto u = unit_at(info, k);
    return (u == Unit::timing || u == Unit::memory || u == Unit::count || u == Unit::none) &&
           (info.combine == Combine::delta || info.combine == Combine::trip);
}

void text_table_rows(Out& o, const ComponentInfo& info, const FlatRows& rows, const TextLimit& limit) {
    const int         n_disp = std::max(1, std::min(info.n_disp, max_values));
    const int         groups = info.n_disp > 1 ? n_disp : 1;
    const std::size_t ng     = static_cast<std::size_t>(groups);

    std::vector<Column> cols;
    cols.push_back({"LABEL", true, 0});
    cols.push_back({"COUNT", false, 0});
    cols.push_back({"DEPTH", false, 0});
    // The node's value: a sum of its intervals, or for a Python-defined component that keeps
    // the largest, smallest or latest reading that one (VALUE), the mean then of the readings.
    const bool kept_reading = is_user_combine(info.combine) && info.combine != Combine::sum;
    for (int k = 0; k < groups; ++k)
        for (std::string_view h : {"METRIC", "UNITS", "SUM", "MEAN", "MIN", "MAX", "STDDEV", "% SELF"})
            cols.push_back({std::string(kept_reading && h == "SUM" ? "VALUE" : h), h == "METRIC" || h == "UNITS", 0});

    std::vector<NumberFormat> formats;
    for (int k = 0; k < groups; ++k) formats.push_back(number_format(info, unit_at(info, k)));

    // One row's cells (the label is the row's prefix, taken in place), formatted into fixed
    // buffers with to_chars: the same text as printf's %.*f / %.*e, several times faster.
    struct Cell {
        char             buf[400];  // the fixed form of any double fits
        std::string_view text;
    };
    std::vector<Cell>        cells(cols.size());
    std::vector<std::string> metric(ng), units(ng);
    for (std::size_t k = 0; k < ng; ++k) {
        metric[k] = k < info.sub_labels.size() ? info.sub_labels[k] : info.label;
        units[k]  = unit_repr(unit_at(info, static_cast<int>(k)));
    }
    auto number = [](Cell& c, double v, int precision, bool scientific) {
        if (!scientific)
            if (const auto n = fixed_fast(c.buf, v, precision)) {
                c.text = std::string_view(c.buf, n);
                return;
            }
        auto r = std::to_chars(c.buf, c.buf + sizeof c.buf, v,
                               scientific ? std::chars_format::scientific : std::chars_format::fixed, precision);
        c.text = std::string_view(c.buf, r.ec == std::errc{} ? static_cast<std::size_t>(r.ptr - c.buf) : 0);
    };
    auto integer = [](Cell& c, long long v) {
        auto r = std::to_chars(c.buf, c.buf + sizeof c.buf, v);
        c.text = std::string_view(c.buf, static_cast<std::size_t>(r.ptr - c.buf));
    };
    std::vector<char>   self_share(ng), auto_unit(ng);
    std::vector<double> base(ng);  // the configured divisor: display value * base = base units
    for (std::size_t k = 0; k < ng; ++k) {
        const auto u  = unit_at(info, static_cast<int>(k));
        self_share[k] = additive(info, static_cast<int>(k));
        auto_unit[k]  = (u == Unit::timing && limit.auto_timing) ||
                        ((u == Unit::memory || u == Unit::memory_rate) && limit.auto_memory);
        base[k]       = unit_divisor(u);
    }
    double disp[max_values] = {};
    auto   make             = [&](const FlatRow& e, const double* children) {
        const bool ran = e.entry->laps > 0;
        integer(cells[1], e.entry->laps);
        integer(cells[2], e.depth);
        display_values(info, e.entry->accum, disp);
        const auto stats = display_stats(info, e.entry->stats);
        for (std::size_t k = 0; k < ng; ++k) {
            auto*       c   = &cells[3 + 8 * k];
            const auto& f   = formats[k];
            const int   p   = std::clamp(f.precision, 0, 32);
            const auto  sum = disp[k];
            c[0].text       = metric[k];
            c[1].text       = units[k];
            if (!ran) {
                for (int m = 2; m < 8; ++m) c[m].text = "-";
                continue;
            }
            double scale = 1.0;
            if (auto_unit[k] && sum != 0.0) {
                const auto unit = row_unit(unit_at(info, static_cast<int>(k)), sum * base[k]);
                if (unit.first > 0.0) {
                    scale     = base[k] / unit.first;
                    c[1].text = unit.second;
                }
            }
            number(c[2], sum * scale, p, f.scientific);
            number(c[3], kept_reading ? stats.mean[k] * scale : sum * scale / static_cast<double>(e.entry->laps), p,
                   f.scientific);
            number(c[4], stats.min[k] * scale, p, f.scientific);
            number(c[5], stats.max[k] * scale, p, f.scientific);
            number(c[6], stats.stddev[k] * scale, p, f.scientific);
            if (!self_share[k]) c[7].text = "-";  // a rate's or a reading's "self" means nothing
            else number(c[7], sum != 0.0 ? 100.0 * (sum - children[k]) / sum : 0.0, 1, false);
        }
    };
    const int max_depth = config().max_depth;

    // First pass: the sums of each row's direct children (the stack holds the rows on the
    // current path, so each row adds itself to its parent), then the column widths. The
    // rows are made again when written rather than kept: a million rows of cells would take
    // several times the size of the table.
    // With a row limit, also each row's parent and first value, to choose the rows kept.
    std::vector<double>   children;
    std::vector<double>   first;
    std::vector<RowIndex> parent;
    // the row limit needs a row's index in 32 bits (4 billion rows: no table is that long)
    const bool limited = limit.max_rows > 0;
    {
        std::vector<std::pair<std::size_t, int>> path;  // (row, depth)
        double                                   d[max_values] = {};
        std::size_t                              j             = 0;
        rows([&](const FlatRow& e) {
            if (j == 0 && e.total > 0) {
                // sized once: grown by doubling they would take up to twice the room
                children.reserve(e.total * ng);
                if (limited) {
                    first.reserve(e.total);
                    parent.reserve(e.total);
                }
            }
            display_values(info, e.entry->accum, d);
            children.resize(children.size() + ng, 0.0);
            while (!path.empty() && path.back().second >= e.depth) path.pop_back();
            const bool child = !path.empty() && path.back().second == e.depth - 1;
            // a remote row ran in parallel elsewhere: not part of its parent's value
            if (child && !e.remote)
                for (std::size_t k = 0; k < ng; ++k) children[path.back().first * ng + k] += d[k];
            if (limited) {
                first.push_back(e.entry->laps > 0 ? d[0] : 0.0);
                parent.push_back(child ? static_cast<RowIndex>(path.back().first) : no_parent_row);
            }
            path.emplace_back(j++, e.depth);
        });
    }
    std::vector<char> keep;
    std::size_t       left_out = 0;
    if (limited) {
        if (self_share[0])
            for (std::size_t r = 0; r < first.size(); ++r) first[r] -= children[r * ng];
        keep = kept_rows(limit, first, parent);
        for (const char k : keep) left_out += k ? 0 : 1;
        // not needed by the passes that write the table
        std::vector<double>().swap(first);
        std::vector<RowIndex>().swap(parent);
    }
    auto shown = [&](std::size_t row) { return !limited || (row < keep.size() && keep[row]); };
    // A label longer than max_width is shortened in the middle (the DEPTH column keeps the
    // depth its indentation showed).
    const auto  label_width = static_cast<std::size_t>(std::max(config().max_width, 0));
    std::string short_buf, marked_buf;
    auto        label_of = [&](const FlatRow& e) {
        std::string_view prefix = e.prefix;
        if (e.remote) {
            // the marker goes after the indentation ("|_"), before the label
            marked_buf.assign(prefix);
            const auto  arrow = marked_buf.find(">>> ");
            std::size_t at    = 0;
            if (arrow != std::string::npos) {
                const auto indent = marked_buf.find("|_", arrow);
                at                = indent == std::string::npos ? arrow + 4 : indent + 2;
            }
            marked_buf.insert(at, remote_marker);
            prefix = marked_buf;
        }
        return label_width ? shortened(prefix, label_width, short_buf) : prefix;
    };
    bool any_remote = false;
    for (auto& c : cols) c.width = c.header.size();
    bool any_ran = false;
    {
        std::size_t i = 0;
        rows([&](const FlatRow& e) {
            const std::size_t row = i++;
            if (e.depth > max_depth || row * ng >= children.size() || !shown(row)) return;
            make(e, &children[row * ng]);
            any_ran       = any_ran || e.entry->laps > 0;
            any_remote    = any_remote || e.remote;
            cols[0].width = std::max(cols[0].width, label_of(e).size());
            for (std::size_t c = 1; c < cols.size(); ++c) cols[c].width = std::max(cols[c].width, cells[c].text.size());
        });
    }
    // printf's field width of the numbers (SUM to STDDEV) of rows that ran
    if (any_ran)
        for (std::size_t k = 0; k < ng; ++k)
            for (int m = 2; m < 7; ++m) {
                auto& w = cols[3 + 8 * k + static_cast<std::size_t>(m)].width;
                // printf pads each number to the width (the column does it here)
                w = std::max(w, static_cast<std::size_t>(std::clamp(formats[k].width, 0, 64)));
            }
    std::size_t total = 1;                      // leading '|'
    for (auto& c : cols) total += c.width + 3;  // " cell |"
    // A long description widens the label column instead of breaking the frame.
    const std::string banner = to_upper(info.description);
    if (banner.size() + 4 > total) {
        cols[0].width += banner.size() + 4 - total;
        total = banner.size() + 4;
    }

    auto&             out  = o.buf;
    const std::string rule = "|" + std::string(total - 2, '-') + "|\n";
    out += rule + "|" + centered(banner, total - 2) + "|\n" + rule + "|";
    for (const auto& c : cols) out += " " + centered(c.header, c.width) + " |";
    out += "\n|";
    for (const auto& c : cols) out += std::string(c.width + 2, '-') + "|";
    out += '\n';
    std::size_t i = 0;
    // Each pass reads the graph anew: a program still recording (a background checkpoint)
    // may have added rows since the first pass, which the next write has, and widened cells.
    rows([&](const FlatRow& e) {
        const std::size_t row = i++;
        if (e.depth > max_depth || row * ng >= children.size() || !shown(row)) return;
        make(e, &children[row * ng]);
        out += '|';
        for (std::size_t c = 0; c < cols.size(); ++c) {
            const std::string_view s   = c == 0 ? label_of(e) : cells[c].text;
            const auto             pad = s.size() < cols[c].width ? cols[c].width - s.size() : 0;
            out += ' ';
            if (!cols[c].left_align) out.append(pad, ' ');
            out += s;
            if (cols[c].left_align) out.append(pad, ' ');
            out += " |";
        }
        out += '\n';
        o.step();
    });
    out += rule;
    if (any_remote) out += remote_legend;
    if (left_out > 0) {
        out += "... and " + std::to_string(left_out) + (left_out == 1 ? " more row" : " more rows");
        out += limit.more + "\n";
    }
}

void text_table(Out& o, const ComponentInfo& info, const std::vector<const FlatEntry*>& entries,
                const TextLimit& limit) {
    text_table_rows(o, info, rows_of(entries), limit);
}

std::string text_table(const ComponentInfo& info, const std::vector<const FlatEntry*>& entries,
                       const TextLimit& limit) {
    Out o;
    text_table(o, info, entries, limit);
    return std::move(o.buf);
}

// ---------------------------------------------------------------- files

namespace {
// "a/b/c.json" -> "a/b"; "c.json" -> ""; "/c.json" -> "/".
std::string parent_dir(const std::string& path) {
    const auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return {};
    return slash == 0 ? std::string("/") : path.substr(0, slash);
}

// mkdir -p. POSIX calls rather than std::filesystem: the latter pulls libstdc++'s locale
// machinery into the extension, a large part of timemory's resident size at import.
int make_directories(const std::string& dir) {
    struct stat st{};
    if (dir.empty() || ::stat(dir.c_str(), &st) == 0) {
        return (dir.empty() || S_ISDIR(st.st_mode)) ? 0 : ENOTDIR;
    }
    if (const auto parent = parent_dir(dir); !parent.empty() && parent != dir) {
        if (int err = make_directories(parent)) return err;
    }
    if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) return errno;
    return 0;
}
}  // namespace

AtomicFile::~AtomicFile() {
    if (fd_ >= 0) {
        ::close(fd_);
        ::unlink(tmp_.c_str());
    }
}

bool AtomicFile::open(const std::string& path, std::string* error) {
    path_ = path;
    dir_  = parent_dir(path);
    if (int err = make_directories(dir_)) {
        if (error) *error = "cannot create directory '" + dir_ + "': " + std::strerror(err);
        return false;
    }
    // Hidden, unique temp name in the same directory: rename() is atomic only
    // within a filesystem, and '*.json' globs must not pick up partial files.
    static std::atomic<unsigned> counter{0};
    const std::string            base = path.substr(dir_.empty() ? 0 : path.find_last_of('/') + 1);
    tmp_ = (dir_.empty() ? std::string() : (dir_ == "/" ? dir_ : dir_ + "/")) + "." + base + ".tmp." +
           std::to_string(::getpid()) + "." + std::to_string(counter++);
    fd_  = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd_ < 0) {
        if (error) *error = "cannot create '" + tmp_ + "': " + std::strerror(errno);
        return false;
    }
    return true;
}

void AtomicFile::write(std::string_view data) {
    if (fd_ < 0 || err_) return;
    for (std::size_t done = 0; done < data.size();) {
        ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            err_  = errno;
            what_ = "cannot write";
            return;
        }
        done += static_cast<std::size_t>(n);
    }
}

bool AtomicFile::commit(std::string* error) {
    auto fail = [&](const char* what, int err) {
        if (error) *error = std::string(what) + " '" + path_ + "': " + std::strerror(err);
        return false;
    };
    if (fd_ < 0) return fail("cannot write", EBADF);
    if (!err_ && ::fsync(fd_) != 0) {
        err_  = errno;
        what_ = "cannot sync";
    }
    const int closed = ::close(fd_);
    const int cerr   = errno;
    fd_              = -1;
    if (!err_ && closed != 0) {
        err_  = cerr;
        what_ = "cannot close";
    }
    if (!err_ && ::rename(tmp_.c_str(), path_.c_str()) != 0) {
        err_  = errno;
        what_ = "cannot rename temporary file to";
    }
    if (err_) {
        ::unlink(tmp_.c_str());
        return fail(what_, err_);
    }
    // Persist the directory entry too; a failure here loses nothing already visible.
    int dfd = ::open(dir_.empty() ? "." : dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return true;
}

bool atomic_write(const std::string& path, const std::string& content, std::string* error) {
    return atomic_write(path, std::vector<std::string_view>{content}, error);
}

bool atomic_write(const std::string& path, const std::vector<std::string_view>& parts, std::string* error) {
    AtomicFile file;
    if (!file.open(path, error)) return false;
    for (const auto& part : parts) file.write(part);
    return file.commit(error);
}

std::string text_table(const ComponentInfo& info, const std::vector<FlatEntry>& entries, const TextLimit& limit) {
    return text_table(info, pointers(entries), limit);
}

}  // namespace tim
