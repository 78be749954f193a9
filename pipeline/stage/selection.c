/* Which layers and heads a run captures. */
#include <stdlib.h>

#include "h5/h5io.h"
#include "model/qwen3.h"
#include "stage/selection.h"

int am_selection_init(am_selection *sel, const am_config *c, const am_qwen3 *m, am_err *e) {
    const int L = m->cfg.num_hidden_layers, H = m->cfg.num_attention_heads;
    sel->Lc = c->layers ? c->n_layers : L;
    sel->Hc = c->heads ? c->n_heads : H;
    sel->layers = am_malloc((size_t)sel->Lc, sizeof *sel->layers, "the captured layers", e); /* [Lc] */
    sel->heads = am_malloc((size_t)sel->Hc, sizeof *sel->heads, "the captured heads", e);    /* [Hc] */
    sel->index = am_malloc((size_t)L, sizeof *sel->index, "the layer index", e);             /* [L] */
    sel->mask = am_calloc((size_t)L, 1, "the layer mask", e);                                /* [L] */
    if (!sel->layers || !sel->heads || !sel->index || !sel->mask) {
        am_selection_free(sel);
        return -1;
    }
    for (int l = 0; l < L; l++) sel->index[l] = -1;
    for (int i = 0; i < sel->Lc; i++) {
        int l = c->layers ? c->layers[i] : i;
        if (l < 0 || l >= L) {
            am_selection_free(sel);
            return am_fail_code(e, AM_E_USAGE, "%s: capture.layers[%d] = %d but the model has %d layers (0..%d)",
                                c->path, i, l, L, L - 1);
        }
        sel->layers[i] = l;
        sel->index[l] = i;
        sel->mask[l] = 1;
    }
    for (int i = 0; i < sel->Hc; i++) {
        int h = c->heads ? c->heads[i] : i;
        if (h < 0 || h >= H) {
            am_selection_free(sel);
            return am_fail_code(e, AM_E_USAGE, "%s: capture.heads[%d] = %d but the model has %d query heads (0..%d)",
                                c->path, i, h, H, H - 1);
        }
        sel->heads[i] = h;
    }
    return 0;
}

void am_selection_free(am_selection *sel) {
    free(sel->layers);
    free(sel->heads);
    free(sel->index);
    free(sel->mask);
    sel->layers = sel->heads = sel->index = NULL;
    sel->mask = NULL;
}

int am_selection_write(const am_selection *sel, hid_t file, am_err *e) {
    hsize_t dl[1] = {(hsize_t)sel->Lc}, dh[1] = {(hsize_t)sel->Hc};
    if (am_h5_put(file, "layer", H5T_NATIVE_INT, H5T_STD_I32LE, 1, dl, sel->layers, e) ||
        am_h5_put(file, "head", H5T_NATIVE_INT, H5T_STD_I32LE, 1, dh, sel->heads, e))
        return -1;
    return 0;
}
