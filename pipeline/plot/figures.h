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

/* Colour scale of the attention figures: linear values, log10 values (from
 * the floor), or each query row divided by its maximum (linear), so the
 * structure of rows that a sink dominates shows. */
typedef enum { AM_SCALE_LINEAR = 0, AM_SCALE_LOG = 1, AM_SCALE_ROW = 2 } am_fig_scale;

typedef struct am_fig_opts {
    am_plot_style style;
    am_plot_format fmt;
    int log;                 /* log10 colour scale (AM_SCALE_LOG) */
    int row;                 /* rows divided by their maximum (AM_SCALE_ROW) */
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
/* Mean and std over heads for every pair at layer l: pair keys down (a mean
 * row and a std row each), alphas across. */
int am_fig_summary_pairs(const am_cube *c, int l, const am_fig_opts *o, const char *path, am_err *e);
/* Set o's scale (log and row flags). */
void am_fig_set_scale(am_fig_opts *o, am_fig_scale s);
/* The mix formula of the cube's mode (root attribute mix; linear when absent),
 * for subtitles. */
const char *am_fig_mix_text(const am_cube *c);
/* Captured-layer indices of the layers figure: first, middle, last (deduplicated). */
int am_fig_layer_picks(const am_cube *c, int picks[3]);

#endif
