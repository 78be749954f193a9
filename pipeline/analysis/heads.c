/* Head classes (see analysis_heads.h). */
#include "analysis/heads.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/runtime.h"

const char *const am_hc_names[AM_HC_N] = {"previous_token", "first_token_sink", "diagonal",
                                          "fixed_offset",   "broad",            "induction"};

const char *am_hc_label_name(int label) { return label >= 0 && label < AM_HC_N ? am_hc_names[label] : "mixed"; }

void am_hc_map_scores(const float *A, int S, int n, double *score, double *off) {
    for (int c = 0; c < AM_HC_MAP_N; c++) score[c] = NAN;
    if (off)
        for (int d = 0; d < S; d++) off[d] = NAN;
    if (n < 3) return;
    double prev = 0, sink = 0, diag = 0, broad = 0, best = NAN;
    int rows = n - 2, min_rows = rows / 2 > 1 ? rows / 2 : 1;
    for (int q = 2; q < n; q++) {
        const float *r = A + (size_t)q * S;
        prev += r[q - 1], sink += r[0], diag += r[q];
        double h = 0;
        for (int k = 0; k <= q; k++)
            if (r[k] > 0) h -= r[k] * log(r[k]);
        broad += h / log(q + 1.0);
    }
    for (int d = 2; d < n; d++) {
        int cnt = n - d < rows ? n - d : rows; /* rows q in [max(d, 2), n) */
        if (cnt < min_rows) break;
        double m = 0;
        for (int q = d > 2 ? d : 2; q < n; q++) m += A[(size_t)q * S + q - d];
        m /= cnt;
        if (off) off[d] = m;
        if (!(m <= best)) best = m;
    }
    score[AM_HC_PREVIOUS] = prev / rows;
    score[AM_HC_SINK] = sink / rows;
    score[AM_HC_DIAGONAL] = diag / rows;
    score[AM_HC_OFFSET] = best;
    score[AM_HC_BROAD] = broad / rows;
}

int am_hc_label(const double *score) {
    int best = -1;
    for (int c = 0; c < AM_HC_N; c++)
        if (!isnan(score[c]) && score[c] >= AM_HC_THRESHOLD && (best < 0 || score[c] > score[best])) best = c;
    return best;
}

/* Capture hook: accumulate A[R+i, i+1] of the second copy per (layer, head). */
typedef struct ind_ctx {
    int H, R;
    double *sum; /* [L][H] */
} ind_ctx;

static int ind_hook(void *ctx, int layer, int unit, int q0, int nq, int nk, const float *probs, am_err *e) {
    (void)unit, (void)e;
    ind_ctx *c = ctx;
    for (int h = 0; h < c->H; h++)
        for (int i = 0; i < c->R; i++) {
            int q = c->R + i - q0;
            if (q >= 0 && q < nq) c->sum[layer * c->H + h] += probs[((size_t)h * nq + q) * nk + i + 1];
        }
    return 0;
}

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int am_hc_induction(const char *dir, int R, int B, uint64_t seed, int threads, double *score, am_err *e) {
    int rc = -1, have = 0;
    am_qwen3 m;
    am_runtime *rt = NULL;
    float *emb = NULL;
    int *units = NULL, *T = NULL;
    const float **ep = NULL;
    ind_ctx ic = {0};
    if (am_qwen3_open(&m, dir, e) < 0) return am_wrap(e, "induction score");
    have = 1;
    int L = m.cfg.num_hidden_layers, H = m.cfg.num_attention_heads, D = m.cfg.hidden_size;
    int V = m.cfg.vocab_size < 151643 ? m.cfg.vocab_size : 151643; /* ordinary tokens only */
    if (R < 2 || B < 1 || R > V) { am_fail(e, "induction: %d tokens x %d sequences: need 2 <= R <= %d", R, B, V); goto out; }
    am_runtime_opts o = {.max_units = B, .max_seq = 2 * R, .threads = threads};
    if (am_runtime_init(&rt, &m, &o, e) < 0) goto out;
    emb = malloc((size_t)B * 2 * R * D * sizeof *emb); /* [B][2R][D] */
    units = malloc((size_t)B * sizeof *units), T = malloc((size_t)B * sizeof *T);
    ep = malloc((size_t)B * sizeof *ep);
    ic.H = H, ic.R = R, ic.sum = calloc((size_t)L * H, sizeof *ic.sum);
    int32_t *ids = malloc((size_t)R * sizeof *ids);
    if (!emb || !units || !T || !ep || !ic.sum || !ids) { free(ids); am_fail(e, "induction: out of memory"); goto out; }
    uint64_t s = seed ^ 0x1d0c7105ull;
    for (int b = 0; b < B; b++) {
        for (int i = 0; i < R; i++) { /* distinct tokens, so the first occurrence is unique */
            int dup;
            do {
                ids[i] = (int32_t)(splitmix(&s) % (uint64_t)V);
                dup = 0;
                for (int j = 0; j < i; j++) dup |= ids[j] == ids[i];
            } while (dup);
        }
        for (int t = 0; t < 2 * R; t++) am_embed_lookup(&m, ids[t % R], emb + ((size_t)b * 2 * R + t) * D);
        units[b] = b, T[b] = 2 * R, ep[b] = emb + (size_t)b * 2 * R * D;
        am_runtime_reset(rt, b, 0, 0);
    }
    free(ids);
    am_capture cap = {.fn = ind_hook, .ctx = &ic};
    if (am_forward(rt, B, units, T, ep, &cap, NULL, e) < 0) { am_wrap(e, "induction run on %s", dir); goto out; }
    for (int i = 0; i < L * H; i++) score[i] = ic.sum[i] / ((double)R * B);
    rc = 0;
out:
    am_runtime_free(rt);
    free(emb), free(units), free(T), free(ep), free(ic.sum);
    if (have) am_qwen3_close(&m);
    return rc;
}
