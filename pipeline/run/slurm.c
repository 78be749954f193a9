/* Slurm array and merge scripts, and their submission with sbatch. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fs.h"
#include "run/inputs.h"
#include "run/merge.h"
#include "run/quote.h"
#include "run/slurm.h"
#include "stage/table.h"

/* "# Written by `attnmix slurm 'CONFIG'`; ..." */
static void written_by(FILE *f, const am_config *c) {
    fprintf(f, "#!/bin/bash\n# Written by `attnmix slurm ");
    am_sh_quote(f, c->path);
    fprintf(f, "`; rerun that command rather than editing.\n");
}

/* The per-shard stages of the table, in order, space-separated. */
static void shard_stages(FILE *f) {
    for (int i = 0, n = 0; i < AM_N_STAGES; i++)
        if (am_stage_table[i].per_shard) fprintf(f, "%s%s", n++ ? " " : "", am_stage_table[i].name);
}

void am_slurm_shard(const am_config *c, const am_slurm_opts *o, int i, int *model, int *pair) {
    if (o->shard_model) {
        *model = i;
        *pair = -1;
    } else {
        *model = i / c->n_pairs;
        *pair = i % c->n_pairs;
    }
}

void am_slurm_ranges(const int *idx, int n, char *out, size_t cap) {
    size_t k = 0;
    out[0] = 0;
    for (int i = 0; i < n && k < cap;) {
        int j = i;
        while (j + 1 < n && idx[j + 1] == idx[j] + 1) j++;
        if (j == i) k += (size_t)snprintf(out + k, cap - k, "%s%d", i ? "," : "", idx[i]);
        else k += (size_t)snprintf(out + k, cap - k, "%s%d-%d", i ? "," : "", idx[i], idx[j]);
        i = j + 1;
    }
}

static void directives(FILE *f, const am_slurm_opts *o, int gres) {
    if (o->partition) fprintf(f, "#SBATCH --partition=%s\n", o->partition);
    if (o->account) fprintf(f, "#SBATCH --account=%s\n", o->account);
    if (o->time) fprintf(f, "#SBATCH --time=%s\n", o->time);
    if (o->cpus > 0) fprintf(f, "#SBATCH --cpus-per-task=%d\n", o->cpus);
    if (o->mem) fprintf(f, "#SBATCH --mem=%s\n", o->mem);
    if (gres && o->gres) fprintf(f, "#SBATCH --gres=%s\n", o->gres);
}

/* A bash array NAME=(...) of each task's model name (pairs = 0) or pair key. */
static void shard_array(FILE *f, const char *name, const am_config *c, const am_slurm_opts *o, int n_tasks, int pairs) {
    fprintf(f, "%s=(", name);
    for (int i = 0; i < n_tasks; i++) {
        int m, p;
        am_slurm_shard(c, o, i, &m, &p);
        fputs(i ? " " : "", f);
        am_sh_quote(f, pairs ? c->pairs[p].key : c->models[m].name);
    }
    fprintf(f, ")\n");
}

static int write_array(const am_config *c, const char *bin, const char *cwd, const char *cfg, const am_slurm_opts *o,
                       const am_slurm_plan *plan, am_err *e) {
    const size_t cap = (size_t)plan->n_tasks * 24 + 64;
    am_file_out out;
    FILE *f = NULL;
    char *ranges = NULL;
    int rc = -1;
    memset(&out, 0, sizeof out);
    ranges = am_malloc(cap, 1, "the array ranges", e);
    if (!ranges) goto out;
    if (plan->n_todo) am_slurm_ranges(plan->todo, plan->n_todo, ranges, cap);
    else snprintf(ranges, cap, "0-%d", plan->n_tasks - 1);
    if (am_file_out_create(&out, plan->array_path, e) < 0) goto out;
    f = out.f;
    char job[128];
    am_plain_name(c->experiment, job, sizeof job);
    written_by(f, c);
    fprintf(f, "# Task i runs the stages ");
    shard_stages(f);
    fprintf(f, " for shard i (%s).\n", o->shard_model ? "a model" : "a model x pair");
    fprintf(f, "#SBATCH --job-name=attnmix-%s\n#SBATCH --array=%s", job, ranges);
    if (o->max_parallel > 0) fprintf(f, "%%%d", o->max_parallel);
    fprintf(f, "\n#SBATCH --output=%s/logs/%%A_%%a.out\n#SBATCH --chdir=%s\n", plan->dir, cwd);
    directives(f, o, 1);
    fprintf(f, "set -euo pipefail\nBIN=");
    am_sh_quote(f, bin);
    fprintf(f, "\nCONFIG=");
    am_sh_quote(f, cfg);
    fputc('\n', f);
    shard_array(f, "MODELS", c, o, plan->n_tasks, 0);
    if (!o->shard_model) shard_array(f, "PAIRS", c, o, plan->n_tasks, 1);
    fprintf(f,
            "i=${SLURM_ARRAY_TASK_ID:?run this script with sbatch}\n"
            "sel=(--model \"${MODELS[$i]}\"%s)\n"
            "threads=()\n"
            "[[ -n ${SLURM_CPUS_PER_TASK:-} ]] && threads=(--threads \"$SLURM_CPUS_PER_TASK\")\n"
            "echo \"attnmix: task $i (${sel[*]}) on $(hostname)\" >&2\n"
            "for stage in ",
            o->shard_model ? "" : " --pair \"${PAIRS[$i]}\"");
    shard_stages(f);
    fprintf(f, "; do\n"
               "  \"$BIN/attnmix-$stage\" --config \"$CONFIG\" \"${sel[@]}\" \"${threads[@]}\"\n"
               "done\n");
    if (am_file_out_commit(&out, e) < 0) goto out;
    rc = 0;
out:
    if (rc < 0) am_file_out_abort(&out);
    free(ranges);
    return rc;
}

