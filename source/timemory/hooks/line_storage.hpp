#pragma once
// The line tracer's storage sink: every execution of a line is recorded in
// the calling thread's call graphs, flat (depth 0, one node per line label).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "timemory/hooks/line_tracker.hpp"

namespace tim::hooks {

// A line table with a label per line (built by the binding from the labeler's
// answer). The hash of a line without code is 0.
struct LabeledLines : LineTable {
    std::vector<std::uint64_t> hashes;
    std::vector<std::string>   labels;
    std::vector<int>           registered;  // indices shown with zero laps before they run
};

// A sink for LabeledLines tables that records into this thread's call graphs.
std::unique_ptr<LineSink> make_graph_sink(const std::vector<int>& indices);

}  // namespace tim::hooks
