/* Loading a Hugging Face tokenizer.json (Qwen2/Qwen3 byte-level BPE) with
 * jansson. Anything outside the supported subset fails with the file and the
 * JSON path of the offending value. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tokenizer/tok_internal.h"

typedef struct loader {
    const char *file;
    am_err *e;
    am_tokenizer *t;
    size_t arena_len, arena_cap;
} loader;

__attribute__((format(printf, 3, 4))) static int fail_at(loader *L, const char *jpath, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return am_fail_code(L->e, AM_E_CORRUPT, "%s: %s: %s", L->file, jpath, msg);
}

static const char *jtype(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* obj[key] as an object of type "type" (value of its "type" field). */
static int want_type(loader *L, const json_t *obj, const char *jpath, const char *type) {
    if (!json_is_object(obj))
        return fail_at(L, jpath, "expected an object with \"type\": \"%s\", found %s", type,
                       obj ? jtype(obj) : "nothing");
    const char *ty = json_string_value(json_object_get(obj, "type"));
    if (!ty) return fail_at(L, jpath, "missing \"type\" (expected \"%s\")", type);
    if (strcmp(ty, type)) return fail_at(L, jpath, "unsupported type \"%s\" (supported: \"%s\")", ty, type);
    return 0;
}

/* Optional boolean field that must equal want (absent counts as want). */
static int want_bool(loader *L, const json_t *obj, const char *jpath, const char *key, int want) {
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_boolean(v)) return fail_at(L, jpath, "\"%s\" must be a boolean, found %s", key, jtype(v));
    if (json_is_true(v) != want)
        return fail_at(L, jpath, "\"%s\": %s is not supported (only %s)", key, want ? "false" : "true",
                       want ? "true" : "false");
    return 0;
}

/* Optional string field that must be empty or null. */
static int want_empty(loader *L, const json_t *obj, const char *jpath, const char *key) {
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) return 0;
    if (json_is_string(v) && json_string_length(v) == 0) return 0;
    return fail_at(L, jpath, "\"%s\" must be empty or null for byte-level BPE", key);
}

static char *arena_put(loader *L, const char *s, size_t n) {
    if (L->arena_len + n + 1 > L->arena_cap) return NULL; /* sized in advance */
    char *p = L->t->arena + L->arena_len;
    memcpy(p, s, n);
    p[n] = 0;
    L->arena_len += n + 1;
    return p;
}

/* Bytes the ByteLevel decoder emits for a token string: the byte of each
 * code point if all are in the alphabet, else the string's own UTF-8. */
static size_t byte_level_decode(const char *s, size_t n, char *dst) {
    size_t o = 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k;
        if (u[i] < 0x80) {
            cp = u[i];
            k = 1;
        } else if (u[i] < 0xe0 && i + 1 < n) {
            cp = (u[i] & 0x1fu) << 6 | (u[i + 1] & 0x3fu);
            k = 2;
        } else {
            cp = 0xffffffffu;
            k = 1;
        }
        int b = tok_cp_to_byte(cp);
        if (b < 0) {
            memcpy(dst, s, n);
            return n;
        }
        dst[o++] = (char)b;
        i += k;
    }
    return o;
}

static int set_id(loader *L, int32_t id, const char *str, size_t len, const char *jpath) {
    am_tokenizer *t = L->t;
    if (t->id_str[id]) return fail_at(L, jpath, "id %d is used twice (\"%s\" and \"%s\")", id, t->id_str[id], str);
    char *s = arena_put(L, str, len);
    char *b = s ? arena_put(L, str, len) : NULL;
    if (!b) return fail_at(L, jpath, "internal: token arena too small");
    t->id_str[id] = s;
    t->id_nbytes[id] = (uint32_t)byte_level_decode(s, len, b);
    t->id_bytes[id] = (const unsigned char *)b;
    return 0;
}

/* ---- sections --------------------------------------------------------------- */

