/* The study's five observations, each a tested claim (docs/analysis.md,
 * "Observations"). From the maps of one model (read block by block, in
 * their true frame) the per-unit contrasts are computed, for all rows, the
 * prompt rows and the generated rows separately, and each observation gets
 * an estimate, a bootstrap interval, a p-value and a verdict. Pure
 * computation; observations_write.c writes the result into analysis.h5. */
#ifndef AM_ANALYSIS_OBSERVATIONS_H
#define AM_ANALYSIS_OBSERVATIONS_H

#include <hdf5.h>
#include <stdint.h>

#include "analysis/analysis.h"
#include "base/error.h"

/* row sets (analysis.h) */
enum {
    AM_OBS_ALL = AM_AN_ROWS_ALL,
    AM_OBS_PROMPT = AM_AN_ROWS_PROMPT,
    AM_OBS_GENERATED = AM_AN_ROWS_GENERATED,
    AM_OBS_NROWS = AM_AN_NROWSETS
};
extern const char *const am_obs_rowset_names[AM_OBS_NROWS]; /* "all", "prompt_rows", "generated_rows" */

/* The per-map statistics kept per row set at every alpha: band (w), distance,
 * normalised entropy, JS to the map at alpha 0 and at alpha 1. */
enum { AM_OBS_S_BAND = 0, AM_OBS_S_DISTANCE, AM_OBS_S_ENTROPY, AM_OBS_S_JS0, AM_OBS_S_JS1, AM_OBS_NSTAT };
extern const char *const am_obs_stat_names[AM_OBS_NSTAT];

/* The tests: O1 is two contrasts (band, distance), the others one each. */
enum { AM_OBS_O1_BAND = 0, AM_OBS_O1_DISTANCE, AM_OBS_O2, AM_OBS_O3, AM_OBS_O4, AM_OBS_O5, AM_OBS_NTEST };
enum { AM_OBS_UNTESTABLE = 0, AM_OBS_SUPPORTED, AM_OBS_NOT_SUPPORTED, AM_OBS_OPPOSITE };
extern const char *const am_obs_verdict_names[4]; /* "untestable", "supported", "not supported", "opposite" */
extern const char *const am_obs_claims[5];        /* the study's sentences, O1..O5 */

typedef struct am_obs_opts {
    int band;           /* recent-band width w (default 4) */
    int boot;           /* bootstrap draws B (default 2000) */
    int draws;          /* sign-flip / permutation draws (default 9999) */
    int shuffles;       /* O5: null shuffles R (default 99) */
    double level;       /* interval level (default 0.95) */
    double p_max;       /* p-value a verdict needs (default 0.05) */
    double offset_mass; /* O5: peak mass at d >= 2 that makes a fixed-distance head (default 0.3) */
    uint64_t seed;      /* every draw derives from it (recorded) */
} am_obs_opts;
void am_obs_defaults(am_obs_opts *o);

typedef struct am_obs_test {
    double estimate, ci_low, ci_high, p_value;
    int n;        /* units the estimate averages */
    int clusters; /* resampling clusters (pairs for O1/O3, heads for O2/O4/O5) */
    int exact;    /* p-value by exact enumeration */
    int sign;     /* claimed direction of the estimate: +1 or -1 */
    int verdict;  /* AM_OBS_* */
} am_obs_test;

/* The maps of one model: /attention [P, A, L, H, S, S] read one (pair,
 * layer) block [A, H, S, S] at a time through read(). */
typedef struct am_obs_cube {
    int P, A, L, H, S;
    const char *const *pair;      /* [P] keys ("math" is O4's pair) */
    const double *alpha;          /* [A] */
    const int32_t *length;        /* [P*A] valid size of each unit */
    const int32_t *prompt_length; /* [P] prompt rows per pair, NULL: unknown (no prompt/generated split) */
    int (*read)(void *ctx, int p, int l, float *blk, am_err *e);
    void *ctx;
} am_obs_cube;

typedef struct am_obs_result {
    int P, L, H, R; /* R: O5 shuffles */
    int a0, a5, a1; /* alpha indices of 0, 0.5 and 1 (-1: absent) */
    int math;       /* pair index of "math", -1 */
    /* per row set */
    double *stat[AM_OBS_NROWS][AM_OBS_NSTAT]; /* [P*A*L*H] every map's statistics (NaN: no rows) */
    double *band[AM_OBS_NROWS], *distance[AM_OBS_NROWS], *entropy[AM_OBS_NROWS]; /* [P*L*H] contrasts */
    double *sens[AM_OBS_NROWS];      /* [P*L*H] JS of the alpha-0.5 map to the endpoints, mean of the two */
    double *peak[AM_OBS_NROWS];      /* [L*H] O5: peak mass over d >= 2 of the head's offset profile */
    int *peak_offset[AM_OBS_NROWS];  /* [L*H] its offset (-1: none) */
    double *null_peak[AM_OBS_NROWS]; /* [L*H] mean peak mass over the shuffles */
    double *pair_sens[AM_OBS_NROWS]; /* [P] O4: mean sensitivity per pair */
    double sens_q10[AM_OBS_NROWS], sens_q90[AM_OBS_NROWS]; /* O2: spread of per-head sensitivity */
    double null_frac[AM_OBS_NROWS];                        /* O5: mean fraction of null fixed-distance heads */
    am_obs_test t[AM_OBS_NROWS][AM_OBS_NTEST];
    int verdict[AM_OBS_NROWS][5]; /* O1..O5 (O1: both contrasts) */
} am_obs_result;

int am_obs_compute(const am_obs_cube *c, const am_obs_opts *o, am_obs_result *r, am_err *e);
void am_obs_result_free(am_obs_result *r);

/* The verdict rule: untestable when the estimate or its interval is NaN;
 * supported when the interval lies on the claimed side of 0 and p < p_max;
 * opposite when it lies on the other side and p < p_max; else not
 * supported. */
int am_obs_verdict(const am_obs_test *t, double p_max);

/* /observations/<model>/O1..O5 (attributes, the per-unit tables with their
 * scales) into file out (observations_write.c). */
int am_obs_write(hid_t out, const char *model, const am_obs_cube *c, const am_obs_opts *o, const am_obs_result *r,
                 am_err *e);

#endif
