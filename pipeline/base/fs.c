#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/hash.h"

int am_mkdirs(const char *path, am_err *e) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return am_fail(e, "%s: path too long", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) return am_fail_errno(e, "cannot create directory %s", buf);
            *p = c;
            if (!c) break;
        }
    }
    return 0;
}

int am_read_stream(FILE *f, const char *name, char **buf, size_t *len, am_err *e) {
    char *b = NULL;
    size_t n = 0, cap = 0;
    *buf = NULL;
    *len = 0;
    for (;;) {
        if (cap - n < 65536) {
            cap = cap ? 2 * cap : 65536;
            char *nb = realloc(b, cap + 1);
            if (!nb) {
                free(b);
                return am_fail_code(e, AM_E_NOMEM, "%s: out of memory (%zu bytes)", name, cap + 1);
            }
            b = nb;
        }
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        free(b);
        return am_fail_code(e, AM_E_IO, "%s: read error", name);
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    return 0;
}

int am_read_file(const char *path, const char *what, char **buf, size_t *len, am_err *e) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        int code = errno == ENOENT ? AM_E_NOTFOUND : AM_E_IO;
        am_fail_errno(e, "%s: cannot open %s", path, what);
        return am_err_set_code(e, code);
    }
    int rc = am_read_stream(f, path, buf, len, e);
    fclose(f);
    return rc;
}

/* Liveness of a temporary file's writer: the writer holds flock(LOCK_EX) on
 * "<tmp>.lock" from before the temporary file exists until after it is
 * renamed or removed. The kernel drops the lock when the writer dies (a
 * zombie holds no lock), and the lock is seen by processes in other PID
 * namespaces and, where the file system supports flock, on other nodes. */
enum { MAX_HELD = 16 };
static struct held_lock {
    char tmp[4200];
    int fd;
} held[MAX_HELD];

static void lock_name(const char *tmp, char *out, size_t n) { snprintf(out, n, "%s.lock", tmp); }

/* Create and lock "<tmp>.lock"; -1 with errno when it cannot be created.
 * A lock that a cleaner removed between our open and our flock is redone. */
