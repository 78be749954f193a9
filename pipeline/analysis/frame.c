/* The true frame of the published maps (frame.h). */
#include "analysis/frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int am_an_row_extent(const float *A, int S, int q) {
    const float *r = A + (size_t)q * S;
    int k = S;
    while (k > 0 && r[k - 1] == 0) k--;
    return k;
}

int am_an_frame_shift(const float *A, int S, int *last) {
    *last = -1;
    for (int q = S - 1; q >= 0; q--)
        if (am_an_row_extent(A, S, q) > 0) {
            *last = q;
            break;
        }
    int r1 = S > 1 ? am_an_row_extent(A, S, 1) : 0;
    return r1 > 2 ? r1 - 1 : 0;
}

int am_an_frame_realign(float *A, int S, int T, const char *what, am_err *e) {
    const size_t row = (size_t)S * sizeof *A;
    for (int i = S - 1; i >= 1; i--) { /* downwards: row T+i-1 >= i is free once rows above it moved */
        int r = am_an_row_extent(A, S, i), q = T + i - 1;
        if (r > q + 1)
            return am_fail_code(e, AM_E_CORRUPT,
                                "%s: row %d spans %d keys, more than the %d of decode step %d after a prompt of %d "
                                "tokens: not the documented row shift",
                                what, i, r, q + 1, i, T);
        if (q >= S) {
            if (r > 0)
                return am_fail_code(e, AM_E_CORRUPT, "%s: row %d (decode step %d) would move to row %d, past %d rows",
                                    what, i, i, q, S);
            continue;
        }
        memcpy(A + (size_t)q * S, A + (size_t)i * S, row);
    }
    for (int i = 1; i < T && i < S; i++) memset(A + (size_t)i * S, 0, row);
    return 0;
}

int am_an_frame_detect(am_cube *c, int32_t **shift, am_err *e) {
    const int P = c->P, A = c->A, H = c->H, S = c->S;
    const size_t SS = (size_t)S * S;
    int rc = -1, shifted = 0;
    *shift = NULL;
    if (!c->caveat) return 0;
    float *blk = am_malloc((size_t)A * H * SS, sizeof *blk, "a block of maps", e); /* [A,H,S,S] */
    int32_t *T = blk ? am_calloc((size_t)P * A, sizeof *T, "row shifts", e) : NULL;
    int32_t *n = T ? am_malloc((size_t)P * A, sizeof *n, "true-frame lengths", e) : NULL;
    if (!n) goto out;
    for (int p = 0; p < P; p++) {
        if (am_cube_read_block(c, p, 0, blk, e)) goto out;
        for (int a = 0; a < A; a++) { /* the longest row 1 and last row over the heads of the first layer */
            int u = p * A + a, last = -1;
            for (int h = 0; h < H; h++) {
                int lh, th = am_an_frame_shift(blk + ((size_t)a * H + h) * SS, S, &lh);
                if (th > T[u]) T[u] = th;
                if (lh > last) last = lh;
            }
            n[u] = c->length[u];
            if (T[u] > 0) shifted++, n[u] = T[u] + last < S ? T[u] + last : S;
        }
    }
    if (shifted && shifted < P * A) {
        am_fail_code(e, AM_E_CORRUPT,
                     "%s: %d of %d units have the row shift of the caveat and %d do not; expected all or none", c->path,
                     shifted, P * A, P * A - shifted);
        goto out;
    }
    if (shifted) {
        memcpy(c->length, n, (size_t)P * A * sizeof *n);
        if (!c->prompt_length) {
            if (!(c->prompt_length = am_malloc((size_t)P, sizeof *c->prompt_length, "prompt lengths", e))) goto out;
            for (int p = 0; p < P; p++) c->prompt_length[p] = T[p * A];
        }
        *shift = T;
        T = NULL;
    }
    rc = 0;
out:
    free(blk), free(T), free(n);
    return rc;
}

int am_an_read_block(const am_cube *c, const int32_t *shift, int p, int l, float *out, am_err *e) {
    const int A = c->A, H = c->H, S = c->S;
    char what[4200];
    if (am_cube_read_block(c, p, l, out, e)) return -1;
    if (!shift) return 0;
    for (int a = 0; a < A; a++)
        for (int h = 0; h < H; h++) {
            snprintf(what, sizeof what, "%s: pair '%s' alpha %g layer %d head %d", c->path, c->pair[p], c->alpha[a],
                     c->layer[l], c->head[h]);
            if (am_an_frame_realign(out + ((size_t)a * H + h) * S * S, S, shift[p * A + a], what, e)) return -1;
        }
    return 0;
}
