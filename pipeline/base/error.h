/* Error reporting: library functions return 0 on success and -1 on failure,
 * after writing a message with context into a caller-provided am_err.
 * Only main() prints and exits. */
#ifndef AM_ERROR_H
#define AM_ERROR_H

#include <stddef.h>

typedef struct am_err {
    char msg[2048];
} am_err;

/* Write a formatted message into e (if non-NULL) and return -1. */
int am_fail(am_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefix the existing message with more context ("reading x.h5: <old>"); returns -1. */
int am_wrap(am_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Same as am_fail but appends ": strerror(errno)". */
int am_fail_errno(am_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
