/* The CUDA backend against the CPU runtime on synthetic checkpoints (tiny
 * and small, peaky maps): mixed-embedding prompts with and without masked
 * pads, batched prefill and batched greedy generation, every map captured.
 *   float32 compute: attention within 1e-4, logits within 1e-4 of the row's
 *   largest |logit|; bf16 compute: attention within 2e-3, logits within
 *   3e-2. Greedy tokens equal while the CPU's top-1/top-2 margin is clear
 *   (above 1e-3, for bf16 6e-2, of the row's largest |logit|); maps are
 *   compared over the positions both runs share.
 * The prompt lengths make the prefill's probabilities overflow one buffer,
 * so the device splits each layer into two groups of units.
 * Also: two device runs are bitwise equal; a run frozen with other patterns
 * (uniform rows) agrees with the CPU frozen with the same patterns (the maps
 * it captures are those patterns, its tokens and logits follow from them);
 * a unit alone agrees with the same unit in a batch.
 * Without a GPU (or a build without nvcc) it says why and exits 77, which
 * ctest reports as skipped. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_cuda.h"
#include "model/mix.h"
#include "model/runtime.h"
#include "test_util.h"

#define NU 5
#define MAXT 12
#define MAXNEW 10

typedef struct unit_case {
    int T, n_pad, mask_pads;
    double alpha;
    int ids_a[MAXT], ids_b[MAXT];
} unit_case;

/* One run: every unit's maps [L][H][S][S], generated tokens, prefill logits. */
typedef struct run {
    int L, H, S, V;
    float *m[NU];
    int32_t gen[NU * MAXNEW];
    int n_gen[NU];
    float *logits0; /* [NU][V] */
} run;

static int hook(void *ctx, int layer, int unit, int q0, int nq, int nk, const float *probs, am_err *e) {
    (void)e;
    run *r = ctx;
    for (int h = 0; h < r->H; h++)
        for (int i = 0; i < nq; i++)
            memcpy(r->m[unit] + (((size_t)layer * r->H + h) * r->S + q0 + i) * r->S, probs + ((size_t)h * nq + i) * nk,
                   sizeof(float) * nk);
    return 0;
}

/* Frozen patterns: every row uniform over the keys it may see. */
static int uniform_hook(void *ctx, int layer, int unit, int head, int q0, int nq, int nk, float *probs, am_err *e) {
    (void)ctx, (void)layer, (void)unit, (void)head, (void)e;
    for (int i = 0; i < nq; i++)
        for (int j = 0; j < nk; j++) probs[(size_t)i * nk + j] = j <= q0 + i ? 1.0f / (float)(q0 + i + 1) : 0.0f;
    return 0;
}

static const am_qwen3 *model;
static const unit_case *cases;
static float *emb[NU];

static int do_run(run *r, am_rt_backend backend, int f32, const am_freeze *fz, int only_unit, am_err *e) {
    const am_qwen3_config *c = &model->cfg;
    r->L = c->num_hidden_layers, r->H = c->num_attention_heads, r->S = MAXT + MAXNEW + 1, r->V = c->vocab_size;
    for (int u = 0; u < NU; u++) r->m[u] = calloc((size_t)r->L * r->H * r->S * r->S, sizeof(float));
    r->logits0 = calloc((size_t)NU * r->V, sizeof(float));
    memset(r->gen, 0, sizeof r->gen);
    memset(r->n_gen, 0, sizeof r->n_gen);
    am_runtime_opts o = {.max_units = NU, .max_seq = r->S, .backend = backend, .cuda_f32 = f32};
    am_runtime *rt = NULL;
    if (am_runtime_init(&rt, model, &o, e)) return -1;
    am_runtime_set_freeze(rt, fz);
    int units[NU], T[NU], n = 0;
    const float *ep[NU];
    for (int u = 0; u < NU; u++) {
        if (only_unit >= 0 && u != only_unit) continue;
        units[n] = u, T[n] = cases[u].T, ep[n] = emb[u];
        am_runtime_reset(rt, u, cases[u].n_pad, cases[u].mask_pads);
        n++;
    }
    am_capture cap = {.fn = hook, .ctx = r};
    am_gen_opts g = {.max_new_tokens = MAXNEW};
    int32_t gen[NU * MAXNEW];
    int n_gen[NU];
    /* logits rows follow the unit numbers (the batch lists units 0..NU-1 in order) */
    float *lg = n == 1 ? r->logits0 + (size_t)units[0] * r->V : r->logits0;
    int rc = am_forward(rt, n, units, T, ep, &cap, lg, e);
    if (!rc) rc = am_generate(rt, n, units, lg, &g, &cap, gen, n_gen, e);
    for (int i = 0; !rc && i < n; i++) {
        r->n_gen[units[i]] = n_gen[i];
        memcpy(r->gen + units[i] * MAXNEW, gen + i * MAXNEW, sizeof(int32_t) * MAXNEW);
    }
    printf("  %s: %s\n", am_runtime_kernel_name(rt), rc ? e->msg : "ran");
    am_runtime_free(rt);
    return rc;
}

