/* FFT-interpolated t-SNE repulsion (tsne_fft.h) against the direct O(N^2)
 * sums on random 2-D embeddings of several spreads (uniform square, Gaussian
 * clusters, a tight blob, a spread large enough to hit the interval cap):
 * relative error of the repulsive forces and of the per-point normalisation
 * sums, and the FFT gradient/KL of am_tsne_kl_grad against the exact
 * sparse-P gradient built from the direct sums. Also a full FFT run:
 * determinism, iteration count, separated clusters. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/tsne.h"
#include "analysis/tsne_fft.h"
#include "test_util.h"

static uint64_t rs = 7;

/* Direct sums: rep [N,2] = sum_j (1+d^2)^-2 (y_i - y_j), zrow [N] = sum_j (1+d^2)^-1. */
static void direct(const double *Y, int N, double *rep, double *zrow) {
    for (int i = 0; i < N; i++) {
        double fx = 0, fy = 0, z = 0;
        for (int j = 0; j < N; j++) {
            if (j == i) continue;
            double dx = Y[2 * i] - Y[2 * j], dy = Y[2 * i + 1] - Y[2 * j + 1];
            double q = 1.0 / (1.0 + dx * dx + dy * dy);
            z += q;
            fx += q * q * dx;
            fy += q * q * dy;
        }
        rep[2 * i] = fx;
        rep[2 * i + 1] = fy;
        zrow[i] = z;
    }
}

static double rel_err(const double *a, const double *b, int n) {
    double num = 0, den = 0;
    for (int i = 0; i < n; i++) {
        num += (a[i] - b[i]) * (a[i] - b[i]);
        den += b[i] * b[i];
    }
    return sqrt(num / (den > 0 ? den : 1));
}

static double max_rel(const double *a, const double *b, int n) {
    double m = 0;
    for (int i = 0; i < n; i++) m = fmax(m, fabs(a[i] - b[i]) / fabs(b[i]));
    return m;
}

/* layout 0: uniform in [-s, s]^2; 1: 10 Gaussian clusters of sd 1 at centres
 * uniform in [-s, s]^2; 2: one Gaussian blob of sd s. */
static void layout(double *Y, int N, int kind, double s) {
    double C[10][2];
    for (int k = 0; k < 10; k++) {
        C[k][0] = s * (2 * test_urand(&rs) - 1);
        C[k][1] = s * (2 * test_urand(&rs) - 1);
    }
    for (int i = 0; i < N; i++) {
        if (kind == 0) {
            Y[2 * i] = s * (2 * test_urand(&rs) - 1);
            Y[2 * i + 1] = s * (2 * test_urand(&rs) - 1);
        } else if (kind == 1) {
            Y[2 * i] = C[i % 10][0] + test_nrand(&rs);
            Y[2 * i + 1] = C[i % 10][1] + test_nrand(&rs);
        } else {
            Y[2 * i] = s * test_nrand(&rs);
            Y[2 * i + 1] = s * test_nrand(&rs);
        }
    }
}

