/* forward: mixed embeddings -> prefill pass with attention capture
 * (prefill.h5: prompt maps and next-token logits of every unit). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/progress.h"
#include "h5/dims.h"
#include "h5/h5io.h"
#include "h5/maps.h"
#include "h5/schema.h"
#include "kernels.h"
#include "model/qwen3.h"
#include "model/runtime.h"
#include "stage/freeze.h"
#include "stage/memory_check.h"
#include "stage/mix_data.h"
#include "stage/provenance.h"
#include "stage/selection.h"
#include "stage/stage.h"
#include "stage/stamp.h"

/* State of the capture hook: where each (unit, layer) map goes. */
typedef struct fwd_capture {
    am_maps maps;
    const am_selection *sel;
    int A, T;   /* alphas; map size T_max */
    float *buf; /* [Hc][T][T] one padded map set */
} fwd_capture;

static int fwd_hook(void *ctx, int layer, int unit, int q0, int nq, int nk, const float *probs, am_err *e) {
    fwd_capture *fc = ctx;
    const int T = fc->T, Hc = fc->sel->Hc;
    memset(fc->buf, 0, (size_t)Hc * T * T * sizeof *fc->buf);
    for (int h = 0; h < Hc; h++)
        for (int i = 0; i < nq; i++)
            memcpy(fc->buf + ((size_t)h * T + q0 + i) * T, probs + ((size_t)h * nq + i) * nk,
                   (size_t)nk * sizeof(float));
    return am_maps_write(&fc->maps, unit / fc->A, unit % fc->A, fc->sel->index[layer], fc->buf, e);
}

