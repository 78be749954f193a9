/* Chunked writing of attention maps into [P, A, L, H, S, S] datasets. */
#include <stdlib.h>

#include "h5io.h"
#include "half.h"
#include "stages.h"

int am_maps_create(am_maps *w, hid_t file, const char *name, int P, int A, int L, int H, int S,
                   int f16, int level, am_err *e) {
    w->dset = w->fspace = w->mspace = w->ftype = H5I_INVALID_HID;
    w->H = H;
    w->S = S;
    w->f16 = f16;
    w->half = NULL;
    w->ftype = f16 ? am_h5_f16_type() : H5Tcopy(H5T_IEEE_F32LE);
    hsize_t dims[6] = {(hsize_t)P, (hsize_t)A, (hsize_t)L, (hsize_t)H, (hsize_t)S, (hsize_t)S};
    hsize_t chunk[6] = {1, 1, 1, 1, (hsize_t)S, (hsize_t)S};
    hid_t mem = f16 ? w->ftype : H5T_NATIVE_FLOAT;
    w->dset = am_h5_write(file, name, mem, w->ftype, 6, dims, chunk, level, NULL, e);
    if (w->dset < 0) { am_maps_close(w); return -1; }
    w->fspace = H5Dget_space(w->dset);
    hsize_t one[6] = {1, 1, 1, (hsize_t)H, (hsize_t)S, (hsize_t)S};
    w->mspace = H5Screate_simple(6, one, NULL);
    if (f16) w->half = malloc((size_t)H * S * S * sizeof *w->half);
    return 0;
}

int am_maps_write(am_maps *w, int p, int a, int l, const float *maps, am_err *e) {
    hsize_t start[6] = {(hsize_t)p, (hsize_t)a, (hsize_t)l, 0, 0, 0};
    hsize_t count[6] = {1, 1, 1, (hsize_t)w->H, (hsize_t)w->S, (hsize_t)w->S};
    H5Sselect_hyperslab(w->fspace, H5S_SELECT_SET, start, NULL, count, NULL);
    const void *src = maps;
    hid_t mem = H5T_NATIVE_FLOAT;
    if (w->f16) {
        size_t n = (size_t)w->H * w->S * w->S;
        for (size_t i = 0; i < n; i++) w->half[i] = am_f32_to_f16(maps[i]);
        src = w->half;
        mem = w->ftype;
    }
    return AM_H5(H5Dwrite(w->dset, mem, w->mspace, w->fspace, H5P_DEFAULT, src), e, "attention");
}

void am_maps_close(am_maps *w) {
    if (w->mspace >= 0) H5Sclose(w->mspace);
    if (w->fspace >= 0) H5Sclose(w->fspace);
    if (w->dset >= 0) H5Dclose(w->dset);
    if (w->ftype >= 0) H5Tclose(w->ftype);
    free(w->half);
    w->dset = w->fspace = w->mspace = w->ftype = H5I_INVALID_HID;
    w->half = NULL;
}
