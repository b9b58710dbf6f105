// ERT kernels for x86-64 with AVX2 and FMA: built with -mavx2 -mfma (CMakeLists.txt
// defines TIMEMORY_ERT_AVX2 when it does) and only called after the CPU was checked.
#ifdef TIMEMORY_ERT_AVX2
#define TIMEMORY_ERT_NS avx2
#define TIMEMORY_ERT_VBYTES 32
#define TIMEMORY_ERT_UNROLL 12
#include "timemory/ert/kernel_body.inc"
#endif
