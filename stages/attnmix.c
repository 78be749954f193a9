/* attnmix: the driver. `attnmix run CONFIG` runs the whole experiment through
 * a generated Makefile (parallel with -j, incremental, resumable);
 * `attnmix <stage> ...` runs one stage program. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/config.h"
#include "h5/h5io.h"
#include "run/merge.h"
#include "run/slurm.h"
#include "base/fs.h"
#include "base/progress.h"

static const char *PROGRAMS[] = {"tokenize", "embed-mix", "forward", "generate", "analyze", "plot",
                                 "make-checkpoint"};

static void usage(FILE *f) {
    fprintf(f,
            "usage: attnmix run CONFIG.yaml [-j N] [--force] [--dry-run]\n"
            "       attnmix slurm CONFIG.yaml [options] | merge CONFIG.yaml | consolidate CUBE OUT.h5\n"
            "       attnmix <stage> [stage options]   (attnmix <stage> --help)\n"
            "       attnmix --help | --version\n\n"
            "Mixes prompt pairs in embedding space, runs Qwen3 models on the mixes with\n"
            "greedy generation and captures every attention map into HDF5 cubes.\n\n"
            "run CONFIG.yaml     run every stage of the experiment: tokenize, embed-mix,\n"
            "                    forward, generate (per model), analyze, plot; writes\n"
            "                    OUT/Makefile and runs it, so a second run only redoes what\n"
            "                    changed and a killed run resumes\n"
            "  -j, --jobs N      stages run in parallel (default 1)\n"
            "  -f, --force       recompute everything\n"
            "  -n, --dry-run     write OUT/Makefile and show the commands only\n\n"
            "slurm CONFIG.yaml   write OUT/slurm/array.sbatch (task i runs the stages of\n"
            "                    shard i) and OUT/slurm/merge.sbatch (merge, analyze, plot,\n"
            "                    after the array); only shards whose cube is missing or\n"
            "                    stale are listed, so rerunning resubmits what failed\n"
            "  --partition P, --account A, --time T, --cpus N, --mem M, --gres G\n"
            "                    #SBATCH settings of the jobs (--gres: array job only)\n"
            "  --max-parallel K  at most K tasks at once (--array=...%%K)\n"
            "  --shard pair|model  one task per model x pair (default) or per model\n"
            "  --submit          submit both with sbatch and print the job ids\n"
            "  --sbatch PATH     the sbatch program (default: sbatch on PATH)\n\n"
            "merge CONFIG.yaml   build OUT/<model>/cube.h5 from the per-pair shards\n"
            "                    OUT/<model>/pairs/<key>/cube.h5 as a virtual dataset;\n"
            "                    refuses if a shard is missing or differs  [--force]\n"
            "consolidate CUBE OUT.h5  copy a (virtual) cube into one self-contained file\n"
            "                    [--level N: deflate level, default that of the source]\n\n"
            "stages: tokenize, embed-mix, forward, generate, analyze, plot, make-checkpoint\n");
}

/* Directory of this executable (the stage programs live beside it). */
static int bin_dir(char *out, size_t n) {
    char buf[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (k <= 0) return -1;
    buf[k] = 0;
    char *slash = strrchr(buf, '/');
    if (!slash) return -1;
    *slash = 0;
    snprintf(out, n, "%s", buf);
    return 0;
}

/* Quote a path for make recipes run by /bin/sh. */
static void sq(FILE *f, const char *s) {
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputs("'\\''", f);
        else fputc(*s, f);
    }
    fputc('\'', f);
}

/* Make targets cannot contain spaces or colons; model names and output dirs are checked. */
static int make_safe(const char *s) {
    for (; *s; s++)
        if (*s == ' ' || *s == ':' || *s == '#' || *s == '$' || *s == '%' || *s == '\t' || *s == '\n') return 0;
    return 1;
}

