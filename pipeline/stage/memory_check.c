/* Memory budget of the model stages: estimate before allocating, and refuse
 * with advice when the machine cannot hold the run. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/memory.h"
#include "model/qwen3.h"
#include "stage/memory_check.h"
#include "stage/stage.h"

static double gib(uint64_t b) { return (double)b / (1024.0 * 1024.0 * 1024.0); }

int am_memory_check(const am_stage *s, const am_qwen3 *m, int units, int max_seq, uint64_t maps_bytes,
                    const char *stage, am_err *e) {
    const am_qwen3_config *c = &m->cfg;
    uint64_t weights = 0;
    for (int i = 0; i < m->st.nfiles; i++) weights += m->st.files[i].size;
    const uint64_t kv = (uint64_t)units * c->num_hidden_layers * 2 * c->num_key_value_heads * max_seq * c->head_dim * 4;
    const uint64_t logits = (uint64_t)units * c->vocab_size * 4;
    const uint64_t tokens = (uint64_t)units * max_seq;
    const uint64_t act = tokens *
                             ((uint64_t)c->hidden_size * 4 + (uint64_t)c->intermediate_size * 2 +
                              (uint64_t)c->num_attention_heads * c->head_dim * 2) *
                             4 +
                         (uint64_t)c->num_attention_heads * max_seq * max_seq * 4 * 2;
    const uint64_t need = weights + kv + logits + act + maps_bytes, avail = am_memory_available();
    if (need <= avail) return 0;
    return am_fail_code(e, AM_E_NOMEM,
                        "%s %s: needs about %.2f GiB (weights %.2f, KV cache %.2f, captured maps %.2f, activations "
                        "%.2f) but %.2f GiB are available. Capture fewer layers or heads (capture.layers / "
                        "capture.heads in %s), lower generation.max_new_tokens, or run fewer units at once "
                        "(one pair per run: --pair KEY)",
                        stage, s->model->name, gib(need), gib(weights), gib(kv), gib(maps_bytes), gib(act + logits),
                        gib(avail), s->cfg.path);
}
