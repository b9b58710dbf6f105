// Where functions are (the sources the profiler registers with their hashes, saved in
// functions.json and registered again from it) and the pstats aggregation over the joined
// walk: per function (file, line, name) the primitive and total calls, self and cumulative
// time and the same per caller, as cProfile's stats dict holds them.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "bindings.hpp"
#include "storage_views.hpp"
#include "timemory/output/writers.hpp"
#include "timemory/storage/call_graph.hpp"
#include "timemory/storage/joined.hpp"

namespace py = pybind11;

namespace timemory_python {
namespace {

// The marshal format (Python/marshal.c) of what the stats dict holds, written straight from
// the aggregate: `marshal.loads` reads it as the dict `marshal.dumps` would make (any marshal
// version Python 3.4+ reads), with no Python object per function.
namespace marshal {
void int32(std::string& out, std::int32_t v) {
    char       b[4];
    const auto u = static_cast<std::uint32_t>(v);
    for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((u >> (8 * i)) & 0xFF);
    out.append(b, 4);
}
void integer(std::string& out, std::int64_t v) {
    if (v >= INT32_MIN && v <= INT32_MAX) {
        out += 'i';
        return int32(out, static_cast<std::int32_t>(v));
    }
    // TYPE_LONG: the digit count (negative for a negative number), then base-2**15 digits
    std::uint64_t mag = v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
    std::string   digits;
    std::int32_t  n = 0;
    for (; mag; mag >>= 15, ++n) {
        const auto d = static_cast<std::uint16_t>(mag & 0x7FFF);
        digits += static_cast<char>(d & 0xFF);
        digits += static_cast<char>(d >> 8);
    }
    out += 'l';
    int32(out, v < 0 ? -n : n);
    out += digits;
}
void real(std::string& out, double v) {  // TYPE_BINARY_FLOAT: the IEEE double, little-endian
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    out += 'g';
    for (int i = 0; i < 8; ++i) out += static_cast<char>((bits >> (8 * i)) & 0xFF);
}
// Appends `s` with every byte sequence that is not UTF-8 replaced by U+FFFD: marshal's str
// is UTF-8 that loads() decodes strictly (a name read back from a hostile file, say).
void valid_utf8(std::string& out, std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto  c     = static_cast<unsigned char>(s[i]);
        std::size_t len   = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        bool        whole = len > 0 && i + len <= s.size();  // a lead byte and its continuations
        for (std::size_t k = 1; whole && k < len; ++k) whole = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
        if (!whole) {
            out += "\xEF\xBF\xBD";
            ++i;
            continue;
        }
        bool ok = true;
        if (len > 1) {  // no overlong forms, surrogates (a lone one is one U+FFFD) or past U+10FFFF
            std::uint32_t cp = c & (0x7F >> len);
            for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
            ok = cp >= (len == 2   ? 0x80u
                        : len == 3 ? 0x800u
                                   : 0x10000u) &&
                 cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
        }
        if (ok) out.append(s.data() + i, len);
        else out += "\xEF\xBF\xBD";
        i += len;
    }
}
void str(std::string& out, std::string_view s) {
    std::string text;
    valid_utf8(text, s);
    out += 'u';  // TYPE_UNICODE: the byte count, then UTF-8
    int32(out, static_cast<std::int32_t>(text.size()));
    out += text;
}
void tuple(std::string& out, std::uint8_t n) {  // TYPE_SMALL_TUPLE, its items follow
    out += ')';
    out += static_cast<char>(n);
}
void dict_begin(std::string& out) { out += '{'; }
void dict_end(std::string& out) { out += '0'; }  // TYPE_NULL ends a dict
}  // namespace marshal

// A str of text that may not be UTF-8 (a name read back from a hostile file): every invalid
// sequence becomes U+FFFD, as in the marshalled file.
py::str py_text(std::string_view s) {
    std::string text;
    marshal::valid_utf8(text, s);
    return py::str(text);
}

// The UTF-8 of a str, lone surrogates included (encoded as they are: py_text and the
// marshalled file replace them); throws TypeError for anything else.
std::string utf8_of(const py::handle& obj) {
    auto bytes = py::reinterpret_steal<py::object>(PyUnicode_AsEncodedString(obj.ptr(), "utf-8", "surrogatepass"));
    if (!bytes) throw py::error_already_set();
    return std::string(PyBytes_AS_STRING(bytes.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(bytes.ptr())));
}

// (hash, file, line, name) of every registered source, in registration order.
py::list sources_list() {
    py::list out;
    for (const auto& s : tim::hash_sources())
        out.append(py::make_tuple(s.hash, py_text(s.file), s.line, py_text(s.name)));
    return out;
}

// Registers each (hash, file, line, name) of `entries` (functions.json's "sources": lists
// or tuples), over what the hash had: the folder read back is what gets exported next.
// ValueError naming the first entry that is not one; the entries before it are registered.
std::size_t add_sources(const py::iterable& entries) {
    std::size_t at = 0;
    for (const py::handle& item : entries) {
        const bool         sequence = py::isinstance<py::list>(item) || py::isinstance<py::tuple>(item);
        const auto         seq      = sequence ? py::reinterpret_borrow<py::sequence>(item) : py::sequence();
        const bool         ok       = sequence && py::len(seq) == 4 && py::isinstance<py::int_>(seq[0]) &&
                                      !py::isinstance<py::bool_>(seq[0]) && py::isinstance<py::str>(seq[1]) &&
                                      py::isinstance<py::int_>(seq[2]) && !py::isinstance<py::bool_>(seq[2]) &&
                                      py::isinstance<py::str>(seq[3]);
        long long          line     = -1;
        unsigned long long hash     = 0;
        if (ok) {
            hash = PyLong_AsUnsignedLongLong(seq[0].ptr());
            if (PyErr_Occurred()) PyErr_Clear(), hash = 0;
            line = PyLong_AsLongLong(seq[2].ptr());
            if (PyErr_Occurred()) PyErr_Clear(), line = -1;
        }
        if (!ok || hash == 0 || line < 0 || line > INT32_MAX)
            throw py::value_error("sources[" + std::to_string(at) +
                                  "] is not [hash, file, line, name] (a hash from 1 to 2**64-1, a line from 0)");
        tim::add_hash_source(hash, utf8_of(seq[1]), static_cast<int>(line), utf8_of(seq[3]), true);
        ++at;
    }
    return at;
}

// ---------------------------------------------------------------- the pstats aggregation
// cProfile's counts from a call graph: a node's path from the top level is the call stack its
// calls had, so a call of f is primitive when no ancestor node is f (cProfile's reccallcount
// counts the calls made while f was already running), and f's cumulative time is the
// inclusive time of those outermost calls only. The same per caller edge (g, f): its calls
// nested inside another call along the same edge are not primitive, and only the outermost
// edge's inclusive time counts (_lsprof's subentry recursionLevel).
struct Counts {
    std::int64_t cc     = 0;  // primitive calls
    std::int64_t nc     = 0;  // all calls
    double       tt     = 0;  // self time
    double       ct     = 0;  // inclusive time of the primitive calls
    int          active = 0;  // calls of this function (this edge) on the stack of the row visited
    void         add(std::int64_t laps, double self, double incl, bool primitive) {
        nc += laps;
        tt += self;
        if (primitive) {
            cc += laps;
            ct += incl;
        }
    }
};

// About 90 bytes a function and 70 an edge (a graph of 1M distinct functions is 1M of each):
// the file interned, the edges in one table, the keys written out when marshalled.
struct Function {
    std::uint32_t file = 0;  // into PstatsAggregate::files_
    int           line = 0;
    std::string   name;
    Counts        own;
};

class PstatsAggregate {
public:
    explicit PstatsAggregate(int column, double scale) : column_(column), scale_(scale) {}

