/* x86 SIMD kernels: AVX2+FMA+F16C and AVX-512 (F, BW, VL) variants, compiled
 * with per-function target attributes and selected at run time (dispatch.c).
 * Compiled on x86-64 only.
 *
 * Matmul: tiles of RB weight rows x NB input rows held in registers; weight
 * rows are converted from their stored dtype (bf16: shift, f16: vcvtph2ps)
 * right after the load, so the weights stream from memory once per x chunk.
 * The accumulation order of one output cell is the blocked order of
 * kernels.h at both levels: 16 lanes over k (one zmm, or two ymm taking
 * k mod 16 < 8 and >= 8), zero-padded tail, then the fixed tree (lane i + i+8,
 * i + i+4, i + i+2, 0 + 1). It does not depend on the tile shape, so batched
 * and unbatched results are bitwise equal.
 *
 * AVX-512 BF16 (vdpbf16ps) is not used: it multiplies bf16 by bf16, so the
 * activations would be rounded to 8 mantissa bits (relative error 2^-9), far
 * above the float32 accuracy the attention maps are compared at. */
#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "kernels.h"

#define AI static inline __attribute__((always_inline))
#define T512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c,avx2")))
#define T256 __attribute__((target("avx2,fma,f16c")))

/* Below this many multiply-adds a matmul runs on one thread: waking the
 * team costs more than the work. */
#define PAR_MIN_MACS 65536.0

/* Bytes of x (float32) kept hot in L2 while a weight panel streams by. */
#define XCHUNK_BYTES (512 * 1024)

/* Weight streaming: the RB rows of a tile are read as RB interleaved streams,
 * which the hardware prefetchers follow poorly (a single core reached about a
 * third of its streaming bandwidth in n = 1 decode). While a tile is being
 * computed, the next tile's rows, contiguous in memory, are prefetched as one
 * linear stream at the rate the current tile consumes its weights, so they are
 * in L1 when the tile starts. Prefetches past the end of a matrix are harmless. */
AI void prefetch_span(const char *p, size_t bytes) {
    for (size_t b = 0; b < bytes; b += 64) _mm_prefetch(p + b, _MM_HINT_T0);
}

/* Single-row decode (gemv) streams W linearly, 8 rows per tile, and
 * prefetches into L2 (T1) the bytes at least GEMV_PF_MIN ahead of the tile
 * (the next tile when that is larger), at the rate the tile consumes them.
 * bench-matmul on a Xeon (Emerald Rapids) core: 1024-wide rows 83 -> 88% of
 * a streaming read, 2048-wide 81 -> 91%, 3072-wide 77 -> 85%, against
 * prefetching the next tile only, into L1 (docs/runtime.md). */
#define GEMV_PF_MIN (32 * 1024)

AI void prefetch_span_l2(const char *p, size_t bytes) {
    for (size_t b = 0; b < bytes; b += 64) _mm_prefetch(p + b, _MM_HINT_T1);
}

/* Start of the bytes prefetched while the tile at row o (8 rows of in
 * elements of es bytes) is computed. */
AI const char *gemv_pf_base(const void *w, size_t es, int in, int o) {
    size_t tile = (size_t)8 * in * es;
    return (const char *)w + (size_t)o * in * es + (tile > GEMV_PF_MIN ? tile : GEMV_PF_MIN);
}

static int x_chunk_rows(int in, int nb) {
    int r = XCHUNK_BYTES / (4 * in);
    r -= r % nb;
    return r < nb ? nb : r;
}

/* The tree of kernels.h over 8 lanes that already hold l[i] + l[i + 8]:
 * l[i] + l[i + 4], then l[0] + l[2] and l[1] + l[3], then their sum. */
AI T256 float hsum_256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* ------------------------------------------------------------------ AVX-512 */

/* The tree of kernels.h over 16 lanes. */
AI T512 float hsum_512(__m512 v) {
    __m256 lo = _mm512_castps512_ps256(v), hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    return hsum_256(_mm256_add_ps(lo, hi));
}

/* Blocked dot product of a[n] and b[n] (kernels.h). */
AI T512 float dot_512(const float *a, const float *b, int n) {
    __m512 acc = _mm512_setzero_ps();
    int k = 0;
    for (; k + 16 <= n; k += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(a + k), _mm512_loadu_ps(b + k), acc);
    if (k < n) {
        __mmask16 m = (__mmask16)((1u << (n - k)) - 1);
        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + k), _mm512_maskz_loadu_ps(m, b + k), acc);
    }
    return hsum_512(acc);
}

