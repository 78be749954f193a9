/* Configuration loader: the shipped configs, every key of a full fixture, the
 * defaults, and a table of bad inputs with their exact messages (file:line:col).
 * The good files are also cross-checked against an independent YAML parser
 * (Python's yaml.safe_load) when one is available. */
#include "base/config.h"

#include "test_util.h"
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_STR(got, want) \
    CHECK((got) && !strcmp((got), (want)), "got '%s', want '%s'", (got) ? (got) : "(null)", (want))
#define CHECK_INT(got, want) \
    CHECK((long long)(got) == (long long)(want), "got %lld, want %lld", (long long)(got), (long long)(want))

static char src_dir[768];

static const char *src_path(const char *rel, char *buf, size_t cap) {
    snprintf(buf, cap, "%s/%s", src_dir, rel);
    return buf;
}

/* ---- independent reference: Python's YAML loader ---------------------------- */

static const char *python(void) {
    const char *p = getenv("PYTHON");
    return p && *p ? p : "/usr/bin/python3";
}

static int have_reference(void) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "'%s' -c 'import yaml' >/dev/null 2>&1", python());
    return system(cmd) == 0;
}

/* The file as JSON via yaml.safe_load, or NULL on failure. */
static json_t *reference_load(const char *path) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "'%s' -c 'import sys, json, yaml; "
             "print(json.dumps(yaml.safe_load(open(sys.argv[1], encoding=\"utf-8\"))))' '%s' 2>/dev/null",
             python(), path);
    FILE *f = popen(cmd, "r");
    if (!f) return NULL;
    json_error_t je;
    json_t *j = json_loadf(f, JSON_DECODE_ANY, &je);
    int rc = pclose(f);
    if (rc != 0) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* Compares what both parsers read for the keys that carry text and numbers. */
static void cross_check(const char *path, const am_config *c) {
    if (!have_reference()) {
        printf("SKIP cross-check of %s (no Python with PyYAML)\n", path);
        return;
    }
    json_t *j = reference_load(path);
    if (!j) {
        CHECK(0, "%s: Python's yaml.safe_load could not read it", path);
        return;
    }
    CHECK_STR(c->experiment, json_string_value(json_object_get(j, "experiment")));
    json_t *models = json_object_get(j, "models"), *pairs = json_object_get(j, "pairs");
    CHECK_INT(c->n_models, json_array_size(models));
    for (int i = 0; i < c->n_models && i < (int)json_array_size(models); i++) {
        json_t *m = json_array_get(models, i);
        CHECK_STR(c->models[i].name, json_string_value(json_object_get(m, "name")));
        CHECK_STR(c->models[i].checkpoint, json_string_value(json_object_get(m, "checkpoint")));
    }
    CHECK_INT(c->n_pairs, json_array_size(pairs));
    for (int i = 0; i < c->n_pairs && i < (int)json_array_size(pairs); i++) {
        json_t *p = json_array_get(pairs, i);
        CHECK_STR(c->pairs[i].key, json_string_value(json_object_get(p, "key")));
        CHECK_STR(c->pairs[i].a, json_string_value(json_object_get(p, "a")));
        CHECK_STR(c->pairs[i].b, json_string_value(json_object_get(p, "b")));
    }
    json_t *alphas = json_object_get(j, "alphas");
    if (alphas) {
        CHECK_INT(c->n_alphas, json_array_size(alphas));
        for (int i = 0; i < c->n_alphas && i < (int)json_array_size(alphas); i++)
            CHECK(c->alphas[i] == json_number_value(json_array_get(alphas, i)), "alphas[%d]: %g vs %g", i, c->alphas[i],
                  json_number_value(json_array_get(alphas, i)));
    }
    json_t *gen = json_object_get(j, "generation");
    if (gen && json_object_get(gen, "max_new_tokens"))
        CHECK_INT(c->max_new_tokens, json_integer_value(json_object_get(gen, "max_new_tokens")));
    json_decref(j);
}

/* ---- good files ------------------------------------------------------------- */

