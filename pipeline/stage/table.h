/* The one table of the model stages: name, inputs, output, schema and the
 * config parts each output depends on. The stage programs' front end
 * (cli.c), the content stamps (stamp.h), the Makefile of `attnmix run`, the
 * Slurm scripts and merge all read it; no other place spells a stage's file
 * names. */
#ifndef AM_TABLE_H
#define AM_TABLE_H

typedef enum am_stage_id {
    AM_ST_TOKENIZE = 0,
    AM_ST_EMBED_MIX,
    AM_ST_FORWARD,
    AM_ST_GENERATE,
    AM_ST_INDUCTION,
    AM_N_STAGES
} am_stage_id;

typedef struct am_stage_def {
    const char *name;    /* program attnmix-<name> */
    int inputs[2];       /* stages whose outputs it reads (--in1, --in2), -1: none */
    const char *output;  /* file in OUT/<model>/ (OUT/<model>/pairs/<key>/ for a shard) */
    const char *schema;  /* its "schema" attribute (h5/schema.h) */
    const char *parts;   /* top-level config keys its output depends on, space-separated; every key
                          * this table does not know is a part of every stage too */
    int tokenizer;       /* depends on the tokenizer file's content */
    int checkpoint;      /* depends on the checkpoint (fingerprint) */
    int per_shard;       /* runs per (model, pair) shard on Slurm (else once per model) */
    const char *summary; /* for --help */
} am_stage_def;

extern const am_stage_def am_stage_table[AM_N_STAGES];

/* Config keys no stage output depends on (where the outputs go, how many
 * threads compute them). The part "models" is the stage's own model entry
 * without its paths (base/config_part.h). */
extern const char *const am_stage_unstamped_keys[];

/* The stage called name, or NULL. */
const am_stage_def *am_stage_def_find(const char *name);

#endif
