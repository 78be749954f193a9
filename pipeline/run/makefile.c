/* OUT/Makefile of `attnmix run`, the checks before it, and make (see makefile.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fs.h"
#include "run/inputs.h"
#include "run/makefile.h"
#include "run/quote.h"
#include "stage/precheck.h"
#include "stage/table.h"

/* Rules per model (tokenize, embed-mix, forward, generate, induction) and
 * after all models (analyze, plot): the N of the "[k/N]" progress lines. */
enum { MODEL_STEPS = 5, FINAL_STEPS = 2 };

/* Append a line to msg[cap] (used so far: *k), truncating at cap. */
static void add_line(char *msg, size_t cap, size_t *k, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void add_line(char *msg, size_t cap, size_t *k, const char *fmt, ...) {
    va_list ap;
    int w;
    if (*k + 1 >= cap) return;
    if (*k) msg[(*k)++] = '\n';
    va_start(ap, fmt);
    w = vsnprintf(msg + *k, cap - *k, fmt, ap);
    va_end(ap);
    if (w > 0) *k += (size_t)w < cap - *k ? (size_t)w : cap - *k - 1;
}

int am_run_check(const am_config *c, am_err *e) {
    char msg[sizeof e->msg], p[4200];
    size_t k = 0;
    struct stat st;
    if (am_script_config_check(c, AM_IN_SCRIPT, e) < 0) return -1;
    /* Every model's checkpoint and tokenizer exist before any stage runs, so
     * a config with placeholder paths (config/blog.yaml) stops at once,
     * saying which key to edit. */
    msg[0] = 0;
    for (int i = 0; i < c->n_models; i++) {
        const am_model_cfg *m = &c->models[i];
        snprintf(p, sizeof p, "%s/config.json", m->checkpoint);
        if (m->hub_missing) add_line(msg, sizeof msg, &k, "%s", m->hub_missing);
        else if (stat(p, &st) != 0)
            add_line(msg, sizeof msg, &k,
                     "%s: model '%s': %s: %s; point models[%d].checkpoint at a Hugging Face "
                     "checkpoint directory (config.json, *.safetensors, tokenizer.json)",
                     c->path, m->name, p, strerror(errno), i);
        if (m->tokenizer && strcmp(m->tokenizer, m->checkpoint) && stat(m->tokenizer, &st) != 0)
            add_line(msg, sizeof msg, &k, "%s: model '%s': tokenizer %s: %s (models[%d].tokenizer)", c->path, m->name,
                     m->tokenizer, strerror(errno), i);
    }
    if (k) return am_fail_code(e, AM_E_NOTFOUND, "%s", msg);
    /* what stage 3 or 4 would refuse (capture selection, positions, memory) */
    for (int i = 0; i < c->n_models; i++)
        if (am_stage_precheck(c, i, e) < 0) return -1;
    return 0;
}

/* The rule of stage id for model i: target "<stage>-<i>", prerequisites the
 * rules of its inputs, a recipe that always calls the stage (it exits at once
 * when its output carries the stamp it would write). */
static void stage_rule(FILE *f, const am_config *c, const char *bin, int i, int id, int *k, int steps,
                       const char *flags) {
    const am_stage_def *d = &am_stage_table[id];
    char p[8400];
    fprintf(f, "%s-%d:", d->name, i);
    for (int j = 0; j < 2; j++)
        if (d->inputs[j] >= 0) fprintf(f, " %s-%d", am_stage_table[d->inputs[j]].name, i);
    fprintf(f, "\n\t@");
    am_make_quote(f, bin);
    fprintf(f, "/attnmix-%s --step %d/%d --config ", d->name, ++*k, steps);
    am_make_quote(f, c->path);
    fprintf(f, " --model ");
    am_make_quote(f, c->models[i].name);
    for (int j = 0; j < 2; j++)
        if (d->inputs[j] >= 0) {
            snprintf(p, sizeof p, "--in%d", j + 1);
            am_out_arg(f, p, c, i, 0, am_stage_table[d->inputs[j]].output, 1);
        }
    am_out_arg(f, "--out", c, i, 0, d->output, 1);
    fprintf(f, "%s\n\n", flags);
}

/* The start of a gated recipe: "\t@BIN/attnmix gate --out OUT --label L --step K/N [--force]". */
static void gate(FILE *f, const char *bin, const char *out, const char *label, int k, int steps, int force) {
    fprintf(f, "\n\t@");
    am_make_quote(f, bin);
    fprintf(f, "/attnmix gate --label %s --step %d/%d%s --out ", label, k, steps, force ? " --force" : "");
    am_make_quote(f, out);
}

int am_makefile_write(const am_config *c, const char *bin, const char *path, int force, am_err *e) {
    am_file_out o;
    am_frozen_run *fr = NULL;
    FILE *f = NULL;
    const char *O = c->output_dir, *flags = force ? " --force" : "";
    const int M = c->n_models, steps = MODEL_STEPS * M + FINAL_STEPS;
    static const int order[MODEL_STEPS] = {AM_ST_TOKENIZE, AM_ST_EMBED_MIX, AM_ST_FORWARD, AM_ST_GENERATE,
                                           AM_ST_INDUCTION};
    char p[8400];
    int nfr = 0, k = 0, rc = -1;
    memset(&o, 0, sizeof o);
    if (am_script_value_check("the attnmix programs' directory", bin, AM_IN_SCRIPT, e) < 0) goto out;
    if (am_frozen_runs_find(c, &fr, &nfr, e) < 0) goto out;
    for (int j = 0; j < nfr; j++) {
        snprintf(p, sizeof p, "%s/%s: the directory of a frozen-pattern run", O, c->models[fr[j].model].name);
        if (am_script_value_check(p, fr[j].name, AM_IN_SCRIPT, e) < 0) goto out;
    }
    if (am_file_out_create(&o, path, e) < 0) goto out;
    f = o.f;
    /* Targets are names of stages, never paths: every rule runs its stage,
     * which decides from content stamps whether there is anything to do. */
    fprintf(f, "# Written by `attnmix run ");
    am_sh_quote(f, c->path);
    fprintf(f, "`; rerun that command rather than editing.\n.SUFFIXES:\n.PHONY: all analyze plot");
    for (int i = 0; i < M; i++)
        for (int s = 0; s < MODEL_STEPS; s++) fprintf(f, " %s-%d", am_stage_table[order[s]].name, i);
    fprintf(f, "\n\nall: plot\n\n");
    for (int i = 0; i < M; i++)
        for (int s = 0; s < MODEL_STEPS; s++) stage_rule(f, c, bin, i, order[s], &k, steps, flags);

    /* Each model's cube, then its induction scores: make -j1 runs the steps in
     * their numbered order. Frozen-pattern runs present when this file was
     * written (OUT/<model>/frozen*) are inputs of the analysis. */
    fprintf(f, "analyze:");
    for (int i = 0; i < M; i++) fprintf(f, " generate-%d induction-%d", i, i);
    /* analyze and plot take no config: the gate (run/gate.h) runs them when
     * their inputs' stamps or their command lines changed */
    snprintf(p, sizeof p, "%s/analysis.h5", O);
    gate(f, bin, p, "analyze", ++k, steps, force);
    for (int i = 0; i < M; i++) {
        am_out_arg(f, "--in", c, i, 0, am_stage_table[AM_ST_GENERATE].output, 1);
        am_out_arg(f, "--in", c, i, 0, am_stage_table[AM_ST_INDUCTION].output, 1);
        for (int j = 0; j < nfr; j++)
            if (fr[j].model == i) {
                char rel[512];
                snprintf(rel, sizeof rel, "%s/%s", fr[j].name, am_stage_table[AM_ST_FORWARD].output);
                am_out_arg(f, "--in", c, i, 0, rel, 1);
                snprintf(rel, sizeof rel, "%s/%s", fr[j].name, am_stage_table[AM_ST_GENERATE].output);
                if (fr[j].has_cube) am_out_arg(f, "--in", c, i, 0, rel, 1);
            }
    }
    fprintf(f, " -- ");
    am_make_quote(f, bin);
    fprintf(f, "/attnmix-analyze --seed %llu --out ", (unsigned long long)c->seed);
    am_make_quote(f, p);
    for (int i = 0; i < M; i++) {
        am_out_arg(f, "--name", c, i, 1, am_stage_table[AM_ST_GENERATE].output, 1);
        am_out_arg(f, "--induction", c, i, 1, am_stage_table[AM_ST_INDUCTION].output, 1);
        for (int j = 0; j < nfr; j++)
            if (fr[j].model == i) am_out_arg(f, "--frozen", c, i, 1, fr[j].name, 1);
    }
    fprintf(f, "\n\nplot: analyze");
    snprintf(p, sizeof p, "%s/figures/index.html", O);
    gate(f, bin, p, "plot", ++k, steps, force);
    snprintf(p, sizeof p, "%s/analysis.h5", O);
    fprintf(f, " --in ");
    am_make_quote(f, p);
    for (int i = 0; i < M; i++) am_out_arg(f, "--in", c, i, 0, am_stage_table[AM_ST_GENERATE].output, 1);
    fprintf(f, " -- ");
    am_make_quote(f, bin);
    fprintf(f, "/attnmix-plot report --analysis ");
    am_make_quote(f, p);
    fprintf(f, " --outdir ");
    snprintf(p, sizeof p, "%s/figures", O);
    am_make_quote(f, p);
    for (int i = 0; i < M; i++) am_out_arg(f, "--cube", c, i, 0, am_stage_table[AM_ST_GENERATE].output, 1);
    /* Token labels: the Qwen3 models share one tokenizer; use the first model's. */
    fprintf(f, " --tokenizer ");
    am_make_quote(f, c->models[0].tokenizer ? c->models[0].tokenizer : c->models[0].checkpoint);
    fprintf(f, "\n");
    if (am_file_out_commit(&o, e) < 0) goto out;
    rc = 0;
out:
    if (rc < 0) am_file_out_abort(&o);
    free(fr);
    return rc;
}

int am_makefile_run(const char *path, int jobs, int dry, am_err *e) {
    char jobs_s[32];
    int st = 0;
    pid_t pid;
    snprintf(jobs_s, sizeof jobs_s, "-j%d", jobs > 0 ? jobs : 1);
    pid = fork();
    if (pid < 0) return am_fail_errno(e, "cannot start make");
    if (pid == 0) {
        char *args[] = {"make", "--no-print-directory", "-f", (char *)path, jobs_s, dry ? "-n" : NULL, NULL};
        execvp("make", args);
        fprintf(stderr, "attnmix: cannot run make: %s\n", strerror(errno));
        _exit(127);
    }
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return am_fail_errno(e, "waiting for make");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return am_fail(e, "the run stopped early; fix the error above and rerun: finished stages are kept");
    return 0;
}
