/* PCA via the symmetric eigenproblem (LAPACKE_dsyevd). */
#include "analysis/pca.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void am_pca_zscore(double *X, int N, int F, double *mean, double *std) {
    for (int f = 0; f < F; f++) {
        double s = 0;
        int c = 0;
        for (int i = 0; i < N; i++) {
            double x = X[(size_t)i * F + f];
            if (!isnan(x)) {
                s += x;
                c++;
            }
        }
        double m = c ? s / c : 0, v = 0;
        for (int i = 0; i < N; i++) {
            double x = X[(size_t)i * F + f];
            if (!isnan(x)) v += (x - m) * (x - m);
        }
        double sd = c ? sqrt(v / c) : 0;
        for (int i = 0; i < N; i++) {
            double *x = &X[(size_t)i * F + f];
            *x = (isnan(*x) || !(sd > 0)) ? 0.0 : (*x - m) / sd;
        }
        if (mean) mean[f] = m;
        if (std) std[f] = sd;
    }
}

int am_pca_fit(const double *X, int N, int D, int K, double *components, double *variance, double *ratio,
               double *scores, am_err *e) {
    int rc = -1, n = D <= N ? D : N; /* eigenproblem size: covariance [D,D] or Gram [N,N] */
    double *Xc = NULL, *M = NULL, *w = NULL, *V = NULL, total = 0;
    lapack_int info = 0;
    if (N < 2 || D < 1 || K < 1 || K > D || K > N)
        return am_fail(e, "pca: need N >= 2 rows and 1 <= K <= min(N, D) (N=%d D=%d K=%d)", N, D, K);
    Xc = malloc((size_t)N * D * sizeof *Xc); /* [N,D] centred */
    V = malloc((size_t)K * D * sizeof *V);   /* [K,D] components */
    if (!Xc || !V) {
        am_fail(e, "pca: out of memory for %d x %d", N, D);
        goto out;
    }
    memcpy(Xc, X, (size_t)N * D * sizeof *Xc);
    for (int j = 0; j < D; j++) {
        double m = 0;
        for (int i = 0; i < N; i++) m += Xc[(size_t)i * D + j];
        m /= N;
        for (int i = 0; i < N; i++) {
            double *x = &Xc[(size_t)i * D + j];
            *x -= m;
            total += *x * *x;
        }
    }
    total /= (N - 1);

    M = calloc((size_t)n * n, sizeof *M);
    w = malloc((size_t)n * sizeof *w);
    if (!M || !w) {
        am_fail(e, "pca: out of memory for a %d x %d eigenproblem", n, n);
        goto out;
    }
    if (D <= N) cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, D, N, 1.0 / (N - 1), Xc, D, 0.0, M, D);
    else cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, N, D, 1.0 / (N - 1), Xc, D, 0.0, M, N);
    info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', n, M, n, w);
    if (info != 0) {
        am_fail(e, "pca: LAPACKE_dsyevd failed (info %d)", (int)info);
        goto out;
    }

    for (int c = 0; c < K; c++) {
        int j = n - 1 - c; /* eigenvalues ascending */
        double lam = w[j] > 0 ? w[j] : 0;
        double *v = V + (size_t)c * D;
        if (D <= N) {
            for (int d = 0; d < D; d++) v[d] = M[(size_t)d * n + j];
        } else {
            double s = lam > 0 ? 1.0 / sqrt(lam * (N - 1)) : 0;
            for (int d = 0; d < D; d++) v[d] = 0;
            for (int i = 0; i < N; i++) {
                double u = M[(size_t)i * n + j] * s;
                const double *x = Xc + (size_t)i * D;
                for (int d = 0; d < D; d++) v[d] += u * x[d];
            }
        }
        int big = 0;
        for (int d = 1; d < D; d++)
            if (fabs(v[d]) > fabs(v[big])) big = d;
        if (v[big] < 0)
            for (int d = 0; d < D; d++) v[d] = -v[d];
        variance[c] = lam;
        if (ratio) ratio[c] = total > 0 ? lam / total : 0;
    }
    if (scores) cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, K, D, 1.0, Xc, D, V, D, 0.0, scores, K);
    if (components) memcpy(components, V, (size_t)K * D * sizeof *V);
    rc = 0;
out:
    free(Xc);
    free(M);
    free(w);
    free(V);
    return rc;
}
