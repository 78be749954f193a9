/* cube.h5 reader for figures (see plot_cube.h). */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot/plot.h"
#include "plot/plot_cube.h"

/* Elements of a dataset and its dims (up to 8). -1 on failure. */
static hssize_t am_h5_dims(hid_t ds, int *rank, hsize_t dims[8]) {
    hid_t sp = H5Dget_space(ds);
    if (sp < 0) return -1;
    int r = H5Sget_simple_extent_ndims(sp);
    if (r < 0 || r > 8) { H5Sclose(sp); return -1; }
    H5Sget_simple_extent_dims(sp, dims, NULL);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    H5Sclose(sp);
    *rank = r;
    return n;
}

void am_plot_strings_free(char **s, int n) {
    if (!s) return;
    for (int i = 0; i < n; i++) free(s[i]);
    free(s);
}

int am_plot_h5_strings(hid_t loc, const char *name, char ***out, int *n, am_err *e) {
    int rc = -1, rank;
    hsize_t dims[8];
    hid_t ds = H5I_INVALID_HID, ft = H5I_INVALID_HID, mt = H5I_INVALID_HID;
    char **res = NULL, *buf = NULL;
    *out = NULL;
    *n = 0;
    H5E_BEGIN_TRY { ds = H5Dopen2(loc, name, H5P_DEFAULT); } H5E_END_TRY;
    if (ds < 0) { am_fail(e, "dataset %s missing", name); goto out; }
    hssize_t cnt = am_h5_dims(ds, &rank, dims);
    ft = H5Dget_type(ds);
    if (cnt < 0 || ft < 0 || H5Tget_class(ft) != H5T_STRING) {
        am_fail(e, "dataset %s is not a string dataset", name);
        goto out;
    }
    res = calloc(cnt ? (size_t)cnt : 1, sizeof *res);
    if (!res) { am_fail(e, "%s: out of memory", name); goto out; }
    if (H5Tis_variable_str(ft) > 0) {
        char **tmp = calloc(cnt ? (size_t)cnt : 1, sizeof *tmp);
        mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(ft));
        if (!tmp || H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, tmp) < 0) {
            free(tmp);
            am_fail(e, "reading string dataset %s failed", name);
            goto out;
        }
        for (hssize_t i = 0; i < cnt; i++) res[i] = strdup(tmp[i] ? tmp[i] : "");
        hid_t sp = H5Dget_space(ds);
        H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, tmp);
        H5Sclose(sp);
        free(tmp);
    } else {
        size_t sz = H5Tget_size(ft);
        mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, sz + 1);
        H5Tset_strpad(mt, H5T_STR_NULLTERM);
        buf = calloc((size_t)(cnt ? cnt : 1), sz + 1);
        if (!buf || H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
            am_fail(e, "reading string dataset %s failed", name);
            goto out;
        }
        for (hssize_t i = 0; i < cnt; i++) res[i] = strndup(buf + (size_t)i * (sz + 1), sz);
    }
    for (hssize_t i = 0; i < cnt; i++)
        if (!res[i]) { am_fail(e, "%s: out of memory", name); goto out; }
    *out = res;
    *n = (int)cnt;
    res = NULL;
    rc = 0;
out:
    if (res) am_plot_strings_free(res, (int)(cnt > 0 ? cnt : 0));
    free(buf);
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    if (ds >= 0) H5Dclose(ds);
    return rc;
}

/* Read a numeric dataset of exactly `want` elements (shape checked by the
 * caller's expectation of rank/dims) into out with memory type mt.
 * Returns 1 if absent, 0 on success, -1 on failure. */