int main(void) {
    enum { N = 2000 };
    static double Y[N * 2], rep[N * 2], z[N], rep0[N * 2], z0[N];
    am_err e = {0};
    am_tsne_fft f;
    if (am_tsne_fft_init(&f, N, &e)) {
        printf("%s\n", e.msg);
        return 1;
    }
    const int p0 = f.p;
    const double u0 = f.per_unit;
    /* fine: spread at most min_intervals intervals wide, so intervals are
     * shorter than 1 (the kernel's length scale); coarse: intervals of the
     * default width 1/per_unit or wider (capped grid) */
    static const struct {
        int kind;
        double s;
        int fine;
        const char *name;
    } cases[] = {{0, 5, 1, "uniform +-5"},
                 {2, 1e-3, 1, "blob sd 1e-3"},
                 {2, 2, 1, "blob sd 2"},
                 {1, 10, 1, "10 clusters in +-10"},
                 {0, 40, 0, "uniform +-40"},
                 {1, 30, 0, "10 clusters in +-30"},
                 {1, 57, 0, "10 clusters in +-57"},
                 {1, 200, 0, "10 clusters in +-200 (capped grid)"}};
    for (int refined = 0; refined < 2; refined++) {
        /* refined: more nodes per interval and more intervals per unit */
        f.p = refined ? 6 : p0;
        f.per_unit = refined ? 2 : u0;
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            if (refined && cases[c].s >= 100) continue; /* a 3072^2 grid: slow */
            layout(Y, N, cases[c].kind, cases[c].s);
            direct(Y, N, rep0, z0);
            if (am_tsne_fft_repulsion(&f, Y, rep, z, &e)) {
                printf("%s\n", e.msg);
                return 1;
            }
            double er = rel_err(rep, rep0, 2 * N), ez = max_rel(z, z0, N);
            double zs = 0, zs0 = 0;
            for (int i = 0; i < N; i++) {
                zs += z[i];
                zs0 += z0[i];
            }
            double eZ = fabs(zs - zs0) / zs0;
            printf("p %d, %.3g/unit, %-36s intervals %3d: force rel err %.2e, max row-Z rel err %.2e, "
                   "Z rel err %.2e\n",
                   f.p, f.per_unit, cases[c].name, f.nb, er, ez, eZ);
            int tight = cases[c].fine || refined;
            double bf = tight ? 1e-3 : 2e-2, bz = tight ? 1e-3 : 2e-2, bZ = tight ? 1e-4 : 1e-3;
            CHECK(er < bf, "%s (p %d): repulsive force relative error %g >= %g", cases[c].name, f.p, er, bf);
            CHECK(ez < bz, "%s (p %d): per-point normalisation relative error %g >= %g", cases[c].name, f.p, ez, bz);
            CHECK(eZ < bZ, "%s (p %d): total Z relative error %g >= %g", cases[c].name, f.p, eZ, bZ);
        }
    }
    am_tsne_fft_free(&f);

    /* bad input: a non-finite coordinate is refused with a message */
    if (am_tsne_fft_init(&f, 4, &e)) {
        printf("%s\n", e.msg);
        return 1;
    }
    double bad[8] = {0, 0, 1, 1, NAN, 2, 3, 3}, r4[8], z4[4];
    CHECK(am_tsne_fft_repulsion(&f, bad, r4, z4, &e) != 0 && strstr(e.msg, "non-finite"),
          "non-finite embedding must fail (got '%s')", e.msg);
    am_tsne_fft_free(&f);

    /* gradient and KL of the optimiser (sparse P, FFT repulsion) against
     * Barnes-Hut with theta 0 (sparse P, direct repulsion) */
    enum { M = 300, D = 8 };
    static double X[M * D], Ym[M * 2], G[M * 2], Gf[M * 2], Y1[M * 2], Y2[M * 2];
    double Cc[3][D];
    for (int k = 0; k < 3; k++)
        for (int d = 0; d < D; d++) Cc[k][d] = 5 * test_nrand(&rs);
    for (int i = 0; i < M; i++)
        for (int d = 0; d < D; d++) X[i * D + d] = Cc[i % 3][d] + test_nrand(&rs);
    for (int i = 0; i < 2 * M; i++) Ym[i] = 3 * test_nrand(&rs);
    double kl, klf;
    if (am_tsne_kl_grad(X, M, D, 20, AM_TSNE_BARNES_HUT, 0, Ym, G, &kl, &e) ||
        am_tsne_kl_grad(X, M, D, 20, AM_TSNE_FFT, 0, Ym, Gf, &klf, &e)) {
        printf("%s\n", e.msg);
        return 1;
    }
    double rg = rel_err(Gf, G, 2 * M);
    printf("gradient rel err %.2e, KL %.9f vs %.9f\n", rg, klf, kl);
    CHECK(rg < 1e-3, "FFT gradient vs direct: relative error %g", rg);
    CHECK(fabs(klf - kl) < 1e-4 * kl, "FFT KL %.9g vs direct %.9g", klf, kl);

    /* full runs */
    am_tsne_opts o;
    am_tsne_defaults(&o);
    o.method = AM_TSNE_FFT;
    o.perplexity = 20;
    o.iterations = 300;
    am_tsne_result r1, r2;
    if (am_tsne_run(X, M, D, &o, Y1, &r1, &e) || am_tsne_run(X, M, D, &o, Y2, &r2, &e)) {
        printf("%s\n", e.msg);
        return 1;
    }
    CHECK(r1.method == AM_TSNE_FFT, "method %d", (int)r1.method);
    CHECK(memcmp(Y1, Y2, sizeof Y1) == 0, "two FFT runs differ");
    CHECK(r1.iterations == 300, "%d iterations", r1.iterations);
    double ks;
    if (am_tsne_sparse_kl(X, M, D, 20, Y1, &ks, &e)) {
        printf("%s\n", e.msg);
        return 1;
    }
    printf("run: reported KL %.6f, KL with exact Z %.6f\n", r1.kl, ks);
    CHECK(fabs(ks - r1.kl) < 0.01 * ks, "reported KL %g vs recomputed with exact Z %g", r1.kl, ks);
    int wrong = 0;
    for (int i = 0; i < M; i++) {
        int best = -1;
        double bd = INFINITY;
        for (int j = 0; j < M; j++) {
            if (j == i) continue;
            double dx = Y1[2 * i] - Y1[2 * j], dy = Y1[2 * i + 1] - Y1[2 * j + 1];
            if (dx * dx + dy * dy < bd) {
                bd = dx * dx + dy * dy;
                best = j;
            }
        }
        wrong += best % 3 != i % 3;
    }
    CHECK(wrong == 0, "%d points next to another cluster", wrong);
    /* method names and auto */
    am_tsne_method m;
    CHECK(am_tsne_method_parse("fft", &m) == 0 && m == AM_TSNE_FFT, "parse fft");
    CHECK(am_tsne_method_parse("bogus", &m) == -1, "parse bogus");
    CHECK(am_tsne_method_for(AM_TSNE_AUTO, AM_TSNE_AUTO_EXACT_MAX - 1) == AM_TSNE_EXACT &&
              am_tsne_method_for(AM_TSNE_AUTO, AM_TSNE_AUTO_EXACT_MAX) == AM_TSNE_BARNES_HUT &&
              am_tsne_method_for(AM_TSNE_AUTO, AM_TSNE_AUTO_FFT_MIN - 1) == AM_TSNE_BARNES_HUT &&
              am_tsne_method_for(AM_TSNE_AUTO, AM_TSNE_AUTO_FFT_MIN) == AM_TSNE_FFT &&
              am_tsne_method_for(AM_TSNE_EXACT, 1000000) == AM_TSNE_EXACT,
          "auto: exact below %d points, Barnes-Hut below %d, FFT from there", AM_TSNE_AUTO_EXACT_MAX,
          AM_TSNE_AUTO_FFT_MIN);
    printf("test_tsne_fft: %d failures\n", failures);
    return failures ? 1 : 0;
}
