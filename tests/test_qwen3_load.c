/* Qwen3 loading: config.json parsing and defaults, tensor binding and shape
 * checks, and the synthetic checkpoint writer read back through the loader. */
#include <jansson.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/ckpt_writer.h"
#include "model/qwen3.h"
#include "test_util.h"

static char root[256];

static float bf16_to_f32(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static int same_file(const char *a, const char *b) {
    size_t na, nb;
    char *x = test_read_file(a, &na), *y = test_read_file(b, &nb);
    int same = x && y && na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return same;
}

/* ---- a small hand-built checkpoint ---------------------------------------- */

typedef struct spec {
    char name[96];
    const char *dtype; /* "BF16" "F16" "F32" */
    int ndim;
    long long shape[2];
} spec;

static json_t *base_config(void) {
    return json_pack("{s:s, s:[s], s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:b, s:f, s:i, s:i, s:i}", "model_type", "qwen3",
                     "architectures", "Qwen3ForCausalLM", "hidden_size", 16, "intermediate_size", 24,
                     "num_hidden_layers", 2, "num_attention_heads", 4, "num_key_value_heads", 2, "head_dim", 8,
                     "vocab_size", 50, "tie_word_embeddings", 0, "rms_norm_eps", 1e-6, "rope_theta", 1000000,
                     "max_position_embeddings", 512, "eos_token_id", 3);
}

/* The tensors a config with D=16 F=24 L=2 H=4 KV=2 hd=8 V=50 needs. */
static int base_specs(spec *s, int with_lm_head) {
    int n = 0;
#define S(dt, nd, a, b, ...)                                \
    do {                                                    \
        snprintf(s[n].name, sizeof s[n].name, __VA_ARGS__); \
        s[n].dtype = dt;                                    \
        s[n].ndim = nd;                                     \
        s[n].shape[0] = a;                                  \
        s[n].shape[1] = b;                                  \
        n++;                                                \
    } while (0)
    S("BF16", 2, 50, 16, "model.embed_tokens.weight");
    S("BF16", 1, 16, 0, "model.norm.weight");
    if (with_lm_head) S("BF16", 2, 50, 16, "lm_head.weight");
    for (int l = 0; l < 2; l++) {
        S("BF16", 1, 16, 0, "model.layers.%d.input_layernorm.weight", l);
        S("BF16", 1, 16, 0, "model.layers.%d.post_attention_layernorm.weight", l);
        S("BF16", 2, 32, 16, "model.layers.%d.self_attn.q_proj.weight", l);
        S("BF16", 2, 16, 16, "model.layers.%d.self_attn.k_proj.weight", l);
        S("BF16", 2, 16, 16, "model.layers.%d.self_attn.v_proj.weight", l);
        S("BF16", 2, 16, 32, "model.layers.%d.self_attn.o_proj.weight", l);
        S("BF16", 1, 8, 0, "model.layers.%d.self_attn.q_norm.weight", l);
        S("BF16", 1, 8, 0, "model.layers.%d.self_attn.k_norm.weight", l);
        S("BF16", 2, 24, 16, "model.layers.%d.mlp.gate_proj.weight", l);
        S("BF16", 2, 24, 16, "model.layers.%d.mlp.up_proj.weight", l);
        S("BF16", 2, 16, 24, "model.layers.%d.mlp.down_proj.weight", l);
    }
#undef S
    return n;
}

static size_t dsize(const char *dt) { return strcmp(dt, "F32") ? 2 : 4; }

/* Write dir/config.json and dir/model.safetensors (byte k of tensor t = t*31+k). */
static void write_mini(const char *name, json_t *cfg, const spec *s, int n) {
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    mkdir(dir, 0777);
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (json_dump_file(cfg, path, JSON_INDENT(2))) {
        perror(path);
        exit(2);
    }
    json_t *h = json_object();
    long long off = 0;
    for (int i = 0; i < n; i++) {
        long long nb = s[i].shape[0] * (s[i].ndim == 2 ? s[i].shape[1] : 1) * (long long)dsize(s[i].dtype);
        json_t *sh =
            s[i].ndim == 1 ? json_pack("[I]", s[i].shape[0]) : json_pack("[I,I]", s[i].shape[0], s[i].shape[1]);
        json_object_set_new(
            h, s[i].name,
            json_pack("{s:s,s:o,s:[I,I]}", "dtype", s[i].dtype, "shape", sh, "data_offsets", off, off + nb));
        off += nb;
    }
    char *txt = json_dumps(h, JSON_COMPACT);
    json_decref(h);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(2);
    }
    unsigned long long hl = strlen(txt);
    for (int i = 0; i < 8; i++) fputc((int)((hl >> (8 * i)) & 0xff), f);
    fputs(txt, f);
    free(txt);
    for (int i = 0; i < n; i++) {
        long long nb = s[i].shape[0] * (s[i].ndim == 2 ? s[i].shape[1] : 1) * (long long)dsize(s[i].dtype);
        for (long long k = 0; k < nb; k++) fputc((int)((i * 31 + k) & 0xff), f);
    }
    fclose(f);
}

