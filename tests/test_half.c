/* am_f32_to_f16 / am_f16_to_f32 agree with the compiler's IEEE binary16
 * conversions (_Float16, round to nearest even) on a dense sample of all
 * float32 bit patterns and on every float16 value. */
#include <stdio.h>
#include <string.h>

#include "half.h"

int main(void) {
    long bad = 0, n = 0;
    for (unsigned long u = 0; u < 0x100000000ul; u += 251) {
        unsigned x = (unsigned)u;
        float f;
        memcpy(&f, &x, 4);
        if (f != f) continue;
        _Float16 r = (_Float16)f;
        uint16_t want, got = am_f32_to_f16(f);
        memcpy(&want, &r, 2);
        n++;
        if (got != want && bad++ < 5) printf("f32 %08x (%g): %04x, expected %04x\n", x, f, got, want);
    }
    for (unsigned h = 0; h < 65536; h++) {
        uint16_t hh = (uint16_t)h;
        _Float16 r;
        memcpy(&r, &hh, 2);
        float got = am_f16_to_f32(hh), want = (float)r;
        if (memcmp(&got, &want, 4) != 0 && !(got != got && want != want) && bad++ < 10)
            printf("f16 %04x: %g, expected %g\n", h, got, want);
    }
    printf("%ld float32 values and 65536 float16 values: %ld mismatches\n", n, bad);
    return bad != 0;
}
