/* Resampling for the observations (docs/analysis.md, "Observations"): a
 * seeded random stream, bootstrap draws that respect clusters (units sharing
 * one generation), percentile intervals, sign-flip and permutation tests, and
 * Spearman's rank correlation. Pure computation; every draw is a function of
 * (seed, draw number) only, so a reference can replay it. */
#ifndef AM_ANALYSIS_RESAMPLE_H
#define AM_ANALYSIS_RESAMPLE_H

#include <stdint.h>

/* splitmix64 stream (seed, stream). */
typedef struct am_rng {
    uint64_t s;
} am_rng;
void am_rng_seed(am_rng *r, uint64_t seed, uint64_t stream);
uint64_t am_rng_u64(am_rng *r);
/* Uniform integer in [0, n), n >= 1 (rejection: no modulo bias). */
int am_rng_below(am_rng *r, int n);

/* Quantile q in [0, 1] of sorted x [n] by linear interpolation between
 * order statistics (numpy.quantile's default, "linear"). NaN when n = 0. */
double am_quantile_sorted(const double *x, int n, double q);

/* Values grouped in C clusters: cluster c is x[start[c] .. start[c+1]).
 * Bootstrap draw b (stream (seed, b)): C clusters drawn with replacement,
 * then, inside each drawn cluster k, n_k of its values drawn with
 * replacement (two-stage cluster bootstrap). Writes the drawn indices into
 * idx (room for C times the largest cluster) and returns how many. With
 * clusters of one value each it is the ordinary bootstrap. */
int am_boot_draw(const int *start, int C, uint64_t seed, int b, int *idx);

/* Percentile interval at `level` (e.g. 0.95) of the mean of x over B
 * bootstrap draws (am_boot_draw): lo, hi = quantiles (1-level)/2 and
 * (1+level)/2 of the B draw means. boot [B] (may be NULL) receives the draw
 * means in draw order. -1 when out of memory. */
int am_boot_mean_ci(const double *x, const int *start, int C, int B, double level, uint64_t seed, double *lo,
                    double *hi, double *boot);

/* Sign-flip test of mean(x) = 0 with one sign per cluster (all values of a
 * cluster flipped together): the two-sided p-value, the fraction of sign
 * vectors whose |mean| reaches the observed |mean| (within 1e-12 of its
 * scale). Exact over all 2^C sign vectors when 2^C <= draws (sign of
 * cluster c in vector v: bit c of v, set = -1); else over the observed
 * vector and `draws` random ones (am_signflip_signs), p = (1 + count) /
 * (1 + draws). *exact receives which. */
double am_signflip_p(const double *x, const int *start, int C, int draws, uint64_t seed, int *exact);
/* The signs (+1/-1) [C] of random sign vector b of am_signflip_p: bit c of the first
 * draw of stream (seed, b) for c < 64, then of the next draws. */
void am_signflip_signs(int C, uint64_t seed, int b, int *sgn);

/* Random permutation r of [0, n) (Fisher-Yates on stream (seed, r)) into perm [n]. */
void am_perm_draw(int n, uint64_t seed, int r, int *perm);

/* Spearman's rank correlation of x, y [n] (average ranks for ties), over the
 * entries where both are finite; NaN when fewer than 3 or either is
 * constant. work [4n] doubles, iwork [n] ints. */
double am_spearman(const double *x, const double *y, int n, double *work, int *iwork);

#endif
