/* The parts of a cube's layout shared by the writers of cubes (generate,
 * merge): dimension scales on every axis and the NeXus view for h5web. */
#include <stdio.h>
#include <stdlib.h>

#include "h5/cube.h"
#include "h5/h5io.h"

/* /tokens [pair, alpha, query] and /key_tokens [pair, alpha, key], when
 * present: their axes, and the netCDF/CF "coordinates" attribute that makes
 * them coordinates of /attention in xarray. */
static int attach_tokens(hid_t f, am_err *e) {
    static const char *const q[] = {"pair", "alpha", "query"}, *const k[] = {"pair", "alpha", "key"};
    if (!am_h5_exists(f, "tokens")) return 0;
    const int both = am_h5_exists(f, "key_tokens");
    if (am_h5_attach(f, "tokens", q, 3, e) < 0 || (both && am_h5_attach(f, "key_tokens", k, 3, e) < 0)) return -1;
    hid_t d = H5Dopen2(f, "attention", H5P_DEFAULT);
    if (AM_H5ID(d, e, "attention")) return -1;
    const int rc = am_h5_attr_str(d, "coordinates", both ? "tokens key_tokens" : "tokens", e);
    H5Dclose(d);
    return rc;
}

int am_cube_write_tokens(hid_t f, int P, int A, int S, const char *const *tokens, am_err *e) {
    const hsize_t d[3] = {(hsize_t)P, (hsize_t)A, (hsize_t)S};
    if (am_h5_done(am_h5_write_strs(f, "tokens", 3, d, tokens, e)) ||
        am_h5_done(am_h5_write_strs(f, "key_tokens", 3, d, tokens, e)))
        return -1;
    return 0;
}

/* Attach /pair, /alpha, /layer, /head, /query, /key, /step and /token as
 * dimension scales of the cube's datasets (docs/schema.md), and the token
 * strings as coordinates of the query and key axes. */
int am_cube_attach_scales(hid_t f, am_err *e) {
    const char *by_pair[] = {"attention", "length", "generated_ids", "text",    "prompt_length",
                             "ids_a",     "ids_b",  "prompt_a",      "prompt_b"};
    const char *by_alpha[] = {"attention", "length", "generated_ids", "text"};
    const char *att[] = {"attention"}, *ids[] = {"ids_a", "ids_b"}, *gid[] = {"generated_ids"};
    const int z[] = {0, 0, 0, 0, 0, 0, 0, 0, 0}, one[] = {1, 1, 1, 1}, two[] = {2}, three[] = {3}, four[] = {4},
              five[] = {5}, two2[] = {1, 1};
    if (am_h5_scale(f, "pair", "pair", by_pair, z, 9, e) < 0 ||
        am_h5_scale(f, "alpha", "alpha", by_alpha, one, 4, e) < 0 ||
        am_h5_scale(f, "layer", "layer", att, two, 1, e) < 0 || am_h5_scale(f, "head", "head", att, three, 1, e) < 0 ||
        am_h5_scale(f, "query", "query", att, four, 1, e) < 0 || am_h5_scale(f, "key", "key", att, five, 1, e) < 0 ||
        am_h5_scale(f, "step", "step", gid, two, 1, e) < 0 || am_h5_scale(f, "token", "token", ids, two2, 2, e) < 0 ||
        attach_tokens(f, e) < 0)
        return -1;
    return 0;
}

