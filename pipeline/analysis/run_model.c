/* The per-model pass of the analysis stage (run_internal.h). Maps are read one
 * (pair, layer) block [A,H,S,S] at a time as float32 (whatever the storage
 * type), so memory stays at one block plus the per-map tables. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "analysis/frame.h"
#include "analysis/frozen.h"
#include "analysis/run_internal.h"
#include "h5/h5io.h"

/* Scales and per-model tables of group g. */
static int model_tables(const an_cube *c, hid_t g, am_err *e) {
    const am_cube *k = &c->c;
    hsize_t dP = k->P, dA = k->A, dL = k->L, dH = k->H, dS = k->S, dPA[2] = {(hsize_t)k->P, (hsize_t)k->A};
    int *qs = am_malloc((size_t)k->S, sizeof *qs, "query positions", e);
    if (!qs) return -1;
    for (int i = 0; i < k->S; i++) qs[i] = i;
    int bad = an_put_strs(g, "pair", k->P, (const char *const *)k->pair, e) ||
              am_h5_put(g, "alpha", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, &dA, k->alpha, e) ||
              am_h5_put(g, "layer", H5T_NATIVE_INT32, H5T_STD_I32LE, 1, &dL, k->layer, e) ||
              am_h5_put(g, "head", H5T_NATIVE_INT32, H5T_STD_I32LE, 1, &dH, k->head, e) ||
              am_h5_put(g, "query", H5T_NATIVE_INT, H5T_STD_I32LE, 1, &dS, qs, e) ||
              am_h5_put(g, "key", H5T_NATIVE_INT, H5T_STD_I32LE, 1, &dS, qs, e) ||
              am_h5_put(g, "length", H5T_NATIVE_INT32, H5T_STD_I32LE, 2, dPA, k->length, e) ||
              am_h5_put(g, "pair_index", H5T_NATIVE_INT, H5T_STD_I32LE, 1, &dP, c->pair_index, e);
    free(qs);
    if (bad) return -1;
    if (am_h5_attr_str(g, "source", k->path, e) || am_h5_attr_str(g, "file_fingerprint", c->file_fp, e) ||
        am_h5_attr_str(g, "checkpoint_fingerprint", k->checkpoint_fingerprint ? k->checkpoint_fingerprint : "", e) ||
        am_h5_attr_str(g, "storage_dtype", k->dtype, e) || am_h5_attr_i64(g, "has_length", k->has_length, e))
        return -1;
    if (k->caveat && am_h5_attr_str(g, "caveat", k->caveat, e)) return -1;
    if (am_h5_attr_str(g, "frame", c->shift ? "realigned: decode step i moved from row i to row T+i-1" : "as stored",
                       e))
        return -1;
    return 0;
}

/* Head classes of one model (group g): scores [L,H,class] averaged over the
 * model's maps (the fixed-offset score is the best offset d >= 2 of the
 * averaged profile hc_off/hc_offn [L,H,S]), the induction score from the
 * model's induction file when one is given, the dominant class per head, and
 * each point's class in pts->hclass. */
