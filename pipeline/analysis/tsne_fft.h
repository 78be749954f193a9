/* Repulsive t-SNE sums by polynomial interpolation on an equispaced grid and
 * FFT convolution (the interpolation scheme of Linderman et al. 2019,
 * "Fast interpolation-based t-SNE"): the square around the embedding is cut
 * into nb x nb intervals with p Lagrange nodes each (nodes at (k + 1/2)/p of
 * an interval, so all p*nb nodes per axis are equispaced); every point spreads
 * its charges (1, y_x, y_y) onto the p x p nodes of its interval, the kernels
 * (1 + r^2)^-1 and (1 + r^2)^-2 are convolved with the node charges by
 * zero-padded 2-D real FFTs (FFTW3, sizes 2^a 3^b), and the node potentials
 * are interpolated back to the points with the same weights.
 *
 * Intervals: min_intervals across while the square is smaller than
 * min_intervals / per_unit, then of fixed width 1 / per_unit (the kernel
 * spectra are then reused from call to call until the grid grows), at most
 * max_intervals across. Defaults p 6, 0.7 intervals per unit (4.2 nodes per
 * unit length): relative error of the forces about 1e-3 for clustered
 * embeddings, a few 1e-6 at p 6 and 2 per unit (tests/test_tsne_fft.c).
 * Cost O(N p^2 + nf^2 log nf) per call, nf ~ 2 p nb; 3 forward and 4 inverse
 * transforms. Deterministic for a given input and thread count
 * (FFTW_ESTIMATE plans; each grid is written by one thread). */
#ifndef AM_TSNE_FFT_H
#define AM_TSNE_FFT_H

#include "base/error.h"

typedef struct am_tsne_fft {
    int p;             /* Lagrange nodes per interval (6), 2..8 */
    int min_intervals; /* intervals per axis at least (25) */
    double per_unit;   /* intervals per unit of embedding length (0.7) */
    int max_intervals; /* cap on intervals per axis (256) */
    /* internal state */
    int N, nb, nf, cap_nf;
    double kh;      /* node spacing of the kernel spectra in buf[0..1], 0: none */
    int *ix;        /* [N,2] first node index per axis */
    double *w;      /* [N,2,p] Lagrange weights per axis */
    double *buf[6]; /* [nf, 2*(nf/2+1)] in-place real/complex grids */
    void *plan_fwd, *plan_inv;
} am_tsne_fft;

/* Defaults (p 6, 25 intervals minimum, 0.7 per unit, cap 256) for N points. */
int am_tsne_fft_init(am_tsne_fft *f, int N, am_err *e);
void am_tsne_fft_free(am_tsne_fft *f);

/* For Y [N,2]: rep [N,2] = sum_{j != i} (1 + |y_i - y_j|^2)^-2 (y_i - y_j)
 * and zrow [N] = sum_{j != i} (1 + |y_i - y_j|^2)^-1, both interpolated. */
int am_tsne_fft_repulsion(am_tsne_fft *f, const double *Y, double *rep, double *zrow, am_err *e);

#endif
