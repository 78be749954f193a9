/* Device kernels of the forward pass (kernels.cu), launched on a stream by
 * the device runtime (pipeline/model/cuda/forward.cu) and, through am_kernels_cuda(), by the
 * tests. Pointers are device pointers; everything is float32 except the
 * stored weights and the bf16 GEMM inputs. */
#ifndef AM_DEV_KERNELS_CUH
#define AM_DEV_KERNELS_CUH

#include "cuda_common.cuh"

/* y[r] = x[r] * rsqrt(mean(x[r]^2) + eps) * w, rows of d; y may be x. */
void dk_rmsnorm(float *y, const float *x, const float *w, int rows, int d, float eps, cudaStream_t s);
/* Rotate-half RoPE in place on x[rows][nh][hd] at positions pos[rows] with
 * tables [*][hd/2]. */
void dk_rope(float *x, int rows, int nh, int hd, const int *pos, const float *cos_tab, const float *sin_tab,
             cudaStream_t s);
/* g = silu(g) * u. */
void dk_silu_mul(float *g, const float *u, size_t n, cudaStream_t s);
/* y += x. */
void dk_add(float *y, const float *x, size_t n, cudaStream_t s);
/* out = float32(src), src in dtype dt (exact). */
void dk_convert(float *out, const void *src, am_dtype dt, size_t n, cudaStream_t s);
/* out = bf16(src) rounded to nearest even, src in dtype dt. */
void dk_to_bf16(__nv_bfloat16 *out, const void *src, am_dtype dt, size_t n, cudaStream_t s);
/* In-place softmax of `rows` rows of n (-inf -> exactly 0). */
void dk_softmax_rows(float *x, int rows, int n, cudaStream_t s);
/* Index of the largest x[i], lowest on ties, into *out. */
void dk_argmax(int *out, const float *x, int n, cudaStream_t s);
/* s[j] = scale * dot(q, K[j*ks ..]), j < nk (one query). */
void dk_attn_scores(float *sc, const float *q, const float *K, size_t ks, int nk, int hd, float scale, cudaStream_t s);
/* o[d] = sum_j p[j] V[j*vs + d] (one query). */
void dk_attn_values(float *o, const float *p, const float *V, size_t vs, int nk, int hd, cudaStream_t s);

/* The per-call description of the units of one forward call, on the device
 * (all arrays device pointers, indexed by the call's unit index i). */
typedef struct dk_units {
    const int *units;    /* [n] cache slot */
    const int *T;        /* [n] new tokens */
    const int *q0;       /* [n] positions cached before the call */
    const int *npad;     /* [n] masked leading pads */
    const int *tok0;     /* [n] first row in the activations */
    const int *rowstart; /* [n+1] prefix sums of H*T[i]: attention rows */
    const size_t *off;   /* [n] probabilities offset inside the group buffer */
    const int *row_unit; /* [N] unit of each token row */
} dk_units;

typedef struct dk_attn {
    dk_units u;
    int i0, i1; /* the group: units i0..i1-1 */
    int H, KV, hd, S, L, layer;
    float scale;
    const float *q;       /* [N][H][hd] post-norm, post-RoPE queries */
    const float *kc, *vc; /* caches [U][L][KV][S][hd] */
    float *probs;         /* the group's buffer, unit i at off[i]: [H][nq][nk] */
    float *att;           /* [N][H][hd] output */
} dk_attn;

/* Scores, pad mask and softmax of every (unit, head, query) row of the
 * group into a->probs (cells above the diagonal exactly 0); nrows =
 * rowstart[i1] - rowstart[i0]. */
void dk_attention_probs(const dk_attn *a, int nrows, cudaStream_t s);
/* att = probs . V for the same rows. */
void dk_attention_values(const dk_attn *a, int nrows, cudaStream_t s);
/* Append the rows' k, v ([N][KV][hd]) to their units' caches at layer l. */
void dk_kv_append(float *kc, float *vc, const float *kx, const float *vx, dk_units u, int N, int KV, int hd, int S,
                  int L, int layer, cudaStream_t s);
/* y[i] = x[rows[i]] for i < n, rows of D. */
void dk_gather_last(float *y, const float *x, const int *tok0, const int *T, int n, int D, cudaStream_t s);

/* y[n][out] = x[n][in] W[out][in]^T with cuBLAS. bf16: W bf16, x rounded to
 * bf16 into xb ([n][in] scratch), float32 accumulation and output. f32: W
 * float32, plain float32 (no TF32). */
int dk_gemm(cublasHandle_t h, am_dev_compute mode, float *y, const float *x, __nv_bfloat16 *xb, const void *w, int n,
            int in, int out, cudaStream_t s, char *msg, size_t cap);

#endif
