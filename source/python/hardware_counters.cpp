// Bindings of the perf_event backend: event catalogue and probing for
// timemory.hardware_counters, configuration for settings.papi_events.
#include "hardware_counters.hpp"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <stdexcept>

#include "timemory/components/component_info.hpp"
#include "timemory/components/perf_event.hpp"
#include "timemory/hooks/call_stack.hpp"
#include "timemory/hooks/line_tracker.hpp"

namespace py   = pybind11;
namespace perf = tim::perf;

namespace timemory_python {
namespace {

const perf::EventDef& event_or_throw(const std::string& name) {
    const auto* e = perf::find_event(name);
    if (!e)
        throw py::value_error("Unknown hardware counter: '" + name +
                              "'. Valid choices are: " + perf::valid_event_choices());
    return *e;
}

py::dict event_dict(const perf::EventDef& e) {
    const auto s = perf::probe(e);
    py::dict   d;
    d["name"]        = e.name;
    d["aliases"]     = e.aliases;
    d["description"] = e.description;
    d["mapping"]     = e.mapping;
    d["preset"]      = e.preset;
    d["unit"]        = e.unit == tim::Unit::timing ? "ns" : "count";
    d["available"]   = s.available;
    d["user_only"]   = s.user_only;
    d["reason"]      = s.reason;
    return d;
}

bool counts_hw(const std::vector<int>& indices) {
    for (int i : indices)
        if (tim::component_table()[static_cast<std::size_t>(i)].hw_counter) return true;
    return false;
}

// Running papi_vector / papi_array measurements: bundles and component objects
// (perf::running_measurements), plus 1 for an active profiler or line-profiler session
// that counts them (its frames start and stop readings all the time).
std::int64_t hw_running() {
    std::int64_t n = perf::running_measurements();
    if (tim::hooks::g_session.active && counts_hw(tim::hooks::g_session.indices)) ++n;
    if (tim::hooks::g_line_session.active && counts_hw(tim::hooks::g_line_session.indices)) ++n;
    return n;
}

// perf:: components already handed to the hook
bool      g_noted[tim::max_user_components] = {};
PyObject* g_component_hook                  = nullptr;  // set by timemory._components

}  // namespace

int perf_component_error(const std::string& name) {
    if (!perf::is_event_component_name(name)) return 0;
    PyErr_SetString(PyExc_ValueError, perf::event_component_error(name).c_str());
    return -1;
}

int note_component(int index) {
    if (!perf::event_of_component(index)) return 0;
    const int k = index - tim::builtin_component_count();
    if (g_noted[k]) return 0;
    if (!g_component_hook) return 0;  // timemory._components not imported: nobody to tell
    PyObject* r = PyObject_CallFunction(g_component_hook, "i", index);
    if (!r) return -1;  // the warning raised (-W error): reported again next time
    Py_DECREF(r);
    g_noted[k] = true;
    return 0;
}

void add_hardware_counters(py::module_& m) {
    m.def("hw_event_names", &perf::event_names, "Canonical names of the known hardware counters.");
    m.def(
        "hw_event_info", [](const std::string& name) { return event_dict(event_or_throw(name)); }, py::arg("name"),
        "Description and availability (probed by opening it) of one event.");
    m.def(
        "hw_events",
        [] {
            py::list out;
            for (const auto& e : perf::event_catalogue()) out.append(event_dict(e));
            return out;
        },
        "Every known event, probed.");
    m.def("hw_canonical_name", [](const std::string& name) { return event_or_throw(name).name; }, py::arg("name"));
    m.def(
        "hw_configure",
        [](const std::vector<std::string>& names, bool multiplexing) {
            try {
                perf::configure(names, multiplexing);
            } catch (const std::invalid_argument& err) {
                throw py::value_error(err.what());
            }
        },
        py::arg("names"), py::arg("multiplexing") = false,
        "Set the events of papi_vector / papi_array (empty: the defaults).");
    m.def(
        "hw_configured",
        [] {
            py::list out;
            for (const auto& [name, s] : perf::configured_events())
                out.append(py::make_tuple(name, s.available, s.reason));
            return out;
        },
        "(name, available, reason) of every configured event.");
    m.def(
        "hw_scaling",
        [] {
            py::list out;
            for (const auto& s : perf::scaling()) {
                py::dict d;
                d["event"]        = s.name;
                d["time_enabled"] = s.time_enabled;
                d["time_running"] = s.time_running;
                out.append(d);
            }
            return out;
        },
        "Multiplexing of each counted event, summed over threads.");
    m.def("hw_scaled_count", &perf::scaled_count, py::arg("value"), py::arg("enabled"), py::arg("running"),
          "value * enabled / running (0 if it never ran): the multiplexing estimate.");
    m.def(
        "hw_component_indices",
        [] { return std::vector<int>{tim::find_component("papi_array"), tim::find_component("papi_vector")}; },
        "Enum indices of the components that count settings.papi_events.");
    m.def("hw_running", &hw_running,
          "papi_vector / papi_array measurements started and not stopped, on every thread (a profiler "
          "session counting them is one): settings.papi_events cannot change while it is not 0.");
    m.def("hw_paranoid", &perf::perf_event_paranoid, "kernel.perf_event_paranoid (99 if unreadable).");
    m.def(
        "hw_set_component_hook",
        [](py::object hook) { Py_XSETREF(g_component_hook, hook.is_none() ? nullptr : hook.inc_ref().ptr()); },
        py::arg("hook"), "hook(index) is called the first time each perf:: component is named (None: nobody).");
    m.def(
        "hw_event_component",
        [](const std::string& event) {
            const std::string name  = perf::event_component_prefix + event;
            const int         index = tim::find_component(name);
            if (index < 0) throw py::value_error(perf::event_component_error(name));
            if (note_component(index) < 0) throw py::error_already_set();
            return index;
        },
        py::arg("event"), "Component index of perf::<event> (made in a free slot on first use).");
    m.def(
        "hw_component_event",
        [](int index) -> py::object {
            const auto* e = perf::event_of_component(index);
            if (!e) return py::none();
            return py::str(e->name);
        },
        py::arg("index"), "The event a perf:: component counts, or None for any other component.");
}

}  // namespace timemory_python