static int head_classes(const am_an_config *cfg, const an_cube *c, hid_t g, an_points *pts, const double *hc_off,
                        const double *hc_offn, am_err *e) {
    const am_cube *k = &c->c;
    const am_hc_induction *ind = c->ind.score ? &c->ind : NULL;
    int rc = -1, L = k->L, H = k->H, S = k->S, K = AM_HC_N;
    size_t LH = (size_t)L * H, first = c->base, last = c->base + (size_t)k->P * k->A * LH;
    const hsize_t dLHK[3] = {(hsize_t)L, (hsize_t)H, (hsize_t)K}, dLH[2] = {(hsize_t)L, (hsize_t)H};
    hid_t gh = H5I_INVALID_HID;
    double *score = am_calloc(LH * K, sizeof *score, "head-class scores", e);
    double *cnt = score ? am_calloc(LH * K, sizeof *cnt, "head-class counts", e) : NULL;
    int *label = cnt ? am_malloc(LH, sizeof *label, "head labels", e) : NULL;
    int *offset = label ? am_malloc(LH, sizeof *offset, "head offsets", e) : NULL;
    if (!offset) goto out;
    for (size_t i = first; i < last; i++) {
        size_t lh = (i - first) % LH;
        for (int j = 0; j < AM_HC_MAP_N; j++) {
            double v = pts->hc[i * AM_HC_MAP_N + j];
            if (j != AM_HC_OFFSET && !isnan(v)) score[lh * K + j] += v, cnt[lh * K + j] += 1;
        }
    }
    for (size_t lh = 0; lh < LH; lh++) {
        for (int j = 0; j < AM_HC_MAP_N; j++)
            if (j != AM_HC_OFFSET) score[lh * K + j] = cnt[lh * K + j] > 0 ? score[lh * K + j] / cnt[lh * K + j] : NAN;
        double best = NAN;
        offset[lh] = -1;
        for (int d = 2; d < S; d++)
            if (hc_offn[lh * S + d] > 0 && !(hc_off[lh * S + d] / hc_offn[lh * S + d] <= best))
                best = hc_off[lh * S + d] / hc_offn[lh * S + d], offset[lh] = d;
        score[lh * K + AM_HC_OFFSET] = best;
        score[lh * K + AM_HC_INDUCTION] = NAN;
    }
    if (ind) /* layers and heads of the cube were checked against the file's [L, H] */
        for (int l = 0; l < L; l++)
            for (int h = 0; h < H; h++)
                score[((size_t)l * H + h) * K + AM_HC_INDUCTION] =
                    ind->score[(size_t)k->layer[l] * ind->H + k->head[h]];
    for (size_t lh = 0; lh < LH; lh++) label[lh] = am_hc_label(score + lh * K);
    for (size_t i = first; i < last; i++) pts->hclass[i] = label[(i - first) % LH];

    static const char *const s3[3] = {"layer", "head", "class"}, *const s2[2] = {"layer", "head"};
    if ((gh = am_h5_group(g, "head_class", e)) < 0 || an_put_strs(gh, "class", K, am_hc_names, e) ||
        am_h5_put(gh, "layer", H5T_NATIVE_INT32, H5T_STD_I32LE, 1, dLH, k->layer, e) ||
        am_h5_put(gh, "head", H5T_NATIVE_INT32, H5T_STD_I32LE, 1, dLH + 1, k->head, e) ||
        am_h5_put(gh, "score", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 3, dLHK, score, e) ||
        am_h5_put(gh, "label", H5T_NATIVE_INT, H5T_STD_I32LE, 2, dLH, label, e) ||
        am_h5_put(gh, "offset", H5T_NATIVE_INT, H5T_STD_I32LE, 2, dLH, offset, e) ||
        am_h5_attach(gh, "score", s3, 3, e) || am_h5_attach(gh, "label", s2, 2, e) ||
        am_h5_attach(gh, "offset", s2, 2, e))
        goto out;
    if (am_h5_attr_f64(gh, "threshold", AM_HC_THRESHOLD, e) ||
        am_h5_attr_str(gh, "induction_file", ind ? c->induction : "", e) ||
        am_h5_attr_str(gh, "induction_fingerprint", ind ? ind->fingerprint : "", e) ||
        am_h5_attr_str(gh, "induction_checkpoint", ind ? ind->checkpoint : "", e) ||
        am_h5_attr_i64(gh, "induction_tokens", ind ? ind->tokens : 0, e) ||
        am_h5_attr_i64(gh, "induction_sequences", ind ? ind->seqs : 0, e) ||
        am_h5_attr_i64(gh, "induction_seed", ind ? ind->seed : (int64_t)cfg->tsne.seed, e))
        goto out;
    rc = 0;
out:
    am_h5_close(&gh);
    free(score), free(cnt), free(label), free(offset);
    return rc;
}

/* Per-position KL of a frozen run (teacher-forced along the live tokens) with
 * its mean and max, in group gi = g/<run> (path, relative to g, in run). */