static void free_run(run *r) {
    for (int u = 0; u < NU; u++) free(r->m[u]), r->m[u] = NULL;
    free(r->logits0), r->logits0 = NULL;
}

/* Top-1 minus top-2 logit. */
static double margin(const float *l, int V) {
    double a = -INFINITY, b = -INFINITY;
    for (int v = 0; v < V; v++)
        if (l[v] > a) b = a, a = l[v];
        else if (l[v] > b) b = l[v];
    return a - b;
}

/* The device run d against the run ref (the CPU, or a batch), on every unit
 * or only on `only` (>= 0). */
static void compare(const char *what, const run *ref, const run *d, double ptol, double ltol, double mtol, int only) {
    double wp = 0, wl = 0;
    int compared = 0, total = 0, clear_units = 0;
    for (int u = 0; u < NU; u++) {
        if (only >= 0 && u != only) continue;
        const float *l0 = ref->logits0 + (size_t)u * ref->V, *l1 = d->logits0 + (size_t)u * d->V;
        double mx = 0, md = 0;
        for (int v = 0; v < ref->V; v++) {
            mx = fabs(l0[v]) > mx ? fabs(l0[v]) : mx;
            md = fabs(l0[v] - l1[v]) > md ? fabs(l0[v] - l1[v]) : md;
        }
        CHECK(md <= ltol * mx, "%s unit %d: prefill logits differ by %.3g (max |logit| %.3g)", what, u, md, mx);
        wl = md / mx > wl ? md / mx : wl;
        /* tokens equal while the first step is clear: its top-1/top-2 margin
         * above mtol x max |logit| (later margins are not known without
         * replaying the reference step by step, so compare up to the first
         * difference, which must not come before a clear first step) */
        int k = 0, clear = margin(l0, ref->V) > mtol * mx;
        if (clear)
            while (k < ref->n_gen[u] && k < d->n_gen[u] && ref->gen[u * MAXNEW + k] == d->gen[u * MAXNEW + k]) k++;
        CHECK(!clear || k >= 1, "%s unit %d: first token %d, reference %d (margin %.3g of max |logit| %.3g)", what, u,
              d->gen[u * MAXNEW], ref->gen[u * MAXNEW], margin(l0, ref->V), mx);
        clear_units += clear;
        compared += k, total += ref->n_gen[u];
        int rows = cases[u].T + k;
        for (int l = 0; l < ref->L; l++)
            for (int h = 0; h < ref->H; h++)
                for (int q = 0; q < rows; q++)
                    for (int j = 0; j < ref->S; j++) {
                        size_t at = (((size_t)l * ref->H + h) * ref->S + q) * ref->S + j;
                        double diff = fabs(ref->m[u][at] - d->m[u][at]);
                        wp = diff > wp ? diff : wp;
                    }
    }
    CHECK(wp <= ptol, "%s: attention probabilities differ by %.3g (tolerance %g)", what, wp, ptol);
    printf("  %s: max |dp| %.3e, max logit error %.3e of max |logit|, tokens equal %d/%d (%d unit(s) with a clear "
           "first step)\n",
           what, wp, wl, compared, total, clear_units);
}

static int bitwise_equal(const run *a, const run *b) {
    size_t cells = (size_t)a->L * a->H * a->S * a->S;
    for (int u = 0; u < NU; u++)
        if (memcmp(a->m[u], b->m[u], cells * sizeof(float)) || a->n_gen[u] != b->n_gen[u] ||
            memcmp(a->gen + u * MAXNEW, b->gen + u * MAXNEW, sizeof(int32_t) * MAXNEW))
            return 0;
    return !memcmp(a->logits0, b->logits0, sizeof(float) * NU * a->V);
}

