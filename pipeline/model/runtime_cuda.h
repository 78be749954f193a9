/* Device side of the model runtime (model/cuda/forward.cu), built when nvcc
 * is found (AM_HAVE_CUDA; model/runtime_cuda_stub.c otherwise).
 *
 * The device forward follows runtime.c step for step (model/runtime.h has
 * the semantics): weights live on the GPU, bf16 (tensor-core GEMMs, float32
 * accumulation, activations rounded to bf16 at each GEMM input) or float32
 * (plain float32 GEMMs, for checks against the CPU); norms, RoPE, softmax and
 * the KV cache are float32 in every mode. The host keeps the bookkeeping
 * (units, positions, pads, hooks) and calls am_dev_forward per am_forward. */
#ifndef AM_RUNTIME_CUDA_H
#define AM_RUNTIME_CUDA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "base/error.h"
#include "kernels_cuda.h"
#include "model/qwen3.h"

typedef struct am_dev_opts {
    int max_units, max_seq, max_tokens; /* as am_runtime_opts (max_tokens resolved) */
    size_t probs_cap;                   /* floats of one probability buffer */
    am_dev_compute compute;
    int device;                     /* CUDA device index */
    const float *cos_tab, *sin_tab; /* [max_seq][head_dim/2] RoPE tables (host, runtime.c's) */
} am_dev_opts;

/* One am_forward call, prepared by runtime.c. Units are processed in groups
 * whose probabilities ([H][nq][nk] per unit, packed at probs_off[i]) fit one
 * buffer of probs_cap floats. */
typedef struct am_dev_call {
    int n, N;            /* units in the call, token rows */
    const int *units;    /* [n] cache slots */
    const int *T;        /* [n] new tokens of unit i */
    const int *q0;       /* [n] positions already in unit i's cache */
    const int *npad;     /* [n] leading pads masked as keys (0: none) */
    const int *tok0;     /* [n] first row of unit i in x */
    const int *row_unit; /* [N] call index i of each row */
    const int *tok_pos;  /* [N] RoPE position of each row */
    const float *x;      /* [N][D] input embeddings (host) */
    int n_groups;
    const int *group_end;        /* [n_groups] units [group_end[g-1], group_end[g]) form group g */
    const size_t *probs_off;     /* [n] offset of unit i in its group's buffer */
    const unsigned char *want;   /* [L] 1: the host sees the layer's probabilities */
    const unsigned char *modify; /* [L] 1: the host may rewrite them before P.V (freeze) */
    /* Host side of a group's probabilities, after the softmax: called in
     * layer order, units i0..i1-1, probs a host buffer (rewritable when
     * modify) valid during the call. */
    int (*layer_cb)(void *ctx, int layer, int i0, int i1, float *probs, int modify, am_err *e);
    void *ctx;
    float *logits; /* [n][V] host, last row of each unit; NULL: none */
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
