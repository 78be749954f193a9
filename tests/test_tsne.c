/* t-SNE unit checks: the exact gradient against central finite differences of
 * the exact KL, Barnes-Hut with theta 0 and all neighbours against the exact
 * gradient, theta 0.5 close to it, the reported KL against an independent
 * recomputation, and bitwise determinism. (Agreement with scikit-learn is
 * tested in tests/analysis/test_tsne_sklearn.py.) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/tsne.h"
#include "test_util.h"

static uint64_t rs = 42;

/* N points in D dims around 3 centres. */
static void clustered(double *X, int N, int D) {
    double C[3][16];
    for (int k = 0; k < 3; k++)
        for (int d = 0; d < D; d++) C[k][d] = 5 * test_nrand(&rs);
    for (int i = 0; i < N; i++)
        for (int d = 0; d < D; d++) X[i * D + d] = C[i % 3][d] + test_nrand(&rs);
}

static double rel_err(const double *a, const double *b, int n) {
    double num = 0, den = 0;
    for (int i = 0; i < n; i++) {
        num += (a[i] - b[i]) * (a[i] - b[i]);
        den += b[i] * b[i];
    }
    return sqrt(num / (den > 0 ? den : 1));
}

int main(void) {
    enum { N = 120, D = 6 };
    static double X[N * D], Y[N * 2], G[N * 2], Gb[N * 2], Gn[N * 2], Y1[N * 2], Y2[N * 2];
    am_err e = {0};
    double kl, klb;
    clustered(X, N, D);
    for (int i = 0; i < 2 * N; i++) Y[i] = 2 * test_nrand(&rs);

    /* exact gradient vs finite differences (perplexity 10) */
    if (am_tsne_kl_grad(X, N, D, 10, AM_TSNE_EXACT, 0, Y, G, &kl, &e)) {
        printf("%s\n", e.msg);
        return 1;
    }
    for (int t = 0; t < 2 * N; t++) {
        double h = 1e-5, kp, km, save = Y[t];
        Y[t] = save + h;
        am_tsne_exact_kl(X, N, D, 10, Y, &kp, &e);
        Y[t] = save - h;
        am_tsne_exact_kl(X, N, D, 10, Y, &km, &e);
        Y[t] = save;
        Gn[t] = (kp - km) / (2 * h);
    }
    double r = rel_err(G, Gn, 2 * N);
    CHECK(r < 1e-6, "exact gradient vs finite differences: relative error %g", r);
    CHECK(kl > 0.1, "KL of a random embedding should be large, got %g", kl);

    /* Barnes-Hut, theta 0, all N-1 neighbours (3*40+1 >= N-1): equals exact */
    if (am_tsne_kl_grad(X, N, D, 40, AM_TSNE_EXACT, 0, Y, G, &kl, &e) ||
        am_tsne_kl_grad(X, N, D, 40, AM_TSNE_BARNES_HUT, 0, Y, Gb, &klb, &e)) {
        printf("%s\n", e.msg);
        return 1;
    }
    r = rel_err(Gb, G, 2 * N);
    CHECK(r < 1e-9, "Barnes-Hut theta 0 vs exact gradient: relative error %g", r);
    CHECK(fabs(klb - kl) < 1e-9 * fabs(kl), "Barnes-Hut theta 0 KL %.12g vs exact %.12g", klb, kl);
    am_tsne_kl_grad(X, N, D, 40, AM_TSNE_BARNES_HUT, 0.5, Y, Gb, &klb, &e);
    r = rel_err(Gb, G, 2 * N);
    CHECK(r < 0.05 && r > 0, "Barnes-Hut theta 0.5 vs exact gradient: relative error %g", r);
    CHECK(fabs(klb - kl) < 0.02 * kl, "Barnes-Hut theta 0.5 KL %g vs exact %g", klb, kl);

    /* full runs: reported KL, convergence, determinism */
    am_tsne_opts o;
    am_tsne_defaults(&o);
    o.perplexity = 15;
    o.iterations = 400;
    am_tsne_result r1, r2;
    for (int m = 0; m < 2; m++) {
        o.method = m ? AM_TSNE_BARNES_HUT : AM_TSNE_EXACT;
        if (am_tsne_run(X, N, D, &o, Y1, &r1, &e) || am_tsne_run(X, N, D, &o, Y2, &r2, &e)) {
            printf("%s\n", e.msg);
            return 1;
        }
        CHECK(memcmp(Y1, Y2, sizeof Y1) == 0, "method %d: two runs differ", m);
        CHECK(r1.iterations == 400, "method %d: %d iterations", m, r1.iterations);
        double kx;
        am_tsne_exact_kl(X, N, D, 15, Y1, &kx, &e);
        if (m == 0) CHECK(fabs(kx - r1.kl) < 1e-12 * kx, "exact: reported KL %.15g vs recomputed %.15g", r1.kl, kx);
        CHECK(kx < 0.5, "method %d: final KL %g is not small for 3 separated clusters", m, kx);
        CHECK(r1.learning_rate == 50, "auto learning rate for N=%d should be 50, got %g", N, r1.learning_rate);
        /* clusters are separated: every point's nearest embedded neighbour is in its cluster */
        int wrong = 0;
        for (int i = 0; i < N; i++) {
            int best = -1;
            double bd = INFINITY;
            for (int j = 0; j < N; j++) {
                if (j == i) continue;
                double dx = Y1[2 * i] - Y1[2 * j], dy = Y1[2 * i + 1] - Y1[2 * j + 1];
                if (dx * dx + dy * dy < bd) {
                    bd = dx * dx + dy * dy;
                    best = j;
                }
            }
            wrong += best % 3 != i % 3;
        }
        CHECK(wrong == 0, "method %d: %d points next to another cluster", m, wrong);
    }
    /* bad input */
    o.perplexity = N;
    CHECK(am_tsne_run(X, N, D, &o, Y1, &r1, &e) != 0 && strstr(e.msg, "perplexity"),
          "perplexity >= N must fail with a message (got '%s')", e.msg);
    printf("test_tsne: %d failures\n", failures);
    return failures ? 1 : 0;
}
