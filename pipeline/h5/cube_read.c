/* The one reader of cube.h5 files (see cube_read.h). */
#include "h5/cube_read.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5/h5io.h"
#include "h5/heaps.h"
#include "h5/schema.h"

#define CUBE_HINT "expected a cube, schema " AM_SCHEMA_CUBE

/* Shape of an optional dataset: 1 and rank/dims when present, 0 when absent, -1 on error. */
static int opt_shape(const am_cube *c, const char *name, int *rank, hsize_t *dims, am_err *e) {
    if (!am_h5_exists(c->file, name)) return 0;
    if (am_h5_shape(c->file, name, rank, dims, e) < 0) return am_wrap(e, "%s", c->path);
    return 1;
}

/* Read a numeric dataset whose shape the caller has checked, as mem_type. */
static int read_num(const am_cube *c, const char *name, hid_t mem_type, int rank, void **out, am_err *e) {
    hsize_t dims[H5S_MAX_RANK];
    if (am_h5_read(c->file, name, mem_type, rank, dims, out, e) < 0) return am_wrap(e, "%s", c->path);
    return 0;
}

/* Optional 1-D int dataset `name` of n entries (default 0..n-1). */
static int read_index(am_cube *c, const char *name, int n, int32_t **out, am_err *e) {
    int rank = 0;
    hsize_t dims[H5S_MAX_RANK];
    const int r = opt_shape(c, name, &rank, dims, e);
    if (r < 0) return -1;
    if (r == 0) {
        int32_t *v = am_malloc((size_t)n, sizeof *v, name, e);
        if (!v) return -1;
        for (int i = 0; i < n; i++) v[i] = i;
        *out = v;
        return 0;
    }
    if (rank != 1 || dims[0] != (hsize_t)n)
        return am_fail_code(e, AM_E_CORRUPT, "%s: /%s has shape [%llu%s] but /attention has %d entries on that axis",
                            c->path, name, rank ? (unsigned long long)dims[0] : 0ull, rank == 1 ? "" : ",...", n);
    return read_num(c, name, H5T_NATIVE_INT32, 1, (void **)out, e);
}

/* Optional string dataset of rank 1 [n0], rank 2 [n0, n1] or rank 3 [n0, n1, S]; *out stays NULL when absent. */
static int read_strings(am_cube *c, const char *name, int rank, int n0, int n1, const char *what, char ***out,
                        am_err *e) {
    int r = 0;
    hsize_t dims[H5S_MAX_RANK];
    const int has = opt_shape(c, name, &r, dims, e);
    if (has <= 0) return has;
    if (r != rank || dims[0] != (hsize_t)n0 || (rank >= 2 && dims[1] != (hsize_t)n1) ||
        (rank == 3 && dims[2] != (hsize_t)c->S)) {
        if (rank == 3)
            return am_fail_code(e, AM_E_CORRUPT, "%s: /%s must be [%d, %d, %d] strings (%s)", c->path, name, n0, n1,
                                c->S, what);
        if (rank == 1)
            return am_fail_code(e, AM_E_CORRUPT, "%s: /%s must be [%d] strings (%s)", c->path, name, n0, what);
        return am_fail_code(e, AM_E_CORRUPT, "%s: /%s must be [%d, %d] strings (%s)", c->path, name, n0, n1, what);
    }
    if (am_h5_read_strs(c->file, name, rank, dims, out, e) < 0) return am_wrap(e, "%s", c->path);
    return 0;
}

/* Optional string root attribute (NULL when absent, not a string or not a single value). */
static int read_attr(const am_cube *c, const char *name, char **out, am_err *e) {
    int ok = 0;
    *out = NULL;
    if (!am_h5_attr_exists(c->file, name)) return 0;
    hid_t a = H5Aopen(c->file, name, H5P_DEFAULT), t = H5I_INVALID_HID, s = H5I_INVALID_HID;
    if (a >= 0) t = H5Aget_type(a);
    if (a >= 0) s = H5Aget_space(a);
    if (t >= 0 && s >= 0) ok = H5Tget_class(t) == H5T_STRING && H5Sget_simple_extent_npoints(s) == 1;
    if (s >= 0) H5Sclose(s);
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    if (a < 0 || t < 0 || s < 0) {
        am_h5_fail(e, __FILE__, __LINE__, "H5Aopen", name);
        return am_wrap(e, "%s: cannot read the root attributes", c->path);
    }
    if (!ok) return 0;
    if (am_h5_read_attr_str(c->file, name, out, e) < 0)
        return am_wrap(e, "%s: cannot read the root attributes", c->path);
    return 0;
}

