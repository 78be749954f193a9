/* Grid figures from a cube (see plot_figures.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot/figures.h"

void am_fig_opts_default(am_fig_opts *o) {
    memset(o, 0, sizeof *o);
    am_plot_style_default(&o->style);
    o->fmt = AM_FMT_PNG;
    o->floor = 1e-4;
    o->vmin = NAN;
    o->vmax = NAN;
}

/* Panels of one grid figure and the memory behind them. */
typedef struct am_panels {
    int rows, cols;
    am_heatmap *hm; /* [rows * cols] */
    float **buf;    /* [rows * cols] map data [n, n] */
    char **titles;  /* [rows * cols] */
} am_panels;

static int am_panels_init(am_panels *ps, int rows, int cols, am_err *e) {
    int np = rows * cols;
    ps->rows = rows;
    ps->cols = cols;
    ps->hm = calloc((size_t)np, sizeof *ps->hm);
    ps->buf = calloc((size_t)np, sizeof *ps->buf);
    ps->titles = calloc((size_t)np, sizeof *ps->titles);
    if (!ps->hm || !ps->buf || !ps->titles) return am_fail(e, "out of memory (%d panels)", np);
    return 0;
}

static void am_panels_free(am_panels *ps) {
    for (int i = 0; ps->hm && i < ps->rows * ps->cols; i++) {
        free(ps->buf[i]);
        free(ps->titles[i]);
        am_plot_labels_free(ps->hm[i].labels, ps->hm[i].n);
    }
    free(ps->hm);
    free(ps->buf);
    free(ps->titles);
    memset(ps, 0, sizeof *ps);
}

/* Load unit (p, a), layer l, head h (-1: mean over heads; `stat` 1: std over
 * heads instead of the mean) into panel i. */
static int am_panel_load(am_panels *ps, int i, const am_cube *c, int p, int a, int l, int h, int stat,
                         const am_fig_opts *o, const char *title, am_err *e) {
    int n = am_plot_cube_n(c, p, a);
    size_t nn = (size_t)n * n;
    am_heatmap *hm = &ps->hm[i];
    if (n < 1)
        return am_fail(e, "%s: unit (pair %s, alpha %g) is empty (/length is 0)", c->path, c->pair[p], c->alpha[a]);
    float *out = malloc(nn * sizeof *out); /* [n, n] */
    if (!out) return am_fail(e, "out of memory (map %d x %d)", n, n);
    ps->buf[i] = out;
    if (h >= 0) {
        if (am_cube_read_map(c, p, a, l, h, out, e)) return -1;
    } else {
        float *tmp = malloc(nn * sizeof *tmp);                             /* [n, n] one head */
        double *s1 = calloc(nn, sizeof *s1), *s2 = calloc(nn, sizeof *s2); /* [n, n] sums */
        int rc = 0;
        if (!tmp || !s1 || !s2) rc = am_fail(e, "out of memory (map %d x %d)", n, n);
        for (int k = 0; !rc && k < c->H; k++) {
            rc = am_cube_read_map(c, p, a, l, k, tmp, e);
            for (size_t j = 0; !rc && j < nn; j++) {
                s1[j] += tmp[j];
                s2[j] += (double)tmp[j] * tmp[j];
            }
        }
        for (size_t j = 0; !rc && j < nn; j++) {
            double m = s1[j] / c->H;
            if (stat == 1) {
                double var = s2[j] / c->H - m * m; /* population variance over heads */
                out[j] = (float)sqrt(var > 0 ? var : 0);
            } else {
                out[j] = (float)m;
            }
        }
        free(tmp);
        free(s1);
        free(s2);
        if (rc) return -1;
    }
    if (o->row) /* each row over its maximum */
        for (int q = 0; q < n; q++) {
            float mx = 0;
            for (int k = 0; k < n; k++) mx = out[(size_t)q * n + k] > mx ? out[(size_t)q * n + k] : mx;
            if (mx > 0)
                for (int k = 0; k < n; k++) out[(size_t)q * n + k] /= mx;
        }
    hm->data = out;
    hm->n = n;
    hm->ld = n;
    hm->boundary = am_plot_cube_prompt_len(c, p);
    hm->scale = 0;
    ps->titles[i] = strdup(title);
    if (!ps->titles[i]) return am_fail(e, "out of memory (panel title)");
    hm->title = ps->titles[i];
    if ((o->tok || c->tokens) && n <= o->style.tokens_max && am_plot_cube_labels(c, p, a, o->tok, &hm->labels, e))
        return -1;
    return 0;
}

