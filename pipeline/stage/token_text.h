/* Token strings wherever positions are (docs/schema.md): each id decoded on
 * its own, and the cube's /tokens table of every unit's positions. */
#ifndef AM_TOKEN_TEXT_H
#define AM_TOKEN_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "tokenizer/tokenizer.h"

/* strs[i] = ids[i] decoded alone (am_tok_piece; "" for ids < 0), i < n.
 * On failure every strs[i] is NULL. Free with am_token_strs_free. */
int am_token_strs(const am_tokenizer *t, const int32_t *ids, size_t n, char **strs, am_err *e);
void am_token_strs_free(char **strs, size_t n);

/* The ids of every unit (pair p, alpha a) of a cube. */
typedef struct am_unit_ids {
    int P, A, T, N;
    const double *alpha;   /* [A] */
    const int32_t *ids_a;  /* [P][T] padded prompt a, -1 beyond T_p */
    const int32_t *ids_b;  /* [P][T] */
    const int32_t *plen;   /* [P] T_p */
    const int32_t *gen;    /* [P*A][N] generated ids, -1 padded */
    const int32_t *length; /* [P*A] T_p + generated count */
} am_unit_ids;

/* out [P][A][S] (P*A*S strings): position q < T_p of unit (p, a) shows the
 * token of prompt a where a and b agree or alpha = 1, of b at alpha = 0, and
 * "a|b" where they differ at a mixed alpha; T_p <= q < length the generated
 * token q - T_p; "" beyond the unit's length. Free with am_token_strs_free. */
int am_cube_tokens(const am_tokenizer *t, const am_unit_ids *u, int S, char **out, am_err *e);

#endif
