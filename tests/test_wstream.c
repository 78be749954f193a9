/* Weight streaming (model/wstream.h) against the in-memory run: on synthetic
 * checkpoints (the untied `small` preset in two shards, the tied `tiny`), a
 * ragged prefill of three units then batched greedy generation with every
 * attention map captured, run with every weight mapped and again under
 * resident-weights budgets below the checkpoint's size (nothing resident,
 * two layers, every layer but the lm_head). Every map cell, every logit and
 * every generated token must be bitwise equal; the bytes read from disk must
 * be the streamed weights once per forward pass. Also the plan's split, and
 * a shard cut short after opening: the forward pass fails with a message
 * naming the file and the tensor. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/runtime.h"
#include "model/wstream.h"
#include "test_util.h"

#define U 3
#define S 24
#define NEW 7

static am_qwen3 M;
static int L, H, D, V;

typedef struct run {
    float *maps;   /* [U][L][H][S][S] */
    float *logits; /* [U][V] prefill logits */
    int32_t gen[U * NEW];
    int n_gen[U];
    uint64_t streamed; /* bytes read from disk */
    int calls;         /* forward passes */
} run;

static int hook(void *ctx, int layer, int unit, int q0, int nq, int nk, const float *probs, am_err *e) {
    (void)e;
    run *r = ctx;
    for (int h = 0; h < H; h++)
        for (int i = 0; i < nq; i++)
            memcpy(r->maps + ((((size_t)unit * L + layer) * H + h) * S + q0 + i) * S, probs + ((size_t)h * nq + i) * nk,
                   sizeof(float) * nk);
    return 0;
}

static void count_step(void *ctx, int step, int active) {
    (void)step, (void)active;
    ((run *)ctx)->calls++;
}

static const int TOK[U][9] = {{101, 2002, 30003, 400, 5005, 60006, 707, 8008, 90009},
                              {9, 88, 777, 6666, 55555, 4444, 333, 22, 1},
                              {31, 41, 59, 26, 53, 58, 97, 93, 23}};
static const int T[U] = {7, 5, 9};

/* Prefill the three units in one call, then generate NEW tokens each. */
static void do_run(uint64_t budget, run *r) {
    am_err e = {0};
    memset(r, 0, sizeof *r);
    r->maps = calloc((size_t)U * L * H * S * S, sizeof(float));
    r->logits = calloc((size_t)U * V, sizeof(float));
    float *emb = calloc((size_t)U * 9 * D, sizeof(float));
    REQUIRE(r->maps && r->logits && emb, "out of memory");
    am_runtime_opts o = {.max_units = U, .max_seq = S, .weights_budget = budget};
    am_runtime *rt;
    REQUIRE(!am_runtime_init(&rt, &M, &o, &e), "init: %s", e.msg);
    int units[U];
    const float *ep[U];
    for (int u = 0; u < U; u++) {
        units[u] = u;
        for (int t = 0; t < T[u]; t++) am_embed_lookup(&M, TOK[u][t], emb + ((size_t)u * 9 + t) * D);
        ep[u] = emb + (size_t)u * 9 * D;
        am_runtime_reset(rt, u, 0, 0);
    }
    am_capture cap = {.fn = hook, .ctx = r};
    REQUIRE(!am_forward(rt, U, units, T, ep, &cap, r->logits, &e), "forward: %s", e.msg);
    r->calls = 1;
    am_gen_opts g = {.max_new_tokens = NEW, .progress = count_step, .progress_ctx = r};
    REQUIRE(!am_generate(rt, U, units, r->logits, &g, &cap, r->gen, r->n_gen, &e), "generate: %s", e.msg);
    r->streamed = am_runtime_bytes_streamed(rt);
    am_runtime_free(rt);
    free(emb);
}

static void run_free(run *r) {
    free(r->maps);
    free(r->logits);
}

/* Bytes one forward pass reads under plan p. */
static uint64_t streamed_per_call(const am_wplan *p) {
    uint64_t b = 0;
    for (int l = p->n_resident; l < p->n_layers; l++) b += am_qwen3_layer_bytes(&M, l);
    return b + (p->head_streamed ? M.lm_head->nbytes : 0);
}

static void compare(const char *what, uint64_t budget, const run *ref) {
    am_wplan p;
    am_wstream_plan(&M, budget, &p);
    CHECK(am_wplan_streams(&p), "%s: budget %llu should stream", what, (unsigned long long)budget);
    run r;
    do_run(budget, &r);
    size_t nm = (size_t)U * L * H * S * S, diff = 0;
    for (size_t i = 0; i < nm; i++) diff += memcmp(&r.maps[i], &ref->maps[i], sizeof(float)) != 0;
    CHECK(diff == 0, "%s: %zu of %zu map cells differ from the in-memory run", what, diff, nm);
    CHECK(!memcmp(r.logits, ref->logits, sizeof(float) * U * V), "%s: prefill logits differ", what);
    CHECK(!memcmp(r.n_gen, ref->n_gen, sizeof r.n_gen), "%s: generated counts differ", what);
    CHECK(!memcmp(r.gen, ref->gen, sizeof r.gen), "%s: generated tokens differ", what);
    /* every streamed item once per pass, plus at most the read-ahead of the next one */
    uint64_t per = streamed_per_call(&p), want = per * (uint64_t)r.calls;
    uint64_t ahead = p.layer_max > (uint64_t)p.head_rows * D * 2 ? p.layer_max : (uint64_t)p.head_rows * D * 2;
    CHECK(r.streamed >= want && r.streamed <= want + ahead,
          "%s: %llu bytes read from disk over %d passes, expected %llu (+ up to %llu read ahead)", what,
          (unsigned long long)r.streamed, r.calls, (unsigned long long)want, (unsigned long long)ahead);
    printf("%-34s resident %d/%d layers, lm_head %s, %d passes, %.1f MB read: bitwise equal\n", what, p.n_resident,
           p.n_layers, p.head_streamed ? "streamed" : "resident", r.calls, r.streamed / 1e6);
    run_free(&r);
}

