/* Copies between HDF5 files (see h5copy.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/memory.h"
#include "h5/h5copy.h"
#include "h5/h5io.h"

/* Free the variable-length data HDF5 allocated inside buf (n elements of
 * type mt over space) when mt has any; buf itself stays the caller's. */
static void reclaim_vlen(hid_t mt, hid_t space, void *buf, hssize_t n) {
    if (!buf || n <= 0 || mt < 0) return;
    if (H5Tis_variable_str(mt) <= 0 && H5Tdetect_class(mt, H5T_VLEN) <= 0) return;
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(mt, space, H5P_DEFAULT, buf);
#else
    H5Dvlen_reclaim(mt, space, H5P_DEFAULT, buf);
#endif
}

int am_h5_copy_plain(hid_t from, hid_t to, const char *name, am_err *e) {
    int rc = -1;
    void *buf = NULL;
    hssize_t n = 0;
    hid_t d = H5I_INVALID_HID, t = H5I_INVALID_HID, ft = H5I_INVALID_HID, mt = H5I_INVALID_HID, s = H5I_INVALID_HID,
          os = H5I_INVALID_HID, o = H5I_INVALID_HID;
    hsize_t dims[H5S_MAX_RANK];
    H5T_class_t cls = H5T_NO_CLASS;
    size_t size = 0;
    int rank = 0;
    uint64_t avail = 0;
    d = H5Dopen2(from, name, H5P_DEFAULT);
    if (AM_H5ID(d, e, name)) goto out;
    t = H5Dget_type(d);
    s = H5Dget_space(d);
    if (AM_H5ID(t, e, name) || AM_H5ID(s, e, name)) goto out;
    /* The copy gets a canonical type and a fresh dataspace, never the source's
     * own (possibly corrupt) descriptions: variable-length UTF-8 strings,
     * little-endian integers or floats of the source's width. */
    cls = H5Tget_class(t);
    size = H5Tget_size(t);
    if (cls == H5T_STRING && H5Tis_variable_str(t) > 0) {
        ft = am_h5_utf8_type();
        mt = am_h5_utf8_type();
    } else if (cls == H5T_INTEGER && (size == 4 || size == 8)) {
        ft = H5Tcopy(size == 4 ? H5T_STD_I32LE : H5T_STD_I64LE);
        mt = H5Tcopy(size == 4 ? H5T_NATIVE_INT32 : H5T_NATIVE_INT64);
    } else if (cls == H5T_FLOAT && (size == 4 || size == 8)) {
        ft = H5Tcopy(size == 4 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE);
        mt = H5Tcopy(size == 4 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE);
    } else {
        am_fail(e,
                "%s: dataset '%s' has an unexpected type (class %d, %zu bytes); expected variable-length "
                "strings or 32/64-bit numbers (corrupt file?)",
                am_h5_name(from), name, (int)cls, size);
        goto out;
    }
    rank = H5Sget_simple_extent_ndims(s);
    if (rank < 0 || rank > H5S_MAX_RANK || H5Sget_simple_extent_dims(s, dims, NULL) < 0) {
        am_h5_fail(e, __FILE__, __LINE__, "H5Sget_simple_extent_dims", name);
        goto out;
    }
    n = H5Sget_simple_extent_npoints(s);
    avail = am_memory_available();
    if (n < 0 || (uint64_t)n > avail / H5Tget_size(mt)) {
        am_fail(e, "%s: dataset '%s' claims %lld elements, more than the memory available (corrupt file?)",
                am_h5_name(from), name, (long long)n);
        n = 0;
        goto out;
    }
    buf = calloc((size_t)(n > 0 ? n : 1), H5Tget_size(mt));
    if (!buf) {
        am_fail(e, "%s: out of memory copying '%s'", am_h5_name(from), name);
        n = 0;
        goto out;
    }
    if (n > 0 && AM_H5(H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), e, name)) goto out;
    os = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
    if (AM_H5ID(os, e, name)) goto out;
    o = H5Dcreate2(to, name, ft, os, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (AM_H5ID(o, e, name)) goto out;
    if (n > 0 && AM_H5(H5Dwrite(o, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), e, name)) goto out;
    rc = 0;
out:
    reclaim_vlen(mt, s, buf, n);
    free(buf);
    am_h5_close(&o);
    am_h5_close(&os);
    am_h5_close(&s);
    am_h5_close(&mt);
    am_h5_close(&ft);
    am_h5_close(&t);
    am_h5_close(&d);
    return rc;
}

typedef struct attr_copy {
    hid_t to;
    const char *const *skip;
    am_err *e;
    int rc;
} attr_copy;

static herr_t copy_attr(hid_t loc, const char *name, const H5A_info_t *info, void *ctx) {
    attr_copy *ac = ctx;
    hid_t a = H5I_INVALID_HID, t = H5I_INVALID_HID, mt = H5I_INVALID_HID, sp = H5I_INVALID_HID, o = H5I_INVALID_HID;
    hssize_t n = 0;
    void *buf = NULL;
    (void)info;
    for (const char *const *s = ac->skip; s && *s; s++)
        if (strcmp(*s, name) == 0) return 0;
    ac->rc = -1;
    a = H5Aopen(loc, name, H5P_DEFAULT);
    if (AM_H5ID(a, ac->e, name)) goto out;
    t = H5Aget_type(a);
    if (AM_H5ID(t, ac->e, name)) goto out;
    mt = H5Tget_native_type(t, H5T_DIR_ASCEND);
    sp = H5Aget_space(a);
    if (AM_H5ID(mt, ac->e, name) || AM_H5ID(sp, ac->e, name)) goto out;
    n = H5Sget_simple_extent_npoints(sp);
    buf = calloc((size_t)(n > 0 ? n : 1), H5Tget_size(mt));
    if (!buf) {
        am_fail_code(ac->e, AM_E_NOMEM, "%s: out of memory copying attribute '%s'", am_h5_name(loc), name);
        goto out;
    }
    if (AM_H5(H5Aread(a, mt, buf), ac->e, name)) {
        n = 0;
        goto out;
    }
    if (H5Aexists(ac->to, name) > 0) H5Adelete(ac->to, name);
    o = H5Acreate2(ac->to, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (AM_H5ID(o, ac->e, name) || AM_H5(H5Awrite(o, mt, buf), ac->e, name)) goto out;
    ac->rc = 0;
out:
    reclaim_vlen(mt, sp, buf, n);
    free(buf);
    am_h5_close(&o);
    am_h5_close(&sp);
    am_h5_close(&mt);
    am_h5_close(&t);
    am_h5_close(&a);
    return ac->rc < 0 ? -1 : 0;
}

int am_h5_copy_attrs(hid_t from, hid_t to, const char *const *skip, am_err *e) {
    attr_copy ac = {to, skip, e, 0};
    hsize_t idx = 0;
    if (H5Aiterate2(from, H5_INDEX_NAME, H5_ITER_INC, &idx, copy_attr, &ac) < 0 || ac.rc < 0) {
        if (ac.rc == 0) am_fail(e, "%s: cannot read the attributes", am_h5_name(from));
        return -1;
    }
    return 0;
}
