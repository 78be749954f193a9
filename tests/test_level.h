/* Kernel level of a runtime test: the per-level registrations of
 * tests/runtime.cmake set AM_KERNELS=<level>; a level this build or this CPU
 * does not offer is a skip (exit 77, ctest's SKIP_RETURN_CODE), never a silent
 * run at another level. */
#ifndef ATTNMIX_TEST_LEVEL_H
#define ATTNMIX_TEST_LEVEL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

#define TEST_SKIP 77

/* 0 to run, TEST_SKIP when the requested level is not offered, 2 for a name
 * that is no level. */
static int test_level_check(const char *test) {
    const char *want = getenv("AM_KERNELS");
    if (!want || !*want) return 0;
    if (am_kernels_level_named(want) < 0) {
        fprintf(stderr, "%s: AM_KERNELS=%s is no kernel level (scalar, avx2, avx512, neon)\n", test, want);
        return 2;
    }
    const char *got = am_kernels_best()->name;
    if (strcmp(got, want)) {
        printf("SKIP: %s: kernel level %s is not offered by this build and CPU (best below it: %s)\n", test, want, got);
        return TEST_SKIP;
    }
    printf("%s: kernel level %s\n", test, got);
    return 0;
}

#endif
