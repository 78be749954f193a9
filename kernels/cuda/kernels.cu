/* Device kernels of the forward pass and their host-pointer table for the
 * tests (am_kernels_cuda). Each kernel computes what its CPU reference in
 * kernels_ref.c computes, in float32 with IEEE division and square root (no
 * fast-math); only the summation order differs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev_kernels.cuh"

/* ------------------------------------------------------------ row kernels */

/* One block per row. */
__global__ void k_rmsnorm(float *y, const float *x, const float *w, int d, float eps) {
    __shared__ float red[32];
    const float *xr = x + (size_t)blockIdx.x * d;
    float *yr = y + (size_t)blockIdx.x * d;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < d; i += blockDim.x) ss += xr[i] * xr[i];
    ss = dk_block_sum(ss, red);
    float inv = 1.0f / sqrtf(ss / (float)d + eps);
    for (int i = threadIdx.x; i < d; i += blockDim.x) yr[i] = xr[i] * inv * w[i];
}

void dk_rmsnorm(float *y, const float *x, const float *w, int rows, int d, float eps, cudaStream_t s) {
    if (rows > 0) k_rmsnorm<<<rows, AM_DK_ROW_THREADS, 0, s>>>(y, x, w, d, eps);
}

/* Softmax of row[0..n) by the whole block: exp(x - max) / sum, -inf -> +0. */
__device__ void dk_softmax_row(float *row, int n, float *red) {
    float m = -INFINITY;
    for (int j = threadIdx.x; j < n; j += blockDim.x) m = fmaxf(m, row[j]);
    m = dk_block_max(m, red);
    float sum = 0.0f;
    for (int j = threadIdx.x; j < n; j += blockDim.x) {
        float v = row[j];
        float ev = v == -INFINITY ? 0.0f : expf(v - m);
        row[j] = ev;
        sum += ev;
    }
    sum = dk_block_sum(sum, red);
    for (int j = threadIdx.x; j < n; j += blockDim.x) row[j] = row[j] / sum;
}

__global__ void k_softmax_rows(float *x, int n) {
    __shared__ float red[32];
    dk_softmax_row(x + (size_t)blockIdx.x * n, n, red);
}

void dk_softmax_rows(float *x, int rows, int n, cudaStream_t s) {
    if (rows > 0) k_softmax_rows<<<rows, AM_DK_ROW_THREADS, 0, s>>>(x, n);
}

/* Scores of one query (qs in shared memory) against keys 0..nk-1 of stride
 * ks, one warp per key: row[j] = scale * dot. Keys j < mask_below are set to
 * -inf (masked pads). */
__device__ void dk_scores_row(float *row, const float *qs, const float *K, size_t ks, int nk, int hd, float scale,
                              int mask_below) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    for (int j = warp; j < nk; j += nw) {
        const float *k = K + (size_t)j * ks;
        float acc = 0.0f;
        for (int d = lane; d < hd; d += 32) acc += qs[d] * k[d];
        acc = dk_warp_sum(acc);
        if (lane == 0) row[j] = j < mask_below ? -INFINITY : acc * scale;
    }
}

/* o[d] = sum_j p[j] V[j*vs + d], threads over d. */
__device__ void dk_values_row(float *o, const float *p, const float *V, size_t vs, int nk, int hd) {
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
        float acc = 0.0f;
        for (int j = 0; j < nk; j++) acc += p[j] * V[(size_t)j * vs + d];
        o[d] = acc;
    }
}

__global__ void k_attn_scores(float *sc, const float *q, const float *K, size_t ks, int nk, int hd, float scale) {
    __shared__ float qs[AM_DK_MAX_HD];
    for (int d = threadIdx.x; d < hd; d += blockDim.x) qs[d] = q[d];
    __syncthreads();
    dk_scores_row(sc, qs, K, ks, nk, hd, scale, 0);
}

void dk_attn_scores(float *sc, const float *q, const float *K, size_t ks, int nk, int hd, float scale, cudaStream_t s) {
    k_attn_scores<<<1, AM_DK_ROW_THREADS, 0, s>>>(sc, q, K, ks, nk, hd, scale);
}

__global__ void k_attn_values(float *o, const float *p, const float *V, size_t vs, int nk, int hd) {
    dk_values_row(o, p, V, vs, nk, hd);
}

