/* Runtime self-consistency on the tiny synthetic checkpoint:
 *  - the mix alpha*E[a] + (1-alpha)*E[b] (am_mix_rows, am_mix_embed) on
 *    hand-computed rows, alpha 0 and 1 giving E[b] and E[a] exactly;
 *  - prefill of T+k tokens equals prefill T then k decode steps (maps, logits);
 *  - a batch of units equals each unit run alone (prefill and generation);
 *  - alpha = 1 mixing equals prompt a alone;
 *  - scalar reference kernels vs the SIMD kernels over a whole forward; an
 *    AM_KERNELS value that names no level refused;
 *  - masked pads: real queries give zero weight to pads, pad queries only see
 *    themselves, and the real tokens' maps and logits equal the unpadded run;
 *    unmasked pads are ordinary tokens;
 *  - sampling streams are per (seed, unit), eos stops a unit, capacity errors.
 * Matmul and attention results of one row do not depend on the batch, so the
 * first two are expected bitwise; the check allows 1e-6. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/mix.h"
#include "model/runtime.h"
#include "test_level.h"
#include "test_util.h"

#define MAXU 4
#define S 32
static am_qwen3 M;
static int L, H, D, V;

/* Maps captured per unit: [L][H][S][S]. */
typedef struct maps {
    float *m[MAXU];
} maps;

static int hook(void *ctx, int layer, int unit, int q0, int nq, int nk, const float *probs, am_err *e) {
    maps *mp = ctx;
    for (int h = 0; h < H; h++)
        for (int i = 0; i < nq; i++) {
            for (int j = 0; j < nk; j++)
                mp->m[unit][(((size_t)layer * H + h) * S + q0 + i) * S + j] = probs[((size_t)h * nq + i) * nk + j];
            for (int j = q0 + i + 1; j < nk; j++)
                if (probs[((size_t)h * nq + i) * nk + j] != 0.0f) return am_fail(e, "probability above the diagonal");
        }
    return 0;
}

static maps *maps_new(void) {
    maps *mp = calloc(1, sizeof *mp);
    for (int u = 0; u < MAXU; u++) mp->m[u] = calloc((size_t)L * H * S * S, sizeof(float));
    return mp;
}
static void maps_free(maps *mp) {
    for (int u = 0; u < MAXU; u++) free(mp->m[u]);
    free(mp);
}
static float *cell(maps *mp, int u, int l, int h, int q, int k) {
    return &mp->m[u][(((size_t)l * H + h) * S + q) * S + k];
}

/* max |a - b| over rows q of the maps of units ua (rows qa0..) and ub (qb0..),
 * keys ka0.. / kb0.., nrows x ncols */
static double maps_diff(maps *a, int ua, int qa0, int ka0, maps *b, int ub, int qb0, int kb0, int nrows, int ncols) {
    double w = 0;
    for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++)
            for (int q = 0; q < nrows; q++)
                for (int k = 0; k < ncols; k++) {
                    double d = fabs(*cell(a, ua, l, h, qa0 + q, ka0 + k) - *cell(b, ub, l, h, qb0 + q, kb0 + k));
                    if (d > w) w = d;
                }
    return w;
}

static double vec_diff(const float *a, const float *b, size_t n) {
    double w = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(a[i] - b[i]) > w) w = fabs(a[i] - b[i]);
    return w;
}

static double vec_max(const float *a, size_t n) {
    double w = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(a[i]) > w) w = fabs(a[i]);
    return w;
}

/* emb [T][D] = alpha*E[a] + (1-alpha)*E[b], as the embed-mix stage computes it */
static void mix(float *emb, const int *a, const int *b, int T, double alpha) {
    am_err e = {0};
    CHECK(am_mix_embed(&M, a, b, T, alpha, emb, &e) == 0, "am_mix_embed: %s", e.msg);
}

