/* The attnmix figures, built from a cube (plot_cube.h) or an analysis file:
 *   heads    grid query heads x alphas for one (pair, layer)
 *   pairs    grid pairs x alphas for one (layer, head or head mean)
 *   summary  mean and std over heads (rows) x alphas for one (pair, layer)
 *   layers   first/middle/last captured layer x alphas for one pair and head
 *            (or head mean)
 *   scatter  points of an analysis file (t-SNE or PCA) coloured by alpha,
 *            pair or layer, marker shape by model. */
#ifndef AM_PLOT_FIGURES_H
#define AM_PLOT_FIGURES_H

#include "plot/plot.h"
#include "plot/plot_cube.h"

typedef struct am_fig_opts {
    am_plot_style style;
    am_plot_format fmt;
    int log;              /* log10 colour scale */
    double floor;         /* its floor (default 1e-4) */
    double vmin, vmax;    /* fixed scale ends, NaN = from the data */
    const am_tokenizer *tok; /* token labels when non-NULL */
} am_fig_opts;

void am_fig_opts_default(am_fig_opts *o);

/* p, l, h are indices into the cube's axes (see am_plot_cube_pair/layer/head);
 * h = -1 averages over heads. */
int am_fig_heads(const am_cube *c, int p, int l, const am_fig_opts *o, const char *path,
                 am_err *e);
int am_fig_pairs(const am_cube *c, int l, int h, const am_fig_opts *o, const char *path,
                 am_err *e);
int am_fig_summary(const am_cube *c, int p, int l, const am_fig_opts *o, const char *path,
                   am_err *e);
int am_fig_layers(const am_cube *c, int p, int h, const am_fig_opts *o, const char *path,
                  am_err *e);
/* Captured-layer indices of the layers figure: first, middle, last (deduplicated). */
int am_fig_layer_picks(const am_cube *c, int picks[3]);

/* AM_BY_CLASS: the head class of /points/head_class (docs/freeze.md), class k
 * in categorical colour k, "mixed" (-1) in light grey; legend lists the
 * classes present. */
typedef enum { AM_BY_ALPHA = 0, AM_BY_PAIR = 1, AM_BY_LAYER = 2, AM_BY_CLASS = 3 } am_scatter_by;

/* space: "tsne" or "pca" (components cx, cy, 0-based). */
int am_fig_scatter(const char *analysis, am_scatter_by by, const char *space, int cx, int cy,
                   const am_fig_opts *o, const char *path, am_err *e);
/* Whether the analysis file has /points/<space> (1), not (0), or fails (-1);
 * space may also name another /points dataset, e.g. "head_class". */
int am_fig_analysis_has(const char *analysis, const char *space, am_err *e);

#endif
