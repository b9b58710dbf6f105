#include "timemory/storage/graph_table.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <unordered_map>

namespace tim {

namespace {

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser: spreads any key over the slots
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// Codes for distinct keys, in order of first appearance: an open-addressing table of codes
// (the keys themselves are kept by the caller), so a new key costs no allocation of its own
// (the slots grow by doubling) and a million distinct labels do not make a million nodes.
class CodeIndex {
public:
    // The code of the key hashing to `h`: eq(code) says whether an existing code's key is the
    // one looked for; add() stores a new key (its code is the number of codes before it).
    template <typename Eq, typename Add>
    std::int32_t code(std::uint64_t h, Eq&& eq, Add&& add) {
        if (2 * (hashes_.size() + 1) > slots_.size()) rehash(std::max<std::size_t>(64, 2 * slots_.size()));
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = mix(h) & mask;; i = (i + 1) & mask) {
            const std::int32_t s = slots_[i];
            if (s == 0) {
                const auto c = static_cast<std::int32_t>(hashes_.size());
                add();
                hashes_.push_back(h);
                slots_[i] = c + 1;
                return c;
            }
            if (hashes_[static_cast<std::size_t>(s - 1)] == h && eq(s - 1)) return s - 1;
        }
    }

private:
    void rehash(std::size_t n) {
        slots_.assign(n, 0);
        const std::size_t mask = n - 1;
        for (std::size_t c = 0; c < hashes_.size(); ++c) {
            std::size_t i = mix(hashes_[c]) & mask;
            while (slots_[i] != 0) i = (i + 1) & mask;
            slots_[i] = static_cast<std::int32_t>(c + 1);
        }
    }
    std::vector<std::int32_t>  slots_;   // code + 1; 0 empty
    std::vector<std::uint64_t> hashes_;  // the hash of each code's key
};

template <typename T>
void put(unsigned char* rec, std::size_t offset, T value) {
    std::memcpy(rec + offset, &value, sizeof(T));
}

std::string trimmed(const std::string& s) {
    const auto b = s.find_first_not_of(' ');
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(' ') - b + 1);
}

// Nodes of one component's loaded trees, dummy roots left out.
std::size_t tree_nodes(const JoinSource::Loaded& l) {
    std::size_t                  n = 0;
    std::vector<const TreeNode*> stack;
    for (const auto& rank : l.ranks)
        for (const TreeNode* root : rank) {
            if (root) stack.push_back(root);
            while (!stack.empty()) {
                const TreeNode* t = stack.back();
                stack.pop_back();
                if (!t->is_dummy) ++n;
                for (const auto& c : t->children) stack.push_back(&c);
            }
        }
    return n;
}

}  // namespace

std::string base_unit_name(Unit u) {
    switch (u) {
        case Unit::timing: return "ns";
        case Unit::memory: return "B";
        case Unit::memory_rate: return "B/sec";
        case Unit::percent: return "%";
        default:
            // a Python-defined component's values are what it returned: in its display unit
            // when it has no scale (else in a unit the table does not know)
            if (u >= Unit::custom_base && unit_divisor(u) == 1.0) return unit_repr(u);
            return "";
    }
}

