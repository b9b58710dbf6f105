#pragma once
// The function profiler's per-thread stack, independent of Python: the
// binding's profile callback (source/python/profiler.cpp) turns call/return
// events into enter()/leave() here. A frame that is filtered out still takes
// a slot (enter_skipped) so that returns stay paired with their calls.
#include <cstdint>
#include <string_view>
#include <vector>

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

class CallStack {
public:
    // Enters a measured frame: pushes `hash` on each component's call graph
    // and takes the start readings.
    void enter(std::uint64_t hash, std::string_view label);
    // Enters a frame that is not measured (filtered, or too deep).
    void enter_skipped() { frames_.push_back(-1); }
    // Leaves the innermost frame; a return with no matching call (a frame
    // that began before profiling started) is ignored.
    void leave();
    // Leaves every frame, innermost first, recording what was measured.
    void close_all();

    std::size_t depth() const { return frames_.size(); }
    bool        too_deep() const { return static_cast<int>(frames_.size()) >= max_depth_; }
    // Binds the stack to the current session if it belongs to an older one.
    void sync() {
        if (session_ != g_session.id) rebind();
    }

private:
    void rebind();
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
    std::vector<std::int32_t>         frames_;  // offset of the frame's measurements, -1 = skipped
    std::vector<Measurement>          meas_;    // n_ per measured frame, top_ in use
    std::size_t                       top_ = 0;
    std::vector<CallGraph*>           graphs_;
    std::vector<const ComponentInfo*> infos_;
    std::vector<double>               scratch_;  // stop readings, n_ * max_values
    std::vector<char>                 scalar_;   // is_scalar_delta per component
    int                               n_         = 0;
    int                               max_depth_ = 65535;
    bool                              flat_      = false;
    bool                              timeline_  = false;
    int                               wall_pos_  = -1;     // position of wall_clock in the session's components
    bool                              user_      = false;  // a Python-defined component is measured (the GIL's hooks)
    readers::EventPlan                plan_;               // the components' kernel reads (event_reads.hpp)
    std::vector<OpenEvent>            events_;             // empty while the timeline is off
};

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
