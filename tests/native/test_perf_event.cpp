// Standalone checks of the perf_event backend: scaling math, group reads, error
// reasons, name lookup, and software events counted for real.
#include <linux/filter.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "check.hpp"
#include "timemory/components/component_info.hpp"
#include "timemory/components/perf_event.hpp"

using namespace tim;

static bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

static void test_scaling() {
    CHECK(perf::scaled_count(1000, 500, 500) == 1000.0);
    CHECK(perf::scaled_count(1000, 1000, 250) == 4000.0);  // counted a quarter of the time
    CHECK(perf::scaled_count(7, 100, 0) == 0.0);           // never scheduled
    CHECK(perf::scaled_count(5, 10, 20) == 5.0);           // running > enabled never scales down

    // {nr, enabled, running, values...}: members of two events, one weighted
    const std::uint64_t buf[]      = {3, 1000, 500, 10, 20, 30};
    const int           event_of[] = {0, 1, 1};
    const double        weight[]   = {1.0, 1.0, 4.0};
    double              out[2]     = {0.0, 0.0};
    CHECK(perf::add_group_read(buf, 6, event_of, weight, out));
    CHECK(out[0] == 20.0 && out[1] == 2.0 * (20.0 + 4.0 * 30.0));
    const std::uint64_t bad[] = {5, 1, 1, 0};
    CHECK(!perf::add_group_read(bad, 4, event_of, weight, out));
    CHECK(!perf::add_group_read(bad, 2, event_of, weight, out));
}

// A fake PMU with 4 counters: a group takes at most 4 hardware members.
static void test_grouping() {
    std::vector<int> members;  // per fd: members of its group so far (leaders only)
    int              refused = 0;
    auto             open    = [&](const perf::Term& t, int group_fd) {
        if (t.type == PERF_TYPE_SOFTWARE || group_fd < 0) {
            members.push_back(1);
            return static_cast<int>(members.size()) - 1;
        }
        if (members[static_cast<std::size_t>(group_fd)] == 4) {
            ++refused;
            return -EINVAL;
        }
        ++members[static_cast<std::size_t>(group_fd)];
        members.push_back(0);
        return static_cast<int>(members.size()) - 1;
    };
    std::vector<const perf::EventDef*> events;
    for (const char* n :
         {"instructions", "page-faults", "cycles", "PAPI_LST_INS", "cache-misses", "task-clock", "branch-misses"})
        events.push_back(perf::find_event(n));
    // hardware terms: instructions, cycles, loads, stores, cache-misses, branch-misses (6)
    auto groups = perf::open_groups(events, false, open);
    CHECK(groups.size() == 4);
    CHECK(groups[0].event_of == std::vector<int>({0, 2, 3, 3}));  // full at 4 members
    CHECK(groups[0].weight == std::vector<double>({1, 1, 1, 1}));
    CHECK(groups[1].event_of == std::vector<int>({1}));     // software events together...
    CHECK(groups[2].event_of == std::vector<int>({4, 6}));  // the rest of the hardware events
    CHECK(groups[3].event_of == std::vector<int>({5}));     // ...but a clock alone
    CHECK(refused == 1);
    for (const auto& g : groups) CHECK(g.fds.size() == g.event_of.size() && g.fds.size() == g.weight.size());

    members.clear();
    groups = perf::open_groups(events, true, open);  // multiplexing: a group per hardware term
    CHECK(groups.size() == 8);
    CHECK(groups[1].event_of == std::vector<int>({1}) && groups[0].event_of == std::vector<int>({0}));

    // a term that cannot be opened is left out; its event reads 0
    auto none = [](const perf::Term& t, int) { return t.type == PERF_TYPE_SOFTWARE ? 3 : -ENOENT; };
    groups    = perf::open_groups(events, false, none);
    CHECK(groups.size() == 2 && groups[0].event_of == std::vector<int>({1}) &&
          groups[1].event_of == std::vector<int>({5}));
}

static void test_reasons() {
    CHECK(contains(perf::open_error_reason(ENOENT, true, false, 2), "no hardware PMU"));
    CHECK(contains(perf::open_error_reason(ENOENT, true, true, 2), "does not count this event"));
    CHECK(contains(perf::open_error_reason(EACCES, true, true, 3), "perf_event_paranoid=3 forbids"));
    CHECK(contains(perf::open_error_reason(EACCES, false, true, 2), "perf_event_paranoid=2"));
    CHECK(contains(perf::open_error_reason(EPERM, false, true, 1), "seccomp"));
    CHECK(contains(perf::open_error_reason(ENOSYS, false, true, 1), "ENOSYS"));
    CHECK(contains(perf::open_error_reason(EMFILE, false, true, 1), "file descriptors"));
}