/* Colour scale over the panels whose scale index is `which`. */
static void am_fit_scale(const am_panels *ps, int which, const am_fig_opts *o, am_plot_cscale *cs, const char *label) {
    double mx = 0;
    for (int i = 0; i < ps->rows * ps->cols; i++) {
        const am_heatmap *hm = &ps->hm[i];
        if (!hm->data || hm->scale != which) continue;
        for (int q = 0; q < hm->n; q++)
            for (int k = 0; k < hm->n; k++) {
                double v = hm->data[(size_t)q * hm->ld + k];
                if (v > mx) mx = v;
            }
    }
    cs->cmap = AM_CMAP_VIRIDIS;
    cs->s.log = o->log;
    cs->s.vmin = o->log ? o->floor : (isnan(o->vmin) ? 0.0 : o->vmin);
    cs->s.vmax = isnan(o->vmax) ? mx : o->vmax;
    am_plot_scale_fix(&cs->s);
    cs->label = label;
}

static void am_alpha_str(double a, char *buf, size_t n) {
    char num[32];
    am_plot_format_number(a, num, sizeof num);
    snprintf(buf, n, "\xce\xb1 = %s", num); /* U+03B1 */
}

static const char *am_head_str(const am_cube *c, int h, char *buf, size_t n) {
    if (h < 0) snprintf(buf, n, "mean over %d heads", c->H);
    else snprintf(buf, n, "head %d", c->head[h]);
    return buf;
}

static int am_render(am_panels *ps, am_plot_cscale *scales, int nscales, am_plot_bars bars, const char *title,
                     const char *subtitle, const am_fig_opts *o, const char *path, am_err *e) {
    am_grid g = {ps->rows, ps->cols, ps->hm, scales, nscales, title, subtitle};
    am_plot_style st = o->style;
    if (nscales > 1 && st.bars == AM_BARS_FIGURE) st.bars = bars;
    return am_plot_grid_render(&g, &st, o->fmt, path, NULL, e);
}

void am_fig_set_scale(am_fig_opts *o, am_fig_scale s) {
    o->log = s == AM_SCALE_LOG;
    o->row = s == AM_SCALE_ROW;
}

const char *am_fig_mix_text(const am_cube *c) {
    const char *m = c->mix ? c->mix : "linear";
    if (!strcmp(m, "slerp"))
        return "mix: slerp of E[a] and E[b] (weight \xce\xb1 on a, along the angle between the two rows)";
    if (!strcmp(m, "norm"))
        return "mix: \xce\xb1\xc2\xb7"
               "E[a] + (1\xe2\x88\x92\xce\xb1)\xc2\xb7"
               "E[b] rescaled to the norm \xce\xb1|E[a]| + (1\xe2\x88\x92\xce\xb1)|E[b]|";
    return "mix = \xce\xb1\xc2\xb7"
           "E[a] + (1\xe2\x88\x92\xce\xb1)\xc2\xb7"
           "E[b]";
}

static const char *am_scale_label(const am_fig_opts *o) {
    return o->log ? "attention (log scale)" : o->row ? "attention / row maximum" : "attention";
}

/* "<what>; <mix>" into buf. */
static const char *am_sub(char *buf, size_t n, const char *what, const am_cube *c) {
    snprintf(buf, n, "%s; %s", what, am_fig_mix_text(c));
    return buf;
}

