/* KL(live || frozen) of the next-token distributions at every generated
 * position of the live run, teacher-forced (docs/freeze.md). One runtime holds
 * 2U units: unit u runs live, unit U + u runs with the frozen patterns, and
 * both are fed the live run's generated tokens, so the two distributions at
 * step j share their context (prompt + live tokens 0..j-1). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "logits.h"
#include "model/qwen3.h"
#include "model/runtime.h"
#include "stage/freeze.h"
#include "stage/memory_check.h"
#include "stage/mix_data.h"
#include "stage/stage.h"

typedef struct kl_hook {
    const am_freeze_src *f;
    int U;
} kl_hook;

/* Live units keep their own probabilities; frozen ones take the source's. */
static int hook(void *ctx, int layer, int unit, int head, int q0, int nq, int nk, float *probs, am_err *e) {
    const kl_hook *k = ctx;
    if (unit < k->U) return 0;
    return am_freeze_src_hook((void *)k->f, layer, unit - k->U, head, q0, nq, nk, probs, e);
}

int am_freeze_kl(const am_stage *s, const am_qwen3 *m, const am_mix_data *mx, const am_freeze_src *fz,
                 const int32_t *ids, int Nl, const int32_t *n_live, double *kl, int32_t *n_kl, am_err *e) {
    const int U = mx->P * mx->A, A = mx->A, T = mx->T, D = mx->D, V = m->cfg.vocab_size;
    int rc = -1, maxk = 0;
    am_runtime *rt = NULL;
    am_runtime_opts ro;
    uint64_t budget = 0; /* resident-weights budget, 0 = all mapped */
    kl_hook kh = {.f = fz, .U = U};
    am_freeze fh = {.fn = hook, .ctx = &kh, .layers = fz->lmask, .heads = fz->hmask};
    int *units = NULL, *lens = NULL; /* [2U] */
    int *row = NULL;                 /* [2U] unit -> logits row, -1 */
    const float **emb = NULL;        /* [2U] */
    float *tok = NULL;               /* [2U][D] token embeddings */
    float *lg = NULL;                /* [2U][V] */
    if (!(units = am_malloc((size_t)2 * U, sizeof *units, "the KL unit list", e)) ||
        !(lens = am_malloc((size_t)2 * U, sizeof *lens, "the KL lengths", e)) ||
        !(row = am_malloc((size_t)2 * U, sizeof *row, "the KL logit rows", e)) ||
        !(emb = am_malloc((size_t)2 * U, sizeof *emb, "the KL embedding pointers", e)) ||
        !(tok = am_malloc((size_t)2 * U * D, sizeof *tok, "the KL token embeddings", e)) ||
        !(lg = am_malloc((size_t)2 * U * V, sizeof *lg, "the KL logits", e)))
        goto out;
    for (int u = 0; u < U; u++) {
        int room = fz->len[u] - mx->plen[u / A] + 1; /* steps whose context the source covers */
        n_kl[u] = n_live[u] < room ? n_live[u] : room;
        if (n_kl[u] < 0) n_kl[u] = 0;
        if (n_kl[u] > maxk) maxk = n_kl[u];
        for (int j = 0; j < Nl; j++) kl[(size_t)u * Nl + j] = NAN;
    }
    if (!maxk) {
        rc = 0;
        goto out;
    }
    if (am_memory_check(s, m, 2 * U, T + maxk, 0, "generate (KL live vs frozen)", &budget, e) < 0) goto out;
    ro = (am_runtime_opts){.max_units = 2 * U,
                           .max_seq = T + maxk,
                           .threads = s->threads ? s->threads : s->cfg.threads,
                           .weights_budget = budget};
    if (am_stage_backend(s, &ro, e) < 0 || am_runtime_init(&rt, m, &ro, e) < 0) goto out;
    am_runtime_set_freeze(rt, &fh);
    for (int i = 0; i < 2 * U; i++) {
        int u = i % U;
        units[i] = i, lens[i] = mx->plen[u / A], emb[i] = mx->emb + (size_t)u * T * D, row[i] = i;
        am_runtime_reset(rt, i, mx->n_pad[u], s->cfg.mask_pads);
    }
    if (am_forward(rt, 2 * U, units, lens, emb, NULL, lg, e) < 0) goto out;
    for (int j = 0; j < maxk; j++) {
        int n = 0;
        for (int u = 0; u < U; u++)
            if (j < n_kl[u])
                kl[(size_t)u * Nl + j] = am_kl_logits(lg + (size_t)row[u] * V, lg + (size_t)row[U + u] * V, V);
        if (j + 1 == maxk) break;
        for (int i = 0; i < 2 * U; i++) row[i] = -1;
        for (int half = 0; half < 2; half++) /* live units first, then their frozen twins */
            for (int u = 0; u < U; u++) {
                if (j + 1 >= n_kl[u]) continue;
                int i = half * U + u;
                am_embed_lookup(m, ids[(size_t)u * Nl + j], tok + (size_t)n * D);
                units[n] = i, lens[n] = 1, emb[n] = tok + (size_t)n * D, row[i] = n;
                n++;
            }
        if (am_forward(rt, n, units, lens, emb, NULL, lg, e) < 0) goto out;
    }
    rc = 0;
out:
    am_runtime_free(rt);
    free(units), free(lens), free(row), free(emb), free(tok), free(lg);
    return rc;
}
