/* Token strings of prompts and cubes (token_text.h). */
#include "stage/token_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void am_token_strs_free(char **strs, size_t n) {
    if (!strs) return;
    for (size_t i = 0; i < n; i++) free(strs[i]), strs[i] = NULL;
}

int am_token_strs(const am_tokenizer *t, const int32_t *ids, size_t n, char **strs, am_err *e) {
    for (size_t i = 0; i < n; i++) strs[i] = NULL;
    for (size_t i = 0; i < n; i++)
        if (am_tok_piece(t, ids[i], &strs[i], e) < 0) {
            am_token_strs_free(strs, n);
            return am_wrap(e, "token string of id %d", ids[i]);
        }
    return 0;
}

/* "a|b" of two malloc'd strings (freed here), or NULL. */
static char *joined(char *a, char *b) {
    char *r = NULL;
    if (a && b) {
        size_t k = strlen(a) + strlen(b) + 2;
        if ((r = malloc(k))) snprintf(r, k, "%s|%s", a, b);
    }
    free(a), free(b);
    return r;
}

int am_cube_tokens(const am_tokenizer *t, const am_unit_ids *u, int S, char **out, am_err *e) {
    const size_t n = (size_t)u->P * u->A * S;
    for (size_t i = 0; i < n; i++) out[i] = NULL;
    for (int p = 0; p < u->P; p++)
        for (int a = 0; a < u->A; a++) {
            const int unit = p * u->A + a, tp = u->plen[p], len = u->length[unit];
            const double al = u->alpha[a];
            char **row = out + (size_t)unit * S;
            for (int q = 0; q < S; q++) {
                char *sa = NULL, *sb = NULL;
                int rc = 0;
                if (q < tp && q < u->T) {
                    const int32_t ia = u->ids_a[(size_t)p * u->T + q], ib = u->ids_b[(size_t)p * u->T + q];
                    if (ia == ib || al >= 1.0) rc = am_tok_piece(t, ia, &row[q], e);
                    else if (al <= 0.0) rc = am_tok_piece(t, ib, &row[q], e);
                    else if ((rc = am_tok_piece(t, ia, &sa, e)) == 0 && (rc = am_tok_piece(t, ib, &sb, e)) == 0) {
                        if (!(row[q] = joined(sa, sb))) rc = am_fail_code(e, AM_E_NOMEM, "out of memory");
                        sa = sb = NULL;
                    }
                } else if (q < len && q - tp < u->N) {
                    rc = am_tok_piece(t, u->gen[(size_t)unit * u->N + (q - tp)], &row[q], e);
                } else if (!(row[q] = strdup(""))) rc = am_fail_code(e, AM_E_NOMEM, "out of memory");
                free(sa), free(sb);
                if (rc < 0) {
                    am_token_strs_free(out, n);
                    return am_wrap(e, "token strings of pair %d, alpha %g, position %d", p, al, q);
                }
            }
        }
    return 0;
}
