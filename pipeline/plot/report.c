/* Report directory with figures and index.html (see report.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/frozen.h"
#include "base/fs.h"
#include "plot/analysis_figs.h"
#include "plot/report.h"

char *am_html_escape(const char *s) {
    size_t n = 0;
    for (const char *p = s; *p; p++) n += *p == '&' ? 5 : *p == '<' || *p == '>' ? 4 : *p == '"' || *p == '\'' ? 6 : 1;
    char *o = malloc(n + 1), *q = o;
    if (!o) return NULL;
    for (const char *p = s; *p; p++) {
        const char *r = *p == '&'    ? "&amp;"
                        : *p == '<'  ? "&lt;"
                        : *p == '>'  ? "&gt;"
                        : *p == '"'  ? "&quot;"
                        : *p == '\'' ? "&#39;"
                                     : NULL;
        if (r) {
            memcpy(q, r, strlen(r));
            q += strlen(r);
        } else *q++ = *p;
    }
    *q = 0;
    return o;
}

void am_report_slug(const char *s, char *out, size_t n) {
    size_t k = 0;
    for (; *s && k + 1 < n && k < 48; s++) {
        char c = *s;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                 c == '-';
        out[k++] = ok ? c : '_';
    }
    if (k == 0 && n > 1) out[k++] = '_';
    if (k > 0 && out[0] == '.') out[0] = '_';
    out[k] = 0;
}

/* Growing HTML buffer. */
typedef struct am_html {
    char *b;
    size_t n, cap;
    int oom;
} am_html;

static void am_h(am_html *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void am_h(am_html *h, const char *fmt, ...) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (k < 0 || h->oom) {
        va_end(ap2);
        h->oom = 1;
        return;
    }
    if (h->n + (size_t)k + 1 > h->cap) {
        size_t nc = (h->cap ? h->cap * 2 : 4096) + (size_t)k;
        char *nb = realloc(h->b, nc);
        if (!nb) {
            va_end(ap2);
            h->oom = 1;
            return;
        }
        h->b = nb;
        h->cap = nc;
    }
    vsnprintf(h->b + h->n, h->cap - h->n, fmt, ap2);
    va_end(ap2);
    h->n += (size_t)k;
}

/* Escaped text (empty for NULL). */
static void am_h_text(am_html *h, const char *s) {
    char *x = am_html_escape(s ? s : "");
    if (!x) {
        h->oom = 1;
        return;
    }
    am_h(h, "%s", x);
    free(x);
}

static void am_h_figure(am_html *h, const char *href, const char *caption, am_plot_format fmt) {
    am_h(h, "<figure><a href=\"");
    am_h_text(h, href);
    am_h(h, "\">");
    if (fmt == AM_FMT_PDF) {
        am_h_text(h, href);
    } else {
        am_h(h, "<img src=\"");
        am_h_text(h, href);
        am_h(h, "\" alt=\"");
        am_h_text(h, caption);
        am_h(h, "\">");
    }
    am_h(h, "</a><figcaption>");
    am_h_text(h, caption);
    am_h(h, "</figcaption></figure>\n");
}

static void am_h_ids(am_html *h, const int32_t *ids, int n) {
    am_h(h, "<span class=\"ids\">token ids:");
    for (int i = 0; i < n; i++)
        if (ids[i] >= 0) am_h(h, " %d", ids[i]);
    am_h(h, "</span>");
}

static const char *am_css =
    "body{font-family:'DejaVu Sans',sans-serif;margin:2em auto;max-width:1400px;padding:0 1em;"
    "color:#222;line-height:1.4}\n"
    "h1{font-size:1.6em}h2{border-bottom:2px solid #ccc;margin-top:2em}h3{margin-top:1.5em}\n"
    "table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ccc;padding:.3em .6em;"
    "vertical-align:top;text-align:left}\n"
    "td.txt{white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;"
    "font-family:'DejaVu Sans Mono',monospace;font-size:.9em}\n"
    "td,th,figcaption,p{overflow-wrap:anywhere}table{table-layout:auto;max-width:100%}\n"
    ".ids{font-family:monospace;font-size:.85em;color:#555}\n"
    "figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}\n"
    "figcaption{color:#555;font-size:.9em}nav ul{columns:2}\n";

