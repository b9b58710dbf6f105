#include "timemory/storage/entry.hpp"

#include <algorithm>
#include <cmath>

namespace tim {

void Stats::record(const double* sample, int n) {
    if (count == 0) {
        for (int i = 0; i < n; ++i) min[i] = max[i] = sample[i];
    } else {
        for (int i = 0; i < n; ++i) {
            min[i] = std::min(min[i], sample[i]);
            max[i] = std::max(max[i], sample[i]);
        }
    }
    for (int i = 0; i < n; ++i) {
        sum[i] += sample[i];
        sqr[i] += sample[i] * sample[i];
    }
    ++count;
}

void Stats::merge(const Stats& other, int n) {
    if (other.count == 0) return;
    if (count == 0) {
        *this = other;
        return;
    }
    for (int i = 0; i < n; ++i) {
        sum[i] += other.sum[i];
        sqr[i] += other.sqr[i];
        min[i] = std::min(min[i], other.min[i]);
        max[i] = std::max(max[i], other.max[i]);
    }
    count += other.count;
}

void Stats::subtract(const Stats& other, int n) {
    if (count == 0) return;  // the dummy root has no samples of its own to subtract from
    for (int i = 0; i < n; ++i) {
        sum[i] -= other.sum[i];
        sqr[i] -= other.sqr[i];
    }
}

void Entry::record(const ComponentInfo& info, const double* raw, std::int64_t n) {
    const int nr = info.n_raw;
    switch (info.combine) {
        case Combine::delta:
        case Combine::trip:
            for (int i = 0; i < nr; ++i) {
                accum[i] += raw[i];
                value[i] = raw[i];
            }
            break;
        case Combine::abs_pair:
            value[0] = raw[0];
            value[1] = raw[1];
            if (laps == 0) accum[0] = raw[0];
            accum[1] = raw[1];
            break;
        case Combine::last:
            for (int i = 0; i < nr; ++i) accum[i] = value[i] = raw[i];
            break;
    }
    double sample[max_values];
    to_display(info, raw, sample);
    stats.record(sample, info.n_disp);
    laps += n;
}

void Entry::merge(const ComponentInfo& info, const Entry& other) {
    if (other.laps == 0 && other.stats.count == 0) return;
    const int nr = info.n_raw;
    switch (info.combine) {
        case Combine::delta:
        case Combine::trip:
            for (int i = 0; i < nr; ++i) {
                accum[i] += other.accum[i];
                value[i] = other.value[i];
            }
            break;
        case Combine::abs_pair:
            accum[0] = laps == 0 ? other.accum[0] : std::min(accum[0], other.accum[0]);
            accum[1] = std::max(accum[1], other.accum[1]);
            value[0] = other.value[0];
            value[1] = other.value[1];
            break;
        case Combine::last:
            for (int i = 0; i < nr; ++i) {
                accum[i] = std::max(accum[i], other.accum[i]);
                value[i] = std::max(value[i], other.value[i]);
            }
            break;
    }
    stats.merge(other.stats, info.n_disp);
    laps += other.laps;
}

void Entry::subtract(const ComponentInfo& info, const Entry& other) {
    // Absolute readings (peak at start/stop, timestamps) have no exclusive part.
    if (info.combine == Combine::abs_pair || info.combine == Combine::last) return;
    for (int i = 0; i < info.n_raw; ++i) {
        accum[i] -= other.accum[i];
        value[i] -= other.value[i];
    }
    stats.subtract(other.stats, info.n_disp);
}

void display_values(const ComponentInfo& info, const double* raw, double* out) {
    to_display(info, raw, out);
    for (int i = 0; i < info.n_disp; ++i) out[i] /= unit_divisor(info.units[static_cast<std::size_t>(i)]);
}

}  // namespace tim

namespace tim {

StatsView stats_view(const ComponentInfo& info, const Stats& stats, int k) {
    const double u = unit_divisor(info.units[static_cast<std::size_t>(k)]);
    StatsView    v;
    v.count = stats.count;
    v.sum   = stats.sum[k] / u;
    v.min   = stats.min[k] / u;
    v.max   = stats.max[k] / u;
    v.sqr   = stats.sqr[k] / (u * u);
    if (v.count > 0) v.mean = v.sum / static_cast<double>(v.count);
    if (v.count > 1) {
        const double n   = static_cast<double>(v.count);
        const double var = (v.sqr - v.sum * v.sum / n) / (n - 1.0);
        v.stddev         = std::sqrt(std::fabs(var));
    }
    return v;
}

}  // namespace tim
