/* Qwen3 checkpoint: config.json (+ generation_config.json) and the weights
 * bound to the layer structure, shapes checked against the config. */
#include "model/qwen3.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "base/hash.h"

/* ---- config.json ---------------------------------------------------------- */

/* Integer key: required (def ignored) or optional with default def. */
static int get_int(json_t *o, const char *path, const char *key, int required, int def, int *out, am_err *e) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        if (required)
            return am_fail_code(e, AM_E_NOTFOUND, "%s: key \"%s\" missing (an integer is required)", path, key);
        *out = def;
        return 0;
    }
    if (!json_is_integer(v))
        return am_fail_code(e, AM_E_CORRUPT, "%s: key \"%s\" must be an integer, found %s", path, key,
                            json_is_string(v)    ? "a string"
                            : json_is_real(v)    ? "a real number"
                            : json_is_boolean(v) ? "a boolean"
                                                 : "an array or object");
    json_int_t x = json_integer_value(v);
    if (x < -2147483647 || x > 2147483647)
        return am_fail_code(e, AM_E_CORRUPT, "%s: key \"%s\" = %lld is out of range", path, key, (long long)x);
    *out = (int)x;
    return 0;
}

static int get_num(json_t *o, const char *path, const char *key, double def, double *out, am_err *e) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        *out = def;
        return 0;
    }
    if (!json_is_number(v)) return am_fail_code(e, AM_E_CORRUPT, "%s: key \"%s\" must be a number", path, key);
    *out = json_number_value(v);
    return 0;
}

/* Token id(s): int or list of ints. Returns the count found (0 if absent). */
static int get_ids(json_t *o, const char *path, const char *key, int *ids, int max, int *n, am_err *e) {
    json_t *v = json_object_get(o, key);
    *n = 0;
    if (!v || json_is_null(v)) return 0;
    if (json_is_integer(v)) {
        ids[0] = (int)json_integer_value(v);
        *n = 1;
        return 0;
    }
    if (!json_is_array(v))
        return am_fail_code(e, AM_E_CORRUPT, "%s: key \"%s\" must be an integer or a list of integers", path, key);
    if ((int)json_array_size(v) > max)
        return am_fail_code(e, AM_E_CORRUPT, "%s: key \"%s\" lists %zu ids (at most %d supported)", path, key,
                            json_array_size(v), max);
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) {
        if (!json_is_integer(x) || json_integer_value(x) < 0)
            return am_fail_code(e, AM_E_CORRUPT, "%s: key \"%s\"[%zu] must be a non-negative integer", path, key, i);
        ids[i] = (int)json_integer_value(x);
    }
    *n = (int)json_array_size(v);
    return 0;
}

/* Only plain RoPE is implemented: refuse scaled variants instead of silently
 * computing something else. */
static int check_rope_type(json_t *o, const char *path, const char *key, am_err *e) {
    json_t *rs = json_object_get(o, key);
    if (!rs || json_is_null(rs)) return 0;
    if (!json_is_object(rs))
        return am_fail_code(e, AM_E_CORRUPT, "%s: key \"%s\" must be an object or null", path, key);
    json_t *t = json_object_get(rs, "rope_type");
    if (!t) t = json_object_get(rs, "type");
    if (t && (!json_is_string(t) || strcmp(json_string_value(t), "default")))
        return am_fail(e, "%s: key \"%s\": rope_type %s is not supported (only \"default\")", path, key,
                       json_is_string(t) ? json_string_value(t) : "(not a string)");
    return 0;
}

