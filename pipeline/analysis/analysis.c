/* Attention-map statistics and motif features; definitions in analysis.h
 * and docs/analysis.md. All sums in double. */
#include "analysis/analysis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const am_an_feature_names[AM_AN_NFEAT] = {
    "sink",
    "diagonal",
    "previous",
    "band2",
    "band4",
    "band8",
    "distance_norm",
    "entropy_norm",
    "entropy_spread",
    "offset_mass",
    "vbar",
    "column_gini",
    "max_mass",
    "prefix_mass",
    "last_sink",
    "last_self",
    "last_max",
    "last_entropy_norm",
    "rowmax_std",
    "rowmax_skew",
    "rowmax_kurt",
    "rowmax_hist_entropy",
    "col_mean",
    "col_std",
    "col_skew",
    "col_kurt",
    "col_hist_entropy",
    "diag_slope",
    "diag_autocorr",
    "prev_slope",
    "prev_autocorr",
    "gram_self",
    "gram_cos",
    "gram_cos_next",
    "gram_purity",
};

int am_an_work_init(am_an_work *w, int S) {
    memset(w, 0, sizeof *w);
    size_t n = S > 0 ? (size_t)S : 1;
    w->S = S;
    w->offset = malloc(n * sizeof *w->offset);
    w->column = malloc(n * sizeof *w->column);
    w->visible = malloc(n * sizeof *w->visible);
    w->sorted = malloc(n * sizeof *w->sorted);
    w->entn = malloc(n * sizeof *w->entn);
    w->rmax = malloc(n * sizeof *w->rmax);
    w->dser = malloc(n * sizeof *w->dser);
    w->pser = malloc(n * sizeof *w->pser);
    w->xq = malloc(n * sizeof *w->xq);
    w->gdiag = malloc(n * sizeof *w->gdiag);
    w->vrow = malloc(n * sizeof *w->vrow);
    w->rlen = malloc(n * sizeof *w->rlen);
    if (!w->offset || !w->column || !w->visible || !w->sorted || !w->entn || !w->rmax || !w->dser || !w->pser ||
        !w->xq || !w->gdiag || !w->vrow || !w->rlen) {
        am_an_work_free(w);
        return -1;
    }
    return 0;
}

void am_an_work_free(am_an_work *w) {
    free(w->offset);
    free(w->column);
    free(w->visible);
    free(w->sorted);
    free(w->entn);
    free(w->rmax), free(w->dser), free(w->pser), free(w->xq), free(w->gdiag), free(w->vrow), free(w->rlen);
    memset(w, 0, sizeof *w);
}

/* Gini coefficient of x [n] (non-negative): sum_i (2i - n - 1) x_(i) / (n sum x),
 * i = 1..n over the ascending order. NaN when the sum is 0. */
static double gini(const double *x, int n, double *scratch) {
    memcpy(scratch, x, (size_t)n * sizeof *x);
    qsort(scratch, (size_t)n, sizeof *scratch, am_cmp_double);
    double num = 0, sum = 0;
    for (int i = 0; i < n; i++) {
        num += (2.0 * (i + 1) - n - 1) * scratch[i];
        sum += scratch[i];
    }
    return sum > 0 ? num / (n * sum) : NAN;
}

void am_an_moments(const double *x, int n, double *std, double *skew, double *kurt) {
    double m = 0, m2 = 0, m3 = 0, m4 = 0;
    if (n <= 0) {
        *std = *skew = *kurt = NAN;
        return;
    }
    for (int i = 0; i < n; i++) m += x[i];
    m /= n;
    for (int i = 0; i < n; i++) {
        double d = x[i] - m, d2 = d * d;
        m2 += d2, m3 += d2 * d, m4 += d2 * d2;
    }
    m2 /= n, m3 /= n, m4 /= n;
    *std = sqrt(m2);
    if (m2 <= 1e-20 * m * m || !(m2 > 0)) {
        *skew = *kurt = NAN;
        return;
    }
    *skew = m3 / (m2 * sqrt(m2));
    *kurt = m4 / (m2 * m2) - 3.0;
}