/* The merge job: merge the shards (pair mode), then the induction scores,
 * analyze and plot as the Makefile of `attnmix run` does (the same analysis
 * inputs, frozen-pattern runs included: run/inputs.h). */
static int write_merge(const am_config *c, const char *bin, const char *cwd, const char *cfg, const am_slurm_opts *o,
                       const am_slurm_plan *plan, am_err *e) {
    const char *O = c->output_dir;
    am_file_out out;
    am_frozen_run *fr = NULL;
    FILE *f = NULL;
    char p[8400];
    int nfr = 0, rc = -1;
    memset(&out, 0, sizeof out);
    if (am_frozen_runs_find(c, &fr, &nfr, e) < 0) goto out;
    if (am_file_out_create(&out, plan->merge_path, e) < 0) goto out;
    f = out.f;
    char job[128];
    am_plain_name(c->experiment, job, sizeof job);
    written_by(f, c);
    fprintf(f, "# Runs after the array job: %sinduction scores, analyze, plot.\n",
            o->shard_model ? "" : "merge the shards into the per-model cubes, ");
    fprintf(f, "#SBATCH --job-name=attnmix-%s-merge\n#SBATCH --output=%s/logs/merge_%%j.out\n#SBATCH --chdir=%s\n", job,
            plan->dir, cwd);
    directives(f, o, 0);
    fprintf(f, "set -euo pipefail\nBIN=");
    am_sh_quote(f, bin);
    fprintf(f, "\nCONFIG=");
    am_sh_quote(f, cfg);
    fprintf(f, "\n");
    if (!o->shard_model) fprintf(f, "\"$BIN/attnmix\" merge \"$CONFIG\"\n");
    for (int i = 0; i < c->n_models; i++) {
        fprintf(f, "\"$BIN/attnmix-induction\" --config \"$CONFIG\" --model ");
        am_sh_quote(f, c->models[i].name);
        am_out_arg(f, "--out", c, i, 0, "induction.h5", 0);
        fprintf(f, "\n");
    }
    fprintf(f, "\"$BIN/attnmix-analyze\" --seed %llu --out ", (unsigned long long)c->seed);
    snprintf(p, sizeof p, "%s/analysis.h5", O);
    am_sh_quote(f, p);
    for (int i = 0; i < c->n_models; i++) {
        am_out_arg(f, "--name", c, i, 1, "cube.h5", 0);
        am_out_arg(f, "--induction", c, i, 1, "induction.h5", 0);
        for (int j = 0; j < nfr; j++)
            if (fr[j].model == i) am_out_arg(f, "--frozen", c, i, 1, fr[j].name, 0);
    }
    fprintf(f, "\n\"$BIN/attnmix-plot\" report --analysis ");
    snprintf(p, sizeof p, "%s/analysis.h5", O);
    am_sh_quote(f, p);
    fprintf(f, " --outdir ");
    snprintf(p, sizeof p, "%s/figures", O);
    am_sh_quote(f, p);
    for (int i = 0; i < c->n_models; i++) am_out_arg(f, "--cube", c, i, 0, "cube.h5", 0);
    /* Token labels: the Qwen3 models share one tokenizer; the first model's. */
    fprintf(f, " --tokenizer ");
    am_sh_quote(f, c->models[0].tokenizer ? c->models[0].tokenizer : c->models[0].checkpoint);
    fprintf(f, "\nprintf 'attnmix: done: %%s\\n' ");
    snprintf(p, sizeof p, "%s/figures/index.html", O);
    am_sh_quote(f, p);
    fprintf(f, " >&2\n");
    if (am_file_out_commit(&out, e) < 0) goto out;
    rc = 0;
out:
    if (rc < 0) am_file_out_abort(&out);
    free(fr);
    return rc;
}

