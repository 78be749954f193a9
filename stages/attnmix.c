/* attnmix: the driver. `attnmix run CONFIG` runs the whole experiment through
 * a generated Makefile (parallel with -j, incremental, resumable; run/makefile.h);
 * `attnmix slurm|merge|consolidate` scale it out (run/slurm.h, run/merge.h);
 * `attnmix <stage> ...` runs one stage program. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"
#include "base/fs.h"
#include "base/progress.h"
#include "h5/h5io.h"
#include "model/qwen3.h"
#include "run/bin_dir.h"
#include "run/gate.h"
#include "run/makefile.h"
#include "run/merge.h"
#include "run/quote.h"
#include "run/slurm.h"
#include "stage/stamp.h"

static const char *PROGRAMS[] = {"tokenize", "embed-mix", "forward",         "generate", "induction",
                                 "analyze",  "plot",      "make-checkpoint", "view"};

static void usage(FILE *f) {
    fprintf(f, "usage: attnmix run CONFIG.yaml [-j N] [--force] [--dry-run]\n"
               "       attnmix slurm CONFIG.yaml [options] | merge CONFIG.yaml | consolidate CUBE OUT.h5\n"
               "       attnmix <stage> [stage options]   (attnmix <stage> --help)\n"
               "       attnmix view OUT [--port N]       the maps in the browser (attnmix view --help)\n"
               "       attnmix --help | --version\n\n"
               "Mixes prompt pairs in embedding space, runs Qwen3 models on the mixes with\n"
               "greedy generation and captures every attention map into HDF5 cubes.\n\n"
               "run CONFIG.yaml     run every stage of the experiment: tokenize, embed-mix,\n"
               "                    forward, generate, induction (per model), analyze, plot;\n"
               "                    writes OUT/Makefile and runs it, so a second run only\n"
               "                    redoes what changed and a killed run resumes; the analysis\n"
               "                    includes the frozen-pattern runs OUT/<model>/frozen*\n"
               "  -j, --jobs N      stages run in parallel (default 1)\n"
               "  -f, --force       recompute everything\n"
               "  -n, --dry-run     write OUT/Makefile and show the commands only\n\n"
               "slurm CONFIG.yaml   write OUT/slurm/array.sbatch (task i runs the stages of\n"
               "                    shard i) and OUT/slurm/merge.sbatch (merge, induction,\n"
               "                    analyze, plot, after the array); only shards whose cube is\n"
               "                    missing or stale are listed, so rerunning resubmits what failed\n"
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
               "                    [--level N: deflate level, default that of the source]\n"
               "stamp CONFIG.yaml STAGE [--model NAME] [--pair KEY]\n"
               "                    print the stamp_parts the output of STAGE must carry for this\n"
               "                    config and checkpoint (docs/reliability.md)\n\n"
               "stages: tokenize, embed-mix, forward, generate, induction, analyze, plot, make-checkpoint\n");
}

/* Print a failure, each line of its message prefixed, and give main's exit status for it. */
static int failed(const am_err *e) {
    const char *s = e->msg;
    do {
        const char *nl = strchr(s, '\n');
        int len = nl ? (int)(nl - s) : (int)strlen(s);
        fprintf(stderr, "attnmix: %.*s\n", len, s);
        s = nl ? nl + 1 : NULL;
    } while (s);
    return am_exit_status(e);
}

