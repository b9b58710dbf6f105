// The component table and unit lookups.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "timemory/components/component_info.hpp"
#include "timemory/components/perf_event.hpp"
#include "timemory/components/procfs.hpp"
#include "timemory/components/roofline.hpp"
#include "timemory/components/rusage.hpp"
#include "timemory/components/timing.hpp"
#include "timemory/config.hpp"

namespace tim {
namespace {

struct Names {
    const char*              key;
    const char*              id;  // nullptr: same as key; "": placeholder enumerator (no class)
    std::vector<std::string> aliases;
};

// Enum order.
const std::vector<Names>& names() {
    static const std::vector<Names> n = {
        {"allinea_map", nullptr, {"allinea", "forge"}},
        {"caliper_marker", nullptr, {"caliper", "cali"}},
        {"caliper_config", nullptr, {}},
        {"caliper_loop_marker", nullptr, {}},
        {"cpu_clock", nullptr, {}},
        {"cpu_roofline_dp_flops", nullptr, {"cpu_roofline_dp", "cpu_roofline_double"}},
        {"cpu_roofline_flops", nullptr, {"cpu_roofline"}},
        {"cpu_roofline_sp_flops", nullptr, {"cpu_roofline_sp", "cpu_roofline_single"}},
        {"cpu_util", nullptr, {"cpu_utilization"}},
        {"craypat_counters", nullptr, {}},
        {"craypat_flush_buffer", nullptr, {}},
        {"craypat_heap_stats", nullptr, {}},
        {"craypat_record", nullptr, {}},
        {"craypat_region", nullptr, {}},
        {"cuda_event", nullptr, {}},
        {"cuda_profiler", nullptr, {}},
        {"cupti_activity", nullptr, {}},
        {"cupti_counters", nullptr, {}},
        {"cupti_pcsampling", nullptr, {"cuda_pcsampling"}},
        {"current_peak_rss", nullptr, {}},
        {"data_tracker_integer", nullptr, {"integer_data_tracker"}},
        {"data_tracker_unsigned", nullptr, {"unsigned_data_tracker"}},
        {"data_tracker_floating", nullptr, {"floating_data_tracker"}},
        {"gperftools_cpu_profiler", nullptr, {"gperftools_cpu", "gperftools-cpu", "gperf_cpu_profiler", "gperf_cpu"}},
        {"gperftools_heap_profiler",
         nullptr,
         {"gperftools_heap", "gperftools-heap", "gperf_heap_profiler", "gperf_heap"}},
        {"gpu_roofline_dp_flops", nullptr, {"gpu_roofline_dp", "gpu_roofline_double"}},
        {"gpu_roofline_flops", nullptr, {"gpu_roofline"}},
        {"gpu_roofline_hp_flops", nullptr, {"gpu_roofline_hp", "gpu_roofline_half"}},
        {"gpu_roofline_sp_flops", nullptr, {"gpu_roofline_sp", "gpu_roofline_single"}},
        {"hip_event", nullptr, {}},
        {"kernel_mode_time", nullptr, {}},
        {"likwid_marker", nullptr, {"likwid_perfmon_marker"}},
        {"likwid_nvmarker", nullptr, {"likwid_nvmon_marker"}},
        {"malloc_gotcha", nullptr, {}},
        {"memory_allocations", nullptr, {}},
        {"monotonic_clock", nullptr, {}},
        {"monotonic_raw_clock", nullptr, {}},
        {"network_stats", nullptr, {"network"}},
        {"num_io_in", nullptr, {}},
        {"num_io_out", nullptr, {}},
        {"num_major_page_faults", nullptr, {"major_page_faults"}},
        {"num_minor_page_faults", nullptr, {"minor_page_faults"}},
        {"nvtx_marker", nullptr, {"nvtx"}},
        {"ompt_handle", nullptr, {"ompt", "openmp", "openmp_tools"}},
        {"page_rss", nullptr, {}},
        {"papi_array", "papi_array_t", {"papi_array"}},
        {"papi_vector", nullptr, {"papi", "perf_event"}},
        {"peak_rss", nullptr, {}},
        {"perfetto_trace", nullptr, {"perfetto"}},
        {"printer", nullptr, {}},
        {"priority_context_switch", nullptr, {"prio_ctx_switch"}},
        {"process_cpu_clock", nullptr, {"cpu_process_clock"}},
        {"process_cpu_util", nullptr, {"process_cpu_utilization", "cpu_process_util", "cpu_process_utilization"}},
        {"read_bytes", nullptr, {}},
        {"read_char", nullptr, {"rchar"}},
        {"roctx_marker", nullptr, {"roctx"}},
        {"sys_clock", "system_clock", {"sys_clock"}},
        {"tau_marker", nullptr, {"tau"}},
        {"thread_cpu_clock", nullptr, {"cpu_thread_clock"}},
        {"thread_cpu_util", nullptr, {"thread_cpu_utilization", "cpu_thread_util", "cpu_thread_utilization"}},
        {"timestamp", nullptr, {}},
        {"trip_count", nullptr, {}},
        {"user_clock", nullptr, {}},
        {"user_mode_time", nullptr, {}},
        {"user_global_bundle",
         nullptr,
         {"global_bundle", "user_tuple_bundle", "tuple_bundle", "user_list_bundle", "list_bundle"}},
        {"user_kokkosp_bundle", "user_kokkos_bundle", {"kokkos_bundle", "user_kokkosp_bundle", "kokkosp_bundle"}},
        {"user_list_bundle", "", {}},
        {"user_mpip_bundle", nullptr, {"mpip", "mpi_tools", "mpi"}},
        {"user_ncclp_bundle", nullptr, {"ncclp", "nccl_tools", "nccl"}},
        {"user_ompt_bundle", nullptr, {"ompt_bundle"}},
        {"user_tuple_bundle", "", {}},
        {"user_profiler_bundle", nullptr, {"profiler_bundle"}},
        {"user_trace_bundle", nullptr, {"trace_bundle"}},
        {"virtual_memory", nullptr, {}},
        {"voluntary_context_switch", nullptr, {"vol_ctx_switch"}},
        {"vtune_event", nullptr, {}},
        {"vtune_frame", nullptr, {}},
        {"vtune_profiler", nullptr, {}},
        {"wall_clock", nullptr, {"real_clock", "virtual_clock"}},
        {"written_bytes", nullptr, {"write_bytes"}},
        {"written_char", nullptr, {"write_char", "wchar"}},
    };
    return n;
}

std::string to_lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string to_upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

// The class name: first char and every char after '_' or '-' upper-cased, delimiters dropped.
std::string class_name_of(const std::string& key) {
    std::string out;
    bool        up = true;
    for (char c : key) {
        if (c == '_' || c == '-') {
            up = true;
            continue;
        }
        out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
        up = false;
    }
    return out;
}

// A component's readers: `read` alone, or also `shared` (the event's shared kernel reads).
struct Reader {
    ReadFn                read   = nullptr;
    readers::SharedReadFn shared = nullptr;
    Reader(ReadFn r) : read(r) {}  // NOLINT: a plain reader converts
    Reader(ReadFn r, readers::SharedReadFn s) : read(r), shared(s) {}
};
template <readers::SharedReadFn F>
Reader shared_reader() {
    return Reader(readers::read_alone<F>, F);
}

std::vector<ComponentInfo> build_table() {
    std::vector<ComponentInfo> t;
    for (const auto& n : names()) {
        ComponentInfo c;
        c.index       = static_cast<int>(t.size());
        c.key         = n.key;
        c.enum_name   = to_upper(c.key);
        c.id          = n.id && *n.id ? n.id : n.key;
        c.class_name  = n.id && !*n.id ? "" : class_name_of(c.key);
        c.aliases     = n.aliases;
        c.label       = c.key;
        c.description = "not available";
        c.units       = {Unit::none};
        c.has_value   = false;
        t.push_back(std::move(c));
    }

    auto at = [&t](const char* key) -> ComponentInfo& {
        return *std::find_if(t.begin(), t.end(), [key](const ComponentInfo& c) { return c.key == key; });
    };
    // An available component with one display value per unit.
    auto def = [&at](const char* key, const char* label, const char* desc, std::vector<Unit> units, Reader read,
                     int n_raw = 0) -> ComponentInfo& {
        auto& c       = at(key);
        c.label       = label;
        c.description = desc;
        c.units       = std::move(units);
        c.n_disp      = static_cast<int>(c.units.size());
        c.n_raw       = n_raw > 0 ? n_raw : c.n_disp;
        c.available   = true;
        c.has_value   = true;
        c.read        = read.read;
        c.read_shared = read.shared;
        return c;
    };
    auto timer = [&def](const char* key, const char* label, const char* desc, Reader read) {
        def(key, label, desc, {Unit::timing}, read).flamegraph = true;
    };
    auto util = [&def](const char* key, const char* label, const char* desc, Reader read) {
        auto& c        = def(key, label, desc, {Unit::percent}, read, 2);
        c.display      = readers::display_util;
        c.integral_raw = false;
        c.precision    = 1;
        c.width        = 6;
    };
    auto count = [&def](const char* key, const char* label, const char* desc, Reader read) {
        def(key, label, desc, {Unit::count}, read);
    };
    auto io = [&def](const char* key, const char* desc, Reader read, const char* amount, const char* rate) {
        auto& c      = def(key, key, desc, {Unit::memory, Unit::memory_rate}, read);
        c.display    = readers::display_io_rate;
        c.sub_labels = {amount, rate};
    };
    auto bundle = [&at](const char* key, const char* desc) {
        auto& c       = at(key);
        c.description = desc;
        c.available   = true;
    };

    using namespace readers;
    timer("wall_clock", "wall", "Real-clock timer (i.e. wall-clock timer)", read_wall_clock);
    timer("sys_clock", "sys", "CPU time spent in kernel-mode", shared_reader<read_sys_time>());
    timer("user_clock", "user", "CPU time spent in user-mode", shared_reader<read_user_time>());
    timer("cpu_clock", "cpu", "Total CPU time spent in both user- and kernel-mode", shared_reader<read_cpu_time>());
    timer("monotonic_clock", "monotonic_clock",
          "Wall-clock timer which will continue to increment even while the system is asleep",
          read_clock<CLOCK_MONOTONIC>);
    timer("monotonic_raw_clock", "monotonic_raw_clock",
          "Wall-clock timer unaffected by frequency or time adjustments in system time-of-day clock",
          read_clock<CLOCK_MONOTONIC_RAW>);
    timer("thread_cpu_clock", "thread_cpu", "CPU-clock timer for the calling thread",
          shared_reader<read_cputime_clock<CLOCK_THREAD_CPUTIME_ID>>());
    timer("process_cpu_clock", "process_cpu", "CPU-clock timer for the calling process (all threads)",
          shared_reader<read_cputime_clock<CLOCK_PROCESS_CPUTIME_ID>>());
    timer("user_mode_time", "user_mode", "CPU time spent executing in user mode (via rusage)",
          shared_reader<read_user_time>());
    timer("kernel_mode_time", "kernel_mode", "CPU time spent executing in kernel mode (via rusage)",
          shared_reader<read_sys_time>());

    util("cpu_util", "cpu_util", "Percentage of CPU-clock time divided by wall-clock time",
         shared_reader<read_util<CLOCK_PROCESS_CPUTIME_ID>>());
    util("process_cpu_util", "proc_cpu_util",
         "Percentage of CPU-clock time divided by wall-clock time for calling process (all threads)",
         shared_reader<read_util<CLOCK_PROCESS_CPUTIME_ID>>());
    util("thread_cpu_util", "thread_cpu_util",
         "Percentage of CPU-clock time divided by wall-clock time for calling thread",
         shared_reader<read_util<CLOCK_THREAD_CPUTIME_ID>>());

    def("peak_rss", "peak_rss",
        "Measures changes in the high-water mark for the amount of memory allocated in RAM. May fluctuate "
        "if swap is enabled",
        {Unit::memory}, shared_reader<read_peak_rss>());
    auto& cur =
        def("current_peak_rss", "current_peak_rss", "Absolute value of high-water mark of memory allocation in RAM",
            {Unit::memory, Unit::memory}, shared_reader<read_peak_rss>(), 1);
    cur.combine    = Combine::abs_pair;
    cur.sub_labels = {"start peak rss", " stop peak rss"};
    def("page_rss", "page_rss",
        "Amount of memory allocated in pages of memory. Unlike peak_rss, value will fluctuate as memory is "
        "freed/allocated",
        {Unit::memory}, shared_reader<read_page_rss>());
    def("virtual_memory", "virtual_memory", "Records the change in virtual memory", {Unit::memory},
        shared_reader<read_virtual_memory>());

    count("num_io_in", "io_in", "Number of times the file system had to perform input", shared_reader<read_io_in>());
    count("num_io_out", "io_out", "Number of times the file system had to perform output",
          shared_reader<read_io_out>());
    count("num_minor_page_faults", "minor_page_flts",
          "Number of page faults serviced without any I/O activity via 'reclaiming' a page frame from the "
          "list of pages awaiting reallocation",
          shared_reader<read_minor_faults>());
    count("num_major_page_faults", "major_page_flts", "Number of page faults serviced that required I/O activity",
          shared_reader<read_major_faults>());
    count("voluntary_context_switch", "vol_cxt_swch",
          "Number of context switches due to a process voluntarily giving up the processor before its time "
          "slice was completed (usually to await availability of a resource)",
          shared_reader<read_vol_switches>());
    count("priority_context_switch", "prio_cxt_swch",
          "Number of context switch due to higher priority process becoming runnable or because the current "
          "process exceeded its time slice",
          shared_reader<read_prio_switches>());

    // what each getrusage reader takes from the event's one getrusage (EventPlan)
    for (const char* key :
         {"sys_clock", "user_clock", "cpu_clock", "user_mode_time", "kernel_mode_time", "num_io_in", "num_io_out",
          "num_minor_page_faults", "num_major_page_faults", "voluntary_context_switch", "priority_context_switch"})
        at(key).rusage_use = RusageUse::other;
    for (const char* key : {"peak_rss", "current_peak_rss"}) at(key).rusage_use = RusageUse::maxrss;

    io("read_char",
       "Number of bytes which this task has caused to be read from storage. Sum of bytes which this process "
       "passed to read() and pread(). Not disk IO.",
       shared_reader<read_io<0>>(), "read_char", "read_rate");
    io("written_char",
       "Number of bytes which this task has caused, or shall cause to be written to disk. Similar caveats to "
       "read_char.",
       shared_reader<read_io<1>>(), "written_char", "written_rate");
    io("read_bytes", "Number of bytes which this process really did cause to be fetched from the storage layer",
       shared_reader<read_io<2>>(), "read_bytes", "read_rate");
    io("written_bytes", "Number of bytes sent to the storage layer", shared_reader<read_io<3>>(), "written_bytes",
       "written_rate");
    if (const int err = proc_io_error()) {
        for (const char* key : {"read_char", "written_char", "read_bytes", "written_bytes"}) {
            auto& c       = at(key);
            c.available   = false;
            c.description = std::string("not available: /proc/self/io is not readable (") + std::strerror(err) + ")";
        }
    }

    auto& net = def("network_stats", "network_stats", "Reports network bytes, packets, errors, dropped",
                    std::vector<Unit>(8, Unit::count), read_network);
    net.sub_labels.assign(std::begin(net_fields), std::end(net_fields));

    count("trip_count", "trip_count", "Counts number of invocations", nullptr);
    at("trip_count").combine = Combine::trip;
    auto& ts   = def("timestamp", "timestamp", "Provides a timestamp for every sample and/or phase", {Unit::timing},
                     read_clock<CLOCK_REALTIME>);
    ts.combine = Combine::last;

    count("data_tracker_integer", "data_integer", "Stores signed integer data w.r.t. call-graph", nullptr);
    count("data_tracker_unsigned", "data_unsigned", "Stores unsigned integer data w.r.t. call-graph", nullptr);
    count("data_tracker_floating", "data_floating", "Stores double-precision floating-point data w.r.t. call-graph",
          nullptr);
    at("data_tracker_floating").integral_raw = false;

    for (const char* key : {"papi_vector", "papi_array"}) {
        auto& c      = at(key);
        c.json_extra = perf::json_block;
        c.hw_counter = true;
        perf::describe_component(c);
    }

    roofline::describe_components(at("cpu_roofline_flops"), at("cpu_roofline_dp_flops"), at("cpu_roofline_sp_flops"));

    bundle("printer", "Provides an interface for printing out debug messages");
    bundle("user_global_bundle",
           "Generic bundle of components designed for runtime configuration by a user via environment "
           "variables and/or direct insertion");
    bundle("user_trace_bundle", "Bundle of components used by the tracer (timemory.trace)");
    bundle("user_profiler_bundle", "Bundle of components used by the profiler (timemory.profiler)");
    bundle("user_kokkosp_bundle", "Bundle of components used by the Kokkos profiling interface");
    return t;
}

}  // namespace

namespace {
int g_builtin_count = 0;

// The built-in table, then max_user_components empty slots (class_name empty: not a
// component until register_user_component fills one).
std::vector<ComponentInfo> build_table_with_user_slots() {
    auto t          = build_table();
    g_builtin_count = static_cast<int>(t.size());
    t.reserve(t.size() + max_user_components);
    for (int i = 0; i < max_user_components; ++i) {
        ComponentInfo slot;
        slot.index = g_builtin_count + i;
        t.push_back(std::move(slot));
    }
    return t;
}

std::atomic<int>   g_user_count{0};  // slots filled
UserComponentHooks g_user_hooks;

struct CustomUnit {
    double      divisor = 1.0;
    std::string repr;
};
constexpr int    max_custom_units = 200;
CustomUnit       g_custom_units[max_custom_units];
std::atomic<int> g_custom_count{0};
std::mutex       g_custom_mtx;

const CustomUnit* custom_of(Unit u) {
    const int k = static_cast<int>(u) - static_cast<int>(Unit::custom_base);
    if (k < 0 || k >= g_custom_count.load(std::memory_order_acquire)) return nullptr;
    return &g_custom_units[k];
}
}  // namespace

std::vector<ComponentInfo>& mutable_component_table() {
    static std::vector<ComponentInfo> table = build_table_with_user_slots();
    return table;
}

const std::vector<ComponentInfo>& component_table() { return mutable_component_table(); }

int component_count() { return static_cast<int>(component_table().size()); }

int builtin_component_count() {
    (void)component_table();
    return g_builtin_count;
}

namespace {
bool is_builtin_name(const std::string& name);

// Python registrations (under the GIL) and perf:: rows (find_component, from any thread)
// fill the same slots
std::mutex g_register_mtx;

// The slot of info.key (the same key again: its slot), or a new one made by `fill`;
// -1 for a built-in component's name or when every slot is taken.
template <typename Fill>
int register_row(ComponentInfo info, Fill&& fill) {
    std::lock_guard<std::mutex> lk(g_register_mtx);
    auto&                       table = mutable_component_table();
    const int                   base  = builtin_component_count();
    const int                   used  = g_user_count.load(std::memory_order_acquire);
    for (int i = 0; i < used; ++i)
        if (table[static_cast<std::size_t>(base + i)].key == info.key) return base + i;
    if (is_builtin_name(info.key)) return -1;
    if (used >= max_user_components) return -1;
    const int index = base + used;
    info.index      = index;
    info.hw_counter = false;
    fill(info);
    table[static_cast<std::size_t>(index)] = std::move(info);
    g_user_count.store(used + 1, std::memory_order_release);
    return index;
}
}  // namespace

int register_user_component(ComponentInfo info) {
    return register_row(std::move(info), [](ComponentInfo& row) {
        row.user      = true;
        row.available = true;
        row.read      = nullptr;
        row.display   = nullptr;
    });
}

int register_native_component(ComponentInfo info, ReadFn (*reader)(int index)) {
    return register_row(std::move(info), [reader](ComponentInfo& row) {
        row.user = false;
        row.read = reader(row.index);
    });
}

void                      set_user_component_hooks(const UserComponentHooks& hooks) { g_user_hooks = hooks; }
const UserComponentHooks& user_component_hooks() { return g_user_hooks; }

Unit custom_unit(double divisor, const std::string& repr) {
    std::lock_guard<std::mutex> lk(g_custom_mtx);
    const int                   n = g_custom_count.load(std::memory_order_acquire);
    for (int k = 0; k < n; ++k)
        if (g_custom_units[k].divisor == divisor && g_custom_units[k].repr == repr)
            return static_cast<Unit>(static_cast<int>(Unit::custom_base) + k);
    if (n >= max_custom_units) return Unit::none;
    g_custom_units[n] = CustomUnit{divisor, repr};
    g_custom_count.store(n + 1, std::memory_order_release);
    return static_cast<Unit>(static_cast<int>(Unit::custom_base) + n);
}

namespace {
// Lower-case keys, ids and aliases of the built-in components.
const std::unordered_map<std::string, int>& builtin_lookup() {
    static const auto lookup = [] {
        std::unordered_map<std::string, int> m;
        for (const auto& c : component_table()) {
            if (c.class_name.empty() || c.index >= builtin_component_count()) continue;
            m.emplace(c.key, c.index);  // emplace keeps the first (enum order) on collisions
            m.emplace(to_lower(c.id), c.index);
            for (const auto& a : c.aliases) m.emplace(to_lower(a), c.index);
        }
        return m;
    }();
    return lookup;
}

bool is_builtin_name(const std::string& name) { return builtin_lookup().count(to_lower(name)) != 0; }
}  // namespace

int find_component(const std::string& name) {
    const auto& lookup = builtin_lookup();
    const auto  b      = name.find_first_not_of(" \t\n\r\f\v");
    if (b == std::string::npos) return -1;
    const auto e   = name.find_last_not_of(" \t\n\r\f\v");
    const auto key = to_lower(name.substr(b, e - b + 1));
    const auto it  = lookup.find(key);
    if (it != lookup.end()) return it->second;
    // the registered Python-defined components (their keys are lower case)
    const auto& table = component_table();
    const int   base = builtin_component_count(), used = g_user_count.load(std::memory_order_acquire);
    // perf:: keys keep the event's case ("perf::PAPI_TOT_INS")
    for (int i = 0; i < used; ++i)
        if (to_lower(table[static_cast<std::size_t>(base + i)].key) == key) return base + i;
    // "perf::<event>": the event's component, made on first use
    if (perf::is_event_component_name(key)) return perf::event_component(name.substr(b, e - b + 1));
    return -1;
}

double unit_divisor(Unit u) {
    if (const auto* c = custom_of(u)) return c->divisor;
    switch (u) {
        case Unit::timing: return config().timing_unit;
        case Unit::memory:
        case Unit::memory_rate: return config().memory_unit;
        default: return 1.0;
    }
}

std::string unit_repr(Unit u) {
    if (const auto* c = custom_of(u)) return c->repr;
    switch (u) {
        case Unit::percent: return "%";
        case Unit::timing: return config().timing_unit_repr;
        case Unit::memory: return config().memory_unit_repr;
        case Unit::memory_rate: return config().memory_unit_repr + "/sec";
        default: return "";
    }
}

double default_unit_divisor(Unit u) {
    if (const auto* c = custom_of(u)) return c->divisor;
    switch (u) {
        case Unit::timing: return 1.0e9;
        case Unit::memory:
        case Unit::memory_rate: return 1.0e6;
        default: return 1.0;
    }
}

std::string default_unit_repr(Unit u) {
    if (const auto* c = custom_of(u)) return c->repr;
    switch (u) {
        case Unit::percent: return "%";
        case Unit::timing: return "sec";
        case Unit::memory: return "MB";
        case Unit::memory_rate: return "MB/sec";
        default: return "";
    }
}

void to_display(const ComponentInfo& info, const double* raw, double* out) {
    if (info.display) info.display(raw, out);
    else std::copy_n(raw, info.n_disp, out);
}

}  // namespace tim
