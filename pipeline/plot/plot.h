/* Figure primitives on cairo: colour maps and value scales, a canvas that
 * writes PNG/SVG/PDF atomically, text helpers, attention heat-map panels with
 * axes, token labels and colour bars, grid figures of panels, and scatter
 * figures with legends. Nothing here knows about HDF5; see plot_cube.h and
 * plot_figures.h for the data side. */
#ifndef AM_PLOT_H
#define AM_PLOT_H

#include <cairo.h>

#include "base/error.h"

/* ---- colour maps ---------------------------------------------------------- */

typedef enum { AM_CMAP_VIRIDIS = 0, AM_CMAP_DIVERGING = 1 } am_cmap;

#define AM_CMAP_SIZE 256

/* Table index of t in [0, 1] (clamped; NaN -> 0): round(t * 255). */
int am_cmap_index(double t);
/* 8-bit sRGB of table entry i (clamped to 0..255). */
void am_cmap_entry(am_cmap c, int i, unsigned char rgb[3]);
/* 8-bit sRGB colour of t in [0, 1]. */
void am_cmap_rgb8(am_cmap c, double t, unsigned char rgb[3]);

/* ---- value scales --------------------------------------------------------- */

/* Linear: t = (v - vmin) / (vmax - vmin).
 * Log:    t = (log10(max(v, vmin)) - log10(vmin)) / (log10(vmax) - log10(vmin)),
 *         vmin is the floor (> 0). t is clamped to [0, 1]. */
typedef struct am_plot_scale {
    double vmin, vmax;
    int log;
} am_plot_scale;

double am_plot_scale_norm(const am_plot_scale *s, double v);
/* Make a scale usable: log floors must be > 0; vmax > vmin (widened if not). */
void am_plot_scale_fix(am_plot_scale *s);

/* ---- canvas ----------------------------------------------------------------- */

typedef enum { AM_FMT_PNG = 0, AM_FMT_SVG = 1, AM_FMT_PDF = 2 } am_plot_format;

/* "png" | "svg" | "pdf" -> format; -1 if unknown. */
int am_plot_format_parse(const char *s);
const char *am_plot_format_ext(am_plot_format f);

typedef struct am_canvas {
    cairo_surface_t *surface;
    cairo_t *cr;
    am_plot_format fmt;
    double w, h;   /* size in figure units (1 unit = 1 PNG pixel at zoom 1, 1 pt in PDF) */
    double zoom;   /* PNG pixels per unit */
    char *path;    /* final name */
    char *tmp;     /* written first, renamed on success */
} am_canvas;

/* Open a w x h canvas on a white background. Nothing appears at `path`
 * until am_canvas_finish succeeds. */
int am_canvas_init(am_canvas *c, am_plot_format fmt, const char *path, double w, double h,
                   double zoom, am_err *e);
/* Write the file (temporary name, then rename) and release the canvas. */
int am_canvas_finish(am_canvas *c, am_err *e);
/* Release without writing (removes any temporary file). Safe after finish. */
void am_canvas_free(am_canvas *c);

/* ---- text ----------------------------------------------------------------- */

#define AM_PLOT_FONT "DejaVu Sans"

/* Anchor: horizontal 0 = left, 0.5 = centre, 1 = right; vertical the same for
 * top/middle/bottom of the font's ascent+descent box. angle in radians,
 * counter-clockwise positive (text reads bottom to top at pi/2). */
void am_plot_text(cairo_t *cr, double x, double y, const char *s, double size, int bold,
                  double ax, double ay, double angle);
/* Advance width of s at size. */
double am_plot_text_width(cairo_t *cr, const char *s, double size, int bold);
/* Characters of s that no installed font draws (they would show as boxes). */
int am_plot_text_missing(cairo_t *cr, const char *s);
/* Printable form of a token string: valid UTF-8 kept, spaces shown as U+2423,
 * control characters as \n \t \r or \xNN, invalid bytes as \xNN; cut to
 * max_chars code points with a trailing ellipsis. malloc'd. */
