/* Plain scalar reference kernels: the definition every SIMD variant is tested
 * against, and the "scalar" level of the runtime (am_runtime_opts.scalar).
 * Dot products follow the blocked order of kernels.h (16 lanes, then a fixed
 * tree), the order of every SIMD level, and add each product with fmaf as the
 * SIMD levels do (one rounding per term: with a separately rounded product,
 * the small preset's maps were 3x further from the float64 reference); so
 * the scalar matmul and dot products equal the SIMD ones bitwise. Softmax sums
 * in float64. */
#include <math.h>
#include <string.h>

#include "kernels.h"

/* The fixed tree over the lanes (kernels.h). */
static float lanes_sum(float *l) {
    for (int i = 0; i < 8; i++) l[i] += l[i + 8];
    for (int i = 0; i < 4; i++) l[i] += l[i + 4];
    l[0] += l[2], l[1] += l[3];
    return l[0] + l[1];
}

/* Lane sums of x[k] * w[k], k < n, w in dtype dt: the dtype switch sits
 * outside the loops so each loop is a plain fused multiply-add over 16 lanes. */
#define LANES_LOOP(LOAD)                                                                 \
    do {                                                                                 \
        int k = 0;                                                                       \
        for (; k + AM_LANES <= n; k += AM_LANES)                                         \
            for (int i = 0; i < AM_LANES; i++) l[i] = fmaf(x[k + i], LOAD(k + i), l[i]); \
        for (int i = 0; k + i < n; i++) l[i] = fmaf(x[k + i], LOAD(k + i), l[i]);        \
    } while (0)

static float dot_w(const float *x, const void *w, am_dtype dt, int n) {
    float l[AM_LANES] = {0};
    if (dt == AM_BF16) {
        const uint16_t *h = w;
#define LOAD_BF16(i) am_bf16_to_f32(h[i])
        LANES_LOOP(LOAD_BF16);
    } else if (dt == AM_F16) {
        const uint16_t *h = w;
#define LOAD_F16(i) am_f16_to_f32(h[i])
        LANES_LOOP(LOAD_F16);
    } else {
        const float *f = w;
#define LOAD_F32(i) f[i]
        LANES_LOOP(LOAD_F32);
    }
    return lanes_sum(l);
}

float am_dot_ref(const float *a, const float *b, int n) { return dot_w(a, b, AM_F32, n); }

void am_matmul_ref(float *y, const float *x, const void *w, am_dtype dt, int n, int in, int out) {
    size_t es = dt == AM_F32 ? 4 : 2;
#pragma omp parallel for schedule(static) if ((double)n * in * out > 65536.0)
    for (int o = 0; o < out; o++)
        for (int r = 0; r < n; r++)
            y[(size_t)r * out + o] = dot_w(x + (size_t)r * in, (const char *)w + (size_t)o * in * es, dt, in);
}

void am_rmsnorm_ref(float *y, const float *x, const void *w, am_dtype dt, int rows, int d, float eps) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * d;
        float *yr = y + (size_t)r * d;
        float ss = am_dot_ref(xr, xr, d);
        float inv = 1.0f / sqrtf(ss / (float)d + eps);
        for (int i = 0; i < d; i++) yr[i] = xr[i] * inv * am_load_w(w, dt, i);
    }
}

void am_rope_ref(float *x, int rows, int nh, int hd, const int *pos, const float *cos_tab, const float *sin_tab) {
    int half = hd / 2;
    for (int r = 0; r < rows; r++) {
        const float *c = cos_tab + (size_t)pos[r] * half, *s = sin_tab + (size_t)pos[r] * half;
        for (int h = 0; h < nh; h++) {
            float *v = x + ((size_t)r * nh + h) * hd;
            for (int i = 0; i < half; i++) {
                float a = v[i], b = v[i + half];
                v[i] = a * c[i] - b * s[i];
                v[i + half] = b * c[i] + a * s[i];
            }
        }
    }
}

void am_softmax_ref(float *x, int n) {
    float mx = -INFINITY;
    for (int i = 0; i < n; i++)
        if (x[i] > mx) mx = x[i];
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        x[i] = x[i] == -INFINITY ? 0.0f : expf(x[i] - mx);
        sum += x[i];
    }
    float s = (float)sum;
    for (int i = 0; i < n; i++) x[i] = x[i] / s;
}

void am_silu_mul_ref(float *g, const float *u, size_t n) {
    for (size_t i = 0; i < n; i++) g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

void am_convert_ref(float *out, const void *src, am_dtype dt, size_t n) {
    if (dt == AM_F32) {
        memcpy(out, src, n * sizeof(float));
        return;
    }
    for (size_t i = 0; i < n; i++) out[i] = am_load_w(src, dt, i);
}

int am_argmax_ref(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

void am_add_ref(float *y, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] += x[i];
}

void am_attn_scores_ref(float *s, const float *q, const float *K, size_t ks, int nk, int hd, float scale) {
    for (int j = 0; j < nk; j++) s[j] = am_dot_ref(q, K + (size_t)j * ks, hd) * scale;
}

void am_attn_values_ref(float *o, const float *p, const float *V, size_t vs, int nk, int hd) {
    for (int d = 0; d < hd; d++) o[d] = 0.0f;
    for (int j = 0; j < nk; j++) {
        const float *v = V + (size_t)j * vs;
        float pj = p[j];
        if (pj == 0.0f) continue;
        for (int d = 0; d < hd; d++) o[d] = fmaf(pj, v[d], o[d]);
    }
}

const am_kernels am_kernels_scalar = {
    .level = AM_K_SCALAR,
    .name = "scalar",
    .matmul = am_matmul_ref,
    .rmsnorm = am_rmsnorm_ref,
    .rope = am_rope_ref,
    .softmax = am_softmax_ref,
    .silu_mul = am_silu_mul_ref,
    .convert = am_convert_ref,
    .argmax = am_argmax_ref,
    .add = am_add_ref,
    .attn_scores = am_attn_scores_ref,
    .attn_values = am_attn_values_ref,
};