static int take_lock(const char *tmp) {
    char lk[4300];
    lock_name(tmp, lk, sizeof lk);
    for (int tries = 0; tries < 5; tries++) {
        int fd = open(lk, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
        if (fd < 0) return -1;
        if (flock(fd, LOCK_EX | LOCK_NB) != 0 && errno != ENOLCK && errno != EOPNOTSUPP && errno != ENOSYS) {
            close(fd); /* another process holds it (a PID reused across namespaces): try again */
            continue;
        }
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(lk, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) return fd;
        close(fd);
    }
    errno = EAGAIN;
    return -1;
}

int am_tmp_name(const char *path, char *tmp, size_t n, am_err *e) {
    if ((size_t)snprintf(tmp, n, "%s.tmp-%ld", path, (long)getpid()) >= n)
        return am_fail_code(e, AM_E_USAGE, "%s: path too long", path);
    for (int i = 0; i < MAX_HELD; i++)
        if (!held[i].tmp[0]) {
            int fd = take_lock(tmp);
            if (fd < 0) {
                am_fail_errno(e, "cannot create the lock file %s.lock", tmp);
                return am_err_set_code(e, AM_E_IO);
            }
            snprintf(held[i].tmp, sizeof held[i].tmp, "%s", tmp);
            held[i].fd = fd;
            return 0;
        }
    return am_fail(e, "%s: more than %d outputs open at once", path, MAX_HELD);
}

void am_tmp_release(const char *tmp) {
    char lk[4300];
    for (int i = 0; i < MAX_HELD; i++)
        if (held[i].tmp[0] && !strcmp(held[i].tmp, tmp)) {
            lock_name(tmp, lk, sizeof lk);
            unlink(lk);
            close(held[i].fd);
            held[i].tmp[0] = 0;
        }
}

int am_commit_file(const char *tmp, const char *path, am_err *e) {
    int fd = open(tmp, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    if (rename(tmp, path) != 0) {
        am_fail_errno(e, "cannot rename %s to %s", tmp, path);
        unlink(tmp);
        am_tmp_release(tmp);
        return am_err_set_code(e, AM_E_IO);
    }
    am_tmp_release(tmp);
    return 0;
}

/* Remove "<path>.tmp-<pid>" files (and their locks) whose writer is gone:
 * its lock can be taken, or it has none. A lock this file system cannot
 * take (no flock support) leaves the file alone. */
void am_remove_stale_tmp(const char *path) {
    char pattern[4200], lk[4300];
    snprintf(pattern, sizeof pattern, "%s.tmp-*", path);
    glob_t g;
    if (glob(pattern, 0, NULL, &g) != 0) return;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *t = g.gl_pathv[i];
        size_t len = strlen(t);
        int is_lock = len > 5 && !strcmp(t + len - 5, ".lock");
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%.*s", (int)(is_lock ? len - 5 : len), t);
        int ours = 0, fd;
        for (int h = 0; h < MAX_HELD; h++) ours |= held[h].tmp[0] && !strcmp(held[h].tmp, tmp);
        if (ours) continue;
        lock_name(tmp, lk, sizeof lk);
        if ((fd = open(lk, O_RDWR | O_CLOEXEC)) < 0) {
            if (errno == ENOENT && !is_lock) unlink(tmp); /* no writer holds it */
            continue;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) { /* the writer is gone */
            unlink(tmp);
            unlink(lk);
        }
        close(fd);
    }
    globfree(&g);
}

int am_file_out_create(am_file_out *o, const char *path, am_err *e) {
    memset(o, 0, sizeof *o);
    if (strlen(path) >= sizeof o->path) return am_fail_code(e, AM_E_USAGE, "%s: path too long", path);
    snprintf(o->path, sizeof o->path, "%s", path);
    if (am_tmp_name(path, o->tmp, sizeof o->tmp, e)) return -1;
    am_remove_stale_tmp(path);
    o->f = fopen(o->tmp, "wb");
    if (!o->f) {
        am_fail_errno(e, "cannot create %s", o->tmp);
        return am_err_set_code(e, AM_E_IO);
    }
    return 0;
}

int am_file_out_commit(am_file_out *o, am_err *e) {
    FILE *f = o->f;
    o->f = NULL;
    int bad = fflush(f) != 0 || ferror(f), saved = bad ? errno : 0;
    if (fclose(f) != 0 && !bad) bad = 1, saved = errno;
    if (bad) {
        errno = saved;
        am_fail_errno(e, "writing %s failed", o->path);
        unlink(o->tmp);
        return am_err_set_code(e, AM_E_IO);
    }
    return am_commit_file(o->tmp, o->path, e); /* fsync, then the name; removes tmp on failure */
}

void am_file_out_abort(am_file_out *o) {
    if (o->f) {
        fclose(o->f);
        o->f = NULL;
    }
    if (o->tmp[0]) {
        unlink(o->tmp);
        am_tmp_release(o->tmp);
    }
}

int am_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

int am_is_dir(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int am_pwrite_all(int fd, const void *buf, size_t n, long long off) {
    const char *p = buf;
    while (n) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
        off += w;
    }
    return 0;
}

int am_copy_file(const char *src, const char *dst, am_err *e) {
    int rc = -1;
    FILE *in = fopen(src, "rb"), *out = NULL;
    char buf[1 << 16];
    if (!in) {
        am_fail_errno(e, "cannot open %s", src);
        goto out;
    }
    if (!(out = fopen(dst, "wb"))) {
        am_fail_errno(e, "cannot create %s", dst);
        goto out;
    }
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n) {
            am_fail_errno(e, "cannot write %s", dst);
            goto out;
        }
    if (ferror(in)) {
        am_fail(e, "read error on %s", src);
        goto out;
    }
    rc = 0;
out:
    if (in) fclose(in);
    if (out && fclose(out) && !rc) rc = am_fail_errno(e, "cannot write %s", dst);
    return rc;
}

int am_file_fingerprint(const char *path, char hex[17], am_err *e) {
    enum { CHUNK = 1 << 16 };
    unsigned char buf[CHUNK];
    uint64_t h = AM_FNV_INIT;
    size_t n;
    FILE *f = fopen(path, "rb");
    if (!f) return am_fail_errno(e, "%s: cannot open", path);
    while ((n = fread(buf, 1, CHUNK, f)) > 0) h = am_fnv1a(h, buf, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) return am_fail_code(e, AM_E_IO, "%s: read error", path);
    am_hash_hex(h, hex);
    return 0;
}
