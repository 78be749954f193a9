/* t-SNE gradients (tsne_internal.h): exact O(N^2) with the dense P; with the
 * sparse P, attraction over the neighbours and repulsion from a Barnes-Hut
 * quadtree (angle theta) or from the FFT grid (tsne_fft.h). Every reduction
 * over points is written per point and summed serially, so results do not
 * depend on thread scheduling. */
#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/tsne_internal.h"

double tsne_exact_grad(const double *P, double ex, const double *Y, int N, double *grad, double *rowz, int want_kl) {
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
static int qt_build(qtree *t, const double *Y, int node, int lo, int hi, double x0, double y0, double w, int depth) {
    qnode *nd = &t->nodes[node];
    double sx = 0, sy = 0;
    for (int a = lo; a < hi; a++) {
        sx += Y[2 * t->perm[a]];
        sy += Y[2 * t->perm[a] + 1];
    }
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
    for (int q = 0; q < 4; q++) {
        off[q] = o;
        o += qc[q];
    }
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
        if (qt_build(t, Y, first + c, off[q], off[q] + qc[q], x0 + (q & 1) * h, y0 + (q >> 1) * h, h, depth + 1))
            return -1;
        c++;
    }
    return 0;
}

static int qt_rebuild(qtree *t, const double *Y, int N) {
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (int i = 0; i < N; i++) {
        xmin = fmin(xmin, Y[2 * i]);
        xmax = fmax(xmax, Y[2 * i]);
        ymin = fmin(ymin, Y[2 * i + 1]);
        ymax = fmax(ymax, Y[2 * i + 1]);
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
static void qt_negative(const qtree *t, const double *Y, int i, double theta2, double *fx, double *fy, double *zi) {
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
static double attract(const sparse_p *P, double ex, const double *Y, int N, double Z, double *grad, double *rowk,
                      int want_kl) {
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

int tsne_fft_grad(const sparse_p *P, double ex, const double *Y, int N, am_tsne_fft *f, double *grad, double *rowz,
                  double *rowk, int want_kl, double *kl, am_err *e) {
    if (am_tsne_fft_repulsion(f, Y, grad, rowz, e)) return -1;
    double Z = 0;
    for (int i = 0; i < N; i++) Z += rowz[i];
    *kl = attract(P, ex, Y, N, Z, grad, rowk, want_kl);
    return 0;
}

double tsne_bh_grad(const sparse_p *P, double ex, const double *Y, int N, double theta, qtree *t, double *grad,
                    double *rowz, double *rowk, int want_kl, int *fail) {
    if (qt_rebuild(t, Y, N)) {
        *fail = 1;
        return 0;
    }
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
