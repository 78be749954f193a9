/* Head classes from the shape of attention patterns (docs/analysis.md,
 * "Head classes"): previous-token, first-token sink, diagonal (self),
 * fixed-offset, broad/uniform, and induction (measured on repeated random
 * tokens by attnmix-induction, read from its file). */
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

/* An induction file (attnmix-induction, schema attnmix.induction/1): the
 * induction score of every head of a model, measured on B sequences of R
 * distinct random tokens each repeated twice (the mean, over the second
 * copy's queries R + i and the sequences, of the attention to key i + 1, the
 * token after the first occurrence of the query's token). */
typedef struct am_hc_induction {
    int L, H;      /* model layers x query heads */
    double *score; /* [L][H], NaN allowed */
    char *model, *checkpoint_fingerprint, *fingerprint;
    char *checkpoint;           /* checkpoint directory, "" when not recorded */
    int64_t tokens, seqs, seed; /* R, B and the seed of the random tokens */
} am_hc_induction;

/* Read and check an induction file (schema, /score float64 [L, H], root
 * attributes model, checkpoint_fingerprint, induction_tokens,
 * induction_seqs, seed, fingerprint). */
int am_hc_induction_read(const char *path, am_hc_induction *ind, am_err *e);
void am_hc_induction_free(am_hc_induction *ind);

#endif
