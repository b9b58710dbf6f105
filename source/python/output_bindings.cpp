// Bindings of the writers: the flat and tree JSON, the flame graph, the text table, and the
// atomic write of a file from str and bytes parts.
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#if defined(__GLIBC__)  // defined by the C++ headers above, on glibc
#include <malloc.h>
#endif

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "file_stream.hpp"
#include "names.hpp"
#include "storage_views.hpp"
#include "timemory/output/writers.hpp"
#include "timemory/storage/entry.hpp"

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

// Flat rows made from flat items (`items(visit)` calls visit once per item).
using FlatItems = std::function<void(const std::function<void(const FlatItem&)>&)>;
FlatRows rows_of_items(FlatItems items) {
    return [items = std::move(items)](const std::function<void(const FlatRow&)>& row) {
        std::string prefix;
        FlatRow     r;
        items([&](const FlatItem& it) {
            flat_prefix(prefix, it.label, it.depth, it.tid, it.nthreads, it.show_tid);
            r.hash         = it.hash;
            r.prefix       = prefix;
            r.depth        = it.depth;
            r.entry        = it.entry;
            r.rolling_hash = it.rolling_hash;
            r.remote       = it.remote;
            r.context      = it.context;
            r.total        = it.total;
            row(r);
        });
    };
}

// The flat rows of component `index` read from the recorded graph as they are written.
FlatSource live_flat(int index) {
    FlatSource src;
    src.size = graph_size(index);
    src.rows =
        rows_of_items([index](const std::function<void(const FlatItem&)>& visit) { for_each_flat(index, visit); });
    return src;
}

// The same for a writer that reads the rows several times (the text table): read from `passes`.
FlatRows live_rows(FlatPasses& passes) {
    return rows_of_items([&passes](const std::function<void(const FlatItem&)>& visit) { passes.for_each(visit); });
}

// tim::snapshot_copies for one live write on this thread: each graph is copied under its lock
// (held for the copy alone) and written from the copy, so that a background checkpoint never
// makes a thread that creates nodes wait for the whole write.
struct LiveCopies {
    explicit LiveCopies(bool copy) { snapshot_copies = copy; }
    ~LiveCopies() { snapshot_copies = false; }
    LiveCopies(const LiveCopies&)            = delete;
    LiveCopies& operator=(const LiveCopies&) = delete;
};

TreeWalk live_tree(int index) {
    return [index](const std::function<void(const TreeNode&)>& enter, const std::function<void()>& leave) {
        for_each_tree(index, enter, leave);
    };
}

}  // namespace

