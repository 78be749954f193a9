/* The observations page (observations_page.h). */
#include "plot/observations_page.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/fs.h"
#include "h5/cube_read.h"
#include "h5/h5io.h"
#include "h5/schema.h"
#include "plot/report.h"

/* ---- original_generations.tsv ------------------------------------------------ */

void am_original_free(am_original *rows, int n) {
    for (int i = 0; rows && i < n; i++)
        free(rows[i].prompt_a), free(rows[i].prompt_b), free(rows[i].response), free(rows[i].model), free(rows[i].key);
    free(rows);
}

/* Next field of the record at *p (tab-separated, "..." quoting with "" for a
 * quote, quoted fields may hold tabs and newlines) into a malloc'd string;
 * *end is set when the field ends its record. NULL on a bad quote or no memory. */
static char *tsv_field(const char **p, int *end, int *line) {
    const char *s = *p;
    size_t cap = 64, n = 0;
    char *o = malloc(cap);
    if (!o) return NULL;
    int quoted = *s == '"';
    if (quoted) s++;
    for (;;) {
        char c = *s;
        if (quoted) {
            if (!c) { /* unterminated quote */
                free(o);
                return NULL;
            }
            if (c == '"') {
                if (s[1] == '"') c = '"', s++;
                else {
                    s++;
                    if (*s && *s != '\t' && *s != '\n' && *s != '\r') {
                        free(o);
                        return NULL;
                    }
                    quoted = 0;
                    continue;
                }
            } else if (c == '\n') (*line)++;
        } else if (!c || c == '\t' || c == '\n' || c == '\r') {
            break;
        }
        if (n + 2 > cap) {
            char *g = realloc(o, cap *= 2);
            if (!g) {
                free(o);
                return NULL;
            }
            o = g;
        }
        o[n++] = c;
        s++;
    }
    o[n] = 0;
    if (*s == '\r') s++;
    *end = *s != '\t';
    if (*s == '\t' || *s == '\n') {
        if (*s == '\n') (*line)++;
        s++;
    }
    *p = s;
    return o;
}

int am_original_read(const char *path, am_original **rows, int *n, am_err *e) {
    static const char *const cols[6] = {"prompt_a", "prompt_b", "alpha", "response", "model_name", "prompt_key"};
    char *text = NULL, *f[6] = {0};
    size_t len;
    int rc = -1, line = 1, cap = 0;
    *rows = NULL, *n = 0;
    if (am_read_file(path, "the original generations", &text, &len, e)) return -1;
    const char *p = text;
    for (int rec = 0; *p; rec++) {
        int end = 0, at = line, k = 0;
        for (; k < 6 && !end; k++)
            if (!(f[k] = tsv_field(&p, &end, &line))) {
                am_fail_code(e, AM_E_CORRUPT, "%s:%d: a quoted field is not closed properly", path, at);
                goto out;
            }
        if (k != 6 || !end) {
            am_fail_code(e, AM_E_CORRUPT, "%s:%d: expected 6 tab-separated columns (%s, %s, %s, %s, %s, %s)", path, at,
                         cols[0], cols[1], cols[2], cols[3], cols[4], cols[5]);
            goto out;
        }
        if (rec == 0) {
            for (int j = 0; j < 6; j++)
                if (strcmp(f[j], cols[j])) {
                    am_fail_code(e, AM_E_CORRUPT, "%s:1: column %d is '%s', expected '%s'", path, j + 1, f[j], cols[j]);
                    goto out;
                }
        } else {
            char *endp;
            double a = strtod(f[2], &endp);
            if (endp == f[2] || *endp || !isfinite(a)) {
                am_fail_code(e, AM_E_CORRUPT, "%s:%d: alpha '%s' is not a number", path, at, f[2]);
                goto out;
            }
            if (*n == cap) {
                am_original *g = realloc(*rows, (size_t)(cap = cap ? 2 * cap : 64) * sizeof *g);
                if (!g) {
                    am_fail_code(e, AM_E_NOMEM, "out of memory reading %s", path);
                    goto out;
                }
                *rows = g;
            }
            (*rows)[(*n)++] = (am_original){
                .prompt_a = f[0], .prompt_b = f[1], .response = f[3], .model = f[4], .key = f[5], .alpha = a};
            free(f[2]);
            memset(f, 0, sizeof f);
        }
        for (int j = 0; j < 6; j++) free(f[j]), f[j] = NULL;
    }
    rc = 0;
out:
    for (int j = 0; j < 6; j++) free(f[j]);
    free(text);
    if (rc) am_original_free(*rows, *n), *rows = NULL, *n = 0;
    return rc;
}

