/* Live vs frozen-pattern runs (see frozen.h). */
#include "analysis/frozen.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5/h5io.h"
#include "logits.h"

void am_frozen_cmp_free(am_frozen_cmp *c, int n) {
    for (int i = 0; c && i < n; i++) {
        free(c[i].kl), free(c[i].next_live), free(c[i].next_frozen), free(c[i].source), free(c[i].layers),
            free(c[i].heads), free(c[i].kl_step), free(c[i].kl_steps), free(c[i].kl_mean), free(c[i].kl_max);
        if (c[i].text) am_h5_free_strs(c[i].text, (size_t)c[i].P * c[i].A);
    }
    free(c);
}

static int argmax(const float *x, int V) {
    int b = 0;
    for (int v = 1; v < V; v++) if (x[v] > x[b]) b = v;
    return b;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The frozen cube's /kl and /kl_steps (absent in cubes of runs without a live cube). */
static int read_kl(const char *path, am_frozen_cmp *c, am_err *e) {
    hid_t f = am_h5_open_input(path, "attnmix.cube/1", e);
    if (f < 0) return -1;
    int rc = -1, U = c->P * c->A;
    hsize_t d[3], d2[2];
    if (H5Lexists(f, "kl", H5P_DEFAULT) <= 0) { rc = 0; goto out; }
    if (am_h5_read(f, "kl", H5T_NATIVE_DOUBLE, 3, d, (void **)&c->kl_step, e) < 0 ||
        am_h5_read(f, "kl_steps", H5T_NATIVE_INT32, 2, d2, (void **)&c->kl_steps, e) < 0)
        goto out;
    if ((int)d[0] != c->P || (int)d[1] != c->A || d2[0] != d[0] || d2[1] != d[1]) {
        am_fail(e, "%s: /kl [%llu, %llu, %llu] or /kl_steps does not match %d pairs x %d alphas", path,
                (unsigned long long)d[0], (unsigned long long)d[1], (unsigned long long)d[2], c->P, c->A);
        goto out;
    }
    c->N = (int)d[2];
    c->kl_mean = malloc((size_t)U * sizeof *c->kl_mean), c->kl_max = malloc((size_t)U * sizeof *c->kl_max);
    if (!c->kl_mean || !c->kl_max) { am_fail(e, "out of memory"); goto out; }
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
    H5Fclose(f);
    return rc;
}

static int compare_one(const char *live, const float *ll, const hsize_t *ld, const char *dir, const char *name,
                       am_frozen_cmp *c, am_err *e) {
    char path[4400];
    float *fl = NULL;
    hsize_t fd[3];
    int rc = -1;
    snprintf(path, sizeof path, "%s/%s/prefill.h5", dir, name);
    hid_t f = am_h5_open_input(path, "attnmix.prefill/1", e);
    if (f < 0) return -1;
    snprintf(c->name, sizeof c->name, "%s", name);
    if (am_h5_read(f, "logits", H5T_NATIVE_FLOAT, 3, fd, (void **)&fl, e) < 0) goto out;
    if (fd[0] != ld[0] || fd[1] != ld[1] || fd[2] != ld[2]) {
        am_fail(e, "%s: logits [%llu, %llu, %llu] do not match %s", path, (unsigned long long)fd[0],
                (unsigned long long)fd[1], (unsigned long long)fd[2], live);
        goto out;
    }
    c->P = (int)fd[0], c->A = (int)fd[1];
    int U = c->P * c->A, V = (int)fd[2];
    c->kl = malloc((size_t)U * sizeof *c->kl);
    c->next_live = malloc((size_t)U * sizeof *c->next_live), c->next_frozen = malloc((size_t)U * sizeof *c->next_frozen);
    if (!c->kl || !c->next_live || !c->next_frozen) { am_fail(e, "out of memory"); goto out; }
    for (int u = 0; u < U; u++) {
        c->kl[u] = am_kl_logits(ll + (size_t)u * V, fl + (size_t)u * V, V);
        c->next_live[u] = argmax(ll + (size_t)u * V, V);
        c->next_frozen[u] = argmax(fl + (size_t)u * V, V);
    }
    if (H5Aexists(f, "freeze_alpha") > 0) {
        hid_t a = H5Aopen(f, "freeze_alpha", H5P_DEFAULT);
        c->alpha = NAN;
        if (a >= 0) { H5Aread(a, H5T_NATIVE_DOUBLE, &c->alpha); H5Aclose(a); }
    }
    if (am_h5_read_attr_str(f, "freeze_source", &c->source, e) < 0 ||
        am_h5_read_attr_str(f, "freeze_layers", &c->layers, e) < 0 ||
        am_h5_read_attr_str(f, "freeze_heads", &c->heads, e) < 0)
        goto out;
    snprintf(path, sizeof path, "%s/%s/cube.h5", dir, name);
    if (access(path, F_OK) == 0) {
        hid_t cf = am_h5_open_input(path, "attnmix.cube/1", e);
        if (cf < 0) goto out;
        hsize_t td[2];
        int r = am_h5_read_strs(cf, "text", 2, td, &c->text, e);
        H5Fclose(cf);
        if (r < 0) goto out;
        if ((int)td[0] != c->P || (int)td[1] != c->A) { am_fail(e, "%s: /text shape differs from the prefill", path); goto out; }
        if (read_kl(path, c, e) < 0) goto out;
    }
    rc = 0;
out:
    H5Fclose(f);
    free(fl);
    return rc;
}

int am_frozen_compare_dir(const char *model_dir, am_frozen_cmp **out, int *n, am_err *e) {
    *out = NULL, *n = 0;
    DIR *d = opendir(model_dir);
    if (!d) return 0;
    char **names = NULL;
    int nn = 0, rc = -1;
    struct dirent *de;
    while ((de = readdir(d))) {
        char p[4400];
        if (strncmp(de->d_name, "frozen", 6)) continue;
        snprintf(p, sizeof p, "%s/%s/prefill.h5", model_dir, de->d_name);
        if (access(p, F_OK)) continue;
        char **nn2 = realloc(names, (size_t)(nn + 1) * sizeof *names);
        if (!nn2) break;
        names = nn2;
        names[nn++] = strdup(de->d_name);
    }
    closedir(d);
    if (!nn) { free(names); return 0; }
    qsort(names, (size_t)nn, sizeof *names, cmp_name);
    char live[4400];
    snprintf(live, sizeof live, "%s/prefill.h5", model_dir);
    float *ll = NULL;
    hsize_t ld[3];
    am_frozen_cmp *c = calloc((size_t)nn, sizeof *c);
    hid_t f = am_h5_open_input(live, "attnmix.prefill/1", e);
    if (f < 0 || !c) goto out;
    int r = am_h5_read(f, "logits", H5T_NATIVE_FLOAT, 3, ld, (void **)&ll, e);
    H5Fclose(f);
    if (r < 0) goto out;
    for (int i = 0; i < nn; i++)
        if (compare_one(live, ll, ld, model_dir, names[i], &c[i], e) < 0) { am_frozen_cmp_free(c, nn); c = NULL; goto out; }
    *out = c, *n = nn;
    c = NULL;
    rc = 0;
out:
    am_frozen_cmp_free(c, nn);
    for (int i = 0; i < nn; i++) free(names[i]);
    free(names), free(ll);
    return rc;
}
