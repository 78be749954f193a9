/* Slurm batch scripts for an experiment: one array job whose task i runs the
 * four model stages of shard i (a (model, pair) by default, or a whole model),
 * and a merge job (merge, analyze, plot) that depends on it. Tasks are
 * idempotent (stages skip up-to-date outputs), so a resubmission lists only
 * the shards whose cube is missing or was computed from another config. */
#ifndef AM_SLURM_H
#define AM_SLURM_H

#include <stddef.h>
#include <stdio.h>

#include "base/config.h"
#include "base/error.h"

typedef struct am_slurm_opts {
    const char *partition, *time, *mem, *gres, *account; /* NULL = cluster default */
    int cpus;                                            /* --cpus-per-task, 0 = cluster default */
    int max_parallel;                                    /* array throttle %K, 0 = none */
    int shard_model;                                     /* 1: one task per model; 0: one per (model, pair) */
    const char *sbatch;                                  /* the sbatch program (default "sbatch") */
} am_slurm_opts;

/* What the scripts cover: task i is shard i; todo lists the incomplete ones. */
typedef struct am_slurm_plan {
    int n_tasks;
    int *todo; /* [n_todo] task indices, ascending */
    int n_todo;
    char dir[4200]; /* OUT/slurm (absolute) */
    char array_path[4300], merge_path[4300];
} am_slurm_plan;

/* Shard i of the plan: model index and pair index (-1 with shard_model). */
void am_slurm_shard(const am_config *c, const am_slurm_opts *o, int i, int *model, int *pair);

/* Find the incomplete shards and write OUT/slurm/array.sbatch (--array= the
 * incomplete indices, throttled) and OUT/slurm/merge.sbatch. bin: directory
 * of the attnmix programs; the jobs run in the current directory, where the
 * config's relative paths resolve. */
int am_slurm_write(const am_config *c, const char *bin, const am_slurm_opts *o, am_slurm_plan *plan, am_err *e);
void am_slurm_plan_free(am_slurm_plan *plan);

/* Submit: the array job (if any task is to do) with sbatch --parsable, then
 * the merge job with --dependency=afterok:<array id>. Ids are written into
 * array_id (empty when nothing was to do) and merge_id. */
int am_slurm_submit(const am_slurm_opts *o, const am_slurm_plan *plan, char array_id[64], char merge_id[64], am_err *e);

/* The commands that submit the plan by hand, for pasting into a shell: every
 * path single-quoted. */
void am_slurm_hint(FILE *f, const am_slurm_plan *plan);

/* "0-2,5,7-9" from ascending indices. */
void am_slurm_ranges(const int *idx, int n, char *out, size_t cap);

#endif
