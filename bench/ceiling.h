/* The float32 FMA ceiling of batched decode, measured in the same run as the
 * decode itself: every weight-matrix shape of one decode step of n units
 * (q, k, v, o, gate, up, down per layer, the lm_head once) timed with the
 * runtime's matmul kernel on the stored weights and with OpenBLAS sgemm on
 * float32 copies of the same weights, interleaved, best of reps each; and the
 * square sgemm peak as a reference. OpenBLAS must run on the kernel of the
 * CPU: bench_openblas_coretype() re-executes the program with
 * OPENBLAS_CORETYPE set (SkylakeX on AVX-512, Haswell on AVX2) unless the
 * caller set it, because OpenBLAS reads it when it is loaded and Debian's
 * build does not recognise every recent CPU (it falls back to a generic
 * kernel). */
#ifndef ATTNMIX_BENCH_CEILING_H
#define ATTNMIX_BENCH_CEILING_H

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernels.h"
#include "model/qwen3.h"
#include "stream.h"

char *openblas_get_corename(void);

static void bench_openblas_coretype(char **argv) {
    if (getenv("OPENBLAS_CORETYPE")) return;
    __builtin_cpu_init();
    setenv("OPENBLAS_CORETYPE", __builtin_cpu_supports("avx512f") ? "SkylakeX" : "Haswell", 1);
    execv("/proc/self/exe", argv);
    perror("bench: re-executing with OPENBLAS_CORETYPE set");
}

typedef struct bench_ceiling {
    int n;          /* rows (units) */
    double flop;    /* FLOPs of the weight GEMMs of one decode step */
    double t_ours;  /* seconds of those GEMMs per step, the runtime's kernel */
    double t_sgemm; /* the same shapes with OpenBLAS sgemm */
    double peak;    /* FLOP/s of a square float32 sgemm (1024^3), best of reps */
    const char *core;
} bench_ceiling;

/* Best seconds of reps interleaved runs of y = x W^T: kernel k on w (dtype
 * dt), sgemm on wf (float32 of the same values). */
static void bench_gemm_shape(const am_kernels *k, const void *w, am_dtype dt, const float *wf, const float *x, float *y,
                             int n, int in, int out, int reps, double *t_ours, double *t_sgemm) {
    *t_ours = *t_sgemm = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        k->matmul(y, x, w, dt, n, in, out);
        double t1 = bench_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in, 1.0f, x, in, wf, in, 0.0f, y, out);
        double t2 = bench_now();
        if (t1 - t0 < *t_ours) *t_ours = t1 - t0;
        if (t2 - t1 < *t_sgemm) *t_sgemm = t2 - t1;
    }
}

static int bench_ceiling_measure(const am_qwen3 *m, const am_kernels *k, int n, int reps, bench_ceiling *c) {
    const am_qwen3_layer *l0 = &m->layers[0];
    const am_tensor *t[] = {l0->q_proj,    l0->k_proj,  l0->v_proj,    l0->o_proj,
                            l0->gate_proj, l0->up_proj, l0->down_proj, m->lm_head};
    int L = m->cfg.num_hidden_layers;
    memset(c, 0, sizeof *c);
    c->n = n;
    c->core = openblas_get_corename();
    size_t maxw = 0, maxin = 0, maxout = 0;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t e = (size_t)t[i]->shape[0] * t[i]->shape[1];
        if (e > maxw) maxw = e;
        if ((size_t)t[i]->shape[1] > maxin) maxin = (size_t)t[i]->shape[1];
        if ((size_t)t[i]->shape[0] > maxout) maxout = (size_t)t[i]->shape[0];
    }
    size_t sq = 1024;
    if (sq * sq > maxw) maxw = sq * sq;
    float *wf = malloc(maxw * sizeof(float)), *x = malloc(sizeof(float) * (n * maxin > sq * sq ? n * maxin : sq * sq));
    float *y = malloc(sizeof(float) * (n * maxout > sq * sq ? n * maxout : sq * sq));
    if (!wf || !x || !y) {
        free(wf), free(x), free(y);
        return -1;
    }
    for (size_t i = 0; i < n * maxin; i++) x[i] = 0.001f * (float)((i * 7919) % 2001) - 1.0f;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int out = (int)t[i]->shape[0], in = (int)t[i]->shape[1], count = t[i] == m->lm_head ? 1 : L;
        k->convert(wf, t[i]->data, t[i]->dtype, (size_t)out * in);
        double to, ts;
        bench_gemm_shape(k, t[i]->data, t[i]->dtype, wf, x, y, n, in, out, reps, &to, &ts);
        c->flop += 2.0 * n * in * out * count;
        c->t_ours += to * count;
        c->t_sgemm += ts * count;
    }
    for (size_t i = 0; i < sq * sq; i++) wf[i] = x[i % (n * maxin)];
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)sq, (int)sq, (int)sq, 1.0f, wf, (int)sq, wf, (int)sq,
                    0.0f, y, (int)sq);
        double g = 2.0 * sq * sq * sq / (bench_now() - t0);
        if (g > c->peak) c->peak = g;
    }
    free(wf), free(x), free(y);
    return 0;
}

#endif
