/* Figures of an analysis file: scatter of its points (t-SNE or PCA)
 * coloured by alpha, pair, layer or head class, marker shape by model. */
#ifndef AM_PLOT_ANALYSIS_FIGS_H
#define AM_PLOT_ANALYSIS_FIGS_H

#include "plot/figures.h"

/* AM_BY_CLASS: the head class of /points/head_class (docs/freeze.md), class k
 * in categorical colour k, "mixed" (-1) in light grey; legend lists the
 * classes present. */
typedef enum { AM_BY_ALPHA = 0, AM_BY_PAIR = 1, AM_BY_LAYER = 2, AM_BY_CLASS = 3 } am_scatter_by;

/* space: "tsne" or "pca" (components cx, cy, 0-based). */
int am_fig_scatter(const char *analysis, am_scatter_by by, const char *space, int cx, int cy, const am_fig_opts *o,
                   const char *path, am_err *e);
/* The maps of model layer `layer`, one panel per pair key: space "tsne" places
 * them by their key's own t-SNE (/points/tsne_key), "pca" on PC1/PC2 of all
 * maps; colour alpha, marker model; PNGs at zoom >= 2 (print). */
int am_fig_layer_keys(const char *analysis, int layer, const char *space, const am_fig_opts *o, const char *path,
                      am_err *e);
/* The head-distance matrix the clusters were cut from (/heads/cluster's
 * `distance`), heads ordered by cluster, white lines between clusters,
 * labelled "L<layer> H<head> (c<cluster>)" up to 64 heads. */
int am_fig_head_distance(const char *analysis, const am_fig_opts *o, const char *path, am_err *e);

/* The model layers of an analysis file (its root /layer), malloc'd. */
int am_fig_analysis_layers(const char *analysis, int **layers, int *n, am_err *e);

/* Heads per cluster and per dominant head class (/clusters; k = 0 when the
 * file has none). */
typedef struct am_cluster_table {
    int k, nclass;
    int *size;    /* [k] */
    int *count;   /* [k, nclass] */
    char **names; /* [nclass] class names, the last "mixed" */
} am_cluster_table;
int am_fig_cluster_table(const char *analysis, am_cluster_table *t, am_err *e);
void am_cluster_table_free(am_cluster_table *t);

/* Axis label of principal component c (0-based): "PC<c+1> (<share> % of the
 * variance)" when ratio [nratio] has it, else "PC<c+1>". */
void am_fig_pc_label(int c, const double *ratio, int nratio, char *buf, size_t n);

/* Columns of /points/<name> (1 for a 1-D dataset; 0 when absent), -1 on failure. */
int am_fig_points_cols(const char *analysis, const char *name, am_err *e);

/* Whether the analysis file has /points/<space> (1), not (0), or fails (-1);
 * space may also name another /points dataset, e.g. "head_class". */
int am_fig_analysis_has(const char *analysis, const char *space, am_err *e);

#endif
