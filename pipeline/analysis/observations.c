/* The study's observations, tested (observations.h, docs/analysis.md). */
#include "analysis/observations.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "analysis/resample.h"

const char *const am_obs_rowset_names[AM_OBS_NROWS] = {"all", "prompt_rows", "generated_rows"};
const char *const am_obs_stat_names[AM_OBS_NSTAT] = {"band", "distance", "entropy_norm", "js_alpha0", "js_alpha1"};
const char *const am_obs_verdict_names[4] = {"untestable", "supported", "not supported", "opposite"};
const char *const am_obs_claims[5] = {
    "Near alpha 0.5 locality breaks and tokens attend further back.",
    "Some heads are robust to the mix and some are not.",
    "A confused model spreads its attention.",
    "Math prompts are the most brittle.",
    "Some heads attend at a fixed distance.",
};

void am_obs_defaults(am_obs_opts *o) {
    *o = (am_obs_opts){
        .band = 4, .boot = 2000, .draws = 9999, .shuffles = 99, .level = 0.95, .p_max = 0.05, .offset_mass = 0.3};
}

int am_obs_verdict(const am_obs_test *t, double p_max) {
    if (isnan(t->estimate) || isnan(t->ci_low) || isnan(t->ci_high) || isnan(t->p_value)) return AM_OBS_UNTESTABLE;
    double lo = t->sign > 0 ? t->ci_low : -t->ci_high, hi = t->sign > 0 ? t->ci_high : -t->ci_low;
    if (lo > 0 && t->p_value < p_max) return AM_OBS_SUPPORTED;
    if (hi < 0 && t->p_value < p_max) return AM_OBS_OPPOSITE;
    return AM_OBS_NOT_SUPPORTED;
}

void am_obs_result_free(am_obs_result *r) {
    for (int s = 0; s < AM_OBS_NROWS; s++) {
        free(r->band[s]), free(r->distance[s]), free(r->entropy[s]), free(r->sens[s]);
        free(r->peak[s]), free(r->peak_offset[s]), free(r->null_peak[s]), free(r->pair_sens[s]);
        for (int k = 0; k < AM_OBS_NSTAT; k++) free(r->stat[s][k]);
    }
    memset(r, 0, sizeof *r);
}

/* ---- the per-unit pass ----------------------------------------------------- */

/* Per-thread scratch. */
typedef struct obs_work {
    am_an_work w;
    float *gen; /* [A][S,S] the maps of one head with the prompt rows emptied */
} obs_work;

/* band, distance, normalised entropy of map M (valid n) over row set rs
 * (G: M's generated rows); returns the valid rows the means are over. */
static int rowset_stats(const float *M, const float *G, int S, int n, int T, int rs, int band, am_an_work *w,
                        double out[3]) {
    am_an_stats st;
    am_an_rowset_stats(M, G, S, n, T, rs, band, w, &st);
    out[0] = st.band, out[1] = st.distance, out[2] = st.feat[AM_AN_F_ENTROPY_NORM];
    return st.rows;
}

/* The number of rows am_an_rowset_js averages: rows q of the row set below
 * min(nm, nb) where both maps have mass on keys [0, min(nm, nb)) (prompt: below
 * T, with keys below T). */
static int rowset_js_rows(const float *M, int nm, const float *B, int nb, int S, int T, int rs) {
    int n = nm < nb ? nm : nb, q0 = 1, rows = 0;
    if (n > S) n = S;
    if (rs == AM_OBS_PROMPT && T < n) n = T;
    if (rs == AM_OBS_GENERATED) q0 = T > 1 ? T : 1;
    for (int q = q0; q < n; q++) {
        const float *a = M + (size_t)q * S, *b = B + (size_t)q * S;
        double sa = 0, sb = 0;
        for (int k = 0; k < n; k++) sa += a[k], sb += b[k];
        rows += sa > 0 && sb > 0;
    }
    return rows;
}

