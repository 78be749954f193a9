/* The mix of two prompts' input embeddings, the experiment's core formula:
 *   mix = alpha * E[a] + (1 - alpha) * E[b]
 * written once here for the embed-mix stage and every test and benchmark
 * that needs mixed embeddings, with the two interpolations beyond linear
 * (config key mix:, docs/config.md):
 *   slerp  w_a = sin(alpha t) / sin t, w_b = sin((1 - alpha) t) / sin t,
 *          t = the angle between E[a] and E[b] (linear when sin t < 1e-7)
 *   norm   the linear mix rescaled to the norm alpha |E[a]| + (1 - alpha) |E[b]|
 *          (left as it is when its norm is 0) */
#ifndef AM_MIX_H
#define AM_MIX_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "model/qwen3.h"

/* out[i] = wa * ea[i] + wb * eb[i] for i < D, with the weights computed in
 * double and rounded to float once: wa = (float)alpha, wb = (float)(1 - alpha).
 * alpha = 1 gives ea and alpha = 0 gives eb exactly. out may alias ea or eb. */
void am_mix_rows(float *out, const float *ea, const float *eb, double alpha, size_t D);

typedef enum { AM_MIX_LINEAR = 0, AM_MIX_SLERP = 1, AM_MIX_NORM = 2 } am_mix_mode;

/* One row mixed by mode (am_mix_rows for AM_MIX_LINEAR; the others in double,
 * rounded to float once). out may alias ea or eb. */
void am_mix_rows_mode(float *out, const float *ea, const float *eb, double alpha, size_t D, am_mix_mode mode);

/* Mixed input embeddings of two id sequences of length T:
 * out [T][D] row t = am_mix_rows(E[ids_a[t]], E[ids_b[t]]), E = embed_tokens
 * (stored dtype converted to float32). Ids must lie in [0, vocab_size). */
int am_mix_embed(const am_qwen3 *m, const int32_t *ids_a, const int32_t *ids_b, int T, double alpha, float *out,
                 am_err *e);
/* The same with a mix mode (am_mix_embed is AM_MIX_LINEAR). */
int am_mix_embed_mode(const am_qwen3 *m, const int32_t *ids_a, const int32_t *ids_b, int T, double alpha,
                      am_mix_mode mode, float *out, am_err *e);

#endif
