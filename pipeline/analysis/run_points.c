/* What the parts of the analysis stage share (run_internal.h): the points
 * (one per map, with their statistics and features), progress messages and
 * string datasets. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis/analysis.h"
#include "analysis/run_internal.h"
#include "h5/h5io.h"

const char *const an_stat_names[ST_N] = {"entropy",  "sink",        "diagonal", "previous",  "band",
                                         "distance", "offset_mass", "vbar",     "js_alpha0", "js_alpha1"};
const char *const an_split_names[AN_SPLIT_N] = {"prompt", "generated"};

/* ---- shared by the parts -------------------------------------------------- */

double an_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

void an_progress(const am_an_config *cfg, const char *fmt, ...) {
    if (!cfg->verbose) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("attnmix-analyze: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int an_put_strs(hid_t loc, const char *name, int n, const char *const *v, am_err *e) {
    hsize_t dim = (hsize_t)n;
    hid_t d = am_h5_write_strs(loc, name, 1, &dim, v, e);
    if (d < 0) return -1;
    am_h5_close(&d);
    return 0;
}

/* ---- points --------------------------------------------------------------- */

void an_points_free(an_points *p) {
    free(p->model), free(p->pair), free(p->alpha), free(p->layer), free(p->head);
    free(p->offset), free(p->rows), free(p->st), free(p->feat), free(p->hc), free(p->hclass);
    free(p->split_offset), free(p->split_rows), free(p->split_st);
    memset(p, 0, sizeof *p);
}

int an_points_init(an_points *p, size_t N, am_err *e) {
    const size_t n = N ? N : 1;
    memset(p, 0, sizeof *p);
    p->N = N;
    if (!(p->model = am_malloc(n, sizeof *p->model, "points", e)) ||
        !(p->pair = am_malloc(n, sizeof *p->pair, "points", e)) ||
        !(p->alpha = am_malloc(n, sizeof *p->alpha, "points", e)) ||
        !(p->layer = am_malloc(n, sizeof *p->layer, "points", e)) ||
        !(p->head = am_malloc(n, sizeof *p->head, "points", e)) ||
        !(p->offset = am_malloc(n, sizeof *p->offset, "points", e)) ||
        !(p->rows = am_malloc(n, sizeof *p->rows, "points", e)) ||
        !(p->st = am_malloc(n * ST_N, sizeof *p->st, "point statistics", e)) ||
        !(p->split_offset = am_malloc(n * AN_SPLIT_N, sizeof *p->split_offset, "prompt and generated rows", e)) ||
        !(p->split_rows = am_malloc(n * AN_SPLIT_N, sizeof *p->split_rows, "prompt and generated rows", e)) ||
        !(p->split_st = am_malloc(n * AN_SPLIT_N * ST_N, sizeof *p->split_st, "prompt and generated rows", e)) ||
        !(p->feat = am_malloc(n * AM_AN_NFEAT, sizeof *p->feat, "point features", e)) ||
        !(p->hc = am_malloc(n * AM_HC_MAP_N, sizeof *p->hc, "point head-class scores", e)) ||
        !(p->hclass = am_malloc(n, sizeof *p->hclass, "point head classes", e)))
        return am_wrap(e, "%zu points", N);
    return 0;
}