/* O5 sums of one head: [rs in prompt, generated][R + 1][S] (index 0: the
 * observed rows, 1..R: the shuffles; float: at most a few thousand rows of
 * mass <= 1 are summed, far inside float precision for a 0.3 threshold) and
 * row counts [2][S]. */
typedef struct o5_head {
    float *sum;  /* [2][R+1][S] */
    double *cnt; /* [2][S] */
} o5_head;

/* dst[i] += src[i], i < n (the two never overlap). */
static void add_to(float *restrict dst, const float *restrict src, int n) {
#pragma omp simd
    for (int i = 0; i < n; i++) dst[i] += src[i];
}

/* Add map M (valid n, prompt rows < T) of head (l, h) to its O5 sums: rows
 * q >= 2 with positive mass; each row's offsets d = 0..q, observed and
 * rotated by an independent uniform amount per shuffle. */
static void o5_add(const float *M, int S, int n, int T, int R, am_rng *rng, o5_head *o, float *row) {
    for (int q = 2; q < n; q++) {
        const float *a = M + (size_t)q * S;
        double mass = 0;
        for (int d = 0; d <= q; d++) mass += row[d] = a[q - d];
        if (!(mass > 0)) continue;
        int rs = q < T ? 0 : 1, m = q + 1;
        float *base = o->sum + (size_t)rs * (R + 1) * S;
        double *cnt = o->cnt + (size_t)rs * S;
        for (int d = 0; d < m; d++) base[d] += row[d], cnt[d] += 1;
        for (int r = 1; r <= R; r++) { /* offset d moves to (d + k) mod m */
            float *s = base + (size_t)r * S;
            int k = am_rng_below(rng, m);
            add_to(s + k, row, m - k);
            add_to(s, row + m - k, k);
        }
    }
}

/* Peak over d >= 2 of the profile sum/cnt (offsets with at least half the
 * rows of offset 2); *at its offset (-1 when none). */
static double o5_peak(const float *sum, const double *cnt, int S, int *at) {
    double best = NAN;
    *at = -1;
    for (int d = 2; d < S; d++) {
        if (!(cnt[d] > 0) || cnt[d] < 0.5 * cnt[2]) continue;
        double v = sum[d] / cnt[d];
        if (!(v <= best)) best = v, *at = d;
    }
    return best;
}

