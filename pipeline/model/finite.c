/* Non-finite scans (see finite.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/finite.h"

/* A block of BLOCK elements is reduced without branches (vectorised); the
 * element is searched only in the block that holds one. */
enum { BLOCK = 4096 };

/* Element i of x as bits (memcpy: stored data need not be aligned). */
static inline uint16_t bits16(const unsigned char *x, size_t i) {
    uint16_t v;
    memcpy(&v, x + 2 * i, 2);
    return v;
}
static inline uint32_t bits32(const unsigned char *x, size_t i) {
    uint32_t v;
    memcpy(&v, x + 4 * i, 4);
    return v;
}

static int64_t first16(const unsigned char *x, size_t n, uint16_t mask) {
    for (size_t i0 = 0; i0 < n; i0 += BLOCK) {
        size_t i1 = i0 + BLOCK < n ? i0 + BLOCK : n;
        unsigned bad = 0;
        for (size_t i = i0; i < i1; i++) bad |= (bits16(x, i) & mask) == mask;
        if (bad)
            for (size_t i = i0; i < i1; i++)
                if ((bits16(x, i) & mask) == mask) return (int64_t)i;
    }
    return -1;
}

static int64_t first32(const unsigned char *x, size_t n) {
    const uint32_t mask = 0x7f800000u;
    for (size_t i0 = 0; i0 < n; i0 += BLOCK) {
        size_t i1 = i0 + BLOCK < n ? i0 + BLOCK : n;
        unsigned bad = 0;
        for (size_t i = i0; i < i1; i++) bad |= (bits32(x, i) & mask) == mask;
        if (bad)
            for (size_t i = i0; i < i1; i++)
                if ((bits32(x, i) & mask) == mask) return (int64_t)i;
    }
    return -1;
}

int64_t am_first_nonfinite(const void *x, am_dtype dt, size_t n) {
    switch (dt) {
    case AM_F32: return first32(x, n);
    case AM_F16: return first16(x, n, 0x7c00u);
    case AM_BF16: return first16(x, n, 0x7f80u);
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
        float v = am_load_w(t->data, t->dtype, (size_t)k);
        return am_fail_code(
            e, AM_E_CORRUPT,
            "%s: tensor \"%s\" (%s) holds a non-finite value (%g) at [%s] (element %lld of %zu): the "
            "checkpoint is broken; to study it anyway set ATTNMIX_ALLOW_NONFINITE=weights (a run stops where the "
            "value surfaces) or =1 (no check)",
            m->st.files[t->file].path, t->name, am_dtype_name(t->dtype), v, idx, (long long)k, n);
    }
    return 0;
}
