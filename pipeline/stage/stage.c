#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/hash.h"
#include "h5/h5io.h"
#include "kernels_cuda.h"
#include "model/finite.h"
#include "model/runtime.h"
#include "stage/stage.h"

int am_stage_init(am_stage *s, const char *config_path, const char *model_name, am_err *e) {
    memset(s, 0, sizeof *s);
    if (am_config_load(&s->cfg, config_path, e) < 0) return -1;
    for (int i = 0; i < s->cfg.n_models; i++)
        if (!model_name || strcmp(s->cfg.models[i].name, model_name) == 0) {
            s->model = &s->cfg.models[i];
            break;
        }
    if (!s->model) {
        am_fail_code(e, AM_E_USAGE, "%s: no model named '%s' (models:", config_path, model_name);
        for (int i = 0; i < s->cfg.n_models; i++) {
            size_t n = strlen(e->msg);
            snprintf(e->msg + n, sizeof e->msg - n, " %s", s->cfg.models[i].name);
        }
        size_t n = strlen(e->msg);
        snprintf(e->msg + n, sizeof e->msg - n, ")");
        am_config_free(&s->cfg);
        return -1;
    }
    if (s->model->hub_missing) { /* a hub id that is not in the Hugging Face cache */
        am_fail_code(e, AM_E_NOTFOUND, "%s", s->model->hub_missing);
        am_config_free(&s->cfg);
        return -1;
    }
    snprintf(s->out_dir, sizeof s->out_dir, "%s/%s", s->cfg.output_dir, s->model->name);
    am_hash_hex(am_fnv1a(AM_FNV_INIT, s->cfg.text, s->cfg.text_len), s->config_hash);
    return am_mkdirs(s->out_dir, e);
}

int am_stage_select_pair(am_stage *s, const char *key, am_err *e) {
    am_config *c = &s->cfg;
    int found = -1;
    for (int p = 0; p < c->n_pairs; p++)
        if (strcmp(c->pairs[p].key, key) == 0) found = p;
    if (found < 0) return am_fail_code(e, AM_E_USAGE, "%s: no pair with key '%s'", c->path, key);
    /* Keep the selected pair first and free none: am_config_free frees all n. */
    am_pair_cfg keep = c->pairs[found];
    c->pairs[found] = c->pairs[0];
    c->pairs[0] = keep;
    s->n_pairs_all = c->n_pairs;
    c->n_pairs = 1;
    snprintf(s->out_dir, sizeof s->out_dir, "%s/%s/pairs/%s", c->output_dir, s->model->name, key);
    return am_mkdirs(s->out_dir, e);
}

void am_stage_free(am_stage *s) {
    if (s->n_pairs_all) s->cfg.n_pairs = s->n_pairs_all; /* free every pair */
    am_config_free(&s->cfg);
}

void am_stage_path(const am_stage *s, const char *file, char *out, size_t n) {
    snprintf(out, n, "%s/%s", s->out_dir, file);
}

int am_stage_backend(const am_stage *s, am_runtime_opts *o, am_err *e) {
    o->backend = AM_RT_CPU;
    o->cuda_f32 = s->cfg.cuda_f32;
    /* auto stays on the CPU until the CUDA backend has been validated on a GPU (docs/cuda.md) */
    if (s->cfg.backend != AM_BACKEND_CUDA) return 0;
    char why[256];
    if (!am_cuda_available(why, sizeof why))
        return am_fail(e, "%s: backend: cuda, but %s; hint: backend: cpu (or auto)", s->cfg.path, why);
    o->backend = AM_RT_CUDA;
    return 0;
}

void am_stage_note_backend(am_stage *s, const char *runtime_name) {
    if (strncmp(runtime_name, "cuda", 4) == 0) snprintf(s->backend_used, sizeof s->backend_used, "%s", runtime_name);
    else snprintf(s->backend_used, sizeof s->backend_used, "cpu (%s kernels)", runtime_name);
}

int am_stage_check_weights(const am_stage *s, const am_qwen3 *m, am_err *e) {
    if (am_allow_nonfinite()) return 0;
    if (am_qwen3_check_finite(m, e) < 0) return am_wrap(e, "model '%s'", s->model->name);
    return 0;
}

int am_stage_nonfinite(const am_stage *s, const am_runtime *rt, int A, const double *alphas, am_err *e) {
    int u, l, pos;
    if (!rt || !am_runtime_nonfinite(rt, &u, &l, &pos) || A < 1 || u / A >= s->cfg.n_pairs) return -1;
    char where[64];
    if (l >= 0) snprintf(where, sizeof where, "layer %d", l);
    else snprintf(where, sizeof where, "the logits");
    return am_wrap(e, "pair '%s' alpha %.17g, %s, position %d: stopped on a non-finite value, nothing written",
                   s->cfg.pairs[u / A].key, alphas[u % A], where, pos);
}

void am_stage_note_weights(am_stage *s, const char *note) {
    size_t n = strlen(s->backend_used);
    if (note[0] && n) snprintf(s->backend_used + n, sizeof s->backend_used - n, "; %s", note);
}
