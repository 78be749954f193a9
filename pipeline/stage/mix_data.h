/* Reading mix.h5 back for the model stages. */
#ifndef AM_MIX_DATA_H
#define AM_MIX_DATA_H

#include "base/error.h"
#include "model/qwen3.h"
#include "model/runtime.h"
#include <hdf5.h>
#include <stdint.h>

/* The contents of mix.h5 a model stage needs. */
typedef struct am_mix_data {
    int P, A, T, D; /* pairs, alphas, T_max, hidden size */
    float *emb;     /* [P][A][T][D] mixed input embeddings */
    int32_t *plen;  /* [P] prompt length */
    int32_t *n_pad; /* [P][A] pads to mask (mask_pads) */
    double *alphas; /* [A] */
    char fingerprint[17];
} am_mix_data;
/* Read mix.h5 and check it was computed with this checkpoint. */
int am_mix_load(const char *path, const struct am_qwen3 *m, am_mix_data *mx, am_err *e);
void am_mix_free(am_mix_data *mx);
/* Copy the per-pair/per-alpha metadata of mix.h5 (pair, alpha, prompts, ids,
 * prompt_length) into an output file. */
int am_mix_copy_meta(const char *mix_path, hid_t to, am_err *e);
/* The units of a prefill am_forward over all of mx: unit u = p*A + a in cache
 * slot u (units[u] = u), its prompt length lens[u] and embeddings emb[u]
 * (pointers into mx), each cache reset with the unit's pads (masked when
 * mask_pads). units, lens, emb: [P*A]. */
void am_mix_units(const am_mix_data *mx, am_runtime *rt, int mask_pads, int *units, int *lens, const float **emb);

#endif