static int load_normalizer(loader *L, json_t *root) {
    json_t *n = json_object_get(root, "normalizer");
    if (!n || json_is_null(n)) return 0;
    if (want_type(L, n, "$.normalizer", "NFC")) return -1;
    L->t->nfc = 1;
    return 0;
}

static int compile_pattern(loader *L, json_t *split, const char *jpath) {
    am_tokenizer *t = L->t;
    char path[256];
    json_t *pat = json_object_get(split, "pattern");
    snprintf(path, sizeof path, "%s.pattern", jpath);
    if (!json_is_object(pat)) return fail_at(L, path, "expected {\"Regex\": ...} or {\"String\": ...}");
    json_t *rx = json_object_get(pat, "Regex"), *lit = json_object_get(pat, "String");
    json_t *src = rx ? rx : lit;
    snprintf(path, sizeof path, "%s.pattern.%s", jpath, rx ? "Regex" : "String");
    if (!json_is_string(src)) return fail_at(L, path, "expected a string");
    int errcode;
    PCRE2_SIZE erroff;
    uint32_t opts = PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK | (rx ? 0 : PCRE2_LITERAL);
    t->re = pcre2_compile((PCRE2_SPTR)json_string_value(src), json_string_length(src), opts, &errcode, &erroff, NULL);
    if (!t->re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(errcode, msg, sizeof msg);
        return fail_at(L, path, "PCRE2 cannot compile the pattern at offset %zu: %s", (size_t)erroff, (char *)msg);
    }
    t->re_jit = pcre2_jit_compile(t->re, PCRE2_JIT_COMPLETE) == 0;
    return 0;
}

static int load_pre_tokenizer(loader *L, json_t *root) {
    json_t *p = json_object_get(root, "pre_tokenizer");
    if (!p || json_is_null(p)) return fail_at(L, "$.pre_tokenizer", "missing (expected Sequence[Split, ByteLevel])");
    if (want_type(L, p, "$.pre_tokenizer", "Sequence")) return -1;
    json_t *seq = json_object_get(p, "pretokenizers");
    if (!json_is_array(seq) || json_array_size(seq) != 2)
        return fail_at(L, "$.pre_tokenizer.pretokenizers", "expected an array [Split, ByteLevel]");
    const char *sp = "$.pre_tokenizer.pretokenizers[0]", *bp = "$.pre_tokenizer.pretokenizers[1]";
    json_t *split = json_array_get(seq, 0), *bl = json_array_get(seq, 1);
    if (want_type(L, split, sp, "Split")) return -1;
    const char *beh = json_string_value(json_object_get(split, "behavior"));
    if (!beh || strcmp(beh, "Isolated")) return fail_at(L, sp, "\"behavior\": only \"Isolated\" is supported");
    if (want_bool(L, split, sp, "invert", 0)) return -1;
    if (compile_pattern(L, split, sp)) return -1;
    if (want_type(L, bl, bp, "ByteLevel")) return -1;
    if (want_bool(L, bl, bp, "add_prefix_space", 0) || want_bool(L, bl, bp, "use_regex", 0)) return -1;
    return 0;
}

static int load_decoder_and_rest(loader *L, json_t *root) {
    json_t *d = json_object_get(root, "decoder");
    if (want_type(L, d, "$.decoder", "ByteLevel")) return -1;
    json_t *pp = json_object_get(root, "post_processor");
    if (pp && !json_is_null(pp) && want_type(L, pp, "$.post_processor", "ByteLevel")) return -1;
    json_t *tr = json_object_get(root, "truncation"), *pad = json_object_get(root, "padding");
    if (tr && !json_is_null(tr)) return fail_at(L, "$.truncation", "must be null (truncation is not supported)");
    if (pad && !json_is_null(pad)) return fail_at(L, "$.padding", "must be null (padding is done by the pipeline)");
    return 0;
}

