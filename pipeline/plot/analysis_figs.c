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

/* The index columns of the points: /points/model (*model [*n], free with
 * am_h5_free_strs) and pair, alpha, layer [*n] each (checked to have one
 * entry per model row). */
static int read_point_index(hid_t f, const char *analysis, char ***model, int *n, int32_t **pair, double **alpha,
                            int32_t **layer, am_err *e) {
    static const char *const cols[3] = {"points/pair", "points/alpha", "points/layer"};
    void **dst[3] = {(void **)pair, (void **)alpha, (void **)layer};
    int r, c;
    if (am_read_strings(f, "points/model", model, n, e)) return -1;
    for (int k = 0; k < 3; k++) {
        if (am_read_points(f, cols[k], k == 1 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT32, dst[k], &r, &c, analysis, e))
            return -1;
        if (r != *n || c != 1)
            return am_fail(e, "%s: /%s has %d x %d entries, /points/model has %d", analysis, cols[k], r, c, *n);
    }
    return 0;
}

void am_fig_pc_label(int c, const double *ratio, int nratio, char *buf, size_t n) {
    if (ratio && c < nratio && isfinite(ratio[c]))
        snprintf(buf, n, "PC%d (%.1f %% of the variance)", c + 1, 100 * ratio[c]);
    else snprintf(buf, n, "PC%d", c + 1);
}

