/* generate: batched generation from the mixed prompts with capture of every
 * generated row; assembles the per-model cube (cube.h5) from the prompt maps
 * of prefill.h5 and the captured rows, plus generations.tsv. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "base/fs.h"
#include "base/progress.h"
#include "h5/cube.h"
#include "h5/dims.h"
#include "h5/h5io.h"
#include "h5/maps.h"
#include "h5/schema.h"
#include "model/qwen3.h"
#include "model/runtime.h"
#include "stage/disk_check.h"
#include "stage/freeze.h"
#include "stage/memory_check.h"
#include "stage/mix_data.h"
#include "stage/provenance.h"
#include "stage/selection.h"
#include "stage/stage.h"
#include "stage/stamp.h"
#include "stage/token_text.h"
#include "tokenizer/tokenizer.h"

/* Per-unit map buffers: unit u holds [Lc][Hc] causal maps of Sb = T_p + N
 * rows, each packed as its lower triangle (row q: keys 0..q, the cells the
 * cube takes), so the maps held until the cube is written take half the
 * memory of square ones. */
typedef struct gen_maps {
    const am_selection *sel;
    float **unit; /* [U] -> [Lc][Hc][tri(Sb[u])] */
    int *Sb;      /* [U] */
} gen_maps;

/* Cells of the lower triangle of an S x S map, diagonal included. */
static size_t tri(size_t S) { return S * (S + 1) / 2; }

/* Row q of a map: q + 1 cells. */
static float *cell(const gen_maps *g, int u, int li, int h, int q) {
    return g->unit[u] + ((size_t)li * g->sel->Hc + h) * tri((size_t)g->Sb[u]) + tri((size_t)q);
}

static int gen_hook(void *ctx, int layer, int unit, int q0, int nq, int nk, const float *probs, am_err *e) {
    gen_maps *g = ctx;
    const int li = g->sel->index[layer];
    if (q0 + nq > g->Sb[unit]) return am_fail(e, "internal: row %d beyond map size %d", q0 + nq - 1, g->Sb[unit]);
    for (int h = 0; h < g->sel->Hc; h++)
        for (int i = 0; i < nq; i++) { /* keys beyond the query are masked: row q keeps keys 0..q */
            int w = nk < q0 + i + 1 ? nk : q0 + i + 1;
            memcpy(cell(g, unit, li, h, q0 + i), probs + ((size_t)h * nq + i) * nk, (size_t)w * sizeof(float));
        }
    return 0;
}

typedef struct gen_progress {
    am_progress pr;
    int total;
} gen_progress;
static void gen_progress_cb(void *ctx, int step, int active) {
    gen_progress *gp = ctx;
    (void)active;
    am_progress_update(&gp->pr, step + 1, gp->total); /* step is 0-based */
}

/* Read the prompt maps of unit (p, a) from prefill.h5 into the unit buffer. */
static int load_prompt_maps(hid_t att, const gen_maps *g, int u, int p, int a, int Tp, int T, float *tmp, am_err *e) {
    const int Lc = g->sel->Lc, Hc = g->sel->Hc;
    hid_t fs = H5Dget_space(att);
    hsize_t start[6] = {(hsize_t)p, (hsize_t)a, 0, 0, 0, 0},
            count[6] = {1, 1, (hsize_t)Lc, (hsize_t)Hc, (hsize_t)T, (hsize_t)T};
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
    hid_t ms = H5Screate_simple(6, count, NULL);
    int rc = AM_H5(H5Dread(att, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, tmp), e, "prefill attention");
    H5Sclose(ms);
    H5Sclose(fs);
    if (rc < 0) return -1;
    for (int li = 0; li < Lc; li++)
        for (int h = 0; h < Hc; h++)
            for (int q = 0; q < Tp; q++)
                memcpy(cell(g, u, li, h, q), tmp + (((size_t)li * Hc + h) * T + q) * T,
                       (size_t)(q + 1) * sizeof(float));
    return 0;
}

