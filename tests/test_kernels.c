/* Kernels: every level the CPU supports (scalar reference included) against a
 * float64 oracle on random inputs, for every weight dtype.
 *
 * Tolerances are the standard float32 rounding-error bounds (u = 2^-24):
 * a sum whose terms each pass through at most m roundings has
 * |fl(s) - s| <= gamma_m * sum|terms| with gamma_m ~ m*u. The CPU levels
 * share the blocked order of kernels.h (16 lanes of fused multiply-adds, then
 * a 4-level tree), so a dot product of length n is checked against
 * 1.01 * (ceil(n/16) + 5) * u * sum|x*w| (a running sum would need n + 2,
 * the bound the device kernels get); rmsnorm adds the sqrt and two products,
 * softmax the exp (<= 2 ulp in the SIMD polynomial) and the sum.
 * Every SIMD level's matmul and attention scores equal the scalar
 * reference's exactly (same order, same fused multiply-adds), and softmax
 * does not depend on leading masked entries (the lanes a row's entries fall
 * in), as masked pads need.
 * Weights are first rounded to their dtype, and the oracle decodes the same
 * stored values, so the dtype conversion itself must be exact.
 * Also: batch independence of matmul (bitwise), exact zeros for -inf in
 * softmax, argmax ties, and the F16 decoder on all 65536 bit patterns.
 * With a GPU, the CUDA backend's device kernels (am_kernels_cuda) face the
 * same checks, batch independence excepted. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "kernels_cuda.h"
#include "test_util.h"

#define U 5.9604644775390625e-08 /* 2^-24 */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static double urand(void) /* [0, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}
static float srand1(void) { return (float)(2.0 * urand() - 1.0); }

/* Random weights of dtype dt: stored bytes in *buf, decoded values in dec. */
static void *make_weights(am_dtype dt, size_t n, float *dec) {
    size_t es = dt == AM_F32 ? 4 : 2;
    void *buf = malloc(n * es);
    for (size_t i = 0; i < n; i++) {
        float f = srand1();
        if (dt == AM_BF16) ((uint16_t *)buf)[i] = am_f32_to_bf16(f);
        else if (dt == AM_F16) ((uint16_t *)buf)[i] = am_f32_to_f16(f);
        else ((float *)buf)[i] = f;
        dec[i] = am_load_w(buf, dt, i);
    }
    return buf;
}

static const char *dtn(am_dtype dt) { return dt == AM_BF16 ? "bf16" : dt == AM_F16 ? "f16" : "f32"; }

/* Roundings each term of a length-n dot product passes through: the
 * blocked order of the CPU levels, a running sum on the device. */
static double dot_depth(const am_kernels *k, int n) { return k->device ? n + 2 : (n + 15) / 16 + 5; }

/* Cells where a and b differ (== comparison: +0 and -0 agree). */
static int n_differ(const float *a, const float *b, size_t n) {
    int d = 0;
    for (size_t i = 0; i < n; i++) d += a[i] != b[i];
    return d;
}

