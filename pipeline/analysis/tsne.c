/* t-SNE: the gradient-descent schedule, initialisation and the public entry
 * points (tsne.h, docs/analysis.md); affinities in tsne_p.c, gradients in
 * tsne_grad.c.
 *
 * Determinism: every reduction over points is written per point into an
 * array and summed serially, and all loops over points have fixed work per
 * point, so results do not depend on thread scheduling. */
#include "analysis/tsne.h"

#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis/pca.h"
#include "analysis/tsne_fft.h"
#include "analysis/tsne_internal.h"

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

int am_tsne_run(const double *X, int N, int D, const am_tsne_opts *o, double *Y, am_tsne_result *res, am_err *e) {
    int rc = -1, it = 0, total = o->iterations;
    double *P = NULL, *upd = NULL, *gains = NULL, *grad = NULL, *rowz = NULL, *rowk = NULL;
    double lr = 0, kl = NAN;
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
        if (tsne_sparse_joint_p(X, N, D, o->perplexity, &sp, e)) goto out;
    } else {
        P = malloc((size_t)N * N * sizeof *P); /* [N,N] */
        if (!P) {
            am_fail(e, "t-SNE exact: out of memory for %d x %d (use fft or barnes_hut)", N, N);
            goto out;
        }
        if (tsne_dense_p(X, N, D, o->perplexity, P, e)) goto out;
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
    lr = o->learning_rate > 0 ? o->learning_rate : fmax(N / o->early_exaggeration / 4, 50);
    res->learning_rate = lr;

    for (int phase = 0; phase < 2 && it < total; phase++) {
        int stop = phase == 0 ? (o->exaggeration_iters < total ? o->exaggeration_iters : total) : total;
        double ex = phase == 0 ? o->early_exaggeration : 1, mom = phase == 0 ? 0.5 : 0.8;
        double best_error = DBL_MAX;
        int best_iter = it, i;
        /* each phase starts from zero velocity and unit gains, as sklearn's
         * _gradient_descent does on each of its two calls */
        for (int k = 0; k < 2 * N; k++) {
            upd[k] = 0;
            gains[k] = 1;
        }
        for (i = it; i < stop; i++) {
            int check = (i + 1) % 50 == 0, want = check || i == stop - 1;
            double err;
            if (bh) {
                int fail = 0;
                err = tsne_bh_grad(&sp, ex, Y, N, o->theta, &qt, grad, rowz, rowk, want, &fail);
                if (fail) {
                    am_fail(e, "t-SNE: out of memory for the quadtree");
                    goto out;
                }
            } else if (fft) {
                if (tsne_fft_grad(&sp, ex, Y, N, &ff, grad, rowz, rowk, want, &err, e)) goto out;
            } else {
                err = tsne_exact_grad(P, ex, Y, N, grad, rowz, want);
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
                if (err < best_error) {
                    best_error = err;
                    best_iter = i;
                } else if (i - best_iter > patience) {
                    i++;
                    break;
                }
                if (sqrt(gn) <= o->min_grad_norm) {
                    i++;
                    break;
                }
            }
        }
        it = i;
    }
    res->iterations = it;
    if (!sparse) { /* exact KL of the returned embedding */
        kl = tsne_exact_grad(P, 1, Y, N, grad, rowz, 1);
    }
    res->kl = kl;
    res->seconds_optimise = now_s() - t0;
    rc = 0;
out:
    free(P);
    free(upd);
    free(gains);
    free(grad);
    free(rowz);
    free(rowk);
    tsne_sparse_p_free(&sp);
    free(qt.nodes);
    free(qt.perm);
    free(qt.tmp);
    am_tsne_fft_free(&ff);
    return rc;
}

int am_tsne_exact_kl(const double *X, int N, int D, double perplexity, const double *Y, double *kl, am_err *e) {
    double *g = am_malloc((size_t)2 * N, sizeof *g, "the t-SNE gradient", e); /* [N][2], not used */
    if (!g) return -1;
    int rc = am_tsne_kl_grad(X, N, D, perplexity, AM_TSNE_EXACT, 0.0, Y, g, kl, e);
    free(g);
    return rc;
}

int am_tsne_kl_grad(const double *X, int N, int D, double perplexity, am_tsne_method method, double theta,
                    const double *Y, double *grad, double *kl, am_err *e) {
    int rc = -1;
    double *P = NULL, *rz = malloc((size_t)N * sizeof *rz), *rk = malloc((size_t)N * sizeof *rk);
    sparse_p sp;
    qtree qt;
    memset(&sp, 0, sizeof sp);
    memset(&qt, 0, sizeof qt);
    if (!rz || !rk) {
        am_fail(e, "t-SNE: out of memory");
        goto out;
    }
    if (method == AM_TSNE_FFT) {
        am_tsne_fft ff;
        if (tsne_sparse_joint_p(X, N, D, perplexity, &sp, e) || am_tsne_fft_init(&ff, N, e)) goto out;
        int r = tsne_fft_grad(&sp, 1, Y, N, &ff, grad, rz, rk, 1, kl, e);
        am_tsne_fft_free(&ff);
        if (r) goto out;
    } else if (method == AM_TSNE_BARNES_HUT) {
        int fail = 0;
        qt.perm = malloc((size_t)N * sizeof *qt.perm);
        qt.tmp = malloc((size_t)N * sizeof *qt.tmp);
        if (!qt.perm || !qt.tmp) {
            am_fail(e, "t-SNE: out of memory");
            goto out;
        }
        if (tsne_sparse_joint_p(X, N, D, perplexity, &sp, e)) goto out;
        *kl = tsne_bh_grad(&sp, 1, Y, N, theta, &qt, grad, rz, rk, 1, &fail);
        if (fail) {
            am_fail(e, "t-SNE: out of memory for the quadtree");
            goto out;
        }
    } else {
        P = malloc((size_t)N * N * sizeof *P);
        if (!P) {
            am_fail(e, "t-SNE: out of memory");
            goto out;
        }
        if (tsne_dense_p(X, N, D, perplexity, P, e)) goto out;
        *kl = tsne_exact_grad(P, 1, Y, N, grad, rz, 1);
    }
    rc = 0;
out:
    free(P);
    free(rz);
    free(rk);
    tsne_sparse_p_free(&sp);
    free(qt.nodes);
    free(qt.perm);
    free(qt.tmp);
    return rc;
}

int am_tsne_sparse_kl(const double *X, int N, int D, double perplexity, const double *Y, double *kl, am_err *e) {
    sparse_p sp;
    double *rz = malloc((size_t)N * sizeof *rz); /* [N] */
    if (!rz) return am_fail(e, "t-SNE: out of memory");
    if (tsne_sparse_joint_p(X, N, D, perplexity, &sp, e)) {
        free(rz);
        return -1;
    }
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
    tsne_sparse_p_free(&sp);
    free(rz);
    return 0;
}