AI T512 __m512 w16_512(const void *w, am_dtype dt, size_t i) {
    if (dt == AM_BF16) {
        __m256i h = _mm256_loadu_si256((const __m256i *)((const uint16_t *)w + i));
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    }
    if (dt == AM_F16) return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)w + i)));
    return _mm512_loadu_ps((const float *)w + i);
}

AI T512 __m512 w16m_512(const void *w, am_dtype dt, size_t i, __mmask16 m) {
    if (dt == AM_BF16) {
        __m256i h = _mm256_maskz_loadu_epi16(m, (const uint16_t *)w + i);
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    }
    if (dt == AM_F16) return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, (const uint16_t *)w + i));
    return _mm512_maskz_loadu_ps(m, (const float *)w + i);
}

/* y[j][o + r] for r < RB, j < NB; x rows j at x + j*in. */
AI T512 void tile_512(float *y, int ldy, const float *x, int in, const void *w, am_dtype dt, int o, const int RB,
                      const int NB) {
    __m512 acc[4][6];
#pragma GCC unroll 4
    for (int r = 0; r < RB; r++)
#pragma GCC unroll 6
        for (int j = 0; j < NB; j++) acc[r][j] = _mm512_setzero_ps();
    const size_t es = dt == AM_F32 ? 4 : 2;
    const char *next = (const char *)w + (size_t)(o + RB) * in * es; /* the following tile's rows */
    int k = 0;
    for (; k + 16 <= in; k += 16) {
        prefetch_span(next + (size_t)k * es * RB, 16 * es * RB);
        __m512 wv[4];
#pragma GCC unroll 4
        for (int r = 0; r < RB; r++) wv[r] = w16_512(w, dt, (size_t)(o + r) * in + k);
#pragma GCC unroll 6
        for (int j = 0; j < NB; j++) {
            __m512 xv = _mm512_loadu_ps(x + (size_t)j * in + k);
#pragma GCC unroll 4
            for (int r = 0; r < RB; r++) acc[r][j] = _mm512_fmadd_ps(wv[r], xv, acc[r][j]);
        }
    }
    if (k < in) {
        __mmask16 m = (__mmask16)((1u << (in - k)) - 1);
        __m512 wv[4];
#pragma GCC unroll 4
        for (int r = 0; r < RB; r++) wv[r] = w16m_512(w, dt, (size_t)(o + r) * in + k, m);
#pragma GCC unroll 6
        for (int j = 0; j < NB; j++) {
            __m512 xv = _mm512_maskz_loadu_ps(m, x + (size_t)j * in + k);
#pragma GCC unroll 4
            for (int r = 0; r < RB; r++) acc[r][j] = _mm512_fmadd_ps(wv[r], xv, acc[r][j]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < RB; r++)
#pragma GCC unroll 6
        for (int j = 0; j < NB; j++) y[(size_t)j * ldy + o + r] = hsum_512(acc[r][j]);
}

#define NB512 6

AI T512 void tile_512_nb(float *y, int ldy, const float *x, int in, const void *w, am_dtype dt, int o, int rb, int nb) {
    if (rb == 4) {
        switch (nb) {
        case 6: tile_512(y, ldy, x, in, w, dt, o, 4, 6); break;
        case 5: tile_512(y, ldy, x, in, w, dt, o, 4, 5); break;
        case 4: tile_512(y, ldy, x, in, w, dt, o, 4, 4); break;
        case 3: tile_512(y, ldy, x, in, w, dt, o, 4, 3); break;
        case 2: tile_512(y, ldy, x, in, w, dt, o, 4, 2); break;
        default: tile_512(y, ldy, x, in, w, dt, o, 4, 1); break;
        }
        return;
    }
    for (int r = 0; r < rb; r++) {
        switch (nb) {
        case 6: tile_512(y, ldy, x, in, w, dt, o + r, 1, 6); break;
        case 5: tile_512(y, ldy, x, in, w, dt, o + r, 1, 5); break;
        case 4: tile_512(y, ldy, x, in, w, dt, o + r, 1, 4); break;
        case 3: tile_512(y, ldy, x, in, w, dt, o + r, 1, 3); break;
        case 2: tile_512(y, ldy, x, in, w, dt, o + r, 1, 2); break;
        default: tile_512(y, ldy, x, in, w, dt, o + r, 1, 1); break;
        }
    }
}

/* One input row (single-sequence decode), rows [o, o + 8) of y. The row
 * loop is deliberately not unrolled: one load instruction walking the 8
 * rows keeps the core's stride prefetcher on the weights, where 8 unrolled
 * loads each see a short sequential run; with the linear prefetch ahead
 * (gemv_pf_base), bench-matmul measured 76-96% of a streaming read on one
 * core (AMD Zen 5, Intel Xeon), against about 65% for the 4-row tiles of
 * tile_512 (docs/runtime.md). Per output cell the
 * arithmetic is that of tile_512, so batched and unbatched results agree
 * bitwise. The tiles are split statically, so each thread streams one
 * contiguous part of W (dynamic chunks of 4 tiles made two threads reach
 * 43-52% of a two-thread streaming read, static halves 63-84%). */
AI T512 void gemv_tile_512(float *y, const float *x, int in, const void *w, am_dtype dt, int o) {
    __m512 acc[8];
    for (int r = 0; r < 8; r++) acc[r] = _mm512_setzero_ps();
    const size_t es = dt == AM_F32 ? 4 : 2;
    const char *next = gemv_pf_base(w, es, in, o);
    int k = 0;
    for (; k + 16 <= in; k += 16) {
        prefetch_span_l2(next + (size_t)k * es * 8, 16 * es * 8);
        __m512 xv = _mm512_loadu_ps(x + k);
#pragma GCC unroll 1
        for (int r = 0; r < 8; r++) acc[r] = _mm512_fmadd_ps(w16_512(w, dt, (size_t)(o + r) * in + k), xv, acc[r]);
    }
    if (k < in) {
        __mmask16 m = (__mmask16)((1u << (in - k)) - 1);
        __m512 xv = _mm512_maskz_loadu_ps(m, x + k);
        for (int r = 0; r < 8; r++) acc[r] = _mm512_fmadd_ps(w16m_512(w, dt, (size_t)(o + r) * in + k, m), xv, acc[r]);
    }
    for (int r = 0; r < 8; r++) y[o + r] = hsum_512(acc[r]);
}

/* y[out] = x[in] W^T. The dtype switch sits inside the parallel region,
 * whose body is compiled as a function of its own: only there is dt a
 * literal the tiles specialise on. */
AI T512 void gemv_512(float *y, const float *x, const void *w, am_dtype dt, int in, int out) {
    int nblk = (out + 7) / 8;
#pragma omp parallel for schedule(static) if ((double)in * out > PAR_MIN_MACS)
    for (int b = 0; b < nblk; b++) {
        int o = b * 8;
        if (out - o >= 8) {
            switch (dt) {
            case AM_BF16: gemv_tile_512(y, x, in, w, AM_BF16, o); break;
            case AM_F16: gemv_tile_512(y, x, in, w, AM_F16, o); break;
            default: gemv_tile_512(y, x, in, w, AM_F32, o); break;
            }
        } else {
            for (int r = o; r < out; r++) tile_512(y, out, x, in, w, dt, r, 1, 1);
        }
    }
}

AI T512 void matmul_512_dt(float *y, const float *x, const void *w, am_dtype dt, int n, int in, int out) {
    int nblk = (out + 3) / 4;
    int chunk = x_chunk_rows(in, NB512);
    for (int j0 = 0; j0 < n; j0 += chunk) {
        int jn = n - j0 < chunk ? n - j0 : chunk;
        if (jn == 1) {
            gemv_512(y + (size_t)j0 * out, x + (size_t)j0 * in, w, dt, in, out);
            continue;
        }
#pragma omp parallel for schedule(dynamic, 8) if ((double)jn * in * out > PAR_MIN_MACS)
        for (int b = 0; b < nblk; b++) {
            int o = b * 4, rb = out - o < 4 ? out - o : 4;
            for (int j = 0; j < jn; j += NB512) {
                int nb = jn - j < NB512 ? jn - j : NB512;
                tile_512_nb(y + (size_t)(j0 + j) * out, out, x + (size_t)(j0 + j) * in, in, w, dt, o, rb, nb);
            }
        }
    }
}

static T512 void matmul_512(float *y, const float *x, const void *w, am_dtype dt, int n, int in, int out) {
    switch (dt) {
    case AM_BF16: matmul_512_dt(y, x, w, AM_BF16, n, in, out); break;
    case AM_F16: matmul_512_dt(y, x, w, AM_F16, n, in, out); break;
    default: matmul_512_dt(y, x, w, AM_F32, n, in, out); break;
    }
}

/* exp(x) for float32 lanes: Cephes expf range reduction and polynomial
 * (max relative error about 2 ulp); inputs are clamped to [-87.3, 88.7]. */
AI T512 __m512 exp_512(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.33654f)), _mm512_set1_ps(88.72283f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500E-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507E-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073E-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894E-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459E-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201E-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

static T512 void rmsnorm_512(float *y, const float *x, const void *w, am_dtype dt, int rows, int d, float eps) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * d;
        float *yr = y + (size_t)r * d;
        float inv = 1.0f / sqrtf(dot_512(xr, xr, d) / (float)d + eps);
        __m512 vi = _mm512_set1_ps(inv);
        int i = 0;
        for (; i + 16 <= d; i += 16)
            _mm512_storeu_ps(yr + i, _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(xr + i), vi), w16_512(w, dt, i)));
        if (i < d) {
            __mmask16 m = (__mmask16)((1u << (d - i)) - 1);
            __m512 v = _mm512_mul_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, xr + i), vi), w16m_512(w, dt, i, m));
            _mm512_mask_storeu_ps(yr + i, m, v);
        }
    }
}

