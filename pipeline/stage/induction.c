/* induction: each head's induction score on repeated random tokens
 * (induction.h5, see induction.h). */
#include "stage/induction.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/progress.h"
#include "h5/h5io.h"
#include "h5/schema.h"
#include "model/qwen3.h"
#include "model/runtime.h"
#include "stage/provenance.h"
#include "stage/stamp.h"

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

/* score [L][H] of model m: R tokens x B sequences from seed. */
static int induction_scores(am_stage *s, const am_qwen3 *m, int R, int B, double *score, am_err *e) {
    const int L = m->cfg.num_hidden_layers, H = m->cfg.num_attention_heads, D = m->cfg.hidden_size;
    const int V = m->cfg.vocab_size < 151643 ? m->cfg.vocab_size : 151643; /* ordinary tokens only */
    int rc = -1;
    am_runtime *rt = NULL;
    float *emb = NULL;            /* [B][2R][D] */
    int *units = NULL, *T = NULL; /* [B] */
    const float **ep = NULL;      /* [B] into emb */
    int32_t *ids = NULL;          /* [R] one sequence */
    ind_ctx ic = {.H = H, .R = R, .sum = NULL};
    uint64_t seed = s->cfg.seed ^ 0x1d0c7105ull;
    am_runtime_opts o = {.max_units = B, .max_seq = 2 * R, .threads = s->threads ? s->threads : s->cfg.threads};
    am_capture cap = {.fn = ind_hook, .ctx = &ic};
    if (R < 2 || B < 1 || R > V)
        return am_fail_code(e, AM_E_USAGE,
                            "induction: %d tokens x %d sequences: need 2 <= tokens <= %d and sequences >= 1", R, B, V);
    emb = am_malloc((size_t)B * 2 * R, (size_t)D * sizeof *emb, "induction embeddings", e);
    units = emb ? am_malloc((size_t)B, sizeof *units, "induction units", e) : NULL;
    T = units ? am_malloc((size_t)B, sizeof *T, "induction lengths", e) : NULL;
    ep = T ? am_malloc((size_t)B, sizeof *ep, "induction units", e) : NULL;
    ids = ep ? am_malloc((size_t)R, sizeof *ids, "induction tokens", e) : NULL;
    ic.sum = ids ? am_calloc((size_t)L * H, sizeof *ic.sum, "induction scores", e) : NULL;
    if (!ic.sum) goto out;
    if (am_stage_backend(s, &o, e) < 0 || am_runtime_init(&rt, m, &o, e) < 0) goto out;
    am_stage_note_backend(s, am_runtime_kernel_name(rt));
    for (int b = 0; b < B; b++) {
        for (int i = 0; i < R; i++) { /* distinct tokens, so the first occurrence is unique */
            int dup;
            do {
                ids[i] = (int32_t)(splitmix(&seed) % (uint64_t)V);
                dup = 0;
                for (int j = 0; j < i; j++) dup |= ids[j] == ids[i];
            } while (dup);
        }
        for (int t = 0; t < 2 * R; t++) am_embed_lookup(m, ids[t % R], emb + ((size_t)b * 2 * R + t) * D);
        units[b] = b, T[b] = 2 * R, ep[b] = emb + (size_t)b * 2 * R * D;
        am_runtime_reset(rt, b, 0, 0);
    }
    if (am_forward(rt, B, units, T, ep, &cap, NULL, e) < 0) {
        am_wrap(e, "induction run of model '%s'", s->model->name);
        goto out;
    }
    for (int i = 0; i < L * H; i++) score[i] = ic.sum[i] / ((double)R * B);
    rc = 0;
out:
    am_runtime_free(rt);
    free(emb), free(units), free(T), free(ep), free(ids), free(ic.sum);
    return rc;
}

int am_stage_induction(am_stage *s, const am_induction_opts *o, const char *out_path, am_err *e) {
    int rc = -1, have_model = 0, L = 0, H = 0;
    am_qwen3 m;
    am_h5_out out = {.file = H5I_INVALID_HID};
    double *score = NULL; /* [L][H] */
    int32_t *iota = NULL; /* [max(L, H)] */
    char fp[17], extra[64], summary[256];
    am_stamp_ctx sx;
    hsize_t dLH[2], dL[1], dH[1];
    static const char *const sc[] = {"score"};
    static const int d0[] = {0}, d1[] = {1};
    am_progress pr;
    const int R = o ? o->tokens : AM_INDUCTION_TOKENS, B = o ? o->seqs : AM_INDUCTION_SEQS;

    if (am_qwen3_open(&m, s->model->checkpoint, e) < 0) return am_wrap(e, "model '%s'", s->model->name);
    have_model = 1;
    if (am_stamp_ctx_stage(&sx, s, m.fingerprint, e) < 0) goto out;
    snprintf(extra, sizeof extra, "tokens=%d;seqs=%d", R, B);
    am_stamp_make(&sx, AM_ST_INDUCTION, NULL, 0, extra, fp);
    if (am_stage_up_to_date(s, "induction", out_path, AM_SCHEMA_INDUCTION, fp)) {
        rc = 0;
        goto out;
    }
    if (am_stage_check_weights(s, &m, e) < 0) goto out;
    L = m.cfg.num_hidden_layers, H = m.cfg.num_attention_heads;
    score = am_malloc((size_t)L * H, sizeof *score, "induction scores", e);
    iota = score ? am_malloc((size_t)(L > H ? L : H), sizeof *iota, "layer and head indices", e) : NULL;
    if (!iota) goto out;
    for (int i = 0; i < (L > H ? L : H); i++) iota[i] = i;

    am_progress_start(&pr, "induction", s->model->name, "sequences", s->quiet);
    if (induction_scores(s, &m, R, B, score, e) < 0) goto out;

    if (am_h5_out_create(&out, out_path, e) < 0) goto out;
    dLH[0] = dL[0] = (hsize_t)L, dLH[1] = dH[0] = (hsize_t)H;
    if (am_h5_put(out.file, "score", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 2, dLH, score, e) ||
        am_h5_put(out.file, "layer", H5T_NATIVE_INT32, H5T_STD_I32LE, 1, dL, iota, e) ||
        am_h5_put(out.file, "head", H5T_NATIVE_INT32, H5T_STD_I32LE, 1, dH, iota, e))
        goto out;
    if (am_h5_scale(out.file, "layer", "layer", sc, d0, 1, e) < 0 ||
        am_h5_scale(out.file, "head", "head", sc, d1, 1, e) < 0)
        goto out;
    if (am_prov_write(out.file, s, AM_SCHEMA_INDUCTION, fp, e) < 0 ||
        am_stamp_write(out.file, &sx, AM_ST_INDUCTION, e) < 0 ||
        am_h5_attr_str(out.file, "checkpoint_fingerprint", m.fingerprint, e) < 0 ||
        am_h5_attr_i64(out.file, "induction_tokens", R, e) < 0 || am_h5_attr_i64(out.file, "induction_seqs", B, e) < 0)
        goto out;
    if (am_h5_out_commit(&out, e) < 0) goto out;
    snprintf(summary, sizeof summary, "%d layers x %d heads from %d sequences of %d tokens -> %s", L, H, B, R,
             out_path);
    am_progress_end(&pr, summary);
    rc = 0;
out:
    if (rc < 0) am_h5_out_abort(&out);
    free(score);
    free(iota);
    if (have_model) am_qwen3_close(&m);
    return rc;
}
