#include "h5/h5io.h"
#include "h5/heaps.h"

#include <errno.h>
#include <hdf5_hl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/memory.h"

/* ---- errors --------------------------------------------------------------- */

typedef struct {
    char desc[512];
    char func[128];
} h5_last;

static herr_t walk_innermost(unsigned n, const H5E_error2_t *err, void *ctx) {
    h5_last *last = ctx;
    if (n == 0) { /* innermost: closest to the cause */
        snprintf(last->desc, sizeof last->desc, "%s", err->desc ? err->desc : "");
        snprintf(last->func, sizeof last->func, "%s", err->func_name ? err->func_name : "");
    }
    return 0;
}

int am_h5_fail(am_err *e, const char *file, int line, const char *call, const char *what) {
    h5_last last = {{0}, {0}};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_innermost, &last);
    H5Eclear2(H5E_DEFAULT);
    return am_fail(e, "%s: HDF5 error in %s (%s:%d): %s%s%s", what, call, file, line,
                   last.desc[0] ? last.desc : "unknown error", last.func[0] ? " in " : "", last.func);
}

void am_h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/* HDF5 1.10's exit-time library shutdown dereferences a file whose H5Fclose
 * failed on a write error (disk full) and crashes. Every file here is closed
 * explicitly, so the shutdown is not needed: turn it off before the library
 * initialises (H5dont_atexit must precede every other HDF5 call). */
__attribute__((constructor)) static void h5_no_atexit(void) { H5dont_atexit(); }

const char *am_h5_name(hid_t id) {
    static _Thread_local char buf[4096];
    if (H5Fget_name(id, buf, sizeof buf) < 0) snprintf(buf, sizeof buf, "(unknown file)");
    return buf;
}

/* ---- atomic output files -------------------------------------------------- */

int am_h5_out_create(am_h5_out *o, const char *path, am_err *e) {
    memset(o, 0, sizeof *o);
    o->file = H5I_INVALID_HID;
    if (strlen(path) >= sizeof o->path) return am_fail(e, "%s: path too long", path);
    snprintf(o->path, sizeof o->path, "%s", path);
    if (am_tmp_name(path, o->tmp, sizeof o->tmp, e)) return -1;
    am_remove_stale_tmp(path);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST);
    o->file = H5Fcreate(o->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (o->file < 0) {
        am_h5_fail(e, __FILE__, __LINE__, "H5Fcreate", o->tmp);
        return am_wrap(e, "cannot create %s (is the directory writable?)", path);
    }
    return 0;
}

int am_h5_out_commit(am_h5_out *o, am_err *e) {
    if (H5Fflush(o->file, H5F_SCOPE_GLOBAL) < 0 || H5Fclose(o->file) < 0) {
        o->file = H5I_INVALID_HID;
        am_h5_fail(e, __FILE__, __LINE__, "H5Fclose", o->tmp);
        am_wrap(e, "writing %s failed (disk full?)", o->path);
        unlink(o->tmp);
        am_tmp_release(o->tmp);
        return -1;
    }
    o->file = H5I_INVALID_HID;
    return am_commit_file(o->tmp, o->path, e); /* fsync, then the name; removes tmp on failure */
}

void am_h5_out_abort(am_h5_out *o) {
    if (o->file >= 0) H5Fclose(o->file);
    o->file = H5I_INVALID_HID;
    if (o->tmp[0]) {
        unlink(o->tmp);
        am_tmp_release(o->tmp);
    }
}

/* HDF5 1.10 decodes a global heap collection ("GCOL", where variable-length
 * strings live) object by object and advances by each object's stored size:
 * a free-space object (index 0) of size 0 makes that loop spin forever, and a
 * size that wraps the pointer sends it backwards. Walk every collection the
 * way the library does, bounded, before the library sees the file. */
hid_t am_h5_open_input(const char *path, const char *schema, am_err *e) {
    if (access(path, R_OK) != 0) {
        am_fail_errno(e, "%s", path);
        return H5I_INVALID_HID;
    }
    if (am_h5_check_heaps(path, e) < 0) return H5I_INVALID_HID;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        am_h5_fail(e, __FILE__, __LINE__, "H5Fopen", path);
        am_wrap(e, "%s is not a readable HDF5 file", path);
        return H5I_INVALID_HID;
    }
    if (schema && am_h5_check_schema(f, path, schema, e) < 0) {
        H5Fclose(f);
        return H5I_INVALID_HID;
    }
    return f;
}

