#include <stdio.h>
#include <time.h>
#include <unistd.h>

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
    p->tty = isatty(STDERR_FILENO) == 1;
    p->tenth = 0;
    p->out = stderr;
}

/* "12s", "3m05s", "1h02m" */
static void fmt_secs(char *b, size_t n, double s) {
    long t = s > 0 ? (long)(s + 0.5) : 0;
    if (t < 60) snprintf(b, n, "%lds", t);
    else if (t < 3600) snprintf(b, n, "%ldm%02lds", t / 60, t % 60);
    else snprintf(b, n, "%ldh%02ldm", t / 3600, t / 60 % 60);
}

void am_progress_update_at(am_progress *p, long done, long total, double now) {
    if (p->quiet || total <= 0) return;
    if (done > total) done = total;
    const int tenth = (int)(10 * done / total); /* 0..10 */
    if (p->tty) {
        if (now - p->last < AM_PROGRESS_TTY_EVERY && done < total) return;
    } else if (tenth <= p->tenth && now - p->last < AM_PROGRESS_PLAIN_EVERY) return;
    p->last = now;
    const double el = now - p->t0, rate = el > 0 ? (double)done / el : 0;
    char els[48], etas[48];
    fmt_secs(els, sizeof els, el);
    if (done > 0) fmt_secs(etas, sizeof etas, el * (double)(total - done) / (double)done);
    else snprintf(etas, sizeof etas, "?");
    if (p->tty) {
        char bar[21];
        const int fill = (int)(20 * done / total);
        for (int i = 0; i < 20; i++) bar[i] = i < fill ? '#' : '.';
        bar[20] = 0;
        fprintf(p->out, "\r%s %s: [%s] %ld/%ld %s, %.3g %s/s, %s elapsed, ETA %s   ", p->stage, p->model, bar, done,
                total, p->what, rate, p->what, els, etas);
        p->open = 1;
        if (done >= total) am_progress_break(p);
    } else {
        fprintf(p->out, "%s %s: %ld/%ld %s (%d%%), %.3g %s/s, %s elapsed, ETA %s\n", p->stage, p->model, done, total,
                p->what, (int)(100 * done / total), rate, p->what, els, etas);
        if (tenth > p->tenth) p->tenth = tenth;
    }
    fflush(p->out);
}

void am_progress_update(am_progress *p, long done, long total) { am_progress_update_at(p, done, total, am_now()); }

void am_progress_break(am_progress *p) {
    if (p->open) fputc('\n', p->out ? p->out : stderr);
    p->open = 0;
}

void am_progress_end(am_progress *p, const char *summary) {
    if (p->quiet) return;
    am_progress_break(p);
    fprintf(p->out ? p->out : stderr, "%s %s: %s (%.2fs)\n", p->stage, p->model, summary, am_now() - p->t0);
}
