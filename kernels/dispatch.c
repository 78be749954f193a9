/* Run-time selection of the kernel table: the best level the CPU supports,
 * optionally capped by the environment variable AM_KERNELS (scalar|avx2|avx512). */
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

static int cpu_has(am_klevel level) {
    __builtin_cpu_init();
    switch (level) {
    case AM_K_SCALAR: return 1;
    case AM_K_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case AM_K_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    default: return 0;
    }
}

const am_kernels *am_kernels_get(am_klevel level) {
    if (!cpu_has(level)) return NULL;
    switch (level) {
    case AM_K_SCALAR: return &am_kernels_scalar;
    case AM_K_AVX2: return &am_kernels_avx2;
    case AM_K_AVX512: return &am_kernels_avx512;
    default: return NULL;
    }
}

const am_kernels *am_kernels_best(void) {
    int cap = AM_K_NLEVELS - 1;
    const char *env = getenv("AM_KERNELS");
    if (env && *env) {
        if (!strcmp(env, "scalar")) cap = AM_K_SCALAR;
        else if (!strcmp(env, "avx2")) cap = AM_K_AVX2;
    }
    for (int l = cap; l > AM_K_SCALAR; l--)
        if (cpu_has((am_klevel)l)) return am_kernels_get((am_klevel)l);
    return &am_kernels_scalar;
}
