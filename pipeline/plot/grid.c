/* Heat-map panels, colour bars and the grid figure layout.
 *
 * Layout of one panel slot (units; 1 unit = 1 PNG pixel at zoom 1):
 *
 *        | left           | side           | right (bar)  | gap
 *   top  |                |  title         |              |
 *        | "query" ticks  |  n x n block   | [bar] ticks  |
 *   bot  |                |  ticks "key"   |              |
 *
 * All slots of a grid have the same size; the cell size is shared, so a
 * position sits at the same place in every panel and shorter units occupy
 * the top-left part of their slot. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot/grid.h"

#define M_FIG 16.0   /* figure border */
#define S_TITLE 15.0 /* font sizes */
#define S_SUB 11.0
#define S_PTITLE 11.0
#define S_AXIS 10.0
#define S_TICK 8.5
#define TICK_LEN 3.0
#define PAD 4.0
#define GAP_H 22.0 /* between slots */
#define GAP_V 12.0
#define BAR_W 12.0
#define BAR_GAP 10.0

static const double am_boundary_rgb[3] = {1.0, 0.23, 0.19};
static const double am_generated_rgb[3] = {0.72, 0.11, 0.11};

void am_plot_style_default(am_plot_style *st) {
    st->panel = 200.0;
    st->zoom = 1.0;
    st->tokens_max = 40;
    st->bars = AM_BARS_FIGURE;
}

/* Smallest 1, 2, 5 x 10^k >= x. */
static double am_nice_step(double x) {
    double p = pow(10.0, floor(log10(x)));
    double m = x / p;
    return (m <= 1.0 ? 1.0 : m <= 2.0 ? 2.0 : m <= 5.0 ? 5.0 : 10.0) * p;
}

/* ---- colour bar ----------------------------------------------------------- */

#define MAX_TICKS 32
static int am_bar_ticks(const am_plot_cscale *cs, double h, double *v) {
    const am_plot_scale *s = &cs->s;
    int n = 0;
    v[n++] = s->vmin;
    v[n++] = s->vmax;
    if (s->log) {
        for (double d = ceil(log10(s->vmin)); d <= floor(log10(s->vmax)) && n < MAX_TICKS; d++) v[n++] = pow(10.0, d);
    } else {
        double step = am_nice_step((s->vmax - s->vmin) / 5.0);
        for (double t = ceil(s->vmin / step) * step; t <= s->vmax && n < MAX_TICKS; t += step)
            v[n++] = fabs(t) < step * 1e-9 ? 0.0 : t;
    }
    /* Drop intermediate ticks too close to the labelled ends or each other. */
    int m = 2;
    for (int i = 2; i < n; i++) {
        double y = am_plot_scale_norm(s, v[i]) * h;
        int ok = 1;
        for (int j = 0; j < m; j++)
            if (fabs(am_plot_scale_norm(s, v[j]) * h - y) < S_TICK * 1.6) ok = 0;
        if (ok) v[m++] = v[i];
    }
    return m;
}

double am_plot_colorbar_extent(cairo_t *cr, const am_plot_cscale *cs) {
    double v[MAX_TICKS], wmax = 0;
    int n = am_bar_ticks(cs, 1e9, v);
    for (int i = 0; i < n; i++) {
        char buf[32];
        am_plot_format_number(v[i], buf, sizeof buf);
        double w = am_plot_text_width(cr, buf, S_TICK, 0);
        if (w > wmax) wmax = w;
    }
    return TICK_LEN + 2 + wmax + PAD + (cs->label ? S_AXIS * 1.3 : 0);
}

