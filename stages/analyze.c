/* attnmix-analyze: head statistics, motif features, PCA and t-SNE of attention
 * cubes into analysis.h5 (schema attnmix.analysis/1, docs/schema.md). */
#include <getopt.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/run.h"

static void usage(FILE *f) {
    fputs("usage: attnmix-analyze --out analysis.h5 [options] [--name MODEL=cube.h5 ...] [CUBE...]\n"
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
          "      --tsne-method M     auto (exact for N <= 2000, Barnes-Hut, FFT from 50k; default) | exact | barnes_hut | fft\n"
          "      --perplexity P      t-SNE perplexity (default 30; capped at (N-1)/3)\n"
          "      --iterations N      t-SNE iterations (default 1000)\n"
          "      --seed S            seed recorded in the output (used by random initialisation)\n"
          "      --theta T           Barnes-Hut angle (default 0.5)\n"
          "  -k, --checkpoint MODEL=DIR  checkpoint of MODEL: measure each head's induction score\n"
          "                          (random tokens repeated twice) for the head classes\n"
          "      --induction-tokens R  random tokens per sequence (default 32)\n"
          "      --induction-seqs B  sequences (default 4)\n"
          "  -t, --threads N         threads of the induction run (default: all cores)\n"
          "  -q, --quiet             no progress on stderr\n"
          "  -h, --help              this help\n",
          f);
}

