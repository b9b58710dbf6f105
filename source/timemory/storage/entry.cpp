#include "timemory/storage/entry.hpp"

#include <algorithm>
#include <cmath>

namespace tim {

void Stats::record(const double* sample, int n) { entry_ops::stats_record(*this, sample, n); }

void Stats::merge(const Stats& other, int n) {
    if (other.count == 0) return;
    if (count == 0) {
        *this = other;
        return;
    }
    entry_ops::stats_merge(*this, other, n);
}

void Stats::subtract(const Stats& other, int n) {
    if (count == 0) return;  // the dummy root has no samples of its own to subtract from
    for (int i = 0; i < n; ++i) {
        sum[i] -= other.sum[i];
        sqr[i] -= other.sqr[i];
    }
}

namespace entry_ops {
template <typename E>
void record(E&& e, const ComponentInfo& info, const double* raw, std::int64_t n) {
    const int nr = info.n_raw;
    switch (info.combine) {
        case Combine::delta:
        case Combine::trip:
            for (int i = 0; i < nr; ++i) {
                e.accum[i] += raw[i];
                e.value[i] = raw[i];
            }
            break;
        case Combine::abs_pair:
            e.value[0] = raw[0];
            e.value[1] = raw[1];
            if (e.laps == 0) e.accum[0] = raw[0];
            e.accum[1] = raw[1];
            break;
        case Combine::last:
        case Combine::latest:
            for (int i = 0; i < nr; ++i) e.accum[i] = e.value[i] = raw[i];
            break;
        case Combine::sum:
            for (int i = 0; i < nr; ++i) {
                e.accum[i] += raw[i];
                e.value[i] = raw[i];
            }
            break;
        case Combine::maximum:
        case Combine::minimum: {
            const bool first = e.laps == 0 && e.stats.count == 0;
            for (int i = 0; i < nr; ++i) {
                if (first) e.accum[i] = raw[i];
                else if (info.combine == Combine::maximum) e.accum[i] = std::max(e.accum[i], raw[i]);
                else e.accum[i] = std::min(e.accum[i], raw[i]);
                e.value[i] = raw[i];
            }
            break;
        }
    }
    double sample[max_values];
    to_display(info, raw, sample);
    stats_record(e.stats, sample, info.n_disp);
    e.laps += n;
}
}  // namespace entry_ops

void Entry::record(const ComponentInfo& info, const double* raw, std::int64_t n) {
    entry_ops::record(*this, info, raw, n);
}

void Entry::merge(const ComponentInfo& info, const Entry& other) { entry_ops::merge(*this, info, other); }

void Entry::merge(const ComponentInfo& info, const ConstEntryRef& other) { entry_ops::merge(*this, info, other); }

void Entry::assign(const ConstEntryRef& r) {
    laps         = r.laps;
    stats.count  = r.stats.count;
    const int ns = std::min(r.n_store, max_values), nd = std::min(r.n_disp, max_values);
    std::copy(r.value, r.value + ns, value);
    std::copy(r.accum, r.accum + ns, accum);
    std::copy(r.stats.sum, r.stats.sum + nd, stats.sum);
    std::copy(r.stats.sqr, r.stats.sqr + nd, stats.sqr);
    std::copy(r.stats.min, r.stats.min + nd, stats.min);
    std::copy(r.stats.max, r.stats.max + nd, stats.max);
}

template <>
void BasicEntryRef<false>::record(const ComponentInfo& info, const double* raw, std::int64_t n) {
    entry_ops::record(*this, info, raw, n);
}

template <>
void BasicEntryRef<false>::merge(const ComponentInfo& info, const ConstEntryRef& other) {
    entry_ops::merge(*this, info, other);
}

void Entry::subtract(const ComponentInfo& info, const Entry& other) {
    // Absolute readings (peak at start/stop, timestamps) have no exclusive part.
    // Nor have the largest, smallest or latest reading of a Python-defined component.
    if (info.combine == Combine::abs_pair || info.combine == Combine::last ||
        (is_user_combine(info.combine) && info.combine != Combine::sum))
        return;
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

namespace {
template <typename S>
StatsView make_stats_view(const ComponentInfo& info, const S& stats, int k) {
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
}  // namespace

StatsView stats_view(const ComponentInfo& info, const Stats& stats, int k) { return make_stats_view(info, stats, k); }
StatsView stats_view(const ComponentInfo& info, const ConstStatsRef& stats, int k) {
    return make_stats_view(info, stats, k);
}

}  // namespace tim
