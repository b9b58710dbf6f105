#pragma once
// The snapshot table of several components' call graphs: one fixed-size record per row of
// the joined walk (for_each_joined), in one contiguous 8-byte-aligned block that NumPy reads
// as a structured array without copying it (timemory.storage.Snapshot.as_numpy).
//
// The table is a copy made when it is built: recording afterwards, or timemory.clear(),
// never touches the memory it holds, so a view of it stays valid as long as the table lives.
//
// Record layout (byte offsets; every field naturally aligned):
//    0 node i8 (row id = position)   8 parent i8 (-1 top level)   16 depth i4   20 rank i4
//   24 pid i8                        32 thread i4                 36 label i4 (code into labels)
//   40 file i4 (code into files, -1 none)                         44 line i4 (0 none)
//   48 hash u8                       56 count i8 (laps of the first component that has the node)
//   64 the values, per component in column order: sum, min, max, sum_sq, self, inclusive, each
//      n f8 (n = the component's number of values), in base units (ns, bytes...). Nested (a
//      bundle): each component's values are preceded by its own count i8 (0 where the node is
//      absent from that component; every value is then 0 too).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "timemory/storage/joined.hpp"

namespace tim {

// One field of the record, as NumPy describes it.
struct GraphTableField {
    std::string component;     // "" for a top-level field, else the key of the nested component
    std::string name;          // "node", "sum", ...
    std::size_t offset = 0;    // bytes from the start of the record (also for nested fields)
    char        kind   = 'f';  // NumPy kind: 'i' signed, 'u' unsigned, 'f' floating point
    int         size   = 8;    // bytes per element
    int         count  = 0;    // subarray length; 0: a scalar field
};

class GraphTable {
public:
    // The value fields of each component, in record order.
    static constexpr const char* value_fields[] = {"sum", "min", "max", "sum_sq", "self", "inclusive"};
    static constexpr std::size_t header_bytes   = 64;  // node .. count

    // Builds the table from the joined walk of `src`. `nested`: each component's values in a
    // struct of its own (a bundle), else at the top level (one component; more than one is
    // an error then).
    static GraphTable build(const JoinSource& src, bool nested);

    const void*      data() const { return words_.data(); }
    std::size_t      size_bytes() const { return rows_ * record_bytes_; }
    std::size_t      rows() const { return rows_; }
    std::size_t      record_bytes() const { return record_bytes_; }
    bool             nested() const { return nested_; }
    const auto&      fields() const { return fields_; }
    std::size_t      label_count() const { return label_start_.empty() ? 0 : label_start_.size() - 1; }
    std::string_view label(std::size_t code) const {
        return std::string_view(label_pool_).substr(label_start_[code], label_start_[code + 1] - label_start_[code]);
    }
    const std::vector<std::string>& files() const { return files_; }
    const std::vector<int>&         component_indices() const { return indices_; }
    // Per component (column order): its key, the names of its values and their base units.
    const std::vector<std::string>&              component_keys() const { return keys_; }
    const std::vector<std::vector<std::string>>& value_names() const { return value_names_; }
    const std::vector<std::vector<std::string>>& value_units() const { return value_units_; }

private:
    std::vector<std::uint64_t>            words_;  // the records; uint64_t: 8-byte aligned
    std::size_t                           rows_         = 0;
    std::size_t                           record_bytes_ = header_bytes;
    bool                                  nested_       = false;
    std::vector<GraphTableField>          fields_;
    std::string                           label_pool_;   // every label, one after the other
    std::vector<std::uint64_t>            label_start_;  // label i is [start[i], start[i + 1])
    std::vector<std::string>              files_;
    std::vector<int>                      indices_;
    std::vector<std::string>              keys_;
    std::vector<std::vector<std::string>> value_names_;
    std::vector<std::vector<std::string>> value_units_;
};

// The name of the unit a component's values are stored in (what the statistics hold before
// unit division): "ns", "B", "B/sec", "%", or "" for counts.
std::string base_unit_name(Unit u);

}  // namespace tim
