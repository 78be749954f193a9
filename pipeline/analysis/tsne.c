/* t-SNE: affinities (perplexity calibration), exact and Barnes-Hut gradients,
 * and the gradient-descent schedule; see tsne.h and docs/analysis.md.
 *
 * Determinism: every reduction over points is written per point into an
 * array and summed serially, and all loops over points have fixed work per
 * point, so results do not depend on thread scheduling. */
#include "analysis/tsne.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis/pca.h"
#include "analysis/tsne_fft.h"

#define MACHINE_EPS DBL_EPSILON /* numpy finfo(double).eps, as sklearn clamps P and Q */
#define KL_TINY FLT_MIN         /* float32 tiny, sklearn's clamp in the BH error */
/* Below these sizes an iteration is too short to share: a barrier per
 * iteration costs more than it saves (badly so on a loaded machine). */
#define AM_TSNE_PAR_MIN 1024
#define AM_TSNE_PAR_MIN_BH 4096

void am_tsne_defaults(am_tsne_opts *o) {
    memset(o, 0, sizeof *o);
    o->perplexity = 30;
    o->iterations = 1000;
    o->early_exaggeration = 12;
    o->exaggeration_iters = 250;
    o->learning_rate = 0; /* auto */
    o->theta = 0.5;
    o->method = AM_TSNE_AUTO;
    o->init = AM_TSNE_INIT_PCA;
    o->seed = 0;
    o->n_iter_without_progress = 300;
    o->min_grad_norm = 1e-7;
}

const char *am_tsne_method_name(am_tsne_method m) {
    switch (m) {
    case AM_TSNE_EXACT: return "exact";
    case AM_TSNE_BARNES_HUT: return "barnes_hut";
    case AM_TSNE_FFT: return "fft";
    case AM_TSNE_AUTO: return "auto";
    }
    return "?";
}

int am_tsne_method_parse(const char *s, am_tsne_method *m) {
    for (int k = 0; k <= AM_TSNE_AUTO; k++)
        if (strcmp(s, am_tsne_method_name((am_tsne_method)k)) == 0) {
            *m = (am_tsne_method)k;
            return 0;
        }
    return -1;
}

am_tsne_method am_tsne_method_for(am_tsne_method m, int N) {
    if (m != AM_TSNE_AUTO) return m;
    return N < AM_TSNE_AUTO_EXACT_MAX ? AM_TSNE_EXACT : N < AM_TSNE_AUTO_FFT_MIN ? AM_TSNE_BARNES_HUT : AM_TSNE_FFT;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* ---- perplexity calibration ---------------------------------------------- */

/* Conditional P row from squared distances d [m]: p_j = exp(-beta d_j) / sum,
 * beta found by bisection so that the entropy (nats) is log(perplexity). */
static void binary_search_row(const double *d, int m, double perplexity, double *p) {
    const double desired = log(perplexity), tol = 1e-5;
    double beta = 1, beta_min = -INFINITY, beta_max = INFINITY;
    for (int step = 0; step < 100; step++) {
        double sum = 0, sdp = 0;
        for (int j = 0; j < m; j++) { p[j] = exp(-d[j] * beta); sum += p[j]; }
        if (sum == 0) sum = 1e-8;
        for (int j = 0; j < m; j++) { p[j] /= sum; sdp += d[j] * p[j]; }
        double entropy = log(sum) + beta * sdp, diff = entropy - desired;
        if (fabs(diff) <= tol) break;
        if (diff > 0) {
            beta_min = beta;
            beta = isinf(beta_max) ? beta * 2 : (beta + beta_max) / 2;
        } else {
            beta_max = beta;
            beta = isinf(beta_min) ? beta / 2 : (beta + beta_min) / 2;
        }
    }
}

/* Squared Euclidean distances of rows [i0, i0+B) of X to rows [j0, j0+C), into
 * out [B, C] (clamped at 0). norms [N]. */
static void sq_dist_block(const double *X, int D, const double *norms, int i0, int B, int j0, int C,
                          double *out) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, C, D, -2.0, X + (size_t)i0 * D, D,
                X + (size_t)j0 * D, D, 0.0, out, C);
    for (int a = 0; a < B; a++)
        for (int b = 0; b < C; b++) {
            double v = out[(size_t)a * C + b] + norms[i0 + a] + norms[j0 + b];
            out[(size_t)a * C + b] = v > 0 ? v : 0;
        }
}

static double *row_norms(const double *X, int N, int D) {
    double *n = malloc((size_t)N * sizeof *n);
    if (!n) return NULL;
    for (int i = 0; i < N; i++) {
        double s = 0;
        for (int d = 0; d < D; d++) s += X[(size_t)i * D + d] * X[(size_t)i * D + d];
        n[i] = s;
    }
    return n;
}

