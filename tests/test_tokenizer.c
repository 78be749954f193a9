/* Unit tests of the tokenizer internals against independent references:
 * - NFC quick-check path vs utf8proc_NFC of the whole string (random strings
 *   of combining marks, composition pairs, Hangul jamo, starters);
 * - heap BPE vs a naive rescan BPE (lowest rank, leftmost) on random words,
 *   with and without the word cache, on the Qwen3 merges;
 * - lossy UTF-8 decoding vs the Unicode standard's maximal-subpart example;
 * - the public API: ids of token strings, NUL bytes, invalid UTF-8, and
 *   concurrent encoding from two threads equal to serial encoding. */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "test_util.h"
#include "tokenizer/tok_internal.h"
#include "tokenizer/tok_nfc_compat.h"
#include "tokenizer/tokenizer.h"

static uint64_t rng_state = 0x243f6a8885a308d3ull;
static uint32_t rnd(uint32_t n) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

/* ---- NFC ------------------------------------------------------------------ */

static int after_u9(int32_t cp) {
    for (size_t r = 0; r < sizeof tok_nfc_after_u9 / sizeof *tok_nfc_after_u9; r++)
        if ((uint32_t)cp >= tok_nfc_after_u9[r][0] && (uint32_t)cp <= tok_nfc_after_u9[r][1]) return 1;
    return 0;
}

static void test_nfc(void) {
    /* pool: code points that take part in normalization, plus plain ones;
     * those newer than Unicode 9.0 are left alone on purpose (as HF does) and
     * are checked against HF by tokenizer_reference instead */
    static int32_t pool[60000];
    int np = 0;
    for (int32_t cp = 0x80; cp < 0x20000 && np < 59000; cp++) {
        if (cp >= 0xd800 && cp < 0xe000) continue;
        const utf8proc_property_t *p = utf8proc_get_property(cp);
        if ((p->combining_class || p->comb_index != UINT16_MAX ||
             (p->decomp_seqindex != UINT16_MAX && !p->decomp_type) || (cp >= 0x1100 && cp < 0x1200)) &&
            !after_u9(cp))
            pool[np++] = cp;
    }
    const char *plain = "aeAEsS ";
    for (int i = 0; plain[i]; i++) pool[np++] = plain[i];
    int32_t extra[] = {0xac00, 0xac01, 0xd7a3, 0x4e2d, 0x3042, 0x0410, 0x05d0, 0x0627, 0x0915, 0x0e01};
    for (size_t i = 0; i < sizeof extra / sizeof *extra; i++) pool[np++] = extra[i];
    int bad = 0;
    for (int trial = 0; trial < 200000; trial++) {
        unsigned char s[128];
        size_t n = 0;
        int len = 1 + (int)rnd(10);
        for (int k = 0; k < len; k++) n += (size_t)utf8proc_encode_char(pool[rnd((uint32_t)np)], s + n);
        s[n] = 0;
        char *got;
        size_t glen;
        am_err e;
        if (tok_nfc((const char *)s, n, &got, &glen, &e)) {
            CHECK(0, "tok_nfc failed: %s", e.msg);
            return;
        }
        unsigned char *want = utf8proc_NFC(s);
        const char *g = got ? got : (const char *)s;
        size_t gl = got ? glen : n;
        if (strlen((char *)want) != gl || memcmp(want, g, gl)) {
            if (bad++ < 5) {
                fprintf(stderr, "NFC mismatch for");
                for (size_t i = 0; i < n; i++) fprintf(stderr, " %02x", s[i]);
                fprintf(stderr, "\n");
            }
        }
        free(want);
        free(got);
    }
    CHECK(bad == 0, "NFC quick path differs from utf8proc_NFC on %d of 200000 strings", bad);
    printf("NFC: 200000 random strings over %d code points\n", np);
}

/* ---- BPE ------------------------------------------------------------------ */

static size_t naive_bpe(const am_tokenizer *t, const unsigned char *w, size_t n, int32_t *ids) {
    for (size_t i = 0; i < n; i++) ids[i] = t->byte_id[w[i]];
    for (;;) {
        int32_t best = INT32_MAX;
        size_t at = 0;
        for (size_t i = 0; i + 1 < n; i++) {
            int32_t r = tok_merge_rank(&t->merges, ids[i], ids[i + 1]);
            if (r >= 0 && r < best) {
                best = r;
                at = i;
            }
        }
        if (best == INT32_MAX) return n;
        ids[at] = t->merges.rank_id[best];
        memmove(ids + at + 1, ids + at + 2, (n - at - 2) * sizeof *ids);
        n--;
    }
}

