#include "base/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int vfail(am_err *e, am_code code, const char *fmt, va_list ap) {
    if (!e) return -1;
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    e->code = code;
    return -1;
}

int am_fail(am_err *e, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(e, AM_E_FAIL, fmt, ap);
    va_end(ap);
    return -1;
}

int am_fail_code(am_err *e, am_code code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(e, code, fmt, ap);
    va_end(ap);
    return -1;
}

int am_fail_errno(am_err *e, const char *fmt, ...) {
    int saved = errno;
    if (!e) return -1;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof e->msg) snprintf(e->msg + n, sizeof e->msg - (size_t)n, ": %s", strerror(saved));
    e->code = saved == ENOENT ? AM_E_NOTFOUND : saved == ENOMEM ? AM_E_NOMEM : AM_E_IO;
    return -1;
}

int am_wrap(am_err *e, const char *fmt, ...) {
    if (!e) return -1;
    char old[sizeof e->msg];
    memcpy(old, e->msg, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof e->msg) snprintf(e->msg + n, sizeof e->msg - (size_t)n, ": %s", old);
    if (e->code == AM_E_OK) e->code = AM_E_FAIL;
    return -1;
}

int am_err_set_code(am_err *e, am_code code) {
    if (e) e->code = code;
    return -1;
}

int am_exit_status(const am_err *e) { return e && e->code == AM_E_USAGE ? 2 : 1; }

void *am_malloc(size_t n, size_t size, const char *what, am_err *e) {
    if (size && n > SIZE_MAX / size) {
        am_fail_code(e, AM_E_NOMEM, "out of memory: %s needs %zu x %zu bytes", what, n, size);
        return NULL;
    }
    void *p = malloc(n && size ? n * size : 1);
    if (!p) am_fail_code(e, AM_E_NOMEM, "out of memory: %s needs %.3f GiB", what, (double)n * (double)size / (1 << 30));
    return p;
}

void *am_calloc(size_t n, size_t size, const char *what, am_err *e) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) am_fail_code(e, AM_E_NOMEM, "out of memory: %s needs %.3f GiB", what, (double)n * (double)size / (1 << 30));
    return p;
}
