/* The analysis stage: cubes in, analysis.h5 out (layout in docs/schema.md).
 *
 * Per model, maps are read one (pair, layer) block [A,H,S,S] at a time as
 * native float (float16 or float32 storage), so memory stays at one block
 * plus the per-map tables. Points are ordered model, pair, alpha, layer, head. */
#include "analysis/run.h"
#include "analysis/heads.h"
#include "analysis/frozen.h"
#include "h5/h5io.h"
#include "model/qwen3.h"

#include <hdf5.h>
#include <hdf5_hl.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analysis/analysis.h"
#include "base/hash.h"
#include "h5/h5io.h"
#include "analysis/pca.h"

#define AN_SCHEMA "attnmix.analysis/1"

/* ---- small HDF5 helpers (all return 0 / -1 with a message) ------------------ */

#define H5CHK(call, ...)                                                   \
    do {                                                                   \
        if ((call) < 0) { am_fail(e, __VA_ARGS__); goto out; }             \
    } while (0)

static void am_an_close(hid_t *h) {
    if (*h < 0) return;
    switch (H5Iget_type(*h)) {
    case H5I_FILE: H5Fclose(*h); break;
    case H5I_GROUP: H5Gclose(*h); break;
    case H5I_DATASET: H5Dclose(*h); break;
    case H5I_DATASPACE: H5Sclose(*h); break;
    case H5I_DATATYPE: H5Tclose(*h); break;
    case H5I_ATTR: H5Aclose(*h); break;
    default: break;
    }
    *h = -1;
}

static int am_an_exists(hid_t loc, const char *name) { return H5Lexists(loc, name, H5P_DEFAULT) > 0; }

/* Shape of dataset `name`: rank into *rank (<= 8), dims into dims[8]. */
static int am_an_shape(hid_t loc, const char *file, const char *name, int *rank, hsize_t *dims,
                       am_err *e) {
    hid_t d = -1, s = -1;
    int rc = -1;
    if (!am_an_exists(loc, name))
        return am_fail(e, "%s: missing dataset /%s", file, name);
    H5CHK(d = H5Dopen2(loc, name, H5P_DEFAULT), "%s: cannot open dataset /%s", file, name);
    H5CHK(s = H5Dget_space(d), "%s: /%s: no dataspace", file, name);
    int r = H5Sget_simple_extent_ndims(s);
    if (r < 0 || r > 8) { am_fail(e, "%s: /%s: unsupported rank %d", file, name, r); goto out; }
    H5Sget_simple_extent_dims(s, dims, NULL);
    *rank = r;
    rc = 0;
out:
    am_an_close(&s);
    am_an_close(&d);
    return rc;
}

/* Read a whole numeric dataset converted to memtype into buf (sized by caller). */
static int am_an_read_all(hid_t loc, const char *file, const char *name, hid_t memtype, void *buf,
                          am_err *e) {
    hid_t d = -1;
    int rc = -1;
    H5CHK(d = H5Dopen2(loc, name, H5P_DEFAULT), "%s: cannot open dataset /%s", file, name);
    H5CHK(H5Dread(d, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf),
          "%s: cannot read /%s (wrong type?)", file, name);
    rc = 0;
out:
    am_an_close(&d);
    return rc;
}

/* 1-D string dataset (fixed or variable length) -> n malloc'd strings. */
static int am_an_read_strings(hid_t loc, const char *file, const char *name, int n, char ***out,
                              am_err *e) {
    hid_t d = -1, ft = -1, mt = -1;
    char **vs = NULL, *fixed = NULL, **res = NULL;
    int rc = -1;
    H5CHK(d = H5Dopen2(loc, name, H5P_DEFAULT), "%s: cannot open dataset /%s", file, name);
    H5CHK(ft = H5Dget_type(d), "%s: /%s: no type", file, name);
    if (H5Tget_class(ft) != H5T_STRING) { am_fail(e, "%s: /%s is not a string dataset", file, name); goto out; }
    res = calloc((size_t)n, sizeof *res);
    if (!res) { am_fail(e, "out of memory"); goto out; }
    if (H5Tis_variable_str(ft) > 0) {
        vs = calloc((size_t)n, sizeof *vs);
        mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(ft));
        H5CHK(H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, vs), "%s: cannot read /%s", file, name);
        for (int i = 0; i < n; i++) res[i] = strdup(vs[i] ? vs[i] : "");
        hid_t sp = H5Dget_space(d);
        H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, vs);
        H5Sclose(sp);
    } else {
        size_t sz = H5Tget_size(ft);
        fixed = calloc((size_t)n, sz + 1);
        mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, sz + 1);
        H5CHK(H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, fixed), "%s: cannot read /%s", file, name);
        for (int i = 0; i < n; i++) res[i] = strndup(fixed + (size_t)i * (sz + 1), sz);
    }
    for (int i = 0; i < n; i++)
        if (!res[i]) { am_fail(e, "out of memory"); goto out; }
    *out = res;
    res = NULL;
    rc = 0;
out:
    if (res) {
        for (int i = 0; i < n; i++) free(res[i]);
        free(res);
    }
    free(vs);
    free(fixed);
    am_an_close(&mt);
    am_an_close(&ft);
    am_an_close(&d);
    return rc;
}

/* String attribute of obj: 1 and *out malloc'd if present, 0 if absent, -1 on error. */
static int am_an_get_attr_string(hid_t obj, const char *name, char **out) {
    hid_t a = -1, t = -1, mt = -1;
    int rc = -1;
    *out = NULL;
    if (H5Aexists(obj, name) <= 0) return 0;
    if ((a = H5Aopen(obj, name, H5P_DEFAULT)) < 0) goto out;
    if ((t = H5Aget_type(a)) < 0) goto out;
    if (H5Tget_class(t) != H5T_STRING) { rc = 0; goto out; }
    if (H5Tis_variable_str(t) > 0) {
        char *v = NULL;
        mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(t));
        hid_t sp = H5Aget_space(a);
        if (H5Sget_simple_extent_npoints(sp) != 1) { H5Sclose(sp); rc = 0; goto out; }
        if (H5Aread(a, mt, &v) < 0) { H5Sclose(sp); goto out; }
        *out = strdup(v ? v : "");
        H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, &v);
        H5Sclose(sp);
    } else {
        size_t sz = H5Tget_size(t);
        char *buf = calloc(1, sz + 1);
        mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, sz + 1);
        if (!buf || H5Aread(a, mt, buf) < 0) { free(buf); goto out; }
        *out = buf;
    }
    rc = *out ? 1 : -1;
out:
    am_an_close(&mt);
    am_an_close(&t);
    am_an_close(&a);
    return rc;
}

static hid_t am_an_vlen_utf8(void) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

static int am_an_attr_str(hid_t obj, const char *name, const char *v, am_err *e) {
    hid_t t = am_an_vlen_utf8(), s = H5Screate(H5S_SCALAR), a = -1;
    int rc = -1;
    H5CHK(a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT), "cannot create attribute %s", name);
    H5CHK(H5Awrite(a, t, &v), "cannot write attribute %s", name);
    rc = 0;
out:
    am_an_close(&a);
    am_an_close(&s);
    am_an_close(&t);
    return rc;
}

static int am_an_attr_strs(hid_t obj, const char *name, int n, const char *const *v, am_err *e) {
    hsize_t dim = (hsize_t)n;
    hid_t t = am_an_vlen_utf8(), s = H5Screate_simple(1, &dim, NULL), a = -1;
    int rc = -1;
    H5CHK(a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT), "cannot create attribute %s", name);
    H5CHK(H5Awrite(a, t, v), "cannot write attribute %s", name);
    rc = 0;
out:
    am_an_close(&a);
    am_an_close(&s);
    am_an_close(&t);
    return rc;
}

static int am_an_attr_num(hid_t obj, const char *name, hid_t ftype, hid_t mtype, const void *v,
                          am_err *e) {
    hid_t s = H5Screate(H5S_SCALAR), a = -1;
    int rc = -1;
    H5CHK(a = H5Acreate2(obj, name, ftype, s, H5P_DEFAULT, H5P_DEFAULT), "cannot create attribute %s", name);
    H5CHK(H5Awrite(a, mtype, v), "cannot write attribute %s", name);
    rc = 0;
out:
    am_an_close(&a);
    am_an_close(&s);
    return rc;
}

static int am_an_attr_f64(hid_t obj, const char *name, double v, am_err *e) {
    return am_an_attr_num(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v, e);
}

