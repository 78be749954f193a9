/* Figure rendering tests: pixels read back from the PNGs with cairo. */
#include <cairo.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plot/analysis_figs.h"
#include "plot/canvas.h"
#include "plot/color.h"
#include "plot/cube_view.h"
#include "plot/figures.h"
#include "plot/grid.h"
#include "plot/scatter.h"
#include "test_util.h"

static char tmpdir[256];

/* Published viridis samples (matplotlib's table, 8-bit): index 0, 64, 128, 255. */
static const unsigned char VIRIDIS_0[3] = {68, 1, 84};
static const unsigned char VIRIDIS_64[3] = {59, 82, 139};
static const unsigned char VIRIDIS_128[3] = {33, 145, 140};
static const unsigned char VIRIDIS_255[3] = {253, 231, 37};

typedef struct {
    cairo_surface_t *s;
    unsigned char *d;
    int w, h, stride;
} png_t;

static int png_open(png_t *p, const char *path) {
    p->s = cairo_image_surface_create_from_png(path);
    if (cairo_surface_status(p->s) != CAIRO_STATUS_SUCCESS) return -1;
    cairo_surface_flush(p->s);
    p->d = cairo_image_surface_get_data(p->s);
    p->w = cairo_image_surface_get_width(p->s);
    p->h = cairo_image_surface_get_height(p->s);
    p->stride = cairo_image_surface_get_stride(p->s);
    return 0;
}

static void png_rgb(const png_t *p, int x, int y, unsigned char rgb[3]) {
    uint32_t v = *(const uint32_t *)(p->d + (size_t)y * p->stride + (size_t)x * 4);
    rgb[0] = (v >> 16) & 255;
    rgb[1] = (v >> 8) & 255;
    rgb[2] = v & 255;
}

static int same_rgb(const unsigned char *a, const unsigned char *b) {
    return a[0] == b[0] && a[1] == b[1] && a[2] == b[2];
}

/* Every pixel of cell (q, k) of a block drawn at box has colour want. */
static int cell_is(const png_t *p, const am_panel_box *b, double zoom, int q, int k, const unsigned char want[3],
                   unsigned char got[3]) {
    int x0 = (int)lround((b->x + k * b->cell) * zoom), y0 = (int)lround((b->y + q * b->cell) * zoom);
    int c = (int)lround(b->cell * zoom);
    for (int y = y0; y < y0 + c; y++)
        for (int x = x0; x < x0 + c; x++) {
            png_rgb(p, x, y, got);
            if (!same_rgb(got, want)) return 0;
        }
    return 1;
}

static void test_onehot(double zoom) {
    enum { n = 8 };
    float map[n * n] = {0}; /* [n, n] */
    map[5 * n + 2] = 1.0f;  /* query 5, key 2 */
    am_heatmap hm = {map, n, n, 0, NULL, "one-hot", 0, NULL, NULL, NULL, 0};
    am_plot_cscale cs = {{0.0, 1.0, 0}, AM_CMAP_VIRIDIS, "attention"};
    am_grid g = {1, 1, &hm, &cs, 1, "one-hot test", NULL};
    am_plot_style st;
    am_panel_box box;
    am_err e;
    char path[512];
    png_t p;
    am_plot_style_default(&st);
    st.panel = 160;
    st.zoom = zoom;
    snprintf(path, sizeof path, "%s/onehot-%g.png", tmpdir, zoom);
    CHECK(am_plot_grid_render(&g, &st, AM_FMT_PNG, path, &box, &e) == 0, "render: %s", e.msg);
    CHECK(box.cell == 20 && box.x == floor(box.x) && box.y == floor(box.y),
          "cell %g at (%g, %g): expected integral 20-unit cells", box.cell, box.x, box.y);
    CHECK(png_open(&p, path) == 0, "reading %s", path);
    for (int q = 0; q < n; q++)
        for (int k = 0; k < n; k++) {
            unsigned char got[3];
            const unsigned char *want = q == 5 && k == 2 ? VIRIDIS_255 : VIRIDIS_0;
            CHECK(cell_is(&p, &box, zoom, q, k, want, got), "zoom %g cell (%d,%d): pixel %d,%d,%d, expected %d,%d,%d",
                  zoom, q, k, got[0], got[1], got[2], want[0], want[1], want[2]);
        }
    /* just outside the block is not data coloured */
    unsigned char out[3];
    png_rgb(&p, (int)lround((box.x - 1) * zoom), (int)lround((box.y + 10) * zoom), out);
    CHECK(!same_rgb(out, VIRIDIS_0), "frame missing left of the block");
    cairo_surface_destroy(p.s);
}

