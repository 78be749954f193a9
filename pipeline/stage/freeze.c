/* Frozen attention patterns for the forward and generate stages: read the
 * source maps (prefill.h5 or cube.h5), match pairs, alphas and prompt
 * lengths, and serve them to the runtime's am_freeze hook (docs/freeze.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5/cube_read.h"
#include "h5/h5io.h"
#include "h5/schema.h"
#include "model/qwen3.h"
#include "stage/freeze.h"
#include "stage/stage.h"

void am_freeze_dir(const am_stage *s, char *out, size_t n) {
    if (s->freeze.have_alpha) snprintf(out, n, "frozen-a%g", s->freeze.alpha);
    else snprintf(out, n, "frozen");
}

void am_freeze_default_path(const am_stage *s, int forward, char *out, size_t n) {
    if (s->freeze.from) {
        snprintf(out, n, "%s", s->freeze.from);
        return;
    }
    am_stage_path(s, "cube.h5", out, n);
    if (forward && access(out, F_OK) != 0) am_stage_path(s, "prefill.h5", out, n);
}

/* "all" | "0,2,5" | "[0, 2, 5]" -> mask[n] (1 = selected). */
static int parse_sel(const char *spec, const char *what, int n, unsigned char *mask, am_err *e) {
    if (!spec || !strcmp(spec, "all")) {
        memset(mask, 1, (size_t)n);
        return 0;
    }
    memset(mask, 0, (size_t)n);
    const char *p = spec;
    int count = 0;
    while (*p) {
        if (*p == '[' || *p == ']' || *p == ',' || *p == ' ') {
            p++;
            continue;
        }
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p)
            return am_fail_code(e, AM_E_USAGE, "--freeze-%s '%s': expected 'all' or a list of integers like 0,2,5",
                                what, spec);
        if (v < 0 || v >= n) /* the model has no such layer or head */
            return am_fail_code(e, AM_E_NOTFOUND, "--freeze-%s '%s': %ld is out of range (the model has %d %s, 0..%d)",
                                what, spec, v, n, what, n - 1);
        if (mask[v]) return am_fail_code(e, AM_E_USAGE, "--freeze-%s '%s': %ld listed twice", what, spec, v);
        mask[v] = 1, count++;
        p = end;
    }
    if (!count) return am_fail_code(e, AM_E_USAGE, "--freeze-%s '%s': empty selection", what, spec);
    return 0;
}

void am_freeze_src_free(am_freeze_src *f) {
    if (f->maps)
        for (int u = 0; u < f->U; u++) free(f->maps[u]);
    free(f->maps), free(f->len), free(f->lmask), free(f->hmask), free(f->lsel), free(f->hsel);
    free(f->layers), free(f->heads);
    memset(f, 0, sizeof *f);
}

