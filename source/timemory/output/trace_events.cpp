#include "timemory/output/trace_events.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <memory>
#include <unordered_set>

#include "timemory/components/component_info.hpp"
#include "timemory/storage/call_graph.hpp"

namespace tim {

namespace {

void append_int(std::string& out, std::int64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof(buf), v);
    out.append(buf, r.ptr);
}

// The name of a component's counter track, with its unit: "peak_rss [MB]", "num_io_in [count]".
struct CounterTrack {
    std::string name;                     // escaped JSON string
    std::string value_names[max_values];  // escaped JSON strings (the args' keys)
    double      divisor[max_values] = {};
};

CounterTrack counter_track(const ComponentInfo& info) {
    CounterTrack t;
    const Unit   u0   = info.units.empty() ? Unit::none : info.units[0];
    std::string  unit = unit_repr(u0);
    if (unit.empty()) unit = "count";
    json_escape(t.name, info.key + " [" + unit + "]");
    for (int k = 0; k < max_values; ++k) {
        const Unit   u = k < static_cast<int>(info.units.size()) ? info.units[static_cast<std::size_t>(k)] : Unit::none;
        const double d = unit_divisor(u);
        t.divisor[k]   = d > 0.0 ? d : 1.0;
        // one value: "value"; several: each by its name (network_stats' rx_bytes, ...)
        std::string name = "value";
        if (info.n_disp > 1 && k < static_cast<int>(info.sub_labels.size()))
            name = info.sub_labels[static_cast<std::size_t>(k)];
        else if (info.n_disp > 1) name = "value " + std::to_string(k);
        json_escape(t.value_names[k], name);
    }
    return t;
}

void metadata_event(std::string& out, const char* what, std::int64_t pid, const int* tid, std::string_view name,
                    bool& first) {
    if (!first) out += ',';
    first = false;
    out += "\n{\"ph\":\"M\",\"name\":\"";
    out += what;
    out += "\",\"pid\":";
    append_int(out, pid);
    out += ",\"tid\":";
    append_int(out, tid ? *tid : 0);
    out += ",\"args\":{\"name\":";
    json_escape(out, name);
    out += "}}";
}

void sort_index_event(std::string& out, std::int64_t pid, int index, bool& first) {
    if (!first) out += ',';
    first = false;
    out += "\n{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":";
    append_int(out, pid);
    out += ",\"tid\":0,\"args\":{\"sort_index\":";
    append_int(out, index);
    out += "}}";
}

}  // namespace

void json_microseconds(std::string& out, double ns) {
    if (!std::isfinite(ns)) {
        out += '0';
        return;
    }
    auto v = static_cast<std::int64_t>(std::llround(ns));
    if (v < 0) {
        out += '-';
        v = -v;
    }
    append_int(out, v / 1000);
    int frac = static_cast<int>(v % 1000);
    if (frac == 0) return;
    char digits[4] = {static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
                      static_cast<char>('0' + frac % 10), 0};
    int  n         = 3;
    while (n > 0 && digits[n - 1] == '0') --n;
    out += '.';
    out.append(digits, static_cast<std::size_t>(n));
}