static double sq_dist(const double *a, const double *b, int D) {
    double s = 0;
    for (int d = 0; d < D; d++) { double t = a[d] - b[d]; s += t * t; }
    return s;
}

/* Dense joint P [N,N] (zero diagonal): conditional P from all pairs, P + P^T,
 * normalised to sum 1, off-diagonal entries clamped at MACHINE_EPS. */
static int dense_p(const double *X, int N, int D, double perplexity, double *P, am_err *e) {
    int fail = 0;
#pragma omp parallel
    {
        double *d = malloc((size_t)N * sizeof *d), *p = malloc((size_t)N * sizeof *p);
        if (!d || !p) {
#pragma omp atomic write
            fail = 1;
        }
#pragma omp for schedule(static)
        for (int i = 0; i < N; i++) {
            if (!d || !p) continue;
            double *row = P + (size_t)i * N;
            int m = 0;
            for (int j = 0; j < N; j++)
                if (j != i) d[m++] = sq_dist(X + (size_t)i * D, X + (size_t)j * D, D);
            binary_search_row(d, m, perplexity, p);
            m = 0;
            for (int j = 0; j < N; j++) row[j] = j == i ? 0 : p[m++];
        }
        free(d);
        free(p);
    }
    if (fail) return am_fail(e, "t-SNE: out of memory");
    double sum = 0;
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) {
            double v = P[(size_t)i * N + j] + P[(size_t)j * N + i];
            P[(size_t)i * N + j] = P[(size_t)j * N + i] = v;
            sum += 2 * v;
        }
    if (sum < MACHINE_EPS) sum = MACHINE_EPS;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double *v = &P[(size_t)i * N + j];
            *v = i == j ? 0 : fmax(*v / sum, MACHINE_EPS);
        }
    return 0;
}

/* Sparse symmetric P in CSR form. */
typedef struct sparse_p {
    int N;
    size_t nnz;
    size_t *ptr; /* [N+1] */
    int *col;    /* [nnz] */
    double *val; /* [nnz] */
} sparse_p;

static void sparse_p_free(sparse_p *s) {
    free(s->ptr);
    free(s->col);
    free(s->val);
    memset(s, 0, sizeof *s);
}

/* Max-heap on (dist, idx) of size k for one row. */
static void heap_push(double *hd, int *hi, int *size, int k, double d, int j) {
    if (*size < k) {
        int c = (*size)++;
        while (c > 0) {
            int p = (c - 1) / 2;
            if (hd[p] >= d) break;
            hd[c] = hd[p]; hi[c] = hi[p];
            c = p;
        }
        hd[c] = d; hi[c] = j;
        return;
    }
    if (d >= hd[0]) return;
    int c = 0;
    for (;;) {
        int l = 2 * c + 1, r = l + 1, m = c;
        double md = d;
        if (l < k && hd[l] > md) { m = l; md = hd[l]; }
        if (r < k && hd[r] > md) { m = r; }
        if (m == c) break;
        hd[c] = hd[m]; hi[c] = hi[m];
        c = m;
    }
    hd[c] = d; hi[c] = j;
}

/* Exact k nearest neighbours of every row of X (self excluded): each thread
 * takes blocks of rows and computes their distances to column tiles with a
 * single-threaded BLAS call. nn [N,k] indices, nd [N,k] squared distances
 * (recomputed directly from X for accuracy). */