static int write_makefile(const am_config *c, const char *bin, const char *path, int force, am_err *e) {
    char tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) return am_fail_errno(e, "cannot write %s", tmp);
    const char *O = c->output_dir;
    const int M = c->n_models, steps = 4 * M + 2;
    fprintf(f, "# Written by `attnmix run %s`; rerun that command rather than editing.\n", c->path);
    fprintf(f, ".DELETE_ON_ERROR:\n.SUFFIXES:\nBIN := %s\nCONFIG := %s\nFLAGS :=%s\n\n", bin, c->path,
            force ? " --force" : "");
    fprintf(f, "all: %s/figures/index.html\n\n", O);
    int k = 0;
    for (int i = 0; i < M; i++) {
        const char *m = c->models[i].name, *ck = c->models[i].checkpoint;
        fprintf(f, "%s/%s/tokens.h5: $(CONFIG)\n\t@echo '[%d/%d] tokenize %s' >&2\n"
                   "\t@$(BIN)/attnmix-tokenize --config $(CONFIG) --model %s --out $@ $(FLAGS)\n\n",
                O, m, ++k, steps, m, m);
        fprintf(f, "%s/%s/mix.h5: %s/%s/tokens.h5 %s/config.json\n\t@echo '[%d/%d] embed-mix %s' >&2\n"
                   "\t@$(BIN)/attnmix-embed-mix --config $(CONFIG) --model %s --in1 $< --out $@ $(FLAGS)\n\n",
                O, m, O, m, ck, ++k, steps, m, m);
        fprintf(f, "%s/%s/prefill.h5: %s/%s/mix.h5\n\t@echo '[%d/%d] forward %s' >&2\n"
                   "\t@$(BIN)/attnmix-forward --config $(CONFIG) --model %s --in1 $< --out $@ $(FLAGS)\n\n",
                O, m, O, m, ++k, steps, m, m);
        fprintf(f, "%s/%s/cube.h5: %s/%s/mix.h5 %s/%s/prefill.h5\n\t@echo '[%d/%d] generate %s' >&2\n"
                   "\t@$(BIN)/attnmix-generate --config $(CONFIG) --model %s --in1 %s/%s/mix.h5 --in2 %s/%s/prefill.h5 "
                   "--out $@ $(FLAGS)\n\n",
                O, m, O, m, O, m, ++k, steps, m, m, O, m, O, m);
    }
    fprintf(f, "CUBES :=");
    for (int i = 0; i < M; i++) fprintf(f, " %s/%s/cube.h5", O, c->models[i].name);
    fprintf(f, "\n\n%s/analysis.h5: $(CUBES)\n\t@echo '[%d/%d] analyze' >&2\n\t@$(BIN)/attnmix-analyze --seed %llu --out $@",
            O, ++k, steps, (unsigned long long)c->seed);
    for (int i = 0; i < M; i++) {
        fprintf(f, " --name %s=%s/%s/cube.h5 --checkpoint %s=", c->models[i].name, O, c->models[i].name, c->models[i].name);
        sq(f, c->models[i].checkpoint); /* induction score of the head classes */
    }
    fprintf(f, "\n\n%s/figures/index.html: %s/analysis.h5 $(CUBES)\n\t@echo '[%d/%d] plot' >&2\n"
               "\t@$(BIN)/attnmix-plot report --analysis %s/analysis.h5 --outdir %s/figures",
            O, O, ++k, steps, O, O);
    for (int i = 0; i < M; i++) fprintf(f, " --cube %s/%s/cube.h5", O, c->models[i].name);
    /* Token labels: the Qwen3 models share one tokenizer; use the first model's. */
    fprintf(f, " --tokenizer ");
    sq(f, c->models[0].tokenizer ? c->models[0].tokenizer : c->models[0].checkpoint);
    fprintf(f, "\n");
    if (fflush(f) != 0 || ferror(f) || fclose(f) != 0) { unlink(tmp); return am_fail_errno(e, "writing %s", tmp); }
    if (rename(tmp, path) != 0) { unlink(tmp); return am_fail_errno(e, "cannot rename %s", tmp); }
    return 0;
}

/* Every model's checkpoint and tokenizer exist before any stage runs, so a
 * config with placeholder paths (config/blog.yaml) stops at once, saying
 * which key to edit. */
