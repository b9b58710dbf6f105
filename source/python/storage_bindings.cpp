// Bindings of the call-graph storage: the stored values (Entry, FlatEntry, TreeNode), the
// flat and tree views of a component (FlatBatch, TreeBatch) and the objects that point into
// them, statistics, snapshots, the label hashes, and the packing, unpacking and merging of
// views that move between processes.
#include <deque>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "component_type.hpp"
#include "storage_views.hpp"
#include "timemory/storage/serialize.hpp"
#include "timemory/storage/snapshot.hpp"

namespace py = pybind11;
using namespace tim;

namespace timemory_python {
namespace {

std::vector<double> vec(const double* v, int n) { return std::vector<double>(v, v + n); }
void                unvec(double* dst, const std::vector<double>& src) {
    if (src.size() > static_cast<std::size_t>(max_values))
        throw py::value_error("at most " + std::to_string(max_values) + " values per entry");
    for (std::size_t i = 0; i < static_cast<std::size_t>(max_values); ++i) dst[i] = i < src.size() ? src[i] : 0.0;
}

std::string_view view_of(const py::buffer& b) {
    auto req = b.request();
    if (req.ndim > 1 || (req.ndim == 1 && req.itemsize != 1))
        throw py::type_error("expected bytes of packed storage data");
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

// tim::snapshot_copies for one snapshot on this thread
struct SnapshotCopies {
    explicit SnapshotCopies(bool copy) { snapshot_copies = copy; }
    ~SnapshotCopies() { snapshot_copies = false; }
};

// Deletes a batch; a large one (a whole graph's snapshot) without the GIL when the GIL is
// held (Python dropped it), so that freeing its entries does not stop the other threads.
template <typename Batch>
void delete_batch(Batch* b, std::size_t size) {
    if (size >= 10000 && Py_IsInitialized() && PyGILState_Check()) {
        py::gil_scoped_release nogil;
        delete b;
    } else {
        delete b;
    }
}

BatchPtr make_batch(int index, std::vector<FlatEntry>&& entries) {
    BatchPtr b(new FlatBatch(), [](FlatBatch* p) { delete_batch(p, p->entries.size()); });
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
        if (!idx || PyObject_SetAttr(obj.ptr(), name_b, owner.ptr()) < 0 ||
            PyObject_SetAttr(obj.ptr(), name_i, idx.ptr()) < 0)
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
        iterator&   operator++() {
            ++i;
            return *this;
        }
        bool operator!=(const iterator& o) const { return i != o.i; }
    };
    std::size_t n;
    std::size_t size() const { return n; }
    iterator    begin() const { return {0}; }
    iterator    end() const { return {n}; }
};

py::list make_results(const py::type& cls, const BatchPtr& batch) {
    return make_slot_objects(cls, py::cast(batch), Count{batch->entries.size()});
}

TreePtr make_tree_batch(int index, std::vector<TreeNode>&& roots) {
    TreePtr b(new TreeBatch(), [](TreeBatch* p) { delete_batch(p, p->nodes.size()); });
    b->index = index;
    b->roots = std::move(roots);
    b->build_index();
    return b;
}

}  // namespace

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

tim::JoinSource join_source_of(const py::handle& source, int rank, bool copy) {
    JoinSource src;
    src.rank = rank;
    src.copy = copy;
    if (!py::isinstance<py::list>(source) && !py::isinstance<py::tuple>(source))
        throw py::type_error("a source is a list of component indices or of (index, ranks) tuples");
    for (auto item : source) {
        if (py::isinstance<py::int_>(item)) {
            src.live.push_back(info_at(item.cast<int>()).index);
            continue;
        }
        auto pair = item.cast<py::tuple>();
        if (pair.size() != 2) throw py::type_error("a loaded source item is an (index, ranks) tuple");
        JoinSource::Loaded l;
        l.index = info_at(pair[0].cast<int>()).index;
        for (auto rank_trees : pair[1]) l.ranks.push_back(tree_ptrs_of(rank_trees));
        src.loaded.push_back(std::move(l));
    }
    if (!src.live.empty() && !src.loaded.empty())
        throw py::type_error("a source is either live component indices or loaded trees, not both");
    return src;
}

// Flat entries in pre-order from a FlatBatch, a storage result (slots _b, _i), a FlatEntry,
// or a list/tuple of any of these (one per rank, say), nested: the order is kept.
void collect_entries(const py::handle& obj, std::vector<const FlatEntry*>& out) {
    if (py::isinstance<FlatBatch>(obj)) {
        for (const auto& e : obj.cast<const FlatBatch&>().entries) out.push_back(&e);
    } else if (py::isinstance<FlatEntry>(obj)) {
        out.push_back(&obj.cast<const FlatEntry&>());
    } else if (py::isinstance<py::list>(obj) || py::isinstance<py::tuple>(obj)) {
        for (auto item : obj) collect_entries(item, out);
    } else if (py::hasattr(obj, "_b") && py::hasattr(obj, "_i")) {
        const auto& batch = obj.attr("_b").cast<const FlatBatch&>();
        out.push_back(&batch.at(obj.attr("_i").cast<py::ssize_t>()));
    } else {
        throw py::type_error("expected a FlatBatch, storage results, FlatEntry objects or lists of them");
    }
}

// The per-label totals of flat entries in pre-order (what the summary, timemory._output.
// _summary, ranks), in one pass without a Python object per entry: for each label, in the
// order labels first occur, (label, count, every, inclusive, self, peak) of display value `k`
// in its base unit (ns, bytes...: the summary picks a unit per value):
//   count      the laps of every entry with the label;
//   every      the sum of their values (nested recursive calls included);
//   inclusive  the values of the entries with no ancestor of the same label (a recursion
//              chain counted once, so it never exceeds the total);
//   self       each entry's value less its children's (the nearest deeper entries below it:
//              a skipped depth makes the nearest shallower entry the parent; remote children,
//              which ran in parallel elsewhere, are not part of it), unclipped;
//   peak       the largest single value of an entry with laps (-inf when no entry has laps).
// Also the total: the sum of the top-level (depth 0) entries' values.
class LabelMerge {
public:
    LabelMerge(const ComponentInfo& info, int k)
        : info_(info), k_(k), base_(unit_divisor(info.units[static_cast<std::size_t>(k)])) {}

