#include "timemory/hooks/line_storage.hpp"

#include "timemory/storage/call_graph.hpp"

namespace tim::hooks {
namespace {

class GraphSink final : public LineSink {
public:
    explicit GraphSink(const std::vector<int>& indices) {
        auto& td = thread_data();
        for (int index : indices) {
            auto& g = td.graph(index);
            graphs_.push_back(&g);
            scalar_.push_back(is_scalar_delta(g.info()) && g.info().read != nullptr);
        }
        cache_.assign(graphs_.size() * cache_slots, Slot{});
    }

    void first_use(const LineTable& table) override {
        const auto& t = static_cast<const LabeledLines&>(table);
        for (int index : t.registered)
            for (std::size_t i = 0; i < graphs_.size(); ++i) node_of(i, t, index);
    }

    void record(const LineTable& table, int index, const double* values) override {
        const auto& t = static_cast<const LabeledLines&>(table);
        for (std::size_t i = 0; i < graphs_.size(); ++i) {
            const double* v = values + i * static_cast<std::size_t>(max_values);
            if (no_value(graphs_[i]->info(), v)) continue;  // a Python-defined component that gave none
            const std::int32_t node = node_of(i, t, index);
            if (scalar_[i]) graphs_[i]->record_scalar(node, v[0]);
            else graphs_[i]->record(node, v);
        }
    }

private:
    // The node of a label in graph i. The graph's current node is left as it
    // was: a marker running inside traced code nests as it would untraced.
    // A small direct-mapped cache skips the graph's hash map for hot lines.
    std::int32_t node_of(std::size_t i, const LabeledLines& t, int index) {
        const std::uint64_t hash = t.hashes[static_cast<std::size_t>(index)];
        CallGraph&          g    = *graphs_[i];
        Slot&               slot = cache_[i * cache_slots + ((hash ^ (hash >> 32)) & (cache_slots - 1))];
        if (slot.hash == hash && slot.generation == g.generation()) return slot.node;
        const std::int32_t prev = g.current();
        const std::int32_t node = g.push(hash, t.labels[static_cast<std::size_t>(index)], true, false);
        g.pop(node, prev);
        slot = Slot{hash, g.generation(), node};
        return node;
    }

    struct Slot {
        std::uint64_t hash       = 0;
        std::uint64_t generation = 0;
        std::int32_t  node       = 0;
    };
    static constexpr std::size_t cache_slots = 256;  // a power of two

    std::vector<CallGraph*> graphs_;
    std::vector<char>       scalar_;  // is_scalar_delta per component
    std::vector<Slot>       cache_;   // cache_slots per component
};

}  // namespace

std::unique_ptr<LineSink> make_graph_sink(const std::vector<int>& indices) {
    return std::make_unique<GraphSink>(indices);
}

}  // namespace tim::hooks
