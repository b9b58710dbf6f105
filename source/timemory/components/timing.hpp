#pragma once
// Clock readers: raw values are nanoseconds as doubles.
#include <atomic>
#include <cstdint>
#include <ctime>

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

// Utilisation: raw = (cpu ns of clock Id, wall ns); display = 100 * cpu / wall.
template <clockid_t Id>
inline void read_util(double* out) {
    out[0] = clock_ns(Id);
    out[1] = clock_ns(CLOCK_MONOTONIC);
}

inline void display_util(const double* raw, double* out) { out[0] = raw[1] != 0.0 ? 100.0 * raw[0] / raw[1] : 0.0; }

}  // namespace tim::readers