static int frozen_steps(hid_t g, hid_t gi, const char *run, const am_frozen_cmp *f, am_err *e) {
    hsize_t dPA[2] = {(hsize_t)f->P, (hsize_t)f->A}, dPAN[3] = {dPA[0], dPA[1], (hsize_t)f->N}, dN = (hsize_t)f->N;
    int rc = -1;
    char path[700], stepscale[700];
    const char *scales[3] = {"pair", "alpha", stepscale};
    int32_t *step = am_malloc((size_t)(f->N ? f->N : 1), sizeof *step, "steps", e); /* [N] */
    if (!step) return -1;
    for (int j = 0; j < f->N; j++) step[j] = j;
    if (am_h5_put(gi, "step", H5T_NATIVE_INT32, H5T_STD_I32LE, 1, &dN, step, e) ||
        am_h5_put(gi, "kl_step", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 3, dPAN, f->kl_step, e) ||
        am_h5_put(gi, "kl_steps", H5T_NATIVE_INT32, H5T_STD_I32LE, 2, dPA, f->kl_steps, e) ||
        am_h5_put(gi, "kl_mean", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 2, dPA, f->kl_mean, e) ||
        am_h5_put(gi, "kl_max", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 2, dPA, f->kl_max, e))
        goto out;
    static const char *const ds[] = {"kl_step", "kl_steps", "kl_mean", "kl_max"};
    snprintf(stepscale, sizeof stepscale, "%s/step", run);
    for (int k = 0; k < 4; k++) {
        snprintf(path, sizeof path, "%s/%s", run, ds[k]);
        if (am_h5_attach(g, path, scales, k == 0 ? 3 : 2, e)) goto out;
    }
    rc = 0;
out:
    free(step);
    return rc;
}

/* Frozen-pattern runs of the model: KL(live || frozen) of the next-token
 * distributions per (pair, alpha), both greedy next tokens and the frozen
 * generated texts, in group g/frozen/<run>. The live prefill.h5 is the one
 * beside the cube. */
static int frozen_runs(const an_cube *c, hid_t g, am_err *e) {
    char live[4200], run[300], path[400];
    am_frozen_cmp *fc = NULL;
    int rc = -1, n = c->n_frozen;
    hid_t gf = H5I_INVALID_HID, gi = H5I_INVALID_HID, d = H5I_INVALID_HID;
    const char *sl = strrchr(c->c.path, '/');
    if (!n) return 0;
    if (sl) snprintf(live, sizeof live, "%.*s/prefill.h5", (int)(sl - c->c.path), c->c.path);
    else snprintf(live, sizeof live, "prefill.h5");
    if (am_frozen_compare(live, c->frozen, n, &fc, e)) return am_wrap(e, "frozen runs of %s", c->name);
    if ((gf = am_h5_group(g, "frozen", e)) < 0) goto out;
    for (int i = 0; i < n; i++) {
        const am_frozen_cmp *f = &fc[i];
        if (f->P != c->c.P || f->A != c->c.A) {
            am_fail(e, "%s: %d pairs x %d alphas, the cube %s has %d x %d", c->frozen[i], f->P, f->A, c->c.path, c->c.P,
                    c->c.A);
            goto out;
        }
        hsize_t dPA[2] = {(hsize_t)f->P, (hsize_t)f->A};
        if ((gi = am_h5_group(gf, f->name, e)) < 0 ||
            am_h5_put(gi, "kl", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 2, dPA, f->kl, e) ||
            am_h5_put(gi, "next_token_live", H5T_NATIVE_INT32, H5T_STD_I32LE, 2, dPA, f->next_live, e) ||
            am_h5_put(gi, "next_token_frozen", H5T_NATIVE_INT32, H5T_STD_I32LE, 2, dPA, f->next_frozen, e))
            goto out;
        if (f->text) {
            if ((d = am_h5_write_strs(gi, "text", 2, dPA, (const char *const *)f->text, e)) < 0) goto out;
            am_h5_close(&d);
        }
        static const char *const ds[] = {"kl", "next_token_live", "next_token_frozen", "text"};
        static const char *const pa[2] = {"pair", "alpha"};
        snprintf(run, sizeof run, "frozen/%s", f->name);
        for (int k = 0; k < (f->text ? 4 : 3); k++) {
            snprintf(path, sizeof path, "%s/%s", run, ds[k]);
            if (am_h5_attach(g, path, pa, 2, e)) goto out;
        }
        if (f->kl_step && frozen_steps(g, gi, run, f, e)) goto out;
        if (am_h5_attr_f64(gi, "freeze_alpha", f->alpha, e) || am_h5_attr_str(gi, "freeze_source", f->source, e) ||
            am_h5_attr_str(gi, "freeze_layers", f->layers, e) || am_h5_attr_str(gi, "freeze_heads", f->heads, e))
            goto out;
        am_h5_close(&gi);
    }
    rc = 0;
out:
    am_h5_close(&d);
    am_h5_close(&gi);
    am_h5_close(&gf);
    am_frozen_cmp_free(fc, n);
    return rc;
}

