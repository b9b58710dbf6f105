#pragma once
// The function profiler's per-thread stack, independent of Python: the
// binding's profile callback (source/python/profiler.cpp) turns call/return
// events into enter()/leave() here. A frame that is filtered out still takes
// a slot (enter_skipped) so that returns stay paired with their calls.
#include <cstdint>
#include <string>
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

// The fast paths' epoch (CallStack::fast()): bumped by everything that can change whether a
// stack may take them (a session begins or ends, a core setting or the test clock changes), so
// the callbacks test one number per event instead of the session, the settings and the stack's
// state one by one. Never 0; a stack holds 0 or an epoch it checked.
extern std::uint64_t g_fast_epoch;
inline void          invalidate_fast_paths() { ++g_fast_epoch; }

// One frame of the profiler's stack, 24 bytes. A frame entered by the single path (one native
// one-value component: enter_single) keeps its whole measurement here: the node, the node that
// was current before, the graph's generation and the start reading. Any other frame is a kind
// (node < -1): not measured, or measured by the *_any pair (its measurements at meas_[prev]).
struct StackFrame {
    std::int32_t  node;        // >= 0, or -1 (cut off by the graph's max depth): a single frame
    std::int32_t  prev;        // single: the node current before; frame_multi: offset in meas_
    std::uint64_t generation;  // single: the graph's generation at entry
    double        start;       // single: the start reading
};
static_assert(sizeof(StackFrame) == 24, "a frame is 24 bytes");
inline constexpr std::int32_t frame_skipped = -2;  // not measured (filtered, too deep, disabled)
inline constexpr std::int32_t frame_multi   = -3;  // measured by enter_any
inline constexpr std::int32_t frame_bottom  = -4;  // the sentinel below the first frame

// The frames: a pointer to the top frame of a buffer that only grows (std::vector's push_back
// was left out of line by LTO, a call per profiled call), with a sentinel frame at the bottom so
// that a return tests the top frame's kind alone (a return with no frame finds the sentinel).
// `last_` is the last slot a new frame may take: the buffer's end or the depth limit, whichever
// comes first, so that one compare tells there is room and that the frame is not too deep.
class FrameStack {
public:
    FrameStack() {
        buf_.resize(64);
        buf_[0].node = frame_bottom;
        top_         = buf_.data();
        set_limit();
    }
    FrameStack(const FrameStack&)            = delete;
    FrameStack& operator=(const FrameStack&) = delete;
    // room for a frame, within the depth limit
    __attribute__((always_inline)) bool has_room() const { return top_ < last_; }
    // A new frame on top (its fields unset): after has_room(), or growing the buffer.
    __attribute__((always_inline)) StackFrame& push_unchecked() { return *++top_; }
    StackFrame&                                push() {
        make_room();
        return *++top_;
    }
    // room in the buffer for one frame more (the depth limit aside)
    void make_room() {
        if (__builtin_expect(top_ + 1 == buf_.data() + buf_.size(), 0)) grow();
    }
    // The top frame: the sentinel (frame_bottom) when there is none.
    __attribute__((always_inline)) StackFrame& top() { return *top_; }
    __attribute__((always_inline)) void        pop() { --top_; }
    std::size_t                                size() const { return static_cast<std::size_t>(top_ - buf_.data()); }
    bool                                       empty() const { return top_ == buf_.data(); }
    void                                       clear() { top_ = buf_.data(); }
    void                                       set_max_depth(int max_depth) {
        max_size_ = static_cast<std::size_t>(max_depth) + 1;
        set_limit();
    }

private:
    void set_limit() { last_ = buf_.data() + ((buf_.size() < max_size_ ? buf_.size() : max_size_) - 1); }
    __attribute__((noinline)) void grow() {
        const std::size_t n = size();
        buf_.resize(buf_.size() * 2);
        top_ = buf_.data() + n;
        set_limit();
    }
    StackFrame*             top_  = nullptr;  // the top frame, the sentinel when there is none
    StackFrame*             last_ = nullptr;
    std::vector<StackFrame> buf_;
    std::size_t             max_size_ = 65536;  // max_depth frames + the sentinel
};

