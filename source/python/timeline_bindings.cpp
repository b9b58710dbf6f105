// Bindings of the timeline (timemory/storage/timeline.hpp): its state, its clearing, and the
// Chrome trace-event document written from it (timemory/output/trace_events.hpp), or the
// flame-graph layout of the call graph when no timeline was recorded.
#include <unistd.h>

#include <string>
#include <unordered_map>
#include <vector>

#include <pybind11/stl.h>

#include "bindings.hpp"
#include "file_stream.hpp"
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
    m.def("timeline_stats", &stats,
          "The timeline of this process: {'recording': settings.timeline_events as the core has it, "
          "'events': recorded, 'dropped': not recorded past the cap, 'bytes': held by the buffers, "
          "'max_events': the cap}.");
    m.def("timeline_clear", &timeline::clear, "Forget every recorded timeline event and the dropped count.");
    m.def(
        "write_trace_events",
        [](const py::object& path, const std::string& process_name, const py::dict& thread_names,
           const py::dict& other_data, int sort_index) {
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
            std::int64_t written = 0, dropped = 0;
            stream_to(fs_path(path), "", "\n", [&](Out& out) {
                TraceProcess proc =
                    live_trace_process(static_cast<std::int64_t>(getpid()), process_name, names, dropped);
                proc.sort_index = sort_index;
                meta.numbers.emplace_back("dropped_events", dropped);
                meta.numbers.emplace_back("max_events", config().timeline_max_events);
                written = trace_events_json(out, {proc}, meta);
            });
            return py::make_tuple(written, dropped);
        },
        py::arg("path"), py::arg("process_name") = "", py::arg("thread_names") = py::dict(),
        py::arg("other_data") = py::dict(), py::arg("sort_index") = 0,
        "Stream this process's timeline into the file `path` as Chrome trace-event JSON, atomically: "
        "'X' events with their real begin and duration (microseconds), 'M' process and thread names "
        "(thread_names: {threading ident: name}; others are 'thread N'), 'C' counter samples of the "
        "components that are not clocks, and 'otherData' (timemory's version, the dropped count, the "
        "cap, other_data's items). Returns (events written, events dropped).");
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
