/* Non-finite values (NaN, +-inf) in weights and activations: one pass over
 * the stored bits (an exponent of all ones), which the compiler vectorises. */
#ifndef AM_FINITE_H
#define AM_FINITE_H

#include <stddef.h>
#include <stdint.h>

#include "model/qwen3.h"

/* Index of the first non-finite element of x[n] stored as dt, or -1. */
int64_t am_first_nonfinite(const void *x, am_dtype dt, size_t n);

/* Every tensor of the checkpoint: fails (AM_E_CORRUPT) naming the shard, the
 * tensor, the first non-finite index (as a multi-index into its shape) and
 * its value, with the opt-out (ATTNMIX_ALLOW_NONFINITE=1) as hint. */
int am_qwen3_check_finite(const am_qwen3 *m, am_err *e);

/* The opt-out for studying broken checkpoints, ATTNMIX_ALLOW_NONFINITE:
 * "weights": the checkpoint is not scanned, but a run still stops where a
 * non-finite value first appears (to find where a broken weight surfaces);
 * "1": neither (NaN flows into the outputs). Returns 0 (unset: both checks),
 * 1 ("weights") or 2 ("1"). */
int am_allow_nonfinite(void);

/* A non-finite value as messages print it: "nan" (whatever its sign bit, which
 * depends on the order of the arithmetic that made it), "inf" or "-inf". */
const char *am_nonfinite_name(double v);

#endif
