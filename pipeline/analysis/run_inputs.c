/* The analysis stage's inputs (run_internal.h): the cubes through the cube
 * reader, each model's induction file and frozen runs, and the union of the
 * cubes' axes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/frame.h"
#include "analysis/run_internal.h"
#include "base/compare.h"
#include "base/fs.h"
#include "h5/h5io.h"

/* Name of a cube given without one: the reader's name (its `model`
 * attribute, else NAME for ".../NAME/cube.h5", else the file stem). */
static int default_name(const am_cube *c, char *name, size_t cap, am_err *e) {
    const char *n = c->name ? c->name : "";
    if (!n[0] || strcmp(n, ".") == 0 || strcmp(n, "/") == 0 || strlen(n) >= cap)
        return am_fail_code(e, AM_E_USAGE, "%s: cannot derive a model name; use --name MODEL=%s", c->path, c->path);
    snprintf(name, cap, "%s", n);
    return 0;
}

/* The cube's input index of model `model`, or -1 (a usage error naming what was given for it). */
static int find_model(const an_inputs *in, const char *what, const am_an_model_path *mp, am_err *e) {
    for (int i = 0; i < in->n; i++)
        if (!strcmp(in->cubes[i].name, mp->model)) return i;
    am_fail_code(e, AM_E_USAGE, "%s %s is given for model '%s', but no input cube is named '%s'", what, mp->path,
                 mp->model, mp->model);
    return -1;
}

/* Every entry of the cube's axis v [n] (model layers or heads) lies in [0, lim) of /score. */
static int axis_inside(const an_cube *c, const char *axis, const int32_t *v, int n, int lim, am_err *e) {
    for (int i = 0; i < n; i++)
        if (v[i] < 0 || v[i] >= lim)
            return am_fail(e,
                           "%s: %s %d is not in the induction scores of %s (/score is [%d layers, %d heads]; "
                           "files of different models?)",
                           c->c.path, axis, v[i], c->induction, c->ind.L, c->ind.H);
    return 0;
}

/* Read the induction file of c and check that it belongs to the cube: the
 * same checkpoint (when the cube records one) and every layer and head of
 * the cube inside its [L, H]. */
static int load_induction(an_cube *c, am_err *e) {
    const am_hc_induction *ind = &c->ind;
    const char *cfp = c->c.checkpoint_fingerprint;
    if (am_hc_induction_read(c->induction, &c->ind, e)) return am_wrap(e, "induction scores of model '%s'", c->name);
    if (cfp && cfp[0] && strcmp(cfp, ind->checkpoint_fingerprint) != 0)
        return am_fail(e,
                       "%s was computed from the checkpoint with fingerprint %s, but the cube %s is of checkpoint %s "
                       "(re-run attnmix-induction for model '%s')",
                       c->induction, ind->checkpoint_fingerprint, c->c.path, cfp, c->name);
    if (axis_inside(c, "layer", c->c.layer, c->c.L, ind->L, e) || axis_inside(c, "head", c->c.head, c->c.H, ind->H, e))
        return -1;
    return 0;
}

/* Sorted unique values of v [n] in place; returns the new count. */
static int uniq_sorted(void *v, int n, size_t sz, int (*cmp)(const void *, const void *)) {
    if (n == 0) return 0;
    qsort(v, (size_t)n, sz, cmp);
    char *b = v;
    int m = 1;
    for (int i = 1; i < n; i++)
        if (cmp(b + (size_t)i * sz, b + (size_t)(m - 1) * sz) != 0)
            memmove(b + (size_t)m++ * sz, b + (size_t)i * sz, sz);
    return m;
}

/* Open cube i of cfg into in->cubes[i] and add its pair keys to the union. */
static int open_cube(const am_an_config *cfg, an_inputs *in, int i, int *pair_cap, am_err *e) {
    an_cube *c = &in->cubes[i];
    const am_an_input *inp = &cfg->inputs[i];
    if (am_cube_open(&c->c, inp->path, e) || am_an_frame_detect(&c->c, &c->shift, e)) return -1;
    if (inp->name) {
        if (strlen(inp->name) >= sizeof c->name)
            return am_fail_code(e, AM_E_USAGE, "model name '%s' is too long", inp->name);
        snprintf(c->name, sizeof c->name, "%s", inp->name);
    } else if (default_name(&c->c, c->name, sizeof c->name, e)) {
        return -1;
    }
    for (int j = 0; j < i; j++)
        if (strcmp(in->cubes[j].name, c->name) == 0)
            return am_fail_code(e, AM_E_USAGE, "model name '%s' is used by %s and %s; use --name NAME=PATH", c->name,
                                in->cubes[j].c.path, c->c.path);
    if (!c->name[0] || strchr(c->name, '/'))
        return am_fail_code(e, AM_E_USAGE, "bad model name '%s' for %s", c->name, c->c.path);
    an_progress(cfg, "%s: %s [%d pairs, %d alphas, %d layers, %d heads, S=%d, %s%s]", c->name, c->c.path, c->c.P,
                c->c.A, c->c.L, c->c.H, c->c.S, c->c.dtype, c->c.has_length ? "" : ", no /length: full S");
    if (c->shift)
        an_progress(cfg, "%s: rows in the decode-step layout of the caveat: realigned to their true positions",
                    c->name);
    c->a0 = c->a1 = -1;
    for (int a = 0; a < c->c.A; a++) {
        if (c->c.alpha[a] == 0.0 && c->a0 < 0) c->a0 = a;
        if (c->c.alpha[a] == 1.0 && c->a1 < 0) c->a1 = a;
    }
    if (!(c->pair_index = am_malloc((size_t)c->c.P, sizeof *c->pair_index, "pair indices", e))) return -1;
    for (int p = 0; p < c->c.P; p++) {
        int k = 0;
        while (k < in->npair && strcmp(in->pair[k], c->c.pair[p]) != 0) k++;
        if (k == in->npair) {
            if (in->npair == *pair_cap) {
                int cap = *pair_cap ? 2 * *pair_cap : 16;
                const char **grown = realloc(in->pair, (size_t)cap * sizeof *grown);
                if (!grown) return am_fail_code(e, AM_E_NOMEM, "out of memory for %d pair keys", cap);
                in->pair = grown;
                *pair_cap = cap;
            }
            in->pair[in->npair++] = c->c.pair[p];
        }
        c->pair_index[p] = k;
    }
    c->base = in->N;
    in->N += (size_t)c->c.P * c->c.A * c->c.L * c->c.H;
    return am_file_fingerprint(c->c.path, c->file_fp, e);
}

