#pragma once
// One kernel read per event for the components that read the same source.
//
// Several components come from one kernel read: cpu_clock, user_clock, sys_clock, peak_rss,
// the page-fault, context-switch and io-block counts are fields of one getrusage(); page_rss
// and virtual_memory two fields of /proc/self/statm; the four io components fields of
// /proc/self/io; cpu_util and process_cpu_clock the same CLOCK_PROCESS_CPUTIME_ID reading
// (thread_cpu_util and thread_cpu_clock CLOCK_THREAD_CPUTIME_ID). A caller that takes the
// readings of several components for one event (a profiled call or return, a marker's start
// or stop, a line) declares one EventReads for that event and passes it to every reading
// (read_now/start_reading/stop_reading in storage/call_graph.hpp): the first component that
// needs a source reads it, the others take the same numbers. The scope is explicit: an
// EventReads lives on the caller's stack for one event only, so a reading is never reused by
// another event, another thread or a nested event (a Python-defined component's start() that
// runs a marker makes its own). A reading without an EventReads (a component read on its own)
// reads the kernel every time, as before.
#include <sys/resource.h>

#include <atomic>
#include <cstdint>

namespace tim::readers {

enum Source : unsigned {
    src_rusage,           // getrusage(rusage_who())
    src_statm,            // /proc/self/statm
    src_proc_io,          // /proc/self/io
    src_process_cputime,  // clock_gettime(CLOCK_PROCESS_CPUTIME_ID)
    src_thread_cputime,   // clock_gettime(CLOCK_THREAD_CPUTIME_ID)
    src_maxrss,           // getrusage(RUSAGE_THREAD) for ru_maxrss alone (event_maxrss in rusage.hpp)
    n_sources
};

// What a component takes from getrusage: nothing, ru_maxrss alone (peak_rss, current_peak_rss)
// or other fields too (the CPU times, the counts).
enum class RusageUse : std::uint8_t { none, maxrss, other };

// What the caller knows of an event's components, fixed for a set of components: whether ru_maxrss
// is the only getrusage field they need. A hint only: a wrong plan costs a system call, never a
// wrong value (each reader still takes the field it needs from a reading that has it).
struct EventPlan {
    bool maxrss_only = false;
    // a component reads a shared source: the caller takes the readings through an EventReads;
    // without one (wall_clock alone, say) it keeps the plain readings, with nothing added
    bool shared = false;
};

// The plan of a set of components, one component at a time.
struct PlanBuilder {
    bool maxrss = false, other = false, shared = false;
    // one component: what it takes from getrusage, and whether it has a shared reader
    void add(RusageUse u, bool has_shared_reader) noexcept {
        (u == RusageUse::maxrss ? maxrss : other) |= u != RusageUse::none;
        shared |= has_shared_reader;
    }
    EventPlan plan() const noexcept { return EventPlan{maxrss && !other, shared}; }
};
// The plan of a set of components (pointers to their ComponentInfo).
template <typename Infos>
inline EventPlan plan_of(const Infos& infos) {
    PlanBuilder b;
    for (const auto* info : infos) b.add(info->rusage_use, info->read_shared != nullptr);
    return b.plan();
}

// Kernel reads per source since start-up, every thread (relaxed: a count, no ordering). What
// the tests count to prove an event's components share one read (timemory._core._kernel_reads);
// one uncontended atomic add next to a system call of 300-700 ns.
inline std::atomic<std::uint64_t> kernel_reads[n_sources] = {};
inline void count_kernel_read(Source s) noexcept { kernel_reads[s].fetch_add(1, std::memory_order_relaxed); }

// The sources read so far for one event and their values. Only `have` is initialised: a
// value is written before its bit is set and read only after.
struct EventReads {
    EventReads() = default;
    explicit EventReads(EventPlan p) : plan(p) {}

    unsigned  have = 0;  // bit (1 << Source) per source read
    EventPlan plan;
    long      maxrss_kib;  // src_maxrss
    rusage    ru;
    double    statm[2];  // size, resident, bytes
    double    io[4];     // rchar, wchar, read_bytes, write_bytes
    double    process_cpu_ns;
    double    thread_cpu_ns;
    double    io_wall_ns;  // the clock the io rates divide by, read with /proc/self/io

    bool has(Source s) const noexcept { return (have >> s) & 1u; }
    void set(Source s) noexcept { have |= 1u << s; }
};

// A component's reader that takes its source from the event's shared reads.
using SharedReadFn = void (*)(EventReads& ev, double* out);

// The reader of a component read on its own: a fresh EventReads, so a fresh kernel read.
template <SharedReadFn F>
inline void read_alone(double* out) {
    EventReads ev;
    F(ev, out);
}

}  // namespace tim::readers