static void path_of(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", root, name); }

/* Open `name`, expect failure whose message contains every string in want[]. */
static void expect_open_fail(const char *name, const char *want1, const char *want2) {
    char dir[512];
    path_of(dir, sizeof dir, name);
    am_qwen3 m;
    am_err e = {0};
    int rc = am_qwen3_open(&m, dir, &e);
    CHECK(rc == -1, "%s: expected failure", name);
    if (rc == 0) {
        am_qwen3_close(&m);
        return;
    }
    CHECK(strstr(e.msg, want1), "%s: message \"%s\" lacks \"%s\"", name, e.msg, want1);
    if (want2) CHECK(strstr(e.msg, want2), "%s: message \"%s\" lacks \"%s\"", name, e.msg, want2);
}

static void expect_config_fail(const char *name, json_t *cfg, const char *want) {
    spec s[64];
    int n = base_specs(s, 1);
    write_mini(name, cfg, s, n);
    json_decref(cfg);
    expect_open_fail(name, want, "config.json");
}

static void test_config(void) {
    char dir[512];
    am_qwen3_config c;
    am_err e = {0};
    spec s[64];
    int n = base_specs(s, 1);

    /* HF defaults for missing keys */
    json_t *cfg = base_config();
    json_object_del(cfg, "head_dim");
    json_object_del(cfg, "num_key_value_heads");
    json_object_del(cfg, "tie_word_embeddings");
    json_object_del(cfg, "rope_theta");
    json_object_del(cfg, "rms_norm_eps");
    json_object_set_new(cfg, "num_attention_heads", json_integer(64));
    json_object_set_new(cfg, "bos_token_id", json_null());
    write_mini("defaults", cfg, s, n);
    json_decref(cfg);
    path_of(dir, sizeof dir, "defaults");
    CHECK(am_qwen3_config_load(&c, dir, &e) == 0, "defaults: %s", e.msg);
    CHECK(c.head_dim == 128 && c.num_key_value_heads == 32 && c.tie_word_embeddings == 0 && c.rope_theta == 1e6 &&
              c.rms_norm_eps == 1e-6 && c.bos_token_id == -1,
          "defaults: hd %d kv %d tie %d theta %g eps %g bos %d", c.head_dim, c.num_key_value_heads,
          c.tie_word_embeddings, c.rope_theta, c.rms_norm_eps, c.bos_token_id);
    CHECK(c.n_eos == 1 && c.eos_ids[0] == 3, "eos int: %d %d", c.n_eos, c.eos_ids[0]);
    CHECK(c.hidden_size == 16 && c.intermediate_size == 24 && c.num_hidden_layers == 2 && c.vocab_size == 50 &&
              c.max_position_embeddings == 512,
          "sizes");
    /* the default head_dim then disagrees with the stored q_proj */
    expect_open_fail("defaults",
                     "model.layers.0.self_attn.q_proj.weight\" has shape [32, 16], "
                     "expected [num_attention_heads*head_dim, hidden_size] = [8192, 16]",
                     NULL);

    /* rope_parameters, eos lists, generation_config override */
    cfg = base_config();
    json_object_del(cfg, "rope_theta");
    json_object_set_new(cfg, "rope_parameters", json_pack("{s:f,s:s}", "rope_theta", 5e5, "rope_type", "default"));
    json_object_set_new(cfg, "eos_token_id", json_pack("[i,i,i]", 7, 8, 9));
    json_object_set_new(cfg, "bos_token_id", json_integer(5));
    json_object_set_new(cfg, "torch_dtype", json_string("bfloat16"));
    write_mini("ropep", cfg, s, n);
    json_decref(cfg);
    path_of(dir, sizeof dir, "ropep");
    CHECK(am_qwen3_config_load(&c, dir, &e) == 0, "rope_parameters: %s", e.msg);
    CHECK(c.rope_theta == 5e5, "rope_parameters theta %g", c.rope_theta);
    CHECK(c.n_eos == 3 && c.eos_ids[0] == 7 && c.eos_ids[2] == 9 && c.bos_token_id == 5, "eos list");
    CHECK(!strcmp(c.torch_dtype, "bfloat16"), "torch_dtype %s", c.torch_dtype);
    char gpath[600];
    snprintf(gpath, sizeof gpath, "%s/generation_config.json", dir);
    FILE *g = fopen(gpath, "w");
    fputs("{\"eos_token_id\": 11, \"bos_token_id\": 12}", g);
    fclose(g);
    CHECK(am_qwen3_config_load(&c, dir, &e) == 0, "generation_config: %s", e.msg);
    CHECK(c.n_eos == 1 && c.eos_ids[0] == 11 && c.bos_token_id == 5, "gen override: %d %d bos %d", c.n_eos,
          c.eos_ids[0], c.bos_token_id);
    g = fopen(gpath, "w");
    fputs("{\"eos_token_id\": \"x\"}", g);
    fclose(g);
    CHECK(am_qwen3_config_load(&c, dir, &e) == -1 && strstr(e.msg, "generation_config.json: key "
                                                                   "\"eos_token_id\" must be an integer or a list"),
          "gen bad eos: %s", e.msg);

    /* errors, each naming config.json and the key */
    cfg = base_config();
    json_object_del(cfg, "hidden_size");
    expect_config_fail("nohidden", cfg, "key \"hidden_size\" missing");
    cfg = base_config();
    json_object_set_new(cfg, "num_hidden_layers", json_string("2"));
    expect_config_fail("strlayers", cfg, "key \"num_hidden_layers\" must be an integer, found a string");
    cfg = base_config();
    json_object_set_new(cfg, "vocab_size", json_real(50.5));
    expect_config_fail("realvocab", cfg, "key \"vocab_size\" must be an integer");
    cfg = base_config();
    json_object_set_new(cfg, "num_key_value_heads", json_integer(3));
    expect_config_fail("gqa", cfg, "num_attention_heads 4 is not divisible by num_key_value_heads 3");
    cfg = base_config();
    json_object_set_new(cfg, "intermediate_size", json_integer(0));
    expect_config_fail("zero", cfg, "key \"intermediate_size\" = 0 must be positive");
    cfg = base_config();
    json_object_set_new(cfg, "model_type", json_string("llama"));
    expect_config_fail("llama", cfg, "\"model_type\" is \"llama\"; only \"qwen3\"");
    cfg = base_config();
    json_object_del(cfg, "model_type");
    expect_config_fail("notype", cfg, "key \"model_type\" missing");
    cfg = base_config();
    json_object_set_new(cfg, "tie_word_embeddings", json_string("yes"));
    expect_config_fail("tiestr", cfg, "key \"tie_word_embeddings\" must be true or false");
    cfg = base_config();
    json_object_set_new(cfg, "rope_scaling", json_pack("{s:s,s:f}", "rope_type", "yarn", "factor", 4.0));
    expect_config_fail("yarn", cfg, "rope_type yarn is not supported");
    cfg = base_config();
    json_object_set_new(cfg, "rope_theta", json_string("big"));
    expect_config_fail("thetastr", cfg, "key \"rope_theta\" must be a number");

    /* unreadable / invalid config.json */
    cfg = base_config();
    write_mini("badjson", cfg, s, n);
    json_decref(cfg);
    path_of(dir, sizeof dir, "badjson/config.json");
    g = fopen(dir, "w");
    fputs("{\"model_type\": \"qwen3\",", g);
    fclose(g);
    expect_open_fail("badjson", "config.json: not valid JSON", NULL);
    unlink(dir);
    expect_open_fail("badjson", "cannot open", "config.json");
}

static void test_binding(void) {
    spec s[64];
    char dir[512];
    am_qwen3 m;
    am_err e = {0};
    json_t *cfg = base_config();

    /* complete untied model, mixed dtypes, plus a rotary buffer that is ignored */
    int n = base_specs(s, 1);
    for (int i = 0; i < n; i++) {
        if (s[i].ndim == 1) s[i].dtype = "F32";
        if (strstr(s[i].name, "v_proj")) s[i].dtype = "F16";
    }
    snprintf(s[n].name, sizeof s[n].name, "model.layers.0.self_attn.rotary_emb.inv_freq");
    s[n].dtype = "F32";
    s[n].ndim = 1;
    s[n].shape[0] = 4;
    write_mini("good", cfg, s, n + 1);
    path_of(dir, sizeof dir, "good");
    int rc = am_qwen3_open(&m, dir, &e);
    CHECK(rc == 0, "good: %s", e.msg);
    if (!rc) {
        CHECK(m.lm_head != m.embed && !strcmp(m.lm_head->name, "lm_head.weight"), "untied lm_head");
        CHECK(!strcmp(m.embed->name, "model.embed_tokens.weight") && !strcmp(m.final_norm->name, "model.norm.weight"),
              "embed/norm names");
        const char *fields[] = {"input_layernorm",  "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                "self_attn.o_proj", "self_attn.q_norm", "self_attn.k_norm", "post_attention_layernorm",
                                "mlp.gate_proj",    "mlp.up_proj",      "mlp.down_proj"};
        for (int l = 0; l < 2; l++) {
            const am_tensor *const *t = (const am_tensor *const *)&m.layers[l];
            for (int k = 0; k < 11; k++) {
                char want[128];
                snprintf(want, sizeof want, "model.layers.%d.%s.weight", l, fields[k]);
                CHECK(t[k] && !strcmp(t[k]->name, want), "layer %d slot %d: %s != %s", l, k, t[k] ? t[k]->name : "NULL",
                      want);
            }
        }
        CHECK(m.layers[1].v_proj->dtype == AM_F16 && m.layers[1].q_norm->dtype == AM_F32 &&
                  m.layers[1].q_proj->dtype == AM_BF16,
              "mixed dtypes kept");
        CHECK(m.layers[0].o_proj->shape[0] == 16 && m.layers[0].o_proj->shape[1] == 32, "o_proj shape");
        /* bytes: tensor i in the written order has byte k = i*31+k */
        const unsigned char *b = m.layers[0].q_proj->data;
        CHECK(b[0] == (unsigned char)(5 * 31) && b[100] == (unsigned char)(5 * 31 + 100), "q_proj bytes %d %d", b[0],
              b[100]);
        CHECK(strlen(m.fingerprint) == 16, "fingerprint length");
        char fp1[17];
        memcpy(fp1, m.fingerprint, 17);
        am_qwen3_close(&m);
        CHECK(am_qwen3_open(&m, dir, &e) == 0 && !strcmp(fp1, m.fingerprint), "fingerprint stable");
        am_qwen3_close(&m);
        /* the fingerprint follows config.json */
        json_object_set_new(cfg, "use_cache", json_true());
        write_mini("good", cfg, s, n + 1);
        CHECK(am_qwen3_open(&m, dir, &e) == 0 && strcmp(fp1, m.fingerprint), "fingerprint changes");
        am_qwen3_close(&m);
        json_object_del(cfg, "use_cache");
    }

    /* a missing tensor is named */
    n = base_specs(s, 1);
    for (int i = 0; i < n; i++)
        if (!strcmp(s[i].name, "model.layers.1.mlp.up_proj.weight")) s[i] = s[--n];
    write_mini("missing", cfg, s, n);
    expect_open_fail("missing", "tensor \"model.layers.1.mlp.up_proj.weight\" missing",
                     "expected [intermediate_size, hidden_size] = [24, 16]");

    /* q_proj transposed */
    n = base_specs(s, 1);
    for (int i = 0; i < n; i++)
        if (!strcmp(s[i].name, "model.layers.1.self_attn.q_proj.weight")) {
            s[i].shape[0] = 16;
            s[i].shape[1] = 32;
        }
    write_mini("transposed", cfg, s, n);
    expect_open_fail("transposed",
                     "transposed/model.safetensors: tensor "
                     "\"model.layers.1.self_attn.q_proj.weight\" has shape [16, 32]",
                     "expected [num_attention_heads*head_dim, hidden_size] = [32, 16]");

    /* a 2-D norm */
    n = base_specs(s, 1);
    s[1].ndim = 2;
    s[1].shape[1] = 1;
    write_mini("norm2d", cfg, s, n);
    expect_open_fail("norm2d", "\"model.norm.weight\" has shape [16, 1], expected [hidden_size] = [16]", NULL);

    /* extra layer */
    n = base_specs(s, 1);
    snprintf(s[n].name, sizeof s[n].name, "model.layers.2.input_layernorm.weight");
    s[n].dtype = "BF16";
    s[n].ndim = 1;
    s[n].shape[0] = 16;
    write_mini("extra", cfg, s, n + 1);
    expect_open_fail("extra", "unexpected tensor \"model.layers.2.input_layernorm.weight\"", "with 2 layers");

    /* untied without lm_head */
    n = base_specs(s, 0);
    write_mini("nolmhead", cfg, s, n);
    expect_open_fail("nolmhead", "\"lm_head.weight\" missing and tie_word_embeddings is false", NULL);

    /* tied: lm_head is the embedding, a stored lm_head.weight is ignored */
    json_object_set_new(cfg, "tie_word_embeddings", json_true());
    n = base_specs(s, 1);
    write_mini("tied", cfg, s, n);
    path_of(dir, sizeof dir, "tied");
    rc = am_qwen3_open(&m, dir, &e);
    CHECK(rc == 0 && m.lm_head == m.embed, "tied with stored lm_head: %s", rc ? e.msg : "");
    if (!rc) am_qwen3_close(&m);
    n = base_specs(s, 0);
    write_mini("tied", cfg, s, n);
    rc = am_qwen3_open(&m, dir, &e);
    CHECK(rc == 0 && m.lm_head == m.embed, "tied: %s", rc ? e.msg : "");
    if (!rc) am_qwen3_close(&m);
    json_decref(cfg);
}

/* ---- error codes ----------------------------------------------------------- */

/* Open `name` and expect failure with `code` (and am_exit_status 1). */
static void expect_open_code(const char *name, am_code code) {
    char dir[512];
    path_of(dir, sizeof dir, name);
    am_qwen3 m;
    am_err e = {0};
    int rc = am_qwen3_open(&m, dir, &e);
    CHECK(rc == -1, "%s: expected failure", name);
    if (rc == 0) {
        am_qwen3_close(&m);
        return;
    }
    CHECK(e.code == code, "%s: code %d, want %d (%s)", name, (int)e.code, (int)code, e.msg);
    CHECK(am_exit_status(&e) == 1, "%s: exit status %d", name, am_exit_status(&e));
}

/* Missing files and tensors are AM_E_NOTFOUND, malformed ones AM_E_CORRUPT
 * (runs after test_binding, whose checkpoints it reuses). */
static void test_codes(void) {
    expect_open_code("no-such-checkpoint", AM_E_NOTFOUND); /* config.json missing */
    expect_open_code("missing", AM_E_NOTFOUND);            /* a tensor missing */
    expect_open_code("transposed", AM_E_CORRUPT);          /* a tensor of the wrong shape */
    expect_open_code("extra", AM_E_CORRUPT);               /* a tensor the model does not have */
    /* a config.json that is not JSON */
    char path[600];
    path_of(path, sizeof path, "extra/config.json");
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("{\"model_type\": \"qwen3\",", f);
        fclose(f);
    }
    expect_open_code("extra", AM_E_CORRUPT);
    /* truncated safetensors: the header promises more bytes than the file holds */
    path_of(path, sizeof path, "transposed/model.safetensors");
    struct stat sb;
    CHECK(stat(path, &sb) == 0 && truncate(path, sb.st_size / 2) == 0, "truncate %s", path);
    expect_open_code("transposed", AM_E_CORRUPT);
}

