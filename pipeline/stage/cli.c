/* The command line shared by the stage programs. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "h5/h5io.h"
#include "stage/freeze.h"
#include "stage/induction.h"
#include "stage/stage.h"
#include "stage/table.h"

typedef am_stage_def stage_desc;

/* A whole decimal count in [lo, 100000], or -1. */
static int parse_count(const char *s, int lo) {
    char *end;
    long v = strtol(s, &end, 10);
    return end != s && !*end && v >= lo && v <= 100000 ? (int)v : -1;
}

static void usage(FILE *f, const stage_desc *d) {
    fprintf(f,
            "usage: attnmix-%s --config FILE --model NAME [options]\n"
            "  %s.\n\n"
            "  -c, --config FILE   experiment YAML\n"
            "  -m, --model NAME    model of the config (default: the first)\n",
            d->name, d->summary);
    if (strcmp(d->name, "induction") != 0)
        fprintf(f, "  -p, --pair KEY      only this pair (a shard): outputs in OUT/<model>/pairs/KEY/\n");
    else
        fprintf(f,
                "  -r, --tokens R      random tokens per sequence (default %d, at least 2)\n"
                "  -b, --seqs B        sequences (default %d)\n",
                AM_INDUCTION_TOKENS, AM_INDUCTION_SEQS);
    for (int i = 0; i < 2 && d->inputs[i] >= 0; i++)
        fprintf(f, "      --in%d PATH      input %s (default OUT/<model>/%s)\n", i + 1,
                am_stage_table[d->inputs[i]].output, am_stage_table[d->inputs[i]].output);
    if (!strcmp(d->name, "forward") || !strcmp(d->name, "generate"))
        fprintf(f,
                "      --freeze-from F  frozen attention patterns from F (prefill.h5 or cube.h5; default\n"
                "                       OUT/<model>/cube.h5%s); outputs go to OUT/<model>/frozen[-a<A>]/\n"
                "      --freeze-alpha A take the patterns of the same pair at alpha A (default: same alpha)\n"
                "      --freeze-layers L  layers substituted: all (default) or a list 0,2,5\n"
                "      --freeze-heads H   query heads substituted: all (default) or a list\n",
                !strcmp(d->name, "forward") ? ", else prefill.h5" : "");
    fprintf(f,
            "  -o, --out PATH      output (default OUT/<model>/%s)\n"
            "  -f, --force         recompute even if the output is up to date\n"
            "  -t, --threads N     worker threads (default: config, else all cores)\n"
            "  -q, --quiet         no progress on stderr\n"
            "      --step K/N      say \"[K/N] <stage> <model>\" when the stage computes (attnmix run)\n"
            "  -h, --help          this help\n",
            d->output);
}