/* The mix on hand-computed rows: weights rounded once from double. */
static void test_mix(void) {
    const float ea[4] = {1.0f, 2.0f, -4.0f, 0.5f}, eb[4] = {3.0f, -1.0f, 8.0f, 0.5f};
    const float quarter[4] = {2.5f, -0.25f, 5.0f, 0.5f}; /* 0.25*ea + 0.75*eb */
    float out[4];
    am_mix_rows(out, ea, eb, 0.0, 4);
    CHECK(!memcmp(out, eb, sizeof out), "alpha 0 must give E[b] exactly");
    am_mix_rows(out, ea, eb, 1.0, 4);
    CHECK(!memcmp(out, ea, sizeof out), "alpha 1 must give E[a] exactly");
    am_mix_rows(out, ea, eb, 0.25, 4);
    for (int i = 0; i < 4; i++) CHECK(out[i] == quarter[i], "alpha 0.25 [%d]: %.9g, want %.9g", i, out[i], quarter[i]);
    /* the weight of b is (float)(1 - alpha) computed in double, not 1 - (float)alpha */
    const float zero[1] = {0.0f}, one[1] = {1.0f};
    am_mix_rows(out, zero, one, 0.8, 1);
    CHECK(out[0] == (float)(1.0 - 0.8), "alpha 0.8: weight of b %.9g, want %.9g", out[0], (float)(1.0 - 0.8));
    am_mix_rows(out, one, zero, 0.8, 1);
    CHECK(out[0] == (float)0.8, "alpha 0.8: weight of a %.9g", out[0]);
    /* out may alias an input */
    float x[4];
    memcpy(x, ea, sizeof x);
    am_mix_rows(x, x, eb, 0.25, 4);
    CHECK(!memcmp(x, quarter, sizeof x), "aliased output differs");

    /* rows of the model: alpha 1 and 0 are the plain lookups, ids outside the vocabulary refused */
    const int32_t ia[3] = {5, 151643, 17}, ib[3] = {9000, 3, 17};
    float *m1 = malloc(sizeof(float) * 3 * D), *m0 = malloc(sizeof(float) * 3 * D), *row = malloc(sizeof(float) * D);
    am_err e = {0};
    CHECK(am_mix_embed(&M, ia, ib, 3, 1.0, m1, &e) == 0 && am_mix_embed(&M, ia, ib, 3, 0.0, m0, &e) == 0, "%s", e.msg);
    for (int t = 0; t < 3; t++) {
        am_embed_lookup(&M, ia[t], row);
        CHECK(!memcmp(m1 + (size_t)t * D, row, sizeof(float) * D), "alpha 1, token %d: not E[a]", t);
        am_embed_lookup(&M, ib[t], row);
        CHECK(!memcmp(m0 + (size_t)t * D, row, sizeof(float) * D), "alpha 0, token %d: not E[b]", t);
    }
    const int32_t bad[1] = {V};
    CHECK(am_mix_embed(&M, bad, ib, 1, 0.5, m1, &e) == -1 && e.code == AM_E_CORRUPT && strstr(e.msg, "vocab"),
          "id %d outside the vocabulary accepted (%s)", V, e.msg);
    free(m1), free(m0), free(row);
}