void dk_attn_values(float *o, const float *p, const float *V, size_t vs, int nk, int hd, cudaStream_t s) {
    k_attn_values<<<1, AM_DK_ROW_THREADS, 0, s>>>(o, p, V, vs, nk, hd);
}

/* ------------------------------------------------------ batched attention */

/* Which unit, head and query attention row r (counted over the whole call)
 * is: units i0..i1-1, rows of unit i start at rowstart[i]. */
__device__ __forceinline__ void dk_row_of(const dk_attn *a, int r, int *i, int *h, int *qi) {
    int lo = a->i0, hi = a->i1 - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) >> 1;
        if (a->u.rowstart[mid] <= r) lo = mid;
        else hi = mid - 1;
    }
    int loc = r - a->u.rowstart[lo], nq = a->u.T[lo];
    *i = lo, *h = loc / nq, *qi = loc % nq;
}

__global__ void k_attention_probs(dk_attn a) {
    __shared__ float qs[AM_DK_MAX_HD];
    __shared__ float red[32];
    int i, h, qi;
    dk_row_of(&a, a.u.rowstart[a.i0] + (int)blockIdx.x, &i, &h, &qi);
    int u = a.u.units[i], nq = a.u.T[i], q0 = a.u.q0[i], nk = q0 + nq, p = q0 + qi;
    int kvh = h / (a.H / a.KV);
    const float *kc = a.kc + (((size_t)u * a.L + a.layer) * a.KV + kvh) * a.S * a.hd;
    const float *qv = a.q + ((size_t)(a.u.tok0[i] + qi) * a.H + h) * a.hd;
    float *row = a.probs + a.u.off[i] + ((size_t)h * nq + qi) * nk;
    for (int d = threadIdx.x; d < a.hd; d += blockDim.x) qs[d] = qv[d];
    __syncthreads();
    /* scores (q.k) * scale over keys 0..p; pads masked as keys, a pad query
     * keeps itself */
    int npad = a.u.npad[i];
    dk_scores_row(row, qs, kc, a.hd, p + 1, a.hd, a.scale, npad < p ? npad : p);
    __syncthreads();
    /* float32 softmax; masked and future keys are exactly 0 */
    dk_softmax_row(row, p + 1, red);
    for (int j = p + 1 + threadIdx.x; j < nk; j += blockDim.x) row[j] = 0.0f;
}

__global__ void k_attention_values(dk_attn a) {
    int i, h, qi;
    dk_row_of(&a, a.u.rowstart[a.i0] + (int)blockIdx.x, &i, &h, &qi);
    int u = a.u.units[i], nq = a.u.T[i], q0 = a.u.q0[i], nk = q0 + nq, p = q0 + qi;
    int kvh = h / (a.H / a.KV);
    const float *vc = a.vc + (((size_t)u * a.L + a.layer) * a.KV + kvh) * a.S * a.hd;
    const float *row = a.probs + a.u.off[i] + ((size_t)h * nq + qi) * nk;
    /* weighted sum of values (query head h reads kv head h / (H/KV)) */
    dk_values_row(a.att + ((size_t)(a.u.tok0[i] + qi) * a.H + h) * a.hd, row, vc, a.hd, p + 1, a.hd);
}

void dk_attention_probs(const dk_attn *a, int nrows, cudaStream_t s) {
    if (nrows > 0) k_attention_probs<<<nrows, AM_DK_ROW_THREADS, 0, s>>>(*a);
}

void dk_attention_values(const dk_attn *a, int nrows, cudaStream_t s) {
    if (nrows > 0) k_attention_values<<<nrows, AM_DK_ROW_THREADS, 0, s>>>(*a);
}

__global__ void k_kv_append(float *kc, float *vc, const float *kx, const float *vx, dk_units u, int N, int KV, int hd,
                            int S, int L, int layer) {
    size_t total = (size_t)N * KV * hd;
    for (size_t t = blockIdx.x * (size_t)blockDim.x + threadIdx.x; t < total; t += (size_t)gridDim.x * blockDim.x) {
        int r = (int)(t / ((size_t)KV * hd)), g = (int)(t / hd % KV), d = (int)(t % hd);
        int i = u.row_unit[r], pos = u.q0[i] + (r - u.tok0[i]);
        size_t dst = ((((size_t)u.units[i] * L + layer) * KV + g) * S + pos) * hd + d;
        kc[dst] = kx[t];
        vc[dst] = vx[t];
    }
}

