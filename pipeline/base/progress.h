/* Progress on stderr and a monotonic clock.
 *
 * On a terminal, one line rewritten in place (\r) with a bar, the rate and
 * the ETA:
 *   generate tiny: [#######.............] 35/100 tokens, 4.1 tokens/s, 8s elapsed, ETA 16s
 * When stderr is a file or a pipe (logs, Slurm), plain lines instead, one at
 * every tenth of the work and at least every 30 s while it lasts:
 *   generate tiny: 40/100 tokens (40%), 4.0 tokens/s, 10s elapsed, ETA 15s */
#ifndef AM_PROGRESS_H
#define AM_PROGRESS_H

#include <stdio.h>

typedef struct am_progress {
    const char *stage, *model, *what;
    double t0, last; /* start, last line written (seconds, am_now) */
    int quiet;
    int open;  /* a terminal line is on the screen without its newline */
    int tty;   /* 1: bar rewritten in place; 0: plain lines */
    int tenth; /* plain lines: tenths of the work reported so far */
    FILE *out; /* stderr */
} am_progress;

/* Start; the style follows whether stderr is a terminal. */
void am_progress_start(am_progress *p, const char *stage, const char *model, const char *what, int quiet);
void am_progress_update(am_progress *p, long done, long total);
/* am_progress_update at time `now` (seconds on the am_now clock). */
void am_progress_update_at(am_progress *p, long done, long total, double now);
/* End an open progress line, so that other messages start on a line of their own. */
void am_progress_break(am_progress *p);
void am_progress_end(am_progress *p, const char *summary);
/* Seconds on a monotonic clock. */
double am_now(void);

/* Seconds between plain progress lines at most, while work goes on. */
#define AM_PROGRESS_PLAIN_EVERY 30.0
/* Seconds between rewrites of the terminal line at least. */
#define AM_PROGRESS_TTY_EVERY 0.5

#endif
