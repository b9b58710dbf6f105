#pragma once
// The cpu_roofline_* components: FLOPs, bytes and wall time per region. The work is
// declared by the program (timemory.roofline.add_work): per-thread running totals
// that the components read at start and stop like any other counter, so a region
// gets the work declared on its thread while it was running, nested regions included.
// Where the CPU counts FLOPs (PAPI_DP_OPS / PAPI_SP_OPS through perf_event_open), a
// region that declared no FLOPs gets the counted ones; where it counts load and store
// instructions (PAPI_LST_INS), a region that declared no bytes gets one element (8 bytes,
// 4 for cpu_roofline_sp) per instruction: an estimate, low for vectorised code.
#include <string>

namespace tim {
struct ComponentInfo;
}

namespace tim::roofline {

// Adds to the calling thread's totals. dtype: "dp", "sp" or "" (not typed: counted
// by cpu_roofline_flops only). Throws std::invalid_argument for another dtype or a
// negative amount.
void add_work(const std::string& dtype, double flops, double bytes);
// The values shown for raw = (wall ns, declared flops, declared bytes, counted flops,
// counted load/store instructions): out = (flops, bytes, runtime ns), declared work
// first, else counted, with element_bytes per load/store instruction.
void display_work(double element_bytes, const double* raw, double* out);
// The calling thread's totals (dp flops, sp flops, untyped flops, bytes).
void totals(double* out4);

// The JSON value of the components' "roofline" member (the ERT data); set by
// Python before the files are written. Default: {"entries":0,"ert":[]}.
void        set_ert_json(const std::string& json);
std::string ert_json_block();

// Sets up the three components' table entries; label: "<id>_<mode>" with the mode
// from TIMEMORY_ROOFLINE_MODE_CPU / TIMEMORY_ROOFLINE_MODE ("op" by default).
void describe_components(ComponentInfo& flops, ComponentInfo& dp, ComponentInfo& sp);

}  // namespace tim::roofline