/* Softmax: every entry goes through exp_512 (the tail as a masked vector),
 * the sum of the exponentials is float64 (kernels.h). */
static T512 void softmax_512(float *x, int n) {
    __m512 ninf = _mm512_set1_ps(-INFINITY);
    __m512 mx = ninf;
    int i = 0;
    for (; i + 16 <= n; i += 16) mx = _mm512_max_ps(mx, _mm512_loadu_ps(x + i));
    __mmask16 tail = (__mmask16)((1u << (n - i)) - 1);
    if (i < n) mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(ninf, tail, x + i));
    __m512 vm = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    for (i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : tail;
        __m512 v = _mm512_mask_loadu_ps(ninf, m, x + i);
        __mmask16 live = _mm512_cmp_ps_mask(v, ninf, _CMP_NEQ_OQ);
        __m512 e = _mm512_maskz_mov_ps(live, exp_512(_mm512_sub_ps(v, vm)));
        _mm512_mask_storeu_ps(x + i, m, e);
        s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
        s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
    }
    __m512 vs = _mm512_set1_ps((float)_mm512_reduce_add_pd(_mm512_add_pd(s0, s1)));
    for (i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : tail;
        _mm512_mask_storeu_ps(x + i, m, _mm512_div_ps(_mm512_maskz_loadu_ps(m, x + i), vs));
    }
}