static int am_an_attr_i64(hid_t obj, const char *name, long long v, am_err *e) {
    return am_an_attr_num(obj, name, H5T_STD_I64LE, H5T_NATIVE_LLONG, &v, e);
}

/* Create dataset name [rank dims] of ftype; chunk (may be NULL) enables
 * shuffle + deflate 4. Writes data (may be NULL). Returns the open dataset or -1. */
static hid_t am_an_create(hid_t loc, const char *name, hid_t ftype, int rank, const hsize_t *dims,
                          const hsize_t *chunk, am_err *e) {
    hid_t s = H5Screate_simple(rank, dims, NULL), p = H5Pcreate(H5P_DATASET_CREATE), d = -1;
    if (chunk) {
        H5Pset_chunk(p, rank, chunk);
        H5Pset_shuffle(p);
        H5Pset_deflate(p, 4);
    }
    if (H5Tequal(ftype, H5T_IEEE_F64LE) > 0 || H5Tequal(ftype, H5T_IEEE_F32LE) > 0) {
        double nan = NAN;
        float nanf = NAN;
        H5Pset_fill_value(p, H5Tequal(ftype, H5T_IEEE_F64LE) > 0 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_FLOAT,
                          H5Tequal(ftype, H5T_IEEE_F64LE) > 0 ? (void *)&nan : (void *)&nanf);
    }
    d = H5Dcreate2(loc, name, ftype, s, H5P_DEFAULT, p, H5P_DEFAULT);
    if (d < 0) am_fail(e, "cannot create dataset %s", name);
    H5Pclose(p);
    H5Sclose(s);
    return d;
}

static int am_an_write(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank,
                       const hsize_t *dims, const void *data, am_err *e) {
    int rc = -1;
    hsize_t total = 1;
    for (int i = 0; i < rank; i++) total *= dims[i];
    hid_t d = am_an_create(loc, name, ftype, rank, dims, NULL, e);
    if (d < 0) return -1;
    if (total > 0) H5CHK(H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "cannot write %s", name);
    rc = 0;
out:
    am_an_close(&d);
    return rc;
}

static int am_an_write_strings(hid_t loc, const char *name, int n, const char *const *v, am_err *e) {
    hsize_t dim = (hsize_t)n;
    hid_t t = am_an_vlen_utf8();
    int rc = am_an_write(loc, name, t, t, 1, &dim, v, e);
    am_an_close(&t);
    return rc;
}

/* Write a hyperslab of an open dataset: start/count [rank]. */
static int am_an_write_slab(hid_t d, hid_t mtype, int rank, const hsize_t *start,
                            const hsize_t *count, const void *buf, am_err *e) {
    hid_t fs = H5Dget_space(d), ms = H5Screate_simple(rank, count, NULL);
    int rc = -1;
    H5CHK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL), "bad hyperslab");
    H5CHK(H5Dwrite(d, mtype, ms, fs, H5P_DEFAULT, buf), "cannot write hyperslab");
    rc = 0;
out:
    am_an_close(&ms);
    am_an_close(&fs);
    return rc;
}

/* Make dataset `scale` (in loc) a dimension scale and attach it to dim idx of dset. */
static int am_an_attach(hid_t loc, const char *scale, hid_t dset, unsigned idx, am_err *e) {
    hid_t s = -1;
    int rc = -1;
    H5CHK(s = H5Dopen2(loc, scale, H5P_DEFAULT), "cannot open scale %s", scale);
    if (H5DSis_scale(s) <= 0) H5CHK(H5DSset_scale(s, scale), "cannot make %s a dimension scale", scale);
    H5CHK(H5DSattach_scale(dset, s, idx), "cannot attach scale %s", scale);
    rc = 0;
out:
    am_an_close(&s);
    return rc;
}

static int am_an_attach_named(hid_t loc, const char *dname, const char *const *scales, int rank,
                              am_err *e) {
    hid_t d = -1;
    int rc = -1;
    H5CHK(d = H5Dopen2(loc, dname, H5P_DEFAULT), "cannot open %s", dname);
    for (int i = 0; i < rank; i++)
        if (scales[i] && am_an_attach(loc, scales[i], d, (unsigned)i, e)) goto out;
    rc = 0;
out:
    am_an_close(&d);
    return rc;
}

/* ---- inputs -------------------------------------------------------------- */

typedef struct an_cube {
    const char *name, *path;
    hid_t file, att;         /* open file and /attention */
    int P, A, L, H, S;
    char **pairs;            /* [P] */
    double *alpha;           /* [A] */
    int *layer;              /* [L] model layer index */
    int *head;               /* [H] query head index */
    int *length;             /* [P*A] valid size n of each unit */
    int has_length;
    int *pair_index;         /* [P] into the union of pair keys */
    int a0, a1;              /* alpha index of 0 and 1, -1 if absent */
    size_t base;             /* first point index */
    char *ckpt_fp, *caveat, *config_yaml, *config_hash, *dtype;
    char file_fp[17];
} an_cube;

static void an_cube_free(an_cube *c) {
    am_an_close(&c->att);
    am_an_close(&c->file);
    if (c->pairs)
        for (int i = 0; i < c->P; i++) free(c->pairs[i]);
    free(c->pairs);
    free(c->alpha);
    free(c->layer);
    free(c->head);
    free(c->length);
    free(c->pair_index);
    free(c->ckpt_fp);
    free(c->caveat);
    free(c->config_yaml);
    free(c->config_hash);
    free(c->dtype);
}

static int file_fingerprint(const char *path, char *hex, am_err *e) {
    FILE *f = fopen(path, "rb");
    if (!f) return am_fail_errno(e, "%s: cannot open", path);
    static unsigned char buf[1 << 20];
    uint64_t h = AM_FNV_INIT;
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) h = am_fnv1a(h, buf, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) return am_fail_errno(e, "%s: read error", path);
    am_hash_hex(h, hex);
    return 0;
}

/* Optional 1-D int dataset `name` of length n (default 0..n-1). */
static int read_index(an_cube *c, const char *name, int n, int **out, am_err *e) {
    int *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v) return am_fail(e, "out of memory");
    *out = v;
    if (!am_an_exists(c->file, name)) {
        for (int i = 0; i < n; i++) v[i] = i;
        return 0;
    }
    int rank;
    hsize_t dims[8];
    if (am_an_shape(c->file, c->path, name, &rank, dims, e)) return -1;
    if (rank != 1 || (int)dims[0] != n)
        return am_fail(e, "%s: /%s has shape [%llu%s] but /attention has %d entries on that axis",
                       c->path, name, (unsigned long long)dims[0], rank == 1 ? "" : ",...", n);
    return am_an_read_all(c->file, c->path, name, H5T_NATIVE_INT, v, e);
}

