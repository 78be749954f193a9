/* Average-linkage clustering, flat cuts and silhouettes (cluster.h). */
#include "analysis/cluster.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Union-find over the 2n - 1 nodes of a dendrogram. */
static int uf_find(int *parent, int x) {
    int r = x;
    while (parent[r] != r) r = parent[r];
    while (parent[x] != r) {
        int nx = parent[x];
        parent[x] = r;
        x = nx;
    }
    return r;
}

/* Stable order of the merges by height (insertion sort keeps equal heights in
 * merge order; n is a few thousand at most, the sort is O(n^2) worst case). */
static void sort_rows(double *Z, int m) {
    for (int i = 1; i < m; i++) {
        double row[4];
        memcpy(row, Z + 4 * i, sizeof row);
        int j = i - 1;
        while (j >= 0 && Z[4 * j + 2] > row[2]) {
            memcpy(Z + 4 * (j + 1), Z + 4 * j, sizeof row);
            j--;
        }
        memcpy(Z + 4 * (j + 1), row, sizeof row);
    }
}

int am_cluster_average(const double *D, int n, double *Z, am_err *e) {
    int rc = -1, len = 0;
    const size_t nn = (size_t)n * n;
    if (n < 2) return am_fail_code(e, AM_E_USAGE, "clustering needs at least 2 points (got %d)", n);
    for (size_t i = 0; i < nn; i++)
        if (!isfinite(D[i]) && i / n != i % n)
            return am_fail_code(e, AM_E_USAGE, "clustering: distance [%zu, %zu] is not finite", i / n, i % n);
    double *W = am_malloc(nn, sizeof *W, "clustering distances", e); /* [n,n] working distances */
    int *size = am_malloc((size_t)n, sizeof *size, "cluster sizes", e);
    int *chain = am_malloc((size_t)n, sizeof *chain, "nearest-neighbour chain", e);
    int *parent = am_malloc((size_t)(2 * n), sizeof *parent, "dendrogram", e);
    if (!W || !size || !chain || !parent) goto out;
    memcpy(W, D, nn * sizeof *W);
    for (int i = 0; i < n; i++) size[i] = 1;
    /* the chain: each element is the nearest neighbour of the one before it;
     * two reciprocal nearest neighbours at its end are merged */
    for (int k = 0; k < n - 1; k++) {
        int x = -1, y = -1;
        double dmin = INFINITY;
        if (len == 0)
            for (int i = 0; i < n; i++)
                if (size[i] > 0) {
                    chain[len++] = i;
                    break;
                }
        for (;;) {
            x = chain[len - 1];
            if (len > 1) y = chain[len - 2], dmin = W[(size_t)x * n + y];
            else dmin = INFINITY;
            for (int i = 0; i < n; i++) {
                if (size[i] == 0 || i == x) continue;
                double d = W[(size_t)x * n + i];
                if (d < dmin) dmin = d, y = i;
            }
            if (len > 1 && y == chain[len - 2]) break;
            chain[len++] = y;
        }
        len -= 2;
        if (x > y) {
            int t = x;
            x = y, y = t;
        }
        int nx = size[x], ny = size[y];
        Z[4 * k + 0] = x, Z[4 * k + 1] = y, Z[4 * k + 2] = dmin, Z[4 * k + 3] = nx + ny;
        size[x] = 0, size[y] = nx + ny;
        for (int i = 0; i < n; i++) { /* the merged cluster lives in slot y */
            if (size[i] == 0 || i == y) continue;
            double d = (nx * W[(size_t)i * n + x] + ny * W[(size_t)i * n + y]) / (nx + ny);
            W[(size_t)i * n + y] = W[(size_t)y * n + i] = d;
        }
    }
    sort_rows(Z, n - 1);
    /* relabel: the slots of the chain become dendrogram nodes n, n + 1, ... */
    for (int i = 0; i < 2 * n; i++) parent[i] = i;
    for (int k = 0; k < n - 1; k++) {
        int a = uf_find(parent, (int)Z[4 * k]), b = uf_find(parent, (int)Z[4 * k + 1]);
        Z[4 * k] = a < b ? a : b;
        Z[4 * k + 1] = a < b ? b : a;
        parent[a] = parent[b] = n + k;
    }
    rc = 0;
out:
    free(W), free(size), free(chain), free(parent);
    return rc;
}

int am_cluster_cut(const double *Z, int n, int k, int *label, am_err *e) {
    if (k < 1 || k > n) return am_fail_code(e, AM_E_USAGE, "clusters: k = %d outside 1..%d", k, n);
    int *parent = am_malloc((size_t)(2 * n), sizeof *parent, "dendrogram", e);
    int *id = parent ? am_malloc((size_t)(2 * n), sizeof *id, "cluster ids", e) : NULL;
    if (!id) {
        free(parent);
        return -1;
    }
    for (int i = 0; i < 2 * n; i++) parent[i] = i, id[i] = -1;
    for (int m = 0; m < n - k; m++) {
        int a = uf_find(parent, (int)Z[4 * m]), b = uf_find(parent, (int)Z[4 * m + 1]);
        parent[a] = parent[b] = n + m;
    }
    int next = 0;
    for (int i = 0; i < n; i++) {
        int r = uf_find(parent, i);
        if (id[r] < 0) id[r] = next++;
        label[i] = id[r];
    }
    free(parent), free(id);
    return 0;
}

double am_cluster_silhouette(const double *D, int n, const int *label, int k, am_err *e) {
    if (k < 2 || k > n - 1) return NAN;
    double *sum = am_malloc((size_t)k, sizeof *sum, "silhouette sums", e); /* [k] */
    int *cnt = sum ? am_calloc((size_t)k, sizeof *cnt, "silhouette counts", e) : NULL;
    if (!cnt) {
        free(sum);
        return NAN;
    }
    for (int i = 0; i < n; i++) cnt[label[i]]++;
    double total = 0;
    for (int i = 0; i < n; i++) {
        for (int c = 0; c < k; c++) sum[c] = 0;
        for (int j = 0; j < n; j++)
            if (j != i) sum[label[j]] += D[(size_t)i * n + j];
        int own = label[i];
        if (cnt[own] < 2) continue; /* s = 0 */
        double a = sum[own] / (cnt[own] - 1), b = INFINITY;
        for (int c = 0; c < k; c++)
            if (c != own && cnt[c] > 0 && sum[c] / cnt[c] < b) b = sum[c] / cnt[c];
        double m = a > b ? a : b;
        if (m > 0) total += (b - a) / m;
    }
    free(sum), free(cnt);
    return total / n;
}

int am_cluster_best_k(const double *D, int n, const double *Z, int kmin, int kmax, double *sil, am_err *e) {
    int best = -1;
    int *label = am_malloc((size_t)n, sizeof *label, "cluster labels", e);
    if (!label) return -1;
    for (int k = 0; k <= kmax; k++) sil[k] = NAN;
    for (int k = kmin; k <= kmax; k++) {
        if (am_cluster_cut(Z, n, k, label, e)) {
            free(label);
            return -1;
        }
        sil[k] = am_cluster_silhouette(D, n, label, k, e);
        if (!isnan(sil[k]) && (best < 0 || sil[k] > sil[best])) best = k;
    }
    free(label);
    if (best < 0) return am_fail_code(e, AM_E_USAGE, "clusters: no k in %d..%d for %d heads", kmin, kmax, n);
    return best;
}
