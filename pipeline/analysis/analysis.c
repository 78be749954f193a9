/* Attention-map statistics and motif features; definitions in analysis.h
 * and docs/analysis.md. All sums in double. */
#include "analysis/analysis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const am_an_feature_names[AM_AN_NFEAT] = {
    "sink",         "diagonal",       "previous",    "band2", "band4",       "band8",    "distance_norm",
    "entropy_norm", "entropy_spread", "offset_mass", "vbar",  "column_gini", "max_mass", "prefix_mass",
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
    if (!w->offset || !w->column || !w->visible || !w->sorted || !w->entn) {
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