std::int64_t trace_events_json(Out& out, const std::vector<TraceProcess>& processes, const TraceMeta& meta) {
    out.buf += "{\"displayTimeUnit\":\"ms\",\"otherData\":{";
    bool first_meta = true;
    for (const auto& [k, v] : meta.strings) {
        if (!first_meta) out.buf += ',';
        first_meta = false;
        json_escape(out.buf, k);
        out.buf += ':';
        json_escape(out.buf, v);
    }
    for (const auto& [k, v] : meta.numbers) {
        if (!first_meta) out.buf += ',';
        first_meta = false;
        json_escape(out.buf, k);
        out.buf += ':';
        append_int(out.buf, v);
    }
    out.buf += "},\"traceEvents\":[";
    bool                                           first   = true;
    std::int64_t                                   written = 0;
    std::unordered_map<int, CounterTrack>          tracks;  // by component index
    std::unordered_map<std::uint64_t, std::string> names;   // escaped label by hash, per process
    std::string                                    label;
    for (const auto& proc : processes) {
        names.clear();
        metadata_event(out.buf, "process_name", proc.pid, nullptr, proc.name, first);
        sort_index_event(out.buf, proc.pid, proc.sort_index, first);
        if (!proc.threads) continue;
        proc.threads([&](const TraceThread& th) {
            metadata_event(out.buf, "thread_name", proc.pid, &th.tid, th.name, first);
            // the counters, in the order of the stops (the samples follow the events)
            if (th.next_sample) {
                for (const timeline::Event* ev : th.events) {
                    for (int s = 0; s < ev->n_samples; ++s) {
                        const timeline::Sample* smp = th.next_sample();
                        if (!smp) break;
                        const auto& table = component_table();
                        if (smp->component < 0 || static_cast<std::size_t>(smp->component) >= table.size()) continue;
                        auto it = tracks.find(smp->component);
                        if (it == tracks.end())
                            it = tracks
                                     .emplace(smp->component,
                                              counter_track(table[static_cast<std::size_t>(smp->component)]))
                                     .first;
                        const int k = smp->value < 0 || smp->value >= max_values ? 0 : smp->value;
                        out.buf += ",\n{\"ph\":\"C\",\"name\":";
                        out.buf += it->second.name;
                        out.buf += ",\"ts\":";
                        json_microseconds(out.buf, ev->end_ns);
                        out.buf += ",\"pid\":";
                        append_int(out.buf, proc.pid);
                        out.buf += ",\"tid\":";
                        append_int(out.buf, th.tid);
                        out.buf += ",\"args\":{";
                        out.buf += it->second.value_names[k];
                        out.buf += ':';
                        json_number(out.buf, smp->reading / it->second.divisor[k], false);
                        out.buf += "}}";
                        out.step();
                    }
                }
            }
            // the slices, by begin; at the same begin the enclosing one (the lower depth) first
            std::vector<const timeline::Event*> order(th.events);
            std::stable_sort(order.begin(), order.end(), [](const timeline::Event* a, const timeline::Event* b) {
                if (a->begin_ns != b->begin_ns) return a->begin_ns < b->begin_ns;
                return a->depth < b->depth;
            });
            for (const timeline::Event* ev : order) {
                auto it = names.find(ev->hash);
                if (it == names.end()) {
                    if (proc.label) proc.label(ev->hash, label);
                    else get_hash_identifier(ev->hash, label);
                    std::string escaped;
                    json_escape(escaped, label.empty() ? std::string_view("(unknown)") : std::string_view(label));
                    it = names.emplace(ev->hash, std::move(escaped)).first;
                }
                out.buf += ",\n{\"ph\":\"X\",\"cat\":\"timemory\",\"name\":";
                out.buf += it->second;
                out.buf += ",\"ts\":";
                json_microseconds(out.buf, ev->begin_ns);
                out.buf += ",\"dur\":";
                const double dur = ev->end_ns - ev->begin_ns;
                json_microseconds(out.buf, dur > 0.0 ? dur : 0.0);
                out.buf += ",\"pid\":";
                append_int(out.buf, proc.pid);
                out.buf += ",\"tid\":";
                append_int(out.buf, ev->tid);
                out.buf += ",\"args\":{\"depth\":";
                append_int(out.buf, ev->depth);
                out.buf += ",\"hash\":\"";
                char hex[17];
                auto r = std::to_chars(hex, hex + sizeof(hex), ev->hash, 16);
                out.buf.append(hex, r.ptr);
                out.buf += "\"}}";
                ++written;
                out.step();
            }
        });
    }
    out.buf += "\n]}";
    return written;
}

TraceProcess live_trace_process(std::int64_t pid, const std::string& name,
                                const std::unordered_map<unsigned long, std::string>& thread_names,
                                std::int64_t&                                         dropped) {
    // a first pass: the hashes (the labels are shown as the other views show them: with
    // their where when two functions share a name) and the dropped count
    std::unordered_set<std::uint64_t> seen;
    dropped = 0;
    timeline::for_each_thread([&](const timeline::ThreadEvents& te) {
        te.events.for_each([&](const timeline::Event& ev) { seen.insert(ev.hash); });
        dropped += te.dropped.load(std::memory_order_relaxed);
    });
    auto         labels = std::make_shared<ShownLabels>(std::vector<std::uint64_t>(seen.begin(), seen.end()));
    TraceProcess proc;
    proc.pid     = pid;
    proc.name    = name;
    proc.label   = [labels](std::uint64_t hash, std::string& out) { labels->label(hash, out); };
    auto names   = std::make_shared<std::unordered_map<unsigned long, std::string>>(thread_names);
    proc.threads = [names](const std::function<void(const TraceThread&)>& visit) {
        timeline::for_each_thread([&](const timeline::ThreadEvents& te) {
            TraceThread th;
            th.tid = te.tid;  // the events carry the thread that started them (the same but at finalize)
            // the name the thread has now, else the one it had when it first recorded
            auto it = names->find(te.ident);
            th.name = it != names->end() ? it->second : te.name.empty() ? "thread " + std::to_string(te.tid) : te.name;
            te.events.for_each([&](const timeline::Event& ev) { th.events.push_back(&ev); });
            if (th.events.empty()) return;
            auto cursor    = std::make_shared<timeline::ChunkList<timeline::Sample>::Cursor>(te.samples);
            th.next_sample = [cursor] { return cursor->next(); };
            visit(th);
        });
    };
    return proc;
}

TraceProcess unpacked_trace_process(const timeline::Unpacked& data, const std::string& name) {
    TraceProcess proc;
    proc.pid  = data.pid;
    proc.name = name;
    auto labels =
        std::make_shared<std::unordered_map<std::uint64_t, std::string>>(data.labels.begin(), data.labels.end());
    proc.label = [labels](std::uint64_t hash, std::string& out) {
        auto it = labels->find(hash);
        if (it != labels->end()) out = it->second;
        else get_hash_identifier(hash, out);
    };
    proc.threads = [&data](const std::function<void(const TraceThread&)>& visit) {
        for (const auto& t : data.threads) {
            TraceThread th;
            th.tid  = t.tid;
            th.name = t.name.empty() ? "thread " + std::to_string(t.tid) : t.name;
            th.events.reserve(t.events.size());
            for (const auto& ev : t.events) th.events.push_back(&ev);
            if (th.events.empty()) continue;
            std::size_t next = 0;
            th.next_sample   = [&t, next]() mutable -> const timeline::Sample* {
                return next < t.samples.size() ? &t.samples[next++] : nullptr;
            };
            visit(th);
        }
    };
    return proc;
}

}  // namespace tim
