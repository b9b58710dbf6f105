#pragma once
// Serialisers for the read-time views: flat and
// tree JSON (hatchet-compatible), Chrome-trace flame graphs, the text table,
// and crash-safe file writes. Everything returns text; callers decide where
// it goes.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "timemory/components/component_info.hpp"
#include "timemory/output/utf8.hpp"
#include "timemory/storage/snapshot.hpp"

namespace tim {

// Counts reported next to every component's data (hatchet reads them as metadata).
struct OutputMeta {
    int thread_count  = 1;
    int mpi_size      = 1;
    int upcxx_size    = 1;
    int process_count = 1;
    int num_ranks     = 1;
    int concurrency   = 1;
};

// Where a writer's text goes: appended to `buf`, and handed to `sink` in chunks at node
// boundaries when a sink is set (a file being written), so a large document is never held
// whole; without a sink `buf` ends up holding all of it.
struct Out {
    // 256 KiB: a file's writes stay large, and the buffers of the files written at once
    // (OutputPlan.write_all, one per thread) stay small beside the recorded graph
    static constexpr std::size_t          chunk = std::size_t{1} << 18;
    std::string                           buf;
    std::function<void(std::string_view)> sink;

    // Chunks to `to` from now on; the buffer is sized once for a chunk and the node that
    // crosses it (no doubling past it).
    void stream(std::function<void(std::string_view)> to) {
        sink = std::move(to);
        buf.reserve(chunk + chunk / 4);
    }

    void step() {
        if (sink && buf.size() >= chunk) flush();
    }
    void flush() {
        if (sink && !buf.empty()) {
            sink(buf);
            buf.clear();
        }
    }
};

// A file written through a hidden temporary in its folder, created exclusively (O_EXCL,
// so a planted symlink is never followed), fsynced and renamed over the target by commit():
// readers never see half a file. Missing parent folders are created. Destroyed without a
// successful commit, the temporary is removed.
class AtomicFile {
public:
    AtomicFile()                             = default;
    AtomicFile(const AtomicFile&)            = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;
    ~AtomicFile();

