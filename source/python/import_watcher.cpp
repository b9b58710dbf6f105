// ImportWatcher: a sys.meta_path entry whose find_spec is native, so that the imports of a
// profiled program do not show timemory's import watch as Python calls.
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <pybind11/stl.h>

#include "bindings.hpp"

namespace py = pybind11;

namespace timemory_python {
namespace {

// A sys.meta_path entry whose find_spec is native, so that the imports of a profiled
// program do not show timemory's import watch as Python calls: it hands the watched
// names only to `found(name, path, target)` (timemory._import_hooks), and returns None for
// every other name.
struct ImportWatcher {
    py::object                      found;
    std::unordered_set<std::string> names;
};

}  // namespace

void add_import_watcher(py::module_& m) {
    py::class_<ImportWatcher>(m, "ImportWatcher", "A sys.meta_path entry that reports the import of watched modules.")
        .def(py::init([](py::object found) { return ImportWatcher{std::move(found), {}}; }), py::arg("found"))
        .def(
            "watch", [](ImportWatcher& w, const std::string& name) { w.names.insert(name); }, py::arg("name"))
        .def(
            "unwatch", [](ImportWatcher& w, const std::string& name) { w.names.erase(name); }, py::arg("name"))
        .def("watching",
             [](const ImportWatcher& w) { return std::vector<std::string>(w.names.begin(), w.names.end()); })
        .def(
            "find_spec",
            [](ImportWatcher& w, const py::str& name, const py::object& path, const py::object& target) -> py::object {
                if (w.names.empty() || w.names.count(static_cast<std::string>(name)) == 0) return py::none();
                return w.found(name, path, target);
            },
            py::arg("name"), py::arg("path") = py::none(), py::arg("target") = py::none());
}

}  // namespace timemory_python
