/* Memory budget of the model stages: estimate before allocating, choose the
 * resident-weights budget, and refuse with advice when the machine cannot hold
 * the run even with the weights streamed. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/memory.h"
#include "model/qwen3.h"
#include "model/wstream.h"
#include "stage/memory_check.h"
#include "stage/stage.h"

#define AM_STREAM_MARGIN (1ull << 30) /* bytes kept free beside the resident weights under auto */

static double gib(uint64_t b) { return (double)b / (1024.0 * 1024.0 * 1024.0); }

int am_memory_check(const am_stage *s, const am_qwen3 *m, int units, int max_seq, uint64_t maps_bytes,
                    const char *stage, uint64_t *weights_budget, am_err *e) {
    const am_qwen3_config *c = &m->cfg;
    *weights_budget = 0;
    uint64_t mapped = 0; /* every checkpoint byte, as mapped without streaming */
    for (int i = 0; i < m->st.nfiles; i++) mapped += m->st.files[i].size;
    const uint64_t kv = (uint64_t)units * c->num_hidden_layers * 2 * c->num_key_value_heads * max_seq * c->head_dim * 4;
    const uint64_t logits = (uint64_t)units * c->vocab_size * 4;
    const uint64_t tokens = (uint64_t)units * max_seq;
    const uint64_t act = tokens *
                             ((uint64_t)c->hidden_size * 4 + (uint64_t)c->intermediate_size * 2 +
                              (uint64_t)c->num_attention_heads * c->head_dim * 2) *
                             4 +
                         (uint64_t)c->num_attention_heads * max_seq * max_seq * 4 * 2;
    const uint64_t rest = kv + logits + act + maps_bytes, avail = am_memory_available();
    uint64_t want = s->cfg.resident_weights; /* 0 = auto */
    /* weight streaming is a CPU feature; the CUDA backend copies the weights to the device */
    int can_stream = s->cfg.backend != AM_BACKEND_CUDA;
    if (!can_stream || (!want && mapped + rest <= avail)) {
        if (mapped + rest <= avail) return 0;
        return am_fail_code(e, AM_E_NOMEM,
                            "%s %s: needs about %.2f GiB (weights %.2f, KV cache %.2f, captured maps %.2f, "
                            "activations %.2f) but %.2f GiB are available. Capture fewer layers or heads "
                            "(capture.layers / capture.heads in %s), lower generation.max_new_tokens, or run fewer "
                            "units at once (one pair per run: --pair KEY)",
                            stage, s->model->name, gib(mapped + rest), gib(mapped), gib(kv), gib(maps_bytes),
                            gib(act + logits), gib(avail), s->cfg.path);
    }
    am_wplan p;
    if (!want) { /* auto: what is left beside the run, less the read buffers streaming needs and a margin */
        am_wstream_plan(m, 1, &p); /* the buffers of the smallest plan */
        /* the margin: the page cache of the streamed reads and what the kernel
         * keeps free; with none, the resident layers' pages are evicted and
         * read again at every pass (Qwen3-14B on 23 GiB: 0.1 GB/s instead of
         * 0.67, docs/performance.md) */
        uint64_t extra = rest + p.buffers + (uint64_t)units * p.head_rows * 4 + AM_STREAM_MARGIN;
        want = avail > extra ? avail - extra : 1;
    }
    am_wstream_plan(m, want, &p);
    if (!am_wplan_streams(&p)) { /* the budget holds every weight: mapped as usual */
        if (mapped + rest <= avail) return 0;
        return am_fail_code(e, AM_E_NOMEM,
                            "%s %s: needs about %.2f GiB (weights %.2f, all resident under resident_weights %.2f "
                            "GiB, KV cache %.2f, captured maps %.2f, activations %.2f) but %.2f GiB are available. "
                            "Lower resident_weights in %s so that part of the weights stream from disk, capture "
                            "fewer layers or heads, or run fewer units at once (--pair KEY)",
                            stage, s->model->name, gib(mapped + rest), gib(mapped), gib(want), gib(kv), gib(maps_bytes),
                            gib(act + logits), gib(avail), s->cfg.path);
    }
    uint64_t head_tmp = p.head_streamed ? (uint64_t)units * p.head_rows * 4 : 0;
    uint64_t need = p.resident + p.buffers + head_tmp + rest;
    if (need > avail)
        return am_fail_code(
            e, AM_E_NOMEM,
            "%s %s: needs about %.2f GiB with the weights streamed (resident weights %.2f of %.2f, %d of "
            "%d layers%s; read buffers %.2f; KV cache %.2f, captured maps %.2f, activations %.2f) but "
            "%.2f GiB are available. %sCapture fewer layers or heads (capture.layers / capture.heads "
            "in %s), lower generation.max_new_tokens, or run fewer units at once (--pair KEY)",
            stage, s->model->name, gib(need), gib(p.resident), gib(p.total), p.n_resident, p.n_layers,
            p.head_streamed ? ", lm_head streamed" : ", lm_head resident", gib(p.buffers + head_tmp), gib(kv),
            gib(maps_bytes), gib(act + logits), gib(avail),
            s->cfg.resident_weights ? "Lower resident_weights, or " : "", s->cfg.path);
    *weights_budget = want;
    return 0;
}