    bool open(const std::string& path, std::string* error);
    // The first failure is kept; later writes do nothing and commit() reports it.
    void write(std::string_view data);
    bool commit(std::string* error);

private:
    int         fd_   = -1;
    int         err_  = 0;
    const char* what_ = nullptr;
    std::string path_, tmp_, dir_;
};

// The writers below also read their data from sources that make it on the fly (the recorded
// graph itself, through for_each_flat / for_each_tree), so that writing holds neither the flat
// nor the tree view in memory.
//
// One row of the flat view (what the flat JSON and the text table print of a node).
struct FlatRow {
    std::uint64_t    hash = 0;
    std::string_view prefix;
    int              depth        = 0;
    const Entry*     entry        = nullptr;
    std::uint64_t    rolling_hash = 0;
    bool             remote       = false;  // FlatEntry::remote
    bool             context      = false;  // FlatEntry::context
    std::size_t      total        = 0;      // the rows of the source (0: not known)
};
// A source of flat rows: calls `row` once per row, in pre-order; may be run more than once.
using FlatRows = std::function<void(const std::function<void(const FlatRow&)>& row)>;
struct FlatSource {
    std::size_t size = 0;  // the number of rows
    FlatRows    rows;
};
// A source of trees: enter(node) per node in pre-order (its children are not read), then
// leave() after the node's subtree.
using TreeWalk =
    std::function<void(const std::function<void(const TreeNode&)>& enter, const std::function<void()>& leave)>;

void flat_json_rows(Out& out, const ComponentInfo& info, const std::vector<FlatSource>& ranks, const OutputMeta& meta);
void tree_json_walk(Out& out, const ComponentInfo& info, const TreeWalk& rank, const OutputMeta& meta,
                    const std::string& ranks_key = "graph");  // one rank
void flamegraph_json_walk(Out& out, const ComponentInfo& info, const TreeWalk& roots);
// The flame-graph layout's events alone (no document around them, `first`: no event written
// before), each on the process track `pid` (-1: the node's own pid).
void flamegraph_events_walk(Out& out, const ComponentInfo& info, const TreeWalk& roots, bool& first, long long pid);
// How many rows a text table shows: at most `max_rows` (0: every row), the rows with the most
// self value (their value less their children's; for a metric that is not additive, their
// value) and the rows above them in the call graph, in the table's order. When rows are left
// out the table ends with "... and K more rows" followed by `more` (e.g. " in wall.json").
// `auto_timing` / `auto_memory`: each row's time / memory values in the unit that suits the
// row's SUM (sec, msec, usec, nsec; TB, GB, MB, KB, B), named in its UNITS cell, instead of the
// configured unit for every row (so that a small value does not print as 0.000).
struct TextLimit {
    std::size_t max_rows = 0;
    std::string more;
    bool        auto_timing = false;
    bool        auto_memory = false;
};
// Whether display value k of a component adds up along the call graph (a node's value is its
// children's plus its own: a difference of readings, or a count, in time, memory or a count),
// so that its self value means something; not a rate, a percentage, an absolute reading or a
// timestamp.
bool additive(const ComponentInfo& info, int k);
// A text table marks the rows of work that ran in parallel elsewhere (FlatRow::remote: a
// task's, beneath the call path that submitted it) with this in front of their label, and
// ends with remote_legend when it shows any: their values are not part of their parent's.
extern const char* const remote_marker;
extern const char* const remote_legend;
void text_table_rows(Out& out, const ComponentInfo& info, const FlatRows& rows, const TextLimit& limit = {});

// JSON object stored under "timemory"."<info.key>" in the flat form:
// metadata keys, then "ranks": [{"rank", "graph_size", "graph": [...]}].
std::string flat_json(const ComponentInfo& info, const std::vector<std::vector<const FlatEntry*>>& ranks,
                      const OutputMeta& meta);
void        flat_json(Out& out, const ComponentInfo& info, const std::vector<std::vector<const FlatEntry*>>& ranks,
                      const OutputMeta& meta);
std::string flat_json(const ComponentInfo& info, const std::vector<std::vector<FlatEntry>>& ranks,
                      const OutputMeta& meta);

// Tree form: metadata keys, then ranks_key ("graph", or "mpi" for a
// multi-rank file): [ per rank: [ root, ... ] ].
std::string tree_json(const ComponentInfo& info, const std::vector<std::vector<const TreeNode*>>& ranks,
                      const OutputMeta& meta, const std::string& ranks_key = "graph");
void        tree_json(Out& out, const ComponentInfo& info, const std::vector<std::vector<const TreeNode*>>& ranks,
                      const OutputMeta& meta, const std::string& ranks_key = "graph");
std::string tree_json(const ComponentInfo& info, const std::vector<std::vector<TreeNode>>& ranks,
                      const OutputMeta& meta, const std::string& ranks_key = "graph");

// Chrome trace {"traceEvents": [...]} laid out as an aggregated flame
// graph, since the call graph keeps no per-call timestamps.
std::string flamegraph_json(const ComponentInfo& info, const std::vector<const TreeNode*>& roots);
void        flamegraph_json(Out& out, const ComponentInfo& info, const std::vector<const TreeNode*>& roots);
std::string flamegraph_json(const ComponentInfo& info, const std::vector<TreeNode>& roots);

// The text table of one component.
std::string text_table(const ComponentInfo& info, const std::vector<const FlatEntry*>& entries,
                       const TextLimit& limit = {});
void        text_table(Out& out, const ComponentInfo& info, const std::vector<const FlatEntry*>& entries,
                       const TextLimit& limit = {});
std::string text_table(const ComponentInfo& info, const std::vector<FlatEntry>& entries, const TextLimit& limit = {});

// Writes `content` to a temporary file next to `path`, fsyncs it and renames it
// over `path`, so readers never see half a file. Creates missing parent
// directories. On failure returns false and, if `error` is set, stores a
// message naming the path and the system error.
bool atomic_write(const std::string& path, const std::string& content, std::string* error);
// The same with the content in pieces, written one after the other (no joined copy).
bool atomic_write(const std::string& path, const std::vector<std::string_view>& parts, std::string* error);

// Appends `s` as a quoted JSON string. Control characters are escaped and
// invalid UTF-8 bytes become U+FFFD, so the result always parses.
void json_escape(std::string& out, std::string_view s);
// Appends a JSON number: integral values without a decimal point, others in
// the shortest form that round-trips (as Python's repr: 1.0, 0.30000000000000004,
// 1e+16). NaN and infinities become null.
void json_number(std::string& out, double v, bool integral);
// Appends `s` as Python's json.dumps writes a str (ensure_ascii): printable ASCII as is,
// everything else as \uXXXX escapes (surrogate pairs past U+FFFF); invalid UTF-8 bytes
// become \ufffd.
void json_escape_ascii(std::string& out, std::string_view s);
// functions.json: {"timemory": {"functions": {label: [hash, ...]}, "sources": [[hash, file,
// line, name], ...]}} laid out as json.dumps(..., indent=2) does, labels in order of first
// appearance in `ids`, sources in the order given ("sources" only when there are any: a
// program without functions writes what older versions wrote).
void functions_json(Out& out, const std::vector<std::pair<std::uint64_t, std::string>>& ids,
                    const std::vector<HashSource>& sources = {});
// Re-indents compact JSON (as produced above) for files meant to be read by people.
std::string json_pretty(std::string_view json, int indent = 4);

}  // namespace tim