static int knn(const double *X, int N, int D, int k, int *nn, double *nd, am_err *e) {
    enum { RB = 64, CB = 2048 };
    double *norms = row_norms(X, N, D);
    if (!norms) return am_fail(e, "t-SNE: out of memory for the neighbour search");
    int fail = 0, blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
#pragma omp parallel
    {
        double *blk = malloc((size_t)RB * CB * sizeof *blk); /* [RB,CB] */
        if (!blk) {
#pragma omp atomic write
            fail = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (int i0 = 0; i0 < N; i0 += RB) {
            if (!blk) continue;
            int B = N - i0 < RB ? N - i0 : RB;
            int size[RB];
            for (int a = 0; a < B; a++) size[a] = 0;
            for (int j0 = 0; j0 < N; j0 += CB) {
                int C = N - j0 < CB ? N - j0 : CB;
                sq_dist_block(X, D, norms, i0, B, j0, C, blk);
                for (int a = 0; a < B; a++) {
                    int i = i0 + a;
                    double *hd = nd + (size_t)i * k;
                    int *hi = nn + (size_t)i * k;
                    const double *row = blk + (size_t)a * C;
                    for (int b = 0; b < C; b++) {
                        if (size[a] == k && row[b] >= hd[0]) continue;
                        if (j0 + b == i) continue;
                        heap_push(hd, hi, &size[a], k, row[b], j0 + b);
                    }
                }
            }
        }
        free(blk);
    }
    openblas_set_num_threads(blas_threads);
    free(norms);
    if (fail) return am_fail(e, "t-SNE: out of memory for the neighbour search");
#pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++)
        for (int t = 0; t < k; t++)
            nd[(size_t)i * k + t] = sq_dist(X + (size_t)i * D, X + (size_t)nn[(size_t)i * k + t] * D, D);
    return 0;
}

typedef struct trip { int col; double v; } trip;
static int cmp_trip(const void *a, const void *b) {
    int x = ((const trip *)a)->col, y = ((const trip *)b)->col;
    return (x > y) - (x < y);
}

/* Sparse joint P from the k nearest neighbours: conditional P on the
 * neighbours, P + P^T, normalised to sum 1. */
static int sparse_joint_p(const double *X, int N, int D, double perplexity, sparse_p *sp, am_err *e) {
    int rc = -1, k = N - 1 < (int)(3 * perplexity + 1) ? N - 1 : (int)(3 * perplexity + 1);
    int *nn = malloc((size_t)N * k * sizeof *nn);          /* [N,k] */
    double *nd = malloc((size_t)N * k * sizeof *nd);       /* [N,k] */
    double *cp = malloc((size_t)N * k * sizeof *cp);       /* [N,k] conditional P */
    size_t *cnt = calloc((size_t)N + 1, sizeof *cnt);
    trip *tr = malloc((size_t)2 * N * k * sizeof *tr);     /* [2Nk] */
    size_t *fill = NULL;
    memset(sp, 0, sizeof *sp);
    if (!nn || !nd || !cp || !cnt || !tr) { am_fail(e, "t-SNE: out of memory for P (N=%d, k=%d)", N, k); goto out; }
    if (knn(X, N, D, k, nn, nd, e)) goto out;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++) binary_search_row(nd + (size_t)i * k, k, perplexity, cp + (size_t)i * k);
    /* triplets of P and P^T bucketed by row */
    for (int i = 0; i < N; i++)
        for (int t = 0; t < k; t++) { cnt[i + 1]++; cnt[nn[(size_t)i * k + t] + 1]++; }
    for (int i = 0; i < N; i++) cnt[i + 1] += cnt[i];
    fill = malloc((size_t)N * sizeof *fill);
    if (!fill) { am_fail(e, "t-SNE: out of memory"); goto out; }
    for (int i = 0; i < N; i++) fill[i] = cnt[i];
    for (int i = 0; i < N; i++)
        for (int t = 0; t < k; t++) {
            int j = nn[(size_t)i * k + t];
            double v = cp[(size_t)i * k + t];
            tr[fill[i]++] = (trip){j, v};
            tr[fill[j]++] = (trip){i, v};
        }
    sp->N = N;
    sp->ptr = malloc(((size_t)N + 1) * sizeof *sp->ptr);
    sp->col = malloc((size_t)2 * N * k * sizeof *sp->col);
    sp->val = malloc((size_t)2 * N * k * sizeof *sp->val);
    if (!sp->ptr || !sp->col || !sp->val) { am_fail(e, "t-SNE: out of memory"); goto out; }
    size_t nz = 0;
    double sum = 0;
    for (int i = 0; i < N; i++) {
        trip *r = tr + cnt[i];
        size_t m = cnt[i + 1] - cnt[i];
        qsort(r, m, sizeof *r, cmp_trip);
        sp->ptr[i] = nz;
        for (size_t t = 0; t < m; t++) {
            if (nz > sp->ptr[i] && sp->col[nz - 1] == r[t].col) sp->val[nz - 1] += r[t].v;
            else { sp->col[nz] = r[t].col; sp->val[nz] = r[t].v; nz++; }
        }
    }
    sp->ptr[N] = nz;
    sp->nnz = nz;
    for (size_t t = 0; t < nz; t++) sum += sp->val[t];
    if (sum < MACHINE_EPS) sum = MACHINE_EPS;
    for (size_t t = 0; t < nz; t++) sp->val[t] /= sum;
    rc = 0;
out:
    if (rc) sparse_p_free(sp);
    free(nn); free(nd); free(cp); free(cnt); free(tr); free(fill);
    return rc;
}

/* ---- exact gradient ------------------------------------------------------- */

