/* attnmix-plot: figures from cube files and analysis files, and a per-run
 * HTML report. See docs/figures.md. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5/h5io.h"
#include "plot/analysis_figs.h"
#include "plot/figures.h"
#include "plot/report.h"

#define MAX_CUBES 64

static const char *usage =
    "usage: attnmix-plot COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  heads   --cube C --pair KEY --layer L --out F    grid heads x alphas\n"
    "  pairs   --cube C --layer L [--head H] --out F    grid pairs x alphas (head mean if no --head)\n"
    "  summary --cube C --pair KEY --layer L --out F    mean and std over heads x alphas\n"
    "  layers  --cube C --pair KEY [--head H] --out F   first/middle/last layer x alphas\n"
    "  summary-pairs --cube C --layer L --out F       mean/std over heads: pair keys down, alphas across\n"
    "  scatter --analysis A --by alpha|pair|layer|class [--space tsne|pca] [--components I,J] --out F\n"
    "          (class: head class of /points/head_class, see docs/freeze.md)\n"
    "  layer-keys --analysis A --layer L [--space tsne|pca] --out F\n"
    "          the maps of one layer, one panel per pair key (t-SNE per key, or PC1/PC2)\n"
    "  head-distance --analysis A --out F   head distances ordered by cluster\n"
    "  report  --cube C [--cube C2 ...] [--analysis A] --outdir DIR\n"
    "          default figures for every model and pair, and DIR/index.html\n"
    "\n"
    "options:\n"
    "  --format png|svg|pdf   output format (default: from --out's extension, else png)\n"
    "  --scale linear|log|row colour scale for attention: linear, log10 (from --floor), or each row\n"
    "                         over its maximum (default linear; log in the report)\n"
    "  --log                  the same as --scale log\n"
    "  --floor X              floor of the log scale (default 1e-4)\n"
    "  --vmin X, --vmax X     fixed colour scale ends (default 0 and the data maximum)\n"
    "  --tokenizer PATH       tokenizer.json or model directory: token labels on small maps\n"
    "  --tokens-max N         token labels only up to N positions (default 40, 0 = never)\n"
    "  --panel-size U         heat-map side in pixels (default 200)\n"
    "  --zoom Z               PNG pixels per unit (default 1; 2 for print)\n"
    "  --bars figure|row|panel  colour bar placement (default figure: one shared scale)\n"
    "  -h, --help             this text\n";

static void progress(const char *msg, void *ctx) {
    (void)ctx;
    fprintf(stderr, "attnmix-plot: wrote %s\n", msg);
}

static int misuse(const char *msg) {
    fprintf(stderr, "attnmix-plot: %s\n(see attnmix-plot --help)\n", msg);
    return 2;
}

static int parse_double(const char *s, double *v) {
    char *end;
    *v = strtod(s, &end);
    return *end == 0 && end != s;
}

static int parse_int(const char *s, int *v) {
    char *end;
    long x = strtol(s, &end, 10);
    if (*end || end == s || x < -2147483647L || x > 2147483647L) return 0;
    *v = (int)x;
    return 1;
}

int main(int argc, char **argv) {
    static const struct option longopts[] = {{"cube", required_argument, 0, 'c'},
                                             {"pair", required_argument, 0, 'p'},
                                             {"layer", required_argument, 0, 'l'},
                                             {"head", required_argument, 0, 'H'},
                                             {"out", required_argument, 0, 'o'},
                                             {"outdir", required_argument, 0, 'O'},
                                             {"analysis", required_argument, 0, 'a'},
                                             {"by", required_argument, 0, 'b'},
                                             {"space", required_argument, 0, 's'},
                                             {"components", required_argument, 0, 'k'},
                                             {"format", required_argument, 0, 'f'},
                                             {"log", no_argument, 0, 'L'},
                                             {"floor", required_argument, 0, 'F'},
                                             {"vmin", required_argument, 0, 1},
                                             {"vmax", required_argument, 0, 2},
                                             {"tokenizer", required_argument, 0, 't'},
                                             {"tokens-max", required_argument, 0, 3},
                                             {"panel-size", required_argument, 0, 4},
                                             {"zoom", required_argument, 0, 5},
                                             {"bars", required_argument, 0, 6},
                                             {"scale", required_argument, 0, 7},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    const char *cubes[MAX_CUBES], *pair = NULL, *out = NULL, *outdir = NULL, *analysis = NULL;
    const char *by = NULL, *space = "tsne", *tokpath = NULL, *format = NULL, *cmd;
    int ncubes = 0, layer = 0, have_layer = 0, head = -1, have_head = 0, cx = 0, cy = 1, rc = 1, scale_given = 0;
    am_fig_opts o;
    am_err e = {0};
    am_tokenizer *tok = NULL;
    am_cube cube;
    int cube_open = 0;

    am_fig_opts_default(&o);
    am_h5_quiet(); /* errors are reported with context instead */
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc < 2 || argv[1][0] == '-') return misuse("missing command");
    cmd = argv[1];
    optind = 2;
    for (int ch; (ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1;) {
        double d;
        switch (ch) {
        case 'c':
            if (ncubes == MAX_CUBES) return misuse("too many --cube");
            cubes[ncubes++] = optarg;
            break;
        case 'p': pair = optarg; break;
        case 'l':
            if (!parse_int(optarg, &layer)) return misuse("--layer needs an integer");
            have_layer = 1;
            break;
        case 'H':
            if (!parse_int(optarg, &head)) return misuse("--head needs an integer");
            have_head = 1;
            break;
        case 'o': out = optarg; break;
        case 'O': outdir = optarg; break;
        case 'a': analysis = optarg; break;
        case 'b': by = optarg; break;
        case 's': space = optarg; break;
        case 'k':
            if (sscanf(optarg, "%d,%d", &cx, &cy) != 2 || cx < 1 || cy < 1)
                return misuse("--components needs I,J (1-based)");
            cx--, cy--;
            break;
        case 'f': format = optarg; break;
        case 'L':
            am_fig_set_scale(&o, AM_SCALE_LOG);
            scale_given = 1;
            break;
        case 7:
            if (!strcmp(optarg, "linear")) am_fig_set_scale(&o, AM_SCALE_LINEAR);
            else if (!strcmp(optarg, "log")) am_fig_set_scale(&o, AM_SCALE_LOG);
            else if (!strcmp(optarg, "row")) am_fig_set_scale(&o, AM_SCALE_ROW);
            else return misuse("--scale must be linear, log or row");
            scale_given = 1;
            break;
        case 'F':
            if (!parse_double(optarg, &o.floor) || !(o.floor > 0)) return misuse("--floor needs a number > 0");
            break;
        case 1:
            if (!parse_double(optarg, &o.vmin)) return misuse("--vmin needs a number");
            break;
        case 2:
            if (!parse_double(optarg, &o.vmax)) return misuse("--vmax needs a number");
            break;
        case 't': tokpath = optarg; break;
        case 3:
            if (!parse_int(optarg, &o.style.tokens_max) || o.style.tokens_max < 0)
                return misuse("--tokens-max needs an integer >= 0");
            break;
        case 4:
            if (!parse_double(optarg, &d) || !(d >= 20 && d <= 4000))
                return misuse("--panel-size needs a number in 20..4000");
            o.style.panel = d;
            break;
        case 5:
            if (!parse_double(optarg, &d) || !(d > 0 && d <= 8)) return misuse("--zoom needs 0 < Z <= 8");
            o.style.zoom = d;
            break;
        case 6:
            if (!strcmp(optarg, "figure")) o.style.bars = AM_BARS_FIGURE;
            else if (!strcmp(optarg, "row")) o.style.bars = AM_BARS_ROW;
            else if (!strcmp(optarg, "panel")) o.style.bars = AM_BARS_PANEL;
            else return misuse("--bars must be figure, row or panel");
            break;
        case 'h': fputs(usage, stdout); return 0;
        default: return misuse("bad option");
        }
    }
    if (optind < argc) return misuse("unexpected argument");
    if (!isnan(o.vmin) && !isnan(o.vmax) && !(o.vmax > o.vmin)) return misuse("--vmax must exceed --vmin");
    if (o.log && !isnan(o.vmax) && !(o.vmax > o.floor)) return misuse("--vmax must exceed --floor");

    /* output format */
    if (format) {
        int f = am_plot_format_parse(format);
        if (f < 0) return misuse("--format must be png, svg or pdf");
        o.fmt = (am_plot_format)f;
    } else if (out) {
        const char *dot = strrchr(out, '.');
        int f = dot ? am_plot_format_parse(dot + 1) : -1;
        o.fmt = f < 0 ? AM_FMT_PNG : (am_plot_format)f;
    }

    int is_report = !strcmp(cmd, "report"), is_scatter = !strcmp(cmd, "scatter");
    int is_keys = !strcmp(cmd, "layer-keys"), is_hdist = !strcmp(cmd, "head-distance");
    int is_cube_fig = !strcmp(cmd, "heads") || !strcmp(cmd, "pairs") || !strcmp(cmd, "summary") ||
                      !strcmp(cmd, "layers") || !strcmp(cmd, "summary-pairs");
    if (is_report && !scale_given) am_fig_set_scale(&o, AM_SCALE_LOG); /* sinks saturate a linear scale */
    if (!is_report && !is_scatter && !is_cube_fig && !is_keys && !is_hdist) return misuse("unknown command");
    if ((is_keys || is_hdist) && !analysis) return misuse("this figure needs --analysis");
    if (is_keys && !have_layer) return misuse("missing --layer");
    if (is_keys && strcmp(space, "tsne") && strcmp(space, "pca")) return misuse("--space must be tsne or pca");
    if (is_report) {
        if (!ncubes) return misuse("report needs at least one --cube");
        if (!outdir) return misuse("report needs --outdir");
    } else {
        if (!out) return misuse("missing --out");
    }
    if (is_cube_fig) {
        if (ncubes != 1) return misuse("give exactly one --cube");
        if ((!strcmp(cmd, "heads") || !strcmp(cmd, "summary") || !strcmp(cmd, "layers")) && !pair)
            return misuse("missing --pair");
        if ((!strcmp(cmd, "heads") || !strcmp(cmd, "summary") || !strcmp(cmd, "pairs") ||
             !strcmp(cmd, "summary-pairs")) &&
            !have_layer)
            return misuse("missing --layer");
        if ((!strcmp(cmd, "heads") || !strcmp(cmd, "summary") || !strcmp(cmd, "summary-pairs")) && have_head)
            return misuse("--head does not apply to this figure");
    }
    am_scatter_by sby = AM_BY_ALPHA;
    if (is_scatter) {
        if (!analysis) return misuse("scatter needs --analysis");
        if (!by) return misuse("scatter needs --by alpha|pair|layer|class");
        if (!strcmp(by, "alpha")) sby = AM_BY_ALPHA;
        else if (!strcmp(by, "pair")) sby = AM_BY_PAIR;
        else if (!strcmp(by, "layer")) sby = AM_BY_LAYER;
        else if (!strcmp(by, "class")) sby = AM_BY_CLASS;
        else return misuse("--by must be alpha, pair, layer or class");
        if (strcmp(space, "tsne") && strcmp(space, "pca")) return misuse("--space must be tsne or pca");
        if (!strcmp(space, "tsne") && (cx > 1 || cy > 1)) return misuse("t-SNE has 2 components");
    }

    if (tokpath) {
        if (am_plot_tokenizer_load(&tok, tokpath, &e)) goto fail;
        o.tok = tok;
    }
    if (is_report) {
        if (am_report_write(cubes, ncubes, analysis, &o, outdir, progress, NULL, &e)) goto fail;
    } else if (is_keys || is_hdist) {
        if (is_keys ? am_fig_layer_keys(analysis, layer, space, &o, out, &e)
                    : am_fig_head_distance(analysis, &o, out, &e))
            goto fail;
        progress(out, NULL);
    } else if (is_scatter) {
        if (am_fig_scatter(analysis, sby, space, cx, cy, &o, out, &e)) goto fail;
        progress(out, NULL);
    } else {
        if (am_cube_open(&cube, cubes[0], &e)) goto fail;
        cube_open = 1;
        int p = pair ? am_plot_cube_pair(&cube, pair, &e) : 0;
        int l = have_layer ? am_plot_cube_layer(&cube, layer, &e) : 0;
        int h = have_head ? am_plot_cube_head(&cube, head, &e) : -1;
        if (p < 0 || l < 0 || (have_head && h < 0)) goto fail;
        int r;
        if (!strcmp(cmd, "heads")) r = am_fig_heads(&cube, p, l, &o, out, &e);
        else if (!strcmp(cmd, "pairs")) r = am_fig_pairs(&cube, l, h, &o, out, &e);
        else if (!strcmp(cmd, "summary")) r = am_fig_summary(&cube, p, l, &o, out, &e);
        else if (!strcmp(cmd, "summary-pairs")) r = am_fig_summary_pairs(&cube, l, &o, out, &e);
        else r = am_fig_layers(&cube, p, h, &o, out, &e);
        if (r) goto fail;
        progress(out, NULL);
    }
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "attnmix-plot: %s\n", e.msg);
    rc = 1;
done:
    if (cube_open) am_cube_close(&cube);
    am_plot_tokenizer_free(tok);
    return rc;
}
