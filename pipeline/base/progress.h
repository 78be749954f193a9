/* Progress lines on stderr and a monotonic clock. */
#ifndef AM_PROGRESS_H
#define AM_PROGRESS_H

/* Progress line on stderr: "<stage> <model>: <done>/<total> <what>, ETA 12s",
 * rewritten in place (\r) until done == total, am_progress_break or
 * am_progress_end ends it. */
typedef struct am_progress {
    const char *stage, *model, *what;
    double t0, last;
    int quiet;
    int open; /* a progress line is on the terminal without its newline */
} am_progress;
void am_progress_start(am_progress *p, const char *stage, const char *model, const char *what, int quiet);
void am_progress_update(am_progress *p, long done, long total);
/* End an open progress line, so that other messages start on a line of their own. */
void am_progress_break(am_progress *p);
void am_progress_end(am_progress *p, const char *summary);
/* Seconds on a monotonic clock. */
double am_now(void);

#endif