/* NeXus view for h5web: /entry/maps (NXdata) with soft links to the cube. */
int am_cube_write_nexus(hid_t f, am_err *e) {
    static const char *axes[] = {"pair", "alpha", "layer", "head", "query", "key"};
    static const char *links[] = {"attention", "pair", "alpha", "layer", "head", "query", "key"};
    int rc = -1;
    hid_t entry = H5Gcreate2(f, "entry", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), maps = H5I_INVALID_HID;
    if (AM_H5ID(entry, e, "/entry")) return -1;
    maps = H5Gcreate2(entry, "maps", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (AM_H5ID(maps, e, "/entry/maps")) goto out;
    if (am_h5_attr_str(f, "NX_class", "NXroot", e) < 0 || am_h5_attr_str(f, "default", "entry", e) < 0 ||
        am_h5_attr_str(entry, "NX_class", "NXentry", e) < 0 || am_h5_attr_str(entry, "default", "maps", e) < 0 ||
        am_h5_attr_str(maps, "NX_class", "NXdata", e) < 0 || am_h5_attr_str(maps, "signal", "attention", e) < 0 ||
        am_h5_attr_strs(maps, "axes", axes, 6, e) < 0)
        goto out;
    for (int i = 0; i < 7; i++) {
        char target[64];
        snprintf(target, sizeof target, "/%s", links[i]);
        if (AM_H5(H5Lcreate_soft(target, maps, links[i], H5P_DEFAULT, H5P_DEFAULT), e, links[i])) goto out;
    }
    rc = 0;
out:
    am_h5_close(&maps);
    H5Gclose(entry);
    return rc;
}

int am_cube_write_units(hid_t f, int P, int A, int N, int S, int T, const int32_t *length, const int32_t *generated,
                        const char *const *text, am_err *e) {
    const hsize_t dPA[2] = {(hsize_t)P, (hsize_t)A}, dPAN[3] = {(hsize_t)P, (hsize_t)A, (hsize_t)N},
                  dS[1] = {(hsize_t)S}, dN[1] = {(hsize_t)N}, dT[1] = {(hsize_t)T};
    const int n = S > N ? (S > T ? S : T) : (N > T ? N : T);
    int32_t *iota = am_malloc((size_t)(n > 0 ? n : 1), sizeof *iota, "the index axes", e); /* [n] 0, 1, ... */
    if (!iota) return -1;
    for (int i = 0; i < n; i++) iota[i] = i;
    int rc = am_h5_done(am_h5_write_i32(f, "length", 2, dPA, length, e)) ||
                     am_h5_done(am_h5_write_i32(f, "generated_ids", 3, dPAN, generated, e)) ||
                     am_h5_done(am_h5_write_strs(f, "text", 2, dPA, text, e)) ||
                     am_h5_done(am_h5_write_i32(f, "query", 1, dS, iota, e)) ||
                     am_h5_done(am_h5_write_i32(f, "key", 1, dS, iota, e)) ||
                     am_h5_done(am_h5_write_i32(f, "step", 1, dN, iota, e)) ||
                     am_h5_done(am_h5_write_i32(f, "token", 1, dT, iota, e))
                 ? -1
                 : 0;
    free(iota);
    return rc;
}

int am_cube_write_virtual(hid_t f, hid_t type, int P, int A, int L, int H, int S, const char *const *files,
                          const int *sizes, am_err *e) {
    const hsize_t vd[6] = {(hsize_t)P, (hsize_t)A, (hsize_t)L, (hsize_t)H, (hsize_t)S, (hsize_t)S};
    unsigned char zero[16] = {0};
    int rc = -1;
    hid_t vspace = H5Screate_simple(6, vd, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE), src = H5I_INVALID_HID,
          d = H5I_INVALID_HID;
    if (AM_H5ID(vspace, e, "attention (virtual)") || AM_H5ID(dcpl, e, "attention (virtual)")) goto out;
    if (AM_H5(H5Pset_fill_value(dcpl, type, zero), e, "attention fill value")) goto out;
    for (int p = 0; p < P; p++) {
        const hsize_t start[6] = {(hsize_t)p, 0, 0, 0, 0, 0};
        const hsize_t ad[6] = {1, (hsize_t)A, (hsize_t)L, (hsize_t)H, (hsize_t)sizes[p], (hsize_t)sizes[p]};
        src = H5Screate_simple(6, ad, NULL);
        if (AM_H5ID(src, e, files[p]) ||
            AM_H5(H5Sselect_hyperslab(vspace, H5S_SELECT_SET, start, NULL, ad, NULL), e, files[p]) ||
            AM_H5(H5Pset_virtual(dcpl, vspace, files[p], "/attention", src), e, files[p]))
            goto out;
        am_h5_close(&src);
    }
    H5Sselect_all(vspace);
    d = H5Dcreate2(f, "attention", type, vspace, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (AM_H5ID(d, e, "attention (virtual)")) goto out;
    rc = 0;
out:
    am_h5_close(&d);
    am_h5_close(&src);
    am_h5_close(&dcpl);
    am_h5_close(&vspace);
    return rc;
}