/* Model name from the path: NAME for .../NAME/cube.h5, else the file's stem. */
static char *name_from_path(const char *path, am_err *e) {
    char *res = NULL, *d = strdup(path), *b = strdup(path);
    if (d && b) {
        const char *base = basename(b);
        const int is_cube = strcmp(base, "cube.h5") == 0;
        res = strdup(is_cube ? basename(dirname(d)) : base);
        char *dot = res && !is_cube ? strrchr(res, '.') : NULL;
        if (dot && dot != res) *dot = 0;
    }
    if (!res) am_fail_code(e, AM_E_NOMEM, "%s: out of memory", path);
    free(d);
    free(b);
    return res;
}

/* /attention: shape, axes and stored type. */
static int open_attention(am_cube *c, am_err *e) {
    int rank = 0;
    hsize_t dims[H5S_MAX_RANK];
    hid_t t = H5I_INVALID_HID;
    if (!am_h5_exists(c->file, "attention"))
        return am_fail_code(e, AM_E_NOTFOUND, "%s: missing dataset /attention (" CUBE_HINT ", see docs/schema.md)",
                            c->path);
    if (am_h5_shape(c->file, "attention", &rank, dims, e) < 0) return am_wrap(e, "%s", c->path);
    if (rank != 6 || dims[4] != dims[5])
        return am_fail_code(e, AM_E_CORRUPT,
                            "%s: /attention must be [pair, alpha, layer, head, query, key] with "
                            "query == key (rank %d found)",
                            c->path, rank);
    for (int i = 0; i < 6; i++)
        if (dims[i] == 0 || dims[i] > 1u << 24)
            return am_fail_code(e, AM_E_CORRUPT, "%s: /attention axis %d has size %llu", c->path, i,
                                (unsigned long long)dims[i]);
    if (dims[0] * dims[1] > 1u << 30)
        return am_fail_code(e, AM_E_CORRUPT, "%s: /attention claims %llu x %llu units (corrupt file?)", c->path,
                            (unsigned long long)dims[0], (unsigned long long)dims[1]);
    c->P = (int)dims[0], c->A = (int)dims[1], c->L = (int)dims[2], c->H = (int)dims[3], c->S = (int)dims[4];
    c->attn = H5Dopen2(c->file, "attention", H5P_DEFAULT);
    if (AM_H5ID(c->attn, e, "attention")) return am_wrap(e, "%s: cannot open /attention", c->path);
    t = H5Dget_type(c->attn);
    if (AM_H5ID(t, e, "attention")) return am_wrap(e, "%s", c->path);
    const H5T_class_t cls = H5Tget_class(t);
    const size_t size = H5Tget_size(t);
    H5Tclose(t);
    c->dtype = size == 2 ? "float16" : size == 4 ? "float32" : size == 8 ? "float64" : NULL;
    if (cls != H5T_FLOAT || !c->dtype)
        return am_fail_code(e, AM_E_CORRUPT,
                            "%s: /attention must be float16, float32 or float64 (found a %s type of "
                            "%zu bytes)",
                            c->path, cls == H5T_FLOAT ? "float" : "non-float", size);
    return 0;
}