class CallStack {
public:
    // Enters a measured frame: pushes `hash` on each component's call graph
    // and takes the start readings.
    // Always inline, and the *_any pair never: inlined into enter()/leave() by LTO they made
    // those too large to inline into the profile callbacks (a call, six saved registers).
    __attribute__((always_inline)) void enter(std::uint64_t hash, std::string_view label) {
        if (__builtin_expect(single_ && !timeline_recording(), 1)) {
            frames_.make_room();  // the callers tested the depth
            return enter_single(hash, label);
        }
        enter_any(hash, label);
    }
    // Enters a frame that is not measured (filtered, or too deep).
    void enter_skipped() { frames_.push().node = frame_skipped; }
    // Leaves the innermost frame, of any kind; a return with no matching call (a frame
    // that began before profiling started) is ignored.
    void leave();
    // Leaves every frame, innermost first, recording what was measured.
    void close_all();

    // The profile callbacks' usual path: while fast() (the stack belongs to the running session,
    // profiling is enabled, the session measures one native one-value component, no timeline is
    // recorded or open), a call with has_room() is enter_fast() and a return leave_fast(),
    // inline in the callbacks; anything else goes through sync() and enter()/leave().
    __attribute__((always_inline)) bool fast() const { return fast_ == g_fast_epoch; }
    __attribute__((always_inline)) bool has_room() const { return frames_.has_room(); }
    // Re-entering the child entered last under the current node (a loop, a recursion) is
    // inline; any other node is pushed by enter_fast_other, a tail call, so that the only
    // call of the usual path is the clock's and one register is kept across it. The label by
    // reference: only the push of a new node reads it.
    __attribute__((always_inline)) void enter_fast(std::uint64_t hash, const std::string& label) {
        StackFrame&        f   = frames_.push_unchecked();
        CallGraph&         g   = *graph_;
        const std::int32_t cur = g.current();
        f.prev                 = cur;
        f.generation           = g.generation();
        std::int32_t child;
        if (__builtin_expect(tree_ && g.last_child_is(cur, hash, child), 1)) {
            g.set_current(child);
            f.node  = child;
            f.start = read_fast();  // last: the bookkeeping is not part of the measurement
            return;
        }
        enter_fast_other(f, hash, label);
    }
    __attribute__((always_inline)) void leave_fast() {
        StackFrame& f = frames_.top();
        if (__builtin_expect(f.node < 0, 0)) return leave_rare();
        frames_.pop();
        const double stop = read_fast();  // before the recording, as leave_any reads
        CallGraph&   g    = *graph_;
        if (__builtin_expect(f.generation == g.generation(), 1)) {  // else the storage was cleared meanwhile
            g.record_scalar_fixed(f.node, stop - f.start);          // fast(): the graph's one-value layout
            g.pop(f.node, f.prev);
        }
    }