/* The statistics of s into point i of st [ST_N, N] (all but the JS columns). */
static void put_stats(double *st, size_t N, size_t i, const am_an_stats *s) {
    st[ST_ENTROPY * N + i] = s->entropy;
    st[ST_SINK * N + i] = s->sink;
    st[ST_DIAGONAL * N + i] = s->diagonal;
    st[ST_PREVIOUS * N + i] = s->previous;
    st[ST_BAND * N + i] = s->band;
    st[ST_DISTANCE * N + i] = s->distance;
    st[ST_OFFSET_MASS * N + i] = s->offset_mass;
    st[ST_VBAR * N + i] = s->vbar;
}

/* The statistics of map (alpha a, head h) of block blk [A,H,S,S] (pair p)
 * over its prompt rows and over its generated rows into point i's split
 * tables; without a prompt length (the cube has none) both have no rows.
 * g [3,S,S] scratch: the generated rows of the map and of its maps at
 * alpha 0 and 1. */
static void split_stats(const am_an_config *cfg, const an_cube *c, int p, int a, int h, const float *blk, am_an_work *w,
                        float *g, an_points *pts, size_t i) {
    const am_cube *k = &c->c;
    const int A = k->A, H = k->H, S = k->S, n = k->length[p * A + a];
    const int T = k->prompt_length ? k->prompt_length[p] : -1, ar[2] = {c->a0, c->a1};
    const size_t SS = (size_t)S * S, N = pts->N;
    const float *M = blk + ((size_t)a * H + h) * SS; /* [S,S] */
    if (T >= 0) {
        am_an_generated_rows(M, S, n, T, g);
        for (int j = 0; j < 2; j++)
            if (ar[j] >= 0)
                am_an_generated_rows(blk + ((size_t)ar[j] * H + h) * SS, S, k->length[p * A + ar[j]], T,
                                     g + (1 + j) * SS);
    }
    for (int r = 0; r < AN_SPLIT_N; r++) {
        const int rs = r == AN_SPLIT_PROMPT ? AM_AN_ROWS_PROMPT : AM_AN_ROWS_GENERATED;
        double *st = pts->split_st + (size_t)r * ST_N * N;
        am_an_stats s;
        if (T >= 0) am_an_rowset_stats(M, g, S, n, T, rs, cfg->band, w, &s);
        else am_an_map_stats(M, S, 0, cfg->band, w, &s, NULL); /* no rows */
        put_stats(st, N, i, &s);
        pts->split_offset[r * N + i] = s.offset;
        pts->split_rows[r * N + i] = s.rows;
        for (int j = 0; j < 2; j++) {
            double js = NAN;
            if (T >= 0 && ar[j] >= 0)
                js = am_an_rowset_js(M, g, n, blk + ((size_t)ar[j] * H + h) * SS, g + (1 + j) * SS,
                                     k->length[p * A + ar[j]], S, T, rs);
            st[(j == 0 ? ST_JS0 : ST_JS1) * N + i] = js;
        }
    }
}

/* Statistics of every map of block blk [A,H,S,S] (pair p, layer l) into the
 * points (all rows, prompt rows, generated rows), mean/var [A,S,S] over
 * heads, ent and offp [A,H,S] (entropy by query, fixed-offset profiles). 0,
 * or -1 when a work buffer could not be allocated. */