int am_freeze_src_load(am_freeze_src *f, const am_stage *s, const am_qwen3 *m, int forward, int P, int A,
                       const int32_t *plen, const double *alphas, am_err *e) {
    memset(f, 0, sizeof *f);
    const am_config *c = &s->cfg;
    int rc = -1, Ps, As, Lc, Hc, Ss, is_cube, as_fixed = -1;
    am_cube src = {.file = H5I_INVALID_HID, .attn = H5I_INVALID_HID};
    float *tmp = NULL; /* [Lc][Hc][Ss][Ss] one source unit */
    int li_src[256], hi_src[256];
    f->L = m->cfg.num_hidden_layers, f->H = m->cfg.num_attention_heads, f->U = P * A;
    am_freeze_default_path(s, forward, f->path, sizeof f->path);
    if (s->freeze.have_alpha) snprintf(f->desc, sizeof f->desc, "alpha %g of %s", s->freeze.alpha, f->path);
    else snprintf(f->desc, sizeof f->desc, "same alpha of %s", f->path);
    if (!(f->lmask = am_malloc((size_t)f->L, 1, "the frozen layer mask", e)) ||
        !(f->hmask = am_malloc((size_t)f->H, 1, "the frozen head mask", e)) ||
        !(f->lsel = am_malloc((size_t)f->L, sizeof *f->lsel, "the frozen layer index", e)) ||
        !(f->hsel = am_malloc((size_t)f->H, sizeof *f->hsel, "the frozen head index", e)) ||
        !(f->layers = am_malloc((size_t)f->L, sizeof *f->layers, "the frozen layers", e)) ||
        !(f->heads = am_malloc((size_t)f->H, sizeof *f->heads, "the frozen heads", e)) ||
        !(f->maps = am_calloc((size_t)f->U, sizeof *f->maps, "the frozen pattern list", e)) ||
        !(f->len = am_calloc((size_t)f->U, sizeof *f->len, "the frozen lengths", e)))
        goto out;
    if (parse_sel(s->freeze.layers, "layers", f->L, f->lmask, e) < 0 ||
        parse_sel(s->freeze.heads, "heads", f->H, f->hmask, e) < 0)
        goto out;
    for (int l = 0; l < f->L; l++) {
        f->lsel[l] = f->lmask[l] ? f->Ls : -1;
        if (f->lmask[l]) f->layers[f->Ls++] = l;
    }
    for (int k = 0; k < f->H; k++) {
        f->hsel[k] = f->hmask[k] ? f->Hs : -1;
        if (f->hmask[k]) f->heads[f->Hs++] = k;
    }

    if (am_cube_open(&src, f->path, e) < 0) {
        am_wrap(e, "frozen-pattern source %s cannot be opened (run forward/generate live first, or pass --freeze-from)",
                f->path);
        goto out;
    }
    is_cube = src.schema && !strcmp(src.schema, AM_SCHEMA_CUBE);
    if (!is_cube && (!src.schema || strcmp(src.schema, AM_SCHEMA_PREFILL))) {
        am_fail_code(e, AM_E_CORRUPT, "%s: schema '%s' is neither %s nor %s", f->path,
                     src.schema ? src.schema : "(none)", AM_SCHEMA_PREFILL, AM_SCHEMA_CUBE);
        goto out;
    }
    if (!forward && !is_cube) {
        am_fail(e,
                "%s is a prefill file: frozen generation needs the patterns of the generated positions too; "
                "hint: use a cube.h5 as --freeze-from",
                f->path);
        goto out;
    }
    if (!src.fingerprint || !src.prompt_length) {
        am_fail_code(e, AM_E_CORRUPT, "%s: no %s (not written by attnmix forward or generate?)", f->path,
                     src.fingerprint ? "/prompt_length" : "'fingerprint' attribute");
        goto out;
    }
    snprintf(f->fingerprint, sizeof f->fingerprint, "%s", src.fingerprint);
    Ps = src.P, As = src.A, Lc = src.L, Hc = src.H, Ss = src.S;
    /* every substituted layer and head must be in the source */
    if (f->Ls > 256 || f->Hs > 256) {
        am_fail(e, "more than 256 layers or heads are not supported");
        goto out;
    }
    for (int i = 0; i < f->Ls; i++) {
        li_src[i] = -1;
        for (int j = 0; j < Lc; j++)
            if (src.layer[j] == f->layers[i]) li_src[i] = j;
        if (li_src[i] < 0) {
            am_fail_code(e, AM_E_NOTFOUND, "%s does not hold layer %d (it captured %d layers); hint: --freeze-layers",
                         f->path, f->layers[i], Lc);
            goto out;
        }
    }
    for (int i = 0; i < f->Hs; i++) {
        hi_src[i] = -1;
        for (int j = 0; j < Hc; j++)
            if (src.head[j] == f->heads[i]) hi_src[i] = j;
        if (hi_src[i] < 0) {
            am_fail_code(e, AM_E_NOTFOUND, "%s does not hold head %d (it captured %d heads); hint: --freeze-heads",
                         f->path, f->heads[i], Hc);
            goto out;
        }
    }
    if (s->freeze.have_alpha) {
        for (int j = 0; j < As; j++)
            if (fabs(src.alpha[j] - s->freeze.alpha) < 1e-9) as_fixed = j;
        if (as_fixed < 0) {
            am_fail_code(e, AM_E_NOTFOUND, "%s has no alpha %g (--freeze-alpha)", f->path, s->freeze.alpha);
            goto out;
        }
    }
    tmp = am_malloc((size_t)Lc * Hc * Ss * Ss, sizeof *tmp, "one unit of the frozen-pattern source", e);
    if (!tmp) {
        am_wrap(e, "reading %s", f->path);
        goto out;
    }
    for (int p = 0; p < P; p++) {
        int ps = -1;
        for (int j = 0; j < Ps; j++)
            if (!strcmp(src.pair[j], c->pairs[p].key)) ps = j;
        if (ps < 0) {
            am_fail_code(e, AM_E_NOTFOUND, "%s has no pair '%s'", f->path, c->pairs[p].key);
            goto out;
        }
        if (src.prompt_length[ps] != plen[p]) {
            am_fail(e, "%s: pair '%s' has prompt length %d, this run %d (patterns are positional: shapes must match)",
                    f->path, c->pairs[p].key, src.prompt_length[ps], plen[p]);
            goto out;
        }
        for (int a = 0; a < A; a++) {
            int as = as_fixed, u = p * A + a;
            if (as < 0) {
                for (int j = 0; j < As; j++)
                    if (fabs(src.alpha[j] - alphas[a]) < 1e-9) as = j;
                if (as < 0) {
                    am_fail_code(e, AM_E_NOTFOUND, "%s has no alpha %g for pair '%s'; hint: --freeze-alpha", f->path,
                                 alphas[a], c->pairs[p].key);
                    goto out;
                }
            }
            int n = is_cube ? src.length[ps * As + as] : src.prompt_length[ps];
            if (n > Ss) {
                am_fail_code(e, AM_E_CORRUPT, "%s: length %d of pair '%s' exceeds the map size %d", f->path, n,
                             c->pairs[p].key, Ss);
                goto out;
            }
            if (am_cube_read_unit(&src, ps, as, tmp, e) < 0) goto out;
            f->len[u] = n;
            f->maps[u] = malloc((size_t)f->Ls * f->Hs * n * n * sizeof(float) + 1); /* [Ls][Hs][n][n] */
            if (!f->maps[u]) {
                am_fail_code(e, AM_E_NOMEM, "out of memory for the frozen patterns of %d units", f->U);
                goto out;
            }
            for (int li = 0; li < f->Ls; li++)
                for (int hi = 0; hi < f->Hs; hi++)
                    for (int q = 0; q < n; q++)
                        memcpy(f->maps[u] + (((size_t)li * f->Hs + hi) * n + q) * n,
                               tmp + (((size_t)li_src[li] * Hc + hi_src[hi]) * Ss + q) * Ss, (size_t)n * sizeof(float));
        }
    }
    rc = 0;
out:
    am_cube_close(&src);
    free(tmp);
    if (rc < 0) am_freeze_src_free(f);
    return rc;
}