static void test_bpe(const am_tokenizer *t) {
    static const char *pieces[] = {"e", "t", "a",    "o",   "i", "n",  "s",  "h",    "r",   "d",
                                   "l", "u", "th",   "ing", " ", "  ", "\n", "é",    "中",  "文",
                                   "ь", "ا", "🙂", "1",   "0", "'",  "-",  "\xe4", "\x80"};
    int np = sizeof pieces / sizeof *pieces;
    tok_cache *cache = tok_cache_new(1 << 20);
    CHECK(cache != NULL, "cache allocation");
    int bad = 0, words = 0;
    for (int trial = 0; trial < 30000; trial++) {
        unsigned char w[1200];
        size_t n = 0;
        int len = trial % 100 == 0 ? 200 + (int)rnd(200) : 1 + (int)rnd(14);
        for (int k = 0; k < len; k++) {
            const char *p = pieces[rnd((uint32_t)np)];
            size_t pl = strlen(p);
            memcpy(w + n, p, pl);
            n += pl;
        }
        int32_t want[1200];
        size_t nw = naive_bpe(t, w, n, want);
        for (int pass = 0; pass < 3; pass++) { /* no cache, cache miss, cache hit */
            tok_ids out = {0};
            am_err e;
            int rc = tok_bpe_word(t, pass ? cache : NULL, w, n, &out, &e);
            if (rc || out.n != nw || memcmp(out.v, want, nw * sizeof *want)) bad++;
            free(out.v);
        }
        words++;
    }
    tok_cache_free(cache);
    CHECK(bad == 0, "heap BPE differs from naive BPE on %d of %d words x 3", bad, words);
    printf("BPE: %d random words agree with the naive rescan\n", words);
}

/* ---- lossy UTF-8 ------------------------------------------------------------ */

static void test_lossy(void) {
    /* Unicode Standard, section 3.9 (U+FFFD substitution of maximal subparts) */
    const char *in = "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64";
    const char *want = "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                       "b\xef\xbf\xbd"
                       "c\xef\xbf\xbd\xef\xbf\xbd"
                       "d";
    char *buf = NULL;
    size_t len = 0, cap = 0;
    CHECK(tok_utf8_lossy((const unsigned char *)in, strlen(in), &buf, &len, &cap) == 0, "lossy");
    CHECK(len == strlen(want) && memcmp(buf, want, len) == 0, "lossy: maximal subparts");
    len = 0;
    tok_utf8_lossy((const unsigned char *)"\xED\xA0\x80\xF0\x80\x80", 6, &buf, &len, &cap);
    CHECK(len == 18, "lossy: surrogate and overlong bytes each become U+FFFD (got %zu bytes)", len);
    free(buf);
    CHECK(tok_utf8_check((const unsigned char *)"\xf0\x9f\x99\x82 ok", 7) == 7, "valid 4-byte sequence");
    CHECK(tok_utf8_check((const unsigned char *)"abc\xed\xa0\x80", 6) == 3, "surrogate rejected at 3");
    CHECK(tok_utf8_check((const unsigned char *)"abcdefghijk\xc1\xbf", 13) == 11, "overlong rejected at 11");
}

/* ---- public API ------------------------------------------------------------ */

typedef struct job {
    const am_tokenizer *t;
    char **texts;
    size_t *lens;
    int n;
    int32_t **ids;
    size_t *nids;
} job;

static void *encode_all(void *arg) {
    job *j = arg;
    for (int i = 0; i < j->n; i++) {
        am_err e;
        if (am_tok_encode(j->t, j->texts[i], j->lens[i], &j->ids[i], &j->nids[i], &e)) j->ids[i] = NULL;
    }
    return NULL;
}

