// perf_event_open backend of papi_vector / papi_array and timemory.hardware_counters.
#include "timemory/components/perf_event.hpp"

#include <linux/perf_event.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <dirent.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace tim::perf {
namespace {

// ------------------------------------------------------------------ catalogue

constexpr std::uint64_t cache(std::uint64_t id, std::uint64_t op, std::uint64_t result) {
    return id | (op << 8) | (result << 16);
}
constexpr std::uint64_t l1d = PERF_COUNT_HW_CACHE_L1D, l1i = PERF_COUNT_HW_CACHE_L1I, ll = PERF_COUNT_HW_CACHE_LL,
                        dtlb = PERF_COUNT_HW_CACHE_DTLB, itlb = PERF_COUNT_HW_CACHE_ITLB, bpu = PERF_COUNT_HW_CACHE_BPU;
constexpr std::uint64_t rd = PERF_COUNT_HW_CACHE_OP_READ, wr = PERF_COUNT_HW_CACHE_OP_WRITE,
                        pf  = PERF_COUNT_HW_CACHE_OP_PREFETCH;
constexpr std::uint64_t acc = PERF_COUNT_HW_CACHE_RESULT_ACCESS, miss = PERF_COUNT_HW_CACHE_RESULT_MISS;

struct PerfName {
    const char*              name;
    std::vector<std::string> aliases;
    std::uint32_t            type;
    std::uint64_t            config;
    const char*              description;
};

// perf's generic event names (`perf list`), in its order.
const std::vector<PerfName>& perf_names() {
    static const std::vector<PerfName> n = {
        {"cpu-cycles", {"cycles"}, PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, "CPU cycles"},
        {"instructions", {}, PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS, "Instructions retired"},
        {"cache-references", {}, PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_REFERENCES, "Last-level cache accesses"},
        {"cache-misses", {}, PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES, "Last-level cache misses"},
        {"branch-instructions",
         {"branches"},
         PERF_TYPE_HARDWARE,
         PERF_COUNT_HW_BRANCH_INSTRUCTIONS,
         "Branch instructions retired"},
        {"branch-misses", {}, PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES, "Mispredicted branches"},
        {"bus-cycles", {}, PERF_TYPE_HARDWARE, PERF_COUNT_HW_BUS_CYCLES, "Bus cycles"},
        {"stalled-cycles-frontend",
         {"idle-cycles-frontend"},
         PERF_TYPE_HARDWARE,
         PERF_COUNT_HW_STALLED_CYCLES_FRONTEND,
         "Cycles the front end issued no instruction"},
        {"stalled-cycles-backend",
         {"idle-cycles-backend"},
         PERF_TYPE_HARDWARE,
         PERF_COUNT_HW_STALLED_CYCLES_BACKEND,
         "Cycles the back end stalled"},
        {"ref-cycles", {}, PERF_TYPE_HARDWARE, PERF_COUNT_HW_REF_CPU_CYCLES, "Reference cycles (constant rate)"},
        {"cpu-clock", {}, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, "CPU clock of the thread"},
        {"task-clock", {}, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK, "Time the thread ran on a CPU"},
        {"page-faults", {"faults"}, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS, "Page faults"},
        {"context-switches", {"cs"}, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES, "Context switches"},
        {"cpu-migrations",
         {"migrations"},
         PERF_TYPE_SOFTWARE,
         PERF_COUNT_SW_CPU_MIGRATIONS,
         "Migrations to another CPU"},
        {"minor-faults", {}, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MIN, "Page faults served without I/O"},
        {"major-faults", {}, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MAJ, "Page faults that needed I/O"},
        {"alignment-faults", {}, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_ALIGNMENT_FAULTS, "Alignment faults"},
        {"emulation-faults", {}, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_EMULATION_FAULTS, "Emulated instructions"},
        {"L1-dcache-loads", {}, PERF_TYPE_HW_CACHE, cache(l1d, rd, acc), "L1 data cache loads"},
        {"L1-dcache-load-misses", {}, PERF_TYPE_HW_CACHE, cache(l1d, rd, miss), "L1 data cache load misses"},
        {"L1-dcache-stores", {}, PERF_TYPE_HW_CACHE, cache(l1d, wr, acc), "L1 data cache stores"},
        {"L1-dcache-store-misses", {}, PERF_TYPE_HW_CACHE, cache(l1d, wr, miss), "L1 data cache store misses"},
        {"L1-dcache-prefetches", {}, PERF_TYPE_HW_CACHE, cache(l1d, pf, acc), "L1 data cache prefetches"},
        {"L1-icache-loads", {}, PERF_TYPE_HW_CACHE, cache(l1i, rd, acc), "L1 instruction cache loads"},
        {"L1-icache-load-misses", {}, PERF_TYPE_HW_CACHE, cache(l1i, rd, miss), "L1 instruction cache misses"},
        {"LLC-loads", {}, PERF_TYPE_HW_CACHE, cache(ll, rd, acc), "Last-level cache loads"},
        {"LLC-load-misses", {}, PERF_TYPE_HW_CACHE, cache(ll, rd, miss), "Last-level cache load misses"},
        {"LLC-stores", {}, PERF_TYPE_HW_CACHE, cache(ll, wr, acc), "Last-level cache stores"},
        {"LLC-store-misses", {}, PERF_TYPE_HW_CACHE, cache(ll, wr, miss), "Last-level cache store misses"},
        {"dTLB-loads", {}, PERF_TYPE_HW_CACHE, cache(dtlb, rd, acc), "Data TLB loads"},
        {"dTLB-load-misses", {}, PERF_TYPE_HW_CACHE, cache(dtlb, rd, miss), "Data TLB load misses"},
        {"dTLB-stores", {}, PERF_TYPE_HW_CACHE, cache(dtlb, wr, acc), "Data TLB stores"},
        {"dTLB-store-misses", {}, PERF_TYPE_HW_CACHE, cache(dtlb, wr, miss), "Data TLB store misses"},
        {"iTLB-loads", {}, PERF_TYPE_HW_CACHE, cache(itlb, rd, acc), "Instruction TLB loads"},
        {"iTLB-load-misses", {}, PERF_TYPE_HW_CACHE, cache(itlb, rd, miss), "Instruction TLB misses"},
        {"branch-loads", {}, PERF_TYPE_HW_CACHE, cache(bpu, rd, acc), "Branch prediction unit loads"},
        {"branch-load-misses", {}, PERF_TYPE_HW_CACHE, cache(bpu, rd, miss), "Branch prediction unit misses"},
    };
    return n;
}

const PerfName& perf_name(const char* name) {
    for (const auto& p : perf_names())
        if (std::strcmp(p.name, name) == 0) return p;
    std::abort();  // a typo in the preset table below
}

struct CpuId {
    std::string vendor;
    int         family = -1;
    int         model  = -1;
};

CpuId cpu_id() {
    CpuId      id;
    std::FILE* f = std::fopen("/proc/cpuinfo", "r");
    if (!f) return id;
    char line[512];
    while (std::fgets(line, sizeof(line), f)) {
        const char* colon = std::strchr(line, ':');
        if (!colon) continue;
        std::string key(line, static_cast<std::size_t>(colon - line));
        while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
        const char* value = colon + 1;
        while (*value == ' ') ++value;
        if (key == "vendor_id" && id.vendor.empty()) {
            id.vendor = value;
            while (!id.vendor.empty() && std::isspace(static_cast<unsigned char>(id.vendor.back())))
                id.vendor.pop_back();
        } else if (key == "cpu family" && id.family < 0) {
            id.family = std::atoi(value);
        } else if (key == "model" && id.model < 0) {
            id.model = std::atoi(value);
        }
        if (!id.vendor.empty() && id.family >= 0 && id.model >= 0) break;
    }
    std::fclose(f);
    return id;
}

// Intel cores with FP_ARITH_INST_RETIRED (event 0xC7), non-hybrid: Broadwell
// through Sapphire/Emerald Rapids.
bool has_fp_arith(const CpuId& id) {
    static const int models[] = {0x3D, 0x47, 0x4F, 0x56, 0x4E, 0x5E, 0x55, 0x8E, 0x9E, 0xA5, 0xA6,
                                 0x66, 0x7D, 0x7E, 0x6A, 0x6C, 0x8C, 0x8D, 0xA7, 0x8F, 0xCF};
    if (id.vendor != "GenuineIntel" || id.family != 6) return false;
    return std::find(std::begin(models), std::end(models), id.model) != std::end(models);
}

std::string cpu_text(const CpuId& id) {
    char buf[128];
    std::snprintf(buf, sizeof(buf), "%s family %d model %d", id.vendor.empty() ? "unknown CPU" : id.vendor.c_str(),
                  id.family, id.model);
    return buf;
}

std::vector<EventDef> build_catalogue() {
    std::vector<EventDef> out;
    auto                  preset = [&out](const char* name, const char* desc, std::vector<const char*> parts) {
        EventDef e;
        e.name        = name;
        e.description = desc;
        e.preset      = true;
        for (const char* p : parts) {
            const auto& pn = perf_name(p);
            e.terms.push_back({pn.type, pn.config, 1.0});
            e.mapping += (e.mapping.empty() ? "" : " + ") + std::string(p);
        }
        out.push_back(std::move(e));
    };
    preset("PAPI_TOT_CYC", "Total cycles", {"cpu-cycles"});
    preset("PAPI_TOT_INS", "Instructions completed", {"instructions"});
    preset("PAPI_REF_CYC", "Reference clock cycles", {"ref-cycles"});
    preset("PAPI_BR_INS", "Branch instructions", {"branch-instructions"});
    preset("PAPI_BR_MSP", "Conditional branch instructions mispredicted", {"branch-misses"});
    preset("PAPI_L1_DCM", "Level 1 data cache misses", {"L1-dcache-load-misses"});
    preset("PAPI_L1_ICM", "Level 1 instruction cache misses", {"L1-icache-load-misses"});
    preset("PAPI_L1_TCM", "Level 1 cache misses", {"L1-dcache-load-misses", "L1-icache-load-misses"});
    preset("PAPI_L1_LDM", "Level 1 load misses", {"L1-dcache-load-misses"});
    preset("PAPI_L1_STM", "Level 1 store misses", {"L1-dcache-store-misses"});
    preset("PAPI_L1_DCA", "Level 1 data cache accesses", {"L1-dcache-loads", "L1-dcache-stores"});
    preset("PAPI_L3_TCA", "Level 3 total cache accesses", {"cache-references"});
    preset("PAPI_L3_TCM", "Level 3 cache misses", {"cache-misses"});
    preset("PAPI_L3_DCR", "Level 3 data cache reads", {"LLC-loads"});
    preset("PAPI_L3_LDM", "Level 3 load misses", {"LLC-load-misses"});
    preset("PAPI_L3_DCW", "Level 3 data cache writes", {"LLC-stores"});
    preset("PAPI_TLB_DM", "Data translation lookaside buffer misses", {"dTLB-load-misses"});
    preset("PAPI_TLB_IM", "Instruction translation lookaside buffer misses", {"iTLB-load-misses"});
    preset("PAPI_LD_INS", "Load instructions", {"L1-dcache-loads"});
    preset("PAPI_SR_INS", "Store instructions", {"L1-dcache-stores"});
    preset("PAPI_LST_INS", "Load/store instructions completed", {"L1-dcache-loads", "L1-dcache-stores"});
    preset("PAPI_STL_ICY", "Cycles with no instruction issue", {"stalled-cycles-frontend"});
    preset("PAPI_RES_STL", "Cycles stalled on any resource", {"stalled-cycles-backend"});

    // Floating-point operations: FP_ARITH_INST_RETIRED umasks, weighted by the
    // operations per instruction (an FMA counts twice in the event already).
    const CpuId id = cpu_id();
    struct Fp {
        const char*                              name;
        const char*                              desc;
        std::vector<std::pair<unsigned, double>> umasks;
    };
    const Fp fp[] = {
        {"PAPI_FP_OPS",
         "Floating point operations",
         {{0x01, 1}, {0x02, 1}, {0x04, 2}, {0x08, 4}, {0x10, 4}, {0x20, 8}, {0x40, 8}, {0x80, 16}}},
        {"PAPI_DP_OPS", "Floating point operations; double precision", {{0x01, 1}, {0x04, 2}, {0x10, 4}, {0x40, 8}}},
        {"PAPI_SP_OPS", "Floating point operations; single precision", {{0x02, 1}, {0x08, 4}, {0x20, 8}, {0x80, 16}}},
        {"PAPI_VEC_DP", "Double precision vector/SIMD instructions (operations)", {{0x04, 2}, {0x10, 4}, {0x40, 8}}},
        {"PAPI_VEC_SP", "Single precision vector/SIMD instructions (operations)", {{0x08, 4}, {0x20, 8}, {0x80, 16}}},
    };
    for (const auto& f : fp) {
        EventDef e;
        e.name        = f.name;
        e.description = f.desc;
        e.preset      = true;
        if (has_fp_arith(id)) {
            for (const auto& [umask, weight] : f.umasks) {
                char part[48];
                std::snprintf(part, sizeof(part), "%s%g*r%02xc7", e.mapping.empty() ? "" : " + ", weight, umask);
                e.mapping += part;
                e.terms.push_back({PERF_TYPE_RAW, (std::uint64_t{umask} << 8) | 0xC7, weight});
            }
        } else {
            e.no_mapping = "no perf mapping of " + e.name + " for this CPU (" + cpu_text(id) +
                           "); count a raw event (r<umask><event> in hex) instead";
        }
        out.push_back(std::move(e));
    }
    for (const char* l2 : {"PAPI_L2_DCM", "PAPI_L2_TCM", "PAPI_L2_TCA"}) {
        EventDef e;
        e.name        = l2;
        e.description = std::string("Level 2 cache ") + (std::strcmp(l2, "PAPI_L2_TCA") == 0 ? "accesses" : "misses");
        e.preset      = true;
        e.no_mapping  = "perf has no generic level 2 cache event; count a raw event (r<umask><event> in hex) instead";
        out.push_back(std::move(e));
    }

    for (const auto& p : perf_names()) {
        EventDef e;
        e.name           = p.name;
        e.aliases        = p.aliases;
        e.description    = p.description;
        e.mapping        = p.name;
        e.terms          = {{p.type, p.config, 1.0}};
        e.kernel_counted = p.type == PERF_TYPE_SOFTWARE &&
                           (p.config == PERF_COUNT_SW_CONTEXT_SWITCHES || p.config == PERF_COUNT_SW_CPU_MIGRATIONS);
        if (p.type == PERF_TYPE_SOFTWARE &&
            (p.config == PERF_COUNT_SW_CPU_CLOCK || p.config == PERF_COUNT_SW_TASK_CLOCK))
            e.unit = Unit::timing;
        out.push_back(std::move(e));
    }
    return out;
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// "r1c7" / "r01C7": PERF_TYPE_RAW with that config.
bool parse_raw(const std::string& name, std::uint64_t& config) {
    if (name.size() < 2 || name.size() > 17 || (name[0] != 'r' && name[0] != 'R')) return false;
    for (std::size_t i = 1; i < name.size(); ++i)
        if (!std::isxdigit(static_cast<unsigned char>(name[i]))) return false;
    config = std::strtoull(name.c_str() + 1, nullptr, 16);
    return true;
}

std::mutex& raw_mutex() {
    static auto* m = new std::mutex;
    return *m;
}

// ------------------------------------------------------------------ opening

long sys_perf_event_open(perf_event_attr* attr, int group_fd) {
    return syscall(SYS_perf_event_open, attr, 0 /* this thread */, -1 /* any cpu */, group_fd, PERF_FLAG_FD_CLOEXEC);
}

int open_term(const Term& t, bool exclude_kernel, int group_fd) {
    perf_event_attr attr{};
    attr.size           = sizeof(attr);
    attr.type           = t.type;
    attr.config         = t.config;
    attr.read_format    = PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    attr.exclude_kernel = exclude_kernel ? 1 : 0;
    attr.exclude_hv     = 1;
    const long fd       = sys_perf_event_open(&attr, group_fd);
    return fd < 0 ? -errno : static_cast<int>(fd);
}

// Unprivileged users under perf_event_paranoid >= 2 may only count user mode:
// found by trying a software event with and without the kernel.
struct Access {
    bool exclude_kernel = false;
    int  error          = 0;  // errno if even a user-mode software event cannot be opened
};

Access access_mode() {
    static const Access a = [] {
        Access     r;
        const Term task_clock{PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK, 1.0};
        int        fd = open_term(task_clock, false, -1);
        if (fd >= 0) {
            ::close(fd);
            return r;
        }
        if (fd == -EACCES || fd == -EPERM) {
            fd = open_term(task_clock, true, -1);
            if (fd >= 0) {
                ::close(fd);
                r.exclude_kernel = true;
                return r;
            }
        }
        r.error = -fd;
        return r;
    }();
    return a;
}

bool is_hardware(const Term& t) { return t.type != PERF_TYPE_SOFTWARE; }

EventStatus probe_uncached(const EventDef& e) {
    EventStatus s;
    if (e.terms.empty()) {
        s.reason = e.no_mapping;
        return s;
    }
    const Access a = access_mode();
    if (a.error) {
        s.reason = open_error_reason(a.error, false, have_cpu_pmu(), perf_event_paranoid());
        return s;
    }
    if (a.exclude_kernel && e.kernel_counted) {
        char buf[256];
        std::snprintf(buf, sizeof(buf),
                      "%s are counted in kernel mode, which kernel.perf_event_paranoid=%d hides from "
                      "unprivileged users (needs <= 1, or CAP_PERFMON)",
                      e.description.c_str(), perf_event_paranoid());
        s.reason = buf;
        return s;
    }
    for (const auto& t : e.terms) {
        const int fd = open_term(t, a.exclude_kernel, -1);
        if (fd < 0) {
            s.reason = open_error_reason(-fd, is_hardware(t), have_cpu_pmu(), perf_event_paranoid());
            return s;
        }
        ::close(fd);
    }
    s.available = true;
    s.user_only = a.exclude_kernel;
    return s;
}

// ------------------------------------------------------------------ configuration

struct Config {
    std::vector<std::string>     requested;  // canonical names, as configured
    std::vector<EventStatus>     status;     // per requested
    std::vector<const EventDef*> active;     // available requested events: the component's values
    bool                         multiplexing   = false;
    bool                         exclude_kernel = false;
};

std::mutex& config_mutex() {
    static auto* m = new std::mutex;
    return *m;
}

// Bumped by configure(): papi_vector / papi_array counters reopen for the new events.
std::atomic<std::uint64_t> g_generation{1};
// Bumped in a forked child: every counter (papi_vector / papi_array and the roofline
// ones) reopens for the child's thread and continues from its reading at the fork.
std::atomic<std::uint64_t> g_fork_epoch{1};

// per-event totals of exited threads, reset by configure()
struct Totals {
    std::vector<std::uint64_t> enabled, running;
};

struct ThreadCounters;

struct Registry {
    std::mutex                   mutex;
    std::vector<ThreadCounters*> threads;
    Totals                       retired;
};

Registry& registry() {
    static auto* r = new Registry;  // leaked: threads may exit during static destruction
    return *r;
}

Config make_config(const std::vector<std::string>& names, bool multiplexing) {
    Config c;
    c.multiplexing                  = multiplexing;
    c.exclude_kernel                = access_mode().exclude_kernel;
    std::vector<std::string> wanted = names;
    if (wanted.empty()) {  // the defaults this machine counts
        for (const char* n : {"PAPI_TOT_CYC", "PAPI_TOT_INS"})
            if (probe(*find_event(n)).available) wanted.emplace_back(n);
        if (wanted.size() < 2) {
            wanted.clear();
            const char* software[] = {"task-clock", "page-faults", "context-switches"};
            for (const char* n : software)
                if (probe(*find_event(n)).available) wanted.emplace_back(n);
            // none at all (perf_event_open denied): keep them for the reasons they carry
            if (wanted.empty()) wanted.assign(std::begin(software), std::end(software));
        }
    }
    for (const auto& n : wanted) {
        const EventDef* e = find_event(n);
        if (!e)
            throw std::invalid_argument("Unknown hardware counter: '" + n +
                                        "'. Valid choices are: " + valid_event_choices());
        if (std::find(c.requested.begin(), c.requested.end(), e->name) != c.requested.end()) continue;
        c.requested.push_back(e->name);
        c.status.push_back(probe(*e));
        if (c.status.back().available && static_cast<int>(c.active.size()) < max_values) c.active.push_back(e);
        else if (c.status.back().available) {
            c.status.back().available = false;
            c.status.back().reason    = "more than " + std::to_string(max_values) + " events configured";
        }
    }
    return c;
}

Config& current_config() {  // guarded by config_mutex()
    static auto* c = new Config(make_config({}, false));
    return *c;
}

}  // namespace

std::vector<GroupPlan> open_groups(const std::vector<const EventDef*>& events, bool multiplexing,
                                   const std::function<int(const Term&, int)>& open) {
    std::vector<GroupPlan> made;
    int                    software = -1, hardware = -1;  // index of the open group of each kind
    for (std::size_t e = 0; e < events.size(); ++e) {
        for (const auto& t : events[e]->terms) {
            const bool hw = is_hardware(t);
            // task-clock and cpu-clock belong to the kernel's timer PMUs, not its software
            // event PMU: grouped with other software events, the members of the group read 0
            // or too little (task-clock,page-faults counted 0 of 2561 page faults). Each
            // clock gets a group of its own.
            const bool clock = t.type == PERF_TYPE_SOFTWARE &&
                               (t.config == PERF_COUNT_SW_TASK_CLOCK || t.config == PERF_COUNT_SW_CPU_CLOCK);
            int        alone = -1;
            int&       group = clock ? alone : hw ? hardware : software;
            int        fd    = -1;
            if (group >= 0 && !(hw && multiplexing)) {
                fd = open(t, made[static_cast<std::size_t>(group)].fds.front());
                // a full group (more events than counters): start another one; the kernel
                // multiplexes the groups and the counts are scaled
                if (fd < 0) group = -1;
            }
            if (group < 0 || (hw && multiplexing)) {
                fd = open(t, -1);
                if (fd < 0) continue;  // counted as 0 (e.g. out of file descriptors)
                made.emplace_back();
                group = static_cast<int>(made.size()) - 1;
            }
            auto& g = made[static_cast<std::size_t>(group)];
            g.fds.push_back(fd);
            g.event_of.push_back(static_cast<int>(e));
            g.weight.push_back(t.weight);
        }
    }
    return made;
}

namespace {

// ------------------------------------------------------------------ per-thread counters

struct Group : GroupPlan {
    std::vector<std::uint64_t> buf;  // {nr, time_enabled, time_running, value[nr]}
    // time enabled / running of the last read; read by scaling() from other threads
    std::unique_ptr<std::atomic<std::uint64_t>[]> last = std::make_unique<std::atomic<std::uint64_t>[]>(2);
};

struct ThreadCounters;
thread_local ThreadCounters* tl_thread_counters = nullptr;  // this thread's, once made

struct ThreadCounters {
    std::atomic<std::uint64_t> generation{0};   // of the configuration the groups were opened for
    std::uint64_t              fork_epoch = 0;  // g_fork_epoch the groups were opened in
    int                        n_events   = 0;
    std::vector<Group>         groups;
    // added to every reading: the counts at the fork that made this process (a
    // measurement started in the parent and stopped in the child continues)
    std::vector<double> base;
    std::vector<double> at_fork;  // the reading taken just before fork()

