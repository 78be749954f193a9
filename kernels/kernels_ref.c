/* Plain scalar reference kernels: the definition every SIMD variant is tested
 * against, and the "scalar" level of the runtime (am_runtime_opts.scalar). */
#include <math.h>
#include <string.h>

#include "kernels.h"

void am_matmul_ref(float *y, const float *x, const void *w, am_dtype dt, int n, int in, int out) {
#pragma omp parallel for schedule(static) if ((double)n * in * out > 65536.0)
    for (int o = 0; o < out; o++)
        for (int r = 0; r < n; r++) {
            const float *xr = x + (size_t)r * in;
            float acc = 0.0f;
            for (int k = 0; k < in; k++) acc += xr[k] * am_load_w(w, dt, (size_t)o * in + k);
            y[(size_t)r * out + o] = acc;
        }
}

void am_rmsnorm_ref(float *y, const float *x, const void *w, am_dtype dt, int rows, int d, float eps) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * d;
        float *yr = y + (size_t)r * d;
        float ss = 0.0f;
        for (int i = 0; i < d; i++) ss += xr[i] * xr[i];
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
    float sum = 0.0f;
    for (int i = 0; i < n; i++) {
        x[i] = x[i] == -INFINITY ? 0.0f : expf(x[i] - mx);
        sum += x[i];
    }
    for (int i = 0; i < n; i++) x[i] = x[i] / sum;
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
    for (int j = 0; j < nk; j++) {
        const float *k = K + (size_t)j * ks;
        float acc = 0.0f;
        for (int d = 0; d < hd; d++) acc += q[d] * k[d];
        s[j] = acc * scale;
    }
}

void am_attn_values_ref(float *o, const float *p, const float *V, size_t vs, int nk, int hd) {
    for (int d = 0; d < hd; d++) o[d] = 0.0f;
    for (int j = 0; j < nk; j++) {
        const float *v = V + (size_t)j * vs;
        float pj = p[j];
        if (pj == 0.0f) continue;
        for (int d = 0; d < hd; d++) o[d] += pj * v[d];
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
