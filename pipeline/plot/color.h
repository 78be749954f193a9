/* Colours of figures: the colour maps (tables in colormap_data.h), value
 * scales from data to [0, 1], and the categorical palette. */
#ifndef AM_PLOT_COLOR_H
#define AM_PLOT_COLOR_H

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

/* ---- categories ------------------------------------------------------------ */

/* Categorical palette colour k (cycles). */
void am_plot_category_rgb(int k, unsigned char rgb[3]);

#endif