int main(int argc, char **argv) {
    am_an_config cfg;
    am_an_config_defaults(&cfg);
    am_err err = {0};
    int cap = argc + 1, n = 0, rc = 1;
    am_an_input *in = calloc((size_t)cap, sizeof *in);
    char **names = calloc((size_t)cap, sizeof *names); /* owned name strings */
    if (!in || !names) { fputs("attnmix-analyze: out of memory\n", stderr); return 1; }
    enum { O_TSNE_ON = 256, O_METHOD, O_PERP, O_ITER, O_SEED, O_THETA, O_IND_R, O_IND_B };
    char **ck_model = calloc((size_t)cap, sizeof *ck_model); /* --checkpoint MODEL=DIR */
    const char **ck_dir = calloc((size_t)cap, sizeof *ck_dir);
    int nck = 0;
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},      {"name", required_argument, 0, 'n'},
        {"band", required_argument, 0, 'b'},     {"tsne-on", required_argument, 0, O_TSNE_ON},
        {"tsne-method", required_argument, 0, O_METHOD}, {"perplexity", required_argument, 0, O_PERP},
        {"iterations", required_argument, 0, O_ITER}, {"seed", required_argument, 0, O_SEED},
        {"theta", required_argument, 0, O_THETA}, {"quiet", no_argument, 0, 'q'},
        {"checkpoint", required_argument, 0, 'k'}, {"induction-tokens", required_argument, 0, O_IND_R},
        {"induction-seqs", required_argument, 0, O_IND_B}, {"threads", required_argument, 0, 't'},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "o:n:b:k:t:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': cfg.out = optarg; break;
        case 'n': {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || !eq[1]) {
                fprintf(stderr, "attnmix-analyze: --name wants MODEL=PATH (got '%s')\n", optarg);
                rc = 2;
                goto out;
            }
            names[n] = strndup(optarg, (size_t)(eq - optarg));
            in[n].name = names[n];
            in[n].path = eq + 1;
            n++;
            break;
        }
        case 'b':
            cfg.band = (int)strtol(optarg, &end, 10);
            if (*end || cfg.band < 1) { fprintf(stderr, "attnmix-analyze: --band wants an integer >= 1\n"); rc = 2; goto out; }
            break;
        case O_TSNE_ON:
            if (strcmp(optarg, "features") == 0) cfg.tsne_on_maps = 0;
            else if (strcmp(optarg, "maps") == 0) cfg.tsne_on_maps = 1;
            else { fprintf(stderr, "attnmix-analyze: --tsne-on wants features or maps\n"); rc = 2; goto out; }
            break;
        case O_METHOD:
            if (strcmp(optarg, "auto") == 0) cfg.tsne_auto = 1;
            else if (am_tsne_method_parse(optarg, &cfg.tsne.method) == 0) cfg.tsne_auto = 0;
            else { fprintf(stderr, "attnmix-analyze: --tsne-method wants auto, exact, barnes_hut or fft\n"); rc = 2; goto out; }
            break;
        case O_PERP:
            cfg.tsne.perplexity = strtod(optarg, &end);
            if (*end || !(cfg.tsne.perplexity > 0)) { fprintf(stderr, "attnmix-analyze: --perplexity wants a number > 0\n"); rc = 2; goto out; }
            break;
        case O_ITER:
            cfg.tsne.iterations = (int)strtol(optarg, &end, 10);
            if (*end || cfg.tsne.iterations < 1) { fprintf(stderr, "attnmix-analyze: --iterations wants an integer >= 1\n"); rc = 2; goto out; }
            break;
        case O_SEED:
            cfg.tsne.seed = strtoull(optarg, &end, 10);
            if (*end) { fprintf(stderr, "attnmix-analyze: --seed wants a non-negative integer\n"); rc = 2; goto out; }
            break;
        case O_THETA:
            cfg.tsne.theta = strtod(optarg, &end);
            if (*end || !(cfg.tsne.theta >= 0)) { fprintf(stderr, "attnmix-analyze: --theta wants a number >= 0\n"); rc = 2; goto out; }
            break;
        case 'k': {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || !eq[1]) {
                fprintf(stderr, "attnmix-analyze: --checkpoint wants MODEL=DIR (got '%s')\n", optarg);
                rc = 2;
                goto out;
            }
            ck_model[nck] = strndup(optarg, (size_t)(eq - optarg));
            ck_dir[nck++] = eq + 1;
            break;
        }
        case O_IND_R: case O_IND_B: case 't': {
            long v = strtol(optarg, &end, 10);
            if (*end || v < (c == 't' ? 0 : c == O_IND_R ? 2 : 1) || v > 100000) {
                fprintf(stderr, "attnmix-analyze: bad number '%s'\n", optarg);
                rc = 2;
                goto out;
            }
            if (c == O_IND_R) cfg.induction_tokens = (int)v;
            else if (c == O_IND_B) cfg.induction_seqs = (int)v;
            else cfg.threads = (int)v;
            break;
        }
        case 'q': cfg.verbose = 0; break;
        case 'h': usage(stdout); rc = 0; goto out;
        default: usage(stderr); rc = 2; goto out;
        }
    }
    if (!cfg.out) { fprintf(stderr, "attnmix-analyze: --out is required\n"); usage(stderr); rc = 2; goto out; }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    for (int i = optind; i < argc; i++) {
        char buf[256];
        if (am_an_default_name(argv[i], buf, sizeof buf, &err)) {
            fprintf(stderr, "attnmix-analyze: %s\n", err.msg);
            goto out;
        }
        names[n] = strdup(buf);
        in[n].name = names[n];
        in[n].path = argv[i];
        n++;
    }
    if (n == 0) { fprintf(stderr, "attnmix-analyze: no input cubes\n"); usage(stderr); rc = 2; goto out; }
    for (int k = 0; k < nck; k++) {
        int found = 0;
        for (int i = 0; i < n; i++)
            if (!strcmp(in[i].name, ck_model[k])) in[i].checkpoint = ck_dir[k], found = 1;
        if (!found) { fprintf(stderr, "attnmix-analyze: --checkpoint %s=...: no input cube is named '%s'\n", ck_model[k], ck_model[k]); rc = 2; goto out; }
    }
    cfg.inputs = in;
    cfg.n_inputs = n;
    if (am_an_run(&cfg, &err)) {
        fprintf(stderr, "attnmix-analyze: %s\n", err.msg);
        goto out;
    }
    rc = 0;
out:
    for (int k = 0; k < nck; k++) free(ck_model[k]);
    free(ck_model), free(ck_dir);
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
    free(in);
    return rc;
}
