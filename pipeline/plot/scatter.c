/* Scatter figure with axes, grid and legend. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot/scatter.h"

#define M_FIG 16.0
#define S_TITLE 15.0
#define S_SUB 11.0
#define S_AXIS 11.0
#define S_TICK 9.0
#define S_LEG 10.0
#define R_MARK 3.2
#define LEG_MAX 24

static double am_step(double x) {
    double p = pow(10.0, floor(log10(x))), m = x / p;
    return (m <= 1.0 ? 1.0 : m <= 2.0 ? 2.0 : m <= 5.0 ? 5.0 : 10.0) * p;
}

static void am_marker(cairo_t *cr, int shape, double x, double y, double r) {
    switch (shape % 4) {
    case 1: cairo_rectangle(cr, x - r * 0.9, y - r * 0.9, r * 1.8, r * 1.8); break;
    case 2:
        cairo_move_to(cr, x, y - r * 1.15);
        cairo_line_to(cr, x + r * 1.05, y + r * 0.75);
        cairo_line_to(cr, x - r * 1.05, y + r * 0.75);
        cairo_close_path(cr);
        break;
    case 3:
        cairo_move_to(cr, x, y - r * 1.25);
        cairo_line_to(cr, x + r * 1.0, y);
        cairo_line_to(cr, x, y + r * 1.25);
        cairo_line_to(cr, x - r * 1.0, y);
        cairo_close_path(cr);
        break;
    default:
        cairo_new_sub_path(cr);
        cairo_arc(cr, x, y, r, 0, 2 * M_PI);
        break;
    }
}

static void am_range(const double *v, int n, double *lo, double *hi) {
    *lo = INFINITY;
    *hi = -INFINITY;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) {
            if (v[i] < *lo) *lo = v[i];
            if (v[i] > *hi) *hi = v[i];
        }
    if (!(*hi >= *lo)) {
        *lo = 0;
        *hi = 1;
    }
    double pad = (*hi - *lo) * 0.06;
    if (pad == 0) pad = fabs(*lo) > 0 ? fabs(*lo) * 0.1 : 1.0;
    *lo -= pad;
    *hi += pad;
}

/* Axis ranges and tick steps of one scatter panel. */
typedef struct am_sc_axes {
    double xlo, xhi, ylo, yhi, xs, ys, tickw;
} am_sc_axes;

static void am_sc_axes_fit(cairo_t *mc, const am_scatter *sc, am_sc_axes *ax) {
    char buf[64];
    am_range(sc->x, sc->n, &ax->xlo, &ax->xhi);
    am_range(sc->y, sc->n, &ax->ylo, &ax->yhi);
    ax->xs = am_step((ax->xhi - ax->xlo) / 6), ax->ys = am_step((ax->yhi - ax->ylo) / 6);
    ax->tickw = 0;
    for (double t = ceil(ax->ylo / ax->ys) * ax->ys; t <= ax->yhi; t += ax->ys) {
        am_plot_format_number(fabs(t) < ax->ys * 1e-9 ? 0 : t, buf, sizeof buf);
        ax->tickw = fmax(ax->tickw, am_plot_text_width(mc, buf, S_TICK, 0));
    }
}

/* Width of the legend column and its number of rows. */
static double am_sc_legend_width(cairo_t *mc, const am_scatter *sc, double side, int *rows) {
    double legw = 0;
    int nleg = sc->cbar ? 0 : sc->ngroups > LEG_MAX ? LEG_MAX - 1 : sc->ngroups;
    for (int g = 0; g < nleg; g++) legw = fmax(legw, am_plot_text_width(mc, sc->group_names[g], S_LEG, 0) + 18);
    if (sc->group_title) legw = fmax(legw, am_plot_text_width(mc, sc->group_title, S_LEG, 1));
    if (sc->cbar) legw = fmax(legw, 14 + 6 + am_plot_colorbar_extent(mc, sc->cbar));
    if (sc->nmarkers > 1)
        for (int m = 0; m < sc->nmarkers; m++)
            legw = fmax(legw, am_plot_text_width(mc, sc->marker_names[m], S_LEG, 0) + 18);
    *rows = nleg + (!sc->cbar && sc->ngroups > nleg) + 1 + (sc->nmarkers > 1 ? sc->nmarkers + 2 : 0);
    if (sc->cbar) *rows += (int)(side * 0.6 / (S_LEG * 1.6)) + 1;
    return legw;
}

/* One panel: grid, ticks, axis labels, points, frame; plot area at (px0, py0)
 * of side `side`; the y-axis label at x = ylab_x. */