static void check_pairs_of_original(const am_config *c) {
    static const char *const keys[] = {"language", "object", "factual", "math"};
    CHECK_INT(c->n_pairs, 4);
    for (int i = 0; i < 4 && i < c->n_pairs; i++) {
        CHECK_STR(c->pairs[i].key, keys[i]);
        CHECK(c->pairs[i].a && *c->pairs[i].a && c->pairs[i].b && *c->pairs[i].b, "pair %d empty", i);
    }
    if (c->n_pairs >= 1) {
        CHECK_STR(c->pairs[0].a, "The capital of France is");
        CHECK_STR(c->pairs[0].b, "La capitale de la France est");
    }
    CHECK_INT(c->n_alphas, 5);
    for (int i = 0; i < 5 && i < c->n_alphas; i++) CHECK(c->alphas[i] == 0.25 * i, "alphas[%d] = %g", i, c->alphas[i]);
}

static void test_blog(void) {
    char path[1200];
    am_config c;
    am_err e = {0};
    src_path("config/blog.yaml", path, sizeof path);
    if (am_config_load(&c, path, &e)) {
        CHECK(0, "%s", e.msg);
        return;
    }
    static const char *const names[] = {"qwen3-1.7b", "qwen3-4b", "qwen3-8b", "qwen3-14b"};
    static const char *const ckpts[] = {"/path/to/Qwen3-1.7B", "/path/to/Qwen3-4B", "/path/to/Qwen3-8B",
                                        "/path/to/Qwen3-14B"};
    CHECK_STR(c.experiment, "blog");
    CHECK_STR(c.output_dir, "out/blog");
    CHECK_STR(c.path, path);
    CHECK_INT(c.n_models, 4);
    for (int i = 0; i < 4 && i < c.n_models; i++) {
        CHECK_STR(c.models[i].name, names[i]);
        CHECK_STR(c.models[i].checkpoint, ckpts[i]);
        CHECK_STR(c.models[i].tokenizer, ckpts[i]); /* default: the checkpoint */
    }
    /* the original study's pairs and settings (scripts/prompt_interpolation.py) */
    static const char *const pk[4][3] = {
        {"language", "Explain transformer attention in english", "Explain transformer attention in french"},
        {"object", "Explain why the sky is blue", "Explain why the water is blue"},
        {"factual", "Explain why the elephant is pink", "Explain why the elephant is gray"},
        {"math", "What is 2 + 2", "What is 10 / 2"}};
    CHECK_INT(c.n_pairs, 4);
    for (int i = 0; i < 4 && i < c.n_pairs; i++) {
        CHECK_STR(c.pairs[i].key, pk[i][0]);
        CHECK_STR(c.pairs[i].a, pk[i][1]);
        CHECK_STR(c.pairs[i].b, pk[i][2]);
    }
    CHECK_INT(c.n_alphas, 5);
    for (int i = 0; i < 5 && i < c.n_alphas; i++) CHECK(c.alphas[i] == 0.25 * i, "alphas[%d] = %g", i, c.alphas[i]);
    CHECK_INT(c.max_new_tokens, 100);
    CHECK_INT(c.sample, AM_GEN_CHECKPOINT);
    CHECK_INT(c.teacher, AM_TEACH_NONE);
    CHECK(c.eos_ids == NULL && c.n_eos == 0, "eos_ids should come from the checkpoint");
    CHECK(c.layers == NULL && c.heads == NULL, "capture should be all layers, all heads");
    CHECK_INT(c.store_f16, 1);
    CHECK_INT(c.backend, AM_BACKEND_AUTO);
    CHECK_INT(c.pad_left, 1);
    CHECK_INT(c.pad_id, 151643);
    CHECK_INT(c.mask_pads, 0);
    CHECK_STR(c.warnings, "");
    /* the text is kept verbatim */
    FILE *f = fopen(path, "rb");
    char buf[8192];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    CHECK(n > 0 && n == c.text_len && !memcmp(buf, c.text, n) && c.text[n] == '\0', "text not verbatim");
    cross_check(path, &c);
    am_config_free(&c);
}

static void test_demo(void) {
    char path[1200];
    am_config c;
    am_err e = {0};
    src_path("config/demo.yaml", path, sizeof path);
    if (am_config_load(&c, path, &e)) {
        CHECK(0, "%s", e.msg);
        return;
    }
    CHECK_STR(c.experiment, "demo");
    CHECK_STR(c.output_dir, "out/demo");
    CHECK_INT(c.n_models, 1);
    if (c.n_models == 1) {
        CHECK_STR(c.models[0].name, "qwen3-tiny");
        CHECK_STR(c.models[0].checkpoint, "build/models/qwen3-tiny");
        CHECK_STR(c.models[0].tokenizer, "build/models/qwen3-tiny");
    }
    check_pairs_of_original(&c);
    CHECK_INT(c.max_new_tokens, 24);
    CHECK_INT(c.sample, 0);
    CHECK(c.layers == NULL && c.heads == NULL, "capture should be all layers, all heads");
    CHECK_INT(c.store_f16, 0);
    CHECK_INT(c.backend, AM_BACKEND_CPU);
    CHECK_STR(c.warnings, "");
    cross_check(path, &c);
    am_config_free(&c);
}