/* ---- the synthetic writer through the loader ------------------------------ */

static int write_preset(const char *name, const char *preset, am_dtype dt, int shards, uint64_t seed, am_err *e) {
    am_qwen3_config c;
    if (am_ckpt_preset(&c, preset, e)) return -1;
    am_ckpt_opts o = {.dtype = dt, .shards = shards, .seed = seed, .qk_scale = 2.0};
    char dir[512];
    path_of(dir, sizeof dir, name);
    return am_ckpt_write(&c, &o, dir, e);
}

/* Every stored element equals the generator's value rounded to the dtype. */
static void check_values(const am_qwen3 *m, uint64_t seed, double qk) {
    am_ckpt_tensor *t;
    int n;
    am_err e;
    if (am_ckpt_tensors(&m->cfg, &t, &n, &e)) {
        CHECK(0, "%s", e.msg);
        return;
    }
    CHECK(n == m->st.ntensors, "tensor count %d vs %d", n, m->st.ntensors);
    long bad = 0;
    for (int i = 0; i < n; i++) {
        const am_tensor *x = am_st_find(&m->st, t[i].name);
        if (!x) {
            CHECK(0, "%s not stored", t[i].name);
            continue;
        }
        int64_t ne = t[i].ndim == 1 ? t[i].shape[0] : t[i].shape[0] * t[i].shape[1];
        for (int64_t j = 0; j < ne; j++) {
            float v = am_ckpt_value(seed, i, t[i].kind, qk, (uint64_t)j);
            if (x->dtype == AM_BF16) bad += ((const uint16_t *)x->data)[j] != am_ckpt_bf16(v);
            else if (x->dtype == AM_F16) bad += ((const uint16_t *)x->data)[j] != am_ckpt_f16(v);
            else bad += ((const float *)x->data)[j] != v;
        }
    }
    CHECK(bad == 0, "%ld elements differ from the generator", bad);
    free(t);
}

