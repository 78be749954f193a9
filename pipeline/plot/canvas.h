/* The canvas figures draw on: PNG, SVG or PDF through cairo, written
 * atomically (temporary name, then rename), and text through Pango with
 * fontconfig fallback. */
#ifndef AM_PLOT_CANVAS_H
#define AM_PLOT_CANVAS_H

#include "base/error.h"
#include <cairo.h>
#include <stddef.h>

/* ---- canvas ----------------------------------------------------------------- */

typedef enum { AM_FMT_PNG = 0, AM_FMT_SVG = 1, AM_FMT_PDF = 2 } am_plot_format;

/* "png" | "svg" | "pdf" -> format; -1 if unknown. */
int am_plot_format_parse(const char *s);
const char *am_plot_format_ext(am_plot_format f);

typedef struct am_canvas {
    cairo_surface_t *surface;
    cairo_t *cr;
    am_plot_format fmt;
    double w, h; /* size in figure units (1 unit = 1 PNG pixel at zoom 1, 1 pt in PDF) */
    double zoom; /* PNG pixels per unit */
    char *path;  /* final name */
    char *tmp;   /* written first, renamed on success */
} am_canvas;

/* Open a w x h canvas on a white background. Nothing appears at `path`
 * until am_canvas_finish succeeds. */
int am_canvas_init(am_canvas *c, am_plot_format fmt, const char *path, double w, double h, double zoom, am_err *e);
/* Write the file (temporary name, then rename) and release the canvas. */
int am_canvas_finish(am_canvas *c, am_err *e);
/* Release without writing (removes any temporary file). Safe after finish. */
void am_canvas_free(am_canvas *c);

/* ---- text ----------------------------------------------------------------- */

#define AM_PLOT_FONT "DejaVu Sans"

/* Anchor: horizontal 0 = left, 0.5 = centre, 1 = right; vertical the same for
 * top/middle/bottom of the font's ascent+descent box. angle in radians,
 * counter-clockwise positive (text reads bottom to top at pi/2). */
void am_plot_text(cairo_t *cr, double x, double y, const char *s, double size, int bold, double ax, double ay,
                  double angle);
/* A 1-unit frame in grey level `grey` (0 black .. 1 white) just outside the
 * rectangle (x, y, w, h), so it covers none of what is drawn inside. */
void am_plot_frame(cairo_t *cr, double x, double y, double w, double h, double grey);
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

#endif