typedef struct am_rctx {
    const am_fig_opts *o;
    const char *outdir;
    am_report_progress progress;
    void *ctx;
    am_html *h;
    const char *analysis; /* analysis.h5 or NULL */
} am_rctx;

/* Render one figure to outdir/rel via fn and add it to the page. */
#define AM_FIG(R, rel, caption, call)                             \
    do {                                                          \
        char full_[4096];                                         \
        snprintf(full_, sizeof full_, "%s/%s", (R)->outdir, rel); \
        const char *path = full_;                                 \
        if (call) {                                               \
            am_wrap(e, "figure %s", rel);                         \
            goto out;                                             \
        }                                                         \
        if ((R)->progress) (R)->progress(full_, (R)->ctx);        \
        am_h_figure((R)->h, rel, caption, (R)->o->fmt);           \
    } while (0)

/* Live and frozen-pattern texts side by side with KL(live || frozen) of the
 * next-token distributions (frozen runs beside the cube, docs/freeze.md). */
static void am_report_frozen(am_html *h, const am_cube *c, int p, const am_frozen_cmp *fc, int nf) {
    if (!nf || !c->text) return;
    am_h(h, "<table class=\"texts frozen\">\n<tr><th>&alpha;</th><th>live</th>");
    for (int i = 0; i < nf; i++) {
        am_h(h, "<th>");
        am_h_text(h, fc[i].name);
        am_h(h, " (layers ");
        am_h_text(h, fc[i].layers);
        am_h(h, ", heads ");
        am_h_text(h, fc[i].heads);
        am_h(h, ")</th>");
    }
    am_h(h, "</tr>\n");
    for (int a = 0; a < c->A; a++) {
        char num[32];
        am_plot_format_number(c->alpha[a], num, sizeof num);
        am_h(h, "<tr><td>%s</td><td class=\"txt\">", num);
        am_h_text(h, c->text[p * c->A + a]);
        am_h(h, "</td>");
        for (int i = 0; i < nf; i++) {
            if (fc[i].P != c->P || fc[i].A != c->A) {
                am_h(h, "<td>(shape differs)</td>");
                continue;
            }
            int u = p * c->A + a;
            am_h(h, "<td class=\"txt\"><span class=\"kl\">KL %.4g nats after the prompt", fc[i].kl[u]);
            if (fc[i].kl_mean && fc[i].kl_steps[u] > 0)
                am_h(h, "; over %d generated positions mean %.4g, max %.4g", fc[i].kl_steps[u], fc[i].kl_mean[u],
                     fc[i].kl_max[u]);
            am_h(h, "</span><br>");
            if (fc[i].text) am_h_text(h, fc[i].text[p * c->A + a]);
            else am_h(h, "(no frozen cube)");
            am_h(h, "</td>");
        }
        am_h(h, "</tr>\n");
    }
    am_h(h, "</table>\n");
}

