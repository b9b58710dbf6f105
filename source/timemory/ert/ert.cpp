// Dispatch of the ERT kernels to the instruction sets this CPU has, and the
// threaded measurement (one buffer per thread, first touched by its thread).
#include "timemory/ert/ert.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

namespace tim::ert {

// Entry points of the per-ISA translation units (kernel_body.inc).
#define TIMEMORY_ERT_DECLARE(NS)                                                       \
    namespace NS {                                                                     \
    void        sweep_dp(double* buf, std::size_t n, int reps, std::size_t trials);    \
    void        sweep_sp(float* buf, std::size_t n, int reps, std::size_t trials);     \
    void        copy_dp(const double* src, double* dst, std::size_t n, std::size_t t); \
    std::size_t block_bytes();                                                         \
    }
TIMEMORY_ERT_DECLARE(generic)
#ifdef TIMEMORY_ERT_AVX2
TIMEMORY_ERT_DECLARE(avx2)
#endif
#ifdef TIMEMORY_ERT_AVX512
TIMEMORY_ERT_DECLARE(avx512)
#endif
#undef TIMEMORY_ERT_DECLARE
namespace generic {
void scalar_sweep_dp(double* buf, std::size_t n, int reps, std::size_t trials);
void scalar_sweep_sp(float* buf, std::size_t n, int reps, std::size_t trials);
}  // namespace generic

namespace {

struct Kernels {
    const char* name;
    void (*dp)(double*, std::size_t, int, std::size_t);
    void (*sp)(float*, std::size_t, int, std::size_t);
    void (*copy)(const double*, double*, std::size_t, std::size_t);
    std::size_t (*block)();       // bytes per block of the FMA kernels
    std::size_t (*copy_block)();  // bytes per block of the copy kernel
    bool (*usable)();
};

std::size_t scalar_block() { return 8 * 12; }

bool always() { return true; }
#if defined(__x86_64__) || defined(__i386__)
#ifdef TIMEMORY_ERT_AVX2
bool has_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }
#endif
#ifdef TIMEMORY_ERT_AVX512
bool has_avx512() { return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma"); }
#endif
#endif

const std::vector<Kernels>& all_kernels() {
    static const std::vector<Kernels> table = {
#ifdef TIMEMORY_ERT_AVX512
        {"avx512", avx512::sweep_dp, avx512::sweep_sp, avx512::copy_dp, avx512::block_bytes, avx512::block_bytes,
         has_avx512},
#endif
#ifdef TIMEMORY_ERT_AVX2
        {"avx2", avx2::sweep_dp, avx2::sweep_sp, avx2::copy_dp, avx2::block_bytes, avx2::block_bytes, has_avx2},
#endif
        {"generic", generic::sweep_dp, generic::sweep_sp, generic::copy_dp, generic::block_bytes, generic::block_bytes,
         always},
        // the scalar set copies with the generic kernel: its working sets round to that block
        {"scalar", generic::scalar_sweep_dp, generic::scalar_sweep_sp, generic::copy_dp, scalar_block,
         generic::block_bytes, always},
    };
    return table;
}

const Kernels& kernels_for(const std::string& isa) {
    const auto name = resolve_isa(isa);
    for (const auto& k : all_kernels())
        if (name == k.name) return k;
    throw std::invalid_argument("unknown ERT instruction set '" + isa + "'");
}

// Reusable barrier for the measuring threads (std::barrier is C++20). It spins: a
// thread woken from a sleep (a condition variable) starts its timed part tens to hundreds
// of microseconds after the others on a virtual machine, whose idle vCPU must be woken by
// the host, and the measurement runs from the earliest start to the latest end. After
// a millisecond or so of spinning it yields, for more threads than cores.
class Barrier {
public:
    explicit Barrier(std::size_t n) : count_(n) {}
    void wait() {
        const auto gen = generation_.load(std::memory_order_acquire);
        if (waiting_.fetch_add(1, std::memory_order_acq_rel) + 1 == count_) {
            waiting_.store(0, std::memory_order_relaxed);
            generation_.fetch_add(1, std::memory_order_release);
            return;
        }
        for (std::size_t spins = 0; generation_.load(std::memory_order_acquire) == gen; ++spins) {
            if (spins >= (std::size_t{1} << 16)) std::this_thread::yield();
#if defined(__x86_64__) || defined(__i386__)
            else __builtin_ia32_pause();
#endif
        }
    }

private:
    std::size_t              count_;
    std::atomic<std::size_t> waiting_{0};
    std::atomic<std::size_t> generation_{0};
};

using clock_type = std::chrono::steady_clock;

struct Aligned {
    void*       ptr = nullptr;
    std::size_t bytes, alignment;
    Aligned(std::size_t n, std::size_t align) : bytes(n), alignment(align) {
        const auto size = (bytes + alignment - 1) / alignment * alignment;
        ptr             = std::aligned_alloc(alignment, std::max(size, alignment));
        if (!ptr) throw std::bad_alloc();
    }
    ~Aligned() { std::free(ptr); }
    Aligned(const Aligned&)            = delete;
    Aligned& operator=(const Aligned&) = delete;
};

// Buffers kept from one measurement to the next while a sweep asks for it (keep_buffers):
// the first touch of a working set is page faults, which on a VM cost several passes over
// it (0.7 s for 300 MiB per thread against 0.1 s for a pass), and a sweep measures each
// working set once per trial. One slot per thread index and array, used only by that
// thread during a measurement; measurements hold the mutex, so they never share a slot.
struct BufferPool {
    std::mutex                            mutex;
    bool                                  keep = false;
    std::vector<std::shared_ptr<Aligned>> slots;
};

BufferPool& buffer_pool() {
    static BufferPool pool;
    return pool;
}

// Array `array` (0 or 1) of thread `index`: at least `bytes`, from the pool when buffers are
// kept (a new one when the kept one is smaller or aligned otherwise), else a new one that
// the last owner frees. Called with the pool's mutex held by the measuring call.
std::shared_ptr<Aligned> buffer(std::size_t index, std::size_t array, std::size_t bytes, std::size_t alignment) {
    auto& pool = buffer_pool();
    if (!pool.keep) return std::make_shared<Aligned>(bytes, alignment);
    auto& kept = pool.slots.at(2 * index + array);
    if (!kept || kept->bytes < bytes || kept->alignment != alignment) {
        kept.reset();  // the old one freed first: both need not fit at once
        kept = std::make_shared<Aligned>(bytes, alignment);
    }
    return kept;
}

std::size_t effective_alignment(std::size_t alignment) {
    if (alignment == 0) return 64;  // a cache line, and every vector width
    if ((alignment & (alignment - 1)) != 0 || alignment < sizeof(void*))
        throw std::invalid_argument("ert_alignment must be a power of two >= " + std::to_string(sizeof(void*)) +
                                    " (got " + std::to_string(alignment) + ")");
    return alignment;
}

// Runs body(thread index, &start, &end) on nthreads threads: each prepares its
// buffer, all meet at a barrier, then each times its own part. The measurement is
// from the earliest start to the latest end.
template <typename Body>
double run_threads(std::size_t nthreads, Body&& body) {
    Barrier                             barrier(nthreads);
    std::vector<clock_type::time_point> starts(nthreads), ends(nthreads);
    std::vector<std::exception_ptr>     errors(nthreads);
    auto                                work = [&](std::size_t i) {
        try {
            body(i, barrier, starts[i], ends[i]);
        } catch (...) {
            errors[i] = std::current_exception();
        }
    };
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < nthreads; ++i) threads.emplace_back(work, i);
    work(0);
    for (auto& t : threads) t.join();
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);
    const auto first = *std::min_element(starts.begin(), starts.end());
    const auto last  = *std::max_element(ends.begin(), ends.end());
    return std::chrono::duration<double>(last - first).count();
}