static T512 void silu_mul_512(float *g, const float *u, size_t n) {
    __m512 one = _mm512_set1_ps(1.0f);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
        __m512 v = _mm512_maskz_loadu_ps(m, g + i);
        __m512 e = exp_512(_mm512_sub_ps(_mm512_setzero_ps(), v));
        __m512 s = _mm512_div_ps(v, _mm512_add_ps(one, e));
        _mm512_mask_storeu_ps(g + i, m, _mm512_mul_ps(s, _mm512_maskz_loadu_ps(m, u + i)));
    }
}

static T512 void convert_512(float *out, const void *src, am_dtype dt, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, w16_512(src, dt, i));
    for (; i < n; i++) out[i] = am_load_w(src, dt, i);
}

static T512 void add_512(float *y, const float *x, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_add_ps(_mm512_loadu_ps(y + i), _mm512_loadu_ps(x + i)));
    for (; i < n; i++) y[i] += x[i];
}

static T512 void attn_scores_512(float *s, const float *q, const float *K, size_t ks, int nk, int hd, float scale) {
    for (int j = 0; j < nk; j++) s[j] = dot_512(q, K + (size_t)j * ks, hd) * scale;
}

static T512 void attn_values_512(float *o, const float *p, const float *V, size_t vs, int nk, int hd) {
    if (hd % 16 || hd > 256) {
        am_attn_values_ref(o, p, V, vs, nk, hd);
        return;
    }
    __m512 acc[16];
    int nv = hd / 16;
    for (int t = 0; t < nv; t++) acc[t] = _mm512_setzero_ps();
    for (int j = 0; j < nk; j++) {
        if (p[j] == 0.0f) continue;
        __m512 pj = _mm512_set1_ps(p[j]);
        const float *v = V + (size_t)j * vs;
        for (int t = 0; t < nv; t++) acc[t] = _mm512_fmadd_ps(pj, _mm512_loadu_ps(v + 16 * t), acc[t]);
    }
    for (int t = 0; t < nv; t++) _mm512_storeu_ps(o + 16 * t, acc[t]);
}

