#include "timemory/hooks/call_stack.hpp"

#include <mutex>

#include "timemory/storage/timeline.hpp"

namespace tim::hooks {

ProfileSession g_session;
std::uint64_t  g_fast_epoch = 1;

namespace {
struct StackRegistry {
    std::mutex              mtx;
    std::vector<CallStack*> stacks;
};
StackRegistry& stack_registry() {
    static auto* reg = new StackRegistry{};
    return *reg;
}
}  // namespace

namespace detail {
CallStack           g_no_stack;
__thread CallStack* tls_stack __attribute__((tls_model("initial-exec"))) = &g_no_stack;

CallStack& create_call_stack() {
    auto*                       cs  = new CallStack{};
    auto&                       reg = stack_registry();
    std::lock_guard<std::mutex> lk(reg.mtx);
    reg.stacks.push_back(cs);
    return *(tls_stack = cs);
}
}  // namespace detail

void begin_session(const std::vector<int>& indices, bool flat, bool timeline, int max_depth) {
    g_session.indices   = indices;
    g_session.flat      = flat;
    g_session.timeline  = timeline;
    g_session.max_depth = max_depth < 1 ? 1 : max_depth;
    g_session.active    = true;
    ++g_session.id;
    invalidate_fast_paths();
}

void end_session() {
    std::vector<CallStack*> stacks;
    {
        auto&                       reg = stack_registry();
        std::lock_guard<std::mutex> lk(reg.mtx);
        stacks = reg.stacks;
    }
    // Off before the frames close: a Python-defined component's stop() runs Python code
    // here, outside any profile callback, and its events must not reach the stacks being
    // closed (the callbacks ignore events while the session is off).
    g_session.active = false;
    invalidate_fast_paths();
    for (auto* cs : stacks)
        if (cs->depth() > 0) cs->close_all();
    ++g_session.id;  // every stack rebinds (and so starts empty) next time
}

void CallStack::rebind() {
    frames_.clear();
    frames_.set_max_depth(g_session.max_depth);
    top_       = 0;
    session_   = g_session.id;
    n_         = static_cast<int>(g_session.indices.size());
    flat_      = g_session.flat;
    timeline_  = g_session.timeline;
    tree_      = !flat_ && !timeline_;
    max_depth_ = g_session.max_depth;
    graphs_.clear();
    infos_.clear();
    scalar_.clear();
    events_.clear();
    wall_pos_ = -1;
    user_     = false;
    auto& td  = thread_data();
    for (int index : g_session.indices) {
        if (index == timeline::wall_clock_index() && wall_pos_ < 0) wall_pos_ = static_cast<int>(graphs_.size());
        auto& g = td.graph(index);
        graphs_.push_back(&g);
        infos_.push_back(&g.info());
        scalar_.push_back(is_scalar_delta(g.info()) && g.info().read != nullptr);
        user_ = user_ || g.info().user;
    }
    scratch_.assign(static_cast<std::size_t>(n_) * max_values, 0.0);
    plan_        = readers::plan_of(infos_);
    single_      = n_ == 1 && !user_ && !plan_.shared && scalar_[0] && infos_[0]->read != nullptr;
    single_wall_ = single_ && wall_pos_ == 0 && infos_[0]->read == &readers::read_wall_clock;
    single_read_ = single_ ? infos_[0]->read : nullptr;
    graph_       = single_ ? graphs_[0] : nullptr;
    fixed_       = single_ && graph_->one_value_layout();
}

void CallStack::refresh_fast() {
    const bool ok = session_ == g_session.id && g_session.active && config().enabled && fixed_ &&
                    !timeline_recording() && events_.empty();
    fast_         = ok ? g_fast_epoch : 0;
    wall_direct_  = single_wall_ && !readers::fake_clock.on.load(std::memory_order_relaxed);
}

void CallStack::enter_any(std::uint64_t hash, std::string_view label) {
    const std::size_t offset = top_;
    top_ += static_cast<std::size_t>(n_);
    if (meas_count_ < top_) grow_meas(top_);
    Measurement* m = meas_.data() + offset;
    for (int i = 0; i < n_; ++i) {
        CallGraph& g    = *graphs_[static_cast<std::size_t>(i)];
        m[i].graph      = &g;
        m[i].prev       = g.current();
        m[i].node       = g.push(hash, label, flat_, timeline_);
        m[i].generation = g.generation();
    }
    // readings last, so the bookkeeping above is not part of the measurement. A
    // Python-defined component's start runs its object's start() here, under the GIL the
    // profile callback holds; CPython sends no events while a profile callback runs (its
    // tracing flag, sys.monitoring's too), so the component's own calls are not profiled.
    if (__builtin_expect(user_ | plan_.shared, 0)) {
        readers::EventReads ev(plan_);  // the event's shared kernel reads
        for (int i = 0; i < n_; ++i) start_reading(*infos_[static_cast<std::size_t>(i)], m[i].start, ev);
    } else {  // native components only, none of a shared source: plain readings
        for (int i = 0; i < n_; ++i) read_now(*infos_[static_cast<std::size_t>(i)], m[i].start);
    }
    // off: one load and a branch predicted not taken
    if (__builtin_expect(timeline::recording(), 0)) begin_event(hash, m);
    StackFrame& f = frames_.push();
    f.node        = frame_multi;
    f.prev        = static_cast<std::int32_t>(offset);
}

void CallStack::grow_meas(std::size_t n) {
    meas_.resize(n * 2);
    meas_count_ = meas_.size();
}

void CallStack::begin_event(std::uint64_t hash, const Measurement* m) {
    // wall_clock's own start reading when the session measures it (the event then lasts
    // exactly what wall_clock recorded), else the clock wall_clock reads, read now
    const double begin = wall_pos_ >= 0 ? m[wall_pos_].start[0] : timeline::now_ns();
    events_.push_back({frames_.size(), hash, begin, timeline::open_depth()});
}

void CallStack::end_event(const double* stop, const Measurement* m) {
    const OpenEvent open = events_.back();
    events_.pop_back();
    // the storage was cleared since the call: the event goes as the call graph's interval goes
    if (n_ > 0 && m[0].generation != m[0].graph->generation()) return timeline::forget(thread_data().tid);
    timeline::Event ev;
    ev.begin_ns = open.begin_ns;
    ev.end_ns   = wall_pos_ >= 0 ? stop[wall_pos_ * max_values] : timeline::now_ns();
    ev.hash     = open.hash;
    ev.tid      = thread_data().tid;
    ev.depth    = open.depth;
    timeline::SampleBuffer samples;
    for (int i = 0; i < n_; ++i)
        if (i != wall_pos_) timeline::add_samples(*infos_[static_cast<std::size_t>(i)], stop + i * max_values, samples);
    ev.n_samples = static_cast<std::uint16_t>(samples.size() > 65535 ? 65535 : samples.size());
    timeline::record(ev, samples.data(), ev.n_samples);
}

void CallStack::leave() {
    const StackFrame& f = frames_.top();
    if (f.node == frame_bottom) return;
    frames_.pop();  // f stays readable: the buffer only grows
    if (f.node >= -1) leave_single(f);
    else if (f.node == frame_multi) leave_any(f.prev);
}

void CallStack::leave_rare() { leave(); }

void CallStack::enter_fast_other(StackFrame& f, std::uint64_t hash, std::string_view label) {
    f.node  = graph_->push(hash, label, flat_, timeline_);
    f.start = read_fast();  // last: the bookkeeping is not part of the measurement
}

void CallStack::leave_single(const StackFrame& f) {
    const double stop = read_single();
    CallGraph&   g    = *graph_;
    if (f.generation == g.generation()) {  // else the storage was cleared meanwhile
        if (f.node >= 0) g.record_scalar(f.node, stop - f.start);
        g.pop(f.node, f.prev);
    }
}

void CallStack::leave_any(std::int32_t offset) {
    double*      stop = scratch_.data();
    Measurement* m    = meas_.data() + offset;
    if (__builtin_expect(user_ | plan_.shared, 0)) {
        readers::EventReads ev(plan_);  // the event's shared kernel reads
        for (int i = 0; i < n_; ++i)
            stop_reading(*infos_[static_cast<std::size_t>(i)], m[i].start, stop + i * max_values, ev);
    } else {
        for (int i = 0; i < n_; ++i) read_now(*infos_[static_cast<std::size_t>(i)], stop + i * max_values);
    }
    if (__builtin_expect(!events_.empty(), 0) && events_.back().level == frames_.size()) end_event(stop, m);
    for (int i = 0; i < n_; ++i) {
        CallGraph& g = *m[i].graph;
        if (m[i].generation != g.generation()) continue;  // storage cleared meanwhile
        if (m[i].node >= 0 && !(user_ && no_value(g.info(), stop + i * max_values))) {
            if (scalar_[static_cast<std::size_t>(i)]) {
                g.record_scalar(m[i].node, stop[i * max_values] - m[i].start[0]);
            } else {
                double value[max_values];
                interval_value(g.info(), m[i].start, stop + i * max_values, value);
                g.record(m[i].node, value);
            }
        }
        g.pop(m[i].node, m[i].prev);
    }
    top_ = static_cast<std::size_t>(offset);
}

void CallStack::close_all() {
    while (!frames_.empty()) leave();
}

}  // namespace tim::hooks
