/* The /attention dataset writer: one map per chunk, float32 or float16, shuffle + deflate. */
#ifndef AM_MAPS_H
#define AM_MAPS_H

#include "base/error.h"
#include <hdf5.h>
#include <stdint.h>

/* Writer of an /attention dataset [P, A, L, H, S, S], one map per chunk,
 * float32 or float16 (converted here), shuffle + deflate. */
typedef struct am_maps {
    hid_t dset, fspace, mspace, ftype;
    int H, S, f16, level;
    uint16_t *half;      /* [H][S][S] staging for float16 */
    unsigned char *shuf; /* [H][S*S*elem] shuffled chunk bytes (level > 0) */
    unsigned char *z;    /* [H][zcap] deflated chunks */
    size_t zcap, *zlen;  /* zlen: [H] */
} am_maps;
int am_maps_create(am_maps *w, hid_t file, const char *name, int P, int A, int L, int H, int S, int f16, int level,
                   am_err *e);
/* maps: [H][S][S] float32, all heads of one (pair, alpha, layer). */
int am_maps_write(am_maps *w, int p, int a, int l, const float *maps, am_err *e);
void am_maps_close(am_maps *w);

#endif