const am_kernels am_kernels_avx512 = {
    .level = AM_K_AVX512,
    .name = "avx512",
    .matmul = matmul_512,
    .rmsnorm = rmsnorm_512,
    .rope = am_rope_ref,
    .softmax = softmax_512,
    .silu_mul = silu_mul_512,
    .convert = convert_512,
    .argmax = am_argmax_ref,
    .add = add_512,
    .attn_scores = attn_scores_512,
    .attn_values = attn_values_512,
};

/* --------------------------------------------------------------------- AVX2 */

AI T256 __m256 w8_256(const void *w, am_dtype dt, size_t i) {
    if (dt == AM_BF16) {
        __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)w + i));
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    }
    if (dt == AM_F16) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)w + i)));
    return _mm256_loadu_ps((const float *)w + i);
}

/* Tail of fewer than 8 elements, zero padded, via a small stack copy. */
AI T256 __m256 w8t_256(const void *w, am_dtype dt, size_t i, int cnt) {
    float t[8] = {0};
    for (int c = 0; c < cnt; c++) t[c] = am_load_w(w, dt, i + c);
    return _mm256_loadu_ps(t);
}

/* Elements [i, i + 8) of w, zero padded past n. */
AI T256 __m256 w8n_256(const void *w, am_dtype dt, size_t i, int n) {
    if ((int)i + 8 <= n) return w8_256(w, dt, i);
    return w8t_256(w, dt, i, (int)i < n ? n - (int)i : 0);
}

/* Blocked dot product of a[n] and b[n] (kernels.h): lo takes k mod 16 < 8,
 * hi the rest, so lo + hi is the first step of the 16-lane tree. */
AI T256 float dot_256(const float *a, const float *b, int n) {
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    int k = 0;
    for (; k + 16 <= n; k += 16) {
        lo = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), lo);
        hi = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 8), _mm256_loadu_ps(b + k + 8), hi);
    }
    if (k < n) {
        lo = _mm256_fmadd_ps(w8n_256(a, AM_F32, k, n), w8n_256(b, AM_F32, k, n), lo);
        hi = _mm256_fmadd_ps(w8n_256(a, AM_F32, k + 8, n), w8n_256(b, AM_F32, k + 8, n), hi);
    }
    return hsum_256(_mm256_add_ps(lo, hi));
}

/* An input vector used by both weight rows is loaded once: without this GCC
 * folds the load into each fused multiply-add, and the tile runs out of load
 * ports (half the speed on an AVX2 core). */
#define KEEP_IN_REGISTER(v) __asm__("" : "+x"(v))

/* y[j][o + r] for r < RB, j < NB (RB <= 2, NB <= 3): two accumulators per
 * cell (lo: k mod 16 < 8, hi: the rest), 12 at most. The halves run one
 * after the other, each weight vector meeting every input row and each input
 * vector both weight rows: 5 loads per 6 fused multiply-adds. */
