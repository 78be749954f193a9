/* The observations page (docs/figures.md, "Observations"): for each model of
 * an analysis file with /observations, a table of O1..O5 (claim, estimate,
 * interval, p-value, verdict; all rows, prompt rows, generated rows), one
 * small figure per observation, and the generated text of every (pair,
 * alpha) of the model's cube, beside the original study's published response
 * when an original_generations.tsv is given and its model matches. */
#ifndef AM_PLOT_OBSERVATIONS_PAGE_H
#define AM_PLOT_OBSERVATIONS_PAGE_H

#include "base/error.h"
#include "plot/canvas.h"

/* One published response of the original study (original_generations.tsv:
 * prompt_a, prompt_b, alpha, response, model_name, prompt_key; tab-separated,
 * CSV quoting, fields may span lines). */
typedef struct am_original {
    char *prompt_a, *prompt_b, *response, *model, *key;
    double alpha;
} am_original;

/* Parse the file; rows [n] (free with am_original_free). A malformed file is
 * an error naming the file and the line. */
int am_original_read(const char *path, am_original **rows, int *n, am_err *e);
void am_original_free(am_original *rows, int n);

/* 1 when the analysis file at path has /observations. */
int am_observations_present(const char *analysis);

/* outdir/observations.html and its figures outdir/observations/<model>_O<i>.png.
 * cubes [ncubes] (may be 0) give the generated texts; original may be NULL. */
int am_observations_page(const char *analysis, const char *const *cubes, int ncubes, const char *original,
                         const char *outdir, am_err *e);

#endif
