// Native tests for source/timemory/output/writers.cpp. Writes its JSON outputs
// into the directory given as argv[1]; build_writers.sh checks them with Python
// (parsing, key order, the hatchet reference example).
#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "timemory/config.hpp"
#include "timemory/output/writers.hpp"

using namespace tim;

namespace {

int failures = 0;
#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            ++failures;                                                                   \
        }                                                                                 \
    } while (0)
#define CHECK_EQ(a, b)                                                                                 \
    do {                                                                                               \
        const std::string a_ = (a), b_ = (b);                                                          \
        if (a_ != b_) {                                                                                \
            std::fprintf(stderr, "%s:%d: '%s' != '%s'\n", __FILE__, __LINE__, a_.c_str(), b_.c_str()); \
            ++failures;                                                                                \
        }                                                                                              \
    } while (0)

ComponentInfo wall_info() {
    ComponentInfo i;
    i.index       = 78;
    i.enum_name   = "WALL_CLOCK";
    i.key         = "wall_clock";
    i.class_name  = "WallClock";
    i.id          = "wall_clock";
    i.aliases     = {"virtual_clock", "real_clock"};
    i.label       = "wall";
    i.description = "Real-clock timer (i.e. wall-clock timer)";
    i.units       = {Unit::timing};
    i.available   = true;
    i.flamegraph  = true;
    return i;
}

ComponentInfo peak_info() {
    ComponentInfo i;
    i.index       = 19;
    i.enum_name   = "CURRENT_PEAK_RSS";
    i.key         = "current_peak_rss";
    i.class_name  = "CurrentPeakRss";
    i.id          = "current_peak_rss";
    i.label       = "current_peak_rss";
    i.sub_labels  = {"start peak rss", " stop peak rss"};
    i.description = "Absolute value of high-water mark of memory allocation in RAM";
    i.units       = {Unit::memory, Unit::memory};
    i.n_raw = i.n_disp = 2;
    i.combine          = Combine::abs_pair;
    return i;
}

ComponentInfo util_info() {
    ComponentInfo i;
    i.index       = 8;
    i.enum_name   = "CPU_UTIL";
    i.key         = "cpu_util";
    i.id          = "cpu_util";
    i.aliases     = {"cpu_utilization"};
    i.label       = "cpu_util";
    i.description = "Percentage of CPU-clock time divided by wall-clock time";
    i.units       = {Unit::percent};
    i.n_raw       = 2;
    i.display     = [](const double* raw, double* out) { out[0] = raw[1] > 0 ? 100.0 * raw[0] / raw[1] : 0.0; };
    i.precision   = 1;
    i.width       = 6;
    return i;
}

ComponentInfo net_info() {
    ComponentInfo i;
    i.index       = 37;
    i.enum_name   = "NETWORK_STATS";
    i.key         = "network_stats";
    i.id          = "network_stats";
    i.aliases     = {"network"};
    i.label       = "network_stats";
    i.sub_labels  = {"rx_bytes", "rx_packets", "tx_bytes"};
    i.description = "Reports network bytes, packets, errors, dropped";
    i.units       = {Unit::memory, Unit::count, Unit::memory};
    i.n_raw = i.n_disp = 3;
    return i;
}

// An entry whose intervals were `samples` (raw == display-before-division here).
Entry make_entry(const ComponentInfo& info, std::vector<std::vector<double>> samples) {
    Entry e;
    for (const auto& s : samples) {
        for (int k = 0; k < info.n_raw; ++k) {
            e.value[k] = s[static_cast<std::size_t>(k)];
            e.accum[k] += s[static_cast<std::size_t>(k)];
        }
        double d[max_values] = {};
        to_display(info, s.data(), d);
        for (int k = 0; k < info.n_disp; ++k) {
            e.stats.min[k] = e.stats.count ? std::min(e.stats.min[k], d[k]) : d[k];
            e.stats.max[k] = e.stats.count ? std::max(e.stats.max[k], d[k]) : d[k];
            e.stats.sum[k] += d[k];
            e.stats.sqr[k] += d[k] * d[k];
        }
        ++e.stats.count;
        ++e.laps;
    }
    return e;
}

