/* Text utilities of the tokenizer: UTF-8 validation, NFC with a quick check
 * (utf8proc does the work on the few spans that need it), lossy UTF-8 for
 * decoding, and the GPT-2 byte-level alphabet. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tokenizer/tok_internal.h"
#include "tokenizer/tok_nfc_compat.h"

/* ---- byte-level alphabet -------------------------------------------------- */

/* Printable bytes 33..126, 161..172, 174..255 stand for themselves; the other
 * 68 bytes get 256, 257, ... in byte order. */
const uint16_t tok_byte_to_cp[256] = {
#define R8(a) a, a + 1, a + 2, a + 3, a + 4, a + 5, a + 6, a + 7
    R8(256), R8(264), R8(272), R8(280),                                /* 0..31 */
    288,     33,      34,      35,      36,      37,      38,      39, /* 32..39 */
    R8(40),  R8(48),  R8(56),  R8(64),  R8(72),  R8(80),  R8(88),  R8(96),  R8(104), R8(112),
    120,     121,     122,     123,     124,     125,     126,     289, /* 120..127 */
    R8(290), R8(298), R8(306), R8(314),                                 /* 128..159 */
    322,     161,     162,     163,     164,     165,     166,     167, /* 160..167 */
    168,     169,     170,     171,     172,     323,     174,     175, /* 168..175 */
    R8(176), R8(184), R8(192), R8(200), R8(208), R8(216), R8(224), R8(232), R8(240), R8(248),
#undef R8
};

static int16_t g_cp_byte[324];
static pthread_once_t g_cp_byte_once = PTHREAD_ONCE_INIT;

static void cp_byte_init(void) {
    for (int i = 0; i < 324; i++) g_cp_byte[i] = -1;
    for (int b = 0; b < 256; b++) g_cp_byte[tok_byte_to_cp[b]] = (int16_t)b;
}

int tok_cp_to_byte(uint32_t cp) {
    if (cp >= 324) return -1;
    pthread_once(&g_cp_byte_once, cp_byte_init);
    return g_cp_byte[cp];
}

/* ---- UTF-8 validation ----------------------------------------------------- */

/* Length of the valid sequence at s[0..n), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    if (c < 0xc2) return 0;
    if (c < 0xe0) return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c < 0xf0) {
        if (n < 3 || (s[2] & 0xc0) != 0x80) return 0;
        unsigned lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
        return s[1] >= lo && s[1] <= hi ? 3 : 0;
    }
    if (c < 0xf5) {
        if (n < 4 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80) return 0;
        unsigned lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
        return s[1] >= lo && s[1] <= hi ? 4 : 0;
    }
    return 0;
}

size_t tok_utf8_check(const unsigned char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        if (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!(w & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = utf8_seq(s + i, len - i);
        if (!k) return i;
        i += k;
    }
    return len;
}

/* Length of the maximal prefix of an invalid sequence to replace by one
 * U+FFFD (Unicode "maximal subpart" practice, as Rust does). */
static size_t utf8_bad_len(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    size_t need;
    unsigned lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c < 0xe0) need = 2;
    else if (c >= 0xe0 && c < 0xf0) {
        need = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c < 0xf5) {
        need = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else return 1;
    size_t k = 1;
    if (k < n && k < need && s[k] >= lo && s[k] <= hi) k++;
    else return 1;
    while (k < n && k < need && (s[k] & 0xc0) == 0x80) k++;
    return k;
}

static int buf_grow(char **buf, size_t *cap, size_t need) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    char *p = realloc(*buf, c);
    if (!p) return -1;
    *buf = p;
    *cap = c;
    return 0;
}

