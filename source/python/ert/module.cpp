// timemory._ert: the ERT kernels, one measurement per call, run without the GIL. A
// module of its own, loaded by timemory.roofline.ert only: the kernels (one copy per
// instruction set) would otherwise be resident in every process that imports timemory.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <stdexcept>

#include "timemory/ert/ert.hpp"

namespace py = pybind11;

namespace {

py::dict to_dict(const tim::ert::Measurement& m) {
    py::dict d;
    d["isa"]         = m.isa;
    d["working_set"] = m.working_set;
    d["nthreads"]    = m.nthreads;
    d["trials"]      = m.trials;
    d["seconds"]     = m.seconds;
    d["total_bytes"] = m.total_bytes;
    d["total_ops"]   = m.total_ops;
    return d;
}

template <typename F>
py::dict measured(F&& run) {
    tim::ert::Measurement m;
    try {
        py::gil_scoped_release release;
        m = run();
    } catch (const std::invalid_argument& err) {
        throw py::value_error(err.what());
    }
    return to_dict(m);
}

}  // namespace

PYBIND11_MODULE(_ert, m) {
    m.doc() = "ERT kernels (private; see timemory.roofline.ert)";
    m.def("ert_isas", &tim::ert::available_isas, "Instruction sets with ERT kernels usable on this CPU, best first.");
    m.def(
        "ert_resolve_isa",
        [](const std::string& isa) {
            try {
                return tim::ert::resolve_isa(isa);
            } catch (const std::invalid_argument& err) {
                throw py::value_error(err.what());
            }
        },
        py::arg("isa"));
    m.def(
        "ert_fma",
        [](const std::string& dtype, std::size_t working_set, int reps, std::size_t trials, std::size_t nthreads,
           std::size_t alignment, const std::string& isa, bool warmup) {
            return measured([&] {
                return tim::ert::measure_fma(dtype, working_set, reps, trials, nthreads, alignment, isa, warmup);
            });
        },
        py::arg("dtype"), py::arg("working_set"), py::arg("reps"), py::arg("trials"), py::arg("nthreads"),
        py::arg("alignment") = 0, py::arg("isa") = "auto", py::kw_only(), py::arg("warmup") = true,
        "One FMA-kernel measurement: working_set bytes per thread, 2*reps FLOPs per element; "
        "warmup=False skips the untimed pass (a working set beyond the caches).");
    m.def(
        "ert_copy",
        [](std::size_t working_set, std::size_t trials, std::size_t nthreads, std::size_t alignment,
           const std::string& isa) {
            return measured([&] { return tim::ert::measure_copy(working_set, trials, nthreads, alignment, isa); });
        },
        py::arg("working_set"), py::arg("trials"), py::arg("nthreads"), py::arg("alignment") = 0,
        py::arg("isa") = "auto", "STREAM-like copy of working_set bytes per thread.");
    m.def(
        "ert_keep_buffers",
        [](bool keep) {
            py::gil_scoped_release release;  // waits for a measurement of another thread
            tim::ert::keep_buffers(keep);
        },
        py::arg("keep"),
        "True: each measuring thread's buffers are kept and reused by the next measurements "
        "(a sweep pays a working set's page faults once); False: free them, allocate per call.");
    m.def(
        "ert_chain",
        [](const std::string& kind, double seconds) {
            if (kind != "add" && kind != "imul")  // before releasing the GIL: a ValueError
                throw py::value_error("ERT chain '" + kind + "' is unknown. Valid choices are: add, imul");
            py::gil_scoped_release release;
            return tim::ert::measure_chain(kind, seconds);
        },
        py::arg("kind"), py::arg("seconds") = 0.05,
        "Operations per second of a chain of dependent 'add' (1 cycle each) or 'imul' (3 cycles on "
        "current cores) on the calling thread, best of short runs; 0 if unknown.");
    m.def(
        "ert_frequency",
        [](double seconds) {
            py::gil_scoped_release release;
            return tim::ert::measure_frequency(seconds);
        },
        py::arg("seconds") = 0.1, "Measured clock rate (Hz) of the calling thread's core; 0 if unknown.");
}
