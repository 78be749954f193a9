/* Per-pair shard cubes (OUT/<model>/pairs/<key>/cube.h5, written by the
 * stages run with --pair) stitched into the per-model cube with HDF5 virtual
 * datasets, and a copy of such a cube into one self-contained file.
 *
 * The merged /attention is a virtual dataset whose sources are named by paths
 * relative to the merged file's directory ("pairs/<key>/cube.h5"), which HDF5
 * resolves against the directory of the file holding the virtual dataset: the
 * run directory can be moved or copied as a whole. Because a missing source
 * reads as fill values, nothing is written unless every shard is present and
 * was computed for this config, model and checkpoint. */
#ifndef AM_MERGE_H
#define AM_MERGE_H

#include <stddef.h>

#include "base/config.h"
#include "base/error.h"

/* Path of a shard's cube relative to OUT/<model>: "pairs/<key>/cube.h5". */
void am_shard_rel(const char *key, char *out, size_t n);

/* Cheap completeness check of one shard's cube (no model is loaded): the file
 * exists, opens, has schema attnmix.cube/1, was computed from this config text
 * (config_hash) for this model and pair. Returns 1 when complete, 0 otherwise
 * with the reason in why. */
int am_shard_complete(const am_config *c, const char *model, const char *key, char *why, size_t n);

/* Same for a whole-model cube OUT/<model>/cube.h5 (the --shard model mode). */
int am_model_cube_complete(const am_config *c, const char *model, char *why, size_t n);

/* Build OUT/<model>/cube.h5 from the shards of every pair of the config.
 * Checks every shard first (exists, opens, schema, model, config hash,
 * checkpoint fingerprint, storage type, alphas, layers, heads, shapes) and
 * fails naming the shard and what differs; writes atomically. A merged cube
 * whose fingerprint matches the shards' is left alone (*skipped = 1).
 * Also concatenates the shards' generations.tsv into OUT/<model>/. */
int am_merge_model(const am_config *c, const char *model, int force, int *skipped, am_err *e);

/* Copy a cube (virtual or not) into out_path as one self-contained file: the
 * same datasets, /attention chunked one map per chunk with shuffle + deflate
 * at level (< 0: the level of the source's chunks, else 4), dimension scales,
 * the NeXus group and the root attributes. Fails naming a virtual source that
 * is missing instead of copying fill values. */
int am_consolidate(const char *cube_path, const char *out_path, int level, am_err *e);

#endif
