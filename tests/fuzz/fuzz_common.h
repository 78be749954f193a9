/* Shared by the libFuzzer harnesses: a private scratch directory per process
 * and whole-file writes. Each harness defines LLVMFuzzerTestOneInput. */
#ifndef AM_FUZZ_COMMON_H
#define AM_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char fuzz_dir[256];

__attribute__((unused)) static void fuzz_rmtree(void) {
    if (!fuzz_dir[0]) return;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir);
    if (system(cmd) != 0) fprintf(stderr, "fuzz: could not remove %s\n", fuzz_dir);
}

/* Create the scratch directory (removed at exit). */
__attribute__((unused)) static void fuzz_scratch(const char *tag) {
    const char *tmp = getenv("TMPDIR");
    snprintf(fuzz_dir, sizeof fuzz_dir, "%s/attnmix-fuzz-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", tag);
    if (!mkdtemp(fuzz_dir)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    atexit(fuzz_rmtree);
}

/* path = scratch/name */
__attribute__((unused)) static void fuzz_path(char *out, size_t n, const char *name) {
    snprintf(out, n, "%s/%s", fuzz_dir, name);
}

/* Write bytes to scratch/name; aborts on I/O errors (not a finding). */
__attribute__((unused)) static void fuzz_write(const char *name, const void *data, size_t size) {
    char p[512];
    fuzz_path(p, sizeof p, name);
    FILE *f = fopen(p, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f)) {
        perror(p);
        abort();
    }
}

__attribute__((unused)) static void fuzz_unlink(const char *name) {
    char p[512];
    fuzz_path(p, sizeof p, name);
    unlink(p);
}

/* Touch every byte of a buffer the library handed out, so a bad pointer or
 * length shows up as an ASan report or a fault here. */
__attribute__((unused)) static unsigned fuzz_touch(const void *p, size_t n) {
    const volatile unsigned char *b = p;
    unsigned s = 0;
    for (size_t i = 0; i < n; i++) s += b[i];
    return s;
}

#endif
