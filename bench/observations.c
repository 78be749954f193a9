/* bench-observations: the time of the observations (am_obs_compute) on a
 * cube of a given shape, by default 14B-shaped: 4 pairs x 5 alphas, 40
 * layers x 40 heads (1600 heads x 20 units), 110 x 110 maps of which the
 * first 10 rows are the prompt. Blocks come from a generator (random causal
 * maps mixed per head and alpha), not from a file, so the time is the
 * computation's. Baselines in the same process: one pass of the per-map
 * statistics (am_an_map_stats, what analyze does per map anyway) over the
 * same blocks, and the generator alone.
 *
 *   bench-observations [--pairs 4] [--alphas 5] [--layers 40] [--heads 40] [--size 110]
 *                      [--prompt 10] [--shuffles 99] [--boot 2000] [--draws 9999] [--threads N]
 */
#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "analysis/observations.h"
#include "analysis/resample.h"

typedef struct gen {
    int A, H, S;
    float *pool; /* [NPOOL][S][S] random causal maps */
    double *alpha;
} gen;
enum { NPOOL = 8 };

/* Block (p, l): map (a, h) = a head-specific mix of two pool maps, weight by alpha. */
static int gen_read(void *ctx, int p, int l, float *blk, am_err *e) {
    const gen *g = ctx;
    const size_t SS = (size_t)g->S * g->S;
    (void)e;
    for (int a = 0; a < g->A; a++)
        for (int h = 0; h < g->H; h++) {
            const float *x = g->pool + (size_t)((p + l + h) % NPOOL) * SS,
                        *y = g->pool + (size_t)((h * 3 + 1) % NPOOL) * SS;
            float w = (float)(g->alpha[a] * (h % 5) / 4.0);
            float *m = blk + ((size_t)a * g->H + h) * SS;
            for (size_t i = 0; i < SS; i++) m[i] = (1 - w) * x[i] + w * y[i];
        }
    return 0;
}