static int am_report_model(am_rctx *R, const am_cube *c, const char *mslug, const char *cube_path, am_err *e) {
    const am_fig_opts *o = R->o;
    const char *ext = am_plot_format_ext(o->fmt);
    char rel[1024], cap[1024], dir[4096], pslug[80];
    int rc = -1, picks[3], npick = am_fig_layer_picks(c, picks), mid = picks[npick > 1 ? 1 : 0];
    am_html *h = R->h;
    am_frozen_cmp *fc = NULL;
    int nf = 0;
    /* frozen-pattern runs: as the analysis stage compared them */
    if (R->analysis && am_frozen_read(R->analysis, c->name, &fc, &nf, e)) return -1;

    snprintf(dir, sizeof dir, "%s/%s", R->outdir, mslug);
    if (am_mkdirs(dir, e)) {
        am_frozen_cmp_free(fc, nf);
        return -1;
    }
    am_h(h, "<section id=\"m-%s\">\n<h2>Model ", mslug);
    am_h_text(h, c->name);
    am_h(h,
         "</h2>\n<p>%d pairs, %d mixing weights, %d captured layers, %d heads, up to %d "
         "positions.</p>\n",
         c->P, c->A, c->L, c->H, c->S);

    snprintf(rel, sizeof rel, "%s/pairs-L%d-headmean.%s", mslug, c->layer[mid], ext);
    snprintf(cap, sizeof cap,
             "All pairs at layer %d, mean over heads: look for rows whose pattern changes between \xce\xb1 = 0 and 1.",
             c->layer[mid]);
    AM_FIG(R, rel, cap, am_fig_pairs(c, mid, -1, o, path, e));
    for (int k = 0; k < npick; k++) {
        int l = picks[k];
        snprintf(rel, sizeof rel, "%s/summary-pairs-L%d.%s", mslug, c->layer[l], ext);
        snprintf(cap, sizeof cap,
                 "Layer %d, mean and std over heads for every pair: high std marks the cells where the heads "
                 "disagree; compare the columns to see which keys and \xce\xb1 move them.",
                 c->layer[l]);
        AM_FIG(R, rel, cap, am_fig_summary_pairs(c, l, o, path, e));
    }

    for (int p = 0; p < c->P; p++) {
        char ps[64];
        am_report_slug(c->pair[p], ps, sizeof ps);
        snprintf(pslug, sizeof pslug, "p%d-%s", p, ps);
        am_h(h, "<h3 id=\"m-%s-%s\">Pair ", mslug, pslug);
        am_h_text(h, c->pair[p]);
        am_h(h, "</h3>\n<table class=\"prompts\">\n");
        for (int side = 0; side < 2; side++) {
            am_h(h, "<tr><th>prompt %s (\xce\xb1 = %d)</th><td class=\"txt\">", side ? "b" : "a", side ? 0 : 1);
            char **pr = side ? c->prompt_b : c->prompt_a;
            int32_t *ids = side ? c->ids_b : c->ids_a;
            if (pr) am_h_text(h, pr[p]);
            else if (ids) am_h_ids(h, ids + (size_t)p * c->T, c->T);
            else am_h(h, "(not stored in the cube)");
            am_h(h, "</td></tr>\n");
        }
        if (c->prompt_length) am_h(h, "<tr><th>prompt length</th><td>%d tokens</td></tr>\n", c->prompt_length[p]);
        am_h(h, "</table>\n");
        if (c->text) {
            am_h(h, "<table class=\"texts\">\n<tr><th>\xce\xb1</th><th>length</th>"
                    "<th>generated text</th></tr>\n");
            for (int a = 0; a < c->A; a++) {
                char num[32];
                am_plot_format_number(c->alpha[a], num, sizeof num);
                am_h(h, "<tr><td>%s</td><td>%d</td><td class=\"txt\">", num, am_plot_cube_n(c, p, a));
                am_h_text(h, c->text[p * c->A + a]);
                am_h(h, "</td></tr>\n");
            }
            am_h(h, "</table>\n");
        }
        if (nf) {
            am_h(h, "<p>Frozen attention patterns: the same inputs with the attention patterns of the "
                    "listed heads taken from another run (only the value/output path sees the mix).</p>\n");
            am_report_frozen(h, c, p, fc, nf);
        }
        snprintf(rel, sizeof rel, "%s/%s-layers-headmean.%s", mslug, pslug, ext);
        snprintf(cap, sizeof cap,
                 "Pair %s: first, middle and last captured layer, mean over heads: look for the layer where the "
                 "pattern starts to depend on \xce\xb1.",
                 c->pair[p]);
        AM_FIG(R, rel, cap, am_fig_layers(c, p, -1, o, path, e));
        for (int k = 0; k < npick; k++) {
            int l = picks[k];
            snprintf(rel, sizeof rel, "%s/%s-summary-L%d.%s", mslug, pslug, c->layer[l], ext);
            snprintf(cap, sizeof cap,
                     "Pair %s, layer %d: mean and std over heads: bright std cells are positions the heads treat "
                     "differently.",
                     c->pair[p], c->layer[l]);
            AM_FIG(R, rel, cap, am_fig_summary(c, p, l, o, path, e));
            snprintf(rel, sizeof rel, "%s/%s-heads-L%d.%s", mslug, pslug, c->layer[l], ext);
            snprintf(cap, sizeof cap,
                     "Pair %s, layer %d: every head: look for heads whose pattern (sink, diagonal, previous token) "
                     "switches as \xce\xb1 goes from 0 to 1.",
                     c->pair[p], c->layer[l]);
            AM_FIG(R, rel, cap, am_fig_heads(c, p, l, o, path, e));
        }
    }
    am_h(h, "</section>\n");
    rc = 0;
out:
    am_frozen_cmp_free(fc, nf);
    return rc;
}