static void test_preset(const char *bin, const char *preset) {
    char dir[256], cmd[1024];
    snprintf(dir, sizeof dir, "cuda.%s.model", preset);
    snprintf(cmd, sizeof cmd, "%s/attnmix-make-checkpoint --preset %s --out %s --seed 11 --qk-scale 4 --force --quiet",
             bin, preset, dir);
    if (system(cmd)) {
        CHECK(0, "failed: %s", cmd);
        return;
    }
    am_err e = {0};
    am_qwen3 m;
    if (am_qwen3_open(&m, dir, &e)) {
        CHECK(0, "%s", e.msg);
        return;
    }
    model = &m;
    int D = m.cfg.hidden_size;
    static unit_case uc[NU];
    static const double alphas[NU] = {0.0, 0.25, 0.5, 0.8, 1.0};
    /* sum of T^2 = 634 > 23 x 23, the probability buffer of a 23-position
     * runtime: the prefill of every layer runs as two groups of units */
    static const int lens[NU] = {12, 9, 12, 12, 11};
    uint64_t s = 12345;
    for (int u = 0; u < NU; u++) {
        unit_case *c = &uc[u];
        c->T = lens[u], c->alpha = alphas[u], c->n_pad = u == 3 ? 3 : u == 1 ? 2 : 0, c->mask_pads = u == 3;
        emb[u] = malloc(sizeof(float) * MAXT * D);
        for (int t = 0; t < c->T; t++) {
            c->ids_a[t] = (int)(test_urand(&s) * 151000), c->ids_b[t] = (int)(test_urand(&s) * 151000);
            if (t < c->n_pad) c->ids_a[t] = c->ids_b[t] = 151643;
        }
        CHECK(am_mix_embed(&m, c->ids_a, c->ids_b, c->T, c->alpha, emb[u], &e) == 0, "%s", e.msg);
    }
    cases = uc;
    printf("%s:\n", preset);
    run cpu = {0}, f32 = {0}, bf16 = {0}, f32_again = {0}, cpu_frozen = {0}, frozen = {0}, alone = {0};
    am_freeze fz = {.fn = uniform_hook};
    if (do_run(&cpu, AM_RT_CPU, 0, NULL, -1, &e) || do_run(&f32, AM_RT_CUDA, 1, NULL, -1, &e) ||
        do_run(&bf16, AM_RT_CUDA, 0, NULL, -1, &e) || do_run(&f32_again, AM_RT_CUDA, 1, NULL, -1, &e) ||
        do_run(&cpu_frozen, AM_RT_CPU, 0, &fz, -1, &e) || do_run(&frozen, AM_RT_CUDA, 1, &fz, -1, &e) ||
        do_run(&alone, AM_RT_CUDA, 1, NULL, 3, &e)) {
        CHECK(0, "%s: %s", preset, e.msg);
    } else {
        compare("float32 compute", &cpu, &f32, 1e-4, 1e-4, 1e-3, -1);
        compare("bf16 compute", &cpu, &bf16, 2e-3, 3e-2, 6e-2, -1);
        CHECK(bitwise_equal(&f32, &f32_again), "%s: two float32 device runs differ", preset);
        /* frozen: the device's freeze path (copy out, hook, copy back, P.V)
         * against the CPU's, and the patterns really were substituted */
        compare("frozen (uniform patterns), float32", &cpu_frozen, &frozen, 1e-4, 1e-4, 1e-3, -1);
        double moved = 0;
        size_t cells = (size_t)f32.L * f32.H * f32.S * f32.S;
        for (size_t i = 0; i < cells; i++)
            moved = fabs(frozen.m[0][i] - f32.m[0][i]) > moved ? fabs(frozen.m[0][i] - f32.m[0][i]) : moved;
        CHECK(moved > 0.1, "%s: the frozen run's maps equal the live run's (max change %.3g)", preset, moved);
        /* unit 3 (masked pads) alone against the batch: cuBLAS may choose
         * other kernels for other row counts, so rounding-level differences */
        compare("unit 3 alone vs in the batch", &f32, &alone, 1e-5, 1e-5, 1e-3, 3);
    }
    free_run(&cpu), free_run(&f32), free_run(&bf16), free_run(&f32_again);
    free_run(&cpu_frozen), free_run(&frozen), free_run(&alone);
    for (int u = 0; u < NU; u++) free(emb[u]);
    am_qwen3_close(&m);
}

int main(void) {
    char why[256];
    if (!am_cuda_available(why, sizeof why)) {
        printf("SKIP: CUDA backend not tested: %s\n", why);
        return 77;
    }
    const char *bin = getenv("ATTNMIX_BIN");
    if (!bin) {
        fprintf(stderr, "test_cuda: ATTNMIX_BIN must be set (run through ctest)\n");
        return 1;
    }
    test_preset(bin, "tiny");
    test_preset(bin, "small");
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    return 0;
}