/* grad [N,2] of KL(P||Q) for dense P [N,N] (times exaggeration ex); returns
 * KL when want_kl (else 0). rowz [N] scratch. */
static double exact_grad(const double *P, double ex, const double *Y, int N, double *grad,
                         double *rowz, int want_kl) {
#pragma omp parallel for schedule(static) if (N >= AM_TSNE_PAR_MIN)
    for (int i = 0; i < N; i++) {
        double s = 0, yx = Y[2 * i], yy = Y[2 * i + 1];
        for (int j = 0; j < N; j++) {
            if (j == i) continue;
            double dx = yx - Y[2 * j], dy = yy - Y[2 * j + 1];
            s += 1.0 / (1.0 + dx * dx + dy * dy);
        }
        rowz[i] = s;
    }
    double Z = 0;
    for (int i = 0; i < N; i++) Z += rowz[i];
    double iZ = 1.0 / Z;
#pragma omp parallel for schedule(static) if (N >= AM_TSNE_PAR_MIN)
    for (int i = 0; i < N; i++) {
        double gx = 0, gy = 0, kl = 0, yx = Y[2 * i], yy = Y[2 * i + 1];
        const double *Pi = P + (size_t)i * N;
        for (int j = 0; j < N; j++) {
            if (j == i) continue;
            double dx = yx - Y[2 * j], dy = yy - Y[2 * j + 1];
            double w = 1.0 / (1.0 + dx * dx + dy * dy);
            double q = fmax(w * iZ, MACHINE_EPS), p = Pi[j] * ex;
            double m = (p - q) * w;
            gx += m * dx;
            gy += m * dy;
            if (want_kl) kl += p * log(fmax(p, MACHINE_EPS) / q);
        }
        grad[2 * i] = 4 * gx;
        grad[2 * i + 1] = 4 * gy;
        rowz[i] = kl;
    }
    double kl = 0;
    if (want_kl)
        for (int i = 0; i < N; i++) kl += rowz[i];
    return kl;
}

/* ---- Barnes-Hut quadtree ---------------------------------------------------- */

typedef struct qnode {
    double cx, cy;   /* centre of mass */
    double w2;       /* squared side length of the cell */
    int count;       /* points below */
    int child;       /* first of `nchild` consecutive children, -1 for a leaf */
    int nchild;
    int start;       /* leaf: first point in the permuted order */
} qnode;

typedef struct qtree {
    qnode *nodes;
    int n, cap;
    int *perm;   /* [N] points in tree order */
    int *tmp;    /* [N] */
} qtree;

static int qt_new(qtree *t) {
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 1024;
        qnode *nn = realloc(t->nodes, (size_t)cap * sizeof *nn);
        if (!nn) return -1;
        t->nodes = nn;
        t->cap = cap;
    }
    return t->n++;
}

/* Build the subtree for perm[lo, hi) inside the square at (x0, y0) with side w;
 * children of a node are allocated consecutively (non-empty quadrants only). */
static int qt_build(qtree *t, const double *Y, int node, int lo, int hi, double x0, double y0, double w,
                    int depth) {
    qnode *nd = &t->nodes[node];
    double sx = 0, sy = 0;
    for (int a = lo; a < hi; a++) { sx += Y[2 * t->perm[a]]; sy += Y[2 * t->perm[a] + 1]; }
    int cnt = hi - lo;
    nd->cx = sx / cnt;
    nd->cy = sy / cnt;
    nd->w2 = w * w;
    nd->count = cnt;
    nd->child = -1;
    nd->nchild = 0;
    nd->start = lo;
    if (cnt <= 1 || depth >= 48) return 0;
    /* partition into quadrants 0..3 (bit0: x >= mid, bit1: y >= mid) */
    double h = w / 2, mx = x0 + h, my = y0 + h;
    int qc[4] = {0, 0, 0, 0};
    for (int a = lo; a < hi; a++) {
        int p = t->perm[a];
        int q = (Y[2 * p] >= mx) | ((Y[2 * p + 1] >= my) << 1);
        qc[q]++;
    }
    int off[4], o = lo;
    for (int q = 0; q < 4; q++) { off[q] = o; o += qc[q]; }
    int pos[4] = {off[0], off[1], off[2], off[3]};
    for (int a = lo; a < hi; a++) {
        int p = t->perm[a];
        int q = (Y[2 * p] >= mx) | ((Y[2 * p + 1] >= my) << 1);
        t->tmp[pos[q]++] = p;
    }
    memcpy(t->perm + lo, t->tmp + lo, (size_t)cnt * sizeof *t->perm);
    int nch = 0;
    for (int q = 0; q < 4; q++) nch += qc[q] > 0;
    int first = -1;
    for (int c = 0; c < nch; c++) {
        int id = qt_new(t);
        if (id < 0) return -1;
        if (c == 0) first = id;
    }
    t->nodes[node].child = first;
    t->nodes[node].nchild = nch;
    int c = 0;
    for (int q = 0; q < 4; q++) {
        if (!qc[q]) continue;
        if (qt_build(t, Y, first + c, off[q], off[q] + qc[q], x0 + (q & 1) * h, y0 + (q >> 1) * h, h,
                     depth + 1))
            return -1;
        c++;
    }
    return 0;
}

