// Bindings of the exports in other tools' formats (speedscope, callgrind): each streams the
// joined walk of a source (live components of this process, or trees read back) into a file.
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "file_stream.hpp"
#include "storage_views.hpp"
#include "timemory/output/exports.hpp"

namespace py = pybind11;

namespace timemory_python {
namespace {

// Streams one export of `source` into the file `path` without the GIL (the trees a loaded
// source points into stay alive in `source`); a failure raises ValueError naming the path
// (OSError in Python).
template <typename W>
void export_to(const py::object& path, const py::handle& source, int rank, bool copy, const std::string& name,
               const std::string& creator, W write) {
    const std::string     file = fs_path(path);
    const tim::JoinSource src  = join_source_of(source, rank, copy);
    tim::ExportOptions    opt{name, creator};
    std::string           err;
    bool                  ok = false;
    {
        py::gil_scoped_release nogil;
        ok = write(file, src, opt, &err);
    }
    if (!ok) throw py::value_error(err);
}

}  // namespace

void add_export_bindings(py::module_& m) {
    m.def(
        "export_values",
        [](const std::vector<int>& indices) {
            py::list out;
            for (const auto& v : tim::export_values(indices)) out.append(py::make_tuple(v.index, v.k, v.name, v.unit));
            return out;
        },
        py::arg("indices"),
        "(index, value, name, unit) of each value of these components that the speedscope and callgrind "
        "exports carry (the values that nest along the call graph), in order.");
    m.def(
        "write_speedscope",
        [](const py::object& path, const py::handle& source, int rank, bool copy, const std::string& name,
           const std::string& creator) { export_to(path, source, rank, copy, name, creator, tim::write_speedscope); },
        py::arg("path"), py::arg("source"), py::arg("rank") = 0, py::arg("copy") = false, py::arg("name") = "",
        py::arg("creator") = "",
        "speedscope's JSON file format of `source` (live component indices, or (index, ranks of trees) pairs) "
        "streamed into the file `path`, atomically: an evented profile per additive value of each component "
        "and per thread view, laid out as a flame graph.");
    m.def(
        "write_callgrind",
        [](const py::object& path, const py::handle& source, int rank, bool copy, const std::string& name,
           const std::string& creator) { export_to(path, source, rank, copy, name, creator, tim::write_callgrind); },
        py::arg("path"), py::arg("source"), py::arg("rank") = 0, py::arg("copy") = false, py::arg("name") = "",
        py::arg("creator") = "",
        "The callgrind profile format of `source` (live component indices, or (index, ranks of trees) pairs) "
        "streamed into the file `path`, atomically: a part per thread view, an event per additive value of "
        "each component.");
}

}  // namespace timemory_python
