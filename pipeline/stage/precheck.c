/* Checks of a config before any stage runs (see precheck.h). */
#include <stdlib.h>
#include <string.h>

#include "model/qwen3.h"
#include "stage/memory_check.h"
#include "stage/precheck.h"
#include "stage/selection.h"
#include "stage/stamp.h"
#include "tokenizer/tokenizer.h"

int am_stage_precheck(const am_config *c, int i, am_err *e) {
    const am_model_cfg *mc = &c->models[i];
    am_qwen3 m;
    am_selection sel = {0};
    am_tokenizer *tok = NULL;
    char tok_path[4200], tok_fp[17];
    int rc = -1, T = 1;
    uint64_t maps = 0;
    const int N = c->max_new_tokens, A = c->n_alphas;
    if (am_qwen3_open(&m, mc->checkpoint, e) < 0) return am_wrap(e, "%s: model '%s'", c->path, mc->name);
    if (am_selection_init(&sel, c, &m, e) < 0) {
        am_wrap(e, "model '%s'", mc->name);
        goto out;
    }
    if (am_stamp_tokenizer(mc, tok_path, sizeof tok_path, tok_fp, e) < 0 || am_tok_load(&tok, tok_path, e) < 0)
        goto out;
    for (int p = 0; p < c->n_pairs; p++) {
        size_t len[2] = {0, 0};
        for (int k = 0; k < 2; k++) {
            int32_t *ids = NULL;
            const char *text = k ? c->pairs[p].b : c->pairs[p].a;
            if (am_tok_encode(tok, text, strlen(text), &ids, &len[k], e) < 0) {
                am_wrap(e, "%s: pair '%s' prompt %s", c->path, c->pairs[p].key, k ? "b" : "a");
                goto out;
            }
            free(ids);
        }
        const int Tp = (int)(len[0] > len[1] ? len[0] : len[1]);
        if ((int64_t)Tp + N > m.cfg.max_position_embeddings) {
            am_fail_code(e, AM_E_USAGE,
                         "%s: pair '%s' has %d prompt tokens + %d generated (generation.max_new_tokens) = %lld "
                         "positions, more than max_position_embeddings %d of model '%s' (%s/config.json): shorten "
                         "the prompts or lower generation.max_new_tokens",
                         c->path, c->pairs[p].key, Tp, N, (long long)Tp + N, m.cfg.max_position_embeddings, mc->name,
                         mc->checkpoint);
            goto out;
        }
        if (Tp > T) T = Tp;
        maps += (uint64_t)A * sel.Lc * sel.Hc * (uint64_t)(Tp + N) * (Tp + N + 1) / 2 * 4; /* generate's triangles */
    }
    {
        /* generate holds the most: every unit's maps until the cube is written */
        am_stage st;
        memset(&st, 0, sizeof st);
        st.cfg = *c;
        st.model = mc;
        uint64_t budget;
        if (am_memory_check(&st, &m, c->n_pairs * A, T + N + 1, maps, "generate", &budget, e) < 0) goto out;
    }
    rc = 0;
out:
    am_tok_free(tok);
    am_selection_free(&sel);
    am_qwen3_close(&m);
    return rc;
}