/* /pair and /alpha (required), /layer and /head (default 0..n-1). */
static int read_axes(am_cube *c, am_err *e) {
    int rank = 0;
    hsize_t dims[H5S_MAX_RANK];
    if (!am_h5_exists(c->file, "pair"))
        return am_fail_code(e, AM_E_NOTFOUND, "%s: missing dataset /pair: pair keys are required", c->path);
    if (read_strings(c, "pair", 1, c->P, 0, "one per pair", &c->pair, e) < 0) return -1;
    if (!am_h5_exists(c->file, "alpha"))
        return am_fail_code(e, AM_E_NOTFOUND, "%s: missing dataset /alpha: alphas are required", c->path);
    if (am_h5_shape(c->file, "alpha", &rank, dims, e) < 0) return am_wrap(e, "%s", c->path);
    if (rank != 1 || dims[0] != (hsize_t)c->A)
        return am_fail_code(e, AM_E_CORRUPT, "%s: /alpha must be float64 [%d] (one per alpha)", c->path, c->A);
    if (read_num(c, "alpha", H5T_NATIVE_DOUBLE, 1, (void **)&c->alpha, e) < 0) return -1;
    if (read_index(c, "layer", c->L, &c->layer, e) < 0 || read_index(c, "head", c->H, &c->head, e) < 0) return -1;
    return 0;
}

/* Per-unit and per-pair datasets, all optional. */
static int read_units(am_cube *c, am_err *e) {
    int rank = 0, r;
    hsize_t dims[H5S_MAX_RANK], tb = 0;
    const int U = c->P * c->A;
    r = opt_shape(c, "length", &rank, dims, e);
    if (r < 0) return -1;
    c->has_length = r;
    if (r) {
        if (rank != 2 || dims[0] != (hsize_t)c->P || dims[1] != (hsize_t)c->A)
            return am_fail_code(e, AM_E_CORRUPT, "%s: /length must be int32 [%d, %d] (pair, alpha)", c->path, c->P,
                                c->A);
        if (read_num(c, "length", H5T_NATIVE_INT32, 2, (void **)&c->length, e) < 0) return -1;
        for (int i = 0; i < U; i++)
            if (c->length[i] < 0 || c->length[i] > c->S)
                return am_fail_code(e, AM_E_CORRUPT, "%s: /length[%d, %d] = %d is outside [0, %d]", c->path, i / c->A,
                                    i % c->A, c->length[i], c->S);
    } else {
        c->length = am_malloc((size_t)U, sizeof *c->length, "length", e);
        if (!c->length) return -1;
        for (int i = 0; i < U; i++) c->length[i] = c->S;
    }

    r = opt_shape(c, "prompt_length", &rank, dims, e);
    if (r < 0) return -1;
    if (r) {
        if (rank != 1 || dims[0] != (hsize_t)c->P)
            return am_fail_code(e, AM_E_CORRUPT, "%s: /prompt_length must be int32 [%d] (one per pair)", c->path, c->P);
        if (read_num(c, "prompt_length", H5T_NATIVE_INT32, 1, (void **)&c->prompt_length, e) < 0) return -1;
        for (int p = 0; p < c->P; p++)
            if (c->prompt_length[p] < 0 || c->prompt_length[p] > c->S)
                return am_fail_code(e, AM_E_CORRUPT, "%s: /prompt_length[%d] = %d is outside [0, %d]", c->path, p,
                                    c->prompt_length[p], c->S);
    }

    /* ids_a and ids_b [P, T]: both or neither */
    r = opt_shape(c, "ids_a", &rank, dims, e);
    if (r < 0) return -1;
    if (r && am_h5_exists(c->file, "ids_b")) {
        if (rank != 2 || dims[0] != (hsize_t)c->P || dims[1] > 1u << 24)
            return am_fail_code(e, AM_E_CORRUPT, "%s: /ids_a must be int32 [%d, T] (pair, token)", c->path, c->P);
        tb = dims[1];
        if (am_h5_shape(c->file, "ids_b", &rank, dims, e) < 0) return am_wrap(e, "%s", c->path);
        if (rank != 2 || dims[0] != (hsize_t)c->P || dims[1] != tb)
            return am_fail_code(e, AM_E_CORRUPT, "%s: /ids_b must be int32 [%d, %llu] (pair, token) like /ids_a",
                                c->path, c->P, (unsigned long long)tb);
        c->T = (int)tb;
        if (read_num(c, "ids_a", H5T_NATIVE_INT32, 2, (void **)&c->ids_a, e) < 0 ||
            read_num(c, "ids_b", H5T_NATIVE_INT32, 2, (void **)&c->ids_b, e) < 0)
            return -1;
    }

    r = opt_shape(c, "generated_ids", &rank, dims, e);
    if (r < 0) return -1;
    if (r) {
        if (rank != 3 || dims[0] != (hsize_t)c->P || dims[1] != (hsize_t)c->A || dims[2] > 1u << 24)
            return am_fail_code(e, AM_E_CORRUPT, "%s: /generated_ids must be int32 [%d, %d, N] (pair, alpha, step)",
                                c->path, c->P, c->A);
        c->N = (int)dims[2];
        if (read_num(c, "generated_ids", H5T_NATIVE_INT32, 3, (void **)&c->generated, e) < 0) return -1;
    }

    if (read_strings(c, "text", 2, c->P, c->A, "pair, alpha", &c->text, e) < 0 ||
        read_strings(c, "prompt_a", 1, c->P, 0, "one per pair", &c->prompt_a, e) < 0 ||
        read_strings(c, "prompt_b", 1, c->P, 0, "one per pair", &c->prompt_b, e) < 0 ||
        read_strings(c, "tokens", 3, c->P, c->A, "pair, alpha, position", &c->tokens, e) < 0)
        return -1;
    return 0;
}