static void test_colorbar(am_cmap cm) {
    am_canvas cv;
    am_err e;
    char path[512];
    png_t p;
    am_plot_cscale cs = {{0.0, 0.37, 0}, cm, "attention"};
    snprintf(path, sizeof path, "%s/bar-%d.png", tmpdir, (int)cm);
    CHECK(am_canvas_init(&cv, AM_FMT_PNG, path, 120, 260, 1.0, &e) == 0, "%s", e.msg);
    am_plot_colorbar(cv.cr, 20, 20, 12, 200, &cs);
    CHECK(am_canvas_finish(&cv, &e) == 0, "%s", e.msg);
    CHECK(png_open(&p, path) == 0, "reading %s", path);
    unsigned char top[3], bot[3], lo[3], hi[3];
    am_cmap_entry(cm, 0, lo);
    am_cmap_entry(cm, 255, hi);
    for (int x = 20; x < 32; x++) {
        png_rgb(&p, x, 20, top);  /* max tick is at y = 20 */
        png_rgb(&p, x, 219, bot); /* min tick is at y = 220 */
        CHECK(same_rgb(top, hi), "bar top %d,%d,%d != map top %d,%d,%d", top[0], top[1], top[2], hi[0], hi[1], hi[2]);
        CHECK(same_rgb(bot, lo), "bar bottom %d,%d,%d != map bottom", bot[0], bot[1], bot[2]);
    }
    if (cm == AM_CMAP_VIRIDIS) {
        CHECK(same_rgb(hi, VIRIDIS_255) && same_rgb(lo, VIRIDIS_0), "viridis ends differ from published");
    } else {
        static const unsigned char blue[3] = {59, 76, 192}, red[3] = {180, 4, 38};
        CHECK(same_rgb(lo, blue) && same_rgb(hi, red), "diverging ends differ");
        unsigned char m1[3], m2[3];
        am_cmap_entry(cm, 127, m1);
        am_cmap_entry(cm, 128, m2);
        CHECK(m1[0] > 230 && m1[1] > 230 && m1[2] > 230 && abs(m1[0] - m1[2]) < 6 && same_rgb(m1, m2),
              "diverging centre should be near-white neutral: %d,%d,%d", m1[0], m1[1], m1[2]);
    }
    cairo_surface_destroy(p.s);
}

static void test_log(void) {
    enum { n = 6 };
    /* values and the table index from t = (log10(v) - log10(floor)) / (0 - log10(floor));
     * rows 1 and 2 sit at the centres of table entries 128 and 64 */
    const float v[n] = {
        1.0f, (float)pow(10.0, -4.0 + 4.0 * 128 / 255), (float)pow(10.0, -4.0 + 4.0 * 64 / 255), 1e-6f, 0.0f, 0.5f};
    float map[n * n]; /* [n, n], row q filled with v[q] */
    for (int q = 0; q < n; q++)
        for (int k = 0; k < n; k++) map[q * n + k] = v[q];
    am_heatmap hm = {map, n, n, 0, NULL, "log", 0, NULL, NULL, NULL, 0};
    am_plot_cscale cs = {{1e-4, 1.0, 1}, AM_CMAP_VIRIDIS, "attention (log)"};
    am_grid g = {1, 1, &hm, &cs, 1, "log test", NULL};
    am_plot_style st;
    am_panel_box box;
    am_err e;
    char path[512];
    png_t p;
    am_plot_style_default(&st);
    st.panel = 120;
    snprintf(path, sizeof path, "%s/log.png", tmpdir);
    CHECK(am_plot_grid_render(&g, &st, AM_FMT_PNG, path, &box, &e) == 0, "%s", e.msg);
    CHECK(png_open(&p, path) == 0, "reading %s", path);
    for (int q = 0; q < n; q++) {
        double t = (log10(fmax(v[q], 1e-4)) + 4.0) / 4.0;
        int idx = (int)floor(t * 255 + 0.5);
        unsigned char want[3], got[3];
        am_cmap_entry(AM_CMAP_VIRIDIS, idx, want);
        CHECK(cell_is(&p, &box, 1.0, q, 3, want, got), "value %g: got %d,%d,%d, want index %d", v[q], got[0], got[1],
              got[2], idx);
        if (q == 1) CHECK(idx == 128 && same_rgb(got, VIRIDIS_128), "%g must map to viridis[128]", v[q]);
        if (q == 2) CHECK(idx == 64 && same_rgb(got, VIRIDIS_64), "%g must map to viridis[64]", v[q]);
        if (q == 3 || q == 4) CHECK(idx == 0, "below the floor must map to the bottom colour");
    }
    cairo_surface_destroy(p.s);
    /* the scale itself */
    am_plot_scale s = {1e-4, 1.0, 1};
    CHECK(fabs(am_plot_scale_norm(&s, 1e-2) - 0.5) < 1e-12, "log norm of 1e-2");
    CHECK(fabs(am_plot_scale_norm(&s, 1e-3) - 0.25) < 1e-12, "log norm of 1e-3");
    CHECK(am_plot_scale_norm(&s, 0.0) == 0.0 && am_plot_scale_norm(&s, 3.0) == 1.0, "log clamp");
}

