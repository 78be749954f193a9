/* Qwen3 dense checkpoints: config.json (+ generation_config.json) and weights
 * bound to the layer structure. Weights stay in their stored dtype, pointing
 * into the mmapped safetensors. */
#ifndef AM_QWEN3_H
#define AM_QWEN3_H

#include "model/safetensors.h"

#define AM_MAX_EOS 8

typedef struct am_qwen3_config {
    int hidden_size;         /* D */
    int intermediate_size;   /* F */
    int num_hidden_layers;   /* L */
    int num_attention_heads; /* H */
    int num_key_value_heads; /* KV (missing: 32, as HF) */
    int head_dim;            /* hd (missing: 128) */
    int vocab_size;          /* V */
    int max_position_embeddings;
    double rms_norm_eps;
    double rope_theta;       /* top-level or rope_parameters.rope_theta */
    int tie_word_embeddings; /* missing: 0 */
    int bos_token_id;        /* -1 if absent */
    int eos_ids[AM_MAX_EOS]; /* generation_config.json eos_token_id, else config.json */
    int n_eos;
    /* generation_config.json sampling fields (-1 / 0 / NaN when absent) */
    int gen_do_sample;      /* do_sample: 1, 0, or -1 */
    double gen_temperature; /* temperature, NaN when absent */
    int gen_top_k;          /* top_k, -1 when absent */
    double gen_top_p;       /* top_p, NaN when absent */
    char torch_dtype[16];
} am_qwen3_config;

/* Parse config.json (and generation_config.json beside it when present). */
int am_qwen3_config_load(am_qwen3_config *c, const char *dir, am_err *e);

typedef struct am_qwen3_layer {
    const am_tensor *input_norm; /* [D]            input_layernorm */
    const am_tensor *q_proj;     /* [H*hd, D] */
    const am_tensor *k_proj;     /* [KV*hd, D] */
    const am_tensor *v_proj;     /* [KV*hd, D] */
    const am_tensor *o_proj;     /* [D, H*hd] */
    const am_tensor *q_norm;     /* [hd] */
    const am_tensor *k_norm;     /* [hd] */
    const am_tensor *post_norm;  /* [D]            post_attention_layernorm */
    const am_tensor *gate_proj;  /* [F, D] */
    const am_tensor *up_proj;    /* [F, D] */
    const am_tensor *down_proj;  /* [D, F] */
} am_qwen3_layer;

typedef struct am_qwen3 {
    am_qwen3_config cfg;
    am_safetensors st;
    const am_tensor *embed;      /* [V, D] model.embed_tokens.weight */
    const am_tensor *final_norm; /* [D]    model.norm.weight */
    const am_tensor *lm_head;    /* [V, D] == embed when tied */
    am_qwen3_layer *layers;      /* [L] */
    char dir[4096];
    char fingerprint[17]; /* 16 hex digits, see am_qwen3_open */
} am_qwen3;

/* Load config and bind every tensor, checking names, shapes and dtypes against
 * the config; messages name the file and the tensor. The fingerprint hashes
 * config.json, every shard's header and size, and samples of every tensor's
 * bytes (its first, middle and last 256 bytes; not every weight byte). */
int am_qwen3_open(am_qwen3 *m, const char *dir, am_err *e);
void am_qwen3_close(am_qwen3 *m);

#endif