/* Tab-separated table of generated texts, one row per unit (atomic write). */
static int write_tsv(const char *path, const char *model, const am_config *c, char **texts, const int *n_gen,
                     am_err *e) {
    am_file_out o;
    if (am_file_out_create(&o, path, e) < 0) return -1;
    FILE *f = o.f;
    fprintf(f, "model\tpair\talpha\tgenerated_tokens\ttext\n");
    for (int p = 0; p < c->n_pairs; p++)
        for (int a = 0; a < c->n_alphas; a++) {
            int u = p * c->n_alphas + a;
            char alpha[32];
            am_fmt_exact(c->alphas[a], alpha, sizeof alpha); /* distinct alphas stay distinct */
            fprintf(f, "%s\t%s\t%s\t%d\t", model, c->pairs[p].key, alpha, n_gen[u]);
            for (const char *s = texts[u]; *s; s++) { /* escape as in TSV/CSV readers' \t \n \\ */
                if (*s == '\t') fputs("\\t", f);
                else if (*s == '\n') fputs("\\n", f);
                else if (*s == '\r') fputs("\\r", f);
                else if (*s == '\\') fputs("\\\\", f);
                else fputc(*s, f);
            }
            fputc('\n', f);
        }
    return am_file_out_commit(&o, e); /* removes the temporary file on failure */
}

/* Teacher-forced KL(live || frozen) along the live cube's tokens (when the
 * live cube comes from the same mix; otherwise none, with a notice).
 * kl: [U][Nkl], n_kl: [U]. */
static int frozen_kl(am_stage *s, const am_qwen3 *m, const am_mix_data *mx, const am_freeze_src *fz,
                     const char *live_cube, double **kl, int32_t **n_kl, int *Nkl, am_err *e) {
    const int U = mx->P * mx->A;
    int rc = -1, Nl = 0;
    char *lmix = NULL;
    int32_t *ids = NULL, *n_live = NULL;
    hsize_t d[3];
    hid_t f = am_h5_open_input(live_cube, AM_SCHEMA_CUBE, e);
    if (f < 0) return -1;
    if (am_h5_read_attr_str(f, "mix_fingerprint", &lmix, e) < 0) goto out;
    if (strcmp(lmix, mx->fingerprint) != 0) {
        if (!s->quiet)
            fprintf(stderr, "generate %s: %s comes from another mix.h5: no KL between live and frozen runs\n",
                    s->model->name, live_cube);
        rc = 0;
        goto out;
    }
    if (am_h5_read(f, "generated_ids", H5T_NATIVE_INT32, 3, d, (void **)&ids, e) < 0) goto out;
    if (d[0] != (hsize_t)mx->P || d[1] != (hsize_t)mx->A) {
        am_fail_code(e, AM_E_CORRUPT, "%s: /generated_ids is [%llu, %llu, ...], the mix has %d pairs x %d alphas",
                     live_cube, (unsigned long long)d[0], (unsigned long long)d[1], mx->P, mx->A);
        goto out;
    }
    Nl = (int)d[2];
    if (!(n_live = am_calloc((size_t)U, sizeof *n_live, "the live lengths", e)) ||
        !(*n_kl = am_calloc((size_t)U, sizeof **n_kl, "the KL lengths", e)) ||
        !(*kl = am_malloc((size_t)U * (Nl ? Nl : 1), sizeof **kl, "the KL values", e))) /* [U][Nl] */
        goto out;
    for (int u = 0; u < U; u++)
        while (n_live[u] < Nl && ids[(size_t)u * Nl + n_live[u]] >= 0) n_live[u]++;
    *Nkl = Nl;
    if (!s->quiet)
        fprintf(stderr, "generate %s: KL(live || frozen) along the live tokens of %s\n", s->model->name, live_cube);
    rc = am_freeze_kl(s, m, mx, fz, ids, Nl, n_live, *kl, *n_kl, e);
out:
    H5Fclose(f);
    free(lmix), free(ids), free(n_live);
    return rc;
}

/* /kl [P, A, Nkl] float64 (NaN padded) and /kl_steps [P, A] int32 in the frozen cube. */
static int write_kl(hid_t f, int P, int A, int Nkl, const double *kl, const int32_t *n_kl, const char *live_cube,
                    am_err *e) {
    hsize_t dPAN[3] = {(hsize_t)P, (hsize_t)A, (hsize_t)(Nkl ? Nkl : 0)}, dPA[2] = {(hsize_t)P, (hsize_t)A};
    hid_t d = am_h5_write(f, "kl", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 3, dPAN, NULL, 0, kl, e);
    if (d < 0) return -1;
    int rc = am_h5_attr_str(d, "units", "nats", e) < 0 ||
             am_h5_attr_str(d, "definition",
                            "KL(live || frozen) of the next-token distributions at generated "
                            "position j, both runs fed the prompt and the live tokens 0..j-1 (teacher-forced); NaN "
                            "past kl_steps",
                            e) < 0 ||
             am_h5_attr_str(d, "live_cube", live_cube, e) < 0;
    H5Dclose(d);
    if (rc) return -1;
    if ((d = am_h5_write_i32(f, "kl_steps", 2, dPA, n_kl, e)) < 0) return -1;
    H5Dclose(d);
    const char *ds[] = {"kl", "kl_steps"};
    const int z[] = {0, 0}, one[] = {1, 1};
    static const am_h5_axis_rule steps[] = {{"kl", 2, "kl_step"}}; /* generated position j */
    return am_h5_scale(f, "pair", "pair", ds, z, 2, e) < 0 || am_h5_scale(f, "alpha", "alpha", ds, one, 2, e) < 0 ||
                   am_h5_label_dims(f, steps, 1, e) < 0
               ? -1
               : 0;
}

