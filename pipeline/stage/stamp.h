/* Content stamps. Every stage output carries two attributes:
 *   stamp_parts  "format=<schema>;<key>=<hash>;...;tokenizer=<fp>;checkpoint=<fp>": the hashes of
 *                the config parts the stage depends on (stage/table.h; base/config_part.h), the
 *                fingerprints of the tokenizer file and of the checkpoint where it uses them, and
 *                the file format;
 *   fingerprint  the stamp: a hash of the stage name, stamp_parts, the stamps of its input files
 *                and the stage's own options (frozen patterns, induction sizes).
 * A stage whose output carries the stamp it would write does nothing; a
 * stage refuses an input whose stamp_parts differ from the ones this config
 * and checkpoint give for that input's stage, naming both files and what
 * differs. Modification times are never consulted. */
#ifndef AM_STAMP_H
#define AM_STAMP_H

#include <hdf5.h>
#include <stddef.h>

#include "base/config.h"
#include "base/config_part.h"
#include "base/error.h"
#include "stage/table.h"

typedef struct am_stamp_ctx {
    const am_config *cfg;
    am_config_part parts[AM_MAX_PARTS];
    int n_parts;
    char tokenizer_path[4200]; /* the model's tokenizer.json */
    char tokenizer[17];        /* its fingerprint */
    char checkpoint[17];       /* the checkpoint fingerprint ("" when not known) */
} am_stamp_ctx;

/* The tokenizer.json model m uses (its tokenizer: a file or a directory,
 * default the checkpoint directory) into path[n] and the hash of its bytes. */
int am_stamp_tokenizer(const am_model_cfg *m, char *path, size_t n, char hex[17], am_err *e);

/* Stamp context of config c for model m (pair_key: a shard, else NULL).
 * checkpoint: the checkpoint fingerprint (am_qwen3 .fingerprint) or NULL
 * when no stage that needs it is stamped. */
int am_stamp_ctx_init(am_stamp_ctx *x, const am_config *c, const am_model_cfg *m, const char *pair_key,
                      const char *checkpoint, am_err *e);

/* am_stamp_ctx_init for the model and the pair (when one is selected) of stage s. */
struct am_stage;
int am_stamp_ctx_stage(am_stamp_ctx *x, const struct am_stage *s, const char *checkpoint, am_err *e);

/* The stamp_parts string of stage id under x into out[n]. */
void am_stamp_parts(const am_stamp_ctx *x, int id, char *out, size_t n);

/* The stamp: hash of the stage's name, its parts, input stamps and extra (may be NULL). */
void am_stamp_make(const am_stamp_ctx *x, int id, const char *const *input_stamps, int n_inputs, const char *extra,
                   char out[17]);

/* Open input file path as the output of stage id: schema checked, its
 * stamp_parts compared with x's for that stage (a difference fails, naming
 * path, the config it was made from, x's config, and the differing parts),
 * its stamp into stamp. */
int am_stamp_input(const am_stamp_ctx *x, int id, const char *path, char stamp[17], am_err *e);

/* The same check on an open file f: 1 when its stamp_parts match x's for
 * stage id, 0 when not (why gets the differing parts: "pairs, alphas",
 * "checkpoint", or "its content stamp" when it has none). */
int am_stamp_matches(hid_t f, const am_stamp_ctx *x, int id, char *why, size_t n);

/* Write stamp_parts of stage id into f. */
int am_stamp_write(hid_t f, const am_stamp_ctx *x, int id, am_err *e);

#endif
