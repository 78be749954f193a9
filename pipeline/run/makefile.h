/* `attnmix run`: the checks made before any stage runs, OUT/Makefile with one
 * phony rule per stage and model (the stage table, stage/table.h), and make
 * on it. make only orders the stages and runs independent models in
 * parallel (-j); every rule calls its stage, which decides from content
 * stamps (stage/stamp.h) whether its output is current, never from
 * modification times. The stages' atomic writes make a killed run
 * resumable.
 *
 * Per model: tokens.h5, mix.h5, prefill.h5, cube.h5 (tokenize, embed-mix,
 * forward, generate) and induction.h5 (attnmix-induction, from the config and
 * the checkpoint); then analysis.h5 from the cubes, the induction files and
 * the frozen-pattern runs present when the Makefile is written (run/inputs.h),
 * and the figures from the analysis. */
#ifndef AM_MAKEFILE_H
#define AM_MAKEFILE_H

#include "base/config.h"
#include "base/error.h"

/* Before anything runs: the output directory, the config path and every
 * checkpoint and tokenizer path can be written into a script
 * (am_script_config_check, run/quote.h), and every model's
 * checkpoint (config.json) and tokenizer exist. A failure names the model
 * and the key to edit (a path no script can carry: AM_E_USAGE; a missing
 * checkpoint or tokenizer: AM_E_NOTFOUND, every model in error listed, one
 * per line). */
int am_run_check(const am_config *c, am_err *e);

/* Write the Makefile to path atomically (temporary name, fsync, rename).
 * bin: directory of the attnmix programs; force: the stages run with
 * --force (they recompute). Every path in it is quoted (run/quote.h); a
 * frozen-run directory or bin that no script can carry is refused. */
int am_makefile_write(const am_config *c, const char *bin, const char *path, int force, am_err *e);

/* make -f path -jJOBS (-n with dry): fails when make cannot run or stops
 * with an error (its own message is on stderr already). */
int am_makefile_run(const char *path, int jobs, int dry, am_err *e);

#endif
