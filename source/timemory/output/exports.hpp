#pragma once
// Exports of the joined call graphs in the formats of other tools: speedscope's JSON file
// format and the callgrind profile format (KCachegrind, QCachegrind, gprof2dot). Both stream
// the joined walk (for_each_joined) straight into the file: the document is never held whole,
// and what they keep besides is one entry per distinct function (and, for callgrind, per
// caller -> callee pair of one thread view).
#include <string>
#include <vector>

#include "timemory/output/writers.hpp"
#include "timemory/storage/joined.hpp"

namespace tim {

struct ExportOptions {
    std::string name;     // speedscope: the profile group's name; callgrind: the "cmd:" line
    std::string creator;  // who wrote the file, "name@version" (speedscope "exporter", callgrind "creator:")
};

// One value an export carries: display value `k` of component `index`, named "wall_clock" (or
// "network_stats rx_bytes" for a component of several values), in `unit` (speedscope's unit
// names: "nanoseconds", "bytes", "none").
struct ExportValue {
    int         index = -1;
    int         k     = 0;
    std::string name;
    std::string unit;
};
// The values of these components that nest along the call graph (a node's value holds its
// children's: a difference of readings at its start and stop), the only ones the exports
// below carry, in order.
std::vector<ExportValue> export_values(const std::vector<int>& indices);

// speedscope's file format (https://www.speedscope.app/file-format-schema.json): one evented
// profile per value of each component that nests (a node's value holds its children's) and per
// thread view (per rank, then thread; one per rank when threads are collapsed), in the
// component's base unit ("nanoseconds" for clocks, "bytes" for memory, "none" otherwise).
// The call graph keeps sums, not timestamps, so the events lay each node out as a flame graph
// does: its inclusive value from where its previous sibling ended, its children packed from
// its own start; the profile names say so. A negative or non-finite value counts as 0, and a
// child never extends past its parent (it is cut at the parent's end), so the events always
// nest. Values that do not nest (rates, percentages, readings, timestamps; trip_count's calls
// of the node itself and the data trackers' data) have no profile.
void speedscope_json(Out& out, const JoinSource& src, const ExportOptions& opt);

// The callgrind format, version 1: one part per thread view ("thread:" and "pid:" lines, the
// rank in a "desc: Rank:" line), one event per value of each component that nests, costs in
// integers of the base unit (ns, bytes, counts) as the "event:" long names say. A function is
// a label with its file and line; its self cost is summed over the nodes of the view where it
// is, and each caller -> callee pair has the number of calls and the inclusive cost of the
// callee's nodes under that caller, as callgrind itself writes a call (KCachegrind's cycle
// detection handles recursion as it does for callgrind's own files).
void callgrind_text(Out& out, const JoinSource& src, const ExportOptions& opt);

// The same written into the file `path` atomically (a temporary created exclusively in the
// folder, fsynced and renamed); false with `error` naming the path on failure.
bool write_speedscope(const std::string& path, const JoinSource& src, const ExportOptions& opt, std::string* error);
bool write_callgrind(const std::string& path, const JoinSource& src, const ExportOptions& opt, std::string* error);

}  // namespace tim