static int obs_pass(const am_obs_cube *c, const am_obs_opts *o, am_obs_result *r, double *nullpk, am_err *e) {
    const int P = c->P, A = c->A, L = c->L, H = c->H, S = c->S, R = o->shuffles;
    const size_t SS = (size_t)S * S;
    const int have3 = r->a0 >= 0 && r->a5 >= 0 && r->a1 >= 0;
    int rc = -1, fail = 0;
    float *blk = am_malloc((size_t)A * H * SS, sizeof *blk, "a block of maps", e); /* [A,H,S,S] */
    o5_head *o5 = blk ? am_calloc((size_t)H, sizeof *o5, "O5 sums", e) : NULL;
    if (!o5) goto out;
    for (int h = 0; h < H; h++)
        if (!(o5[h].sum = am_malloc((size_t)2 * (R + 1) * S, sizeof(float), "O5 sums", e)) ||
            !(o5[h].cnt = am_malloc((size_t)2 * S, sizeof(double), "O5 counts", e)))
            goto out;
    for (int l = 0; l < L; l++) {
        for (int h = 0; h < H; h++) {
            memset(o5[h].sum, 0, (size_t)2 * (R + 1) * S * sizeof(float));
            memset(o5[h].cnt, 0, (size_t)2 * S * sizeof(double));
        }
        for (int p = 0; p < P; p++) {
            if (c->read(c->ctx, p, l, blk, e)) goto out;
            const int T = c->prompt_length ? c->prompt_length[p] : 0;
#pragma omp parallel
            {
                obs_work w = {0};
                float *row = malloc((size_t)S * sizeof *row);
                int ok = am_an_work_init(&w.w, S) == 0 && row && (w.gen = malloc((size_t)A * SS * sizeof(float)));
                if (!ok) {
#pragma omp atomic write
                    fail = 1;
                }
#pragma omp for schedule(dynamic)
                for (int h = 0; h < H; h++) {
                    if (!ok) continue;
                    size_t u = ((size_t)p * L + l) * H + h;
                    for (int a = 0; a < A; a++)
                        am_an_generated_rows(blk + ((size_t)a * H + h) * SS, S, c->length[p * A + a], T,
                                             w.gen + a * SS);
                    /* every statistic at every alpha, per row set; with a prompt length, all rows
                     * = the row-weighted mean of the prompt and the generated rows (the same rows) */
                    for (int a = 0; a < A; a++) {
                        size_t i = (((size_t)p * A + a) * L + l) * H + h;
                        const float *M = blk + ((size_t)a * H + h) * SS, *G = w.gen + a * SS;
                        int n = c->length[p * A + a];
                        double v[AM_OBS_NROWS][AM_OBS_NSTAT], cnt[AM_OBS_NROWS][AM_OBS_NSTAT];
                        for (int rs = c->prompt_length ? 1 : 0; rs < (c->prompt_length ? AM_OBS_NROWS : 1); rs++) {
                            int rows = rowset_stats(M, G, S, n, T, rs, o->band, &w.w, v[rs]);
                            cnt[rs][0] = cnt[rs][1] = cnt[rs][2] = rows;
                            for (int j = 0; j < 2; j++) {
                                int ar = j ? r->a1 : r->a0;
                                const float *B = ar < 0 ? NULL : blk + ((size_t)ar * H + h) * SS;
                                int nb = ar < 0 ? 0 : c->length[p * A + ar];
                                v[rs][3 + j] =
                                    ar < 0 ? NAN : am_an_rowset_js(M, G, n, B, w.gen + ar * SS, nb, S, T, rs);
                                cnt[rs][3 + j] = ar < 0 ? 0 : rowset_js_rows(M, n, B, nb, S, T, rs);
                            }
                        }
                        for (int k = 0; k < AM_OBS_NSTAT && c->prompt_length; k++) {
                            double cp = cnt[AM_OBS_PROMPT][k], cg = cnt[AM_OBS_GENERATED][k];
                            v[AM_OBS_ALL][k] = cp + cg > 0 ? ((cp > 0 ? cp * v[AM_OBS_PROMPT][k] : 0) +
                                                              (cg > 0 ? cg * v[AM_OBS_GENERATED][k] : 0)) /
                                                                 (cp + cg)
                                                           : NAN;
                        }
                        for (int rs = 0; rs < AM_OBS_NROWS; rs++)
                            for (int k = 0; k < AM_OBS_NSTAT; k++)
                                r->stat[rs][k][i] = rs == AM_OBS_ALL || c->prompt_length ? v[rs][k] : NAN;
                    }
                    if (have3) /* the contrasts at 0.5 against the endpoints */
                        for (int rs = 0; rs < AM_OBS_NROWS; rs++) {
                            size_t i0 = (((size_t)p * A + r->a0) * L + l) * H + h;
                            size_t i5 = (((size_t)p * A + r->a5) * L + l) * H + h;
                            size_t i1 = (((size_t)p * A + r->a1) * L + l) * H + h;
                            double *const *st = r->stat[rs];
#define CONTRAST(k) (st[k][i5] - (st[k][i0] + st[k][i1]) / 2)
                            r->band[rs][u] = CONTRAST(AM_OBS_S_BAND);
                            r->distance[rs][u] = CONTRAST(AM_OBS_S_DISTANCE);
                            r->entropy[rs][u] = CONTRAST(AM_OBS_S_ENTROPY);
#undef CONTRAST
                            r->sens[rs][u] = (st[AM_OBS_S_JS0][i5] + st[AM_OBS_S_JS1][i5]) / 2;
                        }
                    am_rng rng; /* one stream per (layer, head, pair): the same draws with any thread count */
                    am_rng_seed(&rng, o->seed ^ 0x05, u);
                    for (int a = 0; a < A; a++)
                        o5_add(blk + ((size_t)a * H + h) * SS, S, c->length[p * A + a], T, R, &rng, &o5[h], row);
                }
                am_an_work_free(&w.w);
                free(w.gen);
                free(row);
            }
            if (fail) {
                am_fail_code(e, AM_E_NOMEM, "out of memory for the observations' work buffers (S = %d)", S);
                goto out;
            }
        }
        /* the layer's O5 peaks: prompt rows, generated rows, and all (their sum) */
        for (int h = 0; h < H; h++) {
            size_t k = (size_t)l * H + h;
            float *all = o5[h].sum;
            double *allc = o5[h].cnt; /* rs 0 += rs 1 after the split ones are done */
            for (int rs = AM_OBS_NROWS - 1; rs >= 0; rs--) {
                int si = rs == AM_OBS_ALL ? 0 : rs == AM_OBS_PROMPT ? 0 : 1;
                if (rs == AM_OBS_ALL)
                    for (int j = 0; j < (R + 1) * S; j++) all[j] += o5[h].sum[(size_t)(R + 1) * S + j];
                if (rs == AM_OBS_ALL)
                    for (int d = 0; d < S; d++) allc[d] += o5[h].cnt[S + d];
                const float *sum = o5[h].sum + (size_t)si * (R + 1) * S;
                const double *cnt = o5[h].cnt + (size_t)si * S;
                int at;
                if (rs != AM_OBS_ALL && !c->prompt_length) {
                    r->peak[rs][k] = r->null_peak[rs][k] = NAN, r->peak_offset[rs][k] = -1;
                    for (int q = 1; q <= R; q++) nullpk[((size_t)rs * (R + 1) + q) * L * H + k] = NAN;
                    continue;
                }
                r->peak[rs][k] = o5_peak(sum, cnt, S, &at);
                r->peak_offset[rs][k] = at;
                double mean = 0;
                for (int q = 1; q <= R; q++) {
                    double v = o5_peak(sum + (size_t)q * S, cnt, S, &at);
                    nullpk[((size_t)rs * (R + 1) + q) * L * H + k] = v;
                    mean += v;
                }
                r->null_peak[rs][k] = R ? mean / R : NAN;
            }
        }
    }
    rc = 0;
out:
    if (o5)
        for (int h = 0; h < H; h++) free(o5[h].sum), free(o5[h].cnt);
    free(o5);
    free(blk);
    return rc;
}

