/* attnmix-analyze: head statistics, motif features, PCA and t-SNE of attention
 * cubes into analysis.h5 (schema attnmix.analysis/1, docs/schema.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/run.h"
#include "h5/h5io.h"

static void usage(FILE *f) {
    fputs("usage: attnmix-analyze --out analysis.h5 [options] [--name MODEL=cube.h5 ...] [CUBE...]\n"
          "         [--induction MODEL=induction.h5 ...] [--frozen MODEL=DIR ...]\n"
          "\n"
          "Reads attention cubes ([pair, alpha, layer, head, query, key], /length optional)\n"
          "and writes per-map statistics, motif features, PCA, head distances and t-SNE.\n"
          "\n"
          "  -o, --out FILE          output analysis.h5 (written to FILE.tmp-PID, then renamed)\n"
          "  -n, --name MODEL=PATH   add a cube under an explicit model name (repeatable);\n"
          "                          plain CUBE arguments are named by their `model` attribute,\n"
          "                          their directory (NAME/cube.h5) or their file stem\n"
          "  -b, --band W            recent-band width in tokens (default 4)\n"
          "      --tsne-on WHAT      features (z-scored motif features, default) | maps (raw maps,\n"
          "                          flattened; all cubes must share S)\n"
          "      --tsne-method M     auto (exact for N <= 2000, Barnes-Hut, FFT from 50k; default) | exact | "
          "barnes_hut | fft\n"
          "      --perplexity P      t-SNE perplexity (default 30; capped at (N-1)/3)\n"
          "      --iterations N      t-SNE iterations (default 1000)\n"
          "      --seed S            seed recorded in the output (used by random initialisation)\n"
          "      --theta T           Barnes-Hut angle (default 0.5)\n"
          "      --pca-components K  PCA components kept (default: the fewest reaching --pca-variance)\n"
          "      --pca-variance V    explained-variance share that picks K (default 0.9)\n"
          "      --clusters K        head clusters (default: 2..--clusters-max by silhouette)\n"
          "      --clusters-max K    largest k the silhouette tries (default 12)\n"
          "      --no-key-tsne       no t-SNE per pair key (/points/tsne_key)\n"
          "  -i, --induction MODEL=FILE  induction scores of MODEL's heads (attnmix-induction's\n"
          "                          induction.h5) for the head classes (repeatable; a model\n"
          "                          without one gets no induction score)\n"
          "  -f, --frozen MODEL=DIR  a frozen-pattern run of MODEL (DIR holds its prefill.h5 and\n"
          "                          optionally cube.h5), compared with the prefill.h5 beside\n"
          "                          MODEL's cube (repeatable)\n"
          "      --obs-boot B        observations: bootstrap draws (default 2000)\n"
          "      --obs-draws D       observations: sign-flip / permutation draws (default 9999)\n"
          "      --obs-shuffles R    observations: O5's shuffled nulls (default 99)\n"
          "      --obs-offset-mass X observations: O5's peak mass of a fixed-distance head (default 0.3)\n"
          "                          (docs/analysis.md, \"Observations\"; their seed is --seed)\n"
          "  -q, --quiet             no progress on stderr\n"
          "  -h, --help              this help\n",
          f);
}

/* MODEL=VALUE into a (model, path) pair; 0, or -1 with a message. */
static int model_path(const char *opt, const char *what, char *arg, am_an_model_path *mp) {
    char *eq = strchr(arg, '=');
    if (!eq || eq == arg || !eq[1]) {
        fprintf(stderr, "attnmix-analyze: --%s wants MODEL=%s (got '%s')\n", opt, what, arg);
        return -1;
    }
    *eq = 0;
    mp->model = arg;
    mp->path = eq + 1;
    return 0;
}

/* The integer argument arg of the long option whose value is val in opts,
 * in [lo, hi], into *out; 0, or -1 with the message "--NAME wants an integer
 * in LO .. HI" (show_hi) or "... >= LO". */
