/* The true frame of the published maps (docs/analysis.md, "Frame"). The maps
 * published with the original study were assembled with decode step i
 * written to row i instead of row T + i - 1 (T = prompt length): row 0 is
 * the prompt's first row, row i >= 1 holds the query at position T + i - 1
 * over its T + i keys, and the prompt rows 1..T-1 are lost. Such a cube
 * carries a root attribute `caveat`; its row 1 then spans T + 1 > 2 keys,
 * which no causal map does. Realigning moves every row i >= 1 to row
 * T + i - 1, leaves rows 1..T-1 empty, and makes the unit's length
 * T + (last non-empty row). */
#ifndef AM_ANALYSIS_FRAME_H
#define AM_ANALYSIS_FRAME_H

#include <stdint.h>

#include "base/error.h"
#include "h5/cube_read.h"

/* Row extent r of row q of map A [S, S]: 1 + the last key with A[q, k] != 0, 0 for an empty row. */
int am_an_row_extent(const float *A, int S, int q);

/* The shift of one map: T = extent of row 1 - 1 when that is > 1 (row 1 spans
 * more than 2 keys), else 0 (the map is in its true frame). *last receives
 * the last non-empty row (-1 when none). */
int am_an_frame_shift(const float *A, int S, int *last);

/* Move the rows of map A [S, S] into their true frame for prompt length T
 * (> 1): row i >= 1 to row T + i - 1, rows 1..T-1 emptied. -1 with a message
 * naming `what` when a row is not of the documented shift (a key beyond
 * T + i - 1, or a non-empty row that would fall past S). */
int am_an_frame_realign(float *A, int S, int T, const char *what, am_err *e);

/* Detection on a cube: when it carries `caveat`, the shift T of every unit
 * (p, a) from the maps of its first layer (the longest row 1 of its heads:
 * a previous-token head's row 1 alone would say T - 1) into shift [P*A] (allocated; NULL when the cube
 * is in its true frame, or has no caveat), the unit lengths in c->length set
 * to their true-frame values and c->prompt_length (when absent) to T. */
int am_an_frame_detect(am_cube *c, int32_t **shift, am_err *e);

/* am_cube_read_block, then each map moved into its true frame when shift
 * (from am_an_frame_detect) is not NULL. */
int am_an_read_block(const am_cube *c, const int32_t *shift, int p, int l, float *out, am_err *e);

#endif
