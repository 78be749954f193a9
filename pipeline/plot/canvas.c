/* Canvas (PNG/SVG/PDF surfaces written under a temporary name, then renamed)
 * and text helpers on Pango, whose font fallback (fontconfig) draws the
 * characters DejaVu Sans lacks (CJK from Droid Sans Fallback, ...) instead of
 * empty boxes. */
#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <errno.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utf8proc.h>

#include "base/fs.h"
#include "plot/canvas.h"

int am_plot_format_parse(const char *s) {
    if (!s) return -1;
    if (!strcmp(s, "png")) return AM_FMT_PNG;
    if (!strcmp(s, "svg")) return AM_FMT_SVG;
    if (!strcmp(s, "pdf")) return AM_FMT_PDF;
    return -1;
}

const char *am_plot_format_ext(am_plot_format f) { return f == AM_FMT_SVG ? "svg" : f == AM_FMT_PDF ? "pdf" : "png"; }

int am_canvas_init(am_canvas *c, am_plot_format fmt, const char *path, double w, double h, double zoom, am_err *e) {
    memset(c, 0, sizeof *c);
    c->fmt = fmt;
    c->w = w;
    c->h = h;
    c->zoom = zoom > 0 ? zoom : 1.0;
    c->path = strdup(path);
    c->tmp = malloc(strlen(path) + 32);
    if (c->tmp && am_tmp_name(path, c->tmp, strlen(path) + 32, e)) {
        am_canvas_free(c);
        return -1;
    }
    if (!c->path || !c->tmp) {
        am_canvas_free(c);
        return am_fail(e, "%s: out of memory", path);
    }
    if (fmt == AM_FMT_PNG) {
        int pw = (int)ceil(w * c->zoom), ph = (int)ceil(h * c->zoom);
        c->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, pw, ph);
    } else if (fmt == AM_FMT_SVG) {
        c->surface = cairo_svg_surface_create(c->tmp, w, h);
    } else {
        c->surface = cairo_pdf_surface_create(c->tmp, w, h);
        /* Fixed dates keep the bytes a function of the input only. */
        cairo_pdf_surface_set_metadata(c->surface, CAIRO_PDF_METADATA_CREATE_DATE, "2000-01-01T00:00:00Z");
        cairo_pdf_surface_set_metadata(c->surface, CAIRO_PDF_METADATA_MOD_DATE, "2000-01-01T00:00:00Z");
        cairo_pdf_surface_set_metadata(c->surface, CAIRO_PDF_METADATA_CREATOR, "attnmix-plot");
    }
    if (cairo_surface_status(c->surface) != CAIRO_STATUS_SUCCESS) {
        int rc = am_fail(e, "%s: cannot create %s surface (%.0f x %.0f): %s", path, am_plot_format_ext(fmt), w, h,
                         cairo_status_to_string(cairo_surface_status(c->surface)));
        am_canvas_free(c);
        return rc;
    }
    c->cr = cairo_create(c->surface);
    if (fmt == AM_FMT_PNG) cairo_scale(c->cr, c->zoom, c->zoom);
    cairo_set_source_rgb(c->cr, 1, 1, 1);
    cairo_paint(c->cr);
    return 0;
}

int am_canvas_finish(am_canvas *c, am_err *e) {
    int rc = -1;
    cairo_status_t st = cairo_status(c->cr);
    if (st != CAIRO_STATUS_SUCCESS) {
        am_fail(e, "%s: drawing failed: %s", c->path, cairo_status_to_string(st));
        goto out;
    }
    cairo_destroy(c->cr);
    c->cr = NULL;
    if (c->fmt == AM_FMT_PNG) {
        st = cairo_surface_write_to_png(c->surface, c->tmp);
        if (st != CAIRO_STATUS_SUCCESS) {
            am_fail(e, "%s: writing PNG failed: %s (is the directory writable?)", c->tmp, cairo_status_to_string(st));
            goto out;
        }
    } else {
        cairo_surface_finish(c->surface);
        st = cairo_surface_status(c->surface);
        if (st != CAIRO_STATUS_SUCCESS) {
            am_fail(e, "%s: writing %s failed: %s", c->tmp, am_plot_format_ext(c->fmt), cairo_status_to_string(st));
            goto out;
        }
    }
    if (am_commit_file(c->tmp, c->path, e)) goto out; /* fsync, rename; removes tmp on failure */
    free(c->tmp);
    c->tmp = NULL;
    rc = 0;
out:
    am_canvas_free(c);
    return rc;
}

void am_canvas_free(am_canvas *c) {
    if (c->cr) cairo_destroy(c->cr);
    if (c->surface) {
        cairo_surface_finish(c->surface);
        cairo_surface_destroy(c->surface);
    }
    if (c->tmp) {
        int saved = errno;
        unlink(c->tmp);
        errno = saved;
    }
    free(c->tmp);
    free(c->path);
    memset(c, 0, sizeof *c);
}

/* ---- text ----------------------------------------------------------------- */

/* A one-line layout of s at size (user units), unhinted so that text scales
 * with the zoom exactly; the caller unrefs it. */