    ThreadCounters() {
        auto&                       r = registry();
        std::lock_guard<std::mutex> lock(r.mutex);
        r.threads.push_back(this);
        tl_thread_counters = this;
    }
    ~ThreadCounters() {
        tl_thread_counters            = nullptr;
        auto&                       r = registry();
        std::lock_guard<std::mutex> lock(r.mutex);
        retire(r.retired);
        r.threads.erase(std::remove(r.threads.begin(), r.threads.end(), this), r.threads.end());
    }
    ThreadCounters(const ThreadCounters&)            = delete;
    ThreadCounters& operator=(const ThreadCounters&) = delete;

    // Adds this thread's enabled/running times into t (registry mutex held).
    void add_to(Totals& t) const {
        for (const auto& g : groups) {
            const std::uint64_t en = g.last[0].load(std::memory_order_relaxed);
            const std::uint64_t ru = g.last[1].load(std::memory_order_relaxed);
            for (int e : g.event_of) {
                if (static_cast<std::size_t>(e) >= t.enabled.size()) continue;
                t.enabled[static_cast<std::size_t>(e)] += en;
                t.running[static_cast<std::size_t>(e)] += ru;
            }
        }
    }
    void retire(Totals& t) {
        if (generation.load() == g_generation.load()) add_to(t);
        close_all();
    }
    void close_all() {
        for (auto& g : groups)
            for (int fd : g.fds) ::close(fd);
        groups.clear();
    }

