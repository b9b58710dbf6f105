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

void json_escape(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    for (std::size_t i = 0; i < s.size();) {
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
                    if (c < 0x20) {
                        out += "\\u00";
                        out += hex[c >> 4];
                        out += hex[c & 0xf];
                    } else {
                        out += static_cast<char>(c);
                    }
            }
            ++i;
            continue;
        }
        // Copy a well-formed UTF-8 sequence as is (no overlongs, surrogates or > U+10FFFF).
        std::size_t n  = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
        bool        ok = n > 0 && c <= 0xf4 && i + n <= s.size();
        for (std::size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
        if (ok && n >= 3) {
            const auto c1 = static_cast<unsigned char>(s[i + 1]);
            ok            = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0) && !(c == 0xf0 && c1 < 0x90) &&
                            !(c == 0xf4 && c1 >= 0x90);
        }
        if (ok) {
            out.append(s.data() + i, n);
            i += n;
        } else {
            out += "\\ufffd";
            ++i;
        }
    }
    out += '"';
}

void json_number(std::string& out, double v, bool integral) {
    if (!std::isfinite(v)) {
        out += "null";
        return;
    }
    char buf[64];
    if (integral) {
        auto r = std::fabs(v) < 9.2e18 ? std::to_chars(buf, buf + sizeof buf, static_cast<long long>(std::llround(v)))
                                       : std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 0);
        out.append(buf, r.ptr);
        return;
    }
    // Shortest round-trip digits, laid out like Python's float repr so the JSON
    // reads the same as what json.dumps would produce for the same value.
    auto             r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
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

void json_tree_node(std::string& out, const ComponentInfo& info, const TreeNode& n) {
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
    out += ",\"inclusive\":{\"entry\":";
    json_entry(out, info, n.inclusive);
    out += ",\"stats\":";
    json_stats(out, info, n.inclusive.stats);
    out += "},\"exclusive\":{\"entry\":";
    json_entry(out, info, n.exclusive);
    out += ",\"stats\":";
    json_stats(out, info, n.exclusive.stats);
    out += "}},\"children\":[";
    for (std::size_t i = 0; i < n.children.size(); ++i) {
        if (i) out += ',';
        json_tree_node(out, info, n.children[i]);
    }
    out += "]}";
}

}  // namespace

// ---------------------------------------------------------------- JSON views

std::string flat_json(const ComponentInfo& info, const std::vector<std::vector<const FlatEntry*>>& ranks,
                      const OutputMeta& meta) {
    std::string out = "{";
    json_metadata(out, info, meta);
    out += ",\"ranks\":[";
    for (std::size_t r = 0; r < ranks.size(); ++r) {
        if (r) out += ',';
        out += "{\"rank\":";
        json_uint(out, r);
        out += ",\"graph_size\":";
        json_uint(out, ranks[r].size());
        out += ",\"graph\":[";
        bool first = true;
        for (const FlatEntry* p : ranks[r]) {
            const auto& e = *p;
            if (!first) out += ',';
            first = false;
            out += "{\"hash\":";
            json_uint(out, e.hash);
            out += ",\"prefix\":";
            json_escape(out, e.prefix);
            out += ",\"depth\":";
            json_int(out, e.depth);
            out += ",\"entry\":";
            json_entry(out, info, e.entry);
            out += ",\"stats\":";
            json_stats(out, info, e.entry.stats);
            out += ",\"rolling_hash\":";
            json_uint(out, e.rolling_hash);
            out += '}';
        }
        out += "]}";
    }
    out += "]}";
    return out;
}