static int read_attrs(am_cube *c, am_err *e) {
    if (read_attr(c, "schema", &c->schema, e) < 0 || read_attr(c, "model", &c->model, e) < 0 ||
        read_attr(c, "fingerprint", &c->fingerprint, e) < 0 ||
        read_attr(c, "checkpoint_fingerprint", &c->checkpoint_fingerprint, e) < 0 ||
        read_attr(c, "caveat", &c->caveat, e) < 0 || read_attr(c, "config_yaml", &c->config_yaml, e) < 0 ||
        read_attr(c, "config_hash", &c->config_hash, e) < 0 ||
        read_attr(c, "storage_dtype", &c->storage_dtype, e) < 0 || read_attr(c, "mix", &c->mix, e) < 0)
        return -1;
    c->name = c->model && c->model[0] ? strdup(c->model) : name_from_path(c->path, e);
    if (!c->name) return am_fail_code(e, AM_E_NOMEM, "%s: out of memory", c->path);
    return 0;
}

int am_cube_open_schema(am_cube *c, const char *path, const char *schema, am_err *e) {
    memset(c, 0, sizeof *c);
    c->file = c->attn = H5I_INVALID_HID;
    if (strlen(path) >= sizeof c->path) return am_fail_code(e, AM_E_USAGE, "%s: path too long", path);
    snprintf(c->path, sizeof c->path, "%s", path);
    if (access(path, R_OK) == 0 && am_h5_check_heaps(path, e) < 0) return -1;
    c->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (c->file < 0) {
        H5Eclear2(H5E_DEFAULT);
        if (access(path, R_OK) != 0) return am_fail_errno(e, "%s: cannot open", path);
        return am_fail_code(e, AM_E_CORRUPT, "%s: not an HDF5 file (" CUBE_HINT ")", path);
    }
    if ((schema && am_h5_check_schema(c->file, c->path, schema, e) < 0) || open_attention(c, e) < 0 ||
        read_axes(c, e) < 0 || read_units(c, e) < 0 || read_attrs(c, e) < 0) {
        am_cube_close(c);
        return -1;
    }
    return 0;
}

int am_cube_open(am_cube *c, const char *path, am_err *e) { return am_cube_open_schema(c, path, NULL, e); }

