// The speedscope and callgrind writers on trees no recording makes: labels with bytes that are
// not UTF-8 and control characters, values that are NaN, infinite, negative or far larger
// than their parent's, a chain 100,000 levels deep. Writes the files into the folder argv[1]
// (build_exports.sh checks them with Python) and checks what it can here.
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "check.hpp"
#include "timemory/components/component_info.hpp"
#include "timemory/output/exports.hpp"
#include "timemory/storage/serialize.hpp"
#include "timemory/storage/snapshot.hpp"

using namespace tim;

namespace {

TreeNode node(std::uint64_t hash, std::string label, double inclusive, std::int64_t laps = 1) {
    TreeNode n;
    n.hash                   = hash;
    n.label                  = std::move(label);
    n.tids                   = {0};
    n.pids                   = {42};
    n.inclusive.laps         = laps;
    n.inclusive.stats.count  = laps;
    n.inclusive.stats.sum[0] = inclusive;
    n.exclusive              = n.inclusive;
    return n;
}

// main (100) > bad bytes (NaN), control characters (-5), big (1e300), inf (+inf),
// deep (1) > deep > ... 100,000 levels (1 each).
TreeNode tree(double scale) {
    TreeNode root;
    root.is_dummy = true;
    root.label    = "unknown-hash=0";
    root.tids     = {0};
    root.pids     = {42};
    TreeNode main = node(1, "main", 100 * scale);
    main.children.push_back(
        node(2, std::string("bad \xff\xfe \xc0\x80 \xed\xa0\x80 bytes"), std::numeric_limits<double>::quiet_NaN()));
    main.children.push_back(node(3, "ctl \x01\x1f\x7f \"q\" \\ \n\r\t end", -5));
    main.children.push_back(node(4, "big", 1e300));
    main.children.push_back(node(5, "inf", std::numeric_limits<double>::infinity()));
    TreeNode  deep = node(6, "deep", 1);
    TreeNode* at   = &deep;
    for (int i = 0; i < 100000; ++i) {
        at->children.push_back(node(i % 2 ? 6 : 7, i % 2 ? "deep" : "deeper", 1));
        at = &at->children.back();
    }
    main.children.push_back(std::move(deep));
    root.children.push_back(std::move(main));
    return root;
}

std::string read_file(const std::string& path) {
    std::string out;
    if (FILE* f = std::fopen(path.c_str(), "rb")) {
        char   buf[1 << 16];
        size_t n = 0;
        while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
        std::fclose(f);
    }
    return out;
}

// A task's work beneath the call path that submitted it (remote): not subtracted from its
// parent's self value, its flags kept by the packed forms and ORed when processes merge, a
// placeholder (count 0) not counted as a process having the node, and callgrind listing the
// remote call without adding its cost to the caller's.
void test_remote(const std::string& dir) {
    const ComponentInfo& info = component_table()[static_cast<std::size_t>(find_component("wall_clock"))];
    TreeNode             root;
    root.is_dummy  = true;
    root.label     = "unknown-hash=0";
    TreeNode map   = node(11, "map", 10);
    TreeNode task  = node(12, "task", 30, 3);
    task.remote    = true;
    map.context    = true;
    TreeNode local = node(13, "local", 4);
    map.children.push_back(task);
    map.children.push_back(local);
    root.children.push_back(map);
    compute_exclusive(info, root);
    const TreeNode& m = root.children[0];
    CHECK(m.exclusive.stats.sum[0] == 6);  // 10 less the local child's 4, not the task's 30
    CHECK(m.children[0].exclusive.stats.sum[0] == 30);

    const auto back = unpack_tree(info, pack_tree(info, {root}));
    CHECK(back.size() == 1 && back[0].children[0].context && !back[0].children[0].remote);
    CHECK(back[0].children[0].children[0].remote && !back[0].children[0].children[1].remote);

    // two processes: the submitter's map (measured), a worker's placeholder map with the task
    auto flat = [](std::uint64_t hash, const char* label, int depth, std::int64_t laps, bool remote, bool context) {
        FlatEntry e;
        e.hash               = hash;
        e.label              = label;
        e.prefix             = label;
        e.depth              = depth;
        e.remote             = remote;
        e.context            = context;
        e.entry.laps         = laps;
        e.entry.stats.count  = laps;
        e.entry.accum[0]     = 10.0 * static_cast<double>(laps);
        e.entry.stats.sum[0] = e.entry.accum[0];
        return e;
    };
    const std::string submitter = pack_flat(info, {flat(11, "map", 0, 1, false, false)});
    const std::string worker =
        pack_flat(info, {flat(11, "map", 0, 0, false, true), flat(12, "task", 1, 2, true, false)});
    const auto unpacked = unpack_flat(info, worker);
    CHECK(unpacked.size() == 2 && unpacked[0].context && !unpacked[0].remote && unpacked[1].remote);
    const auto merged = merge_flat(info, {submitter, worker});
    CHECK(merged.size() == 2 && merged[0].entry.laps == 1 && merged[0].context && !merged[0].remote);
    CHECK(merged[1].remote && merged[1].entry.laps == 2);
    const auto summary = summarize_processes(info, {submitter, worker});
    CHECK(summary.size() == 2 && summary[0].processes == std::vector<int>{0} && !summary[0].remote);
    CHECK(summary[1].processes == std::vector<int>{1} && summary[1].remote);

    JoinSource src;
    src.loaded.push_back({info.index, {{&root}}});
    std::string err;
    CHECK(write_callgrind(dir + "/remote.callgrind", src, {}, &err));
    const std::string cg = read_file(dir + "/remote.callgrind");
    CHECK(cg.find("calls=3 0\n0 0\n") != std::string::npos);  // map -> task: 3 calls, no cost
    CHECK(cg.find("calls=1 0\n0 4\n") != std::string::npos);  // map -> local: its 4
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: test_exports OUTPUT_FOLDER\n");
        return 2;
    }
    const std::string dir  = argv[1];
    const TreeNode    wall = tree(1e6);
    const TreeNode    rss  = tree(4096);
    JoinSource        src;
    src.loaded.push_back({find_component("wall_clock"), {{&wall}}});
    src.loaded.push_back({find_component("peak_rss"), {{&rss}}});
    ExportOptions opt{"native \"test\"\n", "timemory@test"};