double am_an_hist_entropy(const double *x, int n) {
    int cnt[10] = {0}, tot = 0;
    for (int i = 0; i < n; i++) {
        double v = x[i];
        if (!(v >= 0 && v <= 1)) continue;
        int b = (int)(v * 10);
        if (b > 9) b = 9;
        while (b > 0 && v < b * 0.1) b--; /* numpy's edges: i * 0.1 */
        while (b < 9 && v >= (b + 1) * 0.1) b++;
        cnt[b]++, tot++;
    }
    if (!tot) return NAN;
    double h = 0;
    for (int b = 0; b < 10; b++)
        if (cnt[b]) {
            double p = (double)cnt[b] / tot;
            h -= p * log(p);
        }
    return h / log(10.0);
}

double am_an_slope(const double *x, const double *y, int n) {
    if (n < 2) return NAN;
    double mx = 0, my = 0, sxy = 0, sxx = 0;
    for (int i = 0; i < n; i++) mx += x[i], my += y[i];
    mx /= n, my /= n;
    for (int i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
    }
    return sxx > 0 ? sxy / sxx : NAN;
}

double am_an_autocorr(const double *y, int n) {
    if (n < 2) return NAN;
    double m = 0, num = 0, den = 0;
    for (int i = 0; i < n; i++) m += y[i];
    m /= n;
    for (int i = 0; i < n; i++) {
        den += (y[i] - m) * (y[i] - m);
        if (i + 1 < n) num += (y[i] - m) * (y[i + 1] - m);
    }
    if (!(den > 1e-20 * n * m * m) || !(den > 0)) return NAN;
    return num / den;
}

/* Dot product of two rows over keys [0, n). */
static double row_dot(const float *a, const float *b, int n) {
    double s = 0;
    for (int k = 0; k < n; k++) s += (double)a[k] * b[k];
    return s;
}

/* The Gram features of the R valid rows w->vrow of A (keys [0, n)): mean
 * G_qq, mean cosine over pairs q != r and over consecutive rows, purity. */
static void gram_features(const float *A, int S, int R, am_an_work *w, double *F) {
    double self = 0, cos = 0, cosn = 0, tr = 0, fro = 0;
    for (int i = 0; i < R; i++) {
        const float *a = A + (size_t)w->vrow[i] * S;
        w->gdiag[i] = row_dot(a, a, w->rlen[i]);
        self += w->gdiag[i], tr += w->gdiag[i], fro += w->gdiag[i] * w->gdiag[i];
    }
    for (int i = 0; i < R; i++) {
        const float *a = A + (size_t)w->vrow[i] * S;
        for (int j = i + 1; j < R; j++) {
            int len = w->rlen[i] < w->rlen[j] ? w->rlen[i] : w->rlen[j];
            double g = row_dot(a, A + (size_t)w->vrow[j] * S, len), c = g / sqrt(w->gdiag[i] * w->gdiag[j]);
            fro += 2 * g * g;
            cos += 2 * c;
            if (j == i + 1) cosn += c;
        }
    }
    F[AM_AN_F_GRAM_SELF] = self / R;
    F[AM_AN_F_GRAM_COS] = R > 1 ? cos / ((double)R * (R - 1)) : NAN;
    F[AM_AN_F_GRAM_COS_NEXT] = R > 1 ? cosn / (R - 1) : NAN;
    F[AM_AN_F_GRAM_PURITY] = fro / (tr * tr);
}

static double band_mass(const float *row, int q, int w) {
    double s = 0;
    int k0 = q - w + 1 < 0 ? 0 : q - w + 1;
    for (int k = k0; k <= q; k++) s += row[k];
    return s;
}

