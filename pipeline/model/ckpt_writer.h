/* Synthetic Qwen3 checkpoints in Hugging Face layout: config.json,
 * generation_config.json, model.safetensors or shards + index, seeded random
 * weights from a counter-based RNG (same bytes for any thread count). */
#ifndef AM_CKPT_WRITER_H
#define AM_CKPT_WRITER_H

#include <stdint.h>

#include "model/qwen3.h"

/* Kinds of tensors, each with its own value distribution. */
enum {
    AM_CKPT_MATRIX = 0, /* ~ N(0, 0.02^2) (sum-of-four-uniforms approximation) */
    AM_CKPT_NORM = 1,   /* 1 + 0.1*u, u ~ U[-1, 1) */
    AM_CKPT_QKNORM = 2, /* qk_scale * (1 + 0.1*u) */
};

typedef struct am_ckpt_tensor {
    char name[96]; /* HF name, e.g. "model.layers.3.mlp.up_proj.weight" */
    int ndim;      /* 1 or 2 */
    int64_t shape[2];
    int kind; /* AM_CKPT_* */
} am_ckpt_tensor;

typedef struct am_ckpt_opts {
    am_dtype dtype; /* stored dtype of every tensor */
    int shards;     /* 1: model.safetensors; N > 1: model-0000i-of-0000N + index */
    uint64_t seed;
    double qk_scale;       /* multiplies q_norm/k_norm weights */
    const char *tokenizer; /* directory with tokenizer.json (+ tokenizer_config.json) or a
                            * tokenizer.json file; NULL = none */
    int circuit;           /* hand-set weights with known heads (preset "circuit" shape:
                          * D 64, hd 32, H 4, KV 2, L >= 2); seed sets the embeddings */
    int force;             /* replace an existing checkpoint directory */
    int progress;          /* progress lines on stderr */
} am_ckpt_opts;

/* Names accepted by am_ckpt_preset, space separated. */
extern const char *const am_ckpt_preset_list;

/* Fill c with a preset ("tiny", "small", "qwen3-0.6b", ... "qwen3-14b"). */
int am_ckpt_preset(am_qwen3_config *c, const char *name, am_err *e);

/* Tensors of the model c describes, sorted by name (the order the writer
 * stores them, and the tensor index the RNG uses). *out is malloc'd. */
int am_ckpt_tensors(const am_qwen3_config *c, am_ckpt_tensor **out, int *n, am_err *e);

/* Value of element i (row-major) of tensor number `index` in that list, as
 * float before rounding to the stored dtype. */
float am_ckpt_value(uint64_t seed, int index, int kind, double qk_scale, uint64_t i);

/* float -> bf16 / f16 bit patterns, round to nearest even. */
uint16_t am_ckpt_bf16(float x);
uint16_t am_ckpt_f16(float x);

/* Write the checkpoint directory `out` (via out.tmp-PID, renamed at the end). */
int am_ckpt_write(const am_qwen3_config *c, const am_ckpt_opts *o, const char *out, am_err *e);

#endif
