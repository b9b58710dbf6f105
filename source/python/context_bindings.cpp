// The submitting call path that follows a task to the thread or process that runs it
// (timemory._context): captured where the task is submitted, entered where it runs.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "bindings.hpp"
#include "timemory/components/component_info.hpp"
#include "timemory/storage/call_graph.hpp"

namespace py = pybind11;

namespace timemory_python {

void add_context_bindings(py::module_& m) {
    m.def(
        "context_capture",
        []() {
            // the calling thread's position in each of its graphs that is not at the root
            py::list    out;
            const auto& td = tim::thread_data();
            for (std::size_t i = 0; i < td.graphs.size(); ++i) {
                const auto& g = td.graphs[i];
                if (!g || g->current() == 0) continue;
                std::vector<std::uint64_t> path;
                {
                    auto lk = g->lock_nodes();
                    path    = g->current_path();
                }
                out.append(py::make_tuple(static_cast<int>(i), py::tuple(py::cast(path))));
            }
            return out;
        },
        "The calling thread's call path in each component's graph where a node is open: "
        "[(component index, (hash, ...)), ...] from the top level.");
    m.def(
        "context_labels",
        [](const std::vector<std::uint64_t>& hashes) {
            // what another process needs to name these nodes: label, where, function source
            py::list out;
            for (auto h : hashes) {
                tim::HashSource src;
                const bool      has_source = tim::hash_source(h, src);
                out.append(py::make_tuple(
                    h, tim::get_hash_identifier(h), tim::hash_where(h),
                    has_source ? py::object(py::make_tuple(src.file, src.line, src.name)) : py::object(py::none())));
            }
            return out;
        },
        py::arg("hashes"), "[(hash, label, where, (file, line, name) or None), ...] of registered hashes.");
    m.def(
        "context_register",
        [](const std::vector<std::tuple<std::uint64_t, std::string, std::string, py::object>>& records) {
            for (const auto& [h, label, where, source] : records) {
                if (label.empty()) continue;  // unknown where it was captured: left unnamed
                tim::add_hash_id(h, label, where);
                if (!source.is_none()) {
                    auto t = source.cast<std::tuple<std::string, int, std::string>>();
                    tim::add_hash_source(h, std::get<0>(t), std::get<1>(t), std::get<2>(t));
                }
            }
        },
        py::arg("records"), "Registers what context_labels returned in another process.");
    m.def(
        "context_enter",
        [](const std::vector<std::pair<int, std::vector<std::uint64_t>>>& context) {
            auto&    td = tim::thread_data();
            py::list token;
            for (const auto& [index, hashes] : context) {
                if (index < 0 || index >= tim::component_count())
                    throw py::value_error("context_enter: no component has index " + std::to_string(index));
                auto&              g    = td.graph(index);
                const std::int32_t prev = g.enter_context(hashes.data(), hashes.size());
                token.append(py::make_tuple(index, prev, g.generation()));
            }
            return token;
        },
        py::arg("context"),
        "Enters a captured call path in the calling thread (placeholder nodes, their labels "
        "registered before); returns the token for context_leave.");
    m.def(
        "context_leave",
        [](const std::vector<std::tuple<int, std::int32_t, std::uint64_t>>& token) {
            auto& td = tim::thread_data();
            for (const auto& [index, prev, generation] : token) {
                if (index < 0 || index >= tim::component_count()) continue;
                auto& g = td.graph(index);
                // cleared meanwhile: the node `prev` names is gone
                g.leave_context(g.generation() == generation ? prev : 0);
            }
        },
        py::arg("token"), "Leaves what context_enter entered: the nodes current before are current again.");
}

}  // namespace timemory_python
