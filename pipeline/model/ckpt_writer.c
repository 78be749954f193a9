/* Synthetic Qwen3 checkpoint writer (see ckpt_writer.h).
 *
 * Each element's value is a pure function of (seed, tensor index, element
 * index): the data is generated in chunks by OpenMP threads and written with
 * pwrite at its final offset, so no whole-model buffer exists and the bytes do
 * not depend on the thread count. */
#include "model/ckpt_writer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/progress.h"
#include "half.h"

#define CHUNK_ELEMS ((int64_t)1 << 21) /* elements generated per work item */

/* ---- presets --------------------------------------------------------------- */

typedef struct preset {
    const char *name;
    int D, L, H, KV, hd, F, V, tied;
} preset;

static const preset PRESETS[] = {
    {"tiny", 64, 4, 4, 2, 32, 192, 151936, 1},
    {"small", 256, 6, 8, 4, 64, 768, 151936, 0},
    {"qwen3-0.6b", 1024, 28, 16, 8, 128, 3072, 151936, 1},
    {"qwen3-1.7b", 2048, 28, 16, 8, 128, 6144, 151936, 1},
    {"qwen3-4b", 2560, 36, 32, 8, 128, 9728, 151936, 1},
    {"qwen3-8b", 4096, 36, 32, 8, 128, 12288, 151936, 0},
    {"qwen3-14b", 5120, 40, 40, 8, 128, 17408, 151936, 0},
    {"circuit", 64, 4, 4, 2, 32, 64, 512, 1},
};

const char *const am_ckpt_preset_list = "tiny small qwen3-0.6b qwen3-1.7b qwen3-4b qwen3-8b qwen3-14b circuit";

int am_ckpt_preset(am_qwen3_config *c, const char *name, am_err *e) {
    for (size_t i = 0; i < sizeof PRESETS / sizeof PRESETS[0]; i++) {
        const preset *p = &PRESETS[i];
        if (strcmp(p->name, name)) continue;
        memset(c, 0, sizeof *c);
        c->hidden_size = p->D;
        c->intermediate_size = p->F;
        c->num_hidden_layers = p->L;
        c->num_attention_heads = p->H;
        c->num_key_value_heads = p->KV;
        c->head_dim = p->hd;
        c->vocab_size = p->V;
        c->max_position_embeddings = 40960;
        c->rms_norm_eps = 1e-6;
        c->rope_theta = 1e6;
        c->tie_word_embeddings = p->tied;
        c->bos_token_id = 151643;
        c->eos_ids[0] = 151645;
        c->eos_ids[1] = 151643;
        c->n_eos = 2;
        snprintf(c->torch_dtype, sizeof c->torch_dtype, "bfloat16");
        return 0;
    }
    return am_fail_code(e, AM_E_USAGE, "unknown preset \"%s\" (known: %s)", name, am_ckpt_preset_list);
}

/* ---- tensor list ----------------------------------------------------------- */

static int cmp_tensor(const void *a, const void *b) {
    return strcmp(((const am_ckpt_tensor *)a)->name, ((const am_ckpt_tensor *)b)->name);
}