/* The figures of the analysis file: scatters of the maps (print resolution),
 * the head distances by cluster with the head classes per cluster, and the
 * maps of the first, middle and last layer, one panel per pair key. */
static int am_report_analysis(am_rctx *R, const char *analysis, am_html *body, am_err *e) {
    static const char *spaces[2] = {"tsne", "pca"};
    static const char *bys[4] = {"alpha", "pair", "layer", "class"};
    static const char *look[4] = {
        "look for maps that change cluster as \xce\xb1 goes from 0 to 1.",
        "clusters of one colour are patterns specific to a prompt pair.",
        "colour runs continuously over the layers: look for early and late layers that separate.",
        "check which head classes the clusters of maps correspond to (grey: no dominant class)."};
    const char *ext = am_plot_format_ext(R->o->fmt);
    am_fig_opts so = *R->o;
    am_cluster_table ct = {0};
    int *layers = NULL, nl = 0, rc = -1;
    int has_class = am_fig_analysis_has(analysis, "head_class", e);
    int has_key = am_fig_analysis_has(analysis, "tsne_key", e);
    int pca_cols = am_fig_points_cols(analysis, "pca", e), has_pca = pca_cols >= 2; /* PC1 and PC2 */
    if (has_class < 0 || has_key < 0 || pca_cols < 0) return -1;
    if (so.fmt == AM_FMT_PNG && so.style.zoom < 2) so.style.zoom = 2; /* scatter plots at print resolution */
    am_rctx RS = *R;
    RS.o = &so;
    RS.h = body;
    am_h(body, "<section id=\"scatter\">\n<h2>Embeddings of the maps</h2>\n");
    for (int s = 0; s < 2; s++) {
        int has = s ? has_pca : am_fig_analysis_has(analysis, spaces[s], e);
        if (has < 0) goto out;
        if (!has) continue;
        for (int b = 0; b < 3 + has_class; b++) {
            char rel[256], cap[512];
            snprintf(rel, sizeof rel, "scatter-%s-by-%s.%s", spaces[s], bys[b], ext);
            snprintf(cap, sizeof cap, "%s of the maps, coloured by %s: %s", s ? "PCA (PC1, PC2)" : "t-SNE",
                     b == 3 ? "head class (docs/freeze.md)" : bys[b], look[b]);
            AM_FIG(&RS, rel, cap, am_fig_scatter(analysis, (am_scatter_by)b, spaces[s], 0, 1, &so, path, e));
        }
    }
    if (am_fig_cluster_table(analysis, &ct, e)) goto out;
    if (ct.k > 0) {
        char rel[256];
        am_h(body, "<h3 id=\"clusters\">Clusters of heads</h3>\n<p>Average-linkage clusters of the heads "
                   "(docs/analysis.md); the heads of each cluster by their dominant class:</p>\n"
                   "<table class=\"clusters\">\n<tr><th>cluster</th><th>heads</th>");
        for (int j = 0; j < ct.nclass; j++) {
            am_h(body, "<th>");
            am_h_text(body, ct.names[j]);
            am_h(body, "</th>");
        }
        am_h(body, "</tr>\n");
        for (int c = 0; c < ct.k; c++) {
            am_h(body, "<tr><td>%d</td><td>%d</td>", c, ct.size[c]);
            for (int j = 0; j < ct.nclass; j++) am_h(body, "<td>%d</td>", ct.count[(size_t)c * ct.nclass + j]);
            am_h(body, "</tr>\n");
        }
        am_h(body, "</table>\n");
        snprintf(rel, sizeof rel, "head-distance-clusters.%s", ext);
        AM_FIG(&RS, rel,
               "Head distances ordered by cluster: dark blocks on the diagonal are clusters of heads that "
               "attend alike; bright off-diagonal blocks separate them.",
               am_fig_head_distance(analysis, R->o, path, e));
    }
    if (am_fig_analysis_layers(analysis, &layers, &nl, e)) goto out;
    if (nl > 0) {
        int pick[3] = {layers[0], layers[(nl - 1) / 2], layers[nl - 1]}, np = 0, uniq[3];
        for (int i = 0; i < 3; i++)
            if (np == 0 || pick[i] != uniq[np - 1]) uniq[np++] = pick[i];
        am_h(body, "<h3 id=\"layer-keys\">One layer's heads per pair key</h3>\n");
        for (int i = 0; i < np; i++)
            for (int s = has_key ? 0 : 1; s < 1 + has_pca; s++) {
                char rel[256], cap[512];
                snprintf(rel, sizeof rel, "layer-keys-%s-L%d.%s", spaces[s], uniq[i], ext);
                snprintf(cap, sizeof cap,
                         "Layer %d, %s, one panel per pair key: look for heads whose \xce\xb1 = 0 and \xce\xb1 = 1 "
                         "points lie apart, and for keys where they do.",
                         uniq[i], s ? "PC1 and PC2 of all maps" : "a t-SNE per key");
                AM_FIG(&RS, rel, cap, am_fig_layer_keys(analysis, uniq[i], spaces[s], &so, path, e));
            }
    }
    am_h(body, "</section>\n");
    rc = 0;
out:
    am_cluster_table_free(&ct);
    free(layers);
    return rc;
}

