/* t-SNE affinities (tsne_internal.h): perplexity calibration by bisection on
 * beta per point, the dense joint P for the exact method and the sparse one
 * on the exact k nearest neighbours (BLAS distance blocks) for Barnes-Hut and
 * FFT. Deterministic: every loop over points has fixed work per point. */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/tsne_internal.h"

/* Conditional P row from squared distances d [m]: p_j = exp(-beta d_j) / sum,
 * beta found by bisection so that the entropy (nats) is log(perplexity). */
static void binary_search_row(const double *d, int m, double perplexity, double *p) {
    const double desired = log(perplexity), tol = 1e-5;
    double beta = 1, beta_min = -INFINITY, beta_max = INFINITY;
    for (int step = 0; step < 100; step++) {
        double sum = 0, sdp = 0;
        for (int j = 0; j < m; j++) {
            p[j] = exp(-d[j] * beta);
            sum += p[j];
        }
        if (sum == 0) sum = 1e-8;
        for (int j = 0; j < m; j++) {
            p[j] /= sum;
            sdp += d[j] * p[j];
        }
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
static void sq_dist_block(const double *X, int D, const double *norms, int i0, int B, int j0, int C, double *out) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, C, D, -2.0, X + (size_t)i0 * D, D, X + (size_t)j0 * D, D,
                0.0, out, C);
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
    for (int d = 0; d < D; d++) {
        double t = a[d] - b[d];
        s += t * t;
    }
    return s;
}

int tsne_dense_p(const double *X, int N, int D, double perplexity, double *P, am_err *e) {
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

void tsne_sparse_p_free(sparse_p *s) {
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
            hd[c] = hd[p];
            hi[c] = hi[p];
            c = p;
        }
        hd[c] = d;
        hi[c] = j;
        return;
    }
    if (d >= hd[0]) return;
    int c = 0;
    for (;;) {
        int l = 2 * c + 1, r = l + 1, m = c;
        double md = d;
        if (l < k && hd[l] > md) {
            m = l;
            md = hd[l];
        }
        if (r < k && hd[r] > md) { m = r; }
        if (m == c) break;
        hd[c] = hd[m];
        hi[c] = hi[m];
        c = m;
    }
    hd[c] = d;
    hi[c] = j;
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

typedef struct trip {
    int col;
    double v;
} trip;
static int cmp_trip(const void *a, const void *b) {
    int x = ((const trip *)a)->col, y = ((const trip *)b)->col;
    return (x > y) - (x < y);
}

int tsne_sparse_joint_p(const double *X, int N, int D, double perplexity, sparse_p *sp, am_err *e) {
    int rc = -1, k = N - 1 < (int)(3 * perplexity + 1) ? N - 1 : (int)(3 * perplexity + 1);
    int *nn = malloc((size_t)N * k * sizeof *nn);    /* [N,k] */
    double *nd = malloc((size_t)N * k * sizeof *nd); /* [N,k] */
    double *cp = malloc((size_t)N * k * sizeof *cp); /* [N,k] conditional P */
    size_t *cnt = calloc((size_t)N + 1, sizeof *cnt);
    trip *tr = malloc((size_t)2 * N * k * sizeof *tr); /* [2Nk] */
    size_t *fill = NULL, nz = 0;
    double sum = 0;
    memset(sp, 0, sizeof *sp);
    if (!nn || !nd || !cp || !cnt || !tr) {
        am_fail(e, "t-SNE: out of memory for P (N=%d, k=%d)", N, k);
        goto out;
    }
    if (knn(X, N, D, k, nn, nd, e)) goto out;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++) binary_search_row(nd + (size_t)i * k, k, perplexity, cp + (size_t)i * k);
    /* triplets of P and P^T bucketed by row */
    for (int i = 0; i < N; i++)
        for (int t = 0; t < k; t++) {
            cnt[i + 1]++;
            cnt[nn[(size_t)i * k + t] + 1]++;
        }
    for (int i = 0; i < N; i++) cnt[i + 1] += cnt[i];
    fill = malloc((size_t)N * sizeof *fill);
    if (!fill) {
        am_fail(e, "t-SNE: out of memory");
        goto out;
    }
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
    if (!sp->ptr || !sp->col || !sp->val) {
        am_fail(e, "t-SNE: out of memory");
        goto out;
    }
    for (int i = 0; i < N; i++) {
        trip *r = tr + cnt[i];
        size_t m = cnt[i + 1] - cnt[i];
        qsort(r, m, sizeof *r, cmp_trip);
        sp->ptr[i] = nz;
        for (size_t t = 0; t < m; t++) {
            if (nz > sp->ptr[i] && sp->col[nz - 1] == r[t].col) sp->val[nz - 1] += r[t].v;
            else {
                sp->col[nz] = r[t].col;
                sp->val[nz] = r[t].v;
                nz++;
            }
        }
    }
    sp->ptr[N] = nz;
    sp->nnz = nz;
    for (size_t t = 0; t < nz; t++) sum += sp->val[t];
    if (sum < MACHINE_EPS) sum = MACHINE_EPS;
    for (size_t t = 0; t < nz; t++) sp->val[t] /= sum;
    rc = 0;
out:
    if (rc) tsne_sparse_p_free(sp);
    free(nn);
    free(nd);
    free(cp);
    free(cnt);
    free(tr);
    free(fill);
    return rc;
}
