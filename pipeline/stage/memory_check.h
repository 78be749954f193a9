/* Memory estimate of a model stage, checked before anything is allocated. */
#ifndef AM_MEMORY_CHECK_H
#define AM_MEMORY_CHECK_H

#include "model/qwen3.h"
#include "stage/stage.h"
#include <stdint.h>

/* Estimate what a model stage needs (weights, KV caches, logits, activations,
 * maps_bytes of captured maps) and fail with advice when it does not fit.
 * *weights_budget (for am_runtime_opts.weights_budget): 0 when every weight
 * stays mapped, else the resident-weights budget under which the rest of the
 * weights stream from disk: the config's resident_weights, or with auto, when
 * the checkpoint does not fit, the available memory minus what the run needs
 * besides the weights (model/wstream.h). */
int am_memory_check(const am_stage *s, const struct am_qwen3 *m, int units, int max_seq, uint64_t maps_bytes,
                    const char *stage, uint64_t *weights_budget, am_err *e);

#endif