GraphTable GraphTable::build(const JoinSource& src, bool nested) {
    GraphTable t;
    t.nested_  = nested;
    t.indices_ = src.indices();
    if (!nested && t.indices_.size() > 1)
        throw std::invalid_argument("a table of several components nests their values (nested=True)");
    const auto&                       table = component_table();
    const std::size_t                 ncomp = t.indices_.size();
    std::vector<int>                  width(ncomp);  // values per component
    std::vector<const ComponentInfo*> infos(ncomp);
    std::vector<std::size_t>          start(ncomp);  // offset of each component's count or sum

    // ---- the fields
    auto field = [&t](std::string comp, std::string name, std::size_t offset, char kind, int size, int count) {
        t.fields_.push_back(GraphTableField{std::move(comp), std::move(name), offset, kind, size, count});
    };
    field("", "node", 0, 'i', 8, 0);
    field("", "parent", 8, 'i', 8, 0);
    field("", "depth", 16, 'i', 4, 0);
    field("", "rank", 20, 'i', 4, 0);
    field("", "pid", 24, 'i', 8, 0);
    field("", "thread", 32, 'i', 4, 0);
    field("", "label", 36, 'i', 4, 0);
    field("", "file", 40, 'i', 4, 0);
    field("", "line", 44, 'i', 4, 0);
    field("", "hash", 48, 'u', 8, 0);
    field("", "count", 56, 'i', 8, 0);
    std::size_t offset = header_bytes;
    for (std::size_t c = 0; c < ncomp; ++c) {
        const int index = t.indices_[c];
        if (index < 0 || static_cast<std::size_t>(index) >= table.size())
            throw std::invalid_argument("no component of index " + std::to_string(index));
        const auto& info = table[static_cast<std::size_t>(index)];
        infos[c]         = &info;
        width[c]         = std::clamp(info.n_disp, 0, max_values);
        const int n      = width[c];
        t.keys_.push_back(info.key);
        auto& names = t.value_names_.emplace_back();
        auto& units = t.value_units_.emplace_back();
        for (int k = 0; k < n; ++k) {
            const auto ku = static_cast<std::size_t>(k);
            if (info.sub_labels.size() == static_cast<std::size_t>(n)) names.push_back(trimmed(info.sub_labels[ku]));
            else names.push_back(n == 1 ? info.label : info.label + "_" + std::to_string(k));
            units.push_back(base_unit_name(ku < info.units.size() ? info.units[ku] : Unit::none));
        }
        const std::string comp = nested ? info.key : std::string();
        start[c]               = offset;
        if (nested) {
            field(comp, "count", offset, 'i', 8, 0);
            offset += 8;
        }
        // a component of one value has scalar fields, of n > 1 values (n,) subarrays
        for (const char* name : value_fields) {
            field(comp, name, offset, 'f', 8, n == 1 ? 0 : n);
            offset += 8 * static_cast<std::size_t>(n);
        }
    }
    t.record_bytes_             = offset;
    const std::size_t rec_words = offset / 8;

    // ---- rows: reserved by the graphs' sizes (the largest component: a bundle records its
    // components under the same nodes), grown geometrically only when the graphs grew since
    std::size_t expect = 0;
    if (!src.live.empty()) {
        for (int index : src.live) expect = std::max(expect, graph_size(index));
    } else {
        for (const auto& l : src.loaded) expect = std::max(expect, tree_nodes(l));
    }
    t.words_.reserve(expect * rec_words);
    // the label and source tables grow by doubling: most graphs have far fewer distinct
    // labels than nodes, so they are not reserved by the graph's size
    t.label_start_.push_back(0);
    CodeIndex                                          labels;
    CodeIndex                                          sources;  // node hash -> (file, line)
    std::vector<std::pair<std::int32_t, std::int32_t>> where;
    std::unordered_map<std::string, std::int32_t>      file_codes;
    std::string                                        file;  // hash_source's, reused

    double values[max_values];
    for_each_joined(src, [&](const JoinedRow& row) {
        // one record more: within the reservation no allocation, past it the vector doubles
        // (each record's memory is touched once, here, not zeroed ahead of the walk too)
        t.words_.resize(t.words_.size() + rec_words);
        auto* rec = reinterpret_cast<unsigned char*>(t.words_.data()) + t.rows_ * t.record_bytes_;

        // the label's code
        const std::string_view label = row.label;
        const std::int32_t     lcode = labels.code(
            std::hash<std::string_view>{}(label),
            [&](std::int32_t c) { return t.label(static_cast<std::size_t>(c)) == label; },
            [&] {
                t.label_pool_.append(label);
                t.label_start_.push_back(t.label_pool_.size());
            });
        // where the code is, asked once per node hash
        const std::int32_t scode = sources.code(
            row.hash, [](std::int32_t) { return true; },
            [&] {
                int line = 0;
                file.clear();
                std::int32_t fcode = -1;
                if (hash_source(row.hash, file, line) && !file.empty()) {
                    auto it = file_codes.find(file);
                    if (it == file_codes.end()) {
                        it = file_codes.emplace(file, static_cast<std::int32_t>(t.files_.size())).first;
                        t.files_.push_back(file);
                    }
                    fcode = it->second;
                } else {
                    line = 0;
                }
                where.emplace_back(fcode, line);
            });
        const auto& [fcode, line] = where[static_cast<std::size_t>(scode)];

        std::int64_t count = 0;
        for (std::size_t c = 0; c < ncomp; ++c)
            if (row.inclusive[c]) {
                count = row.inclusive[c]->laps;
                break;
            }
        put<std::int64_t>(rec, 0, static_cast<std::int64_t>(t.rows_));
        put<std::int64_t>(rec, 8, row.parent);
        put<std::int32_t>(rec, 16, row.depth);
        put<std::int32_t>(rec, 20, row.rank);
        put<std::int64_t>(rec, 24, row.pid);
        put<std::int32_t>(rec, 32, row.tid);
        put<std::int32_t>(rec, 36, lcode);
        put<std::int32_t>(rec, 40, fcode);
        put<std::int32_t>(rec, 44, line);
        put<std::uint64_t>(rec, 48, row.hash);
        put<std::int64_t>(rec, 56, count);

        for (std::size_t c = 0; c < ncomp; ++c) {
            const Entry*      inc = row.inclusive[c];
            const Entry*      exc = row.exclusive[c];
            const auto        n   = static_cast<std::size_t>(width[c]);
            const std::size_t vb  = 8 * n;  // bytes of one value field
            unsigned char*    p   = rec + start[c];
            if (nested) {
                put<std::int64_t>(p, 0, inc ? inc->laps : 0);
                p += 8;
            }
            if (!inc) {
                std::memset(p, 0, 6 * vb);
                continue;
            }
            std::memcpy(p, inc->stats.sum, vb);
            std::memcpy(p + vb, inc->stats.min, vb);
            std::memcpy(p + 2 * vb, inc->stats.max, vb);
            std::memcpy(p + 3 * vb, inc->stats.sqr, vb);
            // self and inclusive: the display values of the accumulations, before unit
            // division (what data().get() and the files' repr_data show, times the unit)
            to_display(*infos[c], (exc ? exc : inc)->accum, values);
            std::memcpy(p + 4 * vb, values, vb);
            to_display(*infos[c], inc->accum, values);
            std::memcpy(p + 5 * vb, values, vb);
        }
        ++t.rows_;
    });
    // a graph that shrank (cleared during the walk) leaves no large unused reservation behind
    if (t.words_.capacity() > t.words_.size() + t.words_.size() / 4 + 64) t.words_.shrink_to_fit();
    return t;
}

}  // namespace tim