double am_plot_colorbar(cairo_t *cr, double x, double y, double w, double h, const am_plot_cscale *cs) {
    /* bar: one image row per table entry, top row = top of the map */
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, AM_CMAP_SIZE);
    unsigned char *px = cairo_image_surface_get_data(img);
    int stride = cairo_image_surface_get_stride(img);
    cairo_surface_flush(img);
    for (int i = 0; i < AM_CMAP_SIZE; i++) {
        unsigned char rgb[3];
        am_cmap_entry(cs->cmap, AM_CMAP_SIZE - 1 - i, rgb);
        uint32_t *p = (uint32_t *)(px + (size_t)i * stride);
        *p = (uint32_t)rgb[0] << 16 | (uint32_t)rgb[1] << 8 | rgb[2];
    }
    cairo_surface_mark_dirty(img);
    cairo_save(cr);
    cairo_rectangle(cr, x, y, w, h);
    cairo_clip(cr);
    cairo_translate(cr, x, y);
    cairo_scale(cr, w / 1.0, h / AM_CMAP_SIZE);
    cairo_set_source_surface(cr, img, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_paint(cr);
    cairo_restore(cr);
    cairo_surface_destroy(img);

    am_plot_frame(cr, x, y, w, h, 0.2);

    double v[MAX_TICKS], wmax = 0;
    int n = am_bar_ticks(cs, h, v);
    for (int i = 0; i < n; i++) {
        char buf[32];
        double ty = y + h - am_plot_scale_norm(&cs->s, v[i]) * h;
        cairo_move_to(cr, x + w + 0.5, ty);
        cairo_line_to(cr, x + w + 0.5 + TICK_LEN, ty);
        cairo_stroke(cr);
        am_plot_format_number(v[i], buf, sizeof buf);
        am_plot_text(cr, x + w + TICK_LEN + 2, ty, buf, S_TICK, 0, 0.0, 0.5, 0.0);
        double tw = am_plot_text_width(cr, buf, S_TICK, 0);
        if (tw > wmax) wmax = tw;
    }
    if (cs->label)
        am_plot_text(cr, x + w + TICK_LEN + 2 + wmax + PAD, y + h / 2, cs->label, S_AXIS, 0, 0.5, 0.0, M_PI / 2);
    return TICK_LEN + 2 + wmax + PAD + (cs->label ? S_AXIS * 1.3 : 0);
}

/* ---- heat-map block ------------------------------------------------------- */

static int am_draw_block(cairo_t *cr, const am_heatmap *hm, const am_plot_cscale *cs, double x0, double y0,
                         double cell) {
    int n = hm->n;
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, n, n);
    if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(img);
        return -1;
    }
    unsigned char *px = cairo_image_surface_get_data(img);
    int stride = cairo_image_surface_get_stride(img);
    cairo_surface_flush(img);
    for (int q = 0; q < n; q++) {
        uint32_t *row = (uint32_t *)(px + (size_t)q * stride);
        for (int k = 0; k < n; k++) {
            unsigned char rgb[3];
            am_cmap_rgb8(cs->cmap, am_plot_scale_norm(&cs->s, hm->data[(size_t)q * hm->ld + k]), rgb);
            row[k] = (uint32_t)rgb[0] << 16 | (uint32_t)rgb[1] << 8 | rgb[2];
        }
    }
    cairo_surface_mark_dirty(img);
    double bs = cell * n;
    cairo_save(cr);
    cairo_rectangle(cr, x0, y0, bs, bs);
    cairo_clip(cr);
    cairo_translate(cr, x0, y0);
    cairo_scale(cr, cell, cell);
    cairo_set_source_surface(cr, img, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), cell >= 1.0 ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD);
    cairo_paint(cr);
    cairo_restore(cr);
    cairo_surface_destroy(img);
    return 0;
}

/* ---- grid figure ---------------------------------------------------------- */

typedef struct am_grid_geom {
    double cell, side;
    int tokens;      /* token labels drawn */
    double tok_size; /* their font size */
    double left, right, top, bottom;
    double slot_w, slot_h;
    double tickw, tickh;   /* room for tick labels on the y / x axis */
    double header;         /* title block height */
    double bar_x, bar_ext; /* figure/row colour bar column */
    double footer;
    double w, h;
} am_grid_geom;

static int am_grid_nmax(const am_grid *g) {
    int nmax = 1;
    for (int i = 0; i < g->rows * g->cols; i++)
        if (g->panels[i].data && g->panels[i].n > nmax) nmax = g->panels[i].n;
    return nmax;
}

