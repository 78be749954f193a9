/* The analysis stage: reads attention cubes (schema attnmix.cube/1, or the
 * same layout without /length), computes per-map statistics, motif features,
 * PCA, head distances and t-SNE, and writes analysis.h5 (attnmix.analysis/1,
 * docs/schema.md). */
#ifndef AM_ANALYSIS_RUN_H
#define AM_ANALYSIS_RUN_H

#include "base/error.h"
#include "analysis/tsne.h"

typedef struct am_an_input {
    const char *name; /* model name (group /models/<name>) */
    const char *path; /* cube file */
    const char *checkpoint; /* checkpoint directory for the induction score; NULL = not measured */
} am_an_input;

typedef struct am_an_config {
    const char *out;          /* analysis.h5 (written to OUT.tmp-PID, renamed) */
    const am_an_input *inputs;
    int n_inputs;
    int band;                 /* recent-band width w, default 4 */
    int tsne_on_maps;         /* 0: motif features (z-scored), 1: raw maps flattened */
    int tsne_auto;            /* 1: exact for N <= 2000, else am_tsne_method_for(AUTO) */
    am_tsne_opts tsne;        /* perplexity, iterations, seed, method */
    int verbose;              /* progress on stderr */
    int induction_tokens;     /* R: random tokens repeated twice, default 32 */
    int induction_seqs;       /* B: sequences, default 4 */
    int threads;              /* runtime threads of the induction run, 0 = default */
} am_an_config;

void am_an_config_defaults(am_an_config *c);

/* Model name implied by a cube path: the root attribute `model` if present,
 * else the parent directory for ".../NAME/cube.h5", else the file stem.
 * Writes into name[cap]. */
int am_an_default_name(const char *path, char *name, size_t cap, am_err *e);

int am_an_run(const am_an_config *c, am_err *e);

#endif
