/* Encoding and decoding with a loaded byte-level BPE tokenizer, in HF's
 * order: split on added tokens (raw text), NFC, split on normalized added
 * tokens, regex pre-tokenization (PCRE2), BPE per pre-token. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_internal.h"

void am_tok_free(am_tokenizer *t) {
    if (!t) return;
    free(t->path);
    free(t->arena);
    free(t->id_str);
    free(t->id_bytes);
    free(t->id_nbytes);
    tok_strmap_free(&t->vocab);
    tok_strmap_free(&t->added_map);
    tok_wordmap_free(&t->bytes2id);
    free(t->whole);
    free(t->merges.slot);
    free(t->merges.rank_id);
    free(t->added_raw.tok);
    free(t->added_norm.tok);
    free(t->added);
    pcre2_code_free(t->re);
    free(t);
}

int32_t am_tok_token_id(const am_tokenizer *t, const char *token) {
    size_t n = strlen(token);
    int32_t id = tok_strmap_get(&t->added_map, token, n);
    return id >= 0 ? id : tok_strmap_get(&t->vocab, token, n);
}

int32_t am_tok_vocab_size(const am_tokenizer *t) { return t->n_ids; }

const char *am_tok_token_str(const am_tokenizer *t, int32_t id) {
    return id >= 0 && id < t->n_ids ? t->id_str[id] : NULL;
}

/* ---- encoding --------------------------------------------------------------- */

typedef struct enc {
    const am_tokenizer *t;
    tok_cache *cache;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jstack;
    tok_ids out;
    am_err *e;
} enc;

/* Leftmost-longest occurrence of an added token in s[from..n): *at, or n. */
static const tok_added *find_added(const tok_matcher *m, const unsigned char *s, size_t n, size_t from, size_t *at) {
    for (size_t i = from; i < n; i++) {
        unsigned c = s[i];
        for (int k = m->first[c]; k < m->first[c + 1]; k++) {
            const tok_added *a = &m->tok[k];
            if (a->len <= n - i && memcmp(s + i, a->content, a->len) == 0) {
                *at = i;
                return a;
            }
        }
    }
    *at = n;
    return NULL;
}

static int push_id(enc *E, int32_t id) {
    if (tok_ids_reserve(&E->out, 1)) return am_fail_code(E->e, AM_E_NOMEM, "out of memory for token ids");
    E->out.v[E->out.n++] = id;
    return 0;
}

static int regex_match(enc *E, const unsigned char *s, size_t n, size_t from, int *found) {
    const am_tokenizer *t = E->t;
    for (;;) {
        int rc = t->re_jit ? pcre2_jit_match(t->re, s, n, from, PCRE2_NO_UTF_CHECK, E->md, E->mctx)
                           : pcre2_match(t->re, s, n, from, PCRE2_NO_UTF_CHECK, E->md, E->mctx);
        if (rc >= 0) {
            *found = 1;
            return 0;
        } /* 0: ovector too small, still a match */
        if (rc == PCRE2_ERROR_NOMATCH) {
            *found = 0;
            return 0;
        }
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !E->jstack) {
            /* long runs of one class: retry once with a large JIT stack */
            E->jstack = pcre2_jit_stack_create(64 * 1024, 256 * 1024 * 1024, NULL);
            if (!E->mctx) E->mctx = pcre2_match_context_create(NULL);
            if (!E->jstack || !E->mctx) return am_fail_code(E->e, AM_E_NOMEM, "out of memory for the PCRE2 JIT stack");
            pcre2_jit_stack_assign(E->mctx, NULL, E->jstack);
            continue;
        }
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(rc, msg, sizeof msg);
        return am_fail(E->e, "pre-tokenizer regex failed at byte %zu: %s", from, (char *)msg);
    }
}

/* Split normalized text on the pattern (matches and the gaps between them
 * are pre-tokens, HF's "Isolated") and BPE each pre-token. */
static int pre_tokenize(enc *E, const unsigned char *s, size_t n) {
    const am_tokenizer *t = E->t;
    size_t last = 0, from = 0;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(E->md);
    while (from < n) {
        int found;
        if (regex_match(E, s, n, from, &found)) return -1;
        if (!found) break;
        size_t a = ov[0], b = ov[1];
        if (a > last && tok_bpe_word(t, E->cache, s + last, a - last, &E->out, E->e)) return -1;
        if (b > a && tok_bpe_word(t, E->cache, s + a, b - a, &E->out, E->e)) return -1;
        last = b;
        if (b > a) {
            from = b;
        } else { /* empty match: step over one code point */
            from = b + 1;
            while (from < n && (s[from] & 0xc0) == 0x80) from++;
            last = a;
        }
    }
    if (last < n && tok_bpe_word(t, E->cache, s + last, n - last, &E->out, E->e)) return -1;
    return 0;
}