static int parse_config(am_qwen3_config *c, json_t *o, const char *path, am_err *e) {
    if (!json_is_object(o)) return am_fail_code(e, AM_E_CORRUPT, "%s: not a JSON object", path);
    json_t *mt = json_object_get(o, "model_type");
    if (!json_is_string(mt))
        return am_fail_code(e, AM_E_CORRUPT, "%s: key \"model_type\" missing or not a string (expected \"qwen3\")",
                            path);
    if (strcmp(json_string_value(mt), "qwen3"))
        return am_fail(e, "%s: key \"model_type\" is \"%s\"; only \"qwen3\" (dense Qwen3) is supported", path,
                       json_string_value(mt));
    if (get_int(o, path, "hidden_size", 1, 0, &c->hidden_size, e) ||
        get_int(o, path, "intermediate_size", 1, 0, &c->intermediate_size, e) ||
        get_int(o, path, "num_hidden_layers", 1, 0, &c->num_hidden_layers, e) ||
        get_int(o, path, "num_attention_heads", 1, 0, &c->num_attention_heads, e) ||
        get_int(o, path, "num_key_value_heads", 0, 32, &c->num_key_value_heads, e) ||
        get_int(o, path, "head_dim", 0, 128, &c->head_dim, e) ||
        get_int(o, path, "vocab_size", 1, 0, &c->vocab_size, e) ||
        get_int(o, path, "max_position_embeddings", 0, 32768, &c->max_position_embeddings, e))
        return -1;
    if (get_num(o, path, "rms_norm_eps", 1e-6, &c->rms_norm_eps, e)) return -1;
    if (check_rope_type(o, path, "rope_scaling", e) || check_rope_type(o, path, "rope_parameters", e)) return -1;
    json_t *rp = json_object_get(o, "rope_parameters");
    if (json_object_get(o, "rope_theta")) {
        if (get_num(o, path, "rope_theta", 1e6, &c->rope_theta, e)) return -1;
    } else if (json_is_object(rp) && json_object_get(rp, "rope_theta")) {
        json_t *t = json_object_get(rp, "rope_theta");
        if (!json_is_number(t))
            return am_fail_code(e, AM_E_CORRUPT, "%s: key \"rope_parameters.rope_theta\" must be a number", path);
        c->rope_theta = json_number_value(t);
    } else {
        c->rope_theta = 1e6;
    }
    json_t *tie = json_object_get(o, "tie_word_embeddings");
    if (tie && !json_is_null(tie) && !json_is_boolean(tie))
        return am_fail_code(e, AM_E_CORRUPT, "%s: key \"tie_word_embeddings\" must be true or false", path);
    c->tie_word_embeddings = tie && json_is_true(tie);
    int bos[AM_MAX_EOS], nb = 0;
    if (get_ids(o, path, "bos_token_id", bos, AM_MAX_EOS, &nb, e)) return -1;
    c->bos_token_id = nb ? bos[0] : -1;
    if (get_ids(o, path, "eos_token_id", c->eos_ids, AM_MAX_EOS, &c->n_eos, e)) return -1;
    json_t *dt = json_object_get(o, "torch_dtype");
    if (!dt) dt = json_object_get(o, "dtype");
    if (json_is_string(dt)) snprintf(c->torch_dtype, sizeof c->torch_dtype, "%s", json_string_value(dt));

    /* validate */
    struct {
        const char *k;
        int v;
    } pos[] = {{"hidden_size", c->hidden_size},
               {"intermediate_size", c->intermediate_size},
               {"num_hidden_layers", c->num_hidden_layers},
               {"num_attention_heads", c->num_attention_heads},
               {"num_key_value_heads", c->num_key_value_heads},
               {"head_dim", c->head_dim},
               {"vocab_size", c->vocab_size},
               {"max_position_embeddings", c->max_position_embeddings}};
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++)
        if (pos[i].v <= 0)
            return am_fail_code(e, AM_E_CORRUPT, "%s: key \"%s\" = %d must be positive", path, pos[i].k, pos[i].v);
    if (c->num_attention_heads % c->num_key_value_heads)
        return am_fail_code(e, AM_E_CORRUPT, "%s: num_attention_heads %d is not divisible by num_key_value_heads %d%s",
                            path, c->num_attention_heads, c->num_key_value_heads,
                            json_object_get(o, "num_key_value_heads")
                                ? ""
                                : " (num_key_value_heads missing, defaulted to 32 as in transformers)");
    if (c->head_dim % 2)
        return am_fail_code(e, AM_E_CORRUPT, "%s: key \"head_dim\" = %d must be even (rotate-half RoPE)", path,
                            c->head_dim);
    if (!(c->rms_norm_eps >= 0) || !isfinite(c->rms_norm_eps))
        return am_fail_code(e, AM_E_CORRUPT, "%s: key \"rms_norm_eps\" must be a finite number >= 0", path);
    if (!(c->rope_theta > 0) || !isfinite(c->rope_theta))
        return am_fail_code(e, AM_E_CORRUPT, "%s: key \"rope_theta\" must be a finite number > 0", path);
    for (int i = 0; i < c->n_eos; i++)
        if (c->eos_ids[i] < 0)
            return am_fail_code(e, AM_E_CORRUPT, "%s: key \"eos_token_id\" holds a negative id", path);
    return 0;
}