static void am_grid_layout(cairo_t *cr, const am_grid *g, const am_plot_style *st, am_grid_geom *G) {
    int np = g->rows * g->cols, nmax = am_grid_nmax(g), any_boundary = 0;
    memset(G, 0, sizeof *G);
    G->tokens = nmax <= st->tokens_max;
    for (int i = 0; i < np; i++)
        if (g->panels[i].data && !g->panels[i].labels) G->tokens = 0;
    double c = floor(st->panel / nmax + 0.5);
    if (G->tokens) {
        if (c < 11) c = 11;
    } else if (c < 1) {
        c = st->panel / nmax;
    }
    G->cell = c;
    G->side = c * nmax;
    G->tok_size = fmin(9.0, c * 0.8);

    if (G->tokens) {
        for (int i = 0; i < np; i++) {
            const am_heatmap *hm = &g->panels[i];
            if (!hm->data) continue;
            for (int k = 0; k < hm->n; k++) {
                double w = am_plot_text_width(cr, hm->labels[k], G->tok_size, 0);
                if (w > G->tickw) G->tickw = w;
            }
        }
        G->tickh = G->tickw;
    } else {
        char buf[32];
        snprintf(buf, sizeof buf, "%d", nmax - 1);
        G->tickw = am_plot_text_width(cr, buf, S_TICK, 0);
        G->tickh = S_TICK * 1.2;
    }
    for (int i = 0; i < np; i++)
        if (g->panels[i].data && g->panels[i].boundary > 0 && g->panels[i].boundary < g->panels[i].n) any_boundary = 1;

    G->left = ceil(S_AXIS * 1.3 + PAD + G->tickw + TICK_LEN + 2);
    G->bottom = ceil(TICK_LEN + 2 + G->tickh + PAD + S_AXIS * 1.3);
    G->top = ceil(S_PTITLE * 1.3 + PAD);
    G->right = 0;
    if (st->bars == AM_BARS_PANEL) {
        double ext = 0;
        for (int i = 0; i < g->nscales; i++) {
            double e2 = am_plot_colorbar_extent(cr, &g->scales[i]);
            if (e2 > ext) ext = e2;
        }
        G->right = ceil(BAR_GAP + BAR_W + ext);
    }
    G->slot_w = G->left + G->side + G->right + GAP_H;
    G->slot_h = G->top + G->side + G->bottom + GAP_V;
    G->header = ceil(S_TITLE * 1.4 + (g->subtitle ? S_SUB * 1.5 : 0) + PAD);
    G->bar_x = M_FIG + g->cols * G->slot_w;
    G->bar_ext = 0;
    if (st->bars != AM_BARS_PANEL) {
        double ext = 0;
        for (int i = 0; i < g->nscales; i++) {
            double e2 = am_plot_colorbar_extent(cr, &g->scales[i]);
            if (e2 > ext) ext = e2;
        }
        G->bar_ext = ceil(BAR_W + ext + 4);
    }
    G->footer = any_boundary ? ceil(S_TICK * 2.0) : 0;
    G->w = ceil(G->bar_x + G->bar_ext + M_FIG - GAP_H * 0.5);
    double title_w = am_plot_text_width(cr, g->title ? g->title : "", S_TITLE, 1);
    if (g->subtitle) title_w = fmax(title_w, am_plot_text_width(cr, g->subtitle, S_SUB, 0));
    if (G->w < title_w + 2 * M_FIG) G->w = ceil(title_w + 2 * M_FIG);
    G->h = ceil(M_FIG + G->header + g->rows * G->slot_h - GAP_V + G->footer + M_FIG * 0.75);
}