static int check_models(const am_config *c) {
    int bad = 0;
    for (int i = 0; i < c->n_models; i++) {
        const am_model_cfg *m = &c->models[i];
        char p[PATH_MAX + 16];
        struct stat st;
        snprintf(p, sizeof p, "%s/config.json", m->checkpoint);
        if (stat(p, &st) != 0) {
            fprintf(stderr, "attnmix: %s: model '%s': %s: %s; point models[%d].checkpoint at a Hugging Face "
                    "checkpoint directory (config.json, *.safetensors, tokenizer.json)\n",
                    c->path, m->name, p, strerror(errno), i);
            bad = 1;
        }
        if (m->tokenizer && strcmp(m->tokenizer, m->checkpoint) && stat(m->tokenizer, &st) != 0) {
            fprintf(stderr, "attnmix: %s: model '%s': tokenizer %s: %s (models[%d].tokenizer)\n", c->path, m->name,
                    m->tokenizer, strerror(errno), i);
            bad = 1;
        }
    }
    return bad ? -1 : 0;
}

static int cmd_run(int argc, char **argv) {
    static const struct option opts[] = {{"jobs", required_argument, 0, 'j'}, {"force", no_argument, 0, 'f'},
                                         {"dry-run", no_argument, 0, 'n'}, {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int jobs = 1, force = 0, dry = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "j:fnh", opts, NULL)) != -1) {
        switch (c) {
        case 'j': jobs = atoi(optarg); break;
        case 'f': force = 1; break;
        case 'n': dry = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) { usage(stderr); return 2; }
    am_config cfg;
    am_err e = {0};
    if (am_config_load(&cfg, argv[optind], &e) < 0) {
        fprintf(stderr, "attnmix: %s\n", e.msg);
        return 1;
    }
    int rc = 1;
    char bin[PATH_MAX], mk[PATH_MAX + 16];
    if (cfg.warnings[0]) fprintf(stderr, "attnmix: warning: %s\n", cfg.warnings);
    if (bin_dir(bin, sizeof bin) < 0) { fprintf(stderr, "attnmix: cannot find own directory\n"); goto out; }
    if (!make_safe(cfg.output_dir) || !make_safe(cfg.path)) {
        fprintf(stderr, "attnmix: %s: output_dir and the config path must not contain spaces, ':', '#', '$' or '%%'\n",
                cfg.path);
        goto out;
    }
    for (int i = 0; i < cfg.n_models; i++)
        if (!make_safe(cfg.models[i].checkpoint)) {
            fprintf(stderr, "attnmix: %s: checkpoint path of model '%s' must not contain spaces, ':', '#', '$' or '%%'\n",
                    cfg.path, cfg.models[i].name);
            goto out;
        }
    if (check_models(&cfg) < 0) goto out;
    if (am_mkdirs(cfg.output_dir, &e) < 0) { fprintf(stderr, "attnmix: %s\n", e.msg); goto out; }
    snprintf(mk, sizeof mk, "%s/Makefile", cfg.output_dir);
    if (write_makefile(&cfg, bin, mk, force, &e) < 0) { fprintf(stderr, "attnmix: %s\n", e.msg); goto out; }
    fprintf(stderr, "attnmix: experiment '%s': %d model(s) x %d pairs x %d alphas -> %s\n", cfg.experiment,
            cfg.n_models, cfg.n_pairs, cfg.n_alphas, cfg.output_dir);
    char jobs_s[32];
    snprintf(jobs_s, sizeof jobs_s, "-j%d", jobs > 0 ? jobs : 1);
    pid_t pid = fork();
    if (pid == 0) {
        char *args[] = {"make", "--no-print-directory", "-f", mk, jobs_s, dry ? "-n" : NULL, NULL};
        execvp("make", args);
        fprintf(stderr, "attnmix: cannot run make: %s\n", strerror(errno));
        _exit(127);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "attnmix: the run stopped early; fix the error above and rerun: finished stages are kept\n");
        goto out;
    }
    if (!dry) {
        fprintf(stderr, "\nattnmix: done. Outputs in %s:\n", cfg.output_dir);
        for (int i = 0; i < cfg.n_models; i++)
            fprintf(stderr, "  %s/%s/cube.h5            attention cube (h5py, xarray, HDFView, h5web)\n"
                            "  %s/%s/generations.tsv    generated texts\n",
                    cfg.output_dir, cfg.models[i].name, cfg.output_dir, cfg.models[i].name);
        fprintf(stderr, "  %s/analysis.h5                   head statistics, PCA, t-SNE\n"
                        "  %s/figures/index.html            figures (open in a browser)\n",
                cfg.output_dir, cfg.output_dir);
    }
    rc = 0;