static int qt_rebuild(qtree *t, const double *Y, int N) {
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (int i = 0; i < N; i++) {
        xmin = fmin(xmin, Y[2 * i]); xmax = fmax(xmax, Y[2 * i]);
        ymin = fmin(ymin, Y[2 * i + 1]); ymax = fmax(ymax, Y[2 * i + 1]);
    }
    double w = fmax(xmax - xmin, ymax - ymin);
    w = w * (1 + 1e-9) + 1e-12;
    t->n = 0;
    for (int i = 0; i < N; i++) t->perm[i] = i;
    int root = qt_new(t);
    if (root < 0) return -1;
    return qt_build(t, Y, root, 0, N, xmin, ymin, w, 0);
}

/* Negative force of point i: sum over cells of count q^2 (y_i - c), and the
 * sum of count q into *zi (self excluded). */
static void qt_negative(const qtree *t, const double *Y, int i, double theta2, double *fx, double *fy,
                        double *zi) {
    int stack[256];
    int sp = 0;
    double yx = Y[2 * i], yy = Y[2 * i + 1], ax = 0, ay = 0, z = 0;
    stack[sp++] = 0;
    while (sp) {
        const qnode *nd = &t->nodes[stack[--sp]];
        double dx = yx - nd->cx, dy = yy - nd->cy, d2 = dx * dx + dy * dy;
        if (nd->child < 0) {
            if (nd->count == 1) {
                if (t->perm[nd->start] == i) continue;
                double q = 1.0 / (1.0 + d2);
                z += q;
                ax += q * q * dx;
                ay += q * q * dy;
            } else { /* coincident points at the depth limit: one by one */
                for (int a = nd->start; a < nd->start + nd->count; a++) {
                    int j = t->perm[a];
                    if (j == i) continue;
                    double ex = yx - Y[2 * j], ey = yy - Y[2 * j + 1];
                    double q = 1.0 / (1.0 + ex * ex + ey * ey);
                    z += q;
                    ax += q * q * ex;
                    ay += q * q * ey;
                }
            }
        } else if (nd->w2 < theta2 * d2) {
            double q = 1.0 / (1.0 + d2), cq = nd->count * q;
            z += cq;
            ax += cq * q * dx;
            ay += cq * q * dy;
        } else {
            for (int c = nd->nchild - 1; c >= 0; c--) stack[sp++] = nd->child + c;
        }
    }
    *fx = ax;
    *fy = ay;
    *zi = z;
}

/* Gradient [N,2] from the sparse P (times ex) given the repulsive sums
 * sum_j q_ij^2 (y_i - y_j) in grad on entry and the normalisation Z; returns
 * the KL estimate when want_kl. rowk [N] scratch. */
static double attract(const sparse_p *P, double ex, const double *Y, int N, double Z, double *grad,
                      double *rowk, int want_kl) {
    if (!(Z > DBL_MIN)) Z = DBL_MIN;
    double iZ = 1.0 / Z;
#pragma omp parallel for schedule(dynamic, 256) if (N >= AM_TSNE_PAR_MIN_BH)
    for (int i = 0; i < N; i++) {
        double px = 0, py = 0, kl = 0, yx = Y[2 * i], yy = Y[2 * i + 1];
        for (size_t t2 = P->ptr[i]; t2 < P->ptr[i + 1]; t2++) {
            int j = P->col[t2];
            double dx = yx - Y[2 * j], dy = yy - Y[2 * j + 1];
            double q = 1.0 / (1.0 + dx * dx + dy * dy), p = P->val[t2] * ex, m = p * q;
            px += m * dx;
            py += m * dy;
            if (want_kl) kl += p * log(fmax(p, KL_TINY) / fmax(q * iZ, KL_TINY));
        }
        grad[2 * i] = 4 * (px - grad[2 * i] * iZ);
        grad[2 * i + 1] = 4 * (py - grad[2 * i + 1] * iZ);
        rowk[i] = kl;
    }
    double kl = 0;
    if (want_kl)
        for (int i = 0; i < N; i++) kl += rowk[i];
    return kl;
}