/* /tokens and /key_tokens [P, A, S] of the cube being written, from the
 * prompt ids it holds (/ids_a, /ids_b) and the generated ids [U][Nmax]. */
static int write_tokens(hid_t f, const am_tokenizer *tok, const am_mix_data *mx, int Nmax, int S,
                        const int32_t *gen_ids, const int32_t *length, am_err *e) {
    const size_t n = (size_t)mx->P * mx->A * S;
    int32_t *ia = NULL, *ib = NULL; /* [P][T] */
    char **strs = NULL;             /* [P][A][S] */
    hsize_t da[2], db[2];
    am_unit_ids u;
    int rc = -1;
    if (am_h5_read(f, "ids_a", H5T_NATIVE_INT32, 2, da, (void **)&ia, e) < 0 ||
        am_h5_read(f, "ids_b", H5T_NATIVE_INT32, 2, db, (void **)&ib, e) < 0)
        goto out;
    if (da[0] != (hsize_t)mx->P || db[0] != da[0] || db[1] != da[1]) {
        am_fail_code(e, AM_E_CORRUPT, "/ids_a [%llu, %llu] and /ids_b [%llu, %llu] do not match %d pairs",
                     (unsigned long long)da[0], (unsigned long long)da[1], (unsigned long long)db[0],
                     (unsigned long long)db[1], mx->P);
        goto out;
    }
    if (!(strs = am_calloc(n ? n : 1, sizeof *strs, "the token strings", e))) goto out;
    u = (am_unit_ids){.P = mx->P,
                      .A = mx->A,
                      .T = (int)da[1],
                      .N = Nmax,
                      .alpha = mx->alphas,
                      .ids_a = ia,
                      .ids_b = ib,
                      .plen = mx->plen,
                      .gen = gen_ids,
                      .length = length};
    if (am_cube_tokens(tok, &u, S, strs, e) < 0) goto out;
    rc = am_cube_write_tokens(f, mx->P, mx->A, S, (const char *const *)strs, e);
out:
    if (strs) am_token_strs_free(strs, n);
    free(strs), free(ia), free(ib);
    return rc;
}

/* The sampling parameters of generation.mode (greedy: temperature 0):
 * sample takes the config's, checkpoint those of the checkpoint's
 * generation_config.json with the library defaults of Hugging Face's
 * GenerationConfig (do_sample false, temperature 1, top_k 50, top_p 1) for
 * the fields it leaves out. *name receives the mode's name. */
static void gen_params(const am_config *c, const am_qwen3_config *mc, am_gen_opts *go, const char **name) {
    go->temperature = 0, go->top_k = 0, go->top_p = 1;
    *name = "greedy";
    if (c->sample == AM_GEN_SAMPLE) {
        go->temperature = c->temperature, go->top_k = c->top_k, go->top_p = c->top_p;
        *name = "sample";
    } else if (c->sample == AM_GEN_CHECKPOINT) {
        *name = "checkpoint";
        if (mc->gen_do_sample == 1) {
            go->temperature = isnan(mc->gen_temperature) ? 1.0 : mc->gen_temperature;
            go->top_k = mc->gen_top_k < 0 ? 50 : mc->gen_top_k;
            go->top_p = isnan(mc->gen_top_p) ? 1.0 : mc->gen_top_p;
        }
    }
}

/* Teacher forcing (generation.teacher): follow [U] for alpha1/alpha0 (every
 * unit of a pair takes the tokens its unit at that alpha picks), or the
 * tokens of teacher_text into forced, n_forced. */
