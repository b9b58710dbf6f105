#include "timemory/hooks/line_stats.hpp"

#include <algorithm>
#include <map>
#include <mutex>

namespace tim::hooks {
namespace {

struct Count {
    std::int64_t hits  = 0;
    double       total = 0;
};

// One thread's counts: per component, per table id, one Count per line index.
struct ThreadCounts {
    std::map<int, std::vector<std::vector<Count>>> by_component;
};

struct CountsRegistry {
    std::mutex                 mtx;
    std::vector<ThreadCounts*> threads;  // never freed: the counts outlive their thread
};

CountsRegistry& counts_registry() {
    static auto* reg = new CountsRegistry{};
    return *reg;
}

ThreadCounts& this_thread_counts() {
    static thread_local ThreadCounts* counts = nullptr;
    if (!counts) {
        counts                          = new ThreadCounts{};
        auto&                       reg = counts_registry();
        std::lock_guard<std::mutex> lk(reg.mtx);
        reg.threads.push_back(counts);
    }
    return *counts;
}

Combine rule_of(int component) {
    return component >= 0 && component < component_count()
               ? component_table()[static_cast<std::size_t>(component)].combine
               : Combine::delta;
}

class StatsSink final : public LineSink {
public:
    explicit StatsSink(int component)
        : tables_(&this_thread_counts().by_component[component]), rule_(rule_of(component)) {}

    void first_use(const LineTable&) override {}

    void record(const LineTable& table, int index, const double* values) override {
        const auto&       t  = static_cast<const StatsLines&>(table);
        const std::size_t id = static_cast<std::size_t>(t.id);
        // a table's counters are made on its first line executed on this thread
        if (id >= tables_->size() || (*tables_)[id].size() < t.has_line.size()) grow(t);
        if (values[0] != values[0]) return;  // NaN: a Python-defined component gave no value
        Count& c = (*tables_)[id][static_cast<std::size_t>(index)];
        c.total  = combine_line_total(rule_, c.hits, c.total, values[0]);
        ++c.hits;
    }

private:
    void grow(const StatsLines& t) {
        const auto id = static_cast<std::size_t>(t.id);
        if (id >= tables_->size()) tables_->resize(id + 1);
        (*tables_)[id].resize(t.has_line.size());
    }

    std::vector<std::vector<Count>>* tables_;  // this thread's, of the session's component
    Combine                          rule_;    // how the session's component's values combine
};

}  // namespace

std::unique_ptr<LineSink> make_stats_sink(const std::vector<int>& indices) {
    return std::make_unique<StatsSink>(indices.empty() ? -1 : indices.front());
}

std::vector<LineCount> collect_line_stats(int component) {
    std::vector<std::vector<Count>> sum;
    auto&                           reg  = counts_registry();
    const Combine                   rule = rule_of(component);
    {
        std::lock_guard<std::mutex> lk(reg.mtx);
        for (const ThreadCounts* tc : reg.threads) {
            auto it = tc->by_component.find(component);
            if (it == tc->by_component.end()) continue;
            const auto& tables = it->second;
            if (sum.size() < tables.size()) sum.resize(tables.size());
            for (std::size_t id = 0; id < tables.size(); ++id) {
                auto& into = sum[id];
                if (into.size() < tables[id].size()) into.resize(tables[id].size());
                for (std::size_t k = 0; k < tables[id].size(); ++k) {
                    const Count& c = tables[id][k];
                    if (c.hits == 0) continue;
                    // threads combine as hits do: a max component's line keeps the largest
                    into[k].total = into[k].hits == 0 ? c.total : combine_line_total(rule, 1, into[k].total, c.total);
                    into[k].hits += c.hits;
                }
            }
        }
    }
    std::vector<LineCount> out;
    for (std::size_t id = 0; id < sum.size(); ++id)
        for (std::size_t k = 0; k < sum[id].size(); ++k)
            if (sum[id][k].hits > 0)
                out.push_back(LineCount{static_cast<int>(id), static_cast<int>(k), sum[id][k].hits, sum[id][k].total});
    return out;
}

void clear_line_stats() {
    auto&                       reg = counts_registry();
    std::lock_guard<std::mutex> lk(reg.mtx);
    for (ThreadCounts* tc : reg.threads)
        for (auto& entry : tc->by_component)
            for (auto& table : entry.second) std::fill(table.begin(), table.end(), Count{});
}

}  // namespace tim::hooks
