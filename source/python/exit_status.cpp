// The exit status of a run whose output was lost (python/timemory/_output/_plan.py).
//
// A program that succeeded but whose output could be written nowhere must not exit 0; one that
// failed keeps its own status. Python cannot tell at its atexit time how the process will exit
// (sys.exit(3) and a normal end look the same there), but glibc's on_exit handlers receive the
// status passed to exit(): the handler below turns 0 into the status asked for. It ends the
// process with _exit after flushing stdio, so C exit handlers registered before it (by the
// libraries loaded before timemory._core) do not run in that case.
#include <atomic>
#include <cstdio>

#include <unistd.h>

#include "bindings.hpp"

namespace {
std::atomic<int> g_status_on_success{0};  // set by Python, read at exit

#if defined(__GLIBC__)
void on_exit_status(int status, void*) {
    const int lost = g_status_on_success.load();
    if (status == 0 && lost != 0) {
        std::fflush(nullptr);
        ::_exit(lost);
    }
}
#endif
}  // namespace

namespace timemory_python {

void add_exit_status(pybind11::module_& m) {
#if defined(__GLIBC__)
    // registered when _core is loaded, not at the first loss: the exit handlers registered
    // after it (most of the program's) then still run before it
    static const bool registered = ::on_exit(on_exit_status, nullptr) == 0;
#else
    static const bool registered = false;
#endif
    m.def(
        "set_exit_status_on_success",
        [](int status) {
            g_status_on_success.store(status);
            return registered;
        },
        pybind11::arg("status"),
        "Make the process exit with `status` where it would exit with 0 (0: leave it). False "
        "where that is not possible (no glibc on_exit).");
}

}  // namespace timemory_python
