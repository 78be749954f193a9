/* The CUDA entry points of kernels_cuda.h in a build without nvcc: each says
 * so, and the CPU runtime is all there is. */
#include <stdio.h>

#include "kernels_cuda.h"

#ifndef AM_HAVE_CUDA

static const char NOT_BUILT[] = "attnmix was built without CUDA (nvcc was not found when it was configured)";

int am_cuda_available(char *why, size_t n) {
    if (why && n) snprintf(why, n, "%s", NOT_BUILT);
    return 0;
}

const am_kernels *am_kernels_cuda(void) { return NULL; }

int am_cuda_read_bandwidth(double *bytes_per_s, size_t bytes, char *msg, size_t cap) {
    (void)bytes;
    *bytes_per_s = 0;
    if (msg && cap) snprintf(msg, cap, "%s", NOT_BUILT);
    return -1;
}

#endif
