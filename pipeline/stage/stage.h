/* The pipeline's stages as library calls. Each stage reads its inputs, writes
 * one HDF5 file atomically and records provenance; the stage programs in
 * stages/ are thin CLIs around these. A stage whose output exists with the
 * fingerprint it would compute is skipped (up to date). */
#ifndef AM_STAGE_H
#define AM_STAGE_H

#include <hdf5.h>
#include <stdint.h>

#include "base/config.h"
#include "base/error.h"

/* Frozen attention patterns for forward/generate (docs/freeze.md): where the
 * substituted patterns come from and which layers/heads take them. */
typedef struct am_freeze_opts {
    int enabled;
    const char *from;   /* prefill.h5 or cube.h5; NULL = OUT/<model>/cube.h5
                                  * (forward: prefill.h5 when there is no cube) */
    int have_alpha;     /* 1: take the source unit (pair, alpha) */
    double alpha;       /* 0: the source unit of the same (pair, alpha) */
    const char *layers; /* "all" (default) or a list "0,2,5" / "[0, 2, 5]" */
    const char *heads;  /* same, query heads */
} am_freeze_opts;

/* Everything a stage needs to know about the run it belongs to. */
typedef struct am_stage {
    am_config cfg;
    const am_model_cfg *model; /* the model this stage works on */
    char out_dir[4096];        /* <output_dir>/<model> */
    char config_hash[17];      /* FNV-1a of the YAML text */
    int force;                 /* recompute even if up to date */
    int quiet;                 /* no progress on stderr */
    const char *step;       /* "K/N": the driver's step, printed as "[K/N] <stage> <model>" when the stage computes */
    int threads;            /* 0 = config's */
    int n_pairs_all;        /* pairs in the config when one is selected, else 0 */
    am_freeze_opts freeze;  /* frozen patterns (forward, generate) */
    char backend_used[160]; /* the model runtime's backend, recorded as "backend" ("" = from the config) */
} am_stage;

int am_stage_init(am_stage *s, const char *config_path, const char *model_name, am_err *e);
/* Restrict the stage to one pair (a shard): the config keeps only that pair
 * and the outputs go to <output_dir>/<model>/pairs/<key>. */
int am_stage_select_pair(am_stage *s, const char *key, am_err *e);
void am_stage_free(am_stage *s);

/* Default file paths inside s->out_dir. */
void am_stage_path(const am_stage *s, const char *file, char *out, size_t n);

int am_stage_tokenize(am_stage *s, const char *out_path, am_err *e);
int am_stage_embed_mix(am_stage *s, const char *tokens_path, const char *out_path, am_err *e);
int am_stage_forward(am_stage *s, const char *mix_path, const char *out_path, am_err *e);
int am_stage_generate(am_stage *s, const char *mix_path, const char *prefill_path, const char *out_path, am_err *e);

/* Command-line front end shared by the stage programs:
 *   attnmix-<stage> --config FILE --model NAME [--pair KEY] [--in1 PATH] [--in2 PATH] [--out PATH]
 *                   [--force] [--threads N] [--quiet]
 * stage: "tokenize", "embed-mix", "forward", "generate" or "induction". Returns the exit status. */
int am_stage_main(const char *stage, int argc, char **argv);

/* ---- shared by the stage implementations ---------------------------------- */

/* Backend of the stage's model runtime from the config (backend, cuda_compute)
 * into o; backend: cuda without a usable GPU is an error naming the reason. */
struct am_runtime_opts;
int am_stage_backend(const am_stage *s, struct am_runtime_opts *o, am_err *e);
/* Before a stage computes with checkpoint m: every weight finite
 * (am_qwen3_check_finite), unless ATTNMIX_ALLOW_NONFINITE=1. */
struct am_qwen3;
int am_stage_check_weights(const am_stage *s, const struct am_qwen3 *m, am_err *e);
/* After a runtime call of the stage failed: when it stopped on a non-finite
 * value, prefix the message with the pair and alpha of the unit (units are
 * pair * A + alpha index), the layer and the position. Returns -1. */
struct am_runtime;
int am_stage_nonfinite(const am_stage *s, const struct am_runtime *rt, int A, const double *alphas, am_err *e);
/* Record the backend a created runtime uses (am_runtime_kernel_name). */
void am_stage_note_backend(am_stage *s, const char *runtime_name);
/* Append how the weights were held (am_runtime_weights_note; "" = mapped) to the recorded backend. */
void am_stage_note_weights(am_stage *s, const char *note);

#endif
