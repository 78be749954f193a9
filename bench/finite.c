/* bench-finite: the non-finite scan of a checkpoint (am_first_nonfinite,
 * model/finite.h) on bf16 data against a streaming read of the same bytes
 * (stream.h), measured in the same run: the fraction of the memory-read
 * roofline the scan reaches. One thread, as the stages scan. */
#include <getopt.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "model/finite.h"
#include "stream.h"

int main(int argc, char **argv) {
    int mib = 1024, reps = 5;
    static const struct option opts[] = {{"mib", 1, 0, 'm'}, {"reps", 1, 0, 'r'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        switch (c) {
        case 'm': mib = atoi(optarg); break;
        case 'r': reps = atoi(optarg); break;
        case 'h': puts("usage: bench-finite [--mib M] [--reps R]"); return 0;
        default: return 2;
        }
    }
    if (mib < 1 || reps < 1) {
        fprintf(stderr, "bench-finite: need positive --mib and --reps\n");
        return 2;
    }
    omp_set_num_threads(1);
    const size_t n = ((size_t)mib << 20) / 2; /* bf16 elements */
    uint16_t *w = aligned_alloc(64, n * sizeof *w);
    if (!w) {
        fprintf(stderr, "bench-finite: out of memory for %d MiB\n", mib);
        return 1;
    }
    for (size_t i = 0; i < n; i++) w[i] = (uint16_t)(0x3c00u + ((i * 2654435761u) >> 20 & 0xffu)); /* finite */
    double best_stream = 0, best_scan = 1e30;
    for (int r = 0; r < reps; r++) {
        double b = bench_stream_read((const float *)w, n / 2);
        best_stream = b > best_stream ? b : best_stream;
        double t0 = bench_now();
        int64_t k = am_first_nonfinite(w, AM_BF16, n);
        double t = bench_now() - t0;
        if (k != -1) {
            fprintf(stderr, "bench-finite: a finite buffer reported non-finite at %lld\n", (long long)k);
            return 1;
        }
        best_scan = t < best_scan ? t : best_scan;
    }
    printf("non-finite scan of %d MiB bf16, one thread, best of %d\n", mib, reps);
    printf("  %-8s %7.2f GB/s  (baseline)\n", "stream", best_stream / 1e9);
    printf("  %-8s %7.2f GB/s  %5.1f%% of the stream\n", "scan", n * 2 / best_scan / 1e9,
           100.0 * (n * 2 / best_scan) / best_stream);
    free(w);
    return 0;
}