/* ---- the tests ------------------------------------------------------------- */

/* Mean-contrast test of x [P*L*H] (units clustered by pair): estimate, the
 * two-stage cluster bootstrap interval, the cluster sign-flip p-value. */
static int contrast_test(const double *x, int P, int LH, const am_obs_opts *o, uint64_t stream, int sign,
                         am_obs_test *t, am_err *e) {
    double *v = am_malloc((size_t)P * LH + 1, sizeof *v, "contrasts", e);
    int *start = v ? am_malloc((size_t)P + 1, sizeof *start, "clusters", e) : NULL;
    int rc = -1, n = 0, C = 0;
    if (!start) goto out;
    start[0] = 0;
    for (int p = 0; p < P; p++) {
        int n0 = n;
        for (int k = 0; k < LH; k++)
            if (isfinite(x[(size_t)p * LH + k])) v[n++] = x[(size_t)p * LH + k];
        if (n > n0) start[++C] = n;
    }
    *t = (am_obs_test){.estimate = NAN, .ci_low = NAN, .ci_high = NAN, .p_value = NAN, .n = n, .clusters = C};
    t->sign = sign;
    if (n >= 2) {
        double s = 0;
        for (int i = 0; i < n; i++) s += v[i];
        t->estimate = s / n;
        if (am_boot_mean_ci(v, start, C, o->boot, o->level, o->seed ^ stream, &t->ci_low, &t->ci_high, NULL)) {
            am_fail_code(e, AM_E_NOMEM, "out of memory for the bootstrap");
            goto out;
        }
        t->p_value = am_signflip_p(v, start, C, o->draws, o->seed ^ (stream + 1), &t->exact);
    }
    t->verdict = am_obs_verdict(t, o->p_max);
    rc = 0;
out:
    free(v), free(start);
    return rc;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Centred average ranks of a [m] into rk [m] (sorted [m] scratch); returns
 * the norm of rk. */
static double centred_ranks(const double *a, int m, double *rk, double *sorted) {
    memcpy(sorted, a, (size_t)m * sizeof *a);
    qsort(sorted, (size_t)m, sizeof *sorted, cmp_d);
    double nn = 0;
    for (int k = 0; k < m; k++) {
        int lo = 0, hi = m;
        while (lo < hi) { /* first sorted value >= a[k] */
            int mid = (lo + hi) / 2;
            if (sorted[mid] < a[k]) lo = mid + 1;
            else hi = mid;
        }
        int first = lo;
        hi = m;
        while (lo < hi) { /* first sorted value > a[k] */
            int mid = (lo + hi) / 2;
            if (sorted[mid] <= a[k]) lo = mid + 1;
            else hi = mid;
        }
        rk[k] = (first + lo - 1) / 2.0 - (m - 1) / 2.0;
        nn += rk[k] * rk[k];
    }
    return sqrt(nn);
}

/* Mean over pairs of pairs of the correlation of the rank vectors z [P][m]
 * with norms nrm [P] (pairs with a constant vector left out). */
static double mean_rank_corr(const double *z, const double *nrm, int P, int m) {
    double s = 0;
    int cnt = 0;
    for (int p = 0; p < P; p++)
        for (int p2 = p + 1; p2 < P; p2++) {
            if (!(nrm[p] > 0 && nrm[p2] > 0)) continue;
            double c = 0;
            for (int k = 0; k < m; k++) c += z[(size_t)p * m + k] * z[(size_t)p2 * m + k];
            s += c / (nrm[p] * nrm[p2]), cnt++;
        }
    return cnt ? s / cnt : NAN;
}

/* O2: per-head sensitivity [P][K] (K = L*H): spread across heads (10th and
 * 90th percentiles of the per-head mean over pairs), and stability: the mean
 * Spearman correlation of heads over all pairs of pairs, its bootstrap
 * interval over heads, and a two-sided permutation p-value (heads shuffled
 * independently within every pair but the first). Heads with a non-finite
 * value in any pair are left out. */
static int o2_test(const double *sens, int P, int K, const am_obs_opts *o, am_obs_test *t, double *q10, double *q90,
                   am_err *e) {
    int rc = -1, m = 0, fail = 0;
    double *x = am_malloc((size_t)P * K + 1, sizeof *x, "O2 heads", e);              /* [P][m] kept heads */
    double *rk = x ? am_malloc((size_t)P * K + 1, sizeof *rk, "O2 ranks", e) : NULL; /* [P][m] centred ranks */
    double *z = rk ? am_malloc((size_t)P * K + 1, sizeof *z, "O2 draws", e) : NULL;  /* [P][m] a draw */
    double *nrm = z ? am_malloc((size_t)P + 1, sizeof *nrm, "O2 norms", e) : NULL;   /* [P] */
    double *work = nrm ? am_malloc((size_t)4 * K + 1, sizeof *work, "O2 scratch", e) : NULL;
    int *iw = work ? am_malloc((size_t)K + 1, sizeof *iw, "O2 scratch", e) : NULL;
    int *idx = iw ? am_malloc((size_t)K + 1, sizeof *idx, "O2 draws", e) : NULL;
    int *start = idx ? am_malloc((size_t)K + 1, sizeof *start, "O2 clusters", e) : NULL;
    double *boot = start ? am_malloc((size_t)o->boot + 1, sizeof *boot, "O2 draws", e) : NULL;
    *t = (am_obs_test){.estimate = NAN, .ci_low = NAN, .ci_high = NAN, .p_value = NAN, .sign = 1};
    *q10 = *q90 = NAN;
    if (!boot) goto out;
    for (int k = 0; k < K; k++) {
        int ok = 1;
        for (int p = 0; p < P; p++) ok &= isfinite(sens[(size_t)p * K + k]);
        if (!ok) continue;
        for (int p = 0; p < P; p++) x[(size_t)p * K + m] = sens[(size_t)p * K + k];
        m++;
    }
    for (int p = 1; p < P; p++) memmove(x + (size_t)p * m, x + (size_t)p * K, (size_t)m * sizeof *x); /* [P][m] */
    t->n = m, t->clusters = m;
    if (m >= 2) { /* spread: per-head mean over pairs */
        for (int k = 0; k < m; k++) {
            double s = 0;
            for (int p = 0; p < P; p++) s += x[(size_t)p * m + k];
            work[k] = s / P;
        }
        qsort(work, (size_t)m, sizeof *work, cmp_d);
        *q10 = am_quantile_sorted(work, m, 0.1), *q90 = am_quantile_sorted(work, m, 0.9);
    }
    if (P < 2 || m < 3) goto done;
    for (int p = 0; p < P; p++) nrm[p] = centred_ranks(x + (size_t)p * m, m, rk + (size_t)p * m, work);
    t->estimate = mean_rank_corr(rk, nrm, P, m); /* = the mean of am_spearman over pairs of pairs */
    /* interval: heads drawn with replacement (each head its own cluster), ranks recomputed */
    for (int k = 0; k <= m; k++) start[k] = k;
#pragma omp parallel
    { /* draws in parallel: each is a function of (seed, b) only */
        int *bi = malloc((size_t)m * sizeof *bi);
        double *bw = malloc((size_t)2 * m * sizeof *bw), *bz = malloc((size_t)P * m * sizeof *bz);
        double *bn = malloc((size_t)P * sizeof *bn);
        if (!bi || !bw || !bz || !bn) {
#pragma omp atomic write
            fail = 1;
        }
#pragma omp for schedule(static)
        for (int b = 0; b < o->boot; b++) {
            if (!bi || !bw || !bz || !bn) continue;
            am_boot_draw(start, m, o->seed ^ 0x21, b, bi);
            for (int p = 0; p < P; p++) {
                for (int k = 0; k < m; k++) bw[k] = x[(size_t)p * m + bi[k]];
                bn[p] = centred_ranks(bw, m, bz + (size_t)p * m, bw + m);
            }
            boot[b] = mean_rank_corr(bz, bn, P, m);
            if (isnan(boot[b])) boot[b] = 0;
        }
        free(bi), free(bw), free(bz), free(bn);
    }
    if (fail) {
        am_fail_code(e, AM_E_NOMEM, "out of memory for the O2 bootstrap");
        goto out;
    }
    qsort(boot, (size_t)o->boot, sizeof *boot, cmp_d);
    t->ci_low = am_quantile_sorted(boot, o->boot, (1 - o->level) / 2);
    t->ci_high = am_quantile_sorted(boot, o->boot, (1 + o->level) / 2);
    /* permutation null: a shuffle keeps each pair's ranks, so a draw only
     * permutes the rank vectors of pairs 1..P-1 */
    for (int p = 0; p < P; p++) nrm[p] = centred_ranks(x + (size_t)p * m, m, rk + (size_t)p * m, work);
    {
        long long hits = 1;
        double obs = fabs(t->estimate), tol = 1e-12;
        memcpy(z, rk, (size_t)m * sizeof *z);
        for (int r = 0; r < o->draws; r++) {
            for (int p = 1; p < P; p++) {
                am_perm_draw(m, o->seed ^ 0x22, r * P + p, idx);
                for (int k = 0; k < m; k++) z[(size_t)p * m + k] = rk[(size_t)p * m + idx[k]];
            }
            hits += fabs(mean_rank_corr(z, nrm, P, m)) >= obs - tol;
        }
        t->p_value = (double)hits / (o->draws + 1.0);
    }
done:
    t->verdict = am_obs_verdict(t, o->p_max);
    rc = 0;
out:
    free(x), free(rk), free(z), free(nrm), free(work), free(iw), free(idx), free(start), free(boot);
    return rc;
}

/* Mean-of-heads test of d [K] (one value per head, the heads their own
 * clusters): estimate, bootstrap interval over heads, sign-flip p-value over
 * heads. */
static int head_test(const double *d, int K, const am_obs_opts *o, uint64_t stream, int sign, am_obs_test *t,
                     am_err *e) {
    return contrast_test(d, K, 1, o, stream, sign, t, e);
}

int am_obs_compute(const am_obs_cube *c, const am_obs_opts *o, am_obs_result *r, am_err *e) {
    const int P = c->P, L = c->L, H = c->H, R = o->shuffles, K = L * H;
    const size_t U = (size_t)P * K;
    int rc = -1;
    double *nullpk = NULL, *d = NULL;
    memset(r, 0, sizeof *r);
    r->P = P, r->L = L, r->H = H, r->R = R;
    r->a0 = r->a5 = r->a1 = r->math = -1;
    for (int a = 0; a < c->A; a++) {
        if (c->alpha[a] == 0.0 && r->a0 < 0) r->a0 = a;
        if (c->alpha[a] == 0.5 && r->a5 < 0) r->a5 = a;
        if (c->alpha[a] == 1.0 && r->a1 < 0) r->a1 = a;
    }
    for (int p = 0; p < P; p++)
        if (!strcmp(c->pair[p], "math")) r->math = p;
    for (int s = 0; s < AM_OBS_NROWS; s++) {
        if (!(r->band[s] = am_malloc(U, sizeof(double), "contrasts", e)) ||
            !(r->distance[s] = am_malloc(U, sizeof(double), "contrasts", e)) ||
            !(r->entropy[s] = am_malloc(U, sizeof(double), "contrasts", e)) ||
            !(r->sens[s] = am_malloc(U, sizeof(double), "sensitivities", e)) ||
            !(r->peak[s] = am_malloc((size_t)K, sizeof(double), "O5 peaks", e)) ||
            !(r->peak_offset[s] = am_malloc((size_t)K, sizeof(int), "O5 offsets", e)) ||
            !(r->null_peak[s] = am_malloc((size_t)K, sizeof(double), "O5 null peaks", e)) ||
            !(r->pair_sens[s] = am_malloc((size_t)P, sizeof(double), "O4 pairs", e)))
            goto out;
        for (int k = 0; k < AM_OBS_NSTAT; k++)
            if (!(r->stat[s][k] = am_malloc(U * c->A, sizeof(double), "per-map statistics", e))) goto out;
        for (size_t u = 0; u < U; u++) r->band[s][u] = r->distance[s][u] = r->entropy[s][u] = r->sens[s][u] = NAN;
    }
    if (!(nullpk = am_malloc((size_t)AM_OBS_NROWS * (R + 1) * K, sizeof *nullpk, "O5 null peaks", e)) ||
        !(d = am_malloc((size_t)K + 1, sizeof *d, "per-head values", e)))
        goto out;
    if (obs_pass(c, o, r, nullpk, e)) goto out;

    for (int s = 0; s < AM_OBS_NROWS; s++) {
        am_obs_test *t = r->t[s];
        uint64_t st = (uint64_t)s << 8;
        /* O1, O3: mean contrasts over (pair, layer, head), clustered by pair */
        if (contrast_test(r->band[s], P, K, o, st | 0x10, -1, &t[AM_OBS_O1_BAND], e) ||
            contrast_test(r->distance[s], P, K, o, st | 0x12, +1, &t[AM_OBS_O1_DISTANCE], e) ||
            contrast_test(r->entropy[s], P, K, o, st | 0x30, +1, &t[AM_OBS_O3], e))
            goto out;
        /* O2: spread and stability of per-head sensitivity */
        if (o2_test(r->sens[s], P, K, o, &t[AM_OBS_O2], &r->sens_q10[s], &r->sens_q90[s], e)) goto out;
        /* O4: math against the mean of the other pairs, per head */
        for (int p = 0; p < P; p++) {
            double sum = 0;
            int n = 0;
            for (int k = 0; k < K; k++)
                if (isfinite(r->sens[s][(size_t)p * K + k])) sum += r->sens[s][(size_t)p * K + k], n++;
            r->pair_sens[s][p] = n ? sum / n : NAN;
        }
        for (int k = 0; k < K; k++) {
            double oth = 0;
            int n = 0;
            for (int p = 0; p < P; p++)
                if (p != r->math && isfinite(r->sens[s][(size_t)p * K + k])) oth += r->sens[s][(size_t)p * K + k], n++;
            d[k] = r->math >= 0 && n ? r->sens[s][(size_t)r->math * K + k] - oth / n : NAN;
        }
        if (head_test(d, K, o, st | 0x40, +1, &t[AM_OBS_O4], e)) goto out;
        /* O5: fixed-distance heads against the shuffled null */
        double frac_null = 0;
        int nh = 0;
        for (int k = 0; k < K; k++) {
            if (isnan(r->peak[s][k])) {
                d[k] = NAN;
                continue;
            }
            double ind = 0;
            for (int q = 1; q <= R; q++) ind += nullpk[((size_t)s * (R + 1) + q) * K + k] >= o->offset_mass;
            ind = R ? ind / R : NAN;
            d[k] = (r->peak[s][k] >= o->offset_mass) - ind;
            frac_null += ind, nh++;
        }
        r->null_frac[s] = nh ? frac_null / nh : NAN;
        am_obs_test *t5 = &t[AM_OBS_O5];
        if (head_test(d, K, o, st | 0x50, +1, t5, e)) goto out;
        if (nh && R) { /* p-value from the shuffles: fraction of fixed-distance heads, observed against each null */
            double obs = 0;
            for (int k = 0; k < K; k++)
                if (!isnan(r->peak[s][k])) obs += r->peak[s][k] >= o->offset_mass;
            obs /= nh;
            long long hits = 1;
            for (int q = 1; q <= R; q++) {
                double f = 0;
                for (int k = 0; k < K; k++)
                    if (!isnan(r->peak[s][k])) f += nullpk[((size_t)s * (R + 1) + q) * K + k] >= o->offset_mass;
                f /= nh;
                hits += fabs(f - r->null_frac[s]) >= fabs(obs - r->null_frac[s]) - 1e-12;
            }
            t5->p_value = (double)hits / (R + 1.0);
            t5->exact = 0;
            t5->verdict = am_obs_verdict(t5, o->p_max);
        }
        /* verdicts per observation; O1 needs both of its contrasts */
        int vb = t[AM_OBS_O1_BAND].verdict, vd = t[AM_OBS_O1_DISTANCE].verdict;
        r->verdict[s][0] = vb == vd                                             ? vb
                           : vb == AM_OBS_UNTESTABLE || vd == AM_OBS_UNTESTABLE ? AM_OBS_UNTESTABLE
                                                                                : AM_OBS_NOT_SUPPORTED;
        r->verdict[s][1] = t[AM_OBS_O2].verdict;
        r->verdict[s][2] = t[AM_OBS_O3].verdict;
        r->verdict[s][3] = r->math < 0 || P < 2 ? AM_OBS_UNTESTABLE : t[AM_OBS_O4].verdict;
        r->verdict[s][4] = t5->verdict;
        if (r->math < 0 || P < 2) t[AM_OBS_O4].verdict = AM_OBS_UNTESTABLE;
    }
    rc = 0;
out:
    free(nullpk), free(d);
    if (rc) am_obs_result_free(r);
    return rc;
}