static int cube_open(an_cube *c, am_err *e) {
    int rank;
    hsize_t dims[8];
    hid_t t = -1;
    c->file = c->att = -1;
    if (access(c->path, R_OK) == 0 && am_h5_check_heaps(c->path, e)) return -1;
    c->file = H5Fopen(c->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (c->file < 0) {
        if (access(c->path, R_OK) != 0) return am_fail_errno(e, "%s: cannot open", c->path);
        return am_fail(e, "%s: not an HDF5 file (expected a cube, schema attnmix.cube/1)", c->path);
    }
    if (!am_an_exists(c->file, "attention"))
        return am_fail(e, "%s: missing dataset /attention (expected a cube, schema attnmix.cube/1, "
                       "see docs/schema.md)", c->path);
    if (am_an_shape(c->file, c->path, "attention", &rank, dims, e)) return -1;
    if (rank != 6 || dims[4] != dims[5])
        return am_fail(e, "%s: /attention must be [pair, alpha, layer, head, query, key] with "
                       "query == key (rank %d found)", c->path, rank);
    for (int i = 0; i < 6; i++)
        if (dims[i] == 0 || dims[i] > 1u << 24)
            return am_fail(e, "%s: /attention axis %d has size %llu", c->path, i, (unsigned long long)dims[i]);
    c->P = (int)dims[0]; c->A = (int)dims[1]; c->L = (int)dims[2]; c->H = (int)dims[3]; c->S = (int)dims[4];
    c->att = H5Dopen2(c->file, "attention", H5P_DEFAULT);
    if (c->att < 0) return am_fail(e, "%s: cannot open /attention", c->path);
    t = H5Dget_type(c->att);
    H5T_class_t cls = H5Tget_class(t);
    size_t tsz = H5Tget_size(t);
    H5Tclose(t);
    if (cls != H5T_FLOAT)
        return am_fail(e, "%s: /attention must be float16 or float32 (found a non-float type)", c->path);
    c->dtype = strdup(tsz == 2 ? "float16" : tsz == 4 ? "float32" : "float64");

    /* pair keys and alphas label the points: both required */
    if (am_an_shape(c->file, c->path, "pair", &rank, dims, e))
        return am_wrap(e, "pair keys are required");
    if (rank != 1 || (int)dims[0] != c->P)
        return am_fail(e, "%s: /pair must be [%d] strings (one per pair)", c->path, c->P);
    if (am_an_read_strings(c->file, c->path, "pair", c->P, &c->pairs, e)) return -1;
    if (am_an_shape(c->file, c->path, "alpha", &rank, dims, e))
        return am_wrap(e, "alphas are required");
    if (rank != 1 || (int)dims[0] != c->A)
        return am_fail(e, "%s: /alpha must be float64 [%d] (one per alpha)", c->path, c->A);
    c->alpha = malloc((size_t)c->A * sizeof *c->alpha);
    if (!c->alpha || am_an_read_all(c->file, c->path, "alpha", H5T_NATIVE_DOUBLE, c->alpha, e)) return -1;
    if (read_index(c, "layer", c->L, &c->layer, e) || read_index(c, "head", c->H, &c->head, e)) return -1;

    c->length = malloc((size_t)c->P * c->A * sizeof *c->length);
    if (!c->length) return am_fail(e, "out of memory");
    c->has_length = am_an_exists(c->file, "length");
    if (c->has_length) {
        if (am_an_shape(c->file, c->path, "length", &rank, dims, e)) return -1;
        if (rank != 2 || (int)dims[0] != c->P || (int)dims[1] != c->A)
            return am_fail(e, "%s: /length must be int32 [%d, %d] (pair, alpha)", c->path, c->P, c->A);
        if (am_an_read_all(c->file, c->path, "length", H5T_NATIVE_INT, c->length, e)) return -1;
        for (int i = 0; i < c->P * c->A; i++)
            if (c->length[i] < 0 || c->length[i] > c->S)
                return am_fail(e, "%s: /length[%d, %d] = %d is outside [0, %d]", c->path, i / c->A,
                               i % c->A, c->length[i], c->S);
    } else {
        for (int i = 0; i < c->P * c->A; i++) c->length[i] = c->S;
    }
    c->a0 = c->a1 = -1;
    for (int a = 0; a < c->A; a++) {
        if (c->alpha[a] == 0.0 && c->a0 < 0) c->a0 = a;
        if (c->alpha[a] == 1.0 && c->a1 < 0) c->a1 = a;
    }
    if (am_an_get_attr_string(c->file, "checkpoint_fingerprint", &c->ckpt_fp) < 0 ||
        am_an_get_attr_string(c->file, "caveat", &c->caveat) < 0 ||
        am_an_get_attr_string(c->file, "config_yaml", &c->config_yaml) < 0 ||
        am_an_get_attr_string(c->file, "config_hash", &c->config_hash) < 0)
        return am_fail(e, "%s: cannot read root attributes", c->path);
    return file_fingerprint(c->path, c->file_fp, e);
}

/* Read block (pair p, all alphas, layer l, all heads) into buf [A,H,S,S]. */
static int cube_read_block(an_cube *c, int p, int l, float *buf, am_err *e) {
    hsize_t start[6] = {(hsize_t)p, 0, (hsize_t)l, 0, 0, 0};
    hsize_t count[6] = {1, (hsize_t)c->A, 1, (hsize_t)c->H, (hsize_t)c->S, (hsize_t)c->S};
    hid_t fs = H5Dget_space(c->att), ms = H5Screate_simple(6, count, NULL);
    int rc = -1;
    H5CHK(H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL), "%s: bad selection", c->path);
    H5CHK(H5Dread(c->att, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, buf),
          "%s: cannot read /attention[%d, :, %d] (truncated or corrupt file?)", c->path, p, l);
    rc = 0;
out:
    am_an_close(&ms);
    am_an_close(&fs);
    return rc;
}

/* ---- results ------------------------------------------------------------- */

enum { ST_ENTROPY, ST_SINK, ST_DIAGONAL, ST_PREVIOUS, ST_BAND, ST_DISTANCE, ST_OFFSET_MASS,
       ST_VBAR, ST_JS0, ST_JS1, ST_N };
static const char *const st_names[ST_N] = {"entropy", "sink", "diagonal", "previous", "band",
                                           "distance", "offset_mass", "vbar", "js_alpha0",
                                           "js_alpha1"};

typedef struct an_points {
    size_t N;
    int *model;       /* [N] input index */
    int *pair;        /* [N] index into the union of pair keys */
    double *alpha;    /* [N] */
    int *layer;       /* [N] */
    int *head;        /* [N] */
    int *offset;      /* [N] dominant offset */
    int *rows;        /* [N] valid rows */
    double *st;       /* [ST_N, N] */
    double *feat;     /* [N, F] raw features */
    double *hc;       /* [N, AM_HC_MAP_N] pattern-shape head-class scores of the map */
    int *hclass;      /* [N] dominant class of the point's head (-1 mixed) */
} an_points;

static void an_points_free(an_points *p) {
    free(p->model); free(p->pair); free(p->alpha); free(p->layer); free(p->head);
    free(p->offset); free(p->rows); free(p->st); free(p->feat); free(p->hc); free(p->hclass);
}

static int an_points_init(an_points *p, size_t N, am_err *e) {
    memset(p, 0, sizeof *p);
    p->N = N;
    size_t n = N ? N : 1;
    p->model = malloc(n * sizeof(int)); p->pair = malloc(n * sizeof(int));
    p->alpha = malloc(n * sizeof(double)); p->layer = malloc(n * sizeof(int));
    p->head = malloc(n * sizeof(int)); p->offset = malloc(n * sizeof(int));
    p->rows = malloc(n * sizeof(int));
    p->st = malloc(n * ST_N * sizeof(double)); p->feat = malloc(n * AM_AN_NFEAT * sizeof(double));
    p->hc = malloc(n * AM_HC_MAP_N * sizeof(double)); p->hclass = malloc(n * sizeof(int));
    if (!p->model || !p->pair || !p->alpha || !p->layer || !p->head || !p->offset || !p->rows ||
        !p->st || !p->feat || !p->hc || !p->hclass)
        return am_fail(e, "out of memory for %zu points", N);
    return 0;
}

/* ---- per-model pass ------------------------------------------------------ */

