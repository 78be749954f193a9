/* Live vs frozen-pattern runs (see frozen.h). */
#include "analysis/frozen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5/h5io.h"
#include "h5/schema.h"
#include "kernels.h"
#include "logits.h"

void am_frozen_cmp_free(am_frozen_cmp *c, int n) {
    for (int i = 0; c && i < n; i++) {
        free(c[i].kl), free(c[i].next_live), free(c[i].next_frozen), free(c[i].source), free(c[i].layers),
            free(c[i].heads), free(c[i].kl_step), free(c[i].kl_steps), free(c[i].kl_mean), free(c[i].kl_max);
        if (c[i].text) am_h5_free_strs(c[i].text, (size_t)c[i].P * c[i].A);
    }
    free(c);
}

/* The frozen cube's /kl and /kl_steps (absent in cubes of runs without a live cube). */
static int read_kl(const char *path, am_frozen_cmp *c, am_err *e) {
    int rc = -1, U = c->P * c->A;
    hsize_t d[3], d2[2];
    hid_t f = am_h5_open_input(path, AM_SCHEMA_CUBE, e);
    if (f < 0) return -1;
    if (!am_h5_exists(f, "kl")) {
        rc = 0;
        goto out;
    }
    if (am_h5_read(f, "kl", H5T_NATIVE_DOUBLE, 3, d, (void **)&c->kl_step, e) < 0 ||
        am_h5_read(f, "kl_steps", H5T_NATIVE_INT32, 2, d2, (void **)&c->kl_steps, e) < 0)
        goto out;
    if ((int)d[0] != c->P || (int)d[1] != c->A || d2[0] != d[0] || d2[1] != d[1]) {
        am_fail(e, "%s: /kl [%llu, %llu, %llu] or /kl_steps does not match %d pairs x %d alphas", path,
                (unsigned long long)d[0], (unsigned long long)d[1], (unsigned long long)d[2], c->P, c->A);
        goto out;
    }
    c->N = (int)d[2];
    if (!(c->kl_mean = am_malloc((size_t)U, sizeof *c->kl_mean, "KL means", e)) ||
        !(c->kl_max = am_malloc((size_t)U, sizeof *c->kl_max, "KL maxima", e)))
        goto out;
    for (int u = 0; u < U; u++) {
        int n = c->kl_steps[u] < c->N ? c->kl_steps[u] : c->N;
        double s = 0, mx = n ? -INFINITY : NAN;
        for (int j = 0; j < n; j++) {
            double v = c->kl_step[(size_t)u * c->N + j];
            s += v, mx = v > mx ? v : mx;
        }
        c->kl_mean[u] = n ? s / n : NAN, c->kl_max[u] = mx;
    }
    rc = 0;
out:
    am_h5_close(&f);
    return rc;
}