Entry minus(const ComponentInfo& info, Entry e, const Entry& o) {
    for (int k = 0; k < info.n_raw; ++k) {
        e.value[k] -= o.value[k];
        e.accum[k] -= o.accum[k];
    }
    // As in the reference file: statistics without samples are left alone.
    for (int k = 0; k < info.n_disp && e.stats.count > 0; ++k) {
        e.stats.sum[k] -= o.stats.sum[k];
        e.stats.sqr[k] -= o.stats.sqr[k];
    }
    return e;
}

constexpr std::uint64_t h_main = 9631199822919835227ULL, h_foo = 11474628671133349553ULL,
                        h_bar = 2659084420343633164ULL;

// main (1 s) -> foo (0.1 s + 0.2 s), bar@script.py:20 (0.2 s): the reference example.
std::vector<FlatEntry> example_flat(const ComponentInfo& w) {
    auto make = [&](std::uint64_t hash, std::string label, int depth, std::vector<std::uint64_t> hier, Entry e) {
        FlatEntry f;
        f.hash      = hash;
        f.label     = label;
        f.prefix    = ">>> " +
                      std::string(depth > 0 ? std::string(static_cast<std::size_t>(2 * (depth - 1)), ' ') + "|_" : "") +
                      label;
        f.depth     = depth;
        f.pid       = 4242;
        f.hierarchy = hier;
        for (auto h : hier) f.rolling_hash += h;
        f.entry = e;
        return f;
    };
    return {make(h_main, "main", 0, {h_main}, make_entry(w, {{1e9}})),
            make(h_foo, "foo", 1, {h_main, h_foo}, make_entry(w, {{1e8}, {2e8}})),
            make(h_bar, "bar@script.py:20", 1, {h_main, h_bar}, make_entry(w, {{2e8}}))};
}

TreeNode example_tree(const ComponentInfo& w) {
    auto node = [&](std::uint64_t hash, std::string label, int depth, Entry e) {
        TreeNode n;
        n.hash  = hash;
        n.label = std::move(label);
        n.tids  = {0};
        n.pids  = {4242};
        n.depth = depth;
        // timemory's storage adds each lap's component into the node, value
        // included, so the reference file shows value == accum.
        for (int k = 0; k < w.n_raw; ++k) e.value[k] = e.accum[k];
        n.inclusive = n.exclusive = e;
        return n;
    };
    TreeNode root = node(0, "unknown-hash=0", 0, Entry{});
    TreeNode main = node(h_main, "main", 1, make_entry(w, {{1e9}}));
    main.children.push_back(node(h_foo, "foo", 2, make_entry(w, {{1e8}, {2e8}})));
    main.children.push_back(node(h_bar, "bar@script.py:20", 2, make_entry(w, {{2e8}})));
    for (const auto& c : main.children) main.exclusive = minus(w, main.exclusive, c.inclusive);
    root.exclusive = minus(w, root.exclusive, main.inclusive);
    root.children.push_back(main);
    return root;
}

std::string wrap(const std::string& key, const std::string& body) {
    std::string out = "{\"timemory\":{";
    json_escape(out, key);
    return out + ":" + body + "}}";
}

void write_file(const std::string& path, const std::string& content) {
    std::string err;
    if (!atomic_write(path, content, &err)) {
        std::fprintf(stderr, "%s\n", err.c_str());
        ++failures;
    }
}