static int cmd_run(int argc, char **argv) {
    static const struct option opts[] = {{"jobs", required_argument, 0, 'j'},
                                         {"force", no_argument, 0, 'f'},
                                         {"dry-run", no_argument, 0, 'n'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int jobs = 1, force = 0, dry = 0, c, rc;
    am_config cfg;
    am_err e = {0};
    char bin[PATH_MAX], mk[PATH_MAX + 16];
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
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    if (am_config_load(&cfg, argv[optind], &e) < 0) return failed(&e);
    for (const char *w = cfg.warnings; *w;) { /* "FILE:L:C: warning: ..." lines, said once for every stage */
        size_t n = strcspn(w, "\n");
        fprintf(stderr, "attnmix: %.*s\n", (int)n, w);
        w += n + (w[n] == '\n');
    }
    snprintf(mk, sizeof mk, "%s/Makefile", cfg.output_dir);
    if (am_bin_dir(bin, sizeof bin, &e) < 0 || am_run_check(&cfg, &e) < 0 || am_mkdirs(cfg.output_dir, &e) < 0 ||
        am_makefile_write(&cfg, bin, mk, force, &e) < 0) {
        rc = failed(&e);
        goto out;
    }
    fprintf(stderr, "attnmix: experiment '%s': %d model(s) x %d pairs x %d alphas -> %s\n", cfg.experiment,
            cfg.n_models, cfg.n_pairs, cfg.n_alphas, cfg.output_dir);
    if (am_makefile_run(mk, jobs, dry, &e) < 0) {
        rc = failed(&e);
        goto out;
    }
    if (!dry) {
        fprintf(stderr, "\nattnmix: done. Outputs in %s:\n", cfg.output_dir);
        for (int i = 0; i < cfg.n_models; i++)
            fprintf(stderr,
                    "  %s/%s/cube.h5            attention cube (h5py, xarray, HDFView, h5web)\n"
                    "  %s/%s/generations.tsv    generated texts\n",
                    cfg.output_dir, cfg.models[i].name, cfg.output_dir, cfg.models[i].name);
        fprintf(stderr,
                "  %s/analysis.h5                   head statistics, PCA, t-SNE, frozen-run comparisons\n"
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
    static const struct option opts[] = {{"partition", required_argument, 0, O_PART},
                                         {"time", required_argument, 0, O_TIME},
                                         {"cpus", required_argument, 0, O_CPUS},
                                         {"mem", required_argument, 0, O_MEM},
                                         {"gres", required_argument, 0, O_GRES},
                                         {"max-parallel", required_argument, 0, O_MAXP},
                                         {"shard", required_argument, 0, O_SHARD},
                                         {"account", required_argument, 0, O_ACCOUNT},
                                         {"submit", no_argument, 0, O_SUBMIT},
                                         {"sbatch", required_argument, 0, O_SBATCH},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    am_slurm_opts so = {0};
    am_slurm_plan plan = {0};
    am_config cfg;
    am_err e = {0};
    int submit = 0, c, rc;
    char *end, bin[PATH_MAX];
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
                fprintf(stderr, "attnmix: --%s wants a positive integer, got '%s'\n",
                        c == O_CPUS ? "cpus" : "max-parallel", optarg);
                return 2;
            }
            if (c == O_CPUS) so.cpus = (int)v;
            else so.max_parallel = (int)v;
            break;
        }
        case O_SHARD:
            if (!strcmp(optarg, "pair")) so.shard_model = 0;
            else if (!strcmp(optarg, "model")) so.shard_model = 1;
            else {
                fprintf(stderr, "attnmix: --shard is 'pair' or 'model', not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    am_h5_quiet();
    if (am_config_load(&cfg, argv[optind], &e) < 0) return failed(&e);
    if (am_bin_dir(bin, sizeof bin, &e) < 0 || am_script_config_check(&cfg, AM_IN_SBATCH, &e) < 0 ||
        am_mkdirs(cfg.output_dir, &e) < 0 || am_slurm_write(&cfg, bin, &so, &plan, &e) < 0) {
        rc = failed(&e);
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
        if (am_slurm_submit(&so, &plan, aid, mid, &e) < 0) {
            rc = failed(&e);
            goto out;
        }
        if (aid[0]) printf("array %s\n", aid);
        else fprintf(stderr, "attnmix: every shard is complete; submitting the merge only\n");
        printf("merge %s\n", mid);
    } else {
        am_slurm_hint(stderr, &plan);
    }
    rc = 0;
out:
    am_slurm_plan_free(&plan);
    am_config_free(&cfg);
    return rc;
}

static int cmd_merge(int argc, char **argv) {
    static const struct option opts[] = {{"force", no_argument, 0, 'f'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int force = 0, c, rc = 0;
    am_config cfg;
    am_err e = {0};
    optind = 1;
    while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
        if (c == 'f') force = 1;
        else if (c == 'h') {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    am_h5_quiet();
    if (am_config_load(&cfg, argv[optind], &e) < 0) return failed(&e);
    for (int i = 0; i < cfg.n_models && rc == 0; i++) {
        int skipped = 0;
        double t0 = am_now();
        if (am_merge_model(&cfg, cfg.models[i].name, force, &skipped, &e) < 0) {
            fprintf(stderr, "attnmix: merge %s: %s\n", cfg.models[i].name, e.msg);
            rc = am_exit_status(&e);
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
    static const struct option opts[] = {
        {"level", required_argument, 0, 'l'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int level = -1, c;
    char *end;
    am_err e = {0};
    double t0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "l:h", opts, NULL)) != -1) {
        if (c == 'l') {
            level = (int)strtol(optarg, &end, 10);
            if (*end || level < 0 || level > 9) {
                fprintf(stderr, "attnmix: --level is 0..9\n");
                return 2;
            }
        } else if (c == 'h') {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 2) {
        usage(stderr);
        return 2;
    }
    am_h5_quiet();
    t0 = am_now();
    if (am_consolidate(argv[optind], argv[optind + 1], level, &e) < 0) {
        fprintf(stderr, "attnmix: consolidate: %s\n", e.msg);
        return am_exit_status(&e);
    }
    fprintf(stderr, "attnmix: consolidate: %s -> %s (%.2fs)\n", argv[optind], argv[optind + 1], am_now() - t0);
    return 0;
}

/* attnmix gate --out PATH --label L --step K/N [--in FILE]... [--force] -- CMD ARGS... (run/gate.h) */
static int cmd_gate(int argc, char **argv) {
    static const struct option opts[] = {{"out", required_argument, 0, 'o'},  {"label", required_argument, 0, 'l'},
                                         {"step", required_argument, 0, 's'}, {"in", required_argument, 0, 'i'},
                                         {"force", no_argument, 0, 'f'},      {0, 0, 0, 0}};
    am_gate g = {0};
    const char **ins = calloc((size_t)argc, sizeof *ins);
    int c, ran, n = 0;
    am_err e = {0};
    if (!ins) return 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+o:l:s:i:f", opts, NULL)) != -1) {
        if (c == 'o') g.out = optarg;
        else if (c == 'l') g.label = optarg;
        else if (c == 's') g.step = optarg;
        else if (c == 'i') ins[n++] = optarg;
        else if (c == 'f') g.force = 1;
        else {
            free(ins);
            return 2;
        }
    }
    if (!g.out || !g.label || !g.step || optind >= argc) {
        fprintf(stderr, "attnmix gate: --out, --label, --step and a command after -- are required\n");
        free(ins);
        return 2;
    }
    g.ins = ins, g.n_in = n, g.cmd = argv + optind;
    am_h5_quiet();
    int rc = am_gate_run(&g, &ran, &e) < 0 ? failed(&e) : 0;
    free(ins);
    return rc;
}

static int cmd_stamp(int argc, char **argv) {
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"pair", required_argument, 0, 'p'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *model = NULL, *pair = NULL;
    int c, rc = 1;
    am_config cfg;
    am_err e = {0};
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:p:h", opts, NULL)) != -1) {
        if (c == 'm') model = optarg;
        else if (c == 'p') pair = optarg;
        else if (c == 'h') {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 2) {
        usage(stderr);
        return 2;
    }
    const am_stage_def *d = am_stage_def_find(argv[optind + 1]);
    if (!d) {
        fprintf(stderr, "attnmix: stamp: unknown stage '%s'\n", argv[optind + 1]);
        return 2;
    }
    if (am_config_load(&cfg, argv[optind], &e) < 0) return failed(&e);
    const am_model_cfg *mc = NULL;
    for (int i = 0; i < cfg.n_models; i++)
        if (!model || !strcmp(cfg.models[i].name, model)) {
            mc = &cfg.models[i];
            break;
        }
    am_qwen3 m;
    am_stamp_ctx x;
    char parts[4096];
    if (!mc) am_fail_code(&e, AM_E_USAGE, "%s: no model named '%s'", cfg.path, model);
    if (!mc || am_qwen3_open(&m, mc->checkpoint, &e) < 0) {
        rc = failed(&e);
        goto out;
    }
    if (am_stamp_ctx_init(&x, &cfg, mc, pair, m.fingerprint, &e) < 0) rc = failed(&e);
    else {
        am_stamp_parts(&x, (int)(d - am_stage_table), parts, sizeof parts);
        printf("%s\n", parts);
        rc = 0;
    }
    am_qwen3_close(&m);
out:
    am_config_free(&cfg);
    return rc;
}

/* attnmix <stage> ARGS: exec attnmix-<stage> from this program's directory. */
static int run_program(const char *name, char **argv) {
    char bin[PATH_MAX], exe[PATH_MAX + 64];
    am_err e = {0};
    if (am_bin_dir(bin, sizeof bin, &e) < 0) return failed(&e);
    snprintf(exe, sizeof exe, "%s/attnmix-%s", bin, name);
    argv[0] = exe;
    execv(exe, argv);
    fprintf(stderr, "attnmix: cannot run %s: %s\n", exe, strerror(errno));
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("attnmix %s (%s)\n", ATTNMIX_VERSION, ATTNMIX_GIT_COMMIT);
        return 0;
    }
    if (!strcmp(cmd, "run")) return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "slurm")) return cmd_slurm(argc - 1, argv + 1);
    if (!strcmp(cmd, "merge")) return cmd_merge(argc - 1, argv + 1);
    if (!strcmp(cmd, "consolidate")) return cmd_consolidate(argc - 1, argv + 1);
    if (!strcmp(cmd, "stamp")) return cmd_stamp(argc - 1, argv + 1);
    if (!strcmp(cmd, "gate")) return cmd_gate(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof PROGRAMS / sizeof *PROGRAMS; i++)
        if (!strcmp(cmd, PROGRAMS[i])) return run_program(cmd, argv + 1);
    fprintf(stderr, "attnmix: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