    void open() {
        // reopened after a fork under the same events: continue from the parent's counts;
        // for new events (configure(), refused while any measurement runs) start at 0
        const bool continues =
            generation.load() == g_generation.load() && fork_epoch != g_fork_epoch.load() && !at_fork.empty();
        base = continues ? at_fork : std::vector<double>{};
        at_fork.clear();
        {
            auto&                       r = registry();
            std::lock_guard<std::mutex> lock(r.mutex);
            close_all();
            // a forked child starts with an empty registry
            if (std::find(r.threads.begin(), r.threads.end(), this) == r.threads.end()) r.threads.push_back(this);
        }
        std::vector<const EventDef*> events;
        bool                         multiplexing = false, exclude_kernel = false;
        {
            std::lock_guard<std::mutex> lock(config_mutex());
            const auto&                 c = current_config();
            events                        = c.active;
            multiplexing                  = c.multiplexing;
            exclude_kernel                = c.exclude_kernel;
            generation                    = g_generation.load();
            fork_epoch                    = g_fork_epoch.load();
        }
        n_events = static_cast<int>(events.size());
        if (base.size() != events.size()) base.clear();
        std::vector<Group> made;
        auto opener = [exclude_kernel](const Term& t, int group_fd) { return open_term(t, exclude_kernel, group_fd); };
        for (auto& plan : open_groups(events, multiplexing, opener)) {
            made.emplace_back();
            static_cast<GroupPlan&>(made.back()) = std::move(plan);
            made.back().buf.assign(3 + made.back().fds.size(), 0);
        }
        auto&                       r = registry();
        std::lock_guard<std::mutex> lock(r.mutex);
        groups = std::move(made);
    }

