// Standalone checks of the component registry and native readers.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>

#include "check.hpp"
#include "timemory/components/component_info.hpp"
#include "timemory/components/rusage.hpp"
#include "timemory/config.hpp"

using namespace tim;

static const ComponentInfo& comp(const char* name) {
    const int i = find_component(name);
    if (i < 0) {
        std::fprintf(stderr, "unknown component %s\n", name);
        std::exit(2);
    }
    return component_table()[static_cast<std::size_t>(i)];
}

static void read(const ComponentInfo& c, double* out) {
    for (int i = 0; i < max_values; ++i) out[i] = -1.0;
    c.read(out);
}

// Display value 0 of the interval around fn.
template <typename Fn>
static double interval(const ComponentInfo& c, Fn&& fn, int idx = 0) {
    double a[max_values], b[max_values], d[max_values], disp[max_values];
    read(c, a);
    fn();
    read(c, b);
    for (int i = 0; i < c.n_raw; ++i) d[i] = b[i] - a[i];
    to_display(c, d, disp);
    return disp[idx];
}

static std::string expected_class(const std::string& key) {
    std::string out;
    bool        up = true;
    for (char ch : key) {
        if (ch == '_' || ch == '-') {
            up = true;
            continue;
        }
        out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(ch))) : ch;
        up = false;
    }
    return out;
}

static void test_table() {
    const auto& t = component_table();
    // the 81 built-in rows, then the free slots rows are made in at run time
    CHECK(builtin_component_count() == 81);
    CHECK(component_count() == 81 + max_user_components);
    CHECK(t.size() == static_cast<std::size_t>(component_count()));
    for (std::size_t i = 81; i < t.size(); ++i) {
        CHECK(t[i].index == static_cast<int>(i));
        CHECK(t[i].class_name.empty() && !t[i].available && !t[i].user);
    }
    for (std::size_t i = 0; i < 81; ++i) {
        const auto& c = t[i];
        CHECK(c.index == static_cast<int>(i));
        CHECK(!c.key.empty());
        CHECK(static_cast<int>(c.units.size()) == c.n_disp);
        CHECK(c.n_raw >= 1 && c.n_raw <= max_values && c.n_disp >= 1 && c.n_disp <= max_values);
        CHECK(c.sub_labels.empty() || static_cast<int>(c.sub_labels.size()) == c.n_disp);
        CHECK(c.display || c.n_raw == c.n_disp || c.combine == Combine::abs_pair);
        CHECK(!c.description.empty());
        for (const auto& a : c.aliases) CHECK(a != c.id);
        if (i == 66 || i == 70) {
            CHECK(c.class_name.empty() && !c.available);
            CHECK(find_component(c.key) != static_cast<int>(i));
            continue;
        }
        CHECK(c.class_name == expected_class(c.key));
        std::string upper = c.key;
        for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        CHECK(c.enum_name == upper);
        // every name of the component resolves to it (first in enum order wins, so compare <=)
        CHECK(find_component(c.key) == c.index);
        CHECK(find_component(c.enum_name) == c.index);
        CHECK(find_component(c.id) == c.index);
        for (const auto& a : c.aliases) CHECK(find_component(a) >= 0 && find_component(a) <= c.index);
        if (!c.available) CHECK(!c.has_value && c.read == nullptr);
    }
    CHECK(t[0].key == "allinea_map" && t[78].key == "wall_clock" && t[80].key == "written_char");
    CHECK(t[56].id == "system_clock" && t[45].id == "papi_array_t" && t[65].id == "user_kokkos_bundle");
    CHECK(t[65].class_name == "UserKokkospBundle" && t[45].class_name == "PapiArray" &&
          t[19].class_name == "CurrentPeakRss");
    CHECK(comp("wall_clock").description == "Real-clock timer (i.e. wall-clock timer)");
    CHECK(comp("wall_clock").label == "wall" && comp("sys_clock").label == "sys");
    CHECK(comp("process_cpu_util").label == "proc_cpu_util");
    CHECK(comp("cpu_util").precision == 1 && comp("cpu_util").width == 6 && !comp("cpu_util").integral_raw);
    CHECK(comp("current_peak_rss").sub_labels[1] == " stop peak rss");
    CHECK(comp("network_stats").n_raw == 8 && comp("network_stats").sub_labels[7] == "tx_dropped");
    CHECK(comp("wall_clock").flamegraph && !comp("peak_rss").flamegraph);
    // papi_vector counts software events at least, unless perf_event_open is denied outright
    const auto& papi = comp("papi_vector");
    CHECK(papi.available ? papi.sub_labels.size() == static_cast<std::size_t>(papi.n_disp)
                         : papi.description.rfind("not available: ", 0) == 0);
    CHECK(find_component("perf_event") == papi.index);
    CHECK(comp("cuda_event").description == "not available" && !comp("cuda_event").available);
    CHECK(comp("trip_count").combine == Combine::trip && comp("timestamp").combine == Combine::last);
}

