/* tokenizer.json loading: the input is the whole file, loaded with am_tok_load.
 * A tokenizer that loads must encode and decode a few texts without faults. */
#include "fuzz_common.h"
#include "tokenizer/tokenizer.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_scratch("tokload");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[512];
    fuzz_write("tokenizer.json", data, size);
    fuzz_path(path, sizeof path, "tokenizer.json");
    am_tokenizer *t = NULL;
    am_err e = {0};
    if (am_tok_load(&t, path, &e) != 0) {
        if (!e.msg[0] || t) abort();
        return 0;
    }
    static const char *texts[] = {"Hello world", "  caf\xc3\xa9 12345 <|endoftext|>!", "a\nb\tc", ""};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        int32_t *ids = NULL;
        size_t n = 0;
        char *out = NULL;
        size_t len = 0;
        if (am_tok_encode(t, texts[i], strlen(texts[i]), &ids, &n, &e) == 0) {
            for (size_t k = 0; k < n; k++)
                if (ids[k] < 0 || ids[k] >= am_tok_vocab_size(t) || !am_tok_token_str(t, ids[k])) abort();
            if (am_tok_decode(t, ids, n, &out, &len, &e) == 0 && strlen(out) > len) abort();
        }
        free(ids);
        free(out);
    }
    am_tok_free(t);
    return 0;
}