    void visit(const tim::JoinedRow& row) {
        const auto depth = static_cast<std::size_t>(row.depth < 0 ? 0 : row.depth);
        while (stack_.size() > depth) leave();
        const int         f    = function_of(row);
        const int         g    = stack_.empty() ? -1 : stack_.back().func;
        Function&         fn   = funcs_[static_cast<std::size_t>(f)];
        Counts*           edge = g < 0 ? nullptr : &edges_[edge_key(f, g)];  // node-based: stays put
        const tim::Entry* inc  = row.inclusive[static_cast<std::size_t>(column_)];
        const tim::Entry* exc  = row.exclusive[static_cast<std::size_t>(column_)];
        if (inc) {
            const std::int64_t laps = inc->laps;
            const double       incl = inc->stats.sum[0] * scale_;
            const double       self = (exc ? exc->stats.sum[0] : inc->stats.sum[0]) * scale_;
            fn.own.add(laps, self, incl, fn.own.active == 0);
            if (edge) edge->add(laps, self, incl, edge->active == 0);
        }
        ++fn.own.active;
        if (edge) ++edge->active;
        stack_.push_back({f, edge});
    }

    // {(file, line, name): (cc, nc, tt, ct, {caller: (nc, cc, tt, ct)})}: cProfile's stats dict
    // (its callers' tuples hold nc before cc: pstats reads them so).
    py::dict result() const {
        std::vector<py::tuple> keys(funcs_.size());
        std::vector<py::dict>  callers(funcs_.size());
        for (std::size_t i = 0; i < funcs_.size(); ++i)
            keys[i] = py::make_tuple(py_text(files_[funcs_[i].file]), funcs_[i].line, py_text(funcs_[i].name));
        for (const auto& [key, c] : edges_)
            callers[callee_of(key)][keys[caller_of(key)]] = py::make_tuple(c.nc, c.cc, c.tt, c.ct);
        py::dict out;
        for (std::size_t i = 0; i < funcs_.size(); ++i) {
            const Function& fn = funcs_[i];
            out[keys[i]]       = py::make_tuple(fn.own.cc, fn.own.nc, fn.own.tt, fn.own.ct, callers[i]);
        }
        return out;
    }