char *am_plot_escape_label(const char *s, size_t len, int max_chars);
/* "%.3g"-style number for ticks (no trailing zeros, "1e-04" -> "1e-4"). */
void am_plot_format_number(double v, char *buf, size_t n);

/* ---- heat-map panels ---------------------------------------------------- */

/* One attention map block to draw: row = query position, column = key. */
typedef struct am_heatmap {
    const float *data;   /* [n, ld] row-major; only the n x n block is shown */
    int n, ld;
    int boundary;        /* prompt length: a line between positions boundary-1 and
                            boundary on both axes; <= 0 or >= n: none */
    char **labels;       /* [n] token labels (escaped) or NULL: numeric ticks */
    const char *title;
    int scale;           /* index into the figure's scales */
} am_heatmap;

/* A colour scale of a figure, with its colour map and colour bar label. */
typedef struct am_plot_cscale {
    am_plot_scale s;
    am_cmap cmap;
    const char *label;   /* e.g. "attention" */
} am_plot_cscale;

/* Where colour bars go: one for the whole figure, one per row, one per panel. */
typedef enum { AM_BARS_FIGURE = 0, AM_BARS_ROW = 1, AM_BARS_PANEL = 2 } am_plot_bars;

/* Style of a grid figure. */
typedef struct am_plot_style {
    double panel;        /* target heat-map side in units (default 200) */
    double zoom;         /* PNG pixels per unit (default 1) */
    int tokens_max;      /* token labels only when n <= tokens_max (default 40) */
    am_plot_bars bars;
} am_plot_style;

void am_plot_style_default(am_plot_style *st);

/* Grid figure: rows x cols panels (a panel with data == NULL is left empty),
 * a title and optional subtitle line, colour scales referenced by the panels. */
typedef struct am_grid {
    int rows, cols;
    am_heatmap *panels;        /* [rows * cols] */
    am_plot_cscale *scales;    /* [nscales] */
    int nscales;
    const char *title;
    const char *subtitle;
} am_grid;

/* Geometry of the heat-map block of panel (r, c) after layout, in units. */
typedef struct am_panel_box {
    double x, y;     /* top-left corner of the n x n block */
    double cell;     /* side of one cell */
} am_panel_box;

/* Render the grid to `path`. boxes (optional, [rows*cols]) receives where each
 * block was drawn (for tests). */
int am_plot_grid_render(const am_grid *g, const am_plot_style *st, am_plot_format fmt,
                        const char *path, am_panel_box *boxes, am_err *e);

/* Colour bar: vertical bar in the rectangle (x, y, w, h), top = vmax, bottom =
 * vmin, ticks and labels to its right (min and max always labelled), label
 * text rotated further right. Returns the width used right of the bar. */
double am_plot_colorbar(cairo_t *cr, double x, double y, double w, double h,
                        const am_plot_cscale *cs);
/* Width a colour bar of cs needs right of its bar (ticks, labels, label text). */
double am_plot_colorbar_extent(cairo_t *cr, const am_plot_cscale *cs);

/* ---- scatter figures ---------------------------------------------------- */

typedef struct am_scatter {
    int n;
    const double *x, *y;      /* [n]; NaN points are skipped */
    const int *group;         /* [n] legend group of each point */
    const int *marker;        /* [n] marker shape index (0 circle, 1 square,
                                 2 triangle, 3 diamond, ...) or NULL */
    int ngroups;
    const char **group_names; /* [ngroups] */
    const unsigned char (*group_rgb)[3]; /* [ngroups] */
    const char *group_title;  /* legend heading, e.g. "alpha" */
    int nmarkers;
    const char **marker_names;/* [nmarkers] legend entries for shapes, or NULL */
    const char *marker_title; /* e.g. "model" */
    const char *title, *subtitle;
    const char *xlabel, *ylabel;
} am_scatter;

int am_plot_scatter_render(const am_scatter *sc, const am_plot_style *st, am_plot_format fmt,
                           const char *path, am_err *e);

/* Categorical palette colour k (cycles). */
void am_plot_category_rgb(int k, unsigned char rgb[3]);

#endif