static int load_model_options(loader *L, json_t *m) {
    if (want_type(L, m, "$.model", "BPE")) return -1;
    json_t *dr = json_object_get(m, "dropout");
    if (dr && !json_is_null(dr) && !(json_is_number(dr) && json_number_value(dr) == 0.0))
        return fail_at(L, "$.model.dropout", "BPE dropout is not supported (must be null)");
    json_t *unk = json_object_get(m, "unk_token");
    if (unk && !json_is_null(unk)) return fail_at(L, "$.model.unk_token", "must be null for byte-level BPE");
    if (want_empty(L, m, "$.model", "continuing_subword_prefix") || want_empty(L, m, "$.model", "end_of_word_suffix"))
        return -1;
    if (want_bool(L, m, "$.model", "byte_fallback", 0)) return -1;
    json_t *im = json_object_get(m, "ignore_merges");
    if (im && !json_is_null(im) && !json_is_boolean(im))
        return fail_at(L, "$.model.ignore_merges", "must be a boolean");
    L->t->ignore_merges = json_is_true(im);
    return 0;
}

/* Count ids and arena bytes over the vocabulary and the added tokens. */
static int size_tables(loader *L, json_t *vocab, json_t *added, int32_t *max_id, size_t *bytes) {
    const char *k;
    json_t *v;
    *max_id = -1;
    *bytes = 0;
    json_object_foreach(vocab, k, v) {
        json_int_t id = json_integer_value(v);
        if (!json_is_integer(v) || id < 0 || id > INT32_MAX - 1) {
            char path[300];
            snprintf(path, sizeof path, "$.model.vocab[\"%.200s\"]", k);
            return fail_at(L, path, "id must be an integer in 0..2^31-2, found %s", jtype(v));
        }
        if (id > *max_id) *max_id = (int32_t)id;
        *bytes += 2 * (strlen(k) + 1);
    }
    size_t i;
    json_array_foreach(added, i, v) {
        char path[64];
        snprintf(path, sizeof path, "$.added_tokens[%zu]", i);
        json_t *id = json_object_get(v, "id"), *c = json_object_get(v, "content");
        if (!json_is_integer(id) || json_integer_value(id) < 0 || json_integer_value(id) > INT32_MAX - 1)
            return fail_at(L, path, "\"id\" must be a non-negative integer");
        if (!json_is_string(c) || json_string_length(c) == 0)
            return fail_at(L, path, "\"content\" must be a non-empty string");
        if (json_integer_value(id) > *max_id) *max_id = (int32_t)json_integer_value(id);
        *bytes += 2 * (json_string_length(c) + 1);
    }
    return 0;
}

static int load_vocab(loader *L, json_t *vocab) {
    am_tokenizer *t = L->t;
    if (tok_strmap_init(&t->vocab, (uint32_t)json_object_size(vocab), L->e)) return -1;
    const char *k;
    json_t *v;
    json_object_foreach(vocab, k, v) {
        char path[300];
        snprintf(path, sizeof path, "$.model.vocab[\"%.200s\"]", k);
        int32_t id = (int32_t)json_integer_value(v);
        if (set_id(L, id, k, strlen(k), path)) return -1;
        tok_strmap_put(&t->vocab, t->id_str[id], (uint32_t)strlen(k), id, NULL);
    }
    for (int b = 0; b < 256; b++) {
        char s[4];
        uint16_t cp = tok_byte_to_cp[b];
        size_t n =
            cp < 0x80 ? (s[0] = (char)cp, 1) : (s[0] = (char)(0xc0 | cp >> 6), s[1] = (char)(0x80 | (cp & 0x3f)), 2);
        t->byte_id[b] = tok_strmap_get(&t->vocab, s, n);
        if (t->byte_id[b] < 0)
            return fail_at(L, "$.model.vocab", "byte-level alphabet incomplete: no token \"%.*s\" for byte 0x%02x",
                           (int)n, s, b);
    }
    if (tok_wordmap_init(&t->bytes2id, t, L->e)) return am_wrap(L->e, "%s", L->file);
    t->whole = am_calloc((size_t)t->n_ids + 1, 1, "the whole-word marks", L->e); /* [n_ids + 1] */
    if (!t->whole) return -1;
    return 0;
}

