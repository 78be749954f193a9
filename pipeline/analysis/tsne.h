/* t-SNE (van der Maaten 2008/2014) with the optimisation schedule of
 * scikit-learn's TSNE: perplexity calibration by bisection on beta per point,
 * symmetrised joint P, early exaggeration for the first 250 iterations with
 * momentum 0.5, then momentum 0.8, per-parameter gains (+0.2 / x0.8, min 0.01),
 * learning rate "auto" = max(N / early_exaggeration / 4, 50), PCA
 * initialisation scaled to standard deviation 1e-4 along the first axis.
 *
 * Methods: exact O(N^2) gradient and KL; or a sparse P on the 3*perplexity
 * nearest neighbours (exact kNN from BLAS distance blocks) with the repulsion
 * from a Barnes-Hut quadtree (angle theta) or from polynomial interpolation on
 * a grid convolved by FFT (tsne_fft.h; O(N) per iteration). Auto picks exact
 * below AM_TSNE_AUTO_EXACT_MAX points, Barnes-Hut below AM_TSNE_AUTO_FFT_MIN
 * (the FFT grid has a fixed minimum cost per iteration) and FFT from there. Output is 2-D. Results
 * are identical for a given input, options and thread count. */
#ifndef AM_TSNE_H
#define AM_TSNE_H

#include <stdint.h>

#include "base/error.h"

typedef enum am_tsne_method {
    AM_TSNE_EXACT = 0,
    AM_TSNE_BARNES_HUT = 1,
    AM_TSNE_FFT = 2,
    AM_TSNE_AUTO = 3 /* exact below AM_TSNE_AUTO_EXACT_MAX points, Barnes-Hut
                        below AM_TSNE_AUTO_FFT_MIN, FFT from there */
} am_tsne_method;
#define AM_TSNE_AUTO_EXACT_MAX 1024
#define AM_TSNE_AUTO_FFT_MIN 50000
typedef enum am_tsne_init { AM_TSNE_INIT_PCA = 0, AM_TSNE_INIT_RANDOM = 1 } am_tsne_init;

typedef struct am_tsne_opts {
    double perplexity;           /* 30 */
    int iterations;              /* total iterations, 1000 */
    double early_exaggeration;   /* 12 */
    int exaggeration_iters;      /* 250 */
    double learning_rate;        /* <= 0: auto */
    double theta;                /* Barnes-Hut angle, 0.5 */
    int fft_nodes;               /* FFT: Lagrange nodes per interval; <= 0: tsne_fft.h default */
    double fft_per_unit;         /* FFT: intervals per unit length; <= 0: tsne_fft.h default */
    am_tsne_method method;       /* auto */
    am_tsne_init init;           /* pca */
    uint64_t seed;               /* used by random init */
    int n_iter_without_progress; /* 300 */
    double min_grad_norm;        /* 1e-7 */
    int verbose;                 /* progress on stderr every 50 iterations */
} am_tsne_opts;

typedef struct am_tsne_result {
    double kl;             /* final KL(P||Q): exact for AM_TSNE_EXACT; otherwise the
                           estimate at the last iteration (sparse P, Z from the
                           tree or the grid), as scikit-learn reports it */
    am_tsne_method method; /* the method used (auto resolved) */
    int iterations;        /* iterations run (index of the last one + 1) */
    double learning_rate;
    double seconds_affinities, seconds_optimise;
} am_tsne_result;

void am_tsne_defaults(am_tsne_opts *o);

/* "exact", "barnes_hut", "fft", "auto". */
const char *am_tsne_method_name(am_tsne_method m);
/* Parses a method name as above; -1 for an unknown name. */
int am_tsne_method_parse(const char *s, am_tsne_method *m);
/* The method am_tsne_run uses for N points (auto resolved). */
am_tsne_method am_tsne_method_for(am_tsne_method m, int N);

/* Embed X [N,D] into Y [N,2]. Needs N >= 2 and perplexity < N. */
int am_tsne_run(const double *X, int N, int D, const am_tsne_opts *o, double *Y, am_tsne_result *res, am_err *e);

/* Exact KL(P||Q) of embedding Y [N,2] for the joint P of X (no exaggeration);
 * O(N^2) memory, for tests and small N. */
int am_tsne_exact_kl(const double *X, int N, int D, double perplexity, const double *Y, double *kl, am_err *e);

/* KL(P||Q) of embedding Y [N,2] for the sparse joint P on the k nearest
 * neighbours of X (the P that Barnes-Hut and FFT optimise, and scikit-learn's
 * barnes_hut) with the exact normalisation Z = sum_{i != j} (1 + |y_i - y_j|^2)^-1:
 * O(N^2) time, O(N k) memory. Compares embeddings from any method fairly. */
int am_tsne_sparse_kl(const double *X, int N, int D, double perplexity, const double *Y, double *kl, am_err *e);

/* KL(P||Q) and its gradient grad [N,2] at embedding Y [N,2] for the joint P
 * of X, as the optimiser computes them (exact: dense P; Barnes-Hut and FFT:
 * sparse kNN P, repulsion from the tree (angle theta) or the grid, KL
 * estimated). For tests. */
int am_tsne_kl_grad(const double *X, int N, int D, double perplexity, am_tsne_method method, double theta,
                    const double *Y, double *grad, double *kl, am_err *e);

#endif
