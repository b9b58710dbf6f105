// pybind11 bindings for everything that is not per-call: configuration,
// component metadata, storage snapshots and writers. The per-call types live
// in hot_types.cpp.
#include <unordered_set>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "hardware_counters.hpp"
#include "hot_types.hpp"
#include "line_profiler.hpp"
#include "profiler.hpp"
#include "roofline.hpp"
#include "test_clock.hpp"
#include "tracer.hpp"
#include "timemory/components/component_info.hpp"
#include "timemory/components/rusage.hpp"
#include "timemory/config.hpp"
#include "timemory/output/writers.hpp"
#include "timemory/storage/serialize.hpp"
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

std::string_view view_of(const py::buffer& b) {
    auto req = b.request();
    if (req.ndim > 1 || (req.ndim == 1 && req.itemsize != 1)) throw py::type_error("expected bytes of packed storage data");
    return {static_cast<const char*>(req.ptr), static_cast<std::size_t>(req.size * req.itemsize)};
}

// invalid_argument from a corrupt or foreign buffer -> ValueError
template <typename F>
auto checked(F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const std::invalid_argument& err) {
        throw py::value_error(err.what());
    }
}

// Views of packed buffers (valid while `packed` lives), checked for their type.
std::vector<std::string_view> views_of(const std::vector<py::buffer>& packed) {
    std::vector<std::string_view> out;
    out.reserve(packed.size());
    for (const auto& b : packed) out.push_back(view_of(b));
    return out;
}

// One component's flat entries, held together: the storage results
// (timemory.storage.StorageResult, slots _b and _i) point into it, so a list
// of results costs one small Python object per entry and no copies.
struct FlatBatch {
    int                    index = -1;
    std::vector<FlatEntry> entries;

    const FlatEntry& at(py::ssize_t i) const {
        if (i < 0 || static_cast<std::size_t>(i) >= entries.size()) throw py::index_error("flat entry index out of range");
        return entries[static_cast<std::size_t>(i)];
    }
};
using BatchPtr = std::shared_ptr<FlatBatch>;

BatchPtr make_batch(int index, std::vector<FlatEntry>&& entries) {
    auto b     = std::make_shared<FlatBatch>();
    b->index   = index;
    b->entries = std::move(entries);
    return b;
}

// One `cls` object (slots _b = owner, _i = id) per id, made without running
// Python code per object: the storage results and tree nodes, which point
// into a batch.
template <typename Ids>
py::list make_slot_objects(const py::type& cls, const py::object& owner, const Ids& ids) {
    static PyObject* name_b = PyUnicode_InternFromString("_b");
    static PyObject* name_i = PyUnicode_InternFromString("_i");
    auto*            type   = reinterpret_cast<PyTypeObject*>(cls.ptr());
    py::tuple        no_args;
    py::list         out(static_cast<py::ssize_t>(ids.size()));
    py::ssize_t      k = 0;
    for (auto i : ids) {
        auto obj = py::reinterpret_steal<py::object>(type->tp_new(type, no_args.ptr(), nullptr));
        if (!obj) throw py::error_already_set();
        auto idx = py::reinterpret_steal<py::object>(PyLong_FromSsize_t(static_cast<py::ssize_t>(i)));
        if (!idx || PyObject_SetAttr(obj.ptr(), name_b, owner.ptr()) < 0 || PyObject_SetAttr(obj.ptr(), name_i, idx.ptr()) < 0)
            throw py::error_already_set();
        // the object refers to the batch (not a container) and an int: it can be in no
        // reference cycle, so the cycle collector need not walk hundreds of thousands of them
        if (type->tp_dictoffset == 0 && PyObject_IS_GC(obj.ptr()) && PyObject_GC_IsTracked(obj.ptr()))
            PyObject_GC_UnTrack(obj.ptr());
        PyList_SET_ITEM(out.ptr(), k++, obj.release().ptr());
    }
    return out;
}

struct Count {  // the ids 0..n-1 as a range
    struct iterator {
        std::size_t i;
        std::size_t operator*() const { return i; }
        iterator&   operator++() { ++i; return *this; }
        bool        operator!=(const iterator& o) const { return i != o.i; }
    };
    std::size_t n;
    std::size_t size() const { return n; }
    iterator    begin() const { return {0}; }
    iterator    end() const { return {n}; }
};

