/* Byte-level BPE tokenizer of the Qwen2/Qwen3 family, loaded from a Hugging
 * Face tokenizer.json; encodes and decodes exactly as HF `tokenizers`. */
#ifndef AM_TOKENIZER_H
#define AM_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

typedef struct am_tokenizer am_tokenizer;

/* path: a tokenizer.json or a directory holding one. */
int am_tok_load(am_tokenizer **t, const char *path, am_err *e);
void am_tok_free(am_tokenizer *t);

/* Encode UTF-8 text (len bytes, may contain NUL) without adding special
 * tokens; special-token strings in the text map to their ids. *ids is
 * malloc'd (caller frees). Invalid UTF-8 fails with the byte offset. */
int am_tok_encode(const am_tokenizer *t, const char *text, size_t len, int32_t **ids, size_t *n, am_err *e);

/* Decode ids to UTF-8 (*out malloc'd, NUL-terminated, *len without the NUL).
 * An id without a token is an error. */
int am_tok_decode(const am_tokenizer *t, const int32_t *ids, size_t n, char **out, size_t *len, am_err *e);
/* As am_tok_decode, but ids without a token are skipped, as Hugging Face's
 * decode does, and counted in *n_unknown. A model's embedding matrix may have
 * more rows than the tokenizer has tokens (Qwen3: 151936 rows, 151669
 * tokens), so generated ids can fall in the gap. */
int am_tok_decode_skip(const am_tokenizer *t, const int32_t *ids, size_t n, char **out, size_t *len, size_t *n_unknown,
                       am_err *e);

/* One id decoded on its own, as Hugging Face's decode([id]) gives it (bytes
 * of an incomplete UTF-8 character become U+FFFD); "" for an id without a
 * token or a negative id. *out malloc'd. */
int am_tok_piece(const am_tokenizer *t, int32_t id, char **out, am_err *e);

/* Id of a token string (vocabulary or added token), -1 if none. */
int32_t am_tok_token_id(const am_tokenizer *t, const char *token);
/* Number of ids (max id + 1, including added tokens). */
int32_t am_tok_vocab_size(const am_tokenizer *t);
/* Token string of an id (byte-level form as in the vocab), NULL if none. */
const char *am_tok_token_str(const am_tokenizer *t, int32_t id);

#endif