static void test_full(void) {
    char path[1200];
    am_config c;
    am_err e = {0};
    src_path("tests/config/full.yaml", path, sizeof path);
    if (am_config_load(&c, path, &e)) {
        CHECK(0, "%s", e.msg);
        return;
    }
    CHECK_STR(c.experiment, "full-run");
    CHECK_STR(c.output_dir, "/tmp/attnmix-full");
    CHECK(c.seed == 9007199254740993ull, "seed %llu", (unsigned long long)c.seed);
    CHECK_INT(c.n_models, 2);
    if (c.n_models == 2) {
        CHECK_STR(c.models[0].name, "m.one");
        CHECK_STR(c.models[0].tokenizer, "tok/one/tokenizer.json");
        CHECK_STR(c.models[1].name, "m_two");
        CHECK_STR(c.models[1].checkpoint, "ckpt/two");
        CHECK_STR(c.models[1].tokenizer, "ckpt/two");
    }
    CHECK_INT(c.n_pairs, 2);
    if (c.n_pairs == 2) {
        CHECK_STR(c.pairs[0].a, "Caf\xc3\xa9 na\xc3\xafve \xf0\x9f\x98\x80 \"quoted\"");
        CHECK_STR(c.pairs[0].b, "single 'quoted' text");
        CHECK_STR(c.pairs[1].key, "multi-line");
        CHECK_STR(c.pairs[1].a, "line one\nline two\n");
        CHECK_STR(c.pairs[1].b, "folded text\n");
    }
    static const double alphas[] = {-0.5, 0.0, 0.1, 0.5, 2.0}; /* 1.0e-1, .5, 2. */
    CHECK_INT(c.n_alphas, 5);
    for (int i = 0; i < 5 && i < c.n_alphas; i++) CHECK(c.alphas[i] == alphas[i], "alphas[%d] = %g", i, c.alphas[i]);
    CHECK_INT(c.pad_left, 0);
    CHECK_INT(c.pad_id, 0);
    CHECK_INT(c.mask_pads, 1);
    CHECK_INT(c.max_new_tokens, 0);
    CHECK_INT(c.sample, 1);
    CHECK(c.temperature == 0.7 && c.top_p == 0.9, "temperature %g top_p %g", c.temperature, c.top_p);
    CHECK(c.n_eos == 2 && c.eos_ids && c.eos_ids[0] == 151645 && c.eos_ids[1] == 151643, "eos_ids");
    CHECK(c.n_layers == 3 && c.layers && c.layers[0] == 0 && c.layers[1] == 3 && c.layers[2] == 27, "layers");
    CHECK(c.n_heads == 1 && c.heads && c.heads[0] == 1, "heads");
    CHECK_INT(c.store_f16, 1);
    CHECK_INT(c.compression, 9);
    CHECK_INT(c.backend, AM_BACKEND_CUDA);
    CHECK_INT(c.cuda_f32, 1);
    CHECK_INT(c.threads, 3);
    /* alphas -0.5 and 2 warn, with their positions */
    char want[4096];
    snprintf(want, sizeof want,
             "%s:22:10: warning: alpha -0.5 in 'alphas[0]' is outside [0, 1] (extrapolation beyond the prompts)\n"
             "%s:22:31: warning: alpha 2 in 'alphas[4]' is outside [0, 1] (extrapolation beyond the prompts)\n",
             path, path);
    CHECK_STR(c.warnings, want);
    cross_check(path, &c);
    am_config_free(&c);
}

/* The minimal valid config: 5 lines, so extra text starts on line 6. */
#define BASE "experiment: t\nmodels:\n  - {name: m, checkpoint: ck}\npairs:\n  - {key: k, a: x, b: y}\n"