/* ---- figures ------------------------------------------------------------------ */

#define FW 340.0
#define FH 200.0

static void axes(cairo_t *cr, double x0, double y0, double w, double h, double lo, double hi, const char *title,
                 const char *xlabel) {
    char a[32], b[32];
    cairo_set_source_rgb(cr, 0, 0, 0);
    am_plot_text(cr, FW / 2, 6, title, 11, 1, 0.5, 0, 0);
    am_plot_frame(cr, x0, y0, w, h, 0.3);
    am_plot_format_number(lo, a, sizeof a), am_plot_format_number(hi, b, sizeof b);
    cairo_set_source_rgb(cr, 0, 0, 0);
    am_plot_text(cr, x0, y0 + h + 3, a, 9, 0, 0, 0, 0);
    am_plot_text(cr, x0 + w, y0 + h + 3, b, 9, 0, 1, 0, 0);
    am_plot_text(cr, x0 + w / 2, y0 + h + 3, xlabel, 9, 0, 0.5, 0, 0);
}

static void vline(cairo_t *cr, double x, double y0, double h, double r, double g, double b, int dash) {
    static const double d[2] = {3, 3};
    cairo_set_source_rgb(cr, r, g, b);
    cairo_set_line_width(cr, 1.2);
    cairo_set_dash(cr, d, dash ? 2 : 0, 0);
    cairo_move_to(cr, x, y0);
    cairo_line_to(cr, x, y0 + h);
    cairo_stroke(cr);
    cairo_set_dash(cr, d, 0, 0);
}

/* Histogram of v [n] (NaN skipped), with an optional second series v2 [n2]
 * outlined; dashed line at 0, solid line at `mark` (NaN: none). */
static int fig_hist(const char *path, const char *title, const char *xlabel, const double *v, int n, const double *v2,
                    int n2, double mark, am_err *e) {
    enum { NB = 30 };
    double lo = INFINITY, hi = -INFINITY, c1[NB] = {0}, c2[NB] = {0}, top = 1;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) lo = fmin(lo, v[i]), hi = fmax(hi, v[i]);
    for (int i = 0; i < n2; i++)
        if (isfinite(v2[i])) lo = fmin(lo, v2[i]), hi = fmax(hi, v2[i]);
    if (!(lo <= hi)) lo = -1, hi = 1;
    lo = fmin(lo, 0), hi = fmax(hi, 0); /* 0, the null of every contrast, always in view */
    if (hi - lo < 1e-12) lo -= 0.5, hi += 0.5;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) c1[(int)fmin(NB - 1, (v[i] - lo) / (hi - lo) * NB)]++;
    for (int i = 0; i < n2; i++)
        if (isfinite(v2[i])) c2[(int)fmin(NB - 1, (v2[i] - lo) / (hi - lo) * NB)]++;
    for (int b = 0; b < NB; b++) top = fmax(top, fmax(c1[b], c2[b]));
    am_canvas cv;
    if (am_canvas_init(&cv, AM_FMT_PNG, path, FW, FH, 1, e)) return -1;
    cairo_t *cr = cv.cr;
    double x0 = 20, y0 = 26, w = FW - 40, h = FH - 60, bw = w / NB;
    for (int b = 0; b < NB; b++) {
        double bh = c1[b] / top * h;
        cairo_set_source_rgb(cr, 0.27, 0.45, 0.7);
        cairo_rectangle(cr, x0 + b * bw, y0 + h - bh, bw - 1, bh);
        cairo_fill(cr);
        if (v2 && c2[b] > 0) {
            double b2 = c2[b] / top * h;
            cairo_set_source_rgb(cr, 0.85, 0.45, 0.1);
            cairo_set_line_width(cr, 1.2);
            cairo_rectangle(cr, x0 + b * bw + 0.5, y0 + h - b2, bw - 2, b2);
            cairo_stroke(cr);
        }
    }
    vline(cr, x0 + (0 - lo) / (hi - lo) * w, y0, h, 0, 0, 0, 1);
    if (isfinite(mark)) vline(cr, x0 + (mark - lo) / (hi - lo) * w, y0, h, 0.8, 0.1, 0.1, 0);
    axes(cr, x0, y0, w, h, lo, hi, title, xlabel);
    return am_canvas_finish(&cv, e);
}