    void read(double* out) {
        if (generation.load(std::memory_order_relaxed) != g_generation.load(std::memory_order_acquire) ||
            fork_epoch != g_fork_epoch.load(std::memory_order_relaxed))
            open();
        read_open(out);
    }
    // Before fork(), on the forking thread: the reading the child's counters continue from.
    void prepare_fork() {
        at_fork.clear();
        if (groups.empty() || generation.load() != g_generation.load() || fork_epoch != g_fork_epoch.load()) return;
        at_fork.assign(static_cast<std::size_t>(n_events), 0.0);
        read_open(at_fork.data());
    }
    void read_open(double* out) {
        for (int i = 0; i < n_events; ++i) out[i] = 0.0;
        for (auto& g : groups) {
            const ssize_t want = static_cast<ssize_t>(g.buf.size() * sizeof(std::uint64_t));
            if (::read(g.fds.front(), g.buf.data(), static_cast<std::size_t>(want)) != want) continue;
            add_group_read(g.buf.data(), g.buf.size(), g.event_of.data(), g.weight.data(), out);
            g.last[0].store(g.buf[1], std::memory_order_relaxed);
            g.last[1].store(g.buf[2], std::memory_order_relaxed);
        }
        for (int i = 0; i < n_events; ++i) out[i] = std::round(out[i]);
        for (std::size_t i = 0; i < base.size(); ++i) out[i] += base[i];
    }
};

ThreadCounters& thread_counters() {
    thread_local ThreadCounters t;
    return t;
}

// ------------------------------------------------------------------ perf:: components

// The event of each slot (index - builtin_component_count()), set before its row is published.
std::atomic<const EventDef*> g_slot_event[max_user_components] = {};

// One event's counter on one thread: its own group (a multi-term event, e.g. PAPI_LST_INS,
// is one group of its terms), so components compose freely; more hardware events than
// counters are multiplexed by the kernel and scaled.
struct SlotCounter {
    std::vector<GroupPlan>     groups;
    std::vector<std::uint64_t> buf;
    std::uint64_t              fork_epoch = 0;  // 0: never opened on this thread
    double                     base       = 0;  // the count at the fork that made this process
    double                     at_fork    = 0;  // the reading taken just before fork()
    bool                       forked     = false;

