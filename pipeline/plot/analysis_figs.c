/* Scatter figures from an analysis file: group /points with model (strings
 * [N]), pair (int32 [N], index into /pair), alpha (f64 [N]), layer, head
 * (int32 [N]), pca (f64 [N, K]), tsne (f64 [N, 2]). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "analysis/heads.h"
#include "h5/h5io.h"
#include "plot/analysis_figs.h"
#include "plot/figures.h"

/* Read /points/<name> as a numeric array of N rows x *cols (1-D: cols = 1). */
static int am_read_points(hid_t f, const char *name, hid_t mt, void **out, int *rows, int *cols, const char *path,
                          am_err *e) {
    int rank = 0;
    hsize_t d[H5S_MAX_RANK];
    *out = NULL;
    if (!am_h5_exists(f, name)) return am_fail(e, "%s: dataset %s missing (see docs/figures.md)", path, name);
    if (am_h5_shape(f, name, &rank, d, e)) return -1;
    if (rank < 1 || rank > 2 || d[0] > 1u << 30 || (rank == 2 && d[1] > 1u << 20))
        return am_fail(e, "%s: %s must be 1-D or 2-D", path, name);
    if (am_h5_read(f, name, mt, rank, d, out, e)) return am_wrap(e, "%s: reading %s", path, name);
    *rows = (int)d[0];
    *cols = rank == 2 ? (int)d[1] : 1;
    return 0;
}

/* A 1-D string dataset: *out [*n] (free with am_h5_free_strs). */
static int am_read_strings(hid_t f, const char *name, char ***out, int *n, am_err *e) {
    hsize_t d[1] = {0};
    *n = 0;
    if (am_h5_read_strs(f, name, 1, d, out, e)) return -1;
    *n = (int)d[0];
    return 0;
}

int am_fig_analysis_has(const char *analysis, const char *space, am_err *e) {
    char name[64];
    hid_t f = am_h5_open_input(analysis, NULL, e);
    if (f < 0) return -1;
    snprintf(name, sizeof name, "points/%s", space);
    const int r = am_h5_exists(f, name);
    am_h5_close(&f);
    return r;
}

