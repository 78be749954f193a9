/* aarch64 SIMD kernels: Advanced SIMD (NEON), part of every AArch64 CPU, so
 * no target attributes are needed; compiled on aarch64 only and chosen at
 * run time like the x86 levels (dispatch.c, AM_KERNELS=neon|scalar).
 *
 * Matmul: tiles of RB weight rows x NB input rows in registers; weight rows
 * are converted from their stored dtype right after the load (bf16: a 16-bit
 * widening shift, f16: FCVTL), so the weights stream from memory once per
 * call. Every dot product follows the blocked order of kernels.h: the 16
 * lanes are four float32x4 accumulators (lanes 4q .. 4q+3 in accumulator q),
 * each term added with a fused multiply-add, the tail zero padded, then the
 * fixed tree. The scalar reference uses the same order and fmaf, so matmul
 * and attention scores here equal it bitwise, and batched and unbatched
 * results are bitwise equal. */
#if defined(__aarch64__)
#include <arm_neon.h>
#include <math.h>
#include <string.h>

#include "kernels.h"

#define AI static inline __attribute__((always_inline))

/* Below this many multiply-adds a matmul runs on one thread. */
#define PAR_MIN_MACS 65536.0

/* Four weights w[i .. i+4) as float32. */
AI float32x4_t w4(const void *w, am_dtype dt, size_t i) {
    if (dt == AM_BF16) return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16((const uint16_t *)w + i), 16));
    if (dt == AM_F16) return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16((const uint16_t *)w + i)));
    return vld1q_f32((const float *)w + i);
}

/* w[i .. i+4) with the elements at n and beyond zero. */
AI float32x4_t w4n(const void *w, am_dtype dt, size_t i, int n) {
    if ((int)i + 4 <= n) return w4(w, dt, i);
    float t[4] = {0};
    for (int c = 0; (int)i + c < n; c++) t[c] = am_load_w(w, dt, i + c);
    return vld1q_f32(t);
}

/* The tree of kernels.h over the 16 lanes of a[0..3]. */
AI float hsum16(const float32x4_t *a) {
    float32x4_t c = vaddq_f32(vaddq_f32(a[0], a[2]), vaddq_f32(a[1], a[3])); /* i + i+8, then i + i+4 */
    float e0 = vgetq_lane_f32(c, 0) + vgetq_lane_f32(c, 2), e1 = vgetq_lane_f32(c, 1) + vgetq_lane_f32(c, 3);
    return e0 + e1;
}

/* Blocked dot product of x[n] and w[n] (w in dtype dt). */
AI float dot_neon(const float *x, const void *w, am_dtype dt, int n) {
    float32x4_t a[4] = {vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0)};
    int k = 0;
    for (; k + 16 <= n; k += 16)
        for (int q = 0; q < 4; q++) a[q] = vfmaq_f32(a[q], vld1q_f32(x + k + 4 * q), w4(w, dt, k + 4 * q));
    if (k < n)
        for (int q = 0; q < 4; q++) a[q] = vfmaq_f32(a[q], w4n(x, AM_F32, k + 4 * q, n), w4n(w, dt, k + 4 * q, n));
    return hsum16(a);
}

/* y[j][o + r] for r < RB, j < NB (RB <= 4, NB <= 2, RB * NB <= 4): 16 lanes
 * per cell, at most 16 accumulators. */
AI void tile(float *y, int ldy, const float *x, int in, const void *w, am_dtype dt, int o, const int RB, const int NB) {
    float32x4_t acc[4][2][4];
    size_t es = dt == AM_F32 ? 4 : 2;
    for (int r = 0; r < RB; r++)
        for (int j = 0; j < NB; j++)
            for (int q = 0; q < 4; q++) acc[r][j][q] = vdupq_n_f32(0);
    int k = 0;
    for (; k + 16 <= in; k += 16) {
        for (int q = 0; q < 4; q++) {
            float32x4_t wv[4];
            for (int r = 0; r < RB; r++) wv[r] = w4(w, dt, (size_t)(o + r) * in + k + 4 * q);
            for (int j = 0; j < NB; j++) {
                float32x4_t xv = vld1q_f32(x + (size_t)j * in + k + 4 * q);
                for (int r = 0; r < RB; r++) acc[r][j][q] = vfmaq_f32(acc[r][j][q], wv[r], xv);
            }
        }
    }
    if (k < in) {
        for (int q = 0; q < 4; q++) {
            float32x4_t wv[4];
            for (int r = 0; r < RB; r++) wv[r] = w4n((const char *)w + (size_t)(o + r) * in * es, dt, k + 4 * q, in);
            for (int j = 0; j < NB; j++) {
                float32x4_t xv = w4n(x + (size_t)j * in, AM_F32, k + 4 * q, in);
                for (int r = 0; r < RB; r++) acc[r][j][q] = vfmaq_f32(acc[r][j][q], wv[r], xv);
            }
        }
    }
    for (int r = 0; r < RB; r++)
        for (int j = 0; j < NB; j++) y[(size_t)j * ldy + o + r] = hsum16(acc[r][j]);
}

