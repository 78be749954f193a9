/* The observations' resampling (pipeline/analysis/resample.h): closed-form
 * checks here; with --dump FILE it also writes its data, its draws and its
 * results as JSON lines, which tests/study/resample_ref.py recomputes with
 * numpy and scipy on the same draws (test study_resample_ref). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/resample.h"
#include "test_util.h"

static void put_d(FILE *f, const char *k, const double *v, int n) {
    fprintf(f, "\"%s\": [", k);
    for (int i = 0; i < n; i++) fprintf(f, "%s%.17g", i ? ", " : "", v[i]);
    fprintf(f, "]");
}
static void put_i(FILE *f, const char *k, const int *v, int n) {
    if (*k) fprintf(f, "\"%s\": ", k);
    fprintf(f, "[");
    for (int i = 0; i < n; i++) fprintf(f, "%s%d", i ? ", " : "", v[i]);
    fprintf(f, "]");
}

/* Clustered data: C clusters of uneven sizes with a cluster effect. */
static int make_data(double *x, int *start, int C, uint64_t seed) {
    am_rng r;
    am_rng_seed(&r, seed, 99);
    int n = 0;
    start[0] = 0;
    for (int c = 0; c < C; c++) {
        int nc = 2 + am_rng_below(&r, 5);
        double eff = (am_rng_below(&r, 1000) - 400) / 1000.0;
        for (int j = 0; j < nc; j++) x[n++] = eff + (am_rng_below(&r, 2001) - 1000) / 2000.0;
        start[c + 1] = n;
    }
    return n;
}

static void closed_form(void) {
    const double v[4] = {1, 2, 3, 4};
    CHECK(fabs(am_quantile_sorted(v, 4, 0.25) - 1.75) < 1e-15, "quantile 0.25 of 1..4: %g",
          am_quantile_sorted(v, 4, 0.25));
    CHECK(am_quantile_sorted(v, 4, 1.0) == 4 && am_quantile_sorted(v, 4, 0.0) == 1, "quantile ends");
    CHECK(isnan(am_quantile_sorted(v, 0, 0.5)), "quantile of nothing");
    double w[16];
    int iw[4];
    const double a[4] = {1, 2, 3, 4}, b[4] = {10, 20, 30, 45}, c[4] = {4, 3, 2, 1}, t[4] = {1, 1, 2, 3};
    CHECK(fabs(am_spearman(a, b, 4, w, iw) - 1) < 1e-15, "monotone spearman");
    CHECK(fabs(am_spearman(a, c, 4, w, iw) + 1) < 1e-15, "reversed spearman");
    /* ranks of t: 1.5 1.5 3 4; of a: 1 2 3 4 -> r = 0.9486832980505138 */
    CHECK(fabs(am_spearman(a, t, 4, w, iw) - 0.9486832980505138) < 1e-14, "tied spearman %.17g",
          am_spearman(a, t, 4, w, iw));
    const double nanv[4] = {1, NAN, 3, 4};
    CHECK(fabs(am_spearman(a, nanv, 4, w, iw) - 1) < 1e-15, "non-finite pairs left out");
    /* sign flip, clusters {1, 2} and {-0.5}: sums 3 and -0.5, n = 3; |mean| under the 4 sign
       vectors: 2.5/3, 3.5/3, 3.5/3, 2.5/3 >= 2.5/3 -> p = 1; data {1, 2, 3} as one value each: only
       the all-same-sign vectors reach 6/3 -> p = 2/8 */
    const double x1[3] = {1, 2, -0.5}, x2[3] = {1, 2, 3};
    const int s1[3] = {0, 2, 3}, s2[4] = {0, 1, 2, 3};
    int ex;
    CHECK(am_signflip_p(x1, s1, 2, 1000, 1, &ex) == 1.0 && ex, "clustered sign flip");
    CHECK(am_signflip_p(x2, s2, 3, 1000, 1, &ex) == 0.25 && ex, "sign flip of 1, 2, 3");
    /* draws are functions of (seed, draw) only */
    int i1[64], i2[64], st[9] = {0, 3, 5, 9, 10, 14, 15, 17, 20};
    int m1 = am_boot_draw(st, 8, 5, 17, i1), m2 = am_boot_draw(st, 8, 5, 17, i2);
    CHECK(m1 == m2 && !memcmp(i1, i2, (size_t)m1 * sizeof *i1), "bootstrap draw not reproducible");
    int p[10];
    am_perm_draw(10, 3, 4, p);
    int seen = 0;
    for (int i = 0; i < 10; i++) seen |= 1 << p[i];
    CHECK(seen == 1023, "not a permutation");
}