/* The induction files and frozen runs of cfg, to the cubes they name. */
static int assign_model_paths(const am_an_config *cfg, an_inputs *in, am_err *e) {
    for (int k = 0; k < cfg->n_induction; k++) {
        int i = find_model(in, "induction file", &cfg->induction[k], e);
        if (i < 0) return -1;
        if (in->cubes[i].induction)
            return am_fail_code(e, AM_E_USAGE, "model '%s' has two induction files: %s and %s", in->cubes[i].name,
                                in->cubes[i].induction, cfg->induction[k].path);
        in->cubes[i].induction = cfg->induction[k].path;
    }
    for (int k = 0; k < cfg->n_frozen; k++) {
        int i = find_model(in, "frozen run", &cfg->frozen[k], e);
        if (i < 0) return -1;
        an_cube *c = &in->cubes[i];
        const char **grown = realloc(c->frozen, (size_t)(c->n_frozen + 1) * sizeof *grown);
        if (!grown) return am_fail_code(e, AM_E_NOMEM, "out of memory for the frozen runs");
        c->frozen = grown;
        c->frozen[c->n_frozen++] = cfg->frozen[k].path;
    }
    for (int i = 0; i < in->n; i++)
        if (in->cubes[i].induction && load_induction(&in->cubes[i], e)) return -1;
    return 0;
}

/* The root scales: the union of the cubes' alphas, layers and heads, sorted. */
static int axes_union(an_inputs *in, am_err *e) {
    int na = 0, nl = 0, nh = 0;
    for (int i = 0; i < in->n; i++) na += in->cubes[i].c.A, nl += in->cubes[i].c.L, nh += in->cubes[i].c.H;
    if (!(in->alpha = am_malloc((size_t)na, sizeof *in->alpha, "alphas", e)) ||
        !(in->layer = am_malloc((size_t)nl, sizeof *in->layer, "layers", e)) ||
        !(in->head = am_malloc((size_t)nh, sizeof *in->head, "heads", e)))
        return -1;
    na = nl = nh = 0;
    for (int i = 0; i < in->n; i++) {
        const am_cube *c = &in->cubes[i].c;
        for (int a = 0; a < c->A; a++) in->alpha[na++] = c->alpha[a];
        for (int l = 0; l < c->L; l++) in->layer[nl++] = c->layer[l];
        for (int h = 0; h < c->H; h++) in->head[nh++] = c->head[h];
    }
    in->nalpha = uniq_sorted(in->alpha, na, sizeof *in->alpha, am_cmp_double);
    in->nlayer = uniq_sorted(in->layer, nl, sizeof *in->layer, am_cmp_int);
    in->nhead = uniq_sorted(in->head, nh, sizeof *in->head, am_cmp_int);
    return 0;
}

int an_inputs_open(const am_an_config *cfg, an_inputs *in, am_err *e) {
    int pair_cap = 0;
    memset(in, 0, sizeof *in);
    if (cfg->n_inputs < 1) return am_fail_code(e, AM_E_USAGE, "no input cubes");
    if (!(in->cubes = am_calloc((size_t)cfg->n_inputs, sizeof *in->cubes, "input cubes", e))) return -1;
    for (int i = 0; i < cfg->n_inputs; i++) in->cubes[i].c.file = in->cubes[i].c.attn = H5I_INVALID_HID;
    in->n = cfg->n_inputs;
    for (int i = 0; i < in->n; i++)
        if (open_cube(cfg, in, i, &pair_cap, e)) return -1;
    if (in->N > (size_t)INT32_MAX / 2) return am_fail(e, "too many maps (%zu)", in->N);
    if (assign_model_paths(cfg, in, e) || axes_union(in, e)) return -1;
    return 0;
}

void an_inputs_free(an_inputs *in) {
    for (int i = 0; in->cubes && i < in->n; i++) {
        an_cube *c = &in->cubes[i];
        am_cube_close(&c->c);
        am_hc_induction_free(&c->ind);
        free(c->frozen);
        free(c->pair_index);
        free(c->shift);
    }
    free(in->cubes);
    free(in->pair);
    free(in->alpha), free(in->layer), free(in->head);
    memset(in, 0, sizeof *in);
}
