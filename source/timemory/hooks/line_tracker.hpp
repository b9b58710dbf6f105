#pragma once
// The line tracer's per-thread state, independent of Python and of where the
// measurements go: the binding's trace callback (source/python/tracer.cpp)
// turns call/line/return events into call()/line()/ret() here, and a LineSink
// receives every finished execution of a line.
//
// One line is measured at a time per thread: the current line of the
// innermost traced frame. A call into another traced frame pauses it and the
// matching return resumes it, so the time of a traced callee goes to the
// callee's own lines, and the time of untraced code (builtins, filtered
// functions) to the line that called it. A paused line still counts one hit.
// An inclusive session (the line profiler's, as line_profiler measures) does
// not pause: the line that calls a traced function also counts its time.
// Python-defined components are the exception: each line's interval is one object
// of the class (started when the line starts, stopped when it ends, under the GIL
// the callback holds), so their value is the reading at the line's end, callees
// included, and a sink sees NaN (no_value) when the component gave none.
// Each event takes one reading that both ends one interval and starts the
// next, so the lines of a traced region add up to the region's total: nothing
// between its first and last event is lost or counted twice.
#include <cstdint>
#include <memory>
#include <vector>

#include "timemory/components/component_info.hpp"

namespace tim::hooks {

// The lines of one code object, built once. Consumers derive from it to attach
// what they need per line (labels, hashes...); the tracker only maps a line
// number to an index.
struct LineTable {
    virtual ~LineTable() = default;

    int                       first_line = 0;    // line number of index 0
    std::vector<std::uint8_t> has_line;          // the code object has code on this line
    std::uint64_t             seen_session = 0;  // last session that called it (LineSink::first_use)

    // Index of `lineno`, or -1 when the code object has no code on that line.
    int index_of(int lineno) const {
        const int i = lineno - first_line;
        return i >= 0 && i < static_cast<int>(has_line.size()) && has_line[static_cast<std::size_t>(i)] ? i : -1;
    }
};

// Where finished line executions go (storage, per-line statistics...). One
// sink per thread and session, created on that thread.
class LineSink {
public:
    virtual ~LineSink() = default;
    // A frame of `table` is called for the first time in this session.
    virtual void first_use(const LineTable& table) = 0;
    // One execution of line `index` of `table` ended. `values` holds the raw
    // interval value of each session component, component i at i * max_values.
    virtual void record(const LineTable& table, int index, const double* values) = 0;
};

using LineSinkFactory = std::unique_ptr<LineSink> (*)(const std::vector<int>& indices);

// The active tracing session. Replaced as a whole by begin_line_session();
// `id` changes every time so stale thread states reset.
struct LineSession {
    std::uint64_t    id     = 0;
    bool             active = false;
    std::vector<int> indices;  // component enum values
    LineSinkFactory  make_sink = nullptr;
    const char*      owner     = "";     // who runs it ("timemory.trace"...), for error messages
    bool             inclusive = false;  // callers' lines keep running during traced calls
    bool             closing   = false;  // end_line_session() is closing the open lines
};

extern LineSession g_line_session;

// Starts a session measuring `indices` into the sinks `make_sink` creates.
// `owner` must be a string literal (compared by address and shown in errors).
void begin_line_session(const std::vector<int>& indices, LineSinkFactory make_sink, const char* owner = "",
                        bool inclusive = false);
// Ends the open line of every thread (its interval so far is recorded) and
// deactivates the session.
void end_line_session();

class LineTracker {
public:
    // A frame starts, or a generator resumes; `table` is null when the frame
    // is not traced (filtered out).
    void call(const void* frame, LineTable* table);
    // A line of `frame` starts. Returns false when `frame` is not on this
    // thread's stack (it began before tracing did): adopt() it, then call
    // line() again.
    bool line(const void* frame, int lineno);
    // Puts a frame that began before tracing on the stack. Its table is not
    // given to LineSink::first_use: its other lines ran untraced.
    void adopt(const void* frame, LineTable* table);
    // `frame` returns, yields or unwinds. A frame that is not on the stack (it
    // began before tracing) is ignored.
    void ret(const void* frame);
    // Ends every open line (recording them) and forgets the frames.
    void close_all();

    std::size_t depth() const { return frames_.size(); }
    bool        bound() const { return session_ == g_line_session.id; }
    // Binds the state to the current session if it belongs to an older one.
    void sync() {
        if (!bound()) rebind();
    }

private:
    struct Frame {
        const void* id;
        LineTable*  table;        // null: not traced
        int         line   = -1;  // index of the open line, -1 when none
        bool        paused = false;
    };

    void    rebind();
    double* reading();  // takes the readings of this event (once per event)
    void    push(const void* frame, LineTable* table);
    void    pop();
    bool    unwind_to(const void* frame);
    void    pause_innermost();
    void    resume_innermost();
    void    open(std::size_t k, int index);
    void    close(std::size_t k);
    Frame*  innermost_traced();

    std::uint64_t                     session_   = 0;
    bool                              inclusive_ = false;
    bool                              scalar_    = false;  // one component, one raw value, delta
    bool                              user_      = false;  // a Python-defined component is measured
    readers::EventPlan                plan_;               // the components' kernel reads (event_reads.hpp)
    std::vector<Frame>                frames_;
    std::vector<double>               start_;     // per frame: width_ values at the line's start
    std::vector<double>               excluded_;  // per frame: sum of (resume - pause) readings
    std::vector<double>               now_;       // this event's readings
    bool                              have_now_ = false;
    std::vector<double>               values_;  // n components * max_values, for the sink
    std::vector<const ComponentInfo*> infos_;
    std::vector<std::size_t>          offset_;     // of each component in a reading
    std::size_t                       width_ = 0;  // raw values per reading, all components
    std::unique_ptr<LineSink>         sink_;
};

namespace detail {
extern __thread LineTracker* tls_line_tracker __attribute__((tls_model("initial-exec")));
LineTracker&                 create_line_tracker();
}  // namespace detail

// This thread's state (created on first use, never freed: end_line_session()
// may close it from another thread after this one exited).
inline LineTracker& this_line_tracker() {
    LineTracker* t = detail::tls_line_tracker;
    return t ? *t : detail::create_line_tracker();
}

}  // namespace tim::hooks