static am_runtime *new_rt(int scalar) {
    am_err e;
    am_runtime_opts o = {.max_units = MAXU, .max_seq = S, .scalar = scalar};
    am_runtime *rt;
    if (am_runtime_init(&rt, &M, &o, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        exit(1);
    }
    return rt;
}

static void fwd(am_runtime *rt, int n, const int *units, const int *T, float **emb, maps *mp, float *logits) {
    am_err e;
    am_capture cap = {.fn = hook, .ctx = mp};
    if (am_forward(rt, n, units, T, (const float *const *)emb, mp ? &cap : NULL, logits, &e)) {
        fprintf(stderr, "forward: %s\n", e.msg);
        exit(1);
    }
}

static int A[3][12] = {{101, 2002, 30003, 400, 5005, 60006, 707, 8008, 90009, 1010, 111, 1212},
                       {9, 88, 777, 6666, 55555, 4444, 333, 22, 1, 150000, 140000, 130000},
                       {31, 41, 59, 26, 53, 58, 97, 93, 23, 84, 62, 64}};
static int B[3][12] = {{5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
                       {1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 11000, 12000},
                       {271, 828, 182, 845, 904, 523, 536, 28, 747, 135, 266, 249}};

static void test_prefill_vs_decode(void) {
    am_runtime *rt = new_rt(0);
    maps *ma = maps_new(), *mb = maps_new();
    int T = 10, T0 = 6, u = 0;
    float *emb = malloc(sizeof(float) * T * D), *la = malloc(sizeof(float) * V), *lb = malloc(sizeof(float) * V);
    mix(emb, A[0], B[0], T, 0.3f);
    am_runtime_reset(rt, u, 0, 0);
    fwd(rt, 1, &u, &T, &emb, ma, la);
    am_runtime_reset(rt, u, 0, 0);
    fwd(rt, 1, &u, &T0, &emb, mb, NULL);
    for (int t = T0; t < T; t++) {
        int one = 1;
        float *p = emb + (size_t)t * D;
        fwd(rt, 1, &u, &one, &p, mb, lb);
    }
    double dm = maps_diff(ma, 0, 0, 0, mb, 0, 0, 0, T, T), dl = vec_diff(la, lb, V);
    CHECK(dm <= 1e-6 && dl <= 1e-6 * vec_max(la, V), "prefill %d vs %d + decode: maps %.3g logits %.3g", T, T0, dm, dl);
    printf("prefill vs decode: maps %.3g, logits %.3g%s\n", dm, dl, dm == 0 && dl == 0 ? " (bitwise)" : "");
    maps_free(ma), maps_free(mb), free(emb), free(la), free(lb);
    am_runtime_free(rt);
}

static void test_batched_vs_alone(void) {
    am_runtime *rt = new_rt(0);
    maps *mb = maps_new(), *m1 = maps_new();
    int units[3] = {2, 0, 1}, T[3] = {5, 9, 7};
    float *emb[3], *lb = malloc(sizeof(float) * 3 * V), *l1 = malloc(sizeof(float) * 3 * V);
    for (int i = 0; i < 3; i++) {
        emb[i] = malloc(sizeof(float) * 12 * D);
        mix(emb[i], A[i], B[i], T[i], 0.2f + 0.3f * i);
        am_runtime_reset(rt, units[i], 0, 0);
    }
    /* one ragged batch */
    fwd(rt, 3, units, T, emb, mb, lb);
    am_gen_opts g = {.max_new_tokens = 6};
    int32_t gb[3 * 6], g1[6];
    int nb[3], n1;
    am_err e;
    am_capture cap = {.fn = hook, .ctx = mb};
    if (am_generate(rt, 3, units, lb, &g, &cap, gb, nb, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        exit(1);
    }
    /* each alone */
    double dm = 0, dl = 0;
    int same_tokens = 1;
    for (int i = 0; i < 3; i++) {
        am_runtime_reset(rt, units[i], 0, 0);
        fwd(rt, 1, &units[i], &T[i], &emb[i], m1, l1 + (size_t)i * V);
        cap.ctx = m1;
        if (am_generate(rt, 1, &units[i], l1 + (size_t)i * V, &g, &cap, g1, &n1, &e)) {
            fprintf(stderr, "%s\n", e.msg);
            exit(1);
        }
        same_tokens &= n1 == nb[i] && !memcmp(g1, gb + i * 6, sizeof(int32_t) * n1);
        int Sq = T[i] + n1;
        CHECK(am_runtime_len(rt, units[i]) == Sq, "unit %d holds %d positions, expected %d", units[i],
              am_runtime_len(rt, units[i]), Sq);
        double d = maps_diff(mb, units[i], 0, 0, m1, units[i], 0, 0, Sq, Sq);
        if (d > dm) dm = d;
        d = vec_diff(lb + (size_t)i * V, l1 + (size_t)i * V, V) / vec_max(l1 + (size_t)i * V, V);
        if (d > dl) dl = d;
    }
    CHECK(same_tokens, "batched generation tokens differ from unbatched");
    CHECK(dm <= 1e-6 && dl <= 1e-6, "batched vs alone: maps %.3g, logits %.3g", dm, dl);
    printf("batched vs alone: maps %.3g, logits %.3g%s\n", dm, dl, dm == 0 && dl == 0 ? " (bitwise)" : "");
    for (int i = 0; i < 3; i++) free(emb[i]);
    maps_free(mb), maps_free(m1), free(lb), free(l1);
    am_runtime_free(rt);
}

static void test_alpha_one(void) {
    am_runtime *rt = new_rt(0);
    maps *mp = maps_new();
    int units[2] = {0, 1}, T[2] = {8, 8};
    float *emb[2], *lg = malloc(sizeof(float) * 2 * V);
    emb[0] = malloc(sizeof(float) * 8 * D), emb[1] = malloc(sizeof(float) * 8 * D);
    mix(emb[0], A[1], B[2], 8, 1.0f); /* alpha = 1: only a */
    mix(emb[1], A[1], A[1], 8, 0.0f); /* plain a (via the b side) */
    am_runtime_reset(rt, 0, 0, 0), am_runtime_reset(rt, 1, 0, 0);
    fwd(rt, 2, units, T, emb, mp, lg);
    double dm = maps_diff(mp, 0, 0, 0, mp, 1, 0, 0, 8, 8), dl = vec_diff(lg, lg + V, V);
    CHECK(dm == 0 && dl == 0, "alpha=1 mix vs prompt a alone: maps %.3g logits %.3g", dm, dl);
    free(emb[0]), free(emb[1]), free(lg), maps_free(mp);
    am_runtime_free(rt);
}

static void test_scalar_vs_simd(void) {
    am_runtime *rs = new_rt(1), *rv = new_rt(0);
    maps *ms = maps_new(), *mv = maps_new();
    int u = 0, T = 12;
    float *emb = malloc(sizeof(float) * T * D), *ls = malloc(sizeof(float) * V), *lv = malloc(sizeof(float) * V);
    mix(emb, A[2], B[0], T, 0.6f);
    am_runtime_reset(rs, u, 0, 0), am_runtime_reset(rv, u, 0, 0);
    fwd(rs, 1, &u, &T, &emb, ms, ls);
    fwd(rv, 1, &u, &T, &emb, mv, lv);
    double dm = maps_diff(ms, 0, 0, 0, mv, 0, 0, 0, T, T), dl = vec_diff(ls, lv, V) / vec_max(ls, V);
    /* same float32 math, different summation order: the runtime-vs-float64
     * comparison (test_runtime_ref) shows ~3e-5 per probability; allow that */
    CHECK(dm <= 1e-4 && dl <= 1e-4, "%s vs %s kernels: maps %.3g logits %.3g", am_runtime_kernel_name(rs),
          am_runtime_kernel_name(rv), dm, dl);
    printf("%s vs %s kernels: maps %.3g, logits %.3g (relative)\n", am_runtime_kernel_name(rs),
           am_runtime_kernel_name(rv), dm, dl);
    free(emb), free(ls), free(lv), maps_free(ms), maps_free(mv);
    am_runtime_free(rs), am_runtime_free(rv);
}

/* A misspelt AM_KERNELS is refused, not ignored. */
static void test_bad_level(void) {
    const char *was = getenv("AM_KERNELS");
    char *saved = was ? strdup(was) : NULL;
    setenv("AM_KERNELS", "avx-512", 1);
    am_err e = {0};
    am_runtime_opts o = {.max_units = 1, .max_seq = 4};
    am_runtime *rt = NULL;
    int rc = am_runtime_init(&rt, &M, &o, &e);
    CHECK(rc == -1 && e.code == AM_E_USAGE && strstr(e.msg, "AM_KERNELS=avx-512"),
          "AM_KERNELS=avx-512 accepted (rc %d: %s)", rc, e.msg);
    if (!rc) am_runtime_free(rt);
    if (saved) setenv("AM_KERNELS", saved, 1);
    else unsetenv("AM_KERNELS");
    free(saved);
}

static void test_mask_pads(void) {
    am_runtime *rt = new_rt(0);
    maps *mp = maps_new();
    int P = 3, T = 7, pad = 151643;
    int ids[10];
    for (int t = 0; t < P; t++) ids[t] = pad;
    memcpy(ids + P, A[0], sizeof(int) * T);
    float *e0 = malloc(sizeof(float) * 10 * D), *e1 = malloc(sizeof(float) * 10 * D);
    mix(e0, ids, ids, P + T, 1.0f); /* padded */
    mix(e1, A[0], A[0], T, 1.0f);   /* unpadded */
    float *lg = malloc(sizeof(float) * 3 * V);
    int units[3] = {0, 1, 2}, Ts[3] = {P + T, T, P + T};
    float *embs[3] = {e0, e1, e0};
    am_runtime_reset(rt, 0, P, 1);
    am_runtime_reset(rt, 1, 0, 0);
    am_runtime_reset(rt, 2, P, 0); /* pads present but not masked */
    fwd(rt, 3, units, Ts, embs, mp, lg);
    /* real queries: zero weight on pads; pad queries: only themselves */
    int bad = 0;
    for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++)
            for (int q = 0; q < P + T; q++)
                for (int k = 0; k < P && k <= q; k++) {
                    float v = *cell(mp, 0, l, h, q, k);
                    bad += q < P ? v != (k == q ? 1.0f : 0.0f) : v != 0.0f;
                }
    CHECK(!bad, "masked pads: %d cells wrong", bad);
    double dm = maps_diff(mp, 0, P, P, mp, 1, 0, 0, T, T);
    double dl = vec_diff(lg, lg + V, V) / vec_max(lg + V, V);
    CHECK(dm <= 1e-6 && dl <= 1e-5, "masked pads vs unpadded: maps %.3g logits %.3g", dm, dl);
    /* unmasked pads take part: some pad column gets weight, logits change */
    double padw = 0;
    for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++)
            for (int q = P; q < P + T; q++)
                for (int k = 0; k < P; k++) padw += *cell(mp, 2, l, h, q, k);
    CHECK(padw > 1e-3, "unmasked pads receive no attention (%.3g)", padw);
    CHECK(vec_diff(lg + 2 * (size_t)V, lg + V, V) > 1e-4, "unmasked pads do not change the logits");
    /* generation with masked pads: same tokens as unpadded */
    am_gen_opts g = {.max_new_tokens = 5};
    int32_t gen[10];
    int ng[2];
    am_err e;
    if (am_generate(rt, 2, units, lg, &g, NULL, gen, ng, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        exit(1);
    }
    CHECK(ng[0] == 5 && ng[1] == 5 && !memcmp(gen, gen + 5, sizeof(int32_t) * 5),
          "masked-pad generation differs from unpadded");
    printf("mask_pads: maps %.3g, logits %.3g vs unpadded; unmasked pad weight %.3g\n", dm, dl, padw);
    free(e0), free(e1), free(lg), maps_free(mp);
    am_runtime_free(rt);
}

static int steps_seen;
static void progress(void *ctx, int step, int active) { steps_seen = step + 1; }

static void test_sampling_eos_errors(void) {
    am_runtime *rt = new_rt(0);
    int units[3] = {0, 1, 2}, T[3] = {6, 6, 6};
    float *emb[3], *lg = malloc(sizeof(float) * 3 * V), *lg2 = malloc(sizeof(float) * 3 * V);
    for (int i = 0; i < 3; i++) {
        emb[i] = malloc(sizeof(float) * 6 * D);
        mix(emb[i], A[i], B[i], 6, 0.5f);
        am_runtime_reset(rt, i, 0, 0);
    }
    fwd(rt, 3, units, T, emb, NULL, lg);
    am_err e;
    am_gen_opts g = {.max_new_tokens = 8, .temperature = 1.0, .top_p = 0.9, .seed = 42};
    int32_t ga[24], gb[8], gc[24];
    int na[3], nb, nc[3];
    if (am_generate(rt, 3, units, lg, &g, NULL, ga, na, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        exit(1);
    }
    /* unit 1 alone with the same seed: same stream, same tokens */
    am_runtime_reset(rt, 1, 0, 0);
    fwd(rt, 1, &units[1], &T[1], &emb[1], NULL, lg2);
    if (am_generate(rt, 1, &units[1], lg2, &g, NULL, gb, &nb, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        exit(1);
    }
    CHECK(nb == na[1] && !memcmp(gb, ga + 8, sizeof(int32_t) * nb), "sampling stream depends on the batch");
    /* another seed gives other tokens */
    for (int i = 0; i < 3; i++) am_runtime_reset(rt, i, 0, 0);
    fwd(rt, 3, units, T, emb, NULL, lg);
    g.seed = 43;
    if (am_generate(rt, 3, units, lg, &g, NULL, gc, nc, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        exit(1);
    }
    CHECK(memcmp(ga, gc, sizeof ga), "seeds 42 and 43 sample the same tokens");

    /* eos: greedy run, then stop at the 3rd token of unit 0 */
    g = (am_gen_opts){.max_new_tokens = 8, .progress = progress};
    for (int i = 0; i < 3; i++) am_runtime_reset(rt, i, 0, 0);
    fwd(rt, 3, units, T, emb, NULL, lg);
    memcpy(lg2, lg, sizeof(float) * 3 * V);
    if (am_generate(rt, 3, units, lg, &g, NULL, ga, na, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        exit(1);
    }
    CHECK(steps_seen == 8, "progress saw %d steps", steps_seen);
    /* a nucleus of mass 1e-9 is the top token alone: sampling = greedy */
    for (int i = 0; i < 3; i++) am_runtime_reset(rt, i, 0, 0);
    fwd(rt, 3, units, T, emb, NULL, lg);
    am_gen_opts gp = {.max_new_tokens = 8, .temperature = 0.7, .top_p = 1e-9, .seed = 9};
    if (am_generate(rt, 3, units, lg, &gp, NULL, gc, nc, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        exit(1);
    }
    CHECK(!memcmp(ga, gc, sizeof ga), "top_p -> 0 sampling differs from greedy");
    int eos = ga[2], first = 0;
    while (ga[first] != eos) first++;
    for (int i = 0; i < 3; i++) am_runtime_reset(rt, i, 0, 0);
    fwd(rt, 3, units, T, emb, NULL, lg);
    g.eos_ids = &eos, g.n_eos = 1;
    if (am_generate(rt, 3, units, lg, &g, NULL, gc, nc, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        exit(1);
    }
    CHECK(nc[0] == first + 1 && gc[first] == eos, "eos at step %d: unit 0 generated %d", first, nc[0]);
    CHECK(am_runtime_len(rt, 0) == 6 + nc[0], "eos: unit 0 holds %d positions, expected %d (last token fed)",
          am_runtime_len(rt, 0), 6 + nc[0]);

    /* capacity and argument errors */
    g = (am_gen_opts){.max_new_tokens = S};
    CHECK(am_generate(rt, 1, units, lg, &g, NULL, ga, na, &e) == -1 && strstr(e.msg, "max_seq"),
          "generation beyond max_seq accepted (%s)", e.msg);
    int dup[2] = {1, 1}, T2[2] = {1, 1};
    const float *pe[2] = {emb[0], emb[0]};
    CHECK(am_forward(rt, 2, dup, T2, pe, NULL, NULL, &e) == -1 && strstr(e.msg, "twice"),
          "duplicate unit accepted (%s)", e.msg);
    for (int i = 0; i < 3; i++) free(emb[i]);
    free(lg), free(lg2);
    am_runtime_free(rt);
}

int main(void) {
    int lv = test_level_check("test_runtime");
    if (lv) return lv;
    const char *bin = getenv("ATTNMIX_BIN");
    if (!bin) {
        fprintf(stderr, "test_runtime: ATTNMIX_BIN must be set (run through ctest)\n");
        return 1;
    }
    char cmd[1024];
    snprintf(
        cmd, sizeof cmd,
        "%s/attnmix-make-checkpoint --preset tiny --out runtime_self.tiny.model --seed 5 --qk-scale 4 --force --quiet",
        bin);
    if (system(cmd)) {
        fprintf(stderr, "test_runtime: failed: %s\n", cmd);
        return 1;
    }
    am_err e;
    if (am_qwen3_open(&M, "runtime_self.tiny.model", &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    L = M.cfg.num_hidden_layers, H = M.cfg.num_attention_heads, D = M.cfg.hidden_size, V = M.cfg.vocab_size;
    test_mix();
    test_prefill_vs_decode();
    test_batched_vs_alone();
    test_alpha_one();
    test_scalar_vs_simd();
    test_bad_level();
    test_mask_pads();
    test_sampling_eos_errors();
    am_qwen3_close(&M);
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    printf("runtime self-consistency passed\n");
    return 0;
}
