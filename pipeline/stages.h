/* The pipeline's stages as library calls. Each stage reads its inputs, writes
 * one HDF5 file atomically and records provenance; the stage programs in
 * stages/ are thin CLIs around these. A stage whose output exists with the
 * fingerprint it would compute is skipped (up to date). */
#ifndef AM_STAGES_H
#define AM_STAGES_H

#include <hdf5.h>
#include <stdint.h>

#include "config.h"
#include "error.h"

#define AM_SCHEMA_TOKENS  "attnmix.tokens/1"
#define AM_SCHEMA_MIX     "attnmix.mix/1"
#define AM_SCHEMA_PREFILL "attnmix.prefill/1"
#define AM_SCHEMA_CUBE    "attnmix.cube/1"

/* Frozen attention patterns for forward/generate (docs/freeze.md): where the
 * substituted patterns come from and which layers/heads take them. */
typedef struct am_freeze_opts {
    int enabled;
    const char *from;            /* prefill.h5 or cube.h5; NULL = OUT/<model>/cube.h5
                                  * (forward: prefill.h5 when there is no cube) */
    int have_alpha;              /* 1: take the source unit (pair, alpha) */
    double alpha;                /* 0: the source unit of the same (pair, alpha) */
    const char *layers;          /* "all" (default) or a list "0,2,5" / "[0, 2, 5]" */
    const char *heads;           /* same, query heads */
} am_freeze_opts;