void am_an_map_stats(const float *A, int S, int n, int band, am_an_work *w, am_an_stats *out, double *entropy_by_q) {
    const double nan = NAN;
    memset(out, 0, sizeof *out);
    if (n > S) n = S;
    if (entropy_by_q)
        for (int q = 0; q < S; q++) entropy_by_q[q] = nan;
    for (int k = 0; k < S; k++) {
        w->offset[k] = 0;
        w->column[k] = 0;
        w->visible[k] = 0;
    }

    double s_ent = 0, s_sink = 0, s_diag = 0, s_prev = 0, s_band = 0, s_dist = 0;
    double s_b2 = 0, s_b4 = 0, s_b8 = 0, s_distn = 0, s_entn = 0, s_max = 0, s_pre = 0;
    int R = 0;
    for (int q = 0; q < n; q++) {
        const float *row = A + (size_t)q * S; /* [S] */
        double sum = 0, ent = 0, dist = 0, mx = 0;
        int last = -1;
        for (int k = 0; k < n; k++) {
            double a = row[k];
            if (a == 0) continue;
            sum += a;
            last = k;
            if (a > 0) ent -= a * log(a);
            dist += a * (double)(q - k);
            if (a > mx) mx = a;
        }
        if (!(sum > 0)) continue;
        if (entropy_by_q) entropy_by_q[q] = ent;
        if (q == 0) continue;
        int r = last + 1 > q + 1 ? last + 1 : q + 1; /* row length r_q */
        double entn = ent / log((double)r);
        w->entn[R] = entn;
        w->rmax[R] = mx;
        w->dser[R] = row[q];
        w->pser[R] = row[q - 1];
        w->xq[R] = (double)q / n;
        w->vrow[R] = q;
        w->rlen[R] = last + 1;
        R++;
        s_ent += ent;
        s_sink += row[0];
        s_diag += row[q];
        s_prev += row[q - 1];
        s_band += band_mass(row, q, band);
        s_b2 += band_mass(row, q, 2);
        s_b4 += band_mass(row, q, 4);
        s_b8 += band_mass(row, q, 8);
        s_dist += dist;
        s_distn += dist / q;
        s_entn += entn;
        s_max += mx;
        for (int k = 1; k <= 3 && k < n; k++) s_pre += row[k];
        for (int d = 0; d <= q; d++) w->offset[d] += row[q - d];
        for (int k = 0; k < n; k++) w->column[k] += row[k];
        for (int k = 0; k < r && k < n; k++) w->visible[k]++;
    }
    out->rows = R;
    if (R == 0) {
        out->entropy = out->sink = out->diagonal = out->previous = out->band = nan;
        out->distance = out->offset_mass = out->vbar = nan;
        out->offset = -1;
        for (int f = 0; f < AM_AN_NFEAT; f++) out->feat[f] = nan;
        return;
    }
    double iR = 1.0 / R;
    out->entropy = s_ent * iR;
    out->sink = s_sink * iR;
    out->diagonal = s_diag * iR;
    out->previous = s_prev * iR;
    out->band = s_band * iR;
    out->distance = s_dist * iR;

    /* dominant relative offset: argmax_d m(d), lowest d on ties */
    int best = 0;
    for (int d = 1; d < n; d++)
        if (w->offset[d] > w->offset[best]) best = d;
    out->offset = best;
    out->offset_mass = w->offset[best] * iR;

    /* vertical bar: keys k >= 1 seen by at least ceil(R/4) valid rows */
    int min_vis = (R + 3) / 4;
    double vbar = nan;
    for (int k = 1; k < n; k++) {
        if (w->visible[k] < min_vis || w->visible[k] == 0) continue;
        double m = w->column[k] / w->visible[k];
        if (isnan(vbar) || m > vbar) vbar = m;
    }
    out->vbar = vbar;

    double mean_entn = s_entn * iR, var_entn = 0;
    for (int i = 0; i < R; i++) var_entn += (w->entn[i] - mean_entn) * (w->entn[i] - mean_entn);
    var_entn *= iR;

    double *F = out->feat;
    F[AM_AN_F_SINK] = out->sink;
    F[AM_AN_F_DIAGONAL] = out->diagonal;
    F[AM_AN_F_PREVIOUS] = out->previous;
    F[AM_AN_F_BAND2] = s_b2 * iR;
    F[AM_AN_F_BAND4] = s_b4 * iR;
    F[AM_AN_F_BAND8] = s_b8 * iR;
    F[AM_AN_F_DISTANCE_NORM] = s_distn * iR;
    F[AM_AN_F_ENTROPY_NORM] = mean_entn;
    F[AM_AN_F_ENTROPY_SPREAD] = sqrt(var_entn);
    F[AM_AN_F_OFFSET_MASS] = out->offset_mass;
    F[AM_AN_F_VBAR] = vbar;
    F[AM_AN_F_COLUMN_GINI] = gini(w->column, n, w->sorted);
    F[AM_AN_F_MAX_MASS] = s_max * iR;
    F[AM_AN_F_PREFIX_MASS] = s_pre * iR;

    /* the last valid row */
    {
        int q = w->vrow[R - 1];
        const float *row = A + (size_t)q * S;
        F[AM_AN_F_LAST_SINK] = row[0];
        F[AM_AN_F_LAST_SELF] = row[q];
        F[AM_AN_F_LAST_MAX] = w->rmax[R - 1];
        F[AM_AN_F_LAST_ENTROPY_NORM] = w->entn[R - 1];
    }
    /* row maxima and received attention as distributions */
    am_an_moments(w->rmax, R, &F[AM_AN_F_ROWMAX_STD], &F[AM_AN_F_ROWMAX_SKEW], &F[AM_AN_F_ROWMAX_KURT]);
    F[AM_AN_F_ROWMAX_HENTROPY] = am_an_hist_entropy(w->rmax, R);
    {
        int nu = 0;
        double su = 0;
        for (int k = 0; k < n; k++)
            if (w->visible[k] > 0) {
                w->sorted[nu] = w->column[k] / w->visible[k];
                su += w->sorted[nu++];
            }
        F[AM_AN_F_COL_MEAN] = nu ? su / nu : nan;
        am_an_moments(w->sorted, nu, &F[AM_AN_F_COL_STD], &F[AM_AN_F_COL_SKEW], &F[AM_AN_F_COL_KURT]);
        F[AM_AN_F_COL_HENTROPY] = am_an_hist_entropy(w->sorted, nu);
    }
    /* the diagonal and previous-token lines as series */
    F[AM_AN_F_DIAG_SLOPE] = am_an_slope(w->xq, w->dser, R);
    F[AM_AN_F_DIAG_AUTOCORR] = am_an_autocorr(w->dser, R);
    F[AM_AN_F_PREV_SLOPE] = am_an_slope(w->xq, w->pser, R);
    F[AM_AN_F_PREV_AUTOCORR] = am_an_autocorr(w->pser, R);
    gram_features(A, S, R, w, F);
}

