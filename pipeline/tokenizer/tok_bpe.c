/* BPE of one pre-token: symbols in a linked list, candidate merges in a
 * binary min-heap keyed by (rank, position) exactly like HF `tokenizers`
 * (lowest rank first, leftmost on ties), plus a per-call word cache. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tok_internal.h"

/* ---- string map ----------------------------------------------------------- */

int tok_strmap_init(tok_strmap *m, uint32_t n_max, am_err *e) {
    memset(m, 0, sizeof *m);
    uint32_t cap = 16;
    while (cap < 2 * (uint64_t)n_max + 2) cap *= 2;
    m->cap = cap;
    m->n_max = n_max;
    m->slot = calloc(cap, sizeof *m->slot);
    m->key = malloc(sizeof *m->key * (n_max + 1));
    m->klen = malloc(sizeof *m->klen * (n_max + 1));
    m->val = malloc(sizeof *m->val * (n_max + 1));
    if (!m->slot || !m->key || !m->klen || !m->val) {
        tok_strmap_free(m);
        return am_fail_code(e, AM_E_NOMEM, "out of memory for a %u-entry token map", n_max);
    }
    return 0;
}

void tok_strmap_free(tok_strmap *m) {
    free(m->slot);
    free(m->key);
    free(m->klen);
    free(m->val);
    memset(m, 0, sizeof *m);
}

int tok_strmap_put(tok_strmap *m, const char *k, uint32_t klen, int32_t v, int32_t *old) {
    uint32_t i = (uint32_t)tok_hash_bytes(k, klen) & (m->cap - 1);
    for (;;) {
        uint32_t s = m->slot[i];
        if (!s) break;
        if (m->klen[s - 1] == klen && memcmp(m->key[s - 1], k, klen) == 0) {
            if (old) *old = m->val[s - 1];
            return 1;
        }
        i = (i + 1) & (m->cap - 1);
    }
    if (m->n >= m->n_max) return -1;
    m->key[m->n] = k;
    m->klen[m->n] = klen;
    m->val[m->n] = v;
    m->slot[i] = ++m->n;
    return 0;
}

int32_t tok_strmap_get(const tok_strmap *m, const char *k, size_t klen) {
    if (!m->cap) return -1;
    uint32_t i = (uint32_t)tok_hash_bytes(k, klen) & (m->cap - 1);
    for (;;) {
        uint32_t s = m->slot[i];
        if (!s) return -1;
        if (m->klen[s - 1] == klen && memcmp(m->key[s - 1], k, klen) == 0) return m->val[s - 1];
        i = (i + 1) & (m->cap - 1);
    }
}

/* ---- word map ---------------------------------------------------------------- */

static uint32_t wordmap_probe(const tok_wordmap *m, const am_tokenizer *t, const unsigned char *w, size_t n,
                              int32_t *found) {
    uint32_t i = (uint32_t)tok_hash_bytes(w, n) & (m->cap - 1);
    size_t k = n < TOK_WORD_INLINE ? n : TOK_WORD_INLINE;
    for (;;) {
        const tok_word_slot *s = &m->slot[i];
        if (!s->id1) {
            *found = -1;
            return i;
        }
        if (s->len == n && memcmp(s->key, w, k) == 0 &&
            (n <= TOK_WORD_INLINE || memcmp(t->id_bytes[s->id1 - 1] + k, w + k, n - k) == 0)) {
            *found = s->id1 - 1;
            return i;
        }
        i = (i + 1) & (m->cap - 1);
    }
}

int tok_wordmap_init(tok_wordmap *m, const am_tokenizer *t, am_err *e) {
    uint32_t n = t->vocab.n, cap = 16;
    while (cap < n + n / 2 + 16) cap *= 2;
    m->cap = cap;
    m->slot = aligned_alloc(64, (size_t)cap * sizeof *m->slot);
    if (!m->slot) return am_fail_code(e, AM_E_NOMEM, "out of memory for the word map");
    memset(m->slot, 0, (size_t)cap * sizeof *m->slot);
    for (uint32_t j = 0; j < n; j++) {
        int32_t id = t->vocab.val[j], found;
        const unsigned char *w = t->id_bytes[id];
        size_t len = t->id_nbytes[id];
        if (len > UINT16_MAX) return am_fail(e, "token %d is longer than %d bytes", id, UINT16_MAX);
        uint32_t i = wordmap_probe(m, t, w, len, &found);
        if (found >= 0) continue; /* two tokens with the same bytes: the first wins */
        if (len > m->max_len) m->max_len = len;
        tok_word_slot *s = &m->slot[i];
        s->id1 = id + 1;
        s->len = (uint16_t)len;
        memcpy(s->key, w, len < TOK_WORD_INLINE ? len : TOK_WORD_INLINE);
    }
    return 0;
}

