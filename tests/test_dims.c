/* am_h5_label_dims (h5/dims.h): every unlabelled axis of a file gets a
 * dimension scale: by the first matching rule (prefix with '*', scale by
 * absolute or group-relative path, created as an index when absent, skipped
 * when its length differs or it already labels another axis of the dataset),
 * else an index scale dim_<n> (dim_<n>_<k> for a repeated length); axes that
 * have a scale and dimension scales themselves are left alone. */
#include <hdf5_hl.h>
#include <string.h>
#include <unistd.h>

#include "h5/dims.h"
#include "h5/h5io.h"
#include "test_util.h"

/* Path of the first scale on axis i of a dataset, "" when none. */
static herr_t first_scale(hid_t did, unsigned dim, hid_t sid, void *ctx) {
    (void)did, (void)dim;
    H5Iget_name(sid, ctx, 256);
    return 1;
}

static const char *scale_of(hid_t f, const char *path, int i, char *buf) {
    buf[0] = 0;
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    if (d < 0) return "(no dataset)";
    if (H5DSget_num_scales(d, (unsigned)i) > 0) H5DSiterate_scales(d, (unsigned)i, NULL, first_scale, buf);
    H5Dclose(d);
    return buf;
}

static void put(hid_t loc, const char *name, int rank, hsize_t d0, hsize_t d1) {
    const hsize_t dims[2] = {d0, d1};
    double *z = calloc((size_t)(d0 * (rank > 1 ? d1 : 1)), sizeof *z);
    am_err e = {0};
    REQUIRE(am_h5_put(loc, name, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, rank, dims, z, &e) == 0, "%s", e.msg);
    free(z);
}

int main(void) {
    char path[] = "/tmp/test_dims_XXXXXX", buf[256];
    am_err e = {0};
    int fd = mkstemp(path);
    REQUIRE(fd >= 0, "mkstemp");
    close(fd);
    am_h5_quiet();
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(f >= 0, "create %s", path);
    hid_t g = am_h5_group(f, "points", &e), m = am_h5_group(f, "models", &e), mt = am_h5_group(m, "tiny", &e);
    REQUIRE(g >= 0 && mt >= 0, "%s", e.msg);
    put(g, "entropy", 1, 5, 0);  /* [N] -> /points/point */
    put(g, "pca", 2, 5, 3);      /* [N, K] -> point, /component */
    put(g, "square", 2, 4, 4);   /* no rule: dim_4, dim_4_1 */
    put(f, "feature", 1, 3, 0);  /* a scale already */
    put(g, "features", 2, 5, 3); /* axis 1 labelled by /feature beforehand */
    put(mt, "pair", 1, 2, 0);
    put(mt, "length", 2, 2,
        6); /* models/<asterisk>/length: axis 0 by "pair" in its group; axis 1 rule's scale has another length */
    put(f, "alpha", 1, 4, 0);
    {
        const char *sc[] = {NULL, "/feature"};
        REQUIRE(am_h5_attach(f, "points/features", sc, 2, &e) == 0, "%s", e.msg);
    }
    static const am_h5_axis_rule rules[] = {
        {"points/pca", 1, "/component"},       {"points/", 0, "/points/point"}, {"models/*/length", 0, "pair"},
        {"models/*/length", 1, "/alpha"},      /* 4 entries, the axis has 6: falls through */
        {"points/square", 1, "/points/point"}, /* length 4 != 5: falls through */
    };
    REQUIRE(am_h5_label_dims(f, rules, 5, &e) == 0, "%s", e.msg);
    CHECK(!strcmp(scale_of(f, "points/entropy", 0, buf), "/points/point"), "entropy: %s", buf);
    CHECK(!strcmp(scale_of(f, "points/pca", 0, buf), "/points/point"), "pca 0: %s", buf);
    CHECK(!strcmp(scale_of(f, "points/pca", 1, buf), "/component"), "pca 1: %s", buf);
    CHECK(!strcmp(scale_of(f, "points/features", 1, buf), "/feature"), "features 1 kept: %s", buf);
    CHECK(!strcmp(scale_of(f, "points/features", 0, buf), "/points/point"), "features 0: %s", buf);
    CHECK(!strcmp(scale_of(f, "points/square", 0, buf), "/points/dim_4"), "square 0: %s", buf);
    CHECK(!strcmp(scale_of(f, "points/square", 1, buf), "/points/dim_4_1"), "square 1: %s", buf);
    CHECK(!strcmp(scale_of(f, "models/tiny/length", 0, buf), "/models/tiny/pair"), "length 0: %s", buf);
    CHECK(!strcmp(scale_of(f, "models/tiny/length", 1, buf), "/models/tiny/dim_6"), "length 1: %s", buf);
    CHECK(!strcmp(scale_of(f, "feature", 0, buf), ""), "a scale got a scale: %s", buf);
    {
        int32_t *v = NULL;
        hsize_t d[1];
        REQUIRE(am_h5_read(f, "points/point", H5T_NATIVE_INT32, 1, d, (void **)&v, &e) == 0, "%s", e.msg);
        CHECK(d[0] == 5 && v[0] == 0 && v[4] == 4, "index scale /points/point");
        free(v);
    }
    /* a second pass finds every axis labelled and adds nothing */
    REQUIRE(am_h5_label_dims(f, rules, 5, &e) == 0, "%s", e.msg);
    CHECK(!am_h5_exists(f, "points/dim_5") && !am_h5_exists(f, "points/dim_4_2"), "second pass added scales");
    H5Gclose(mt), H5Gclose(m), H5Gclose(g), H5Fclose(f);
    unlink(path);
    return failures != 0;
}
