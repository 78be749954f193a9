/* Qwen3 forward pass on the CPU: ragged batches of units (sequences), each
 * with its own KV cache, attention-probability capture through a hook, and
 * batched greedy or sampled generation. */
#ifndef AM_RUNTIME_H
#define AM_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "model/qwen3.h"

/* Capture hook, called for every captured layer and every unit of a forward
 * call, right after that layer's attention probabilities exist.
 *   probs: [n_heads][nq][nk] float32 row-major, heads in cap->heads order
 *          (all H query heads when heads == NULL);
 *   query row i sits at absolute position q0 + i; keys are 0..nk-1 with
 *   nk = q0 + nq; cells above the diagonal are exactly 0.
 * The buffer is only valid during the call. Return -1 (with e set) to abort. */
typedef struct am_capture {
    int (*fn)(void *ctx, int layer, int unit, int q0, int nq, int nk, const float *probs, am_err *e);
    void *ctx;
    const unsigned char *layers; /* [L], 1 = capture; NULL = every layer */
    const int *heads;            /* [n_heads] query heads; NULL = all H */
    int n_heads;
} am_capture;

/* Freeze hook ("frozen attention patterns"): called for every substituted
 * (layer, unit, head) of a forward call after the softmax and before the
 * probabilities multiply the values, so the head's query/key path is replaced
 * by the pattern the hook writes while its value/output path sees this run's
 * input. probs: [nq][nk] float32 of this head, query row i at absolute
 * position q0 + i, keys 0..nk-1 (nk = q0 + nq); on entry it holds this run's
 * own probabilities; the hook overwrites it. Cells above the diagonal are
 * ignored (the value sum runs over keys 0..q0+i). The capture hook then sees
 * the substituted probabilities. Return -1 (with e set) to abort. */
typedef struct am_freeze {
    int (*fn)(void *ctx, int layer, int unit, int head, int q0, int nq, int nk, float *probs, am_err *e);
    void *ctx;
    const unsigned char *layers; /* [L], 1 = substitute; NULL = every layer */
    const unsigned char *heads;  /* [H] query heads, 1 = substitute; NULL = all */
} am_freeze;

typedef enum am_rt_backend { AM_RT_CPU = 0, AM_RT_CUDA = 1 } am_rt_backend;

typedef struct am_runtime_opts {
    int max_units;         /* units (KV caches) held at once */
    int max_seq;           /* positions per unit: prompt + generated */
    int max_tokens;        /* tokens in one am_forward call over all units; 0 = max_units * max_seq */
    int threads;           /* 0 = OpenMP default */
    int scalar;            /* 1 = plain reference kernels everywhere (tests) */
    am_rt_backend backend; /* AM_RT_CPU (default) or AM_RT_CUDA: the layers run on the GPU
                            * (model/runtime_cuda.h); hooks, sampling and bookkeeping stay here */
    int cuda_f32;          /* AM_RT_CUDA: 1 = float32 compute, 0 = bf16 GEMMs (default) */
    /* AM_RT_CPU: 0 = every weight stays mapped (default); else the bytes of
     * weights kept resident, the rest streamed from disk (model/wstream.h) */
    uint64_t weights_budget;
} am_runtime_opts;

typedef struct am_runtime am_runtime;

int am_runtime_init(am_runtime **rt, const am_qwen3 *m, const am_runtime_opts *o, am_err *e);
void am_runtime_free(am_runtime *rt);

/* Empty unit u's cache and set its padding: the first n_pad positions it will
 * receive are pads. mask_pads = 0 (default, as the original experiment):
 * pads are ordinary tokens, positions 0..T-1. mask_pads = 1: pads are masked
 * as keys for every later query, real tokens get positions 0,1,..., and a pad
 * query attends only to itself. */
void am_runtime_reset(am_runtime *rt, int unit, int n_pad, int mask_pads);

/* Positions filled in unit's cache (-1 for a bad unit). */
int am_runtime_len(const am_runtime *rt, int unit);
/* Bytes allocated by am_runtime_init (host, plus device with AM_RT_CUDA). */
size_t am_runtime_bytes(const am_runtime *rt);
/* Weight bytes read from the checkpoint files by weight streaming so far
 * (0 when every weight is mapped). */
uint64_t am_runtime_bytes_streamed(const am_runtime *rt);
/* "" when every weight is mapped, else how they stream, e.g. "weights
 * streamed: 2 of 4 layers resident, lm_head streamed". */
const char *am_runtime_weights_note(const am_runtime *rt);
/* Kernel level in use: "scalar", "avx2", "avx512", or the CUDA device
 * ("cuda-bf16 (NVIDIA H200)"). */
const char *am_runtime_kernel_name(const am_runtime *rt);

/* Install (fz != NULL) or remove (NULL) the freeze hook for the following
 * am_forward / am_generate calls. The struct and its arrays must stay valid
 * while installed. */
void am_runtime_set_freeze(am_runtime *rt, const am_freeze *fz);

/* Token id's embedding row (stored dtype) as float32 into out[D]. */
void am_embed_lookup(const am_qwen3 *m, int32_t id, float *out);

/* After a call failed on a non-finite value (the residual stream after a
 * layer, or the logits): 1 with the unit, the layer (-1: the logits) and the
 * position where it first appeared; 0 when the last failure was not one.
 * Every call checks unless ATTNMIX_ALLOW_NONFINITE=1 (model/finite.h). */
int am_runtime_nonfinite(const am_runtime *rt, int *unit, int *layer, int *pos);

/* Append T[i] input embeddings emb[i] ([T[i]][D] float32) to the cache of unit
 * units[i], for i < n, computing all layers (prefill when T > 1, a decode step
 * when T == 1). logits, if not NULL: [n][V], the last appended position's. */
int am_forward(am_runtime *rt, int n, const int *units, const int *T, const float *const *emb, const am_capture *cap,
               float *logits, am_err *e);

typedef struct am_gen_opts {
    int max_new_tokens;
    const int *max_new; /* [n] per-unit limits (<= max_new_tokens); NULL = none */
    const int *eos_ids; /* stop ids (the eos itself is kept and fed) */
    int n_eos;
    double temperature; /* 0 = greedy (ties: lowest id) */
    double top_p;       /* sampling only; 1 = off */
    int top_k;          /* sampling only; 0 = off (applied after temperature, before top_p, as HF) */
    uint64_t seed;      /* sampling only; unit u uses stream (seed, units[u]) */
    /* Teacher forcing (both NULL: live generation). follow [n]: unit i takes,
     * at every step, the token unit follow[i] picked at that step (-1: its
     * own pick; the followed unit must pick its own), and stops with it.
     * forced [n_forced]: the tokens every unit is fed, in order; a unit stops
     * after the last one (eos ids do not stop it). */
    const int *follow;
    const int32_t *forced;
    int n_forced;
    void (*progress)(void *ctx, int step, int active);
    void *progress_ctx;
} am_gen_opts;

/* Generate for n prefilled units, starting from their last logits
 * (logits0: [n][V]). All active units advance in one am_forward per step.
 * Every generated token is fed back as its plain embedding, the last one too,
 * so the captured map of a unit with T prompt tokens and N generated tokens
 * is (T+N) x (T+N). gen: [n][max_new_tokens] ids, n_gen: [n] counts. */
int am_generate(am_runtime *rt, int n, const int *units, const float *logits0, const am_gen_opts *g,
                const am_capture *cap, int32_t *gen, int *n_gen, am_err *e);

#endif
