/* The analysis stage's inputs as the driver passes them to attnmix-analyze,
 * in the Makefile of `attnmix run` and in the Slurm merge job alike: per
 * model the cube OUT/<model>/cube.h5, the induction scores
 * OUT/<model>/induction.h5 (attnmix-induction), and the frozen-pattern runs
 * present in OUT/<model> (docs/freeze.md). */
#ifndef AM_INPUTS_H
#define AM_INPUTS_H

#include <stddef.h>
#include <stdio.h>

#include "base/config.h"
#include "base/error.h"

/* A frozen-pattern run: a directory OUT/<model>/frozen* holding a prefill.h5
 * (attnmix-forward --freeze-...), and a cube.h5 once attnmix-generate ran
 * frozen too. */
typedef struct am_frozen_run {
    int model;      /* index into the config's models */
    char name[256]; /* directory name: "frozen", "frozen-a1", ... */
    int has_cube;   /* OUT/<model>/<name>/cube.h5 exists */
} am_frozen_run;

/* Write " OPT 'VALUE'" to f, VALUE = "[MODEL=]OUT/<model>/REST" for model
 * index m (MODEL= when named), single-quoted for the shell (make: also '$'
 * doubled for a make recipe, run/quote.h). */
void am_out_arg(FILE *f, const char *opt, const am_config *c, int m, int named, const char *rest, int make);

/* The frozen runs of every model as they are on disk now, ordered by model
 * (config order), then by name (byte order). *runs is malloc'd, NULL when
 * *n is 0; a model without an output directory has none. */
int am_frozen_runs_find(const am_config *c, am_frozen_run **runs, int *n, am_err *e);

#endif