void dk_kv_append(float *kc, float *vc, const float *kx, const float *vx, dk_units u, int N, int KV, int hd, int S,
                  int L, int layer, cudaStream_t s) {
    size_t total = (size_t)N * KV * hd;
    if (total) k_kv_append<<<dk_blocks(total, 256), 256, 0, s>>>(kc, vc, kx, vx, u, N, KV, hd, S, L, layer);
}

__global__ void k_gather_last(float *y, const float *x, const int *tok0, const int *T, int D) {
    int i = blockIdx.x;
    const float *src = x + (size_t)(tok0[i] + T[i] - 1) * D;
    for (int d = threadIdx.x; d < D; d += blockDim.x) y[(size_t)i * D + d] = src[d];
}

void dk_gather_last(float *y, const float *x, const int *tok0, const int *T, int n, int D, cudaStream_t s) {
    if (n > 0) k_gather_last<<<n, 256, 0, s>>>(y, x, tok0, T, D);
}

/* ----------------------------------------------------- element kernels */

__global__ void k_rope(float *x, int rows, int nh, int hd, const int *pos, const float *ct, const float *st) {
    int half = hd / 2;
    size_t total = (size_t)rows * nh * half;
    for (size_t t = blockIdx.x * (size_t)blockDim.x + threadIdx.x; t < total; t += (size_t)gridDim.x * blockDim.x) {
        int i = (int)(t % half);
        size_t rh = t / half; /* row * nh + head */
        int r = (int)(rh / nh);
        float *v = x + rh * hd;
        float c = ct[(size_t)pos[r] * half + i], s = st[(size_t)pos[r] * half + i];
        float a = v[i], b = v[i + half];
        v[i] = a * c - b * s;
        v[i + half] = b * c + a * s;
    }
}

void dk_rope(float *x, int rows, int nh, int hd, const int *pos, const float *cos_tab, const float *sin_tab,
             cudaStream_t s) {
    size_t total = (size_t)rows * nh * (hd / 2);
    if (total) k_rope<<<dk_blocks(total, 256), 256, 0, s>>>(x, rows, nh, hd, pos, cos_tab, sin_tab);
}

__global__ void k_silu_mul(float *g, const float *u, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

void dk_silu_mul(float *g, const float *u, size_t n, cudaStream_t s) {
    if (n) k_silu_mul<<<dk_blocks(n, 256), 256, 0, s>>>(g, u, n);
}

__global__ void k_add(float *y, const float *x, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        y[i] += x[i];
}

void dk_add(float *y, const float *x, size_t n, cudaStream_t s) {
    if (n) k_add<<<dk_blocks(n, 256), 256, 0, s>>>(y, x, n);
}

__device__ __forceinline__ float dk_load(const void *src, am_dtype dt, size_t i) {
    if (dt == AM_BF16) return __bfloat162float(((const __nv_bfloat16 *)src)[i]);
    if (dt == AM_F16) return __half2float(((const __half *)src)[i]);
    return ((const float *)src)[i];
}

__global__ void k_convert(float *out, const void *src, am_dtype dt, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        out[i] = dk_load(src, dt, i);
}

void dk_convert(float *out, const void *src, am_dtype dt, size_t n, cudaStream_t s) {
    if (n) k_convert<<<dk_blocks(n, 256), 256, 0, s>>>(out, src, dt, n);
}

__global__ void k_to_bf16(__nv_bfloat16 *out, const void *src, am_dtype dt, size_t n) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        out[i] = dt == AM_BF16 ? ((const __nv_bfloat16 *)src)[i] : __float2bfloat16_rn(dk_load(src, dt, i));
}

void dk_to_bf16(__nv_bfloat16 *out, const void *src, am_dtype dt, size_t n, cudaStream_t s) {
    if (n) k_to_bf16<<<dk_blocks(n, 256), 256, 0, s>>>(out, src, dt, n);
}

