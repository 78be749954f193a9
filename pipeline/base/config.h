/* Experiment configuration from YAML (libyaml), with defaults and validation.
 * Unknown keys and wrong types are errors that name file:line:column. */
#ifndef AM_CONFIG_H
#define AM_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* generation.mode: greedy, sample (temperature/top_k/top_p of the config) or
 * checkpoint (do_sample/temperature/top_k/top_p of generation_config.json). */
enum { AM_GEN_GREEDY = 0, AM_GEN_SAMPLE = 1, AM_GEN_CHECKPOINT = 2 };
/* generation.teacher: every alpha of a pair fed the same continuation. */
enum { AM_TEACH_NONE = 0, AM_TEACH_ALPHA1, AM_TEACH_ALPHA0, AM_TEACH_TEXT };

typedef enum am_backend { AM_BACKEND_AUTO = 0, AM_BACKEND_CPU, AM_BACKEND_CUDA } am_backend;

typedef struct am_model_cfg {
    char *name;        /* output subdirectory; [A-Za-z0-9._-]+ */
    char *checkpoint;  /* HF checkpoint directory (a hub id in the config is resolved by am_config_load) */
    char *tokenizer;   /* tokenizer.json or directory; default: checkpoint */
    char *revision;    /* hub ids only: branch, tag or commit in the HF cache; NULL = main */
    char *hub_id;      /* the hub id the config gave ("Qwen/Qwen3-1.7B"), NULL for a directory */
    char *hub_missing; /* a hub id not in the cache: the message with the download command, else NULL */
} am_model_cfg;

typedef struct am_pair_cfg {
    char *key;   /* unique, [A-Za-z0-9._-]+ */
    char *a, *b; /* prompts, non-empty UTF-8 */
} am_pair_cfg;

typedef struct am_config {
    char *path; /* file it came from */
    char *text; /* the YAML text, verbatim (recorded in outputs) */
    size_t text_len;
    char *experiment;     /* required */
    char *output_dir;     /* default "out/<experiment>" */
    uint64_t seed;        /* default 0 */
    am_model_cfg *models; /* [n_models] >= 1 */
    int n_models;
    am_pair_cfg *pairs; /* [n_pairs] >= 1 */
    int n_pairs;
    double *alphas; /* [n_alphas] >= 1; default 0, .25, .5, .75, 1 */
    int n_alphas;
    int mix; /* mix: linear (default, 0) | slerp (1) | norm (2); names in am_config_mix_names */
    /* padding */
    int pad_left;   /* side: left (default) | right */
    int32_t pad_id; /* -1 = the tokenizer's <|endoftext|> */
    int mask_pads;  /* default 0 */
    /* prompts */
    int chat_template;  /* template: none (0, default) | chat (1) | chat-nothink (2) (tokenizer/chat.h) */
    int align_template; /* align: template: pads inside the user turn (pad_left = 0 then) */
    /* generation */
    int max_new_tokens; /* default 100 */
    int sample;         /* mode: AM_GEN_GREEDY (default) | AM_GEN_SAMPLE | AM_GEN_CHECKPOINT */
    double temperature; /* default 1.0 (sampling only) */
    double top_p;       /* default 1.0 (sampling only) */
    int top_k;          /* default 0 = off (sampling only) */
    int teacher;        /* AM_TEACH_NONE (default: live) | _ALPHA1 | _ALPHA0 | _TEXT */
    char *teacher_text; /* teacher: text, the continuation fed to every unit */
    int32_t *eos_ids;   /* NULL = from the checkpoint's generation_config.json */
    int n_eos;
    /* capture */
    int *layers; /* NULL = all layers */
    int n_layers;
    int *heads; /* NULL = all query heads */
    int n_heads;
    int store_f16;   /* dtype: float32 (default) | float16 */
    int compression; /* deflate level 0..9, default 4 */
    /* execution */
    am_backend backend; /* default auto (the CPU until the CUDA backend is validated on a GPU) */
    int cuda_f32;       /* cuda_compute: bf16 (default, 0) | float32 (1) */
    int threads;        /* 0 = all cores */
    /* resident_weights: bytes of weights kept in memory, the rest streamed
     * from disk; 0 = auto (available memory minus what the run needs) */
    uint64_t resident_weights;
    /* warnings that are not errors (alpha outside [0,1], ...), one per line */
    char warnings[1024];
} am_config;

/* Names of the mix modes, indexed by am_config.mix ("linear", "slerp", "norm"). */
extern const char *const am_config_mix_names[4];

/* Read and parse path, then resolve hub ids among the checkpoints in the
 * Hugging Face cache (base/hub.h). */
int am_config_load(am_config *c, const char *path, am_err *e);
int am_config_parse(am_config *c, const char *text, size_t len, const char *name, am_err *e);
void am_config_free(am_config *c);

#endif