int tok_utf8_lossy(const unsigned char *s, size_t n, char **buf, size_t *len, size_t *cap) {
    /* worst case: every byte becomes 3 bytes of U+FFFD */
    if (buf_grow(buf, cap, *len + 3 * n + 1)) return -1;
    char *o = *buf + *len;
    size_t i = 0;
    while (i < n) {
        size_t k = s[i] < 0x80 ? 1 : utf8_seq(s + i, n - i);
        if (k) {
            memcpy(o, s + i, k);
            o += k;
            i += k;
        } else {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
            i += utf8_bad_len(s + i, n - i);
        }
    }
    *len = (size_t)(o - *buf);
    return 0;
}

/* ---- NFC ------------------------------------------------------------------ */

/* A code point is "stable" when NFC leaves it unchanged whatever surrounds it
 * and nothing before it can combine or reorder with it or what follows:
 * canonical combining class 0, NFC(cp) == cp, and not the second element of a
 * canonical composition. The boundary before a stable code point splits NFC.
 * Like HF tokenizers, normalization uses Unicode 9.0 data: code points
 * assigned later (tok_nfc_compat.h) count as stable. */
static uint8_t *g_unstable; /* bitmap over 0..0x10FFFF, 1 = not stable */
static uint8_t *g_inert;    /* bitmap: stable and nothing after it combines with it */
static pthread_once_t g_nfc_once = PTHREAD_ONCE_INIT;

static int cp_nfc_changes(utf8proc_int32_t cp) {
    utf8proc_int32_t buf[32];
    utf8proc_ssize_t n = utf8proc_decompose_char(cp, buf, 32, UTF8PROC_DECOMPOSE | UTF8PROC_STABLE, NULL);
    if (n < 0 || n > 32) return 1;
    n = utf8proc_normalize_utf32(buf, n, UTF8PROC_COMPOSE | UTF8PROC_STABLE);
    return !(n == 1 && buf[0] == cp);
}

static void nfc_init(void) {
    g_unstable = calloc(0x110000 / 8, 1);
    g_inert = calloc(0x110000 / 8, 1);
    if (!g_unstable || !g_inert) {
        free(g_unstable);
        g_unstable = NULL;
        return;
    }
    for (utf8proc_int32_t cp = 0x80; cp < 0x110000; cp++) {
        if (cp >= 0xd800 && cp < 0xe000) continue;
        const utf8proc_property_t *p = utf8proc_get_property(cp);
        int bad = p->combining_class != 0;
        if (!bad && p->comb_index != UINT16_MAX && (p->comb_index & 0x8000)) bad = 1;
        if (!bad && ((cp >= 0x1161 && cp <= 0x1175) || (cp >= 0x11a8 && cp <= 0x11c2))) bad = 1;
        if (!bad && p->decomp_seqindex != UINT16_MAX && p->decomp_type == 0) bad = cp_nfc_changes(cp);
        if (bad) g_unstable[cp >> 3] |= (uint8_t)(1u << (cp & 7));
    }
    /* HF normalizes with Unicode 9.0 data: later code points are inert
     * starters, boundaries before and after them */
    for (size_t r = 0; r < sizeof tok_nfc_after_u9 / sizeof *tok_nfc_after_u9; r++)
        for (uint32_t cp = tok_nfc_after_u9[r][0]; cp <= tok_nfc_after_u9[r][1]; cp++) {
            g_unstable[cp >> 3] &= (uint8_t) ~(1u << (cp & 7));
            g_inert[cp >> 3] |= (uint8_t)(1u << (cp & 7));
        }
}

static inline uint32_t utf8_decode(const unsigned char *s, size_t *k) {
    unsigned c = s[0];
    if (c < 0xe0) {
        *k = 2;
        return (c & 0x1f) << 6 | (s[1] & 0x3f);
    }
    if (c < 0xf0) {
        *k = 3;
        return (c & 0x0f) << 12 | (s[1] & 0x3f) << 6 | (s[2] & 0x3f);
    }
    *k = 4;
    return (c & 0x07) << 18 | (s[1] & 0x3f) << 12 | (s[2] & 0x3f) << 6 | (s[3] & 0x3f);
}