int am_stage_forward(am_stage *s, const char *mix_path, const char *out_path, am_err *e) {
    const am_config *c = &s->cfg;
    int rc = -1, have_model = 0, P, A, T, U, V;
    am_qwen3 m;
    am_mix_data mx = {0};
    am_freeze_src fz = {0};
    am_freeze fhook = {0};
    am_selection sel = {0};
    am_runtime *rt = NULL;
    am_runtime_opts ro;
    uint64_t budget = 0; /* resident-weights budget, 0 = all mapped */
    am_h5_out out = {.file = H5I_INVALID_HID};
    fwd_capture fc = {
        .maps = {
            .dset = H5I_INVALID_HID, .fspace = H5I_INVALID_HID, .mspace = H5I_INVALID_HID, .ftype = H5I_INVALID_HID}};
    am_capture cap;
    am_progress pr;
    int *units = NULL, *lens = NULL; /* [U] */
    const float **emb = NULL;        /* [U] */
    float *logits = NULL;            /* [U][V] */
    int32_t *next = NULL;            /* [U] */
    hid_t d = H5I_INVALID_HID;
    char fp[17], mix_stamp[17], fkey[3000] = "", summary[256];
    am_stamp_ctx sx;

    if (am_qwen3_open(&m, s->model->checkpoint, e) < 0) return am_wrap(e, "model '%s'", s->model->name);
    have_model = 1;
    if (am_stamp_ctx_stage(&sx, s, m.fingerprint, e) < 0 ||
        am_stamp_input(&sx, AM_ST_EMBED_MIX, mix_path, mix_stamp, e) < 0)
        goto out;
    if (am_mix_load(mix_path, &m, &mx, e) < 0) goto out;
    if (s->freeze.enabled) {
        if (am_freeze_src_load(&fz, s, &m, 1, mx.P, mx.A, mx.plen, mx.alphas, e) < 0) goto out;
        am_freeze_src_key(&fz, s, fkey, sizeof fkey);
    }
    {
        const char *in[] = {mx.fingerprint};
        am_stamp_make(&sx, AM_ST_FORWARD, in, 1, fkey, fp);
    }
    if (am_stage_up_to_date(s, "forward", out_path, AM_SCHEMA_PREFILL, fp)) {
        rc = 0;
        goto out;
    }
    if (am_stage_check_weights(s, &m, e) < 0 || am_selection_init(&sel, c, &m, e) < 0) goto out;
    P = mx.P, A = mx.A, T = mx.T, U = P * A, V = m.cfg.vocab_size;
    /* prefill maps are written per (unit, layer): one [Hc][T][T] buffer */
    if (am_memory_check(s, &m, U, T, (uint64_t)sel.Hc * T * T * 4, "forward", &budget, e) < 0) goto out;
    ro = (am_runtime_opts){
        .max_units = U, .max_seq = T, .threads = s->threads ? s->threads : c->threads, .weights_budget = budget};
    if (am_stage_backend(s, &ro, e) < 0 || am_runtime_init(&rt, &m, &ro, e) < 0) goto out;
    am_stage_note_backend(s, am_runtime_kernel_name(rt));
    am_stage_note_weights(s, am_runtime_weights_note(rt));
    if (s->freeze.enabled) {
        fhook = (am_freeze){.fn = am_freeze_src_hook, .ctx = &fz, .layers = fz.lmask, .heads = fz.hmask};
        am_runtime_set_freeze(rt, &fhook);
    }

    if (am_h5_out_create(&out, out_path, e) < 0) goto out;
    if (am_maps_create(&fc.maps, out.file, "attention", P, A, sel.Lc, sel.Hc, T, c->store_f16, c->compression, e) < 0)
        goto out;
    fc.sel = &sel;
    fc.A = A;
    fc.T = T;
    if (!(fc.buf = am_malloc((size_t)sel.Hc * T * T, sizeof *fc.buf, "one unit's map set", e))) goto out;
    cap = (am_capture){.fn = fwd_hook, .ctx = &fc, .layers = sel.mask, .heads = sel.heads, .n_heads = sel.Hc};

    /* One ragged batch: every unit's prompt. */
    if (!(units = am_malloc((size_t)U, sizeof *units, "the unit list", e)) ||
        !(lens = am_malloc((size_t)U, sizeof *lens, "the prompt lengths", e)) ||
        !(emb = am_malloc((size_t)U, sizeof *emb, "the embedding pointers", e)) ||
        !(logits = am_malloc((size_t)U * V, sizeof *logits, "the logits", e)) ||
        !(next = am_malloc((size_t)U, sizeof *next, "the next tokens", e)))
        goto out;
    am_mix_units(&mx, rt, c->mask_pads, units, lens, emb);
    am_progress_start(&pr, "forward", s->model->name, "units", s->quiet);
    if (am_forward(rt, U, units, lens, emb, &cap, logits, e) < 0) {
        am_stage_nonfinite(s, rt, A, mx.alphas, e);
        goto out;
    }

    for (int u = 0; u < U; u++) next[u] = am_argmax_ref(logits + (size_t)u * V, V); /* greedy, lowest id on ties */
    {
        hsize_t dl[3] = {(hsize_t)P, (hsize_t)A, (hsize_t)V}, cl[3] = {1, 1, (hsize_t)V};
        hsize_t dPA[2] = {(hsize_t)P, (hsize_t)A};
        if ((d = am_h5_write(out.file, "logits", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 3, dl, cl, c->compression, logits,
                             e)) < 0)
            goto out;
        H5Dclose(d);
        if (am_h5_put(out.file, "next_token", H5T_NATIVE_INT32, H5T_STD_I32LE, 2, dPA, next, e)) goto out;
    }
    am_maps_close(&fc.maps);
    if (am_mix_copy_meta(mix_path, out.file, e) < 0 || am_selection_write(&sel, out.file, e) < 0) goto out;
    {
        const char *att[] = {"attention"}, *pa[] = {"attention", "logits", "next_token"};
        const int d0[] = {0, 0, 0}, d1[] = {1, 1, 1}, d2[] = {2}, d3[] = {3};
        if (am_h5_scale(out.file, "pair", "pair", pa, d0, 3, e) < 0 ||
            am_h5_scale(out.file, "alpha", "alpha", pa, d1, 3, e) < 0 ||
            am_h5_scale(out.file, "layer", "layer", att, d2, 1, e) < 0 ||
            am_h5_scale(out.file, "head", "head", att, d3, 1, e) < 0)
            goto out;
        static const am_h5_axis_rule axes[] = {{"attention", 4, "query"}, {"attention", 5, "key"},
                                               {"ids_", 0, "pair"},       {"ids_", 1, "token"},
                                               {"prompt_", 0, "pair"},    {"logits", 2, "vocab"}};
        if (am_h5_label_dims(out.file, axes, 6, e) < 0) goto out;
    }
    if (am_prov_write(out.file, s, AM_SCHEMA_PREFILL, fp, e) < 0 ||
        am_stamp_write(out.file, &sx, AM_ST_FORWARD, e) < 0 ||
        am_h5_attr_str(out.file, "mix_fingerprint", mx.fingerprint, e) < 0 ||
        am_h5_attr_str(out.file, "checkpoint_fingerprint", m.fingerprint, e) < 0 ||
        am_h5_attr_str(out.file, "storage_dtype", c->store_f16 ? "float16" : "float32", e) < 0 ||
        (s->freeze.enabled && am_freeze_src_write_attrs(&fz, s, out.file, e) < 0))
        goto out;
    if (am_h5_out_commit(&out, e) < 0) goto out;
    snprintf(summary, sizeof summary, "%d units, %d x %d maps of %d layers x %d heads%s -> %s", U, T, T, sel.Lc, sel.Hc,
             s->freeze.enabled ? " (frozen patterns)" : "", out_path);
    am_progress_end(&pr, summary);
    rc = 0;
out:
    am_h5_close(&d);
    am_maps_close(&fc.maps);
    if (rc < 0) am_h5_out_abort(&out);
    free(fc.buf);
    free(units);
    free(lens);
    free(emb);
    free(logits);
    free(next);
    am_runtime_free(rt);
    am_selection_free(&sel);
    am_freeze_src_free(&fz);
    am_mix_free(&mx);
    if (have_model) am_qwen3_close(&m);
    return rc;
}
