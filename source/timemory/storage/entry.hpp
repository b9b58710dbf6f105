#pragma once
// The value stored in a call-graph node: laps, the last interval, the
// accumulation, and statistics over the per-interval display values.
//
// Two shapes with the same members: `Entry` owns max_values slots of each
// (a component object, a tree or flat snapshot row); `EntryRef` /
// `ConstEntryRef` view a node's values where the call graph keeps them, in an
// arena sized by the component (laps and the sample count in the node). Code
// reading e.laps, e.value[k], e.accum[k], e.stats.count or e.stats.sum[k]
// reads either; the arithmetic (record, merge, subtract) is one template.
#include <algorithm>
#include <cstdint>
#include <type_traits>

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

// Stats of a node in a call graph's arena.
template <bool Const>
struct BasicStatsRef {
    using D = std::conditional_t<Const, const double, double>;
    using I = std::conditional_t<Const, const std::int64_t, std::int64_t>;
    I& count;
    D* sum;
    D* sqr;
    D* min;
    D* max;
};
using StatsRef      = BasicStatsRef<false>;
using ConstStatsRef = BasicStatsRef<true>;

// A node's stored values in a call graph's arena: n_store raw slots of value
// and accum, n_disp of each statistic. Valid until the graph creates a node.
template <bool Const>
struct BasicEntryRef {
    using D = std::conditional_t<Const, const double, double>;
    using I = std::conditional_t<Const, const std::int64_t, std::int64_t>;
    I&                   laps;
    D*                   value;
    D*                   accum;
    BasicStatsRef<Const> stats;
    int                  n_store = 0;
    int                  n_disp  = 0;

    // the arena layout of one node: value, accum, sum, sqr, min, max
    BasicEntryRef(I& laps_, I& count, D* base, int ns, int nd)
        : laps(laps_),
          value(base),
          accum(base + ns),
          stats{count, base + 2 * ns, base + 2 * ns + nd, base + 2 * ns + 2 * nd, base + 2 * ns + 3 * nd},
          n_store(ns),
          n_disp(nd) {}
    operator BasicEntryRef<true>() const {  // NOLINT: a mutable view reads as a const one
        return BasicEntryRef<true>(laps, stats.count, value, n_store, n_disp);
    }

    // The same operations as Entry's (see there).
    void record(const ComponentInfo& info, const double* raw, std::int64_t n = 1);
    void merge(const ComponentInfo& info, const BasicEntryRef<true>& other);
    void record_scalar(double v);
};
using EntryRef      = BasicEntryRef<false>;
using ConstEntryRef = BasicEntryRef<true>;

// Doubles one node of `info` keeps in the arena: value and accum (stored
// values), and four statistics per display value. The hardware-counter
// components change arity with settings.papi_events while graphs exist, so
// they keep the widest.
inline int arena_store_values(const ComponentInfo& info) {
    return info.hw_counter ? max_values : std::max(info.n_raw, stored_values(info));
}
inline int arena_disp_values(const ComponentInfo& info) { return info.hw_counter ? max_values : info.n_disp; }

struct Entry {
    std::int64_t laps              = 0;
    double       value[max_values] = {};  // raw value of the last interval
    double       accum[max_values] = {};  // raw accumulation over all laps
    Stats        stats;

    Entry() = default;
    // A copy of a node's values out of a call graph (slots past its widths are 0).
    template <bool C>
    Entry(const BasicEntryRef<C>& r) {  // NOLINT: implicit, so rows copy from graphs as from entries
        assign(r);
    }
    template <bool C>
    Entry& operator=(const BasicEntryRef<C>& r) {
        *this = Entry{};
        assign(r);
        return *this;
    }

    // Adds `laps` intervals whose combined raw value is `raw`.
    void record(const ComponentInfo& info, const double* raw, std::int64_t laps = 1);
    void merge(const ComponentInfo& info, const Entry& other);
    void merge(const ComponentInfo& info, const ConstEntryRef& other);
    void subtract(const ComponentInfo& info, const Entry& other);

    // record() for a scalar delta component (is_scalar_delta): the profiler's
    // per-return path, without the per-value loops and the display call.
    void record_scalar(double v);

private:
    void assign(const ConstEntryRef& r);
};