/* generation_config.json: eos_token_id overrides config.json; bos fills in. */
static int parse_generation(am_qwen3_config *c, json_t *o, const char *path, am_err *e) {
    if (!json_is_object(o)) return am_fail_code(e, AM_E_CORRUPT, "%s: not a JSON object", path);
    int ids[AM_MAX_EOS], n = 0;
    if (get_ids(o, path, "eos_token_id", ids, AM_MAX_EOS, &n, e)) return -1;
    if (n) {
        memcpy(c->eos_ids, ids, (size_t)n * sizeof *ids);
        c->n_eos = n;
    }
    json_t *v;
    if ((v = json_object_get(o, "do_sample")) && !json_is_null(v)) {
        if (!json_is_boolean(v))
            return am_fail_code(e, AM_E_CORRUPT, "%s: key \"do_sample\" must be true or false", path);
        c->gen_do_sample = json_is_true(v);
    }
    if ((v = json_object_get(o, "temperature")) && !json_is_null(v)) {
        if (!json_is_number(v) || !(json_number_value(v) > 0) || !isfinite(json_number_value(v)))
            return am_fail_code(e, AM_E_CORRUPT, "%s: key \"temperature\" must be a number > 0", path);
        c->gen_temperature = json_number_value(v);
    }
    if ((v = json_object_get(o, "top_k")) && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT_MAX)
            return am_fail_code(e, AM_E_CORRUPT, "%s: key \"top_k\" must be an integer >= 0", path);
        c->gen_top_k = (int)json_integer_value(v);
    }
    if ((v = json_object_get(o, "top_p")) && !json_is_null(v)) {
        if (!json_is_number(v) || !(json_number_value(v) > 0 && json_number_value(v) <= 1))
            return am_fail_code(e, AM_E_CORRUPT, "%s: key \"top_p\" must be a number in (0, 1]", path);
        c->gen_top_p = json_number_value(v);
    }
    if (c->bos_token_id < 0) {
        if (get_ids(o, path, "bos_token_id", ids, AM_MAX_EOS, &n, e)) return -1;
        if (n) c->bos_token_id = ids[0];
    }
    return 0;
}

static int load_json(const char *path, json_t **out, am_err *e) {
    json_error_t je;
    *out = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (*out) return 0;
    if (je.line < 0 || je.position == 0) { /* could not read at all */
        FILE *f = fopen(path, "rb");
        if (!f) return am_fail_errno(e, "cannot open %s", path);
        fclose(f);
    }
    return am_fail_code(e, AM_E_CORRUPT, "%s: not valid JSON (line %d, column %d: %s)", path, je.line, je.column,
                        je.text);
}

int am_qwen3_config_load(am_qwen3_config *c, const char *dir, am_err *e) {
    memset(c, 0, sizeof *c);
    char path[4200];
    json_t *o = NULL;
    FILE *f = NULL;
    int rc = -1;
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (load_json(path, &o, e) || parse_config(c, o, path, e)) goto out;
    json_decref(o);
    o = NULL;
    c->gen_do_sample = -1, c->gen_top_k = -1, c->gen_temperature = c->gen_top_p = NAN;
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    f = fopen(path, "rb");
    if (f) {
        fclose(f);
        if (load_json(path, &o, e) || parse_generation(c, o, path, e)) goto out;
    }
    rc = 0;
out:
    json_decref(o);
    return rc;
}

/* ---- binding -------------------------------------------------------------- */

