/* Shared helpers of the C unit tests: a counting CHECK and whole-file reads.
 *
 * A test file includes this once, calls CHECK(cond, fmt, ...) as often as it
 * likes (each failure is printed with file:line and counted in `failures`),
 * and returns failures != 0 from main. */
#ifndef ATTNMIX_TEST_UTIL_H
#define ATTNMIX_TEST_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int failures __attribute__((unused));

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (!(cond)) {                                                      \
            failures++;                                                     \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                            \
        }                                                                   \
    } while (0)

/* Like CHECK, but a failure ends the test at once (exit status 1): for
 * steps the rest of the test depends on. */
#define REQUIRE(cond, ...)                                                  \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                            \
            exit(1);                                                        \
        }                                                                   \
    } while (0)

/* The whole file at path, NUL-terminated, its length in *n; NULL if it cannot
 * be read. The caller frees. */
static inline char *test_read_file(const char *path, size_t *n) {
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *b = NULL;
    long len = -1;
    if (fseek(f, 0, SEEK_END) == 0) len = ftell(f);
    if (len >= 0 && fseek(f, 0, SEEK_SET) == 0) b = malloc((size_t)len + 1);
    if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) {
        b[len] = '\0';
        *n = (size_t)len;
    }
    return b;
}

/* Seeded test inputs: uniform in (0, 1) from a 64-bit LCG with state *s,
 * and standard normal by Box-Muller. */
static inline double test_urand(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return ((*s >> 11) + 0.5) * 0x1.0p-53;
}

static inline double test_nrand(uint64_t *s) { return sqrt(-2 * log(test_urand(s))) * cos(2 * M_PI * test_urand(s)); }

#endif