static void test_find() {
    const int wall = 78, sys = 56;
    CHECK(find_component("wall_clock") == wall);
    CHECK(find_component("WALL_CLOCK") == wall);
    CHECK(find_component("real_clock") == wall);
    CHECK(find_component("  Wall_Clock ") == wall);
    CHECK(find_component("sys_clock") == sys);
    CHECK(find_component("system_clock") == sys);
    CHECK(find_component("papi_array_t") == 45);
    CHECK(find_component("papi_array") == 45);
    CHECK(find_component("user_kokkos_bundle") == 65 && find_component("user_kokkosp_bundle") == 65);
    CHECK(find_component("user_list_bundle") == 64 && find_component("user_tuple_bundle") == 64);
    CHECK(find_component("gperftools-cpu") == 23);
    CHECK(find_component("WallClock") == -1);
    CHECK(find_component("nope") == -1);
    CHECK(find_component("") == -1);
    CHECK(find_component("   ") == -1);
}

static void test_units() {
    CHECK(unit_divisor(Unit::timing) == 1e9 && unit_repr(Unit::timing) == "sec");
    CHECK(unit_repr(Unit::memory_rate) == "MB/sec" && unit_repr(Unit::percent) == "%");
    CHECK(unit_repr(Unit::count).empty() && unit_divisor(Unit::count) == 1.0);
    config().timing_unit      = 1e6;
    config().timing_unit_repr = "msec";
    config().memory_unit      = 1024.0;
    config().memory_unit_repr = "KiB";
    CHECK(unit_divisor(Unit::timing) == 1e6 && unit_repr(Unit::timing) == "msec");
    CHECK(unit_divisor(Unit::memory_rate) == 1024.0 && unit_repr(Unit::memory_rate) == "KiB/sec");
    CHECK(default_unit_divisor(Unit::timing) == 1e9 && default_unit_repr(Unit::timing) == "sec");
    CHECK(default_unit_divisor(Unit::memory) == 1e6 && default_unit_repr(Unit::memory_rate) == "MB/sec");
    config() = Config{};
}