static int am_h5_numeric(hid_t f, const char *name, hid_t mt, int rank_want,
                         const hsize_t *dims_want, void **out, size_t elsize, am_err *e) {
    int rank;
    hsize_t dims[8];
    hid_t ds = H5I_INVALID_HID;
    H5E_BEGIN_TRY {
        ds = H5Lexists(f, name, H5P_DEFAULT) > 0 ? H5Dopen2(f, name, H5P_DEFAULT) : -1;
    } H5E_END_TRY;
    *out = NULL;
    if (ds < 0) return 1;
    hssize_t cnt = am_h5_dims(ds, &rank, dims);
    int ok = cnt >= 0 && rank == rank_want;
    for (int i = 0; ok && i < rank; i++)
        if (dims_want[i] && dims[i] != dims_want[i]) ok = 0;
    if (!ok) {
        char got[128] = "", want[128] = "";
        for (int i = 0; i < rank && cnt >= 0; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%llu", i ? ", " : "",
                     (unsigned long long)dims[i]);
        for (int i = 0; i < rank_want; i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%llu", i ? ", " : "",
                     (unsigned long long)dims_want[i]);
        H5Dclose(ds);
        return am_fail(e, "dataset %s has shape [%s], expected [%s] (0 = any; see docs/schema.md)",
                       name, got, want);
    }
    *out = malloc((cnt ? (size_t)cnt : 1) * elsize);
    if (!*out || H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0) {
        free(*out);
        *out = NULL;
        H5Dclose(ds);
        return am_fail(e, "reading dataset %s failed", name);
    }
    H5Dclose(ds);
    return 0;
}

static char *am_attr_string(hid_t f, const char *name) {
    char *res = NULL;
    hid_t a = H5I_INVALID_HID, t = H5I_INVALID_HID, mt = H5I_INVALID_HID;
    H5E_BEGIN_TRY {
        if (H5Aexists(f, name) > 0) a = H5Aopen(f, name, H5P_DEFAULT);
    } H5E_END_TRY;
    if (a < 0) return NULL;
    t = H5Aget_type(a);
    if (H5Tget_class(t) == H5T_STRING) {
        if (H5Tis_variable_str(t) > 0) {
            char *s = NULL;
            mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            H5Tset_cset(mt, H5Tget_cset(t));
            if (H5Aread(a, mt, &s) >= 0 && s) {
                res = strdup(s);
                H5free_memory(s);
            }
        } else {
            size_t sz = H5Tget_size(t);
            char *s = calloc(1, sz + 1);
            mt = H5Tcopy(t);
            if (s && H5Aread(a, mt, s) >= 0) res = s;
            else free(s);
        }
    }
    if (mt >= 0) H5Tclose(mt);
    H5Tclose(t);
    H5Aclose(a);
    return res;
}

static char *am_model_from_path(const char *path) {
    char *d = strdup(path), *b = strdup(path), *res = NULL;
    if (!d || !b) goto out;
    const char *base = basename(b);
    if (!strcmp(base, "cube.h5")) {
        res = strdup(basename(dirname(d)));
    } else {
        res = strdup(base);
        char *dot = res ? strrchr(res, '.') : NULL;
        if (dot && dot != res) *dot = 0;
    }
out:
    free(d);
    free(b);
    return res;
}