void tok_wordmap_free(tok_wordmap *m) {
    free(m->slot);
    m->slot = NULL;
}

int32_t tok_wordmap_get(const tok_wordmap *m, const am_tokenizer *t, const unsigned char *w, size_t n) {
    int32_t found;
    if (n > m->max_len) return -1;
    wordmap_probe(m, t, w, n, &found);
    return found;
}

/* ---- id buffer ------------------------------------------------------------ */

int tok_ids_reserve(tok_ids *b, size_t extra) {
    if (b->n + extra <= b->cap) return 0;
    size_t c = b->cap ? b->cap : 64;
    while (c < b->n + extra) c *= 2;
    int32_t *v = realloc(b->v, c * sizeof *v);
    if (!v) return -1;
    b->v = v;
    b->cap = c;
    return 0;
}

/* ---- word cache ----------------------------------------------------------- */

#define CACHE_MAX_WORD 64

typedef struct cache_slot {
    uint64_t hash; /* 0 = empty */
    uint32_t woff; /* word bytes at words + woff */
    uint32_t ioff; /* ids at ids + ioff */
    uint16_t wlen, nids;
} cache_slot;

struct tok_cache {
    cache_slot *slot; /* [cap] */
    uint32_t cap, n, max_n;
    unsigned char *words; /* [wcap] */
    size_t wlen, wcap;
    int32_t *ids; /* [icap] */
    size_t ilen, icap;
};

tok_cache *tok_cache_new(size_t text_len) {
    tok_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    uint32_t cap = 1024;
    while (cap < text_len / 16 && cap < (1u << 20)) cap *= 2;
    c->cap = cap;
    c->max_n = cap / 2;
    c->slot = calloc(cap, sizeof *c->slot);
    c->wcap = (size_t)cap * 8;
    c->icap = (size_t)cap * 2;
    c->words = malloc(c->wcap);
    c->ids = malloc(c->icap * sizeof *c->ids);
    if (!c->slot || !c->words || !c->ids) {
        tok_cache_free(c);
        return NULL;
    }
    return c;
}

void tok_cache_free(tok_cache *c) {
    if (!c) return;
    free(c->slot);
    free(c->words);
    free(c->ids);
    free(c);
}

static const cache_slot *cache_find(const tok_cache *c, uint64_t h, const unsigned char *w, size_t n, uint32_t *where) {
    uint32_t i = (uint32_t)h & (c->cap - 1);
    for (;;) {
        const cache_slot *s = &c->slot[i];
        if (!s->hash) {
            *where = i;
            return NULL;
        }
        if (s->hash == h && s->wlen == n && memcmp(c->words + s->woff, w, n) == 0) return s;
        i = (i + 1) & (c->cap - 1);
    }
}

static void cache_put(tok_cache *c, uint32_t where, uint64_t h, const unsigned char *w, size_t n, const int32_t *ids,
                      size_t nids) {
    if (c->n >= c->max_n) return;
    if (c->wlen + n > c->wcap) {
        size_t nc = c->wcap * 2;
        unsigned char *p = realloc(c->words, nc);
        if (!p) return;
        c->words = p;
        c->wcap = nc;
    }
    if (c->ilen + nids > c->icap) {
        size_t nc = c->icap * 2;
        int32_t *p = realloc(c->ids, nc * sizeof *p);
        if (!p) return;
        c->ids = p;
        c->icap = nc;
    }
    cache_slot *s = &c->slot[where];
    s->hash = h;
    s->woff = (uint32_t)c->wlen;
    s->wlen = (uint16_t)n;
    s->ioff = (uint32_t)c->ilen;
    s->nids = (uint16_t)nids;
    memcpy(c->words + c->wlen, w, n);
    c->wlen += n;
    memcpy(c->ids + c->ilen, ids, nids * sizeof *ids);
    c->ilen += nids;
    c->n++;
}

/* ---- heap of (rank << 32 | position) -------------------------------------- */

static inline void heap_push(uint64_t *h, size_t *n, uint64_t v) {
    size_t i = (*n)++;
    while (i) {
        size_t p = (i - 1) / 2;
        if (h[p] <= v) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = v;
}

static inline uint64_t heap_pop(uint64_t *h, size_t *n) {
    uint64_t top = h[0], v = h[--*n];
    size_t i = 0, m = *n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m) break;
        if (c + 1 < m && h[c + 1] < h[c]) c++;
        if (h[c] >= v) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = v;
    return top;
}

/* ---- BPE ------------------------------------------------------------------ */

#define STACK_SYMS 128

/* Merge the symbols of w[0..n) and append the resulting ids to out.
 * rank[i] is the rank of the pair (i, next[i]) as it is now (-1: none), so a
 * popped heap entry is current exactly when its rank equals rank[pos]. */
