// ERT kernels for any CPU: 16-byte vectors (SSE2 on x86-64, NEON/… elsewhere or
// split by the compiler), plus the scalar baseline. Built with the vectoriser off
// (CMakeLists.txt) so that the scalar kernel stays scalar.
#define TIMEMORY_ERT_NS generic
#define TIMEMORY_ERT_VBYTES 16
#define TIMEMORY_ERT_UNROLL 12
#define TIMEMORY_ERT_SCALAR 1
#include "timemory/ert/kernel_body.inc"
