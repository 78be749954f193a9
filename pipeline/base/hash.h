/* 64-bit FNV-1a, for fingerprints of configs and files (not for security). */
#ifndef AM_HASH_H
#define AM_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define AM_FNV_INIT 0xcbf29ce484222325ull

static inline uint64_t am_fnv1a(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* hex must hold 17 bytes. */
static inline void am_hash_hex(uint64_t h, char *hex) { snprintf(hex, 17, "%016llx", (unsigned long long)h); }

#endif