/* Compare the frozen run in dir (named c->name) with the live logits ll [ld]. */
static int compare_one(const char *live, const float *ll, const hsize_t *ld, const char *dir, am_frozen_cmp *c,
                       am_err *e) {
    char path[4400];
    float *fl = NULL;
    hsize_t fd[3], td[2];
    int rc = -1, U = 0, V = 0;
    hid_t cf = H5I_INVALID_HID, f = H5I_INVALID_HID;
    snprintf(path, sizeof path, "%s/prefill.h5", dir);
    f = am_h5_open_input(path, AM_SCHEMA_PREFILL, e);
    if (f < 0) goto out;
    if (am_h5_read(f, "logits", H5T_NATIVE_FLOAT, 3, fd, (void **)&fl, e) < 0) goto out;
    if (fd[0] != ld[0] || fd[1] != ld[1] || fd[2] != ld[2]) {
        am_fail(e, "%s: logits [%llu, %llu, %llu] do not match %s", path, (unsigned long long)fd[0],
                (unsigned long long)fd[1], (unsigned long long)fd[2], live);
        goto out;
    }
    c->P = (int)fd[0], c->A = (int)fd[1];
    U = c->P * c->A, V = (int)fd[2];
    if (!(c->kl = am_malloc((size_t)U, sizeof *c->kl, "KL values", e)) ||
        !(c->next_live = am_malloc((size_t)U, sizeof *c->next_live, "next tokens", e)) ||
        !(c->next_frozen = am_malloc((size_t)U, sizeof *c->next_frozen, "next tokens", e)))
        goto out;
    for (int u = 0; u < U; u++) {
        c->kl[u] = am_kl_logits(ll + (size_t)u * V, fl + (size_t)u * V, V);
        c->next_live[u] = am_argmax_ref(ll + (size_t)u * V, V);
        c->next_frozen[u] = am_argmax_ref(fl + (size_t)u * V, V);
    }
    c->alpha = NAN;
    if (am_h5_attr_exists(f, "freeze_alpha") && am_h5_read_attr_f64(f, "freeze_alpha", &c->alpha, e) < 0) goto out;
    if (am_h5_read_attr_str(f, "freeze_source", &c->source, e) < 0 ||
        am_h5_read_attr_str(f, "freeze_layers", &c->layers, e) < 0 ||
        am_h5_read_attr_str(f, "freeze_heads", &c->heads, e) < 0)
        goto out;
    snprintf(path, sizeof path, "%s/cube.h5", dir);
    if (access(path, F_OK) == 0) {
        cf = am_h5_open_input(path, AM_SCHEMA_CUBE, e);
        if (cf < 0 || am_h5_read_strs(cf, "text", 2, td, &c->text, e) < 0) goto out;
        if ((int)td[0] != c->P || (int)td[1] != c->A) {
            am_fail(e, "%s: /text shape differs from the prefill", path);
            goto out;
        }
        if (read_kl(path, c, e) < 0) goto out;
    }
    rc = 0;
out:
    am_h5_close(&cf);
    am_h5_close(&f);
    free(fl);
    return rc;
}

/* The name of a run: the last component of its directory. */
static int run_name(const char *dir, char *name, size_t cap, am_err *e) {
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    size_t b = n;
    while (b > 0 && dir[b - 1] != '/') b--;
    if (n == b || n - b >= cap || (n - b == 1 && dir[b] == '.') || (n - b == 2 && !strncmp(dir + b, "..", 2)))
        return am_fail_code(e, AM_E_USAGE, "frozen run '%s': name the run's own directory (e.g. OUT/<model>/frozen-a1)",
                            dir);
    memcpy(name, dir + b, n - b);
    name[n - b] = 0;
    return 0;
}

typedef struct named_dir {
    char name[256];
    const char *dir;
} named_dir;
static int cmp_named(const void *a, const void *b) {
    return strcmp(((const named_dir *)a)->name, ((const named_dir *)b)->name);
}

int am_frozen_compare(const char *live_prefill, const char *const *dirs, int n, am_frozen_cmp **out, am_err *e) {
    int rc = -1;
    float *ll = NULL;
    hsize_t ld[3];
    am_frozen_cmp *c = NULL;
    named_dir *nd = NULL;
    hid_t f = H5I_INVALID_HID;
    *out = NULL;
    if (n <= 0) return 0;
    if (!(nd = am_calloc((size_t)n, sizeof *nd, "frozen runs", e))) return -1;
    for (int i = 0; i < n; i++) {
        nd[i].dir = dirs[i];
        if (run_name(dirs[i], nd[i].name, sizeof nd[i].name, e)) goto out;
    }
    qsort(nd, (size_t)n, sizeof *nd, cmp_named);
    for (int i = 1; i < n; i++)
        if (!strcmp(nd[i].name, nd[i - 1].name)) {
            am_fail_code(e, AM_E_USAGE, "frozen runs %s and %s have the same name '%s'", nd[i - 1].dir, nd[i].dir,
                         nd[i].name);
            goto out;
        }
    if (!(c = am_calloc((size_t)n, sizeof *c, "frozen comparisons", e))) goto out;
    f = am_h5_open_input(live_prefill, AM_SCHEMA_PREFILL, e);
    if (f < 0 || am_h5_read(f, "logits", H5T_NATIVE_FLOAT, 3, ld, (void **)&ll, e) < 0) goto out;
    for (int i = 0; i < n; i++) {
        snprintf(c[i].name, sizeof c[i].name, "%s", nd[i].name);
        if (compare_one(live_prefill, ll, ld, nd[i].dir, &c[i], e) < 0) goto out;
    }
    *out = c;
    c = NULL;
    rc = 0;
out:
    am_h5_close(&f);
    am_frozen_cmp_free(c, n);
    free(nd), free(ll);
    return rc;
}