    // The same dict in the marshal format, into `out` (handed to its sink function by function).
    void marshal(tim::Out& out) const {
        // the edges grouped by callee: (callee, caller) in order, pointing at their counts
        std::vector<std::pair<std::uint64_t, const Counts*>> by_callee;
        by_callee.reserve(edges_.size());
        for (const auto& [key, c] : edges_) by_callee.emplace_back(key, &c);
        std::sort(by_callee.begin(), by_callee.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        auto& b    = out.buf;
        auto  next = by_callee.begin();
        marshal::dict_begin(b);
        for (std::size_t i = 0; i < funcs_.size(); ++i) {
            const Function& fn = funcs_[i];
            key(b, i);
            marshal::tuple(b, 5);
            marshal::integer(b, fn.own.cc);
            marshal::integer(b, fn.own.nc);
            marshal::real(b, fn.own.tt);
            marshal::real(b, fn.own.ct);
            marshal::dict_begin(b);
            for (; next != by_callee.end() && callee_of(next->first) == i; ++next) {
                const Counts& c = *next->second;
                key(b, caller_of(next->first));
                marshal::tuple(b, 4);
                marshal::integer(b, c.nc);
                marshal::integer(b, c.cc);
                marshal::real(b, c.tt);
                marshal::real(b, c.ct);
                out.step();
            }
            marshal::dict_end(b);
            out.step();
        }
        marshal::dict_end(b);
    }

private:
    struct Frame {
        int     func;
        Counts* edge;  // the (caller, func) edge's counts; null at the top level
    };
    // an edge: the callee in the high half (the marshalled file groups the edges by callee)
    static std::uint64_t edge_key(int callee, int caller) {
        return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(callee)) << 32) |
               static_cast<std::uint32_t>(caller);
    }
    static std::size_t callee_of(std::uint64_t key) { return static_cast<std::size_t>(key >> 32); }
    static std::size_t caller_of(std::uint64_t key) { return static_cast<std::size_t>(key & 0xFFFFFFFFu); }