static int load_merges(loader *L, json_t *merges) {
    am_tokenizer *t = L->t;
    size_t n = json_array_size(merges);
    tok_merges *mg = &t->merges;
    if (n >= TOK_MAX_RANKS)
        return fail_at(L, "$.model.merges", "%zu merges; at most %d are supported", n, TOK_MAX_RANKS - 1);
    mg->bits = 4;
    while ((1ull << mg->bits) < n + n / 2 + 16) mg->bits++;
    mg->cap = 1u << mg->bits;
    mg->slot = calloc(mg->cap, sizeof *mg->slot);
    mg->rank_id = malloc((n + 1) * sizeof *mg->rank_id);
    if (!mg->slot || !mg->rank_id)
        return am_fail_code(L->e, AM_E_NOMEM, "%s: out of memory for %zu merges", L->file, n);
    char *cat = NULL;
    size_t cat_cap = 0;
    int rc = -1;
    size_t i;
    json_t *m;
    json_array_foreach(merges, i, m) {
        char path[64];
        snprintf(path, sizeof path, "$.model.merges[%zu]", i);
        const char *a, *b;
        size_t na, nb;
        if (json_is_string(m)) {
            const char *s = json_string_value(m), *sp = memchr(s, ' ', json_string_length(m));
            if (!sp || memchr(sp + 1, ' ', json_string_length(m) - (size_t)(sp + 1 - s))) {
                fail_at(L, path, "expected \"left right\" (one space), found \"%.100s\"", s);
                goto out;
            }
            a = s;
            na = (size_t)(sp - s);
            b = sp + 1;
            nb = json_string_length(m) - na - 1;
        } else if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
                   json_is_string(json_array_get(m, 1))) {
            a = json_string_value(json_array_get(m, 0));
            na = json_string_length(json_array_get(m, 0));
            b = json_string_value(json_array_get(m, 1));
            nb = json_string_length(json_array_get(m, 1));
        } else {
            fail_at(L, path, "expected \"left right\" or [\"left\", \"right\"], found %s", jtype(m));
            goto out;
        }
        int32_t ia = tok_strmap_get(&t->vocab, a, na), ib = tok_strmap_get(&t->vocab, b, nb);
        if (ia < 0 || ib < 0) {
            fail_at(L, path, "merge token \"%.*s\" is not in the vocabulary", (int)(ia < 0 ? na : nb), ia < 0 ? a : b);
            goto out;
        }
        if (na + nb > cat_cap) {
            cat_cap = 2 * (na + nb);
            char *p = realloc(cat, cat_cap);
            if (!p) {
                am_fail_code(L->e, AM_E_NOMEM, "%s: out of memory", L->file);
                goto out;
            }
            cat = p;
        }
        memcpy(cat, a, na);
        memcpy(cat + na, b, nb);
        int32_t ic = tok_strmap_get(&t->vocab, cat, na + nb);
        if (ic < 0) {
            fail_at(L, path, "merged token \"%.*s\" is not in the vocabulary", (int)(na + nb), cat);
            goto out;
        }
        uint64_t key = ((uint64_t)(uint32_t)ia << 20 | (uint32_t)ib) + 1;
        uint32_t h = tok_merge_hash(key, mg->bits);
        while (mg->slot[h] && (mg->slot[h] >> 24) != key) h = (h + 1) & (mg->cap - 1);
        if (!mg->slot[h]) mg->n++;
        /* a repeated pair keeps the later rank, as HF's map does */
        mg->slot[h] = key << 24 | (uint64_t)i;
        mg->rank_id[i] = ic;
    }
    rc = 0;
out:
    free(cat);
    return rc;
}

static int cmp_added(const void *pa, const void *pb) {
    const tok_added *a = pa, *b = pb;
    unsigned ca = (unsigned char)a->content[0], cb = (unsigned char)b->content[0];
    if (ca != cb) return ca < cb ? -1 : 1;
    if (a->len != b->len) return a->len > b->len ? -1 : 1;
    return 0;
}