/* Rows [o0, o1) of y for input rows [j0, j1): 4x1 tiles for a single row
 * (decode), 2x2 tiles otherwise. */
AI void block(float *y, const float *x, const void *w, am_dtype dt, int n, int in, int out, int o0, int o1) {
    if (n == 1) {
        int o = o0;
        for (; o + 4 <= o1; o += 4) tile(y, out, x, in, w, dt, o, 4, 1);
        for (; o < o1; o++) tile(y, out, x, in, w, dt, o, 1, 1);
        return;
    }
    for (int j = 0; j < n; j += 2) {
        float *yj = y + (size_t)j * out;
        const float *xj = x + (size_t)j * in;
        int two = n - j >= 2;
        for (int o = o0; o < o1; o += 2) {
            if (o1 - o >= 2) {
                if (two) tile(yj, out, xj, in, w, dt, o, 2, 2);
                else tile(yj, out, xj, in, w, dt, o, 2, 1);
            } else {
                if (two) tile(yj, out, xj, in, w, dt, o, 1, 2);
                else tile(yj, out, xj, in, w, dt, o, 1, 1);
            }
        }
    }
}

/* The dtype switch inside the parallel region makes dt a literal the tiles
 * specialise on. */
static void matmul_neon(float *y, const float *x, const void *w, am_dtype dt, int n, int in, int out) {
    int nblk = (out + 7) / 8;
#pragma omp parallel for schedule(static) if ((double)n * in * out > PAR_MIN_MACS)
    for (int b = 0; b < nblk; b++) {
        int o0 = b * 8, o1 = out < o0 + 8 ? out : o0 + 8;
        switch (dt) {
        case AM_BF16: block(y, x, w, AM_BF16, n, in, out, o0, o1); break;
        case AM_F16: block(y, x, w, AM_F16, n, in, out, o0, o1); break;
        default: block(y, x, w, AM_F32, n, in, out, o0, o1); break;
        }
    }
}

/* exp(x) for float32 lanes: the Cephes range reduction and polynomial of the
 * x86 levels; inputs clamped to [-87.3, 88.7], 2^n split in two factors. */
AI float32x4_t exp_neon(float32x4_t x) {
    x = vminq_f32(vmaxq_f32(x, vdupq_n_f32(-87.33654f)), vdupq_n_f32(88.72283f));
    float32x4_t n = vrndnq_f32(vmulq_f32(x, vdupq_n_f32(1.44269504088896341f)));
    float32x4_t r = vfmsq_f32(x, n, vdupq_n_f32(0.693359375f));
    r = vfmsq_f32(r, n, vdupq_n_f32(-2.12194440e-4f));
    float32x4_t p = vdupq_n_f32(1.9875691500E-4f);
    p = vfmaq_f32(vdupq_n_f32(1.3981999507E-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(8.3334519073E-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(4.1665795894E-2f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.6666665459E-1f), p, r);
    p = vfmaq_f32(vdupq_n_f32(5.0000001201E-1f), p, r);
    p = vfmaq_f32(vaddq_f32(r, vdupq_n_f32(1.0f)), p, vmulq_f32(r, r));
    int32x4_t ni = vcvtq_s32_f32(n);
    int32x4_t h = vshrq_n_s32(ni, 1);
    float32x4_t f1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(h, vdupq_n_s32(127)), 23));
    float32x4_t f2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vsubq_s32(ni, h), vdupq_n_s32(127)), 23));
    return vmulq_f32(vmulq_f32(p, f1), f2);
}

static void rmsnorm_neon(float *y, const float *x, const void *w, am_dtype dt, int rows, int d, float eps) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * d;
        float *yr = y + (size_t)r * d;
        float inv = 1.0f / sqrtf(dot_neon(xr, xr, AM_F32, d) / (float)d + eps);
        float32x4_t vi = vdupq_n_f32(inv);
        int i = 0;
        for (; i + 4 <= d; i += 4) vst1q_f32(yr + i, vmulq_f32(vmulq_f32(vld1q_f32(xr + i), vi), w4(w, dt, i)));
        for (; i < d; i++) yr[i] = xr[i] * inv * am_load_w(w, dt, i);
    }
}