/* A piece of raw text between added tokens. */
static int encode_piece(enc *E, const char *s, size_t n) {
    const am_tokenizer *t = E->t;
    if (!n) return 0;
    char *norm = NULL;
    size_t nlen = 0;
    if (t->nfc && tok_nfc(s, n, &norm, &nlen, E->e)) return -1;
    const unsigned char *u = norm ? (const unsigned char *)norm : (const unsigned char *)s;
    size_t m = norm ? nlen : n;
    int rc = 0;
    if (!t->added_norm.n) {
        rc = pre_tokenize(E, u, m);
    } else {
        size_t pos = 0;
        while (pos < m && !rc) {
            size_t at;
            const tok_added *a = find_added(&t->added_norm, u, m, pos, &at);
            if (at > pos) rc = pre_tokenize(E, u + pos, at - pos);
            if (!a || rc) break;
            rc = push_id(E, a->id);
            pos = at + a->len;
        }
    }
    free(norm);
    return rc;
}

int am_tok_encode(const am_tokenizer *t, const char *text, size_t len, int32_t **ids, size_t *n, am_err *e) {
    *ids = NULL;
    *n = 0;
    const unsigned char *s = (const unsigned char *)text;
    size_t bad = tok_utf8_check(s, len);
    if (bad < len) return am_fail_code(e, AM_E_CORRUPT, "invalid UTF-8 at byte offset %zu (byte 0x%02x)", bad, s[bad]);
    enc E = {.t = t, .e = e};
    int rc = -1;
    size_t pos = 0;
    E.md = pcre2_match_data_create(1, NULL);
    if (!E.md || tok_ids_reserve(&E.out, len / 3 + 16)) {
        am_fail_code(e, AM_E_NOMEM, "out of memory encoding %zu bytes", len);
        goto out;
    }
    if (len >= 512) E.cache = tok_cache_new(len); /* NULL (no cache) is fine */
    while (pos < len) {
        size_t at;
        const tok_added *a = t->added_raw.n ? find_added(&t->added_raw, s, len, pos, &at) : (at = len, NULL);
        if (encode_piece(&E, text + pos, at - pos)) goto out;
        if (!a) break;
        if (push_id(&E, a->id)) goto out;
        pos = at + a->len;
    }
    *ids = E.out.v;
    *n = E.out.n;
    E.out.v = NULL;
    rc = 0;
out:
    free(E.out.v);
    tok_cache_free(E.cache);
    pcre2_match_data_free(E.md);
    pcre2_match_context_free(E.mctx);
    pcre2_jit_stack_free(E.jstack);
    return rc;
}

/* ---- decoding --------------------------------------------------------------- */

static int tok_known(const am_tokenizer *t, int32_t id) { return am_tok_token_str(t, id) != NULL; }

/* Decode, failing on unknown ids (n_unknown == NULL) or skipping and counting them. */
static int tok_decode(const am_tokenizer *t, const int32_t *ids, size_t n, char **out, size_t *len, size_t *n_unknown,
                      am_err *e) {
    *out = NULL;
    *len = 0;
    size_t total = 0;
    if (n_unknown) *n_unknown = 0;
    for (size_t i = 0; i < n; i++) {
        if (!tok_known(t, ids[i])) {
            if (!n_unknown)
                return am_fail(e, "decode: id %d at position %zu is not in the vocabulary (0..%d)", ids[i], i,
                               t->n_ids - 1);
            ++*n_unknown;
            continue;
        }
        total += t->id_nbytes[ids[i]];
    }
    unsigned char *raw = malloc(total + 1);
    if (!raw) return am_fail_code(e, AM_E_NOMEM, "decode: out of memory");
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (!tok_known(t, ids[i])) continue;
        memcpy(raw + o, t->id_bytes[ids[i]], t->id_nbytes[ids[i]]);
        o += t->id_nbytes[ids[i]];
    }
    char *buf = NULL;
    size_t blen = 0, bcap = 0;
    if (tok_utf8_lossy(raw, o, &buf, &blen, &bcap)) {
        free(raw);
        free(buf);
        return am_fail_code(e, AM_E_NOMEM, "decode: out of memory");
    }
    free(raw);
    buf[blen] = 0;
    *out = buf;
    *len = blen;
    return 0;
}

int am_tok_decode(const am_tokenizer *t, const int32_t *ids, size_t n, char **out, size_t *len, am_err *e) {
    return tok_decode(t, ids, n, out, len, NULL, e);
}

int am_tok_piece(const am_tokenizer *t, int32_t id, char **out, am_err *e) {
    size_t len, unknown;
    return tok_decode(t, &id, 1, out, &len, &unknown, e);
}

int am_tok_decode_skip(const am_tokenizer *t, const int32_t *ids, size_t n, char **out, size_t *len, size_t *n_unknown,
                       am_err *e) {
    return tok_decode(t, ids, n, out, len, n_unknown, e);
}
