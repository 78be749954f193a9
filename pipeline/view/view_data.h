/* What the viewer shows: the cubes of an output directory (OUT/<model>/cube.h5,
 * opened with the cube reader, maps read on demand) and the JSON the page
 * asks for: the index of models, pairs, alphas, layers, heads, token labels
 * and generated texts, and one map (a head, the mean or standard deviation
 * over heads, or the difference between two alphas). */
#ifndef AM_VIEW_DATA_H
#define AM_VIEW_DATA_H

#include "base/error.h"
#include "h5/cube_read.h"

typedef struct am_view_model {
    char name[256];
    char path[4410];
    am_cube cube;  /* open when problem is NULL */
    char *problem; /* why this model cannot be shown (a cube being written, a damaged file), or NULL */
    char *notice;  /* something the page should say (no token strings), or NULL */
    char **tokens; /* [P*A*S] token strings from /tokens, or NULL (positions are numbered) */
    double *buf;   /* [S*S] sums of the mean/std maps */
    double *buf2;  /* [S*S] sums of squares */
    float *map;    /* [S*S] one map */
    float *map2;   /* [S*S] the other alpha's map */
} am_view_model;

typedef struct am_view_data {
    char out_dir[4096]; /* the real path of OUT */
    am_view_model *models;
    int n_models;
    int n_ok;       /* models that can be shown */
    int has_report; /* OUT/figures/index.html exists */
} am_view_data;

/* Open every OUT/<model>/cube.h5. Fails when OUT holds no cube that can be
 * shown (the message lists the cubes being written and why others failed). */
int am_view_data_open(am_view_data *d, const char *out_dir, am_err *e);
void am_view_data_close(am_view_data *d);

/* The page's index: {"out", "report", "models": [{"name", "problem", "notice",
 * "P", "A", "L", "H", "S", "dtype", "pairs", "alphas", "layers", "heads",
 * "lengths" [P][A], "prompt_length" [P], "texts" [P][A], "prompts" [P][2]}]}.
 * *json is malloc'd. */
int am_view_index_json(const am_view_data *d, char **json, am_err *e);

enum { AM_VIEW_MEAN = -1, AM_VIEW_STD = -2, AM_VIEW_NO_DIFF = -1 };
typedef struct am_view_query {
    int model, pair, alpha, layer; /* indices into the index's lists */
    int head;                      /* head index, AM_VIEW_MEAN or AM_VIEW_STD */
    int diff;                      /* alpha index to subtract, or AM_VIEW_NO_DIFF */
} am_view_query;

/* One map: {"n", "values" [n*n] row-major (query, key), "tokens" [n],
 * "prompt_length", "min", "max", "diff"}. n is the unit's length (the
 * shorter of the two with a difference). Out-of-range indices are AM_E_USAGE. */
int am_view_map_json(am_view_data *d, const am_view_query *q, char **json, am_err *e);

/* Parse a query string value: a non-negative integer below n into *v (or,
 * for the head, "mean"/"std"); -1 on anything else. */
int am_view_parse_index(const char *s, int n, int *v);

#endif
