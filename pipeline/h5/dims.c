/* Dimension scales on every axis of a file (dims.h). */
#include "h5/dims.h"

#include <hdf5_hl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5/h5io.h"

/* The paths of every dataset reached by a hard link, collected before any
 * scale is created (the file must not change under H5Lvisit). */
typedef struct dset_list {
    char **path;
    int n, cap, oom;
} dset_list;

static herr_t collect(hid_t g, const char *name, const H5L_info_t *info, void *ctx) {
    dset_list *l = ctx;
    if (info->type != H5L_TYPE_HARD) return 0;
    hid_t o = H5Oopen(g, name, H5P_DEFAULT);
    if (o < 0) return -1;
    const int is_dset = H5Iget_type(o) == H5I_DATASET;
    H5Oclose(o);
    if (!is_dset) return 0;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        char **p = realloc(l->path, (size_t)cap * sizeof *p);
        if (!p) return l->oom = 1, -1;
        l->path = p, l->cap = cap;
    }
    if (!(l->path[l->n] = strdup(name))) return l->oom = 1, -1;
    l->n++;
    return 0;
}

/* 1 if path starts with the rule's prefix ('*' matches one path component). */
static int prefix_match(const char *path, const char *prefix) {
    while (*prefix) {
        if (*prefix == '*') {
            while (*path && *path != '/') path++;
            prefix++;
        } else if (*path++ != *prefix++) return 0;
    }
    return 1;
}

/* The scale's full path (from the root, no leading '/') for a dataset at path. */
static void scale_path(const char *dset, const char *scale, char *out, size_t n) {
    if (scale[0] == '/') {
        snprintf(out, n, "%s", scale + 1);
        return;
    }
    const char *sl = strrchr(dset, '/');
    if (sl) snprintf(out, n, "%.*s/%s", (int)(sl - dset), dset, scale);
    else snprintf(out, n, "%s", scale);
}

/* Length of the 1-D dataset at path, 0 if absent, -1 if not 1-D. */
static long long length_1d(hid_t f, const char *path) {
    if (!am_h5_exists(f, path)) return 0;
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT), s = d < 0 ? H5I_INVALID_HID : H5Dget_space(d);
    hsize_t dims[H5S_MAX_RANK];
    int r = s < 0 ? -1 : H5Sget_simple_extent_dims(s, dims, NULL);
    if (s >= 0) H5Sclose(s);
    if (d >= 0) H5Dclose(d);
    H5Eclear2(H5E_DEFAULT);
    return r == 1 ? (long long)dims[0] : -1;
}

/* Attach the scale at path (created as an index 0..len-1 when absent) to axis i of d. */
static int attach(hid_t f, hid_t d, const char *dset, int i, const char *path, hsize_t len, am_err *e) {
    int rc = -1;
    hid_t s = H5I_INVALID_HID;
    int32_t *iota = NULL;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    if (!am_h5_exists(f, path)) {
        if (!(iota = am_malloc(len ? (size_t)len : 1, sizeof *iota, "an index scale", e))) return -1;
        for (hsize_t k = 0; k < len; k++) iota[k] = (int32_t)k;
        if (am_h5_done(am_h5_write_i32(f, path, 1, &len, iota, e))) goto out;
    }
    s = H5Dopen2(f, path, H5P_DEFAULT);
    if (AM_H5ID(s, e, path)) goto out;
    if (H5DSis_scale(s) <= 0 && AM_H5(H5DSset_scale(s, base), e, path)) goto out;
    if (AM_H5(H5DSattach_scale(d, s, (unsigned)i), e, dset)) goto out;
    rc = 0;
out:
    am_h5_close(&s);
    free(iota);
    return rc;
}

/* Label the unlabelled axes of one dataset. */
static int label_one(hid_t f, const char *dset, const am_h5_axis_rule *rules, int n, am_err *e) {
    int rc = -1, rank;
    hsize_t dims[H5S_MAX_RANK];
    char used[H5S_MAX_RANK][1024]; /* scale paths on this dataset's axes */
    hid_t d = H5Dopen2(f, dset, H5P_DEFAULT), s = H5I_INVALID_HID;
    if (AM_H5ID(d, e, dset)) return -1;
    if (H5DSis_scale(d) > 0) {
        rc = 0;
        goto out;
    }
    s = H5Dget_space(d);
    if (AM_H5ID(s, e, dset)) goto out;
    rank = H5Sget_simple_extent_dims(s, dims, NULL);
    for (int i = 0; i < rank; i++) used[i][0] = 0;
    for (int i = 0; i < rank; i++) {
        char path[1024] = "";
        int found = 0;
        if (H5DSget_num_scales(d, (unsigned)i) > 0) continue;
        for (int r = 0; r < n && !found; r++) {
            if (rules[r].axis != i || !prefix_match(dset, rules[r].prefix)) continue;
            scale_path(dset, rules[r].scale, path, sizeof path);
            const long long len = length_1d(f, path);
            found = len == 0 || len == (long long)dims[i];
            for (int j = 0; j < rank && found; j++) found = strcmp(used[j], path) != 0;
        }
        for (int k = 0; !found; k++) {
            char name[64];
            if (k == 0) snprintf(name, sizeof name, "dim_%llu", (unsigned long long)dims[i]);
            else snprintf(name, sizeof name, "dim_%llu_%d", (unsigned long long)dims[i], k);
            scale_path(dset, name, path, sizeof path);
            const long long len = length_1d(f, path);
            found = len == 0 || len == (long long)dims[i];
            for (int j = 0; j < rank && found; j++) found = strcmp(used[j], path) != 0;
        }
        if (attach(f, d, dset, i, path, dims[i], e) < 0) goto out;
        snprintf(used[i], sizeof used[i], "%s", path);
    }
    rc = 0;
out:
    am_h5_close(&s);
    H5Dclose(d);
    return rc;
}

int am_h5_label_dims(hid_t f, const am_h5_axis_rule *rules, int n, am_err *e) {
    dset_list l = {0};
    int rc = -1;
    if (H5Lvisit(f, H5_INDEX_NAME, H5_ITER_INC, collect, &l) < 0) {
        if (l.oom) am_fail_code(e, AM_E_NOMEM, "%s: out of memory listing the datasets", am_h5_name(f));
        else am_h5_fail(e, __FILE__, __LINE__, "H5Lvisit", "the datasets");
        goto out;
    }
    for (int i = 0; i < l.n; i++)
        if (label_one(f, l.path[i], rules, n, e) < 0) {
            am_wrap(e, "%s: labelling the axes of /%s", am_h5_name(f), l.path[i]);
            goto out;
        }
    rc = 0;
out:
    for (int i = 0; i < l.n; i++) free(l.path[i]);
    free(l.path);
    return rc;
}
