#pragma once
// Clock readers: raw values are nanoseconds as doubles.
#include <cstdint>
#include <ctime>

namespace tim::readers {

inline double clock_ns(clockid_t id) noexcept {
    timespec ts{};
    clock_gettime(id, &ts);
    // one integer sum, one rounding: exact while the value stays below 2^53 ns (~104 days)
    return static_cast<double>(std::int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec);
}

template <clockid_t Id>
inline void read_clock(double* out) {
    out[0] = clock_ns(Id);
}

// Utilisation: raw = (cpu ns of clock Id, wall ns); display = 100 * cpu / wall.
template <clockid_t Id>
inline void read_util(double* out) {
    out[0] = clock_ns(Id);
    out[1] = clock_ns(CLOCK_MONOTONIC);
}

inline void display_util(const double* raw, double* out) { out[0] = raw[1] != 0.0 ? 100.0 * raw[0] / raw[1] : 0.0; }

}  // namespace tim::readers
