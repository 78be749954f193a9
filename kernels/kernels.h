/* CPU kernels of the Qwen3 forward pass. Every kernel has a plain scalar
 * reference (am_*_ref, kernels_ref.c) and SIMD variants (kernels_x86.c on
 * x86-64, kernels_neon.c on aarch64) collected in a table per instruction-set
 * level; am_kernels_get() returns the table of a level, am_kernels_best() the
 * fastest the CPU supports (chosen at run time, never at compile time).
 *
 * Conventions: matrices are row-major float32 unless a weight pointer with an
 * am_dtype is given; weights stay in their stored dtype (F32, F16, BF16) and
 * are converted to float32 inside the kernels.
 *
 * Accumulation order, the same at every level so that every level has the
 * same accuracy (docs/platforms.md):
 *  - dot products (matmul cells, attention scores, rmsnorm's sum of squares)
 *    of length n run in AM_LANES = 16 float32 partial sums: lane i takes the
 *    terms k = i, i + 16, i + 32, ... in increasing k; then a fixed pairwise
 *    tree joins the lanes: l[i] += l[i + 8] (i < 8), l[i] += l[i + 4] (i < 4),
 *    l[i] += l[i + 2] (i < 2), l[0] + l[1]. Each term passes through at most
 *    ceil(n / 16) + 4 additions instead of n in a running sum. The SIMD levels
 *    add each product with a fused multiply-add; the scalar reference may
 *    round the product first (one more rounding per term).
 *  - softmax sums the exponentials in float64, so a row's probabilities do not
 *    depend on where its entries sit relative to the vector lanes (leading
 *    masked pads shift them), and the exponentials of a row all come from the
 *    same exp routine, whatever their position.
 *  - attention values sum p[j] * V[j][d] over j in increasing order, float32. */
#ifndef AM_KERNELS_H
#define AM_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "half.h"

/* Stored element types of weights (as in safetensors headers). */
typedef enum am_dtype { AM_F32 = 0, AM_F16 = 1, AM_BF16 = 2 } am_dtype;

/* Lanes of the blocked dot-product order (above). */
#define AM_LANES 16

/* CPU instruction-set levels 0 .. AM_K_NLEVELS-1 (x86-64: scalar, avx2,
 * avx512; aarch64: scalar, neon). A level the build or the CPU lacks has no
 * table (am_kernels_get returns NULL). */
typedef enum am_klevel { AM_K_SCALAR = 0, AM_K_AVX2 = 1, AM_K_AVX512 = 2, AM_K_NEON = 3, AM_K_NLEVELS = 4 } am_klevel;

