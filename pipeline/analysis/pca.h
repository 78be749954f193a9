/* Principal component analysis with LAPACKE (dsyevd on the covariance or, when
 * there are more columns than rows, on the Gram matrix). */
#ifndef AM_PCA_H
#define AM_PCA_H

#include "base/error.h"

/* In place: X [N,F] <- (X - mean) / std per column (population std, ddof 0).
 * NaN entries and columns with zero spread become 0. mean, std [F] may be NULL. */
void am_pca_zscore(double *X, int N, int F, double *mean, double *std);

/* PCA of X [N,D] (centred internally; X is not modified). K <= min(N, D).
 * components [K,D] (unit loadings, each oriented so its largest-|.| entry is
 * positive; may be NULL), variance [K] (eigenvalues of the covariance with
 * divisor N-1, descending), ratio [K] (variance / total variance; may be NULL),
 * scores [N,K] (centred X times the components; may be NULL). */
int am_pca_fit(const double *X, int N, int D, int K, double *components, double *variance, double *ratio,
               double *scores, am_err *e);

#endif
