/* Frozen attention patterns for forward and generate (docs/freeze.md). */
#ifndef AM_FREEZE_H
#define AM_FREEZE_H

#include "model/qwen3.h"
#include "stage/mix_data.h"
#include "stage/stage.h"
#include <hdf5.h>
#include <stdint.h>

/* Frozen-pattern source resolved for a run of P pairs x A alphas (pair keys
 * from the config, prompt lengths plen[P], alphas[A]): for each run unit
 * u = p*A + a, the maps of the selected layers and heads of its source unit,
 * cropped to the source unit's length. */
typedef struct am_freeze_src {
    char path[4096];
    char fingerprint[17];         /* the source file's fingerprint attribute */
    char desc[4200];              /* "alpha 1 of <path>", for messages */
    int L, H;                     /* model layers, heads */
    unsigned char *lmask, *hmask; /* [L], [H] 1 = substituted */
    int *lsel, *hsel;             /* [L], [H] model index -> selected index, -1 */
    int Ls, Hs;                   /* selected counts */
    int U;
    int *len;            /* [U] positions the source covers */
    float **maps;        /* [U] -> [Ls][Hs][len][len] */
    int *layers, *heads; /* [Ls], [Hs] model indices (provenance) */
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

#endif