    void add(std::string_view label, int depth, const Entry& e, bool remote = false) {
        const auto d = static_cast<std::size_t>(depth < 0 ? 0 : depth);
        while (path_.size() > d) close();
        auto found = by_label_.find(label);
        if (found == by_label_.end()) {
            // the key views the deque's copy, which never moves
            const std::string& kept = labels_.emplace_back(label);
            found                   = by_label_.emplace(std::string_view(kept), rows_.size()).first;
            rows_.emplace_back();
        }
        Row&         r   = rows_[found->second];
        const auto   v   = stats_view(info_, e.stats, k_);
        const double sum = v.sum * base_;
        r.count += e.laps;
        r.every += sum;
        if (e.laps && v.max * base_ > r.peak) r.peak = v.max * base_;
        if (r.open == 0) r.inclusive += sum;
        if (path_.empty()) total_ += sum;
        else if (!remote) path_.back().children += sum;
        ++r.open;
        path_.push_back(Open{found->second, sum, 0.0});
    }

    py::tuple result() {
        while (!path_.empty()) close();
        py::list out(rows_.size());
        for (std::size_t i = 0; i < rows_.size(); ++i) {
            const Row& r = rows_[i];
            out[i]       = py::make_tuple(labels_[i], r.count, r.every, r.inclusive, r.self, r.peak);
        }
        return py::make_tuple(out, total_);
    }

private:
    struct Row {
        std::int64_t count = 0;
        double       every = 0, inclusive = 0, self = 0, peak = -std::numeric_limits<double>::infinity();
        int          open = 0;  // entries of this label on the current path
    };
    struct Open {
        std::size_t row;
        double      value, children;
    };
    void close() {
        const Open& o = path_.back();
        Row&        r = rows_[o.row];
        r.self += o.value - o.children;
        --r.open;
        path_.pop_back();
    }