out:
    am_config_free(&cfg);
    return rc;
}

static int cmd_slurm(int argc, char **argv) {
    enum { O_PART = 256, O_TIME, O_CPUS, O_MEM, O_GRES, O_MAXP, O_SHARD, O_ACCOUNT, O_SUBMIT, O_SBATCH };
    static const struct option opts[] = {
        {"partition", required_argument, 0, O_PART}, {"time", required_argument, 0, O_TIME},
        {"cpus", required_argument, 0, O_CPUS},       {"mem", required_argument, 0, O_MEM},
        {"gres", required_argument, 0, O_GRES},       {"max-parallel", required_argument, 0, O_MAXP},
        {"shard", required_argument, 0, O_SHARD},     {"account", required_argument, 0, O_ACCOUNT},
        {"submit", no_argument, 0, O_SUBMIT},         {"sbatch", required_argument, 0, O_SBATCH},
        {"help", no_argument, 0, 'h'},                {0, 0, 0, 0}};
    am_slurm_opts so = {0};
    int submit = 0, c;
    char *end;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_PART: so.partition = optarg; break;
        case O_TIME: so.time = optarg; break;
        case O_MEM: so.mem = optarg; break;
        case O_GRES: so.gres = optarg; break;
        case O_ACCOUNT: so.account = optarg; break;
        case O_SBATCH: so.sbatch = optarg; break;
        case O_SUBMIT: submit = 1; break;
        case O_CPUS:
        case O_MAXP: {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 100000) {
                fprintf(stderr, "attnmix: --%s wants a positive integer, got '%s'\n", c == O_CPUS ? "cpus" : "max-parallel", optarg);
                return 2;
            }
            if (c == O_CPUS) so.cpus = (int)v;
            else so.max_parallel = (int)v;
            break;
        }
        case O_SHARD:
            if (!strcmp(optarg, "pair")) so.shard_model = 0;
            else if (!strcmp(optarg, "model")) so.shard_model = 1;
            else { fprintf(stderr, "attnmix: --shard is 'pair' or 'model', not '%s'\n", optarg); return 2; }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) { usage(stderr); return 2; }
    am_h5_quiet();
    am_config cfg;
    am_err e = {0};
    if (am_config_load(&cfg, argv[optind], &e) < 0) { fprintf(stderr, "attnmix: %s\n", e.msg); return 1; }
    int rc = 1;
    char bin[PATH_MAX];
    am_slurm_plan plan = {0};
    if (bin_dir(bin, sizeof bin) < 0) { fprintf(stderr, "attnmix: cannot find own directory\n"); goto out; }
    if (am_mkdirs(cfg.output_dir, &e) < 0 || am_slurm_write(&cfg, bin, &so, &plan, &e) < 0) {
        fprintf(stderr, "attnmix: %s\n", e.msg);
        goto out;
    }
    fprintf(stderr, "attnmix: %d of %d %s to run; wrote %s and %s\n", plan.n_todo, plan.n_tasks,
            so.shard_model ? "model tasks" : "model x pair shards", plan.array_path, plan.merge_path);
    for (int k = 0; k < plan.n_todo && k < 20; k++) {
        int m, p;
        am_slurm_shard(&cfg, &so, plan.todo[k], &m, &p);
        fprintf(stderr, "  task %d: %s%s%s\n", plan.todo[k], cfg.models[m].name, p >= 0 ? " " : "",
                p >= 0 ? cfg.pairs[p].key : "");
    }
    if (plan.n_todo > 20) fprintf(stderr, "  ... and %d more\n", plan.n_todo - 20);
    if (submit) {
        char aid[64], mid[64];
        if (am_slurm_submit(&so, &plan, aid, mid, &e) < 0) { fprintf(stderr, "attnmix: %s\n", e.msg); goto out; }
        if (aid[0]) printf("array %s\n", aid);
        else fprintf(stderr, "attnmix: every shard is complete; submitting the merge only\n");
        printf("merge %s\n", mid);
    } else {
        fprintf(stderr, "attnmix: submit with: sbatch --parsable %s, then sbatch --dependency=afterok:<id> %s "
                        "(or rerun with --submit)\n", plan.array_path, plan.merge_path);
    }
    rc = 0;
