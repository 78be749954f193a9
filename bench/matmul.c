/* bench-matmul: the decode-shaped matmul (one input row, bf16 weights) of
 * every kernel level against a streaming read of the same bytes, measured
 * in the same run, so the fraction of the memory roofline reached by the
 * weight stream of single-sequence decode is visible apart from the rest of
 * the forward pass.
 *
 * usage: bench-matmul [--in N] [--out N] [--mib M] [--threads T] [--reps R]
 * Weights: M MiB of bf16 matrices [out][in] (default 512 MiB, well above the
 * caches), read once per repetition; the best repetition is reported. The
 * baseline is the fastest of the streaming reads of stream.h. */
#include <getopt.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernels.h"
#include "stream.h"

int main(int argc, char **argv) {
    int in = 1024, out = 3072, mib = 512, threads = 1, reps = 5;
    static const struct option opts[] = {
        {"in", 1, 0, 'i'},   {"out", 1, 0, 'o'},  {"mib", 1, 0, 'm'}, {"threads", 1, 0, 't'},
        {"reps", 1, 0, 'r'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        switch (c) {
        case 'i': in = atoi(optarg); break;
        case 'o': out = atoi(optarg); break;
        case 'm': mib = atoi(optarg); break;
        case 't': threads = atoi(optarg); break;
        case 'r': reps = atoi(optarg); break;
        case 'h': puts("usage: bench-matmul [--in N] [--out N] [--mib M] [--threads T] [--reps R]"); return 0;
        default: return 2;
        }
    }
    if (in < 256 || in % 256 || out < 1 || mib < 1 || threads < 1 || reps < 1) {
        fprintf(stderr, "bench-matmul: need --in a multiple of 256, positive --out, --mib, --threads, --reps\n");
        return 2;
    }
    omp_set_num_threads(threads);
    size_t per = (size_t)in * out, nmat = ((size_t)mib << 20) / (per * 2);
    if (nmat < 1) nmat = 1;
    size_t n = per * nmat;
    uint16_t *w = aligned_alloc(64, n * sizeof(uint16_t));
    float *x = malloc(sizeof(float) * in), *y = malloc(sizeof(float) * out);
    if (!w || !x || !y) {
        fprintf(stderr, "bench-matmul: out of memory for %zu MiB of weights\n", n * 2 >> 20);
        return 1;
    }
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) w[i] = am_f32_to_bf16(0.01f * (float)((i * 2654435761u) % 200) - 1.0f);
    for (int i = 0; i < in; i++) x[i] = 0.001f * (float)(i % 97);

    printf("decode matmul: y[1][%d] = x[1][%d] W^T, %zu bf16 matrices (%.0f MiB), %d thread(s), best of %d\n", out, in,
           nmat, n * 2.0 / (1 << 20), threads, reps);
    double best_stream = 0;
    for (int r = 0; r < reps; r++) {
        double b = bench_stream_read((const float *)w, n / 2);
        best_stream = b > best_stream ? b : best_stream;
    }
    printf("  %-8s %7.2f GB/s  (baseline)\n", "stream", best_stream / 1e9);
    for (int lv = 0; lv < AM_K_NLEVELS; lv++) {
        const am_kernels *k = am_kernels_get((am_klevel)lv);
        if (!k) continue;
        double best = 0;
        for (int r = 0; r < reps; r++) {
            double b = bench_stream_read((const float *)w, n / 2); /* interleaved, so both see the same machine state */
            best_stream = b > best_stream ? b : best_stream;
            double t0 = bench_now();
            for (size_t m = 0; m < nmat; m++) k->matmul(y, x, w + m * per, AM_BF16, 1, in, out);
            double g = n * 2.0 / (bench_now() - t0);
            best = g > best ? g : best;
        }
        printf("  %-8s %7.2f GB/s  %5.1f%% of stream\n", k->name, best / 1e9, 100.0 * best / best_stream);
    }
    free(w);
    free(x);
    free(y);
    return 0;
}