    std::size_t depth() const { return frames_.size(); }
    bool        too_deep() const { return static_cast<int>(frames_.size()) >= max_depth_; }
    // Whether the stack belongs to the current session (sync() has nothing to do).
    bool current() const { return session_ == g_session.id; }
    // Binds the stack to the current session if it belongs to an older one, and tells
    // whether the fast paths apply now.
    void sync() {
        if (session_ != g_session.id) rebind();
        refresh_fast();
    }

private:
    void rebind();
    void refresh_fast();
    // A return whose top frame is not a single frame with a node (a skipped, cut-off or
    // *_any frame, or none): out of line.
    __attribute__((noinline)) void leave_rare();
    // enter_fast() of a node other than the last child entered: push, then the reading
    __attribute__((noinline)) void enter_fast_other(StackFrame& f, std::uint64_t hash, std::string_view label);
    // Any session: every component, Python-defined ones, the timeline's events.
    __attribute__((noinline)) void enter_any(std::uint64_t hash, std::string_view label);
    __attribute__((noinline)) void leave_any(std::int32_t offset);
    // The profiler's usual session, one native component with one value (wall_clock, the
    // default), while no timeline event is open or recorded: the frame and its measurement are
    // one StackFrame, the clock read directly rather than through the component table's
    // function pointer. enter_single needs room for the frame (has_room()). A frame entered by
    // either pair is left by leave() whatever the session's state by then.
    void enter_single(std::uint64_t hash, std::string_view label);
    void leave_single(const StackFrame& f);
    // meas_ holds at least n measurements (meas_count_ is its size, kept to spare a division)
    void                                  grow_meas(std::size_t n);
    __attribute__((always_inline)) double read_single() const {
        if (__builtin_expect(single_wall_, 1)) return readers::wall_clock_ns();
        return read_other();
    }
    // The fast paths' reading: while fast(), wall_direct_ tells the component is wall_clock and
    // the tests' fake clock is off (switching it changes the epoch), so CLOCK_MONOTONIC is read
    // without a test of the fake clock per reading.
    __attribute__((always_inline)) double read_fast() const {
        if (__builtin_expect(wall_direct_, 1)) return readers::monotonic_ns();
        return read_other();
    }
    __attribute__((noinline)) double read_other() const {
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

    // first: what the fast paths read
    std::uint64_t                     fast_ = 0;               // == g_fast_epoch while the fast paths apply
    FrameStack                        frames_;                 // the frames, single ones with their measurement
    CallGraph*                        graph_       = nullptr;  // graphs_[0] (single_)
    bool                              tree_        = false;    // !flat_ && !timeline_: push's inline lookup applies
    bool                              single_wall_ = false;    // single_, and the component is wall_clock
    bool                              wall_direct_ = false;    // single_wall_ and the fake clock off (refresh_fast)
    bool                              single_      = false;    // enter_single / leave_single apply
    std::uint64_t                     session_     = 0;
    std::vector<Measurement>          meas_;  // n_ per frame entered by enter_any, top_ in use
    std::size_t                       top_        = 0;
    std::size_t                       meas_count_ = 0;  // meas_.size()
    std::vector<CallGraph*>           graphs_;
    std::vector<const ComponentInfo*> infos_;
    std::vector<double>               scratch_;  // stop readings, n_ * max_values
    std::vector<char>                 scalar_;   // is_scalar_delta per component
    int                               n_         = 0;
    int                               max_depth_ = 65535;
    bool                              flat_      = false;
    bool                              timeline_  = false;
    int                               wall_pos_  = -1;       // position of wall_clock in the session's components
    bool                              user_      = false;    // a Python-defined component is measured (the GIL's hooks)
    bool                              fixed_     = false;    // single_, and graph_ keeps the one-value layout
    void (*single_read_)(double*)                = nullptr;  // its reader
    readers::EventPlan     plan_;                            // the components' kernel reads (event_reads.hpp)
    std::vector<OpenEvent> events_;                          // empty while the timeline is off
};

// Inline into the profile callbacks: a profiled call and return are two short paths.
__attribute__((always_inline)) inline void CallStack::enter_single(std::uint64_t hash, std::string_view label) {
    StackFrame& f = frames_.push_unchecked();
    CallGraph&  g = *graph_;
    f.prev        = g.current();
    f.node        = tree_ ? g.push(hash, label, false, false) : g.push(hash, label, flat_, timeline_);
    f.generation  = g.generation();
    f.start       = read_single();  // last: the bookkeeping is not part of the measurement
}

namespace detail {
// __thread rather than thread_local: no TLS wrapper call on access, and
// initial-exec makes it a single %fs-relative load (called twice per call).
// The stack every thread starts with, never a thread's own: its fast() is never true, so a
// thread's first event takes the slow path, which makes the thread's stack (this_call_stack);
// the callbacks then need no null test.
extern CallStack           g_no_stack;
extern __thread CallStack* tls_stack __attribute__((tls_model("initial-exec")));
CallStack&                 create_call_stack();
}  // namespace detail

// This thread's stack (created on first use, never freed: like ThreadData it
// may be closed by end_session() from another thread after this one exited).
inline CallStack& this_call_stack() {
    CallStack* s = detail::tls_stack;
    return s != &detail::g_no_stack ? *s : detail::create_call_stack();
}

}  // namespace tim::hooks