static void dump(const char *path) {
    FILE *f = fopen(path, "w");
    REQUIRE(f, "cannot write %s", path);
    enum { C = 6, B = 400, DRAWS = 500 };
    double x[64], lo, hi, boot[B];
    int start[C + 1], idx[64 * C];
    int n = make_data(x, start, C, 11);
    /* 1. two-stage cluster bootstrap: the draws, the draw means, the interval */
    REQUIRE(am_boot_mean_ci(x, start, C, B, 0.95, 7, &lo, &hi, boot) == 0, "bootstrap");
    fprintf(f, "{\"kind\": \"boot\", ");
    put_d(f, "x", x, n);
    fprintf(f, ", ");
    put_i(f, "start", start, C + 1);
    fprintf(f, ", \"level\": 0.95, \"lo\": %.17g, \"hi\": %.17g, ", lo, hi);
    put_d(f, "means", boot, B);
    fprintf(f, ", \"draws\": [");
    for (int b = 0; b < B; b++) {
        int m = am_boot_draw(start, C, 7, b, idx);
        fprintf(f, "%s[", b ? ", " : "");
        for (int j = 0; j < m; j++) fprintf(f, "%s%d", j ? ", " : "", idx[j]);
        fprintf(f, "]");
    }
    fprintf(f, "]}\n");
    /* 2. exact sign flip, clustered and one value per cluster */
    int ex, single[65];
    for (int i = 0; i <= n; i++) single[i] = i;
    double p_cl = am_signflip_p(x, start, C, 1 << C, 3, &ex);
    REQUIRE(ex, "2^6 vectors should be enumerated");
    double y[12];
    for (int i = 0; i < 12; i++) y[i] = x[i] + 0.15;
    double p_one = am_signflip_p(y, single, 12, 1 << 12, 3, &ex);
    REQUIRE(ex, "2^12 vectors should be enumerated");
    fprintf(f, "{\"kind\": \"signflip_exact\", ");
    put_d(f, "x", x, n);
    fprintf(f, ", ");
    put_i(f, "start", start, C + 1);
    fprintf(f, ", \"p\": %.17g, ", p_cl);
    put_d(f, "y", y, 12);
    fprintf(f, ", \"p_y\": %.17g}\n", p_one);
    /* 3. Monte Carlo sign flip with its sign vectors */
    double p_mc = am_signflip_p(y, single, 12, DRAWS, 9, &ex);
    REQUIRE(!ex, "500 < 2^12: Monte Carlo expected");
    fprintf(f, "{\"kind\": \"signflip_mc\", ");
    put_d(f, "y", y, 12);
    fprintf(f, ", \"p\": %.17g, \"signs\": [", p_mc);
    for (int b = 0; b < DRAWS; b++) {
        int s[12];
        am_signflip_signs(12, 9, b, s);
        fprintf(f, "%s", b ? ", " : "");
        put_i(f, "", s, 12);
    }
    fprintf(f, "]}\n");
    /* 4. Spearman with ties, and permutations */
    enum { M = 40 };
    double a[M], b2[M], w[4 * M];
    int iw[M], perm[M];
    am_rng r;
    am_rng_seed(&r, 5, 1);
    for (int i = 0; i < M; i++) a[i] = am_rng_below(&r, 12), b2[i] = a[i] * 0.5 + am_rng_below(&r, 9);
    fprintf(f, "{\"kind\": \"spearman\", ");
    put_d(f, "a", a, M);
    fprintf(f, ", ");
    put_d(f, "b", b2, M);
    fprintf(f, ", \"rho\": %.17g, \"perms\": [", am_spearman(a, b2, M, w, iw));
    double rp[20];
    for (int k = 0; k < 20; k++) {
        am_perm_draw(M, 8, k, perm);
        double bp[M];
        for (int i = 0; i < M; i++) bp[i] = b2[perm[i]];
        rp[k] = am_spearman(a, bp, M, w, iw);
        fprintf(f, "%s", k ? ", " : "");
        put_i(f, "", perm, M);
    }
    fprintf(f, "], ");
    put_d(f, "rho_perm", rp, 20);
    fprintf(f, "}\n");
    fclose(f);
}

int main(int argc, char **argv) {
    closed_form();
    if (argc == 3 && !strcmp(argv[1], "--dump")) dump(argv[2]);
    if (failures) {
        fprintf(stderr, "test_resample: %d check(s) failed\n", failures);
        return 1;
    }
    printf("test_resample: all checks passed\n");
    return 0;
}