int am_plot_cube_open(am_plot_cube *c, const char *path, am_err *e) {
    int rank, n, r;
    hsize_t dims[8];
    memset(c, 0, sizeof *c);
    c->file = c->attn = H5I_INVALID_HID;
    c->path = strdup(path);
    H5E_BEGIN_TRY { c->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT); } H5E_END_TRY;
    if (c->file < 0) {
        am_fail(e, "%s: cannot open as HDF5 (missing file or not a cube.h5?)", path);
        goto fail;
    }
    H5E_BEGIN_TRY { c->attn = H5Dopen2(c->file, "attention", H5P_DEFAULT); } H5E_END_TRY;
    if (c->attn < 0) { am_fail(e, "%s: no /attention dataset (see docs/schema.md)", path); goto fail; }
    if (am_h5_dims(c->attn, &rank, dims) < 0 || rank != 6 || dims[4] != dims[5]) {
        am_fail(e, "%s: /attention must be [P, A, L, H, S, S]", path);
        goto fail;
    }
    {
        hid_t t = H5Dget_type(c->attn);
        H5T_class_t cl = H5Tget_class(t);
        H5Tclose(t);
        if (cl != H5T_FLOAT) { am_fail(e, "%s: /attention is not a float dataset", path); goto fail; }
    }
    c->P = (int)dims[0]; c->A = (int)dims[1]; c->L = (int)dims[2];
    c->H = (int)dims[3]; c->S = (int)dims[4];
    c->model = am_attr_string(c->file, "model");
    if (!c->model) c->model = am_model_from_path(path);

    if (am_plot_h5_strings(c->file, "pair", &c->pair, &n, e) || n != c->P) {
        if (c->pair) am_fail(e, "/pair has %d entries, /attention has P = %d", n, c->P);
        am_wrap(e, "%s", path);
        goto fail;
    }
    hsize_t dP[1] = {(hsize_t)c->P}, dA[1] = {(hsize_t)c->A}, dL[1] = {(hsize_t)c->L},
            dH[1] = {(hsize_t)c->H}, dPA[2] = {(hsize_t)c->P, (hsize_t)c->A};
    r = am_h5_numeric(c->file, "alpha", H5T_NATIVE_DOUBLE, 1, dA, (void **)&c->alpha, 8, e);
    if (r) { if (r > 0) am_fail(e, "dataset /alpha missing"); am_wrap(e, "%s", path); goto fail; }
    r = am_h5_numeric(c->file, "layer", H5T_NATIVE_INT32, 1, dL, (void **)&c->layer, 4, e);
    if (r) { if (r > 0) am_fail(e, "dataset /layer missing"); am_wrap(e, "%s", path); goto fail; }
    r = am_h5_numeric(c->file, "head", H5T_NATIVE_INT32, 1, dH, (void **)&c->head, 4, e);
    if (r < 0) { am_wrap(e, "%s", path); goto fail; }
    if (r > 0) {
        c->head = malloc(sizeof *c->head * (c->H ? c->H : 1));
        for (int i = 0; i < c->H; i++) c->head[i] = i;
    }
    r = am_h5_numeric(c->file, "length", H5T_NATIVE_INT32, 2, dPA, (void **)&c->length, 4, e);
    if (r < 0) { am_wrap(e, "%s", path); goto fail; }
    if (r > 0) {
        c->length = malloc(sizeof *c->length * ((size_t)c->P * c->A + 1));
        for (int i = 0; i < c->P * c->A; i++) c->length[i] = c->S;
    }
    for (int i = 0; i < c->P * c->A; i++)
        if (c->length[i] < 1 || c->length[i] > c->S) {
            am_fail(e, "%s: /length[%d][%d] = %d outside 1..S = %d", path, i / c->A, i % c->A,
                    c->length[i], c->S);
            goto fail;
        }
    r = am_h5_numeric(c->file, "prompt_length", H5T_NATIVE_INT32, 1, dP,
                      (void **)&c->prompt_length, 4, e);
    if (r < 0) { am_wrap(e, "%s", path); goto fail; }

    hsize_t dPT[2] = {(hsize_t)c->P, 0};
    r = am_h5_numeric(c->file, "ids_a", H5T_NATIVE_INT32, 2, dPT, (void **)&c->ids_a, 4, e);
    if (r < 0) { am_wrap(e, "%s", path); goto fail; }
    if (r == 0) {
        hid_t ds = H5Dopen2(c->file, "ids_a", H5P_DEFAULT);
        am_h5_dims(ds, &rank, dims);
        H5Dclose(ds);
        c->T = (int)dims[1];
        dPT[1] = dims[1];
        r = am_h5_numeric(c->file, "ids_b", H5T_NATIVE_INT32, 2, dPT, (void **)&c->ids_b, 4, e);
        if (r < 0) { am_wrap(e, "%s", path); goto fail; }
        if (r > 0) { free(c->ids_a); c->ids_a = NULL; c->T = 0; }
    }
    hsize_t dPAN[3] = {(hsize_t)c->P, (hsize_t)c->A, 0};
    r = am_h5_numeric(c->file, "generated_ids", H5T_NATIVE_INT32, 3, dPAN, (void **)&c->gen, 4, e);
    if (r < 0) { am_wrap(e, "%s", path); goto fail; }
    if (r == 0) {
        hid_t ds = H5Dopen2(c->file, "generated_ids", H5P_DEFAULT);
        am_h5_dims(ds, &rank, dims);
        H5Dclose(ds);
        c->N = (int)dims[2];
    }
    if (H5Lexists(c->file, "text", H5P_DEFAULT) > 0) {
        if (am_plot_h5_strings(c->file, "text", &c->text, &n, e)) { am_wrap(e, "%s", path); goto fail; }
        if (n != c->P * c->A) {
            am_fail(e, "%s: /text has %d entries, expected P x A = %d", path, n, c->P * c->A);
            goto fail;
        }
    }
    if (H5Lexists(c->file, "prompt_a", H5P_DEFAULT) > 0 &&
        H5Lexists(c->file, "prompt_b", H5P_DEFAULT) > 0) {
        int na, nb;
        if (am_plot_h5_strings(c->file, "prompt_a", &c->prompt_a, &na, e) ||
            am_plot_h5_strings(c->file, "prompt_b", &c->prompt_b, &nb, e)) {
            am_wrap(e, "%s", path);
            goto fail;
        }
        if (na != c->P || nb != c->P) {
            am_fail(e, "%s: /prompt_a and /prompt_b must have P = %d entries", path, c->P);
            goto fail;
        }
    }
    return 0;