std::string tree_json(const ComponentInfo& info, const std::vector<std::vector<const TreeNode*>>& ranks,
                      const OutputMeta& meta, const std::string& ranks_key) {
    std::string out = "{";
    json_metadata(out, info, meta);
    out += ',';
    json_key(out, ranks_key);
    out += '[';
    for (std::size_t r = 0; r < ranks.size(); ++r) {
        if (r) out += ',';
        out += '[';
        for (std::size_t i = 0; i < ranks[r].size(); ++i) {
            if (i) out += ',';
            json_tree_node(out, info, *ranks[r][i]);
        }
        out += ']';
    }
    out += "]}";
    return out;
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

void flame_events(std::string& out, const ComponentInfo& info, const TreeNode& n, double ts, double dur, bool& first) {
    if (!n.is_dummy && n.hash != 0 && n.inclusive.laps > 0) {
        if (!first) out += ',';
        first = false;
        out += "{\"dur\":";
        json_number(out, dur, false);
        out += ",\"name\":";
        json_escape(out, n.label);
        out += ",\"ph\":\"X\",\"pid\":";
        json_int(out, n.pids.empty() ? 0 : *n.pids.begin());
        out += ",\"tid\":";
        json_int(out, n.tids.empty() ? 0 : *n.tids.begin());
        out += ",\"ts\":";
        json_number(out, ts, false);
        out += '}';
    }
    for (const auto& c : n.children) {
        const double d = duration_us(info, c);
        flame_events(out, info, c, ts, d, first);
        ts += d;
    }
}

}  // namespace