    std::string err;
    CHECK(write_speedscope(dir + "/test.speedscope.json", src, opt, &err));
    CHECK(write_callgrind(dir + "/test.callgrind", src, opt, &err));
    const std::string json = read_file(dir + "/test.speedscope.json");
    const std::string cg   = read_file(dir + "/test.callgrind");
    CHECK(json.find("\"unit\":\"nanoseconds\"") != std::string::npos);
    CHECK(json.find("\"unit\":\"bytes\"") != std::string::npos);
    CHECK(json.find("null") == std::string::npos);     // no non-finite number
    CHECK(json.find("\\ufffd") != std::string::npos);  // the bytes that are not UTF-8
    CHECK(cg.find("events: WallClock PeakRss\n") != std::string::npos);
    CHECK(cg.find("ctl \\x01\\x1f\\x7f \"q\" \\\\ \\n\\r\\t end") != std::string::npos);
    CHECK(cg.find("bad \\xff\\xfe \\xc0\\x80 \\xed\\xa0\\x80 bytes") != std::string::npos);
    CHECK(cg.find("cmd: native \"test\"\\n\n") != std::string::npos);

    // a folder that cannot be made: false, the path named, no file
    CHECK(!write_speedscope(dir + "/test.callgrind/sub/x.json", src, opt, &err));
    CHECK(err.find("test.callgrind") != std::string::npos);
    CHECK(!write_callgrind(dir + "/test.callgrind/sub/x.out", src, opt, &err));

    // the empty source: still valid files
    JoinSource none;
    CHECK(write_speedscope(dir + "/empty.speedscope.json", none, {}, &err));
    CHECK(write_callgrind(dir + "/empty.callgrind", none, {}, &err));
    CHECK(read_file(dir + "/empty.speedscope.json").find("\"profiles\":[]") != std::string::npos);

    test_remote(dir);

    if (failures) std::fprintf(stderr, "test_exports: %d check(s) failed\n", failures);
    else std::printf("test_exports: ok\n");
    return failures ? 1 : 0;
}