void am_cube_close(am_cube *c) {
    if (c->attn > 0) H5Dclose(c->attn);
    if (c->file > 0) H5Fclose(c->file);
    const size_t P = c->P > 0 ? (size_t)c->P : 0, U = P * (c->A > 0 ? (size_t)c->A : 0);
    am_h5_free_strs(c->pair, P);
    am_h5_free_strs(c->text, U);
    am_h5_free_strs(c->prompt_a, P);
    am_h5_free_strs(c->prompt_b, P);
    am_h5_free_strs(c->tokens, U * (c->S > 0 ? (size_t)c->S : 0));
    free(c->alpha), free(c->layer), free(c->head), free(c->length), free(c->prompt_length);
    free(c->ids_a), free(c->ids_b), free(c->generated);
    free(c->schema), free(c->model), free(c->fingerprint), free(c->checkpoint_fingerprint), free(c->caveat);
    free(c->config_yaml), free(c->config_hash), free(c->storage_dtype), free(c->name), free(c->mix);
    memset(c, 0, sizeof *c);
    c->file = c->attn = H5I_INVALID_HID;
}

/* Read the hyperslab start/count of /attention into out (float32, contiguous). */
static int read_slab(const am_cube *c, const hsize_t *start, const hsize_t *count, float *out) {
    int ok = 0;
    hid_t fs = H5Dget_space(c->attn), ms = H5Screate_simple(6, count, NULL);
    if (fs >= 0 && ms >= 0 && H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) >= 0)
        ok = H5Dread(c->attn, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, out) >= 0;
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    return ok;
}

int am_cube_read_map(const am_cube *c, int p, int a, int l, int h, float *out, am_err *e) {
    if (p < 0 || p >= c->P || a < 0 || a >= c->A || l < 0 || l >= c->L || h < 0 || h >= c->H)
        return am_fail_code(e, AM_E_USAGE, "%s: map (%d, %d, %d, %d) outside /attention [%d, %d, %d, %d, ...]", c->path,
                            p, a, l, h, c->P, c->A, c->L, c->H);
    const int n = c->length[p * c->A + a];
    if (n == 0) return 0;
    const hsize_t start[6] = {(hsize_t)p, (hsize_t)a, (hsize_t)l, (hsize_t)h, 0, 0};
    const hsize_t count[6] = {1, 1, 1, 1, (hsize_t)n, (hsize_t)n};
    if (!read_slab(c, start, count, out)) {
        am_h5_fail(e, __FILE__, __LINE__, "H5Dread", "attention");
        return am_wrap(e, "%s: cannot read /attention[%d, %d, %d, %d, :%d, :%d] (truncated or corrupt file?)", c->path,
                       p, a, l, h, n, n);
    }
    return 0;
}

int am_cube_read_block(const am_cube *c, int p, int l, float *out, am_err *e) {
    if (p < 0 || p >= c->P || l < 0 || l >= c->L)
        return am_fail_code(e, AM_E_USAGE, "%s: block (pair %d, layer %d) outside /attention [%d, %d, %d, ...]",
                            c->path, p, l, c->P, c->A, c->L);
    const hsize_t start[6] = {(hsize_t)p, 0, (hsize_t)l, 0, 0, 0};
    const hsize_t count[6] = {1, (hsize_t)c->A, 1, (hsize_t)c->H, (hsize_t)c->S, (hsize_t)c->S};
    if (!read_slab(c, start, count, out)) {
        am_h5_fail(e, __FILE__, __LINE__, "H5Dread", "attention");
        return am_wrap(e, "%s: cannot read /attention[%d, :, %d] (truncated or corrupt file?)", c->path, p, l);
    }
    return 0;
}

int am_cube_read_unit(const am_cube *c, int p, int a, float *out, am_err *e) {
    if (p < 0 || p >= c->P || a < 0 || a >= c->A)
        return am_fail_code(e, AM_E_USAGE, "%s: unit (pair %d, alpha %d) outside /attention [%d, %d, ...]", c->path, p,
                            a, c->P, c->A);
    const hsize_t start[6] = {(hsize_t)p, (hsize_t)a, 0, 0, 0, 0};
    const hsize_t count[6] = {1, 1, (hsize_t)c->L, (hsize_t)c->H, (hsize_t)c->S, (hsize_t)c->S};
    if (!read_slab(c, start, count, out)) {
        am_h5_fail(e, __FILE__, __LINE__, "H5Dread", "attention");
        return am_wrap(e, "%s: cannot read /attention[%d, %d] (truncated or corrupt file?)", c->path, p, a);
    }
    return 0;
}