static void progress(const am_an_config *c, const char *fmt, ...) {
    if (!c->verbose) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("attnmix-analyze: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Writes /models/<name>/{head_mean, head_var, entropy_by_query, scales}; fills
 * the points of this cube, and appends flattened maps to maps [N, S*S] if given. */
/* Head classes of one model (group g): scores [L,H,class] averaged over the
 * model's maps (the fixed-offset score is the best offset d >= 2 of the
 * averaged profile hc_off/hc_offn [L,H,S]), the induction score from a run of
 * the checkpoint when one is given, the dominant class per head, and each
 * point's class in pts->hclass. */
static int head_classes(const am_an_config *cfg, an_cube *c, hid_t g, an_points *pts, const double *hc_off,
                        const double *hc_offn, am_err *e) {
    int rc = -1, L = c->L, H = c->H, S = c->S, K = AM_HC_N;
    hid_t gh = -1;
    double *score = malloc((size_t)L * H * K * sizeof *score), *cnt = calloc((size_t)L * H * K, sizeof *cnt);
    int *label = malloc((size_t)L * H * sizeof *label), *offset = malloc((size_t)L * H * sizeof *offset);
    const char **lname = malloc((size_t)L * H * sizeof *lname);
    double *ind = NULL;
    const char *ckpt = NULL;
    for (int i = 0; i < cfg->n_inputs; i++)
        if (!strcmp(cfg->inputs[i].name, c->name)) ckpt = cfg->inputs[i].checkpoint;
    if (!score || !cnt || !label || !offset || !lname) { am_fail(e, "out of memory"); goto out; }
    for (size_t i = 0; i < (size_t)L * H * K; i++) score[i] = 0;
    for (size_t i = c->base; i < c->base + (size_t)c->P * c->A * L * H; i++) {
        size_t lh = (i - c->base) % ((size_t)L * H);
        for (int k = 0; k < AM_HC_MAP_N; k++) {
            double v = pts->hc[i * AM_HC_MAP_N + k];
            if (k != AM_HC_OFFSET && !isnan(v)) score[lh * K + k] += v, cnt[lh * K + k] += 1;
        }
    }
    for (size_t lh = 0; lh < (size_t)L * H; lh++) {
        for (int k = 0; k < AM_HC_MAP_N; k++)
            if (k != AM_HC_OFFSET) score[lh * K + k] = cnt[lh * K + k] > 0 ? score[lh * K + k] / cnt[lh * K + k] : NAN;
        double best = NAN;
        offset[lh] = -1;
        for (int d = 2; d < S; d++)
            if (hc_offn[lh * S + d] > 0 && !(hc_off[lh * S + d] / hc_offn[lh * S + d] <= best))
                best = hc_off[lh * S + d] / hc_offn[lh * S + d], offset[lh] = d;
        score[lh * K + AM_HC_OFFSET] = best;
        score[lh * K + AM_HC_INDUCTION] = NAN;
    }
    if (ckpt) {
        am_qwen3_config mc;
        if (am_qwen3_config_load(&mc, ckpt, e)) { am_wrap(e, "induction score of model '%s'", c->name); goto out; }
        ind = malloc((size_t)mc.num_hidden_layers * mc.num_attention_heads * sizeof *ind);
        if (!ind) { am_fail(e, "out of memory"); goto out; }
        progress(cfg, "%s: induction score (%d sequences of %d random tokens repeated twice) on %s", c->name,
                 cfg->induction_seqs, cfg->induction_tokens, ckpt);
        if (am_hc_induction(ckpt, cfg->induction_tokens, cfg->induction_seqs, cfg->tsne.seed, cfg->threads, ind, e))
            goto out;
        for (int l = 0; l < L; l++)
            for (int h = 0; h < H; h++) {
                if (c->layer[l] >= mc.num_hidden_layers || c->head[h] >= mc.num_attention_heads) {
                    am_fail(e, "%s: layer %d / head %d of %s is not in checkpoint %s", c->name, c->layer[l],
                            c->head[h], c->path, ckpt);
                    goto out;
                }
                score[((size_t)l * H + h) * K + AM_HC_INDUCTION] =
                    ind[(size_t)c->layer[l] * mc.num_attention_heads + c->head[h]];
            }
    }
    for (size_t lh = 0; lh < (size_t)L * H; lh++) {
        label[lh] = am_hc_label(score + lh * K);
        lname[lh] = am_hc_label_name(label[lh]);
    }
    for (size_t i = c->base; i < c->base + (size_t)c->P * c->A * L * H; i++)
        pts->hclass[i] = label[(i - c->base) % ((size_t)L * H)];
    H5CHK(gh = H5Gcreate2(g, "head_class", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "cannot create head_class");
    {
        hsize_t dLHK[3] = {(hsize_t)L, (hsize_t)H, (hsize_t)K}, dLH[2] = {(hsize_t)L, (hsize_t)H}, dK = K;
        if (am_an_write_strings(gh, "class", K, am_hc_names, e) ||
            am_an_write(gh, "layer", H5T_STD_I32LE, H5T_NATIVE_INT, 1, dLH, c->layer, e) ||
            am_an_write(gh, "head", H5T_STD_I32LE, H5T_NATIVE_INT, 1, dLH + 1, c->head, e) ||
            am_an_write(gh, "score", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 3, dLHK, score, e) ||
            am_an_write(gh, "label", H5T_STD_I32LE, H5T_NATIVE_INT, 2, dLH, label, e) ||
            am_an_write(gh, "offset", H5T_STD_I32LE, H5T_NATIVE_INT, 2, dLH, offset, e))
            goto out;
        (void)dK;
        const char *s3[3] = {"layer", "head", "class"}, *s2[2] = {"layer", "head"};
        if (am_an_attach_named(gh, "score", s3, 3, e) || am_an_attach_named(gh, "label", s2, 2, e) ||
            am_an_attach_named(gh, "offset", s2, 2, e))
            goto out;
        if (am_an_attr_f64(gh, "threshold", AM_HC_THRESHOLD, e) ||
            am_an_attr_str(gh, "induction_checkpoint", ckpt ? ckpt : "", e) ||
            am_an_attr_i64(gh, "induction_tokens", ckpt ? cfg->induction_tokens : 0, e) ||
            am_an_attr_i64(gh, "induction_sequences", ckpt ? cfg->induction_seqs : 0, e) ||
            am_an_attr_i64(gh, "induction_seed", (long long)cfg->tsne.seed, e))
            goto out;
    }
    rc = 0;
out:
    am_an_close(&gh);
    free(score), free(cnt), free(label), free(offset), free(lname), free(ind);
    return rc;
}

/* Frozen-pattern runs beside the cube (OUT/<model>/frozen-*): KL(live || frozen)
 * of the next-token distributions per (pair, alpha), both greedy next tokens
 * and the frozen generated texts, in group g/frozen/<name>. */
/* Per-position KL (teacher-forced along the live tokens) with its mean and max. */
static int frozen_steps(hid_t g, hid_t gi, const am_frozen_cmp *f, am_err *e) {
    hsize_t dPA[2] = {(hsize_t)f->P, (hsize_t)f->A}, dPAN[3] = {dPA[0], dPA[1], (hsize_t)f->N}, dN = (hsize_t)f->N;
    int32_t *step = malloc((size_t)(f->N ? f->N : 1) * sizeof *step); /* [N] */
    hid_t d = -1;
    int rc = -1;
    if (!step) return am_fail(e, "out of memory");
    for (int j = 0; j < f->N; j++) step[j] = j;
    if (am_an_write(gi, "step", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, &dN, step, e) ||
        am_an_write(gi, "kl_step", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 3, dPAN, f->kl_step, e) ||
        am_an_write(gi, "kl_steps", H5T_STD_I32LE, H5T_NATIVE_INT32, 2, dPA, f->kl_steps, e) ||
        am_an_write(gi, "kl_mean", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dPA, f->kl_mean, e) ||
        am_an_write(gi, "kl_max", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dPA, f->kl_max, e))
        goto out;
    static const char *const ds[] = {"kl_step", "kl_steps", "kl_mean", "kl_max"};
    for (int k = 0; k < 4; k++) {
        H5CHK(d = H5Dopen2(gi, ds[k], H5P_DEFAULT), "cannot open %s", ds[k]);
        if (am_an_attach(g, "pair", d, 0, e) || am_an_attach(g, "alpha", d, 1, e) || (k == 0 && am_an_attach(gi, "step", d, 2, e)))
            goto out;
        am_an_close(&d);
    }
    rc = 0;
out:
    am_an_close(&d);
    free(step);
    return rc;
}

static int frozen_runs(an_cube *c, hid_t g, am_err *e) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", c->path);
    char *sl = strrchr(dir, '/');
    if (sl) *sl = 0;
    else snprintf(dir, sizeof dir, ".");
    am_frozen_cmp *fc = NULL;
    int n = 0, rc = -1;
    hid_t gf = -1, gi = -1, d = -1;
    if (am_frozen_compare_dir(dir, &fc, &n, e)) return am_wrap(e, "frozen runs of %s", c->name);
    if (!n) return 0;
    H5CHK(gf = H5Gcreate2(g, "frozen", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "cannot create frozen");
    for (int i = 0; i < n; i++) {
        am_frozen_cmp *f = &fc[i];
        if (f->P != c->P || f->A != c->A) {
            am_fail(e, "%s/%s: %d pairs x %d alphas, the cube %s has %d x %d", dir, f->name, f->P, f->A, c->path, c->P, c->A);
            goto out;
        }
        hsize_t dPA[2] = {(hsize_t)c->P, (hsize_t)c->A};
        H5CHK(gi = H5Gcreate2(gf, f->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "cannot create frozen/%s", f->name);
        if (am_an_write(gi, "kl", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dPA, f->kl, e) ||
            am_an_write(gi, "next_token_live", H5T_STD_I32LE, H5T_NATIVE_INT32, 2, dPA, f->next_live, e) ||
            am_an_write(gi, "next_token_frozen", H5T_STD_I32LE, H5T_NATIVE_INT32, 2, dPA, f->next_frozen, e))
            goto out;
        if (f->text) {
            if ((d = am_h5_write_strs(gi, "text", 2, dPA, (const char *const *)f->text, e)) < 0) goto out;
            am_an_close(&d);
        }
        static const char *const ds[] = {"kl", "next_token_live", "next_token_frozen", "text"};
        for (int k = 0; k < (f->text ? 4 : 3); k++) {
            H5CHK(d = H5Dopen2(gi, ds[k], H5P_DEFAULT), "cannot open %s", ds[k]);
            if (am_an_attach(g, "pair", d, 0, e) || am_an_attach(g, "alpha", d, 1, e)) goto out;
            am_an_close(&d);
        }
        if (f->kl_step && frozen_steps(g, gi, f, e)) goto out;
        if (am_an_attr_f64(gi, "freeze_alpha", f->alpha, e) || am_an_attr_str(gi, "freeze_source", f->source, e) ||
            am_an_attr_str(gi, "freeze_layers", f->layers, e) || am_an_attr_str(gi, "freeze_heads", f->heads, e))
            goto out;
        am_an_close(&gi);
    }
    rc = 0;
out:
    am_an_close(&d);
    am_an_close(&gi);
    am_an_close(&gf);
    am_frozen_cmp_free(fc, n);
    return rc;
}

static int model_pass(const am_an_config *cfg, an_cube *c, hid_t out, an_points *pts, float *maps,
                      am_err *e) {
    int rc = -1;
    hid_t g = -1, dmean = -1, dvar = -1, dent = -1;
    int P = c->P, A = c->A, L = c->L, H = c->H, S = c->S;
    size_t SS = (size_t)S * S;
    float *blk = NULL, *mean = NULL, *var = NULL;
    double *ent = NULL, *offp = NULL, *hc_off = NULL, *hc_offn = NULL;
    char gname[512];
    snprintf(gname, sizeof gname, "models/%s", c->name);
    H5CHK(g = H5Gcreate2(out, gname, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "cannot create group /%s", gname);

    /* scales and per-model tables */
    {
        hsize_t dP = P, dA = A, dL = L, dH = H, dS = S, dPA[2] = {(hsize_t)P, (hsize_t)A};
        int *qs = malloc((size_t)S * sizeof *qs);
        if (!qs) { am_fail(e, "out of memory"); goto out; }
        for (int i = 0; i < S; i++) qs[i] = i;
        int bad = am_an_write_strings(g, "pair", P, (const char *const *)c->pairs, e) ||
                  am_an_write(g, "alpha", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &dA, c->alpha, e) ||
                  am_an_write(g, "layer", H5T_STD_I32LE, H5T_NATIVE_INT, 1, &dL, c->layer, e) ||
                  am_an_write(g, "head", H5T_STD_I32LE, H5T_NATIVE_INT, 1, &dH, c->head, e) ||
                  am_an_write(g, "query", H5T_STD_I32LE, H5T_NATIVE_INT, 1, &dS, qs, e) ||
                  am_an_write(g, "key", H5T_STD_I32LE, H5T_NATIVE_INT, 1, &dS, qs, e) ||
                  am_an_write(g, "length", H5T_STD_I32LE, H5T_NATIVE_INT, 2, dPA, c->length, e) ||
                  am_an_write(g, "pair_index", H5T_STD_I32LE, H5T_NATIVE_INT, 1, &dP, c->pair_index, e);
        free(qs);
        if (bad) goto out;
        if (am_an_attr_str(g, "source", c->path, e) || am_an_attr_str(g, "file_fingerprint", c->file_fp, e) ||
            am_an_attr_str(g, "checkpoint_fingerprint", c->ckpt_fp ? c->ckpt_fp : "", e) ||
            am_an_attr_str(g, "storage_dtype", c->dtype, e) ||
            am_an_attr_i64(g, "has_length", c->has_length, e))
            goto out;
        if (c->caveat && am_an_attr_str(g, "caveat", c->caveat, e)) goto out;
    }
    hsize_t dm[5] = {(hsize_t)P, (hsize_t)A, (hsize_t)L, (hsize_t)S, (hsize_t)S};
    hsize_t cm[5] = {1, 1, 1, (hsize_t)S, (hsize_t)S};
    hsize_t de[5] = {(hsize_t)P, (hsize_t)A, (hsize_t)L, (hsize_t)H, (hsize_t)S};
    hsize_t ce[5] = {1, (hsize_t)A, 1, (hsize_t)H, (hsize_t)S};
    if ((dmean = am_an_create(g, "head_mean", H5T_IEEE_F32LE, 5, dm, cm, e)) < 0 ||
        (dvar = am_an_create(g, "head_var", H5T_IEEE_F32LE, 5, dm, cm, e)) < 0 ||
        (dent = am_an_create(g, "entropy_by_query", H5T_IEEE_F64LE, 5, de, ce, e)) < 0)
        goto out;

    blk = malloc((size_t)A * H * SS * sizeof *blk);   /* [A,H,S,S] */
    mean = malloc((size_t)A * SS * sizeof *mean);     /* [A,S,S] */
    var = malloc((size_t)A * SS * sizeof *var);       /* [A,S,S] */
    ent = malloc((size_t)A * H * S * sizeof *ent);    /* [A,H,S] */
    offp = malloc((size_t)A * H * S * sizeof *offp);  /* [A,H,S] fixed-offset profiles */
    hc_off = calloc((size_t)L * H * S, sizeof *hc_off);   /* [L,H,S] sums over maps */
    hc_offn = calloc((size_t)L * H * S, sizeof *hc_offn); /* [L,H,S] counts */
    if (!blk || !mean || !var || !ent || !offp || !hc_off || !hc_offn) {
        am_fail(e, "out of memory for a [%d,%d,%d,%d] block of %s", A, H, S, S, c->path);
        goto out;
    }
    for (int p = 0; p < P; p++) {
        for (int l = 0; l < L; l++) {
            if (cube_read_block(c, p, l, blk, e)) goto out;
            int fail = 0;
#pragma omp parallel
            {
                am_an_work w;
                int ok = am_an_work_init(&w, S) == 0;
                if (!ok) {
#pragma omp atomic write
                    fail = 1;
                }
#pragma omp for schedule(dynamic)
                for (int ah = 0; ah < A * H + A; ah++) {
                    if (!ok) continue;
                    if (ah >= A * H) { /* head moments of alpha a */
                        int a = ah - A * H;
                        am_an_head_moments(blk + (size_t)a * H * SS, H, SS, mean + a * SS, var + a * SS);
                        continue;
                    }
                    int a = ah / H, h = ah % H;
                    int n = c->length[p * A + a];
                    const float *M = blk + (size_t)ah * SS; /* [S,S] */
                    am_an_stats s;
                    am_an_map_stats(M, S, n, cfg->band, &w, &s, ent + (size_t)ah * S);
                    size_t i = c->base + ((((size_t)p * A + a) * L + l) * H + h);
                    pts->pair[i] = c->pair_index[p];
                    pts->alpha[i] = c->alpha[a];
                    pts->layer[i] = c->layer[l];
                    pts->head[i] = c->head[h];
                    pts->offset[i] = s.offset;
                    pts->rows[i] = s.rows;
                    size_t N = pts->N;
                    pts->st[ST_ENTROPY * N + i] = s.entropy;
                    pts->st[ST_SINK * N + i] = s.sink;
                    pts->st[ST_DIAGONAL * N + i] = s.diagonal;
                    pts->st[ST_PREVIOUS * N + i] = s.previous;
                    pts->st[ST_BAND * N + i] = s.band;
                    pts->st[ST_DISTANCE * N + i] = s.distance;
                    pts->st[ST_OFFSET_MASS * N + i] = s.offset_mass;
                    pts->st[ST_VBAR * N + i] = s.vbar;
                    for (int r = 0; r < 2; r++) {
                        int ar = r == 0 ? c->a0 : c->a1;
                        double js = NAN;
                        if (ar >= 0)
                            js = am_an_js_maps(M, n, blk + ((size_t)ar * H + h) * SS,
                                               c->length[p * A + ar], S);
                        pts->st[(r == 0 ? ST_JS0 : ST_JS1) * N + i] = js;
                    }
                    memcpy(pts->feat + i * AM_AN_NFEAT, s.feat, sizeof s.feat);
                    am_hc_map_scores(M, S, n, pts->hc + i * AM_HC_MAP_N, offp + (size_t)ah * S);
                    if (maps)
                        memcpy(maps + i * SS, M, SS * sizeof *M);
                }
                am_an_work_free(&w);
            }
            if (fail) { am_fail(e, "out of memory for work buffers (S = %d)", S); goto out; }
            for (int ah = 0; ah < A * H; ah++) /* fixed-offset profiles summed per head */
                for (int d = 0; d < S; d++) {
                    double v = offp[(size_t)ah * S + d];
                    if (!isnan(v)) {
                        size_t j = ((size_t)l * H + ah % H) * S + d;
                        hc_off[j] += v, hc_offn[j] += 1;
                    }
                }
            hsize_t s5[5] = {(hsize_t)p, 0, (hsize_t)l, 0, 0};
            hsize_t cnt[5] = {1, (hsize_t)A, 1, (hsize_t)S, (hsize_t)S};
            hsize_t cnte[5] = {1, (hsize_t)A, 1, (hsize_t)H, (hsize_t)S};
            if (am_an_write_slab(dmean, H5T_NATIVE_FLOAT, 5, s5, cnt, mean, e) ||
                am_an_write_slab(dvar, H5T_NATIVE_FLOAT, 5, s5, cnt, var, e) ||
                am_an_write_slab(dent, H5T_NATIVE_DOUBLE, 5, s5, cnte, ent, e))
                goto out;
        }
        progress(cfg, "%s: pair %d/%d (%s) done", c->name, p + 1, P, c->pairs[p]);
    }
    am_an_close(&dmean);
    am_an_close(&dvar);
    am_an_close(&dent);
    {
        const char *sm[5] = {"pair", "alpha", "layer", "query", "key"};
        const char *se[5] = {"pair", "alpha", "layer", "head", "query"};
        if (am_an_attach_named(g, "head_mean", sm, 5, e) || am_an_attach_named(g, "head_var", sm, 5, e) ||
            am_an_attach_named(g, "entropy_by_query", se, 5, e))
            goto out;
    }
    if (head_classes(cfg, c, g, pts, hc_off, hc_offn, e)) goto out;
    if (frozen_runs(c, g, e)) goto out;
    rc = 0;
out:
    free(offp), free(hc_off), free(hc_offn);
    free(blk);
    free(mean);
    free(var);
    free(ent);
    am_an_close(&dmean);
    am_an_close(&dvar);
    am_an_close(&dent);
    am_an_close(&g);
    return rc;
}

/* ---- global analysis ----------------------------------------------------- */

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Sorted unique values of v [n] in place; returns the new count. */
static int uniq_sorted(void *v, int n, size_t sz, int (*cmp)(const void *, const void *)) {
    if (n == 0) return 0;
    qsort(v, (size_t)n, sz, cmp);
    char *b = v;
    int m = 1;
    for (int i = 1; i < n; i++)
        if (cmp(b + (size_t)i * sz, b + (size_t)(m - 1) * sz) != 0) memmove(b + (size_t)m++ * sz, b + (size_t)i * sz, sz);
    return m;
}

static int write_tsne_attrs(hid_t d, const am_tsne_opts *o, const am_tsne_result *r, const char *on,
                            am_err *e) {
    return am_an_attr_f64(d, "kl_divergence", r->kl, e) || am_an_attr_f64(d, "perplexity", o->perplexity, e) ||
           am_an_attr_i64(d, "seed", (long long)o->seed, e) || am_an_attr_i64(d, "iterations", r->iterations, e) ||
           am_an_attr_str(d, "method", am_tsne_method_name(o->method), e) ||
           am_an_attr_f64(d, "learning_rate", r->learning_rate, e) ||
           am_an_attr_f64(d, "early_exaggeration", o->early_exaggeration, e) ||
           am_an_attr_f64(d, "angle", o->theta, e) || am_an_attr_str(d, "init", "pca", e) ||
           am_an_attr_str(d, "input", on, e);
}

/* t-SNE of X [N,D] into Y [N,2] and dataset `name` in loc with attributes.
 * With N < 4 the coordinates are NaN and kl_divergence is NaN. */
static int tsne_write(const am_an_config *cfg, hid_t loc, const char *name, const double *X, int N, int D,
                      int force_exact, const char *on, am_err *e) {
    int rc = -1;
    double *Y = malloc((size_t)(N ? N : 1) * 2 * sizeof *Y); /* [N,2] */
    hid_t d = -1;
    am_tsne_opts o = cfg->tsne;
    am_tsne_result r = {.kl = NAN};
    if (!Y) return am_fail(e, "out of memory");
    if (force_exact || (cfg->tsne_auto && N <= 2000)) o.method = AM_TSNE_EXACT;
    else if (cfg->tsne_auto) o.method = am_tsne_method_for(AM_TSNE_AUTO, N); /* Barnes-Hut, FFT from 50k */
    double pmax = (N - 1) / 3.0;
    if (o.perplexity > pmax) o.perplexity = pmax;
    if (N >= 4) {
        progress(cfg, "t-SNE of %d x %d (%s, perplexity %g, %d iterations)", N, D,
                 am_tsne_method_name(o.method), o.perplexity, o.iterations);
        if (am_tsne_run(X, N, D, &o, Y, &r, e)) { am_wrap(e, "t-SNE for %s", name); goto out; }
        progress(cfg, "t-SNE done: KL %.6f after %d iterations", r.kl, r.iterations);
    } else {
        for (int i = 0; i < 2 * N; i++) Y[i] = NAN;
    }
    hsize_t dims[2] = {(hsize_t)N, 2};
    if (am_an_write(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dims, Y, e)) goto out;
    H5CHK(d = H5Dopen2(loc, name, H5P_DEFAULT), "cannot open %s", name);
    if (write_tsne_attrs(d, &o, &r, on, e)) goto out;
    rc = 0;
out:
    am_an_close(&d);
    free(Y);
    return rc;
}

void am_an_config_defaults(am_an_config *c) {
    memset(c, 0, sizeof *c);
    c->band = 4;
    c->tsne_auto = 1;
    am_tsne_defaults(&c->tsne);
    c->verbose = 1;
    c->induction_tokens = 32;
    c->induction_seqs = 4;
}

int am_an_default_name(const char *path, char *name, size_t cap, am_err *e) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f >= 0) {
        char *m = NULL;
        int r = am_an_get_attr_string(f, "model", &m);
        H5Fclose(f);
        if (r == 1 && m[0]) {
            snprintf(name, cap, "%s", m);
            free(m);
            return 0;
        }
        free(m);
    }
    char *dup1 = strdup(path), *dup2 = strdup(path);
    if (!dup1 || !dup2) { free(dup1); free(dup2); return am_fail(e, "out of memory"); }
    char *base = basename(dup1);
    if (strcmp(base, "cube.h5") == 0) {
        snprintf(name, cap, "%s", basename(dirname(dup2)));
    } else {
        snprintf(name, cap, "%s", base);
        char *dot = strrchr(name, '.');
        if (dot && dot != name) *dot = 0;
    }
    free(dup1);
    free(dup2);
    if (!name[0] || strcmp(name, ".") == 0 || strcmp(name, "/") == 0)
        return am_fail(e, "%s: cannot derive a model name; use --name MODEL=%s", path, path);
    return 0;
}

int am_an_run(const am_an_config *cfg, am_err *e) {
    int rc = -1, nin = cfg->n_inputs;
    an_cube *cubes = calloc((size_t)(nin ? nin : 1), sizeof *cubes);
    an_points pts;
    memset(&pts, 0, sizeof pts);
    hid_t out = -1, gp = -1, gpca = -1, gh = -1;
    char tmp[4096];
    double *Z = NULL, *scores = NULL, *comp = NULL, *var = NULL, *ratio = NULL, *hfeat = NULL,
           *hdist = NULL, *Xmaps = NULL;
    float *maps = NULL;
    char **upairs = NULL;
    int nup = 0;
    double *ualpha = NULL;
    int *ulayer = NULL, *uhead = NULL;
    const char **mnames = NULL;
    int tmp_made = 0;
    if (!cubes) return am_fail(e, "out of memory");
    if (nin < 1) { am_fail(e, "no input cubes"); goto out; }
    for (int i = 0; i < nin; i++) { cubes[i].file = cubes[i].att = -1; }
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", cfg->out, (long)getpid());
    am_h5_remove_stale_tmp(cfg->out);

    /* open inputs, union of pair keys */
    size_t N = 0;
    int F = AM_AN_NFEAT, nup_cap = 0, na = 0, nl = 0, nh = 0;
    for (int i = 0; i < nin; i++) {
        an_cube *c = &cubes[i];
        c->name = cfg->inputs[i].name;
        c->path = cfg->inputs[i].path;
        for (int j = 0; j < i; j++)
            if (strcmp(cubes[j].name, c->name) == 0) {
                am_fail(e, "model name '%s' is used by %s and %s; use --name NAME=PATH", c->name,
                        cubes[j].path, c->path);
                goto out;
            }
        if (!c->name[0] || strchr(c->name, '/')) { am_fail(e, "bad model name '%s' for %s", c->name, c->path); goto out; }
        if (cube_open(c, e)) goto out;
        progress(cfg, "%s: %s [%d pairs, %d alphas, %d layers, %d heads, S=%d, %s%s]", c->name, c->path,
                 c->P, c->A, c->L, c->H, c->S, c->dtype, c->has_length ? "" : ", no /length: full S");
        c->pair_index = malloc((size_t)c->P * sizeof *c->pair_index);
        if (!c->pair_index) { am_fail(e, "out of memory"); goto out; }
        for (int p = 0; p < c->P; p++) {
            int k = 0;
            while (k < nup && strcmp(upairs[k], c->pairs[p]) != 0) k++;
            if (k == nup) {
                if (nup == nup_cap) {
                    nup_cap = nup_cap ? 2 * nup_cap : 16;
                    char **np = realloc(upairs, (size_t)nup_cap * sizeof *np);
                    if (!np) { am_fail(e, "out of memory"); goto out; }
                    upairs = np;
                }
                upairs[nup++] = c->pairs[p];
            }
            c->pair_index[p] = k;
        }
        c->base = N;
        N += (size_t)c->P * c->A * c->L * c->H;
        na += c->A; nl += c->L; nh += c->H;
    }
    if (N > (size_t)INT32_MAX / 2) { am_fail(e, "too many maps (%zu)", N); goto out; }
    ualpha = malloc((size_t)na * sizeof *ualpha);
    ulayer = malloc((size_t)nl * sizeof *ulayer);
    uhead = malloc((size_t)nh * sizeof *uhead);
    mnames = malloc((size_t)nin * sizeof *mnames);
    if (!ualpha || !ulayer || !uhead || !mnames) { am_fail(e, "out of memory"); goto out; }
    na = nl = nh = 0;
    for (int i = 0; i < nin; i++) {
        for (int a = 0; a < cubes[i].A; a++) ualpha[na++] = cubes[i].alpha[a];
        for (int l = 0; l < cubes[i].L; l++) ulayer[nl++] = cubes[i].layer[l];
        for (int h = 0; h < cubes[i].H; h++) uhead[nh++] = cubes[i].head[h];
        mnames[i] = cubes[i].name;
    }
    na = uniq_sorted(ualpha, na, sizeof *ualpha, am_cmp_double);
    nl = uniq_sorted(ulayer, nl, sizeof *ulayer, cmp_int);
    nh = uniq_sorted(uhead, nh, sizeof *uhead, cmp_int);

    if (cfg->tsne_on_maps) {
        for (int i = 1; i < nin; i++)
            if (cubes[i].S != cubes[0].S) {
                am_fail(e, "--tsne-on maps needs maps of one shape: %s has S=%d, %s has S=%d", cubes[0].path,
                        cubes[0].S, cubes[i].path, cubes[i].S);
                goto out;
            }
        size_t SS = (size_t)cubes[0].S * cubes[0].S;
        maps = malloc(N * SS * sizeof *maps); /* [N, S*S] */
        if (!maps) { am_fail(e, "--tsne-on maps: out of memory for %zu maps of %zu cells", N, SS); goto out; }
    }
    if (an_points_init(&pts, N, e)) goto out;

    /* output file */
    out = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (out < 0) { am_fail(e, "%s: cannot create (directory missing or not writable?)", tmp); goto out; }
    tmp_made = 1;
    {
        hid_t gm = H5Gcreate2(out, "models", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (gm < 0) { am_fail(e, "cannot create /models"); goto out; }
        H5Gclose(gm);
    }
    for (int i = 0; i < nin; i++) {
        if (model_pass(cfg, &cubes[i], out, &pts, maps ? maps + cubes[i].base * (size_t)cubes[i].S * cubes[i].S : NULL, e)) {
            am_wrap(e, "%s", cubes[i].path);
            goto out;
        }
        for (size_t k = 0; k < (size_t)cubes[i].P * cubes[i].A * cubes[i].L * cubes[i].H; k++)
            pts.model[cubes[i].base + k] = i;
    }

    /* root scales and attributes */
    {
        hsize_t d;
        d = (hsize_t)nup;
        if (am_an_write_strings(out, "pair", nup, (const char *const *)upairs, e)) goto out;
        d = (hsize_t)na;
        if (am_an_write(out, "alpha", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &d, ualpha, e)) goto out;
        d = (hsize_t)nl;
        if (am_an_write(out, "layer", H5T_STD_I32LE, H5T_NATIVE_INT, 1, &d, ulayer, e)) goto out;
        d = (hsize_t)nh;
        if (am_an_write(out, "head", H5T_STD_I32LE, H5T_NATIVE_INT, 1, &d, uhead, e)) goto out;
        d = (hsize_t)F;
        if (am_an_write_strings(out, "feature", F, am_an_feature_names, e)) goto out;
        const char *scales[] = {"pair", "alpha", "layer", "head", "feature"};
        for (int s = 0; s < 5; s++) {
            hid_t ds = H5Dopen2(out, scales[s], H5P_DEFAULT);
            if (ds < 0 || H5DSset_scale(ds, scales[s]) < 0) {
                if (ds >= 0) H5Dclose(ds);
                am_fail(e, "cannot make /%s a dimension scale", scales[s]);
                goto out;
            }
            H5Dclose(ds);
        }
        const char **ip = malloc((size_t)nin * 3 * sizeof *ip);
        if (!ip) { am_fail(e, "out of memory"); goto out; }
        for (int i = 0; i < nin; i++) {
            ip[i] = cubes[i].path;
            ip[nin + i] = cubes[i].file_fp;
            ip[2 * nin + i] = cubes[i].ckpt_fp ? cubes[i].ckpt_fp : "";
        }
        char created[32];
        time_t now = time(NULL);
        struct tm tmv;
        gmtime_r(&now, &tmv);
        strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tmv);
        int bad = am_an_attr_str(out, "schema", AN_SCHEMA, e) ||
                  am_an_attr_str(out, "attnmix_version", ATTNMIX_VERSION, e) ||
                  am_an_attr_str(out, "git_commit", ATTNMIX_GIT_COMMIT, e) ||
                  am_an_attr_str(out, "created", created, e) ||
                  am_an_attr_i64(out, "seed", (long long)cfg->tsne.seed, e) ||
                  am_an_attr_strs(out, "models", nin, mnames, e) ||
                  am_an_attr_strs(out, "inputs", nin, ip, e) ||
                  am_an_attr_strs(out, "input_fingerprints", nin, ip + nin, e) ||
                  am_an_attr_strs(out, "checkpoint_fingerprints", nin, ip + 2 * nin, e) ||
                  am_an_attr_i64(out, "band", cfg->band, e) ||
                  am_an_attr_str(out, "tsne_on", cfg->tsne_on_maps ? "maps" : "features", e);
        free(ip);
        if (bad) goto out;
        for (int i = 0; i < nin; i++)
            if (cubes[i].config_yaml) {
                if (am_an_attr_str(out, "config_yaml", cubes[i].config_yaml, e)) goto out;
                if (cubes[i].config_hash && am_an_attr_str(out, "config_hash", cubes[i].config_hash, e)) goto out;
                break;
            }
    }

    /* points table */
    H5CHK(gp = H5Gcreate2(out, "points", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "cannot create /points");
    {
        hsize_t dN = N, dNF[2] = {N, (hsize_t)F};
        const char **mn = malloc((N ? N : 1) * sizeof *mn);
        if (!mn) { am_fail(e, "out of memory"); goto out; }
        for (size_t i = 0; i < N; i++) mn[i] = cubes[pts.model[i]].name;
        int bad = am_an_write_strings(gp, "model", (int)N, mn, e);
        free(mn);
        if (bad || am_an_write(gp, "pair", H5T_STD_I32LE, H5T_NATIVE_INT, 1, &dN, pts.pair, e) ||
            am_an_write(gp, "alpha", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &dN, pts.alpha, e) ||
            am_an_write(gp, "layer", H5T_STD_I32LE, H5T_NATIVE_INT, 1, &dN, pts.layer, e) ||
            am_an_write(gp, "head", H5T_STD_I32LE, H5T_NATIVE_INT, 1, &dN, pts.head, e) ||
            am_an_write(gp, "offset", H5T_STD_I32LE, H5T_NATIVE_INT, 1, &dN, pts.offset, e) ||
            am_an_write(gp, "rows", H5T_STD_I32LE, H5T_NATIVE_INT, 1, &dN, pts.rows, e) ||
            am_an_write(gp, "features", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dNF, pts.feat, e) ||
            am_an_write(gp, "head_class", H5T_STD_I32LE, H5T_NATIVE_INT, 1, &dN, pts.hclass, e))
            goto out;
        for (int s = 0; s < ST_N; s++)
            if (am_an_write(gp, st_names[s], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &dN, pts.st + s * N, e))
                goto out;
        hid_t df = H5Dopen2(gp, "features", H5P_DEFAULT);
        bad = df < 0 || am_an_attr_strs(df, "names", F, am_an_feature_names, e);
        if (df >= 0) H5Dclose(df);
        if (bad) { am_fail(e, "cannot label /points/features"); goto out; }
    }

    /* z-scores, PCA */
    Z = malloc(N * F * sizeof *Z); /* [N,F] */
    comp = malloc((size_t)F * F * sizeof *comp);
    var = malloc((size_t)F * sizeof *var);
    ratio = malloc((size_t)F * sizeof *ratio);
    scores = malloc(N * F * sizeof *scores + 1);
    double fmean[AM_AN_NFEAT], fstd[AM_AN_NFEAT];
    if (!Z || !comp || !var || !ratio || !scores) { am_fail(e, "out of memory"); goto out; }
    memcpy(Z, pts.feat, N * F * sizeof *Z);
    am_pca_zscore(Z, (int)N, F, fmean, fstd);
    H5CHK(gpca = H5Gcreate2(out, "pca", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "cannot create /pca");
    int K = N >= 2 ? (F < (int)N ? F : (int)N) : 0;
    if (K > 0) {
        if (am_pca_fit(Z, (int)N, F, K, comp, var, ratio, scores, e)) goto out;
    }
    {
        hsize_t dF = F, dK = K, dKF[2] = {(hsize_t)K, (hsize_t)F}, dNK[2] = {N, (hsize_t)K};
        if (am_an_write(gpca, "components", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dKF, comp, e) ||
            am_an_write(gpca, "explained_variance", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &dK, var, e) ||
            am_an_write(gpca, "explained_variance_ratio", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &dK, ratio, e) ||
            am_an_write(gpca, "feature_mean", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &dF, fmean, e) ||
            am_an_write(gpca, "feature_std", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &dF, fstd, e) ||
            am_an_write(gp, "pca", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dNK, scores, e))
            goto out;
        hid_t dc = H5Dopen2(gpca, "components", H5P_DEFAULT);
        int bad = dc < 0 || am_an_attach(out, "feature", dc, 1, e) ||
                  am_an_attr_strs(dc, "feature_names", F, am_an_feature_names, e);
        if (dc >= 0) H5Dclose(dc);
        if (bad) goto out;
        hid_t df = H5Dopen2(gp, "features", H5P_DEFAULT);
        bad = df < 0 || am_an_attach(out, "feature", df, 1, e);
        if (df >= 0) H5Dclose(df);
        if (bad) goto out;
        if (am_an_attr_str(gpca, "input", "z-scored /points/features (NaN -> 0)", e)) goto out;
    }

    /* heads: mean z-scored features over pairs and alphas, distances, t-SNE */
    {
        int Hn = 0;
        for (int i = 0; i < nin; i++) Hn += cubes[i].L * cubes[i].H;
        hfeat = calloc((size_t)Hn * F + 1, sizeof *hfeat);   /* [Hn,F] */
        hdist = malloc((size_t)Hn * Hn * sizeof *hdist + 1); /* [Hn,Hn] */
        int *hl = malloc((size_t)Hn * sizeof *hl + 1), *hh = malloc((size_t)Hn * sizeof *hh + 1);
        const char **hm = malloc((size_t)Hn * sizeof *hm + 1);
        if (!hfeat || !hdist || !hl || !hh || !hm) {
            free(hl); free(hh); free(hm);
            am_fail(e, "out of memory for %d heads", Hn);
            goto out;
        }
        int base = 0;
        for (int i = 0; i < nin; i++) {
            an_cube *c = &cubes[i];
            for (int l = 0; l < c->L; l++)
                for (int h = 0; h < c->H; h++) {
                    int j = base + l * c->H + h;
                    hl[j] = c->layer[l];
                    hh[j] = c->head[h];
                    hm[j] = c->name;
                    for (int pa = 0; pa < c->P * c->A; pa++) {
                        size_t pi = c->base + ((size_t)pa * c->L + l) * c->H + h;
                        for (int f = 0; f < F; f++) hfeat[(size_t)j * F + f] += Z[pi * F + f];
                    }
                    for (int f = 0; f < F; f++) hfeat[(size_t)j * F + f] /= (c->P * c->A);
                }
            base += c->L * c->H;
        }
        for (int a = 0; a < Hn; a++)
            for (int b = 0; b < Hn; b++) {
                double s = 0;
                for (int f = 0; f < F; f++) {
                    double d = hfeat[(size_t)a * F + f] - hfeat[(size_t)b * F + f];
                    s += d * d;
                }
                hdist[(size_t)a * Hn + b] = sqrt(s);
            }
        hsize_t dH = Hn, dHF[2] = {(hsize_t)Hn, (hsize_t)F}, dHH[2] = {(hsize_t)Hn, (hsize_t)Hn};
        int bad = (gh = H5Gcreate2(out, "heads", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
                  am_an_write_strings(gh, "model", Hn, hm, e) ||
                  am_an_write(gh, "layer", H5T_STD_I32LE, H5T_NATIVE_INT, 1, &dH, hl, e) ||
                  am_an_write(gh, "head", H5T_STD_I32LE, H5T_NATIVE_INT, 1, &dH, hh, e) ||
                  am_an_write(gh, "features", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dHF, hfeat, e) ||
                  am_an_write(gh, "distance", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dHH, hdist, e);
        free(hl); free(hh); free(hm);
        if (bad) { am_wrap(e, "writing /heads"); goto out; }
        if (am_an_attr_str(gh, "features_meaning", "mean over pairs and alphas of z-scored motif features", e) ||
            tsne_write(cfg, gh, "tsne", hfeat, Hn, F, 1, "heads: /heads/features", e))
            goto out;
    }

    /* points t-SNE */
    if (cfg->tsne_on_maps) {
        size_t SS = (size_t)cubes[0].S * cubes[0].S;
        Xmaps = malloc(N * SS * sizeof *Xmaps); /* [N, S*S] */
        if (!Xmaps) { am_fail(e, "--tsne-on maps: out of memory"); goto out; }
        for (size_t i = 0; i < N * SS; i++) Xmaps[i] = maps[i];
        free(maps);
        maps = NULL;
        if (tsne_write(cfg, gp, "tsne", Xmaps, (int)N, (int)SS, 0, "maps: raw maps flattened", e)) goto out;
    } else {
        if (tsne_write(cfg, gp, "tsne", Z, (int)N, F, 0, "features: z-scored /points/features", e)) goto out;
    }

    am_an_close(&gp);
    am_an_close(&gpca);
    am_an_close(&gh);
    if (H5Fclose(out) < 0) { out = -1; am_fail(e, "%s: writing failed when closing it (disk full?)", tmp); goto out; }
    out = -1;
    if (rename(tmp, cfg->out) != 0) { am_fail_errno(e, "cannot rename %s to %s", tmp, cfg->out); goto out; }
    tmp_made = 0;
    progress(cfg, "wrote %s (%zu maps, %d models)", cfg->out, N, nin);
    rc = 0;
out:
    am_an_close(&gp);
    am_an_close(&gpca);
    am_an_close(&gh);
    am_an_close(&out);
    if (tmp_made) remove(tmp);
    for (int i = 0; i < nin; i++) an_cube_free(&cubes[i]);
    free(cubes);
    an_points_free(&pts);
    free(Z); free(scores); free(comp); free(var); free(ratio); free(hfeat); free(hdist);
    free(Xmaps); free(maps);
    free(upairs); free(ualpha); free(ulayer); free(uhead); free(mnames);
    return rc;
}
