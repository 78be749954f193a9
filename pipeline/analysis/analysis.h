/* Attention-map statistics and motif features (pure computation, no I/O).
 *
 * A map is an S x S float array (row-major, row q = query position q); only
 * its n x n top-left block is valid (n = the unit's length). Definitions are
 * in docs/analysis.md; in short:
 *   valid rows    q in [1, n) whose sum over keys [0, n) is > 0
 *                 (row 0 has a single key in a causal map, so it is skipped)
 *   row length    r_q = max(q + 1, 1 + last k < n with A[q,k] != 0)
 *   values are used as stored (rows are not renormalised), except in the
 *   Jensen-Shannon divergence, which normalises each compared row to sum 1.
 */
#ifndef AM_ANALYSIS_H
#define AM_ANALYSIS_H

#include <stddef.h>

#include "base/compare.h"

/* Motif feature vector, fixed length so maps of any size / model compare. */
enum {
    AM_AN_F_SINK = 0,       /* mean A[q,0] */
    AM_AN_F_DIAGONAL,       /* mean A[q,q] */
    AM_AN_F_PREVIOUS,       /* mean A[q,q-1] */
    AM_AN_F_BAND2,          /* mean mass on offsets 0..1 */
    AM_AN_F_BAND4,          /* mean mass on offsets 0..3 */
    AM_AN_F_BAND8,          /* mean mass on offsets 0..7 */
    AM_AN_F_DISTANCE_NORM,  /* mean over rows of sum_k A[q,k](q-k) / q */
    AM_AN_F_ENTROPY_NORM,   /* mean over rows of H_q / log(r_q) */
    AM_AN_F_ENTROPY_SPREAD, /* population std over rows of H_q / log(r_q) */
    AM_AN_F_OFFSET_MASS,    /* mass of the dominant relative offset */
    AM_AN_F_VBAR,           /* vertical-bar score */
    AM_AN_F_COLUMN_GINI,    /* Gini coefficient of the received column mass */
    AM_AN_F_MAX_MASS,       /* mean over rows of max_k A[q,k] */
    AM_AN_F_PREFIX_MASS,    /* mean mass on keys 1..3 */
    AM_AN_NFEAT
};

extern const char *const am_an_feature_names[AM_AN_NFEAT];

/* Per-map statistics. NaN where a statistic has no rows (n <= 1). */
typedef struct am_an_stats {
    int rows;           /* number of valid rows R */
    double entropy;     /* mean row entropy, nats */
    double sink;        /* mean A[q,0] */
    double diagonal;    /* mean A[q,q] */
    double previous;    /* mean A[q,q-1] */
    double band;        /* mean mass on offsets 0..w-1 (w = --band) */
    double distance;    /* mean over rows of sum_k A[q,k] (q - k) */
    int offset;         /* dominant relative offset d* (-1 when R = 0) */
    double offset_mass; /* m(d*) where m(d) = (1/R) sum_{valid q >= d} A[q,q-d] */
    double vbar;        /* max over keys k >= 1 seen by >= ceil(R/4) valid rows of
                            the mean of A[q,k] over the valid rows that see k */
    double feat[AM_AN_NFEAT];
} am_an_stats;

/* Work buffers for am_an_map_stats, sized for maps of side <= S. */
typedef struct am_an_work {
    int S;
    double *offset; /* [S] offset profile sums */
    double *column; /* [S] column mass sums */
    int *visible;   /* [S] number of valid rows seeing each key */
    double *sorted; /* [S] scratch for the Gini coefficient */
    double *entn;   /* [S] per-row normalised entropy */
} am_an_work;

int am_an_work_init(am_an_work *w, int S);
void am_an_work_free(am_an_work *w);

/* Statistics of one map A [S,S] with valid size n <= S, band width `band`.
 * entropy_by_q [S] (may be NULL) receives H_q for rows q < n with a positive
 * sum (row 0 included) and NaN elsewhere. */
void am_an_map_stats(const float *A, int S, int n, int band, am_an_work *w, am_an_stats *out, double *entropy_by_q);

/* Jensen-Shannon divergence (natural log) between maps A [S,S] (size na) and
 * B [S,S] (size nb), averaged over rows q in [1, min(na, nb)) where both rows
 * have positive mass on keys [0, min(na, nb)); each row is normalised to sum 1
 * over those keys. NaN when no row qualifies. */
double am_an_js_maps(const float *A, int na, const float *B, int nb, int S);

/* Mean and population variance over H maps X [H, S*S] into mean, var [S*S]. */
void am_an_head_moments(const float *X, int H, size_t SS, float *mean, float *var);

#endif