static void test_matmul(const am_kernels *k) {
    static const int ns[] = {1, 2, 5, 7, 13};
    static const int ins[] = {16, 37, 128, 200};
    static const int outs[] = {1, 3, 9, 33};
    for (int dti = 0; dti < 3; dti++) {
        am_dtype dt = (am_dtype)dti;
        for (int a = 0; a < 5; a++)
            for (int b = 0; b < 4; b++)
                for (int c = 0; c < 4; c++) {
                    int n = ns[a], in = ins[b], out = outs[c];
                    float *x = malloc(sizeof(float) * n * in), *wd = malloc(sizeof(float) * out * in);
                    float *y = malloc(sizeof(float) * n * out), *y1 = malloc(sizeof(float) * out);
                    for (int i = 0; i < n * in; i++) x[i] = 3.0f * srand1();
                    void *w = make_weights(dt, (size_t)out * in, wd);
                    k->matmul(y, x, w, dt, n, in, out);
                    double worst = 0;
                    for (int r = 0; r < n; r++)
                        for (int o = 0; o < out; o++) {
                            double s = 0, sa = 0;
                            for (int i = 0; i < in; i++) {
                                s += (double)x[r * in + i] * wd[o * in + i];
                                sa += fabs((double)x[r * in + i] * wd[o * in + i]);
                            }
                            double err = fabs(y[r * out + o] - s), tol = 1.01 * dot_depth(k, in) * U * sa;
                            if (err / tol > worst) worst = err / tol;
                        }
                    CHECK(worst <= 1.0, "%s matmul %s n=%d in=%d out=%d: error %.3g x bound", k->name, dtn(dt), n, in,
                          out, worst);
                    /* the same order as the scalar reference, exactly */
                    if (!k->device && k->level != AM_K_SCALAR) {
                        float *yr = malloc(sizeof(float) * n * out);
                        am_matmul_ref(yr, x, w, dt, n, in, out);
                        int d = n_differ(y, yr, (size_t)n * out);
                        CHECK(!d, "%s matmul %s n=%d in=%d out=%d: %d cells differ from the scalar reference", k->name,
                              dtn(dt), n, in, out, d);
                        free(yr);
                    }
                    /* one row alone gives bitwise the same result as inside the batch
                     * (CPU levels; cuBLAS may pick another kernel for n = 1) */
                    for (int r = 0; !k->device && r < n; r++) {
                        k->matmul(y1, x + (size_t)r * in, w, dt, 1, in, out);
                        CHECK(!memcmp(y1, y + (size_t)r * out, sizeof(float) * out),
                              "%s matmul %s row %d of n=%d in=%d out=%d differs from n=1", k->name, dtn(dt), r, n, in,
                              out);
                    }
                    free(x), free(wd), free(y), free(y1), free(w);
                }
    }
    /* a larger case crossing the x chunking (rows beyond XCHUNK_BYTES) */
    {
        int n = 70, in = 4096, out = 8;
        float *x = malloc(sizeof(float) * n * in), *wd = malloc(sizeof(float) * out * in);
        float *y = malloc(sizeof(float) * n * out), *y1 = malloc(sizeof(float) * out);
        for (int i = 0; i < n * in; i++) x[i] = srand1();
        void *w = make_weights(AM_BF16, (size_t)out * in, wd);
        k->matmul(y, x, w, AM_BF16, n, in, out);
        int bad = 0;
        for (int r = 0; r < n; r++) {
            k->matmul(y1, x + (size_t)r * in, w, AM_BF16, 1, in, out);
            bad += !k->device && memcmp(y1, y + (size_t)r * out, sizeof(float) * out) != 0;
            for (int o = 0; o < out; o++) {
                double s = 0, sa = 0;
                for (int i = 0; i < in; i++) {
                    s += (double)x[r * in + i] * wd[o * in + i];
                    sa += fabs((double)x[r * in + i] * wd[o * in + i]);
                }
                bad += fabs(y[r * out + o] - s) > 1.01 * dot_depth(k, in) * U * sa;
            }
        }
        CHECK(!bad, "%s matmul n=70 in=4096: %d rows/cells wrong", k->name, bad);
        free(x), free(wd), free(y), free(y1), free(w);
    }
}

static void test_rmsnorm(const am_kernels *k) {
    static const int ds[] = {8, 16, 20, 128, 1000, 1024};
    for (int dti = 0; dti < 3; dti++)
        for (int a = 0; a < 6; a++) {
            am_dtype dt = (am_dtype)dti;
            int d = ds[a], rows = 3;
            if (k->device && d == 1000) continue;
            float *x = malloc(sizeof(float) * rows * d), *y = malloc(sizeof(float) * rows * d);
            float *wd = malloc(sizeof(float) * d);
            void *w = make_weights(dt, d, wd);
            for (int i = 0; i < rows * d; i++) x[i] = 5.0f * srand1();
            float eps = 1e-6f;
            k->rmsnorm(y, x, w, dt, rows, d, eps);
            double worst = 0;
            for (int r = 0; r < rows; r++) {
                double ss = 0;
                for (int i = 0; i < d; i++) ss += (double)x[r * d + i] * x[r * d + i];
                double inv = 1.0 / sqrt(ss / d + (double)eps);
                for (int i = 0; i < d; i++) {
                    double ref = x[r * d + i] * inv * wd[i];
                    double tol = ((k->device ? d : dot_depth(k, d)) / 2.0 + 8) * U * fabs(ref) + 1e-30;
                    double e = fabs(y[r * d + i] - ref) / tol;
                    if (e > worst) worst = e;
                }
            }
            CHECK(worst <= 1.0, "%s rmsnorm %s d=%d: error %.3g x bound", k->name, dtn(dt), d, worst);
            /* in place gives the same */
            k->rmsnorm(x, x, w, dt, rows, d, eps);
            CHECK(!memcmp(x, y, sizeof(float) * rows * d), "%s rmsnorm in place differs", k->name);
            free(x), free(y), free(wd), free(w);
        }
}