static void test_defaults(void) {
    am_config c;
    am_err e = {0};
    const char *text = BASE;
    if (am_config_parse(&c, text, strlen(text), "t.yaml", &e)) {
        CHECK(0, "%s", e.msg);
        return;
    }
    CHECK_STR(c.path, "t.yaml");
    CHECK_STR(c.output_dir, "out/t");
    CHECK(c.seed == 0, "seed");
    CHECK_STR(c.models[0].tokenizer, "ck");
    CHECK_INT(c.n_alphas, 5);
    for (int i = 0; i < 5 && i < c.n_alphas; i++) CHECK(c.alphas[i] == 0.25 * i, "alphas[%d] = %g", i, c.alphas[i]);
    CHECK_INT(c.pad_left, 1);
    CHECK_INT(c.pad_id, -1);
    CHECK_INT(c.mask_pads, 0);
    CHECK_INT(c.max_new_tokens, 100);
    CHECK_INT(c.sample, 0);
    CHECK(c.temperature == 1.0 && c.top_p == 1.0, "temperature/top_p defaults");
    CHECK(c.eos_ids == NULL && c.n_eos == 0, "eos default");
    CHECK(c.layers == NULL && c.n_layers == 0 && c.heads == NULL && c.n_heads == 0, "capture default");
    CHECK_INT(c.store_f16, 0);
    CHECK_INT(c.compression, 4);
    CHECK_INT(c.backend, AM_BACKEND_AUTO);
    CHECK_INT(c.cuda_f32, 0);
    CHECK_INT(c.threads, 0);
    CHECK_STR(c.warnings, "");
    CHECK(c.text_len == strlen(text) && !strcmp(c.text, text), "text verbatim");
    am_config_free(&c);

    text = BASE "seed: 18446744073709551615\n";
    if (am_config_parse(&c, text, strlen(text), "t.yaml", &e)) {
        CHECK(0, "%s", e.msg);
        return;
    }
    CHECK(c.seed == UINT64_MAX, "seed %llu", (unsigned long long)c.seed);
    am_config_free(&c);
}

/* The study's generation keys: top_k, mode checkpoint, teacher forcing. */
static void test_generation_modes(void) {
    am_config c;
    am_err e = {0};
    const char *t =
        BASE "generation: {mode: sample, top_k: 20, top_p: 0.95, teacher: text, teacher_text: \" Paris\"}\n";
    if (am_config_parse(&c, t, strlen(t), "t.yaml", &e)) {
        CHECK(0, "%s", e.msg);
        return;
    }
    CHECK_INT(c.sample, AM_GEN_SAMPLE);
    CHECK_INT(c.top_k, 20);
    CHECK_INT(c.teacher, AM_TEACH_TEXT);
    CHECK_STR(c.teacher_text, " Paris");
    CHECK_STR(c.warnings, "");
    am_config_free(&c);
    t = BASE "generation: {mode: checkpoint, top_k: 5, teacher: alpha0}\n";
    if (am_config_parse(&c, t, strlen(t), "t.yaml", &e)) {
        CHECK(0, "%s", e.msg);
        return;
    }
    CHECK_INT(c.sample, AM_GEN_CHECKPOINT);
    CHECK_INT(c.teacher, AM_TEACH_ALPHA0);
    CHECK_STR(c.warnings, "t.yaml:6:39: warning: 'generation.top_k' has no effect with mode checkpoint\n");
    am_config_free(&c);
}