int am_slurm_write(const am_config *c, const char *bin, const am_slurm_opts *o, am_slurm_plan *plan, am_err *e) {
    memset(plan, 0, sizeof *plan);
    const char *vals[] = {o->partition, o->time, o->mem, o->gres, o->account};
    const char *names[] = {"--partition", "--time", "--mem", "--gres", "--account"};
    for (int i = 0; i < 5; i++) {
        if (vals[i] && !vals[i][0]) return am_fail_code(e, AM_E_USAGE, "%s must not be empty", names[i]);
        if (vals[i] && am_script_value_check(names[i], vals[i], AM_IN_SBATCH, e) < 0) return -1;
    }
    if (am_script_config_check(c, AM_IN_SBATCH, e) < 0 ||
        am_script_value_check("the attnmix programs' directory", bin, AM_IN_SCRIPT, e) < 0)
        return -1;
    char cwd[PATH_MAX], cfg[PATH_MAX], logs[4300];
    if (!getcwd(cwd, sizeof cwd)) return am_fail_errno(e, "cannot get the current directory");
    if (am_script_value_check("the current directory (the jobs' --chdir)", cwd, AM_IN_SBATCH, e) < 0) return -1;
    if (!realpath(c->path, cfg)) return am_fail_errno(e, "%s", c->path);
    snprintf(logs, sizeof logs, "%s/slurm/logs", c->output_dir);
    if (am_mkdirs(logs, e) < 0) return -1;
    char abs_out[PATH_MAX];
    if (!realpath(c->output_dir, abs_out)) return am_fail_errno(e, "%s", c->output_dir);
    if (am_script_value_check("the output directory (output_dir, resolved)", abs_out, AM_IN_SBATCH, e) < 0) return -1;
    snprintf(plan->dir, sizeof plan->dir, "%s/slurm", abs_out);
    snprintf(plan->array_path, sizeof plan->array_path, "%s/array.sbatch", plan->dir);
    snprintf(plan->merge_path, sizeof plan->merge_path, "%s/merge.sbatch", plan->dir);

    plan->n_tasks = o->shard_model ? c->n_models : c->n_models * c->n_pairs;
    plan->todo = am_malloc((size_t)plan->n_tasks, sizeof *plan->todo, "the list of shards", e);
    if (!plan->todo) return -1;
    for (int i = 0; i < plan->n_tasks; i++) {
        int m, p;
        char why[2048];
        am_slurm_shard(c, o, i, &m, &p);
        int ok = p < 0 ? am_model_cube_complete(c, c->models[m].name, why, sizeof why)
                       : am_shard_complete(c, c->models[m].name, c->pairs[p].key, why, sizeof why);
        if (!ok) plan->todo[plan->n_todo++] = i;
    }
    if (write_array(c, bin, cwd, cfg, o, plan, e) < 0 || write_merge(c, bin, cwd, cfg, o, plan, e) < 0) {
        am_slurm_plan_free(plan);
        return -1;
    }
    return 0;
}

void am_slurm_plan_free(am_slurm_plan *plan) {
    free(plan->todo);
    plan->todo = NULL;
    plan->n_todo = 0;
}

/* Run sbatch --parsable ARGS... and read the job id it prints ("id" or "id;cluster"). */
static int sbatch(const char *prog, char *const *args, int n, char id[64], am_err *e) {
    int fd[2];
    if (pipe(fd) != 0) return am_fail_errno(e, "pipe");
    char *argv[16];
    int k = 0;
    argv[k++] = (char *)prog;
    argv[k++] = "--parsable";
    for (int i = 0; i < n && k < 15; i++) argv[k++] = args[i];
    argv[k] = NULL;
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return am_fail_errno(e, "fork");
    }
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execvp(prog, argv);
        fprintf(stderr, "cannot run %s: %s\n", prog, strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    char buf[256] = {0};
    size_t got = 0;
    ssize_t r;
    while (got < sizeof buf - 1 && (r = read(fd[0], buf + got, sizeof buf - 1 - got)) > 0) got += (size_t)r;
    close(fd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return am_fail(e, "%s %s failed (exit %d); its message is above", prog, args[n - 1],
                       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    size_t j = 0;
    while (j < 63 && buf[j] >= '0' && buf[j] <= '9') {
        id[j] = buf[j];
        j++;
    }
    id[j] = 0;
    if (j == 0) return am_fail(e, "%s %s printed no job id ('%s')", prog, args[n - 1], buf);
    return 0;
}

void am_slurm_hint(FILE *f, const am_slurm_plan *plan) {
    fprintf(f, "attnmix: submit with:\n  id=$(sbatch --parsable ");
    am_sh_quote(f, plan->array_path);
    fprintf(f, ") && sbatch --dependency=\"afterok:${id%%%%;*}\" ");
    am_sh_quote(f, plan->merge_path);
    fprintf(f, "\n(or rerun with --submit)\n");
}

int am_slurm_submit(const am_slurm_opts *o, const am_slurm_plan *plan, char array_id[64], char merge_id[64],
                    am_err *e) {
    const char *prog = o->sbatch ? o->sbatch : "sbatch";
    array_id[0] = merge_id[0] = 0;
    if (plan->n_todo > 0) {
        char *args[] = {(char *)plan->array_path};
        if (sbatch(prog, args, 1, array_id, e) < 0) return -1;
        char dep[128];
        snprintf(dep, sizeof dep, "--dependency=afterok:%s", array_id);
        char *margs[] = {dep, (char *)plan->merge_path};
        return sbatch(prog, margs, 2, merge_id, e);
    }
    char *margs[] = {(char *)plan->merge_path};
    return sbatch(prog, margs, 1, merge_id, e);
}
