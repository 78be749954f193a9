/* Internals of the byte-level BPE tokenizer (tokenizer.h):
 * hash maps, the tokenizer struct, and the helpers shared by the loader
 * (tok_load.c), the text utilities (tok_text.c), the BPE merge (tok_bpe.c)
 * and the encoder (tokenizer.c). */
#ifndef AM_TOK_INTERNAL_H
#define AM_TOK_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "tokenizer/tokenizer.h"

/* ---- hashing -------------------------------------------------------------- */

/* Fast 64-bit hash of a byte string (8 bytes at a time, multiply-mix). */
static inline uint64_t tok_hash_bytes(const void *data, size_t n) {
    const unsigned char *p = data;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0xff51afd7ed558ccdull);
    while (n >= 8) {
        uint64_t w;
        __builtin_memcpy(&w, p, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
        p += 8;
        n -= 8;
    }
    if (n) {
        uint64_t w = 0;
        __builtin_memcpy(&w, p, n);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
    }
    h ^= h >> 29;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 32;
    return h;
}

/* ---- byte string -> id map (open addressing, keys stored elsewhere) ------- */

typedef struct tok_strmap {
    uint32_t *slot;   /* [cap] entry index + 1, 0 = empty */
    uint32_t cap;     /* power of two */
    uint32_t n;       /* entries */
    const char **key; /* [n_max] key bytes (not owned) */
    uint32_t *klen;   /* [n_max] key lengths */
    int32_t *val;     /* [n_max] values */
    uint32_t n_max;
} tok_strmap;

int tok_strmap_init(tok_strmap *m, uint32_t n_max, am_err *e);
void tok_strmap_free(tok_strmap *m);
/* Insert; returns 0, or 1 if the key exists (its value is left unchanged, *old set). */
int tok_strmap_put(tok_strmap *m, const char *k, uint32_t klen, int32_t v, int32_t *old);
/* Value of key, or -1. */
int32_t tok_strmap_get(const tok_strmap *m, const char *k, size_t klen);

/* ---- merge table: (left id, right id) -> rank; rank -> merged id ------------ */

/* One 8-byte slot per merge: ((left << 20 | right) + 1) << 24 | rank, 0 = empty.
 * Ids must be below TOK_MAX_IDS and ranks below 2^24. */
#define TOK_MAX_IDS ((1 << 20) - 1)
#define TOK_MAX_RANKS (1 << 24)

typedef struct tok_merges {
    uint64_t *slot; /* [cap] */
    uint32_t cap;   /* power of two */
    uint32_t bits;  /* log2(cap) */
    uint32_t n;
    int32_t *rank_id; /* [number of merges] merged token id of each rank */
} tok_merges;

static inline uint32_t tok_merge_hash(uint64_t key, uint32_t bits) {
    return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> (64 - bits));
}

/* Rank of merging (a, b), or -1. */
static inline int32_t tok_merge_rank(const tok_merges *m, int32_t a, int32_t b) {
    uint64_t key = ((uint64_t)(uint32_t)a << 20 | (uint32_t)b) + 1;
    uint32_t i = tok_merge_hash(key, m->bits);
    for (;;) {
        uint64_t s = m->slot[i];
        if ((s >> 24) == key) return (int32_t)(s & 0xffffff);
        if (!s) return -1;
        i = (i + 1) & (m->cap - 1);
    }
}

/* ---- raw bytes -> vocabulary id, keys inline (one cache line per probe) ----- */

#define TOK_WORD_INLINE 26
typedef struct tok_word_slot {
    int32_t id1; /* id + 1, 0 = empty */
    uint16_t len;
    unsigned char key[TOK_WORD_INLINE]; /* first bytes of the key */
} tok_word_slot;

typedef struct tok_wordmap {
    tok_word_slot *slot; /* [cap], 32-byte slots, 64-byte aligned */
    uint32_t cap;
    size_t max_len; /* longest key */
} tok_wordmap;

/* ---- added tokens --------------------------------------------------------- */

