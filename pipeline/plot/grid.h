/* Grid figures of attention heat-map panels, with axes, token labels and
 * colour bars. */
#ifndef AM_PLOT_GRID_H
#define AM_PLOT_GRID_H

#include "base/error.h"
#include "plot/canvas.h"
#include "plot/color.h"
#include <cairo.h>

/* ---- heat-map panels ---------------------------------------------------- */

/* One attention map block to draw: row = query position, column = key. */
typedef struct am_heatmap {
    const float *data; /* [n, ld] row-major; only the n x n block is shown */
    int n, ld;
    int boundary;  /* prompt length: a line between positions boundary-1 and
                            boundary on both axes; <= 0 or >= n: none */
    char **labels; /* [n] token labels (escaped) or NULL: numeric ticks */
    const char *title;
    int scale;                   /* index into the figure's scales */
    const char *xlabel, *ylabel; /* axis labels; NULL: "key position", "query position" */
    const int *cuts;             /* [ncuts] positions where a block starts: thin white lines on both axes */
    int ncuts;
} am_heatmap;

/* A colour scale of a figure, with its colour map and colour bar label. */
typedef struct am_plot_cscale {
    am_plot_scale s;
    am_cmap cmap;
    const char *label; /* e.g. "attention" */
} am_plot_cscale;

/* Where colour bars go: one for the whole figure, one per row, one per panel. */
typedef enum { AM_BARS_FIGURE = 0, AM_BARS_ROW = 1, AM_BARS_PANEL = 2 } am_plot_bars;

/* Style of a grid figure. */
typedef struct am_plot_style {
    double panel;   /* target heat-map side in units (default 200) */
    double zoom;    /* PNG pixels per unit (default 1) */
    int tokens_max; /* token labels only when n <= tokens_max (default 40) */
    am_plot_bars bars;
} am_plot_style;

void am_plot_style_default(am_plot_style *st);

/* Grid figure: rows x cols panels (a panel with data == NULL is left empty),
 * a title and optional subtitle line, colour scales referenced by the panels. */
typedef struct am_grid {
    int rows, cols;
    am_heatmap *panels;     /* [rows * cols] */
    am_plot_cscale *scales; /* [nscales] */
    int nscales;
    const char *title;
    const char *subtitle;
} am_grid;

/* Geometry of the heat-map block of panel (r, c) after layout, in units. */
typedef struct am_panel_box {
    double x, y; /* top-left corner of the n x n block */
    double cell; /* side of one cell */
} am_panel_box;

/* Render the grid to `path`. boxes (optional, [rows*cols]) receives where each
 * block was drawn (for tests). */
int am_plot_grid_render(const am_grid *g, const am_plot_style *st, am_plot_format fmt, const char *path,
                        am_panel_box *boxes, am_err *e);

/* Colour bar: vertical bar in the rectangle (x, y, w, h), top = vmax, bottom =
 * vmin, ticks and labels to its right (min and max always labelled), label
 * text rotated further right. Returns the width used right of the bar. */
double am_plot_colorbar(cairo_t *cr, double x, double y, double w, double h, const am_plot_cscale *cs);
/* Width a colour bar of cs needs right of its bar (ticks, labels, label text). */
double am_plot_colorbar_extent(cairo_t *cr, const am_plot_cscale *cs);

#endif
