/* The memory-read roofline of the benchmarks: bytes per second of the
 * fastest of three streaming reads of a buffer, each split over the current
 * OpenMP threads: AVX2 loads into 4 accumulators, AVX-512 loads into 8, and
 * AVX-512 loads with software prefetch 2 KiB ahead (x86-64); NEON loads into
 * 8 accumulators (aarch64). A kernel that reads the same bytes is compared
 * with the best of them, so its fraction is never flattered by a weak
 * baseline. */
#ifndef ATTNMIX_BENCH_STREAM_H
#define ATTNMIX_BENCH_STREAM_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

static double bench_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* Keeps the sum alive so the loads are not optimised away. */
static void bench_sink(float total) {
    if (total == 12345.0f) fputc(' ', stderr);
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2"))) static double bench_read_avx2(const float *buf, size_t n) {
    double t0 = bench_now();
    float total = 0;
#pragma omp parallel reduction(+ : total)
    {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
#pragma omp for schedule(static)
        for (size_t i = 0; i < n; i += 32) {
            a0 = _mm256_add_ps(a0, _mm256_loadu_ps(buf + i));
            a1 = _mm256_add_ps(a1, _mm256_loadu_ps(buf + i + 8));
            a2 = _mm256_add_ps(a2, _mm256_loadu_ps(buf + i + 16));
            a3 = _mm256_add_ps(a3, _mm256_loadu_ps(buf + i + 24));
        }
        float t[8];
        _mm256_storeu_ps(t, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
        for (int k = 0; k < 8; k++) total += t[k];
    }
    double dt = bench_now() - t0;
    bench_sink(total);
    return (double)n * sizeof(float) / dt;
}

__attribute__((target("avx512f"))) static double bench_read_avx512(const float *buf, size_t n, int prefetch) {
    double t0 = bench_now();
    float total = 0;
#pragma omp parallel reduction(+ : total)
    {
        __m512 a[8];
        for (int k = 0; k < 8; k++) a[k] = _mm512_setzero_ps();
#pragma omp for schedule(static)
        for (size_t i = 0; i < n; i += 128) {
            if (prefetch)
                for (int l = 0; l < 8; l++) _mm_prefetch((const char *)(buf + i) + 2048 + 64 * l, _MM_HINT_T0);
#pragma GCC unroll 8
            for (int k = 0; k < 8; k++) a[k] = _mm512_add_ps(a[k], _mm512_loadu_ps(buf + i + 16 * k));
        }
        for (int k = 1; k < 8; k++) a[0] = _mm512_add_ps(a[0], a[k]);
        total += _mm512_reduce_add_ps(a[0]);
    }
    double dt = bench_now() - t0;
    bench_sink(total);
    return (double)n * sizeof(float) / dt;
}

/* buf: n floats, n a multiple of 128. */
static double bench_stream_read(const float *buf, size_t n) {
    double best = bench_read_avx2(buf, n);
    if (__builtin_cpu_supports("avx512f")) {
        for (int p = 0; p < 2; p++) {
            double b = bench_read_avx512(buf, n, p);
            best = b > best ? b : best;
        }
    }
    return best;
}

#elif defined(__aarch64__)
#include <arm_neon.h>

/* buf: n floats, n a multiple of 128. */
static double bench_stream_read(const float *buf, size_t n) {
    double t0 = bench_now();
    float total = 0;
#pragma omp parallel reduction(+ : total)
    {
        float32x4_t a[8];
        for (int k = 0; k < 8; k++) a[k] = vdupq_n_f32(0);
#pragma omp for schedule(static)
        for (size_t i = 0; i < n; i += 32)
            for (int k = 0; k < 8; k++) a[k] = vaddq_f32(a[k], vld1q_f32(buf + i + 4 * k));
        for (int k = 1; k < 8; k++) a[0] = vaddq_f32(a[0], a[k]);
        total += vaddvq_f32(a[0]);
    }
    double dt = bench_now() - t0;
    bench_sink(total);
    return (double)n * sizeof(float) / dt;
}
#endif

#endif
