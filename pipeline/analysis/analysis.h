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
    /* the last valid row (the last token's attention) */
    AM_AN_F_LAST_SINK,         /* A[q*,0] */
    AM_AN_F_LAST_SELF,         /* A[q*,q*] */
    AM_AN_F_LAST_MAX,          /* max_k A[q*,k] */
    AM_AN_F_LAST_ENTROPY_NORM, /* H_q* / log(r_q*) */
    /* row maxima m_q = max_k A[q,k] as a distribution (mean: max_mass) */
    AM_AN_F_ROWMAX_STD,      /* population std */
    AM_AN_F_ROWMAX_SKEW,     /* population skewness m3 / m2^1.5 */
    AM_AN_F_ROWMAX_KURT,     /* excess kurtosis m4 / m2^2 - 3 */
    AM_AN_F_ROWMAX_HENTROPY, /* entropy of a 10-bin histogram on [0, 1] / log 10 */
    /* received attention u_k = column mass / rows that see key k, as a distribution */
    AM_AN_F_COL_MEAN,
    AM_AN_F_COL_STD,
    AM_AN_F_COL_SKEW,
    AM_AN_F_COL_KURT,
    AM_AN_F_COL_HENTROPY,
    /* the diagonal A[q,q] and previous-token line A[q,q-1] as series over the valid rows */
    AM_AN_F_DIAG_SLOPE,    /* least-squares slope against q / n */
    AM_AN_F_DIAG_AUTOCORR, /* lag-1 autocorrelation */
    AM_AN_F_PREV_SLOPE,
    AM_AN_F_PREV_AUTOCORR,
    /* the Gram matrix G = A A^T of the valid rows (keys [0, n)) */
    AM_AN_F_GRAM_SELF,     /* mean G_qq (1 for one-hot rows, 1/r_q for uniform ones) */
    AM_AN_F_GRAM_COS,      /* mean cosine G_qr / sqrt(G_qq G_rr) over pairs q != r */
    AM_AN_F_GRAM_COS_NEXT, /* the same over consecutive valid rows */
    AM_AN_F_GRAM_PURITY,   /* sum_qr G_qr^2 / (sum_q G_qq)^2 = sum of squared eigenvalues / trace^2 */
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
    double *rmax;   /* [S] row maxima of the valid rows */
    double *dser;   /* [S] diagonal series */
    double *pser;   /* [S] previous-token series */
    double *xq;     /* [S] q / n of the valid rows */
    double *gdiag;  /* [S] G_qq of the valid rows */
    int *vrow;      /* [S] the valid rows */
    int *rlen;      /* [S] 1 + last non-zero key of each valid row */
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

/* Row sets of a map whose unit has prompt length T (the cube's
 * /prompt_length; docs/analysis.md, "Prompt and generated rows"):
 *   all        every row: the map as it is
 *   prompt     rows q < T: the map cut to its top-left min(T, n) block (in a
 *              causal map the prompt rows see only prompt keys)
 *   generated  rows q >= T: the map with its rows < T emptied (empty rows
 *              are no valid rows), keys [0, n) as in all */
enum { AM_AN_ROWS_ALL = 0, AM_AN_ROWS_PROMPT, AM_AN_ROWS_GENERATED, AM_AN_NROWSETS };

/* The generated rows of map M [S,S] (valid n) into G [S,S]: rows < min(T, n)
 * zero, rows [T, n) copied; rows >= n are not written (no statistic reads
 * them). */
void am_an_generated_rows(const float *M, int S, int n, int T, float *G);

/* am_an_map_stats of map M (valid n) over row set rs for prompt length T;
 * G holds M's generated rows (am_an_generated_rows) when rs is generated
 * and is not read otherwise. The statistics are NaN (offset -1) when the
 * set has no valid row. */
void am_an_rowset_stats(const float *M, const float *G, int S, int n, int T, int rs, int band, am_an_work *w,
                        am_an_stats *out);

/* am_an_js_maps of maps M (valid nm) and B (valid nb) over row set rs for
 * prompt length T: prompt rows compare the min(T, n) blocks, generated rows
 * the maps' generated rows GM and GB (read only then). */
double am_an_rowset_js(const float *M, const float *GM, int nm, const float *B, const float *GB, int nb, int S, int T,
                       int rs);

/* Moments of x [n] for the distribution features: population std, skewness
 * m3 / m2^1.5 and excess kurtosis m4 / m2^2 - 3 (scipy.stats skew/kurtosis
 * with bias); skewness and kurtosis are NaN when m2 <= 1e-20 mean^2 (a
 * constant series), all three NaN for n = 0. */
void am_an_moments(const double *x, int n, double *std, double *skew, double *kurt);
/* Entropy of the 10-bin histogram of x [n] on [0, 1] (bins as numpy.histogram
 * with range (0, 1): [i/10, (i+1)/10), the last one closed) divided by log 10;
 * values outside [0, 1] are not counted. NaN when nothing is counted. */
double am_an_hist_entropy(const double *x, int n);
/* Least-squares slope of y on x [n] (NaN when n < 2 or x is constant). */
double am_an_slope(const double *x, const double *y, int n);
/* Lag-1 autocorrelation sum_i (y_i - m)(y_i+1 - m) / sum_i (y_i - m)^2 of y
 * [n] (NaN when n < 2 or the sum of squares <= 1e-20 n m^2). */
double am_an_autocorr(const double *y, int n);

/* Mean and population variance over H maps X [H, S*S] into mean, var [S*S]. */
void am_an_head_moments(const float *X, int H, size_t SS, float *mean, float *var);

#endif
