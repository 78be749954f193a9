/* Run-time selection of the kernel table: the best level the CPU supports,
 * optionally capped by the environment variable AM_KERNELS
 * (scalar|avx2|avx512 on x86-64, scalar|neon on aarch64). Only the tables of
 * the build's architecture exist: x86 code is compiled on x86-64 only, NEON
 * code on aarch64 only. */
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

static const char *const level_names[AM_K_NLEVELS] = {"scalar", "avx2", "avx512", "neon"};

static int cpu_has(am_klevel level) {
    switch (level) {
    case AM_K_SCALAR: return 1;
#if defined(__x86_64__)
    case AM_K_AVX2: __builtin_cpu_init(); return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case AM_K_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
#if defined(__aarch64__)
    case AM_K_NEON: return 1; /* Advanced SIMD (with FCVTL for f16) is part of every AArch64 CPU */
#endif
    default: return 0;
    }
}

const am_kernels *am_kernels_get(am_klevel level) {
    if (!cpu_has(level)) return NULL;
    switch (level) {
    case AM_K_SCALAR: return &am_kernels_scalar;
#if defined(__x86_64__)
    case AM_K_AVX2: return &am_kernels_avx2;
    case AM_K_AVX512: return &am_kernels_avx512;
#endif
#if defined(__aarch64__)
    case AM_K_NEON: return &am_kernels_neon;
#endif
    default: return NULL;
    }
}

int am_kernels_level_named(const char *name) {
    for (int l = 0; name && l < AM_K_NLEVELS; l++)
        if (!strcmp(name, level_names[l])) return l;
    return -1;
}

const char *am_kernels_level_name(am_klevel level) {
    return level >= 0 && level < AM_K_NLEVELS ? level_names[level] : NULL;
}

/* Levels from the fastest down, per architecture. */
static const am_klevel preference[] = {AM_K_AVX512, AM_K_AVX2, AM_K_NEON, AM_K_SCALAR};

const am_kernels *am_kernels_best(void) {
    int cap = am_kernels_level_named(getenv("AM_KERNELS"));
    int skip = cap >= 0;
    for (size_t i = 0; i < sizeof preference / sizeof *preference; i++) {
        am_klevel l = preference[i];
        if (skip && l != (am_klevel)cap) continue; /* above the cap */
        skip = 0;
        const am_kernels *k = am_kernels_get(l);
        if (k) return k;
    }
    return &am_kernels_scalar;
}
