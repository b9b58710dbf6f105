#pragma once
// Static description of every component: names,
// units, arity and the native reader. One table, indexed by the enum value.
#include <cstdint>
#include <string>
#include <vector>

#include "timemory/components/event_reads.hpp"

namespace tim {

constexpr int max_values = 8;  // widest component (network_stats) has 8 values

// How a display value is scaled for output.
enum class Unit : std::uint8_t {
    none,         // divisor 1, repr ""
    count,        // divisor 1, repr ""
    percent,      // divisor 1, repr "%"
    timing,       // divisor config().timing_unit, repr config().timing_unit_repr
    memory,       // divisor config().memory_unit, repr config().memory_unit_repr
    memory_rate,  // divisor config().memory_unit, repr memory repr + "/sec"
    // Values from custom_base on are the units Python-defined components declare: a fixed
    // divisor and display string each (custom_unit()).
    custom_base = 16,
};

// The Unit of a Python-defined component's display unit: `divisor` turns its values into
// the display unit named `repr`. Same arguments, same Unit; at most 200 distinct units
// (Unit::none past that: values shown undivided).
Unit custom_unit(double divisor, const std::string& repr);

// How a start/stop pair of raw readings becomes the value of one interval.
enum class Combine : std::uint8_t {
    delta,     // value = stop - start, accumulated over laps
    abs_pair,  // value = (start[0], stop[0]); accum keeps the first start and last stop
    trip,      // value = 1 per interval (trip_count); no reader needed
    last,      // value = stop reading; accum = last value, no accumulation (timestamp)
    // Python-defined components (timemory.component.Base): the value of an interval is what
    // the component returned at its stop; two measurements of one node combine by the rule
    // the class names (its `combine` attribute).
    sum,      // accum = sum of the values (merges add)
    maximum,  // accum = largest value (merges keep the largest)
    minimum,  // accum = smallest value
    latest,   // accum = the value recorded (or merged) last
};

// A rule of a Python-defined component: the value is the reading at stop, there is no
// exclusive (self) part but for `sum`.
inline bool is_user_combine(Combine c) { return c >= Combine::sum; }

// Reads the current raw values (n_raw of them) into out.
using ReadFn = void (*)(double* out);
// Turns the raw value of one interval (or an accumulation) into n_disp display
// values *before* unit division (e.g. ns for timers, bytes/sec for rates).
using DisplayFn = void (*)(const double* raw, double* out);

struct ComponentInfo {
    int                      index = -1;        // enum value
    std::string              enum_name;         // "WALL_CLOCK"
    std::string              key;               // "wall_clock": JSON key, Python enum name
    std::string              class_name;        // "WallClock"
    std::string              id;                // primary id, e.g. "system_clock"
    std::vector<std::string> aliases;           // other accepted ids (not including id)
    std::string              label;             // "wall": METRIC column, JSON type, file stem
    std::vector<std::string> sub_labels;        // JSON "type" list when n_disp > 1
    std::string              description;       // "Real-clock timer (i.e. wall-clock timer)"
    std::vector<Unit>        units;             // one per display value
    int                      n_raw        = 1;  // raw slots read by `read`
    int                      n_disp       = 1;  // display values produced by `display`
    bool                     available    = false;
    bool                     has_value    = true;
    bool                     flamegraph   = false;  // timers: written as Chrome trace
    bool                     integral_raw = true;   // raw values serialised as integers
    // papi_vector / papi_array: running measurements are counted (perf::g_running) so
    // that settings.papi_events cannot change under them
    bool    hw_counter = false;
    Combine combine    = Combine::delta;
    ReadFn  read       = nullptr;
    // The same reading from the event's shared kernel reads (event_reads.hpp), for the
    // components whose source other components read too; nullptr: `read` reads on its own.
    readers::SharedReadFn read_shared = nullptr;
    readers::RusageUse    rusage_use  = readers::RusageUse::none;  // what it takes from getrusage (EventPlan)
    DisplayFn             display     = nullptr;                   // nullptr: display = raw (n_raw == n_disp)
    int                   precision   = 3;
    int                   width       = 8;
    // extra `"key":{...}` member of the component's JSON metadata (papi_vector's scaling)
    std::string (*json_extra)() = nullptr;
    // Python-defined (timemory.component.Base): readings come from user_start/user_stop
    // (the Python object's methods, under the GIL), not from `read`.
    bool user = false;
};

// The table keeps max_user_components free slots after the built-in components (index
// builtin_component_count() on) for Python-defined components: filled in by
// register_user_component, never moved (call graphs keep pointers into the table).
constexpr int max_user_components = 64;
int           builtin_component_count();  // 81
// Fills the next free slot with `info` (its index is set; `user` and `available` forced
// true). The same key again returns the slot it has. -1 when the key names a built-in
// component or every slot is taken. Called with the GIL held (one registrant at a time).
int register_user_component(ComponentInfo info);
// Fills the next free slot with a native row (a "perf::<event>" component): `user` false,
// read = reader(index) (the slot's reader, chosen once the index is known). Same key,
// same slot; -1 as above.
int register_native_component(ComponentInfo info, ReadFn (*reader)(int index));
// Readings of Python-defined components, provided by the bindings (they hold the
// objects). start: begins an interval and keeps what identifies it in slot[0..1].
// stop: ends the interval of `slot`, writes its n_raw values to `out`; false when there
// is no value (the component failed and was dropped). Both are called with the GIL held.
struct UserComponentHooks {
    void (*start)(int index, double* slot)                   = nullptr;
    bool (*stop)(int index, const double* slot, double* out) = nullptr;
};
void                      set_user_component_hooks(const UserComponentHooks& hooks);
const UserComponentHooks& user_component_hooks();

// The full table, indexed by enum value; entries for the two placeholder
// enumerators (66, 70) have an empty class_name and are never available.
const std::vector<ComponentInfo>& component_table();
int                               component_count();  // built-in enumerators (81) + max_user_components slots
// Only perf::configure() changes entries after start-up (papi_vector and papi_array,
// whose values follow settings.papi_events).
std::vector<ComponentInfo>& mutable_component_table();

// Exact, case-insensitive lookup of an enum key / primary id / alias (and the keys of the
// registered Python-defined components); -1 if unknown.
int find_component(const std::string& name);

// Divisor and display string for a unit under the current config.
double      unit_divisor(Unit u);
std::string unit_repr(Unit u);
// Divisor and display string of the component's static defaults (JSON unit_value/unit_repr).
double      default_unit_divisor(Unit u);
std::string default_unit_repr(Unit u);

// Raw values an entry stores: n_raw, except abs_pair keeps (start, stop) of a
// single reading.
inline int stored_values(const ComponentInfo& info) { return info.combine == Combine::abs_pair ? 2 : info.n_raw; }

// display values (before unit division) of a raw value
void to_display(const ComponentInfo& info, const double* raw, double* out);

}  // namespace tim