static int block_stats(const am_an_config *cfg, const an_cube *c, int p, int l, const float *blk, an_points *pts,
                       float *maps, float *mean, float *var, double *ent, double *offp) {
    const am_cube *k = &c->c;
    const int A = k->A, H = k->H, L = k->L, S = k->S;
    const size_t SS = (size_t)S * S;
    int fail = 0;
#pragma omp parallel
    {
        am_an_work w;
        float *g = malloc(3 * SS * sizeof *g); /* [3,S,S] generated rows (split_stats) */
        int ok = am_an_work_init(&w, S) == 0;
        if (!ok || !g) {
#pragma omp atomic write
            fail = 1;
        }
#pragma omp for schedule(dynamic)
        for (int ah = 0; ah < A * H + A; ah++) {
            if (!ok || !g) continue;
            if (ah >= A * H) { /* head moments of alpha a */
                int a = ah - A * H;
                am_an_head_moments(blk + (size_t)a * H * SS, H, SS, mean + a * SS, var + a * SS);
                continue;
            }
            int a = ah / H, h = ah % H;
            int n = k->length[p * A + a];
            const float *M = blk + (size_t)ah * SS; /* [S,S] */
            am_an_stats s;
            am_an_map_stats(M, S, n, cfg->band, &w, &s, ent + (size_t)ah * S);
            size_t i = c->base + ((((size_t)p * A + a) * L + l) * H + h);
            pts->pair[i] = c->pair_index[p];
            pts->alpha[i] = k->alpha[a];
            pts->layer[i] = k->layer[l];
            pts->head[i] = k->head[h];
            pts->offset[i] = s.offset;
            pts->rows[i] = s.rows;
            size_t N = pts->N;
            put_stats(pts->st, N, i, &s);
            for (int r = 0; r < 2; r++) {
                int ar = r == 0 ? c->a0 : c->a1;
                double js = NAN;
                if (ar >= 0) js = am_an_js_maps(M, n, blk + ((size_t)ar * H + h) * SS, k->length[p * A + ar], S);
                pts->st[(r == 0 ? ST_JS0 : ST_JS1) * N + i] = js;
            }
            memcpy(pts->feat + i * AM_AN_NFEAT, s.feat, sizeof s.feat);
            am_hc_map_scores(M, S, n, pts->hc + i * AM_HC_MAP_N, offp + (size_t)ah * S);
            if (maps) memcpy(maps + (i - c->base) * SS, M, SS * sizeof *M);
            split_stats(cfg, c, p, a, h, blk, &w, g, pts, i);
        }
        am_an_work_free(&w);
        free(g);
    }
    return fail ? -1 : 0;
}