/* One block: (value, index) reduction, the lowest index among equal maxima. */
__global__ void k_argmax(int *out, const float *x, int n) {
    __shared__ float bv[32];
    __shared__ int bi[32];
    float v = -INFINITY;
    int idx = n; /* beyond every real index */
    for (int i = threadIdx.x; i < n; i += blockDim.x)
        if (x[i] > v || (x[i] == v && i < idx)) v = x[i], idx = i;
    for (int o = 16; o > 0; o >>= 1) {
        float ov = __shfl_xor_sync(0xffffffffu, v, o);
        int oi = __shfl_xor_sync(0xffffffffu, idx, o);
        if (ov > v || (ov == v && oi < idx)) v = ov, idx = oi;
    }
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    if (lane == 0) bv[w] = v, bi[w] = idx;
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int k = 1; k < nw; k++)
            if (bv[k] > v || (bv[k] == v && bi[k] < idx)) v = bv[k], idx = bi[k];
        *out = idx < n ? idx : 0;
    }
}

void dk_argmax(int *out, const float *x, int n, cudaStream_t s) { k_argmax<<<1, 256, 0, s>>>(out, x, n); }

/* ------------------------------------------------------------------ GEMM */

int dk_gemm(cublasHandle_t h, am_dev_compute mode, float *y, const float *x, __nv_bfloat16 *xb, const void *w, int n,
            int in, int out, cudaStream_t s, char *msg, size_t cap) {
    /* column-major view: Y^T [out x n] = W [out x in] (row-major = W^T
     * column-major, hence OP_T) times X^T [in x n] */
    const float one = 1.0f, zero = 0.0f;
    if (AM_CUBLAS_MSG(cublasSetStream(h, s), msg, cap)) return -1;
    if (mode == AM_DEV_BF16) {
        dk_to_bf16(xb, x, AM_F32, (size_t)n * in, s);
        return AM_CUBLAS_MSG(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, &one, w, CUDA_R_16BF, in, xb,
                                          CUDA_R_16BF, in, &zero, y, CUDA_R_32F, out, CUBLAS_COMPUTE_32F,
                                          CUBLAS_GEMM_DEFAULT),
                             msg, cap);
    }
    return AM_CUBLAS_MSG(cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, &one, w, CUDA_R_32F, in, x, CUDA_R_32F,
                                      in, &zero, y, CUDA_R_32F, out, CUBLAS_COMPUTE_32F_PEDANTIC, CUBLAS_GEMM_DEFAULT),
                         msg, cap);
}

/* --------------------------------------------- availability, host table */

extern "C" int am_cuda_available(char *why, size_t n) {
    int count = 0, rt = 0;
    cudaError_t r = cudaGetDeviceCount(&count);
    if (r != cudaSuccess || count < 1) {
        cudaRuntimeGetVersion(&rt);
        if (!why || !n) return 0;
        if (r == cudaErrorInsufficientDriver)
            snprintf(why, n, "no usable CUDA device (no NVIDIA driver, or one older than this CUDA %d.%d runtime)",
                     rt / 1000, rt % 1000 / 10);
        else snprintf(why, n, "no usable CUDA device (%s)", r != cudaSuccess ? cudaGetErrorString(r) : "none found");
        return 0;
    }
    if (why && n) why[0] = 0;
    return 1;
}

/* The table's functions: copy in, run the device kernel, copy out. A CUDA
 * failure aborts: these exist for the tests only. */
static void *dev_put(const void *host, size_t bytes) {
    void *d = NULL;
    if (cudaMalloc(&d, bytes ? bytes : 1) != cudaSuccess) {
        fprintf(stderr, "am_kernels_cuda: cudaMalloc of %zu bytes failed\n", bytes);
        abort();
    }
    if (host && bytes) cudaMemcpy(d, host, bytes, cudaMemcpyHostToDevice);
    return d;
}

static void dev_get(void *host, const void *d, size_t bytes) {
    cudaError_t r = cudaMemcpy(host, d, bytes, cudaMemcpyDeviceToHost);
    if (r == cudaSuccess) r = cudaGetLastError();
    if (r != cudaSuccess) {
        fprintf(stderr, "am_kernels_cuda: %s\n", cudaGetErrorString(r));
        abort();
    }
}