fail:
    am_plot_cube_close(c);
    return -1;
}

void am_plot_cube_close(am_plot_cube *c) {
    if (c->attn >= 0) H5Dclose(c->attn);
    if (c->file >= 0) H5Fclose(c->file);
    am_plot_strings_free(c->pair, c->P);
    am_plot_strings_free(c->text, c->P * c->A);
    am_plot_strings_free(c->prompt_a, c->P);
    am_plot_strings_free(c->prompt_b, c->P);
    free(c->alpha); free(c->layer); free(c->head); free(c->length);
    free(c->prompt_length); free(c->ids_a); free(c->ids_b); free(c->gen);
    free(c->model); free(c->path);
    memset(c, 0, sizeof *c);
    c->file = c->attn = H5I_INVALID_HID;
}

int am_plot_cube_pair(const am_plot_cube *c, const char *key, am_err *e) {
    char list[1024] = "";
    for (int i = 0; i < c->P; i++)
        if (!strcmp(c->pair[i], key)) return i;
    for (int i = 0; i < c->P; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", c->pair[i]);
    am_fail(e, "%s: no pair '%s' in /pair (has: %s)", c->path, key, list);
    return -1;
}

static int am_find_int(const am_plot_cube *c, const int32_t *v, int n, int want, const char *what,
                       am_err *e) {
    char list[1024] = "";
    for (int i = 0; i < n; i++)
        if (v[i] == want) return i;
    for (int i = 0; i < n; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d", i ? ", " : "", v[i]);
    am_fail(e, "%s: %s %d was not captured (/%s has: %s)", c->path, what, want, what, list);
    return -1;
}

int am_plot_cube_layer(const am_plot_cube *c, int layer, am_err *e) {
    return am_find_int(c, c->layer, c->L, layer, "layer", e);
}

int am_plot_cube_head(const am_plot_cube *c, int head, am_err *e) {
    return am_find_int(c, c->head, c->H, head, "head", e);
}

int am_plot_cube_n(const am_plot_cube *c, int p, int a) { return c->length[p * c->A + a]; }

int am_plot_cube_prompt_len(const am_plot_cube *c, int p) {
    return c->prompt_length ? c->prompt_length[p] : 0;
}

int am_plot_cube_read(const am_plot_cube *c, int p, int a, int l, int h, float *out, am_err *e) {
    int n = am_plot_cube_n(c, p, a), rc = -1;
    hsize_t start[6] = {(hsize_t)p, (hsize_t)a, (hsize_t)l, (hsize_t)h, 0, 0};
    hsize_t count[6] = {1, 1, 1, 1, (hsize_t)n, (hsize_t)n};
    hsize_t mdims[2] = {(hsize_t)n, (hsize_t)n};
    hid_t fs = H5Dget_space(c->attn), ms = H5Screate_simple(2, mdims, NULL);
    if (fs < 0 || ms < 0 ||
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
        H5Dread(c->attn, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, out) < 0) {
        am_fail(e, "%s: reading /attention[%d, %d, %d, %d, :%d, :%d] failed", c->path, p, a, l, h,
                n, n);
        goto out;
    }
    rc = 0;
out:
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    return rc;
}

void am_plot_labels_free(char **labels, int n) { am_plot_strings_free(labels, n); }