std::string flamegraph_json(const ComponentInfo& info, const std::vector<const TreeNode*>& roots) {
    std::string out   = "{\"traceEvents\":[";
    bool        first = true;
    double      ts    = 0.0;
    for (const auto* r : roots) {
        const double d = duration_us(info, *r);
        flame_events(out, info, *r, ts, d, first);
        ts += d;  // dummy roots carry no time, so each thread view starts at 0
    }
    out += "]}";
    return out;
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

std::string format_number(double v, const NumberFormat& f) {
    char buf[128];
    std::snprintf(buf, sizeof buf, f.scientific ? "%*.*e" : "%*.*f", std::min(f.width, 64),
                  std::clamp(f.precision, 0, 32), v);
    return buf;
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

struct Column {
    std::string              header;
    bool                     left_align = false;
    std::vector<std::string> cells;
    std::size_t              width = 0;
};

}  // namespace

std::string text_table(const ComponentInfo& info, const std::vector<const FlatEntry*>& entries) {
    const int n_disp = std::max(1, std::min(info.n_disp, max_values));
    const int groups = info.n_disp > 1 ? n_disp : 1;

    std::vector<Column> cols;
    cols.push_back({"LABEL", true, {}, 0});
    cols.push_back({"COUNT", false, {}, 0});
    cols.push_back({"DEPTH", false, {}, 0});
    for (int k = 0; k < groups; ++k)
        for (std::string_view h : {"METRIC", "UNITS", "SUM", "MEAN", "MIN", "MAX", "STDDEV", "% SELF"})
            cols.push_back({std::string(h), h == "METRIC" || h == "UNITS", {}, 0});

    std::vector<NumberFormat> formats;
    for (int k = 0; k < groups; ++k) formats.push_back(number_format(info, unit_at(info, k)));

    std::vector<std::array<double, max_values>> disp(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) display_values(info, entries[i]->entry.accum, disp[i].data());

    for (std::size_t i = 0; i < entries.size(); ++i) {
        const auto& e = *entries[i];
        if (e.depth > config().max_depth) continue;
        const bool ran = e.entry.laps > 0;
        cols[0].cells.push_back(e.prefix);
        cols[1].cells.push_back(std::to_string(e.entry.laps));
        cols[2].cells.push_back(std::to_string(e.depth));

        // Direct children follow in pre-order until the depth returns to ours.
        double children[max_values] = {};
        for (std::size_t j = i + 1; j < entries.size() && entries[j]->depth > e.depth; ++j)
            if (entries[j]->depth == e.depth + 1)
                for (int k = 0; k < groups; ++k) children[k] += disp[j][static_cast<std::size_t>(k)];

        const auto stats = display_stats(info, e.entry.stats);
        for (int k = 0; k < groups; ++k) {
            auto*       c   = &cols[3 + 8 * static_cast<std::size_t>(k)];
            const auto& f   = formats[static_cast<std::size_t>(k)];
            const auto  sum = disp[i][static_cast<std::size_t>(k)];
            c[0].cells.push_back(static_cast<std::size_t>(k) < info.sub_labels.size()
                                     ? info.sub_labels[static_cast<std::size_t>(k)]
                                     : info.label);
            c[1].cells.push_back(unit_repr(unit_at(info, k)));
            if (!ran) {
                for (int m = 2; m < 8; ++m) c[m].cells.push_back("-");
                continue;
            }
            char self[32];
            std::snprintf(self, sizeof self, "%.1f", sum != 0.0 ? 100.0 * (sum - children[k]) / sum : 0.0);
            c[2].cells.push_back(format_number(sum, f));
            c[3].cells.push_back(format_number(sum / static_cast<double>(e.entry.laps), f));
            c[4].cells.push_back(format_number(stats.min[k], f));
            c[5].cells.push_back(format_number(stats.max[k], f));
            c[6].cells.push_back(format_number(stats.stddev[k], f));
            c[7].cells.push_back(self);
        }
    }

    std::size_t total = 1;  // leading '|'
    for (auto& c : cols) {
        c.width = c.header.size();
        for (const auto& s : c.cells) c.width = std::max(c.width, s.size());
        total += c.width + 3;  // " cell |"
    }
    // A long description widens the label column instead of breaking the frame.
    const std::string banner = to_upper(info.description);
    if (banner.size() + 4 > total) {
        cols[0].width += banner.size() + 4 - total;
        total = banner.size() + 4;
    }

    const std::string rule = "|" + std::string(total - 2, '-') + "|\n";
    std::string       out  = rule + "|" + centered(banner, total - 2) + "|\n" + rule + "|";
    for (const auto& c : cols) out += " " + centered(c.header, c.width) + " |";
    out += "\n|";
    for (const auto& c : cols) out += std::string(c.width + 2, '-') + "|";
    out += '\n';
    for (std::size_t r = 0; r < cols[0].cells.size(); ++r) {
        out += '|';
        for (const auto& c : cols) {
            const auto& s   = c.cells[r];
            const auto  pad = std::string(c.width - s.size(), ' ');
            out += ' ';
            out += c.left_align ? s + pad : pad + s;
            out += " |";
        }
        out += '\n';
    }
    out += rule;
    return out;
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

bool atomic_write(const std::string& path, const std::string& content, std::string* error) {
    return atomic_write(path, std::vector<std::string_view>{content}, error);
}

bool atomic_write(const std::string& path, const std::vector<std::string_view>& parts, std::string* error) {
    auto fail = [&](const std::string& what, const std::string& p, int err) {
        if (error) *error = what + " '" + p + "': " + std::strerror(err);
        return false;
    };

    const std::string dir = parent_dir(path);
    if (int err = make_directories(dir)) return fail("cannot create directory", dir, err);

    // Hidden, unique temp name in the same directory: rename() is atomic only
    // within a filesystem, and '*.json' globs must not pick up partial files.
    static std::atomic<unsigned> counter{0};
    const std::string            base = path.substr(dir.empty() ? 0 : path.find_last_of('/') + 1);
    const std::string tmp = (dir.empty() ? std::string() : (dir == "/" ? dir : dir + "/")) + "." + base + ".tmp." +
                            std::to_string(::getpid()) + "." + std::to_string(counter++);
    int               fd  = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) return fail("cannot create", tmp, errno);

    auto abandon = [&](const char* what, int err) {
        ::close(fd);
        ::unlink(tmp.c_str());
        return fail(what, path, err);
    };
    for (const auto& content : parts) {
        for (std::size_t done = 0; done < content.size();) {
            ssize_t n = ::write(fd, content.data() + done, content.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return abandon("cannot write", errno);
            done += static_cast<std::size_t>(n);
        }
    }
    if (::fsync(fd) != 0) return abandon("cannot sync", errno);
    if (::close(fd) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return fail("cannot close", path, err);
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return fail("cannot rename temporary file to", path, err);
    }
    // Persist the directory entry too; a failure here loses nothing already visible.
    int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return true;
}

std::string text_table(const ComponentInfo& info, const std::vector<FlatEntry>& entries) {
    return text_table(info, pointers(entries));
}

}  // namespace tim
