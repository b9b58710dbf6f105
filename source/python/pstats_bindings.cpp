// Where functions are (the sources the profiler registers with their hashes, saved in
// functions.json and registered again from it) and the pstats aggregation over the joined
// walk: per function (file, line, name) the primitive and total calls, self and cumulative
// time and the same per caller, as cProfile's stats dict holds them.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "bindings.hpp"
#include "storage_views.hpp"
#include "timemory/storage/call_graph.hpp"
#include "timemory/storage/joined.hpp"

namespace py = pybind11;

namespace timemory_python {
namespace {

// (hash, file, line, name) of every registered source, in registration order.
py::list sources_list() {
    py::list out;
    for (const auto& s : tim::hash_sources()) out.append(py::make_tuple(s.hash, s.file, s.line, s.name));
    return out;
}

// Registers each (hash, file, line, name) of `entries` (functions.json's "sources": lists
// or tuples). ValueError naming the first entry that is not one; the entries before it are
// registered (a source is a fact about a hash: registering it twice changes nothing).
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
        tim::add_hash_source(hash, seq[1].cast<std::string>(), static_cast<int>(line), seq[3].cast<std::string>());
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

struct Function {
    std::string file;
    int         line = 0;
    std::string name;
    Counts      own;
    // by caller function id (node-based: a Counts stays where it is while the map grows, so
    // the stack points at its edges' counts)
    std::unordered_map<int, Counts> callers;
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
        Counts*           edge = g < 0 ? nullptr : &fn.callers[g];
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
        for (std::size_t i = 0; i < funcs_.size(); ++i)
            keys[i] = py::make_tuple(funcs_[i].file, funcs_[i].line, funcs_[i].name);
        py::dict out;
        for (std::size_t i = 0; i < funcs_.size(); ++i) {
            const Function& fn = funcs_[i];
            py::dict        callers;
            for (const auto& [g, c] : fn.callers)
                callers[keys[static_cast<std::size_t>(g)]] = py::make_tuple(c.nc, c.cc, c.tt, c.ct);
            out[keys[i]] = py::make_tuple(fn.own.cc, fn.own.nc, fn.own.tt, fn.own.ct, callers);
        }
        return out;
    }

private:
    struct Frame {
        int     func;
        Counts* edge;  // the (caller, func) edge's counts; null at the top level
    };
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
        std::string     file, name;
        int             line = 0;
        if (tim::hash_source(row.hash, src)) {
            file = std::move(src.file);
            line = src.line;
            name = std::move(src.name);
        } else {
            file = "~";
            name = std::string(tim::plain_label(row.label, tim::hash_where(row.hash)));
        }
        std::string key = file;
        key.push_back('\0');
        key += std::to_string(line);
        key.push_back('\0');
        key += name;
        auto [it, fresh] = by_key_.try_emplace(std::move(key), static_cast<int>(funcs_.size()));
        if (fresh) {
            Function fn;
            fn.file = std::move(file);
            fn.line = line;
            fn.name = std::move(name);
            funcs_.push_back(std::move(fn));
        }
        by_hash_.emplace(row.hash, it->second);
        return it->second;
    }

    int                                    column_;
    double                                 scale_;
    std::deque<Function>                   funcs_;  // push_back moves none: the stack points into them
    std::unordered_map<std::uint64_t, int> by_hash_;
    std::unordered_map<std::string, int>   by_key_;
    std::vector<Frame>                     stack_;  // the ancestors of the row visited
};

// pstats_functions: the stats dict of `source` with the time of component `time_index`.
py::dict pstats_functions(const py::object& source, int rank, bool copy, int time_index) {
    const tim::JoinSource src     = join_source_of(source, rank, copy);
    const auto            indices = src.indices();
    const auto            at      = std::find(indices.begin(), indices.end(), time_index);
    if (at == indices.end()) throw py::value_error("time_index is not a component of the source");
    const auto& info = info_at(time_index);
    if (info.units.size() != 1 || info.units[0] != tim::Unit::timing || info.combine != tim::Combine::delta)
        throw py::value_error("a pstats file holds time: " + info.key + " is not a timer");
    PstatsAggregate agg(static_cast<int>(at - indices.begin()), 1e-9);  // ns -> seconds
    {
        py::gil_scoped_release nogil;  // the walk reads native data only: threads keep running
        tim::for_each_joined(src, [&](const tim::JoinedRow& row) { agg.visit(row); });
    }
    return agg.result();
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
            return py::make_tuple(s.file, s.line, s.name);
        },
        py::arg("hash"), "(file, line, name) registered with `hash`, or None (a marker, an unknown hash).");
    m.def("add_hash_sources", &add_sources, py::arg("entries"),
          "Registers (hash, file, line, name) entries (functions.json's \"sources\", read back); returns how "
          "many. ValueError naming the first malformed entry.");
    m.def("pstats_functions", &pstats_functions, py::arg("source"), py::arg("rank"), py::arg("copy"),
          py::arg("time_index"),
          "cProfile's stats dict of `source` (the joined walk's convention) with the time of component "
          "`time_index` in seconds: {(file, line, name): (cc, nc, tt, ct, {caller: (nc, cc, tt, ct)})}, "
          "cc the primitive calls (not made while the function was already running), ct the inclusive "
          "time of those; the same per caller edge (in cProfile's order: nc first).");
}

}  // namespace timemory_python
