/* attnmix-induction: each query head's induction score on repeated random
 * tokens, written to OUT/<model>/induction.h5 (pipeline/stage/induction.h). */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5/h5io.h"
#include "stage/induction.h"
#include "stage/stage.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: attnmix-induction --config FILE --model NAME [options]\n"
            "  measure every head's induction score: random tokens repeated twice, the attention of\n"
            "  the second copy's queries to the token after the first occurrence of their token.\n\n"
            "  -c, --config FILE   experiment YAML (its seed draws the tokens)\n"
            "  -m, --model NAME    model of the config (default: the first)\n"
            "  -o, --out PATH      output (default OUT/<model>/induction.h5)\n"
            "  -r, --tokens R      random tokens per sequence (default %d, at least 2)\n"
            "  -b, --seqs B        sequences (default %d)\n"
            "  -t, --threads N     worker threads (default: config, else all cores)\n"
            "  -f, --force         recompute even if the output is up to date\n"
            "  -q, --quiet         no progress on stderr\n"
            "  -h, --help          this help\n",
            AM_INDUCTION_TOKENS, AM_INDUCTION_SEQS);
}

static int misuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int misuse(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("attnmix-induction: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n", stderr);
    va_end(ap);
    usage(stderr);
    return 2;
}

/* A whole decimal number in [lo, 100000], or -1. */
static int parse_count(const char *s, int lo) {
    char *end;
    long v = strtol(s, &end, 10);
    return end != s && !*end && v >= lo && v <= 100000 ? (int)v : -1;
}

int main(int argc, char **argv) {
    static const struct option opts[] = {{"config", required_argument, 0, 'c'}, {"model", required_argument, 0, 'm'},
                                         {"out", required_argument, 0, 'o'},    {"tokens", required_argument, 0, 'r'},
                                         {"seqs", required_argument, 0, 'b'},   {"threads", required_argument, 0, 't'},
                                         {"force", no_argument, 0, 'f'},        {"quiet", no_argument, 0, 'q'},
                                         {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *config = NULL, *model = NULL, *outp = NULL;
    am_induction_opts io = {AM_INDUCTION_TOKENS, AM_INDUCTION_SEQS};
    int force = 0, quiet = 0, threads = 0, c;
    while ((c = getopt_long(argc, argv, "c:m:o:r:b:t:fqh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'm': model = optarg; break;
        case 'o': outp = optarg; break;
        case 'r':
            if ((io.tokens = parse_count(optarg, 2)) < 0)
                return misuse("--tokens wants an integer >= 2, not '%s'", optarg);
            break;
        case 'b':
            if ((io.seqs = parse_count(optarg, 1)) < 0) return misuse("--seqs wants an integer >= 1, not '%s'", optarg);
            break;
        case 't':
            if ((threads = parse_count(optarg, 0)) < 0)
                return misuse("--threads wants an integer >= 0, not '%s'", optarg);
            break;
        case 'f': force = 1; break;
        case 'q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!config) return misuse("--config is required");
    if (optind < argc) return misuse("unexpected argument '%s'", argv[optind]);

    am_h5_quiet();
    am_err e = {0};
    am_stage s;
    char path[4200];
    if (am_stage_init(&s, config, model, &e) < 0) {
        fprintf(stderr, "attnmix-induction: %s\n", e.msg);
        return am_exit_status(&e);
    }
    s.force = force;
    s.quiet = quiet;
    s.threads = threads;
    if (s.cfg.warnings[0] && !quiet) fprintf(stderr, "attnmix-induction: warning: %s\n", s.cfg.warnings);
    if (outp) snprintf(path, sizeof path, "%s", outp);
    else am_stage_path(&s, "induction.h5", path, sizeof path);
    const int rc = am_stage_induction(&s, &io, path, &e);
    if (rc < 0) fprintf(stderr, "attnmix-induction: %s\n", e.msg);
    am_stage_free(&s);
    return rc < 0 ? am_exit_status(&e) : 0;
}
