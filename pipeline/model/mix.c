/* alpha * E[a] + (1 - alpha) * E[b] (see mix.h). */
#include "model/mix.h"

#include <math.h>
#include <stdlib.h>

#include "model/runtime.h"

void am_mix_rows(float *out, const float *ea, const float *eb, double alpha, size_t D) {
    const float wa = (float)alpha, wb = (float)(1.0 - alpha);
    for (size_t i = 0; i < D; i++) out[i] = wa * ea[i] + wb * eb[i];
}

void am_mix_rows_mode(float *out, const float *ea, const float *eb, double alpha, size_t D, am_mix_mode mode) {
    double aa = 0, bb = 0, ab = 0;
    if (mode == AM_MIX_LINEAR) {
        am_mix_rows(out, ea, eb, alpha, D);
        return;
    }
    for (size_t i = 0; i < D; i++) {
        aa += (double)ea[i] * ea[i];
        bb += (double)eb[i] * eb[i];
        ab += (double)ea[i] * eb[i];
    }
    double wa = alpha, wb = 1.0 - alpha, scale = 1.0;
    if (mode == AM_MIX_SLERP) {
        double na = sqrt(aa), nb = sqrt(bb), c = na > 0 && nb > 0 ? ab / (na * nb) : 1.0;
        if (c > 1) c = 1;
        if (c < -1) c = -1;
        double t = acos(c), st = sin(t);
        if (st >= 1e-7) wa = sin(alpha * t) / st, wb = sin((1.0 - alpha) * t) / st;
    } else { /* AM_MIX_NORM: |wa a + wb b|^2 from the three dot products */
        double mm = wa * wa * aa + 2 * wa * wb * ab + wb * wb * bb, target = wa * sqrt(aa) + wb * sqrt(bb);
        if (mm > 0) scale = target / sqrt(mm);
    }
    for (size_t i = 0; i < D; i++) out[i] = (float)(scale * (wa * ea[i] + wb * eb[i]));
}

int am_mix_embed(const am_qwen3 *m, const int32_t *ids_a, const int32_t *ids_b, int T, double alpha, float *out,
                 am_err *e) {
    return am_mix_embed_mode(m, ids_a, ids_b, T, alpha, AM_MIX_LINEAR, out, e);
}

int am_mix_embed_mode(const am_qwen3 *m, const int32_t *ids_a, const int32_t *ids_b, int T, double alpha,
                      am_mix_mode mode, float *out, am_err *e) {
    const size_t D = (size_t)m->cfg.hidden_size;
    for (int t = 0; t < T; t++)
        for (int k = 0; k < 2; k++) {
            int32_t id = (k ? ids_b : ids_a)[t];
            if (id < 0 || id >= m->cfg.vocab_size)
                return am_fail_code(e, AM_E_CORRUPT,
                                    "mix: prompt %s token %d has id %d outside the vocabulary "
                                    "(vocab_size %d)",
                                    k ? "b" : "a", t, id, m->cfg.vocab_size);
        }
    float *eb = am_malloc(D, sizeof *eb, "one embedding row", e); /* [D] */
    if (!eb) return -1;
    for (int t = 0; t < T; t++) {
        float *x = out + (size_t)t * D;
        am_embed_lookup(m, ids_a[t], x);
        am_embed_lookup(m, ids_b[t], eb);
        am_mix_rows_mode(x, x, eb, alpha, D, mode);
    }
    free(eb);
    return 0;
}
