/* The attnmix figures, built from a cube (cube_view.h) or an analysis file:
 *   heads    grid query heads x alphas for one (pair, layer)
 *   pairs    grid pairs x alphas for one (layer, head or head mean)
 *   summary  mean and std over heads (rows) x alphas for one (pair, layer)
 *   layers   first/middle/last captured layer x alphas for one pair and head
 *            (or head mean)
 * The scatter figures of an analysis file are in analysis_figs.h. */
#ifndef AM_PLOT_FIGURES_H
#define AM_PLOT_FIGURES_H

#include "plot/cube_view.h"
#include "plot/grid.h"
#include "plot/scatter.h"

typedef struct am_fig_opts {
    am_plot_style style;
    am_plot_format fmt;
    int log;                 /* log10 colour scale */
    double floor;            /* its floor (default 1e-4) */
    double vmin, vmax;       /* fixed scale ends, NaN = from the data */
    const am_tokenizer *tok; /* token labels when non-NULL */
} am_fig_opts;

void am_fig_opts_default(am_fig_opts *o);

/* p, l, h are indices into the cube's axes (see am_plot_cube_pair/layer/head);
 * h = -1 averages over heads. */
int am_fig_heads(const am_cube *c, int p, int l, const am_fig_opts *o, const char *path, am_err *e);
int am_fig_pairs(const am_cube *c, int l, int h, const am_fig_opts *o, const char *path, am_err *e);
int am_fig_summary(const am_cube *c, int p, int l, const am_fig_opts *o, const char *path, am_err *e);
int am_fig_layers(const am_cube *c, int p, int h, const am_fig_opts *o, const char *path, am_err *e);
/* Captured-layer indices of the layers figure: first, middle, last (deduplicated). */
int am_fig_layer_picks(const am_cube *c, int picks[3]);

#endif
