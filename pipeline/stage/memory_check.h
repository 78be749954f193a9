/* Memory estimate of a model stage, checked before anything is allocated. */
#ifndef AM_MEMORY_CHECK_H
#define AM_MEMORY_CHECK_H

#include "model/qwen3.h"
#include "stage/stage.h"
#include <stdint.h>

/* Estimate what a model stage needs (mapped weights, KV caches, logits,
 * activations, maps_bytes of captured maps) and fail with advice when it does
 * not fit. */
int am_memory_check(const am_stage *s, const struct am_qwen3 *m, int units, int max_seq, uint64_t maps_bytes,
                    const char *stage, am_err *e);

#endif
