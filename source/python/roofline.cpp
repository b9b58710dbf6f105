// Bindings of the cpu_roofline_* components' declared work (timemory.roofline).
#include "roofline.hpp"

#include <stdexcept>

#include "timemory/components/roofline.hpp"

namespace py = pybind11;

namespace timemory_python {

void add_roofline(py::module_& m) {
    m.def(
        "roofline_add_work",
        [](const std::string& dtype, double flops, double bytes) {
            try {
                tim::roofline::add_work(dtype, flops, bytes);
            } catch (const std::invalid_argument& err) {
                throw py::value_error(err.what());
            }
        },
        py::arg("dtype"), py::arg("flops"), py::arg("bytes"),
        "Add to the calling thread's declared work (cpu_roofline_* components).");
    m.def(
        "roofline_totals",
        [] {
            double t[4];
            tim::roofline::totals(t);
            return py::make_tuple(t[0], t[1], t[2], t[3]);
        },
        "The calling thread's declared (dp flops, sp flops, untyped flops, bytes).");
    m.def("roofline_set_ert", &tim::roofline::set_ert_json, py::arg("json"),
          "The JSON value of the cpu_roofline_* components' \"roofline\" member.");
    m.def("roofline_ert_json", &tim::roofline::ert_json_block);
}

}  // namespace timemory_python