/* Bars of v [n] in the given order, bar hl (or -1) highlighted, labels [n] or NULL. */
static int fig_bars(const char *path, const char *title, const char *xlabel, const double *v, int n, int hl,
                    const char *const *labels, am_err *e) {
    double top = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) top = fmax(top, v[i]);
    if (!(top > 0)) top = 1;
    am_canvas cv;
    if (am_canvas_init(&cv, AM_FMT_PNG, path, FW, FH, 1, e)) return -1;
    cairo_t *cr = cv.cr;
    double x0 = 20, y0 = 26, w = FW - 40, h = FH - 60, bw = n ? w / n : w;
    for (int i = 0; i < n; i++) {
        if (!isfinite(v[i])) continue;
        double bh = v[i] / top * h;
        if (i == hl) cairo_set_source_rgb(cr, 0.8, 0.2, 0.1);
        else cairo_set_source_rgb(cr, 0.27, 0.45, 0.7);
        cairo_rectangle(cr, x0 + i * bw, y0 + h - bh, fmax(bw - 1, 0.5), bh);
        cairo_fill(cr);
        if (labels && bw > 18) {
            cairo_set_source_rgb(cr, 0, 0, 0);
            am_plot_text(cr, x0 + (i + 0.5) * bw, y0 + h - bh - 2, labels[i], 8, 0, 0.5, 1, 0);
        }
    }
    char tl[64], tv[32];
    am_plot_format_number(top, tv, sizeof tv);
    snprintf(tl, sizeof tl, "%s (tallest bar %s)", xlabel, tv);
    axes(cr, x0, y0, w, h, 1, n, title, tl);
    return am_canvas_finish(&cv, e);
}

static int cmp_desc(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return isnan(x) ? 1 : isnan(y) ? -1 : (x < y) - (x > y);
}

/* ---- the page ------------------------------------------------------------------ */

typedef struct page {
    char *b;
    size_t n, cap;
    int oom;
} page;

static void put(page *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(page *h, const char *fmt, ...) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (k < 0 || h->oom || (h->n + (size_t)k + 1 > h->cap && !(h->b = realloc(h->b, h->cap = 2 * h->cap + k + 4096))))
        h->oom = 1;
    else {
        vsnprintf(h->b + h->n, h->cap - h->n, fmt, ap2);
        h->n += (size_t)k;
    }
    va_end(ap2);
}

static void put_esc(page *h, const char *s) {
    char *x = am_html_escape(s ? s : "");
    if (!x) h->oom = 1;
    else put(h, "%s", x);
    free(x);
}

static double attr_f(hid_t g, const char *name) {
    double v = NAN;
    am_err e = {0};
    if (am_h5_attr_exists(g, name)) am_h5_read_attr_f64(g, name, &v, &e);
    return v;
}

static char *attr_s(hid_t g, const char *name) {
    char *v = NULL;
    am_err e = {0};
    if (am_h5_attr_exists(g, name)) am_h5_read_attr_str(g, name, &v, &e);
    return v;
}

static void num(page *h, double v) {
    if (isnan(v)) put(h, "&ndash;");
    else put(h, "%.4g", v);
}