/* One run's group of analysis.h5 into c (name set by the caller). */
static int read_run(hid_t g, am_frozen_cmp *c, am_err *e) {
    hsize_t d[8], dn[8];
    void *v = NULL;
    if (am_h5_read(g, "kl", H5T_NATIVE_DOUBLE, 2, d, &v, e)) return -1;
    c->kl = v, c->P = (int)d[0], c->A = (int)d[1];
    if (am_h5_read(g, "next_token_live", H5T_NATIVE_INT32, 2, dn, &v, e)) return -1;
    c->next_live = v;
    if (am_h5_read(g, "next_token_frozen", H5T_NATIVE_INT32, 2, dn, &v, e)) return -1;
    c->next_frozen = v;
    if (am_h5_exists(g, "text") && am_h5_read_strs(g, "text", 2, dn, &c->text, e)) return -1;
    if (am_h5_exists(g, "kl_step")) {
        if (am_h5_read(g, "kl_step", H5T_NATIVE_DOUBLE, 3, dn, &v, e)) return -1;
        c->kl_step = v, c->N = (int)dn[2];
        if (am_h5_read(g, "kl_steps", H5T_NATIVE_INT32, 2, dn, &v, e)) return -1;
        c->kl_steps = v;
        if (am_h5_read(g, "kl_mean", H5T_NATIVE_DOUBLE, 2, dn, &v, e)) return -1;
        c->kl_mean = v;
        if (am_h5_read(g, "kl_max", H5T_NATIVE_DOUBLE, 2, dn, &v, e)) return -1;
        c->kl_max = v;
    }
    if (am_h5_read_attr_f64(g, "freeze_alpha", &c->alpha, e) ||
        am_h5_read_attr_str(g, "freeze_source", &c->source, e) ||
        am_h5_read_attr_str(g, "freeze_layers", &c->layers, e) || am_h5_read_attr_str(g, "freeze_heads", &c->heads, e))
        return -1;
    return 0;
}

int am_frozen_read(const char *analysis, const char *model, am_frozen_cmp **out, int *n, am_err *e) {
    char group[600], **names = NULL;
    int nn = 0, rc = -1;
    am_frozen_cmp *c = NULL;
    hid_t f = H5I_INVALID_HID, g = H5I_INVALID_HID;
    *out = NULL, *n = 0;
    if (snprintf(group, sizeof group, "models/%s/frozen", model) >= (int)sizeof group)
        return am_fail(e, "model name too long: %s", model);
    f = am_h5_open_input(analysis, NULL, e); /* as the figures read it */
    if (f < 0) return -1;
    if (am_h5_list(f, group, &names, &nn, e)) goto out;
    if (nn && !(c = am_calloc((size_t)nn, sizeof *c, "frozen runs", e))) goto out;
    for (int i = 0; i < nn; i++) {
        snprintf(c[i].name, sizeof c[i].name, "%s", names[i]);
        char path[900];
        snprintf(path, sizeof path, "%s/%s", group, names[i]);
        g = am_h5_group_open(f, path, e);
        if (g < 0 || read_run(g, &c[i], e)) {
            am_wrap(e, "%s: frozen run %s of model %s", analysis, names[i], model);
            goto out;
        }
        am_h5_close(&g);
    }
    *out = c, *n = nn;
    c = NULL;
    rc = 0;
out:
    am_h5_close(&g);
    am_h5_close(&f);
    am_h5_free_strs(names, (size_t)nn);
    am_frozen_cmp_free(c, nn);
    return rc;
}