AI T256 void tile_256(float *y, int ldy, const float *x, int in, const void *w, am_dtype dt, int o, const int RB,
                      const int NB) {
    __m256 lo[2][3], hi[2][3];
#pragma GCC unroll 2
    for (int r = 0; r < RB; r++)
#pragma GCC unroll 3
        for (int j = 0; j < NB; j++) lo[r][j] = hi[r][j] = _mm256_setzero_ps();
    const size_t es = dt == AM_F32 ? 4 : 2;
    const char *next = (const char *)w + (size_t)(o + RB) * in * es; /* the following tile's rows */
    int k = 0;
    for (; k + 16 <= in; k += 16) {
        prefetch_span(next + (size_t)k * es * RB, 16 * es * RB);
        __m256 wv[2];
#pragma GCC unroll 2
        for (int r = 0; r < RB; r++) wv[r] = w8_256(w, dt, (size_t)(o + r) * in + k);
#pragma GCC unroll 3
        for (int j = 0; j < NB; j++) {
            __m256 xv = _mm256_loadu_ps(x + (size_t)j * in + k);
            KEEP_IN_REGISTER(xv);
#pragma GCC unroll 2
            for (int r = 0; r < RB; r++) lo[r][j] = _mm256_fmadd_ps(wv[r], xv, lo[r][j]);
        }
#pragma GCC unroll 2
        for (int r = 0; r < RB; r++) wv[r] = w8_256(w, dt, (size_t)(o + r) * in + k + 8);
#pragma GCC unroll 3
        for (int j = 0; j < NB; j++) {
            __m256 xv = _mm256_loadu_ps(x + (size_t)j * in + k + 8);
            KEEP_IN_REGISTER(xv);
#pragma GCC unroll 2
            for (int r = 0; r < RB; r++) hi[r][j] = _mm256_fmadd_ps(wv[r], xv, hi[r][j]);
        }
    }
    if (k < in) {
        __m256 wl[2], wh[2];
#pragma GCC unroll 2
        for (int r = 0; r < RB; r++) {
            const char *wr = (const char *)w + (size_t)(o + r) * in * es;
            wl[r] = w8n_256(wr, dt, k, in);
            wh[r] = w8n_256(wr, dt, k + 8, in);
        }
#pragma GCC unroll 3
        for (int j = 0; j < NB; j++) {
            __m256 xl = w8n_256(x + (size_t)j * in, AM_F32, k, in), xh = w8n_256(x + (size_t)j * in, AM_F32, k + 8, in);
#pragma GCC unroll 2
            for (int r = 0; r < RB; r++) {
                lo[r][j] = _mm256_fmadd_ps(wl[r], xl, lo[r][j]);
                hi[r][j] = _mm256_fmadd_ps(wh[r], xh, hi[r][j]);
            }
        }
    }
#pragma GCC unroll 2
    for (int r = 0; r < RB; r++)
#pragma GCC unroll 3
        for (int j = 0; j < NB; j++) y[(size_t)j * ldy + o + r] = hsum_256(_mm256_add_ps(lo[r][j], hi[r][j]));
}

/* One input row, rows [o, o + 8) of y: as gemv_tile_512, two accumulators per row. */
AI T256 void gemv_tile_256(float *y, const float *x, int in, const void *w, am_dtype dt, int o) {
    __m256 acc[16];
    for (int r = 0; r < 16; r++) acc[r] = _mm256_setzero_ps();
    const size_t es = dt == AM_F32 ? 4 : 2;
    const char *next = gemv_pf_base(w, es, in, o);
    int k = 0;
    for (; k + 16 <= in; k += 16) {
        prefetch_span_l2(next + (size_t)k * es * 8, 16 * es * 8);
        __m256 x0 = _mm256_loadu_ps(x + k), x1 = _mm256_loadu_ps(x + k + 8);
#pragma GCC unroll 1
        for (int r = 0; r < 8; r++) {
            size_t row = (size_t)(o + r) * in + k;
            acc[2 * r] = _mm256_fmadd_ps(w8_256(w, dt, row), x0, acc[2 * r]);
            acc[2 * r + 1] = _mm256_fmadd_ps(w8_256(w, dt, row + 8), x1, acc[2 * r + 1]);
        }
    }
    if (k < in) {
        __m256 x0 = w8n_256(x, AM_F32, k, in), x1 = w8n_256(x, AM_F32, k + 8, in);
        for (int r = 0; r < 8; r++) {
            const char *wr = (const char *)w + (size_t)(o + r) * in * es;
            acc[2 * r] = _mm256_fmadd_ps(w8n_256(wr, dt, k, in), x0, acc[2 * r]);
            acc[2 * r + 1] = _mm256_fmadd_ps(w8n_256(wr, dt, k + 8, in), x1, acc[2 * r + 1]);
        }
    }
    for (int r = 0; r < 8; r++) y[o + r] = hsum_256(_mm256_add_ps(acc[2 * r], acc[2 * r + 1]));
}