static int render_sample(const char *path, am_plot_format fmt, am_err *e) {
    enum { n = 12 };
    static float map[n * n];
    char *labels[n];
    for (int q = 0; q < n; q++)
        for (int k = 0; k < n; k++) map[q * n + k] = k <= q ? 1.0f / (q + 1) : 0.0f;
    for (int i = 0; i < n; i++) {
        char b[32];
        snprintf(b, sizeof b, i % 3 ? " tok%d" : "\n<%d>", i);
        labels[i] = am_plot_escape_label(b, strlen(b), 12);
    }
    am_heatmap hm[2] = {{map, n, n, 7, labels, "head 0 \xc2\xb7 \xce\xb1 = 0.5", 0, NULL, NULL, NULL, 0},
                        {map, 9, n, 7, NULL, "short", 0, NULL, NULL, NULL, 0}};
    am_plot_cscale cs = {{0.0, 1.0, 0}, AM_CMAP_VIRIDIS, "attention"};
    am_grid g = {1, 2, hm, &cs, 1, "determinism", "subtitle"};
    am_plot_style st;
    am_plot_style_default(&st);
    int rc = am_plot_grid_render(&g, &st, fmt, path, NULL, e);
    hm[1].labels = NULL;
    am_grid g2 = {1, 1, hm, &cs, 1, "tokens", NULL};
    char p2[600];
    snprintf(p2, sizeof p2, "%s.tokens.png", path);
    if (!rc) rc = am_plot_grid_render(&g2, &st, AM_FMT_PNG, p2, NULL, e);
    for (int i = 0; i < n; i++) free(labels[i]);
    return rc;
}

static void test_determinism(void) {
    for (int f = 0; f < 3; f++) {
        char a[512], b[512];
        size_t na, nb;
        am_err e;
        const char *ext = am_plot_format_ext((am_plot_format)f);
        snprintf(a, sizeof a, "%s/det1.%s", tmpdir, ext);
        snprintf(b, sizeof b, "%s/det2.%s", tmpdir, ext);
        CHECK(render_sample(a, (am_plot_format)f, &e) == 0, "%s", e.msg);
        CHECK(render_sample(b, (am_plot_format)f, &e) == 0, "%s", e.msg);
        char *x = test_read_file(a, &na), *y = test_read_file(b, &nb);
        CHECK(x && y && na > 100, "%s not written", ext);
        if (f != AM_FMT_SVG) /* cairo numbers SVG ids per process; checked across runs by plot_cli */
            CHECK(x && y && na == nb && !memcmp(x, y, na), "%s output differs between runs", ext);
        if (f == AM_FMT_PDF && x) {
            CHECK(memmem(x, na, "/CreationDate (2000", 19) || memmem(x, na, "/CreationDate (D:2000", 21),
                  "PDF creation date must be fixed");
        }
        free(x);
        free(y);
    }
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s/det1.png.tmp-%ld", tmpdir, (long)getpid());
    CHECK(access(tmp, F_OK) != 0, "temporary file left behind");
}

