/* Non-finite scans (see finite.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/finite.h"

/* Elements are non-finite when their exponent bits are all ones. The test
 * runs on 64-bit words, four bf16/f16 or two f32 lanes at a time (no
 * vectoriser needed, no alignment assumed): a block of words is reduced
 * without branches and searched element by element only when it holds one. */
enum { BLOCK = 4096 }; /* bytes of a block: a multiple of 8 */

/* Nonzero when some lane of w (lanes of `bits`, exponent mask mm replicated, lows = 1 per lane,
 * highs = top bit per lane) has all exponent bits set. */
static inline uint64_t lanes_hit(uint64_t w, uint64_t mm, uint64_t lows, uint64_t highs) {
    uint64_t y = (w & mm) ^ mm; /* a zero lane: exponent all ones */
    return (y - lows) & ~y & highs;
}

static inline uint64_t elem(const unsigned char *x, size_t i, size_t size) {
    if (size == 2) {
        uint16_t v;
        memcpy(&v, x + 2 * i, 2);
        return v;
    }
    uint32_t v;
    memcpy(&v, x + 4 * i, 4);
    return v;
}

/* gcc vectorises the word loop only when asked at -O2 (clang does by default) */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("tree-vectorize")))
#endif
static int64_t
first_nonfinite(const unsigned char *x, size_t n, size_t size, uint64_t mask) {
    const uint64_t mm = size == 2 ? mask * 0x0001000100010001ull : mask * 0x0000000100000001ull;
    const uint64_t lows = size == 2 ? 0x0001000100010001ull : 0x0000000100000001ull;
    const uint64_t highs = size == 2 ? 0x8000800080008000ull : 0x8000000080000000ull;
    const size_t bytes = n * size;
    for (size_t b0 = 0; b0 < bytes; b0 += BLOCK) {
        size_t b1 = b0 + BLOCK < bytes ? b0 + BLOCK : bytes, words = (b1 - b0) / 8;
        uint64_t hit = 0;
        for (size_t k = 0; k < words; k++) {
            uint64_t w;
            memcpy(&w, x + b0 + 8 * k, 8);
            hit |= lanes_hit(w, mm, lows, highs);
        }
        if (hit || (b1 - b0) % 8) /* a hit, or a tail shorter than a word */
            for (size_t i = b0 / size; i < b1 / size; i++)
                if ((elem(x, i, size) & mask) == mask) return (int64_t)i;
    }
    return -1;
}

int64_t am_first_nonfinite(const void *x, am_dtype dt, size_t n) {
    switch (dt) {
    case AM_F32: return first_nonfinite(x, n, 4, 0x7f800000u);
    case AM_F16: return first_nonfinite(x, n, 2, 0x7c00u);
    case AM_BF16: return first_nonfinite(x, n, 2, 0x7f80u);
    }
    return -1;
}

int am_allow_nonfinite(void) {
    const char *v = getenv("ATTNMIX_ALLOW_NONFINITE");
    if (!v) return 0;
    return !strcmp(v, "1") ? 2 : !strcmp(v, "weights") ? 1 : 0;
}

int am_qwen3_check_finite(const am_qwen3 *m, am_err *e) {
    for (int i = 0; i < m->st.ntensors; i++) {
        const am_tensor *t = &m->st.tensors[i];
        size_t n = t->nbytes / am_dtype_size(t->dtype);
        int64_t k = am_first_nonfinite(t->data, t->dtype, n);
        if (k < 0) continue;
        char idx[128];
        size_t w = 0;
        int64_t rest = k;
        int64_t sub[4] = {0};
        for (int d = t->ndim - 1; d >= 0; d--) {
            sub[d] = t->shape[d] ? rest % t->shape[d] : 0;
            rest = t->shape[d] ? rest / t->shape[d] : 0;
        }
        for (int d = 0; d < t->ndim; d++)
            w += (size_t)snprintf(idx + w, sizeof idx - w, "%s%lld", d ? ", " : "", (long long)sub[d]);
        _Alignas(4) unsigned char el[4]; /* the element, copied: stored data need not be aligned */
        memcpy(el, (const unsigned char *)t->data + (size_t)k * am_dtype_size(t->dtype), am_dtype_size(t->dtype));
        float v = am_load_w(el, t->dtype, 0);
        return am_fail_code(
            e, AM_E_CORRUPT,
            "%s: tensor \"%s\" (%s) holds a non-finite value (%s) at [%s] (element %lld of %zu): the "
            "checkpoint is broken; to study it anyway set ATTNMIX_ALLOW_NONFINITE=weights (a run stops where the "
            "value surfaces) or =1 (no check)",
            m->st.files[t->file].path, t->name, am_dtype_name(t->dtype), am_nonfinite_name(v), idx, (long long)k, n);
    }
    return 0;
}

const char *am_nonfinite_name(double v) {
    if (isnan(v)) return "nan";
    return v > 0 ? "inf" : "-inf";
}