static void test_writer(void) {
    am_err e = {0};
    am_qwen3 m;
    char dir[512], a[700], b[700];

    /* tiny preset, one file, bf16 */
    CHECK(write_preset("tiny", "tiny", AM_BF16, 1, 5, &e) == 0, "write tiny: %s", e.msg);
    path_of(dir, sizeof dir, "tiny");
    int rc = am_qwen3_open(&m, dir, &e);
    CHECK(rc == 0, "open tiny: %s", e.msg);
    if (rc) return;
    const am_qwen3_config *c = &m.cfg;
    CHECK(c->hidden_size == 64 && c->num_hidden_layers == 4 && c->num_attention_heads == 4 &&
              c->num_key_value_heads == 2 && c->head_dim == 32 && c->intermediate_size == 192 &&
              c->vocab_size == 151936 && c->tie_word_embeddings == 1 && c->max_position_embeddings == 40960 &&
              c->rope_theta == 1e6 && c->rms_norm_eps == 1e-6,
          "tiny config");
    /* config.json says eos 151645; generation_config.json lists two */
    CHECK(c->n_eos == 2 && c->eos_ids[0] == 151645 && c->eos_ids[1] == 151643 && c->bos_token_id == 151643,
          "tiny eos/bos");
    CHECK(m.lm_head == m.embed && m.st.nfiles == 1 && m.st.ntensors == 2 + 11 * 4, "tiny tensors");
    CHECK(m.layers[3].q_proj->shape[0] == 128 && m.layers[3].q_proj->shape[1] == 64, "q_proj shape");
    check_values(&m, 5, 2.0);
    /* value distributions: matrices ~N(0, 0.02^2), norms 1 +- 0.1, q/k norms 2 * (1 +- 0.1) */
    {
        const uint16_t *w = m.embed->data;
        double s = 0, s2 = 0;
        int64_t ne = m.embed->shape[0] * m.embed->shape[1];
        for (int64_t j = 0; j < ne; j++) {
            double v = bf16_to_f32(w[j]);
            s += v;
            s2 += v * v;
        }
        double mean = s / ne, sd = sqrt(s2 / ne - mean * mean);
        CHECK(fabs(mean) < 1e-4 && fabs(sd - 0.02) < 0.0004, "embed mean %g std %g", mean, sd);
        const uint16_t *nw = m.layers[2].input_norm->data, *qn = m.layers[2].q_norm->data;
        float lo = 9, hi = -9, qlo = 9, qhi = -9;
        for (int j = 0; j < 64; j++) {
            lo = fminf(lo, bf16_to_f32(nw[j]));
            hi = fmaxf(hi, bf16_to_f32(nw[j]));
        }
        for (int j = 0; j < 32; j++) {
            qlo = fminf(qlo, bf16_to_f32(qn[j]));
            qhi = fmaxf(qhi, bf16_to_f32(qn[j]));
        }
        CHECK(lo >= 0.898f && hi <= 1.102f && hi - lo > 0.1f, "norm range [%g, %g]", lo, hi);
        CHECK(qlo >= 1.79f && qhi <= 2.21f && qhi - qlo > 0.2f, "q_norm range [%g, %g]", qlo, qhi);
    }
    char fp_tiny[17];
    memcpy(fp_tiny, m.fingerprint, 17);
    am_qwen3_close(&m);

    /* refuse to overwrite; --force replaces; a directory with foreign files is kept */
    rc = write_preset("tiny", "tiny", AM_BF16, 1, 5, &e);
    CHECK(rc == -1 && strstr(e.msg, "already holds a checkpoint"), "overwrite refused: %s", e.msg);
    {
        am_qwen3_config cc;
        am_ckpt_preset(&cc, "tiny", &e);
        am_ckpt_opts o = {.dtype = AM_BF16, .shards = 1, .seed = 5, .qk_scale = 2.0, .force = 1};
        CHECK(am_ckpt_write(&cc, &o, dir, &e) == 0, "force: %s", e.msg);
        CHECK(am_qwen3_open(&m, dir, &e) == 0 && !strcmp(m.fingerprint, fp_tiny), "rewrite gives the same fingerprint");
        am_qwen3_close(&m);
        path_of(a, sizeof a, "foreign");
        mkdir(a, 0777);
        path_of(b, sizeof b, "foreign/notes.txt");
        FILE *f = fopen(b, "w");
        fputs("keep", f);
        fclose(f);
        CHECK(am_ckpt_write(&cc, &o, a, &e) == -1 && strstr(e.msg, "\"notes.txt\", which is not a "
                                                                   "checkpoint file"),
              "foreign dir: %s", e.msg);
        CHECK(access(b, F_OK) == 0, "foreign file kept");
    }

    /* sharded f16, written with 1 and 2 threads: identical bytes */
    omp_set_num_threads(1);
    CHECK(write_preset("sh1", "tiny", AM_F16, 3, 5, &e) == 0, "sh1: %s", e.msg);
    omp_set_num_threads(2);
    CHECK(write_preset("sh2", "tiny", AM_F16, 3, 5, &e) == 0, "sh2: %s", e.msg);
    const char *files[] = {"config.json",
                           "generation_config.json",
                           "model.safetensors.index.json",
                           "model-00001-of-00003.safetensors",
                           "model-00002-of-00003.safetensors",
                           "model-00003-of-00003.safetensors"};
    for (int i = 0; i < 6; i++) {
        snprintf(a, sizeof a, "%s/sh1/%s", root, files[i]);
        snprintf(b, sizeof b, "%s/sh2/%s", root, files[i]);
        CHECK(same_file(a, b), "%s differs between 1 and 2 threads", files[i]);
    }
    path_of(dir, sizeof dir, "sh2");
    rc = am_qwen3_open(&m, dir, &e);
    CHECK(rc == 0, "open sh2: %s", e.msg);
    if (!rc) {
        CHECK(m.st.nfiles == 3 && m.embed->dtype == AM_F16, "sharded files %d", m.st.nfiles);
        CHECK(strcmp(m.fingerprint, fp_tiny), "sharded fingerprint differs from single file");
        check_values(&m, 5, 2.0);
        am_qwen3_close(&m);
    }
    /* another seed, other weights */
    CHECK(write_preset("seed6", "tiny", AM_F32, 2, 6, &e) == 0, "seed6: %s", e.msg);
    path_of(dir, sizeof dir, "seed6");
    rc = am_qwen3_open(&m, dir, &e);
    CHECK(rc == 0, "open seed6: %s", e.msg);
    if (!rc) {
        check_values(&m, 6, 2.0);
        float v5 = am_ckpt_value(5, 0, AM_CKPT_MATRIX, 2.0, 0);
        CHECK(((const float *)m.embed->data)[0] != v5, "seed changes the weights");
        am_qwen3_close(&m);
    }
    /* no temporary directories left behind */
    snprintf(a, sizeof a, "ls -d %s/*.tmp-* %s/*.old-* >/dev/null 2>&1", root, root);
    CHECK(system(a) != 0, "temporary directories left in %s", root);
}

int main(void) {
    snprintf(root, sizeof root, "q3_test_%ld", (long)getpid());
    if (mkdir(root, 0777)) {
        perror(root);
        return 2;
    }
    test_config();
    test_binding();
    test_codes();
    test_writer();
    if (!failures) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd)) fprintf(stderr, "warning: could not remove %s\n", root);
        printf("test_qwen3_load: all checks passed\n");
        return 0;
    }
    fprintf(stderr, "test_qwen3_load: %d failures (files kept in %s)\n", failures, root);
    return 1;
}
