/* Head classes from the shape of attention patterns (docs/analysis.md,
 * "Head classes"): previous-token, first-token sink, diagonal (self),
 * fixed-offset, broad/uniform, and induction measured on a repeated random
 * token sequence. */
#ifndef AM_ANALYSIS_HEADS_H
#define AM_ANALYSIS_HEADS_H

#include <stdint.h>

#include "base/error.h"

enum {
    AM_HC_PREVIOUS = 0, /* mean A[q, q-1] */
    AM_HC_SINK,         /* mean A[q, 0] */
    AM_HC_DIAGONAL,     /* mean A[q, q] */
    AM_HC_OFFSET,       /* max over d >= 2 of the mean A[q, q-d] */
    AM_HC_BROAD,        /* mean normalised row entropy H_q / log(q + 1) */
    AM_HC_INDUCTION,    /* repeated random tokens: mean attention to the token after the first occurrence */
    AM_HC_N
};
#define AM_HC_MAP_N AM_HC_INDUCTION /* classes measured on the maps themselves */
#define AM_HC_THRESHOLD 0.5         /* a head's class needs a score >= this */

extern const char *const am_hc_names[AM_HC_N];

/* Pattern-shape scores of one map A [S, S] of valid size n, over rows
 * q in [2, n) (row 1's only earlier key is both the previous and the first
 * token): score[AM_HC_MAP_N] (NaN when n < 3), and the fixed-offset profile
 * off[d] = mean over rows q >= max(d, 2) of A[q, q-d] for d in [2, n) (NaN
 * elsewhere, and where fewer than (n-2)/2 rows have that offset); off may be
 * NULL. */
void am_hc_map_scores(const float *A, int S, int n, double *score, double *off);

/* Dominant class of a head: the index of its largest score (NaN skipped),
 * -1 ("mixed") when none reaches AM_HC_THRESHOLD. */
int am_hc_label(const double *score);
/* Name of a label (-1: "mixed"). */
const char *am_hc_label_name(int label);

/* Induction score of every head [L][H] of the checkpoint in dir: B sequences
 * of R distinct random tokens (ids 0 .. min(V, 151643) - 1, seeded) are each
 * repeated twice and run once; the score is the mean, over the second copy's
 * queries R + i (i = 0..R-1) and the sequences, of the attention to key i + 1
 * (the token after the first occurrence of the query's token). */
int am_hc_induction(const char *dir, int R, int B, uint64_t seed, int threads, double *score, am_err *e);

#endif
