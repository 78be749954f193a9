/* Resampling for the observations (resample.h). */
#include "analysis/resample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void am_rng_seed(am_rng *r, uint64_t seed, uint64_t stream) {
    r->s = mix64(seed + 0x9e3779b97f4a7c15ull) ^ mix64(stream * 0xd1b54a32d192ed03ull + 0x632be59bd9b4e019ull);
}

uint64_t am_rng_u64(am_rng *r) { return mix64(r->s += 0x9e3779b97f4a7c15ull); }

int am_rng_below(am_rng *r, int n) { /* Lemire's multiply-shift with rejection: unbiased, rarely divides */
    uint64_t un = (uint64_t)n;
    unsigned __int128 m = (unsigned __int128)am_rng_u64(r) * un;
    if ((uint64_t)m < un) {
        uint64_t t = (0 - un) % un;
        while ((uint64_t)m < t) m = (unsigned __int128)am_rng_u64(r) * un;
    }
    return (int)(m >> 64);
}

double am_quantile_sorted(const double *x, int n, double q) {
    if (n <= 0) return NAN;
    double h = (n - 1) * q;
    int lo = (int)floor(h);
    if (lo >= n - 1) return x[n - 1];
    if (lo < 0) return x[0];
    return x[lo] + (h - lo) * (x[lo + 1] - x[lo]);
}

int am_boot_draw(const int *start, int C, uint64_t seed, int b, int *idx) {
    am_rng r;
    am_rng_seed(&r, seed, (uint64_t)b);
    int m = 0;
    for (int c = 0; c < C; c++) {
        int k = am_rng_below(&r, C), nk = start[k + 1] - start[k];
        for (int j = 0; j < nk; j++) idx[m++] = start[k] + am_rng_below(&r, nk);
    }
    return m;
}

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int am_boot_mean_ci(const double *x, const int *start, int C, int B, double level, uint64_t seed, double *lo,
                    double *hi, double *boot) {
    int big = 0;
    for (int c = 0; c < C; c++)
        if (start[c + 1] - start[c] > big) big = start[c + 1] - start[c];
    double *means = malloc((size_t)(B > 0 ? B : 1) * sizeof *means);
    int fail = !means;
#pragma omp parallel if (B * (double)start[C] > 1e6)
    {
        int *idx = malloc((size_t)(C * big > 0 ? C * big : 1) * sizeof *idx);
        if (!idx) {
#pragma omp atomic write
            fail = 1;
        }
#pragma omp for schedule(static)
        for (int b = 0; b < B; b++) {
            if (!idx || !means) continue;
            int m = am_boot_draw(start, C, seed, b, idx);
            double s = 0;
            for (int j = 0; j < m; j++) s += x[idx[j]];
            means[b] = m ? s / m : NAN;
        }
        free(idx);
    }
    if (fail) {
        free(means);
        return -1;
    }
    if (boot) memcpy(boot, means, (size_t)B * sizeof *boot);
    qsort(means, (size_t)B, sizeof *means, cmp_dbl);
    *lo = am_quantile_sorted(means, B, (1 - level) / 2);
    *hi = am_quantile_sorted(means, B, (1 + level) / 2);
    free(means);
    return 0;
}

void am_signflip_signs(int C, uint64_t seed, int b, int *sgn) {
    am_rng r;
    am_rng_seed(&r, seed, (uint64_t)b);
    uint64_t bits = 0;
    for (int c = 0; c < C; c++) {
        if (c % 64 == 0) bits = am_rng_u64(&r);
        sgn[c] = (bits >> (c % 64)) & 1 ? -1 : 1;
    }
}

double am_signflip_p(const double *x, const int *start, int C, int draws, uint64_t seed, int *exact) {
    int n = start[C];
    double *sum = malloc((size_t)(C > 0 ? C : 1) * sizeof *sum), scale = 0, obs = 0;
    int *sgn = malloc((size_t)(C > 0 ? C : 1) * sizeof *sgn);
    if (!sum || !sgn || n == 0) {
        free(sum), free(sgn);
        *exact = 0;
        return NAN;
    }
    for (int c = 0; c < C; c++) {
        sum[c] = 0;
        for (int j = start[c]; j < start[c + 1]; j++) sum[c] += x[j];
        obs += sum[c];
        scale += fabs(sum[c]);
    }
    obs = fabs(obs) / n;
    double tol = 1e-12 * (scale / n > 0 ? scale / n : 1);
    long long count = 0, total;
    *exact = C < 31 && (1ll << C) <= (long long)draws;
    if (*exact) {
        total = 1ll << C;
        for (long long v = 0; v < total; v++) {
            double s = 0;
            for (int c = 0; c < C; c++) s += (v >> c) & 1 ? -sum[c] : sum[c];
            count += fabs(s) / n >= obs - tol;
        }
    } else {
        total = (long long)draws + 1;
        count = 1;
        for (int b = 0; b < draws; b++) {
            am_signflip_signs(C, seed, b, sgn);
            double s = 0;
            for (int c = 0; c < C; c++) s += sgn[c] * sum[c];
            count += fabs(s) / n >= obs - tol;
        }
    }
    free(sum), free(sgn);
    return (double)count / (double)total;
}

void am_perm_draw(int n, uint64_t seed, int r, int *perm) {
    am_rng g;
    am_rng_seed(&g, seed, (uint64_t)r);
    for (int i = 0; i < n; i++) perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = am_rng_below(&g, i + 1), t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }
}

static _Thread_local const double *rank_v; /* the values ranks() sorts by */
static int cmp_idx(const void *a, const void *b) {
    double x = rank_v[*(const int *)a], y = rank_v[*(const int *)b];
    return (x > y) - (x < y);
}

/* Average ranks (1-based) of v [m] into rk [m]; ord [m] scratch. */
static void ranks(const double *v, int m, double *rk, int *ord) {
    for (int i = 0; i < m; i++) ord[i] = i;
    rank_v = v;
    qsort(ord, (size_t)m, sizeof *ord, cmp_idx);
    for (int i = 0; i < m;) {
        int j = i;
        while (j + 1 < m && v[ord[j + 1]] == v[ord[i]]) j++;
        for (int k = i; k <= j; k++) rk[ord[k]] = (i + j) / 2.0 + 1;
        i = j + 1;
    }
}

double am_spearman(const double *x, const double *y, int n, double *work, int *iwork) {
    double *a = work, *b = work + n, *ra = work + 2 * n, *rb = work + 3 * n;
    int m = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i]) && isfinite(y[i])) a[m] = x[i], b[m] = y[i], m++;
    if (m < 3) return NAN;
    ranks(a, m, ra, iwork);
    ranks(b, m, rb, iwork);
    double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (int i = 0; i < m; i++) ma += ra[i], mb += rb[i];
    ma /= m, mb /= m;
    for (int i = 0; i < m; i++) {
        sab += (ra[i] - ma) * (rb[i] - mb);
        saa += (ra[i] - ma) * (ra[i] - ma);
        sbb += (rb[i] - mb) * (rb[i] - mb);
    }
    if (!(saa > 0 && sbb > 0)) return NAN;
    return sab / sqrt(saa * sbb);
}
