/* Interpolated FFT repulsion for t-SNE; see tsne_fft.h. */
#include "analysis/tsne_fft.h"

#include <fftw3.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define AM_FFT_PMAX 8
/* Below this many points a per-point loop is not worth a thread team. */
#define AM_FFT_PAR_MIN 2048

int am_tsne_fft_init(am_tsne_fft *f, int N, am_err *e) {
    memset(f, 0, sizeof *f);
    f->p = 6;
    f->min_intervals = 25;
    f->per_unit = 0.7;
    f->max_intervals = 256;
    f->N = N;
    f->ix = malloc((size_t)N * 2 * sizeof *f->ix);
    f->w = malloc((size_t)N * 2 * AM_FFT_PMAX * sizeof *f->w);
    if (!f->ix || !f->w) {
        am_tsne_fft_free(f);
        return am_fail(e, "t-SNE FFT: out of memory for %d points", N);
    }
    return 0;
}

static void drop_grids(am_tsne_fft *f) {
    if (f->plan_fwd) fftw_destroy_plan(f->plan_fwd);
    if (f->plan_inv) fftw_destroy_plan(f->plan_inv);
    f->plan_fwd = f->plan_inv = NULL;
    for (int b = 0; b < 6; b++) {
        fftw_free(f->buf[b]);
        f->buf[b] = NULL;
    }
    f->cap_nf = 0;
}

void am_tsne_fft_free(am_tsne_fft *f) {
    drop_grids(f);
    free(f->ix);
    free(f->w);
    memset(f, 0, sizeof *f);
}

/* Smallest even n >= m of the form 2^a 3^b (sizes FFTW transforms fastest). */
static int smooth_at_least(int m) {
    for (int n = m > 1 ? m : 1;; n++) {
        int r = n;
        if (r % 2) continue;
        while (r % 2 == 0) r /= 2;
        while (r % 3 == 0) r /= 3;
        if (r == 1) return n;
    }
}

/* (Re)plans for FFT size nf: six in-place grids [nf, 2*(nf/2+1)]. */
static int set_size(am_tsne_fft *f, int nf, am_err *e) {
    if (nf == f->nf && f->plan_fwd) return 0;
    size_t rs = 2 * ((size_t)nf / 2 + 1), n = (size_t)nf * rs;
    if (nf > f->cap_nf) {
        drop_grids(f);
        for (int b = 0; b < 6; b++) {
            f->buf[b] = fftw_malloc(n * sizeof(double));
            if (!f->buf[b]) {
                drop_grids(f);
                return am_fail(e, "t-SNE FFT: out of memory for six %d x %d grids", nf, nf);
            }
        }
        f->cap_nf = nf;
    } else {
        if (f->plan_fwd) fftw_destroy_plan(f->plan_fwd);
        if (f->plan_inv) fftw_destroy_plan(f->plan_inv);
    }
    double *b0 = f->buf[0];
    f->plan_fwd = fftw_plan_dft_r2c_2d(nf, nf, b0, (fftw_complex *)b0, FFTW_ESTIMATE);
    f->plan_inv = fftw_plan_dft_c2r_2d(nf, nf, (fftw_complex *)b0, b0, FFTW_ESTIMATE);
    f->nf = nf;
    f->kh = 0; /* kernel spectra must be recomputed */
    if (!f->plan_fwd || !f->plan_inv) {
        drop_grids(f);
        return am_fail(e, "t-SNE FFT: cannot plan a %d x %d transform", nf, nf);
    }
    return 0;
}

/* Lagrange weights w [p] at local coordinate u in [0,1) for nodes (k+1/2)/p. */
static void lagrange(double u, int p, const double *den, double *w) {
    for (int k = 0; k < p; k++) {
        double v = 1;
        for (int m = 0; m < p; m++)
            if (m != k) v *= u - (m + 0.5) / p;
        w[k] = v / den[k];
    }
}

