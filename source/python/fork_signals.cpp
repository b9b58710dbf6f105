// A forked child must not report its signals through its parent's wakeup pipe, nor lose them.
//
// timemory._signals reads the signal wakeup fd from a thread of its own (the watcher), which
// takes over when the main thread cannot run the Python handler. A child made by fork()
// inherits that fd: until its Python after-fork hooks replace it, every signal the child
// receives (a pool's SIGTERM to a worker still starting, under load) is written into the
// parent's pipe, and the parent's watcher takes it for its own and ends the parent. The
// pthread_atfork child handler below runs inside fork(), before any Python code of the
// child: it points the child's copy of that descriptor at /dev/null (the interpreter's own
// setter is not exported), so what the child's signals write goes nowhere; signals are
// blocked across fork() until then, so none reaches the child before it.
//
// A child of Python's os.fork() keeps them blocked longer, until timemory's Python after-fork
// hook has given it a wakeup pipe of its own (release_fork_signals): the interpreter clears
// every signal it has caught but not yet handled when the child starts (PyOS_AfterFork_Child),
// so a signal delivered before that (a pool's SIGTERM sent while the child was not yet
// scheduled is delivered as soon as the mask is restored) would be forgotten, and its byte in
// the wakeup pipe went to /dev/null: a pool worker terminated that way went on to wait for
// work forever, and its pool for it. Blocked, it stays pending in the kernel and is delivered
// once the child can handle it. A child of a fork() that runs no Python after-fork hooks (a
// subprocess started without preexec_fn, a C library's fork) gets its mask back at once, as
// before: it must not exec a program with every signal blocked.
#include <atomic>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "bindings.hpp"

namespace {
std::atomic<int> g_watched_fd{-1};  // the write end timemory's watcher reads, -1: none
// The forking thread's signal mask before fork(): every signal is blocked from just before the
// fork until the child has let go of the parent's descriptor (a signal that reached the child
// earlier would still be written into the parent's pipe), then the mask comes back in both.
thread_local sigset_t tl_mask_before_fork;
thread_local bool     tl_masked = false;
// Set by timemory's Python before-fork hook: this fork() is os.fork(), whose child runs the
// Python after-fork hooks, one of which releases the signals.
thread_local bool tl_python_fork = false;

void block_signals_for_fork() {
    if (g_watched_fd.load() < 0) return;
    sigset_t all;
    sigfillset(&all);
    tl_masked = pthread_sigmask(SIG_BLOCK, &all, &tl_mask_before_fork) == 0;
}

void restore_signals_after_fork() {
    if (!tl_masked) return;
    tl_masked = false;
    pthread_sigmask(SIG_SETMASK, &tl_mask_before_fork, nullptr);
}

void restore_signals_in_parent() {
    tl_python_fork = false;
    restore_signals_after_fork();
}

void forget_parents_wakeup_fd() {
    const int fd = g_watched_fd.load();
    if (fd >= 0) {
        // open and dup2 are async-signal-safe: allowed in a child of a multi-threaded process
        const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null >= 0) {
            ::dup2(null, fd);
            ::close(null);
        }
        g_watched_fd.store(-1);
    }
    if (tl_python_fork) {
        tl_python_fork = false;  // released by the Python after-fork hook (see the top)
        return;
    }
    restore_signals_after_fork();  // a signal that came meanwhile is delivered now
}
}  // namespace

namespace timemory_python {

void add_fork_signals(pybind11::module_& m) {
    m.def(
        "set_watched_wakeup_fd",
        [](int fd) {
            static const bool registered =
                pthread_atfork(block_signals_for_fork, restore_signals_in_parent, forget_parents_wakeup_fd) == 0;
            g_watched_fd.store(fd);
            return registered;
        },
        pybind11::arg("fd"),
        "The signal wakeup fd (its write end) that timemory's watcher reads, -1 for none: a "
        "forked child forgets it inside fork(). False where that cannot be arranged.");
    m.def(
        "hold_fork_signals", []() { tl_python_fork = true; },
        "Called just before os.fork() calls fork(): the child keeps every signal blocked until "
        "release_fork_signals() (the parent gets its mask back when fork() returns).");
    m.def(
        "release_fork_signals", []() { restore_signals_after_fork(); },
        "In a child of os.fork(), once it has a signal wakeup fd of its own: the signal mask of "
        "before the fork comes back, and the signals that came meanwhile are delivered. Does "
        "nothing elsewhere.");
}

}  // namespace timemory_python
