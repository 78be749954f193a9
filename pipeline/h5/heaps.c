/* The global-heap check of input files (see heaps.h). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "h5/heaps.h"

static uint64_t le64(const unsigned char *b) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | b[i];
    return v;
}

/* 1: the collection of `size` bytes at file offset `at` decodes; 0: it would
 * not (*bad_at = the object's offset); -1: read error. */
static int gcol_ok(int fd, uint64_t at, uint64_t size, uint64_t *bad_at) {
    uint64_t off = 16;   /* "GCOL", version, 3 reserved, u64 collection size */
    unsigned char h[16]; /* object header: u16 index, u16 refcount, 4 reserved, u64 size */
    while (off < size) {
        if (size - off < 16) return 1; /* tail too small for an object header: free space */
        if (pread(fd, h, 16, (off_t)(at + off)) != 16) return -1;
        const unsigned idx = (unsigned)h[0] | (unsigned)h[1] << 8;
        const uint64_t osz = le64(h + 8);
        uint64_t need = osz;
        if (idx > 0) need = osz > UINT64_MAX - 32 ? UINT64_MAX : 16 + ((osz + 7) & ~(uint64_t)7);
        if (need == 0 || need > size - off) {
            *bad_at = at + off;
            return 0;
        }
        off += need;
    }
    return 1;
}

int am_h5_check_heaps(const char *path, am_err *e) {
    enum { CHUNK = 1 << 20, KEEP = 15 };
    int rc = -1;
    unsigned char *buf = NULL; /* [CHUNK]: file bytes [pos, pos + got) */
    const int fd = open(path, O_RDONLY);
    if (fd < 0) return am_fail_errno(e, "%s", path);
    struct stat sb;
    uint64_t n = 0;
    if (fstat(fd, &sb) != 0) {
        am_fail_errno(e, "%s", path);
        goto out;
    }
    n = (uint64_t)sb.st_size;
    buf = malloc(CHUNK);
    if (!buf) {
        am_fail(e, "%s: out of memory", path);
        goto out;
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    /* Chunks overlap by KEEP bytes so a 16-byte collection header is always
     * whole in one of them. */
    for (uint64_t pos = 0; pos + 16 <= n; pos += CHUNK - KEEP) {
        const ssize_t got = pread(fd, buf, CHUNK, (off_t)pos);
        if (got < 16) {
            am_fail_errno(e, "%s: read failed", path);
            goto out;
        }
        const unsigned char *end = buf + got - 15; /* candidates with 16 bytes after them */
        for (const unsigned char *p = buf; p < end && (p = memchr(p, 'G', (size_t)(end - p))) != NULL; p++) {
            if (p[1] != 'C' || p[2] != 'O' || p[3] != 'L' || p[4] != 1) continue; /* only version 1 exists */
            const uint64_t at = pos + (uint64_t)(p - buf), size = le64(p + 8);
            if (size < 16 || size > n - at) continue; /* the library's read of it fails cleanly */
            uint64_t bad = 0;
            const int ok = gcol_ok(fd, at, size, &bad);
            if (ok < 0) {
                am_fail_errno(e, "%s: read failed", path);
                goto out;
            }
            if (!ok) {
                am_fail(e,
                        "%s: corrupt global heap (variable-length strings) at byte %llu: the object at byte "
                        "%llu has an impossible size (damaged file? re-run the stage that wrote it)",
                        path, (unsigned long long)at, (unsigned long long)bad);
                goto out;
            }
        }
        if ((uint64_t)got < CHUNK) break;
    }
    rc = 0;
out:
    free(buf);
    close(fd);
    return rc;
}
