#pragma once
// getrusage() readers. Times are ns, memory bytes, the rest plain counts. Every reader takes
// the event's one getrusage (event_reads.hpp): a bundle of cpu_clock, peak_rss and the page
// faults makes one system call per event, not three.
#include <sys/resource.h>

#include <atomic>
#include <cstdint>

#include "timemory/components/event_reads.hpp"
#include "timemory/components/timing.hpp"

namespace tim::readers {

// Which getrusage target every reader uses (RUSAGE_SELF or RUSAGE_CHILDREN);
// switched by Python's set_rusage_self() / set_rusage_children().
inline std::atomic<int> rusage_target{RUSAGE_SELF};

inline void set_rusage_who(int who) { rusage_target.store(who, std::memory_order_relaxed); }
inline int  rusage_who() { return rusage_target.load(std::memory_order_relaxed); }

inline rusage get_rusage() noexcept {
    rusage ru{};
    getrusage(rusage_who(), &ru);
    count_kernel_read(src_rusage);
    return ru;
}

// The event's getrusage: read by the first component that needs it.
inline const rusage& event_rusage(EventReads& ev) noexcept {
    if (!ev.has(src_rusage)) {
        ev.ru = get_rusage();
        ev.set(src_rusage);
    }
    return ev.ru;
}

// The event's ru_maxrss (KiB). getrusage(RUSAGE_THREAD) reports the same ru_maxrss as
// RUSAGE_SELF (kernel/sys.c: both take the larger of signal->maxrss and the mm's high-water
// RSS, a property of the process, not of the thread) at about half the cost (it sums no
// threads and adjusts no process times: 330 ns against 640 ns measured here), so an event whose
// components need ru_maxrss alone (peak_rss, current_peak_rss: EventPlan) reads that; any other
// event takes it from its full getrusage. RUSAGE_CHILDREN has no such twin.
inline long event_maxrss(EventReads& ev) noexcept {
    if (ev.has(src_rusage)) return ev.ru.ru_maxrss;
    if (ev.plan.maxrss_only && rusage_who() == RUSAGE_SELF) {
        if (!ev.has(src_maxrss)) {
            rusage ru{};
            getrusage(RUSAGE_THREAD, &ru);
            count_kernel_read(src_maxrss);
            ev.maxrss_kib = ru.ru_maxrss;
            ev.set(src_maxrss);
        }
        return ev.maxrss_kib;
    }
    return event_rusage(ev).ru_maxrss;
}

inline double timeval_ns(const timeval& tv) noexcept {
    return static_cast<double>(std::int64_t{tv.tv_sec} * 1000000000 + std::int64_t{tv.tv_usec} * 1000);
}

// CPU times come from getrusage (µs resolution), not times(), whose 10 ms ticks read 0 for short intervals.
inline void read_user_time(EventReads& ev, double* out) { out[0] = timeval_ns(event_rusage(ev).ru_utime); }
inline void read_sys_time(EventReads& ev, double* out) { out[0] = timeval_ns(event_rusage(ev).ru_stime); }
inline void read_cpu_time(EventReads& ev, double* out) {
    if (__builtin_expect(fake_clock.on.load(std::memory_order_relaxed), 0)) {  // tests only (timing.hpp)
        out[0] = static_cast<double>(fake_clock.cpu_ns.load(std::memory_order_relaxed));
        return;
    }
    const rusage& ru = event_rusage(ev);
    out[0]           = timeval_ns(ru.ru_utime) + timeval_ns(ru.ru_stime);
}

// ru_maxrss is in KiB on Linux; the original timemory multiplied by 1000, under-reporting by 2.4%.
inline void read_peak_rss(EventReads& ev, double* out) { out[0] = static_cast<double>(event_maxrss(ev)) * 1024.0; }

inline void read_io_in(EventReads& ev, double* out) { out[0] = static_cast<double>(event_rusage(ev).ru_inblock); }
inline void read_io_out(EventReads& ev, double* out) { out[0] = static_cast<double>(event_rusage(ev).ru_oublock); }
inline void read_minor_faults(EventReads& ev, double* out) { out[0] = static_cast<double>(event_rusage(ev).ru_minflt); }
inline void read_major_faults(EventReads& ev, double* out) { out[0] = static_cast<double>(event_rusage(ev).ru_majflt); }
inline void read_vol_switches(EventReads& ev, double* out) { out[0] = static_cast<double>(event_rusage(ev).ru_nvcsw); }
inline void read_prio_switches(EventReads& ev, double* out) {
    out[0] = static_cast<double>(event_rusage(ev).ru_nivcsw);
}

}  // namespace tim::readers