double am_an_js_maps(const float *A, int na, const float *B, int nb, int S) {
    int n = na < nb ? na : nb;
    if (n > S) n = S;
    double total = 0;
    int rows = 0;
    for (int q = 1; q < n; q++) {
        const float *a = A + (size_t)q * S, *b = B + (size_t)q * S; /* [S] each */
        double sa = 0, sb = 0;
        for (int k = 0; k < n; k++) {
            sa += a[k];
            sb += b[k];
        }
        if (!(sa > 0) || !(sb > 0)) continue;
        double js = 0;
        for (int k = 0; k < n; k++) {
            double p = a[k] / sa, r = b[k] / sb, m = 0.5 * (p + r);
            if (p > 0) js += 0.5 * p * log(p / m);
            if (r > 0) js += 0.5 * r * log(r / m);
        }
        total += js;
        rows++;
    }
    return rows ? total / rows : NAN;
}

void am_an_generated_rows(const float *M, int S, int n, int T, float *G) {
    if (n > S) n = S;
    const int t = T < 0 ? 0 : T < n ? T : n;
    const size_t row = (size_t)S * sizeof *G;
    if (t > 0) memset(G, 0, (size_t)t * row);
    if (n > t) memcpy(G + (size_t)t * S, M + (size_t)t * S, (size_t)(n - t) * row);
}

void am_an_rowset_stats(const float *M, const float *G, int S, int n, int T, int rs, int band, am_an_work *w,
                        am_an_stats *out) {
    if (rs == AM_AN_ROWS_PROMPT) am_an_map_stats(M, S, T < n ? (T > 0 ? T : 0) : n, band, w, out, NULL);
    else am_an_map_stats(rs == AM_AN_ROWS_GENERATED ? G : M, S, n, band, w, out, NULL);
}

double am_an_rowset_js(const float *M, const float *GM, int nm, const float *B, const float *GB, int nb, int S, int T,
                       int rs) {
    if (rs == AM_AN_ROWS_PROMPT) {
        const int t = T > 0 ? T : 0;
        return am_an_js_maps(M, t < nm ? t : nm, B, t < nb ? t : nb, S);
    }
    if (rs == AM_AN_ROWS_GENERATED) return am_an_js_maps(GM, nm, GB, nb, S);
    return am_an_js_maps(M, nm, B, nb, S);
}

void am_an_head_moments(const float *X, int H, size_t SS, float *mean, float *var) {
    for (size_t i = 0; i < SS; i++) {
        double s = 0, s2 = 0;
        for (int h = 0; h < H; h++) s += X[(size_t)h * SS + i];
        double m = s / H;
        for (int h = 0; h < H; h++) {
            double d = X[(size_t)h * SS + i] - m;
            s2 += d * d;
        }
        mean[i] = (float)m;
        var[i] = (float)(s2 / H);
    }
}