int am_h5_check_schema(hid_t f, const char *path, const char *schema, am_err *e) {
    char *got = NULL;
    am_err sub = {0};
    if (am_h5_read_attr_str(f, "schema", &got, &sub) < 0)
        return am_fail_code(e, AM_E_CORRUPT, "%s: no 'schema' attribute; expected a file of schema %s", path, schema);
    const int ok = strcmp(got, schema) == 0;
    if (!ok)
        am_fail_code(e, AM_E_CORRUPT,
                     "%s: schema is '%s', expected '%s' (written by another version? re-run the stage)", path, got,
                     schema);
    free(got);
    return ok ? 0 : -1;
}

/* ---- attributes ----------------------------------------------------------- */

hid_t am_h5_utf8_type(void) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

static int attr_write(hid_t loc, const char *name, hid_t type, hid_t space, const void *v, am_err *e) {
    if (H5Aexists(loc, name) > 0) H5Adelete(loc, name);
    hid_t a = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a < 0 ? am_h5_fail(e, __FILE__, __LINE__, "H5Acreate2", name) : AM_H5(H5Awrite(a, type, v), e, name);
    if (a >= 0) H5Aclose(a);
    return rc;
}

int am_h5_attr_str(hid_t loc, const char *name, const char *value, am_err *e) {
    hid_t t = am_h5_utf8_type(), s = H5Screate(H5S_SCALAR);
    int rc = attr_write(loc, name, t, s, &value, e);
    H5Sclose(s);
    H5Tclose(t);
    return rc;
}

int am_h5_attr_strs(hid_t loc, const char *name, const char *const *values, int n, am_err *e) {
    hsize_t d = (hsize_t)n;
    hid_t t = am_h5_utf8_type(), s = H5Screate_simple(1, &d, NULL);
    int rc = attr_write(loc, name, t, s, values, e);
    H5Sclose(s);
    H5Tclose(t);
    return rc;
}

int am_h5_attr_i64(hid_t loc, const char *name, int64_t value, am_err *e) {
    hid_t s = H5Screate(H5S_SCALAR);
    int rc = attr_write(loc, name, H5T_NATIVE_INT64, s, &value, e);
    H5Sclose(s);
    return rc;
}

int am_h5_attr_f64(hid_t loc, const char *name, double value, am_err *e) {
    hid_t s = H5Screate(H5S_SCALAR);
    int rc = attr_write(loc, name, H5T_NATIVE_DOUBLE, s, &value, e);
    H5Sclose(s);
    return rc;
}

int am_h5_read_attr_str(hid_t loc, const char *name, char **value, am_err *e) {
    *value = NULL;
    if (H5Aexists(loc, name) <= 0) return am_fail(e, "%s: attribute '%s' missing", am_h5_name(loc), name);
    int rc = -1;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT), ft = H5I_INVALID_HID, mt = H5I_INVALID_HID;
    if (AM_H5ID(a, e, name)) goto out;
    ft = H5Aget_type(a);
    if (H5Tget_class(ft) != H5T_STRING) {
        am_fail(e, "%s: attribute '%s' is not a string", am_h5_name(loc), name);
        goto out;
    }
    if (H5Tis_variable_str(ft) > 0) {
        char *s = NULL;
        mt = am_h5_utf8_type();
        if (AM_H5(H5Aread(a, mt, &s), e, name)) goto out;
        *value = strdup(s ? s : "");
        H5free_memory(s);
        if (!*value) {
            am_fail_code(e, AM_E_NOMEM, "%s: out of memory reading attribute '%s'", am_h5_name(loc), name);
            goto out;
        }
    } else {
        size_t n = H5Tget_size(ft);
        mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, n + 1);
        if (!(*value = am_calloc(n + 2, 1, name, e))) goto out;
        if (AM_H5(H5Aread(a, mt, *value), e, name)) {
            free(*value);
            *value = NULL;
            goto out;
        }
    }
    rc = 0;