int an_model_pass(const am_an_config *cfg, const an_cube *c, hid_t out, an_points *pts, float *maps, am_err *e) {
    const am_cube *k = &c->c;
    const int P = k->P, A = k->A, L = k->L, H = k->H, S = k->S;
    const size_t SS = (size_t)S * S;
    const double nan = NAN;
    int rc = -1;
    hid_t g = H5I_INVALID_HID, dmean = H5I_INVALID_HID, dvar = H5I_INVALID_HID, dent = H5I_INVALID_HID;
    float *blk = NULL, *mean = NULL, *var = NULL;
    double *ent = NULL, *offp = NULL, *hc_off = NULL, *hc_offn = NULL;
    char gname[512];
    const hsize_t dm[5] = {(hsize_t)P, (hsize_t)A, (hsize_t)L, (hsize_t)S, (hsize_t)S}; /* head_mean, head_var */
    const hsize_t cm[5] = {1, 1, 1, (hsize_t)S, (hsize_t)S};
    const hsize_t de[5] = {(hsize_t)P, (hsize_t)A, (hsize_t)L, (hsize_t)H, (hsize_t)S}; /* entropy_by_query */
    const hsize_t ce[5] = {1, (hsize_t)A, 1, (hsize_t)H, (hsize_t)S};
    const double t0 = an_seconds();
    snprintf(gname, sizeof gname, "models/%s", c->name);
    if ((g = am_h5_group(out, gname, e)) < 0 || model_tables(c, g, e)) goto out;
    if ((dmean = am_h5_create(g, "head_mean", H5T_IEEE_F32LE, 5, dm, cm, 4, &nan, e)) < 0 ||
        (dvar = am_h5_create(g, "head_var", H5T_IEEE_F32LE, 5, dm, cm, 4, &nan, e)) < 0 ||
        (dent = am_h5_create(g, "entropy_by_query", H5T_IEEE_F64LE, 5, de, ce, 4, &nan, e)) < 0)
        goto out;

    if (!(blk = am_malloc((size_t)A * H * SS, sizeof *blk, "a block of maps", e)) ||      /* [A,H,S,S] */
        !(mean = am_malloc((size_t)A * SS, sizeof *mean, "head means", e)) ||             /* [A,S,S] */
        !(var = am_malloc((size_t)A * SS, sizeof *var, "head variances", e)) ||           /* [A,S,S] */
        !(ent = am_malloc((size_t)A * H * S, sizeof *ent, "entropies", e)) ||             /* [A,H,S] */
        !(offp = am_malloc((size_t)A * H * S, sizeof *offp, "offset profiles", e)) ||     /* [A,H,S] */
        !(hc_off = am_calloc((size_t)L * H * S, sizeof *hc_off, "offset sums", e)) ||     /* [L,H,S] sums over maps */
        !(hc_offn = am_calloc((size_t)L * H * S, sizeof *hc_offn, "offset counts", e))) { /* [L,H,S] counts */
        am_wrap(e, "a [%d,%d,%d,%d] block of %s", A, H, S, S, k->path);
        goto out;
    }
    for (int p = 0; p < P; p++) {
        for (int l = 0; l < L; l++) {
            if (am_an_read_block(k, c->shift, p, l, blk, e)) goto out;
            if (block_stats(cfg, c, p, l, blk, pts, maps, mean, var, ent, offp)) {
                am_fail_code(e, AM_E_NOMEM, "out of memory for work buffers (S = %d)", S);
                goto out;
            }
            for (int ah = 0; ah < A * H; ah++) /* fixed-offset profiles summed per head */
                for (int d = 0; d < S; d++) {
                    double v = offp[(size_t)ah * S + d];
                    if (!isnan(v)) {
                        size_t j = ((size_t)l * H + ah % H) * S + d;
                        hc_off[j] += v, hc_offn[j] += 1;
                    }
                }
            hsize_t s5[5] = {(hsize_t)p, 0, (hsize_t)l, 0, 0};
            hsize_t cnt[5] = {1, (hsize_t)A, 1, (hsize_t)S, (hsize_t)S};
            hsize_t cnte[5] = {1, (hsize_t)A, 1, (hsize_t)H, (hsize_t)S};
            if (am_h5_write_slab(dmean, H5T_NATIVE_FLOAT, 5, s5, cnt, mean, e) ||
                am_h5_write_slab(dvar, H5T_NATIVE_FLOAT, 5, s5, cnt, var, e) ||
                am_h5_write_slab(dent, H5T_NATIVE_DOUBLE, 5, s5, cnte, ent, e))
                goto out;
        }
        an_progress(cfg, "%s: pair %d/%d (%s) done (%.2f s)", c->name, p + 1, P, k->pair[p], an_seconds() - t0);
    }
    am_h5_close(&dmean);
    am_h5_close(&dvar);
    am_h5_close(&dent);
    static const char *const sm[5] = {"pair", "alpha", "layer", "query", "key"};
    static const char *const se[5] = {"pair", "alpha", "layer", "head", "query"};
    if (am_h5_attach(g, "head_mean", sm, 5, e) || am_h5_attach(g, "head_var", sm, 5, e) ||
        am_h5_attach(g, "entropy_by_query", se, 5, e))
        goto out;
    if (head_classes(cfg, c, g, pts, hc_off, hc_offn, e) || frozen_runs(c, g, e)) goto out;
    rc = 0;
out:
    free(offp), free(hc_off), free(hc_offn);
    free(blk), free(mean), free(var), free(ent);
    am_h5_close(&dmean);
    am_h5_close(&dvar);
    am_h5_close(&dent);
    am_h5_close(&g);
    return rc;
}
