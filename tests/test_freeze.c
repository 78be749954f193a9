/* Frozen attention patterns (am_freeze) on a synthetic checkpoint:
 *  1. a run frozen with its own captured patterns reproduces the live run
 *     bit for bit (maps, prefill logits, greedy tokens), for all layers and
 *     heads and for a subset;
 *  2. the alpha = 0.5 mix frozen with the alpha = 1 patterns in layers {0, 2},
 *     heads {1, 3}: the substituted heads carry the source patterns exactly,
 *     the untouched heads of layer 0 equal the live run bitwise on the prompt, the output
 *     changes, and maps, logits and greedy tokens agree with the independent
 *     float64 reference (tools/qwen3_ref.py) computing the same substitution
 *     (probabilities 1e-4, logits 1e-3 of the row's max |logit|, tokens while
 *     the reference margin is > 1e-3);
 *  3. a source shorter than the run is an error naming the positions. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/mix.h"
#include "model/runtime.h"
#include "test_util.h"

#define T0 7
#define NEW 6
#define PROB_TOL 1e-4
#define LOGIT_TOL 1e-3
#define MARGIN 1e-3

#define DIE(...)                                      \
    do {                                              \
        fprintf(stderr, "test_freeze: " __VA_ARGS__); \
        fprintf(stderr, "\n");                        \
        exit(1);                                      \
    } while (0)

static int L, H, D, V, S;

/* Captured maps of two units: [2][L][H][S][S]. */
static int cap_fn(void *ctx, int layer, int unit, int q0, int nq, int nk, const float *probs, am_err *e) {
    (void)e;
    float *m = (float *)ctx + (size_t)unit * L * H * S * S;
    for (int h = 0; h < H; h++)
        for (int i = 0; i < nq; i++)
            memcpy(m + (((size_t)layer * H + h) * S + q0 + i) * S, probs + ((size_t)h * nq + i) * nk,
                   sizeof(float) * nk);
    return 0;
}

/* Freeze source: unit u takes the maps src[u] ([L][H][S][S]) of length len[u]. */
typedef struct fsrc {
    const float *src[2];
    int len[2];
} fsrc;

static int freeze_fn(void *ctx, int layer, int unit, int head, int q0, int nq, int nk, float *probs, am_err *e) {
    fsrc *f = ctx;
    if (q0 + nq > f->len[unit])
        return am_fail(e, "frozen source covers %d positions, the run reached %d", f->len[unit], q0 + nq);
    for (int i = 0; i < nq; i++)
        memcpy(probs + (size_t)i * nk, f->src[unit] + (((size_t)layer * H + head) * S + q0 + i) * S,
               sizeof(float) * nk);
    return 0;
}

/* Prefill both units, then generate; maps into cap [2][L][H][S][S]. */
static void run(am_runtime *rt, float *const emb[2], const am_gen_opts *g, float *cap, float *logits0, int32_t *gen,
                int *n_gen) {
    am_err e = {0};
    int units[2] = {0, 1}, T[2] = {T0, T0};
    memset(cap, 0, sizeof(float) * 2 * L * H * S * S);
    am_capture c = {.fn = cap_fn, .ctx = cap};
    for (int u = 0; u < 2; u++) am_runtime_reset(rt, u, 0, 0);
    if (am_forward(rt, 2, units, T, (const float *const *)emb, &c, logits0, &e) ||
        am_generate(rt, 2, units, logits0, g, &c, gen, n_gen, &e))
        DIE("%s", e.msg);
}

