// The exit status of a run whose output was lost (python/timemory/_output/_plan.py).
//
// A program that succeeded but whose output could be written nowhere must not exit 0; one that
// failed keeps its own status. Python cannot tell at its atexit time how the process will exit
// (sys.exit(3) and a normal end look the same there), but glibc's on_exit handlers receive the
// status passed to exit(): the handler below turns 0 into the status asked for. It ends the
// process with _exit after flushing stdio, so C exit handlers registered before it (libraries
// loaded before the first loss) do not run in that case.
#include <cstdio>

#include <unistd.h>

#include "bindings.hpp"

namespace {
volatile int g_status_on_success = 0;

#if defined(__GLIBC__)
void on_exit_status(int status, void*) {
    if (status == 0 && g_status_on_success != 0) {
        std::fflush(nullptr);
        ::_exit(g_status_on_success);
    }
}
#endif
}  // namespace

namespace timemory_python {

void add_exit_status(pybind11::module_& m) {
    m.def(
        "set_exit_status_on_success",
        [](int status) {
#if defined(__GLIBC__)
            static const bool registered = ::on_exit(on_exit_status, nullptr) == 0;
            g_status_on_success = status;
            return registered;
#else
            (void)status;
            return false;
#endif
        },
        pybind11::arg("status"),
        "Make the process exit with `status` where it would exit with 0 (0: leave it). False "
        "where that is not possible (no glibc on_exit).");
}

}  // namespace timemory_python
