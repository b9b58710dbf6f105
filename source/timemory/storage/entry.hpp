#pragma once
// The value stored in a call-graph node: laps, the last interval, the
// accumulation, and statistics over the per-interval display values.
#include <cstdint>

#include "timemory/components/component_info.hpp"

namespace tim {

// Statistics over per-interval samples. Samples are display values *before*
// unit division (ns for timers, bytes for memory), so a change of
// timing_units/memory_units after recording still renders correctly:
// writers divide sum/min/max by the unit and sqr by its square.
struct Stats {
    std::int64_t count           = 0;
    double       sum[max_values] = {};
    double       sqr[max_values] = {};
    double       min[max_values] = {};
    double       max[max_values] = {};

    void record(const double* sample, int n);
    void merge(const Stats& other, int n);
    // exclusive = inclusive - children: sum and sqr subtract; count, min, max stay
    void subtract(const Stats& other, int n);
};

struct Entry {
    std::int64_t laps              = 0;
    double       value[max_values] = {};  // raw value of the last interval
    double       accum[max_values] = {};  // raw accumulation over all laps
    Stats        stats;

    // Adds `laps` intervals whose combined raw value is `raw`.
    void record(const ComponentInfo& info, const double* raw, std::int64_t laps = 1);
    void merge(const ComponentInfo& info, const Entry& other);
    void subtract(const ComponentInfo& info, const Entry& other);

    // record() for a scalar delta component (is_scalar_delta): the profiler's
    // per-return path, without the per-value loops and the display call.
    void record_scalar(double v) {
        value[0] = v;
        accum[0] += v;
        if (stats.count == 0) stats.min[0] = stats.max[0] = v;
        else {
            if (v < stats.min[0]) stats.min[0] = v;
            if (v > stats.max[0]) stats.max[0] = v;
        }
        stats.sum[0] += v;
        stats.sqr[0] += v * v;
        ++stats.count;
        ++laps;
    }
};

// One raw value, one display value equal to it, accumulated by difference
// (the clocks, peak_rss, page faults, context switches...).
inline bool is_scalar_delta(const ComponentInfo& info) {
    return info.combine == Combine::delta && info.n_raw == 1 && info.n_disp == 1 && info.display == nullptr;
}

// Statistics of display value k in display units under the current config
// (sum/min/max/mean/stddev divided by the unit, sqr by its square).
struct StatsView {
    std::int64_t count = 0;
    double       sum = 0, min = 0, max = 0, sqr = 0, mean = 0, stddev = 0;
};
StatsView stats_view(const ComponentInfo& info, const Stats& stats, int k);

// Display values of an entry's accumulation, after unit division (what
// Component.get() returns and the SUM column shows).
void display_values(const ComponentInfo& info, const double* raw, double* out);

}  // namespace tim
