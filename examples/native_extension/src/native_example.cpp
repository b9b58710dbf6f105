// An extension whose hot loops run with the GIL released, on std::threads of its own, and
// are instrumented with timemory's C API: its regions land beneath the Python call that
// entered it (a marker, the profiler's node of the call...), each thread's marked
// [parallel], next to the data trackers it records.
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <thread>
#include <vector>

#include <timemory/capi.hpp>

namespace py = pybind11;

namespace {

// Binds the C API when the program has imported timemory, at any call: the program may
// import timemory after this module (cheap once bound; a no-op API until then).
void bind_timemory() {
    if (timemory_capi_import() < 0) throw py::error_already_set();
}

double kernel(int thread, int step, int work) {
    double acc = 0.0;
    for (int i = 1; i <= work; ++i) acc += std::sin(static_cast<double>(thread + step + i)) / i;
    return acc;
}

// `threads` std::threads run `steps` steps of `work` iterations each; the calling thread
// waits for them with the GIL released (release_gil=False keeps it held: the C API does not
// need it, so the threads run all the same).
double simulate(int threads, int steps, int work, bool release_gil) {
    bind_timemory();
    timemory::scoped_region whole{"simulate"};
    // where the threads' regions go: beneath simulate, beneath the Python call
    const auto          ctx = timemory::context::capture();
    std::vector<double> partial(static_cast<std::size_t>(threads), 0.0);
    {
        std::optional<py::gil_scoped_release> nogil;
        if (release_gil) nogil.emplace();
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t) {
            pool.emplace_back([&, t] {
                timemory::scoped_context  in{ctx};
                timemory::scoped_region   worker{"worker"};
                const timemory::region_id step_id{"step"};  // hashed once, not per step
                double                    acc = 0.0;
                for (int s = 0; s < steps; ++s) {
                    timemory::scoped_region step{step_id};
                    acc += kernel(t, s, work);
                }
                timemory::record("steps_done", steps);
                partial[static_cast<std::size_t>(t)] = acc;
            });
        }
        for (auto& th : pool) th.join();
    }
    double total = 0.0;
    for (double p : partial) total += p;
    return total;
}

// One loop on the calling thread, the GIL released, with the C function names of the API.
double integrate(int n) {
    bind_timemory();
    py::gil_scoped_release nogil;
    timemory_push_region("integrate");
    double acc = 0.0;
    for (int i = 0; i < n; ++i) acc += 1.0 / (1.0 + static_cast<double>(i) * i);
    timemory_record("integrate_n", n);
    timemory_pop_region("integrate");
    return acc;
}

}  // namespace

PYBIND11_MODULE(timemory_native_example, m) {
    m.doc() = "An extension instrumented with timemory's C API (examples/native_extension)";
    bind_timemory();
    m.def("simulate", &simulate, py::arg("threads") = 4, py::arg("steps") = 10, py::arg("work") = 1000,
          py::arg("release_gil") = true,
          "Run `steps` steps of `work` iterations on each of `threads` std::threads (regions simulate, "
          "worker, step; data tracker steps_done).");
    m.def("integrate", &integrate, py::arg("n"), "A loop on the calling thread (region integrate).");
    m.def("timemory_bound", [] { return timemory::available(); }, "Whether the C API is bound to timemory.");
}