AI T256 void gemv_256(float *y, const float *x, const void *w, am_dtype dt, int in, int out) {
    int nblk = (out + 7) / 8;
#pragma omp parallel for schedule(static) if ((double)in * out > PAR_MIN_MACS)
    for (int b = 0; b < nblk; b++) {
        int o = b * 8;
        if (out - o >= 8) {
            switch (dt) {
            case AM_BF16: gemv_tile_256(y, x, in, w, AM_BF16, o); break;
            case AM_F16: gemv_tile_256(y, x, in, w, AM_F16, o); break;
            default: gemv_tile_256(y, x, in, w, AM_F32, o); break;
            }
        } else {
            for (int r = o; r < out; r++) tile_256(y, out, x, in, w, dt, r, 1, 1);
        }
    }
}

/* Output rows [o0, o1) of input rows [0, jn): 2x3 tiles. */
AI T256 void block_256(float *y, const float *x, const void *w, am_dtype dt, int jn, int in, int out, int o0, int o1) {
    for (int j = 0; j < jn; j += 3) {
        float *yj = y + (size_t)j * out;
        const float *xj = x + (size_t)j * in;
        int nb = jn - j < 3 ? jn - j : 3;
        for (int o = o0; o < o1; o += 2) {
            int rb = o1 - o >= 2 ? 2 : 1;
            if (rb == 2 && nb == 3) tile_256(yj, out, xj, in, w, dt, o, 2, 3);
            else if (rb == 2 && nb == 2) tile_256(yj, out, xj, in, w, dt, o, 2, 2);
            else if (rb == 2) tile_256(yj, out, xj, in, w, dt, o, 2, 1);
            else if (nb == 3) tile_256(yj, out, xj, in, w, dt, o, 1, 3);
            else if (nb == 2) tile_256(yj, out, xj, in, w, dt, o, 1, 2);
            else tile_256(yj, out, xj, in, w, dt, o, 1, 1);
        }
    }
}

/* The dtype switch sits inside the parallel region (compiled as a function
 * of its own), so the tiles specialise on a literal dtype. */
static T256 void matmul_256(float *y, const float *x, const void *w, am_dtype dt, int n, int in, int out) {
    int nblk = (out + 3) / 4;
    int chunk = x_chunk_rows(in, 3);
    for (int j0 = 0; j0 < n; j0 += chunk) {
        int jn = n - j0 < chunk ? n - j0 : chunk;
        float *yc = y + (size_t)j0 * out;
        const float *xc = x + (size_t)j0 * in;
        if (jn == 1) {
            gemv_256(yc, xc, w, dt, in, out);
            continue;
        }
#pragma omp parallel for schedule(dynamic, 8) if ((double)jn * in * out > PAR_MIN_MACS)
        for (int b = 0; b < nblk; b++) {
            int o0 = b * 4, o1 = out < o0 + 4 ? out : o0 + 4;
            switch (dt) {
            case AM_BF16: block_256(yc, xc, w, AM_BF16, jn, in, out, o0, o1); break;
            case AM_F16: block_256(yc, xc, w, AM_F16, jn, in, out, o0, o1); break;
            default: block_256(yc, xc, w, AM_F32, jn, in, out, o0, o1); break;
            }
        }
    }
}

AI T256 __m256 exp_256(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.33654f)), _mm256_set1_ps(88.72283f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500E-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507E-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073E-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894E-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459E-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201E-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    /* 2^n: n in [-126, 128] after the clamp; split in two factors to stay finite */
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i h = _mm256_srai_epi32(ni, 1);
    __m256 f1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h, _mm256_set1_epi32(127)), 23));
    __m256 f2 =
        _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, h), _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, f1), f2);
}

static T256 void rmsnorm_256(float *y, const float *x, const void *w, am_dtype dt, int rows, int d, float eps) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * d;
        float *yr = y + (size_t)r * d;
        float inv = 1.0f / sqrtf(dot_256(xr, xr, d) / (float)d + eps);
        __m256 vi = _mm256_set1_ps(inv);
        int i = 0;
        for (; i + 8 <= d; i += 8)
            _mm256_storeu_ps(yr + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(xr + i), vi), w8_256(w, dt, i)));
        for (; i < d; i++) yr[i] = xr[i] * inv * am_load_w(w, dt, i);
    }
}

