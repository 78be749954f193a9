/* Chunked writing of attention maps into [P, A, L, H, S, S] datasets.
 * With compression, the chunks of one write (one per head) are shuffled and
 * deflated in parallel here, exactly as HDF5's shuffle + deflate filters would,
 * and stored with H5Dwrite_chunk; readers see an ordinary filtered dataset. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "h5/h5io.h"
#include "h5/maps.h"
#include "half.h"

int am_maps_create(am_maps *w, hid_t file, const char *name, int P, int A, int L, int H, int S, int f16, int level,
                   am_err *e) {
    memset(w, 0, sizeof *w);
    w->dset = w->fspace = w->mspace = w->ftype = H5I_INVALID_HID;
    w->H = H;
    w->S = S;
    w->f16 = f16;
    w->level = level;
    w->ftype = f16 ? am_h5_f16_type() : H5Tcopy(H5T_IEEE_F32LE);
    hsize_t dims[6] = {(hsize_t)P, (hsize_t)A, (hsize_t)L, (hsize_t)H, (hsize_t)S, (hsize_t)S};
    hsize_t chunk[6] = {1, 1, 1, 1, (hsize_t)S, (hsize_t)S};
    hid_t mem = f16 ? w->ftype : H5T_NATIVE_FLOAT;
    w->dset = am_h5_write(file, name, mem, w->ftype, 6, dims, chunk, level, NULL, e);
    if (w->dset < 0) {
        am_maps_close(w);
        return -1;
    }
    w->fspace = H5Dget_space(w->dset);
    hsize_t one[6] = {1, 1, 1, (hsize_t)H, (hsize_t)S, (hsize_t)S};
    w->mspace = H5Screate_simple(6, one, NULL);
    const size_t cells = (size_t)S * S, es = f16 ? 2 : 4;
    if (f16) w->half = malloc((size_t)H * cells * sizeof *w->half);
    if (level > 0) {
        w->zcap = compressBound((uLong)(cells * es));
        w->shuf = malloc((size_t)H * cells * es); /* [H][es][S*S] shuffled bytes */
        w->z = malloc((size_t)H * w->zcap);       /* [H][zcap] deflated chunks */
        w->zlen = malloc((size_t)H * sizeof *w->zlen);
    }
    if ((f16 && !w->half) || (level > 0 && (!w->shuf || !w->z || !w->zlen))) {
        am_maps_close(w);
        return am_fail_code(e, AM_E_NOMEM, "out of memory: the staging buffers of /%s (%d heads of %d x %d)", name, H,
                            S, S);
    }
    return 0;
}

int am_maps_write(am_maps *w, int p, int a, int l, const float *maps, am_err *e) {
    const size_t cells = (size_t)w->S * w->S, es = w->f16 ? 2 : 4;
    const void *src = maps;
    hid_t mem = H5T_NATIVE_FLOAT;
    if (w->f16) {
        for (size_t i = 0; i < (size_t)w->H * cells; i++) w->half[i] = am_f32_to_f16(maps[i]);
        src = w->half;
        mem = w->ftype;
    }
    if (w->level <= 0) {
        hsize_t start[6] = {(hsize_t)p, (hsize_t)a, (hsize_t)l, 0, 0, 0};
        hsize_t count[6] = {1, 1, 1, (hsize_t)w->H, (hsize_t)w->S, (hsize_t)w->S};
        H5Sselect_hyperslab(w->fspace, H5S_SELECT_SET, start, NULL, count, NULL);
        return AM_H5(H5Dwrite(w->dset, mem, w->mspace, w->fspace, H5P_DEFAULT, src), e, "attention");
    }
    int zfail = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(| : zfail)
    for (int h = 0; h < w->H; h++) {
        const unsigned char *in = (const unsigned char *)src + (size_t)h * cells * es;
        unsigned char *sh = w->shuf + (size_t)h * cells * es;
        for (size_t i = 0; i < cells; i++) /* byte j of element i -> plane j */
            for (size_t j = 0; j < es; j++) sh[j * cells + i] = in[i * es + j];
        uLongf zl = (uLongf)w->zcap;
        zfail |= compress2(w->z + (size_t)h * w->zcap, &zl, sh, (uLong)(cells * es), w->level) != Z_OK;
        w->zlen[h] = (size_t)zl;
    }
    if (zfail) return am_fail(e, "attention: deflate failed");
    for (int h = 0; h < w->H; h++) {
        hsize_t off[6] = {(hsize_t)p, (hsize_t)a, (hsize_t)l, (hsize_t)h, 0, 0};
        if (AM_H5(H5Dwrite_chunk(w->dset, H5P_DEFAULT, 0, off, w->zlen[h], w->z + (size_t)h * w->zcap), e, "attention"))
            return -1;
    }
    return 0;
}

void am_maps_close(am_maps *w) {
    if (w->mspace >= 0) H5Sclose(w->mspace);
    if (w->fspace >= 0) H5Sclose(w->fspace);
    if (w->dset >= 0) H5Dclose(w->dset);
    if (w->ftype >= 0) H5Tclose(w->ftype);
    free(w->half);
    free(w->shuf);
    free(w->z);
    free(w->zlen);
    w->half = NULL;
    w->shuf = NULL;
    w->z = NULL;
    w->zlen = NULL;
    w->dset = w->fspace = w->mspace = w->ftype = H5I_INVALID_HID;
}
