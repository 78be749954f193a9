/* The cube's layout: dimension scales and the NeXus group for h5web. */
#ifndef AM_CUBE_H
#define AM_CUBE_H

#include <hdf5.h>
#include <stdint.h>

#include "base/error.h"

/* Cube layout shared by generate and merge: dimension scales on every axis
 * of the cube's datasets, and the NeXus group /entry/maps for h5web. */
int am_cube_attach_scales(hid_t f, am_err *e);
int am_cube_write_nexus(hid_t f, am_err *e);
/* The per-unit datasets of a cube of P pairs x A alphas, at most N generated
 * tokens, S positions and T prompt positions: /length [P, A],
 * /generated_ids [P, A, N] (-1 padded), /text [P, A], and the index axes
 * /query and /key [S], /step [N], /token [T]. */
int am_cube_write_units(hid_t f, int P, int A, int N, int S, int T, const int32_t *length, const int32_t *generated,
                        const char *const *text, am_err *e);

/* /tokens [P, A, S] (UTF-8 strings: each unit's token at each position, ""
 * beyond its length) and /key_tokens, the same strings on the key axis, so
 * that readers label both axes of a map. am_cube_attach_scales then attaches
 * them as coordinates of /attention (query and key). */
int am_cube_write_tokens(hid_t f, int P, int A, int S, const char *const *tokens, am_err *e);

/* /attention [P, A, L, H, S, S] of type `type` as an HDF5 virtual dataset:
 * pair p is /attention [1, A, L, H, S_p, S_p] of the file files[p] (a path
 * relative to f's file, S_p = sizes[p] <= S); cells no source covers read 0. */
int am_cube_write_virtual(hid_t f, hid_t type, int P, int A, int L, int H, int S, const char *const *files,
                          const int *sizes, am_err *e);

#endif
