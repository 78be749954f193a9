/* The experiment YAML, parsed from memory with am_config_parse. A config that
 * parses must satisfy the documented invariants. */
#include "base/config.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    am_config c;
    am_err e = {0};
    int rc = am_config_parse(&c, (const char *)data, size, "fuzz.yaml", &e);
    if (rc == 0) {
        if (!c.experiment || !c.output_dir || c.n_models < 1 || c.n_pairs < 1 || c.n_alphas < 1 ||
            c.max_new_tokens < 0 || c.compression < 0 || c.compression > 9)
            abort();
        for (int i = 0; i < c.n_pairs; i++) {
            if (!c.pairs[i].a[0] || !c.pairs[i].b[0]) abort();
            for (int j = 0; j < i; j++)
                if (!strcmp(c.pairs[i].key, c.pairs[j].key)) abort();
        }
        for (int i = 0; i < c.n_models; i++)
            if (!c.models[i].name[0] || !c.models[i].checkpoint) abort();
        if (!memchr(c.warnings, 0, sizeof c.warnings)) abort();
    } else if (!e.msg[0]) {
        abort();
    }
    am_config_free(&c);
    return 0;
}