/* Token labels in the scripts a Qwen3 vocabulary holds are drawn, not shown
 * as boxes: the fonts the set-up installs cover them through Pango's fallback. */
static void test_scripts(void) {
    static const char *const samples[] = {
        "capital",
        "caf\xc3\xa9",                                                              /* Latin */
        "\xd1\x81\xd1\x82\xd0\xbe\xd0\xbb\xd0\xb8\xd1\x86\xd0\xb0",                 /* Cyrillic */
        "\xce\xb1\xce\xbb\xcf\x86\xce\xb1",                                         /* Greek */
        "\xe9\xa6\x96\xe9\x83\xbd\xe5\x9c\xa8\xe8\xbf\x87\xe6\xb8\xa1",             /* CJK */
        "\xe3\x81\x8b\xe3\x81\xaa\xe3\x82\xab\xe3\x82\xbf",                         /* kana */
        "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4",                                     /* Hangul */
        "\xe0\xb8\x81\xe0\xb8\xb1\xe0\xb8\x99\xe0\xb8\xa2",                         /* Thai */
        "\xd8\xa7\xd9\x84\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a\xd8\xa9",                 /* Arabic */
        "\xd7\xa2\xd7\x91\xd7\xa8\xd7\x99\xd7\xaa",                                 /* Hebrew */
        "\xe0\xa4\xb9\xe0\xa4\xbf\xe0\xa4\xa8\xe0\xa5\x8d\xe0\xa4\xa6\xe0\xa5\x80", /* Devanagari */
        "\xe1\x83\xa5\xe1\x83\x90\xe1\x83\xa0\xe1\x83\x97",                         /* Georgian */
        "\xe2\x90\xa3\xe2\x80\xa6\xc2\xb7\xce\xb1", /* label marks: open box, ellipsis */
    };
    cairo_surface_t *sf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 10, 10);
    cairo_t *cr = cairo_create(sf);
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        int miss = am_plot_text_missing(cr, samples[i]);
        CHECK(miss == 0, "sample %zu (%s): %d characters have no font", i, samples[i], miss);
    }
    CHECK(am_plot_text_missing(cr, "\xf3\xb0\x80\x80") == 1, "a private-use character should have no font");
    cairo_destroy(cr);
    cairo_surface_destroy(sf);
}