static int int_option(const struct option *opts, int val, const char *arg, int lo, int hi, int show_hi, int *out) {
    const char *name = "?";
    char *end;
    for (const struct option *o = opts; o->name; o++)
        if (o->val == val) name = o->name;
    long v = strtol(arg, &end, 10);
    if (*end || end == arg || v < lo || v > hi) {
        if (show_hi) fprintf(stderr, "attnmix-analyze: --%s wants an integer in %d .. %d\n", name, lo, hi);
        else fprintf(stderr, "attnmix-analyze: --%s wants an integer >= %d\n", name, lo);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv) {
    am_an_config cfg;
    am_an_config_defaults(&cfg);
    am_err err = {0};
    int cap = argc + 1, n = 0, nind = 0, nfz = 0, rc = 1;
    am_an_input *in = calloc((size_t)cap, sizeof *in);
    am_an_model_path *ind = calloc((size_t)cap, sizeof *ind), *fz = calloc((size_t)cap, sizeof *fz);
    if (!in || !ind || !fz) {
        fputs("attnmix-analyze: out of memory\n", stderr);
        goto out;
    }
    enum {
        O_TSNE_ON = 256,
        O_METHOD,
        O_PERP,
        O_ITER,
        O_SEED,
        O_THETA,
        O_PCA_K,
        O_PCA_V,
        O_CLUSTERS,
        O_CLUSTERS_MAX,
        O_NO_KEY,
        O_OBS_BOOT,
        O_OBS_DRAWS,
        O_OBS_SHUF,
        O_OBS_MASS
    };
    static const struct option opts[] = {{"out", required_argument, 0, 'o'},
                                         {"name", required_argument, 0, 'n'},
                                         {"band", required_argument, 0, 'b'},
                                         {"tsne-on", required_argument, 0, O_TSNE_ON},
                                         {"tsne-method", required_argument, 0, O_METHOD},
                                         {"perplexity", required_argument, 0, O_PERP},
                                         {"iterations", required_argument, 0, O_ITER},
                                         {"seed", required_argument, 0, O_SEED},
                                         {"theta", required_argument, 0, O_THETA},
                                         {"pca-components", required_argument, 0, O_PCA_K},
                                         {"pca-variance", required_argument, 0, O_PCA_V},
                                         {"clusters", required_argument, 0, O_CLUSTERS},
                                         {"clusters-max", required_argument, 0, O_CLUSTERS_MAX},
                                         {"no-key-tsne", no_argument, 0, O_NO_KEY},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"induction", required_argument, 0, 'i'},
                                         {"frozen", required_argument, 0, 'f'},
                                         {"obs-boot", required_argument, 0, O_OBS_BOOT},
                                         {"obs-draws", required_argument, 0, O_OBS_DRAWS},
                                         {"obs-shuffles", required_argument, 0, O_OBS_SHUF},
                                         {"obs-offset-mass", required_argument, 0, O_OBS_MASS},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "o:n:b:i:f:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': cfg.out = optarg; break;
        case 'n': {
            am_an_model_path mp;
            if (model_path("name", "PATH", optarg, &mp)) {
                rc = 2;
                goto out;
            }
            in[n].name = mp.model;
            in[n].path = mp.path;
            n++;
            break;
        }
        case 'i':
            if (model_path("induction", "FILE", optarg, &ind[nind++])) {
                rc = 2;
                goto out;
            }
            break;
        case 'f':
            if (model_path("frozen", "DIR", optarg, &fz[nfz++])) {
                rc = 2;
                goto out;
            }
            break;
        case O_OBS_BOOT:
        case O_OBS_DRAWS:
        case O_OBS_SHUF:
            if (int_option(opts, c, optarg, c == O_OBS_SHUF ? 0 : 1, 10000000, 1,
                           c == O_OBS_BOOT    ? &cfg.obs.boot
                           : c == O_OBS_DRAWS ? &cfg.obs.draws
                                              : &cfg.obs.shuffles)) {
                rc = 2;
                goto out;
            }
            break;
        case O_OBS_MASS:
            cfg.obs.offset_mass = strtod(optarg, &end);
            if (*end || end == optarg || !(cfg.obs.offset_mass > 0 && cfg.obs.offset_mass <= 1)) {
                fprintf(stderr, "attnmix-analyze: --obs-offset-mass wants a number in (0, 1]\n");
                rc = 2;
                goto out;
            }
            break;
        case 'b':
            cfg.band = (int)strtol(optarg, &end, 10);
            if (*end || cfg.band < 1) {
                fprintf(stderr, "attnmix-analyze: --band wants an integer >= 1\n");
                rc = 2;
                goto out;
            }
            break;
        case O_TSNE_ON:
            if (strcmp(optarg, "features") == 0) cfg.tsne_on_maps = 0;
            else if (strcmp(optarg, "maps") == 0) cfg.tsne_on_maps = 1;
            else {
                fprintf(stderr, "attnmix-analyze: --tsne-on wants features or maps\n");
                rc = 2;
                goto out;
            }
            break;
        case O_METHOD:
            if (strcmp(optarg, "auto") == 0) cfg.tsne_auto = 1;
            else if (am_tsne_method_parse(optarg, &cfg.tsne.method) == 0) cfg.tsne_auto = 0;
            else {
                fprintf(stderr, "attnmix-analyze: --tsne-method wants auto, exact, barnes_hut or fft\n");
                rc = 2;
                goto out;
            }
            break;
        case O_PERP:
            cfg.tsne.perplexity = strtod(optarg, &end);
            if (*end || !(cfg.tsne.perplexity > 0)) {
                fprintf(stderr, "attnmix-analyze: --perplexity wants a number > 0\n");
                rc = 2;
                goto out;
            }
            break;
        case O_ITER:
            cfg.tsne.iterations = (int)strtol(optarg, &end, 10);
            if (*end || cfg.tsne.iterations < 1) {
                fprintf(stderr, "attnmix-analyze: --iterations wants an integer >= 1\n");
                rc = 2;
                goto out;
            }
            break;
        case O_SEED:
            cfg.tsne.seed = strtoull(optarg, &end, 10);
            if (*end) {
                fprintf(stderr, "attnmix-analyze: --seed wants a non-negative integer\n");
                rc = 2;
                goto out;
            }
            break;
        case O_THETA:
            cfg.tsne.theta = strtod(optarg, &end);
            if (*end || !(cfg.tsne.theta >= 0)) {
                fprintf(stderr, "attnmix-analyze: --theta wants a number >= 0\n");
                rc = 2;
                goto out;
            }
            break;
        case O_PCA_K:
        case O_CLUSTERS:
        case O_CLUSTERS_MAX:
            if (int_option(opts, c, optarg, c == O_PCA_K ? 1 : 2, 1000000, 0,
                           c == O_PCA_K      ? &cfg.pca_k
                           : c == O_CLUSTERS ? &cfg.clusters
                                             : &cfg.clusters_max)) {
                rc = 2;
                goto out;
            }
            break;
        case O_PCA_V:
            cfg.pca_variance = strtod(optarg, &end);
            if (*end || !(cfg.pca_variance > 0 && cfg.pca_variance <= 1)) {
                fprintf(stderr, "attnmix-analyze: --pca-variance wants a number in (0, 1]\n");
                rc = 2;
                goto out;
            }
            break;
        case O_NO_KEY: cfg.key_tsne = 0; break;
        case 'q': cfg.verbose = 0; break;
        case 'h':
            usage(stdout);
            rc = 0;
            goto out;
        default:
            usage(stderr);
            rc = 2;
            goto out;
        }
    }
    if (!cfg.out) {
        fprintf(stderr, "attnmix-analyze: --out is required\n");
        usage(stderr);
        rc = 2;
        goto out;
    }
    am_h5_quiet();
    for (int i = optind; i < argc; i++) { /* named by the cube (am_an_input.name NULL) */
        in[n].path = argv[i];
        n++;
    }
    if (n == 0) {
        fprintf(stderr, "attnmix-analyze: no input cubes\n");
        usage(stderr);
        rc = 2;
        goto out;
    }
    cfg.inputs = in;
    cfg.n_inputs = n;
    cfg.induction = ind;
    cfg.n_induction = nind;
    cfg.frozen = fz;
    cfg.n_frozen = nfz;
    if (am_an_run(&cfg, &err)) {
        fprintf(stderr, "attnmix-analyze: %s\n", err.msg);
        rc = am_exit_status(&err);
        goto out;
    }
    rc = 0;
out:
    free(in), free(ind), free(fz);
    return rc;
}
