#include "timemory/hooks/line_tracker.hpp"

#include <mutex>

#include "timemory/config.hpp"
#include "timemory/storage/call_graph.hpp"

namespace tim::hooks {

LineSession g_line_session;

namespace {
struct TrackerRegistry {
    std::mutex                mtx;
    std::vector<LineTracker*> trackers;
};
TrackerRegistry& tracker_registry() {
    static auto* reg = new TrackerRegistry{};
    return *reg;
}
}  // namespace

namespace detail {
__thread LineTracker* tls_line_tracker __attribute__((tls_model("initial-exec"))) = nullptr;

LineTracker& create_line_tracker() {
    auto*                       t   = new LineTracker{};
    auto&                       reg = tracker_registry();
    std::lock_guard<std::mutex> lk(reg.mtx);
    reg.trackers.push_back(t);
    return *(tls_line_tracker = t);
}
}  // namespace detail

void begin_line_session(const std::vector<int>& indices, LineSinkFactory make_sink, const char* owner, bool inclusive) {
    g_line_session.indices   = indices;
    g_line_session.make_sink = make_sink;
    g_line_session.owner     = owner;
    g_line_session.inclusive = inclusive;
    g_line_session.active    = true;
    ++g_line_session.id;
}

void end_line_session() {
    std::vector<LineTracker*> trackers;
    {
        auto&                       reg = tracker_registry();
        std::lock_guard<std::mutex> lk(reg.mtx);
        trackers = reg.trackers;
    }
    // A Python-defined component's stop() runs Python code here, outside any trace
    // callback: its events must not reach the trackers being closed (feed_line_tracker
    // ignores events while closing).
    g_line_session.closing = true;
    for (auto* t : trackers)
        if (t->bound()) t->close_all();
    g_line_session.closing = false;
    g_line_session.active  = false;
    ++g_line_session.id;  // every thread's state rebinds (and so starts empty) next time
}

// ------------------------------------------------------------------ tracker
void LineTracker::rebind() {
    frames_.clear();
    session_   = g_line_session.id;
    inclusive_ = g_line_session.inclusive;
    infos_.clear();
    offset_.clear();
    width_ = 0;
    user_  = false;
    for (int index : g_line_session.indices) {
        const auto& info = component_table()[static_cast<std::size_t>(index)];
        infos_.push_back(&info);
        offset_.push_back(width_);
        // a Python-defined component's start keeps its object in two values (start_reading)
        width_ += static_cast<std::size_t>(info.user && info.n_raw < 2 ? 2 : info.n_raw);
        user_ = user_ || info.user;
    }
    plan_ = readers::plan_of(infos_);
    // the common case (wall_clock alone, say) skips the per-component loops
    scalar_ = infos_.size() == 1 && infos_[0]->combine == Combine::delta && infos_[0]->n_raw == 1;
    now_.assign(width_, 0.0);
    values_.assign(infos_.size() * static_cast<std::size_t>(max_values), 0.0);
    sink_ = g_line_session.make_sink ? g_line_session.make_sink(g_line_session.indices) : nullptr;
}

double* LineTracker::reading() {
    if (!have_now_) {
        // Python-defined components are not read per event: each line's interval is an object
        // of their own, started in open() and stopped in close()
        if (__builtin_expect(user_ | plan_.shared, 0)) {
            readers::EventReads ev(plan_);  // the line's shared kernel reads
            for (std::size_t i = 0; i < infos_.size(); ++i)
                if (!infos_[i]->user) read_now(*infos_[i], now_.data() + offset_[i], ev);
        } else {
            for (std::size_t i = 0; i < infos_.size(); ++i) read_now(*infos_[i], now_.data() + offset_[i]);
        }
        have_now_ = true;
    }
    return now_.data();
}

LineTracker::Frame* LineTracker::innermost_traced() {
    for (auto k = frames_.size(); k-- > 0;)
        if (frames_[k].table) return &frames_[k];
    return nullptr;
}

void LineTracker::push(const void* frame, LineTable* table) {
    if (table && !inclusive_) pause_innermost();
    frames_.push_back(Frame{frame, table});
    if (start_.size() < frames_.size() * width_) {
        start_.resize(frames_.size() * width_ * 2);
        excluded_.resize(start_.size());
    }
}

void LineTracker::pop() {
    const bool traced = frames_.back().table != nullptr;
    if (frames_.back().line >= 0) close(frames_.size() - 1);
    frames_.pop_back();
    if (traced && !inclusive_) resume_innermost();
}

bool LineTracker::unwind_to(const void* frame) {
    // A frame below the top: those above it ended without a return event
    // (their hook was removed meanwhile, say). They are closed here.
    for (auto k = frames_.size(); k-- > 0;) {
        if (frames_[k].id != frame) continue;
        while (frames_.size() > k + 1) pop();
        return true;
    }
    return false;
}

void LineTracker::pause_innermost() {
    Frame* f = innermost_traced();
    if (!f || f->line < 0 || f->paused) return;
    const double* now = reading();
    double*       x   = excluded_.data() + static_cast<std::size_t>(f - frames_.data()) * width_;
    for (std::size_t j = 0; j < width_; ++j) x[j] -= now[j];
    f->paused = true;
}

void LineTracker::resume_innermost() {
    Frame* f = innermost_traced();
    if (!f || !f->paused) return;
    const double* now = reading();
    double*       x   = excluded_.data() + static_cast<std::size_t>(f - frames_.data()) * width_;
    for (std::size_t j = 0; j < width_; ++j) x[j] += now[j];
    f->paused = false;
}

void LineTracker::open(std::size_t k, int index) {
    const double* now = reading();
    if (scalar_) {
        start_[k]         = now[0];
        excluded_[k]      = 0.0;
        frames_[k].line   = index;
        frames_[k].paused = false;
        return;
    }
    double* s = start_.data() + k * width_;
    double* x = excluded_.data() + k * width_;
    for (std::size_t j = 0; j < width_; ++j) {
        s[j] = now[j];
        x[j] = 0.0;
    }
    if (__builtin_expect(user_, 0))  // their start() runs last: not part of the native readings
        for (std::size_t i = 0; i < infos_.size(); ++i)
            if (infos_[i]->user) start_reading(*infos_[i], s + offset_[i]);
    frames_[k].line   = index;
    frames_[k].paused = false;
}

void LineTracker::close(std::size_t k) {
    Frame&        f   = frames_[k];
    const double* now = reading();
    if (scalar_) {
        double& x = excluded_[k];
        if (f.paused) {
            x += now[0];
            f.paused = false;
        }
        values_[0]      = now[0] - start_[k] - x;
        const int index = f.line;
        f.line          = -1;
        if (sink_) sink_->record(*f.table, index, values_.data());
        return;
    }
    const double* s = start_.data() + k * width_;
    double*       x = excluded_.data() + k * width_;
    if (f.paused) {  // ended while a traced callee ran (the session stopped, or its frames were lost)
        for (std::size_t j = 0; j < width_; ++j) x[j] += now[j];
        f.paused = false;
    }
    for (std::size_t i = 0; i < infos_.size(); ++i) {
        const auto& info = *infos_[i];
        double*     v    = values_.data() + i * static_cast<std::size_t>(max_values);
        if (info.user) {  // the reading at stop, callees included (NaN when it has none: no_value)
            stop_reading(info, s + offset_[i], v);
            continue;
        }
        interval_value(info, s + offset_[i], now + offset_[i], v);
        // only a difference of readings can leave out the time of the callees
        if (info.combine == Combine::delta)
            for (int j = 0; j < info.n_raw; ++j) v[j] -= x[offset_[i] + static_cast<std::size_t>(j)];
    }
    const int index = f.line;
    f.line          = -1;
    if (sink_) sink_->record(*f.table, index, values_.data());
}

// ------------------------------------------------------------------ events
void LineTracker::call(const void* frame, LineTable* table) {
    have_now_ = false;
    push(frame, table);
    if (table && table->seen_session != session_) {
        table->seen_session = session_;
        if (sink_) sink_->first_use(*table);
    }
}

void LineTracker::adopt(const void* frame, LineTable* table) {
    // Not entered while tracing: only the lines it runs from now on are recorded
    // (listing the others, which ran before, as never run would mislead).
    have_now_ = false;
    push(frame, table);
}

bool LineTracker::line(const void* frame, int lineno) {
    have_now_ = false;
    if (frames_.empty() || (frames_.back().id != frame && !unwind_to(frame))) return false;
    const std::size_t k = frames_.size() - 1;
    Frame&            f = frames_[k];
    if (!f.table) return true;
    const int index = config().enabled ? f.table->index_of(lineno) : -1;
    if (f.line >= 0) close(k);
    if (index >= 0) open(k, index);
    return true;
}

void LineTracker::ret(const void* frame) {
    have_now_ = false;
    if (frames_.empty() || (frames_.back().id != frame && !unwind_to(frame))) return;
    pop();
}

void LineTracker::close_all() {
    have_now_ = false;
    for (auto k = frames_.size(); k-- > 0;)
        if (frames_[k].line >= 0) close(k);
    frames_.clear();
}

}  // namespace tim::hooks
