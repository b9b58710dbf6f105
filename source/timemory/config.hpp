#pragma once
// Runtime configuration the native core reads. Python owns settings resolution
// (timemory.settings) and pushes the values the core needs through
// _core.config_set(); nothing here parses environment variables.
#include <cstdint>
#include <string>

namespace tim {

struct Config {
    bool enabled          = true;
    bool flat_profile     = false;
    bool timeline_profile = false;
    int  max_depth        = 65535;
    bool collapse_threads = true;
    bool stack_clearing   = true;
    // the timeline (timemory/storage/timeline.hpp): record each measurement's begin and end,
    // up to this many events per process; the Perfetto export (perfetto_output) records it too
    bool         timeline_events     = false;
    bool         perfetto_output     = false;
    std::int64_t timeline_max_events = 1000000;

    // text table formatting; -1 means "component default"
    int  precision         = -1;
    int  width             = -1;
    int  max_width         = 120;
    bool scientific        = false;
    int  timing_precision  = -1;
    int  timing_width      = -1;
    bool timing_scientific = false;
    int  memory_precision  = -1;
    int  memory_width      = -1;
    bool memory_scientific = false;

    // unit divisors applied to raw values (ns, bytes) and their display strings
    double      timing_unit      = 1.0e9;
    std::string timing_unit_repr = "sec";
    double      memory_unit      = 1.0e6;
    std::string memory_unit_repr = "MB";
};

// A plain global (not a function-local static) so the hot path reads it
// without a guard check or a cross-unit call.
extern Config  g_config;
inline Config& config() { return g_config; }

}  // namespace tim