int am_fig_points_cols(const char *analysis, const char *name, am_err *e) {
    char path[64];
    int rank = 0, cols = 0;
    hsize_t d[H5S_MAX_RANK];
    hid_t f = am_h5_open_input(analysis, NULL, e);
    if (f < 0) return -1;
    snprintf(path, sizeof path, "points/%s", name);
    if (am_h5_exists(f, path)) {
        if (am_h5_shape(f, path, &rank, d, e)) cols = -1;
        else cols = rank == 2 ? (int)d[1] : 1;
    }
    am_h5_close(&f);
    return cols;
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
    if (read_point_index(f, analysis, &model, &nmodel, &pair, &alpha, &layer, e)) goto out;
    n = nmodel;
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
        am_fig_pc_label(cx, ratio, nratio, xl, sizeof xl);
        am_fig_pc_label(cy, ratio, nratio, yl, sizeof yl);
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

/* Index of the sorted alpha value v in uniq [n]. */
static int am_alpha_group(const double *uniq, int n, double v) {
    int g = 0;
    while (g < n - 1 && uniq[g] != v) g++;
    return g;
}

int am_fig_layer_keys(const char *analysis, int layer, const char *space, const am_fig_opts *o, const char *path,
                      am_err *e) {
    hid_t f = H5I_INVALID_HID;
    int rc = -1, n = 0, r, npair = 0, nmodel = 0, ncoord = 0, nuniq = 0, nm = 0, npan = 0;
    char **model = NULL, **pairs = NULL, **gnames = NULL, **ptitles = NULL;
    const char **mnames = NULL;
    int32_t *pair = NULL, *lay = NULL;
    double *alpha = NULL, *coord = NULL, *uniq = NULL, *ratio = NULL, *x = NULL, *y = NULL;
    int *group = NULL, *marker = NULL, *count = NULL, nratio = 0;
    unsigned char(*rgb)[3] = NULL;
    am_scatter *pan = NULL;
    char title[512], sub[512], xl[64], yl[64], name[64];
    const int tsne = !strcmp(space, "tsne");

    f = am_h5_open_input(analysis, NULL, e);
    if (f < 0) return -1;
    if (read_point_index(f, analysis, &model, &nmodel, &pair, &alpha, &lay, e)) goto out;
    n = nmodel;
    snprintf(name, sizeof name, "points/%s", tsne ? "tsne_key" : "pca");
    if (am_read_points(f, name, H5T_NATIVE_DOUBLE, (void **)&coord, &r, &ncoord, analysis, e)) goto out;
    if (r != n || ncoord < 2) {
        am_fail(e, "%s: /%s has %d x %d entries, expected %d x 2 or more", analysis, name, r, ncoord, n);
        goto out;
    }
    if (am_read_strings(f, "pair", &pairs, &npair, e)) goto out;
    if (!tsne && am_h5_exists(f, "pca/explained_variance_ratio")) {
        hsize_t dr[1] = {0};
        if (am_h5_read(f, "pca/explained_variance_ratio", H5T_NATIVE_DOUBLE, 1, dr, (void **)&ratio, e)) goto out;
        nratio = (int)dr[0];
    }
    if (!(uniq = am_malloc((size_t)n + 1, sizeof *uniq, "alphas", e)) ||
        !(count = am_calloc((size_t)npair + 1, sizeof *count, "points per key", e)) ||
        !(mnames = am_calloc((size_t)n + 1, sizeof *mnames, "model names", e)) ||
        !(x = am_malloc((size_t)n + 1, sizeof *x, "x", e)) || !(y = am_malloc((size_t)n + 1, sizeof *y, "y", e)) ||
        !(group = am_malloc((size_t)n + 1, sizeof *group, "groups", e)) ||
        !(marker = am_malloc((size_t)n + 1, sizeof *marker, "markers", e)) ||
        !(pan = am_calloc((size_t)npair + 1, sizeof *pan, "panels", e)) ||
        !(ptitles = am_calloc((size_t)npair + 1, sizeof *ptitles, "panel titles", e)))
        goto out;
    for (int i = 0; i < n; i++) {
        if (pair[i] < 0 || pair[i] >= npair) {
            am_fail(e, "%s: /points/pair[%d] = %d outside /pair (%d entries)", analysis, i, pair[i], npair);
            goto out;
        }
        if (lay[i] == layer) count[pair[i]]++;
    }
    for (int i = 0; i < n; i++) uniq[i] = alpha[i];
    qsort(uniq, (size_t)n, sizeof *uniq, am_cmp_double);
    for (int i = 0; i < n; i++)
        if (nuniq == 0 || uniq[i] != uniq[nuniq - 1]) uniq[nuniq++] = uniq[i];
    if (!(gnames = am_calloc((size_t)nuniq + 1, sizeof *gnames, "legend", e)) ||
        !(rgb = am_calloc((size_t)nuniq + 1, sizeof *rgb, "legend colours", e)))
        goto out;
    for (int g = 0; g < nuniq; g++) {
        char num[32], lab[64];
        am_plot_format_number(uniq[g], num, sizeof num);
        snprintf(lab, sizeof lab, "\xce\xb1 = %s", num);
        if (!(gnames[g] = strdup(lab))) {
            am_fail(e, "out of memory");
            goto out;
        }
        am_cmap_rgb8(AM_CMAP_VIRIDIS, (nuniq > 1 ? (double)g / (nuniq - 1) : 0.5) * 0.92, rgb[g]);
    }
    /* the points of the layer, grouped by key: panel k holds [start_k, start_k + count_k) */
    {
        int at = 0;
        for (int k = 0; k < npair; k++) {
            if (!count[k]) continue;
            int start = at;
            for (int i = 0; i < n; i++) {
                if (pair[i] != k || lay[i] != layer) continue;
                int m = 0;
                while (m < nm && strcmp(mnames[m], model[i])) m++;
                if (m == nm) mnames[nm++] = model[i];
                x[at] = coord[(size_t)i * ncoord], y[at] = coord[(size_t)i * ncoord + 1];
                group[at] = am_alpha_group(uniq, nuniq, alpha[i]), marker[at] = m;
                at++;
            }
            char t[300];
            snprintf(t, sizeof t, "pair %s", pairs[k]);
            if (!(ptitles[npan] = strdup(t))) {
                am_fail(e, "out of memory");
                goto out;
            }
            pan[npan] = (am_scatter){.n = at - start,
                                     .x = x + start,
                                     .y = y + start,
                                     .group = group + start,
                                     .marker = marker + start,
                                     .ngroups = nuniq,
                                     .group_names = (const char **)gnames,
                                     .group_rgb = (const unsigned char(*)[3])rgb,
                                     .group_title = "alpha",
                                     .nmarkers = nm,
                                     .marker_names = mnames,
                                     .marker_title = "model",
                                     .title = ptitles[npan]};
            npan++;
        }
    }
    if (!npan) {
        am_fail(e, "%s: no map of layer %d (see /points/layer)", analysis, layer);
        goto out;
    }
    for (int k = 0; k < npan; k++) pan[k].nmarkers = nm; /* models seen in any panel */
    if (tsne) {
        snprintf(xl, sizeof xl, "t-SNE 1");
        snprintf(yl, sizeof yl, "t-SNE 2");
    } else {
        am_fig_pc_label(0, ratio, nratio, xl, sizeof xl);
        am_fig_pc_label(1, ratio, nratio, yl, sizeof yl);
    }
    for (int k = 0; k < npan; k++) pan[k].xlabel = xl, pan[k].ylabel = yl;
    snprintf(title, sizeof title, "%s of the heads of layer %d, one panel per pair key", tsne ? "t-SNE" : "PCA", layer);
    snprintf(sub, sizeof sub,
             tsne ? "each point a map (head, \xce\xb1) placed by its key's own t-SNE of all that key's maps "
                    "(/points/tsne_key); colour: \xce\xb1"
                  : "each point a map (head, \xce\xb1) on the first two principal components of all maps; colour: "
                    "\xce\xb1");
    {
        am_plot_style st = o->style;
        if (st.zoom < 2 && o->fmt == AM_FMT_PNG) st.zoom = 2; /* print resolution */
        rc = am_plot_scatter_panels_render(pan, npan, npan <= 4 ? npan : 3, title, sub, &st, o->fmt, path, e);
    }
out:
    am_h5_close(&f);
    am_h5_free_strs(model, (size_t)nmodel);
    am_h5_free_strs(pairs, (size_t)npair);
    am_h5_free_strs(gnames, (size_t)nuniq);
    am_h5_free_strs(ptitles, (size_t)npair);
    free(mnames), free(pair), free(lay), free(alpha), free(coord), free(uniq), free(ratio), free(x), free(y);
    free(group), free(marker), free(count), free(rgb), free(pan);
    return rc;
}

/* Heads in cluster order: by cluster, then in file order. */
typedef struct am_head_ord {
    int cluster, index;
} am_head_ord;

static int am_cmp_head_ord(const void *a, const void *b) {
    const am_head_ord *x = a, *y = b;
    if (x->cluster != y->cluster) return x->cluster < y->cluster ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

int am_fig_head_distance(const char *analysis, const am_fig_opts *o, const char *path, am_err *e) {
    hid_t f = H5I_INVALID_HID, d = H5I_INVALID_HID;
    int rc = -1, Hn = 0, nmodel = 0, ncuts = 0, k = 0, nm = 0;
    char **model = NULL, **labels = NULL, *dname = NULL;
    int32_t *cl = NULL, *lay = NULL, *hd = NULL;
    double *D = NULL;
    float *M = NULL;
    int *cuts = NULL;
    am_head_ord *ord = NULL;
    hsize_t dims[2] = {0, 0}, d1[1] = {0};
    char title[512], sub[512], ptitle[64], dsname[80];
    f = am_h5_open_input(analysis, NULL, e);
    if (f < 0) return -1;
    if (!am_h5_exists(f, "heads/cluster")) {
        am_fail(e, "%s: /heads/cluster missing (an analysis file from before the clustering; rerun attnmix-analyze)",
                analysis);
        goto out;
    }
    if ((d = am_h5_group_open(f, "heads", e)) < 0 || am_h5_read_attr_str(d, "cluster_distance", &dname, e)) {
        am_wrap(e, "%s", analysis);
        goto out;
    }
    am_h5_close(&d);
    if (strcmp(dname, "distance") && strcmp(dname, "distance_units")) {
        am_fail(e, "%s: /heads/cluster names the distance '%s'", analysis, dname);
        goto out;
    }
    snprintf(dsname, sizeof dsname, "heads/%s", dname);
    if (am_read_strings(f, "heads/model", &model, &nmodel, e) ||
        am_h5_read(f, "heads/cluster", H5T_NATIVE_INT32, 1, d1, (void **)&cl, e) ||
        am_h5_read(f, "heads/layer", H5T_NATIVE_INT32, 1, d1, (void **)&lay, e) ||
        am_h5_read(f, "heads/head", H5T_NATIVE_INT32, 1, d1, (void **)&hd, e) ||
        am_h5_read(f, dsname, H5T_NATIVE_DOUBLE, 2, dims, (void **)&D, e))
        goto out;
    Hn = nmodel;
    if ((int)d1[0] != Hn || (int)dims[0] != Hn || (int)dims[1] != Hn || Hn < 1) {
        am_fail(e, "%s: /heads/model [%d], /heads/cluster [%d] and /%s [%d, %d] disagree", analysis, Hn, (int)d1[0],
                dsname, (int)dims[0], (int)dims[1]);
        goto out;
    }
    if (!(ord = am_malloc((size_t)Hn, sizeof *ord, "head order", e)) ||
        !(M = am_malloc((size_t)Hn * Hn, sizeof *M, "distance map", e)) ||
        !(cuts = am_malloc((size_t)Hn, sizeof *cuts, "cluster cuts", e)) ||
        !(labels = am_calloc((size_t)Hn, sizeof *labels, "head labels", e)))
        goto out;
    for (int i = 0; i < Hn; i++) {
        ord[i] = (am_head_ord){cl[i], i};
        if (cl[i] + 1 > k) k = cl[i] + 1;
        nm = nm > 1 || (i > 0 && strcmp(model[i], model[0])) ? 2 : 1;
    }
    qsort(ord, (size_t)Hn, sizeof *ord, am_cmp_head_ord);
    for (int a = 0; a < Hn; a++) {
        for (int b = 0; b < Hn; b++) M[(size_t)a * Hn + b] = (float)D[(size_t)ord[a].index * Hn + ord[b].index];
        if (a > 0 && ord[a].cluster != ord[a - 1].cluster) cuts[ncuts++] = a;
        char lab[300];
        int j = ord[a].index;
        if (nm > 1) snprintf(lab, sizeof lab, "%s L%d H%d (c%d)", model[j], lay[j], hd[j], ord[a].cluster);
        else snprintf(lab, sizeof lab, "L%d H%d (c%d)", lay[j], hd[j], ord[a].cluster);
        if (!(labels[a] = strdup(lab))) {
            am_fail(e, "out of memory");
            goto out;
        }
    }
    {
        am_plot_style st = o->style;
        if (st.tokens_max < 64) st.tokens_max = 64; /* head labels up to 64 heads */
        if (st.panel < 400) st.panel = 400;
        am_plot_cscale cs = {.s = {0, 0, 0}, .cmap = AM_CMAP_VIRIDIS, .label = "distance"};
        for (size_t i = 0; i < (size_t)Hn * Hn; i++)
            if (isfinite(M[i]) && M[i] > cs.s.vmax) cs.s.vmax = M[i];
        am_plot_scale_fix(&cs.s);
        snprintf(ptitle, sizeof ptitle, "%d heads in %d clusters", Hn, k);
        am_heatmap hm = {.data = M,
                         .n = Hn,
                         .ld = Hn,
                         .labels = labels,
                         .title = ptitle,
                         .xlabel = "head (cluster order)",
                         .ylabel = "head (cluster order)",
                         .cuts = cuts,
                         .ncuts = ncuts};
        am_grid g = {1, 1, &hm, &cs, 1, title, sub};
        snprintf(title, sizeof title, "Head distances, ordered by average-linkage cluster");
        snprintf(sub, sizeof sub,
                 "/heads/%s (%s); white lines separate the clusters; dark blocks on the diagonal are "
                 "tight clusters",
                 dname,
                 strcmp(dname, "distance_units") ? "distance of the mean z-scored features"
                                                 : "mean over units of the per-unit distance in PCA space");
        rc = am_plot_grid_render(&g, &st, o->fmt, path, NULL, e);
    }
out:
    am_h5_close(&d);
    am_h5_close(&f);
    am_h5_free_strs(model, (size_t)nmodel);
    am_h5_free_strs(labels, (size_t)Hn);
    free(dname), free(cl), free(lay), free(hd), free(D), free(M), free(cuts), free(ord);
    return rc;
}

int am_fig_analysis_layers(const char *analysis, int **layers, int *n, am_err *e) {
    hsize_t d[1] = {0};
    *layers = NULL, *n = 0;
    hid_t f = am_h5_open_input(analysis, NULL, e);
    if (f < 0) return -1;
    int rc = am_h5_exists(f, "layer") ? am_h5_read(f, "layer", H5T_NATIVE_INT, 1, d, (void **)layers, e) : 0;
    am_h5_close(&f);
    if (rc) return am_wrap(e, "%s", analysis);
    *n = (int)d[0];
    return 0;
}

int am_fig_cluster_table(const char *analysis, am_cluster_table *t, am_err *e) {
    hsize_t d1[1] = {0}, d2[2] = {0, 0}, dc[1] = {0};
    memset(t, 0, sizeof *t);
    hid_t f = am_h5_open_input(analysis, NULL, e);
    if (f < 0) return -1;
    int rc = 0;
    if (am_h5_exists(f, "clusters/size")) {
        rc = am_h5_read(f, "clusters/size", H5T_NATIVE_INT, 1, d1, (void **)&t->size, e) ||
             am_h5_read(f, "clusters/class_count", H5T_NATIVE_INT, 2, d2, (void **)&t->count, e) ||
             am_h5_read_strs(f, "clusters/class", 1, dc, &t->names, e);
        t->k = (int)d1[0], t->nclass = (int)dc[0];
        if (!rc && ((int)d2[0] != t->k || (int)d2[1] != t->nclass)) {
            rc = am_fail(e, "%s: /clusters/class_count is [%d, %d], expected [%d, %d]", analysis, (int)d2[0],
                         (int)d2[1], t->k, t->nclass);
        }
    }
    am_h5_close(&f);
    if (rc) {
        am_cluster_table_free(t);
        return am_wrap(e, "%s", analysis);
    }
    return 0;
}

void am_cluster_table_free(am_cluster_table *t) {
    free(t->size), free(t->count);
    am_h5_free_strs(t->names, (size_t)t->nclass);
    memset(t, 0, sizeof *t);
}