static size_t es_of(am_dtype dt) { return dt == AM_F32 ? 4 : 2; }

static void t_matmul(float *y, const float *x, const void *w, am_dtype dt, int n, int in, int out) {
    static cublasHandle_t h;
    if (!h && cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) abort();
    void *dw = dev_put(w, (size_t)out * in * es_of(dt));
    float *dwf = (float *)dev_put(NULL, (size_t)out * in * 4), *dx = (float *)dev_put(x, (size_t)n * in * 4);
    float *dy = (float *)dev_put(NULL, (size_t)n * out * 4);
    dk_convert(dwf, dw, dt, (size_t)out * in, 0);
    char msg[512];
    if (dk_gemm(h, AM_DEV_F32, dy, dx, NULL, dwf, n, in, out, 0, msg, sizeof msg)) {
        fprintf(stderr, "am_kernels_cuda: %s\n", msg);
        abort();
    }
    dev_get(y, dy, (size_t)n * out * 4);
    cudaFree(dw), cudaFree(dwf), cudaFree(dx), cudaFree(dy);
}

static void t_rmsnorm(float *y, const float *x, const void *w, am_dtype dt, int rows, int d, float eps) {
    void *dw = dev_put(w, (size_t)d * es_of(dt));
    float *dwf = (float *)dev_put(NULL, (size_t)d * 4), *dx = (float *)dev_put(x, (size_t)rows * d * 4);
    dk_convert(dwf, dw, dt, (size_t)d, 0);
    dk_rmsnorm(dx, dx, dwf, rows, d, eps, 0);
    dev_get(y, dx, (size_t)rows * d * 4);
    cudaFree(dw), cudaFree(dwf), cudaFree(dx);
}

static void t_rope(float *x, int rows, int nh, int hd, const int *pos, const float *cos_tab, const float *sin_tab) {
    int maxp = 0;
    for (int r = 0; r < rows; r++) maxp = pos[r] > maxp ? pos[r] : maxp;
    size_t tab = (size_t)(maxp + 1) * (hd / 2) * 4;
    float *dx = (float *)dev_put(x, (size_t)rows * nh * hd * 4);
    int *dp = (int *)dev_put(pos, (size_t)rows * sizeof(int));
    float *dc = (float *)dev_put(cos_tab, tab), *ds = (float *)dev_put(sin_tab, tab);
    dk_rope(dx, rows, nh, hd, dp, dc, ds, 0);
    dev_get(x, dx, (size_t)rows * nh * hd * 4);
    cudaFree(dx), cudaFree(dp), cudaFree(dc), cudaFree(ds);
}

static void t_softmax(float *x, int n) {
    float *dx = (float *)dev_put(x, (size_t)n * 4);
    dk_softmax_rows(dx, 1, n, 0);
    dev_get(x, dx, (size_t)n * 4);
    cudaFree(dx);
}

static void t_silu_mul(float *g, const float *u, size_t n) {
    float *dg = (float *)dev_put(g, n * 4), *du = (float *)dev_put(u, n * 4);
    dk_silu_mul(dg, du, n, 0);
    dev_get(g, dg, n * 4);
    cudaFree(dg), cudaFree(du);
}

static void t_convert(float *out, const void *src, am_dtype dt, size_t n) {
    void *ds = dev_put(src, n * es_of(dt));
    float *dout = (float *)dev_put(NULL, n * 4);
    dk_convert(dout, ds, dt, n, 0);
    dev_get(out, dout, n * 4);
    cudaFree(ds), cudaFree(dout);
}

static int t_argmax(const float *x, int n) {
    float *dx = (float *)dev_put(x, (size_t)n * 4);
    int *di = (int *)dev_put(NULL, sizeof(int)), r = 0;
    dk_argmax(di, dx, n, 0);
    dev_get(&r, di, sizeof r);
    cudaFree(dx), cudaFree(di);
    return r;
}

static void t_add(float *y, const float *x, size_t n) {
    float *dy = (float *)dev_put(y, n * 4), *dx = (float *)dev_put(x, n * 4);
    dk_add(dy, dx, n, 0);
    dev_get(y, dy, n * 4);
    cudaFree(dy), cudaFree(dx);
}