static void test_reads() {
    int n_avail = 0;
    for (const auto& c : component_table()) {
        if (!c.available || !c.read) continue;
        ++n_avail;
        double a[max_values], b[max_values];
        read(c, a);
        read(c, b);
        for (int i = 0; i < c.n_raw; ++i) {
            if (!(a[i] >= 0.0 && b[i] >= 0.0 && std::isfinite(a[i]))) {
                std::fprintf(stderr, "bad read %s[%d]: %g %g\n", c.key.c_str(), i, a[i], b[i]);
                ++failures;
            }
        }
        // the slots past n_raw are untouched
        CHECK(c.n_raw == max_values || a[c.n_raw] == -1.0);
    }
    std::printf("  %d available components with a reader read twice\n", n_avail);

    const double wall = interval(comp("wall_clock"), [] {
        timespec ts{0, 50000000};
        nanosleep(&ts, nullptr);
    });
    std::printf("  wall_clock around 50 ms sleep: %.3f ms\n", wall / 1e6);
    CHECK(wall >= 45e6 && wall <= 200e6);

    volatile double sink = 0;
    auto            busy = [&sink] {
        for (int i = 0; i < 20000000; ++i) sink = sink + i * 0.5;
    };
    const double thread_cpu = interval(comp("thread_cpu_clock"), busy);
    const double util       = interval(comp("thread_cpu_util"), busy);
    const double cpu        = interval(comp("cpu_clock"), busy);
    std::printf("  busy loop: thread_cpu %.3f ms, thread_cpu_util %.1f %%, cpu_clock %.3f ms\n", thread_cpu / 1e6, util,
                cpu / 1e6);
    CHECK(thread_cpu > 0.0);
    CHECK(util > 20.0 && util < 150.0);
    CHECK(cpu > 0.0);

    constexpr std::size_t   big = 200u << 20;
    std::unique_ptr<char[]> buf;
    const double            peak = interval(comp("peak_rss"), [&] {
        buf.reset(new char[big]);
        std::memset(buf.get(), 1, big);
        sink = sink + buf[big / 2];  // keeps the allocation observable
    });
    const double            page = [&] {
        double v[max_values];
        comp("page_rss").read(v);
        return v[0];
    }();
    std::printf("  peak_rss after touching 200 MiB: +%.1f MB (page_rss now %.1f MB)\n", peak / 1e6, page / 1e6);
    CHECK(peak >= 150e6);
    CHECK(page >= 150e6);
    buf.reset();

    const auto& rc = comp("read_char");
    if (rc.available) {
        auto read_file = [] {
            char      b[4096];
            const int fd = open("/proc/self/exe", O_RDONLY);
            for (int i = 0; i < 64; ++i) CHECK(read(fd, b, sizeof(b)) > 0);
            close(fd);
        };
        const double bytes = interval(rc, read_file, 0);
        const double rate  = interval(rc, read_file, 1);
        std::printf("  read_char after reading 256 KiB: +%.0f bytes, %.1f MB/sec\n", bytes, rate / 1e6);
        CHECK(bytes >= 64 * 4096);
        CHECK(rate > 0.0);
    } else {
        std::printf("  read_char unavailable: %s\n", rc.description.c_str());
    }

    double net[max_values];
    comp("network_stats").read(net);
    std::printf("  network rx_bytes %.0f tx_bytes %.0f\n", net[0], net[4]);

    // the getrusage target switch reaches the readers
    readers::set_rusage_who(RUSAGE_CHILDREN);
    CHECK(readers::rusage_who() == RUSAGE_CHILDREN);
    double v[max_values];
    comp("peak_rss").read(v);
    CHECK(v[0] >= 0.0);
    readers::set_rusage_who(RUSAGE_SELF);

    // a forked child reads its own /proc/self, not its parent's
    const auto& vm = comp("virtual_memory");
    double      parent[max_values];
    vm.read(parent);
    std::fflush(stdout);  // or the child's exit flush would repeat the parent's buffered lines
    const pid_t pid = fork();
    if (pid == 0) {
        // grows only the child's address space (mmap, so the compiler cannot elide it)
        CHECK(mmap(nullptr, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED);
        double child[max_values];
        vm.read(child);
        std::printf("  fork: parent vm %.1f MB, child vm %.1f MB\n", parent[0] / 1e6, child[0] / 1e6);
        std::fflush(stdout);
        _exit(child[0] >= parent[0] + 150e6 ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_display() {
    const auto& cu              = comp("cpu_util");
    double      raw[max_values] = {5e8, 1e9}, out[max_values] = {};
    to_display(cu, raw, out);
    CHECK(std::fabs(out[0] - 50.0) < 1e-9);
    raw[1] = 0.0;
    to_display(cu, raw, out);
    CHECK(out[0] == 0.0);

    const auto& rb             = comp("read_bytes");
    double      io[max_values] = {2e6, 5e8};
    to_display(rb, io, out);
    CHECK(out[0] == 2e6 && std::fabs(out[1] - 4e6) < 1e-6);

    const auto& cp               = comp("current_peak_rss");
    double      pair[max_values] = {1.0, 2.0};
    to_display(cp, pair, out);
    CHECK(out[0] == 1.0 && out[1] == 2.0);

    // roofline: raw = (wall ns, declared flops, declared bytes, counted flops, counted
    // load/store instructions); declared work first, else counted (one element per load/store)
    const auto& dp = comp("cpu_roofline_dp_flops");
    const auto& sp = comp("cpu_roofline_sp_flops");
    CHECK(dp.n_raw == 5 && dp.n_disp == 3 && sp.n_raw == 5);
    double counted[max_values] = {100.0, 0.0, 0.0, 50.0, 7.0};
    to_display(dp, counted, out);
    CHECK(out[0] == 50.0 && out[1] == 56.0 && out[2] == 100.0);
    to_display(sp, counted, out);
    CHECK(out[0] == 50.0 && out[1] == 28.0);
    double declared[max_values] = {100.0, 10.0, 16.0, 50.0, 7.0};
    to_display(dp, declared, out);
    CHECK(out[0] == 10.0 && out[1] == 16.0 && out[2] == 100.0);
}

// A Python-defined component's row: the next free slot, found by its key, the same slot for
// the same key again, never a built-in name; its custom unit divides and names its values.
static void test_user_rows() {
    ComponentInfo info;
    info.key = info.id = "queue_depth";
    info.class_name    = "QueueDepth";
    info.label         = "queue_depth";
    info.description   = "depth of a queue";
    info.combine       = Combine::maximum;
    info.units         = {custom_unit(1000.0, "k-items")};
    const int index    = register_user_component(info);
    CHECK(index >= builtin_component_count() && index < component_count());
    const auto& row = component_table()[static_cast<std::size_t>(index)];
    CHECK(row.user && row.available && row.read == nullptr && row.index == index);
    CHECK(find_component("QUEUE_DEPTH") == index && find_component(" queue_depth ") == index);
    CHECK(register_user_component(info) == index);  // a reloaded module keeps its slot
    CHECK(unit_divisor(row.units[0]) == 1000.0 && unit_repr(row.units[0]) == "k-items");
    CHECK(custom_unit(1000.0, "k-items") == row.units[0]);
    CHECK(is_user_combine(row.combine) && !is_user_combine(Combine::last));
    ComponentInfo clash = info;
    clash.key = clash.id = "wall_clock";
    CHECK(register_user_component(clash) == -1);  // a built-in component's name
    CHECK(find_component("wall_clock") == 78);
}

int main() {
    test_table();
    test_user_rows();
    test_find();
    test_units();
    test_display();
    test_reads();
    if (failures) {
        std::printf("test_components: %d failure(s)\n", failures);
        return 1;
    }
    std::printf("test_components: all checks passed\n");
    return 0;
}
