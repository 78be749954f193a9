/* Hugging Face hub ids as checkpoints: "Qwen/Qwen3-1.7B" names a snapshot
 * directory in the local Hugging Face cache, laid out as huggingface_hub
 * writes it:
 *
 *   <cache>/models--Qwen--Qwen3-1.7B/refs/main          the commit of branch main
 *   <cache>/models--Qwen--Qwen3-1.7B/snapshots/<commit>/ config.json, *.safetensors, ...
 *
 * <cache> is $HF_HUB_CACHE (or its older name $HUGGINGFACE_HUB_CACHE), else $HF_HOME/hub, else
 * $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
 * Nothing is downloaded: a model that is not in the cache is an error that
 * gives the download command. */
#ifndef AM_HUB_H
#define AM_HUB_H

#include <stddef.h>

#include "base/error.h"

/* 1 if spec has the form of a hub id ("namespace/name", each part of
 * [A-Za-z0-9._-], not starting with '.' or '-', no "--" or ".."), else 0.
 * Whether it is taken as one also depends on am_hub_resolve. */
int am_hub_is_id(const char *spec);

/* The cache directory (above) into out; -1 if it does not fit or no
 * variable gives one. */
int am_hub_cache_dir(char *out, size_t n, am_err *e);

/* The directory a checkpoint spec names: spec itself when it is an existing
 * path or does not have the form of a hub id (a missing directory is then
 * reported by whoever opens it), else the cached snapshot of revision
 * (a branch or tag name under refs/, or a 40-digit commit; NULL = "main").
 * *dir is malloc'd. A hub id that is not in the cache, a missing revision or
 * a snapshot without config.json fails with AM_E_NOTFOUND and the
 * download command. what names the config key in messages
 * ("models[0].checkpoint"). A revision with a spec that is a directory is
 * AM_E_USAGE. */
int am_hub_resolve(const char *spec, const char *revision, const char *what, char **dir, am_err *e);

/* Resolve every model's checkpoint (and a tokenizer given as a hub id) with
 * am_hub_resolve: checkpoint becomes the snapshot directory, hub_id keeps the
 * id, and a tokenizer that defaulted to the checkpoint follows it. A hub id
 * that is not in the cache stays as it is, with the message (naming the config
 * file, the model and the download command) in hub_missing: am_run_check and
 * the model's stages report it; a config that names it can still be read.
 * Other failures (a revision with a directory, a corrupt ref) are errors. */
struct am_config;
int am_hub_resolve_models(struct am_config *c, am_err *e);

#endif