int am_freeze_src_hook(void *ctx, int layer, int unit, int head, int q0, int nq, int nk, float *probs, am_err *e) {
    const am_freeze_src *f = ctx;
    int n = f->len[unit], li = f->lsel[layer], hi = f->hsel[head];
    if (q0 + nq > n)
        return am_fail(e, "the frozen source (%s) covers %d positions of this unit, the run reached %d", f->desc, n,
                       q0 + nq);
    for (int i = 0; i < nq; i++)
        memcpy(probs + (size_t)i * nk, f->maps[unit] + (((size_t)li * f->Hs + hi) * n + q0 + i) * n,
               (size_t)(q0 + i + 1) * sizeof(float));
    return 0;
}

static void list_str(const int *v, int n, int all, char *out, size_t cap) {
    if (all) {
        snprintf(out, cap, "all");
        return;
    }
    size_t k = 0;
    out[0] = 0;
    for (int i = 0; i < n && k + 16 < cap; i++) k += (size_t)snprintf(out + k, cap - k, "%s%d", i ? "," : "", v[i]);
}

void am_freeze_src_key(const am_freeze_src *f, const am_stage *s, char *out, size_t n) {
    char ls[1024], hs[1024];
    list_str(f->layers, f->Ls, f->Ls == f->L, ls, sizeof ls);
    list_str(f->heads, f->Hs, f->Hs == f->H, hs, sizeof hs);
    snprintf(out, n, "freeze:%s:%s:%s:%.17g:%s:%s", f->path, f->fingerprint, s->freeze.have_alpha ? "alpha" : "same",
             s->freeze.have_alpha ? s->freeze.alpha : 0.0, ls, hs);
}

int am_freeze_src_write_attrs(const am_freeze_src *f, const am_stage *s, hid_t file, am_err *e) {
    char ls[1024], hs[1024];
    list_str(f->layers, f->Ls, f->Ls == f->L, ls, sizeof ls);
    list_str(f->heads, f->Hs, f->Hs == f->H, hs, sizeof hs);
    if (am_h5_attr_str(file, "freeze_source", f->path, e) < 0 ||
        am_h5_attr_str(file, "freeze_source_fingerprint", f->fingerprint, e) < 0 ||
        am_h5_attr_str(file, "freeze_layers", ls, e) < 0 || am_h5_attr_str(file, "freeze_heads", hs, e) < 0)
        return -1;
    /* NaN: each unit took the patterns of its own alpha */
    return am_h5_attr_f64(file, "freeze_alpha", s->freeze.have_alpha ? s->freeze.alpha : NAN, e);
}