    const ComponentInfo&                              info_;
    int                                               k_;
    double                                            base_;    // display unit -> base unit
    std::deque<std::string>                           labels_;  // row i's label
    std::vector<Row>                                  rows_;
    std::unordered_map<std::string_view, std::size_t> by_label_;
    std::vector<Open>                                 path_;
    double                                            total_ = 0;
};

// `results` None: this process's recorded data, read from the call graphs as the live
// writers read them (no flat snapshot: on a 200,000-node graph the snapshot alone costs
// about 0.1 s and 100 MiB).
py::tuple merge_by_label(int index, const py::handle& results, int k) {
    const auto& info = info_at(index);
    if (k < 0 || k >= info.n_disp) throw py::index_error("merge_by_label: value index out of range");
    LabelMerge merge(info, k);
    if (results.is_none()) {
        // as a snapshot: without the GIL, so that no thread recording into a graph whose
        // lock this holds waits for it
        py::gil_scoped_release nogil;
        for_each_flat(index, [&](const FlatItem& it) { merge.add(it.label, it.depth, *it.entry, it.remote); });
    } else {
        std::vector<const FlatEntry*> entries;
        collect_entries(results, entries);
        py::gil_scoped_release nogil;  // the entries belong to the batches `results` holds
        for (const FlatEntry* e : entries) merge.add(e->label, e->depth, e->entry, e->remote);
    }
    return merge.result();
}

void add_storage_bindings(py::module_& m) {
    // ---------------------------------------------------------------- hashes
    m.def("add_hash_id", [](const std::string& s) { return add_hash_id(s); }, py::arg("key"));
    m.def("get_hash_identifier", [](std::uint64_t h) { return get_hash_identifier(h); }, py::arg("hash_id"));
    m.def("hash_ids", &hash_ids);

    // ---------------------------------------------------------------- storage data types
    py::class_<Entry>(m, "Entry", "Stored value of a call-graph node (raw units).")
        .def(py::init<>())
        .def_readwrite("laps", &Entry::laps)
        .def_property(
            "value", [](const Entry& e) { return vec(e.value, max_values); },
            [](Entry& e, const std::vector<double>& v) { unvec(e.value, v); })
        .def_property(
            "accum", [](const Entry& e) { return vec(e.accum, max_values); },
            [](Entry& e, const std::vector<double>& v) { unvec(e.accum, v); })
        .def_property(
            "stats_count", [](const Entry& e) { return e.stats.count; },
            [](Entry& e, std::int64_t c) { e.stats.count = c; })
        .def_property(
            "stats_sum", [](const Entry& e) { return vec(e.stats.sum, max_values); },
            [](Entry& e, const std::vector<double>& v) { unvec(e.stats.sum, v); })
        .def_property(
            "stats_sqr", [](const Entry& e) { return vec(e.stats.sqr, max_values); },
            [](Entry& e, const std::vector<double>& v) { unvec(e.stats.sqr, v); })
        .def_property(
            "stats_min", [](const Entry& e) { return vec(e.stats.min, max_values); },
            [](Entry& e, const std::vector<double>& v) { unvec(e.stats.min, v); })
        .def_property(
            "stats_max", [](const Entry& e) { return vec(e.stats.max, max_values); },
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
        .def_readwrite("remote", &FlatEntry::remote,
                       "Ran in parallel elsewhere beneath the call path that submitted it: not part of "
                       "its parent's inclusive value")
        .def_readwrite("context", &FlatEntry::context, "A submitting call path a task was run beneath")
        .def_readwrite("entry", &FlatEntry::entry);

    py::class_<FlatBatch, BatchPtr>(m, "FlatBatch", "One component's flat entries; storage results point into it.")
        .def(py::init([](int index, std::vector<FlatEntry> entries) {
                 info_at(index);
                 return make_batch(index, std::move(entries));
             }),
             py::arg("index"), py::arg("entries"))
        .def_readonly("index", &FlatBatch::index)
        .def("__len__", [](const FlatBatch& b) { return b.entries.size(); })
        .def("__getitem__",
             [](const FlatBatch& b, py::ssize_t i) {
                 return b.at(i < 0 ? i + static_cast<py::ssize_t>(b.entries.size()) : i);
             })
        .def("entry", [](const FlatBatch& b, py::ssize_t i) { return b.at(i); })
        .def("tid", [](const FlatBatch& b, py::ssize_t i) { return b.at(i).tid; })
        .def("pid", [](const FlatBatch& b, py::ssize_t i) { return b.at(i).pid; })
        .def("depth", [](const FlatBatch& b, py::ssize_t i) { return b.at(i).depth; })
        .def("hash", [](const FlatBatch& b, py::ssize_t i) { return b.at(i).hash; })
        .def("rolling_hash", [](const FlatBatch& b, py::ssize_t i) { return b.at(i).rolling_hash; })
        .def("prefix", [](const FlatBatch& b, py::ssize_t i) { return b.at(i).prefix; })
        .def("label", [](const FlatBatch& b, py::ssize_t i) { return b.at(i).label; })
        .def("is_remote", [](const FlatBatch& b, py::ssize_t i) { return b.at(i).remote; })
        .def("is_context", [](const FlatBatch& b, py::ssize_t i) { return b.at(i).context; })
        .def("hierarchy",
             [](const FlatBatch& b, py::ssize_t i) {
                 b.at(i);
                 return hierarchy_at(b.entries, static_cast<std::size_t>(i));
             })
        .def("laps", [](const FlatBatch& b, py::ssize_t i) { return b.at(i).entry.laps; })
        .def(
            "data",
            [](const FlatBatch& b, py::ssize_t i) {
                const auto& e   = b.at(i).entry;
                PyObject*   obj = make_component(b.index, e.laps, e.value, e.accum);
                if (!obj) throw py::error_already_set();
                return py::reinterpret_steal<py::object>(obj);
            },
            "A new component object holding entry i's stored value.");
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
        .def_readwrite("remote", &TreeNode::remote,
                       "Ran in parallel elsewhere beneath the call path that submitted it: not part of "
                       "its parent's inclusive value, nor subtracted from its self value")
        .def_readwrite("context", &TreeNode::context, "A submitting call path a task was run beneath")
        .def_readwrite("inclusive", &TreeNode::inclusive)
        .def_readwrite("exclusive", &TreeNode::exclusive)
        .def_readwrite("children", &TreeNode::children);

    py::class_<TreeBatch, TreePtr>(m, "TreeBatch", "One component's tree views; storage tree objects point into it.")
        .def(py::init([](int index, std::vector<TreeNode> roots) {
                 info_at(index);
                 return make_tree_batch(index, std::move(roots));
             }),
             py::arg("index"), py::arg("roots"))
        .def_readonly("index", &TreeBatch::index)
        .def("__len__", [](const TreeBatch& b) { return b.nodes.size(); })
        .def("roots", [](const TreeBatch& b) { return b.root_ids; })
        .def("children", &TreeBatch::children)
        .def("child_count", [](const TreeBatch& b, py::ssize_t i) { return b.children(i).size(); })
        .def(
            "node", [](const TreeBatch& b, py::ssize_t i) { return b.at(i); }, "A copy of node i (with its subtree).")
        .def("hash", [](const TreeBatch& b, py::ssize_t i) { return b.at(i).hash; })
        .def("label", [](const TreeBatch& b, py::ssize_t i) { return b.at(i).label; })
        .def("depth", [](const TreeBatch& b, py::ssize_t i) { return b.at(i).depth; })
        .def("is_dummy", [](const TreeBatch& b, py::ssize_t i) { return b.at(i).is_dummy; })
        .def("is_remote", [](const TreeBatch& b, py::ssize_t i) { return b.at(i).remote; })
        .def("is_context", [](const TreeBatch& b, py::ssize_t i) { return b.at(i).context; })
        .def("tids", [](const TreeBatch& b, py::ssize_t i) { return b.at(i).tids; })
        .def("pids", [](const TreeBatch& b, py::ssize_t i) { return b.at(i).pids; })
        .def("inclusive", [](const TreeBatch& b, py::ssize_t i) { return b.at(i).inclusive; })
        .def("exclusive", [](const TreeBatch& b, py::ssize_t i) { return b.at(i).exclusive; });
    m.def(
        "tree_objects",
        [](const py::type& cls, const TreePtr& batch, const std::vector<std::int32_t>& ids) {
            return make_slot_objects(cls, py::cast(batch), ids);
        },
        py::arg("cls"), py::arg("batch"), py::arg("ids"), "One `cls` object (slots _b, _i) per node id of the batch.");

    m.def(
        "tree_from_preorder",
        [](std::vector<TreeNode> nodes, const std::vector<std::uint32_t>& counts) {
            if (nodes.empty() || counts.size() != nodes.size())
                throw py::value_error("tree_from_preorder: one child count per node, at least one node");
            // (node, children still to attach); children are reserved, so the pointers stay valid
            std::size_t                                      next = 1;
            TreeNode                                         root = std::move(nodes[0]);
            std::vector<std::pair<TreeNode*, std::uint32_t>> stack;
            auto                                             open = [&](TreeNode& n, std::uint32_t k) {
                n.children.clear();
                n.children.reserve(k);
                if (k) stack.emplace_back(&n, k);
            };
            open(root, counts[0]);
            while (!stack.empty()) {
                auto& [parent, left] = stack.back();
                if (left == 0) {
                    stack.pop_back();
                    continue;
                }
                if (next == nodes.size()) throw py::value_error("tree_from_preorder: child counts exceed the nodes");
                --left;
                TreeNode& child = parent->children.emplace_back(std::move(nodes[next]));
                open(child, counts[next++]);
            }
            if (next != nodes.size()) throw py::value_error("tree_from_preorder: nodes left after the tree");
            return root;
        },
        py::arg("nodes"), py::arg("counts"),
        "One tree from its nodes in pre-order (their own children ignored) and each one's child count.");
    m.def(
        "stats_view",
        [](int index, const Entry& e) {
            const auto& info = info_at(index);
            py::list    out;
            for (int k = 0; k < info.n_disp; ++k) {
                auto     v = stats_view(info, e.stats, k);
                py::dict d;
                d["sum"]    = v.sum;
                d["count"]  = v.count;
                d["min"]    = v.min;
                d["max"]    = v.max;
                d["sqr"]    = v.sqr;
                d["mean"]   = v.mean;
                d["stddev"] = v.stddev;
                out.append(d);
            }
            return out;
        },
        py::arg("index"), py::arg("entry"), "Statistics per display value, in display units.");
    m.def("merge_by_label", &merge_by_label, py::arg("index"), py::arg("results") = py::none(), py::arg("value") = 0,
          "Per-label (label, count, every, inclusive, self, peak) of flat entries in pre-order, "
          "display value `value` in its base unit (ns, bytes...), and the top-level total; `results` None: "
          "this process's recorded data, read from the graphs (no snapshot).");
    m.def(
        "entry_component",
        [](int index, const Entry& e) {
            info_at(index);
            PyObject* obj = make_component(index, e.laps, e.value, e.accum);
            if (!obj) throw py::error_already_set();
            return py::reinterpret_steal<py::object>(obj);
        },
        py::arg("index"), py::arg("entry"), "A new component object holding a stored value.");
    m.def("compute_exclusive", [](int index, TreeNode node) {
        compute_exclusive(info_at(index), node);
        return node;
    });

    // ---------------------------------------------------------------- storage access
    m.def(
        "has_data",
        [](int index) {
            info_at(index);
            return has_data(index);
        },
        py::arg("index"));
    m.def(
        "graph_size",
        [](int index) {
            info_at(index);
            return graph_size(index);
        },
        py::arg("index"));
    m.def(
        "flat_snapshot",
        [](int index, bool copy) {
            info_at(index);
            BatchPtr batch;
            {
                py::gil_scoped_release nogil;  // a background checkpoint must not stop the program
                SnapshotCopies         scope(copy);
                batch = make_batch(index, flat_snapshot(index));
            }
            return batch;
        },
        py::arg("index"), py::arg("copy") = false,
        "copy: take each graph's lock only to copy it (a background checkpoint)");
    m.def(
        "tree_snapshot",
        [](int index, bool copy) {
            info_at(index);
            TreePtr batch;
            {
                py::gil_scoped_release nogil;  // a background checkpoint must not stop the program
                SnapshotCopies         scope(copy);
                batch = make_tree_batch(index, tree_snapshot(index));
            }
            return batch;
        },
        py::arg("index"), py::arg("copy") = false,
        "copy: take each graph's lock only to copy it (a background checkpoint)");
    m.def(
        "joined_rows",
        [](const py::object& source, int rank, bool copy) {
            // the joined walk as Python tuples, for tests: (row, parent, depth, rank, pid,
            // tid, hash, label, [(laps, inclusive sum of value 0, exclusive sum) or None per
            // component])
            auto     src = join_source_of(source, rank, copy);
            py::list out;
            for_each_joined(src, [&](const JoinedRow& r) {
                py::list values;
                for (std::size_t c = 0; c < r.inclusive.size(); ++c) {
                    if (!r.inclusive[c]) values.append(py::none());
                    else
                        values.append(py::make_tuple(r.inclusive[c]->laps, r.inclusive[c]->stats.sum[0],
                                                     r.exclusive[c]->stats.sum[0]));
                }
                out.append(py::make_tuple(r.row, r.parent, r.depth, r.rank, r.pid, r.tid, r.hash, std::string(r.label),
                                          values));
            });
            return out;
        },
        py::arg("source"), py::arg("rank") = 0, py::arg("copy") = false,
        "The rows of the joined walk over `source` (tests and debugging; the views and exports "
        "stream it natively).");
    m.def(
        "clear",
        [](int index) {
            info_at(index);
            clear(index);
        },
        py::arg("index"));
    m.def("stop_all_bundles", &stop_all_bundles, "Stop every running marker (finalize with stack_clearing).");
    m.def("thread_count", &thread_count);

    // ---------------------------------------------------------------- moving data between processes
    m.def(
        "pack_flat_snapshot",
        [](int index) {
            const auto& info = info_at(index);
            return py::bytes(pack_flat_snapshot(info));
        },
        py::arg("index"), "flat_snapshot(index) packed as bytes (no Python objects made)");
    m.def(
        "pack_tree_snapshot",
        [](int index) {
            const auto& info = info_at(index);
            return py::bytes(pack_tree(info, tree_snapshot(index)));
        },
        py::arg("index"), "tree_snapshot(index) packed as bytes (no Python objects made)");
    m.def(
        "pack_flat",
        [](int index, const py::handle& entries) {
            const auto&            info = info_at(index);
            std::vector<FlatEntry> copies;
            for (const auto* e : entries_of(entries)) copies.push_back(*e);
            return py::bytes(pack_flat(info, copies));
        },
        py::arg("index"), py::arg("entries"));
    m.def(
        "pack_tree",
        [](int index, const py::handle& roots) {
            const auto&           info = info_at(index);
            std::vector<TreeNode> copies;
            for (const auto* r : tree_ptrs_of(roots)) copies.push_back(*r);
            return py::bytes(pack_tree(info, copies));
        },
        py::arg("index"), py::arg("roots"));
    m.def(
        "unpack_flat",
        [](int index, const py::buffer& data, const std::string& prefix) {
            const auto& info = info_at(index);
            return make_batch(index, checked([&] { return unpack_flat(info, view_of(data), prefix); }));
        },
        py::arg("index"), py::arg("data"), py::arg("prefix") = "",
        "Flat entries from pack_flat bytes; `prefix` goes in front of every decorated label.");
    m.def(
        "unpack_tree",
        [](int index, const py::buffer& data) {
            const auto& info = info_at(index);
            return make_tree_batch(index, checked([&] { return unpack_tree(info, view_of(data)); }));
        },
        py::arg("index"), py::arg("data"));
    m.def(
        "merge_packed_flat",
        [](int index, const std::vector<py::buffer>& packed) {
            const auto& info = info_at(index);
            return make_batch(index, checked([&] { return merge_flat(info, views_of(packed)); }));
        },
        py::arg("index"), py::arg("packed"),
        "One flat list merging several processes' packed flat lists by call path.");
    m.def(
        "summarize_packed_flat",
        [](int index, const std::vector<py::buffer>& packed) {
            const auto& info = info_at(index);
            return checked([&] { return summarize_processes(info, views_of(packed)); });
        },
        py::arg("index"), py::arg("packed"), "Cross-process statistics per call-graph node.");

    py::class_<ProcessSummary>(m, "ProcessSummary", "Cross-process statistics of one call-graph node.")
        .def_readonly("hash", &ProcessSummary::hash)
        .def_readonly("label", &ProcessSummary::label)
        .def_readonly("prefix", &ProcessSummary::prefix)
        .def_readonly("depth", &ProcessSummary::depth)
        .def_readonly("hierarchy", &ProcessSummary::hierarchy)
        .def_readonly("remote", &ProcessSummary::remote)
        .def_readonly("processes", &ProcessSummary::processes)
        .def_readonly("laps", &ProcessSummary::laps)
        .def_readonly("min", &ProcessSummary::min)
        .def_readonly("max", &ProcessSummary::max)
        .def_readonly("mean", &ProcessSummary::mean)
        .def_readonly("total", &ProcessSummary::total)
        .def_readonly("max_process", &ProcessSummary::max_process)
        .def_readonly("imbalance", &ProcessSummary::imbalance);
}

}  // namespace timemory_python
