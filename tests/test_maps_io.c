/* Maps written through am_maps (float32/float16, with and without the
 * parallel shuffle + deflate path) read back through plain HDF5 exactly as
 * written, and the dataset reports the standard filters. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "h5/h5io.h"
#include "h5/maps.h"
#include "half.h"
#include "test_util.h"

static int roundtrip(int f16, int level) {
    enum { P = 2, A = 3, L = 2, H = 5, S = 37 };
    const size_t per = (size_t)H * S * S;
    float *maps = malloc((size_t)P * A * L * per * sizeof *maps);
    unsigned x = 12345;
    for (size_t i = 0; i < (size_t)P * A * L * per; i++) {
        x = x * 1664525u + 1013904223u;
        maps[i] = (i % 7 == 0) ? 0.0f : (float)(x >> 8) / 16777216.0f;
    }
    am_err e = {0};
    am_h5_out out;
    am_maps w;
    REQUIRE(am_h5_out_create(&out, "maps_io.h5", &e) == 0, "%s", e.msg);
    REQUIRE(am_maps_create(&w, out.file, "attention", P, A, L, H, S, f16, level, &e) == 0, "%s", e.msg);
    for (int p = 0; p < P; p++)
        for (int a = 0; a < A; a++)
            for (int l = 0; l < L; l++)
                REQUIRE(am_maps_write(&w, p, a, l, maps + (((size_t)p * A + a) * L + l) * per, &e) == 0, "%s", e.msg);
    am_maps_close(&w);
    REQUIRE(am_h5_out_commit(&out, &e) == 0, "%s", e.msg);

    hid_t f = H5Fopen("maps_io.h5", H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, "attention", H5P_DEFAULT), dcpl = H5Dget_create_plist(d);
    int nf = H5Pget_nfilters(dcpl);
    REQUIRE(nf == (level > 0 ? 2 : 0), "%d filters", nf);
    if (level > 0) {
        unsigned flags, cd[4];
        size_t ncd = 4;
        REQUIRE(H5Pget_filter2(dcpl, 0, &flags, &ncd, cd, 0, NULL, NULL) == H5Z_FILTER_SHUFFLE, "filter 0");
        ncd = 4;
        REQUIRE(H5Pget_filter2(dcpl, 1, &flags, &ncd, cd, 0, NULL, NULL) == H5Z_FILTER_DEFLATE, "filter 1");
    }
    float *back = malloc((size_t)P * A * L * per * sizeof *back);
    REQUIRE(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, back) >= 0, "read");
    for (size_t i = 0; i < (size_t)P * A * L * per; i++) {
        float want = f16 ? am_f16_to_f32(am_f32_to_f16(maps[i])) : maps[i];
        REQUIRE(back[i] == want, "f16=%d level=%d cell %zu: %g != %g", f16, level, i, back[i], want);
        if (f16) REQUIRE(fabsf(back[i] - maps[i]) <= 4.9e-4f * fabsf(maps[i]) + 6e-8f, "f16 rounding");
    }
    H5Pclose(dcpl);
    H5Dclose(d);
    H5Fclose(f);
    free(maps);
    free(back);
    printf("maps round trip: %s, deflate %d: ok\n", f16 ? "float16" : "float32", level);
    return 0;
}

int main(void) {
    am_h5_quiet();
    return roundtrip(0, 0) || roundtrip(0, 4) || roundtrip(1, 0) || roundtrip(1, 1);
}
