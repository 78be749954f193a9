#include <stdio.h>
#include <time.h>

#include "base/progress.h"

double am_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void am_progress_start(am_progress *p, const char *stage, const char *model, const char *what, int quiet) {
    p->stage = stage;
    p->model = model;
    p->what = what;
    p->t0 = p->last = am_now();
    p->quiet = quiet;
    p->open = 0;
}

void am_progress_update(am_progress *p, long done, long total) {
    double now = am_now();
    if (p->quiet || (now - p->last < 0.5 && done < total)) return;
    p->last = now;
    double el = now - p->t0, eta = done > 0 ? el * (double)(total - done) / (double)done : 0;
    fprintf(stderr, "\r%s %s: %ld/%ld %s, %.0fs elapsed, ETA %.0fs   ", p->stage, p->model, done, total, p->what, el,
            eta);
    p->open = 1;
    if (done >= total) am_progress_break(p);
}

void am_progress_break(am_progress *p) {
    if (p->open) fputc('\n', stderr);
    p->open = 0;
}

void am_progress_end(am_progress *p, const char *summary) {
    if (p->quiet) return;
    am_progress_break(p);
    fprintf(stderr, "%s %s: %s (%.2fs)\n", p->stage, p->model, summary, am_now() - p->t0);
}