namespace entry_ops {
// One implementation for Entry and EntryRef (E&& is an Entry& or an EntryRef).
template <typename E>
inline void record_scalar(E&& e, double v) {
    e.value[0] = v;
    e.accum[0] += v;
    if (e.stats.count == 0) e.stats.min[0] = e.stats.max[0] = v;
    else {
        if (v < e.stats.min[0]) e.stats.min[0] = v;
        if (v > e.stats.max[0]) e.stats.max[0] = v;
    }
    e.stats.sum[0] += v;
    e.stats.sqr[0] += v * v;
    ++e.stats.count;
    ++e.laps;
}

template <typename S>
inline void stats_record(S&& s, const double* sample, int n) {
    if (s.count == 0) {
        for (int i = 0; i < n; ++i) s.min[i] = s.max[i] = sample[i];
    } else {
        for (int i = 0; i < n; ++i) {
            s.min[i] = std::min(s.min[i], sample[i]);
            s.max[i] = std::max(s.max[i], sample[i]);
        }
    }
    for (int i = 0; i < n; ++i) {
        s.sum[i] += sample[i];
        s.sqr[i] += sample[i] * sample[i];
    }
    ++s.count;
}

template <typename S, typename T>
inline void stats_merge(S&& s, const T& o, int n) {
    if (o.count == 0) return;
    if (s.count == 0) {
        for (int i = 0; i < n; ++i) {
            s.sum[i] = o.sum[i];
            s.sqr[i] = o.sqr[i];
            s.min[i] = o.min[i];
            s.max[i] = o.max[i];
        }
    } else {
        for (int i = 0; i < n; ++i) {
            s.sum[i] += o.sum[i];
            s.sqr[i] += o.sqr[i];
            s.min[i] = std::min(s.min[i], o.min[i]);
            s.max[i] = std::max(s.max[i], o.max[i]);
        }
    }
    s.count += o.count;
}

template <typename E>
void record(E&& e, const ComponentInfo& info, const double* raw, std::int64_t n);

template <typename E, typename O>
void merge(E&& e, const ComponentInfo& info, const O& other) {
    if (other.laps == 0 && other.stats.count == 0) return;
    const int nr = info.n_raw;
    switch (info.combine) {
        case Combine::delta:
        case Combine::trip:
            for (int i = 0; i < nr; ++i) {
                e.accum[i] += other.accum[i];
                e.value[i] = other.value[i];
            }
            break;
        case Combine::abs_pair:
            e.accum[0] = e.laps == 0 ? other.accum[0] : std::min(e.accum[0], other.accum[0]);
            e.accum[1] = std::max(e.accum[1], other.accum[1]);
            e.value[0] = other.value[0];
            e.value[1] = other.value[1];
            break;
        case Combine::last:
            for (int i = 0; i < nr; ++i) {
                e.accum[i] = std::max(e.accum[i], other.accum[i]);
                e.value[i] = std::max(e.value[i], other.value[i]);
            }
            break;
        case Combine::sum:
            for (int i = 0; i < nr; ++i) {
                e.accum[i] += other.accum[i];
                e.value[i] = other.value[i];
            }
            break;
        case Combine::maximum:
        case Combine::minimum:
        case Combine::latest: {
            const bool first = e.laps == 0 && e.stats.count == 0;
            for (int i = 0; i < nr; ++i) {
                const double o = other.accum[i];
                if (first || info.combine == Combine::latest) e.accum[i] = o;
                else if (info.combine == Combine::maximum) e.accum[i] = std::max(e.accum[i], o);
                else e.accum[i] = std::min(e.accum[i], o);
                e.value[i] = other.value[i];
            }
            break;
        }
    }
    stats_merge(e.stats, other.stats, info.n_disp);
    e.laps += other.laps;
}
}  // namespace entry_ops

inline void Entry::record_scalar(double v) { entry_ops::record_scalar(*this, v); }
template <bool Const>
inline void BasicEntryRef<Const>::record_scalar(double v) {
    static_assert(!Const, "a const view cannot record");
    entry_ops::record_scalar(*this, v);
}

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
StatsView stats_view(const ComponentInfo& info, const ConstStatsRef& stats, int k);

// Display values of an entry's accumulation, after unit division (what
// Component.get() returns and the SUM column shows).
void display_values(const ComponentInfo& info, const double* raw, double* out);

}  // namespace tim
