// Bindings of what merging other processes' data needs besides the packing itself: which
// component a packed list holds (a Python-defined component is named by its identity, its
// index differs between processes that registered in another order), and the table's filled
// slots of Python-defined components (the ones a process sends besides the built-in ones).
#include <stdexcept>
#include <string>
#include <string_view>

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "timemory/components/component_info.hpp"
#include "timemory/storage/serialize.hpp"

namespace py = pybind11;

namespace timemory_python {
namespace {

const char* combine_rule(tim::Combine c) {
    switch (c) {
        case tim::Combine::maximum: return "max";
        case tim::Combine::minimum: return "min";
        case tim::Combine::latest: return "last";
        default: return "sum";
    }
}

}  // namespace

void add_merge_bindings(py::module_& m) {
    m.def(
        "packed_component",
        [](const py::bytes& data) -> py::object {
            const std::string_view view = data;
            tim::PackedComponent   c;
            try {
                c = tim::packed_component(view);
            } catch (const std::invalid_argument& err) {
                throw py::value_error(err.what());
            }
            if (c.keyed_native) {  // a perf:: event's row: made here by its name if need be
                const int local = tim::find_component(c.key);
                if (local < 0) throw py::value_error("packed data of component '" + c.key + "', unknown here");
                return py::int_(local);
            }
            if (!c.user) return py::int_(c.index);
            // the spec register_user_component takes (a row with no class holds the data)
            py::dict spec;
            spec["index"]       = c.index;
            spec["key"]         = c.key;
            spec["class_name"]  = c.class_name;
            spec["label"]       = c.label;
            spec["description"] = c.description;
            spec["name"]        = "'" + c.key + "' (" + c.class_name + ", measured by another process)";
            spec["combine"]     = combine_rule(c.combine);
            py::list units;
            for (const auto& [divisor, repr] : c.units) units.append(py::make_tuple(divisor, repr));
            spec["units"]      = units;
            spec["sub_labels"] = c.sub_labels;
            spec["has_start"]  = false;
            spec["has_stop"]   = false;
            spec["has_sample"] = false;
            return spec;
        },
        py::arg("data"),
        "The component of packed flat or tree data: the sender's index of a built-in one, the "
        "spec of a Python-defined one (for register_user_component(None, spec), which finds "
        "its row by key or makes a row that holds data only); its 'index' is the sender's.");
    m.def(
        "user_component_indices",
        [] {
            std::vector<int> out;
            const auto&      table = tim::component_table();
            for (int i = tim::builtin_component_count(); i < tim::component_count(); ++i)
                if (!table[static_cast<std::size_t>(i)].class_name.empty()) out.push_back(i);
            return out;
        },
        "The table indices of the registered Python-defined components (and of the rows made "
        "for other processes' ones).");
}

}  // namespace timemory_python
