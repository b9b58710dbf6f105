// Bindings of the tests' fake clock (tests/fakeclock.py): while it is on, every wall_clock and
// cpu_clock reading, on every thread, is the time the test set and advanced, so the tests assert
// exact durations instead of sleeping and allowing for a loaded machine. Private: not for users.
#include "test_clock.hpp"

#include <cstdint>

#include "timemory/components/event_reads.hpp"
#include "timemory/components/timing.hpp"
#include "timemory/hooks/call_stack.hpp"

namespace py = pybind11;

namespace timemory_python {

void add_test_clock(py::module_& m) {
    using tim::readers::fake_clock;
    m.def(
        "_test_clock",
        [](bool enable, std::int64_t wall_ns, std::int64_t cpu_ns) {
            if (wall_ns < 0 || cpu_ns < 0) throw py::value_error("the fake clock starts at a time >= 0");
            if (enable) {
                // the times first: a thread that sees `on` then reads them
                fake_clock.wall_ns.store(wall_ns, std::memory_order_relaxed);
                fake_clock.cpu_ns.store(cpu_ns, std::memory_order_relaxed);
            }
            fake_clock.on.store(enable, std::memory_order_seq_cst);
            tim::hooks::invalidate_fast_paths();  // the profiler's fast paths read the clock directly
        },
        py::arg("enable"), py::arg("wall_ns") = 0, py::arg("cpu_ns") = 0,
        "Test only: wall_clock and cpu_clock read the fake clock (enable=True, starting at the given "
        "ns) or the real clocks again (enable=False).");
    m.def(
        "_test_clock_advance",
        [](std::int64_t wall_ns, std::int64_t cpu_ns) {
            if (wall_ns < 0 || cpu_ns < 0) throw py::value_error("the fake clock does not go back");
            fake_clock.wall_ns.fetch_add(wall_ns, std::memory_order_seq_cst);
            fake_clock.cpu_ns.fetch_add(cpu_ns, std::memory_order_seq_cst);
        },
        py::arg("wall_ns"), py::arg("cpu_ns") = 0, "Test only: advance the fake clock by the given ns.");
    m.def(
        "_test_clock_state",
        [] { return py::make_tuple(fake_clock.on.load(), fake_clock.wall_ns.load(), fake_clock.cpu_ns.load()); },
        "Test only: (on, wall ns, cpu ns) of the fake clock.");
    m.def(
        "_kernel_reads",
        [] {
            using namespace tim::readers;
            static constexpr const char* names[n_sources] = {
                "getrusage", "statm", "proc_io", "process_cputime", "thread_cputime", "getrusage_thread_maxrss"};
            py::dict d;
            for (int s = 0; s < n_sources; ++s) d[names[s]] = kernel_reads[s].load(std::memory_order_relaxed);
            return d;
        },
        "Test only: kernel reads per source (getrusage, statm, ...) since start-up, every thread; "
        "the components of one event share one read of each source.");
}

}  // namespace timemory_python