int am_fig_scatter(const char *analysis, am_scatter_by by, const char *space, int cx, int cy, const am_fig_opts *o,
                   const char *path, am_err *e) {
    hid_t f = H5I_INVALID_HID;
    int rc = -1, n = 0, r, c, npair = 0, nmodel = 0, ngroups = 0, nm = 0, ncoord = 0, kc = 0;
    char **model = NULL, **pairs = NULL, **gnames = NULL, **mnames = NULL;
    int32_t *pair = NULL, *layer = NULL;
    double *alpha = NULL, *coord = NULL, *x = NULL, *y = NULL, *vals = NULL;
    int *group = NULL, *marker = NULL;
    unsigned char(*rgb)[3] = NULL;
    char title[256], sub[512], xl[64], yl[64], name[64];
    double *ratio = NULL;
    int nratio = 0;
    am_plot_cscale cbar;
    int use_cbar = 0;
    int32_t *hclass = NULL;
    am_scatter sc;
    const char *bys = by == AM_BY_ALPHA   ? "alpha"
                      : by == AM_BY_PAIR  ? "pair"
                      : by == AM_BY_LAYER ? "layer"
                                          : "head class";

    f = am_h5_open_input(analysis, NULL, e);
    if (f < 0) return -1;
    if (am_read_strings(f, "points/model", &model, &nmodel, e)) goto out;
    n = nmodel;
    {
        static const char *const cols[3] = {"points/pair", "points/alpha", "points/layer"};
        void **dst[3] = {(void **)&pair, (void **)&alpha, (void **)&layer};
        for (int k = 0; k < 3; k++) {
            if (am_read_points(f, cols[k], k == 1 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT32, dst[k], &r, &c, analysis, e))
                goto out;
            if (r != n || c != 1) {
                am_fail(e, "%s: /%s has %d x %d entries, /points/model has %d", analysis, cols[k], r, c, n);
                goto out;
            }
        }
    }
    snprintf(name, sizeof name, "points/%s", space);
    if (am_read_points(f, name, H5T_NATIVE_DOUBLE, (void **)&coord, &r, &ncoord, analysis, e)) goto out;
    if (r != n) {
        am_fail(e, "%s: /%s has %d rows, /points/model has %d", analysis, name, r, n);
        goto out;
    }
    if (cx < 0 || cy < 0 || cx >= ncoord || cy >= ncoord) {
        am_fail(e, "%s: /%s has %d components, asked for %d and %d", analysis, name, ncoord, cx + 1, cy + 1);
        goto out;
    }
    if (am_read_strings(f, "pair", &pairs, &npair, e)) goto out;

    x = malloc(sizeof *x * (n ? n : 1));
    y = malloc(sizeof *y * (n ? n : 1));
    group = malloc(sizeof *group * (n ? n : 1));
    marker = malloc(sizeof *marker * (n ? n : 1));
    vals = malloc(sizeof *vals * (n ? n : 1));
    mnames = calloc(n ? n : 1, sizeof *mnames);
    if (!x || !y || !group || !marker || !vals || !mnames) {
        am_fail(e, "out of memory");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        x[i] = coord[(size_t)i * ncoord + cx];
        y[i] = coord[(size_t)i * ncoord + cy];
        if (pair[i] < 0 || pair[i] >= npair) {
            am_fail(e, "%s: /points/pair[%d] = %d outside /pair (%d entries)", analysis, i, pair[i], npair);
            goto out;
        }
        int m = 0;
        while (m < nm && strcmp(mnames[m], model[i])) m++;
        if (m == nm) mnames[nm++] = model[i];
        marker[i] = m;
    }
    if (by == AM_BY_CLASS) {
        if (am_read_points(f, "points/head_class", H5T_NATIVE_INT32, (void **)&hclass, &r, &c, analysis, e)) goto out;
        if (r != n) {
            am_fail(e, "%s: /points/head_class has %d rows, /points/model has %d", analysis, r, n);
            goto out;
        }
        int present[AM_HC_N + 1] = {0}, slot[AM_HC_N + 1]; /* index AM_HC_N: mixed */
        for (int i = 0; i < n; i++) {
            if (hclass[i] < -1 || hclass[i] >= AM_HC_N) {
                am_fail(e, "%s: /points/head_class[%d] = %d is not a class (-1 .. %d)", analysis, i, hclass[i],
                        AM_HC_N - 1);
                goto out;
            }
            present[hclass[i] < 0 ? AM_HC_N : hclass[i]] = 1;
        }
        gnames = calloc(AM_HC_N + 1, sizeof *gnames);
        rgb = calloc(AM_HC_N + 1, sizeof *rgb);
        if (!gnames || !rgb) {
            am_fail(e, "out of memory");
            goto out;
        }
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
        if (!gnames || !rgb) {
            am_fail(e, "out of memory");
            goto out;
        }
        for (int g = 0; g < ngroups; g++) {
            gnames[g] = strdup(pairs[g]);
            am_plot_category_rgb(g, rgb[g]);
        }
        for (int i = 0; i < n; i++) group[i] = pair[i];
    } else {
        for (int i = 0; i < n; i++) vals[i] = by == AM_BY_ALPHA ? alpha[i] : layer[i];
        double *uniq = malloc(sizeof *uniq * (n ? n : 1));
        if (!uniq) {
            am_fail(e, "out of memory");
            goto out;
        }
        memcpy(uniq, vals, sizeof *uniq * n);
        qsort(uniq, (size_t)n, sizeof *uniq, am_cmp_double);
        for (int i = 0; i < n; i++)
            if (ngroups == 0 || uniq[i] != uniq[ngroups - 1]) uniq[ngroups++] = uniq[i];
        gnames = calloc(ngroups ? ngroups : 1, sizeof *gnames);
        rgb = calloc(ngroups ? ngroups : 1, sizeof *rgb);
        if (!gnames || !rgb) {
            free(uniq);
            am_fail(e, "out of memory");
            goto out;
        }
        /* layers: a continuous colour bar over the layer numbers */
        use_cbar = by == AM_BY_LAYER && ngroups > 1;
        if (use_cbar) {
            cbar = (am_plot_cscale){.s = {uniq[0], uniq[ngroups - 1], 0}, .cmap = AM_CMAP_VIRIDIS, .label = "layer"};
            am_plot_scale_fix(&cbar.s);
        }
        for (int g = 0; g < ngroups; g++) {
            char num[32], lab[64];
            am_plot_format_number(uniq[g], num, sizeof num);
            snprintf(lab, sizeof lab, by == AM_BY_ALPHA ? "\xce\xb1 = %s" : "layer %s", num);
            gnames[g] = strdup(lab);
            double t = by == AM_BY_ALPHA ? (ngroups > 1 ? (uniq[g] - uniq[0]) / (uniq[ngroups - 1] - uniq[0]) : 0.5)
                                         : (ngroups > 1 ? (double)g / (ngroups - 1) : 0.5);
            if (use_cbar) am_cmap_rgb8(AM_CMAP_VIRIDIS, am_plot_scale_norm(&cbar.s, uniq[g]), rgb[g]);
            else am_cmap_rgb8(AM_CMAP_VIRIDIS, t * 0.92, rgb[g]); /* short of the palest end: visible on white */
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
    } else { /* PCs with their share of the variance */
        hsize_t dr[1] = {0};
        if (am_h5_exists(f, "pca/explained_variance_ratio")) {
            if (am_h5_read(f, "pca/explained_variance_ratio", H5T_NATIVE_DOUBLE, 1, dr, (void **)&ratio, e)) goto out;
            nratio = (int)dr[0];
        }
        if (cx < nratio) snprintf(xl, sizeof xl, "PC%d (%.1f %% of the variance)", cx + 1, 100 * ratio[cx]);
        else snprintf(xl, sizeof xl, "PC%d", cx + 1);
        if (cy < nratio) snprintf(yl, sizeof yl, "PC%d (%.1f %% of the variance)", cy + 1, 100 * ratio[cy]);
        else snprintf(yl, sizeof yl, "PC%d", cy + 1);
    }
    snprintf(title, sizeof title, "%s of attention maps, coloured by %s", !strcmp(space, "tsne") ? "t-SNE" : "PCA",
             bys);
    kc = snprintf(sub, sizeof sub, "%d maps (one point per model, pair, \xce\xb1, layer, head)", n);
    if (nm > 1 && kc > 0 && (size_t)kc < sizeof sub)
        snprintf(sub + kc, sizeof sub - (size_t)kc, "; marker shape: model");
    for (int g = 0; g < ngroups; g++)
        if (!gnames[g]) {
            am_fail(e, "out of memory");
            goto out;
        }
    sc = (am_scatter){
        .n = n,
        .x = x,
        .y = y,
        .group = group,
        .marker = marker,
        .ngroups = ngroups,
        .group_names = (const char **)gnames,
        .group_rgb = (const unsigned char(*)[3])rgb,
        .group_title = bys,
        .nmarkers = nm,
        .marker_names = (const char **)mnames,
        .marker_title = "model",
        .title = title,
        .subtitle = sub,
        .xlabel = xl,
        .ylabel = yl,
        .cbar = use_cbar ? &cbar : NULL,
    };
    rc = am_plot_scatter_render(&sc, &o->style, o->fmt, path, e);
out:
    am_h5_close(&f);
    am_h5_free_strs(model, (size_t)nmodel);
    am_h5_free_strs(pairs, (size_t)npair);
    am_h5_free_strs(gnames, (size_t)ngroups);
    free(mnames); /* entries borrowed from model */
    free(hclass);
    free(ratio);
    free(pair);
    free(layer);
    free(alpha);
    free(coord);
    free(x);
    free(y);
    free(vals);
    free(group);
    free(marker);
    free(rgb);
    return rc;
}