typedef struct am_kernels {
    am_klevel level;  /* CPU level (AM_K_SCALAR for a device table) */
    const char *name; /* "scalar", "avx2", "avx512", "neon", "cuda" */
    int device;       /* 1: device kernels behind host pointers (kernels_cuda.h), not a CPU level */

    /* y[n][out] = x[n][in] * W[out][in]^T; W in dtype dt. Each weight row is
     * read once per call for all n rows; OpenMP over output rows. The result
     * of one (row, out) cell does not depend on n or on the other rows. */
    void (*matmul)(float *y, const float *x, const void *w, am_dtype dt, int n, int in, int out);

    /* y[r][d] = x[r][d] * rsqrt(mean(x[r]^2) + eps) * w[d] for r < rows (y may be x).
     * Per-head q/k norm: rows = tokens * heads, d = head_dim. */
    void (*rmsnorm)(float *y, const float *x, const void *w, am_dtype dt, int rows, int d, float eps);

    /* Rotate-half RoPE in place on x[rows][nh][hd]: for i < hd/2, with
     * c = cos_tab[pos[r]][i], s = sin_tab[pos[r]][i] (tables [*][hd/2]):
     *   x'[i] = x[i]*c - x[i+hd/2]*s,  x'[i+hd/2] = x[i+hd/2]*c + x[i]*s. */
    void (*rope)(float *x, int rows, int nh, int hd, const int *pos, const float *cos_tab, const float *sin_tab);

    /* In-place softmax of one row x[n] in float32: exp(x - max) / sum.
     * Entries equal to -INFINITY become exactly 0 (the row needs one finite). */
    void (*softmax)(float *x, int n);

    /* g[i] = silu(g[i]) * u[i] = g / (1 + exp(-g)) * u, i < n. */
    void (*silu_mul)(float *g, const float *u, size_t n);

    /* out[i] = float32(src[i]) for i < n, src in dtype dt (embedding rows). */
    void (*convert)(float *out, const void *src, am_dtype dt, size_t n);

    /* Index of the largest x[i]; ties pick the lowest index. */
    int (*argmax)(const float *x, int n);

    /* y[i] += x[i], i < n. */
    void (*add)(float *y, const float *x, size_t n);

    /* Attention scores of one query: s[j] = scale * dot(q[hd], K[j*ks .. +hd]) for j < nk. */
    void (*attn_scores)(float *s, const float *q, const float *K, size_t ks, int nk, int hd, float scale);

    /* Attention output of one query: o[d] = sum_j p[j] * V[j*vs + d], d < hd, j < nk. */
    void (*attn_values)(float *o, const float *p, const float *V, size_t vs, int nk, int hd);
} am_kernels;

/* Table of a level, or NULL when this build or this CPU cannot run it. */
const am_kernels *am_kernels_get(am_klevel level);
/* Table of the best level this CPU supports; the environment variable
 * AM_KERNELS=scalar|avx2|avx512|neon caps it (an unknown name caps nothing
 * here; am_runtime_init refuses it). */
const am_kernels *am_kernels_best(void);
/* Level of a name ("scalar", "avx2", "avx512", "neon"), or -1. */
int am_kernels_level_named(const char *name);
/* Name of a level (also of levels this build lacks), or NULL. */
const char *am_kernels_level_name(am_klevel level);

/* The blocked dot product of the order above: sum of a[k] * b[k], k < n. */
float am_dot_ref(const float *a, const float *b, int n);

/* Plain scalar references (the "scalar" table), also callable directly. */
void am_matmul_ref(float *y, const float *x, const void *w, am_dtype dt, int n, int in, int out);
void am_rmsnorm_ref(float *y, const float *x, const void *w, am_dtype dt, int rows, int d, float eps);
void am_rope_ref(float *x, int rows, int nh, int hd, const int *pos, const float *cos_tab, const float *sin_tab);
void am_softmax_ref(float *x, int n);
void am_silu_mul_ref(float *g, const float *u, size_t n);
void am_convert_ref(float *out, const void *src, am_dtype dt, size_t n);
int am_argmax_ref(const float *x, int n);
void am_add_ref(float *y, const float *x, size_t n);
void am_attn_scores_ref(float *s, const float *q, const float *K, size_t ks, int nk, int hd, float scale);
void am_attn_values_ref(float *o, const float *p, const float *V, size_t vs, int nk, int hd);

/* Load one weight element w[i] of dtype dt as float32. */
static inline float am_load_w(const void *w, am_dtype dt, size_t i) {
    switch (dt) {
    case AM_BF16: return am_bf16_to_f32(((const uint16_t *)w)[i]);
    case AM_F16: return am_f16_to_f32(((const uint16_t *)w)[i]);
    default: return ((const float *)w)[i];
    }
}

/* Tables: scalar in kernels_ref.c; avx2 and avx512 in kernels_x86.c (x86-64
 * builds only); neon in kernels_neon.c (aarch64 builds only). */
extern const am_kernels am_kernels_scalar;
#if defined(__x86_64__)
extern const am_kernels am_kernels_avx2;
extern const am_kernels am_kernels_avx512;
#endif
#if defined(__aarch64__)
extern const am_kernels am_kernels_neon;
#endif

#endif