static void am_sc_draw_panel(cairo_t *cr, const am_scatter *sc, const am_sc_axes *ax, double px0, double py0,
                             double side, double ylab_x) {
    char buf[64];
    const double xlo = ax->xlo, xhi = ax->xhi, ylo = ax->ylo, yhi = ax->yhi, xs = ax->xs, ys = ax->ys;
#define MAPX(v) (px0 + ((v)-xlo) / (xhi - xlo) * side)
#define MAPY(v) (py0 + side - ((v)-ylo) / (yhi - ylo) * side)
    cairo_set_line_width(cr, 0.6);
    for (double t = ceil(xlo / xs) * xs; t <= xhi; t += xs) {
        double x = MAPX(t);
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, x, py0);
        cairo_line_to(cr, x, py0 + side);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
        cairo_move_to(cr, x, py0 + side);
        cairo_line_to(cr, x, py0 + side + 4);
        cairo_stroke(cr);
        am_plot_format_number(fabs(t) < xs * 1e-9 ? 0 : t, buf, sizeof buf);
        am_plot_text(cr, x, py0 + side + 6, buf, S_TICK, 0, 0.5, 0, 0);
    }
    for (double t = ceil(ylo / ys) * ys; t <= yhi; t += ys) {
        double y = MAPY(t);
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, px0, y);
        cairo_line_to(cr, px0 + side, y);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
        cairo_move_to(cr, px0, y);
        cairo_line_to(cr, px0 - 4, y);
        cairo_stroke(cr);
        am_plot_format_number(fabs(t) < ys * 1e-9 ? 0 : t, buf, sizeof buf);
        am_plot_text(cr, px0 - 6, y, buf, S_TICK, 0, 1, 0.5, 0);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    if (sc->xlabel)
        am_plot_text(cr, px0 + side / 2, py0 + side + 6 + S_TICK * 1.4 + 2, sc->xlabel, S_AXIS, 0, 0.5, 0, 0);
    if (sc->ylabel) am_plot_text(cr, ylab_x, py0 + side / 2, sc->ylabel, S_AXIS, 0, 0.5, 0, M_PI / 2);

    /* points, clipped to the plot area */
    cairo_save(cr);
    cairo_rectangle(cr, px0, py0, side, side);
    cairo_clip(cr);
    cairo_set_line_width(cr, 0.5);
    for (int i = 0; i < sc->n; i++) {
        if (!isfinite(sc->x[i]) || !isfinite(sc->y[i])) continue;
        const unsigned char *c = sc->group_rgb[sc->group[i]];
        am_marker(cr, sc->marker ? sc->marker[i] : 0, MAPX(sc->x[i]), MAPY(sc->y[i]), R_MARK);
        cairo_set_source_rgba(cr, c[0] / 255.0, c[1] / 255.0, c[2] / 255.0, 0.8);
        cairo_fill_preserve(cr);
        cairo_set_source_rgba(cr, c[0] / 400.0, c[1] / 400.0, c[2] / 400.0, 0.9);
        cairo_stroke(cr);
    }
    cairo_restore(cr);
    am_plot_frame(cr, px0, py0, side, side, 0.15);
#undef MAPX
#undef MAPY
}

/* The legend (groups or colour bar, then marker shapes) from (legx, ly). */
static void am_sc_draw_legend(cairo_t *cr, const am_scatter *sc, double legx, double ly, double side) {
    char buf[64];
    double dy = S_LEG * 1.6;
    int nleg = sc->cbar ? 0 : sc->ngroups > LEG_MAX ? LEG_MAX - 1 : sc->ngroups;
    cairo_set_source_rgb(cr, 0, 0, 0);
    if (sc->group_title) {
        am_plot_text(cr, legx, ly, sc->group_title, S_LEG, 1, 0, 0, 0);
        ly += dy;
    }
    for (int g = 0; g < nleg; g++) {
        const unsigned char *c = sc->group_rgb[g];
        am_marker(cr, 0, legx + 5, ly + S_LEG * 0.6, R_MARK + 0.8);
        cairo_set_source_rgb(cr, c[0] / 255.0, c[1] / 255.0, c[2] / 255.0);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        am_plot_text(cr, legx + 16, ly, sc->group_names[g], S_LEG, 0, 0, 0, 0);
        ly += dy;
    }
    if (sc->cbar) { /* continuous: the bar, ticks and label */
        double bh = side * 0.6;
        am_plot_colorbar(cr, legx, ly, 14, bh, sc->cbar);
        cairo_set_source_rgb(cr, 0, 0, 0);
        ly += bh + dy;
    } else if (sc->ngroups > nleg) {
        snprintf(buf, sizeof buf, "\xe2\x80\xa6 %d more", sc->ngroups - nleg);
        am_plot_text(cr, legx + 16, ly, buf, S_LEG, 0, 0, 0, 0);
        ly += dy;
    }
    if (sc->nmarkers > 1) {
        ly += dy * 0.5;
        if (sc->marker_title) {
            am_plot_text(cr, legx, ly, sc->marker_title, S_LEG, 1, 0, 0, 0);
            ly += dy;
        }
        for (int m = 0; m < sc->nmarkers; m++) {
            am_marker(cr, m, legx + 5, ly + S_LEG * 0.6, R_MARK + 0.8);
            cairo_set_source_rgb(cr, 0.45, 0.45, 0.45);
            cairo_fill(cr);
            cairo_set_source_rgb(cr, 0, 0, 0);
            am_plot_text(cr, legx + 16, ly, sc->marker_names[m], S_LEG, 0, 0, 0, 0);
            ly += dy;
        }
    }
}

