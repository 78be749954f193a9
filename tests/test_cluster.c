/* Average-linkage clustering (analysis/cluster.h) against a naive UPGMA written
 * here from the definition: repeatedly merge the two closest clusters, the
 * distance between clusters being the mean of the distances between their
 * members (O(n^3), recomputed from the original distances). Random points in
 * 5 dimensions (distinct distances), n = 3 .. 120; then the cut, the
 * silhouette by hand, the best k on well-separated blobs, and bad input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cluster.h"
#include "test_util.h"

static double urand(unsigned *s) {
    *s = *s * 1103515245u + 12345u;
    return ((*s >> 8) & 0xffffff) / (double)0x1000000;
}

/* Sorted merge heights of the naive UPGMA on D [n,n]. */
static void naive_heights(const double *D, int n, double *h) {
    int *lab = malloc((size_t)n * sizeof *lab);
    for (int i = 0; i < n; i++) lab[i] = i;
    for (int m = 0; m < n - 1; m++) {
        double best = INFINITY;
        int ba = -1, bb = -1;
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++) {
                if (lab[a] != a || lab[b] != b || a >= b) continue; /* cluster representatives a < b */
                double s = 0;
                int c = 0;
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < n; j++)
                        if (lab[i] == a && lab[j] == b) s += D[i * n + j], c++;
                if (s / c < best) best = s / c, ba = a, bb = b;
            }
        h[m] = best;
        for (int i = 0; i < n; i++)
            if (lab[i] == bb) lab[i] = ba;
    }
    free(lab);
}

int main(void) {
    am_err e = {0};
    unsigned seed = 12345;
    for (int n = 3; n <= 120; n += n < 20 ? 1 : 25) {
        double *X = malloc((size_t)n * 5 * sizeof *X), *D = malloc((size_t)n * n * sizeof *D);
        double *Z = malloc((size_t)(n - 1) * 4 * sizeof *Z), *h = malloc((size_t)n * sizeof *h);
        for (int i = 0; i < n * 5; i++) X[i] = urand(&seed);
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++) {
                double s = 0;
                for (int k = 0; k < 5; k++) s += (X[a * 5 + k] - X[b * 5 + k]) * (X[a * 5 + k] - X[b * 5 + k]);
                D[a * n + b] = sqrt(s);
            }
        REQUIRE(am_cluster_average(D, n, Z, &e) == 0, "%s", e.msg);
        naive_heights(D, n, h);
        int ok = 1, sizes = 1;
        for (int m = 0; m < n - 1; m++) {
            if (fabs(Z[4 * m + 2] - h[m]) > 1e-12) ok = 0;
            if (m && Z[4 * m + 2] < Z[4 * (m - 1) + 2]) ok = 0;
            if (!(Z[4 * m] < Z[4 * m + 1]) || Z[4 * m + 1] >= n + m) sizes = 0;
        }
        CHECK(ok, "n = %d: merge heights differ from the naive UPGMA", n);
        CHECK(sizes && Z[4 * (n - 2) + 3] == n, "n = %d: ids or sizes of the linkage", n);
        free(X), free(D), free(Z), free(h);
    }

    /* three blobs of 10 on a line: k = 3 by silhouette, clusters are the blobs */
    {
        enum { n = 30 };
        double x[n], D[n * n], Z[(n - 1) * 4], sil[9];
        int lab[n];
        for (int i = 0; i < n; i++) x[i] = (i / 10) * 100.0 + urand(&seed);
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++) D[a * n + b] = fabs(x[a] - x[b]);
        REQUIRE(am_cluster_average(D, n, Z, &e) == 0, "%s", e.msg);
        int k = am_cluster_best_k(D, n, Z, 2, 8, sil, &e);
        CHECK(k == 3, "best k %d, expected 3 (silhouettes %g %g %g)", k, sil[2], sil[3], sil[4]);
        REQUIRE(am_cluster_cut(Z, n, 3, lab, &e) == 0, "%s", e.msg);
        for (int i = 0; i < n; i++) CHECK(lab[i] == i / 10, "blob point %d in cluster %d", i, lab[i]);
        /* silhouette by hand for k = 3 */
        double tot = 0;
        for (int i = 0; i < n; i++) {
            double s[3] = {0, 0, 0};
            for (int j = 0; j < n; j++)
                if (j != i) s[lab[j]] += D[i * n + j];
            double a = s[lab[i]] / 9, b = INFINITY;
            for (int c = 0; c < 3; c++)
                if (c != lab[i] && s[c] / 10 < b) b = s[c] / 10;
            tot += (b - a) / (a > b ? a : b);
        }
        CHECK(fabs(am_cluster_silhouette(D, n, lab, 3, &e) - tot / n) < 1e-12, "silhouette");
        CHECK(isnan(am_cluster_silhouette(D, n, lab, 1, &e)), "silhouette of one cluster is NaN");
        REQUIRE(am_cluster_cut(Z, n, n, lab, &e) == 0, "%s", e.msg);
        for (int i = 0; i < n; i++) CHECK(lab[i] == i, "k = n: every point alone (%d -> %d)", i, lab[i]);
        CHECK(am_cluster_cut(Z, n, 0, lab, &e) == -1 && strstr(e.msg, "k = 0"), "k = 0 refused: %s", e.msg);
        D[5] = NAN;
        CHECK(am_cluster_average(D, n, Z, &e) == -1 && strstr(e.msg, "not finite"), "NaN refused: %s", e.msg);
        CHECK(am_cluster_average(D, 1, Z, &e) == -1, "one point refused");
    }
    if (!failures) printf("test_cluster: all checks passed\n");
    return failures != 0;
}