/* Up to 8 floats from p (n of them), the rest `fill`. */
AI T256 __m256 load8_fill(const float *p, int n, float fill) {
    float t[8];
    for (int c = 0; c < 8; c++) t[c] = c < n ? p[c] : fill;
    return _mm256_loadu_ps(t);
}

AI T256 void store8_n(float *p, __m256 v, int n) {
    float t[8];
    _mm256_storeu_ps(t, v);
    memcpy(p, t, sizeof(float) * n);
}

/* Softmax: every entry goes through exp_256 (the tail through a padded copy),
 * the sum of the exponentials is float64 (kernels.h). */
static T256 void softmax_256(float *x, int n) {
    float m = -INFINITY;
    for (int i = 0; i < n; i++)
        if (x[i] > m) m = x[i];
    __m256 ninf = _mm256_set1_ps(-INFINITY), vm = _mm256_set1_ps(m);
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    for (int i = 0; i < n; i += 8) {
        int c = n - i < 8 ? n - i : 8;
        __m256 v = c == 8 ? _mm256_loadu_ps(x + i) : load8_fill(x + i, c, -INFINITY);
        __m256 live = _mm256_cmp_ps(v, ninf, _CMP_NEQ_OQ);
        __m256 e = _mm256_and_ps(live, exp_256(_mm256_sub_ps(v, vm)));
        if (c == 8) _mm256_storeu_ps(x + i, e);
        else store8_n(x + i, e, c);
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    }
    __m256d s = _mm256_add_pd(s0, s1);
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    float sum = (float)_mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
    __m256 vs = _mm256_set1_ps(sum);
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_div_ps(_mm256_loadu_ps(x + i), vs));
    for (; i < n; i++) x[i] = x[i] / sum;
}

static T256 void silu_mul_256(float *g, const float *u, size_t n) {
    __m256 one = _mm256_set1_ps(1.0f);
    for (size_t i = 0; i < n; i += 8) {
        int c = n - i < 8 ? (int)(n - i) : 8;
        __m256 v = c == 8 ? _mm256_loadu_ps(g + i) : load8_fill(g + i, c, 0.0f);
        __m256 uv = c == 8 ? _mm256_loadu_ps(u + i) : load8_fill(u + i, c, 0.0f);
        __m256 e = exp_256(_mm256_sub_ps(_mm256_setzero_ps(), v));
        __m256 r = _mm256_mul_ps(_mm256_div_ps(v, _mm256_add_ps(one, e)), uv);
        if (c == 8) _mm256_storeu_ps(g + i, r);
        else store8_n(g + i, r, c);
    }
}

static T256 void convert_256(float *out, const void *src, am_dtype dt, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, w8_256(src, dt, i));
    for (; i < n; i++) out[i] = am_load_w(src, dt, i);
}

static T256 void add_256(float *y, const float *x, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_loadu_ps(x + i)));
    for (; i < n; i++) y[i] += x[i];
}

static T256 void attn_scores_256(float *s, const float *q, const float *K, size_t ks, int nk, int hd, float scale) {
    for (int j = 0; j < nk; j++) s[j] = dot_256(q, K + (size_t)j * ks, hd) * scale;
}

static T256 void attn_values_256(float *o, const float *p, const float *V, size_t vs, int nk, int hd) {
    if (hd % 8) {
        am_attn_values_ref(o, p, V, vs, nk, hd);
        return;
    }
    memset(o, 0, sizeof(float) * hd);
    for (int j = 0; j < nk; j++) {
        if (p[j] == 0.0f) continue;
        __m256 pj = _mm256_set1_ps(p[j]);
        const float *v = V + (size_t)j * vs;
        for (int d = 0; d < hd; d += 8)
            _mm256_storeu_ps(o + d, _mm256_fmadd_ps(pj, _mm256_loadu_ps(v + d), _mm256_loadu_ps(o + d)));
    }
}

const am_kernels am_kernels_avx2 = {
    .level = AM_K_AVX2,
    .name = "avx2",
    .matmul = matmul_256,
    .rmsnorm = rmsnorm_256,
    .rope = am_rope_ref,
    .softmax = softmax_256,
    .silu_mul = silu_mul_256,
    .convert = convert_256,
    .argmax = am_argmax_ref,
    .add = add_256,
    .attn_scores = attn_scores_256,
    .attn_values = attn_values_256,
};

#endif /* __x86_64__ */