static void test_softmax(const am_kernels *k) {
    static const int ns[] = {1, 5, 16, 33, 200, 1000};
    for (int a = 0; a < 6; a++) {
        int n = ns[a];
        if (k->device && n == 1000) continue;
        float *x = malloc(sizeof(float) * n), *x0 = malloc(sizeof(float) * n);
        for (int i = 0; i < n; i++) x[i] = 20.0f * srand1();
        for (int i = 1; i < n; i += 3) x[i] = -INFINITY; /* masked */
        x[0] = 3.0f;                                     /* at least one finite */
        memcpy(x0, x, sizeof(float) * n);
        k->softmax(x, n);
        double mx = -INFINITY, sum = 0;
        for (int i = 0; i < n; i++)
            if (x0[i] > mx) mx = x0[i];
        for (int i = 0; i < n; i++) sum += x0[i] == -INFINITY ? 0 : exp((double)x0[i] - mx);
        double worst = 0;
        int zeros_ok = 1;
        for (int i = 0; i < n; i++) {
            if (x0[i] == -INFINITY) {
                zeros_ok &= x[i] == 0.0f && !signbit(x[i]);
                continue;
            }
            double ref = exp((double)x0[i] - mx) / sum;
            /* the float32 difference x - max carries |x - max| * u absolute error,
             * i.e. that much relative error after exp; then exp (2 ulp), sum, division */
            double tol = (n + 12 + fabs((double)x0[i] - mx)) * U * ref + 1e-37;
            double e = fabs(x[i] - ref) / tol;
            if (e > worst) worst = e;
        }
        CHECK(worst <= 1.0, "%s softmax n=%d: error %.3g x bound", k->name, n, worst);
        CHECK(zeros_ok, "%s softmax n=%d: masked entries not exactly +0", k->name, n);
        /* P leading masked entries (masked pads) leave the rest as it was
         * (CPU levels: float64 sums), to 1 ulp */
        for (int P = 1; !k->device && P <= 17; P += 3) {
            float *xp = malloc(sizeof(float) * (n + P));
            for (int i = 0; i < P; i++) xp[i] = -INFINITY;
            memcpy(xp + P, x0, sizeof(float) * n);
            k->softmax(xp, n + P);
            double wd = 0;
            for (int i = 0; i < n; i++) {
                double d = fabs((double)xp[P + i] - x[i]) / (2 * U * fabs(x[i]) + 1e-38);
                if (d > wd) wd = d;
            }
            CHECK(wd <= 1.0, "%s softmax n=%d after %d masked entries: differs by %.3g ulp", k->name, n, P, wd);
            free(xp);
        }
        free(x), free(x0);
    }
}

static void test_elementwise(const am_kernels *k) {
    int n = 1037;
    float *g = malloc(sizeof(float) * n), *u = malloc(sizeof(float) * n), *g0 = malloc(sizeof(float) * n);
    for (int i = 0; i < n; i++) {
        g[i] = 12.0f * srand1();
        u[i] = 2.0f * srand1();
    }
    g[0] = -100.0f, g[1] = 95.0f, g[2] = 0.0f;
    memcpy(g0, g, sizeof(float) * n);
    k->silu_mul(g, u, n);
    double worst = 0;
    for (int i = 0; i < n; i++) {
        double ref = (double)g0[i] / (1.0 + exp(-(double)g0[i])) * u[i];
        /* the range reduction in exp(-g) loses about |g| u relative, exp 2 ulp, then
         * division and product; results below 1e-30 (g << 0) count as zero */
        double tol = (8 + fabs(g0[i])) * U * fabs(ref) + 1e-30;
        double e = fabs(g[i] - ref) / tol;
        if (e > worst) worst = e;
    }
    CHECK(worst <= 1.0, "%s silu_mul: error %.3g x bound", k->name, worst);

    /* add is exact */
    memcpy(g, g0, sizeof(float) * n);
    k->add(g, u, n);
    int bad = 0;
    for (int i = 0; i < n; i++) bad += g[i] != g0[i] + u[i];
    CHECK(!bad, "%s add: %d wrong", k->name, bad);

    /* argmax: lowest index on ties */
    for (int i = 0; i < n; i++) g[i] = (float)(i % 7);
    CHECK(k->argmax(g, n) == 6, "%s argmax tie: %d", k->name, k->argmax(g, n));
    g[500] = 10.0f, g[900] = 10.0f;
    CHECK(k->argmax(g, n) == 500, "%s argmax tie: %d", k->name, k->argmax(g, n));

    /* convert: exactly the decoded stored values */
    for (int dti = 0; dti < 3; dti++) {
        float *dec = malloc(sizeof(float) * n);
        void *w = make_weights((am_dtype)dti, n, dec);
        k->convert(g, w, (am_dtype)dti, n);
        CHECK(!memcmp(g, dec, sizeof(float) * n), "%s convert %s differs", k->name, dtn((am_dtype)dti));
        free(dec), free(w);
    }
    free(g), free(u), free(g0);
}