int main(void) {
    const char *bin = getenv("ATTNMIX_BIN"), *src = getenv("ATTNMIX_SRC"), *py = getenv("PYTHON");
    if (!bin || !src) DIE("ATTNMIX_BIN and ATTNMIX_SRC must be set (run through ctest)");
    if (!py) py = "/usr/bin/python3";
    const char *dir = "freeze.tiny.model";
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s/attnmix-make-checkpoint --preset tiny --out %s --seed 5 --qk-scale 4 --force --quiet",
             bin, dir);
    if (system(cmd)) DIE("failed: %s", cmd);
    am_err e = {0};
    am_qwen3 m;
    if (am_qwen3_open(&m, dir, &e)) DIE("%s", e.msg);
    L = m.cfg.num_hidden_layers, H = m.cfg.num_attention_heads, D = m.cfg.hidden_size, V = m.cfg.vocab_size;
    S = T0 + NEW;
    am_runtime *rt;
    am_runtime_opts o = {.max_units = 2, .max_seq = S + 1};
    if (am_runtime_init(&rt, &m, &o, &e)) DIE("%s", e.msg);

    /* unit 0: alpha = 1 (prompt a), unit 1: alpha = 0.5 */
    int ids_a[T0], ids_b[T0];
    uint64_t s = 777;
    for (int t = 0; t < T0; t++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        ids_a[t] = (int)((s >> 33) % 150000);
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        ids_b[t] = (int)((s >> 33) % 150000);
    }
    const double alpha[2] = {1.0, 0.5};
    float *emb[2], *ea = malloc(sizeof(float) * D);
    for (int u = 0; u < 2; u++) {
        emb[u] = malloc(sizeof(float) * T0 * D);
        if (am_mix_embed(&m, ids_a, ids_b, T0, alpha[u], emb[u], &e)) DIE("%s", e.msg);
    }
    size_t msz = (size_t)2 * L * H * S * S;
    float *live = malloc(sizeof(float) * msz), *frz = malloc(sizeof(float) * msz);
    float *lg_live = malloc(sizeof(float) * 2 * V), *lg_frz = malloc(sizeof(float) * 2 * V);
    int32_t gen_live[2 * NEW], gen_frz[2 * NEW];
    int n_live[2], n_frz[2];
    am_gen_opts g = {.max_new_tokens = NEW};
    run(rt, emb, &g, live, lg_live, gen_live, n_live);
    printf("live: generated %d and %d tokens\n", n_live[0], n_live[1]);

    /* 1. own patterns: bitwise equal, all heads and a subset */
    unsigned char lmask[8] = {0}, hmask[8] = {0};
    lmask[1] = 1, hmask[0] = hmask[2] = 1;
    for (int variant = 0; variant < 2; variant++) {
        fsrc fs = {{live, live + msz / 2}, {T0 + n_live[0], T0 + n_live[1]}};
        am_freeze fz = {.fn = freeze_fn, .ctx = &fs, .layers = variant ? lmask : NULL, .heads = variant ? hmask : NULL};
        int lim[2] = {n_live[0], n_live[1]};
        am_gen_opts gf = g;
        gf.max_new = lim;
        am_runtime_set_freeze(rt, &fz);
        run(rt, emb, &gf, frz, lg_frz, gen_frz, n_frz);
        am_runtime_set_freeze(rt, NULL);
        CHECK(!memcmp(live, frz, sizeof(float) * msz), "variant %d: maps of the self-frozen run differ", variant);
        CHECK(!memcmp(lg_live, lg_frz, sizeof(float) * 2 * V), "variant %d: prefill logits differ", variant);
        for (int u = 0; u < 2; u++) {
            CHECK(n_frz[u] == n_live[u], "variant %d unit %d: %d tokens, live %d", variant, u, n_frz[u], n_live[u]);
            CHECK(!memcmp(gen_live + u * NEW, gen_frz + u * NEW, sizeof(int32_t) * n_live[u]),
                  "variant %d unit %d: tokens differ", variant, u);
        }
    }
    printf("self-frozen runs: bitwise equal to the live run (all heads; layer 1 heads 0, 2)\n");

    /* 2. alpha = 0.5 frozen with the alpha = 1 patterns in layers {0, 2}, heads {1, 3} */
    memset(lmask, 0, sizeof lmask), memset(hmask, 0, sizeof hmask);
    lmask[0] = lmask[2] = 1, hmask[1] = hmask[3] = 1;
    fsrc fs = {{live, live}, {T0 + n_live[0], T0 + n_live[0]}};
    am_freeze fz = {.fn = freeze_fn, .ctx = &fs, .layers = lmask, .heads = hmask};
    int lim[2] = {n_live[0], n_live[0]};
    am_gen_opts gf = g;
    gf.max_new = lim;
    am_runtime_set_freeze(rt, &fz);
    run(rt, emb, &gf, frz, lg_frz, gen_frz, n_frz);
    const float *f1 = frz + msz / 2, *l1 = live + msz / 2;
    int Sf = T0 + n_frz[1];
    int src_bad = 0, l0_bad = 0;
    double changed = 0;
    for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++)
            for (int q = 0; q < Sf; q++)
                for (int k = 0; k <= q; k++) {
                    size_t i = (((size_t)l * H + h) * S + q) * S + k;
                    if (lmask[l] && hmask[h] && f1[i] != live[i]) src_bad++;
                    if (l == 0 && !hmask[h] && q < T0 && f1[i] != l1[i]) /* prompt rows: same input */
                        l0_bad++;
                    if (l == 1 && fabs(f1[i] - l1[i]) > changed) changed = fabs(f1[i] - l1[i]);
                }
    CHECK(!src_bad, "%d cells of substituted heads differ from the source", src_bad);
    CHECK(!l0_bad, "%d cells of untouched layer-0 heads differ from the live run", l0_bad);
    double dl = 0;
    for (int v = 0; v < V; v++)
        if (fabs(lg_frz[V + v] - lg_live[V + v]) > dl) dl = fabs(lg_frz[V + v] - lg_live[V + v]);
    CHECK(changed > 1e-3, "layer 1 maps unchanged by the freeze (max diff %.3g)", changed);
    CHECK(dl > 1e-3, "logits unchanged by the freeze (max diff %.3g)", dl);
    printf("frozen alpha=0.5: layer-1 maps move by up to %.3g, prefill logits by %.3g\n", changed, dl);

    /* reference: source maps and the case */
    hid_t hf = H5Fcreate("freeze.src.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[4] = {(hsize_t)L, (hsize_t)H, (hsize_t)S, (hsize_t)S};
    hid_t sp = H5Screate_simple(4, dims, NULL);
    hid_t ds = H5Dcreate2(hf, "src", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, live);
    H5Dclose(ds), H5Sclose(sp), H5Fclose(hf);
    FILE *f = fopen("freeze.cases.json", "w");
    fprintf(f,
            "{\"max_new_tokens\": %d, \"eos_ids\": [], \"units\": [{\"alpha\": 0.5, \"max_new_tokens\": %d, "
            "\"freeze\": {\"file\": \"freeze.src.h5\", \"dataset\": \"src\", \"layers\": [0, 2], \"heads\": [1, 3]}, "
            "\"ids_a\": [",
            NEW, n_live[0]);
    for (int t = 0; t < T0; t++) fprintf(f, "%s%d", t ? ", " : "", ids_a[t]);
    fprintf(f, "], \"ids_b\": [");
    for (int t = 0; t < T0; t++) fprintf(f, "%s%d", t ? ", " : "", ids_b[t]);
    fprintf(f, "]}]}\n");
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s %s/tools/qwen3_ref.py --model %s --cases freeze.cases.json --out freeze.ref.h5", py,
             src, dir);
    if (system(cmd)) DIE("failed: %s", cmd);
    hf = H5Fopen("freeze.ref.h5", H5F_ACC_RDONLY, H5P_DEFAULT);
    if (hf < 0) DIE("cannot open freeze.ref.h5");
    ds = H5Dopen2(hf, "unit0/gen", H5P_DEFAULT);
    sp = H5Dget_space(ds);
    int nref = (int)H5Sget_simple_extent_npoints(sp);
    H5Sclose(sp);
    int32_t rgen[NEW + 1];
    H5Dread(ds, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, rgen);
    H5Dclose(ds);
    double margin[NEW + 1];
    ds = H5Dopen2(hf, "unit0/margin", H5P_DEFAULT);
    H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, margin);
    H5Dclose(ds);
    int k = 0;
    while (k < nref && k < n_frz[1] && margin[k] > MARGIN && gen_frz[NEW + k] == rgen[k]) k++;
    CHECK(k == nref || k == n_frz[1] || margin[k] <= MARGIN, "step %d: token %d, reference %d (margin %.3g)", k,
          gen_frz[NEW + k], rgen[k], margin[k]);
    CHECK(nref == n_frz[1] || k < nref, "generated %d tokens, reference %d", n_frz[1], nref);
    int Sr = T0 + nref, rows = T0 + k;
    double *rp = malloc(sizeof(double) * (size_t)L * H * Sr * Sr);
    ds = H5Dopen2(hf, "unit0/probs", H5P_DEFAULT);
    H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, rp);
    H5Dclose(ds);
    double wp = 0;
    for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++)
            for (int q = 0; q < rows; q++)
                for (int j = 0; j < rows; j++) {
                    double d =
                        fabs(f1[(((size_t)l * H + h) * S + q) * S + j] - rp[(((size_t)l * H + h) * Sr + q) * Sr + j]);
                    if (d > wp) wp = d;
                }
    CHECK(wp <= PROB_TOL, "maps differ from the reference by %.3g", wp);
    /* logits of steps 0..k: replay unit 1 alone (the freeze stays installed) */
    float *rl = malloc(sizeof(float) * (size_t)(nref ? nref : 1) * V), *cl = malloc(sizeof(float) * V);
    ds = H5Dopen2(hf, "unit0/logits", H5P_DEFAULT);
    H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, rl);
    H5Dclose(ds);
    H5Fclose(hf);
    int one = 1, Tl = T0, nl = k < nref ? k + 1 : nref;
    double wl = 0;
    am_runtime_reset(rt, 1, 0, 0);
    for (int st = 0; st < nl; st++) {
        int t1 = 1;
        const float *pe = ea;
        if (st == 0) {
            if (am_forward(rt, 1, &one, &Tl, (const float *const *)&emb[1], NULL, cl, &e)) DIE("%s", e.msg);
        } else {
            am_embed_lookup(&m, gen_frz[NEW + st - 1], ea);
            if (am_forward(rt, 1, &one, &t1, &pe, NULL, cl, &e)) DIE("%s", e.msg);
        }
        double mx = 0, md = 0;
        for (int v = 0; v < V; v++) {
            double r = rl[(size_t)st * V + v];
            mx = fabs(r) > mx ? fabs(r) : mx;
            md = fabs(cl[v] - r) > md ? fabs(cl[v] - r) : md;
        }
        CHECK(md <= LOGIT_TOL * mx, "step %d: logits differ by %.3g, max |logit| %.3g", st, md, mx);
        wl = md / mx > wl ? md / mx : wl;
    }
    printf("frozen vs reference: max |dp| %.3e, max logit error %.3e of max |logit|, tokens compared %d/%d\n", wp, wl,
           k, nref);

    /* 3. a source shorter than the run */
    fs.len[1] = T0 - 1;
    am_runtime_reset(rt, 1, 0, 0);
    e.msg[0] = 0;
    int rc = am_forward(rt, 1, &one, &Tl, (const float *const *)&emb[1], NULL, cl, &e);
    CHECK(rc == -1 && strstr(e.msg, "covers 6 positions") && strstr(e.msg, "layer 0, unit 1, head 1"),
          "short source: rc %d, message '%s'", rc, e.msg);
    printf("short source: %s\n", e.msg);
    am_runtime_set_freeze(rt, NULL);

    am_runtime_free(rt);
    am_qwen3_close(&m);
    free(rp), free(rl), free(cl), free(live), free(frz), free(lg_live), free(lg_frz), free(ea);
    free(emb[0]), free(emb[1]);
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    return 0;
}