// One measurement: in each thread, prepare(index, bytes) allocates and first-touches the
// thread's buffers and returns run(passes); one untimed pass (unless !warmup), then
// `trials` timed ones. Bytes: one load and one store of the working set per pass.
template <typename Prepare>
Measurement timed(const Kernels& k, std::size_t block, std::size_t working_set, std::size_t trials,
                  std::size_t nthreads, Prepare&& prepare, bool warmup = true) {
    const auto  bytes = std::max(working_set / block, std::size_t{1}) * block;
    Measurement m;
    m.isa         = k.name;
    m.working_set = bytes;
    m.nthreads    = nthreads;
    m.trials      = trials;
    // A thread that cannot prepare (no memory for its buffer) still meets the others at both
    // barriers, or they would wait for it forever; nobody runs the timed part then, and
    // run_threads rethrows its exception.
    std::atomic<bool> failed{false};
    m.seconds = run_threads(
        nthreads, [&](std::size_t index, Barrier& barrier, clock_type::time_point& t0, clock_type::time_point& t1) {
            std::optional<decltype(prepare(index, bytes))> run;
            std::exception_ptr                             error;
            try {
                run.emplace(prepare(index, bytes));
                if (warmup) (*run)(1);  // caches, TLB, clock rate
            } catch (...) {
                error = std::current_exception();
                failed.store(true);
            }
            barrier.wait();
            if (!failed.load()) {
                t0 = clock_type::now();
                (*run)(trials);
                t1 = clock_type::now();
            }
            barrier.wait();
            if (error) std::rethrow_exception(error);
        });
    m.total_bytes = 2.0 * double(bytes) * double(trials) * double(nthreads);
    return m;
}

