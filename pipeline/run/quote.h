/* Data written into generated scripts, in one place: the check every path and
 * name goes through before it is written into OUT/Makefile or a Slurm batch
 * script, and the quoting that writes it there. Makefile targets are phony
 * names chosen by attnmix (never paths), so data appears only inside recipe
 * lines (quoted for sh, '$' doubled for make) and bash scripts (quoted for
 * bash); what no quoting can carry is refused, naming the key and the
 * character. */
#ifndef AM_QUOTE_H
#define AM_QUOTE_H

#include <stdio.h>

#include "base/config.h"
#include "base/error.h"

/* Where a value is written. */
enum {
    AM_IN_SCRIPT = 0, /* a word of a make recipe or of a bash script: quoted */
    AM_IN_SBATCH = 1, /* also a value of an #SBATCH line (--output, --chdir), which Slurm reads unquoted */
};

/* 0 when value (the value of config key or setting `key`) can be written
 * where says; else -1 (AM_E_USAGE) with a message naming the key, the value,
 * the character and its position. Refused everywhere: control characters
 * (newline, tab, carriage return, ...: a newline ends a recipe or a comment
 * line) and '$' (the config expands no environment variable or command: a
 * "$SCRATCH/x" would otherwise become a directory named "$SCRATCH"). In
 * #SBATCH values also: spaces, quotes, backslash and '%' (a file-name
 * pattern there). */
int am_script_value_check(const char *key, const char *value, int where, am_err *e);

/* Every path and name of the config the driver writes into a Makefile or a
 * script (output_dir, the config path, each model's checkpoint and tokenizer)
 * through am_script_value_check; the first refusal is returned. */
int am_script_config_check(const am_config *c, int where, am_err *e);

/* Write s single-quoted for sh and bash: it's -> 'it'\''s'. */
void am_sh_quote(FILE *f, const char *s);

/* Write s as one word of a make recipe line: quoted for sh, each '$' doubled
 * for make. */
void am_make_quote(FILE *f, const char *s);

/* Into out[cap]: s with every byte outside [A-Za-z0-9._+-] replaced by '_'
 * (a Slurm job name, which is never quoted). */
void am_plain_name(const char *s, char *out, size_t cap);

#endif
