/* Scatter figures from an analysis file: group /points with model (strings
 * [N]), pair (int32 [N], index into /pair), alpha (f64 [N]), layer, head
 * (int32 [N]), pca (f64 [N, K]), tsne (f64 [N, 2]). */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "analysis/heads.h"
#include "plot/figures.h"

/* Read /points/<name> as a numeric array of N rows x *cols (1-D: cols = 1). */
static int am_read_points(hid_t f, const char *name, hid_t mt, size_t el, void **out, int *rows,
                          int *cols, const char *path, am_err *e) {
    hid_t ds = H5I_INVALID_HID, sp = H5I_INVALID_HID;
    hsize_t d[2] = {0, 1};
    int rc = -1;
    *out = NULL;
    H5E_BEGIN_TRY { ds = H5Dopen2(f, name, H5P_DEFAULT); } H5E_END_TRY;
    if (ds < 0) return am_fail(e, "%s: dataset %s missing (see docs/figures.md)", path, name);
    sp = H5Dget_space(ds);
    int rank = H5Sget_simple_extent_ndims(sp);
    if (rank < 1 || rank > 2) {
        am_fail(e, "%s: %s must be 1-D or 2-D", path, name);
        goto out;
    }
    H5Sget_simple_extent_dims(sp, d, NULL);
    *rows = (int)d[0];
    *cols = rank == 2 ? (int)d[1] : 1;
    *out = malloc(((size_t)*rows * (size_t)*cols + 1) * el);
    if (!*out || H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) < 0) {
        am_fail(e, "%s: reading %s failed", path, name);
        goto out;
    }
    rc = 0;
out:
    if (rc) { free(*out); *out = NULL; }
    if (sp >= 0) H5Sclose(sp);
    H5Dclose(ds);
    return rc;
}

int am_fig_analysis_has(const char *analysis, const char *space, am_err *e) {
    hid_t f = H5I_INVALID_HID;
    char name[64];
    int r;
    H5E_BEGIN_TRY { f = H5Fopen(analysis, H5F_ACC_RDONLY, H5P_DEFAULT); } H5E_END_TRY;
    if (f < 0) return am_fail(e, "%s: cannot open as HDF5", analysis);
    snprintf(name, sizeof name, "points/%s", space);
    H5E_BEGIN_TRY {
        r = H5Lexists(f, "points", H5P_DEFAULT) > 0 && H5Lexists(f, name, H5P_DEFAULT) > 0;
    } H5E_END_TRY;
    H5Fclose(f);
    return r;
}