/* Accepted with a warning, not an error. */
static void test_warnings(void) {
    static const struct {
        const char *text, *warning;
    } cases[] = {
        {BASE "alphas: [0, 1.5]\n", "t.yaml:6:13: warning: alpha 1.5 in 'alphas[1]' is outside [0, 1]"},
        {BASE "generation: {temperature: 0.5}\n", "t.yaml:6:27: warning: 'generation.temperature' has no effect "
                                                  "with mode greedy"},
        {BASE "generation:\n  eos_ids: []\n", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        am_config c;
        am_err e = {0};
        if (am_config_parse(&c, cases[i].text, strlen(cases[i].text), "t.yaml", &e)) {
            CHECK(0, "case %zu: %s", i, e.msg);
            continue;
        }
        if (cases[i].warning)
            CHECK(strstr(c.warnings, cases[i].warning) != NULL, "case %zu: warnings '%s', want '%s'", i, c.warnings,
                  cases[i].warning);
        else CHECK_STR(c.warnings, "");
        am_config_free(&c);
    }
    /* alphas [0, 1.5] keeps both values */
    am_config c;
    am_err e = {0};
    const char *t = cases[0].text;
    if (!am_config_parse(&c, t, strlen(t), "t.yaml", &e)) {
        CHECK(c.n_alphas == 2 && c.alphas[0] == 0.0 && c.alphas[1] == 1.5, "alphas [0, 1.5]");
        am_config_free(&c);
    }
    /* an explicit empty eos_ids is "no EOS": non-NULL with count 0 */
    t = cases[2].text;
    if (!am_config_parse(&c, t, strlen(t), "t.yaml", &e)) {
        CHECK(c.eos_ids != NULL && c.n_eos == 0, "eos_ids: [] should be non-NULL, empty");
        am_config_free(&c);
    }
}

/* ---- bad inputs ------------------------------------------------------------- */

static const struct {
    const char *text, *want;
} bad[] = {
    /* unknown keys */
    {BASE "alpah: [0]\n",
     "t.yaml:6:1: unknown top-level key 'alpah' (expected one of experiment, output_dir, "
     "seed, models, pairs, alphas, padding, generation, capture, backend, threads, cuda_compute, mix, template, "
     "align, resident_weights)"},
    {BASE "padding:\n  sid: left\n", "t.yaml:7:3: unknown key 'sid' in 'padding' (expected one of side, pad_id, mask)"},
    {"experiment: t\nmodels:\n  - {name: m, checkpoint: ck, tokeniser: t}\npairs:\n  - {key: k, a: x, b: y}\n",
     "t.yaml:3:31: unknown key 'tokeniser' in 'models[0]' (expected one of name, checkpoint, tokenizer, revision)"},
    {BASE "? [a, b]\n: 1\n", "t.yaml:6:3: keys must be plain names, got a list"},
    /* generation modes of the study */
    {BASE "generation: {mode: hf}\n", "t.yaml:6:20: 'generation.mode' must be one of greedy, sample, checkpoint, "
                                      "got 'hf'"},
    {BASE "generation: {mode: sample, top_k: -1}\n", "t.yaml:6:35: 'generation.top_k' is '-1', "
                                                     "outside [0, 2147483647]"},
    {BASE "generation: {teacher: text}\n", "t.yaml:6:13: 'generation.teacher: text' needs 'generation.teacher_text'"},
    {BASE "generation: {teacher: alpha1, teacher_text: x}\n",
     "t.yaml:6:45: 'generation.teacher_text' needs 'generation.teacher: text'"},
    /* duplicate keys */
    {BASE "backend: cpu\nbackend: cuda\n", "t.yaml:7:1: duplicate key 'backend' (first at 6:1)"},
    {BASE "capture: {dtype: float16, dtype: float32}\n",
     "t.yaml:6:27: duplicate key 'dtype' in 'capture' (first at 6:11)"},
    /* wrong types */
    {BASE "alphas: [0, 0.5, abc]\n", "t.yaml:6:18: expected a number for 'alphas[2]', got 'abc'"},
    {BASE "alphas: [0, \"0.5\"]\n", "t.yaml:6:13: expected a number for 'alphas[1]', got the quoted string '0.5'"},
    {BASE "alphas: 0.5\n", "t.yaml:6:9: expected a list for 'alphas', got '0.5'"},
    {BASE "alphas: []\n", "t.yaml:6:9: 'alphas' must not be empty"},
    {BASE "alphas: [0, .inf]\n", "t.yaml:6:13: 'alphas[1]' must be a finite number, got '.inf'"},
    {BASE "alphas: [0, nan]\n", "t.yaml:6:13: 'alphas[1]' must be a finite number, got 'nan'"},
    {BASE "alphas: [0, 1e999]\n", "t.yaml:6:13: 'alphas[1]' is '1e999', out of the range of a double"},
    {BASE "alphas: [0x1p-2]\n", "t.yaml:6:10: expected a number for 'alphas[0]', got '0x1p-2'"},
    {BASE "threads: 1.5\n", "t.yaml:6:10: expected an integer for 'threads', got '1.5'"},
    {BASE "threads: -1\n", "t.yaml:6:10: 'threads' is '-1', outside [0, 2147483647]"},
    {BASE "seed: 18446744073709551616\n", "t.yaml:6:7: 'seed' is '18446744073709551616', larger than "
                                          "18446744073709551615"},
    {BASE "seed: 18446744073709551615\nthreads: x\n", "t.yaml:7:10: expected an integer for 'threads'"},
    {BASE "seed: -3\n", "t.yaml:6:7: expected an unsigned integer for 'seed', got '-3'"},
    {BASE "padding: {pad_id: 99999999999999999999}\n",
     "t.yaml:6:19: 'padding.pad_id' is '99999999999999999999', outside [0, 2147483647]"},
    {BASE "padding: {pad_id: -1}\n", "t.yaml:6:19: 'padding.pad_id' is '-1', outside [0, 2147483647]"},
    {BASE "padding: {mask: maybe}\n", "t.yaml:6:17: expected true or false for 'padding.mask', got 'maybe'"},
    {BASE "padding: left\n", "t.yaml:6:10: expected a mapping for 'padding', got 'left'"},
    {"experiment: [a]\nmodels: []\n", "t.yaml:1:13: expected a string for 'experiment', got a list"},
    {"- experiment: t\n", "t.yaml:1:1: the configuration must be a mapping of keys (experiment, models, pairs, "
                          "...), got a list"},
    /* enums */
    {BASE "padding: {side: middle}\n", "t.yaml:6:17: 'padding.side' must be one of left, right, got 'middle'"},
    {BASE "backend: gpu\n", "t.yaml:6:10: 'backend' must be one of auto, cpu, cuda, got 'gpu'"},
    {BASE "cuda_compute: fp16\n", "t.yaml:6:15: 'cuda_compute' must be one of bf16, float32, got 'fp16'"},
    {BASE "generation: {mode: beam}\n",
     "t.yaml:6:20: 'generation.mode' must be one of greedy, sample, checkpoint, got 'beam'"},
    {BASE "capture: {dtype: bfloat16}\n",
     "t.yaml:6:18: 'capture.dtype' must be one of float32, float16, got 'bfloat16'"},
    /* ranges */
    {BASE "generation:\n  max_new_tokens: -5\n",
     "t.yaml:7:19: 'generation.max_new_tokens' is '-5', outside [0, 1000000]"},
    {BASE "generation: {mode: sample, temperature: 0}\n", "t.yaml:6:41: 'generation.temperature' must be > 0, got 0"},
    {BASE "generation: {mode: sample, top_p: 1.01}\n", "t.yaml:6:35: 'generation.top_p' must be in (0, 1], got 1.01"},
    {BASE "generation: {eos_ids: [1, x]}\n", "t.yaml:6:27: expected an integer for 'generation.eos_ids[1]', got 'x'"},
    {BASE "capture: {compression: 10}\n", "t.yaml:6:24: 'capture.compression' is '10', outside [0, 9]"},
    {BASE "capture: {layers: [0, -1]}\n", "t.yaml:6:23: 'capture.layers[1]' is '-1', outside [0, 2147483647]"},
    {BASE "capture: {layers: [2, 5, 2]}\n",
     "t.yaml:6:26: duplicate index 2 in 'capture.layers' (same as capture.layers[0])"},
    {BASE "capture: {heads: some}\n", "t.yaml:6:18: expected \"all\" or a list of indices for 'capture.heads', "
                                      "got 'some'"},
    {BASE "capture: {layers: []}\n", "t.yaml:6:19: 'capture.layers' must not be empty"},
    /* missing / empty required keys (missing: position of the parent mapping) */
    {"models:\n  - {name: m, checkpoint: ck}\npairs:\n  - {key: k, a: x, b: y}\n",
     "t.yaml:1:1: missing required top-level key 'experiment'"},
    {"experiment: t\nmodels:\n  - name: m\npairs:\n  - {key: k, a: x, b: y}\n",
     "t.yaml:3:5: missing required key 'checkpoint' in 'models[0]'"},
    {"experiment: t\nmodels:\n  - {name: m, checkpoint: ck}\npairs:\n  - {key: k, a: x, b: y}\n  - {key: j, a: x}\n",
     "t.yaml:6:5: missing required key 'b' in 'pairs[1]'"},
    {"experiment: t\npairs:\n  - {key: k, a: x, b: y}\n", "t.yaml:1:1: missing required top-level key 'models'"},
    {"experiment:\nmodels: []\n", "t.yaml:1:1: required key 'experiment' has no value"},
    {"experiment: t\nmodels: []\n", "t.yaml:2:9: 'models' must not be empty"},
    {"experiment: t\nmodels:\n  - {name: m, checkpoint: ck}\npairs:\n  - {key: k, a: '', b: y}\n",
     "t.yaml:5:17: 'pairs[0].a' must not be empty"},
    /* names and uniqueness */
    {"experiment: t\nmodels:\n  - {name: m, checkpoint: ck}\npairs:\n  - {key: k, a: x, b: y}\n"
     "  - {key: k, a: u, b: v}\n",
     "t.yaml:6:11: duplicate pair key 'k' in 'pairs[1].key' (same as pairs[0])"},
    {"experiment: t\nmodels:\n  - {name: m, checkpoint: a}\n  - {name: m, checkpoint: b}\n",
     "t.yaml:4:12: duplicate model name 'm' in 'models[1].name' (same as models[0])"},
    {"experiment: t\nmodels:\n  - {name: a/b, checkpoint: ck}\n",
     "t.yaml:3:12: 'models[0].name' is 'a/b'; use letters, digits, '.', '_' and '-' only"},
    {"experiment: t\nmodels:\n  - {name: .., checkpoint: ck}\n",
     "t.yaml:3:12: 'models[0].name' is '..'; use letters, digits, '.', '_' and '-' only"},
    {BASE "alphas: [0, 0.5, 0.50]\n", "t.yaml:6:18: duplicate alpha 0.5 in 'alphas[2]' (same as alphas[1])"},
    {"experiment: \"t\\0u\"\n", "t.yaml:1:13: 'experiment' contains a NUL character"},
    /* YAML itself */
    {"experiment: t\nmodels:\n  - name: m\n    checkpoint: ck\n   tokenizer: x\n",
     "t.yaml:5:4: YAML syntax error: did not find expected '-' indicator (while parsing a block collection at 3:3)"},
    {"experiment: \"t\nmodels: []\n", "t.yaml:3:1: YAML syntax error: found unexpected end of stream (while "
                                      "scanning a quoted scalar at 1:13)"},
    {"experiment: t\n  models: x\n", "t.yaml:2:9: YAML syntax error: mapping values are not allowed in this context"},
    {"experiment: t\ttab\nmodels:\n\t- x\n", "t.yaml:3:1: YAML syntax error: found character that cannot start any "
                                             "token (while scanning for the next token at 3:1)"},
    {"experiment: &e t\noutput_dir: *e\n", "t.yaml:2:13: YAML aliases (*e) are not supported; write the value out"},
    {"experiment: t\n---\nexperiment: u\n", "t.yaml:2:1: more than one YAML document; put the whole configuration "
                                            "in one"},
    {"", "t.yaml:1:1: the configuration is empty (expected a mapping with at least experiment, models and pairs)"},
    {"# just a comment\n", "t.yaml:1:1: the configuration is empty"},
    {"~\n", "t.yaml:1:1: the configuration is empty"},
    {"experiment: caf\xc3\xa9\nmodels: [\xff]\n", "t.yaml:2:10: invalid UTF-8 text: invalid leading UTF-8 octet "
                                                  "(byte 0xff at offset 27)"},
    {"experiment: t\nmodels:\n  - {name: m, checkpoint: \"ab\xe9\"}\n",
     "t.yaml:3:30: invalid UTF-8 text: invalid trailing UTF-8 octet (byte 0xe9 at offset 51)"},
    {"experiment: \"\\ud800\"\n", "t.yaml:1:16: YAML syntax error: found invalid Unicode character escape code "
                                  "(while parsing a quoted scalar at 1:13)"},
};

static void test_bad_strings(void) {
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        am_config c;
        am_err e = {0};
        int rc = am_config_parse(&c, bad[i].text, strlen(bad[i].text), "t.yaml", &e);
        CHECK(rc == -1, "case %zu should fail: %s", i, bad[i].want);
        if (rc == 0) {
            am_config_free(&c);
            continue;
        }
        CHECK(strstr(e.msg, bad[i].want) != NULL, "case %zu:\n  got  %s\n  want %s", i, e.msg, bad[i].want);
        /* a bad value is the user's to change: a usage error (exit status 2) */
        CHECK(e.code == AM_E_USAGE && am_exit_status(&e) == 2, "case %zu: code %d, want AM_E_USAGE", i, (int)e.code);
        /* a failed parse leaves nothing allocated and a struct that can be freed again */
        CHECK(c.models == NULL && c.pairs == NULL && c.text == NULL && c.alphas == NULL, "case %zu not cleared", i);
        am_config_free(&c);
    }
}

