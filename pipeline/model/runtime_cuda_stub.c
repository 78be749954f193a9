/* The device runtime of runtime_cuda.h in a build without nvcc: each entry
 * point says so, and the CPU runtime is all there is. */
#include "model/runtime_cuda.h"

#ifndef AM_HAVE_CUDA

static const char NOT_BUILT[] = "attnmix was built without CUDA (nvcc was not found when it was configured)";

int am_dev_init(am_dev **d, const am_qwen3 *m, const am_dev_opts *o, am_err *e) {
    (void)o;
    *d = NULL;
    return am_fail(e, "CUDA backend for %s: %s", m->dir, NOT_BUILT);
}

int am_dev_forward(am_dev *d, const am_dev_call *c, am_err *e) {
    (void)d, (void)c;
    return am_fail(e, "CUDA backend: %s", NOT_BUILT);
}

void am_dev_free(am_dev *d) { (void)d; }

size_t am_dev_bytes(const am_dev *d) {
    (void)d;
    return 0;
}

const char *am_dev_name(const am_dev *d) {
    (void)d;
    return "cuda (not built)";
}

#endif