/* One table row: the test of group g (prefix "" or "distance_" for O1's second contrast). */
static void test_row(page *h, hid_t g, const char *label, const char *prefix, const char *rows) {
    char k[64];
    snprintf(k, sizeof k, "%sestimate", prefix);
    double est = attr_f(g, k);
    snprintf(k, sizeof k, "%sci_low", prefix);
    double lo = attr_f(g, k);
    snprintf(k, sizeof k, "%sci_high", prefix);
    double hi = attr_f(g, k);
    snprintf(k, sizeof k, "%sp_value", prefix);
    double p = attr_f(g, k);
    snprintf(k, sizeof k, "%sverdict", prefix);
    char *v = attr_s(g, k);
    snprintf(k, sizeof k, "%sn", prefix);
    int64_t n = 0;
    am_err e = {0};
    if (am_h5_attr_exists(g, k)) am_h5_read_attr_i64(g, k, &n, &e);
    put(h, "<tr><td>%s</td><td>%s</td><td>", label, rows);
    num(h, est);
    put(h, "</td><td>[");
    num(h, lo);
    put(h, ", ");
    num(h, hi);
    put(h, "]</td><td>");
    num(h, p);
    put(h, "</td><td>%lld</td><td class=\"v\">", (long long)n);
    put_esc(h, v);
    put(h, "</td></tr>\n");
    free(v);
}

/* The figure of observation ob (1..5) of model group gm into path. */
static int obs_figure(hid_t gm, int ob, const char *path, am_err *e) {
    static const char *const ds[6] = {
        NULL, "O1/band_contrast", "O2/sensitivity", "O3/entropy_contrast", "O4/pair_sensitivity", "O5/peak_mass"};
    hsize_t dims[3];
    double *v = NULL, *v2 = NULL;
    char **pairs = NULL;
    hsize_t np = 0;
    int rc = -1, rank = ob == 4 ? 1 : ob == 5 ? 2 : 3;
    hid_t g = H5I_INVALID_HID;
    double est = NAN;
    if (am_h5_read(gm, ds[ob], H5T_NATIVE_DOUBLE, rank, dims, (void **)&v, e)) return -1;
    size_t n = dims[0] * (rank > 1 ? dims[1] : 1) * (rank > 2 ? dims[2] : 1);
    char gname[8];
    snprintf(gname, sizeof gname, "O%d", ob);
    if ((g = am_h5_group_open(gm, gname, e)) < 0) goto out;
    est = attr_f(g, ob == 1 ? "band_estimate" : "estimate");
    switch (ob) {
    case 1:
    case 3:
        rc = fig_hist(path, ob == 1 ? "O1: band contrast per unit (red: mean)" : "O3: entropy contrast per unit",
                      ob == 1 ? "band(0.5) - mean of the endpoints" : "normalised entropy, 0.5 - endpoints", v, (int)n,
                      NULL, 0, est, e);
        break;
    case 2: { /* per-head mean over pairs, sorted */
        size_t K = dims[1] * dims[2], P = dims[0];
        v2 = malloc(K * sizeof *v2);
        if (!v2) {
            am_fail_code(e, AM_E_NOMEM, "out of memory");
            break;
        }
        for (size_t k = 0; k < K; k++) {
            double s = 0;
            for (size_t p = 0; p < P; p++) s += v[p * K + k];
            v2[k] = s / P;
        }
        qsort(v2, K, sizeof *v2, cmp_desc);
        rc = fig_bars(path, "O2: head sensitivity (JS at 0.5), sorted", "heads", v2, (int)K, -1, NULL, e);
        break;
    }
    case 4: {
        if (am_h5_read_strs(gm, "pair", 1, &np, &pairs, e)) break;
        int hl = -1;
        for (hsize_t i = 0; i < np; i++)
            if (!strcmp(pairs[i], "math")) hl = (int)i;
        rc = fig_bars(path, "O4: sensitivity per pair (red: math)", "pairs", v, (int)n, hl, (const char *const *)pairs,
                      e);
        break;
    }
    case 5: {
        hsize_t d2[2];
        if (am_h5_read(gm, "O5/null_peak_mass", H5T_NATIVE_DOUBLE, 2, d2, (void **)&v2, e)) break;
        rc = fig_hist(path, "O5: peak mass at d >= 2 per head (orange: null)", "peak mass (red: threshold)", v, (int)n,
                      v2, (int)n, attr_f(g, "offset_mass"), e);
        break;
    }
    }
out:
    am_h5_close(&g);
    free(v), free(v2);
    if (pairs) am_h5_free_strs(pairs, np);
    return rc;
}