static PangoLayout *am_layout(cairo_t *cr, const char *s, double size, int bold) {
    PangoLayout *l = pango_cairo_create_layout(cr);
    PangoContext *ctx = pango_layout_get_context(l);
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
    pango_cairo_context_set_font_options(ctx, fo);
    cairo_font_options_destroy(fo);
    pango_context_set_round_glyph_positions(ctx, FALSE);
    pango_layout_context_changed(l);
    PangoFontDescription *fd = pango_font_description_new();
    pango_font_description_set_family(fd, AM_PLOT_FONT);
    pango_font_description_set_weight(fd, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
    pango_layout_set_font_description(l, fd);
    pango_font_description_free(fd);
    pango_layout_set_text(l, s, -1);
    return l;
}

void am_plot_frame(cairo_t *cr, double x, double y, double w, double h, double grey) {
    cairo_set_source_rgb(cr, grey, grey, grey);
    cairo_set_line_width(cr, 1.0);
    cairo_rectangle(cr, x - 0.5, y - 0.5, w + 1, h + 1);
    cairo_stroke(cr);
}

double am_plot_text_width(cairo_t *cr, const char *s, double size, int bold) {
    PangoLayout *l = am_layout(cr, s, size, bold);
    PangoRectangle r;
    pango_layout_get_extents(l, NULL, &r);
    g_object_unref(l);
    return r.width / (double)PANGO_SCALE;
}

int am_plot_text_missing(cairo_t *cr, const char *s) {
    PangoLayout *l = am_layout(cr, s, 10, 0);
    int n = pango_layout_get_unknown_glyphs_count(l);
    g_object_unref(l);
    return n;
}

void am_plot_text(cairo_t *cr, double x, double y, const char *s, double size, int bold, double ax, double ay,
                  double angle) {
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, -angle);
    PangoLayout *l = am_layout(cr, s, size, bold);
    PangoRectangle r;
    pango_layout_get_extents(l, NULL, &r);
    cairo_move_to(cr, -ax * r.width / (double)PANGO_SCALE, -ay * r.height / (double)PANGO_SCALE);
    pango_cairo_show_layout(cr, l);
    g_object_unref(l);
    cairo_new_path(cr);
    cairo_restore(cr);
}

static int am_buf_put(char **b, size_t *n, size_t *cap, const char *s, size_t len) {
    if (*n + len + 1 > *cap) {
        size_t nc = (*cap ? *cap * 2 : 64) + len;
        char *nb = realloc(*b, nc);
        if (!nb) return -1;
        *b = nb;
        *cap = nc;
    }
    memcpy(*b + *n, s, len);
    *n += len;
    (*b)[*n] = 0;
    return 0;
}

char *am_plot_escape_label(const char *s, size_t len, int max_chars) {
    char *b = NULL;
    size_t n = 0, cap = 0, i = 0;
    int chars = 0;
    if (am_buf_put(&b, &n, &cap, "", 0)) return NULL;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &cp);
        char tmp[16];
        const char *piece = tmp;
        size_t plen;
        if (max_chars > 0 && chars >= max_chars) {
            am_buf_put(&b, &n, &cap, "\xe2\x80\xa6", 3); /* U+2026 */
            break;
        }
        if (k <= 0) { /* invalid byte */
            snprintf(tmp, sizeof tmp, "\\x%02X", (unsigned char)s[i]);
            k = 1;
        } else if (cp == '\n') {
            piece = "\\n";
        } else if (cp == '\t') {
            piece = "\\t";
        } else if (cp == '\r') {
            piece = "\\r";
        } else if (cp < 0x20 || cp == 0x7f) {
            snprintf(tmp, sizeof tmp, "\\x%02X", (unsigned)cp);
        } else if (cp >= 0x80 && cp < 0xa0) {
            snprintf(tmp, sizeof tmp, "\\u%04X", (unsigned)cp);
        } else if (cp == ' ') {
            piece = "\xe2\x90\xa3"; /* U+2423 OPEN BOX */
        } else {
            memcpy(tmp, s + i, (size_t)k);
            tmp[k] = 0;
        }
        plen = strlen(piece);
        if (am_buf_put(&b, &n, &cap, piece, plen)) {
            free(b);
            return NULL;
        }
        i += (size_t)k;
        chars++;
    }
    return b;
}

void am_plot_format_number(double v, char *buf, size_t n) {
    char tmp[64], *e;
    if (v == 0.0) v = 0.0; /* no "-0" */
    snprintf(tmp, sizeof tmp, "%.3g", v);
    e = strchr(tmp, 'e');
    if (e) { /* 1e-04 -> 1e-4, 1e+03 -> 1e3 */
        char mant[32], *m = mant;
        size_t ml = (size_t)(e - tmp);
        memcpy(mant, tmp, ml);
        mant[ml] = 0;
        int ex = atoi(e + 1);
        snprintf(buf, n, "%se%d", m, ex);
        return;
    }
    snprintf(buf, n, "%s", tmp);
}
