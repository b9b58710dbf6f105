// ERT kernels for x86-64 with AVX-512F: built with -mavx512f -mfma (CMakeLists.txt
// defines TIMEMORY_ERT_AVX512 when it does) and only called after the CPU was checked.
#ifdef TIMEMORY_ERT_AVX512
#define TIMEMORY_ERT_NS avx512
#define TIMEMORY_ERT_VBYTES 64
#define TIMEMORY_ERT_UNROLL 16
#include "timemory/ert/kernel_body.inc"
#endif
