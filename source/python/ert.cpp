// Bindings of the ERT kernels: one measurement per call, run without the GIL.
#include "ert.hpp"

#include <pybind11/stl.h>

#include <stdexcept>

#include "timemory/components/roofline.hpp"
#include "timemory/ert/ert.hpp"

namespace py = pybind11;

namespace timemory_python {
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

void add_ert(py::module_& m) {
    m.def("ert_isas", &tim::ert::available_isas,
          "Instruction sets with ERT kernels usable on this CPU, best first.");
    m.def("ert_resolve_isa", [](const std::string& isa) {
        try {
            return tim::ert::resolve_isa(isa);
        } catch (const std::invalid_argument& err) {
            throw py::value_error(err.what());
        }
    }, py::arg("isa"));
    m.def("ert_fma", [](const std::string& dtype, std::size_t working_set, int reps, std::size_t trials,
                        std::size_t nthreads, std::size_t alignment, const std::string& isa) {
        return measured([&] {
            return tim::ert::measure_fma(dtype, working_set, reps, trials, nthreads, alignment, isa);
        });
    }, py::arg("dtype"), py::arg("working_set"), py::arg("reps"), py::arg("trials"),
          py::arg("nthreads"), py::arg("alignment") = 0, py::arg("isa") = "auto",
          "One FMA-kernel measurement: working_set bytes per thread, 2*reps FLOPs per element.");
    m.def("ert_copy", [](std::size_t working_set, std::size_t trials, std::size_t nthreads,
                         std::size_t alignment, const std::string& isa) {
        return measured([&] {
            return tim::ert::measure_copy(working_set, trials, nthreads, alignment, isa);
        });
    }, py::arg("working_set"), py::arg("trials"), py::arg("nthreads"), py::arg("alignment") = 0,
          py::arg("isa") = "auto", "STREAM-like copy of working_set bytes per thread.");
    m.def("roofline_add_work", [](const std::string& dtype, double flops, double bytes) {
        try {
            tim::roofline::add_work(dtype, flops, bytes);
        } catch (const std::invalid_argument& err) {
            throw py::value_error(err.what());
        }
    }, py::arg("dtype"), py::arg("flops"), py::arg("bytes"),
          "Add to the calling thread's declared work (cpu_roofline_* components).");
    m.def("roofline_totals", [] {
        double t[4];
        tim::roofline::totals(t);
        return py::make_tuple(t[0], t[1], t[2], t[3]);
    }, "The calling thread's declared (dp flops, sp flops, untyped flops, bytes).");
    m.def("roofline_set_ert", &tim::roofline::set_ert_json, py::arg("json"),
          "The JSON value of the cpu_roofline_* components' \"roofline\" member.");
    m.def("roofline_ert_json", &tim::roofline::ert_json_block);
    m.def("ert_frequency", [](double seconds) {
        py::gil_scoped_release release;
        return tim::ert::measure_frequency(seconds);
    }, py::arg("seconds") = 0.1, "Measured clock rate (Hz) of the calling thread's core; 0 if unknown.");
}

}  // namespace timemory_python