static void am_draw_panel(cairo_t *cr, const am_grid_geom *G, const am_heatmap *hm, const am_plot_cscale *cs, int bar,
                          double x0, double y0) {
    double cell = G->cell, bs = cell * hm->n;
    char buf[32];

    am_draw_block(cr, hm, cs, x0, y0, cell);
    am_plot_frame(cr, x0, y0, bs, bs, 0.25);

    if (hm->boundary > 0 && hm->boundary < hm->n) {
        double b = hm->boundary * cell;
        cairo_set_source_rgb(cr, am_boundary_rgb[0], am_boundary_rgb[1], am_boundary_rgb[2]);
        cairo_set_line_width(cr, 1.0);
        cairo_move_to(cr, x0 + b, y0);
        cairo_line_to(cr, x0 + b, y0 + bs);
        cairo_move_to(cr, x0, y0 + b);
        cairo_line_to(cr, x0 + bs, y0 + b);
        cairo_stroke(cr);
    }

    if (hm->ncuts > 0) { /* block boundaries */
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_set_line_width(cr, fmax(0.6, fmin(1.5, cell * 0.3)));
        for (int i = 0; i < hm->ncuts; i++) {
            double b = hm->cuts[i] * cell;
            if (hm->cuts[i] <= 0 || hm->cuts[i] >= hm->n) continue;
            cairo_move_to(cr, x0 + b, y0);
            cairo_line_to(cr, x0 + b, y0 + bs);
            cairo_move_to(cr, x0, y0 + b);
            cairo_line_to(cr, x0 + bs, y0 + b);
        }
        cairo_stroke(cr);
    }

    cairo_set_source_rgb(cr, 0, 0, 0);
    if (hm->title) am_plot_text(cr, x0 + bs / 2, y0 - PAD, hm->title, S_PTITLE, 0, 0.5, 1.0, 0);

    /* ticks */
    cairo_set_line_width(cr, 0.8);
    if (G->tokens) {
        for (int k = 0; k < hm->n; k++) {
            double c = (k + 0.5) * cell;
            int gen = hm->boundary > 0 && k >= hm->boundary;
            if (gen) cairo_set_source_rgb(cr, am_generated_rgb[0], am_generated_rgb[1], am_generated_rgb[2]);
            else cairo_set_source_rgb(cr, 0, 0, 0);
            am_plot_text(cr, x0 - TICK_LEN - 2, y0 + c, hm->labels[k], G->tok_size, 0, 1.0, 0.5, 0);
            am_plot_text(cr, x0 + c, y0 + bs + TICK_LEN + 2, hm->labels[k], G->tok_size, 0, 1.0, 0.5, M_PI / 2);
        }
        cairo_set_source_rgb(cr, 0, 0, 0);
    } else {
        /* ticks at least a label and a gap apart, so the labels of small panels stay readable */
        double step = am_nice_step(fmax(1.0, fmax(28.0, G->tickw + 12.0) / cell));
        for (double p = 0; p < hm->n; p += step) {
            double c = (p + 0.5) * cell;
            snprintf(buf, sizeof buf, "%d", (int)p);
            cairo_move_to(cr, x0 - 0.5, y0 + c);
            cairo_line_to(cr, x0 - 0.5 - TICK_LEN, y0 + c);
            cairo_move_to(cr, x0 + c, y0 + bs + 0.5);
            cairo_line_to(cr, x0 + c, y0 + bs + 0.5 + TICK_LEN);
            cairo_stroke(cr);
            am_plot_text(cr, x0 - TICK_LEN - 2, y0 + c, buf, S_TICK, 0, 1.0, 0.5, 0);
            am_plot_text(cr, x0 + c, y0 + bs + TICK_LEN + 2, buf, S_TICK, 0, 0.5, 0.0, 0);
        }
    }
    /* axis labels */
    am_plot_text(cr, x0 + bs / 2, y0 + bs + TICK_LEN + 2 + G->tickh + PAD, hm->xlabel ? hm->xlabel : "key position",
                 S_AXIS, 0, 0.5, 0.0, 0);
    am_plot_text(cr, x0 - G->left + 1, y0 + bs / 2, hm->ylabel ? hm->ylabel : "query position", S_AXIS, 0, 0.5, 0.0,
                 M_PI / 2);
    if (bar) am_plot_colorbar(cr, x0 + G->side + BAR_GAP, y0, BAR_W, G->side, cs);
}

