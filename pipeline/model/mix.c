/* alpha * E[a] + (1 - alpha) * E[b] (see mix.h). */
#include "model/mix.h"

#include <stdlib.h>

#include "model/runtime.h"

void am_mix_rows(float *out, const float *ea, const float *eb, double alpha, size_t D) {
    const float wa = (float)alpha, wb = (float)(1.0 - alpha);
    for (size_t i = 0; i < D; i++) out[i] = wa * ea[i] + wb * eb[i];
}

int am_mix_embed(const am_qwen3 *m, const int32_t *ids_a, const int32_t *ids_b, int T, double alpha, float *out,
                 am_err *e) {
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
        am_mix_rows(x, x, eb, alpha, D);
    }
    free(eb);
    return 0;
}