int am_stage_main(const char *stage, int argc, char **argv) {
    const stage_desc *d = am_stage_def_find(stage);
    if (!d) {
        fprintf(stderr, "attnmix: unknown stage '%s'\n", stage);
        return 2;
    }
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"model", required_argument, 0, 'm'},
                                         {"pair", required_argument, 0, 'p'},
                                         {"in1", required_argument, 0, '1'},
                                         {"in2", required_argument, 0, '2'},
                                         {"out", required_argument, 0, 'o'},
                                         {"force", no_argument, 0, 'f'},
                                         {"threads", required_argument, 0, 't'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"help", no_argument, 0, 'h'},
                                         {"freeze-from", required_argument, 0, 'F'},
                                         {"freeze-alpha", required_argument, 0, 'A'},
                                         {"freeze-layers", required_argument, 0, 'L'},
                                         {"freeze-heads", required_argument, 0, 'H'},
                                         {"tokens", required_argument, 0, 'r'},
                                         {"seqs", required_argument, 0, 'b'},
                                         {"step", required_argument, 0, 'S'},
                                         {0, 0, 0, 0}};
    am_freeze_opts fzo = {0};
    am_induction_opts io = {AM_INDUCTION_TOKENS, AM_INDUCTION_SEQS};
    int can_freeze = !strcmp(d->name, "forward") || !strcmp(d->name, "generate");
    int is_induction = !strcmp(d->name, "induction");
    char *fend;
    const char *config = NULL, *model = NULL, *pair = NULL, *in[2] = {NULL, NULL}, *outp = NULL, *step = NULL;
    int force = 0, quiet = 0, threads = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:m:p:o:ft:qhr:b:", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'm': model = optarg; break;
        case 'p':
            if (is_induction) {
                fprintf(stderr, "attnmix-%s: --pair does not apply (the induction scores belong to the model)\n",
                        d->name);
                return 2;
            }
            pair = optarg;
            break;
        case 'r':
        case 'b':
            if (!is_induction) {
                fprintf(stderr, "attnmix-%s: --tokens and --seqs belong to induction\n", d->name);
                return 2;
            }
            if (c == 'r' && (io.tokens = parse_count(optarg, 2)) < 0) {
                fprintf(stderr, "attnmix-%s: --tokens wants an integer >= 2, not '%s'\n", d->name, optarg);
                usage(stderr, d);
                return 2;
            }
            if (c == 'b' && (io.seqs = parse_count(optarg, 1)) < 0) {
                fprintf(stderr, "attnmix-%s: --seqs wants an integer >= 1, not '%s'\n", d->name, optarg);
                usage(stderr, d);
                return 2;
            }
            break;
        case '1': in[0] = optarg; break;
        case '2': in[1] = optarg; break;
        case 'o': outp = optarg; break;
        case 'f': force = 1; break;
        case 'q': quiet = 1; break;
        case 'S': step = optarg; break;
        case 't':
            threads = (int)strtol(optarg, &fend, 10);
            if (fend == optarg || *fend || threads < 0) {
                fprintf(stderr, "attnmix-%s: --threads wants a count >= 0, not '%s'\n", d->name, optarg);
                return 2;
            }
            break;
        case 'F':
        case 'A':
        case 'L':
        case 'H':
            if (!can_freeze) {
                fprintf(stderr, "attnmix-%s: --freeze-* options belong to forward and generate\n", d->name);
                return 2;
            }
            fzo.enabled = 1;
            if (c == 'F') fzo.from = optarg;
            else if (c == 'L') fzo.layers = optarg;
            else if (c == 'H') fzo.heads = optarg;
            else {
                fzo.alpha = strtod(optarg, &fend);
                if (fend == optarg || *fend) {
                    fprintf(stderr, "attnmix-%s: --freeze-alpha wants a number, not '%s'\n", d->name, optarg);
                    return 2;
                }
                fzo.have_alpha = 1;
            }
            break;
        case 'h': usage(stdout, d); return 0;
        default: usage(stderr, d); return 2;
        }
    }
    if (!config || optind < argc) {
        if (!config) fprintf(stderr, "attnmix-%s: --config is required\n", d->name);
        else fprintf(stderr, "attnmix-%s: unexpected argument '%s'\n", d->name, argv[optind]);
        usage(stderr, d);
        return 2;
    }
    am_h5_quiet();
    am_err e = {0};
    am_stage s;
    if (am_stage_init(&s, config, model, &e) < 0) {
        fprintf(stderr, "attnmix-%s: %s\n", d->name, e.msg);
        return am_exit_status(&e);
    }
    if (pair && am_stage_select_pair(&s, pair, &e) < 0) {
        fprintf(stderr, "attnmix-%s: %s\n", d->name, e.msg);
        am_stage_free(&s);
        return am_exit_status(&e);
    }
    s.force = force;
    s.quiet = quiet;
    s.step = step;
    s.threads = threads;
    s.freeze = fzo;
    /* each warning line is "FILE:L:C: warning: ..."; under the driver (--step) it said them once already */
    for (const char *w = s.cfg.warnings; *w && !quiet && !step;) {
        size_t n = strcspn(w, "\n");
        fprintf(stderr, "attnmix-%s: %.*s\n", d->name, (int)n, w);
        w += n + (w[n] == '\n');
    }
    char paths[3][4200];
    for (int i = 0; i < 2; i++) {
        if (in[i]) snprintf(paths[i], sizeof paths[i], "%s", in[i]);
        else if (d->inputs[i] >= 0) am_stage_path(&s, am_stage_table[d->inputs[i]].output, paths[i], sizeof paths[i]);
    }
    if (outp) snprintf(paths[2], sizeof paths[2], "%s", outp);
    else am_stage_path(&s, d->output, paths[2], sizeof paths[2]);
    if (fzo.enabled) { /* frozen outputs (and generate's prefill input) live in OUT/<model>/frozen[-a<A>]/ */
        char sub[64], rel[128], dir[4200];
        am_freeze_dir(&s, sub, sizeof sub);
        am_stage_path(&s, sub, dir, sizeof dir);
        if (am_mkdirs(dir, &e) < 0) {
            fprintf(stderr, "attnmix-%s: %s\n", d->name, e.msg);
            am_stage_free(&s);
            return am_exit_status(&e);
        }
        if (!outp) {
            snprintf(rel, sizeof rel, "%s/%s", sub, d->output);
            am_stage_path(&s, rel, paths[2], sizeof paths[2]);
        }
        if (!strcmp(d->name, "generate") && !in[1]) {
            snprintf(rel, sizeof rel, "%s/prefill.h5", sub);
            am_stage_path(&s, rel, paths[1], sizeof paths[1]);
        }
    }

    int rc;
    if (strcmp(d->name, "tokenize") == 0) rc = am_stage_tokenize(&s, paths[2], &e);
    else if (strcmp(d->name, "embed-mix") == 0) rc = am_stage_embed_mix(&s, paths[0], paths[2], &e);
    else if (strcmp(d->name, "forward") == 0) rc = am_stage_forward(&s, paths[0], paths[2], &e);
    else if (strcmp(d->name, "generate") == 0) rc = am_stage_generate(&s, paths[0], paths[1], paths[2], &e);
    else rc = am_stage_induction(&s, &io, paths[2], &e);
    if (rc < 0) fprintf(stderr, "attnmix-%s: %s\n", d->name, e.msg);
    am_stage_free(&s);
    return rc < 0 ? am_exit_status(&e) : 0;
}
