// Where functions are (the sources the profiler registers with their hashes, saved in
// functions.json and registered again from it) and the pstats aggregation over the joined
// walk: per function (file, line, name) the primitive and total calls, self and cumulative
// time and the same per caller, as cProfile's stats dict holds them.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "bindings.hpp"
#include "timemory/storage/call_graph.hpp"

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
}

}  // namespace timemory_python