    void close_all() {
        for (auto& g : groups)
            for (int fd : g.fds) ::close(fd);
        groups.clear();
    }
    void open(const EventDef& event) {
        base   = fork_epoch != 0 && forked ? at_fork : 0.0;  // after a fork: continue the count
        forked = false;
        close_all();
        const bool                         exclude_kernel = access_mode().exclude_kernel;
        const std::vector<const EventDef*> events{&event};
        groups     = open_groups(events, false, [exclude_kernel](const Term& t, int group_fd) {
            return open_term(t, exclude_kernel, group_fd);
        });
        fork_epoch = g_fork_epoch.load();
    }
    double read_open() {
        double out = 0.0;
        for (auto& g : groups) {
            buf.assign(3 + g.fds.size(), 0);
            const ssize_t want = static_cast<ssize_t>(buf.size() * sizeof(std::uint64_t));
            if (::read(g.fds.front(), buf.data(), static_cast<std::size_t>(want)) != want) continue;
            add_group_read(buf.data(), buf.size(), g.event_of.data(), g.weight.data(), &out);
        }
        return std::round(out) + base;
    }
};

struct SlotCounters;
thread_local SlotCounters* tl_slot_counters = nullptr;  // this thread's, once made

struct SlotCounters {
    SlotCounter slot[max_user_components];
    SlotCounters() { tl_slot_counters = this; }
    ~SlotCounters() {
        tl_slot_counters = nullptr;
        for (auto& s : slot) s.close_all();
    }
    SlotCounters(const SlotCounters&)            = delete;
    SlotCounters& operator=(const SlotCounters&) = delete;
    // Before fork(), on the forking thread: the readings the child's counters continue from.
    void prepare_fork() {
        const std::uint64_t epoch = g_fork_epoch.load();
        for (auto& s : slot) {
            s.forked = s.fork_epoch == epoch && !s.groups.empty();
            if (s.forked) s.at_fork = s.read_open();
        }
    }
    // In the child: reopen now what was open (what the child does until its next reading counts).
    void reopen_after_fork() {
        for (int k = 0; k < max_user_components; ++k)
            if (slot[k].forked)
                if (const EventDef* e = g_slot_event[k].load(std::memory_order_acquire)) slot[k].open(*e);
    }
};

void install_fork_handler();

void read_slot(int k, double* out) {
    const EventDef* e = g_slot_event[k].load(std::memory_order_acquire);
    if (!e) {
        out[0] = 0.0;
        return;
    }
    install_fork_handler();
    // on the heap: 64 counters would not fit the static TLS block of a dlopen()ed module
    thread_local std::unique_ptr<SlotCounters> counters;
    if (!counters) counters = std::make_unique<SlotCounters>();
    auto& s = counters->slot[k];
    if (s.fork_epoch != g_fork_epoch.load(std::memory_order_relaxed)) s.open(*e);
    out[0] = s.read_open();
}

// ReadFn has no argument: one instantiation per slot
template <int K>
void read_slot_k(double* out) {
    read_slot(K, out);
}

template <int... K>
constexpr std::array<ReadFn, sizeof...(K)> slot_readers(std::integer_sequence<int, K...>) {
    return {&read_slot_k<K>...};
}
constexpr auto g_slot_readers = slot_readers(std::make_integer_sequence<int, max_user_components>{});

const EventDef* g_pending_event = nullptr;  // handed to slot_reader (under the registry's mutex)

ReadFn slot_reader(int index) {
    const int k = index - builtin_component_count();
    g_slot_event[k].store(g_pending_event, std::memory_order_release);
    return g_slot_readers[static_cast<std::size_t>(k)];
}

std::mutex& event_component_mutex() {
    static auto* m = new std::mutex;
    return *m;
}

struct RooflineCounters;
thread_local RooflineCounters* tl_roofline_counters = nullptr;  // this thread's, once made

void roofline_prepare_fork();
void roofline_reopen_after_fork();

// Before fork(), on the forking thread: the readings its counters in the child continue from.
void before_fork() {
    if (tl_thread_counters) tl_thread_counters->prepare_fork();
    if (tl_slot_counters) tl_slot_counters->prepare_fork();
    roofline_prepare_fork();
}

// A forked child's descriptors count its parent's thread: reopen them, continuing from the
// readings taken before the fork (the events are unchanged). Counters that were open are
// reopened now, not at their next reading: what the child does until then is counted too.
void after_fork_in_child() {
    g_fork_epoch.fetch_add(1);
    // the mutexes may have been held by another thread of the parent
    auto* r = &registry();
    new (&r->mutex) std::mutex;
    new (&config_mutex()) std::mutex;
    r->threads.clear();  // only the forking thread exists; it re-registers when it reopens
    if (tl_thread_counters && !tl_thread_counters->at_fork.empty()) tl_thread_counters->open();
    if (tl_slot_counters) tl_slot_counters->reopen_after_fork();
    new (&event_component_mutex()) std::mutex;
    roofline_reopen_after_fork();
}

void install_fork_handler() {
    static const bool done = [] {
        pthread_atfork(before_fork, nullptr, after_fork_in_child);
        return true;
    }();
    (void)done;
}

// The cpu_roofline_* components' hardware counters (PAPI_DP_OPS, PAPI_SP_OPS, PAPI_LST_INS),
// one group per thread, opened on the thread's first reading and again after a fork (in
// the child, continuing from the reading taken before it). Their events are fixed:
// settings.papi_events (configure()) does not concern them.
struct RooflineCounters {
    std::vector<GroupPlan>              groups;
    std::vector<std::uint64_t>          buf;
    std::uint64_t                       fork_epoch = 0;  // 0: never opened
    std::size_t                         n_events   = 0;
    const std::vector<const EventDef*>* events     = nullptr;  // as last read
    std::vector<double>                 base;                  // added to every reading (the counts at the fork)
    std::vector<double>                 at_fork;               // the reading taken just before fork()

