/* attnmix-make-checkpoint: write a synthetic Qwen3 checkpoint in Hugging Face
 * layout with seeded random weights. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/ckpt_writer.h"

#define PROG "attnmix-make-checkpoint"

static void usage(FILE *f) {
    fprintf(f,
            "usage: " PROG " --preset P --out DIR [options]\n"
            "Write a Qwen3 checkpoint directory (config.json, generation_config.json,\n"
            "safetensors weights) with seeded random weights.\n\n"
            "  --preset P       %s\n"
            "                   (circuit: 512-token model with hand-set weights: a previous-token,\n"
            "                   a self and uniform heads in layer 0, an induction head in layer 1)\n"
            "  --out DIR        output directory (written as DIR.tmp-PID, then renamed)\n"
            "  --dtype T        bf16 (default), f16 or f32\n"
            "  --shards N       1 (model.safetensors, default) or N shards + index\n"
            "  --seed S         RNG seed (default 0); same bytes for any thread count\n"
            "  --qk-scale X     q_norm/k_norm weight scale (default 2: peaky attention,\n"
            "                   mean max probability ~0.7 on tiny)\n"
            "  --tokenizer P    copy tokenizer.json (+ tokenizer_config.json) from P\n"
            "                   (a directory or a tokenizer.json file)\n"
            "  --force          replace an existing checkpoint in DIR\n"
            "  --quiet          no progress on stderr\n"
            "  -h, --help       this help\n",
            am_ckpt_preset_list);
}

static int parse_u64(const char *s, uint64_t *v) {
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    if (errno || end == s || *end || *s == '-') return -1;
    *v = x;
    return 0;
}

int main(int argc, char **argv) {
    static const struct option longs[] = {{"preset", required_argument, 0, 'p'},
                                          {"out", required_argument, 0, 'o'},
                                          {"dtype", required_argument, 0, 'd'},
                                          {"shards", required_argument, 0, 'n'},
                                          {"seed", required_argument, 0, 's'},
                                          {"qk-scale", required_argument, 0, 'q'},
                                          {"tokenizer", required_argument, 0, 't'},
                                          {"force", no_argument, 0, 'f'},
                                          {"quiet", no_argument, 0, 'Q'},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
    const char *preset = NULL, *out = NULL;
    am_ckpt_opts o = {.dtype = AM_BF16, .shards = 1, .seed = 0, .qk_scale = 2.0};
    int quiet = 0, c;
    uint64_t u;
    char *end;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case 'p': preset = optarg; break;
        case 'o': out = optarg; break;
        case 'd':
            if (!strcmp(optarg, "bf16")) o.dtype = AM_BF16;
            else if (!strcmp(optarg, "f16")) o.dtype = AM_F16;
            else if (!strcmp(optarg, "f32")) o.dtype = AM_F32;
            else {
                fprintf(stderr, PROG ": --dtype must be bf16, f16 or f32, not \"%s\"\n", optarg);
                return 2;
            }
            break;
        case 'n':
            if (parse_u64(optarg, &u) || u < 1 || u > 99999) {
                fprintf(stderr, PROG ": --shards must be an integer >= 1, not \"%s\"\n", optarg);
                return 2;
            }
            o.shards = (int)u;
            break;
        case 's':
            if (parse_u64(optarg, &o.seed)) {
                fprintf(stderr, PROG ": --seed must be a non-negative integer, not \"%s\"\n", optarg);
                return 2;
            }
            break;
        case 'q':
            o.qk_scale = strtod(optarg, &end);
            if (end == optarg || *end || !(o.qk_scale > 0) || o.qk_scale > 1e4) {
                fprintf(stderr, PROG ": --qk-scale must be a positive number, not \"%s\"\n", optarg);
                return 2;
            }
            break;
        case 't': o.tokenizer = optarg; break;
        case 'f': o.force = 1; break;
        case 'Q': quiet = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (!preset || !out) {
        fprintf(stderr, PROG ": --preset and --out are required\n");
        usage(stderr);
        return 2;
    }
    am_err e = {0};
    am_qwen3_config cfg;
    o.circuit = !strcmp(preset, "circuit"); /* hand-set weights with known heads (see ckpt_writer.c) */
    if (am_ckpt_preset(&cfg, preset, &e)) {
        fprintf(stderr, PROG ": %s\n", e.msg);
        return am_exit_status(&e);
    }
    /* bytes to write, for the progress decision */
    double params =
        (double)cfg.vocab_size * cfg.hidden_size * (cfg.tie_word_embeddings ? 1 : 2) +
        (double)cfg.num_hidden_layers *
            ((double)cfg.hidden_size * cfg.head_dim * (2.0 * cfg.num_attention_heads + 2.0 * cfg.num_key_value_heads) +
             3.0 * cfg.hidden_size * cfg.intermediate_size);
    double bytes = params * (double)am_dtype_size(o.dtype);
    o.progress = !quiet && bytes > 256e6;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (o.progress)
        fprintf(stderr, PROG ": writing %s (%.2f GB, %s, %d shard%s, seed %llu) to %s\n", preset, bytes / 1e9,
                am_dtype_name(o.dtype), o.shards, o.shards > 1 ? "s" : "", (unsigned long long)o.seed, out);
    if (am_ckpt_write(&cfg, &o, out, &e)) {
        fprintf(stderr, PROG ": %s\n", e.msg);
        return am_exit_status(&e);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double dt = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (!quiet)
        fprintf(stderr, PROG ": wrote %s (%.3f GB in %.2f s, %.2f GB/s)\n", out, bytes / 1e9, dt,
                dt > 0 ? bytes / 1e9 / dt : 0.0);
    return 0;
}