template <typename T>
Measurement fma_typed(const Kernels& k, void (*sweep)(T*, std::size_t, int, std::size_t), std::size_t working_set,
                      int reps, std::size_t trials, std::size_t nthreads, std::size_t alignment, bool warmup) {
    auto m = timed(
        k, k.block(), working_set, trials, nthreads,
        [&](std::size_t index, std::size_t bytes) {
            auto       mem = buffer(index, 0, bytes, alignment);
            auto*      buf = static_cast<T*>(mem->ptr);
            const auto n   = bytes / sizeof(T);
            for (std::size_t i = 0; i < n; ++i) buf[i] = T(1);
            return [=, mem = std::move(mem)](std::size_t passes) { sweep(buf, n, reps, passes); };
        },
        warmup);
    m.total_ops = 2.0 * double(reps) * double(m.working_set / sizeof(T)) * double(trials) * double(nthreads);
    return m;
}

}  // namespace

std::vector<std::string> available_isas() {
    std::vector<std::string> out;
    for (const auto& k : all_kernels())
        if (k.usable()) out.emplace_back(k.name);
    return out;
}

std::string resolve_isa(const std::string& isa) {
    const auto usable = available_isas();
    if (isa.empty() || isa == "auto") return usable.front();
    if (std::find(usable.begin(), usable.end(), isa) != usable.end()) return isa;
    std::string choices = "auto";
    for (const auto& name : usable) choices += ", " + name;
    throw std::invalid_argument("ERT instruction set '" + isa +
                                "' is unknown or not supported by this CPU. Valid choices are: " + choices);
}

Measurement measure_fma(const std::string& dtype, std::size_t working_set, int reps, std::size_t trials,
                        std::size_t nthreads, std::size_t alignment, const std::string& isa, bool warmup) {
    if (reps < 1) throw std::invalid_argument("ERT: FLOPs per element must be at least 2 (reps >= 1)");
    if (trials < 1 || nthreads < 1) throw std::invalid_argument("ERT: trials and threads must be >= 1");
    const auto&                 k     = kernels_for(isa);
    const auto                  align = effective_alignment(alignment);
    std::lock_guard<std::mutex> lock(buffer_pool().mutex);
    buffer_pool().slots.resize(std::max(buffer_pool().slots.size(), 2 * nthreads));
    if (dtype == "dp") return fma_typed<double>(k, k.dp, working_set, reps, trials, nthreads, align, warmup);
    if (dtype == "sp") return fma_typed<float>(k, k.sp, working_set, reps, trials, nthreads, align, warmup);
    throw std::invalid_argument("ERT data type '" + dtype + "' is unknown. Valid choices are: dp, sp");
}

