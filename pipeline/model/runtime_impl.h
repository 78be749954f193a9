/* Internal state of the CPU runtime, shared by runtime.c and generate.c. */
#ifndef AM_RUNTIME_IMPL_H
#define AM_RUNTIME_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "kernels.h"
#include "model/runtime.h"
#include "model/runtime_cuda.h"
#include "model/wstream.h"

#define AM_SAMP_BUCKETS 4096

struct am_runtime {
    const am_qwen3 *m;
    const am_kernels *k; /* kernel table (scalar or best SIMD level) */
    int D, F, L, H, KV, hd, V;
    int max_units, max_seq, max_tokens;
    int max_q;        /* query rows of one unit in one call: min(max_tokens, max_seq) */
    float eps, scale; /* rms_norm_eps, head_dim^-0.5 */
    size_t bytes;     /* allocated in init */
    am_wstream *ws;   /* weight streaming, NULL = every weight mapped */
    char ws_note[96]; /* am_runtime_weights_note */
    float *head_blk;  /* [U][head_rows] logits of one streamed lm_head block */

    /* per unit */
    float *kcache;  /* [U][L][KV][S][hd] post-norm, post-RoPE keys */
    float *vcache;  /* [U][L][KV][S][hd] values */
    int *len;       /* [U] positions filled */
    int *n_pad;     /* [U] leading pads */
    int *mask_pads; /* [U] 1 = pads masked */
    float *cos_tab; /* [S][hd/2] */
    float *sin_tab; /* [S][hd/2] */

    /* activations of one call, N = max_tokens rows */
    float *x;                      /* [N][D] residual stream */
    float *xn;                     /* [N][D] normed input / projection output */
    float *q;                      /* [N][H][hd] */
    float *kx;                     /* [N][KV][hd] */
    float *vx;                     /* [N][KV][hd] */
    float *att;                    /* [N][H][hd] attention output */
    float *gate;                   /* [N][F] */
    float *up;                     /* [N][F] */
    int *tok_pos;                  /* [N] RoPE positions */
    float *probs;                  /* [probs_cap] per unit [H][nq][nk], units packed */
    size_t probs_cap;              /* H * max(max_q, U) * S floats */
    size_t *probs_off;             /* [U] offset of the call's unit i in probs */
    int *tok0;                     /* [U] first token row of the call's unit i */
    float *cap;                    /* [n_heads][nq][nk] head subset for the hook */
    float *last;                   /* [U][D] last positions, final-normed */
    const am_freeze *freeze;       /* pattern substitution hook, NULL = off */
    int *group_end;                /* [U] attention groups of the call: units [group_end[g-1], group_end[g]) */
    int allow_nonfinite;           /* ATTNMIX_ALLOW_NONFINITE=1: no stop on NaN/inf */
    int nf_unit, nf_layer, nf_pos; /* where a call stopped on a non-finite value (unit -1: none) */
    int n_groups;

    /* CUDA backend (NULL: the CPU runs the layers) */
    am_dev *dev;
    int *row_unit;                /* [N] call index of each token row */
    int *call_q0, *call_npad;     /* [U] positions cached, masked pads of the call's unit i */
    unsigned char *want, *modify; /* [L] layers whose probabilities the host sees / rewrites */

    /* generation */
    float *gen_logits;                                       /* [U][V] */
    float *gen_emb;                                          /* [U][D] */
    const float **gen_emb_ptr;                               /* [U] */
    int *gen_units, *gen_T, *gen_row, *gen_map, *gen_active; /* [U] each */
    uint64_t *rng;                                           /* [U] */
    double *samp_p;                                          /* [V] */
    int *samp_idx;                                           /* [V] */
    int *samp_bucket;                                        /* [V] */
    double *samp_bucket_mass;                                /* [AM_SAMP_BUCKETS] */
};

#endif