static void test_escape(void) {
    struct {
        const char *in;
        size_t len;
        const char *want;
    } cases[] = {
        {"a\nb", 3, "a\\nb"},
        {" the", 4, "\xe2\x90\xa3the"},
        {"\xff"
         "x",
         2, "\\xFFx"},
        {"\t\x01", 2, "\\t\\x01"},
        {"\xc3\xa9t\xc3\xa9", 5, "\xc3\xa9t\xc3\xa9"},
        {"abcdefghij", 10, "abcd\xe2\x80\xa6"},
        {"\xc2\x85", 2, "\\u0085"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = am_plot_escape_label(cases[i].in, cases[i].len, i == 5 ? 4 : 12);
        CHECK(s && !strcmp(s, cases[i].want), "escape case %zu: got '%s' want '%s'", i, s ? s : "(null)",
              cases[i].want);
        free(s);
    }
    char buf[32];
    am_plot_format_number(1e-5, buf, sizeof buf);
    CHECK(!strcmp(buf, "1e-5"), "number format: %s", buf);
    am_plot_format_number(0.25, buf, sizeof buf);
    CHECK(!strcmp(buf, "0.25"), "number format: %s", buf);
}

/* The cube reader and the figure builders on the synthetic fixture. */
static void test_cube(int f16) {
    const char *py = getenv("PYTHON"), *src = getenv("ATTNMIX_SRC");
    char dir[512], cmd[2048], path[600], out[600];
    am_cube c;
    am_err e;
    if (!py || !src) {
        fprintf(stderr, "NOTICE: PYTHON/ATTNMIX_SRC not set, cube fixture tests skipped\n");
        return;
    }
    snprintf(dir, sizeof dir, "%s/fx%d", tmpdir, f16);
    mkdir(dir, 0755);
    snprintf(cmd, sizeof cmd, "%s %s/tests/plot/make_fixtures.py %s %s", py, src, dir, f16 ? "--float16" : "");
    CHECK(system(cmd) == 0, "fixture generation failed: %s", cmd);
    snprintf(path, sizeof path, "%s/cube.h5", dir);
    CHECK(am_cube_open(&c, path, &e) == 0, "%s", e.msg);
    if (failures) return;
    CHECK(c.P == 2 && c.A == 3 && c.L == 3 && c.H == 2 && c.S == 9, "dims %d %d %d %d %d", c.P, c.A, c.L, c.H, c.S);
    CHECK(!strcmp(c.model, "tiny-test") && !strcmp(c.pair[1], "a<b&c"), "model/pair names");
    CHECK(am_plot_cube_n(&c, 0, 1) == 8 && am_plot_cube_prompt_len(&c, 1) == 5, "length / prompt_length");
    CHECK(am_plot_cube_layer(&c, 5, &e) == 2 && am_plot_cube_head(&c, 3, &e) == 1, "axis lookup");
    CHECK(am_plot_cube_layer(&c, 4, &e) == -1 && strstr(e.msg, "0, 2, 5"), "bad layer message: %s", e.msg);
    CHECK(am_plot_cube_pair(&c, "nope", &e) == -1 && strstr(e.msg, "greeting"), "bad pair: %s", e.msg);
    CHECK(c.text && !strcmp(c.text[1], "line1\nline2"), "text");
    float m[81];
    CHECK(am_cube_read_map(&c, 1, 2, 1, 1, m, &e) == 0, "%s", e.msg);
    CHECK(m[6 * 9 + 3] == 1.0f && m[6 * 9 + 2] == 0.0f, "probe cell");
    /* a random map against the fixture's expected values; rows sum to 1 */
    CHECK(am_cube_read_map(&c, 0, 1, 2, 0, m, &e) == 0, "%s", e.msg);
    for (int q = 0; q < 8; q++) {
        double s = 0;
        for (int k = 0; k < 8; k++) s += m[q * 8 + k];
        CHECK(fabs(s - 1.0) < (f16 ? 5e-3 : 1e-5), "row %d sums to %g", q, s);
        for (int k = q + 1; k < 8; k++) CHECK(m[q * 8 + k] == 0.0f, "above diagonal");
    }
    char **labels = NULL;
    CHECK(am_plot_cube_labels(&c, 0, 0, NULL, &labels, &e) == 0 && !labels, "no tokenizer -> no labels");
    const char *tokdir = getenv("ATTNMIX_TOKENIZER_DIR");
    am_tokenizer *tok = NULL;
    if (tokdir && am_plot_tokenizer_load(&tok, tokdir, &e) == 0) {
        /* ids_a = Hello , _world !   ids_b = Hello , _there !   (tokenizer.json ids) */
        const char *want[3] = {"\xe2\x90\xa3there", "\xe2\x90\xa3world|\xe2\x90\xa3there", "\xe2\x90\xa3world"};
        for (int a = 0; a < 3; a++) {
            CHECK(am_plot_cube_labels(&c, 0, a, tok, &labels, &e) == 0 && labels, "labels: %s", e.msg);
            if (!labels) continue;
            CHECK(!strcmp(labels[0], "Hello") && !strcmp(labels[1], ",") && !strcmp(labels[3], "!"),
                  "prompt labels %s %s %s", labels[0], labels[1], labels[3]);
            CHECK(!strcmp(labels[2], want[a]), "alpha %d label 2: '%s' want '%s'", a, labels[2], want[a]);
            am_plot_labels_free(labels, am_plot_cube_n(&c, 0, a));
        }
        /* a token longer than the old 12-character cut is shown whole */
        int32_t keep_a = c.ids_a[0], keep_b = c.ids_b[0];
        c.ids_a[0] = c.ids_b[0] = 151643;
        CHECK(am_plot_cube_labels(&c, 0, 0, tok, &labels, &e) == 0 && labels, "labels: %s", e.msg);
        if (labels) {
            CHECK(!strcmp(labels[0], "<|endoftext|>"), "long label cut: '%s'", labels[0]);
            am_plot_labels_free(labels, am_plot_cube_n(&c, 0, 0));
        }
        c.ids_a[0] = keep_a, c.ids_b[0] = keep_b;
        am_fig_opts ot;
        am_fig_opts_default(&ot);
        ot.tok = tok;
        snprintf(out, sizeof out, "%s/tokens.png", dir);
        CHECK(am_fig_heads(&c, 0, 1, &ot, out, &e) == 0, "heads with tokens: %s", e.msg);
        am_plot_tokenizer_free(tok);
    } else {
        fprintf(stderr, "NOTICE: token labels not checked (%s)\n", tokdir ? e.msg : "ATTNMIX_TOKENIZER_DIR unset");
    }

    am_fig_opts o;
    am_fig_opts_default(&o);
    int (*figs[4])(const am_cube *, int, int, const am_fig_opts *, const char *,
                   am_err *) = {am_fig_heads, am_fig_pairs, am_fig_summary, am_fig_layers};
    int a1[4] = {0, 1, 1, 0}, a2[4] = {1, 0, 2, -1};
    for (int i = 0; i < 4; i++) {
        snprintf(out, sizeof out, "%s/fig%d.png", dir, i);
        CHECK(figs[i](&c, a1[i], a2[i], &o, out, &e) == 0, "figure %d: %s", i, e.msg);
        png_t p;
        CHECK(png_open(&p, out) == 0 && p.w > 300 && p.h > 200, "figure %d unreadable", i);
        if (p.s) cairo_surface_destroy(p.s);
    }
    /* analysis scatter */
    snprintf(path, sizeof path, "%s/analysis.h5", dir);
    for (int by = 0; by < 3; by++) {
        snprintf(out, sizeof out, "%s/scatter%d.png", dir, by);
        CHECK(am_fig_scatter(path, (am_scatter_by)by, by == 1 ? "pca" : "tsne", 0, 1, &o, out, &e) == 0, "scatter: %s",
              e.msg);
    }
    snprintf(out, sizeof out, "%s/scatter-bad.png", dir);
    CHECK(am_fig_scatter(path, AM_BY_ALPHA, "pca", 0, 7, &o, out, &e) == -1 && strstr(e.msg, "4 components") &&
              access(out, F_OK) != 0,
          "asking for a missing component: %s", e.msg);
    am_cube_close(&c);

    /* a cube without /attention names file and dataset */
    snprintf(path, sizeof path, "%s/analysis.h5", dir);
    CHECK(am_cube_open(&c, path, &e) == -1 && strstr(e.msg, "analysis.h5") && strstr(e.msg, "/attention"),
          "bad cube message: %s", e.msg);
}

/* The cube reader (h5/cube_read.h) on files written with h5py: fixed-length
 * strings, float64 and float16 maps, optional datasets absent, the model name
 * from the path, and a message naming file and dataset for each defect. */
static void test_cube_reader(void) {
    const char *py = getenv("PYTHON"), *src = getenv("ATTNMIX_SRC");
    char dir[512], cmd[2048], path[700];
    am_cube c;
    am_err e;
    float m[25];
    if (!py || !src) {
        fprintf(stderr, "NOTICE: PYTHON/ATTNMIX_SRC not set, cube reader tests skipped\n");
        return;
    }
    snprintf(dir, sizeof dir, "%s/reader", tmpdir);
    mkdir(dir, 0755);
    snprintf(cmd, sizeof cmd, "%s %s/tests/plot/make_reader_fixtures.py %s", py, src, dir);
    CHECK(system(cmd) == 0, "fixture generation failed: %s", cmd);

    snprintf(path, sizeof path, "%s/fixed.h5", dir);
    CHECK(am_cube_open(&c, path, &e) == 0, "fixed-length strings: %s", e.msg);
    if (c.file >= 0) {
        CHECK(c.P == 2 && c.A == 2 && c.L == 3 && c.H == 2 && c.S == 5 && !strcmp(c.dtype, "float64"),
              "fixed: dims/dtype");
        CHECK(!strcmp(c.pair[1], "key-one") && !strcmp(c.text[3], "a longer text") && !strcmp(c.prompt_b[1], "pb1"),
              "fixed-length strings read back");
        CHECK(c.model && !strcmp(c.model, "fixed-model") && !strcmp(c.name, "fixed-model"),
              "fixed-length model attribute");
        CHECK(c.layer[2] == 7 && c.head[1] == 3 && c.length[2] == 3 && c.prompt_length[1] == 3, "index datasets");
        CHECK(c.T == 3 && c.ids_b[1] == 9 && c.N == 2 && c.generated[2] == 9 && c.has_length, "ids and generated ids");
        CHECK(!strcmp(c.checkpoint_fingerprint, "0123456789abcdef") && !c.config_yaml && !c.caveat, "root attributes");
        CHECK(am_cube_read_map(&c, 1, 0, 2, 1, m, &e) == 0, "read_map: %s", e.msg);
        CHECK(m[0] == 1.0f && m[3 + 1] == 0.5f && m[2 * 3 + 2] == 1.0f / 3, "map of n = 3 packed [n][n]");
        CHECK(am_cube_read_map(&c, 2, 0, 0, 0, m, &e) == -1 && strstr(e.msg, "fixed.h5"), "map outside the cube: %s",
              e.msg);
        float *blk = malloc(sizeof *blk * 2 * 2 * 5 * 5); /* [A][H][S][S] */
        CHECK(blk && am_cube_read_block(&c, 0, 1, blk, &e) == 0, "read_block: %s", blk ? e.msg : "out of memory");
        if (blk) CHECK(blk[3 * 25 + 4 * 5 + 4] == 0.2f, "block cell (alpha 1, head 1, q 4, k 4)");
        free(blk);
    }
    am_cube_close(&c);
    am_cube_close(&c); /* closing twice is safe */

    snprintf(path, sizeof path, "%s/minimal.h5", dir);
    CHECK(am_cube_open(&c, path, &e) == 0, "minimal cube: %s", e.msg);
    if (c.file >= 0) {
        CHECK(!strcmp(c.dtype, "float16") && !c.has_length && c.length[3] == 5 && c.head[1] == 1 && c.layer[2] == 2,
              "defaults of the optional datasets");
        CHECK(!c.prompt_length && !c.ids_a && !c.ids_b && !c.generated && !c.text && !c.prompt_a && !c.T && !c.N,
              "absent datasets read as NULL");
        CHECK(am_cube_read_map(&c, 0, 1, 0, 0, m, &e) == 0 && fabsf(m[24] - 0.2f) < 1e-3f, "float16 map: %s", e.msg);
    }
    am_cube_close(&c);
    snprintf(path, sizeof path, "%s/m1/cube.h5", dir);
    CHECK(am_cube_open(&c, path, &e) == 0 && !c.model && !strcmp(c.name, "m1"), "model name from NAME/cube.h5");
    am_cube_close(&c);
    snprintf(path, sizeof path, "%s/minimal.h5", dir);
    CHECK(am_cube_open_schema(&c, path, "attnmix.cube/1", &e) == -1 && strstr(e.msg, "schema"), "schema required: %s",
          e.msg);

    static const struct {
        const char *file, *want;
    } bad[] = {
        {"missing.h5", "cannot open"},
        {"not_hdf5.h5", "not an HDF5 file"},
        {"bad_noattn.h5", "/attention"},
        {"bad_nopair.h5", "/pair"},
        {"bad_length.h5", "/length[1, 0] = 9 is outside [0, 5]"},
        {"bad_layer.h5", "/layer has shape [2]"},
        {"bad_text.h5", "/text must be [2, 2] strings"},
        {"bad_rank.h5", "rank 5"},
        {"bad_type.h5", "non-float"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, bad[i].file);
        memset(&e, 0, sizeof e);
        CHECK(am_cube_open(&c, path, &e) == -1 && strstr(e.msg, bad[i].file) && strstr(e.msg, bad[i].want) &&
                  c.file == H5I_INVALID_HID,
              "%s: message '%s' lacks '%s'", bad[i].file, e.msg, bad[i].want);
        am_cube_close(&c);
    }
}

int main(void) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_plot.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_onehot(1.0);
    test_onehot(2.0);
    test_colorbar(AM_CMAP_VIRIDIS);
    test_colorbar(AM_CMAP_DIVERGING);
    test_log();
    test_determinism();
    test_escape();
    test_scripts();
    test_cube(0);
    test_cube(1);
    test_cube_reader();
    if (failures) {
        fprintf(stderr, "%d check(s) failed; files in %s\n", failures, tmpdir);
        return 1;
    }
    char cmd[600];
    printf("test_plot: all checks passed\n");
    if (getenv("ATTNMIX_KEEP")) return 0; /* keep the figures for inspection */
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return 0;
}
