#pragma once
// The timeline: one event per measurement (a marker, a decorated call, a region, a profiled
// function), with its begin and end times, kept beside the call graph when
// config().timeline_events is on, so that a trace viewer (Perfetto, chrome://tracing) can
// show what ran when on which thread. The call graph aggregates; the timeline keeps each
// interval, up to config().timeline_max_events per process (the call graph keeps everything
// past the cap; the events past it are counted as dropped).
//
// Each thread appends to its own buffer with no lock: chunks that never move, whose counts
// are published with a release store, so a reader (a checkpoint written while the program
// runs) reads every event published so far while the thread keeps appending. The lock of a
// buffer is taken only to link a new chunk, to reset the buffer after a clear, and by readers.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "timemory/components/component_info.hpp"
#include "timemory/config.hpp"

namespace tim::timeline {

// One recorded interval: 32 bytes (a million events: 32 MB, plus their counter samples).
struct Event {
    double        begin_ns  = 0.0;  // the wall_clock reading (CLOCK_MONOTONIC or the tests' clock)
    double        end_ns    = 0.0;
    std::uint64_t hash      = 0;  // the call-graph node's identity (hash_label of label and where)
    std::int32_t  tid       = 0;  // ThreadData::tid of the thread that started the measurement
    std::uint16_t depth     = 0;  // measurements of that thread recorded around it (capped at 65535)
    std::uint16_t n_samples = 0;  // counter samples stored for it, in the thread's sample list
};
static_assert(sizeof(Event) == 32, "an event is 32 bytes");

// The reading of one value of a component that is not a clock, taken at the stop: the
// absolute reading (peak RSS, the process's bytes read so far...), in base units, which is
// what a counter track plots.
// Trivial (no member initializers): a stop's buffer of them is not zeroed first.
struct Sample {
    std::int32_t component;  // enum index
    std::int32_t value;      // which of the component's raw values
    double       reading;
};

// Append-only list: one thread appends, any thread reads what was published. Chunks grow
// from 64 to 4096 items, so a thread that records little holds little.
template <typename T>
class ChunkList {
public:
    struct Chunk {
        explicit Chunk(std::uint32_t n) : capacity(n), items(new T[n]) {}
        const std::uint32_t        capacity;
        std::unique_ptr<T[]>       items;
        std::atomic<std::uint32_t> count{0};
        std::atomic<Chunk*>        next{nullptr};
    };

    ChunkList() = default;
    ~ChunkList() { reset(); }
    ChunkList(const ChunkList&)            = delete;
    ChunkList& operator=(const ChunkList&) = delete;

    // Owner thread only. `mtx` guards linking a chunk (readers walk the links under it).
    void append(const T& v, std::mutex& mtx) {
        if (!tail_ || tail_->count.load(std::memory_order_relaxed) == tail_->capacity) grow(mtx);
        const std::uint32_t n = tail_->count.load(std::memory_order_relaxed);
        tail_->items[n]       = v;
        tail_->count.store(n + 1, std::memory_order_release);
    }
    // Frees every chunk: under the buffer's lock, by the owner (or when no thread appends).
    void reset() {
        Chunk* c = head_.exchange(nullptr, std::memory_order_acq_rel);
        while (c) {
            Chunk* next = c->next.load(std::memory_order_relaxed);
            delete c;
            c = next;
        }
        tail_ = nullptr;
    }
    // visit(item) for every published item, in order; under the buffer's lock.
    template <typename F>
    void for_each(F&& visit) const {
        for (Chunk* c = head_.load(std::memory_order_acquire); c; c = c->next.load(std::memory_order_acquire)) {
            const std::uint32_t n = c->count.load(std::memory_order_acquire);
            for (std::uint32_t i = 0; i < n; ++i) visit(c->items[i]);
        }
    }
    // Items published (readers, under the lock): a sum over the chunks.
    std::size_t size() const {
        std::size_t n = 0;
        for (Chunk* c = head_.load(std::memory_order_acquire); c; c = c->next.load(std::memory_order_acquire))
            n += c->count.load(std::memory_order_acquire);
        return n;
    }
    // Bytes held by the chunks (readers, under the lock).
    std::size_t capacity_bytes() const {
        std::size_t n = 0;
        for (Chunk* c = head_.load(std::memory_order_acquire); c; c = c->next.load(std::memory_order_acquire))
            n += sizeof(Chunk) + c->capacity * sizeof(T);
        return n;
    }

    // A reader's position: items one after the other, across chunks.
    class Cursor {
    public:
        explicit Cursor(const ChunkList& l) : chunk_(l.head_.load(std::memory_order_acquire)) {}
        // The next item (published: the caller knows it is there), nullptr past the end.
        const T* next() {
            while (chunk_ && pos_ >= chunk_->count.load(std::memory_order_acquire)) {
                chunk_ = chunk_->next.load(std::memory_order_acquire);
                pos_   = 0;
            }
            return chunk_ ? &chunk_->items[pos_++] : nullptr;
        }

    private:
        const Chunk*  chunk_;
        std::uint32_t pos_ = 0;
    };

private:
    void grow(std::mutex& mtx) {
        const std::uint32_t         n = tail_ ? std::min<std::uint32_t>(tail_->capacity * 2, 4096) : 64;
        auto*                       c = new Chunk(n);
        std::lock_guard<std::mutex> lk(mtx);
        if (tail_) tail_->next.store(c, std::memory_order_release);
        else head_.store(c, std::memory_order_release);
        tail_ = c;
    }

