/* bench-tokenizer: single-thread encoding speed of am_tok_encode on a text
 * file, split into chunks of about --chunk bytes at line ends (the same split
 * tools/tokenizer-ref.js bench uses). Prints one JSON line. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tokenizer/tokenizer.h"

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
static double now(void) { return clock_s(CLOCK_MONOTONIC); }
/* process CPU time: robust against other load on a shared machine */
static double cpu(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

static void usage(FILE *f) {
    fprintf(f, "usage: bench-tokenizer --tokenizer PATH --text FILE [--chunk BYTES] [--repeat N]\n");
}

int main(int argc, char **argv) {
    static const struct option opts[] = {
        {"tokenizer", required_argument, NULL, 't'},
        {"text", required_argument, NULL, 'x'},
        {"chunk", required_argument, NULL, 'c'},
        {"repeat", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *tok_path = NULL, *text_path = NULL;
    size_t chunk = 65536;
    int repeat = 3, c;
    while ((c = getopt_long(argc, argv, "t:x:c:r:h", opts, NULL)) != -1) {
        switch (c) {
        case 't': tok_path = optarg; break;
        case 'x': text_path = optarg; break;
        case 'c': chunk = (size_t)strtoull(optarg, NULL, 10); break;
        case 'r': repeat = atoi(optarg); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!tok_path || !text_path || !chunk || repeat < 1) {
        usage(stderr);
        return 2;
    }

    FILE *f = fopen(text_path, "rb");
    if (!f) {
        perror(text_path);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    size_t len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc(len + 1); /* [len] */
    if (!text || fread(text, 1, len, f) != len) {
        fprintf(stderr, "bench-tokenizer: cannot read %s\n", text_path);
        return 1;
    }
    fclose(f);

    am_err e = {0};
    am_tokenizer *t;
    double t0 = now();
    if (am_tok_load(&t, tok_path, &e)) {
        fprintf(stderr, "bench-tokenizer: %s\n", e.msg);
        return am_exit_status(&e);
    }
    double load_s = now() - t0;

    double best = 1e30, best_cpu = 1e30;
    size_t ntok = 0, nchunks = 0;
    for (int r = 0; r < repeat; r++) {
        t0 = now();
        double c0 = cpu();
        ntok = nchunks = 0;
        for (size_t start = 0; start < len;) {
            size_t end = start + chunk < len ? start + chunk : len;
            if (end < len) {
                char *nl = memchr(text + end, '\n', len - end);
                end = nl ? (size_t)(nl - text) + 1 : len;
            }
            int32_t *ids;
            size_t n;
            if (am_tok_encode(t, text + start, end - start, &ids, &n, &e)) {
                fprintf(stderr, "bench-tokenizer: %s: %s\n", text_path, e.msg);
                return am_exit_status(&e);
            }
            ntok += n;
            nchunks++;
            free(ids);
            start = end;
        }
        double dt = now() - t0, dc = cpu() - c0;
        if (dt < best) best = dt;
        if (dc < best_cpu) best_cpu = dc;
    }
    printf("{\"impl\":\"attnmix\",\"file\":\"%s\",\"bytes\":%zu,\"chunks\":%zu,\"tokens\":%zu,"
           "\"seconds\":%.6f,\"mb_per_s\":%.3f,\"cpu_seconds\":%.6f,\"cpu_mb_per_s\":%.3f,"
           "\"load_seconds\":%.3f}\n",
           text_path, len, nchunks, ntok, best, (double)len / 1e6 / best, best_cpu, (double)len / 1e6 / best_cpu,
           load_s);
    am_tok_free(t);
    free(text);
    return 0;
}