typedef struct tok_added {
    const char *content; /* bytes (points into the tokenizer's arena) */
    uint32_t len;
    int32_t id;
    int special;
} tok_added;

/* Literal matcher for a set of added tokens, leftmost-longest like HF. */
typedef struct tok_matcher {
    tok_added *tok; /* [n] sorted by first byte, then length descending */
    int n;
    uint16_t first[257]; /* tok[first[c] .. first[c+1]) start with byte c */
} tok_matcher;

/* ---- the tokenizer -------------------------------------------------------- */

struct am_tokenizer {
    char *path;                     /* tokenizer.json it came from */
    char *arena;                    /* token strings and decoded bytes */
    int32_t n_ids;                  /* max id + 1 */
    const char **id_str;            /* [n_ids] token string (byte-level form), NULL for holes */
    const unsigned char **id_bytes; /* [n_ids] bytes the decoder emits */
    uint32_t *id_nbytes;            /* [n_ids] */
    tok_strmap vocab;               /* model vocabulary: token string -> id */
    tok_strmap added_map;           /* added tokens: content -> id */
    tok_wordmap bytes2id;           /* raw bytes -> id (vocabulary) */
    uint8_t *whole;                 /* [n_ids] memo, 0 unknown, 1 BPE of the token's own bytes is
                                 * that one token, 2 it is not (relaxed atomics: idempotent) */
    int32_t byte_id[256];           /* id of the single-byte token of each byte */
    tok_merges merges;
    int ignore_merges;
    int nfc;                /* normalizer NFC (else none) */
    tok_matcher added_raw;  /* added tokens matched before normalization */
    tok_matcher added_norm; /* added tokens with normalized: true */
    tok_added *added;       /* [n_added] */
    int n_added;
    pcre2_code *re; /* pre-tokenizer split pattern */
    int re_jit;     /* JIT compiled */
};

/* ---- text utilities (tok_text.c) ------------------------------------------ */

/* Byte offset of the first invalid UTF-8 sequence (Rust/HF rules: no
 * overlongs, surrogates or code points above U+10FFFF), or len if valid. */
size_t tok_utf8_check(const unsigned char *s, size_t len);

/* NFC of valid UTF-8 s. Returns 0 with *out == NULL when s is already NFC
 * (the common case, found without allocating), or a malloc'd *out of *out_len bytes. */
int tok_nfc(const char *s, size_t len, char **out, size_t *out_len, am_err *e);

/* Append bytes to *buf (cap/len grown by doubling), converting invalid UTF-8
 * into U+FFFD per maximal invalid subpart (like Rust's from_utf8_lossy). */
int tok_utf8_lossy(const unsigned char *s, size_t n, char **buf, size_t *len, size_t *cap);

/* GPT-2 byte-level alphabet: the code point standing for each byte. */
extern const uint16_t tok_byte_to_cp[256];
/* Inverse: byte for a code point < 324, -1 if none. */
int tok_cp_to_byte(uint32_t cp);

/* Word map over the vocabulary's decoded bytes (t->id_bytes). */
int tok_wordmap_init(tok_wordmap *m, const am_tokenizer *t, am_err *e);
void tok_wordmap_free(tok_wordmap *m);
int32_t tok_wordmap_get(const tok_wordmap *m, const am_tokenizer *t, const unsigned char *w, size_t n);

/* ---- BPE (tok_bpe.c) ------------------------------------------------------ */

/* Growable id buffer. */
typedef struct tok_ids {
    int32_t *v; /* [cap] */
    size_t n, cap;
} tok_ids;

int tok_ids_reserve(tok_ids *b, size_t extra);

/* Word cache for one encode call: word bytes -> ids. */
typedef struct tok_cache tok_cache;
tok_cache *tok_cache_new(size_t text_len);
void tok_cache_free(tok_cache *c);

/* Append the BPE ids of one pre-token (raw bytes, n >= 1) to out. */
int tok_bpe_word(const am_tokenizer *t, tok_cache *c, const unsigned char *w, size_t n, tok_ids *out, am_err *e);

#endif