static void test_bad_files(void) {
    static const struct {
        const char *file, *want;
    } cases[] = {
        {"bad_indent.yaml", "bad_indent.yaml:5:4: YAML syntax error: did not find expected '-' indicator"},
        {"unclosed_quote.yaml", "unclosed_quote.yaml:7:1: YAML syntax error: found unexpected end of stream "
                                "(while scanning a quoted scalar at 4:17)"},
        {"unknown_nested.yaml", "unknown_nested.yaml:11:5: unknown key 'alpah' in 'pairs[1]' (expected one of key, "
                                "a, b)"},
        {"invalid_utf8.yaml", "invalid_utf8.yaml:7:12: invalid UTF-8 text: invalid trailing UTF-8 octet (byte 0xe9 "
                              "at offset 82)"},
        {"empty.yaml", "empty.yaml:1:1: the configuration is empty"},
        {"comment_only.yaml", "comment_only.yaml:1:1: the configuration is empty"},
        {"does-not-exist.yaml", "does-not-exist.yaml: cannot open the configuration: No such file or directory"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char rel[256], path[1200];
        snprintf(rel, sizeof rel, "tests/config/%s", cases[i].file);
        src_path(rel, path, sizeof path);
        am_config c;
        am_err e = {0};
        int rc = am_config_load(&c, path, &e);
        CHECK(rc == -1, "%s should fail", cases[i].file);
        if (rc == 0) {
            am_config_free(&c);
            continue;
        }
        CHECK(strstr(e.msg, cases[i].want) != NULL, "%s:\n  got  %s\n  want %s", cases[i].file, e.msg, cases[i].want);
        /* a missing file is not found (exit 1), a bad one a usage error (exit 2) */
        am_code want_code = strstr(cases[i].file, "does-not-exist") ? AM_E_NOTFOUND : AM_E_USAGE;
        CHECK(e.code == want_code, "%s: code %d, want %d", cases[i].file, (int)e.code, (int)want_code);
        CHECK(am_exit_status(&e) == (want_code == AM_E_USAGE ? 2 : 1), "%s: exit status %d", cases[i].file,
              am_exit_status(&e));
        /* the message starts with the path as given */
        CHECK(!strncmp(e.msg, path, strlen(path)), "%s: message does not start with the path: %s", cases[i].file,
              e.msg);
        am_config_free(&c);
    }
}

/* am_config_free on zeroed, partially filled and already freed structs. */
static void test_free(void) {
    am_config c;
    memset(&c, 0, sizeof c);
    am_config_free(&c);
    am_config_free(NULL);

    memset(&c, 0, sizeof c);
    c.experiment = strdup("x");
    c.models = calloc(3, sizeof *c.models); /* [3], only the first filled */
    c.n_models = 3;
    c.models[0].name = strdup("m");
    c.pairs = calloc(2, sizeof *c.pairs);
    c.n_pairs = 2;
    c.pairs[1].b = strdup("b");
    c.layers = calloc(1, sizeof *c.layers);
    am_config_free(&c);
    CHECK(c.models == NULL && c.n_models == 0 && c.experiment == NULL && c.layers == NULL, "free did not clear");
    am_config_free(&c); /* twice is fine */

    /* n_models set but models never allocated */
    memset(&c, 0, sizeof c);
    c.n_models = 4;
    c.n_pairs = 2;
    am_config_free(&c);

    /* a load that fails late (after models and pairs were filled) */
    const char *t = BASE "threads: x\n";
    am_err e = {0};
    CHECK(am_config_parse(&c, t, strlen(t), "t.yaml", &e) == -1, "late failure expected");
    am_config_free(&c);
}

int main(void) {
    const char *src = getenv("ATTNMIX_SRC");
    snprintf(src_dir, sizeof src_dir, "%s", src && *src ? src : "..");
    test_blog();
    test_demo();
    test_full();
    test_defaults();
    test_warnings();
    test_generation_modes();
    test_bad_strings();
    test_bad_files();
    test_free();
    if (failures) {
        fprintf(stderr, "test_config: %d check(s) failed\n", failures);
        return 1;
    }
    printf("test_config: all checks passed (%zu bad inputs)\n", sizeof bad / sizeof bad[0] + 7);
    return 0;
}