    void key(std::string& b, std::size_t i) const {
        marshal::tuple(b, 3);
        marshal::str(b, files_[funcs_[i].file]);
        marshal::integer(b, funcs_[i].line);
        marshal::str(b, funcs_[i].name);
    }
    void leave() {
        const Frame fr = stack_.back();
        stack_.pop_back();
        --funcs_[static_cast<std::size_t>(fr.func)].own.active;
        if (fr.edge) --fr.edge->active;
    }
    // The function id of a row's node: its key is the registered source (file, line, name),
    // else ("~", 0, the label without its " [where]"): a marker's, or a function read from a
    // folder saved without sources. Hashes with the same key (a function labelled with each
    // call's arguments) are one function.
    int function_of(const tim::JoinedRow& row) {
        auto hit = by_hash_.find(row.hash);
        if (hit != by_hash_.end()) return hit->second;
        tim::HashSource src;
        if (!tim::hash_source(row.hash, src)) {
            src.file = "~";
            src.line = 0;
            src.name = std::string(tim::plain_label(row.label, tim::hash_where(row.hash)));
        }
        auto [file, fresh_file] = file_ids_.try_emplace(src.file, static_cast<std::uint32_t>(files_.size()));
        if (fresh_file) files_.push_back(src.file);
        // functions by a 64-bit digest of their key, the key compared on a hit (a digest shared by
        // two keys goes on to the next one)
        std::uint64_t digest = tim::hash_label(src.name, std::to_string(file->second) + ":" + std::to_string(src.line));
        int           id     = -1;
        for (;; ++digest) {
            auto [it, fresh]      = by_key_.try_emplace(digest, static_cast<int>(funcs_.size()));
            const Function* known = fresh ? nullptr : &funcs_[static_cast<std::size_t>(it->second)];
            if (fresh) {
                funcs_.push_back(Function{file->second, src.line, std::move(src.name), Counts{}});
                id = it->second;
                break;
            }
            if (known->file == file->second && known->line == src.line && known->name == src.name) {
                id = it->second;
                break;
            }
        }
        by_hash_.emplace(row.hash, id);
        return id;
    }

    int                                            column_;
    double                                         scale_;
    std::deque<Function>                           funcs_;  // push_back moves none: the stack points into them
    std::unordered_map<std::uint64_t, Counts>      edges_;  // by edge_key
    std::vector<std::string>                       files_;
    std::unordered_map<std::string, std::uint32_t> file_ids_;
    std::unordered_map<std::uint64_t, int>         by_hash_;
    std::unordered_map<std::uint64_t, int>         by_key_;  // by digest of (file, line, name)
    std::vector<Frame>                             stack_;   // the ancestors of the row visited
};

// The aggregate of `source` with the time of component `time_index`. ValueError when that is
// not a timer of the source. The walk runs without the GIL (it reads native data only).
PstatsAggregate aggregate_of(const py::object& source, int rank, bool copy, int time_index) {
    const tim::JoinSource src     = join_source_of(source, rank, copy);
    const auto            indices = src.indices();
    const auto            at      = std::find(indices.begin(), indices.end(), time_index);
    if (at == indices.end()) throw py::value_error("time_index is not a component of the source");
    const auto& info = info_at(time_index);
    if (info.units.size() != 1 || info.units[0] != tim::Unit::timing || info.combine != tim::Combine::delta)
        throw py::value_error("a pstats file holds time: " + info.key + " is not a timer");
    PstatsAggregate        agg(static_cast<int>(at - indices.begin()), 1e-9);  // ns -> seconds
    py::gil_scoped_release nogil;
    tim::for_each_joined(src, [&](const tim::JoinedRow& row) { agg.visit(row); });
    return agg;
}