/* Up to 4 floats from p (c of them), the rest `fill`. */
AI float32x4_t load4_fill(const float *p, int c, float fill) {
    if (c == 4) return vld1q_f32(p);
    float t[4] = {fill, fill, fill, fill};
    memcpy(t, p, sizeof(float) * c);
    return vld1q_f32(t);
}

AI void store4_n(float *p, float32x4_t v, int c) {
    if (c == 4) {
        vst1q_f32(p, v);
        return;
    }
    float t[4];
    vst1q_f32(t, v);
    memcpy(p, t, sizeof(float) * c);
}

/* Softmax: every entry through exp_neon (the tail through a padded copy),
 * the sum of the exponentials in float64 (kernels.h). */
static void softmax_neon(float *x, int n) {
    float m = -INFINITY;
    for (int i = 0; i < n; i++)
        if (x[i] > m) m = x[i];
    float32x4_t vm = vdupq_n_f32(m), ninf = vdupq_n_f32(-INFINITY);
    float64x2_t s0 = vdupq_n_f64(0), s1 = vdupq_n_f64(0);
    for (int i = 0; i < n; i += 4) {
        int c = n - i < 4 ? n - i : 4;
        float32x4_t v = load4_fill(x + i, c, -INFINITY);
        uint32x4_t live = vmvnq_u32(vceqq_f32(v, ninf));
        float32x4_t e = vreinterpretq_f32_u32(vandq_u32(live, vreinterpretq_u32_f32(exp_neon(vsubq_f32(v, vm)))));
        store4_n(x + i, e, c);
        s0 = vaddq_f64(s0, vcvt_f64_f32(vget_low_f32(e)));
        s1 = vaddq_f64(s1, vcvt_high_f64_f32(e));
    }
    float64x2_t s = vaddq_f64(s0, s1);
    float sum = (float)(vgetq_lane_f64(s, 0) + vgetq_lane_f64(s, 1));
    float32x4_t vs = vdupq_n_f32(sum);
    int i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(x + i, vdivq_f32(vld1q_f32(x + i), vs));
    for (; i < n; i++) x[i] = x[i] / sum;
}

static void silu_mul_neon(float *g, const float *u, size_t n) {
    float32x4_t one = vdupq_n_f32(1.0f);
    for (size_t i = 0; i < n; i += 4) {
        int c = n - i < 4 ? (int)(n - i) : 4;
        float32x4_t v = load4_fill(g + i, c, 0.0f), uv = load4_fill(u + i, c, 0.0f);
        float32x4_t e = exp_neon(vnegq_f32(v));
        store4_n(g + i, vmulq_f32(vdivq_f32(v, vaddq_f32(one, e)), uv), c);
    }
}

static void convert_neon(float *out, const void *src, am_dtype dt, size_t n) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(out + i, w4(src, dt, i));
    for (; i < n; i++) out[i] = am_load_w(src, dt, i);
}

static void add_neon(float *y, const float *x, size_t n) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vaddq_f32(vld1q_f32(y + i), vld1q_f32(x + i)));
    for (; i < n; i++) y[i] += x[i];
}

static void attn_scores_neon(float *s, const float *q, const float *K, size_t ks, int nk, int hd, float scale) {
    for (int j = 0; j < nk; j++) s[j] = dot_neon(q, K + (size_t)j * ks, AM_F32, hd) * scale;
}

/* o[d] = sum_j p[j] * V[j][d] in increasing j, one fused multiply-add per
 * term (as the reference's fmaf). */
static void attn_values_neon(float *o, const float *p, const float *V, size_t vs, int nk, int hd) {
    memset(o, 0, sizeof(float) * hd);
    for (int j = 0; j < nk; j++) {
        if (p[j] == 0.0f) continue;
        float32x4_t pj = vdupq_n_f32(p[j]);
        const float *v = V + (size_t)j * vs;
        int d = 0;
        for (; d + 4 <= hd; d += 4) vst1q_f32(o + d, vfmaq_f32(vld1q_f32(o + d), pj, vld1q_f32(v + d)));
        for (; d < hd; d++) o[d] = fmaf(p[j], v[d], o[d]);
    }
}

const am_kernels am_kernels_neon = {
    .level = AM_K_NEON,
    .name = "neon",
    .matmul = matmul_neon,
    .rmsnorm = rmsnorm_neon,
    .rope = am_rope_ref,
    .softmax = softmax_neon,
    .silu_mul = silu_mul_neon,
    .convert = convert_neon,
    .argmax = am_argmax_ref,
    .add = add_neon,
    .attn_scores = attn_scores_neon,
    .attn_values = attn_values_neon,
};

#endif /* __aarch64__ */
