// Bindings of the snapshot table (tim::GraphTable): _core.GraphTable exports its records
// through the buffer protocol, read-only, so NumPy views them without a copy and keeps the
// table alive through the array's base; _core.graph_table builds one from a source.
#include <memory>
#include <string>

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "storage_views.hpp"
#include "timemory/storage/graph_table.hpp"

namespace py = pybind11;
using tim::GraphTable;

namespace timemory_python {

void add_table_bindings(py::module_& m) {
    py::class_<GraphTable, std::shared_ptr<GraphTable>>(
        m, "GraphTable", py::buffer_protocol(),
        "A snapshot of call graphs: fixed-size records in one block, exported read-only as "
        "bytes (describe it with `fields`)")
        .def_buffer([](const GraphTable& t) {
            // an empty table still hands out a valid pointer (its records' storage may be null)
            static const std::uint64_t empty = 0;
            const void*                ptr   = t.rows() ? t.data() : &empty;
            return py::buffer_info(const_cast<void*>(ptr), 1, py::format_descriptor<std::uint8_t>::format(), 1,
                                   {static_cast<py::ssize_t>(t.size_bytes())}, {1}, /*readonly=*/true);
        })
        .def("__len__", &GraphTable::rows)
        .def_property_readonly("rows", &GraphTable::rows)
        .def_property_readonly("itemsize", &GraphTable::record_bytes, "bytes per record")
        .def_property_readonly("nested", &GraphTable::nested, "values nested per component key")
        .def_property_readonly(
            "fields",
            [](const GraphTable& t) {
                py::list out;
                for (const auto& f : t.fields()) {
                    py::tuple shape = f.count ? py::make_tuple(f.count) : py::tuple();
                    out.append(py::make_tuple(f.component, f.name, f.offset, std::string(1, f.kind), f.size, shape));
                }
                return out;
            },
            "(component key or '' for a top-level field, name, byte offset in the record, NumPy "
            "kind, bytes per element, subarray shape) per field, in record order")
        .def_property_readonly(
            "labels",
            [](const GraphTable& t) {
                py::list out(static_cast<py::ssize_t>(t.label_count()));
                for (std::size_t i = 0; i < t.label_count(); ++i) {
                    const auto s = t.label(i);
                    PyObject*  u = PyUnicode_DecodeUTF8(s.data(), static_cast<py::ssize_t>(s.size()), "replace");
                    if (!u) throw py::error_already_set();
                    PyList_SET_ITEM(out.ptr(), static_cast<py::ssize_t>(i), u);
                }
                return out;
            },
            "the labels, indexed by the records' label codes")
        .def_property_readonly("files", &GraphTable::files, "the files, indexed by the records' file codes")
        .def_property_readonly("indices", &GraphTable::component_indices, "component enum indices, in column order")
        .def_property_readonly("components", &GraphTable::component_keys, "component keys, in column order")
        .def_property_readonly("value_names", &GraphTable::value_names, "per component: the names of its values")
        .def_property_readonly("value_units", &GraphTable::value_units,
                               "per component: the base unit of each value (ns, B, B/sec, %, '' for counts)");

    m.def(
        "graph_table",
        [](const py::object& source, int rank, bool copy, bool nested) {
            const tim::JoinSource src = join_source_of(source, rank, copy);
            auto                  out = std::make_shared<GraphTable>();
            {
                // the walk locks each live graph it reads; loaded trees belong to the
                // batches `source` holds, alive until this call returns (std::invalid_argument
                // becomes ValueError)
                py::gil_scoped_release nogil;
                *out = GraphTable::build(src, nested);
            }
            return out;
        },
        py::arg("source"), py::arg("rank") = 0, py::arg("copy") = false, py::arg("nested") = false,
        "The snapshot table of `source` (component indices: this process's live graphs; or "
        "(index, ranks) tuples of loaded trees); `nested`: values per component key");
}

}  // namespace timemory_python