/* FFT-interpolated gradient [N,2]; returns the KL estimate when want_kl.
 * rowz, rowk [N] scratch. */
static int fft_grad(const sparse_p *P, double ex, const double *Y, int N, am_tsne_fft *f, double *grad,
                    double *rowz, double *rowk, int want_kl, double *kl, am_err *e) {
    if (am_tsne_fft_repulsion(f, Y, grad, rowz, e)) return -1;
    double Z = 0;
    for (int i = 0; i < N; i++) Z += rowz[i];
    *kl = attract(P, ex, Y, N, Z, grad, rowk, want_kl);
    return 0;
}

/* BH gradient [N,2] with sparse P (times ex); returns the KL estimate when
 * want_kl. rowz, rowk [N] scratch. */
static double bh_grad(const sparse_p *P, double ex, const double *Y, int N, double theta, qtree *t,
                      double *grad, double *rowz, double *rowk, int want_kl, int *fail) {
    if (qt_rebuild(t, Y, N)) { *fail = 1; return 0; }
    double theta2 = theta * theta;
    /* negative forces in tree order (neighbouring points walk similar paths) */
#pragma omp parallel for schedule(dynamic, 256) if (N >= AM_TSNE_PAR_MIN_BH)
    for (int a = 0; a < N; a++) {
        int i = t->perm[a];
        double fx, fy, z;
        qt_negative(t, Y, i, theta2, &fx, &fy, &z);
        grad[2 * i] = fx;
        grad[2 * i + 1] = fy;
        rowz[i] = z;
    }
    double Z = 0;
    for (int i = 0; i < N; i++) Z += rowz[i];
    return attract(P, ex, Y, N, Z, grad, rowk, want_kl);
}

/* ---- initialisation -------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int init_embedding(const double *X, int N, int D, const am_tsne_opts *o, double *Y, am_err *e) {
    if (o->init == AM_TSNE_INIT_RANDOM || D < 2) {
        uint64_t s = o->seed;
        for (int i = 0; i < 2 * N; i += 2) {
            double u1 = ((splitmix64(&s) >> 11) + 0.5) * 0x1.0p-53, u2 = ((splitmix64(&s) >> 11) + 0.5) * 0x1.0p-53;
            double r = sqrt(-2 * log(u1));
            Y[i] = 1e-4 * r * cos(2 * M_PI * u2);
            Y[i + 1] = 1e-4 * r * sin(2 * M_PI * u2);
        }
        return 0;
    }
    double var[2];
    if (am_pca_fit(X, N, D, 2, NULL, var, NULL, Y, e)) return am_wrap(e, "t-SNE PCA initialisation");
    double m = 0, s = 0;
    for (int i = 0; i < N; i++) m += Y[2 * i];
    m /= N;
    for (int i = 0; i < N; i++) s += (Y[2 * i] - m) * (Y[2 * i] - m);
    s = sqrt(s / N);
    double f = s > 0 ? 1e-4 / s : 1;
    for (int i = 0; i < 2 * N; i++) Y[i] *= f;
    return 0;
}

/* ---- optimisation ------------------------------------------------------------ */