/* One row of a rows x alphas figure: the map (pair p, layer l, head h or -1
 * for the head mean) at every alpha, its panels titled "<label> · α = ...". */
typedef struct am_fig_row {
    int p, l, h;
    char label[96];
} am_fig_row;

/* A rows x alphas figure on one colour scale. */
static int am_fig_rows(const am_cube *c, const am_fig_row *rows, int nrows, const char *title, const char *subtitle,
                       const am_fig_opts *o, const char *path, am_err *e) {
    am_panels ps = {0};
    am_plot_cscale cs;
    char t[256], a_s[64];
    int rc = -1;
    if (am_panels_init(&ps, nrows, c->A, e)) goto out;
    for (int r = 0; r < nrows; r++)
        for (int a = 0; a < c->A; a++) {
            am_alpha_str(c->alpha[a], a_s, sizeof a_s);
            snprintf(t, sizeof t, "%s \xc2\xb7 %s", rows[r].label, a_s);
            if (am_panel_load(&ps, r * c->A + a, c, rows[r].p, a, rows[r].l, rows[r].h, 0, o, t, e)) goto out;
        }
    am_fit_scale(&ps, 0, o, &cs, am_scale_label(o));
    rc = am_render(&ps, &cs, 1, AM_BARS_FIGURE, title, subtitle, o, path, e);
out:
    am_panels_free(&ps);
    return rc;
}

int am_fig_heads(const am_cube *c, int p, int l, const am_fig_opts *o, const char *path, am_err *e) {
    char title[512];
    am_fig_row *rows = am_calloc((size_t)c->H, sizeof *rows, "figure rows", e);
    if (!rows) return -1;
    for (int h = 0; h < c->H; h++) {
        rows[h] = (am_fig_row){p, l, h, ""};
        snprintf(rows[h].label, sizeof rows[h].label, "head %d", c->head[h]);
    }
    snprintf(title, sizeof title, "%s \xc2\xb7 pair %s \xc2\xb7 layer %d", c->name, c->pair[p], c->layer[l]);
    char sub[512];
    int rc = am_fig_rows(c, rows, c->H, title,
                         am_sub(sub, sizeof sub, "attention per query head (rows) and mixing weight (columns)", c), o,
                         path, e);
    free(rows);
    return rc;
}

int am_fig_pairs(const am_cube *c, int l, int h, const am_fig_opts *o, const char *path, am_err *e) {
    char title[512], h_s[64];
    am_fig_row *rows = am_calloc((size_t)c->P, sizeof *rows, "figure rows", e);
    if (!rows) return -1;
    for (int p = 0; p < c->P; p++) {
        rows[p] = (am_fig_row){p, l, h, ""};
        snprintf(rows[p].label, sizeof rows[p].label, "%s", c->pair[p]);
    }
    snprintf(title, sizeof title, "%s \xc2\xb7 layer %d \xc2\xb7 %s", c->name, c->layer[l],
             am_head_str(c, h, h_s, sizeof h_s));
    char sub[512];
    int rc = am_fig_rows(c, rows, c->P, title,
                         am_sub(sub, sizeof sub, "attention per prompt pair (rows) and mixing weight (columns)", c), o,
                         path, e);
    free(rows);
    return rc;
}