static int teacher_plan(const am_config *c, const am_mix_data *mx, const am_tokenizer *tok, int **follow,
                        int32_t **forced, int *n_forced, am_err *e) {
    int P = mx->P, A = mx->A;
    if (c->teacher == AM_TEACH_ALPHA1 || c->teacher == AM_TEACH_ALPHA0) {
        double want = c->teacher == AM_TEACH_ALPHA1 ? 1.0 : 0.0;
        int src = -1;
        for (int a = 0; a < A; a++)
            if (mx->alphas[a] == want) src = a;
        if (src < 0)
            return am_fail_code(e, AM_E_USAGE, "%s: generation.teacher: alpha%g needs alpha %g in 'alphas'", c->path,
                                want, want);
        if (!(*follow = am_malloc((size_t)P * A, sizeof **follow, "the teacher-forcing plan", e))) return -1;
        for (int u = 0; u < P * A; u++) (*follow)[u] = u % A == src ? -1 : (u / A) * A + src;
    } else if (c->teacher == AM_TEACH_TEXT) {
        size_t n = 0;
        if (am_tok_encode(tok, c->teacher_text, strlen(c->teacher_text), forced, &n, e) < 0)
            return am_wrap(e, "%s: generation.teacher_text", c->path);
        if (n < 1) return am_fail_code(e, AM_E_USAGE, "%s: generation.teacher_text encodes to no token", c->path);
        *n_forced = n < (size_t)c->max_new_tokens ? (int)n : c->max_new_tokens;
    }
    return 0;
}

/* The prefill must agree with what forward recorded in prefill.h5: logits0
 * [U][V] against its /logits, within float rounding of the logit scale. */
static int check_prefill_logits(hid_t pf, const char *prefill_path, const am_config *c, const am_mix_data *mx,
                                const float *logits0, int V, am_err *e) {
    const int U = mx->P * mx->A, A = mx->A;
    float *plogits = NULL; /* [U][V] */
    hsize_t ld[3];
    if (am_h5_read(pf, "logits", H5T_NATIVE_FLOAT, 3, ld, (void **)&plogits, e) < 0) return -1;
    int rc = 0;
    if (ld[0] != (hsize_t)mx->P || ld[1] != (hsize_t)A || ld[2] != (hsize_t)V)
        rc = am_fail_code(e, AM_E_CORRUPT, "%s: /logits is [%llu, %llu, %llu], expected [%d, %d, %d]: re-run forward",
                          prefill_path, (unsigned long long)ld[0], (unsigned long long)ld[1], (unsigned long long)ld[2],
                          mx->P, A, V);
    for (int u = 0; u < U && rc == 0; u++) {
        double maxabs = 0, maxdiff = 0;
        for (int v = 0; v < V; v++) {
            double a = logits0[(size_t)u * V + v], b = plogits[(size_t)u * V + v];
            if (fabs(b) > maxabs) maxabs = fabs(b);
            /* every comparison with NaN is false: a non-finite logit on either side is a difference */
            if (!isfinite(a) || !isfinite(b)) maxdiff = a == b || (isnan(a) && isnan(b)) ? maxdiff : NAN;
            else if (fabs(a - b) > maxdiff) maxdiff = fabs(a - b);
            if (isnan(maxdiff)) break;
        }
        if (!(maxdiff <= 1e-3 * (maxabs > 1 ? maxabs : 1)))
            rc = am_fail(e,
                         "%s: logits of pair '%s' alpha %g differ from this run's prefill by %.3g (checkpoint "
                         "or backend changed?): re-run forward",
                         prefill_path, c->pairs[u / A].key, mx->alphas[u % A], maxdiff);
    }
    free(plogits);
    return rc;
}

