/* t-SNE internals shared by tsne.c (the optimiser and the public entry
 * points), tsne_p.c (affinities: perplexity calibration, dense and sparse
 * joint P) and tsne_grad.c (exact, Barnes-Hut and FFT gradients). */
#ifndef AM_TSNE_INTERNAL_H
#define AM_TSNE_INTERNAL_H

#include <float.h>
#include <stddef.h>

#include "analysis/tsne_fft.h"
#include "base/error.h"

#define MACHINE_EPS DBL_EPSILON /* numpy finfo(double).eps, as sklearn clamps P and Q */
#define KL_TINY FLT_MIN         /* float32 tiny, sklearn's clamp in the BH error */
/* Below these sizes an iteration is too short to share: a barrier per
 * iteration costs more than it saves (badly so on a loaded machine). */
#define AM_TSNE_PAR_MIN 1024
#define AM_TSNE_PAR_MIN_BH 4096

/* ---- affinities (tsne_p.c) ------------------------------------------------ */

/* Sparse symmetric P in CSR form. */
typedef struct sparse_p {
    int N;
    size_t nnz;
    size_t *ptr; /* [N+1] */
    int *col;    /* [nnz] */
    double *val; /* [nnz] */
} sparse_p;

void tsne_sparse_p_free(sparse_p *s);
/* Dense joint P [N,N] (zero diagonal): conditional P from all pairs, P + P^T,
 * normalised to sum 1, off-diagonal entries clamped at MACHINE_EPS. */
int tsne_dense_p(const double *X, int N, int D, double perplexity, double *P, am_err *e);
/* Sparse joint P from the k = min(N - 1, 3 perplexity + 1) nearest
 * neighbours: conditional P on the neighbours, P + P^T, normalised to sum 1. */
int tsne_sparse_joint_p(const double *X, int N, int D, double perplexity, sparse_p *sp, am_err *e);

/* ---- gradients (tsne_grad.c) ---------------------------------------------- */

/* Barnes-Hut quadtree over the embedding, rebuilt every iteration. */
typedef struct qnode {
    double cx, cy; /* centre of mass */
    double w2;     /* squared side length of the cell */
    int count;     /* points below */
    int child;     /* first of `nchild` consecutive children, -1 for a leaf */
    int nchild;
    int start; /* leaf: first point in the permuted order */
} qnode;

typedef struct qtree {
    qnode *nodes;
    int n, cap;
    int *perm; /* [N] points in tree order */
    int *tmp;  /* [N] */
} qtree;

/* grad [N,2] of KL(P||Q) for dense P [N,N] (times exaggeration ex); returns
 * KL when want_kl (else 0). rowz [N] scratch. */
double tsne_exact_grad(const double *P, double ex, const double *Y, int N, double *grad, double *rowz, int want_kl);
/* BH gradient [N,2] with sparse P (times ex); returns the KL estimate when
 * want_kl. rowz, rowk [N] scratch; *fail = 1 when the tree cannot grow. */
double tsne_bh_grad(const sparse_p *P, double ex, const double *Y, int N, double theta, qtree *t, double *grad,
                    double *rowz, double *rowk, int want_kl, int *fail);
/* FFT-interpolated gradient [N,2]; the KL estimate into *kl when want_kl.
 * rowz, rowk [N] scratch. */
int tsne_fft_grad(const sparse_p *P, double ex, const double *Y, int N, am_tsne_fft *f, double *grad, double *rowz,
                  double *rowk, int want_kl, double *kl, am_err *e);

#endif