static void t_attn_scores(float *s, const float *q, const float *K, size_t ks, int nk, int hd, float scale) {
    if (nk <= 0) return;
    size_t kb = ((size_t)(nk - 1) * ks + hd) * 4;
    float *dq = (float *)dev_put(q, (size_t)hd * 4), *dK = (float *)dev_put(K, kb);
    float *dsc = (float *)dev_put(NULL, (size_t)nk * 4);
    dk_attn_scores(dsc, dq, dK, ks, nk, hd, scale, 0);
    dev_get(s, dsc, (size_t)nk * 4);
    cudaFree(dq), cudaFree(dK), cudaFree(dsc);
}

static void t_attn_values(float *o, const float *p, const float *V, size_t vs, int nk, int hd) {
    if (nk <= 0) {
        memset(o, 0, sizeof(float) * (size_t)hd);
        return;
    }
    size_t vb = ((size_t)(nk - 1) * vs + hd) * 4;
    float *dp = (float *)dev_put(p, (size_t)nk * 4), *dV = (float *)dev_put(V, vb);
    float *dout = (float *)dev_put(NULL, (size_t)hd * 4);
    dk_attn_values(dout, dp, dV, vs, nk, hd, 0);
    dev_get(o, dout, (size_t)hd * 4);
    cudaFree(dp), cudaFree(dV), cudaFree(dout);
}

static const am_kernels cuda_table = {
    AM_K_SCALAR, "cuda",    1,        t_matmul, t_rmsnorm,     t_rope,        t_softmax,
    t_silu_mul,  t_convert, t_argmax, t_add,    t_attn_scores, t_attn_values,
};

extern "C" const am_kernels *am_kernels_cuda(void) { return am_cuda_available(NULL, 0) ? &cuda_table : NULL; }

/* ------------------------------------------------ memory roofline (bench) */

/* Reads n float4 and keeps one sum per block, so the loads stay. */
__global__ void k_read(const float4 *p, size_t n, float *sink) {
    __shared__ float red[32];
    float acc = 0.0f;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        float4 v = p[i];
        acc += v.x + v.y + v.z + v.w;
    }
    acc = dk_block_sum(acc, red);
    if (threadIdx.x == 0) sink[blockIdx.x] = acc;
}

extern "C" int am_cuda_read_bandwidth(double *bytes_per_s, size_t bytes, char *msg, size_t cap) {
    *bytes_per_s = 0;
    cudaDeviceProp prop;
    float4 *buf = NULL;
    float *sink = NULL;
    cudaEvent_t t0 = NULL, t1 = NULL;
    size_t n = bytes / sizeof(float4);
    int rc = -1;
    if (AM_CUDA_MSG(cudaGetDeviceProperties(&prop, 0), msg, cap) ||
        AM_CUDA_MSG(cudaMalloc(&buf, n * sizeof(float4)), msg, cap) ||
        AM_CUDA_MSG(cudaMalloc(&sink, 65536 * sizeof(float)), msg, cap) ||
        AM_CUDA_MSG(cudaMemset(buf, 0, n * sizeof(float4)), msg, cap) || AM_CUDA_MSG(cudaEventCreate(&t0), msg, cap) ||
        AM_CUDA_MSG(cudaEventCreate(&t1), msg, cap))
        goto out;
    {
        unsigned blocks = (unsigned)prop.multiProcessorCount * 8;
        blocks = blocks > 65536 ? 65536 : blocks;
        for (int r = 0; r < 4; r++) { /* the first is a warm-up */
            float ms = 0;
            cudaEventRecord(t0);
            k_read<<<blocks, 512>>>(buf, n, sink);
            cudaEventRecord(t1);
            if (AM_CUDA_MSG(cudaEventSynchronize(t1), msg, cap) ||
                AM_CUDA_MSG(cudaEventElapsedTime(&ms, t0, t1), msg, cap))
                goto out;
            double b = (double)n * sizeof(float4) / (ms * 1e-3);
            if (r > 0 && b > *bytes_per_s) *bytes_per_s = b;
        }
    }
    rc = AM_CUDA_LAUNCHED_MSG(msg, cap);
out:
    cudaFree(buf), cudaFree(sink);
    if (t0) cudaEventDestroy(t0);
    if (t1) cudaEventDestroy(t1);
    return rc;
}