int am_ckpt_tensors(const am_qwen3_config *c, am_ckpt_tensor **out, int *n, am_err *e) {
    int64_t D = c->hidden_size, F = c->intermediate_size, V = c->vocab_size, hd = c->head_dim;
    int64_t Q = (int64_t)c->num_attention_heads * hd, K = (int64_t)c->num_key_value_heads * hd;
    int cap = 3 + 11 * c->num_hidden_layers, k = 0;
    am_ckpt_tensor *t = am_calloc((size_t)cap, sizeof *t, "the tensor list", e); /* [cap] */
    if (!t) return -1;
#define ADD(nd, a, b, kd, ...)                              \
    do {                                                    \
        snprintf(t[k].name, sizeof t[k].name, __VA_ARGS__); \
        t[k].ndim = nd;                                     \
        t[k].shape[0] = a;                                  \
        t[k].shape[1] = b;                                  \
        t[k].kind = kd;                                     \
        k++;                                                \
    } while (0)
    ADD(2, V, D, AM_CKPT_MATRIX, "model.embed_tokens.weight");
    ADD(1, D, 0, AM_CKPT_NORM, "model.norm.weight");
    if (!c->tie_word_embeddings) ADD(2, V, D, AM_CKPT_MATRIX, "lm_head.weight");
    for (int l = 0; l < c->num_hidden_layers; l++) {
        ADD(1, D, 0, AM_CKPT_NORM, "model.layers.%d.input_layernorm.weight", l);
        ADD(1, D, 0, AM_CKPT_NORM, "model.layers.%d.post_attention_layernorm.weight", l);
        ADD(2, Q, D, AM_CKPT_MATRIX, "model.layers.%d.self_attn.q_proj.weight", l);
        ADD(2, K, D, AM_CKPT_MATRIX, "model.layers.%d.self_attn.k_proj.weight", l);
        ADD(2, K, D, AM_CKPT_MATRIX, "model.layers.%d.self_attn.v_proj.weight", l);
        ADD(2, D, Q, AM_CKPT_MATRIX, "model.layers.%d.self_attn.o_proj.weight", l);
        ADD(1, hd, 0, AM_CKPT_QKNORM, "model.layers.%d.self_attn.q_norm.weight", l);
        ADD(1, hd, 0, AM_CKPT_QKNORM, "model.layers.%d.self_attn.k_norm.weight", l);
        ADD(2, F, D, AM_CKPT_MATRIX, "model.layers.%d.mlp.gate_proj.weight", l);
        ADD(2, F, D, AM_CKPT_MATRIX, "model.layers.%d.mlp.up_proj.weight", l);
        ADD(2, D, F, AM_CKPT_MATRIX, "model.layers.%d.mlp.down_proj.weight", l);
    }
#undef ADD
    qsort(t, (size_t)k, sizeof *t, cmp_tensor);
    *out = t;
    *n = k;
    return 0;
}

static int64_t tensor_elems(const am_ckpt_tensor *t) { return t->ndim == 1 ? t->shape[0] : t->shape[0] * t->shape[1]; }

/* ---- values ---------------------------------------------------------------- */

/* splitmix64 output function of state z (the state advances by the golden gamma). */
static inline uint64_t mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint64_t tensor_key(uint64_t seed, int index) {
    return mix64(mix64(seed) ^ mix64(0x5851f42d4c957f2dull + (uint64_t)index));
}

/* Matrix value from one hash: four 16-bit uniforms summed (mean 131070,
 * variance 4 * 65536^2 / 12), centred exactly in integers, then one multiply:
 * no rounding step a compiler could fuse, so every code path gives the same bits. */
static inline float matrix_value(uint64_t h) {
    int32_t s = (int32_t)(h & 0xffff) + (int32_t)((h >> 16) & 0xffff) + (int32_t)((h >> 32) & 0xffff) +
                (int32_t)(h >> 48) - 131070;
    return (float)s * (0.02f * 1.7320508f / 65536.0f);
}

static inline float value_at(uint64_t key, int kind, float qk_scale, uint64_t i) {
    uint64_t h = mix64(key + i * 0x9e3779b97f4a7c15ull);
    if (kind == AM_CKPT_MATRIX) return matrix_value(h);
    float u = (float)(h >> 40) * (2.0f / 16777216.0f) - 1.0f; /* [-1, 1) */
    float w = 1.0f + 0.1f * u;
    return kind == AM_CKPT_QKNORM ? qk_scale * w : w;
}

/* Matrix chunk straight to bf16, d[i] = element first + i. The values cannot
 * be NaN, so the rounding needs no NaN branch; vectorised variants below. */
#define FILL_BF16_MATRIX_BODY                                                               \
    for (int64_t i = 0; i < n; i++) {                                                       \
        float v = matrix_value(mix64(key + (first + (uint64_t)i) * 0x9e3779b97f4a7c15ull)); \
        uint32_t u;                                                                         \
        memcpy(&u, &v, 4);                                                                  \
        d[i] = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);                          \
    }