static void test_api(const am_tokenizer *t, const char *file, const char *corpus) {
    CHECK(am_tok_token_id(t, "<|endoftext|>") == 151643, "<|endoftext|> id");
    CHECK(am_tok_token_id(t, "no such token here") == -1, "unknown token string");
    /* every id of the file maps back and forth; vocab size = max id + 1 */
    json_error_t je;
    json_t *root = json_load_file(file, 0, &je);
    CHECK(root != NULL, "reading %s", file);
    if (!root) return;
    int32_t max_id = -1, bad = 0;
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(json_object_get(root, "model"), "vocab"), k, v) {
        int32_t id = (int32_t)json_integer_value(v);
        if (id > max_id) max_id = id;
        if (am_tok_token_id(t, k) != id || strcmp(am_tok_token_str(t, id), k)) bad++;
    }
    size_t i;
    json_array_foreach(json_object_get(root, "added_tokens"), i, v) {
        int32_t id = (int32_t)json_integer_value(json_object_get(v, "id"));
        const char *c = json_string_value(json_object_get(v, "content"));
        if (id > max_id) max_id = id;
        if (am_tok_token_id(t, c) != id || strcmp(am_tok_token_str(t, id), c)) bad++;
    }
    json_decref(root);
    CHECK(bad == 0, "%d token strings do not map to their ids", bad);
    CHECK(am_tok_vocab_size(t) == max_id + 1, "vocab size %d, expected %d", am_tok_vocab_size(t), max_id + 1);
    CHECK(am_tok_token_str(t, -1) == NULL && am_tok_token_str(t, max_id + 1) == NULL, "out-of-range ids");

    /* NUL bytes are text; decode gives them back */
    am_err e;
    int32_t *ids;
    size_t n;
    CHECK(am_tok_encode(t, "a\0b\0", 4, &ids, &n, &e) == 0, "encode with NUL");
    char *s;
    size_t sl;
    CHECK(am_tok_decode(t, ids, n, &s, &sl, &e) == 0 && sl == 4 && memcmp(s, "a\0b\0", 4) == 0, "NUL round trip");
    free(ids);
    free(s);

    /* ids of a model's padded vocabulary rows (151669..151935 for Qwen3):
     * am_tok_decode refuses them, am_tok_decode_skip leaves them out as HF does */
    CHECK(am_tok_encode(t, "Hello world", 11, &ids, &n, &e) == 0 && n == 2, "encode Hello world");
    int32_t mixed[5] = {151700, ids[0], -3, ids[1], 151935};
    free(ids);
    size_t unknown = 99;
    CHECK(am_tok_decode(t, mixed, 5, &s, &sl, &e) == -1 && strstr(e.msg, "id 151700 at position 0"),
          "strict decode: %s", e.msg);
    CHECK(am_tok_decode_skip(t, mixed, 5, &s, &sl, &unknown, &e) == 0 && unknown == 3 && sl == 11 &&
              memcmp(s, "Hello world", 11) == 0,
          "decode_skip: %zu unknown, '%.*s'", unknown, (int)sl, s);
    free(s);
    CHECK(am_tok_decode_skip(t, mixed, 1, &s, &sl, &unknown, &e) == 0 && unknown == 1 && sl == 0 && s[0] == 0,
          "decode_skip of unknown ids only");
    free(s);
    CHECK(am_tok_encode(t, "abc\xff", 4, &ids, &n, &e) == -1 && strstr(e.msg, "byte offset 3"), "invalid UTF-8: %s",
          e.msg);
    CHECK(am_tok_encode(t, "", 0, &ids, &n, &e) == 0 && n == 0, "empty text");
    free(ids);

    /* two threads encode the corpus at once; results equal the serial ones */
    FILE *f = fopen(corpus, "r");
    CHECK(f != NULL, "open %s", corpus);
    if (!f) return;
    enum { MAXL = 400 };
    char *texts[MAXL];
    size_t lens[MAXL];
    int nt = 0;
    char *line = NULL;
    size_t cap = 0;
    while (nt < MAXL && getline(&line, &cap, f) > 0) {
        json_t *js = json_loads(line, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        if (!json_is_string(js)) {
            json_decref(js);
            continue;
        }
        lens[nt] = json_string_length(js);
        texts[nt] = malloc(lens[nt] + 1);
        memcpy(texts[nt], json_string_value(js), lens[nt] + 1);
        nt++;
        json_decref(js);
    }
    free(line);
    fclose(f);
    int32_t *ids_a[MAXL], *ids_b[MAXL], *ids_s[MAXL];
    size_t n_a[MAXL], n_b[MAXL], n_s[MAXL];
    job ja = {t, texts, lens, nt, ids_a, n_a}, jb = {t, texts, lens, nt, ids_b, n_b},
        js = {t, texts, lens, nt, ids_s, n_s};
    encode_all(&js);
    pthread_t th[2];
    pthread_create(&th[0], NULL, encode_all, &ja);
    pthread_create(&th[1], NULL, encode_all, &jb);
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    int diff = 0;
    for (int j = 0; j < nt; j++) {
        if (!ids_s[j] || !ids_a[j] || !ids_b[j] || n_a[j] != n_s[j] || n_b[j] != n_s[j] ||
            memcmp(ids_a[j], ids_s[j], n_s[j] * 4) || memcmp(ids_b[j], ids_s[j], n_s[j] * 4))
            diff++;
        free(ids_a[j]);
        free(ids_b[j]);
        free(ids_s[j]);
        free(texts[j]);
    }
    CHECK(nt > 300 && diff == 0, "threads: %d of %d corpus lines differ", diff, nt);
    printf("API: %d corpus lines encoded identically by two concurrent threads\n", nt);
}

int main(void) {
    const char *dir = getenv("ATTNMIX_TOKENIZER_DIR"), *src = getenv("ATTNMIX_SRC");
    if (!dir || !src) {
        fprintf(stderr, "test_tokenizer: ATTNMIX_TOKENIZER_DIR and ATTNMIX_SRC must be set\n");
        return 1;
    }
    char file[4096], corpus[4096];
    snprintf(file, sizeof file, "%s/tokenizer.json", dir);
    snprintf(corpus, sizeof corpus, "%s/tests/tokenizer/corpus.jsonl", src);
    test_lossy();
    test_nfc();
    am_err e;
    am_tokenizer *t;
    if (am_tok_load(&t, dir, &e)) {
        fprintf(stderr, "FAIL load: %s\n", e.msg);
        return 1;
    }
    test_bpe(t);
    test_api(t, file, corpus);
    am_tok_free(t);
    printf("%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