    RooflineCounters() { tl_roofline_counters = this; }
    ~RooflineCounters() {
        tl_roofline_counters = nullptr;
        close_all();
    }
    void close_all() {
        for (auto& g : groups)
            for (int fd : g.fds) ::close(fd);
        groups.clear();
    }
    void read(double* out, const std::vector<const EventDef*>& events_now) {
        install_fork_handler();
        if (fork_epoch != g_fork_epoch.load(std::memory_order_relaxed)) open(events_now);
        read_open(out);
    }
    void open(const std::vector<const EventDef*>& events_now) {
        // after a fork: continue from the parent's counts (the same fixed events)
        base = fork_epoch != 0 && at_fork.size() == events_now.size() ? at_fork : std::vector<double>{};
        at_fork.clear();
        close_all();
        const bool exclude_kernel = access_mode().exclude_kernel;
        groups                    = open_groups(events_now, false, [exclude_kernel](const Term& t, int group_fd) {
            return open_term(t, exclude_kernel, group_fd);
        });
        fork_epoch                = g_fork_epoch.load();
        n_events                  = events_now.size();
        events                    = &events_now;
    }
    void read_open(double* out) {
        std::fill(out, out + n_events, 0.0);
        for (auto& g : groups) {
            buf.assign(3 + g.fds.size(), 0);
            const ssize_t want = static_cast<ssize_t>(buf.size() * sizeof(std::uint64_t));
            if (::read(g.fds.front(), buf.data(), static_cast<std::size_t>(want)) != want) continue;
            add_group_read(buf.data(), buf.size(), g.event_of.data(), g.weight.data(), out);
        }
        for (std::size_t i = 0; i < base.size(); ++i) out[i] += base[i];
    }
    void prepare_fork() {
        at_fork.clear();
        if (fork_epoch != g_fork_epoch.load()) return;  // never opened, or not since the last fork
        at_fork.assign(n_events, 0.0);
        read_open(at_fork.data());
    }
};

void roofline_prepare_fork() {
    if (tl_roofline_counters) tl_roofline_counters->prepare_fork();
}

void roofline_reopen_after_fork() {
    auto* c = tl_roofline_counters;
    if (c && c->events && !c->at_fork.empty()) c->open(*c->events);
}

}  // namespace

// ------------------------------------------------------------------ public

const std::vector<EventDef>& event_catalogue() {
    static const std::vector<EventDef> c = build_catalogue();
    return c;
}

const EventDef* find_event(const std::string& name) {
    const auto& c = event_catalogue();
    for (const auto& e : c) {
        if (e.name == name) return &e;
        for (const auto& a : e.aliases)
            if (a == name) return &e;
    }
    const std::string l = lower(name);
    for (const auto& e : c) {
        if (lower(e.name) == l) return &e;
        for (const auto& a : e.aliases)
            if (lower(a) == l) return &e;
    }
    std::uint64_t config = 0;
    if (!parse_raw(name, config)) return nullptr;
    static auto*                raw = new std::deque<EventDef>;  // stable addresses
    std::lock_guard<std::mutex> lock(raw_mutex());
    char                        canonical[24];
    std::snprintf(canonical, sizeof(canonical), "r%llx", static_cast<unsigned long long>(config));
    for (const auto& e : *raw)
        if (e.name == canonical) return &e;
    EventDef e;
    e.name        = canonical;
    e.description = "Raw PMU event " + std::string(canonical);
    e.mapping     = canonical;
    e.terms       = {{PERF_TYPE_RAW, config, 1.0}};
    raw->push_back(std::move(e));
    return &raw->back();
}

std::vector<std::string> event_names() {
    std::vector<std::string> out;
    for (const auto& e : event_catalogue()) out.push_back(e.name);
    return out;
}

std::string valid_event_choices() {
    std::string s;
    for (const auto& n : event_names()) s += (s.empty() ? "" : ", ") + n;
    return s + ", or a raw event r<hex config>";
}

EventStatus probe(const EventDef& event) {
    static auto* cache = new std::map<const EventDef*, EventStatus>;
    static auto* m     = new std::mutex;
    {
        std::lock_guard<std::mutex> lock(*m);
        auto                        it = cache->find(&event);
        if (it != cache->end()) return it->second;
    }
    EventStatus                 s = probe_uncached(event);
    std::lock_guard<std::mutex> lock(*m);
    return cache->emplace(&event, s).first->second;
}

double scaled_count(std::uint64_t value, std::uint64_t enabled, std::uint64_t running) {
    if (running == 0) return 0.0;
    if (running >= enabled) return static_cast<double>(value);
    return static_cast<double>(value) * (static_cast<double>(enabled) / static_cast<double>(running));
}

bool add_group_read(const std::uint64_t* buf, std::size_t words, const int* event_of, const double* weight,
                    double* out) {
    if (words < 3 || buf[0] > words - 3) return false;
    for (std::uint64_t k = 0; k < buf[0]; ++k) out[event_of[k]] += weight[k] * scaled_count(buf[3 + k], buf[1], buf[2]);
    return true;
}

std::string open_error_reason(int err, bool hardware, bool have_pmu, int paranoid) {
    char buf[320];
    if (err == ENOSYS) return "this kernel has no perf_event_open (ENOSYS)";
    if (hardware && !have_pmu && (err == ENOENT || err == EOPNOTSUPP || err == ENODEV || err == EINVAL))
        return "no hardware PMU: /sys/bus/event_source/devices lists no CPU PMU (a virtual machine without "
               "PMU passthrough exposes only software events)";
    if (err == EACCES || err == EPERM) {
        if (paranoid >= 3)
            std::snprintf(buf, sizeof(buf),
                          "kernel.perf_event_paranoid=%d forbids perf_event_open to unprivileged users "
                          "(needs <= 2, or CAP_PERFMON)",
                          paranoid);
        else
            std::snprintf(buf, sizeof(buf),
                          "perf_event_open was denied (%s) with kernel.perf_event_paranoid=%d; a container's "
                          "seccomp profile can also deny it",
                          err == EACCES ? "EACCES" : "EPERM", paranoid);
        return buf;
    }
    if (err == ENOENT || err == EOPNOTSUPP)
        return "this CPU's PMU does not count this event (" + std::string(err == ENOENT ? "ENOENT" : "EOPNOTSUPP") +
               ")";
    if (err == EMFILE || err == ENFILE) return "out of file descriptors (" + std::string(std::strerror(err)) + ")";
    std::snprintf(buf, sizeof(buf), "perf_event_open failed: %s (errno %d)", std::strerror(err), err);
    return buf;
}

int perf_event_paranoid() {
    std::FILE* f = std::fopen("/proc/sys/kernel/perf_event_paranoid", "r");
    if (!f) return 99;
    int v = 99;
    if (std::fscanf(f, "%d", &v) != 1) v = 99;
    std::fclose(f);
    return v;
}

bool have_cpu_pmu() {
    static const bool found = [] {
        DIR* d = ::opendir("/sys/bus/event_source/devices");
        if (!d) return false;
        bool any = false;
        while (const dirent* e = ::readdir(d)) {
            const std::string n = e->d_name;
            if (n == "cpu" || n == "cpu_core" || n == "cpu_atom" || n.rfind("armv", 0) == 0 ||
                n.rfind("arm_", 0) == 0) {
                any = true;
                break;
            }
        }
        ::closedir(d);
        return any;
    }();
    return found;
}

void configure(const std::vector<std::string>& names, bool multiplexing) {
    Config c = make_config(names, multiplexing);  // throws before anything changes
    {
        std::lock_guard<std::mutex> lock(config_mutex());
        current_config()              = std::move(c);
        auto&                       r = registry();
        std::lock_guard<std::mutex> rlock(r.mutex);
        r.retired.enabled.assign(current_config().active.size(), 0);
        r.retired.running.assign(current_config().active.size(), 0);
        g_generation.fetch_add(1, std::memory_order_release);
    }
    auto& table = mutable_component_table();
    for (const char* key : {"papi_vector", "papi_array"})
        describe_component(table[static_cast<std::size_t>(find_component(key))]);
}

std::vector<std::pair<std::string, EventStatus>> configured_events() {
    std::lock_guard<std::mutex>                      lock(config_mutex());
    const auto&                                      c = current_config();
    std::vector<std::pair<std::string, EventStatus>> out;
    for (std::size_t i = 0; i < c.requested.size(); ++i) out.emplace_back(c.requested[i], c.status[i]);
    return out;
}

void describe_component(ComponentInfo& info) {
    install_fork_handler();
    std::lock_guard<std::mutex> lock(config_mutex());
    const auto&                 c = current_config();
    std::string                 unavailable;
    for (std::size_t i = 0; i < c.requested.size(); ++i)
        if (!c.status[i].available)
            unavailable += (unavailable.empty() ? "" : "; ") + c.requested[i] + ": " + c.status[i].reason;
    info.combine      = Combine::delta;
    info.display      = nullptr;
    info.integral_raw = true;
    if (c.active.empty()) {
        info.available = false;
        info.has_value = false;
        info.read      = nullptr;
        info.n_raw     = 1;
        info.n_disp    = 1;
        info.units     = {Unit::none};
        info.sub_labels.clear();
        info.description = "not available: " + unavailable;
        return;
    }
    info.available = true;
    info.has_value = true;
    info.read      = read_counters;
    info.n_raw     = static_cast<int>(c.active.size());
    info.n_disp    = info.n_raw;
    info.units.clear();
    info.sub_labels.clear();
    for (const auto* e : c.active) {
        info.units.push_back(e->unit);
        info.sub_labels.push_back(e->name);
    }
    std::string names;
    for (const auto* e : c.active) names += (names.empty() ? "" : ", ") + e->name;
    info.description = "Hardware counters (perf_event_open): " + names;
    if (c.exclude_kernel) info.description += " (user mode only: kernel.perf_event_paranoid)";
    if (!unavailable.empty()) info.description += "; not counted: " + unavailable;
}

void read_counters(double* out) { thread_counters().read(out); }

std::vector<Scaling> scaling() {
    std::vector<const EventDef*> events;
    {
        std::lock_guard<std::mutex> lock(config_mutex());
        events = current_config().active;
    }
    auto&                       r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    Totals                      t = r.retired;
    t.enabled.resize(events.size(), 0);
    t.running.resize(events.size(), 0);
    const std::uint64_t gen = g_generation.load();
    for (const auto* th : r.threads)
        if (th->generation.load() == gen) th->add_to(t);
    std::vector<Scaling> out;
    for (std::size_t i = 0; i < events.size(); ++i) out.push_back({events[i]->name, t.enabled[i], t.running[i]});
    return out;
}

std::string json_block() {
    std::string s     = "\"perf_event\":{\"scaling\":[";
    bool        first = true;
    for (const auto& x : scaling()) {
        if (!first) s += ',';
        first = false;
        char buf[160];
        std::snprintf(buf, sizeof(buf), "\"time_enabled\":%llu,\"time_running\":%llu}",
                      static_cast<unsigned long long>(x.time_enabled), static_cast<unsigned long long>(x.time_running));
        s += "{\"event\":\"" + x.name + "\"," + buf;
    }
    return s + "]}";
}

// The cpu_roofline_* components' events, in the order read_roofline_counters reports them.
const char* const g_roofline_events[] = {"PAPI_DP_OPS", "PAPI_SP_OPS", "PAPI_LST_INS"};

bool roofline_counters_available() {
    static const bool available = [] {
        for (const char* name : g_roofline_events) {
            const auto* e = find_event(name);
            if (e && probe(*e).available) return true;
        }
        return false;
    }();
    return available;
}

void read_roofline_counters(double* dp_sp_ldst) {
    constexpr std::size_t n = sizeof(g_roofline_events) / sizeof(g_roofline_events[0]);
    std::fill(dp_sp_ldst, dp_sp_ldst + n, 0.0);
    if (!roofline_counters_available()) return;
    // per event: its definition where this machine counts it, else null
    static const std::vector<const EventDef*> events = [] {
        std::vector<const EventDef*> out;
        for (const char* name : g_roofline_events) {
            const auto* e = find_event(name);
            out.push_back(e && probe(*e).available ? e : nullptr);
        }
        return out;
    }();
    // open_groups takes the available events only; their counts are mapped back below
    static const std::vector<const EventDef*> present = [] {
        std::vector<const EventDef*> out;
        for (const auto* e : events)
            if (e) out.push_back(e);
        return out;
    }();
    thread_local RooflineCounters counters;
    double                        counted[n] = {};
    static_assert(n <= 3, "counted[] holds the roofline events");
    counters.read(counted, present);
    std::size_t k = 0;
    for (std::size_t i = 0; i < events.size(); ++i)
        if (events[i]) dp_sp_ldst[i] = counted[k++];
}

}  // namespace tim::perf

