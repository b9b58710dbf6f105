#pragma once
// Clock readers: raw values are nanoseconds as doubles.
#include <atomic>
#include <cstdint>
#include <ctime>

#include "timemory/components/event_reads.hpp"

namespace tim::readers {

// A clock the tests set and advance (timemory._core._test_clock), so that durations recorded
// through wall_clock and cpu_clock are exact numbers. Off (always, outside the tests), a reading
// pays one relaxed load of `on` and a branch predicted not taken.
struct FakeClock {
    std::atomic<bool>         on{false};
    std::atomic<std::int64_t> wall_ns{0};
    std::atomic<std::int64_t> cpu_ns{0};
};
inline FakeClock fake_clock;

// always inline: the profiler reads it twice per call (an out-of-line copy costs a call, a frame)
__attribute__((always_inline)) inline double clock_ns(clockid_t id) noexcept {
    timespec ts{};
    clock_gettime(id, &ts);
    // one integer sum, one rounding: exact while the value stays below 2^53 ns (~104 days)
    return static_cast<double>(std::int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec);
}

template <clockid_t Id>
inline void read_clock(double* out) {
    out[0] = clock_ns(Id);
}

// wall_clock's time: CLOCK_MONOTONIC, or the fake clock while the tests have it on.
__attribute__((always_inline)) inline double wall_clock_ns() noexcept {
    if (__builtin_expect(fake_clock.on.load(std::memory_order_relaxed), 0))
        return static_cast<double>(fake_clock.wall_ns.load(std::memory_order_relaxed));
    return clock_ns(CLOCK_MONOTONIC);
}

inline void read_wall_clock(double* out) { out[0] = wall_clock_ns(); }

// CLOCK_MONOTONIC's time, for the profiler's fast paths (which know the fake clock is off): the
// timespec is not zeroed first, as CLOCK_MONOTONIC is always there to be read.
__attribute__((always_inline)) inline double monotonic_ns() noexcept {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(std::int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec);
}

// The event's reading of a CPU-time clock: CLOCK_PROCESS_CPUTIME_ID and CLOCK_THREAD_CPUTIME_ID
// are system calls (the vDSO serves only the wall clocks), shared by the event's components
// (process_cpu_clock and cpu_util read the same clock).
template <clockid_t Id>
inline double event_cputime_ns(EventReads& ev) noexcept {
    static_assert(Id == CLOCK_PROCESS_CPUTIME_ID || Id == CLOCK_THREAD_CPUTIME_ID, "a CPU-time clock");
    constexpr Source src  = Id == CLOCK_PROCESS_CPUTIME_ID ? src_process_cputime : src_thread_cputime;
    double&          slot = Id == CLOCK_PROCESS_CPUTIME_ID ? ev.process_cpu_ns : ev.thread_cpu_ns;
    if (!ev.has(src)) {
        slot = clock_ns(Id);
        count_kernel_read(src);
        ev.set(src);
    }
    return slot;
}

template <clockid_t Id>
inline void read_cputime_clock(EventReads& ev, double* out) {
    out[0] = event_cputime_ns<Id>(ev);
}

// Utilisation: raw = (cpu ns of clock Id, wall ns); display = 100 * cpu / wall.
template <clockid_t Id>
inline void read_util(EventReads& ev, double* out) {
    out[0] = event_cputime_ns<Id>(ev);
    out[1] = clock_ns(CLOCK_MONOTONIC);
}

inline void display_util(const double* raw, double* out) { out[0] = raw[1] != 0.0 ? 100.0 * raw[0] / raw[1] : 0.0; }

}  // namespace tim::readers