static int build_matcher(tok_matcher *m, const tok_added *src, int n, int normalized, const int *flags, am_err *e) {
    memset(m, 0, sizeof *m);
    int k = 0;
    for (int i = 0; i < n; i++) k += flags[i] == normalized;
    if (!k) return 0;
    m->tok = malloc(sizeof *m->tok * (size_t)k);
    if (!m->tok) return am_fail_code(e, AM_E_NOMEM, "out of memory for %d added tokens", k);
    for (int i = 0; i < n; i++)
        if (flags[i] == normalized) m->tok[m->n++] = src[i];
    qsort(m->tok, (size_t)m->n, sizeof *m->tok, cmp_added);
    int j = 0;
    for (int c = 0; c <= 256; c++) {
        while (j < m->n && (unsigned char)m->tok[j].content[0] < c) j++;
        m->first[c] = (uint16_t)j;
    }
    return 0;
}

static int load_added(loader *L, json_t *added) {
    am_tokenizer *t = L->t;
    size_t n = json_array_size(added);
    int rc = -1;
    int32_t vsize = (int32_t)t->vocab.n, max_added = -1;
    size_t i;
    json_t *a;
    int *normalized = am_calloc(n + 1, sizeof *normalized, "the added-token flags", L->e);       /* [n + 1] */
    t->added = normalized ? am_calloc(n + 1, sizeof *t->added, "the added tokens", L->e) : NULL; /* [n + 1] */
    if (!normalized || !t->added || tok_strmap_init(&t->added_map, (uint32_t)n, L->e)) goto out;
    if (n > 60000) {
        fail_at(L, "$.added_tokens", "too many added tokens (%zu)", n);
        goto out;
    }
    json_array_foreach(added, i, a) {
        char path[64];
        snprintf(path, sizeof path, "$.added_tokens[%zu]", i);
        if (want_bool(L, a, path, "single_word", 0) || want_bool(L, a, path, "lstrip", 0) ||
            want_bool(L, a, path, "rstrip", 0))
            goto out;
        json_t *c = json_object_get(a, "content");
        int32_t id = (int32_t)json_integer_value(json_object_get(a, "id"));
        const char *content = json_string_value(c);
        size_t len = json_string_length(c);
        if (memchr(content, 0, len)) {
            fail_at(L, path, "\"content\" must not contain NUL");
            goto out;
        }
        /* HF ignores the stored id: a token in the vocabulary keeps its id,
         * others are numbered on from max(vocabulary size, last added id + 1) */
        int32_t want = tok_strmap_get(&t->vocab, content, len);
        if (want < 0) want = max_added < 0 ? vsize : max_added >= vsize ? max_added + 1 : vsize;
        if (id != want) {
            fail_at(L, path,
                    "id %d for \"%s\" is not the id HF tokenizers assigns (%d): added tokens "
                    "must be vocabulary tokens or numbered consecutively after the vocabulary",
                    id, content, want);
            goto out;
        }
        if (id > max_added) max_added = id;
        int32_t old;
        if (tok_strmap_put(&t->added_map, content, (uint32_t)len, id, &old) == 1) {
            fail_at(L, path, "content \"%s\" is added twice (ids %d and %d)", content, old, id);
            goto out;
        }
        if (t->id_str[id]) {
            if (strlen(t->id_str[id]) != len || memcmp(t->id_str[id], content, len)) {
                fail_at(L, path, "id %d is already the vocabulary token \"%s\"", id, t->id_str[id]);
                goto out;
            }
        } else if (set_id(L, id, content, len, path)) {
            goto out;
        }
        /* the map must point at stable memory: the arena copy */
        t->added_map.key[t->added_map.n - 1] = t->id_str[id];
        json_t *nm = json_object_get(a, "normalized");
        normalized[i] = json_is_true(nm);
        t->added[t->n_added++] =
            (tok_added){t->id_str[id], (uint32_t)len, id, json_is_true(json_object_get(a, "special"))};
    }
    if (build_matcher(&t->added_raw, t->added, t->n_added, 0, normalized, L->e) ||
        build_matcher(&t->added_norm, t->added, t->n_added, 1, normalized, L->e))
        goto out;
    rc = 0;
out:
    free(normalized);
    return rc;
}

