/* Average-linkage hierarchical clustering of a distance matrix, flat clusters
 * cut from it, and the silhouette that picks their number (docs/analysis.md,
 * "Clusters of heads"). The linkage matrix is scipy's: row i joins clusters
 * Z[i,0] < Z[i,1] (leaves 0..n-1, the cluster made by row i is n + i) at
 * height Z[i,2] into Z[i,3] leaves, rows in increasing height. */
#ifndef AM_ANALYSIS_CLUSTER_H
#define AM_ANALYSIS_CLUSTER_H

#include "base/error.h"

/* Average linkage (UPGMA) of the symmetric distance matrix D [n,n] (finite,
 * diagonal ignored) into Z [n-1,4], by the nearest-neighbour chain with the
 * Lance-Williams update d(k, i+j) = (n_i d(k,i) + n_j d(k,j)) / (n_i + n_j),
 * merges sorted stably by height. n >= 2. */
int am_cluster_average(const double *D, int n, double *Z, am_err *e);

/* Flat clusters from Z: the first n - k merges applied, label[n] in 0..k-1
 * numbered in order of each cluster's smallest leaf. 1 <= k <= n. */
int am_cluster_cut(const double *Z, int n, int k, int *label, am_err *e);

/* Mean silhouette of the labelling label[n] (k clusters) on D [n,n], as
 * sklearn.metrics.silhouette_score(metric="precomputed"): s_i = (b - a) /
 * max(a, b) with a the mean distance to the rest of i's cluster and b the
 * smallest mean distance to another cluster; 0 for a point alone in its
 * cluster. NaN unless 2 <= k <= n - 1. */
double am_cluster_silhouette(const double *D, int n, const int *label, int k, am_err *e);

/* k in [kmin, kmax] with the largest silhouette (the smallest k on ties);
 * sil [kmax + 1] receives each k's silhouette (NaN outside the range). */
int am_cluster_best_k(const double *D, int n, const double *Z, int kmin, int kmax, double *sil, am_err *e);

#endif