namespace tim::perf {

bool is_event_component_name(const std::string& name) {
    const std::size_t n = std::strlen(event_component_prefix);
    return name.size() >= n && lower(name.substr(0, n)) == event_component_prefix;
}

namespace {
const EventDef* event_named(const std::string& name) {
    if (!is_event_component_name(name)) return nullptr;
    std::string event = name.substr(std::strlen(event_component_prefix));
    const auto  b     = event.find_first_not_of(" \t");
    if (b == std::string::npos) return nullptr;
    return find_event(event.substr(b, event.find_last_not_of(" \t") - b + 1));
}
}  // namespace

int event_component(const std::string& name) {
    const EventDef* e = event_named(name);
    if (!e) return -1;
    ComponentInfo info;
    info.key        = event_component_prefix + e->name;
    info.enum_name  = info.key;
    info.class_name = info.key;
    info.id         = info.key;
    info.label      = "perf_" + e->name;  // file stem and METRIC column: no "::"
    const auto s    = probe(*e);
    info.available  = s.available;
    info.has_value  = s.available;
    info.combine    = Combine::delta;
    info.units      = {e->unit};
    info.n_raw = info.n_disp = 1;
    info.integral_raw        = true;
    info.description         = e->description + " (perf_event_open: " + e->mapping + ")";
    if (s.user_only) info.description += " (user mode only: kernel.perf_event_paranoid)";
    if (!s.available) info.description = "not available: " + s.reason;
    install_fork_handler();
    // one registrant at a time hands its event to slot_reader
    std::lock_guard<std::mutex> lock(event_component_mutex());
    g_pending_event = e;
    const int index = register_native_component(std::move(info), slot_reader);
    g_pending_event = nullptr;
    return index;
}

std::string event_component_error(const std::string& name) {
    if (!event_named(name)) {
        const std::string event = name.size() > 6 ? name.substr(6) : std::string();
        return "Unknown hardware counter event '" + event + "' in component '" + name +
               "'. Valid choices are: perf::<event> with <event> one of " + valid_event_choices();
    }
    return "component '" + name + "' needs a free component slot: at most " + std::to_string(max_user_components) +
           " Python-defined and perf:: components together";
}

const EventDef* event_of_component(int index) {
    const int k = index - builtin_component_count();
    if (k < 0 || k >= max_user_components || index >= component_count()) return nullptr;
    const auto& info = component_table()[static_cast<std::size_t>(index)];
    if (info.user || !is_event_component_name(info.key)) return nullptr;
    return g_slot_event[k].load(std::memory_order_acquire);
}

}  // namespace tim::perf