/* NFC of s[0..n) into *dst (utf8proc, no allocation for short spans). */
static int nfc_span(const unsigned char *s, size_t n, char **buf, size_t *len, size_t *cap, am_err *e) {
    utf8proc_int32_t stack[256];
    utf8proc_int32_t *u = stack;
    utf8proc_ssize_t m = utf8proc_decompose(s, (utf8proc_ssize_t)n, u, 256, UTF8PROC_STABLE | UTF8PROC_DECOMPOSE);
    if (m > 256) {
        u = malloc(sizeof *u * (size_t)m + 4);
        if (!u) return am_fail_code(e, AM_E_NOMEM, "NFC: out of memory");
        m = utf8proc_decompose(s, (utf8proc_ssize_t)n, u, m, UTF8PROC_STABLE | UTF8PROC_DECOMPOSE);
    }
    if (m < 0) {
        if (u != stack) free(u);
        return am_fail(e, "NFC: %s", utf8proc_errmsg(m));
    }
    m = utf8proc_normalize_utf32(u, m, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (buf_grow(buf, cap, *len + 4 * (size_t)m + 1)) {
        if (u != stack) free(u);
        return am_fail_code(e, AM_E_NOMEM, "NFC: out of memory");
    }
    for (utf8proc_ssize_t i = 0; i < m; i++)
        *len += (size_t)utf8proc_encode_char(u[i], (utf8proc_uint8_t *)*buf + *len);
    if (u != stack) free(u);
    return 0;
}

int tok_nfc(const char *text, size_t len, char **out, size_t *out_len, am_err *e) {
    const unsigned char *s = (const unsigned char *)text;
    *out = NULL;
    *out_len = 0;
    pthread_once(&g_nfc_once, nfc_init);
    if (!g_unstable) return am_fail_code(e, AM_E_NOMEM, "NFC: out of memory");
    char *buf = NULL;
    size_t blen = 0, bcap = 0;
    size_t copied = 0;      /* s[0..copied) is accounted for in buf */
    size_t last_stable = 0; /* start of the last stable code point seen (a boundary) */
    size_t i = 0;
    while (i < len) {
        if (s[i] < 0x80) {
            if (i + 8 <= len) {
                uint64_t w;
                memcpy(&w, s + i, 8);
                if (!(w & 0x8080808080808080ull)) {
                    i += 8;
                    last_stable = i - 1;
                    continue;
                }
            }
            last_stable = i++;
            continue;
        }
        size_t k;
        uint32_t cp = utf8_decode(s + i, &k);
        if (!(g_unstable[cp >> 3] >> (cp & 7) & 1)) {
            last_stable = g_inert[cp >> 3] >> (cp & 7) & 1 ? i + k : i;
            i += k;
            continue;
        }
        /* span from the last boundary to the next stable code point */
        size_t a = last_stable > copied ? last_stable : copied;
        size_t b = i + k;
        while (b < len) {
            if (s[b] < 0x80) break;
            size_t k2;
            uint32_t c2 = utf8_decode(s + b, &k2);
            if (!(g_unstable[c2 >> 3] >> (c2 & 7) & 1)) break;
            b += k2;
        }
        if (buf_grow(&buf, &bcap, blen + (a - copied) + 1)) goto oom;
        memcpy(buf + blen, s + copied, a - copied);
        blen += a - copied;
        if (nfc_span(s + a, b - a, &buf, &blen, &bcap, e)) {
            free(buf);
            return -1;
        }
        copied = b;
        i = b;
        last_stable = b;
    }
    if (!buf) return 0; /* nothing needed normalising */
    if (buf_grow(&buf, &bcap, blen + (len - copied) + 1)) goto oom;
    memcpy(buf + blen, s + copied, len - copied);
    blen += len - copied;
    if (blen == len && memcmp(buf, s, len) == 0) {
        free(buf);
        return 0;
    }
    buf[blen] = 0;
    *out = buf;
    *out_len = blen;
    return 0;
oom:
    free(buf);
    return am_fail_code(e, AM_E_NOMEM, "NFC: out of memory");
}
