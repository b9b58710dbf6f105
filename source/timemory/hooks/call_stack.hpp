#pragma once
// The function profiler's per-thread stack, independent of Python: the
// binding's profile callback (source/python/profiler.cpp) turns call/return
// events into enter()/leave() here. A frame that is filtered out still takes
// a slot (enter_skipped) so that returns stay paired with their calls.
#include <cstdint>
#include <string_view>
#include <vector>

#include "timemory/components/timing.hpp"
#include "timemory/config.hpp"
#include "timemory/storage/call_graph.hpp"

namespace tim::hooks {

// What the active profiling session records. Replaced as a whole by
// begin_session(); `id` changes every time so stale thread stacks reset.
struct ProfileSession {
    std::uint64_t    id        = 0;
    bool             active    = false;
    bool             flat      = false;
    bool             timeline  = false;
    int              max_depth = 65535;  // frames deeper than this (counted from the
                                         // first event seen on the thread) are skipped
    std::vector<int> indices;            // component enum values
};

extern ProfileSession g_session;

// Starts a new session recording `indices` (every thread's stack starts empty).
void begin_session(const std::vector<int>& indices, bool flat, bool timeline, int max_depth);
// Closes every thread's open frames (their intervals so far are recorded) and
// deactivates the session.
void end_session();

// The frames' stack of measurement offsets: a counter over a buffer that only grows, so a
// push is a compare and a store (std::vector's push_back was left out of line by LTO, a call
// per profiled call).
class FrameStack {
public:
    __attribute__((always_inline)) void push_back(std::int32_t v) {
        if (__builtin_expect(size_ == buf_.size(), 0)) grow();
        buf_[size_++] = v;
    }
    void         pop_back() { --size_; }
    std::int32_t back() const { return buf_[size_ - 1]; }
    bool         empty() const { return size_ == 0; }
    std::size_t  size() const { return size_; }
    void         clear() { size_ = 0; }

private:
    __attribute__((noinline)) void grow() { buf_.resize(buf_.empty() ? 64 : buf_.size() * 2); }
    std::vector<std::int32_t>      buf_;
    std::size_t                    size_ = 0;
};

class CallStack {
public:
    // Enters a measured frame: pushes `hash` on each component's call graph
    // and takes the start readings.
    // Always inline, and the *_any pair never: inlined into enter()/leave() by LTO they made
    // those too large to inline into the profile callbacks (a call, six saved registers).
    __attribute__((always_inline)) void enter(std::uint64_t hash, std::string_view label) {
        if (__builtin_expect(single_ && !timeline_recording(), 1)) return enter_single(hash, label);
        enter_any(hash, label);
    }
    // Enters a frame that is not measured (filtered, or too deep).
    void enter_skipped() { frames_.push_back(-1); }
    // Leaves the innermost frame; a return with no matching call (a frame
    // that began before profiling started) is ignored.
    __attribute__((always_inline)) void leave() {
        if (__builtin_expect(single_ && events_.empty(), 1)) return leave_single();
        leave_any();
    }
    // Leaves every frame, innermost first, recording what was measured.
    void close_all();

    std::size_t depth() const { return frames_.size(); }
    bool        too_deep() const { return static_cast<int>(frames_.size()) >= max_depth_; }
    // Whether the stack belongs to the current session (sync() has nothing to do).
    bool current() const { return session_ == g_session.id; }
    // Binds the stack to the current session if it belongs to an older one.
    void sync() {
        if (session_ != g_session.id) rebind();
    }

private:
    void rebind();
    // Any session: every component, Python-defined ones, the timeline's events.
    __attribute__((noinline)) void enter_any(std::uint64_t hash, std::string_view label);
    __attribute__((noinline)) void leave_any();
    // The profiler's usual session, one native component with one value (wall_clock, the
    // default), while no timeline event is open or recorded: the same steps as the
    // *_any pair for n_ == 1 and no event, inline in the profile callback, the clock read
    // directly rather than through the component table's function pointer. The two pairs
    // keep the same frames (frames_, meas_), so a frame entered by one is left by either.
    void enter_single(std::uint64_t hash, std::string_view label);
    void leave_single();
    // meas_ holds at least n measurements (meas_count_ is its size, kept to spare a division)
    void                                  grow_meas(std::size_t n);
    __attribute__((always_inline)) double read_single() const {
        if (__builtin_expect(single_wall_, 1)) return readers::wall_clock_ns();
        double v[max_values];
        single_read_(v);
        return v[0];
    }
    // timeline::recording(), without including the timeline here
    static bool timeline_recording() {
        const auto& c = config();
        return c.timeline_events || c.perfetto_output;
    }
    // The timeline's side (timemory/storage/timeline.hpp), out of line: only while recording.
    void begin_event(std::uint64_t hash, const Measurement* m);
    void end_event(const double* stop, const Measurement* m);

