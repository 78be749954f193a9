/* CUDA backend: the device kernels (kernels/cuda/kernels.cu) and the device
 * side of the model runtime (kernels/cuda/forward.cu). Built when nvcc is
 * found at configure time (AM_HAVE_CUDA); without it, or without a usable
 * GPU, every entry point says so and nothing else changes.
 *
 * The device forward follows runtime.c step for step (pipeline/runtime.h has
 * the semantics): weights live on the GPU, bf16 (tensor-core GEMMs, float32
 * accumulation, activations rounded to bf16 at each GEMM input) or float32
 * (plain float32 GEMMs, for checks against the CPU); norms, RoPE, softmax and
 * the KV cache are float32 in every mode. The host keeps the bookkeeping
 * (units, positions, pads, hooks) and calls am_dev_forward per am_forward. */
#ifndef AM_KERNELS_CUDA_H
#define AM_KERNELS_CUDA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "error.h"
#include "kernels.h"
#include "qwen3.h"

/* 1 when the CUDA backend is built and a device can be used; else 0 with
 * the reason in why (e.g. "built without CUDA", "no CUDA device: ..."). */
int am_cuda_available(char *why, size_t n);

/* The device kernels behind the am_kernels interface on host pointers: each
 * call copies its inputs to the GPU, runs the kernel the device forward uses,
 * and copies the result back. For tests against the CPU references (slow);
 * NULL when am_cuda_available() is 0. matmul runs in float32 (no TF32). */
const am_kernels *am_kernels_cuda(void);

/* The device's memory-read roofline: the best of 3 reads of `bytes` (after
 * a warm-up) by a streaming kernel, in bytes per second (benchmarks). */
int am_cuda_read_bandwidth(double *bytes_per_s, size_t bytes, am_err *e);

typedef enum am_dev_compute { AM_DEV_BF16 = 0, AM_DEV_F32 = 1 } am_dev_compute;

typedef struct am_dev_opts {
    int max_units, max_seq, max_tokens; /* as am_runtime_opts (max_tokens resolved) */
    size_t probs_cap;                   /* floats of one probability buffer */
    am_dev_compute compute;
    int device;                         /* CUDA device index */
    const float *cos_tab, *sin_tab;     /* [max_seq][head_dim/2] RoPE tables (host, runtime.c's) */
} am_dev_opts;

/* One am_forward call, prepared by runtime.c. Units are processed in groups
 * whose probabilities ([H][nq][nk] per unit, packed at probs_off[i]) fit one
 * buffer of probs_cap floats. */
typedef struct am_dev_call {
    int n, N;             /* units in the call, token rows */
    const int *units;     /* [n] cache slots */
    const int *T;         /* [n] new tokens of unit i */
    const int *q0;        /* [n] positions already in unit i's cache */
    const int *npad;      /* [n] leading pads masked as keys (0: none) */
    const int *tok0;      /* [n] first row of unit i in x */
    const int *row_unit;  /* [N] call index i of each row */
    const int *tok_pos;   /* [N] RoPE position of each row */
    const float *x;       /* [N][D] input embeddings (host) */
    int n_groups;
    const int *group_end; /* [n_groups] units [group_end[g-1], group_end[g]) form group g */
    const size_t *probs_off; /* [n] offset of unit i in its group's buffer */
    const unsigned char *want;   /* [L] 1: the host sees the layer's probabilities */
    const unsigned char *modify; /* [L] 1: the host may rewrite them before P.V (freeze) */
    /* Host side of a group's probabilities, after the softmax: called in
     * layer order, units i0..i1-1, probs a host buffer (rewritable when
     * modify) valid during the call. */
    int (*layer_cb)(void *ctx, int layer, int i0, int i1, float *probs, int modify, am_err *e);
    void *ctx;
    float *logits;        /* [n][V] host, last row of each unit; NULL: none */
} am_dev_call;

typedef struct am_dev am_dev;

int am_dev_init(am_dev **d, const am_qwen3 *m, const am_dev_opts *o, am_err *e);
int am_dev_forward(am_dev *d, const am_dev_call *c, am_err *e);
void am_dev_free(am_dev *d);
/* Device bytes allocated by am_dev_init. */
size_t am_dev_bytes(const am_dev *d);
/* "cuda-bf16 (NVIDIA H200)" */
const char *am_dev_name(const am_dev *d);

#ifdef __cplusplus
}
#endif

#endif