/* ---- entry point ------------------------------------------------------------ */

int am_tok_load(am_tokenizer **out, const char *path, am_err *e) {
    *out = NULL;
    struct stat st;
    char *file = NULL;
    json_t *root = NULL, *model, *vocab, *merges, *added, *no_added = NULL;
    json_error_t je;
    am_tokenizer *t = NULL;
    loader L = {path, e, NULL, 0, 0};
    int32_t max_id;
    size_t bytes;
    int rc = -1;
    if (stat(path, &st)) return am_fail_errno(e, "tokenizer %s", path);
    if (S_ISDIR(st.st_mode)) {
        size_t n = strlen(path);
        file = am_malloc(n + 32, 1, "the tokenizer path", e);
        if (!file) return -1;
        snprintf(file, n + 32, "%s%stokenizer.json", path, n && path[n - 1] == '/' ? "" : "/");
    } else {
        file = strdup(path);
        if (!file) return am_fail_code(e, AM_E_NOMEM, "out of memory");
    }
    root = json_load_file(file, JSON_ALLOW_NUL, &je);
    if (!root) {
        if (je.line < 1) am_fail_code(e, stat(file, &st) ? AM_E_NOTFOUND : AM_E_IO, "%s: %s", file, je.text);
        else
            am_fail_code(e, AM_E_CORRUPT, "%s: invalid JSON at line %d column %d: %s", file, je.line, je.column,
                         je.text);
        goto out;
    }
    t = am_calloc(1, sizeof *t, "the tokenizer", e);
    if (!t) goto out;
    t->path = file;
    file = NULL;
    L = (loader){t->path, e, t, 0, 0};
    if (!json_is_object(root)) {
        fail_at(&L, "$", "expected an object, found %s", jtype(root));
        goto out;
    }
    model = json_object_get(root, "model");
    if (!model) {
        fail_at(&L, "$.model", "missing (expected a BPE model)");
        goto out;
    }
    if (load_model_options(&L, model)) goto out;
    vocab = json_object_get(model, "vocab"), merges = json_object_get(model, "merges");
    added = json_object_get(root, "added_tokens");
    if (!json_is_object(vocab)) {
        fail_at(&L, "$.model.vocab", "missing or not an object");
        goto out;
    }
    if (!json_is_array(merges)) {
        fail_at(&L, "$.model.merges", "missing or not an array");
        goto out;
    }
    if (!added || json_is_null(added)) added = no_added = json_array();
    if (!json_is_array(added)) {
        fail_at(&L, "$.added_tokens", "must be an array");
        goto out;
    }
    if (size_tables(&L, vocab, added, &max_id, &bytes)) goto out;
    if (max_id >= TOK_MAX_IDS) {
        fail_at(&L, "$.model.vocab", "ids up to %d; at most %d are supported", max_id, TOK_MAX_IDS - 1);
        goto out;
    }
    t->n_ids = max_id + 1;
    t->arena = am_malloc(bytes + 1, 1, "the token strings", e);
    L.arena_cap = bytes + 1;
    if (!t->arena) goto out;
    t->id_str = am_calloc((size_t)t->n_ids + 1, sizeof *t->id_str, "the token table", e);
    if (!t->id_str) goto out;
    t->id_bytes = am_calloc((size_t)t->n_ids + 1, sizeof *t->id_bytes, "the token table", e);
    if (!t->id_bytes) goto out;
    t->id_nbytes = am_calloc((size_t)t->n_ids + 1, sizeof *t->id_nbytes, "the token table", e);
    if (!t->id_nbytes) goto out;
    if (load_vocab(&L, vocab) || load_merges(&L, merges) || load_added(&L, added) || load_normalizer(&L, root) ||
        load_pre_tokenizer(&L, root) || load_decoder_and_rest(&L, root))
        goto out;
    *out = t;
    t = NULL;
    rc = 0;
out:
    json_decref(no_added);
    json_decref(root);
    am_tok_free(t);
    free(file);
    return rc;
}
