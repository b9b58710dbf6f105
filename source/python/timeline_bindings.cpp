// Bindings of the timeline (timemory/storage/timeline.hpp): its state, its clearing, and the
// Chrome trace-event document written from it (timemory/output/trace_events.hpp), or the
// flame-graph layout of the call graph when no timeline was recorded.
#include <unistd.h>

#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "file_stream.hpp"
#include "names.hpp"
#include "storage_views.hpp"
#include "timemory/components/component_info.hpp"
#include "timemory/output/trace_events.hpp"
#include "timemory/storage/snapshot.hpp"
#include "timemory/storage/timeline.hpp"

namespace py = pybind11;
using namespace tim;

namespace timemory_python {
namespace {

// Pre-order walk of trees read back (enter, then the children, then leave).
TreeWalk walk_of(const std::vector<const TreeNode*>& roots) {
    return [&roots](const std::function<void(const TreeNode&)>& enter, const std::function<void()>& leave) {
        struct Frame {
            const TreeNode* node;
            std::size_t     next;
        };
        for (const TreeNode* r : roots) {
            std::vector<Frame> stack{{r, 0}};
            enter(*r);
            while (!stack.empty()) {
                auto& f = stack.back();
                if (f.next == f.node->children.size()) {
                    stack.pop_back();
                    leave();
                    continue;
                }
                const TreeNode& c = f.node->children[f.next++];
                enter(c);
                stack.push_back({&c, 0});
            }
        }
    };
}

bool is_time_component(const ComponentInfo& info) {
    return info.flamegraph && !info.units.empty() && info.units[0] == Unit::timing;
}

// The Python name of the thread whose buffer is being created (on that thread, holding the
// GIL: a measurement starts or stops), read from threading's table of its threads without
// running any Python code (this runs inside the profiler's callbacks):
// threading._active[ident].__dict__["_name"]. Nothing when threading was never imported or
// does not know the thread (one started by _thread, or by C code).
void python_thread_name(timeline::ThreadEvents& te) {
    if (!Py_IsInitialized() || !PyGILState_Check()) return;
    PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
    PyErr_Fetch(&type, &value, &tb);
    PyObject* modules   = PyImport_GetModuleDict();                                            // borrowed
    PyObject* threading = modules ? PyDict_GetItemString(modules, "threading") : nullptr;      // borrowed
    PyObject* active    = threading ? PyObject_GetAttrString(threading, "_active") : nullptr;  // new
    if (active && PyDict_Check(active)) {
        PyObject* key    = PyLong_FromUnsignedLong(te.ident);
        PyObject* thread = key ? PyDict_GetItemWithError(active, key) : nullptr;         // borrowed
        PyObject* dict   = thread ? PyObject_GenericGetDict(thread, nullptr) : nullptr;  // new
        PyObject* name   = dict && PyDict_Check(dict) ? PyDict_GetItemString(dict, "_name") : nullptr;
        if (name && PyUnicode_Check(name)) te.name = utf8_string(name);
        Py_XDECREF(dict);
        Py_XDECREF(key);
    }
    Py_XDECREF(active);
    PyErr_Clear();
    PyErr_Restore(type, value, tb);
}

py::dict stats() {
    const auto t = timeline::totals();
    py::dict   d;
    d["recording"]  = timeline::recording();
    d["events"]     = t.recorded;
    d["dropped"]    = t.dropped;
    d["bytes"]      = t.bytes;
    d["max_events"] = config().timeline_max_events;
    return d;
}

}  // namespace

void add_timeline_bindings(py::module_& m) {
    timeline::set_thread_namer(&python_thread_name);
    m.def("timeline_stats", &stats,
          "The timeline of this process: {'recording': settings.timeline_events as the core has it, "
          "'events': recorded, 'dropped': not recorded past the cap, 'bytes': held by the buffers, "
          "'max_events': the cap}.");
    m.def("timeline_clear", &timeline::clear, "Forget every recorded timeline event and the dropped count.");
    m.def(
        "write_trace_events",
        [](const py::object& path, const std::string& process_name, const py::dict& thread_names,
           const py::dict& other_data, int sort_index, const py::list& others) {
            std::unordered_map<unsigned long, std::string> names;
            for (auto item : thread_names) names[item.first.cast<unsigned long>()] = item.second.cast<std::string>();
            TraceMeta meta;
            meta.strings.emplace_back("timemory_version", TIMEMORY_VERSION_STRING);
            meta.strings.emplace_back("clock", "CLOCK_MONOTONIC (wall_clock's clock), microseconds");
            for (auto item : other_data) {
                auto key = item.first.cast<std::string>();
                if (py::isinstance<py::int_>(item.second) && !py::isinstance<py::bool_>(item.second))
                    meta.numbers.emplace_back(key, item.second.cast<std::int64_t>());
                else meta.strings.emplace_back(key, py::str(item.second).cast<std::string>());
            }
            // the other processes' packed timelines (pool workers): (process name, bytes)
            std::deque<timeline::Unpacked> unpacked;
            std::vector<std::string>       other_names;
            for (auto item : others) {
                auto        pair  = item.cast<py::tuple>();
                std::string bytes = pair[1].cast<std::string>();
                std::string err;
                if (!timeline::unpack(bytes, unpacked.emplace_back(), &err)) throw py::value_error(err);
                other_names.push_back(pair[0].cast<std::string>());
            }
            std::int64_t written = 0, dropped = 0;
            stream_to(fs_path(path), "", "\n", [&](Out& out) {
                std::vector<TraceProcess> procs;
                procs.push_back(live_trace_process(static_cast<std::int64_t>(getpid()), process_name, names, dropped));
                procs.back().sort_index = sort_index;
                for (std::size_t i = 0; i < unpacked.size(); ++i) {
                    procs.push_back(unpacked_trace_process(unpacked[i], other_names[i]));
                    procs.back().sort_index = sort_index + 1 + static_cast<int>(i);
                    dropped += unpacked[i].dropped;
                }
                meta.numbers.emplace_back("dropped_events", dropped);
                meta.numbers.emplace_back("max_events", config().timeline_max_events);
                meta.numbers.emplace_back("processes", static_cast<std::int64_t>(procs.size()));
                written = trace_events_json(out, procs, meta);
            });
            return py::make_tuple(written, dropped);
        },
        py::arg("path"), py::arg("process_name") = "", py::arg("thread_names") = py::dict(),
        py::arg("other_data") = py::dict(), py::arg("sort_index") = 0, py::arg("others") = py::list(),
        "Stream this process's timeline into the file `path` as Chrome trace-event JSON, atomically: "
        "'X' events with their real begin and duration (microseconds), 'M' process and thread names "
        "(thread_names: {threading ident: name}; else the name the thread had when it first recorded, "
        "else 'thread N'), 'C' counter samples of the components that are not clocks, and 'otherData' "
        "(timemory's version, the dropped count, the cap, other_data's items). others: (process name, "
        "pack_trace_events() bytes) of other processes (pool workers), each its own process track. "
        "Returns (events written, events dropped by this process and the others).");
    m.def(
        "pack_trace_events",
        [] {
            std::string packed;
            {
                py::gil_scoped_release nogil;
                packed = timeline::pack();
            }
            return py::bytes(packed);
        },
        "This process's timeline packed into bytes (events, counter samples, labels, dropped count), "
        "for write_trace_events(others=...) in another process.");
    m.def(
        "write_flame_trace",
        [](const py::object& path, const py::list& source, bool copy) {
            // the source convention: a component index (this process's live graph), or
            // (index, ranks), ranks a list per rank of root trees read back
            struct Part {
                int                                       index = -1;
                bool                                      live  = true;
                std::vector<std::vector<const TreeNode*>> ranks;
            };
            std::vector<Part> parts;
            for (auto item : source) {
                Part p;
                if (py::isinstance<py::int_>(item)) {
                    p.index = item.cast<int>();
                } else {
                    auto pair = item.cast<py::tuple>();
                    p.index   = pair[0].cast<int>();
                    p.live    = false;
                    for (auto r : pair[1].cast<py::list>()) p.ranks.push_back(tree_ptrs_of(r));
                }
                if (is_time_component(info_at(p.index))) parts.push_back(std::move(p));
            }
            std::int64_t tracks = 0;
            stream_to(fs_path(path), "", "\n", [&](Out& out) {
                out.buf += "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"timemory_version\":";
                json_escape(out.buf, TIMEMORY_VERSION_STRING);
                out.buf +=
                    ",\"layout\":\"flame graph: each node's inclusive value laid end to end under its "
                    "parent; the times are not when the code ran\"},\"traceEvents\":[";
                bool first = true;
                for (const auto& p : parts) {
                    const auto& info = component_table()[static_cast<std::size_t>(p.index)];
                    const auto  pid  = ++tracks;  // one process track per component
                    if (!first) out.buf += ',';
                    first = false;
                    out.buf += "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":";
                    out.buf += std::to_string(pid);
                    out.buf += ",\"tid\":0,\"args\":{\"name\":";
                    json_escape(out.buf, info.key + " (flame-graph layout)");
                    out.buf += "}}";
                    if (p.live) {
                        struct Copies {  // each graph copied under its lock (a checkpoint), this write only
                            explicit Copies(bool c) { snapshot_copies = c; }
                            ~Copies() { snapshot_copies = false; }
                        } scope(copy);
                        flamegraph_events_walk(
                            out, info,
                            [&](const std::function<void(const TreeNode&)>& enter, const std::function<void()>& leave) {
                                for_each_tree(p.index, enter, leave);
                            },
                            first, pid);
                    } else {
                        for (const auto& roots : p.ranks) flamegraph_events_walk(out, info, walk_of(roots), first, pid);
                    }
                }
                out.buf += "]}";
            });
            return tracks;
        },
        py::arg("path"), py::arg("source"), py::arg("copy") = false,
        "The flame-graph layout (times made up: inclusive values laid end to end) of the time "
        "components of `source` (component indices, or (index, ranks of trees) pairs), one process "
        "track per component, streamed into `path` atomically. Returns the number of tracks.");
}

}  // namespace timemory_python
