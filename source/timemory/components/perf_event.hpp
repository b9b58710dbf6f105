#pragma once
// Hardware and software counters through Linux perf_event_open, with no PAPI
// install: PAPI preset names and perf event names map to perf events; each
// thread opens its own counters (pid 0, cpu -1) on its first reading.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "timemory/components/component_info.hpp"

namespace tim::perf {

// One perf event; an event name may stand for a weighted sum of several
// (PAPI_LST_INS = loads + stores, PAPI_DP_OPS = scalar + 2x128-bit + ...).
struct Term {
    std::uint32_t type   = 0;  // PERF_TYPE_*
    std::uint64_t config = 0;
    double        weight = 1.0;
};

struct EventDef {
    std::string              name;                    // "PAPI_TOT_INS", "instructions", "r01c7"
    std::vector<std::string> aliases;                 // other accepted spellings ("cycles" for "cpu-cycles")
    std::string              description;             // short description
    std::string              mapping;                 // how it maps to perf, e.g. "L1-dcache-loads + L1-dcache-stores"
    std::vector<Term>        terms;                   // empty: no perf mapping on this CPU (see no_mapping)
    std::string              no_mapping;              // why terms is empty
    bool                     preset         = false;  // a PAPI preset name
    bool                     kernel_counted = false;  // counted in kernel context (context switches, migrations)
    Unit                     unit           = Unit::count;  // task-clock / cpu-clock are nanoseconds
};

// Availability of an event on this machine, found by opening it.
struct EventStatus {
    bool        available = false;
    bool        user_only = false;  // counts user mode only (perf_event_paranoid excludes the kernel)
    std::string reason;             // why not available
};

// Multiplexing of one configured event, summed over every thread that read it.
struct Scaling {
    std::string   name;
    std::uint64_t time_enabled = 0;  // ns the event was enabled
    std::uint64_t time_running = 0;  // ns it was on a hardware counter
};

// PAPI presets, then perf names, in a fixed order.
const std::vector<EventDef>& event_catalogue();
// Catalogue entry for a name or alias (exact, then case-insensitive), or a raw
// event "r<hex>"; nullptr if unknown. Raw events are made once and kept.
const EventDef* find_event(const std::string& name);
// Canonical names (no aliases), for "Valid choices are: ..." messages.
std::vector<std::string> event_names();
std::string              valid_event_choices();
// Result of actually opening the event's perf events (cached per process).
EventStatus probe(const EventDef& event);

// Estimated count of a multiplexed counter: value * enabled / running; 0 when
// it never ran.
double scaled_count(std::uint64_t value, std::uint64_t enabled, std::uint64_t running);
// Adds the weighted, scaled members of one PERF_FORMAT_GROUP read
// ({nr, time_enabled, time_running, value[nr]}) into out[event_of[k]];
// returns false if the buffer is malformed.
bool add_group_read(const std::uint64_t* buf, std::size_t words, const int* event_of, const double* weight,
                    double* out);
// The perf events of one group, read together through its leader (fds[0]).
struct GroupPlan {
    std::vector<int>    fds;       // leader first
    std::vector<int>    event_of;  // per member: index of its event in `events`
    std::vector<double> weight;    // per member
};
// Opens the events' terms in groups: software events in one group, except the
// clocks (task-clock, cpu-clock), each in a group of its own; hardware
// events in one group until the PMU refuses a member (more events than
// counters), then in the next one; with multiplexing, each hardware term in a
// group of its own. open(term, group_fd) returns an fd or -errno; a term that
// cannot be opened at all is left out (its event counts 0).
std::vector<GroupPlan> open_groups(const std::vector<const EventDef*>& events, bool multiplexing,
                                   const std::function<int(const Term&, int)>& open);
// Why perf_event_open failed (errno err) for a hardware or software event.
std::string open_error_reason(int err, bool hardware, bool have_cpu_pmu, int paranoid);
int         perf_event_paranoid();  // /proc/sys/kernel/perf_event_paranoid, or 99 if unreadable
bool        have_cpu_pmu();         // /sys/bus/event_source/devices lists a CPU PMU

// papi_vector / papi_array measurements started and not yet stopped, on every thread:
// running bundles (markers, decorators, regions) and component objects, one per
// component (ComponentInfo::hw_counter); the bindings add an active profiler /
// line-profiler session that counts them. configure() reopens the counters at 0, maybe with other
// events, so the settings refuse to change the events while this is not 0. A forked
// child forgets the bundles of the parent's other threads (they never stop there).
inline std::atomic<std::int64_t> g_running{0};
inline void                      add_running(std::int64_t n) { g_running.fetch_add(n, std::memory_order_relaxed); }
inline std::int64_t              running_measurements() { return g_running.load(std::memory_order_relaxed); }

// Configures the events papi_vector / papi_array count. Throws
// std::invalid_argument naming the valid choices for an unknown name. An empty
// list selects the defaults: PAPI_TOT_CYC and PAPI_TOT_INS where a PMU counts
// them, else those of task-clock, page-faults, context-switches this process
// can count. Counters already open on any thread are reopened (at 0) on that
// thread's next reading: the caller makes sure none is running (running_measurements).
// In a forked child each counter reopens on its first reading and continues from
// the thread's reading at the fork (a measurement spanning fork() stays whole).
void configure(const std::vector<std::string>& names, bool multiplexing);
// Requested names (as configured, canonical) and their status.
std::vector<std::pair<std::string, EventStatus>> configured_events();
// Fills a papi_vector / papi_array table entry from the configuration.
void describe_component(ComponentInfo& info);
// The reader of papi_vector / papi_array: one value per available configured event.
void read_counters(double* out);
// Per-event multiplexing over all threads (live and exited) since configure().
std::vector<Scaling> scaling();
// "\"perf_event\":{...}" block of the components' JSON.
std::string json_block();

// "perf::<event>" components: each distinct event (an event name the catalogue or a raw
// r<hex> accepts, after "perf::") is a component of its own, in a free slot of the table
// (the slots of Python-defined components), made on its first use by find_component: key
// "perf::<canonical name>" ("perf::cycles" is "perf::cpu-cycles"), one value counted from
// this thread's counter of the event (opened on the thread's first reading, its own group),
// combine delta, unit count (task-clock / cpu-clock: a time). Available when probe() says
// so; otherwise the row exists, unavailable, its description saying why.
constexpr const char* event_component_prefix = "perf::";
// Whether `name` starts with "perf::" (any case).
bool is_event_component_name(const std::string& name);
// The component index of "perf::<event>" (made now if needed); -1 for an unknown event or
// when no slot is free (event_component_error says which).
int         event_component(const std::string& name);
std::string event_component_error(const std::string& name);
// The event counted by the component `index`, or nullptr if it is not a perf:: component.
const EventDef* event_of_component(int index);

// Hardware counters of the cpu_roofline_* components: whether PAPI_DP_OPS, PAPI_SP_OPS
// or PAPI_LST_INS can be counted here (probed once), and the calling thread's running
// (dp FLOPs, sp FLOPs, load/store instructions) counts, 0 where unavailable.
bool roofline_counters_available();
void read_roofline_counters(double* dp_sp_ldst);

}  // namespace tim::perf
