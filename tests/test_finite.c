/* am_first_nonfinite (model/finite.h) against a plain reference: the first
 * element whose value is NaN or +-inf, for float32, float16 and bfloat16 data
 * at every alignment, with lengths that end inside a word and a block, and
 * the bit patterns next to the non-finite ones (largest finite, subnormal). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "half.h"
#include "model/finite.h"
#include "test_util.h"

/* The reference: convert each element (read byte-wise: x need not be
 * aligned) and ask isfinite. */
static int64_t ref_first(const unsigned char *x, am_dtype dt, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v;
        if (dt == AM_F32) memcpy(&v, x + 4 * i, 4);
        else {
            uint16_t h;
            memcpy(&h, x + 2 * i, 2);
            v = dt == AM_F16 ? am_f16_to_f32(h) : am_bf16_to_f32(h);
        }
        if (!isfinite(v)) return (int64_t)i;
    }
    return -1;
}

static void put(unsigned char *x, am_dtype dt, size_t i, uint32_t bits) {
    if (dt == AM_F32) memcpy(x + 4 * i, &bits, 4);
    else {
        uint16_t h = (uint16_t)bits;
        memcpy(x + 2 * i, &h, 2);
    }
}

int main(void) {
    static const am_dtype dts[3] = {AM_F32, AM_F16, AM_BF16};
    /* per dtype: NaN, +inf, -inf, a NaN with low bits, then finite edge cases */
    static const uint32_t bad[3][4] = {{0x7fc00000u, 0x7f800000u, 0xff800000u, 0x7f800001u},
                                       {0x7e00u, 0x7c00u, 0xfc00u, 0x7c01u},
                                       {0x7fc0u, 0x7f80u, 0xff80u, 0x7f81u}};
    static const uint32_t edge[3][3] = {
        {0x7f7fffffu, 0x00000001u, 0xff7fffffu}, {0x7bffu, 0x0001u, 0xfbffu}, {0x7f7fu, 0x0001u, 0xff7fu}};
    const size_t lens[] = {0, 1, 3, 4, 5, 7, 8, 9, 1023, 2047, 2048, 2049, 4096, 6000};
    uint64_t rng = 42;
    int checks = 0;
    for (int d = 0; d < 3; d++) {
        const size_t sz = dts[d] == AM_F32 ? 4 : 2;
        for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
            const size_t n = lens[li];
            for (int off = 0; off < 8; off += 1) {
                unsigned char *buf = calloc(n * sz + 16, 1), *x = buf + off;
                /* finite data, including the largest finite values and subnormals */
                for (size_t i = 0; i < n; i++) {
                    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                    uint32_t r = (uint32_t)(rng >> 33);
                    put(x, dts[d], i,
                        i % 17 == 3 ? edge[d][i % 3]
                                    : (dts[d] == AM_F32 ? 0x3f800000u ^ (r & 0x807fffffu) : (0x3c00u ^ (r & 0x83ffu))));
                }
                CHECK(am_first_nonfinite(x, dts[d], n) == ref_first(x, dts[d], n) && ref_first(x, dts[d], n) == -1,
                      "dtype %d n %zu offset %d: a finite array reported non-finite", d, n, off);
                checks++;
                /* one or two non-finite elements at chosen and random places */
                for (int t = 0; n && t < 12; t++) {
                    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                    size_t at = t == 0 ? 0 : t == 1 ? n - 1 : (size_t)(rng >> 33) % n;
                    size_t at2 = (size_t)(rng >> 13) % n;
                    unsigned char *y = malloc(n * sz + 16);
                    memcpy(y, buf, n * sz + 16);
                    unsigned char *z = y + off;
                    put(z, dts[d], at, bad[d][t % 4]);
                    if (t % 3 == 2) put(z, dts[d], at2, bad[d][(t + 1) % 4]);
                    int64_t got = am_first_nonfinite(z, dts[d], n), want = ref_first(z, dts[d], n);
                    CHECK(got == want && want >= 0, "dtype %d n %zu offset %d: first non-finite %lld, reference %lld",
                          d, n, off, (long long)got, (long long)want);
                    checks++;
                    free(y);
                }
                free(buf);
            }
        }
    }
    printf("finite: %d checks against the reference\n", checks);
    return failures != 0;
}
