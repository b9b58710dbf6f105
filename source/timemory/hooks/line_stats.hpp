#pragma once
// The line profiler's sink: per line of each profiled code object, the number
// of executions (hits) and the sum of one scalar component's raw interval
// values, as line_profiler's LineStats holds them. Each thread accumulates
// into its own block, which outlives the sessions (a decorated function starts
// and ends one per call); collect_line_stats() adds the blocks up.
//
// Every call is made with the GIL held (the trace callback and the binding's
// functions), which is what orders the blocks' writers and the collector.
#include <cstdint>
#include <memory>
#include <vector>

#include "timemory/components/component_info.hpp"
#include "timemory/hooks/line_tracker.hpp"

namespace tim::hooks {

// A profiled code object's lines; `id` numbers the tables densely (from 0) so
// a thread's block finds a table's counters by index.
struct StatsLines : LineTable {
    int id = -1;
};

// Whether `info` can be profiled per line: one value per interval that adds
// up over lines and calls (a difference of one raw reading, or a trip count),
// or a Python-defined component with one value (its hits combine by its rule:
// a `max` one keeps each line's largest value).
inline bool is_line_scalar(const ComponentInfo& info) {
    return info.available && info.has_value && info.n_raw == 1 && info.n_disp == 1 && info.display == nullptr &&
           ((info.combine == Combine::delta && info.read != nullptr) || info.combine == Combine::trip ||
            (info.user && is_user_combine(info.combine)));
}

// `total` (the combination of `hits` values so far) combined with one more value `v` by
// `rule`: added, but for the max/min/latest rules of Python-defined components.
inline double combine_line_total(Combine rule, std::int64_t hits, double total, double v) {
    if (hits == 0) return v;
    switch (rule) {
        case Combine::maximum: return v > total ? v : total;
        case Combine::minimum: return v < total ? v : total;
        case Combine::latest: return v;
        default: return total + v;
    }
}

// The sink factory for begin_line_session: the session's first component is
// the one measured.
std::unique_ptr<LineSink> make_stats_sink(const std::vector<int>& indices);

struct LineCount {
    int          table = -1;  // StatsLines::id
    int          index = 0;   // line index in the table
    std::int64_t hits  = 0;
    double       total = 0;  // raw component units
};

// The counts of `component` for every line executed, every thread added up,
// in table and line order.
std::vector<LineCount> collect_line_stats(int component);

// Forgets every count (of every component and thread).
void clear_line_stats();

}  // namespace tim::hooks
