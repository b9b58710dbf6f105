// Bindings of the component table: descriptions, names, units, the resolver of component
// names (the native side of timemory._components.resolve) and single readings.
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "resolver.hpp"
#include "timemory/components/component_info.hpp"
#include "timemory/components/rusage.hpp"
#include "timemory/storage/call_graph.hpp"

namespace py = pybind11;
using namespace tim;

namespace timemory_python {

const ComponentInfo& info_at(int index) {
    if (index < 0 || index >= component_count() ||
        component_table()[static_cast<std::size_t>(index)].class_name.empty())
        throw py::value_error("invalid component index " + std::to_string(index));
    return component_table()[static_cast<std::size_t>(index)];
}

namespace {

const char* unit_name(Unit u) {
    switch (u) {
        case Unit::none: return "none";
        case Unit::count: return "count";
        case Unit::percent: return "percent";
        case Unit::timing: return "timing";
        case Unit::memory: return "memory";
        case Unit::memory_rate: return "memory_rate";
        default: return "custom";  // a Python-defined component's (Unit::custom_base on)
    }
}

const char* combine_name(Combine c) {
    switch (c) {
        case Combine::delta: return "delta";
        case Combine::abs_pair: return "abs_pair";
        case Combine::trip: return "trip";
        case Combine::last: return "last";
        case Combine::sum: return "sum";
        case Combine::maximum: return "max";
        case Combine::minimum: return "min";
        case Combine::latest: return "latest";
    }
    return "delta";
}

py::dict info_dict(const ComponentInfo& info) {
    py::dict d;
    d["index"]       = info.index;
    d["enum_name"]   = info.enum_name;
    d["key"]         = info.key;
    d["class_name"]  = info.class_name;
    d["id"]          = info.id;
    d["aliases"]     = info.aliases;
    d["label"]       = info.label;
    d["sub_labels"]  = info.sub_labels;
    d["description"] = info.description;
    std::vector<std::string> units;
    for (auto u : info.units) units.emplace_back(unit_name(u));
    d["units"]        = units;
    d["combine"]      = combine_name(info.combine);
    d["n_raw"]        = info.n_raw;
    d["n_disp"]       = info.n_disp;
    d["available"]    = info.available;
    d["has_value"]    = info.has_value;
    d["flamegraph"]   = info.flamegraph;
    d["integral_raw"] = info.integral_raw;
    d["precision"]    = info.precision;
    d["width"]        = info.width;
    d["user"]         = info.user;
    return d;
}

std::vector<double> vec(const double* v, int n) { return std::vector<double>(v, v + n); }

}  // namespace

void add_component_bindings(py::module_& m) {
    m.def("component_count", &component_count);
    m.def("builtin_component_count", &builtin_component_count,
          "Built-in components: the table's rows from this index on are made at run time.");
    m.def("component_info", [](int index) { return info_dict(info_at(index)); }, py::arg("index"));
    m.def("component_table", [] {
        py::list out;
        for (const auto& info : component_table())
            if (!info.class_name.empty()) out.append(info_dict(info));
        return out;
    });
    m.def(
        "find_component", [](const std::string& name) { return find_component(name); }, py::arg("name"),
        "Enum index for an enum key, primary id or alias (case-insensitive); -1 if unknown.");
    m.def("component_names", [] {
        std::vector<std::string> names;
        for (const auto& info : component_table()) {
            if (info.class_name.empty()) continue;
            names.push_back(info.key);
            if (info.id != info.key) names.push_back(info.id);
            for (const auto& a : info.aliases) names.push_back(a);
        }
        return names;
    });
    m.def("valid_component_choices", &valid_component_choices);
    m.def(
        "resolve_components",
        [](py::object spec, bool measurable_only) {
            IndexList out;
            if (resolve_components(spec.ptr(), out, measurable_only) < 0) throw py::error_already_set();
            return std::vector<int>(out.begin(), out.end());
        },
        py::arg("spec"), py::arg("measurable_only") = false);
    m.def(
        "unit_info",
        [](int index) {
            const auto&              info = info_at(index);
            std::vector<double>      div;
            std::vector<std::string> repr;
            for (auto u : info.units) {
                div.push_back(unit_divisor(u));
                repr.push_back(unit_repr(u));
            }
            return py::make_tuple(div, repr);
        },
        py::arg("index"), "(divisors, display strings) of a component under the current settings");
    m.def(
        "default_unit_info",
        [](int index) {
            const auto&              info = info_at(index);
            std::vector<double>      div;
            std::vector<std::string> repr;
            for (auto u : info.units) {
                div.push_back(default_unit_divisor(u));
                repr.push_back(default_unit_repr(u));
            }
            return py::make_tuple(div, repr);
        },
        py::arg("index"));
    m.def(
        "record",
        [](int index) {
            const auto& info = info_at(index);
            double      out[max_values];
            read_now(info, out);
            return vec(out, info.n_raw);
        },
        py::arg("index"), "Current raw reading(s) of a component.");
    m.def("set_rusage_children", [] { readers::set_rusage_who(RUSAGE_CHILDREN); });
    m.def("set_rusage_self", [] { readers::set_rusage_who(RUSAGE_SELF); });
}

}  // namespace timemory_python
