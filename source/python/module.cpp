// pybind11 bindings for everything that is not per-call: configuration,
// component metadata, storage snapshots and writers. The per-call types live
// in hot_types.cpp.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "hardware_counters.hpp"
#include "hot_types.hpp"
#include "line_profiler.hpp"
#include "profiler.hpp"
#include "tracer.hpp"
#include "timemory/components/component_info.hpp"
#include "timemory/components/rusage.hpp"
#include "timemory/config.hpp"
#include "timemory/output/writers.hpp"
#include "timemory/storage/snapshot.hpp"

namespace py = pybind11;
using namespace tim;

namespace {

const ComponentInfo& info_at(int index) {
    if (index < 0 || index >= component_count() || component_table()[static_cast<std::size_t>(index)].class_name.empty())
        throw py::value_error("invalid component index " + std::to_string(index));
    return component_table()[static_cast<std::size_t>(index)];
}

const char* unit_name(Unit u) {
    switch (u) {
        case Unit::none: return "none";
        case Unit::count: return "count";
        case Unit::percent: return "percent";
        case Unit::timing: return "timing";
        case Unit::memory: return "memory";
        case Unit::memory_rate: return "memory_rate";
    }
    return "none";
}

py::dict info_dict(const ComponentInfo& info) {
    py::dict d;
    d["index"]        = info.index;
    d["enum_name"]    = info.enum_name;
    d["key"]          = info.key;
    d["class_name"]   = info.class_name;
    d["id"]           = info.id;
    d["aliases"]      = info.aliases;
    d["label"]        = info.label;
    d["sub_labels"]   = info.sub_labels;
    d["description"]  = info.description;
    std::vector<std::string> units;
    for (auto u : info.units) units.emplace_back(unit_name(u));
    d["units"]        = units;
    d["n_raw"]        = info.n_raw;
    d["n_disp"]       = info.n_disp;
    d["available"]    = info.available;
    d["has_value"]    = info.has_value;
    d["flamegraph"]   = info.flamegraph;
    d["integral_raw"] = info.integral_raw;
    d["precision"]    = info.precision;
    d["width"]        = info.width;
    return d;
}

void config_set(const std::string& name, py::object value) {
    auto& c  = config();
    auto  b  = [&] { return value.cast<bool>(); };
    auto  i  = [&] { return value.cast<int>(); };
    if (name == "enabled") c.enabled = b();
    else if (name == "flat_profile") c.flat_profile = b();
    else if (name == "timeline_profile") c.timeline_profile = b();
    else if (name == "max_depth") c.max_depth = i();
    else if (name == "collapse_threads") c.collapse_threads = b();
    else if (name == "stack_clearing") c.stack_clearing = b();
    else if (name == "precision") c.precision = i();
    else if (name == "width") c.width = i();
    else if (name == "max_width") c.max_width = i();
    else if (name == "scientific") c.scientific = b();
    else if (name == "timing_precision") c.timing_precision = i();
    else if (name == "timing_width") c.timing_width = i();
    else if (name == "timing_scientific") c.timing_scientific = b();
    else if (name == "memory_precision") c.memory_precision = i();
    else if (name == "memory_width") c.memory_width = i();
    else if (name == "memory_scientific") c.memory_scientific = b();
    else if (name == "timing_unit") c.timing_unit = value.cast<double>();
    else if (name == "timing_unit_repr") c.timing_unit_repr = value.cast<std::string>();
    else if (name == "memory_unit") c.memory_unit = value.cast<double>();
    else if (name == "memory_unit_repr") c.memory_unit_repr = value.cast<std::string>();
    else throw py::key_error("unknown core setting '" + name + "'");
}

py::object config_get(const std::string& name) {
    auto& c = config();
    if (name == "enabled") return py::bool_(c.enabled);
    if (name == "flat_profile") return py::bool_(c.flat_profile);
    if (name == "timeline_profile") return py::bool_(c.timeline_profile);
    if (name == "max_depth") return py::int_(c.max_depth);
    if (name == "collapse_threads") return py::bool_(c.collapse_threads);
    if (name == "stack_clearing") return py::bool_(c.stack_clearing);
    if (name == "timing_unit") return py::float_(c.timing_unit);
    if (name == "timing_unit_repr") return py::str(c.timing_unit_repr);
    if (name == "memory_unit") return py::float_(c.memory_unit);
    if (name == "memory_unit_repr") return py::str(c.memory_unit_repr);
    throw py::key_error("unknown core setting '" + name + "'");
}

std::vector<double> vec(const double* v, int n) { return std::vector<double>(v, v + n); }
void                unvec(double* dst, const std::vector<double>& src) {
    if (src.size() > static_cast<std::size_t>(max_values))
        throw py::value_error("at most " + std::to_string(max_values) + " values per entry");
    for (std::size_t i = 0; i < static_cast<std::size_t>(max_values); ++i) dst[i] = i < src.size() ? src[i] : 0.0;
}

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

PYBIND11_MODULE(_core, m) {
    m.doc() = "timemory native core (private: use the timemory package)";

    // ---------------------------------------------------------------- config
    m.def("config_set", &config_set, py::arg("name"), py::arg("value"),
          "Mirror one setting into the native core (called by timemory.settings).");
    m.def("config_get", &config_get, py::arg("name"));

    // ---------------------------------------------------------------- components
    m.def("component_count", &component_count);
    m.def("component_info", [](int index) { return info_dict(info_at(index)); }, py::arg("index"));
    m.def("component_table", [] {
        py::list out;
        for (const auto& info : component_table())
            if (!info.class_name.empty()) out.append(info_dict(info));
        return out;
    });
    m.def("find_component", [](const std::string& name) { return find_component(name); }, py::arg("name"),
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
    m.def("valid_component_choices", &timemory_python::valid_component_choices);
    m.def("resolve_components", [](py::object spec, bool measurable_only) {
        timemory_python::IndexList out;
        if (timemory_python::resolve_components(spec.ptr(), out, measurable_only) < 0) throw py::error_already_set();
        return std::vector<int>(out.begin(), out.end());
    }, py::arg("spec"), py::arg("measurable_only") = false);
    m.def("unit_info", [](int index) {
        const auto&              info = info_at(index);
        std::vector<double>      div;
        std::vector<std::string> repr;
        for (auto u : info.units) {
            div.push_back(unit_divisor(u));
            repr.push_back(unit_repr(u));
        }
        return py::make_tuple(div, repr);
    }, py::arg("index"), "(divisors, display strings) of a component under the current settings");
    m.def("default_unit_info", [](int index) {
        const auto&              info = info_at(index);
        std::vector<double>      div;
        std::vector<std::string> repr;
        for (auto u : info.units) {
            div.push_back(default_unit_divisor(u));
            repr.push_back(default_unit_repr(u));
        }
        return py::make_tuple(div, repr);
    }, py::arg("index"));
    m.def("record", [](int index) {
        const auto& info = info_at(index);
        double      out[max_values];
        read_now(info, out);
        return vec(out, info.n_raw);
    }, py::arg("index"), "Current raw reading(s) of a component.");
    m.def("set_rusage_children", [] { readers::set_rusage_who(RUSAGE_CHILDREN); });
    m.def("set_rusage_self", [] { readers::set_rusage_who(RUSAGE_SELF); });

    // ---------------------------------------------------------------- hashes
    m.def("add_hash_id", [](const std::string& s) { return add_hash_id(s); }, py::arg("key"));
    m.def("get_hash_identifier", [](std::uint64_t h) { return get_hash_identifier(h); }, py::arg("hash_id"));
    m.def("hash_ids", &hash_ids);

    // ---------------------------------------------------------------- storage data types
    py::class_<Entry>(m, "Entry", "Stored value of a call-graph node (raw units).")
        .def(py::init<>())
        .def_readwrite("laps", &Entry::laps)
        .def_property("value", [](const Entry& e) { return vec(e.value, max_values); },
                      [](Entry& e, const std::vector<double>& v) { unvec(e.value, v); })
        .def_property("accum", [](const Entry& e) { return vec(e.accum, max_values); },
                      [](Entry& e, const std::vector<double>& v) { unvec(e.accum, v); })
        .def_property("stats_count", [](const Entry& e) { return e.stats.count; },
                      [](Entry& e, std::int64_t c) { e.stats.count = c; })
        .def_property("stats_sum", [](const Entry& e) { return vec(e.stats.sum, max_values); },
                      [](Entry& e, const std::vector<double>& v) { unvec(e.stats.sum, v); })
        .def_property("stats_sqr", [](const Entry& e) { return vec(e.stats.sqr, max_values); },
                      [](Entry& e, const std::vector<double>& v) { unvec(e.stats.sqr, v); })
        .def_property("stats_min", [](const Entry& e) { return vec(e.stats.min, max_values); },
                      [](Entry& e, const std::vector<double>& v) { unvec(e.stats.min, v); })
        .def_property("stats_max", [](const Entry& e) { return vec(e.stats.max, max_values); },
                      [](Entry& e, const std::vector<double>& v) { unvec(e.stats.max, v); });

    py::class_<FlatEntry>(m, "FlatEntry", "One row of the flat (pre-order) view.")
        .def(py::init<>())
        .def_readwrite("hash", &FlatEntry::hash)
        .def_readwrite("prefix", &FlatEntry::prefix)
        .def_readwrite("label", &FlatEntry::label)
        .def_readwrite("depth", &FlatEntry::depth)
        .def_readwrite("tid", &FlatEntry::tid)
        .def_readwrite("pid", &FlatEntry::pid)
        .def_readwrite("hierarchy", &FlatEntry::hierarchy)
        .def_readwrite("rolling_hash", &FlatEntry::rolling_hash)
        .def_readwrite("entry", &FlatEntry::entry);

    py::class_<TreeNode>(m, "TreeNode", "A node of the tree view with inclusive and exclusive values.")
        .def(py::init<>())
        .def_readwrite("hash", &TreeNode::hash)
        .def_readwrite("label", &TreeNode::label)
        .def_readwrite("tids", &TreeNode::tids)
        .def_readwrite("pids", &TreeNode::pids)
        .def_readwrite("depth", &TreeNode::depth)
        .def_readwrite("is_dummy", &TreeNode::is_dummy)
        .def_readwrite("inclusive", &TreeNode::inclusive)
        .def_readwrite("exclusive", &TreeNode::exclusive)
        .def_readwrite("children", &TreeNode::children);

    m.def("stats_view", [](int index, const Entry& e) {
        const auto& info = info_at(index);
        py::list    out;
        for (int k = 0; k < info.n_disp; ++k) {
            auto     v = stats_view(info, e.stats, k);
            py::dict d;
            d["sum"] = v.sum; d["count"] = v.count; d["min"] = v.min; d["max"] = v.max;
            d["sqr"] = v.sqr; d["mean"] = v.mean; d["stddev"] = v.stddev;
            out.append(d);
        }
        return out;
    }, py::arg("index"), py::arg("entry"), "Statistics per display value, in display units.");
    m.def("entry_component", [](int index, const Entry& e) {
        info_at(index);
        PyObject* obj = timemory_python::make_component(index, e.laps, e.value, e.accum);
        if (!obj) throw py::error_already_set();
        return py::reinterpret_steal<py::object>(obj);
    }, py::arg("index"), py::arg("entry"), "A new component object holding a stored value.");
    m.def("compute_exclusive", [](int index, TreeNode node) {
        compute_exclusive(info_at(index), node);
        return node;
    });

    // ---------------------------------------------------------------- storage access
    m.def("has_data", [](int index) { info_at(index); return has_data(index); }, py::arg("index"));
    m.def("graph_size", [](int index) { info_at(index); return graph_size(index); }, py::arg("index"));
    m.def("flat_snapshot", [](int index) { info_at(index); return flat_snapshot(index); }, py::arg("index"));
    m.def("tree_snapshot", [](int index) { info_at(index); return tree_snapshot(index); }, py::arg("index"));
    m.def("clear", [](int index) { info_at(index); clear(index); }, py::arg("index"));
    m.def("stop_all_bundles", &stop_all_bundles, "Stop every running marker (finalize with stack_clearing).");
    m.def("thread_count", &thread_count);

    // ---------------------------------------------------------------- writers
    m.def("flat_json", [](int index, const std::vector<std::vector<FlatEntry>>& ranks, const py::dict& meta) {
        return flat_json(info_at(index), ranks, meta_from(meta));
    }, py::arg("index"), py::arg("ranks"), py::arg("meta") = py::dict());
    m.def("tree_json", [](int index, const std::vector<std::vector<TreeNode>>& ranks, const py::dict& meta,
                          const std::string& key) { return tree_json(info_at(index), ranks, meta_from(meta), key); },
          py::arg("index"), py::arg("ranks"), py::arg("meta") = py::dict(), py::arg("ranks_key") = "graph");
    m.def("flamegraph_json", [](int index, const std::vector<TreeNode>& roots) {
        return flamegraph_json(info_at(index), roots);
    }, py::arg("index"), py::arg("roots"));
    m.def("text_table", [](int index, const std::vector<FlatEntry>& entries) {
        return text_table(info_at(index), entries);
    }, py::arg("index"), py::arg("entries"));
    m.def("atomic_write", [](const std::string& path, const std::string& content) {
        std::string err;
        if (!atomic_write(path, content, &err)) throw py::value_error(err);  // OSError mapped in Python
    }, py::arg("path"), py::arg("content"), "Write a file via temp file + rename.");

    // ---------------------------------------------------------------- build info
    py::dict build;
    build["version"]          = TIMEMORY_VERSION_STRING;
    build["build_type"]       = TIMEMORY_BUILD_TYPE;
    build["compiler_id"]      = TIMEMORY_COMPILER_ID;
    build["compiler_version"] = TIMEMORY_COMPILER_VERSION;
    build["system_name"]      = TIMEMORY_SYSTEM_NAME;
    build["system_version"]   = TIMEMORY_SYSTEM_VERSION;
    build["library_architecture"] = TIMEMORY_ARCHITECTURE;
    build["date"]             = __DATE__ " " __TIME__;
    m.attr("build_info")      = build;

    timemory_python::add_hardware_counters(m);
    if (timemory_python::add_hot_types(m.ptr()) < 0) throw py::error_already_set();
    if (timemory_python::add_profiler(m.ptr()) < 0) throw py::error_already_set();
    if (timemory_python::add_tracer(m.ptr()) < 0) throw py::error_already_set();
    if (timemory_python::add_line_profiler(m.ptr()) < 0) throw py::error_already_set();
}
