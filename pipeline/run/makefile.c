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
    if (!am_make_safe(c->output_dir) || !am_make_safe(c->path))
        return am_fail_code(e, AM_E_USAGE,
                            "%s: output_dir and the config path must not contain spaces, ':', '#', '$' "
                            "or '%%'",
                            c->path);
    for (int i = 0; i < c->n_models; i++)
        if (!am_make_safe(c->models[i].checkpoint))
            return am_fail_code(e, AM_E_USAGE,
                                "%s: checkpoint path of model '%s' must not contain spaces, ':', '#', "
                                "'$' or '%%' (models[%d].checkpoint)",
                                c->path, c->models[i].name, i);
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
    return 0;
}

/* The four stages that make a model's cube, and its induction scores. */
static void model_rules(FILE *f, const am_config *c, int i, int *k, int steps) {
    const char *O = c->output_dir, *m = c->models[i].name, *ck = c->models[i].checkpoint;
    fprintf(f,
            "%s/%s/tokens.h5: $(CONFIG)\n\t@echo '[%d/%d] tokenize %s' >&2\n"
            "\t@$(BIN)/attnmix-tokenize --config $(CONFIG) --model %s --out $@ $(FLAGS)\n\n",
            O, m, ++*k, steps, m, m);
    fprintf(f,
            "%s/%s/mix.h5: %s/%s/tokens.h5 %s/config.json\n\t@echo '[%d/%d] embed-mix %s' >&2\n"
            "\t@$(BIN)/attnmix-embed-mix --config $(CONFIG) --model %s --in1 $< --out $@ $(FLAGS)\n\n",
            O, m, O, m, ck, ++*k, steps, m, m);
    fprintf(f,
            "%s/%s/prefill.h5: %s/%s/mix.h5\n\t@echo '[%d/%d] forward %s' >&2\n"
            "\t@$(BIN)/attnmix-forward --config $(CONFIG) --model %s --in1 $< --out $@ $(FLAGS)\n\n",
            O, m, O, m, ++*k, steps, m, m);
    fprintf(f,
            "%s/%s/cube.h5: %s/%s/mix.h5 %s/%s/prefill.h5\n\t@echo '[%d/%d] generate %s' >&2\n"
            "\t@$(BIN)/attnmix-generate --config $(CONFIG) --model %s --in1 %s/%s/mix.h5 --in2 %s/%s/prefill.h5 "
            "--out $@ $(FLAGS)\n\n",
            O, m, O, m, O, m, ++*k, steps, m, m, O, m, O, m);
    /* Induction scores of the heads: the model on repeated random tokens. */
    fprintf(f,
            "%s/%s/induction.h5: $(CONFIG) %s/config.json\n\t@echo '[%d/%d] induction %s' >&2\n"
            "\t@$(BIN)/attnmix-induction --config $(CONFIG) --model %s --out $@ $(FLAGS)\n\n",
            O, m, ck, ++*k, steps, m, m);
}

int am_makefile_write(const am_config *c, const char *bin, const char *path, int force, am_err *e) {
    am_file_out o;
    am_frozen_run *fr = NULL;
    FILE *f = NULL;
    const char *O = c->output_dir;
    const int M = c->n_models, steps = MODEL_STEPS * M + FINAL_STEPS;
    int nfr = 0, k = 0, rc = -1;
    memset(&o, 0, sizeof o);
    if (am_frozen_runs_find(c, &fr, &nfr, e) < 0) goto out;
    for (int j = 0; j < nfr; j++)
        if (!am_make_safe(fr[j].name)) {
            am_fail(e,
                    "%s/%s/%s: the directory of a frozen-pattern run must not contain spaces, ':', '#', '$' or '%%' "
                    "in its name (it is a prerequisite of the analysis in the Makefile); rename it",
                    O, c->models[fr[j].model].name, fr[j].name);
            goto out;
        }
    if (am_file_out_create(&o, path, e) < 0) goto out;
    f = o.f;
    fprintf(f, "# Written by `attnmix run %s`; rerun that command rather than editing.\n", c->path);
    fprintf(f, ".DELETE_ON_ERROR:\n.SUFFIXES:\nBIN := %s\nCONFIG := %s\nFLAGS :=%s\n\n", bin, c->path,
            force ? " --force" : "");
    fprintf(f, "all: %s/figures/index.html\n\n", O);
    for (int i = 0; i < M; i++) model_rules(f, c, i, &k, steps);

    fprintf(f, "CUBES :=");
    for (int i = 0; i < M; i++) fprintf(f, " %s/%s/cube.h5", O, c->models[i].name);
    fprintf(f,
            "\n# Frozen-pattern runs (OUT/<model>/frozen*/prefill.h5) present when this file was written.\nFROZEN :=");
    for (int j = 0; j < nfr; j++) {
        const char *m = c->models[fr[j].model].name;
        fprintf(f, " %s/%s/%s/prefill.h5", O, m, fr[j].name);
        if (fr[j].has_cube) fprintf(f, " %s/%s/%s/cube.h5", O, m, fr[j].name);
    }
    /* Each model's cube, then its induction scores: make -j1 runs the steps in their numbered order. */
    fprintf(f, "\n\n%s/analysis.h5:", O);
    for (int i = 0; i < M; i++)
        fprintf(f, " %s/%s/cube.h5 %s/%s/induction.h5", O, c->models[i].name, O, c->models[i].name);
    fprintf(f, " $(FROZEN)\n\t@echo '[%d/%d] analyze' >&2\n\t@$(BIN)/attnmix-analyze --seed %llu --out $@", ++k, steps,
            (unsigned long long)c->seed);
    for (int i = 0; i < M; i++) {
        fprintf(f, " --name %s=%s/%s/cube.h5", c->models[i].name, O, c->models[i].name);
        am_out_arg(f, "--induction", c, i, 1, "induction.h5");
        for (int j = 0; j < nfr; j++)
            if (fr[j].model == i) am_out_arg(f, "--frozen", c, i, 1, fr[j].name);
    }
    fprintf(f,
            "\n\n%s/figures/index.html: %s/analysis.h5 $(CUBES)\n\t@echo '[%d/%d] plot' >&2\n"
            "\t@$(BIN)/attnmix-plot report --analysis %s/analysis.h5 --outdir %s/figures",
            O, O, ++k, steps, O, O);
    for (int i = 0; i < M; i++) fprintf(f, " --cube %s/%s/cube.h5", O, c->models[i].name);
    /* Token labels: the Qwen3 models share one tokenizer; use the first model's. */
    fprintf(f, " --tokenizer ");
    am_sh_quote(f, c->models[0].tokenizer ? c->models[0].tokenizer : c->models[0].checkpoint);
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