Measurement measure_copy(std::size_t working_set, std::size_t trials, std::size_t nthreads, std::size_t alignment,
                         const std::string& isa) {
    if (trials < 1 || nthreads < 1) throw std::invalid_argument("ERT: trials and threads must be >= 1");
    const auto&                 k     = kernels_for(isa);
    const auto                  align = effective_alignment(alignment);
    std::lock_guard<std::mutex> lock(buffer_pool().mutex);
    buffer_pool().slots.resize(std::max(buffer_pool().slots.size(), 2 * nthreads));
    return timed(k, k.copy_block(), working_set, trials, nthreads, [&](std::size_t index, std::size_t bytes) {
        auto       src = buffer(index, 0, bytes, align);
        auto       dst = buffer(index, 1, bytes, align);
        auto*      a   = static_cast<double*>(src->ptr);
        auto*      b   = static_cast<double*>(dst->ptr);
        const auto n   = bytes / sizeof(double);
        for (std::size_t i = 0; i < n; ++i) a[i] = 1.0, b[i] = 0.0;
        return [=, &k, src = std::move(src), dst = std::move(dst)](std::size_t passes) { k.copy(a, b, n, passes); };
    });
}

void keep_buffers(bool keep) {
    std::lock_guard<std::mutex> lock(buffer_pool().mutex);
    buffer_pool().keep = keep;
    if (!keep) buffer_pool().slots.clear();  // frees them
}

namespace {

#if defined(__x86_64__)
// clang-format does not settle on one layout of these macros
// clang-format off
#define TIMEMORY_CHAIN10(OP)                                                         \
    OP " %1, %0\n\t" OP " %1, %0\n\t" OP " %1, %0\n\t" OP " %1, %0\n\t" OP " %1, %0\n\t" \
    OP " %1, %0\n\t" OP " %1, %0\n\t" OP " %1, %0\n\t" OP " %1, %0\n\t" OP " %1, %0\n\t"
#define TIMEMORY_CHAIN100(OP)                                                        \
    TIMEMORY_CHAIN10(OP) TIMEMORY_CHAIN10(OP) TIMEMORY_CHAIN10(OP) TIMEMORY_CHAIN10(OP) \
    TIMEMORY_CHAIN10(OP) TIMEMORY_CHAIN10(OP) TIMEMORY_CHAIN10(OP) TIMEMORY_CHAIN10(OP) \
    TIMEMORY_CHAIN10(OP) TIMEMORY_CHAIN10(OP)
// clang-format on

// One run: `iterations` x 100 dependent operations, each reading the previous result and
// a register whose value the compiler cannot see (so neither it nor the CPU's renamer
// can fold the chain: the renamer folds additions of immediates, not of registers).
// Returns the operations per second.
template <bool Multiply>
double chain_run(std::size_t iterations) {
    std::uint64_t x = 1, operand = 1;
    __asm__ __volatile__("" : "+r"(x), "+r"(operand));  // values unknown to the compiler
    const auto t0 = clock_type::now();
    for (std::size_t i = 0; i < iterations; ++i) {
        if constexpr (Multiply) __asm__ __volatile__(TIMEMORY_CHAIN100("imul") : "+r"(x) : "r"(operand));
        else __asm__ __volatile__(TIMEMORY_CHAIN100("add") : "+r"(x) : "r"(operand));
    }
    const double dt = std::chrono::duration<double>(clock_type::now() - t0).count();
    __asm__ __volatile__("" ::"r"(x));
    return dt > 0 ? double(iterations) * 100.0 / dt : 0.0;
}
#undef TIMEMORY_CHAIN100
#undef TIMEMORY_CHAIN10

// Best of runs of about 2e6 cycles (under 1 ms): short enough that many runs see no
// preemption or steal time on a busy (virtual) machine, long enough that the clock reads
// do not count. Noise only slows a run, so the fastest is the truest.
template <bool Multiply>
double chain_rate(double seconds) {
    const std::size_t iterations = Multiply ? 7000 : 20000;  // 100 operations each
    double            best       = 0.0;
    const auto        deadline   = clock_type::now() + std::chrono::duration<double>(seconds);
    do {
        best = std::max(best, chain_run<Multiply>(iterations));
    } while (clock_type::now() < deadline);
    return best;
}
#endif

}  // namespace

double measure_chain(const std::string& kind, double seconds) {
    if (kind != "add" && kind != "imul")
        throw std::invalid_argument("ERT chain '" + kind + "' is unknown. Valid choices are: add, imul");
#if defined(__x86_64__)
    return kind == "add" ? chain_rate<false>(seconds) : chain_rate<true>(seconds);
#else
    (void)seconds;
    return 0.0;
#endif
}

double measure_frequency(double seconds) { return measure_chain("add", seconds); }

}  // namespace tim::ert