int am_tsne_run(const double *X, int N, int D, const am_tsne_opts *o, double *Y, am_tsne_result *res,
                am_err *e) {
    int rc = -1;
    double *P = NULL, *upd = NULL, *gains = NULL, *grad = NULL, *rowz = NULL, *rowk = NULL;
    sparse_p sp;
    qtree qt;
    am_tsne_fft ff;
    memset(&sp, 0, sizeof sp);
    memset(&qt, 0, sizeof qt);
    memset(&ff, 0, sizeof ff);
    memset(res, 0, sizeof *res);
    if (N < 2 || D < 1) return am_fail(e, "t-SNE needs at least 2 points (got %d x %d)", N, D);
    if (!(o->perplexity > 0) || o->perplexity >= N)
        return am_fail(e, "t-SNE perplexity must be in (0, N) (perplexity %g, N %d)", o->perplexity, N);
    if (o->iterations < 1) return am_fail(e, "t-SNE iterations must be >= 1");
    for (size_t i = 0; i < (size_t)N * D; i++)
        if (!isfinite(X[i])) return am_fail(e, "t-SNE input has a non-finite value at row %zu", i / D);

    double t0 = now_s();
    const am_tsne_method method = am_tsne_method_for(o->method, N);
    res->method = method;
    int bh = method == AM_TSNE_BARNES_HUT, fft = method == AM_TSNE_FFT, sparse = bh || fft;
    if (sparse) {
        if (sparse_joint_p(X, N, D, o->perplexity, &sp, e)) goto out;
    } else {
        P = malloc((size_t)N * N * sizeof *P); /* [N,N] */
        if (!P) { am_fail(e, "t-SNE exact: out of memory for %d x %d (use fft or barnes_hut)", N, N); goto out; }
        if (dense_p(X, N, D, o->perplexity, P, e)) goto out;
    }
    if (init_embedding(X, N, D, o, Y, e)) goto out;
    res->seconds_affinities = now_s() - t0;
    t0 = now_s();

    upd = calloc((size_t)2 * N, sizeof *upd);
    gains = malloc((size_t)2 * N * sizeof *gains);
    grad = malloc((size_t)2 * N * sizeof *grad);
    rowz = malloc((size_t)N * sizeof *rowz);
    rowk = malloc((size_t)N * sizeof *rowk);
    if (bh) {
        qt.perm = malloc((size_t)N * sizeof *qt.perm);
        qt.tmp = malloc((size_t)N * sizeof *qt.tmp);
    }
    if (!upd || !gains || !grad || !rowz || !rowk || (bh && (!qt.perm || !qt.tmp))) {
        am_fail(e, "t-SNE: out of memory");
        goto out;
    }
    if (fft && am_tsne_fft_init(&ff, N, e)) goto out;
    if (o->fft_nodes > 0) ff.p = o->fft_nodes;
    if (o->fft_per_unit > 0) ff.per_unit = o->fft_per_unit;
    double lr = o->learning_rate > 0 ? o->learning_rate : fmax(N / o->early_exaggeration / 4, 50);
    res->learning_rate = lr;

    int it = 0, total = o->iterations;
    double kl = NAN;
    for (int phase = 0; phase < 2 && it < total; phase++) {
        int stop = phase == 0 ? (o->exaggeration_iters < total ? o->exaggeration_iters : total) : total;
        double ex = phase == 0 ? o->early_exaggeration : 1, mom = phase == 0 ? 0.5 : 0.8;
        double best_error = DBL_MAX;
        int best_iter = it, i;
        /* each phase starts from zero velocity and unit gains, as sklearn's
         * _gradient_descent does on each of its two calls */
        for (int k = 0; k < 2 * N; k++) { upd[k] = 0; gains[k] = 1; }
        for (i = it; i < stop; i++) {
            int check = (i + 1) % 50 == 0, want = check || i == stop - 1;
            double err;
            if (bh) {
                int fail = 0;
                err = bh_grad(&sp, ex, Y, N, o->theta, &qt, grad, rowz, rowk, want, &fail);
                if (fail) { am_fail(e, "t-SNE: out of memory for the quadtree"); goto out; }
            } else if (fft) {
                if (fft_grad(&sp, ex, Y, N, &ff, grad, rowz, rowk, want, &err, e)) goto out;
            } else {
                err = exact_grad(P, ex, Y, N, grad, rowz, want);
            }
            double gn = 0;
            for (int k = 0; k < 2 * N; k++) {
                int inc = upd[k] * grad[k] < 0;
                gains[k] = inc ? gains[k] + 0.2 : gains[k] * 0.8;
                if (gains[k] < 0.01) gains[k] = 0.01;
                grad[k] *= gains[k];
                upd[k] = mom * upd[k] - lr * grad[k];
                Y[k] += upd[k];
                gn += grad[k] * grad[k];
            }
            if (want) kl = err;
            if (check) { /* progress and gradient norm only every 50, as sklearn */
                if (o->verbose)
                    fprintf(stderr, "t-SNE iteration %d: KL %.6f, gradient norm %.3g\n", i + 1, err, sqrt(gn));
                int patience = phase == 0 ? o->exaggeration_iters : o->n_iter_without_progress;
                if (err < best_error) { best_error = err; best_iter = i; }
                else if (i - best_iter > patience) { i++; break; }
                if (sqrt(gn) <= o->min_grad_norm) { i++; break; }
            }
        }
        it = i;
    }
    res->iterations = it;
    if (!sparse) { /* exact KL of the returned embedding */
        kl = exact_grad(P, 1, Y, N, grad, rowz, 1);
    }
    res->kl = kl;
    res->seconds_optimise = now_s() - t0;
    rc = 0;
out:
    free(P); free(upd); free(gains); free(grad); free(rowz); free(rowk);
    sparse_p_free(&sp);
    free(qt.nodes); free(qt.perm); free(qt.tmp);
    am_tsne_fft_free(&ff);
    return rc;
}