std::string read_file(const std::string& path) {
    std::ifstream     in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string num(double v, bool integral = false) {
    std::string s;
    json_number(s, v, integral);
    return s;
}

std::string esc(std::string_view v) {
    std::string s;
    json_escape(s, v);
    return s;
}

std::vector<std::string> lines_of(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream       in(s);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

bool same_widths(const std::vector<std::string>& lines) {
    for (const auto& l : lines)
        if (l.size() != lines.front().size()) return false;
    return !lines.empty();
}

void test_numbers(const std::string& dir) {
    CHECK_EQ(num(0.1 + 0.2), "0.30000000000000004");
    CHECK_EQ(num(1.0), "1.0");
    CHECK_EQ(num(-0.0), "-0.0");
    CHECK_EQ(num(0.0), "0.0");
    CHECK_EQ(num(123.456), "123.456");
    CHECK_EQ(num(1e16), "1e+16");
    CHECK_EQ(num(1e15), "1000000000000000.0");
    CHECK_EQ(num(0.0001), "0.0001");
    CHECK_EQ(num(1e-5), "1e-05");
    CHECK_EQ(num(-2.5e-300), "-2.5e-300");
    CHECK_EQ(num(NAN), "null");
    CHECK_EQ(num(-INFINITY, true), "null");
    CHECK_EQ(num(1e9, true), "1000000000");
    CHECK_EQ(num(-1e9, true), "-1000000000");
    CHECK_EQ(num(1e20, true), "100000000000000000000");
    // whole numbers past 1e64 used to overflow a 64-byte buffer, leaving it unwritten
    CHECK_EQ(num(1e64, true), "10000000000000000213204190094543968723012578712679649467743338496");
    CHECK(num(-1e300, true).size() == 302);
    CHECK(num(1.7976931348623157e308, true).size() == 309);
    CHECK_EQ(num(1.7976931348623157e308), "1.7976931348623157e+308");
    CHECK_EQ(num(5e-324), "5e-324");
    CHECK_EQ(num(9007199254740993.0, true), "9007199254740992");
    CHECK_EQ(num(INFINITY), "null");
    {
        // Every whole number from 1e15 to the largest double, as the integral writer writes it.
        std::string whole;
        for (double v = 1e15; std::isfinite(v); v *= 7.3) {
            char hex[64];
            std::snprintf(hex, sizeof hex, "%a", v);
            whole += std::string(hex) + " " + num(std::floor(v), true) + "\n";
        }
        write_file(dir + "/whole_numbers.txt", whole);
    }

    // Random doubles for build_writers.sh to compare against Python's repr.
    std::mt19937_64 rng(42);
    std::string     out;
    for (int i = 0; i < 20000; ++i) {
        std::uint64_t bits = rng();
        double        v;
        std::memcpy(&v, &bits, sizeof v);
        if (i % 2) v = std::ldexp(static_cast<double>(rng() % 1000000) / 7.0, static_cast<int>(rng() % 80) - 40);
        if (!std::isfinite(v)) continue;
        char hex[64];
        std::snprintf(hex, sizeof hex, "%a", v);
        out += std::string(hex) + " " + num(v) + "\n";
    }
    write_file(dir + "/numbers.txt", out);
}

void test_escape() {
    CHECK_EQ(esc("plain"), "\"plain\"");
    CHECK_EQ(esc("a\"b\\c"), "\"a\\\"b\\\\c\"");
    CHECK_EQ(esc("\n\t\r\b\f\x01\x1f"), "\"\\n\\t\\r\\b\\f\\u0001\\u001f\"");
    CHECK_EQ(esc(std::string_view("nul\0x", 5)), "\"nul\\u0000x\"");
    CHECK_EQ(esc("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    CHECK_EQ(esc("bad\xff\xc3"), "\"bad\\ufffd\\ufffd\"");
    CHECK_EQ(esc("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // encoded surrogate
}

void test_json(const std::string& dir) {
    const auto w = wall_info();
    OutputMeta meta;

    auto flat = example_flat(w);
    flat[1].prefix += " \"quoted\\ \x01";
    write_file(dir + "/flat_wall.json", wrap(w.key, flat_json(w, {example_flat(w), flat}, meta)));

    write_file(dir + "/tree_wall.json", wrap(w.key, tree_json(w, {{example_tree(w)}}, meta)));
    write_file(dir + "/tree_wall_mpi.json",
               json_pretty(wrap(w.key, tree_json(w, {{example_tree(w)}, {example_tree(w)}}, meta, "mpi"))));
    write_file(dir + "/flame_wall.json", flamegraph_json(w, {example_tree(w)}));

    // Multi-valued shapes: pairs, n_raw != n_disp, arrays.
    const auto p = peak_info(), u = util_info(), n = net_info();
    FlatEntry  fe;
    fe.hash   = 1;
    fe.prefix = ">>> main";
    fe.entry  = make_entry(p, {{1.5e8, 2.5e8}});
    write_file(dir + "/flat_peak.json", wrap(p.key, flat_json(p, {{fe}}, meta)));
    fe.entry = make_entry(u, {{3e8, 4e8}, {1e8, 4e8}});
    write_file(dir + "/flat_util.json", wrap(u.key, flat_json(u, {{fe}}, meta)));
    fe.entry = make_entry(n, {{1e6, 10, 2e6}, {3e6, 30, 4e6}});
    write_file(dir + "/flat_net.json", wrap(n.key, flat_json(n, {{fe}}, meta)));

    TreeNode root, child;
    root.label = "unknown-hash=0";
    root.tids  = {0, 1};
    child.tids = {0};  // llnl-hatchet 2026.2 fails on a nonzero tid in a single-process file
    root.pids = child.pids = {4242};
    child.hash             = 7;
    child.label            = "main";
    child.depth            = 1;
    child.inclusive = child.exclusive = make_entry(p, {{1.5e8, 2.5e8}});
    root.children.push_back(child);
    write_file(dir + "/tree_peak.json", wrap(p.key, tree_json(p, {{root}}, meta)));
}

// A chain of nodes far deeper than recursion allows: every writer walks it with its own stack.
void test_deep() {
    const auto    w     = wall_info();
    constexpr int depth = 200000;
    TreeNode      root;
    root.label = "unknown-hash=0";
    root.pids = root.tids = {0};
    TreeNode* at          = &root;
    for (int d = 1; d <= depth; ++d) {
        TreeNode& c = at->children.emplace_back();
        c.hash      = 7;
        c.label     = "x";
        c.depth     = d;
        c.pids = c.tids = {0};
        c.inclusive = c.exclusive = make_entry(w, {{1e9}});
        at                        = &c;
    }
    const auto tree = tree_json(w, {{&root}}, OutputMeta{});
    CHECK(tree.size() < std::size_t{depth} * 1200);  // linear in the depth
    const auto flame = flamegraph_json(w, {&root});
    CHECK(flame.size() < std::size_t{depth} * 100);
    TreeNode copy = root;  // copies and destruction are iterative too
    CHECK_EQ(tree_json(w, {{&copy}}, OutputMeta{}), tree);

    // Streaming in chunks gives the same text as one string.
    std::string streamed, chunks;
    Out         out;
    std::size_t pieces = 0;
    out.sink           = [&](std::string_view s) {
        streamed += s;
        ++pieces;
    };
    tree_json(out, w, {{&root}}, OutputMeta{});
    out.flush();
    CHECK_EQ(streamed, tree);
    CHECK(pieces > 10);

    // stream(): the buffer is sized once for a chunk and the node that crosses it; the writer
    // never grows it (the files written at once each hold one)
    std::string sized_text;
    Out         sized;
    sized.stream([&](std::string_view s) { sized_text += s; });
    const auto capacity = sized.buf.capacity();
    CHECK(capacity >= Out::chunk);
    tree_json(sized, w, {{&root}}, OutputMeta{});
    sized.flush();
    CHECK_EQ(sized_text, tree);
    CHECK(tree.size() > 4 * Out::chunk);
    CHECK(sized.buf.capacity() == capacity);

    // The same documents from a walk (how the recorded graph is written without a tree view).
    auto walk_of = [](const TreeNode& top) -> TreeWalk {
        return [&top](const std::function<void(const TreeNode&)>& enter, const std::function<void()>& leave) {
            std::vector<std::pair<const TreeNode*, std::size_t>> stack{{&top, 0}};
            enter(top);
            while (!stack.empty()) {
                auto& [n, next] = stack.back();
                if (next == n->children.size()) {
                    leave();
                    stack.pop_back();
                    continue;
                }
                const TreeNode& c = n->children[next++];
                enter(c);
                stack.emplace_back(&c, 0);
            }
        };
    };
    Out walked;
    tree_json_walk(walked, w, walk_of(root), OutputMeta{});
    CHECK_EQ(walked.buf, tree);
    Out flamed;
    flamegraph_json_walk(flamed, w, walk_of(root));
    CHECK_EQ(flamed.buf, flame);
    const auto example = example_tree(w);
    Out        ex_tree, ex_flame;
    tree_json_walk(ex_tree, w, walk_of(example), OutputMeta{});
    CHECK_EQ(ex_tree.buf, tree_json(w, {{&example}}, OutputMeta{}));
    flamegraph_json_walk(ex_flame, w, walk_of(example));
    CHECK_EQ(ex_flame.buf, flamegraph_json(w, {&example}));
    // streamed from the walk, the buffer is never grown either: the chain's enters flush too
    for (int flame_walk = 0; flame_walk < 2; ++flame_walk) {
        std::string text;
        Out         to_file;
        to_file.stream([&](std::string_view s) { text += s; });
        const auto before = to_file.buf.capacity();
        if (flame_walk) flamegraph_json_walk(to_file, w, walk_of(root));
        else tree_json_walk(to_file, w, walk_of(root), OutputMeta{});
        to_file.flush();
        CHECK_EQ(text, flame_walk ? flame : tree);
        CHECK(to_file.buf.capacity() == before);
    }

    // The flat rows of the chain (labels as the snapshot decorates them past
    // max_indent_levels, which tests/test_deep_graphs.py checks): the table's
    // children sums are found in one pass, not one scan per row.
    std::vector<FlatEntry> flat(static_cast<std::size_t>(depth));
    for (int d = 0; d < depth; ++d) {
        auto& e  = flat[static_cast<std::size_t>(d)];
        e.depth  = d;
        e.prefix = ">>> " + std::string(62, ' ') + "|_[depth " + std::to_string(d) + "] x";
        e.entry  = make_entry(w, {{1e9 * (depth - d)}});
    }
    const auto table = text_table(w, flat);
    CHECK(table.size() < std::size_t{depth} * 250);
    CHECK(table.find("|_[depth 65535] x") != std::string::npos);  // rows past max_depth are left out
    CHECK(table.find("|_[depth 65536] x") == std::string::npos);
}

void test_table() {
    const auto w     = wall_info();
    auto       flat  = example_flat(w);
    auto       table = text_table(w, flat);
    std::printf("%s\n", table.c_str());
    auto lines = lines_of(table);
    CHECK(lines.size() == 9);
    CHECK(same_widths(lines));
    CHECK(lines[1].find("REAL-CLOCK TIMER (I.E. WALL-CLOCK TIMER)") != std::string::npos);
    CHECK_EQ(lines[5].substr(0, 25), "| >>> main               ");
    CHECK(lines[5].find("|    1.000 |    1.000 |    1.000 |    1.000 |    0.000 |   50.0 |") != std::string::npos);
    CHECK(lines[6].find("|    0.300 |    0.150 |    0.100 |    0.200 |    0.071 |  100.0 |") != std::string::npos);
    CHECK(lines[6].find("|     2 |     1 | wall   | sec   |") != std::string::npos);

    // Overrides, a row that never ran, and max_depth.
    config().timing_precision = 5;
    config().timing_unit      = 1e3;
    config().timing_unit_repr = "usec";
    flat.push_back(flat[2]);
    flat.back().depth  = 2;
    flat.back().prefix = ">>>   |_never";
    flat.back().entry  = Entry{};
    table              = text_table(w, flat);
    std::printf("%s\n", table.c_str());
    lines = lines_of(table);
    CHECK(same_widths(lines));
    CHECK(lines[5].find("| 1000000.00000 |") != std::string::npos);
    CHECK(lines[5].find("| usec  |") != std::string::npos);
    CHECK(lines[8].find(">>>   |_never") != std::string::npos && lines[8].find("|      - |") != std::string::npos);
    CHECK(lines[7].find("  100.0 |") != std::string::npos);  // a child without time leaves all to self
    config().max_depth = 1;
    CHECK(lines_of(text_table(w, flat)).size() == 9);
    config() = Config{};

    // Scientific notation, multi-valued groups, empty input.
    config().scientific = true;
    CHECK(text_table(w, example_flat(w)).find("1.000e+00") != std::string::npos);
    config()     = Config{};
    const auto p = peak_info();
    FlatEntry  fe;
    fe.prefix = ">>> main";
    fe.entry  = make_entry(p, {{1.5e8, 2.5e8}});
    table     = text_table(p, {fe});
    std::printf("%s\n", table.c_str());
    lines = lines_of(table);
    CHECK(same_widths(lines));
    CHECK(lines[3].find("start peak rss") == std::string::npos);
    CHECK(lines[5].find("| start peak rss | MB    |  150.000 |") != std::string::npos);
    CHECK(lines[5].find("|  stop peak rss | MB    |  250.000 |") != std::string::npos);
    CHECK(same_widths(lines_of(text_table(w, std::vector<FlatEntry>{}))));

    // A row limit keeps the rows with the most self time (main 0.5 s, foo 0.3 s of their own;
    // bar 0.2 s is left out) in the table's order, then says how many more rows there are.
    CHECK(additive(w, 0) && !additive(peak_info(), 0) && !additive(util_info(), 0));
    table = text_table(w, example_flat(w), TextLimit{2, " in wall.json"});
    std::printf("%s\n", table.c_str());
    lines = lines_of(table);
    CHECK(lines.size() == 9);
    CHECK(lines[5].find(">>> main") != std::string::npos && lines[6].find(">>> |_foo") != std::string::npos);
    CHECK(table.find("bar@script.py:20") == std::string::npos);
    CHECK_EQ(lines[8], "... and 1 more row in wall.json");
    CHECK(same_widths(std::vector<std::string>(lines.begin(), lines.begin() + 8)));
    CHECK_EQ(text_table(w, example_flat(w), TextLimit{3, " in wall.json"}), text_table(w, example_flat(w)));
    // a deeper row comes with the rows above it, or not at all when they do not fit
    auto deep      = example_flat(w);
    deep[2].depth  = 2;  // bar under foo
    deep[2].prefix = ">>>   |_bar";
    deep[2].entry  = make_entry(w, {{9e8}});
    deep[1].entry  = make_entry(w, {{9.5e8}});
    table          = text_table(w, deep, TextLimit{1, ""});
    CHECK(lines_of(table).back() == "... and 2 more rows");
    CHECK(table.find(">>> main") != std::string::npos);  // bar (0.9 s) needs 3 rows, main fits

    // Labels past max_width are cut in the middle, at a character boundary.
    // (the cut at byte 8 falls inside the two bytes of the e-acute: it moves back to byte 7)
    config().max_width = 15;
    deep[0].prefix     = ">>> caf\xc3\xa9_with_a_long_name";
    table              = text_table(w, deep);
    CHECK(table.find("| >>> caf..._name |") != std::string::npos);
    config() = Config{};

    // Each row's unit from its sum (main 1 s, foo 0.3 s, bar 0.2 s; peak_rss 150 MB, 2.5 KB).
    table = text_table(w, example_flat(w), TextLimit{0, "", true, false});
    lines = lines_of(table);
    CHECK(same_widths(lines));
    CHECK(lines[5].find("| sec   |    1.000 |") != std::string::npos);
    CHECK(lines[6].find("| msec  |  300.000 |  150.000 |  100.000 |  200.000 |   70.711 |  100.0 |") !=
          std::string::npos);
    FlatEntry small;
    small.prefix = ">>> small";
    small.entry  = make_entry(peak_info(), {{1.5e8, 2.5e3}});
    table        = text_table(peak_info(), {small}, TextLimit{0, "", false, true});
    CHECK(table.find("| start peak rss | MB    |  150.000 |") != std::string::npos);
    CHECK(table.find("|  stop peak rss | KB    |    2.500 |") != std::string::npos);

    // A rate or a reading has no self share.
    fe.entry = make_entry(util_info(), {{3e8, 4e8}, {1e8, 4e8}});
    table    = text_table(util_info(), {fe});
    lines    = lines_of(table);
    CHECK(lines[5].size() > 10 && lines[5].substr(lines[5].size() - 10) == "|      - |");
}

void test_atomic(const std::string& dir) {
    namespace fs     = std::filesystem;
    const auto  sub  = dir + "/atomic/a/b";
    const auto  path = sub + "/out.json";
    std::string err;
    CHECK(atomic_write(path, "first", &err));
    CHECK(atomic_write(path, "{\"second\": 2}\n", &err));
    CHECK_EQ(read_file(path), "{\"second\": 2}\n");
    auto only_output = [&] {  // no temporary left behind
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(sub)) names.push_back(e.path().filename().string());
        return names == std::vector<std::string>{"out.json"};
    };
    CHECK(only_output());

    err.clear();
    CHECK(!atomic_write("/proc/forbidden/x", "data", &err));
    CHECK(err.find("/proc/forbidden") != std::string::npos);
    std::printf("expected error: %s\n", err.c_str());
    CHECK(!atomic_write(path + "/below-a-file", "data", nullptr));  // no crash without an error sink
    err.clear();
    CHECK(!atomic_write(sub, "data", &err));  // a directory is in the way
    std::printf("expected error: %s\n", err.c_str());
    CHECK(only_output());
}

}  // namespace

// Work that ran in parallel elsewhere (a task beneath the call path that submitted it) is
// marked in the text table and the JSON, and is not part of its parent's value.
void test_remote() {
    const auto w    = wall_info();
    auto       flat = example_flat(w);
    // without remote rows: no marker, no legend, no key in the JSON
    auto table = text_table(w, flat);
    CHECK(table.find(remote_marker) == std::string::npos && table.find(remote_legend) == std::string::npos);
    CHECK(flat_json(w, {flat}, OutputMeta{}).find("\"remote\"") == std::string::npos);

    flat[1].remote = true;  // foo (0.3 s) ran elsewhere: main's self is 1.0 - 0.2 (bar) s
    table          = text_table(w, flat);
    std::printf("%s\n", table.c_str());
    auto lines = lines_of(table);
    CHECK(lines.size() == 10);  // the legend line after the closing rule
    CHECK(same_widths(std::vector<std::string>(lines.begin(), lines.end() - 1)));
    CHECK(lines[5].find("|   80.0 |") != std::string::npos);
    CHECK(lines[6].find(">>> |_[parallel] foo ") != std::string::npos);
    CHECK(lines[7].find(">>> |_bar@script.py:20 ") != std::string::npos);
    CHECK(lines.back() + "\n" == remote_legend);
    // a marked row still shortens to the label width
    config().max_width = 12;
    CHECK(text_table(w, flat).find("[parallel] foo") == std::string::npos);
    config() = Config{};

    const auto json = flat_json(w, {flat}, OutputMeta{});
    CHECK(json.find("\"rolling_hash\":" + std::to_string(flat[1].rolling_hash) + ",\"remote\":true}") !=
          std::string::npos);
    auto tree                           = example_tree(w);
    tree.children[0].children[0].remote = true;
    const auto tj                       = tree_json(w, {{tree}}, OutputMeta{});
    CHECK(tj.find("\"is_dummy\":false,\"remote\":true,\"inclusive\"") != std::string::npos);
    std::size_t n = 0;
    for (auto at = tj.find("\"remote\""); at != std::string::npos; at = tj.find("\"remote\"", at + 1)) ++n;
    CHECK(n == 1);
}

// The rules of Python-defined components: record and merge keep the sum, largest, smallest or latest; only `sum` has a
// self part.
void test_user_rules() {
    const double values[] = {3.0, 7.0, 5.0};
    const struct {
        Combine rule;
        double  accum;
    } cases[] = {{Combine::sum, 15.0}, {Combine::maximum, 7.0}, {Combine::minimum, 3.0}, {Combine::latest, 5.0}};
    for (const auto& c : cases) {
        ComponentInfo info;
        info.combine = c.rule;
        info.units   = {Unit::count};
        Entry whole, first, second;
        for (double v : values) {
            const double raw[max_values] = {v};  // the stop reading is the interval's value
            whole.record(info, raw);
            (v == 5.0 ? second : first).record(info, raw);
        }
        CHECK(whole.accum[0] == c.accum && whole.laps == 3 && whole.stats.count == 3);
        CHECK(whole.stats.min[0] == 3.0 && whole.stats.max[0] == 7.0 && whole.stats.sum[0] == 15.0);
        first.merge(info, second);  // two threads' or processes' values of one node
        CHECK(first.accum[0] == c.accum && first.laps == 3);
        Entry empty;
        empty.merge(info, whole);  // into a node with no value of its own
        CHECK(empty.accum[0] == c.accum);
        Entry self = whole;
        self.subtract(info, second);
        CHECK(self.accum[0] == (c.rule == Combine::sum ? 10.0 : c.accum));
    }
}

// functions.json: every label once, in order of first appearance, with its hashes in the
// order they came (a label several functions share lists each), as json.dumps(indent=2).
void test_functions() {
    auto text = [](const std::vector<std::pair<std::uint64_t, std::string>>& ids) {
        Out o;
        functions_json(o, ids);
        return o.buf;
    };
    CHECK_EQ(text({}), "{\n  \"timemory\": {\n    \"functions\": {}\n  }\n}");
    CHECK_EQ(text({{1, "a"}, {2, "b"}, {3, "a"}, {4, "c"}, {5, "a"}, {6, "b"}}),
             "{\n  \"timemory\": {\n    \"functions\": {\n"
             "      \"a\": [\n        1,\n        3,\n        5\n      ],\n"
             "      \"b\": [\n        2,\n        6\n      ],\n"
             "      \"c\": [\n        4\n      ]\n    }\n  }\n}");
    // many labels (the table grows past its first size), each twice, far apart
    std::vector<std::pair<std::uint64_t, std::string>> ids;
    const int                                          n = 5000;
    for (int pass = 0; pass < 2; ++pass)
        for (int i = 0; i < n; ++i) ids.emplace_back(static_cast<std::uint64_t>(pass * n + i), "f" + std::to_string(i));
    const auto  all = text(ids);
    std::size_t at  = 0;
    bool        ok  = true;
    for (int i = 0; i < n && ok; ++i) {
        const auto entry = "\"f" + std::to_string(i) + "\": [\n        " + std::to_string(i) + ",\n        " +
                           std::to_string(n + i) + "\n      ]";
        const auto found = all.find(entry, at);
        ok               = found != std::string::npos;
        at               = ok ? found + entry.size() : at;
    }
    CHECK(ok);
}

int main(int argc, char** argv) {
    const std::string dir = argc > 1 ? argv[1] : "writers-test-output";
    std::filesystem::create_directories(dir);
    test_numbers(dir);
    test_escape();
    test_json(dir);
    test_table();
    test_deep();
    test_remote();
    test_user_rules();
    test_functions();
    test_atomic(dir);
    if (failures) std::fprintf(stderr, "%d check(s) failed\n", failures);
    else std::printf("native writer checks passed\n");
    return failures ? 1 : 0;
}