out:
    am_h5_close(&mt);
    am_h5_close(&ft);
    am_h5_close(&a);
    return rc;
}

int am_h5_read_attr_i64(hid_t loc, const char *name, int64_t *value, am_err *e) {
    if (H5Aexists(loc, name) <= 0) return am_fail(e, "%s: attribute '%s' missing", am_h5_name(loc), name);
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (AM_H5ID(a, e, name)) return -1;
    int rc = AM_H5(H5Aread(a, H5T_NATIVE_INT64, value), e, name);
    H5Aclose(a);
    return rc;
}

/* ---- datasets ------------------------------------------------------------- */

hid_t am_h5_write(hid_t loc, const char *name, hid_t mem_type, hid_t file_type, int rank, const hsize_t *dims,
                  const hsize_t *chunk, int level, const void *data, am_err *e) {
    hid_t space = H5Screate_simple(rank, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t d = H5I_INVALID_HID;
    hsize_t total = 1;
    for (int i = 0; i < rank; i++) total *= dims[i];
    if (chunk && total > 0) {
        H5Pset_chunk(dcpl, rank, chunk);
        if (level > 0) {
            H5Pset_shuffle(dcpl);
            H5Pset_deflate(dcpl, (unsigned)level);
        }
    }
    d = H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (d < 0) {
        am_h5_fail(e, __FILE__, __LINE__, "H5Dcreate2", name);
        goto out;
    }
    if (data && total > 0 && H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
        am_h5_fail(e, __FILE__, __LINE__, "H5Dwrite", name);
        H5Dclose(d);
        d = H5I_INVALID_HID;
    }
out:
    H5Pclose(dcpl);
    H5Sclose(space);
    return d;
}

int am_h5_done(hid_t d) {
    if (d < 0) return -1;
    H5Dclose(d);
    return 0;
}

int am_h5_put(hid_t loc, const char *name, hid_t mem_type, hid_t file_type, int rank, const hsize_t *dims,
              const void *data, am_err *e) {
    return am_h5_done(am_h5_write(loc, name, mem_type, file_type, rank, dims, NULL, 0, data, e));
}

hid_t am_h5_write_strs(hid_t loc, const char *name, int rank, const hsize_t *dims, const char *const *values,
                       am_err *e) {
    hid_t t = am_h5_utf8_type();
    hid_t d = am_h5_write(loc, name, t, t, rank, dims, NULL, 0, values, e);
    H5Tclose(t);
    return d;
}

int am_h5_read(hid_t loc, const char *name, hid_t mem_type, int rank, hsize_t *dims, void **out, am_err *e) {
    *out = NULL;
    int rc = -1, r = 0;
    hid_t d = H5I_INVALID_HID, s = H5I_INVALID_HID;
    const size_t esize = H5Tget_size(mem_type);
    uint64_t avail = 0;
    size_t n = 1;
    if (H5Lexists(loc, name, H5P_DEFAULT) <= 0) {
        am_fail(e, "%s: dataset '%s' missing", am_h5_name(loc), name);
        goto out;
    }
    d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (AM_H5ID(d, e, name)) goto out;
    s = H5Dget_space(d);
    r = H5Sget_simple_extent_ndims(s);
    if (r != rank) {
        am_fail(e, "%s: dataset '%s' has rank %d, expected %d", am_h5_name(loc), name, r, rank);
        goto out;
    }
    H5Sget_simple_extent_dims(s, dims, NULL);
    /* A corrupt or hostile file may claim any extent (compressed or unallocated
     * chunks read as fill values): refuse before allocating. */
    avail = am_memory_available();
    for (int i = 0; i < rank; i++) {
        if (dims[i] && n > SIZE_MAX / esize / dims[i]) n = SIZE_MAX / esize;
        else n *= dims[i];
    }
    if ((uint64_t)n * esize > avail) {
        am_fail(e,
                "%s: dataset '%s' claims %zu elements (%.3g bytes), more than the %.3g bytes of memory "
                "available (corrupt file?)",
                am_h5_name(loc), name, n, (double)n * esize, (double)avail);
        goto out;
    }
    *out = malloc(n * esize + 1);
    if (!*out) {
        am_fail(e, "%s: out of memory reading '%s'", am_h5_name(loc), name);
        goto out;
    }
    if (n && H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0) {
        am_h5_fail(e, __FILE__, __LINE__, "H5Dread", name);
        free(*out);
        *out = NULL;
        goto out;
    }
    rc = 0;
out:
    am_h5_close(&s);
    am_h5_close(&d);
    return rc;
}

int am_h5_read_strs(hid_t loc, const char *name, int rank, hsize_t *dims, char ***out, am_err *e) {
    int rc = -1, vlen = 0;
    size_t n = 1, fsize = 0;
    char *raw = NULL; /* [n] char * (variable length) or [n][fsize + 1] chars (fixed length) */
    char **res = NULL;
    hid_t d = H5I_INVALID_HID, ft = H5I_INVALID_HID, mt = H5I_INVALID_HID;
    *out = NULL;
    if (H5Lexists(loc, name, H5P_DEFAULT) <= 0) return am_fail(e, "%s: dataset '%s' missing", am_h5_name(loc), name);
    d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (AM_H5ID(d, e, name)) goto out;
    ft = H5Dget_type(d);
    if (AM_H5ID(ft, e, name)) goto out;
    if (H5Tget_class(ft) != H5T_STRING) {
        am_fail(e, "%s: dataset '%s' is not a string dataset", am_h5_name(loc), name);
        goto out;
    }
    /* Variable-length strings come back as pointers; fixed-length ones as
     * NUL-terminated slots one byte longer than the stored size. */
    vlen = H5Tis_variable_str(ft) > 0;
    fsize = vlen ? 0 : H5Tget_size(ft);
    mt = H5Tcopy(H5T_C_S1);
    if (AM_H5ID(mt, e, name) || AM_H5(H5Tset_size(mt, vlen ? H5T_VARIABLE : fsize + 1), e, name) ||
        AM_H5(H5Tset_cset(mt, H5Tget_cset(ft)), e, name) ||
        (!vlen && AM_H5(H5Tset_strpad(mt, H5T_STR_NULLTERM), e, name)))
        goto out;
    if (am_h5_read(loc, name, mt, rank, dims, (void **)&raw, e) < 0) goto out;
    for (int i = 0; i < rank; i++) n *= dims[i];
    res = calloc(n ? n : 1, sizeof *res);
    if (!res) {
        am_fail_code(e, AM_E_NOMEM, "%s: out of memory reading '%s'", am_h5_name(loc), name);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const char *v = vlen ? ((char **)raw)[i] : raw + i * (fsize + 1);
        res[i] = strdup(v ? v : "");
        if (!res[i]) {
            am_fail_code(e, AM_E_NOMEM, "%s: out of memory reading '%s'", am_h5_name(loc), name);
            goto out;
        }
    }
    *out = res;
    res = NULL;
    rc = 0;
out:
    if (raw && vlen)
        for (size_t i = 0; i < n; i++) H5free_memory(((char **)raw)[i]);
    free(raw);
    am_h5_free_strs(res, n);
    am_h5_close(&mt);
    am_h5_close(&ft);
    am_h5_close(&d);
    return rc;
}

void am_h5_free_strs(char **s, size_t n) {
    if (!s) return;
    for (size_t i = 0; i < n; i++) free(s[i]);
    free(s);
}

int am_h5_scale(hid_t loc, const char *scale, const char *label, const char *const *dsets, const int *dims, int n,
                am_err *e) {
    int rc = -1;
    hid_t s = H5Dopen2(loc, scale, H5P_DEFAULT), d = H5I_INVALID_HID;
    if (AM_H5ID(s, e, scale)) return -1;
    if (AM_H5(H5DSset_scale(s, label), e, scale)) goto out;
    for (int i = 0; i < n; i++) {
        d = H5Dopen2(loc, dsets[i], H5P_DEFAULT);
        if (AM_H5ID(d, e, dsets[i])) goto out;
        if (AM_H5(H5DSattach_scale(d, s, (unsigned)dims[i]), e, dsets[i])) goto out;
        H5DSset_label(d, (unsigned)dims[i], label);
        H5Dclose(d);
        d = H5I_INVALID_HID;
    }
    rc = 0;
out:
    am_h5_close(&d);
    H5Dclose(s); /* the scale is a dataset */
    return rc;
}

hid_t am_h5_f16_type(void) {
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    H5Tset_fields(t, 15, 10, 5, 0, 10);
    H5Tset_precision(t, 16);
    H5Tset_size(t, 2);
    H5Tset_ebias(t, 15);
    return t;
}

/* ---- existence, shapes, datasets written piecewise, scales by name -------- */

int am_h5_exists(hid_t loc, const char *name) {
    /* H5Lexists checks one link: walk the path so that "a/b" with a missing "a" is 0, not an error */
    char buf[1024];
    if (snprintf(buf, sizeof buf, "%s", name) >= (int)sizeof buf) return 0;
    for (char *p = buf[0] == '/' ? buf + 1 : buf; (p = strchr(p, '/')) != NULL; p++) {
        *p = 0;
        int ok = H5Lexists(loc, buf, H5P_DEFAULT) > 0;
        *p = '/';
        if (!ok) return 0;
    }
    return H5Lexists(loc, buf, H5P_DEFAULT) > 0;
}

int am_h5_attr_exists(hid_t loc, const char *name) { return H5Aexists(loc, name) > 0; }

int am_h5_read_attr_f64(hid_t loc, const char *name, double *value, am_err *e) {
    if (H5Aexists(loc, name) <= 0) return am_fail(e, "%s: attribute '%s' missing", am_h5_name(loc), name);
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (AM_H5ID(a, e, name)) return -1;
    int rc = AM_H5(H5Aread(a, H5T_NATIVE_DOUBLE, value), e, name);
    H5Aclose(a);
    return rc;
}

int am_h5_shape(hid_t loc, const char *name, int *rank, hsize_t *dims, am_err *e) {
    int rc = -1, r = -1;
    hid_t d = H5I_INVALID_HID, s = H5I_INVALID_HID;
    if (!am_h5_exists(loc, name)) return am_fail(e, "%s: dataset '%s' missing", am_h5_name(loc), name);
    d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (AM_H5ID(d, e, name)) goto out;
    s = H5Dget_space(d);
    if (AM_H5ID(s, e, name)) goto out;
    r = H5Sget_simple_extent_ndims(s);
    if (r < 0 || r > H5S_MAX_RANK || H5Sget_simple_extent_dims(s, dims, NULL) < 0) {
        am_h5_fail(e, __FILE__, __LINE__, "H5Sget_simple_extent_dims", name);
        goto out;
    }
    *rank = r;
    rc = 0;
out:
    am_h5_close(&s);
    am_h5_close(&d);
    return rc;
}

hid_t am_h5_create(hid_t loc, const char *name, hid_t file_type, int rank, const hsize_t *dims, const hsize_t *chunk,
                   int level, const double *fill, am_err *e) {
    hid_t d = H5I_INVALID_HID;
    hid_t space = H5Screate_simple(rank, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (AM_H5ID(space, e, name) || AM_H5ID(dcpl, e, name)) goto out;
    if (chunk) {
        if (AM_H5(H5Pset_chunk(dcpl, rank, chunk), e, name)) goto out;
        if (level > 0 &&
            (AM_H5(H5Pset_shuffle(dcpl), e, name) || AM_H5(H5Pset_deflate(dcpl, (unsigned)level), e, name)))
            goto out;
    }
    if (fill && AM_H5(H5Pset_fill_value(dcpl, H5T_NATIVE_DOUBLE, fill), e, name)) goto out;
    d = H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (d < 0) am_h5_fail(e, __FILE__, __LINE__, "H5Dcreate2", name);
out:
    am_h5_close(&dcpl);
    am_h5_close(&space);
    return d;
}

int am_h5_write_slab(hid_t d, hid_t mem_type, int rank, const hsize_t *start, const hsize_t *count, const void *buf,
                     am_err *e) {
    int rc = -1;
    hid_t fs = H5Dget_space(d), ms = H5Screate_simple(rank, count, NULL);
    if (AM_H5ID(fs, e, "hyperslab") || AM_H5ID(ms, e, "hyperslab") ||
        AM_H5(H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL), e, "hyperslab") ||
        AM_H5(H5Dwrite(d, mem_type, ms, fs, H5P_DEFAULT, buf), e, "hyperslab"))
        goto out;
    rc = 0;
out:
    am_h5_close(&ms);
    am_h5_close(&fs);
    return rc;
}

int am_h5_attach(hid_t loc, const char *dset, const char *const *scales, int rank, am_err *e) {
    int rc = -1;
    hid_t d = H5Dopen2(loc, dset, H5P_DEFAULT), s = H5I_INVALID_HID;
    if (AM_H5ID(d, e, dset)) return -1;
    for (int i = 0; i < rank; i++) {
        if (!scales[i]) continue;
        s = H5Dopen2(loc, scales[i], H5P_DEFAULT);
        if (AM_H5ID(s, e, scales[i])) goto out;
        const char *label = strrchr(scales[i], '/') ? strrchr(scales[i], '/') + 1 : scales[i];
        if (H5DSis_scale(s) <= 0 && AM_H5(H5DSset_scale(s, label), e, scales[i])) goto out;
        if (AM_H5(H5DSattach_scale(d, s, (unsigned)i), e, dset)) goto out;
        H5Dclose(s);
        s = H5I_INVALID_HID;
    }
    rc = 0;
out:
    am_h5_close(&s);
    H5Dclose(d);
    return rc;
}

hid_t am_h5_group_open(hid_t loc, const char *name, am_err *e) {
    if (!am_h5_exists(loc, name)) {
        am_fail_code(e, AM_E_NOTFOUND, "%s: group '%s' missing", am_h5_name(loc), name);
        return H5I_INVALID_HID;
    }
    hid_t g = H5Gopen2(loc, name, H5P_DEFAULT);
    if (g < 0) am_h5_fail(e, __FILE__, __LINE__, "H5Gopen2", name);
    return g;
}

hid_t am_h5_group(hid_t loc, const char *name, am_err *e) {
    hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) am_h5_fail(e, __FILE__, __LINE__, "H5Gcreate2", name);
    return g;
}

