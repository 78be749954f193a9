/* The parts of the analysis stage, private to pipeline/analysis (run.c drives
 * them in this order):
 *   run_inputs.c  open the cubes and their induction files, the union of their axes
 *   run_model.c   the per-model pass: statistics of every map, /models/<name>
 *   run_global.c  the global part: root scales and attributes, /points, PCA,
 *                 /heads (distances) and the t-SNE embeddings
 *   run_points.c  what they share: the points, progress messages
 * Points (one per map) are ordered model, pair, alpha, layer, head. */
#ifndef AM_ANALYSIS_RUN_INTERNAL_H
#define AM_ANALYSIS_RUN_INTERNAL_H

#include <hdf5.h>
#include <stddef.h>

#include "analysis/heads.h"
#include "analysis/run.h"
#include "base/error.h"
#include "h5/cube_read.h"

/* ---- inputs (run_inputs.c) ------------------------------------------------ */

/* One input cube and what the analysis adds to it. */
typedef struct an_cube {
    char name[256];        /* model name (group /models/<name>) */
    am_cube c;             /* the cube: sizes, axes, lengths, root attributes */
    const char *induction; /* induction file, or NULL */
    am_hc_induction ind;   /* its contents (score NULL without one) */
    const char **frozen;   /* [n_frozen] frozen-run directories */
    int n_frozen;
    int *pair_index;  /* [P] index into the union of pair keys */
    int a0, a1;       /* alpha index of 0 and of 1, -1 if absent */
    size_t base;      /* index of the cube's first point */
    int32_t *shift;   /* [P*A] prompt length T of the row-shifted published maps (analysis/frame.h), NULL: true frame */
    char file_fp[17]; /* fingerprint of the cube file's bytes */
} an_cube;

/* All inputs and the union of their axes (the root scales of analysis.h5). */
typedef struct an_inputs {
    int n;
    an_cube *cubes;    /* [n] */
    size_t N;          /* points: sum of P*A*L*H */
    const char **pair; /* [npair] pair keys in order of appearance (owned by the cubes) */
    int npair;
    double *alpha;     /* [nalpha] sorted, unique */
    int *layer, *head; /* [nlayer], [nhead] sorted, unique */
    int nalpha, nlayer, nhead;
} an_inputs;

/* Open every input of cfg (cubes, induction files, frozen-run lists). */
int an_inputs_open(const am_an_config *cfg, an_inputs *in, am_err *e);
void an_inputs_free(an_inputs *in);

/* ---- points --------------------------------------------------------------- */

enum {
    ST_ENTROPY,
    ST_SINK,
    ST_DIAGONAL,
    ST_PREVIOUS,
    ST_BAND,
    ST_DISTANCE,
    ST_OFFSET_MASS,
    ST_VBAR,
    ST_JS0,
    ST_JS1,
    ST_N
};
extern const char *const an_stat_names[ST_N]; /* dataset names in /points */

/* The row sets of /points/prompt and /points/generated (analysis.h: the
 * prompt rows q < T and the generated rows q >= T of each map). */
enum { AN_SPLIT_PROMPT = 0, AN_SPLIT_GENERATED, AN_SPLIT_N };
extern const char *const an_split_names[AN_SPLIT_N]; /* group names in /points */

typedef struct an_points {
    size_t N;
    int *model;        /* [N] input index */
    int *pair;         /* [N] index into the union of pair keys */
    double *alpha;     /* [N] */
    int *layer;        /* [N] */
    int *head;         /* [N] */
    int *offset;       /* [N] dominant offset */
    int *rows;         /* [N] valid rows */
    double *st;        /* [ST_N, N] */
    int *split_offset; /* [AN_SPLIT_N, N] offset over the prompt rows, the generated rows (-1: none) */
    int *split_rows;   /* [AN_SPLIT_N, N] their valid rows */
    double *split_st;  /* [AN_SPLIT_N, ST_N, N] their statistics (NaN: no rows) */
    double *feat;      /* [N, AM_AN_NFEAT] raw features */
    double *hc;        /* [N, AM_HC_MAP_N] pattern-shape head-class scores of the map */
    int *hclass;       /* [N] dominant class of the point's head (-1 mixed) */
} an_points;

int an_points_init(an_points *p, size_t N, am_err *e);
void an_points_free(an_points *p);

/* ---- the per-model pass (run_model.c) ------------------------------------- */

/* Write /models/<name> (scales, head_mean, head_var, entropy_by_query,
 * head_class, frozen) into out, fill the cube's points, and copy its maps
 * into maps [P*A*L*H, S*S] when maps is not NULL. */
int an_model_pass(const am_an_config *cfg, const an_cube *c, hid_t out, an_points *pts, float *maps, am_err *e);

/* ---- the global part (run_global.c) --------------------------------------- */

/* Root scales and attributes, /points, /pca, /heads and the t-SNE
 * embeddings. *maps (the flattened maps with --tsne-on maps) is freed once
 * it has been used. */
int an_write_global(const am_an_config *cfg, const an_inputs *in, hid_t out, an_points *pts, float **maps, am_err *e);

/* ---- shared helpers (run.c) ----------------------------------------------- */

/* Seconds on the monotonic clock (for the durations in progress lines). */
double an_seconds(void);
/* Progress line on stderr when cfg->verbose. */
void an_progress(const am_an_config *cfg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Write n UTF-8 strings as a 1-D dataset and close it. */
int an_put_strs(hid_t loc, const char *name, int n, const char *const *v, am_err *e);

#endif