int am_fig_scatter(const char *analysis, am_scatter_by by, const char *space, int cx, int cy,
                   const am_fig_opts *o, const char *path, am_err *e) {
    hid_t f = H5I_INVALID_HID;
    int rc = -1, n = 0, r, c, npair = 0, nmodel = 0, ngroups = 0, nm = 0, ncoord = 0, kc = 0;
    char **model = NULL, **pairs = NULL, **gnames = NULL, **mnames = NULL;
    int32_t *pair = NULL, *layer = NULL;
    double *alpha = NULL, *coord = NULL, *x = NULL, *y = NULL, *vals = NULL;
    int *group = NULL, *marker = NULL;
    unsigned char (*rgb)[3] = NULL;
    char title[256], sub[512], xl[32], yl[32], name[64];
    int32_t *hclass = NULL;
    const char *bys = by == AM_BY_ALPHA ? "alpha" : by == AM_BY_PAIR ? "pair" : by == AM_BY_LAYER ? "layer" : "head class";

    H5E_BEGIN_TRY { f = H5Fopen(analysis, H5F_ACC_RDONLY, H5P_DEFAULT); } H5E_END_TRY;
    if (f < 0) return am_fail(e, "%s: cannot open as HDF5 (missing file?)", analysis);
    if (am_plot_h5_strings(f, "points/model", &model, &nmodel, e)) { am_wrap(e, "%s", analysis); goto out; }
    n = nmodel;
    if (am_read_points(f, "points/pair", H5T_NATIVE_INT32, 4, (void **)&pair, &r, &c, analysis, e) ||
        am_read_points(f, "points/alpha", H5T_NATIVE_DOUBLE, 8, (void **)&alpha, &r, &c, analysis, e) ||
        am_read_points(f, "points/layer", H5T_NATIVE_INT32, 4, (void **)&layer, &r, &c, analysis, e))
        goto out;
    snprintf(name, sizeof name, "points/%s", space);
    if (am_read_points(f, name, H5T_NATIVE_DOUBLE, 8, (void **)&coord, &r, &ncoord, analysis, e))
        goto out;
    if (r != n) {
        am_fail(e, "%s: /%s has %d rows, /points/model has %d", analysis, name, r, n);
        goto out;
    }
    if (cx < 0 || cy < 0 || cx >= ncoord || cy >= ncoord) {
        am_fail(e, "%s: /%s has %d components, asked for %d and %d", analysis, name, ncoord,
                cx + 1, cy + 1);
        goto out;
    }
    if (am_plot_h5_strings(f, "pair", &pairs, &npair, e)) { am_wrap(e, "%s", analysis); goto out; }

    x = malloc(sizeof *x * (n ? n : 1));
    y = malloc(sizeof *y * (n ? n : 1));
    group = malloc(sizeof *group * (n ? n : 1));
    marker = malloc(sizeof *marker * (n ? n : 1));
    vals = malloc(sizeof *vals * (n ? n : 1));
    mnames = calloc(n ? n : 1, sizeof *mnames);
    if (!x || !y || !group || !marker || !vals || !mnames) { am_fail(e, "out of memory"); goto out; }
    for (int i = 0; i < n; i++) {
        x[i] = coord[(size_t)i * ncoord + cx];
        y[i] = coord[(size_t)i * ncoord + cy];
        if (pair[i] < 0 || pair[i] >= npair) {
            am_fail(e, "%s: /points/pair[%d] = %d outside /pair (%d entries)", analysis, i, pair[i],
                    npair);
            goto out;
        }
        int m = 0;
        while (m < nm && strcmp(mnames[m], model[i])) m++;
        if (m == nm) mnames[nm++] = model[i];
        marker[i] = m;
    }
    if (by == AM_BY_CLASS) {
        if (am_read_points(f, "points/head_class", H5T_NATIVE_INT32, 4, (void **)&hclass, &r, &c, analysis, e)) goto out;
        if (r != n) { am_fail(e, "%s: /points/head_class has %d rows, /points/model has %d", analysis, r, n); goto out; }
        int present[AM_HC_N + 1] = {0}, slot[AM_HC_N + 1]; /* index AM_HC_N: mixed */
        for (int i = 0; i < n; i++) {
            if (hclass[i] < -1 || hclass[i] >= AM_HC_N) {
                am_fail(e, "%s: /points/head_class[%d] = %d is not a class (-1 .. %d)", analysis, i, hclass[i], AM_HC_N - 1);
                goto out;
            }
            present[hclass[i] < 0 ? AM_HC_N : hclass[i]] = 1;
        }
        gnames = calloc(AM_HC_N + 1, sizeof *gnames);
        rgb = calloc(AM_HC_N + 1, sizeof *rgb);
        if (!gnames || !rgb) { am_fail(e, "out of memory"); goto out; }
        for (int k = 0; k <= AM_HC_N; k++) {
            if (!present[k]) continue;
            slot[k] = ngroups;
            gnames[ngroups] = strdup(am_hc_label_name(k < AM_HC_N ? k : -1));
            if (k < AM_HC_N) am_plot_category_rgb(k, rgb[ngroups]);
            else rgb[ngroups][0] = rgb[ngroups][1] = rgb[ngroups][2] = 170;
            ngroups++;
        }
        for (int i = 0; i < n; i++) group[i] = slot[hclass[i] < 0 ? AM_HC_N : hclass[i]];
    } else if (by == AM_BY_PAIR) {
        ngroups = npair;
        gnames = calloc(ngroups ? ngroups : 1, sizeof *gnames);
        rgb = calloc(ngroups ? ngroups : 1, sizeof *rgb);
        if (!gnames || !rgb) { am_fail(e, "out of memory"); goto out; }
        for (int g = 0; g < ngroups; g++) {
            gnames[g] = strdup(pairs[g]);
            am_plot_category_rgb(g, rgb[g]);
        }
        for (int i = 0; i < n; i++) group[i] = pair[i];
    } else {
        for (int i = 0; i < n; i++) vals[i] = by == AM_BY_ALPHA ? alpha[i] : layer[i];
        double *uniq = malloc(sizeof *uniq * (n ? n : 1));
        if (!uniq) { am_fail(e, "out of memory"); goto out; }
        memcpy(uniq, vals, sizeof *uniq * n);
        qsort(uniq, (size_t)n, sizeof *uniq, am_cmp_double);
        for (int i = 0; i < n; i++)
            if (ngroups == 0 || uniq[i] != uniq[ngroups - 1]) uniq[ngroups++] = uniq[i];
        gnames = calloc(ngroups ? ngroups : 1, sizeof *gnames);
        rgb = calloc(ngroups ? ngroups : 1, sizeof *rgb);
        if (!gnames || !rgb) { free(uniq); am_fail(e, "out of memory"); goto out; }
        for (int g = 0; g < ngroups; g++) {
            char num[32], lab[64];
            am_plot_format_number(uniq[g], num, sizeof num);
            snprintf(lab, sizeof lab, by == AM_BY_ALPHA ? "\xce\xb1 = %s" : "layer %s", num);
            gnames[g] = strdup(lab);
            double t = by == AM_BY_ALPHA
                           ? (ngroups > 1 ? (uniq[g] - uniq[0]) / (uniq[ngroups - 1] - uniq[0]) : 0.5)
                           : (ngroups > 1 ? (double)g / (ngroups - 1) : 0.5);
            /* stop short of the palest end so points stay visible on white */
            am_cmap_rgb8(AM_CMAP_VIRIDIS, t * 0.92, rgb[g]);
        }
        for (int i = 0; i < n; i++) {
            int g = 0;
            while (g < ngroups - 1 && uniq[g] != vals[i]) g++;
            group[i] = g;
        }
        free(uniq);
    }
    if (!strcmp(space, "tsne")) {
        snprintf(xl, sizeof xl, "t-SNE %d", cx + 1);
        snprintf(yl, sizeof yl, "t-SNE %d", cy + 1);
    } else {
        snprintf(xl, sizeof xl, "PC%d", cx + 1);
        snprintf(yl, sizeof yl, "PC%d", cy + 1);
    }
    snprintf(title, sizeof title, "%s of attention maps, coloured by %s",
             !strcmp(space, "tsne") ? "t-SNE" : "PCA", bys);
    kc = snprintf(sub, sizeof sub, "%d maps (one point per model, pair, \xce\xb1, layer, head)", n);
    if (nm > 1 && kc > 0 && (size_t)kc < sizeof sub)
        snprintf(sub + kc, sizeof sub - (size_t)kc, "; marker shape: model");
    am_scatter sc = {
        .n = n, .x = x, .y = y, .group = group, .marker = marker, .ngroups = ngroups,
        .group_names = (const char **)gnames, .group_rgb = (const unsigned char (*)[3])rgb,
        .group_title = bys, .nmarkers = nm, .marker_names = (const char **)mnames,
        .marker_title = "model", .title = title, .subtitle = sub, .xlabel = xl, .ylabel = yl,
    };
    for (int g = 0; g < ngroups; g++)
        if (!gnames[g]) { am_fail(e, "out of memory"); goto out; }
    rc = am_plot_scatter_render(&sc, &o->style, o->fmt, path, e);
out:
    if (f >= 0) H5Fclose(f);
    am_plot_strings_free(model, nmodel);
    am_plot_strings_free(pairs, npair);
    am_plot_strings_free(gnames, ngroups);
    free(mnames); /* entries borrowed from model */
    free(hclass);
    free(pair); free(layer); free(alpha); free(coord); free(x); free(y); free(vals);
    free(group); free(marker); free(rgb);
    return rc;
}
