/* attnmix view: a read-only HTTP server (libmicrohttpd) on 127.0.0.1 that
 * shows the attention maps of an output directory in the browser. It serves
 * the page (page.html, compiled in), the JSON of view_data.h under /api/, and
 * the files of OUT under /files/ (the static report's figures): nothing
 * outside OUT, no file it could write, no method but GET and HEAD. */
#ifndef AM_VIEW_H
#define AM_VIEW_H

#include <signal.h>

#include "base/error.h"

typedef struct am_view_opts {
    const char *host; /* numeric address to bind; default "127.0.0.1" */
    int port;         /* 0: any free port */
} am_view_opts;

/* Open OUT, listen, call ready(url) once the server accepts connections,
 * then serve until *stop becomes non-zero (a signal handler sets it).
 * A port in use, OUT without a cube that can be shown: AM_E_USAGE or
 * AM_E_NOTFOUND with a message, before anything is served. */
int am_view_serve(const char *out_dir, const am_view_opts *o, volatile sig_atomic_t *stop,
                  void (*ready)(const char *url, const char *notes, void *ctx), void *ctx, am_err *e);

/* The file under root that the URL path rel ("figures/index.html") names,
 * into out (its real path): -1 when rel is empty, has an empty, "." or ".."
 * component, a backslash, or resolves (through links) outside root. */
int am_view_safe_path(const char *root, const char *rel, char *out, size_t n);

#endif
