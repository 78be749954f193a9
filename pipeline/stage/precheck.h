/* What the stages would find wrong with a config, found before the first
 * stage runs (attnmix run, attnmix slurm): the capture selection against the
 * model, the positions each prompt pair needs, and generate's memory. */
#ifndef AM_PRECHECK_H
#define AM_PRECHECK_H

#include "base/config.h"
#include "base/error.h"

/* For model index i of c: open its checkpoint (headers only) and tokenizer,
 * tokenize every pair, and check capture.layers / capture.heads, prompt
 * tokens + generation.max_new_tokens against max_position_embeddings, and
 * the memory generate would need (am_memory_check). The message is the one
 * the stage would give. */
int am_stage_precheck(const am_config *c, int i, am_err *e);

#endif