static void fill_bf16_matrix_plain(uint64_t key, uint64_t first, int64_t n, uint16_t *d) { FILL_BF16_MATRIX_BODY }

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl"))) static void
fill_bf16_matrix_avx512(uint64_t key, uint64_t first, int64_t n, uint16_t *d) {
    _Pragma("omp simd") FILL_BF16_MATRIX_BODY
}

/* 1 when the AVX-512 variant can run here (vpmullq for the 64-bit hash). */
static int fill_fast(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl");
}
#else /* x86 code is compiled on x86-64 only */
#define fill_bf16_matrix_avx512 fill_bf16_matrix_plain
static int fill_fast(void) { return 0; }
#endif

float am_ckpt_value(uint64_t seed, int index, int kind, double qk_scale, uint64_t i) {
    return value_at(tensor_key(seed, index), kind, (float)qk_scale, i);
}

uint16_t am_ckpt_bf16(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* NaN stays NaN */
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

uint16_t am_ckpt_f16(float x) { return am_f32_to_f16(x); }

/* ---- the circuit checkpoint ------------------------------------------------ */

/* Hand-set weights with known attention heads (docs/freeze.md, "Head classes"):
 * token embeddings hold a constant 1 in dimension 0 and a random identity in
 * dimensions 1..16. Layer 0: head 0 looks at the previous token (constant q
 * and k in the four fastest RoPE pairs, k rotated by one position's angle),
 * head 2 at itself (no rotation), heads 1 and 3 are uniform (q = 0); head 0
 * copies the previous token's identity into residual dimensions 32..47.
 * Layer 1, head 0 is an induction head: q = the current identity, k = the
 * previous token's identity, in the slowest RoPE pairs 8..15 (rotation
 * < 1e-3 rad per position). Every other weight of attention and MLP is 0
 * (uniform heads), norms are 1. */
#define CIRCUIT_G0 4.0f /* q_norm/k_norm weight, layer 0 */
#define CIRCUIT_G1 4.0f /* layer 1 */

static float circuit_value(const am_qwen3_config *c, const am_ckpt_tensor *t, int index, uint64_t seed, uint64_t i) {
    int hd = c->head_dim, half = hd / 2;
    int64_t cols = t->ndim == 2 ? t->shape[1] : 1, row = (int64_t)(i / (uint64_t)cols),
            col = (int64_t)(i % (uint64_t)cols);
    int l = -1;
    const char *w = t->name;
    if (!strncmp(w, "model.layers.", 13)) {
        l = atoi(w + 13);
        w = strchr(w + 13, '.') + 1;
    }
    if (!strcmp(w, "model.embed_tokens.weight") || !strcmp(w, "lm_head.weight")) {
        if (col == 0) return 1.0f;
        if (col >= 1 && col <= 16) {
            uint64_t h = mix64(tensor_key(seed, index) + i * 0x9e3779b97f4a7c15ull);
            return (float)(h >> 40) * (2.0f / 16777216.0f) - 1.0f;
        }
        return 0.0f;
    }
    if (t->ndim == 1) {
        if (!strcmp(w, "self_attn.q_norm.weight") || !strcmp(w, "self_attn.k_norm.weight"))
            return l == 0 ? CIRCUIT_G0 : l == 1 ? CIRCUIT_G1 : 1.0f;
        return 1.0f; /* layer norms, final norm */
    }
    int64_t head = row / hd, r = row % hd;
    if (l == 0 && !strcmp(w, "self_attn.q_proj.weight")) /* heads 0 and 2: constant q in pairs 0..3 */
        return (head == 0 || head == 2) && r < 4 && col == 0 ? 1.0f : 0.0f;
    if (l == 0 && !strcmp(w, "self_attn.k_proj.weight")) {
        if (col != 0 || r % half >= 4) return 0.0f;
        int pr = (int)(r % half);
        if (head == 1) return r < half ? 1.0f : 0.0f; /* kv head 1 (self): no rotation */
        float inv = 1.0f / powf((float)c->rope_theta, (float)(2 * pr) / (float)hd);
        return r < half ? cosf(inv) : sinf(inv); /* kv head 0: rotated by one position */
    }
    if (l == 0 && !strcmp(w, "self_attn.v_proj.weight")) /* kv head 0: v = identity */
        return head == 0 && r < 16 && col == 1 + r ? 1.0f : 0.0f;
    if (l == 0 && !strcmp(w, "self_attn.o_proj.weight")) /* head 0 -> residual 32..47 */
        return row >= 32 && row < 48 && col == row - 32 ? 0.3f : 0.0f;
    if (l == 1 && (!strcmp(w, "self_attn.q_proj.weight") || !strcmp(w, "self_attn.k_proj.weight"))) {
        /* head / kv head 0: pairs 8..15 (dims 8..15, 24..31) <- 16 identity dims */
        int src = !strcmp(w, "self_attn.q_proj.weight") ? 1 : 32;
        int slot = r >= 8 && r < 16 ? (int)r - 8 : r >= 24 ? (int)r - 16 : -1;
        return head == 0 && slot >= 0 && col == src + slot ? 1.0f : 0.0f;
    }
    return 0.0f;
}

/* ---- small file helpers ---------------------------------------------------- */

static int write_json(const char *path, json_t *j, am_err *e) {
    if (json_dump_file(j, path, JSON_INDENT(2) | JSON_REAL_PRECISION(10)))
        return am_fail_errno(e, "cannot write %s", path);
    FILE *f = fopen(path, "a"); /* trailing newline, as transformers writes */
    if (!f || fputc('\n', f) == EOF || fclose(f)) return am_fail_errno(e, "cannot write %s", path);
    return 0;
}

/* File names a checkpoint directory may hold (the only ones we delete). */
static int known_name(const char *n) {
    static const char *fixed[] = {"config.json",       "generation_config.json",
                                  "model.safetensors", "model.safetensors.index.json",
                                  "tokenizer.json",    "tokenizer_config.json"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (!strcmp(n, fixed[i])) return 1;
    unsigned a, b;
    char tail[32];
    return sscanf(n, "model-%5u-of-%5u.%31s", &a, &b, tail) == 3 && !strcmp(tail, "safetensors");
}

/* 0 if dir holds only checkpoint files (or does not exist); else names the intruder. */
static int check_only_known(const char *dir, am_err *e) {
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : am_fail_errno(e, "cannot read directory %s", dir);
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && !known_name(de->d_name)) {
            rc = am_fail(e,
                         "%s holds \"%s\", which is not a checkpoint file; refusing to replace "
                         "the directory (choose another --out)",
                         dir, de->d_name);
            break;
        }
    closedir(d);
    return rc;
}

/* Delete the checkpoint files in dir and the directory itself. */
static int remove_ckpt_dir(const char *dir, am_err *e) {
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : am_fail_errno(e, "cannot read directory %s", dir);
    struct dirent *de;
    char p[8192];
    while ((de = readdir(d)))
        if (known_name(de->d_name)) {
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            unlink(p);
        }
    closedir(d);
    if (rmdir(dir)) return am_fail_errno(e, "cannot remove %s", dir);
    return 0;
}

/* Create the directories above path (not path itself). */
static int mkdir_parents(const char *path, am_err *e) {
    char p[4096];
    snprintf(p, sizeof p, "%s", path);
    char *sl = strrchr(p, '/');
    if (!sl || sl == p) return 0;
    *sl = 0;
    return am_mkdirs(p, e);
}

/* ---- config files ---------------------------------------------------------- */

static const char *torch_dtype(am_dtype t) { return t == AM_F32 ? "float32" : t == AM_F16 ? "float16" : "bfloat16"; }

static int write_configs(const am_qwen3_config *c, am_dtype dt, const char *dir, am_err *e) {
    char path[8192];
    int rc = -1;
    json_t *o = json_object(), *g = json_object();
    json_t *eos = json_array();
    for (int i = 0; i < c->n_eos; i++) json_array_append_new(eos, json_integer(c->eos_ids[i]));
    json_object_set_new(o, "architectures", json_pack("[s]", "Qwen3ForCausalLM"));
    json_object_set_new(o, "attention_bias", json_false());
    json_object_set_new(o, "attention_dropout", json_real(0.0));
    json_object_set_new(o, "bos_token_id", json_integer(c->bos_token_id));
    json_object_set_new(o, "eos_token_id", json_integer(c->n_eos ? c->eos_ids[0] : 151645));
    json_object_set_new(o, "head_dim", json_integer(c->head_dim));
    json_object_set_new(o, "hidden_act", json_string("silu"));
    json_object_set_new(o, "hidden_size", json_integer(c->hidden_size));
    json_object_set_new(o, "initializer_range", json_real(0.02));
    json_object_set_new(o, "intermediate_size", json_integer(c->intermediate_size));
    json_object_set_new(o, "max_position_embeddings", json_integer(c->max_position_embeddings));
    json_object_set_new(o, "max_window_layers", json_integer(c->num_hidden_layers));
    json_object_set_new(o, "model_type", json_string("qwen3"));
    json_object_set_new(o, "num_attention_heads", json_integer(c->num_attention_heads));
    json_object_set_new(o, "num_hidden_layers", json_integer(c->num_hidden_layers));
    json_object_set_new(o, "num_key_value_heads", json_integer(c->num_key_value_heads));
    json_object_set_new(o, "rms_norm_eps", json_real(c->rms_norm_eps));
    json_object_set_new(o, "rope_scaling", json_null());
    if (c->rope_theta == floor(c->rope_theta) && c->rope_theta < 1e15)
        json_object_set_new(o, "rope_theta", json_integer((json_int_t)c->rope_theta));
    else json_object_set_new(o, "rope_theta", json_real(c->rope_theta));
    json_object_set_new(o, "sliding_window", json_null());
    json_object_set_new(o, "tie_word_embeddings", json_boolean(c->tie_word_embeddings));
    json_object_set_new(o, "torch_dtype", json_string(torch_dtype(dt)));
    json_object_set_new(o, "transformers_version", json_string("4.51.0"));
    json_object_set_new(o, "use_cache", json_true());
    json_object_set_new(o, "use_sliding_window", json_false());
    json_object_set_new(o, "vocab_size", json_integer(c->vocab_size));

    json_object_set_new(g, "bos_token_id", json_integer(c->bos_token_id));
    json_object_set_new(g, "do_sample", json_true());
    json_object_set_new(g, "eos_token_id", eos);
    json_object_set_new(g, "pad_token_id", json_integer(151643));
    json_object_set_new(g, "temperature", json_real(0.6));
    json_object_set_new(g, "top_k", json_integer(20));
    json_object_set_new(g, "top_p", json_real(0.95));
    json_object_set_new(g, "transformers_version", json_string("4.51.0"));

    snprintf(path, sizeof path, "%s/config.json", dir);
    if (write_json(path, o, e)) goto out;
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    if (write_json(path, g, e)) goto out;
    rc = 0;
out:
    json_decref(o);
    json_decref(g);
    return rc;
}

/* ---- shards ---------------------------------------------------------------- */

typedef struct progress {
    int on;
    uint64_t total, done, next; /* bytes */
    double t0;
} progress;

/* Header JSON for tensors [a, b), space-padded to a multiple of 8 bytes. */
static char *shard_header(const am_ckpt_tensor *t, int a, int b, size_t esize, size_t *len, am_dtype dt, am_err *e) {
    json_t *h = json_object();
    json_object_set_new(h, "__metadata__", json_pack("{s:s}", "format", "pt"));
    uint64_t off = 0;
    for (int i = a; i < b; i++) {
        uint64_t n = (uint64_t)tensor_elems(&t[i]) * esize;
        json_t *sh = t[i].ndim == 1 ? json_pack("[I]", (json_int_t)t[i].shape[0])
                                    : json_pack("[I,I]", (json_int_t)t[i].shape[0], (json_int_t)t[i].shape[1]);
        json_object_set_new(h, t[i].name,
                            json_pack("{s:s,s:o,s:[I,I]}", "dtype", am_dtype_name(dt), "shape", sh, "data_offsets",
                                      (json_int_t)off, (json_int_t)(off + n)));
        off += n;
    }
    char *s = json_dumps(h, JSON_COMPACT);
    json_decref(h);
    if (!s) {
        am_fail_code(e, AM_E_NOMEM, "out of memory building a safetensors header");
        return NULL;
    }
    size_t n = strlen(s), padded = (n + 7) & ~(size_t)7;
    char *p = realloc(s, padded + 1);
    if (!p) {
        free(s);
        am_fail_code(e, AM_E_NOMEM, "out of memory building a safetensors header");
        return NULL;
    }
    memset(p + n, ' ', padded - n);
    p[padded] = 0;
    *len = padded;
    return p;
}

typedef struct work {
    int tensor;    /* index into the tensor list */
    int64_t first; /* first element */
    int64_t count; /* elements */
    uint64_t off;  /* file offset of the first element */
} work;

static int write_shard(const am_qwen3_config *c, const char *path, const am_ckpt_tensor *t, int a, int b,
                       const am_ckpt_opts *o, progress *pr, am_err *e) {
    int rc = -1, fd = -1;
    size_t esize = am_dtype_size(o->dtype), hlen = 0;
    char *hdr = shard_header(t, a, b, esize, &hlen, o->dtype, e);
    work *w = NULL; /* [nw] */
    int64_t nw = 0, k = 0;
    unsigned char lenb[8];
    uint64_t off = 0;
    int failed = 0, fail_errno = 0, fast = 0;
    float qk = (float)o->qk_scale;
    if (!hdr) goto out;
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        am_fail_errno(e, "cannot create %s", path);
        goto out;
    }
    for (int i = 0; i < 8; i++) lenb[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    if (am_pwrite_all(fd, lenb, 8, 0) || am_pwrite_all(fd, hdr, hlen, 8)) {
        am_fail_errno(e, "cannot write %s", path);
        goto out;
    }
    /* split the data area into work items of up to CHUNK_ELEMS elements */
    for (int i = a; i < b; i++) nw += (tensor_elems(&t[i]) + CHUNK_ELEMS - 1) / CHUNK_ELEMS;
    w = am_calloc((size_t)(nw ? nw : 1), sizeof *w, "the work list", e);
    if (!w) goto out;
    off = 8 + hlen;
    for (int i = a; i < b; i++) {
        int64_t n = tensor_elems(&t[i]);
        for (int64_t s = 0; s < n; s += CHUNK_ELEMS) {
            w[k].tensor = i;
            w[k].first = s;
            w[k].count = n - s < CHUNK_ELEMS ? n - s : CHUNK_ELEMS;
            w[k].off = off + (uint64_t)s * esize;
            k++;
        }
        off += (uint64_t)n * esize;
    }
    fast = fill_fast();
#pragma omp parallel
    {
        unsigned char *buf = malloc((size_t)CHUNK_ELEMS * esize); /* [CHUNK_ELEMS] stored dtype */
        if (!buf) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (int64_t j = 0; j < nw; j++) {
            int f;
#pragma omp atomic read
            f = failed;
            if (f || !buf) continue;
            const work *wk = &w[j];
            uint64_t key = tensor_key(o->seed, wk->tensor);
            int kind = t[wk->tensor].kind;
            if (o->circuit) {
                for (int64_t i = 0; i < wk->count; i++) {
                    float v = circuit_value(c, &t[wk->tensor], wk->tensor, o->seed, (uint64_t)(wk->first + i));
                    if (o->dtype == AM_F32) ((float *)buf)[i] = v;
                    else ((uint16_t *)buf)[i] = o->dtype == AM_BF16 ? am_ckpt_bf16(v) : am_ckpt_f16(v);
                }
            } else if (o->dtype == AM_BF16 && kind == AM_CKPT_MATRIX) {
                (fast ? fill_bf16_matrix_avx512 : fill_bf16_matrix_plain)(key, (uint64_t)wk->first, wk->count,
                                                                          (uint16_t *)buf);
            } else if (o->dtype == AM_BF16) {
                uint16_t *d = (uint16_t *)buf;
                for (int64_t i = 0; i < wk->count; i++)
                    d[i] = am_ckpt_bf16(value_at(key, kind, qk, (uint64_t)(wk->first + i)));
            } else if (o->dtype == AM_F16) {
                uint16_t *d = (uint16_t *)buf;
                for (int64_t i = 0; i < wk->count; i++)
                    d[i] = am_ckpt_f16(value_at(key, kind, qk, (uint64_t)(wk->first + i)));
            } else {
                float *d = (float *)buf;
                for (int64_t i = 0; i < wk->count; i++) d[i] = value_at(key, kind, qk, (uint64_t)(wk->first + i));
            }
            size_t nb = (size_t)wk->count * esize;
            if (am_pwrite_all(fd, buf, nb, (off_t)wk->off)) {
#pragma omp critical(ckpt_fail)
                {
                    if (!failed) fail_errno = errno;
                    failed = 1;
                }
                continue;
            }
            if (pr->on) {
                uint64_t done;
#pragma omp atomic capture
                {
                    pr->done += nb;
                    done = pr->done;
                }
#pragma omp critical(ckpt_progress)
                if (done >= pr->next) {
                    double dt = am_now() - pr->t0;
                    fprintf(stderr, "  %5.1f%%  %.2f of %.2f GB  %.2f GB/s\n", 100.0 * (double)done / (double)pr->total,
                            done / 1e9, pr->total / 1e9, dt > 0 ? done / 1e9 / dt : 0.0);
                    while (pr->next <= done) pr->next += pr->total / 10;
                }
            }
        }
        free(buf);
    }
    if (failed) {
        errno = fail_errno ? fail_errno : ENOMEM;
        am_fail_errno(e, "cannot write %s", path);
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0 && close(fd) && !rc) rc = am_fail_errno(e, "cannot write %s", path);
    free(hdr);
    free(w);
    return rc;
}

static int write_index(const char *dir, const am_ckpt_tensor *t, const int *shard_of, int n, int nshards,
                       uint64_t total, am_err *e) {
    json_t *root = json_object(), *wm = json_object();
    char fname[64], path[8192];
    json_object_set_new(root, "metadata", json_pack("{s:I}", "total_size", (json_int_t)total));
    for (int i = 0; i < n; i++) {
        snprintf(fname, sizeof fname, "model-%05d-of-%05d.safetensors", shard_of[i] + 1, nshards);
        json_object_set_new(wm, t[i].name, json_string(fname));
    }
    json_object_set_new(root, "weight_map", wm);
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    int rc = write_json(path, root, e);
    json_decref(root);
    return rc;
}

/* ---- whole checkpoint ------------------------------------------------------ */

static int write_into(const am_qwen3_config *c, const am_ckpt_opts *o, const char *dir, am_err *e) {
    am_ckpt_tensor *t = NULL; /* [n] sorted by name */
    int *shard_of = NULL;     /* [n] */
    int n = 0, rc = -1, s = 0, a = 0;
    char path[8192];
    const size_t esize = am_dtype_size(o->dtype);
    uint64_t total = 0, acc = 0;
    progress pr;
    if (am_ckpt_tensors(c, &t, &n, e)) return -1;
    if (o->shards < 1 || o->shards > n) {
        am_fail_code(e, AM_E_USAGE, "--shards %d out of range (1 to %d tensors)", o->shards, n);
        goto out;
    }
    if (!(shard_of = am_calloc((size_t)n, sizeof *shard_of, "the shard map", e))) goto out;
    for (int i = 0; i < n; i++) total += (uint64_t)tensor_elems(&t[i]) * esize;
    /* contiguous runs of tensors of about total/shards bytes, none empty */
    for (int i = 0; i < n; i++) {
        shard_of[i] = s;
        acc += (uint64_t)tensor_elems(&t[i]) * esize;
        int left_t = n - 1 - i, left_s = o->shards - 1 - s;
        if (left_s > 0 && (acc * o->shards >= total * (uint64_t)(s + 1) || left_t == left_s)) s++;
    }
    if (write_configs(c, o->dtype, dir, e)) goto out;
    pr = (progress){o->progress, total, 0, total / 10, am_now()};
    for (int sh = 0; sh < o->shards; sh++) {
        int b = a;
        while (b < n && shard_of[b] == sh) b++;
        if (o->shards == 1) snprintf(path, sizeof path, "%s/model.safetensors", dir);
        else snprintf(path, sizeof path, "%s/model-%05d-of-%05d.safetensors", dir, sh + 1, o->shards);
        if (write_shard(c, path, t, a, b, o, &pr, e)) goto out;
        a = b;
    }
    if (o->shards > 1 && write_index(dir, t, shard_of, n, o->shards, total, e)) goto out;
    if (o->tokenizer) {
        char src[8192];
        if (am_is_dir(o->tokenizer)) snprintf(src, sizeof src, "%s/tokenizer.json", o->tokenizer);
        else snprintf(src, sizeof src, "%s", o->tokenizer);
        snprintf(path, sizeof path, "%s/tokenizer.json", dir);
        if (am_copy_file(src, path, e)) goto out;
        char *slash = strrchr(src, '/');
        if (slash) snprintf(slash + 1, sizeof src - (size_t)(slash + 1 - src), "tokenizer_config.json");
        else snprintf(src, sizeof src, "tokenizer_config.json");
        snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
        if (am_exists(src) && am_copy_file(src, path, e)) goto out;
    }
    rc = 0;
out:
    free(t);
    free(shard_of);
    return rc;
}

int am_ckpt_write(const am_qwen3_config *c, const am_ckpt_opts *o, const char *out, am_err *e) {
    if (o->circuit && (c->hidden_size != 64 || c->head_dim != 32 || c->num_attention_heads != 4 ||
                       c->num_key_value_heads != 2 || c->num_hidden_layers < 2))
        return am_fail_code(e, AM_E_USAGE,
                            "circuit weights need hidden 64, head_dim 32, 4 heads, 2 kv heads, "
                            ">= 2 layers (the \"circuit\" preset)");
    char tmp[4200], old[4200], probe[4300];
    size_t len = strlen(out);
    if (len == 0 || len > 4000) return am_fail_code(e, AM_E_USAGE, "bad output directory name \"%s\"", out);
    while (len > 1 && out[len - 1] == '/') len--; /* "dir/" -> "dir" */
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", (int)len, out);
    int exists = am_exists(dir);
    if (exists && !am_is_dir(dir)) return am_fail(e, "%s exists and is not a directory", dir);
    snprintf(probe, sizeof probe, "%s/config.json", dir);
    if (exists && am_exists(probe) && !o->force)
        return am_fail(e,
                       "%s already holds a checkpoint (config.json exists); pass --force to "
                       "replace it",
                       dir);
    if (exists && check_only_known(dir, e)) return -1;
    if (o->tokenizer) {
        snprintf(probe, sizeof probe, am_is_dir(o->tokenizer) ? "%s/tokenizer.json" : "%s", o->tokenizer);
        if (!am_exists(probe)) return am_fail_code(e, AM_E_NOTFOUND, "tokenizer %s not found", probe);
    }
    if (mkdir_parents(dir, e)) return -1;
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", dir, (long)getpid());
    snprintf(old, sizeof old, "%s.old-%ld", dir, (long)getpid());
    if (am_exists(tmp) && remove_ckpt_dir(tmp, e)) return -1;
    if (mkdir(tmp, 0777)) return am_fail_errno(e, "cannot create %s", tmp);
    if (write_into(c, o, tmp, e)) {
        am_err ignore;
        remove_ckpt_dir(tmp, &ignore);
        return am_wrap(e, "writing checkpoint %s", dir);
    }
    if (exists && rename(dir, old)) {
        am_fail_errno(e, "cannot move the old %s aside", dir);
        am_err ignore;
        remove_ckpt_dir(tmp, &ignore);
        return -1;
    }
    if (rename(tmp, dir)) {
        am_fail_errno(e, "cannot rename %s to %s", tmp, dir);
        if (exists) rename(old, dir);
        return -1;
    }
    if (exists && remove_ckpt_dir(old, e)) return am_wrap(e, "checkpoint %s written, but", dir);
    return 0;
}