py::dict pstats_functions(const py::object& source, int rank, bool copy, int time_index) {
    return aggregate_of(source, rank, copy, time_index).result();
}

py::bytes pstats_marshal(const py::object& source, int rank, bool copy, int time_index) {
    const PstatsAggregate agg = aggregate_of(source, rank, copy, time_index);
    tim::Out              out;
    {
        py::gil_scoped_release nogil;
        agg.marshal(out);
    }
    return py::bytes(out.buf);
}

// Streams the marshalled dict into the file `path` (bytes or str: the file system's
// encoding): a temporary created exclusively in its folder, fsynced, renamed over `path`;
// never held whole. A failure raises ValueError naming the path (OSError in Python).
void write_pstats(const py::object& path, const py::object& source, int rank, bool copy, int time_index) {
    auto fs = py::reinterpret_steal<py::object>(PyOS_FSPath(path.ptr()));
    if (!fs) throw py::error_already_set();
    if (PyUnicode_Check(fs.ptr())) fs = py::reinterpret_steal<py::object>(PyUnicode_EncodeFSDefault(fs.ptr()));
    if (!fs) throw py::error_already_set();
    const std::string     target(PyBytes_AS_STRING(fs.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(fs.ptr())));
    const PstatsAggregate agg = aggregate_of(source, rank, copy, time_index);
    std::string           err;
    bool                  ok = false;
    {
        py::gil_scoped_release nogil;
        tim::AtomicFile        file;
        if (file.open(target, &err)) {
            tim::Out out;
            out.stream([&](std::string_view chunk) { file.write(chunk); });
            agg.marshal(out);
            out.flush();
            ok = file.commit(&err);
        }
    }
    if (!ok) throw py::value_error(err);
}

}  // namespace

void add_pstats_bindings(py::module_& m) {
    m.def("hash_sources", &sources_list,
          "(hash, file, line, name) of every function whose source was registered (the profiler does, "
          "once per code object; C functions are ('~', 0)), in registration order.");
    m.def(
        "hash_source",
        [](std::uint64_t hash) -> py::object {
            tim::HashSource s;
            if (!tim::hash_source(hash, s)) return py::none();
            return py::make_tuple(py_text(s.file), s.line, py_text(s.name));
        },
        py::arg("hash"), "(file, line, name) registered with `hash`, or None (a marker, an unknown hash).");
    m.def("add_hash_sources", &add_sources, py::arg("entries"),
          "Registers (hash, file, line, name) entries (functions.json's \"sources\", read back) over the "
          "sources those hashes had; returns how many. ValueError naming the first malformed entry.");
    m.def("pstats_functions", &pstats_functions, py::arg("source"), py::arg("rank"), py::arg("copy"),
          py::arg("time_index"),
          "cProfile's stats dict of `source` (the joined walk's convention) with the time of component "
          "`time_index` in seconds: {(file, line, name): (cc, nc, tt, ct, {caller: (nc, cc, tt, ct)})}, "
          "cc the primitive calls (not made while the function was already running), ct the inclusive "
          "time of those; the same per caller edge (in cProfile's order: nc first).");
    m.def("pstats_marshal", &pstats_marshal, py::arg("source"), py::arg("rank"), py::arg("copy"), py::arg("time_index"),
          "marshal.dumps(pstats_functions(...)) made natively (no Python object per function): the "
          "bytes of a pstats file.");
    m.def("write_pstats", &write_pstats, py::arg("path"), py::arg("source"), py::arg("rank"), py::arg("copy"),
          py::arg("time_index"),
          "The pstats file of `source` streamed into the file `path` (atomically, never held whole).");
}

}  // namespace timemory_python
