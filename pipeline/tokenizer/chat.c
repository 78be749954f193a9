/* Qwen3's chat template for one user turn (see chat.h). */
#include "tokenizer/chat.h"

#include <stdlib.h>
#include <string.h>

static const char PREFIX[] = "<|im_start|>user\n";
static const char SUFFIX[] = "<|im_end|>\n<|im_start|>assistant\n";
static const char SUFFIX_NOTHINK[] = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n";

const char *am_chat_prefix(am_chat_template tpl) { return tpl == AM_CHAT_NONE ? "" : PREFIX; }

const char *am_chat_suffix(am_chat_template tpl) {
    return tpl == AM_CHAT_NONE ? "" : tpl == AM_CHAT_NOTHINK ? SUFFIX_NOTHINK : SUFFIX;
}

int am_chat_wrap(am_chat_template tpl, const char *text, char **out, am_err *e) {
    const char *pre = am_chat_prefix(tpl), *post = am_chat_suffix(tpl);
    size_t a = strlen(pre), b = strlen(text), c = strlen(post);
    char *s = am_malloc(a + b + c + 1, 1, "the prompt in its chat template", e);
    if (!s) return -1;
    memcpy(s, pre, a);
    memcpy(s + a, text, b);
    memcpy(s + a + b, post, c + 1);
    *out = s;
    return 0;
}

/* 1 if ids[at .. at+m) equals part[0 .. m). */
static int same(const int32_t *ids, size_t at, const int32_t *part, size_t m) {
    return memcmp(ids + at, part, m * sizeof *ids) == 0;
}

int am_chat_encode(const am_tokenizer *t, am_chat_template tpl, const char *text, int32_t **ids, size_t *n,
                   size_t *n_pre, size_t *n_post, am_err *e) {
    char *full = NULL;
    int32_t *pre = NULL, *post = NULL;
    size_t np = 0, nq = 0;
    int rc = -1;
    *ids = NULL, *n = 0, *n_pre = 0, *n_post = 0;
    if (tpl == AM_CHAT_NONE) return am_tok_encode(t, text, strlen(text), ids, n, e);
    if (am_chat_wrap(tpl, text, &full, e) || am_tok_encode(t, full, strlen(full), ids, n, e) ||
        am_tok_encode(t, am_chat_prefix(tpl), strlen(am_chat_prefix(tpl)), &pre, &np, e) ||
        am_tok_encode(t, am_chat_suffix(tpl), strlen(am_chat_suffix(tpl)), &post, &nq, e))
        goto out;
    if (*n >= np + nq && same(*ids, 0, pre, np) && same(*ids, *n - nq, post, nq)) *n_pre = np, *n_post = nq;
    else *n_pre = *n_post = (size_t)-1;
    rc = 0;
out:
    if (rc) free(*ids), *ids = NULL, *n = 0;
    free(full);
    free(pre);
    free(post);
    return rc;
}