py::list make_results(const py::type& cls, const BatchPtr& batch) {
    return make_slot_objects(cls, py::cast(batch), Count{batch->entries.size()});
}

// One component's tree views (one root per thread view or process), held
// together with a pre-order index: the tree objects of timemory.storage
// (slots _b and _i) point into it, so walking a tree copies nothing.
struct TreeBatch {
    int                          index = -1;
    std::vector<TreeNode>        roots;
    std::vector<const TreeNode*> nodes;  // pre-order over every root
    std::vector<std::int32_t>    child_start, child_list, root_ids;

    void build_index() {
        nodes.clear();
        root_ids.clear();
        std::vector<std::int32_t>                              parent;
        std::vector<std::pair<const TreeNode*, std::int32_t>> stack;  // (node, parent id)
        for (auto r = roots.rbegin(); r != roots.rend(); ++r) stack.emplace_back(&*r, -1);
        while (!stack.empty()) {
            auto [n, p] = stack.back();
            stack.pop_back();
            auto id = static_cast<std::int32_t>(nodes.size());
            nodes.push_back(n);
            parent.push_back(p);
            if (p < 0) root_ids.push_back(id);
            for (auto c = n->children.rbegin(); c != n->children.rend(); ++c) stack.emplace_back(&*c, id);
        }
        const auto count = nodes.size();
        child_start.assign(count + 1, 0);
        for (auto p : parent)
            if (p >= 0) ++child_start[static_cast<std::size_t>(p) + 1];
        for (std::size_t i = 0; i < count; ++i) child_start[i + 1] += child_start[i];
        child_list.resize(count);
        std::vector<std::int32_t> fill(child_start.begin(), child_start.end() - 1);
        for (std::size_t i = 0; i < count; ++i)
            if (parent[i] >= 0) child_list[static_cast<std::size_t>(fill[static_cast<std::size_t>(parent[i])]++)] = static_cast<std::int32_t>(i);
    }
    const TreeNode& at(py::ssize_t i) const {
        if (i < 0 || static_cast<std::size_t>(i) >= nodes.size()) throw py::index_error("tree node index out of range");
        return *nodes[static_cast<std::size_t>(i)];
    }
    std::vector<std::int32_t> children(py::ssize_t i) const {
        at(i);
        return {child_list.begin() + child_start[static_cast<std::size_t>(i)],
                child_list.begin() + child_start[static_cast<std::size_t>(i) + 1]};
    }
};
using TreePtr = std::shared_ptr<TreeBatch>;

TreePtr make_tree_batch(int index, std::vector<TreeNode>&& roots) {
    auto b   = std::make_shared<TreeBatch>();
    b->index = index;
    b->roots = std::move(roots);
    b->build_index();
    return b;
}

// Tree nodes from a sequence of storage tree objects (slots _b, _i) or TreeNode
// objects; the pointers stay valid while `seq` lives.
std::vector<const TreeNode*> tree_ptrs_of(const py::handle& seq) {
    std::vector<const TreeNode*> out;
    for (auto item : py::iter(seq)) {
        if (py::isinstance<TreeNode>(item)) {
            out.push_back(&item.cast<const TreeNode&>());
        } else {
            const auto& batch = item.attr("_b").cast<const TreeBatch&>();
            out.push_back(&batch.at(item.attr("_i").cast<py::ssize_t>()));
        }
    }
    return out;
}

// Flat entries from a FlatBatch, or a sequence of storage results or FlatEntry objects,
// without copies: the pointers stay valid while `obj` lives.
std::vector<const FlatEntry*> entries_of(const py::handle& obj) {
    std::vector<const FlatEntry*> out;
    if (py::isinstance<FlatBatch>(obj)) {
        for (const auto& e : obj.cast<const FlatBatch&>().entries) out.push_back(&e);
        return out;
    }
    if (!py::isinstance<py::list>(obj) && !py::isinstance<py::tuple>(obj))
        throw py::type_error("expected a list or tuple of storage results or FlatEntry objects");
    for (auto item : obj) {
        if (py::isinstance<FlatEntry>(item)) {
            out.push_back(&item.cast<const FlatEntry&>());
        } else {
            const auto& batch = item.attr("_b").cast<const FlatBatch&>();
            out.push_back(&batch.at(item.attr("_i").cast<py::ssize_t>()));
        }
    }
    return out;
}