    // A frame recorded into the timeline, open: its level (frames_ below it), identity,
    // begin time and depth.
    struct OpenEvent {
        std::size_t   level;
        std::uint64_t hash;
        double        begin_ns;
        std::uint16_t depth;
    };

    std::uint64_t                     session_ = 0;
    FrameStack                        frames_;  // offset of the frame's measurements, -1 = skipped
    std::vector<Measurement>          meas_;    // n_ per measured frame, top_ in use
    std::size_t                       top_        = 0;
    std::size_t                       meas_count_ = 0;  // meas_.size()
    std::vector<CallGraph*>           graphs_;
    std::vector<const ComponentInfo*> infos_;
    std::vector<double>               scratch_;  // stop readings, n_ * max_values
    std::vector<char>                 scalar_;   // is_scalar_delta per component
    int                               n_           = 0;
    int                               max_depth_   = 65535;
    bool                              flat_        = false;
    bool                              timeline_    = false;
    int                               wall_pos_    = -1;     // position of wall_clock in the session's components
    bool                              user_        = false;  // a Python-defined component is measured (the GIL's hooks)
    bool                              single_      = false;  // enter_single / leave_single apply
    bool                              single_wall_ = false;  // ... and the component is wall_clock
    void (*single_read_)(double*)                  = nullptr;  // its reader
    readers::EventPlan     plan_;                              // the components' kernel reads (event_reads.hpp)
    std::vector<OpenEvent> events_;                            // empty while the timeline is off
};

// Inline into the profile callbacks: a profiled call and return are two short paths.
__attribute__((always_inline)) inline void CallStack::enter_single(std::uint64_t hash, std::string_view label) {
    const std::size_t offset = top_;
    if (__builtin_expect(meas_count_ <= offset, 0)) grow_meas(offset + 1);
    top_           = offset + 1;
    Measurement& m = meas_[offset];
    CallGraph&   g = *graphs_[0];
    m.graph        = &g;
    m.prev         = g.current();
    m.node         = g.push(hash, label, flat_, timeline_);
    m.generation   = g.generation();
    frames_.push_back(static_cast<std::int32_t>(offset));
    m.start[0] = read_single();  // last: the bookkeeping is not part of the measurement
}

__attribute__((always_inline)) inline void CallStack::leave_single() {
    if (frames_.empty()) return;
    const std::int32_t offset = frames_.back();
    frames_.pop_back();
    if (offset < 0) return;
    const double       stop = read_single();  // before the recording, as leave_any reads
    const Measurement& m    = meas_[static_cast<std::size_t>(offset)];
    CallGraph&         g    = *m.graph;
    if (m.generation == g.generation()) {  // else the storage was cleared meanwhile
        if (m.node >= 0) g.record_scalar(m.node, stop - m.start[0]);
        g.pop(m.node, m.prev);
    }
    top_ = static_cast<std::size_t>(offset);
}

namespace detail {
// __thread rather than thread_local: no TLS wrapper call on access, and
// initial-exec makes it a single %fs-relative load (called twice per call).
extern __thread CallStack* tls_stack __attribute__((tls_model("initial-exec")));
CallStack&                 create_call_stack();
}  // namespace detail

// This thread's stack (created on first use, never freed: like ThreadData it
// may be closed by end_session() from another thread after this one exited).
inline CallStack& this_call_stack() {
    CallStack* s = detail::tls_stack;
    return s ? *s : detail::create_call_stack();
}

}  // namespace tim::hooks
