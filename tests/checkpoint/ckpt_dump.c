/* checkpoint-dump DIR OUT.bin: open a Qwen3 checkpoint with am_qwen3_open and
 * dump what the loader exposes, for comparison with numpy readers/writers.
 * stdout: a JSON object {"config": {...}, "fingerprint": "...", "slots": [
 *   {"slot": "layers.3.q_proj", "name": ..., "dtype": ..., "shape": [...],
 *    "file": basename, "offset": bytes into OUT.bin, "nbytes": n}, ...]}
 * OUT.bin: the raw bytes of each slot's tensor, concatenated. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "model/qwen3.h"

static int dump(json_t *slots, FILE *bin, long *off, const am_qwen3 *m, const char *slot, const am_tensor *t) {
    json_t *sh = json_array();
    for (int i = 0; i < t->ndim; i++) json_array_append_new(sh, json_integer(t->shape[i]));
    const char *base = strrchr(m->st.files[t->file].path, '/');
    json_array_append_new(slots, json_pack("{s:s,s:s,s:s,s:o,s:s,s:I,s:I}", "slot", slot, "name", t->name, "dtype",
                                           am_dtype_name(t->dtype), "shape", sh, "file",
                                           base ? base + 1 : m->st.files[t->file].path, "offset", (json_int_t)*off,
                                           "nbytes", (json_int_t)t->nbytes));
    if (fwrite(t->data, 1, t->nbytes, bin) != t->nbytes) return -1;
    *off += (long)t->nbytes;
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: checkpoint-dump DIR OUT.bin\n");
        return 2;
    }
    am_qwen3 m;
    am_err e = {0};
    if (am_qwen3_open(&m, argv[1], &e)) {
        fprintf(stderr, "checkpoint-dump: %s\n", e.msg);
        return 1;
    }
    FILE *bin = fopen(argv[2], "wb");
    if (!bin) {
        perror(argv[2]);
        return 1;
    }
    const am_qwen3_config *c = &m.cfg;
    json_t *eos = json_array();
    for (int i = 0; i < c->n_eos; i++) json_array_append_new(eos, json_integer(c->eos_ids[i]));
    json_t *cfg = json_pack("{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:f,s:f,s:b,s:i,s:o,s:s}", "hidden_size", c->hidden_size,
                            "intermediate_size", c->intermediate_size, "num_hidden_layers", c->num_hidden_layers,
                            "num_attention_heads", c->num_attention_heads, "num_key_value_heads",
                            c->num_key_value_heads, "head_dim", c->head_dim, "vocab_size", c->vocab_size,
                            "max_position_embeddings", c->max_position_embeddings, "rms_norm_eps", c->rms_norm_eps,
                            "rope_theta", c->rope_theta, "tie_word_embeddings", c->tie_word_embeddings, "bos_token_id",
                            c->bos_token_id, "eos_ids", eos, "torch_dtype", c->torch_dtype);
    json_t *slots = json_array();
    long off = 0;
    int rc = 0;
    rc |= dump(slots, bin, &off, &m, "embed", m.embed);
    rc |= dump(slots, bin, &off, &m, "final_norm", m.final_norm);
    rc |= dump(slots, bin, &off, &m, "lm_head", m.lm_head);
    static const char *fields[] = {"input_norm", "q_proj",    "k_proj",    "v_proj",  "o_proj",   "q_norm",
                                   "k_norm",     "post_norm", "gate_proj", "up_proj", "down_proj"};
    for (int l = 0; l < c->num_hidden_layers; l++) {
        const am_tensor *const *t = (const am_tensor *const *)&m.layers[l];
        for (int k = 0; k < 11; k++) {
            char slot[64];
            snprintf(slot, sizeof slot, "layers.%d.%s", l, fields[k]);
            rc |= dump(slots, bin, &off, &m, slot, t[k]);
        }
    }
    if (fclose(bin) || rc) {
        fprintf(stderr, "checkpoint-dump: cannot write %s\n", argv[2]);
        return 1;
    }
    json_t *out = json_pack("{s:o,s:s,s:o,s:i}", "config", cfg, "fingerprint", m.fingerprint, "slots", slots, "nfiles",
                            m.st.nfiles);
    json_dumpf(out, stdout, JSON_COMPACT);
    putchar('\n');
    json_decref(out);
    am_qwen3_close(&m);
    return 0;
}
