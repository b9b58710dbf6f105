#pragma once
// Empirical roofline toolkit (ERT): native micro-benchmarks that measure the peak
// FLOP rate and the bandwidth of each memory level. One measurement runs a kernel
// on one working set per thread, every thread at once; the sweep over working
// sets and FLOPs per element, the cache and the level detection are in Python
// (timemory.roofline.ert).
#include <cstddef>
#include <string>
#include <vector>

namespace tim::ert {

// Instruction sets with kernels in this build and usable on this CPU, best first
// ("avx512", "avx2", "generic", "scalar"); "auto" picks the first.
std::vector<std::string> available_isas();
// Resolves "auto"; throws std::invalid_argument (listing the choices) for a name
// that is unknown or not usable here.
std::string resolve_isa(const std::string& isa);

struct Measurement {
    std::string isa;              // kernel used
    std::size_t working_set = 0;  // bytes per thread (rounded down to whole vector blocks)
    std::size_t nthreads    = 0;
    std::size_t trials      = 0;    // passes over the working set, per thread
    double      seconds     = 0.0;  // first thread's start to last thread's end
    double      total_bytes = 0.0;  // all threads, all trials
    double      total_ops   = 0.0;  // FLOPs, all threads, all trials
};

// FMA kernel: each element gets `reps` x = x * a + b (2 * reps FLOPs) and is loaded
// and stored once per trial. dtype "dp" (double) or "sp" (float). `warmup`: one untimed
// pass first (caches, TLB, clock rate); a working set far beyond the caches gains nothing
// from it, its first-touch pass having run the core busy already.
Measurement measure_fma(const std::string& dtype, std::size_t working_set, int reps, std::size_t trials,
                        std::size_t nthreads, std::size_t alignment, const std::string& isa, bool warmup = true);

// STREAM-like copy dst[i] = src[i] of `working_set` bytes per thread per array,
// counted as 2 * working_set bytes per trial and thread (as STREAM does).
Measurement measure_copy(std::size_t working_set, std::size_t trials, std::size_t nthreads, std::size_t alignment,
                         const std::string& isa);

// Between keep_buffers(true) and keep_buffers(false) (which frees them), each measuring
// thread's buffers are kept from one measurement to the next and reused when large enough:
// a sweep then pays the page faults of a working set once, not once per trial.
void keep_buffers(bool keep);

// Dependent-operation chains of known latency, timed on the calling thread: the rate
// (operations per second, best of short runs over about `seconds`) of
//   "add":  add reg, reg  (1 cycle on every x86-64 core; not eliminated at rename, unlike
//           add reg, imm, which Golden Cove and later P-cores fold there at up to 5 per cycle)
//   "imul": imul reg, reg (3 cycles on current x86-64 cores, 4-6 on some older or small ones)
// 0 where there is no such measurement (not x86-64). Throws std::invalid_argument for another
// name. timemory.roofline.ert turns the two into a clock rate and checks it is plausible.
double measure_chain(const std::string& kind, double seconds);

// Clock rate of the calling thread's core in Hz: the "add" chain's rate (one add per cycle)
// over about `seconds`; 0 where there is no such measurement. A VM's /proc/cpuinfo shows the
// nominal rate, not the boost the kernels actually run at.
double measure_frequency(double seconds);

}  // namespace tim::ert