static int bpe_merge(const am_tokenizer *t, const unsigned char *w, size_t n, tok_ids *out, am_err *e) {
    int32_t s_id[STACK_SYMS], s_prev[STACK_SYMS], s_next[STACK_SYMS], s_rank[STACK_SYMS]; /* [n] */
    uint64_t s_heap[3 * STACK_SYMS];                                                      /* [<= 3n] */
    int32_t *id = s_id, *prev = s_prev, *next = s_next, *rank = s_rank;
    uint64_t *heap = s_heap;
    void *big = NULL;
    if (n > STACK_SYMS) {
        big = malloc(n * (4 * sizeof(int32_t) + 3 * sizeof(uint64_t)));
        if (!big) return am_fail_code(e, AM_E_NOMEM, "out of memory for a %zu-byte word", n);
        heap = big;
        id = (int32_t *)(heap + 3 * n);
        prev = id + n;
        next = prev + n;
        rank = next + n;
    }
    size_t hn = 0;
    const tok_merges *mg = &t->merges;
    for (size_t i = 0; i < n; i++) {
        id[i] = t->byte_id[w[i]];
        prev[i] = (int32_t)i - 1;
        next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
    }
    rank[n - 1] = -1;
    for (size_t i = 0; i + 1 < n; i++) {
        rank[i] = tok_merge_rank(mg, id[i], id[i + 1]);
        if (rank[i] >= 0) heap_push(heap, &hn, (uint64_t)(uint32_t)rank[i] << 32 | i);
    }
    while (hn) {
        uint64_t top = heap_pop(heap, &hn);
        int32_t pos = (int32_t)(uint32_t)top, r = (int32_t)(top >> 32);
        if (id[pos] < 0 || rank[pos] != r) continue; /* stale: a neighbour changed */
        int32_t nx = next[pos];
        id[pos] = mg->rank_id[r];
        id[nx] = -1;
        next[pos] = next[nx];
        if (next[nx] >= 0) prev[next[nx]] = pos;
        if (prev[pos] >= 0) {
            int32_t p = prev[pos];
            rank[p] = tok_merge_rank(mg, id[p], id[pos]);
            if (rank[p] >= 0) heap_push(heap, &hn, (uint64_t)(uint32_t)rank[p] << 32 | (uint32_t)p);
        }
        rank[pos] = next[pos] >= 0 ? tok_merge_rank(mg, id[pos], id[next[pos]]) : -1;
        if (rank[pos] >= 0) heap_push(heap, &hn, (uint64_t)(uint32_t)rank[pos] << 32 | (uint32_t)pos);
    }
    int rc = 0;
    if (tok_ids_reserve(out, n)) {
        rc = am_fail_code(e, AM_E_NOMEM, "out of memory for token ids");
        goto out;
    }
    for (int32_t i = 0; i >= 0; i = next[i]) out->v[out->n++] = id[i];
out:
    free(big);
    return rc;
}

int tok_bpe_word(const am_tokenizer *t, tok_cache *c, const unsigned char *w, size_t n, tok_ids *out, am_err *e) {
    if (n == 1) {
        if (tok_ids_reserve(out, 1)) return am_fail_code(e, AM_E_NOMEM, "out of memory for token ids");
        out->v[out->n++] = t->byte_id[w[0]];
        return 0;
    }
    /* a word that is a vocabulary token: with ignore_merges that token;
     * otherwise usually BPE ends in that one token too (memoised per id) */
    int32_t id = tok_wordmap_get(&t->bytes2id, t, w, n);
    if (id >= 0) {
        int state = t->ignore_merges ? 1 : __atomic_load_n(&t->whole[id], __ATOMIC_RELAXED);
        if (state == 1) {
            if (tok_ids_reserve(out, 1)) return am_fail_code(e, AM_E_NOMEM, "out of memory for token ids");
            out->v[out->n++] = id;
            return 0;
        }
        if (state == 0) {
            size_t start = out->n;
            if (bpe_merge(t, w, n, out, e)) return -1;
            uint8_t v = out->n - start == 1 && out->v[start] == id ? 1 : 2;
            __atomic_store_n(&t->whole[id], v, __ATOMIC_RELAXED);
            return 0;
        }
    }
    if (!c || n > CACHE_MAX_WORD) return bpe_merge(t, w, n, out, e);
    uint64_t h = tok_hash_bytes(w, n) | 1;
    uint32_t where;
    const cache_slot *s = cache_find(c, h, w, n, &where);
    if (s) {
        if (tok_ids_reserve(out, s->nids)) return am_fail_code(e, AM_E_NOMEM, "out of memory for token ids");
        memcpy(out->v + out->n, c->ids + s->ioff, s->nids * sizeof *out->v);
        out->n += s->nids;
        return 0;
    }
    size_t start = out->n;
    if (bpe_merge(t, w, n, out, e)) return -1;
    cache_put(c, where, h, w, n, out->v + start, out->n - start);
    return 0;
}
