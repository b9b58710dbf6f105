/* Does "the perf mmap page's lock did not change" mean "CPU time advanced by the wall time"?
 *
 *     cc -O2 -o /tmp/cpu_time_probe benchmarks/cpu_time_probe.c
 *     /tmp/cpu_time_probe 1000 2000      # ~1 us of work per interval, 2000 intervals
 *     /tmp/cpu_time_probe 1000000 200    # ~1 ms per interval
 *
 * Opens a task-clock perf event on this thread and maps its page (cap_user_time is 0 on the
 * KVM guest this was written on: the page's time fields and its `lock` sequence move only
 * when the kernel updates them, at schedule points). Around each interval of busy work it
 * reads the lock and CLOCK_PROCESS_CPUTIME_ID / CLOCK_MONOTONIC; over the intervals whose lock
 * stayed the same it prints how far the CPU-time advance differed from the wall-time advance.
 * Then it touches 4096 fresh pages with a sampled page-fault event mapped and prints how far
 * the ring buffer's data_head moved. docs/guide/components.md ("Kernel reads of the built-in
 * components") has what it showed and why neither is used to skip a system call. */
#define _GNU_SOURCE
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int64_t ns(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int open_event(uint64_t config, uint64_t period) {
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size          = sizeof a;
    a.type          = PERF_TYPE_SOFTWARE;
    a.config        = config;
    a.sample_period = period;
    a.exclude_hv    = 1;
    return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}

int main(int argc, char** argv) {
    const long iters = argc > 1 ? atol(argv[1]) : 1000;
    const int  n     = argc > 2 ? atoi(argv[2]) : 2000;
    const int  fd    = open_event(PERF_COUNT_SW_TASK_CLOCK, 0);
    if (fd < 0) {
        perror("perf_event_open(task-clock)");
        return 1;
    }
    volatile struct perf_event_mmap_page* pg = mmap(0, 4096, PROT_READ, MAP_SHARED, fd, 0);
    if (pg == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    printf("task-clock page: cap_user_time=%d cap_user_rdpmc=%d index=%u\n", (int)pg->cap_user_time,
           (int)pg->cap_user_rdpmc, pg->index);
    long   same = 0, changed = 0, hist[6] = {0}, max_pos = 0, max_neg = 0;
    double sum = 0;
    for (int s = 0; s < n; ++s) {
        const unsigned l0 = pg->lock;
        __sync_synchronize();
        const int64_t   c0 = ns(CLOCK_PROCESS_CPUTIME_ID), w0 = ns(CLOCK_MONOTONIC);
        volatile double x = 0;
        for (long k = 0; k < iters; ++k) x += (double)k;
        const int64_t c1 = ns(CLOCK_PROCESS_CPUTIME_ID), w1 = ns(CLOCK_MONOTONIC);
        __sync_synchronize();
        if (pg->lock != l0) {
            ++changed;
            continue;
        }
        ++same;
        const long d = (long)((c1 - c0) - (w1 - w0));
        sum += (double)d;
        if (d > max_pos) max_pos = d;
        if (d < max_neg) max_neg = d;
        const long ad = d < 0 ? -d : d;
        ++hist[ad < 100 ? 0 : ad < 500 ? 1 : ad < 1000 ? 2 : ad < 5000 ? 3 : ad < 20000 ? 4 : 5];
    }
    printf("%ld iterations per interval: lock unchanged %ld, changed %ld\n", iters, same, changed);
    printf("unchanged: cpu advance - wall advance: mean %.0f ns, max +%ld / %ld ns\n", same ? sum / same : 0.0, max_pos,
           max_neg);
    printf("  |d| < 100 ns: %ld, < 500 ns: %ld, < 1 us: %ld, < 5 us: %ld, < 20 us: %ld, more: %ld\n", hist[0], hist[1],
           hist[2], hist[3], hist[4], hist[5]);

    const int pf = open_event(PERF_COUNT_SW_PAGE_FAULTS, 1);
    if (pf < 0) {
        perror("perf_event_open(page-faults)");
        return 1;
    }
    volatile struct perf_event_mmap_page* rb = mmap(0, 4096 * 2, PROT_READ, MAP_SHARED, pf, 0);
    if (rb == MAP_FAILED) {
        perror("mmap ring buffer");
        return 1;
    }
    const unsigned long long h0 = rb->data_head;
    char*                    p  = mmap(0, 4096 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int i = 0; i < 4096; ++i) p[(size_t)i * 4096] = 1;
    printf("page-fault ring buffer: data_head %llu -> %llu after touching 4096 new pages\n", h0,
           (unsigned long long)rb->data_head);
    return 0;
}