int am_plot_scatter_render(const am_scatter *sc, const am_plot_style *st, am_plot_format fmt, const char *path,
                           am_err *e) {
    return am_plot_scatter_panels_render(sc, 1, 1, sc->title, sc->subtitle, st, fmt, path, e);
}

int am_plot_scatter_panels_render(const am_scatter *panels, int n, int cols, const char *title, const char *subtitle,
                                  const am_plot_style *st, am_plot_format fmt, const char *path, am_err *e) {
    am_canvas cv;
    const int single = n == 1;
    double side = single ? fmax(st->panel * 2.2, 300.0) : fmax(st->panel * 1.4, 220.0);
    int legrows = 0, rows;
    if (n < 1) return am_fail(e, "%s: a scatter figure needs a panel", path);
    if (cols < 1) cols = 1;
    if (cols > n) cols = n;
    rows = (n + cols - 1) / cols;
    am_sc_axes *ax = am_malloc((size_t)n, sizeof *ax, "scatter panels", e);
    if (!ax) return -1;

    /* measure */
    cairo_surface_t *ms = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
    cairo_t *mc = cairo_create(ms);
    double tickw = 0;
    for (int i = 0; i < n; i++) {
        am_sc_axes_fit(mc, &panels[i], &ax[i]);
        tickw = fmax(tickw, ax[i].tickw);
    }
    double legw = am_sc_legend_width(mc, &panels[0], side, &legrows);
    double titlew = am_plot_text_width(mc, title ? title : "", S_TITLE, 1);
    if (subtitle) titlew = fmax(titlew, am_plot_text_width(mc, subtitle, S_SUB, 0));
    cairo_destroy(mc);
    cairo_surface_destroy(ms);

    double header = S_TITLE * 1.4 + (subtitle ? S_SUB * 1.5 : 0) + 10;
    double ptitle = single ? 0 : S_SUB * 1.6; /* panel titles */
    double left = ceil(S_AXIS * 1.4 + 6 + tickw + 6);
    double bottom = S_TICK * 1.4 + 6 + S_AXIS * 1.4 + 4;
    double slot_w = left + side + (single ? 0 : 18), slot_h = ptitle + side + bottom + (single ? 0 : 10);
    double x0 = M_FIG, y0 = ceil(M_FIG + header);
    double legx = x0 + cols * slot_w + 20;
    double W = ceil(fmax(legx + legw + M_FIG, titlew + 2 * M_FIG));
    double H = ceil(fmax(y0 + rows * slot_h + M_FIG, y0 + legrows * S_LEG * 1.6 + M_FIG));
    if (am_canvas_init(&cv, fmt, path, W, H, st->zoom, e)) {
        free(ax);
        return -1;
    }
    cairo_t *cr = cv.cr;

    cairo_set_source_rgb(cr, 0, 0, 0);
    if (title) am_plot_text(cr, M_FIG, M_FIG, title, S_TITLE, 1, 0, 0, 0);
    if (subtitle) {
        cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
        am_plot_text(cr, M_FIG, M_FIG + S_TITLE * 1.4, subtitle, S_SUB, 0, 0, 0, 0);
    }
    for (int i = 0; i < n; i++) {
        double sx = x0 + (i % cols) * slot_w, sy = y0 + (i / cols) * slot_h;
        if (!single && panels[i].title) {
            cairo_set_source_rgb(cr, 0, 0, 0);
            am_plot_text(cr, sx + left + side / 2, sy, panels[i].title, S_SUB, 1, 0.5, 0, 0);
        }
        am_sc_draw_panel(cr, &panels[i], &ax[i], sx + left, sy + ptitle, side, sx);
    }
    am_sc_draw_legend(cr, &panels[0], legx, y0 + ptitle + 2, side);
    free(ax);
    return am_canvas_finish(&cv, e);
}