/* Everything a stage needs to know about the run it belongs to. */
typedef struct am_stage {
    am_config cfg;
    const am_model_cfg *model;   /* the model this stage works on */
    char out_dir[4096];          /* <output_dir>/<model> */
    char config_hash[17];        /* FNV-1a of the YAML text */
    int force;                   /* recompute even if up to date */
    int quiet;                   /* no progress on stderr */
    int threads;                 /* 0 = config's */
    int n_pairs_all;             /* pairs in the config when one is selected, else 0 */
    am_freeze_opts freeze;       /* frozen patterns (forward, generate) */
    char backend_used[160];      /* the model runtime's backend, recorded as "backend" ("" = from the config) */
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
int am_stage_generate(am_stage *s, const char *mix_path, const char *prefill_path,
                      const char *out_path, am_err *e);

/* Command-line front end shared by the stage programs:
 *   attnmix-<stage> --config FILE --model NAME [--pair KEY] [--in1 PATH] [--in2 PATH] [--out PATH]
 *                   [--force] [--threads N] [--quiet]
 * stage: "tokenize", "embed-mix", "forward" or "generate". Returns the exit status. */
int am_stage_main(const char *stage, int argc, char **argv);

/* ---- shared by the stage implementations ---------------------------------- */

/* Backend of the stage's model runtime from the config (backend, cuda_compute)
 * into o; backend: cuda without a usable GPU is an error naming the reason. */
struct am_runtime_opts;
int am_stage_backend(const am_stage *s, struct am_runtime_opts *o, am_err *e);
/* Record the backend a created runtime uses (am_runtime_kernel_name). */
void am_stage_note_backend(am_stage *s, const char *runtime_name);

/* Write the provenance attributes every stage file carries. */
int am_prov_write(hid_t f, const am_stage *s, const char *schema, const char *fingerprint,
                  am_err *e);
/* Returns 1 if path exists, has `schema` and its fingerprint attribute equals
 * fingerprint (and then refreshes its mtime for make); 0 otherwise. */
int am_prov_up_to_date(const char *path, const char *schema, const char *fingerprint);
/* Read a file's fingerprint attribute (schema checked). */
int am_prov_fingerprint(const char *path, const char *schema, char out[17], am_err *e);
/* fingerprint = hash of the stage name and the given strings. */
void am_prov_hash(char out[17], const char *stage, const char *const *parts, int n);

/* Progress line on stderr: "<stage> <model>: <done>/<total> <what>, ETA 12s",
 * rewritten in place (\r) until done == total, am_progress_break or
 * am_progress_end ends it. */
typedef struct am_progress {
    const char *stage, *model, *what;
    double t0, last;
    int quiet;
    int open;   /* a progress line is on the terminal without its newline */
} am_progress;
void am_progress_start(am_progress *p, const char *stage, const char *model, const char *what, int quiet);
void am_progress_update(am_progress *p, long done, long total);
/* End an open progress line, so that other messages start on a line of their own. */
void am_progress_break(am_progress *p);
void am_progress_end(am_progress *p, const char *summary);
double am_now(void);

/* Writer of an /attention dataset [P, A, L, H, S, S], one map per chunk,
 * float32 or float16 (converted here), shuffle + deflate. */
typedef struct am_maps {
    hid_t dset, fspace, mspace, ftype;
    int H, S, f16, level;
    uint16_t *half;       /* [H][S][S] staging for float16 */
    unsigned char *shuf;  /* [H][S*S*elem] shuffled chunk bytes (level > 0) */
    unsigned char *z;     /* [H][zcap] deflated chunks */
    size_t zcap, *zlen;   /* zlen: [H] */
} am_maps;
int am_maps_create(am_maps *w, hid_t file, const char *name, int P, int A, int L, int H, int S,
                   int f16, int level, am_err *e);
/* maps: [H][S][S] float32, all heads of one (pair, alpha, layer). */
int am_maps_write(am_maps *w, int p, int a, int l, const float *maps, am_err *e);
void am_maps_close(am_maps *w);

/* The capture selection of the config resolved against a model: layers[Lc]
 * and heads[Hc] (model indices), and index[L]: model layer -> position in
 * layers, or -1 when not captured. */
typedef struct am_selection {
    int *layers, Lc;
    int *heads, Hc;
    int *index;
    unsigned char *mask;   /* [L] 1 = captured, for am_capture.layers */
} am_selection;
struct am_qwen3;
int am_selection_init(am_selection *sel, const am_config *c, const struct am_qwen3 *m, am_err *e);
void am_selection_free(am_selection *sel);
/* Write the /layer and /head scale datasets of a selection. */
int am_selection_write(const am_selection *sel, hid_t file, am_err *e);

/* The contents of mix.h5 a model stage needs. */
typedef struct am_mix_data {
    int P, A, T, D;          /* pairs, alphas, T_max, hidden size */
    float *emb;              /* [P][A][T][D] mixed input embeddings */
    int32_t *plen;           /* [P] prompt length */
    int32_t *n_pad;          /* [P][A] pads to mask (mask_pads) */
    double *alphas;          /* [A] */
    char fingerprint[17];
} am_mix_data;
struct am_qwen3;
/* Read mix.h5 and check it was computed with this checkpoint. */
int am_mix_load(const char *path, const struct am_qwen3 *m, am_mix_data *mx, am_err *e);
void am_mix_free(am_mix_data *mx);
/* Copy the per-pair/per-alpha metadata of mix.h5 (pair, alpha, prompts, ids,
 * prompt_length) into an output file. */
int am_mix_copy_meta(const char *mix_path, hid_t to, am_err *e);

/* Bytes of memory available to this process (MemAvailable, cgroup limit, or
 * the ATTNMIX_MEMORY_LIMIT environment variable). */
uint64_t am_memory_available(void);
/* Estimate what a model stage needs (mapped weights, KV caches, logits,
 * activations, maps_bytes of captured maps) and fail with advice when it does
 * not fit. */
int am_memory_check(const am_stage *s, const struct am_qwen3 *m, int units, int max_seq, uint64_t maps_bytes,
                    const char *stage, am_err *e);

/* Cube layout shared by generate and merge: dimension scales on every axis
 * of the cube's datasets, and the NeXus group /entry/maps for h5web. */
int am_cube_attach_scales(hid_t f, am_err *e);
int am_cube_write_nexus(hid_t f, am_err *e);

/* Frozen-pattern source resolved for a run of P pairs x A alphas (pair keys
 * from the config, prompt lengths plen[P], alphas[A]): for each run unit
 * u = p*A + a, the maps of the selected layers and heads of its source unit,
 * cropped to the source unit's length. */
typedef struct am_freeze_src {
    char path[4096];
    char fingerprint[17];        /* the source file's fingerprint attribute */
    char desc[4200];             /* "alpha 1 of <path>", for messages */
    int L, H;                    /* model layers, heads */
    unsigned char *lmask, *hmask;/* [L], [H] 1 = substituted */
    int *lsel, *hsel;            /* [L], [H] model index -> selected index, -1 */
    int Ls, Hs;                  /* selected counts */
    int U;
    int *len;                    /* [U] positions the source covers */
    float **maps;                /* [U] -> [Ls][Hs][len][len] */
    int *layers, *heads;         /* [Ls], [Hs] model indices (provenance) */
} am_freeze_src;
/* Default source path (see am_freeze_opts.from). */
void am_freeze_default_path(const am_stage *s, int forward, char *out, size_t n);
int am_freeze_src_load(am_freeze_src *f, const am_stage *s, const struct am_qwen3 *m, int forward, int P, int A,
                       const int32_t *plen, const double *alphas, am_err *e);
void am_freeze_src_free(am_freeze_src *f);
/* The runtime hook reading from f (ctx = f). */
int am_freeze_src_hook(void *ctx, int layer, int unit, int head, int q0, int nq, int nk, float *probs, am_err *e);
/* Provenance attributes freeze_* on an output file; fingerprint part for the
 * stage fingerprint ("" when not frozen). */
int am_freeze_src_write_attrs(const am_freeze_src *f, const am_stage *s, hid_t file, am_err *e);
void am_freeze_src_key(const am_freeze_src *f, const am_stage *s, char *out, size_t n);
/* KL(live || frozen) in nats of the next-token distributions at each
 * generated position j of the live run (ids [U][Nl], n_live [U] counts),
 * teacher-forced: both runs see the prompt and live tokens 0..j-1, the frozen
 * one with fz's patterns. kl: [U][Nl] (NaN past n_kl[u]); n_kl: [U] positions
 * whose context the source covers. */
int am_freeze_kl(const am_stage *s, const struct am_qwen3 *m, const am_mix_data *mx, const am_freeze_src *fz,
                 const int32_t *ids, int Nl, const int32_t *n_live, double *kl, int32_t *n_kl, am_err *e);
/* Default output directory name of a frozen run: "frozen-a<A>" or "frozen". */
void am_freeze_dir(const am_stage *s, char *out, size_t n);

/* mkdir -p */
int am_mkdirs(const char *path, am_err *e);

#endif