int am_tsne_fft_repulsion(am_tsne_fft *f, const double *Y, double *rep, double *zrow, am_err *e) {
    const int N = f->N, p = f->p;
    if (p < 2 || p > AM_FFT_PMAX)
        return am_fail(e, "t-SNE FFT: nodes per interval must be 2..%d, got %d", AM_FFT_PMAX, p);
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (int i = 0; i < N; i++) {
        double x = Y[2 * i], y = Y[2 * i + 1];
        if (!isfinite(x) || !isfinite(y))
            return am_fail(
                e,
                "t-SNE FFT: point %d of the embedding has a non-finite coordinate (diverged? lower the learning rate)",
                i);
        xmin = fmin(xmin, x);
        xmax = fmax(xmax, x);
        ymin = fmin(ymin, y);
        ymax = fmax(ymax, y);
    }
    double R = fmax(xmax - xmin, ymax - ymin);
    R = R * (1 + 1e-9) + 1e-12;
    /* Intervals of fixed width 1/per_unit once the square needs more than
     * min_intervals of them: the node spacing h then stays the same from one
     * call to the next and the kernel spectra are reused until the FFT size
     * grows. Smaller squares: min_intervals intervals across; very large
     * ones: max_intervals across. */
    int nb;
    double box;
    if (R * f->per_unit <= f->min_intervals) {
        nb = f->min_intervals;
        box = R / nb;
    } else if (R * f->per_unit > f->max_intervals) {
        nb = f->max_intervals;
        box = R / nb;
    } else {
        box = 1.0 / f->per_unit;
        nb = (int)ceil(R / box);
        if (nb * box < R) nb++;
    }
    const int ng = nb * p, nf = smooth_at_least(2 * ng);
    if (set_size(f, nf, e)) return -1;
    f->nb = nb;
    const size_t rs = 2 * ((size_t)nf / 2 + 1), cs = rs / 2, ntot = (size_t)nf * rs;
    const double h = box / p;
    /* charges are taken relative to the centre of the square (less cancellation) */
    const double x0 = xmin, y0 = ymin, cx = xmin + R / 2, cy = ymin + R / 2;
    double den[AM_FFT_PMAX];
    for (int k = 0; k < p; k++) {
        double v = 1;
        for (int m = 0; m < p; m++)
            if (m != k) v *= (double)(k - m) / p;
        den[k] = v;
    }

    /* interval and weights per point and axis */
#pragma omp parallel for schedule(static) if (N >= AM_FFT_PAR_MIN)
    for (int i = 0; i < N; i++) {
        for (int a = 0; a < 2; a++) {
            double u = (Y[2 * i + a] - (a ? y0 : x0)) / box;
            int b = (int)floor(u);
            if (b < 0) b = 0;
            if (b > nb - 1) b = nb - 1;
            f->ix[2 * i + a] = b * p;
            lagrange(u - b, p, den, f->w + ((size_t)2 * i + a) * p);
        }
    }

    /* grids 0, 1: spectra of the kernels (1+r^2)^-1, (1+r^2)^-2 at node
     * offsets -nf/2 < k < nf/2 (circulant order), kept while h and nf stay;
     * grids 2, 3, 4: charges 1, y_x - cx, y_y - cy */
    double **B = f->buf;
    const int half = nf / 2;
    if (f->kh != h) {
#pragma omp parallel for schedule(static) if (N >= AM_FFT_PAR_MIN)
        for (int gx = 0; gx < nf; gx++) {
            double dx = (gx <= half ? gx : gx - nf) * h;
            for (int gy = 0; gy < nf; gy++) {
                double dy = (gy <= half ? gy : gy - nf) * h;
                int edge = (nf % 2 == 0) && (gx == half || gy == half);
                double k1 = edge ? 0 : 1.0 / (1.0 + dx * dx + dy * dy);
                B[0][gx * rs + gy] = k1;
                B[1][gx * rs + gy] = k1 * k1;
            }
        }
#pragma omp parallel for schedule(static, 1) if (N >= AM_FFT_PAR_MIN)
        for (int b = 0; b < 2; b++) fftw_execute_dft_r2c(f->plan_fwd, B[b], (fftw_complex *)B[b]);
        f->kh = h;
    }
#pragma omp parallel for schedule(static, 1) if (N >= AM_FFT_PAR_MIN)
    for (int c = 0; c < 3; c++) {
        double *G = B[2 + c];
        memset(G, 0, ntot * sizeof *G);
        for (int i = 0; i < N; i++) {
            double q = c == 0 ? 1 : c == 1 ? Y[2 * i] - cx : Y[2 * i + 1] - cy;
            const double *wx = f->w + (size_t)2 * i * p, *wy = wx + p;
            double *g = G + (size_t)f->ix[2 * i] * rs + f->ix[2 * i + 1];
            for (int k = 0; k < p; k++) {
                double qk = q * wx[k];
                for (int l = 0; l < p; l++) g[(size_t)k * rs + l] += qk * wy[l];
            }
        }
    }
#pragma omp parallel for schedule(static, 1) if (N >= AM_FFT_PAR_MIN)
    for (int b = 2; b < 5; b++) fftw_execute_dft_r2c(f->plan_fwd, B[b], (fftw_complex *)B[b]);

    /* products (kernel spectra untouched): 5 <- K1 * 1, 2 <- K2 * 1,
     * 3 <- K2 * x, 4 <- K2 * y */
    {
        const fftw_complex *K1 = (const fftw_complex *)B[0], *K2 = (const fftw_complex *)B[1];
        fftw_complex *C0 = (fftw_complex *)B[2], *C1 = (fftw_complex *)B[3], *C2 = (fftw_complex *)B[4],
                     *O = (fftw_complex *)B[5];
        size_t nc = (size_t)nf * cs;
#pragma omp parallel for schedule(static) if (N >= AM_FFT_PAR_MIN)
        for (size_t t = 0; t < nc; t++) {
            double a = K1[t][0], b = K1[t][1], c = K2[t][0], d = K2[t][1];
            double r0 = C0[t][0], i0 = C0[t][1], r1 = C1[t][0], i1 = C1[t][1], r2 = C2[t][0], i2 = C2[t][1];
            O[t][0] = a * r0 - b * i0;
            O[t][1] = a * i0 + b * r0;
            C0[t][0] = c * r0 - d * i0;
            C0[t][1] = c * i0 + d * r0;
            C1[t][0] = c * r1 - d * i1;
            C1[t][1] = c * i1 + d * r1;
            C2[t][0] = c * r2 - d * i2;
            C2[t][1] = c * i2 + d * r2;
        }
    }
    static const int outs[4] = {5, 2, 3, 4};
#pragma omp parallel for schedule(static, 1) if (N >= AM_FFT_PAR_MIN)
    for (int o = 0; o < 4; o++) fftw_execute_dft_c2r(f->plan_inv, (fftw_complex *)B[outs[o]], B[outs[o]]);

    /* back to the points */
    const double scale = 1.0 / ((double)nf * nf);
#pragma omp parallel for schedule(static) if (N >= AM_FFT_PAR_MIN)
    for (int i = 0; i < N; i++) {
        const double *wx = f->w + (size_t)2 * i * p, *wy = wx + p;
        size_t base = (size_t)f->ix[2 * i] * rs + f->ix[2 * i + 1];
        double s[4] = {0, 0, 0, 0};
        for (int k = 0; k < p; k++)
            for (int l = 0; l < p; l++) {
                double wkl = wx[k] * wy[l];
                size_t at = base + (size_t)k * rs + l;
                for (int o = 0; o < 4; o++) s[o] += wkl * B[outs[o]][at];
            }
        double yx = Y[2 * i] - cx, yy = Y[2 * i + 1] - cy;
        zrow[i] = s[0] * scale - 1; /* minus the point itself */
        rep[2 * i] = (yx * s[1] - s[2]) * scale;
        rep[2 * i + 1] = (yy * s[1] - s[3]) * scale;
    }
    return 0;
}