/* Texts of the cube whose model is `model`, with the original's responses. */
static void texts(page *h, const char *const *cubes, int ncubes, const char *model, const am_original *orig,
                  int norig) {
    for (int i = 0; i < ncubes; i++) {
        am_cube c;
        am_err e = {0};
        if (am_cube_open(&c, cubes[i], &e)) {
            put(h, "<p class=\"err\">");
            put_esc(h, e.msg);
            put(h, "</p>\n");
            continue;
        }
        if (strcmp(c.name, model) || !c.text) {
            am_cube_close(&c);
            continue;
        }
        int match = 0;
        for (int k = 0; k < norig; k++) match |= !strcasecmp(orig[k].model, model);
        put(h, "<h3>Generated texts</h3>\n");
        if (orig && !match) put(h, "<p>The original study published no responses of a model named %s.</p>\n", model);
        put(h, "<table class=\"t\"><tr><th>pair</th><th>alpha</th><th>attnmix</th>%s</tr>\n",
            match ? "<th>original study (published)</th>" : "");
        for (int p = 0; p < c.P; p++)
            for (int a = 0; a < c.A; a++) {
                put(h, "<tr><td>");
                put_esc(h, c.pair[p]);
                put(h, "</td><td>%g</td><td class=\"txt\">", c.alpha[a]);
                put_esc(h, c.text[p * c.A + a]);
                put(h, "</td>");
                if (match) {
                    const am_original *o = NULL;
                    for (int k = 0; k < norig; k++)
                        if (!strcasecmp(orig[k].model, model) && !strcmp(orig[k].key, c.pair[p]) &&
                            orig[k].alpha == c.alpha[a])
                            o = &orig[k];
                    put(h, "<td class=\"txt\">");
                    if (!o) put(h, "<i>none for this pair and alpha</i>");
                    else {
                        if (c.prompt_a && c.prompt_b &&
                            (strcmp(c.prompt_a[p], o->prompt_a) || strcmp(c.prompt_b[p], o->prompt_b))) {
                            put(h, "<i>(other prompts: ");
                            put_esc(h, o->prompt_a);
                            put(h, " / ");
                            put_esc(h, o->prompt_b);
                            put(h, ")</i> ");
                        }
                        put_esc(h, o->response);
                    }
                    put(h, "</td>");
                }
                put(h, "</tr>\n");
            }
        put(h, "</table>\n");
        am_cube_close(&c);
    }
}

int am_observations_present(const char *analysis) {
    am_err e = {0};
    hid_t f = am_h5_open_input(analysis, AM_SCHEMA_ANALYSIS, &e);
    if (f < 0) return 0;
    int r = am_h5_exists(f, "observations");
    am_h5_close(&f);
    return r;
}

