// Bindings of the writers: the flat and tree JSON, the flame graph, the text table, and the
// atomic write of a file from str and bytes parts.
#include <string>
#include <string_view>
#include <vector>

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "storage_views.hpp"
#include "timemory/output/writers.hpp"

namespace py = pybind11;
using namespace tim;

namespace timemory_python {
namespace {

OutputMeta meta_from(const py::dict& d) {
    OutputMeta m;
    auto       get = [&](const char* k, int& dst) {
        if (d.contains(k)) dst = d[k].cast<int>();
    };
    get("thread_count", m.thread_count);
    get("mpi_size", m.mpi_size);
    get("upcxx_size", m.upcxx_size);
    get("process_count", m.process_count);
    get("num_ranks", m.num_ranks);
    get("concurrency", m.concurrency);
    return m;
}

}  // namespace

void add_output_bindings(py::module_& m) {
    m.def(
        "flat_json",
        [](int index, const py::sequence& ranks, const py::dict& meta) {
            const auto&                                info = info_at(index);
            std::vector<std::vector<const FlatEntry*>> lists;
            for (auto r : ranks) lists.push_back(entries_of(r));
            const OutputMeta       m = meta_from(meta);
            py::gil_scoped_release nogil;  // the entries belong to the batches `ranks` holds
            return flat_json(info, lists, m);
        },
        py::arg("index"), py::arg("ranks"), py::arg("meta") = py::dict());
    m.def(
        "tree_json",
        [](int index, const py::sequence& ranks, const py::dict& meta, const std::string& key) {
            const auto&                               info = info_at(index);
            std::vector<std::vector<const TreeNode*>> lists;
            for (auto r : ranks) lists.push_back(tree_ptrs_of(r));
            const OutputMeta       m = meta_from(meta);
            py::gil_scoped_release nogil;  // the nodes belong to the batches `ranks` holds
            return tree_json(info, lists, m, key);
        },
        py::arg("index"), py::arg("ranks"), py::arg("meta") = py::dict(), py::arg("ranks_key") = "graph");
    m.def(
        "flamegraph_json",
        [](int index, const py::handle& roots) {
            const auto&            info  = info_at(index);
            const auto             nodes = tree_ptrs_of(roots);
            py::gil_scoped_release nogil;  // the nodes belong to the batches `roots` holds
            return flamegraph_json(info, nodes);
        },
        py::arg("index"), py::arg("roots"));
    m.def(
        "text_table",
        [](int index, const py::handle& entries) {
            const auto&            info = info_at(index);
            const auto             list = entries_of(entries);
            py::gil_scoped_release nogil;  // the entries belong to the batch `entries` holds
            return text_table(info, list);
        },
        py::arg("index"), py::arg("entries"));
    m.def(
        "atomic_write",
        [](const std::string& path, const py::args& parts) {
            // each part is read in place (str: its UTF-8 form, cached by Python; bytes as they are)
            std::vector<std::string_view> views;
            for (const auto& part : parts) {
                if (PyUnicode_Check(part.ptr())) {
                    Py_ssize_t  n = 0;
                    const char* p = PyUnicode_AsUTF8AndSize(part.ptr(), &n);
                    if (!p) throw py::error_already_set();
                    views.emplace_back(p, static_cast<std::size_t>(n));
                } else if (PyBytes_Check(part.ptr())) {
                    views.emplace_back(PyBytes_AS_STRING(part.ptr()),
                                       static_cast<std::size_t>(PyBytes_GET_SIZE(part.ptr())));
                } else {
                    throw py::type_error("atomic_write(path, *parts) takes str or bytes parts");
                }
            }
            std::string err;
            bool        ok = false;
            {
                py::gil_scoped_release nogil;  // the parts stay alive in `parts`; fsync can take long
                ok = atomic_write(path, views, &err);
            }
            if (!ok) throw py::value_error(err);  // OSError mapped in Python
        },
        py::arg("path"), "Write the parts (str or bytes), in order, to a file via temp file + rename.");
}

}  // namespace timemory_python
