// Declared and counted work of the cpu_roofline_* components (see roofline.hpp).
#include "timemory/components/roofline.hpp"

#include <cstdlib>
#include <mutex>
#include <stdexcept>

#include "timemory/components/component_info.hpp"
#include "timemory/components/perf_event.hpp"
#include "timemory/components/timing.hpp"

namespace tim::roofline {
namespace {

struct Work {
    double dp = 0.0, sp = 0.0, other = 0.0, bytes = 0.0;
};
thread_local Work tl_work;

std::mutex& ert_mutex() {
    static std::mutex m;
    return m;
}
std::string& ert_storage() {
    static std::string s = "{\"entries\":0,\"ert\":[]}";
    return s;
}

// raw = (wall ns, declared flops, declared bytes, counted flops, counted load/store
// instructions); counted: the hardware counters where this machine has them
// (perf::read_roofline_counters), else 0
template <int Which>  // 0: every precision, 1: dp, 2: sp
void read_work(double* out) {
    double counted[3];
    perf::read_roofline_counters(counted);
    out[0] = readers::wall_clock_ns();  // the runtime is wall_clock's (the tests' fake clock too)
    out[1] = Which == 1 ? tl_work.dp : Which == 2 ? tl_work.sp : tl_work.dp + tl_work.sp + tl_work.other;
    out[2] = tl_work.bytes;
    out[3] = Which == 1 ? counted[0] : Which == 2 ? counted[1] : counted[0] + counted[1];
    out[4] = counted[2];
}
template <int Which>
void show_work(const double* raw, double* out) {
    display_work(Which == 2 ? 4.0 : 8.0, raw, out);
}

std::string mode() {
    for (const char* name : {"TIMEMORY_ROOFLINE_MODE_CPU", "TIMEMORY_ROOFLINE_MODE"}) {
        const char* v = std::getenv(name);
        if (v && (std::string(v) == "ai" || std::string(v) == "op")) return v;
    }
    return "op";
}

void describe(ComponentInfo& c, const std::string& id, ReadFn read, DisplayFn display, const char* what) {
    c.label        = id + "_" + mode();
    c.description  = std::string("FLOPs (") + what + "), bytes and runtime per region (declared, else counted, work)";
    c.units        = {Unit::count, Unit::count, Unit::timing};
    c.sub_labels   = {"flops", "bytes", "runtime"};
    c.n_raw        = 5;
    c.n_disp       = 3;
    c.available    = true;
    c.has_value    = true;
    c.read         = read;
    c.display      = display;
    c.integral_raw = false;
    c.json_extra   = [] { return "\"roofline\":" + ert_json_block(); };
}

}  // namespace

void add_work(const std::string& dtype, double flops, double bytes) {
    if (!(flops >= 0.0) || !(bytes >= 0.0))
        throw std::invalid_argument("roofline work must be non-negative (flops=" + std::to_string(flops) +
                                    ", bytes=" + std::to_string(bytes) + ")");
    if (dtype == "dp") tl_work.dp += flops;
    else if (dtype == "sp") tl_work.sp += flops;
    else if (dtype.empty()) tl_work.other += flops;
    else throw std::invalid_argument("unknown roofline data type '" + dtype + "'. Valid choices are: dp, sp, ''");
    tl_work.bytes += bytes;
}

void display_work(double element_bytes, const double* raw, double* out) {
    out[0] = raw[1] > 0.0 ? raw[1] : raw[3];
    out[1] = raw[2] > 0.0 ? raw[2] : raw[4] * element_bytes;
    out[2] = raw[0];
}

void totals(double* out4) {
    out4[0] = tl_work.dp;
    out4[1] = tl_work.sp;
    out4[2] = tl_work.other;
    out4[3] = tl_work.bytes;
}

void set_ert_json(const std::string& json) {
    std::lock_guard<std::mutex> lock(ert_mutex());
    ert_storage() = json;
}

std::string ert_json_block() {
    std::lock_guard<std::mutex> lock(ert_mutex());
    return ert_storage();
}

void describe_components(ComponentInfo& flops, ComponentInfo& dp, ComponentInfo& sp) {
    describe(flops, "cpu_roofline", read_work<0>, show_work<0>, "all precisions");
    describe(dp, "cpu_roofline_dp", read_work<1>, show_work<1>, "double precision");
    describe(sp, "cpu_roofline_sp", read_work<2>, show_work<2>, "single precision");
}

}  // namespace tim::roofline