int am_plot_grid_render(const am_grid *g, const am_plot_style *st, am_plot_format fmt, const char *path,
                        am_panel_box *boxes, am_err *e) {
    am_canvas cv;
    am_grid_geom G;
    int np = g->rows * g->cols, any_boundary = 0;
    for (int i = 0; i < np; i++) {
        const am_heatmap *hm = &g->panels[i];
        if (!hm->data) continue;
        if (hm->scale < 0 || hm->scale >= g->nscales)
            return am_fail(e, "%s: panel %d refers to colour scale %d of %d", path, i, hm->scale, g->nscales);
        if (hm->n <= 0) return am_fail(e, "%s: panel %d is empty (n = %d)", path, i, hm->n);
        if (hm->boundary > 0 && hm->boundary < hm->n) any_boundary = 1;
    }
    /* measure on a scratch surface, then draw on the real one */
    {
        cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
        cairo_t *cr = cairo_create(s);
        am_grid_layout(cr, g, st, &G);
        cairo_destroy(cr);
        cairo_surface_destroy(s);
    }
    if (G.w * st->zoom > 32000 || G.h * st->zoom > 32000)
        return am_fail(e,
                       "%s: figure would be %.0f x %.0f pixels (cairo's limit is 32767); "
                       "use a smaller --panel-size or fewer panels",
                       path, G.w * st->zoom, G.h * st->zoom);
    if (am_canvas_init(&cv, fmt, path, G.w, G.h, st->zoom, e)) return -1;
    cairo_t *cr = cv.cr;

    cairo_set_source_rgb(cr, 0, 0, 0);
    if (g->title) am_plot_text(cr, M_FIG, M_FIG, g->title, S_TITLE, 1, 0, 0, 0);
    if (g->subtitle) {
        cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
        am_plot_text(cr, M_FIG, M_FIG + S_TITLE * 1.4, g->subtitle, S_SUB, 0, 0, 0, 0);
    }
    double body = M_FIG + G.header;
    for (int r = 0; r < g->rows; r++) {
        for (int c = 0; c < g->cols; c++) {
            const am_heatmap *hm = &g->panels[r * g->cols + c];
            double x0 = M_FIG + c * G.slot_w + G.left, y0 = body + r * G.slot_h + G.top;
            if (boxes) {
                boxes[r * g->cols + c].x = x0;
                boxes[r * g->cols + c].y = y0;
                boxes[r * g->cols + c].cell = G.cell;
            }
            if (!hm->data) continue;
            am_draw_panel(cr, &G, hm, &g->scales[hm->scale], st->bars == AM_BARS_PANEL, x0, y0);
        }
    }
    if (st->bars == AM_BARS_ROW) {
        for (int r = 0; r < g->rows; r++) {
            int sc = -1;
            for (int c = 0; c < g->cols && sc < 0; c++)
                if (g->panels[r * g->cols + c].data) sc = g->panels[r * g->cols + c].scale;
            if (sc >= 0) am_plot_colorbar(cr, G.bar_x, body + r * G.slot_h + G.top, BAR_W, G.side, &g->scales[sc]);
        }
    } else if (st->bars == AM_BARS_FIGURE && g->nscales > 0) {
        double body_h = g->rows * G.slot_h - GAP_V - G.top - G.bottom;
        double h = fmin(body_h, fmax(G.side, 300.0));
        am_plot_colorbar(cr, G.bar_x, body + G.top + (body_h - h) / 2, BAR_W, h, &g->scales[0]);
    }
    if (any_boundary) {
        double fy = body + g->rows * G.slot_h - GAP_V + S_TICK;
        cairo_set_source_rgb(cr, am_boundary_rgb[0], am_boundary_rgb[1], am_boundary_rgb[2]);
        cairo_set_line_width(cr, 1.5);
        cairo_move_to(cr, M_FIG, fy);
        cairo_line_to(cr, M_FIG + 18, fy);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        am_plot_text(cr, M_FIG + 24, fy,
                     G.tokens ? "prompt | generated boundary (generated tokens in red)" : "prompt | generated boundary",
                     S_TICK, 0, 0, 0.5, 0);
    }
    return am_canvas_finish(&cv, e);
}