void am_h5_close(hid_t *id) {
    if (*id < 0) return;
    switch (H5Iget_type(*id)) {
    case H5I_FILE: H5Fclose(*id); break;
    case H5I_GROUP: H5Gclose(*id); break;
    case H5I_DATASET: H5Dclose(*id); break;
    case H5I_DATASPACE: H5Sclose(*id); break;
    case H5I_DATATYPE: H5Tclose(*id); break;
    case H5I_ATTR: H5Aclose(*id); break;
    case H5I_GENPROP_LST: H5Pclose(*id); break;
    default: break;
    }
    *id = H5I_INVALID_HID;
}

/* ---- int32 datasets, group listings --------------------------------------- */

hid_t am_h5_write_i32(hid_t loc, const char *name, int rank, const hsize_t *dims, const int32_t *v, am_err *e) {
    return am_h5_write(loc, name, H5T_NATIVE_INT32, H5T_STD_I32LE, rank, dims, NULL, 0, v, e);
}

int am_h5_list(hid_t loc, const char *group, char ***names, int *n, am_err *e) {
    H5G_info_t info;
    hid_t g = H5I_INVALID_HID;
    char **v = NULL;
    int k = 0, rc = -1;
    *names = NULL, *n = 0;
    if (!am_h5_exists(loc, group)) return 0;
    g = H5Gopen2(loc, group, H5P_DEFAULT);
    if (AM_H5ID(g, e, group) || AM_H5(H5Gget_info(g, &info), e, group)) goto out;
    if (!(v = am_calloc(info.nlinks ? (size_t)info.nlinks : 1, sizeof *v, "group member names", e))) goto out;
    for (k = 0; k < (int)info.nlinks; k++) {
        ssize_t len = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, (hsize_t)k, NULL, 0, H5P_DEFAULT);
        if (len < 0) {
            am_h5_fail(e, __FILE__, __LINE__, "H5Lget_name_by_idx", group);
            goto out;
        }
        if (!(v[k] = am_malloc((size_t)len + 1, 1, "a group member name", e))) goto out;
        H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, (hsize_t)k, v[k], (size_t)len + 1, H5P_DEFAULT);
    }
    *names = v, *n = k;
    v = NULL;
    rc = 0;
out:
    am_h5_free_strs(v, (size_t)k);
    am_h5_close(&g);
    return rc;
}