static void test_attention(const am_kernels *k) {
    static const int hds[] = {8, 16, 20, 64, 128};
    for (int a = 0; a < 5; a++) {
        int hd = hds[a], nk = 37;
        if (k->device && hd == 20) continue; /* sizes added for the CPU levels' tails */
        size_t ks = (size_t)hd * 3;          /* keys strided as in a cache row of several heads */
        float *q = malloc(sizeof(float) * hd), *K = malloc(sizeof(float) * ks * nk);
        float *s = malloc(sizeof(float) * nk), *o = malloc(sizeof(float) * hd), *p = malloc(sizeof(float) * nk);
        for (int i = 0; i < hd; i++) q[i] = srand1();
        for (size_t i = 0; i < ks * nk; i++) K[i] = srand1();
        for (int j = 0; j < nk; j++) p[j] = j % 5 == 2 ? 0.0f : (float)urand();
        float scale = 1.0f / sqrtf((float)hd);
        k->attn_scores(s, q, K, ks, nk, hd, scale);
        k->attn_values(o, p, K, ks, nk, hd);
        double ws = 0, wv = 0;
        for (int j = 0; j < nk; j++) {
            double r = 0, ra = 0;
            for (int d = 0; d < hd; d++) {
                r += (double)q[d] * K[j * ks + d];
                ra += fabs((double)q[d] * K[j * ks + d]);
            }
            double e = fabs(s[j] - r * scale) / (1.01 * (dot_depth(k, hd) + 1) * U * ra * scale);
            if (e > ws) ws = e;
        }
        for (int d = 0; d < hd; d++) {
            double r = 0, ra = 0;
            for (int j = 0; j < nk; j++) {
                r += (double)p[j] * K[j * ks + d];
                ra += fabs((double)p[j] * K[j * ks + d]);
            }
            double e = fabs(o[d] - r) / (1.01 * (nk + 2) * U * ra + 1e-37);
            if (e > wv) wv = e;
        }
        CHECK(ws <= 1.0, "%s attn_scores hd=%d: error %.3g x bound", k->name, hd, ws);
        if (!k->device) {
            float *sr = malloc(sizeof(float) * nk), *orf = malloc(sizeof(float) * hd);
            am_attn_scores_ref(sr, q, K, ks, nk, hd, scale);
            am_attn_values_ref(orf, p, K, ks, nk, hd);
            CHECK(!n_differ(s, sr, nk), "%s attn_scores hd=%d differ from the scalar reference", k->name, hd);
            CHECK(!n_differ(o, orf, hd), "%s attn_values hd=%d differ from the scalar reference", k->name, hd);
            free(sr), free(orf);
        }
        CHECK(wv <= 1.0, "%s attn_values hd=%d: error %.3g x bound", k->name, hd, wv);
        free(q), free(K), free(s), free(o), free(p);
    }
}

