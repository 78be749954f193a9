/* config.json (+ generation_config.json): the input up to the first NUL byte
 * is config.json; what follows a NUL, if any, is generation_config.json.
 * A config the loader accepts must satisfy the invariants the runtime uses. */
#include "fuzz_common.h"
#include "model/qwen3.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    fuzz_scratch("cfg");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *nul = memchr(data, 0, size);
    size_t n1 = nul ? (size_t)(nul - data) : size;
    fuzz_write("config.json", data, n1);
    if (nul) fuzz_write("generation_config.json", nul + 1, size - n1 - 1);
    else fuzz_unlink("generation_config.json");
    am_qwen3_config c;
    am_err e = {0};
    if (am_qwen3_config_load(&c, fuzz_dir, &e) == 0) {
        if (c.hidden_size <= 0 || c.intermediate_size <= 0 || c.num_hidden_layers <= 0 || c.num_attention_heads <= 0 ||
            c.num_key_value_heads <= 0 || c.head_dim <= 0 || c.head_dim % 2 || c.vocab_size <= 0 ||
            c.max_position_embeddings <= 0 || c.num_attention_heads % c.num_key_value_heads || c.n_eos < 0 ||
            c.n_eos > AM_MAX_EOS)
            abort();
        for (int i = 0; i < c.n_eos; i++)
            if (c.eos_ids[i] < 0) abort();
        if (!memchr(c.torch_dtype, 0, sizeof c.torch_dtype)) abort();
    } else if (!e.msg[0]) {
        abort();
    }
    return 0;
}