// A sys.meta_path entry whose find_spec is native, so that the imports of a profiled
// program do not show timemory's import watch as Python calls: it hands the watched
// names only to `found(name, path, target)` (timemory._import_hooks), and returns None for
// every other name.
struct ImportWatcher {
    py::object                      found;
    std::unordered_set<std::string> names;
};

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

    py::class_<FlatBatch, BatchPtr>(m, "FlatBatch", "One component's flat entries; storage results point into it.")
        .def(py::init([](int index, std::vector<FlatEntry> entries) {
            info_at(index);
            return make_batch(index, std::move(entries));
        }), py::arg("index"), py::arg("entries"))
        .def_readonly("index", &FlatBatch::index)
        .def("__len__", [](const FlatBatch& b) { return b.entries.size(); })
        .def("__getitem__", [](const FlatBatch& b, py::ssize_t i) { return b.at(i < 0 ? i + static_cast<py::ssize_t>(b.entries.size()) : i); })
        .def("entry", [](const FlatBatch& b, py::ssize_t i) { return b.at(i); })
        .def("tid", [](const FlatBatch& b, py::ssize_t i) { return b.at(i).tid; })
        .def("pid", [](const FlatBatch& b, py::ssize_t i) { return b.at(i).pid; })
        .def("depth", [](const FlatBatch& b, py::ssize_t i) { return b.at(i).depth; })
        .def("hash", [](const FlatBatch& b, py::ssize_t i) { return b.at(i).hash; })
        .def("rolling_hash", [](const FlatBatch& b, py::ssize_t i) { return b.at(i).rolling_hash; })
        .def("prefix", [](const FlatBatch& b, py::ssize_t i) { return b.at(i).prefix; })
        .def("label", [](const FlatBatch& b, py::ssize_t i) { return b.at(i).label; })
        .def("hierarchy", [](const FlatBatch& b, py::ssize_t i) { return b.at(i).hierarchy; })
        .def("laps", [](const FlatBatch& b, py::ssize_t i) { return b.at(i).entry.laps; })
        .def("data", [](const FlatBatch& b, py::ssize_t i) {
            const auto& e   = b.at(i).entry;
            PyObject*   obj = timemory_python::make_component(b.index, e.laps, e.value, e.accum);
            if (!obj) throw py::error_already_set();
            return py::reinterpret_steal<py::object>(obj);
        }, "A new component object holding entry i's stored value.");
    m.def("results", &make_results, py::arg("cls"), py::arg("batch"),
          "One `cls` object (slots _b, _i) per entry of the batch.");

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

    py::class_<TreeBatch, TreePtr>(m, "TreeBatch", "One component's tree views; storage tree objects point into it.")
        .def(py::init([](int index, std::vector<TreeNode> roots) {
            info_at(index);
            return make_tree_batch(index, std::move(roots));
        }), py::arg("index"), py::arg("roots"))
        .def_readonly("index", &TreeBatch::index)
        .def("__len__", [](const TreeBatch& b) { return b.nodes.size(); })
        .def("roots", [](const TreeBatch& b) { return b.root_ids; })
        .def("children", &TreeBatch::children)
        .def("child_count", [](const TreeBatch& b, py::ssize_t i) { return b.children(i).size(); })
        .def("node", [](const TreeBatch& b, py::ssize_t i) { return b.at(i); }, "A copy of node i (with its subtree).")
        .def("hash", [](const TreeBatch& b, py::ssize_t i) { return b.at(i).hash; })
        .def("label", [](const TreeBatch& b, py::ssize_t i) { return b.at(i).label; })
        .def("depth", [](const TreeBatch& b, py::ssize_t i) { return b.at(i).depth; })
        .def("is_dummy", [](const TreeBatch& b, py::ssize_t i) { return b.at(i).is_dummy; })
        .def("tids", [](const TreeBatch& b, py::ssize_t i) { return b.at(i).tids; })
        .def("pids", [](const TreeBatch& b, py::ssize_t i) { return b.at(i).pids; })
        .def("inclusive", [](const TreeBatch& b, py::ssize_t i) { return b.at(i).inclusive; })
        .def("exclusive", [](const TreeBatch& b, py::ssize_t i) { return b.at(i).exclusive; });
    m.def("tree_objects", [](const py::type& cls, const TreePtr& batch, const std::vector<std::int32_t>& ids) {
        return make_slot_objects(cls, py::cast(batch), ids);
    }, py::arg("cls"), py::arg("batch"), py::arg("ids"), "One `cls` object (slots _b, _i) per node id of the batch.");

    py::class_<ImportWatcher>(m, "ImportWatcher", "A sys.meta_path entry that reports the import of watched modules.")
        .def(py::init([](py::object found) { return ImportWatcher{std::move(found), {}}; }), py::arg("found"))
        .def("watch", [](ImportWatcher& w, const std::string& name) { w.names.insert(name); }, py::arg("name"))
        .def("unwatch", [](ImportWatcher& w, const std::string& name) { w.names.erase(name); }, py::arg("name"))
        .def("watching", [](const ImportWatcher& w) { return std::vector<std::string>(w.names.begin(), w.names.end()); })
        .def("find_spec", [](ImportWatcher& w, const py::str& name, const py::object& path, const py::object& target) -> py::object {
            if (w.names.empty() || w.names.count(static_cast<std::string>(name)) == 0) return py::none();
            return w.found(name, path, target);
        }, py::arg("name"), py::arg("path") = py::none(), py::arg("target") = py::none());

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
    m.def("flat_snapshot", [](int index) { info_at(index); return make_batch(index, flat_snapshot(index)); },
          py::arg("index"));
    m.def("tree_snapshot", [](int index) { info_at(index); return make_tree_batch(index, tree_snapshot(index)); },
          py::arg("index"));
    m.def("clear", [](int index) { info_at(index); clear(index); }, py::arg("index"));
    m.def("stop_all_bundles", &stop_all_bundles, "Stop every running marker (finalize with stack_clearing).");
    m.def("thread_count", &thread_count);

    // ---------------------------------------------------------------- moving data between processes
    m.def("pack_flat_snapshot", [](int index) {
        const auto& info = info_at(index);
        return py::bytes(pack_flat_snapshot(info));
    }, py::arg("index"), "flat_snapshot(index) packed as bytes (no Python objects made)");
    m.def("pack_tree_snapshot", [](int index) {
        const auto& info = info_at(index);
        return py::bytes(pack_tree(info, tree_snapshot(index)));
    }, py::arg("index"), "tree_snapshot(index) packed as bytes (no Python objects made)");
    m.def("pack_flat", [](int index, const py::handle& entries) {
        const auto& info = info_at(index);
        std::vector<FlatEntry> copies;
        for (const auto* e : entries_of(entries)) copies.push_back(*e);
        return py::bytes(pack_flat(info, copies));
    }, py::arg("index"), py::arg("entries"));
    m.def("pack_tree", [](int index, const py::handle& roots) {
        const auto&           info = info_at(index);
        std::vector<TreeNode> copies;
        for (const auto* r : tree_ptrs_of(roots)) copies.push_back(*r);
        return py::bytes(pack_tree(info, copies));
    }, py::arg("index"), py::arg("roots"));
    m.def("unpack_flat", [](int index, const py::buffer& data, const std::string& prefix) {
        const auto& info    = info_at(index);
        return make_batch(index, checked([&] { return unpack_flat(info, view_of(data), prefix); }));
    }, py::arg("index"), py::arg("data"), py::arg("prefix") = "",
       "Flat entries from pack_flat bytes; `prefix` goes in front of every decorated label.");
    m.def("unpack_tree", [](int index, const py::buffer& data) {
        const auto& info = info_at(index);
        return make_tree_batch(index, checked([&] { return unpack_tree(info, view_of(data)); }));
    }, py::arg("index"), py::arg("data"));
    m.def("merge_packed_flat", [](int index, const std::vector<py::buffer>& packed) {
        const auto& info = info_at(index);
        return make_batch(index, checked([&] { return merge_flat(info, views_of(packed)); }));
    }, py::arg("index"), py::arg("packed"), "One flat list merging several processes' packed flat lists by call path.");
    m.def("summarize_packed_flat", [](int index, const std::vector<py::buffer>& packed) {
        const auto& info = info_at(index);
        return checked([&] { return summarize_processes(info, views_of(packed)); });
    }, py::arg("index"), py::arg("packed"), "Cross-process statistics per call-graph node.");

    py::class_<ProcessSummary>(m, "ProcessSummary", "Cross-process statistics of one call-graph node.")
        .def_readonly("hash", &ProcessSummary::hash)
        .def_readonly("label", &ProcessSummary::label)
        .def_readonly("prefix", &ProcessSummary::prefix)
        .def_readonly("depth", &ProcessSummary::depth)
        .def_readonly("hierarchy", &ProcessSummary::hierarchy)
        .def_readonly("processes", &ProcessSummary::processes)
        .def_readonly("laps", &ProcessSummary::laps)
        .def_readonly("min", &ProcessSummary::min)
        .def_readonly("max", &ProcessSummary::max)
        .def_readonly("mean", &ProcessSummary::mean)
        .def_readonly("total", &ProcessSummary::total)
        .def_readonly("max_process", &ProcessSummary::max_process)
        .def_readonly("imbalance", &ProcessSummary::imbalance);

    // ---------------------------------------------------------------- writers
    m.def("flat_json", [](int index, const py::sequence& ranks, const py::dict& meta) {
        const auto&                         info = info_at(index);
        std::vector<std::vector<const FlatEntry*>> lists;
        for (auto r : ranks) lists.push_back(entries_of(r));
        return flat_json(info, lists, meta_from(meta));
    }, py::arg("index"), py::arg("ranks"), py::arg("meta") = py::dict());
    m.def("tree_json", [](int index, const py::sequence& ranks, const py::dict& meta, const std::string& key) {
        const auto&                               info = info_at(index);
        std::vector<std::vector<const TreeNode*>> lists;
        for (auto r : ranks) lists.push_back(tree_ptrs_of(r));
        return tree_json(info, lists, meta_from(meta), key);
    },
          py::arg("index"), py::arg("ranks"), py::arg("meta") = py::dict(), py::arg("ranks_key") = "graph");
    m.def("flamegraph_json", [](int index, const py::handle& roots) {
        const auto& info = info_at(index);
        return flamegraph_json(info, tree_ptrs_of(roots));
    }, py::arg("index"), py::arg("roots"));
    m.def("text_table", [](int index, const py::handle& entries) {
        const auto& info = info_at(index);
        return text_table(info, entries_of(entries));
    }, py::arg("index"), py::arg("entries"));
    m.def("atomic_write", [](const std::string& path, const py::args& parts) {
        // each part is read in place (str: its UTF-8 form, cached by Python; bytes as they are)
        std::vector<std::string_view> views;
        for (const auto& part : parts) {
            if (PyUnicode_Check(part.ptr())) {
                Py_ssize_t  n = 0;
                const char* p = PyUnicode_AsUTF8AndSize(part.ptr(), &n);
                if (!p) throw py::error_already_set();
                views.emplace_back(p, static_cast<std::size_t>(n));
            } else if (PyBytes_Check(part.ptr())) {
                views.emplace_back(PyBytes_AS_STRING(part.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(part.ptr())));
            } else {
                throw py::type_error("atomic_write(path, *parts) takes str or bytes parts");
            }
        }
        std::string err;
        if (!atomic_write(path, views, &err)) throw py::value_error(err);  // OSError mapped in Python
    }, py::arg("path"), "Write the parts (str or bytes), in order, to a file via temp file + rename.");

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
    timemory_python::add_roofline(m);
    timemory_python::add_test_clock(m);
    if (timemory_python::add_hot_types(m.ptr()) < 0) throw py::error_already_set();
    if (timemory_python::add_profiler(m.ptr()) < 0) throw py::error_already_set();
    if (timemory_python::add_tracer(m.ptr()) < 0) throw py::error_already_set();
    if (timemory_python::add_line_profiler(m.ptr()) < 0) throw py::error_already_set();
}
