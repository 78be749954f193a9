/* Error reporting: library functions return 0 on success and -1 on failure,
 * after writing a message with context (file, object, hint) and a code into a
 * caller-provided am_err. Only main() prints and exits, with the status
 * am_exit_status gives (2 for misuse, 1 otherwise). */
#ifndef AM_ERROR_H
#define AM_ERROR_H

#include <stddef.h>

/* What kind of failure: main picks the exit status from it, tests assert it. */
typedef enum am_code {
    AM_E_OK = 0,
    AM_E_FAIL,     /* anything else */
    AM_E_USAGE,    /* bad command line or config value: the user must change the call */
    AM_E_NOTFOUND, /* a file, dataset, tensor or key that is not there */
    AM_E_CORRUPT,  /* an input that is there but malformed (truncated, wrong shape, not finite) */
    AM_E_NOMEM,    /* out of memory */
    AM_E_IO,       /* reading or writing failed (disk full, permissions) */
} am_code;

typedef struct am_err {
    char msg[2048];
    am_code code; /* AM_E_OK until a failure is recorded */
} am_err;

/* Write a formatted message into e (if non-NULL) with code AM_E_FAIL and return -1. */
int am_fail(am_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with an explicit code. */
int am_fail_code(am_err *e, am_code code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prefix the existing message with more context ("reading x.h5: <old>"); keeps the code; returns -1. */
int am_wrap(am_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Same as am_fail but appends ": strerror(errno)"; the code follows errno
 * (ENOENT: not found, ENOMEM: out of memory, otherwise I/O). */
int am_fail_errno(am_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Set the code of a recorded failure; returns -1. */
int am_err_set_code(am_err *e, am_code code);

/* Exit status for main: 2 for AM_E_USAGE, 1 for every other failure. */
int am_exit_status(const am_err *e);

/* Allocation that fails into e (code AM_E_NOMEM, naming what) instead of
 * returning an unchecked NULL: n elements of size bytes, zeroed for
 * am_calloc; overflow of n * size is a failure too. */
void *am_malloc(size_t n, size_t size, const char *what, am_err *e);
void *am_calloc(size_t n, size_t size, const char *what, am_err *e);

#endif