int am_stage_generate(am_stage *s, const char *mix_path, const char *prefill_path, const char *out_path, am_err *e) {
    const am_config *c = &s->cfg;
    int rc = -1, have_model = 0;
    am_qwen3 m;
    am_mix_data mx = {0};
    am_freeze_src fz = {0};
    am_freeze fhook = {0};
    int *limit = NULL; /* [U] new tokens the frozen source covers */
    am_selection sel = {0};
    am_runtime *rt = NULL;
    am_tokenizer *tok = NULL;
    am_h5_out out = {.file = H5I_INVALID_HID};
    am_maps cube = {
        .dset = H5I_INVALID_HID, .fspace = H5I_INVALID_HID, .mspace = H5I_INVALID_HID, .ftype = H5I_INVALID_HID};
    gen_maps g = {0};
    hid_t pf = H5I_INVALID_HID, patt = H5I_INVALID_HID, d = H5I_INVALID_HID;
    float *logits0 = NULL;                          /* [U][V] last prefill logits */
    float *tmp = NULL;                              /* [Lc][Hc][T][T] one unit's prompt maps */
    float *map = NULL;                              /* [Hc][S][S] one (unit, layer) of the cube */
    int32_t *gen = NULL;                            /* [U][N] generated ids */
    int32_t *length = NULL;                         /* [U] T_p + generated */
    int32_t *gen_ids = NULL;                        /* [U][Nmax] -1 padded */
    int *n_gen = NULL, *units = NULL, *lens = NULL; /* [U] */
    const float **emb = NULL;                       /* [U] */
    char **texts = NULL;                            /* [U] */
    char *model_config = NULL, *pf_mix = NULL;
    double *kl = NULL;    /* [U][Nkl] KL(live || frozen) */
    int32_t *n_kl = NULL; /* [U] */
    int Nkl = 0, U = 0, P, A, T, V, N, Lc, Hc, n_eos, S = 1, Nmax = 0;
    const int *eos;
    char fp[17], pf_fp[17], fkey[3000] = "", live_cube[4200] = "", cfg_path[4200], tsv[4200], summary[512];
    char mix_stamp[17];
    am_stamp_ctx sx;
    size_t cfg_len;
    uint64_t maps_bytes = 0;
    am_runtime_opts ro;
    uint64_t budget = 0; /* resident-weights budget, 0 = all mapped */
    am_progress pr0;
    gen_progress gp = {0};
    am_capture cap;
    am_gen_opts go;
    const char *mode_name = "greedy";
    int *follow = NULL;     /* [U] teacher forcing: unit followed, -1 none */
    int32_t *forced = NULL; /* [n_forced] teacher forcing: the given text's ids */
    int n_forced = 0;

    if (am_qwen3_open(&m, s->model->checkpoint, e) < 0) return am_wrap(e, "model '%s'", s->model->name);
    have_model = 1;
    if (am_stamp_ctx_stage(&sx, s, m.fingerprint, e) < 0 ||
        am_stamp_input(&sx, AM_ST_EMBED_MIX, mix_path, mix_stamp, e) < 0 ||
        am_stamp_input(&sx, AM_ST_FORWARD, prefill_path, pf_fp, e) < 0)
        goto out;
    if (am_mix_load(mix_path, &m, &mx, e) < 0) goto out;
    if (s->freeze.enabled) {
        if (am_freeze_src_load(&fz, s, &m, 0, mx.P, mx.A, mx.plen, mx.alphas, e) < 0) goto out;
        am_freeze_src_key(&fz, s, fkey, sizeof fkey);
        am_stage_path(s, "cube.h5", live_cube, sizeof live_cube);
        char lfp[17];
        am_err le = {0};
        if (strcmp(live_cube, out_path) != 0 && am_prov_fingerprint(live_cube, AM_SCHEMA_CUBE, lfp, &le) == 0) {
            size_t k = strlen(fkey);
            snprintf(fkey + k, sizeof fkey - k, ":live:%s", lfp);
        } else live_cube[0] = 0;
    }
    {
        const char *in[] = {mx.fingerprint, pf_fp};
        am_stamp_make(&sx, AM_ST_GENERATE, in, 2, fkey, fp);
    }
    if (am_stage_up_to_date(s, "generate", out_path, AM_SCHEMA_CUBE, fp)) {
        rc = 0;
        goto out;
    }
    if (am_stage_check_weights(s, &m, e) < 0) goto out;
    pf = am_h5_open_input(prefill_path, AM_SCHEMA_PREFILL, e);
    if (pf < 0) goto out;
    if (am_h5_read_attr_str(pf, "mix_fingerprint", &pf_mix, e) < 0) goto out;
    if (strcmp(pf_mix, mx.fingerprint) != 0) {
        am_fail(e, "%s was computed from another mix.h5 (fingerprint %s, %s has %s): re-run forward", prefill_path,
                pf_mix, mix_path, mx.fingerprint);
        goto out;
    }
    if (am_selection_init(&sel, c, &m, e) < 0) goto out;
    P = mx.P, A = mx.A, T = mx.T, V = m.cfg.vocab_size, N = c->max_new_tokens;
    Lc = sel.Lc, Hc = sel.Hc;
    U = P * A;
    {
        hsize_t dims[6];
        patt = H5Dopen2(pf, "attention", H5P_DEFAULT);
        if (AM_H5ID(patt, e, "prefill /attention")) goto out;
        hid_t sp = H5Dget_space(patt);
        int r = H5Sget_simple_extent_dims(sp, dims, NULL);
        H5Sclose(sp);
        if (r != 6 || dims[0] != (hsize_t)P || dims[1] != (hsize_t)A || dims[2] != (hsize_t)Lc ||
            dims[3] != (hsize_t)Hc || dims[4] != (hsize_t)T) {
            am_fail_code(e, AM_E_CORRUPT,
                         "%s: /attention does not have shape [%d, %d, %d, %d, %d, %d] (capture "
                         "selection changed?): re-run forward",
                         prefill_path, P, A, Lc, Hc, T, T);
            goto out;
        }
    }

    if (am_tok_load(&tok, s->model->tokenizer ? s->model->tokenizer : s->model->checkpoint, e) < 0) goto out;
    eos = c->eos_ids ? c->eos_ids : m.cfg.eos_ids;
    n_eos = c->eos_ids ? c->n_eos : m.cfg.n_eos;

    /* every unit's [Lc][Hc] lower triangles of T_p+N rows, float32, until the cube is written */
    for (int u = 0; u < U; u++) maps_bytes += (uint64_t)Lc * Hc * tri((size_t)mx.plen[u / A] + N) * 4;
    if (am_memory_check(s, &m, U, T + N + 1, maps_bytes, "generate", &budget, e) < 0) goto out;
    {
        /* the cube /attention [P, A, Lc, Hc, S, S] at most, S = T + N; its compression as measured on the prefill */
        const uint64_t el = c->store_f16 ? 2 : 4, S_max = (uint64_t)T + N;
        const uint64_t raw = (uint64_t)P * A * Lc * Hc * S_max * S_max * el;
        const double praw = (double)P * A * Lc * Hc * T * T * (double)el;
        const double ratio = praw > 0 ? (double)H5Dget_storage_size(patt) / praw : 0;
        if (am_disk_check(s, out_path, raw, ratio, budget != 0, e) < 0) goto out;
    }
    ro = (am_runtime_opts){.max_units = U,
                           .max_seq = T + N + 1,
                           .threads = s->threads ? s->threads : c->threads,
                           .weights_budget = budget};
    if (am_stage_backend(s, &ro, e) < 0 || am_runtime_init(&rt, &m, &ro, e) < 0) goto out;
    am_stage_note_backend(s, am_runtime_kernel_name(rt));
    am_stage_note_weights(s, am_runtime_weights_note(rt));
    if (s->freeze.enabled) {
        /* the frozen run stops where its source's patterns end (they are positional) */
        fhook = (am_freeze){.fn = am_freeze_src_hook, .ctx = &fz, .layers = fz.lmask, .heads = fz.hmask};
        am_runtime_set_freeze(rt, &fhook);
        if (!(limit = am_malloc((size_t)U, sizeof *limit, "the per-unit token limits", e))) goto out;
        for (int u = 0; u < U; u++) {
            int room = fz.len[u] - mx.plen[u / A];
            limit[u] = room < N ? room : N;
            if (limit[u] < N && !s->quiet)
                fprintf(stderr,
                        "generate %s: pair '%s' alpha %g: the frozen source (%s) covers %d positions: at most "
                        "%d new tokens\n",
                        s->model->name, c->pairs[u / A].key, mx.alphas[u % A], fz.desc, fz.len[u], limit[u]);
        }
    }

    /* Prefill every unit (no capture: the prompt maps come from prefill.h5). */
    if (!(units = am_malloc((size_t)U, sizeof *units, "the unit list", e)) ||
        !(lens = am_malloc((size_t)U, sizeof *lens, "the prompt lengths", e)) ||
        !(emb = am_malloc((size_t)U, sizeof *emb, "the embedding pointers", e)) ||
        !(logits0 = am_malloc((size_t)U * V, sizeof *logits0, "the prefill logits", e)))
        goto out;
    am_mix_units(&mx, rt, c->mask_pads, units, lens, emb);
    am_progress_start(&pr0, "generate", s->model->name, "prefill", s->quiet);
    if (am_forward(rt, U, units, lens, emb, NULL, logits0, e) < 0) {
        am_stage_nonfinite(s, rt, A, mx.alphas, e);
        goto out;
    }
    if (check_prefill_logits(pf, prefill_path, c, &mx, logits0, V, e) < 0) goto out;

    /* Map buffers, with the prompt rows from prefill.h5. */
    g.sel = &sel;
    if (!(g.unit = am_calloc((size_t)U, sizeof *g.unit, "the map list", e)) ||
        !(g.Sb = am_malloc((size_t)U, sizeof *g.Sb, "the map sizes", e)) ||
        !(tmp = am_malloc((size_t)Lc * Hc * T * T, sizeof *tmp, "one unit's prompt maps", e)))
        goto out;
    for (int u = 0; u < U; u++) {
        g.Sb[u] = mx.plen[u / A] + N;
        g.unit[u] = calloc((size_t)Lc * Hc * tri((size_t)g.Sb[u]), sizeof(float));
        if (!g.unit[u]) {
            am_fail_code(e, AM_E_NOMEM,
                         "out of memory for the maps of %d units (%d layers x %d heads x %d rows of a "
                         "causal map each): capture fewer layers or heads, or fewer new tokens",
                         U, Lc, Hc, g.Sb[u]);
            goto out;
        }
        if (load_prompt_maps(patt, &g, u, u / A, u % A, mx.plen[u / A], T, tmp, e) < 0) goto out;
    }

    /* Generation: all units advance together. */
    if (!(gen = am_malloc((size_t)U * (N ? N : 1), sizeof *gen, "the generated ids", e)) ||
        !(n_gen = am_calloc((size_t)U, sizeof *n_gen, "the generated counts", e)))
        goto out;
    gp.total = N;
    am_progress_start(&gp.pr, "generate", s->model->name, "tokens", s->quiet);
    cap = (am_capture){.fn = gen_hook, .ctx = &g, .layers = sel.mask, .heads = sel.heads, .n_heads = Hc};
    go = (am_gen_opts){.max_new_tokens = N,
                       .eos_ids = eos,
                       .n_eos = n_eos,
                       .max_new = limit,
                       .seed = c->seed,
                       .progress = gen_progress_cb,
                       .progress_ctx = &gp};
    gen_params(c, &m.cfg, &go, &mode_name);
    if (teacher_plan(c, &mx, tok, &follow, &forced, &n_forced, e) < 0) goto out;
    go.follow = follow, go.forced = forced, go.n_forced = n_forced;
    if (N > 0 && am_generate(rt, U, units, logits0, &go, &cap, gen, n_gen, e) < 0) {
        am_stage_nonfinite(s, rt, A, mx.alphas, e);
        goto out;
    }
    am_progress_break(&gp.pr); /* every unit may have stopped at eos before N */
    if (s->freeze.enabled && live_cube[0]) {
        am_runtime_free(rt);
        rt = NULL;
        if (frozen_kl(s, &m, &mx, &fz, live_cube, &kl, &n_kl, &Nkl, e) < 0) goto out;
    }

    /* Assemble the cube. */
    if (!(length = am_malloc((size_t)U, sizeof *length, "the unit lengths", e))) goto out;
    for (int u = 0; u < U; u++) {
        length[u] = mx.plen[u / A] + n_gen[u];
        if (length[u] > S) S = length[u];
        if (n_gen[u] > Nmax) Nmax = n_gen[u];
    }
    if (am_h5_out_create(&out, out_path, e) < 0) goto out;
    if (am_maps_create(&cube, out.file, "attention", P, A, Lc, Hc, S, c->store_f16, c->compression, e) < 0) goto out;
    if (!(map = am_malloc((size_t)Hc * S * S, sizeof *map, "one cube map set", e))) goto out;
    for (int u = 0; u < U; u++)
        for (int li = 0; li < Lc; li++) {
            memset(map, 0, (size_t)Hc * S * S * sizeof *map);
            for (int h = 0; h < Hc; h++)
                for (int q = 0; q < length[u]; q++)
                    memcpy(map + ((size_t)h * S + q) * S, cell(&g, u, li, h, q), (size_t)(q + 1) * sizeof(float));
            if (am_maps_write(&cube, u / A, u % A, li, map, e) < 0) goto out;
        }
    am_maps_close(&cube);

    if (!(texts = am_calloc((size_t)U, sizeof *texts, "the generated texts", e)) ||
        !(gen_ids = am_malloc((size_t)U * (Nmax ? Nmax : 1), sizeof *gen_ids, "the generated ids", e)))
        goto out;
    for (int u = 0; u < U; u++) {
        /* ids in the model's padded vocabulary rows have no token: the text
         * skips them as Hugging Face's decode does; /generated_ids keeps them */
        size_t tl, unknown;
        if (am_tok_decode_skip(tok, gen + (size_t)u * N, (size_t)n_gen[u], &texts[u], &tl, &unknown, e) < 0) goto out;
        if (unknown && !s->quiet)
            fprintf(stderr,
                    "generate %s: warning: pair '%s' alpha %g: %zu generated id(s) have no token in the "
                    "tokenizer (ids %d..%d); the text skips them, /generated_ids keeps them\n",
                    s->model->name, c->pairs[u / A].key, mx.alphas[u % A], unknown, am_tok_vocab_size(tok), V - 1);
        for (int j = 0; j < Nmax; j++) gen_ids[(size_t)u * Nmax + j] = j < n_gen[u] ? gen[(size_t)u * N + j] : -1;
    }
    /* S >= T_max and S >= Nmax */
    if (am_cube_write_units(out.file, P, A, Nmax, S, T, length, gen_ids, (const char *const *)texts, e)) goto out;
    if (am_mix_copy_meta(mix_path, out.file, e) < 0 || am_selection_write(&sel, out.file, e) < 0) goto out;
    if (write_tokens(out.file, tok, &mx, Nmax, S, gen_ids, length, e) < 0) goto out;
    if (am_cube_attach_scales(out.file, e) < 0) goto out;
    if (am_cube_write_nexus(out.file, e) < 0) goto out;
    if (kl && write_kl(out.file, P, A, Nkl, kl, n_kl, live_cube, e) < 0) goto out;
    snprintf(cfg_path, sizeof cfg_path, "%s/config.json", s->model->checkpoint);
    if (am_read_file(cfg_path, "the model's config.json", &model_config, &cfg_len, e) < 0) goto out;
    {
        hid_t mf = am_h5_open_input(mix_path, AM_SCHEMA_MIX, e);
        int64_t pad_id = -1;
        int prc = mf < 0 ? -1 : am_h5_read_attr_i64(mf, "pad_id", &pad_id, e);
        if (mf >= 0) H5Fclose(mf);
        if (prc < 0) goto out;
        if (am_prov_write(out.file, s, AM_SCHEMA_CUBE, fp, e) < 0 ||
            am_stamp_write(out.file, &sx, AM_ST_GENERATE, e) < 0 ||
            am_h5_attr_str(out.file, "model_config", model_config, e) < 0 ||
            am_h5_attr_str(out.file, "checkpoint_fingerprint", m.fingerprint, e) < 0 ||
            am_h5_attr_str(out.file, "mix_fingerprint", mx.fingerprint, e) < 0 ||
            am_h5_attr_str(out.file, "prefill_fingerprint", pf_fp, e) < 0 ||
            am_h5_attr_str(out.file, "storage_dtype", c->store_f16 ? "float16" : "float32", e) < 0 ||
            am_h5_attr_i64(out.file, "pad_id", pad_id, e) < 0 ||
            am_h5_attr_i64(out.file, "mask_pads", c->mask_pads, e) < 0 ||
            am_h5_attr_str(out.file, "generation", mode_name, e) < 0 ||
            am_h5_attr_f64(out.file, "generation_temperature", go.temperature, e) < 0 ||
            am_h5_attr_i64(out.file, "generation_top_k", go.top_k, e) < 0 ||
            am_h5_attr_f64(out.file, "generation_top_p", go.top_p, e) < 0 ||
            am_h5_attr_i64(out.file, "generation_seed", (int64_t)c->seed, e) < 0 ||
            am_h5_attr_str(out.file, "teacher", (const char *[]){"none", "alpha1", "alpha0", "text"}[c->teacher], e) <
                0 ||
            am_h5_attr_i64(out.file, "max_new_tokens", N, e) < 0 ||
            (s->freeze.enabled && am_freeze_src_write_attrs(&fz, s, out.file, e) < 0))
            goto out;
    }
    if (am_h5_out_commit(&out, e) < 0) goto out;

    am_stage_path(s, "generations.tsv", tsv, sizeof tsv);
    if (s->freeze.enabled) { /* beside the frozen cube, not over the live table */
        const char *sl = strrchr(out_path, '/');
        if (sl) snprintf(tsv, sizeof tsv, "%.*s/generations.tsv", (int)(sl - out_path), out_path);
        else snprintf(tsv, sizeof tsv, "generations.tsv");
    }
    if (write_tsv(tsv, s->model->name, c, texts, n_gen, e) < 0) goto out;
    snprintf(summary, sizeof summary, "%d units, up to %d new tokens, maps %d x %d -> %s", U, Nmax, S, S, out_path);
    am_progress_end(&gp.pr, summary);
    rc = 0;
out:
    am_h5_close(&d);
    am_maps_close(&cube);
    if (rc < 0) am_h5_out_abort(&out);
    am_h5_close(&patt);
    am_h5_close(&pf);
    if (g.unit)
        for (int u = 0; u < U; u++) free(g.unit[u]);
    free(g.unit);
    free(g.Sb);
    if (texts)
        for (int u = 0; u < U; u++) free(texts[u]);
    free(texts);
    free(logits0);
    free(tmp);
    free(map);
    free(gen);
    free(length);
    free(gen_ids);
    free(kl);
    free(n_kl);
    free(n_gen);
    free(units);
    free(lens);
    free(emb);
    free(model_config);
    free(pf_mix);
    am_tok_free(tok);
    am_runtime_free(rt);
    am_selection_free(&sel);
    am_freeze_src_free(&fz);
    free(limit);
    free(follow);
    free(forced);
    am_mix_free(&mx);
    if (have_model) am_qwen3_close(&m);
    return rc;
}