static void test_names() {
    const auto* cyc = perf::find_event("cycles");
    CHECK(cyc && cyc->name == "cpu-cycles" && cyc->terms.size() == 1 && cyc->terms[0].type == PERF_TYPE_HARDWARE);
    CHECK(perf::find_event("papi_tot_ins") == perf::find_event("PAPI_TOT_INS"));
    CHECK(perf::find_event("CS") == perf::find_event("context-switches"));
    const auto* lst = perf::find_event("PAPI_LST_INS");
    CHECK(lst && lst->terms.size() == 2 && lst->mapping == "L1-dcache-loads + L1-dcache-stores");
    const auto* raw = perf::find_event("r01C7");
    CHECK(raw && raw->name == "r1c7" && raw->terms[0].type == PERF_TYPE_RAW && raw->terms[0].config == 0x1c7);
    CHECK(perf::find_event("r1c7") == raw);
    CHECK(!perf::find_event("bogus") && !perf::find_event("r") && !perf::find_event("rxyz"));
    const auto tc = perf::find_event("task-clock");
    CHECK(tc && tc->unit == Unit::timing);
    CHECK(perf::find_event("context-switches")->kernel_counted && !perf::find_event("page-faults")->kernel_counted);
    const auto* dp = perf::find_event("PAPI_DP_OPS");
    CHECK(dp && (dp->terms.empty() ? !dp->no_mapping.empty() : dp->terms.size() == 4));
    CHECK(contains(perf::valid_event_choices(), "PAPI_TOT_CYC, PAPI_TOT_INS"));
    for (const auto& e : perf::event_catalogue()) {
        const auto s = perf::probe(e);
        CHECK(s.available != !s.reason.empty());
    }
    bool threw = false;
    try {
        perf::configure({"page-faults", "nonsense"}, false);
    } catch (const std::invalid_argument& err) {
        threw = contains(err.what(), "Unknown hardware counter: 'nonsense'. Valid choices are: ");
    }
    CHECK(threw);
}

static void touch_pages(std::size_t n) {
    const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    auto* p = static_cast<char*>(mmap(nullptr, n * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    madvise(p, n * page, MADV_NOHUGEPAGE);
    for (std::size_t i = 0; i < n; ++i) static_cast<volatile char*>(p)[i * page] = 1;
    munmap(p, n * page);
}

static void test_software_counts() {
    if (!perf::probe(*perf::find_event("page-faults")).available) {
        std::printf("test_perf_event: perf_event_open unusable here, software counts skipped\n");
        return;
    }
    perf::configure({"page-faults", "PAPI_L2_TCM", "minor-faults"}, false);
    const auto& info = component_table()[static_cast<std::size_t>(find_component("papi_vector"))];
    CHECK(info.available && info.n_raw == 2 && info.sub_labels[1] == "minor-faults");
    CHECK(contains(info.description, "not counted: PAPI_L2_TCM: "));
    double a[max_values], b[max_values];
    info.read(a);
    touch_pages(1000);
    info.read(b);
    CHECK(b[0] - a[0] >= 1000 && b[1] - a[1] >= 1000);

    // another thread has its own counters: its faults are not ours, ours not its
    double ta = 0, tb = 0;
    info.read(a);
    std::thread t([&] {
        double x[max_values], y[max_values];
        info.read(x);
        touch_pages(2000);
        info.read(y);
        ta = x[0];
        tb = y[0];
    });
    t.join();
    info.read(b);
    CHECK(tb - ta >= 2000 && b[0] - a[0] < 1000);
    const auto sc = perf::scaling();
    CHECK(sc.size() == 2 && sc[0].name == "page-faults" && sc[0].time_enabled > 0 &&
          sc[0].time_running == sc[0].time_enabled);
    CHECK(contains(perf::json_block(), "\"perf_event\":{\"scaling\":[{\"event\":\"page-faults\""));

    // a forked child reopens its own counters
    int fds[2];
    CHECK(pipe(fds) == 0);
    const pid_t pid = fork();
    if (pid == 0) {
        double x[max_values], y[max_values];
        info.read(x);
        touch_pages(500);
        info.read(y);
        const double d = y[0] - x[0];
        (void)!write(fds[1], &d, sizeof(d));
        _exit(0);
    }
    double child = -1;
    (void)!read(fds[0], &child, sizeof(child));
    CHECK(child >= 500 && child < 5000);

    // ... continuing from the parent's reading at the fork (a measurement started in the
    // parent and stopped in the child is never negative); new events start again at 0
    info.read(a);
    touch_pages(3000);
    CHECK(pipe(fds) == 0);
    const pid_t pid2 = fork();
    if (pid2 == 0) {
        double x[max_values], y[max_values], z[max_values];
        touch_pages(500);  // before the first reading: counted too (reopened at the fork)
        info.read(x);
        perf::configure({"page-faults"}, false);
        info.read(y);
        touch_pages(200);
        info.read(z);
        const double d[3] = {x[0] - a[0], y[0], z[0] - y[0]};
        (void)!write(fds[1], d, sizeof(d));
        _exit(0);
    }
    double d[3] = {-1, -1, -1};
    (void)!read(fds[0], d, sizeof(d));
    waitpid(pid2, nullptr, 0);
    CHECK(d[0] >= 3500 && d[0] < 10000);
    CHECK(d[1] >= 0 && d[1] < 1000);  // reopened at 0 for the new events
    CHECK(d[2] >= 200);
}

// In a fresh child whose perf_event_open fails with EPERM (as under a container's seccomp
// profile): nothing is counted and papi_vector says why. Runs before anything probes.
static void test_denied() {
    const pid_t pid = fork();
    if (pid == 0) {
        sock_filter filter[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_perf_event_open, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        sock_fprog prog{static_cast<unsigned short>(sizeof(filter) / sizeof(filter[0])), filter};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
            _exit(77);
        const auto& info = component_table()[static_cast<std::size_t>(find_component("papi_vector"))];
        CHECK(!info.available && info.read == nullptr);
        CHECK(contains(info.description, "not available: task-clock: perf_event_open was denied (EPERM)"));
        CHECK(!perf::probe(*perf::find_event("page-faults")).available);
        _exit(failures ? 1 : 0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        std::printf("test_perf_event: seccomp unavailable, denied case skipped\n");
        return;
    }
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main() {
    test_denied();
    test_scaling();
    test_grouping();
    test_reasons();
    test_names();
    test_software_counts();
    if (failures) {
        std::printf("test_perf_event: %d failure(s)\n", failures);
        return 1;
    }
    std::printf("test_perf_event: all checks passed\n");
    return 0;
}