static void test_rope(const am_kernels *k) {
    int hd = 16, half = 8, nh = 3, rows = 4, maxpos = 50;
    float *ct = malloc(sizeof(float) * maxpos * half), *st = malloc(sizeof(float) * maxpos * half);
    for (int p = 0; p < maxpos; p++)
        for (int i = 0; i < half; i++) {
            float ang = (float)p * (float)(1.0 / pow(10000.0, 2.0 * i / hd));
            ct[p * half + i] = cosf(ang);
            st[p * half + i] = sinf(ang);
        }
    int pos[4] = {0, 7, 49, 3};
    float x[4 * 3 * 16], x0[4 * 3 * 16];
    for (int i = 0; i < rows * nh * hd; i++) x[i] = x0[i] = srand1();
    k->rope(x, rows, nh, hd, pos, ct, st);
    double worst = 0;
    for (int r = 0; r < rows; r++)
        for (int h = 0; h < nh; h++)
            for (int i = 0; i < hd; i++) {
                const float *v = x0 + (r * nh + h) * hd;
                double c = ct[pos[r] * half + i % half], s = st[pos[r] * half + i % half];
                double ref = i < half ? v[i] * c - (double)v[i + half] * s : v[i] * c + (double)v[i - half] * s;
                double tol = 4 * U * (fabs(v[i] * c) + fabs(v[i < half ? i + half : i - half] * s)) + 1e-37;
                double e = fabs(x[(r * nh + h) * hd + i] - ref) / tol;
                if (e > worst) worst = e;
            }
    CHECK(worst <= 1.0, "%s rope: error %.3g x bound", k->name, worst);
    free(ct), free(st);
}

/* The scalar F16 decoder against the known encoding, and F16C or NEON's
 * FCVTL (through the SIMD convert kernel) on every bit pattern. */
static void test_f16_decoder(void) {
    CHECK(am_f16_to_f32(0x3c00) == 1.0f, "f16 1.0");
    CHECK(am_f16_to_f32(0xc000) == -2.0f, "f16 -2.0");
    CHECK(am_f16_to_f32(0x7bff) == 65504.0f, "f16 max");
    CHECK(am_f16_to_f32(0x0001) == ldexpf(1.0f, -24), "f16 min subnormal");
    CHECK(am_f16_to_f32(0x0400) == ldexpf(1.0f, -14), "f16 min normal");
    CHECK(isinf(am_f16_to_f32(0x7c00)), "f16 inf");
    CHECK(am_bf16_to_f32(0x3f80) == 1.0f, "bf16 1.0");
    CHECK(am_f32_to_bf16(1.00390625f) == 0x3f80, "bf16 round to even");
    CHECK(am_f32_to_f16(1.0f) == 0x3c00 && am_f32_to_f16(65504.0f) == 0x7bff && am_f32_to_f16(1e6f) == 0x7c00,
          "f32 -> f16");
    const am_kernels *k = am_kernels_get(AM_K_AVX2);
    if (!k) k = am_kernels_get(AM_K_NEON);
    if (!k) return;
    uint16_t *all = malloc(sizeof(uint16_t) * 65536);
    float *out = malloc(sizeof(float) * 65536);
    for (int i = 0; i < 65536; i++) all[i] = (uint16_t)i;
    k->convert(out, all, AM_F16, 65536);
    int bad = 0;
    for (int i = 0; i < 65536; i++) {
        float r = am_f16_to_f32((uint16_t)i);
        if (isnan(r) ? !isnan(out[i]) : memcmp(&r, &out[i], 4) != 0) bad++;
        if (!isnan(r) && am_f32_to_f16(r) != (uint16_t)i) bad++;
    }
    CHECK(!bad, "f16 decoder vs F16C / round trip: %d patterns differ", bad);
    free(all), free(out);
}

int main(void) {
    test_f16_decoder();
    int tested = 0;
    for (int l = 0; l < AM_K_NLEVELS; l++) {
        const am_kernels *k = am_kernels_get((am_klevel)l);
        if (!k) {
            printf("level %d not supported by this CPU, skipped\n", l);
            continue;
        }
        tested++;
        test_matmul(k);
        test_rmsnorm(k);
        test_softmax(k);
        test_elementwise(k);
        test_attention(k);
        test_rope(k);
        printf("%s kernels checked\n", k->name);
    }
    printf("best level: %s\n", am_kernels_best()->name);
    /* the device kernels of the CUDA backend, when there is a GPU */
    const am_kernels *kc = am_kernels_cuda();
    if (kc) {
        test_matmul(kc);
        test_rmsnorm(kc);
        test_softmax(kc);
        test_elementwise(kc);
        test_attention(kc);
        test_rope(kc);
        printf("%s kernels checked\n", kc->name);
    } else {
        char why[256];
        am_cuda_available(why, sizeof why);
        printf("SKIP: cuda kernels not checked: %s\n", why);
    }
    if (failures || !tested) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    return 0;
}
