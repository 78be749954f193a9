/* The induction stage: each query head's induction score measured on the
 * model itself, written to OUT/<model>/induction.h5 (schema
 * attnmix.induction/1, docs/schema.md):
 *   /score float64 [L, H] (model layers x query heads), /layer and /head
 *   int32 dimension scales; root attributes model, checkpoint_fingerprint,
 *   induction_tokens, induction_seqs, seed and the provenance of every stage
 *   file.
 * B sequences of R distinct random tokens (ids 0 .. min(V, 151643) - 1,
 * drawn from the config's seed) are each repeated twice and run once; a
 * head's score is the mean, over the second copy's queries R + i
 * (i = 0..R-1) and the sequences, of its attention to key i + 1: the token
 * after the first occurrence of the query's token. */
#ifndef AM_STAGE_INDUCTION_H
#define AM_STAGE_INDUCTION_H

#include "stage/stage.h"

typedef struct am_induction_opts {
    int tokens; /* R, random tokens per sequence (>= 2; default 32) */
    int seqs;   /* B, sequences (>= 1; default 4) */
} am_induction_opts;

#define AM_INDUCTION_TOKENS 32
#define AM_INDUCTION_SEQS 4

/* Measure and write out_path atomically; up to date (nothing done) when it
 * exists with the fingerprint of the config, the checkpoint, R, B and seed. */
int am_stage_induction(am_stage *s, const am_induction_opts *o, const char *out_path, am_err *e);

#endif