int am_report_write(const char *const *cubes, int ncubes, const char *analysis, const am_fig_opts *o,
                    const char *outdir, am_report_progress progress, void *ctx, am_err *e) {
    am_html h = {0}, body = {0}, nav = {0};
    am_rctx R = {o, outdir, progress, ctx, &h, analysis};
    char(*slugs)[64] = calloc(ncubes ? (size_t)ncubes : 1, sizeof *slugs);
    char index[4096];
    int rc = -1;
    am_file_out page = {0};
    if (!slugs) return am_fail(e, "out of memory");
    if (am_mkdirs(outdir, e)) goto out;

    am_h(&h,
         "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<title>attnmix figures</title>\n<style>\n%s</style>\n</head>\n<body>\n"
         "<h1>attnmix figures</h1>\n",
         am_css);
    am_h(&h, "<p>Attention maps of prompts mixed in embedding space, mix = \xce\xb1\xc2\xb7"
             "E[a] + "
             "(1\xe2\x88\x92\xce\xb1)\xc2\xb7"
             "E[b]. Rows of each map are query positions, columns key "
             "positions; the red line separates prompt and generated tokens.</p>\n");
    R.h = &body;
    for (int i = 0; i < ncubes; i++) {
        am_cube c;
        if (am_cube_open(&c, cubes[i], e)) goto out;
        am_report_slug(c.name, slugs[i], sizeof slugs[i]);
        for (int j = 0; j < i; j++)
            if (!strcmp(slugs[i], slugs[j])) {
                char s2[64];
                snprintf(s2, sizeof s2, "%.50s-%d", slugs[i], i + 1);
                memcpy(slugs[i], s2, sizeof s2);
                j = -1;
            }
        am_h(&nav, "<li><a href=\"#m-%s\">", slugs[i]);
        am_h_text(&nav, c.name);
        am_h(&nav, "</a></li>\n");
        int r = am_report_model(&R, &c, slugs[i], cubes[i], e);
        am_cube_close(&c);
        if (r) {
            am_wrap(e, "%s", cubes[i]);
            goto out;
        }
    }
    if (analysis && am_report_analysis(&R, analysis, &body, e)) goto out;
    if (analysis) am_h(&nav, "<li><a href=\"#scatter\">Embeddings of the maps</a></li>\n");
    if (body.oom || nav.oom) {
        am_fail(e, "out of memory");
        goto out;
    }
    am_h(&h, "<nav><h2>Contents</h2><ul>\n%s</ul></nav>\n%s</body>\n</html>\n", nav.b ? nav.b : "",
         body.b ? body.b : "");
    if (h.oom) {
        am_fail(e, "out of memory");
        goto out;
    }

    snprintf(index, sizeof index, "%s/index.html", outdir);
    if (am_file_out_create(&page, index, e)) goto out;
    if (fwrite(h.b, 1, h.n, page.f) != h.n) {
        am_fail_errno(e, "writing %s", index);
        am_file_out_abort(&page);
        goto out;
    }
    if (am_file_out_commit(&page, e)) goto out; /* removes the temporary file on failure */
    if (progress) progress(index, ctx);
    rc = 0;
out:
    free(h.b);
    free(body.b);
    free(nav.b);
    free(slugs);
    return rc;
}
