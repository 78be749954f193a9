/* Qwen3's chat template for one user turn, as Hugging Face's
 * apply_chat_template(messages=[{"role": "user", "content": text}],
 * add_generation_prompt=True[, enable_thinking=False]) writes it:
 *
 *   chat:         <|im_start|>user\n TEXT <|im_end|>\n<|im_start|>assistant\n
 *   chat-nothink: the same, then <think>\n\n</think>\n\n
 *
 * (no system turn: Qwen3's template adds none by default). */
#ifndef AM_CHAT_H
#define AM_CHAT_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "tokenizer/tokenizer.h"

typedef enum am_chat_template { AM_CHAT_NONE = 0, AM_CHAT = 1, AM_CHAT_NOTHINK = 2 } am_chat_template;

/* The text before and after the user's text. */
const char *am_chat_prefix(am_chat_template tpl);
const char *am_chat_suffix(am_chat_template tpl);

/* text wrapped in the template (*out malloc'd, NUL-terminated). */
int am_chat_wrap(am_chat_template tpl, const char *text, char **out, am_err *e);

/* Encode text wrapped in the template. *n_pre is the number of leading ids
 * that are the template's prefix and *n_post the trailing ids of its suffix,
 * when the whole encoding is the prefix's ids, then the text's, then the
 * suffix's (the text's first and last characters merge with no template
 * token); otherwise both are (size_t)-1. With AM_CHAT_NONE both are 0. */
int am_chat_encode(const am_tokenizer *t, am_chat_template tpl, const char *text, int32_t **ids, size_t *n,
                   size_t *n_pre, size_t *n_post, am_err *e);

#endif