int main(int argc, char **argv) {
    int P = 4, A = 5, L = 40, H = 40, S = 110, T = 10, threads = 0;
    am_obs_opts o;
    am_obs_defaults(&o);
    static const struct option opts[] = {{"pairs", 1, 0, 'p'},    {"alphas", 1, 0, 'a'}, {"layers", 1, 0, 'l'},
                                         {"heads", 1, 0, 'H'},    {"size", 1, 0, 's'},   {"prompt", 1, 0, 't'},
                                         {"shuffles", 1, 0, 'r'}, {"boot", 1, 0, 'b'},   {"draws", 1, 0, 'd'},
                                         {"threads", 1, 0, 'j'},  {"help", 0, 0, 'h'},   {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int v = optarg ? atoi(optarg) : 0;
        switch (ch) {
        case 'p': P = v; break;
        case 'a': A = v; break;
        case 'l': L = v; break;
        case 'H': H = v; break;
        case 's': S = v; break;
        case 't': T = v; break;
        case 'r': o.shuffles = v; break;
        case 'b': o.boot = v; break;
        case 'd': o.draws = v; break;
        case 'j': threads = v; break;
        case 'h':
            printf("usage: bench-observations [--pairs N] [--alphas N] [--layers N] [--heads N] [--size S] "
                   "[--prompt T] [--shuffles R] [--boot B] [--draws D] [--threads N]\n");
            return 0;
        default: return 2;
        }
    }
    if (P < 1 || A < 3 || L < 1 || H < 1 || S < 4 || T < 1 || T >= S) {
        fprintf(stderr, "bench-observations: need pairs >= 1, alphas >= 3, size >= 4, 1 <= prompt < size\n");
        return 2;
    }
    if (threads > 0) omp_set_num_threads(threads);
    const size_t SS = (size_t)S * S;
    gen g = {.A = A, .H = H, .S = S};
    g.pool = malloc(NPOOL * SS * sizeof *g.pool);
    g.alpha = malloc((size_t)A * sizeof *g.alpha);
    char **pair = malloc((size_t)P * sizeof *pair);
    int32_t *len = malloc((size_t)P * A * sizeof *len), *plen = malloc((size_t)P * sizeof *plen);
    float *blk = malloc((size_t)A * H * SS * sizeof *blk);
    if (!g.pool || !g.alpha || !pair || !len || !plen || !blk) return 1;
    for (int a = 0; a < A; a++) g.alpha[a] = (double)a / (A - 1);
    am_rng r;
    am_rng_seed(&r, 1, 2);
    memset(g.pool, 0, NPOOL * SS * sizeof *g.pool);
    for (int k = 0; k < NPOOL; k++)
        for (int q = 0; q < S; q++) { /* rows with a few dominant keys, as real heads have */
            float *row = g.pool + k * SS + (size_t)q * S;
            double s = 0;
            for (int j = 0; j <= q; j++) s += row[j] = (float)pow((am_rng_below(&r, 1000) + 1) / 1000.0, 8);
            for (int j = 0; j <= q; j++) row[j] = (float)(row[j] / s);
        }
    for (int p = 0; p < P; p++) {
        pair[p] = malloc(16);
        snprintf(pair[p], 16, p == P - 1 ? "math" : "pair%d", p);
        plen[p] = T;
        for (int a = 0; a < A; a++) len[p * A + a] = S;
    }
    am_obs_cube c = {.P = P,
                     .A = A,
                     .L = L,
                     .H = H,
                     .S = S,
                     .pair = (const char *const *)pair,
                     .alpha = g.alpha,
                     .length = len,
                     .prompt_length = plen,
                     .read = gen_read,
                     .ctx = &g};
    am_err e = {0};

    /* baseline 1: the generator alone */
    double t0 = omp_get_wtime();
    for (int l = 0; l < L; l++)
        for (int p = 0; p < P; p++) gen_read(&g, p, l, blk, &e);
    double t_gen = omp_get_wtime() - t0;
    /* baseline 2: one pass of the per-map statistics over the same blocks */
    t0 = omp_get_wtime();
    for (int l = 0; l < L; l++)
        for (int p = 0; p < P; p++) {
            gen_read(&g, p, l, blk, &e);
#pragma omp parallel
            {
                am_an_work w;
                am_an_stats st;
                am_an_work_init(&w, S);
#pragma omp for schedule(dynamic)
                for (int m = 0; m < A * H; m++) am_an_map_stats(blk + (size_t)m * SS, S, S, 4, &w, &st, NULL);
                am_an_work_free(&w);
            }
        }
    double t_stats = omp_get_wtime() - t0;
    /* the observations */
    am_obs_result res;
    t0 = omp_get_wtime();
    if (am_obs_compute(&c, &o, &res, &e)) {
        fprintf(stderr, "bench-observations: %s\n", e.msg);
        return 1;
    }
    double t_obs = omp_get_wtime() - t0;
    printf("cube: %d pairs x %d alphas x %d layers x %d heads, S = %d (prompt %d), %d threads\n", P, A, L, H, S, T,
           omp_get_max_threads());
    printf("observations: %.2f s (O5 shuffles %d, bootstrap %d, test draws %d)\n", t_obs, o.shuffles, o.boot, o.draws);
    printf("baseline per-map statistics pass: %.2f s (observations / baseline = %.2f)\n", t_stats, t_obs / t_stats);
    printf("baseline block generator alone: %.2f s\n", t_gen);
    printf("verdicts (all rows): O1 %s, O2 %s, O3 %s, O4 %s, O5 %s\n", am_obs_verdict_names[res.verdict[0][0]],
           am_obs_verdict_names[res.verdict[0][1]], am_obs_verdict_names[res.verdict[0][2]],
           am_obs_verdict_names[res.verdict[0][3]], am_obs_verdict_names[res.verdict[0][4]]);
    am_obs_result_free(&res);
    for (int p = 0; p < P; p++) free(pair[p]);
    free(pair), free(len), free(plen), free(blk), free(g.pool), free(g.alpha);
    return 0;
}