int am_tsne_exact_kl(const double *X, int N, int D, double perplexity, const double *Y, double *kl,
                     am_err *e) {
    double *P = malloc((size_t)N * N * sizeof *P), *g = malloc((size_t)2 * N * sizeof *g),
           *rz = malloc((size_t)N * sizeof *rz);
    int rc = -1;
    if (!P || !g || !rz) { am_fail(e, "t-SNE: out of memory"); goto out; }
    if (dense_p(X, N, D, perplexity, P, e)) goto out;
    *kl = exact_grad(P, 1, Y, N, g, rz, 1);
    rc = 0;
out:
    free(P); free(g); free(rz);
    return rc;
}

int am_tsne_kl_grad(const double *X, int N, int D, double perplexity, am_tsne_method method,
                    double theta, const double *Y, double *grad, double *kl, am_err *e) {
    int rc = -1;
    double *P = NULL, *rz = malloc((size_t)N * sizeof *rz), *rk = malloc((size_t)N * sizeof *rk);
    sparse_p sp;
    qtree qt;
    memset(&sp, 0, sizeof sp);
    memset(&qt, 0, sizeof qt);
    if (!rz || !rk) { am_fail(e, "t-SNE: out of memory"); goto out; }
    if (method == AM_TSNE_FFT) {
        am_tsne_fft ff;
        if (sparse_joint_p(X, N, D, perplexity, &sp, e) || am_tsne_fft_init(&ff, N, e)) goto out;
        int r = fft_grad(&sp, 1, Y, N, &ff, grad, rz, rk, 1, kl, e);
        am_tsne_fft_free(&ff);
        if (r) goto out;
    } else if (method == AM_TSNE_BARNES_HUT) {
        int fail = 0;
        qt.perm = malloc((size_t)N * sizeof *qt.perm);
        qt.tmp = malloc((size_t)N * sizeof *qt.tmp);
        if (!qt.perm || !qt.tmp) { am_fail(e, "t-SNE: out of memory"); goto out; }
        if (sparse_joint_p(X, N, D, perplexity, &sp, e)) goto out;
        *kl = bh_grad(&sp, 1, Y, N, theta, &qt, grad, rz, rk, 1, &fail);
        if (fail) { am_fail(e, "t-SNE: out of memory for the quadtree"); goto out; }
    } else {
        P = malloc((size_t)N * N * sizeof *P);
        if (!P) { am_fail(e, "t-SNE: out of memory"); goto out; }
        if (dense_p(X, N, D, perplexity, P, e)) goto out;
        *kl = exact_grad(P, 1, Y, N, grad, rz, 1);
    }
    rc = 0;
out:
    free(P); free(rz); free(rk);
    sparse_p_free(&sp);
    free(qt.nodes); free(qt.perm); free(qt.tmp);
    return rc;
}

int am_tsne_sparse_kl(const double *X, int N, int D, double perplexity, const double *Y, double *kl,
                      am_err *e) {
    sparse_p sp;
    double *rz = malloc((size_t)N * sizeof *rz); /* [N] */
    if (!rz) return am_fail(e, "t-SNE: out of memory");
    if (sparse_joint_p(X, N, D, perplexity, &sp, e)) { free(rz); return -1; }
    /* Z over the upper triangle, one sum per row, rows added serially */
#pragma omp parallel for schedule(dynamic, 64) if (N >= AM_TSNE_PAR_MIN)
    for (int i = 0; i < N; i++) {
        double s = 0, yx = Y[2 * i], yy = Y[2 * i + 1];
        for (int j = i + 1; j < N; j++) {
            double dx = yx - Y[2 * j], dy = yy - Y[2 * j + 1];
            s += 1.0 / (1.0 + dx * dx + dy * dy);
        }
        rz[i] = s;
    }
    double Z = 0;
    for (int i = 0; i < N; i++) Z += 2 * rz[i];
#pragma omp parallel for schedule(static) if (N >= AM_TSNE_PAR_MIN)
    for (int i = 0; i < N; i++) {
        double s = 0, yx = Y[2 * i], yy = Y[2 * i + 1];
        for (size_t t = sp.ptr[i]; t < sp.ptr[i + 1]; t++) {
            int j = sp.col[t];
            double dx = yx - Y[2 * j], dy = yy - Y[2 * j + 1];
            double q = 1.0 / (1.0 + dx * dx + dy * dy) / Z, p = sp.val[t];
            s += p * log(fmax(p, MACHINE_EPS) / fmax(q, MACHINE_EPS));
        }
        rz[i] = s;
    }
    double k = 0;
    for (int i = 0; i < N; i++) k += rz[i];
    *kl = k;
    sparse_p_free(&sp);
    free(rz);
    return 0;
}