out:
    am_slurm_plan_free(&plan);
    am_config_free(&cfg);
    return rc;
}

static int cmd_merge(int argc, char **argv) {
    static const struct option opts[] = {{"force", no_argument, 0, 'f'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int force = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
        if (c == 'f') force = 1;
        else if (c == 'h') { usage(stdout); return 0; }
        else { usage(stderr); return 2; }
    }
    if (optind != argc - 1) { usage(stderr); return 2; }
    am_h5_quiet();
    am_config cfg;
    am_err e = {0};
    if (am_config_load(&cfg, argv[optind], &e) < 0) { fprintf(stderr, "attnmix: %s\n", e.msg); return 1; }
    int rc = 0;
    for (int i = 0; i < cfg.n_models && rc == 0; i++) {
        int skipped = 0;
        double t0 = am_now();
        if (am_merge_model(&cfg, cfg.models[i].name, force, &skipped, &e) < 0) {
            fprintf(stderr, "attnmix: merge %s: %s\n", cfg.models[i].name, e.msg);
            rc = 1;
        } else {
            fprintf(stderr, "attnmix: merge %s: %s/%s/cube.h5 %s (%d shards, %.2fs)\n", cfg.models[i].name,
                    cfg.output_dir, cfg.models[i].name, skipped ? "is up to date" : "written", cfg.n_pairs,
                    am_now() - t0);
        }
    }
    am_config_free(&cfg);
    return rc;
}

static int cmd_consolidate(int argc, char **argv) {
    static const struct option opts[] = {{"level", required_argument, 0, 'l'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int level = -1, c;
    char *end;
    optind = 1;
    while ((c = getopt_long(argc, argv, "l:h", opts, NULL)) != -1) {
        if (c == 'l') {
            level = (int)strtol(optarg, &end, 10);
            if (*end || level < 0 || level > 9) { fprintf(stderr, "attnmix: --level is 0..9\n"); return 2; }
        } else if (c == 'h') { usage(stdout); return 0; }
        else { usage(stderr); return 2; }
    }
    if (optind != argc - 2) { usage(stderr); return 2; }
    am_h5_quiet();
    am_err e = {0};
    double t0 = am_now();
    if (am_consolidate(argv[optind], argv[optind + 1], level, &e) < 0) {
        fprintf(stderr, "attnmix: consolidate: %s\n", e.msg);
        return 1;
    }
    fprintf(stderr, "attnmix: consolidate: %s -> %s (%.2fs)\n", argv[optind], argv[optind + 1], am_now() - t0);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) { usage(stderr); return 2; }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) { usage(stdout); return 0; }
    if (!strcmp(cmd, "--version")) { printf("attnmix %s (%s)\n", ATTNMIX_VERSION, ATTNMIX_GIT_COMMIT); return 0; }
    if (!strcmp(cmd, "run")) return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "slurm")) return cmd_slurm(argc - 1, argv + 1);
    if (!strcmp(cmd, "merge")) return cmd_merge(argc - 1, argv + 1);
    if (!strcmp(cmd, "consolidate")) return cmd_consolidate(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof PROGRAMS / sizeof *PROGRAMS; i++) {
        if (strcmp(cmd, PROGRAMS[i]) != 0) continue;
        char bin[PATH_MAX], exe[PATH_MAX + 64];
        if (bin_dir(bin, sizeof bin) < 0) { fprintf(stderr, "attnmix: cannot find own directory\n"); return 1; }
        snprintf(exe, sizeof exe, "%s/attnmix-%s", bin, cmd);
        argv[1] = exe;
        execv(exe, argv + 1);
        fprintf(stderr, "attnmix: cannot run %s: %s\n", exe, strerror(errno));
        return 1;
    }
    fprintf(stderr, "attnmix: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
