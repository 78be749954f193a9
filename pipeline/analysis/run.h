/* The analysis stage: reads attention cubes (schema attnmix.cube/1, or the
 * same layout without /length), computes per-map statistics, motif features,
 * head classes, PCA, head distances and t-SNE, and writes analysis.h5
 * (attnmix.analysis/1, docs/schema.md). Its inputs are exactly the ones named
 * here: the cubes, an induction file per model (attnmix-induction) and the
 * frozen-pattern runs to compare with each model's live run. */
#ifndef AM_ANALYSIS_RUN_H
#define AM_ANALYSIS_RUN_H

#include <stddef.h>

#include "analysis/tsne.h"
#include "base/error.h"

typedef struct am_an_input {
    const char *name; /* model name (group /models/<name>); NULL: the cube's `model` attribute, else
                         the parent directory for ".../NAME/cube.h5", else the file stem */
    const char *path; /* cube file */
} am_an_input;

/* A file or directory given for one model by name. */
typedef struct am_an_model_path {
    const char *model, *path;
} am_an_model_path;

typedef struct am_an_config {
    const char *out; /* analysis.h5 (written to OUT.tmp-PID, fsynced, renamed) */
    const am_an_input *inputs;
    int n_inputs;
    const am_an_model_path *induction; /* [n_induction] induction file (attnmix.induction/1) of a model, for
                                          its head classes; a model without one has no induction score */
    int n_induction;
    const am_an_model_path *frozen; /* [n_frozen] frozen-run directory of a model (prefill.h5, optionally
                                          cube.h5), compared with the live prefill.h5 beside its cube */
    int n_frozen;
    int band;            /* recent-band width w, default 4 */
    int tsne_on_maps;    /* 0: motif features (z-scored), 1: raw maps flattened */
    int tsne_auto;       /* 1: exact for N <= 2000, else am_tsne_method_for(AUTO) */
    am_tsne_opts tsne;   /* perplexity, iterations, seed, method */
    int pca_k;           /* PCA components kept; 0: the fewest reaching pca_variance */
    double pca_variance; /* explained-variance share that picks K (default 0.9) */
    int clusters;        /* head clusters; 0: the k in [2, clusters_max] with the best silhouette */
    int clusters_max;    /* default 12 */
    int key_tsne;        /* 1 (default): a t-SNE per pair key (/points/tsne_key) */
    int verbose;         /* progress on stderr */
} am_an_config;

void am_an_config_defaults(am_an_config *c);

int am_an_run(const am_an_config *c, am_err *e);

#endif