typedef struct binder {
    am_qwen3 *m;
    unsigned char *used; /* [ntensors] 1 = bound */
    am_err *e;
} binder;

static int bind(binder *b, const am_tensor **slot, const char *name, int ndim, int64_t d0, int64_t d1,
                const char *what) {
    const am_safetensors *st = &b->m->st;
    const am_tensor *t = am_st_find(st, name);
    char want[64];
    if (ndim == 1) snprintf(want, sizeof want, "[%lld]", (long long)d0);
    else snprintf(want, sizeof want, "[%lld, %lld]", (long long)d0, (long long)d1);
    if (!t)
        return am_fail_code(b->e, AM_E_NOTFOUND, "%s: tensor \"%s\" missing from the checkpoint (expected %s %s)",
                            b->m->dir, name, what, want);
    int ok = t->ndim == ndim && t->shape[0] == d0 && (ndim == 1 || t->shape[1] == d1);
    if (!ok) {
        char got[96];
        size_t k = (size_t)snprintf(got, sizeof got, "[");
        for (int i = 0; i < t->ndim; i++)
            k += (size_t)snprintf(got + k, sizeof got - k, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
        snprintf(got + k, sizeof got - k, "]");
        return am_fail_code(b->e, AM_E_CORRUPT, "%s: tensor \"%s\" has shape %s, expected %s %s from config.json",
                            st->files[t->file].path, name, got, what, want);
    }
    b->used[t - st->tensors] = 1;
    *slot = t;
    return 0;
}

static int is_ignorable(const char *name) {
    size_t n = strlen(name);
    const char *suf = "rotary_emb.inv_freq";
    size_t k = strlen(suf);
    return n >= k && !strcmp(name + n - k, suf);
}

static int fingerprint(am_qwen3 *m, am_err *e) {
    char path[4200], *buf = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/config.json", m->dir);
    if (am_read_file(path, "a checkpoint file", &buf, &len, e)) return -1;
    uint64_t h = am_fnv1a(AM_FNV_INIT, buf, len);
    free(buf);
    for (int i = 0; i < m->st.nfiles; i++) {
        const am_st_file *f = &m->st.files[i];
        const char *base = strrchr(f->path, '/');
        base = base ? base + 1 : f->path;
        h = am_fnv1a(h, base, strlen(base) + 1);
        uint64_t sz = f->size;
        unsigned char le[8];
        for (int k = 0; k < 8; k++) le[k] = (unsigned char)(sz >> (8 * k));
        h = am_fnv1a(h, le, 8);
        h = am_fnv1a(h, f->map, 8 + f->header_len);
    }
    /* Samples of every tensor's data (its first, middle and last 256 bytes),
     * so that other weights of the same shapes (a fine-tuned model put in
     * place of the original) change the fingerprint; reading them costs a
     * few pages per tensor. */
    for (int i = 0; i < m->st.ntensors; i++) {
        const am_tensor *t = &m->st.tensors[i];
        const unsigned char *d = t->data;
        size_t w = t->nbytes < 256 ? t->nbytes : 256, at[3] = {0, (t->nbytes - w) / 2, t->nbytes - w};
        for (int k = 0; k < 3; k++) h = am_fnv1a(h, d + at[k], w);
    }
    am_hash_hex(h, m->fingerprint);
    return 0;
}

int am_qwen3_open(am_qwen3 *m, const char *dir, am_err *e) {
    memset(m, 0, sizeof *m);
    binder b = {m, NULL, e};
    int rc = -1;
    if (strlen(dir) >= sizeof m->dir) return am_fail_code(e, AM_E_USAGE, "checkpoint path too long: %s", dir);
    snprintf(m->dir, sizeof m->dir, "%s", dir);
    if (am_qwen3_config_load(&m->cfg, dir, e)) return -1;
    if (am_st_open(&m->st, dir, e)) return -1;
    const am_qwen3_config *c = &m->cfg;
    int64_t D = c->hidden_size, F = c->intermediate_size, V = c->vocab_size;
    int64_t Q = (int64_t)c->num_attention_heads * c->head_dim;
    int64_t K = (int64_t)c->num_key_value_heads * c->head_dim, hd = c->head_dim;
    b.used = am_calloc((size_t)m->st.ntensors, 1, "the tensor marks", e); /* [ntensors] */
    m->layers = b.used ? am_calloc((size_t)c->num_hidden_layers, sizeof *m->layers, "the layers", e) : NULL;
    if (!b.used || !m->layers) goto out;
    if (bind(&b, &m->embed, "model.embed_tokens.weight", 2, V, D, "[vocab_size, hidden_size] =") ||
        bind(&b, &m->final_norm, "model.norm.weight", 1, D, 0, "[hidden_size] ="))
        goto out;
    if (c->tie_word_embeddings) {
        m->lm_head = m->embed;
        const am_tensor *t = am_st_find(&m->st, "lm_head.weight");
        if (t) b.used[t - m->st.tensors] = 1; /* ignored, as transformers does */
    } else if (!am_st_find(&m->st, "lm_head.weight")) {
        am_fail_code(e, AM_E_NOTFOUND,
                     "%s: tensor \"lm_head.weight\" missing and tie_word_embeddings is false in "
                     "config.json (expected [vocab_size, hidden_size] = [%lld, %lld])",
                     dir, (long long)V, (long long)D);
        goto out;
    } else if (bind(&b, &m->lm_head, "lm_head.weight", 2, V, D, "[vocab_size, hidden_size] =")) {
        goto out;
    }
    char name[160];
#define LAYER(field, suffix, nd, a, bb, what)                                \
    do {                                                                     \
        snprintf(name, sizeof name, "model.layers.%d.%s.weight", l, suffix); \
        if (bind(&b, &ly->field, name, nd, a, bb, what)) goto out;           \
    } while (0)
    for (int l = 0; l < c->num_hidden_layers; l++) {
        am_qwen3_layer *ly = &m->layers[l];
        LAYER(input_norm, "input_layernorm", 1, D, 0, "[hidden_size] =");
        LAYER(q_proj, "self_attn.q_proj", 2, Q, D, "[num_attention_heads*head_dim, hidden_size] =");
        LAYER(k_proj, "self_attn.k_proj", 2, K, D, "[num_key_value_heads*head_dim, hidden_size] =");
        LAYER(v_proj, "self_attn.v_proj", 2, K, D, "[num_key_value_heads*head_dim, hidden_size] =");
        LAYER(o_proj, "self_attn.o_proj", 2, D, Q, "[hidden_size, num_attention_heads*head_dim] =");
        LAYER(q_norm, "self_attn.q_norm", 1, hd, 0, "[head_dim] =");
        LAYER(k_norm, "self_attn.k_norm", 1, hd, 0, "[head_dim] =");
        LAYER(post_norm, "post_attention_layernorm", 1, D, 0, "[hidden_size] =");
        LAYER(gate_proj, "mlp.gate_proj", 2, F, D, "[intermediate_size, hidden_size] =");
        LAYER(up_proj, "mlp.up_proj", 2, F, D, "[intermediate_size, hidden_size] =");
        LAYER(down_proj, "mlp.down_proj", 2, D, F, "[hidden_size, intermediate_size] =");
    }
#undef LAYER
    for (int i = 0; i < m->st.ntensors; i++)
        if (!b.used[i] && !is_ignorable(m->st.tensors[i].name)) {
            am_fail_code(e, AM_E_CORRUPT,
                         "%s: unexpected tensor \"%s\" (not part of a Qwen3 dense model with %d "
                         "layers as config.json describes)",
                         m->st.files[m->st.tensors[i].file].path, m->st.tensors[i].name, c->num_hidden_layers);
            goto out;
        }
    if (fingerprint(m, e)) goto out;
    rc = 0;
out:
    free(b.used);
    if (rc) am_qwen3_close(m);
    return rc;
}

void am_qwen3_close(am_qwen3 *m) {
    if (!m) return;
    am_st_close(&m->st);
    free(m->layers);
    m->layers = NULL;
    m->embed = m->final_norm = m->lm_head = NULL;
}
