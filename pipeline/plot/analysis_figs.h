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
/* Whether the analysis file has /points/<space> (1), not (0), or fails (-1);
 * space may also name another /points dataset, e.g. "head_class". */
int am_fig_analysis_has(const char *analysis, const char *space, am_err *e);

#endif