static void check_model(const char *dir) {
    am_err e;
    REQUIRE(!am_qwen3_open(&M, dir, &e), "%s", e.msg);
    L = M.cfg.num_hidden_layers, H = M.cfg.num_attention_heads, D = M.cfg.hidden_size, V = M.cfg.vocab_size;

    /* the plan: budgets at and above the total keep everything; below, layers
     * fill from the first, then the head if it still fits */
    am_wplan p;
    am_wstream_plan(&M, UINT64_MAX, &p);
    uint64_t total = p.total, lb = am_qwen3_layer_bytes(&M, 0), fn = M.final_norm->nbytes, hb = M.lm_head->nbytes;
    CHECK(!am_wplan_streams(&p) && p.resident == total && p.buffers == 0, "%s: unlimited budget streams", dir);
    am_wstream_plan(&M, total, &p);
    CHECK(!am_wplan_streams(&p), "%s: budget == total streams", dir);
    am_wstream_plan(&M, 1, &p);
    CHECK(p.n_resident == 0 && p.head_streamed && p.resident == fn && p.buffers > 0,
          "%s: budget 1: %d resident, head %d, resident %llu", dir, p.n_resident, p.head_streamed,
          (unsigned long long)p.resident);
    am_wstream_plan(&M, fn + 2 * lb + lb / 2, &p);
    CHECK(p.n_resident == 2 && p.head_streamed && p.resident == fn + 2 * lb, "%s: 2.5 layers: %d resident, head %d",
          dir, p.n_resident, p.head_streamed);
    am_wstream_plan(&M, total - 1, &p);
    CHECK(p.n_resident == L && p.head_streamed && p.resident == total - hb, "%s: total - 1: %d resident, head %d", dir,
          p.n_resident, p.head_streamed);
    am_wstream_plan(&M, total - hb, &p);
    CHECK(p.n_resident == L && p.head_streamed && p.head_rows > 0 && p.head_rows < V,
          "%s: all layers, no head: %d resident, head %d rows %d", dir, p.n_resident, p.head_streamed, p.head_rows);

    run ref;
    do_run(0, &ref);
    CHECK(ref.streamed == 0, "%s: the in-memory run read %llu bytes", dir, (unsigned long long)ref.streamed);
    int full = 0;
    for (int u = 0; u < U; u++) full += ref.n_gen[u] == NEW;
    REQUIRE(full == U, "%s: every unit should generate %d tokens", dir, NEW);
    compare("everything streamed", 1, &ref);
    compare("two layers resident", fn + 2 * lb + lb / 2, &ref);
    compare("all layers resident, lm_head not", total - hb, &ref);
    run_free(&ref);
    am_qwen3_close(&M);
}

int main(void) {
    const char *bin = getenv("ATTNMIX_BIN");
    REQUIRE(bin, "ATTNMIX_BIN must be set (run through ctest)");
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "%s/attnmix-make-checkpoint --preset small --shards 2 --out wstream.small.model --seed 11 --force --quiet",
             bin);
    REQUIRE(!system(cmd), "failed: %s", cmd);
    snprintf(cmd, sizeof cmd,
             "%s/attnmix-make-checkpoint --preset tiny --dtype f16 --out wstream.tiny.model --seed 3 --force --quiet",
             bin);
    REQUIRE(!system(cmd), "failed: %s", cmd);
    check_model("wstream.small.model");
    check_model("wstream.tiny.model");

    /* a shard truncated under a streaming run: a clear error, no crash */
    {
        am_err e = {0};
        REQUIRE(!am_qwen3_open(&M, "wstream.small.model", &e), "%s", e.msg);
        L = M.cfg.num_hidden_layers, H = M.cfg.num_attention_heads, D = M.cfg.hidden_size, V = M.cfg.vocab_size;
        am_runtime_opts o = {.max_units = 1, .max_seq = 4, .weights_budget = 1};
        am_runtime *rt;
        REQUIRE(!am_runtime_init(&rt, &M, &o, &e), "init: %s", e.msg);
        const char *shard = "wstream.small.model/model-00002-of-00002.safetensors"; /* the layers */
        REQUIRE(!truncate(shard, 5000000), "cannot truncate %s", shard);
        float *emb = calloc((size_t)D, sizeof(float)), *lg = calloc((size_t)V, sizeof(float));
        am_embed_lookup(&M, 42, emb);
        int unit = 0, T1 = 1;
        const float *ep = emb;
        am_runtime_reset(rt, 0, 0, 0);
        int rc = am_forward(rt, 1, &unit, &T1, &ep, NULL, lg, &e);
        CHECK(rc == -1 && strstr(e.msg, shard) && strstr(e.msg, "model.layers.") && strstr(e.msg, "ends early") &&
                  strstr(e.msg, "streaming layer"),
              "truncated shard: rc %d, message: %s", rc, e.msg);
        printf("truncated shard: %s\n", e.msg);
        free(emb), free(lg);
        am_runtime_free(rt);
        am_qwen3_close(&M);
    }
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    printf("weight streaming: bitwise equal to the in-memory run\n");
    return 0;
}