int am_fig_summary(const am_cube *c, int p, int l, const am_fig_opts *o, const char *path, am_err *e) {
    am_panels ps = {0};
    am_plot_cscale cs[2];
    char t[256], title[512], sub[512], a_s[64];
    int rc = -1;
    if (am_panels_init(&ps, 2, c->A, e)) goto out;
    for (int r = 0; r < 2; r++)
        for (int a = 0; a < c->A; a++) {
            am_alpha_str(c->alpha[a], a_s, sizeof a_s);
            snprintf(t, sizeof t, "%s \xc2\xb7 %s", r ? "std" : "mean", a_s);
            if (am_panel_load(&ps, r * c->A + a, c, p, a, l, -1, r, o, t, e)) goto out;
            ps.hm[r * c->A + a].scale = r;
        }
    am_fit_scale(&ps, 0, o, &cs[0], o->log ? "mean (log scale)" : o->row ? "mean / row maximum" : "mean over heads");
    am_fit_scale(&ps, 1, o, &cs[1], o->log ? "std (log scale)" : o->row ? "std / row maximum" : "std over heads");
    snprintf(title, sizeof title, "%s \xc2\xb7 pair %s \xc2\xb7 layer %d", c->name, c->pair[p], c->layer[l]);
    snprintf(sub, sizeof sub,
             "mean (top) and standard deviation (bottom) of attention over %d "
             "heads, per mixing weight; %s",
             c->H, am_fig_mix_text(c));
    rc = am_render(&ps, cs, 2, AM_BARS_ROW, title, sub, o, path, e);
out:
    am_panels_free(&ps);
    return rc;
}

int am_fig_layer_picks(const am_cube *c, int picks[3]) {
    int cand[3] = {0, (c->L - 1) / 2, c->L - 1}, n = 0;
    for (int i = 0; i < 3; i++)
        if (n == 0 || cand[i] != picks[n - 1]) picks[n++] = cand[i];
    return n;
}

int am_fig_layers(const am_cube *c, int p, int h, const am_fig_opts *o, const char *path, am_err *e) {
    char title[512], h_s[64];
    am_fig_row rows[3];
    int picks[3], np = am_fig_layer_picks(c, picks);
    for (int r = 0; r < np; r++) {
        rows[r] = (am_fig_row){p, picks[r], h, ""};
        snprintf(rows[r].label, sizeof rows[r].label, "layer %d", c->layer[picks[r]]);
    }
    snprintf(title, sizeof title, "%s \xc2\xb7 pair %s \xc2\xb7 %s", c->name, c->pair[p],
             am_head_str(c, h, h_s, sizeof h_s));
    char sub[512];
    return am_fig_rows(
        c, rows, np, title,
        am_sub(sub, sizeof sub, "first, middle and last captured layer (rows) per mixing weight (columns)", c), o, path,
        e);
}

int am_fig_summary_pairs(const am_cube *c, int l, const am_fig_opts *o, const char *path, am_err *e) {
    am_panels ps = {0};
    am_plot_cscale cs[2];
    char t[256], title[512], sub[512], a_s[64];
    int rc = -1;
    if (am_panels_init(&ps, 2 * c->P, c->A, e)) goto out;
    for (int p = 0; p < c->P; p++)
        for (int r = 0; r < 2; r++)
            for (int a = 0; a < c->A; a++) {
                int i = (2 * p + r) * c->A + a;
                am_alpha_str(c->alpha[a], a_s, sizeof a_s);
                snprintf(t, sizeof t, "%s \xc2\xb7 %s \xc2\xb7 %s", c->pair[p], r ? "std" : "mean", a_s);
                if (am_panel_load(&ps, i, c, p, a, l, -1, r, o, t, e)) goto out;
                ps.hm[i].scale = r;
            }
    am_fit_scale(&ps, 0, o, &cs[0], o->log ? "mean (log scale)" : o->row ? "mean / row maximum" : "mean over heads");
    am_fit_scale(&ps, 1, o, &cs[1], o->log ? "std (log scale)" : o->row ? "std / row maximum" : "std over heads");
    snprintf(title, sizeof title, "%s \xc2\xb7 layer %d \xc2\xb7 every pair", c->name, c->layer[l]);
    snprintf(sub, sizeof sub,
             "mean and standard deviation over %d heads: pair keys down (mean row, std row), mixing weights "
             "across; %s",
             c->H, am_fig_mix_text(c));
    rc = am_render(&ps, cs, 2, AM_BARS_ROW, title, sub, o, path, e);
out:
    am_panels_free(&ps);
    return rc;
}