void add_output_bindings(py::module_& m) {
    m.def(
        "release_free_memory",
        []() {
#if defined(__GLIBC__)
            py::gil_scoped_release nogil;
            return malloc_trim(0) != 0;
#else
            return false;
#endif
        },
        "Gives the memory malloc holds free back to the system (glibc's malloc_trim; False "
        "elsewhere or when none was): the files written at once leave each writer thread's "
        "arena holding the room its file took, which the next file cannot reuse.");
    // This process's data written straight from the recorded graph (no flat or tree view is
    // made): what finalize writes when no other process's data is merged in.
    m.def(
        "write_live_flat_json",
        [](const py::object& path, int index, const py::dict& meta, const std::string& head, const std::string& tail,
           bool copy) {
            const auto& info = info_at(index);
            const auto  m    = meta_from(meta);
            stream_to(fs_path(path), head, tail, [&](Out& out) {
                LiveCopies scope(copy);
                flat_json_rows(out, info, {live_flat(index)}, m);
            });
        },
        py::arg("path"), py::arg("index"), py::arg("meta"), py::arg("head") = "", py::arg("tail") = "",
        py::arg("copy") = false, "The flat JSON of this process's data of a component, streamed into the file `path`.");
    m.def(
        "write_live_tree_json",
        [](const py::object& path, int index, const py::dict& meta, const std::string& key, const std::string& head,
           const std::string& tail, bool copy) {
            const auto& info = info_at(index);
            const auto  m    = meta_from(meta);
            stream_to(fs_path(path), head, tail, [&](Out& out) {
                LiveCopies scope(copy);
                tree_json_walk(out, info, live_tree(index), m, key);
            });
        },
        py::arg("path"), py::arg("index"), py::arg("meta"), py::arg("ranks_key"), py::arg("head") = "",
        py::arg("tail") = "", py::arg("copy") = false,
        "The tree JSON of this process's data of a component, streamed into the file `path`.");
    m.def(
        "write_live_flamegraph_json",
        [](const py::object& path, int index, const std::string& tail, bool copy) {
            const auto& info = info_at(index);
            stream_to(fs_path(path), "", tail, [&](Out& out) {
                LiveCopies scope(copy);
                flamegraph_json_walk(out, info, live_tree(index));
            });
        },
        py::arg("path"), py::arg("index"), py::arg("tail") = "", py::arg("copy") = false,
        "The flame graph of this process's data of a component, streamed into the file `path`.");
    m.def(
        "write_live_text_table",
        [](const py::object& path, int index, const std::string& tail, bool copy, std::size_t max_rows,
           const std::string& more, bool auto_timing, bool auto_memory) {
            const auto&     info = info_at(index);
            const TextLimit limit{max_rows, more, auto_timing, auto_memory};
            stream_to(fs_path(path), "", tail, [&](Out& out) {
                LiveCopies scope(copy);
                FlatPasses passes(index);
                text_table_rows(out, info, live_rows(passes), limit);
            });
        },
        py::arg("path"), py::arg("index"), py::arg("tail") = "", py::arg("copy") = false, py::arg("max_rows") = 0,
        py::arg("more") = "", py::arg("auto_timing") = false, py::arg("auto_memory") = false,
        "The text table of this process's data of a component, streamed into the file `path`; at most "
        "`max_rows` rows (0: all), then \"... and K more rows\" + `more`.");
    m.def(
        "write_functions_json",
        [](const py::object& path, const std::string& tail) {
            stream_to(fs_path(path), "", tail, [&](Out& out) { functions_json(out, hash_ids(), hash_sources()); });
        },
        py::arg("path"), py::arg("tail") = "",
        "functions.json (every label with its hashes, every function's source, as json.dumps(indent=2)) "
        "streamed into the file `path`.");
    m.def(
        "live_text_table",
        [](int index, std::size_t max_rows, const std::string& more, bool auto_timing, bool auto_memory) {
            const auto&            info = info_at(index);
            const TextLimit        limit{max_rows, more, auto_timing, auto_memory};
            py::gil_scoped_release nogil;
            Out                    out;
            FlatPasses             passes(index);
            text_table_rows(out, info, live_rows(passes), limit);
            return std::move(out.buf);
        },
        py::arg("index"), py::arg("max_rows") = 0, py::arg("more") = "", py::arg("auto_timing") = false,
        py::arg("auto_memory") = false,
        "The text table of this process's data of a component (at most `max_rows` rows; 0: all).");
    m.def(
        "write_flat_json",
        [](const py::object& path, int index, const py::sequence& ranks, const py::dict& meta, const std::string& head,
           const std::string& tail) {
            const auto&                                info = info_at(index);
            std::vector<std::vector<const FlatEntry*>> lists;
            for (auto r : ranks) lists.push_back(entries_of(r));
            const auto m = meta_from(meta);
            stream_to(fs_path(path), head, tail, [&](Out& out) { flat_json(out, info, lists, m); });
        },
        py::arg("path"), py::arg("index"), py::arg("ranks"), py::arg("meta"), py::arg("head") = "",
        py::arg("tail") = "",
        "flat_json(index, ranks, meta) streamed into the file `path` (str, bytes or path-like), atomically.");
    m.def(
        "write_tree_json",
        [](const py::object& path, int index, const py::sequence& ranks, const py::dict& meta, const std::string& key,
           const std::string& head, const std::string& tail) {
            const auto&                               info = info_at(index);
            std::vector<std::vector<const TreeNode*>> lists;
            for (auto r : ranks) lists.push_back(tree_ptrs_of(r));
            const auto m = meta_from(meta);
            stream_to(fs_path(path), head, tail, [&](Out& out) { tree_json(out, info, lists, m, key); });
        },
        py::arg("path"), py::arg("index"), py::arg("ranks"), py::arg("meta"), py::arg("ranks_key"),
        py::arg("head") = "", py::arg("tail") = "",
        "tree_json(index, ranks, meta, ranks_key) streamed into the file `path` (str, bytes or path-like), "
        "atomically.");
    m.def(
        "write_flamegraph_json",
        [](const py::object& path, int index, const py::handle& roots, const std::string& tail) {
            const auto& info  = info_at(index);
            const auto  nodes = tree_ptrs_of(roots);
            stream_to(fs_path(path), "", tail, [&](Out& out) { flamegraph_json(out, info, nodes); });
        },
        py::arg("path"), py::arg("index"), py::arg("roots"), py::arg("tail") = "",
        "flamegraph_json(index, roots) streamed into the file `path` (str, bytes or path-like), atomically.");
    m.def(
        "write_text_table",
        [](const py::object& path, int index, const py::handle& entries, const std::string& tail, std::size_t max_rows,
           const std::string& more, bool auto_timing, bool auto_memory) {
            const auto&     info = info_at(index);
            const auto      list = entries_of(entries);
            const TextLimit limit{max_rows, more, auto_timing, auto_memory};
            stream_to(fs_path(path), "", tail, [&](Out& out) { text_table(out, info, list, limit); });
        },
        py::arg("path"), py::arg("index"), py::arg("entries"), py::arg("tail") = "", py::arg("max_rows") = 0,
        py::arg("more") = "", py::arg("auto_timing") = false, py::arg("auto_memory") = false,
        "text_table(index, entries) streamed into the file `path` (str, bytes or path-like), atomically.");
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
        [](int index, const py::handle& entries, std::size_t max_rows, const std::string& more, bool auto_timing,
           bool auto_memory) {
            const auto&            info = info_at(index);
            const auto             list = entries_of(entries);
            const TextLimit        limit{max_rows, more, auto_timing, auto_memory};
            py::gil_scoped_release nogil;  // the entries belong to the batch `entries` holds
            return text_table(info, list, limit);
        },
        py::arg("index"), py::arg("entries"), py::arg("max_rows") = 0, py::arg("more") = "",
        py::arg("auto_timing") = false, py::arg("auto_memory") = false);
    m.def(
        "atomic_write",
        [](const py::object& path_obj, const py::args& parts) {
            const std::string path = fs_path(path_obj);
            // each part is read in place (str: its UTF-8 form, cached by Python; bytes as they are)
            std::vector<std::string_view> views;
            std::deque<std::string>       escaped;  // str parts that had no UTF-8 form
            for (const auto& part : parts) {
                if (PyUnicode_Check(part.ptr())) {
                    // a str holding a name that was not valid UTF-8 (surrogates) is written
                    // with those bytes escaped, as the recorded labels are: the file stays UTF-8
                    views.push_back(utf8_name(part.ptr(), escaped.emplace_back()));
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