    std::atomic<Chunk*> head_{nullptr};
    Chunk*              tail_ = nullptr;  // the owner's
};

// One thread's events. Never freed (as ThreadData): read after the thread exits.
struct ThreadEvents {
    int                       tid   = 0;       // ThreadData::tid
    unsigned long             ident = 0;       // pthread_self(): what threading.get_ident() returns
    std::string               name;            // the thread's name when it first recorded (set_thread_namer)
    std::uint64_t             generation = 0;  // the clear() its content belongs to
    int                       open       = 0;  // measurements started on this thread and recorded, not stopped
    std::int64_t              quota      = 0;  // events this thread may record before asking the process's budget
    std::atomic<std::int64_t> dropped{0};      // events not recorded: the cap was reached
    ChunkList<Event>          events;
    ChunkList<Sample>         samples;
    mutable std::mutex        mtx;
};

// Whether measurements are recorded into the timeline now: the timeline asked for, or the
// Perfetto export that shows it (two flags of one cache line of the configuration).
inline bool recording() {
    const auto& c = config();
    return c.timeline_events || c.perfetto_output;
}

ThreadEvents& this_thread_events();  // created on first use

// Names a thread's buffer when it is created (on the thread, before any event): the
// bindings give the Python thread's name. Set once, at import.
using ThreadNamer = void (*)(ThreadEvents&);
void set_thread_namer(ThreadNamer namer);

// A recorded measurement starts on this thread: its depth (measurements open around it).
inline std::uint16_t open_depth() {
    auto&     te = this_thread_events();
    const int d  = te.open++;
    return static_cast<std::uint16_t>(d < 0 ? 0 : (d > 65535 ? 65535 : d));
}

// A recorded measurement ends: appends its event, and its counter samples (`n` of them), to
// this thread's buffer, or counts it as dropped when the process's cap is reached. Stopped
// on the thread that started it (always but for finalize's stop of every thread's markers),
// that thread's depth closes.
void record(const Event& ev, const Sample* samples, int n);
// A recorded measurement ends after its storage was cleared: its depth closes, no event.
void forget(std::int32_t tid);

// Which raw values of a component are sampled into a counter track at each stop (bit k:
// raw value k): the amounts and counts read as they are displayed (memory, I/O bytes, page
// faults, context switches, network counters, hardware counters), not clocks, rates or
// percentages, nor components that keep a start and stop pair.
unsigned sampled_values(const ComponentInfo& info);
// The enum index of wall_clock, whose readings are the events' times.
int wall_clock_index();
// The time of an event when its measurement has no wall_clock: what wall_clock reads.
double now_ns();

// The samples of one stop: on the stack for the usual few, on the heap past them.
class SampleBuffer {
public:
    void push_back(const Sample& s) {
        if (n_ < inline_capacity) inline_[n_] = s;
        else {
            if (heap_.empty()) heap_.assign(inline_, inline_ + inline_capacity);
            heap_.push_back(s);
        }
        ++n_;
    }
    const Sample* data() const { return n_ <= inline_capacity ? inline_ : heap_.data(); }
    int           size() const { return n_; }

private:
    static constexpr int inline_capacity = 16;
    Sample               inline_[inline_capacity];
    std::vector<Sample>  heap_;
    int                  n_ = 0;
};

// Appends to `out` the samples of component `info` from its stop reading `raw`.
inline void add_samples(const ComponentInfo& info, const double* raw, SampleBuffer& out) {
    if (info.user && raw[0] != raw[0]) return;  // a Python-defined component dropped after an error
    const unsigned mask = sampled_values(info);
    for (int k = 0; mask && k < info.n_raw && k < 32; ++k)
        if (mask & (1u << k)) out.push_back(Sample{info.index, k, raw[k]});
}

// Forgets every event and the dropped count (timemory.clear()). The calling thread's buffer
// is freed now; another thread's when it next records (it may be appending right now), and
// until then readers skip it.
void clear();

struct Totals {
    std::int64_t recorded = 0;
    std::int64_t dropped  = 0;
    std::size_t  bytes    = 0;  // held by the buffers
};
Totals totals();

// This process's timeline packed into bytes (its threads' events and samples, the labels of
// their hashes as this process shows them, the dropped count): what a pool worker hands
// to its parent, which writes it as the worker's process track.
std::string pack();

// A packed timeline read back: owns its events.
struct Unpacked {
    struct Thread {
        int                 tid = 0;
        std::string         name;
        std::vector<Event>  events;
        std::vector<Sample> samples;
    };
    std::int64_t                                       pid     = 0;
    std::int64_t                                       dropped = 0;
    std::vector<Thread>                                threads;
    std::vector<std::pair<std::uint64_t, std::string>> labels;
};
// False (and `error` set) when `data` is not a packed timeline or is cut short.
bool unpack(std::string_view data, Unpacked& out, std::string* error);

// visit(buffer) for every thread's buffer that holds events of the current generation (or
// dropped some), in thread order, each under its lock (the owner keeps appending meanwhile;
// what it appends after the visit starts may or may not be seen).
void for_each_thread(const std::function<void(const ThreadEvents&)>& visit);

}  // namespace tim::timeline