int am_observations_page(const char *analysis, const char *const *cubes, int ncubes, const char *original,
                         const char *outdir, am_err *e) {
    int rc = -1, nmod = 0, norig = 0;
    char **models = NULL, dir[4200], png[4400], grp[600], rel[700], html[4200];
    am_original *orig = NULL;
    page h = {0};
    am_file_out out = {0};
    hid_t f = H5I_INVALID_HID, gm = H5I_INVALID_HID, g = H5I_INVALID_HID;
    if (original && am_original_read(original, &orig, &norig, e)) return -1;
    if ((f = am_h5_open_input(analysis, AM_SCHEMA_ANALYSIS, e)) < 0) goto out;
    if (!am_h5_exists(f, "observations")) {
        am_fail_code(e, AM_E_USAGE, "%s has no /observations (written by attnmix-analyze since the study's tests)",
                     analysis);
        goto out;
    }
    if (am_h5_list(f, "observations", &models, &nmod, e)) goto out;
    snprintf(dir, sizeof dir, "%s/observations", outdir);
    if (am_mkdirs(dir, e)) goto out;
    put(&h,
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>attnmix: the observations</title>\n"
        "<style>body{font-family:sans-serif;max-width:1200px;margin:auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top;font-size:13px}td.v{font-weight:bold}"
        "td.txt{white-space:pre-wrap;max-width:460px;font-family:monospace;font-size:12px}.caveat{background:#fff3cd;"
        "padding:6px}img{margin:4px}</style></head><body>\n<h1>The study's observations, tested</h1>\n"
        "<p>Analysis file: ");
    put_esc(&h, analysis);
    put(&h, ". Definitions, intervals, tests and the verdict rule: docs/analysis.md, \"Observations\".</p>\n");
    for (int m = 0; m < nmod; m++) {
        char slug[64];
        am_report_slug(models[m], slug, sizeof slug);
        snprintf(grp, sizeof grp, "observations/%s", models[m]);
        if ((gm = am_h5_group_open(f, grp, e)) < 0) goto out;
        put(&h, "<h2>");
        put_esc(&h, models[m]);
        put(&h, "</h2>\n");
        snprintf(grp, sizeof grp, "models/%s", models[m]);
        if (am_h5_exists(f, grp)) {
            if ((g = am_h5_group_open(f, grp, e)) < 0) goto out;
            char *cav = attr_s(g, "caveat"), *frame = attr_s(g, "frame");
            if (cav) {
                put(&h, "<p class=\"caveat\"><b>Caveat of the input:</b> ");
                put_esc(&h, cav);
                put(&h, "<br><b>Frame:</b> ");
                put_esc(&h, frame);
                put(&h, "</p>\n");
            }
            free(cav), free(frame);
            am_h5_close(&g);
        }
        put(&h, "<table><tr><th>observation</th><th>rows</th><th>estimate</th><th>95%% interval</th><th>p</th>"
                "<th>n</th><th>verdict</th></tr>\n");
        for (int ob = 1; ob <= 5; ob++) {
            snprintf(grp, sizeof grp, "O%d", ob);
            if ((g = am_h5_group_open(gm, grp, e)) < 0) goto out;
            char *claim = attr_s(g, "claim");
            put(&h, "<tr><th colspan=\"7\" style=\"text-align:left\">O%d. ", ob);
            put_esc(&h, claim);
            put(&h, "</th></tr>\n");
            free(claim);
            for (int s = 0; s < 3; s++) {
                static const char *const sub[3] = {NULL, "prompt_rows", "generated_rows"};
                static const char *const lab[3] = {"all", "prompt", "generated"};
                hid_t gs = s ? am_h5_group_open(g, sub[s], e) : g;
                if (gs < 0) goto out;
                test_row(&h, gs, ob == 1 ? "band falls" : "", "", lab[s]);
                if (ob == 1) test_row(&h, gs, "distance rises", "distance_", lab[s]);
                if (s) am_h5_close(&gs);
            }
            am_h5_close(&g);
        }
        put(&h, "</table>\n<p>");
        for (int ob = 1; ob <= 5; ob++) {
            snprintf(png, sizeof png, "%s/%s_O%d.png", dir, slug, ob);
            snprintf(rel, sizeof rel, "observations/%s_O%d.png", slug, ob);
            if (obs_figure(gm, ob, png, e)) {
                am_wrap(e, "%s: figure of O%d of %s", analysis, ob, models[m]);
                goto out;
            }
            put(&h, "<img src=\"%s\" alt=\"O%d\">", rel, ob);
        }
        put(&h, "</p>\n");
        texts(&h, cubes, ncubes, models[m], orig, norig);
        am_h5_close(&gm);
    }
    put(&h, "</body></html>\n");
    if (h.oom) {
        am_fail_code(e, AM_E_NOMEM, "out of memory for the observations page");
        goto out;
    }
    snprintf(html, sizeof html, "%s/observations.html", outdir);
    if (am_file_out_create(&out, html, e)) goto out;
    if (fwrite(h.b, 1, h.n, out.f) != h.n) {
        am_fail_errno(e, "writing %s", html);
        am_file_out_abort(&out);
        goto out;
    }
    if (am_file_out_commit(&out, e)) goto out;
    rc = 0;
out:
    am_h5_close(&g);
    am_h5_close(&gm);
    am_h5_close(&f);
    if (models) am_h5_free_strs(models, (size_t)nmod);
    am_original_free(orig, norig);
    free(h.b);
    return rc;
}
