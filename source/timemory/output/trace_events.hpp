#pragma once
// The timeline as a Chrome trace-event JSON document (the "Trace Event Format" that the
// Perfetto UI and chrome://tracing load): one "X" (complete) event per recorded measurement
// with its real begin (`ts`) and duration (`dur`) in microseconds, "M" metadata events
// naming the process and thread tracks, and "C" counter events carrying the readings of the
// components that are not clocks (memory, I/O bytes, counts) at each stop.
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "timemory/output/writers.hpp"
#include "timemory/storage/timeline.hpp"

namespace tim {

// One thread's events as the writer reads them: in the order they were recorded (their
// stops), with their samples one after the other in the same order.
struct TraceThread {
    int                                      tid = 0;
    std::string                              name;
    std::vector<const timeline::Event*>      events;
    std::function<const timeline::Sample*()> next_sample;  // the next sample, nullptr past the last
};

// One process's tracks.
struct TraceProcess {
    std::int64_t pid = 0;
    std::string  name;  // the process track's name ("rank 1", "worker 1234")
    int          sort_index = 0;
    // visit(thread) for each of its threads (the thread's data valid during the call)
    std::function<void(const std::function<void(const TraceThread&)>&)> threads;
    // the label of a hash
    std::function<void(std::uint64_t, std::string&)> label;
};

// Document-level facts, written in "otherData".
struct TraceMeta {
    std::vector<std::pair<std::string, std::string>>  strings;  // e.g. ("timemory_version", "4.0")
    std::vector<std::pair<std::string, std::int64_t>> numbers;  // e.g. ("dropped_events", 0)
};

// Writes the whole document: {"displayTimeUnit", "otherData", "traceEvents": [...]}. A
// thread's events are written sorted by their begin (an enclosing event before the events
// it encloses), its counter samples in the order of the stops. Returns the events written.
std::int64_t trace_events_json(Out& out, const std::vector<TraceProcess>& processes, const TraceMeta& meta);

// Appends a time in nanoseconds as microseconds with up to three decimals, exactly (no
// binary rounding of the fraction): 1234567 ns -> 1234.567.
void json_microseconds(std::string& out, double ns);

// This process's events, read in place from every thread's buffer (each under its lock
// while it is written; its owner keeps recording meanwhile). `thread_names`: names by
// pthread id (threading.get_ident()); a thread without one is "thread N" (its timemory
// thread id). `dropped` (out): the events this process dropped at the cap.
TraceProcess live_trace_process(std::int64_t pid, const std::string& name,
                                const std::unordered_map<unsigned long, std::string>& thread_names,
                                std::int64_t&                                         dropped);

// Another process's events, unpacked (timeline::unpack): valid while `data` lives.
TraceProcess unpacked_trace_process(const timeline::Unpacked& data, const std::string& name);

}  // namespace tim
