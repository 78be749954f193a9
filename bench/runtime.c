/* bench-runtime: the blog workload on a qwen3-0.6b-shaped synthetic bf16
 * checkpoint: 4 pairs x 5 alphas, 10-token prompts, 100 new tokens, every
 * attention map captured into memory, all units batched. Compared in the same
 * run against bench/runtime_baseline.py (PyTorch eager, one unit at a time,
 * attention probabilities returned at every step, as the original did).
 * Also: single-sequence decode, its weight-read bandwidth against a streaming
 * read of a large buffer measured here (fraction of the memory roofline).
 *
 * With --backend cuda the model runs on the GPU (bf16 GEMMs, or --compute
 * float32), the roofline is the device's memory read (am_cuda_read_bandwidth)
 * and the baseline is bench/runtime_baseline_hf.py: Hugging Face transformers
 * on the same GPU, bf16, eager attention, generate(output_attentions=True),
 * one unit at a time.
 *
 * Batched decode against the float32 FMA ceiling (ceiling.h): the decode
 * steps' GFLOP/s beside OpenBLAS sgemm of the same GEMM shapes measured in
 * the same run, and the cost of capturing the probabilities (the workload's
 * decode again without the capture hook).
 *
 * usage: bench-runtime [--model DIR] [--baseline-units K] [--max-new N] [--threads T]
 *                      [--backend cpu|cuda] [--compute bf16|float32] */
#include <getopt.h>
#include <libgen.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/compare.h"
#include "ceiling.h"
#include "kernels_cuda.h"
#include "model/mix.h"
#include "model/runtime.h"
#include "stream.h"

#define PAIRS 4
#define ALPHAS 5
#define NUNITS (PAIRS * ALPHAS)
#define PROMPT 10
#define ROUNDS 5 /* single-sequence decode rounds */

typedef struct capbuf {
    float *m; /* [NUNITS][L][H][S][S] */
    int L, H, S;
} capbuf;

static int hook(void *ctx, int layer, int unit, int q0, int nq, int nk, const float *probs, am_err *e) {
    capbuf *c = ctx;
    for (int h = 0; h < c->H; h++)
        for (int i = 0; i < nq; i++)
            memcpy(c->m + ((((size_t)unit * c->L + layer) * c->H + h) * c->S + q0 + i) * c->S,
                   probs + ((size_t)h * nq + i) * nk, sizeof(float) * nk);
    return 0;
}

/* Time stamps of the decode steps (generate's progress callback). */
typedef struct step_times {
    double t[256];
    int n;
} step_times;

static void on_step(void *ctx, int step, int active) {
    (void)step, (void)active;
    step_times *st = ctx;
    if (st->n < 256) st->t[st->n++] = bench_now();
}

static size_t weight_bytes(const am_qwen3 *m) {
    size_t b = m->final_norm->nbytes + m->lm_head->nbytes;
    for (int l = 0; l < m->cfg.num_hidden_layers; l++) {
        const am_qwen3_layer *w = &m->layers[l];
        const am_tensor *t[] = {w->input_norm, w->q_proj,    w->k_proj,    w->v_proj,  w->o_proj,   w->q_norm,
                                w->k_norm,     w->post_norm, w->gate_proj, w->up_proj, w->down_proj};
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) b += t[i]->nbytes;
    }
    return b;
}

/* 0 for the first word, 1 for the second, -1 (with a message) otherwise. */
static int choice(const char *opt, const char *arg, const char *a, const char *b) {
    if (!strcmp(arg, a) || !strcmp(arg, b)) return !strcmp(arg, b);
    fprintf(stderr, "bench-runtime: %s %s|%s, not '%s'\n", opt, a, b, arg);
    return -1;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    bench_openblas_coretype(argv);
    const char *model = NULL;
    int base_units = 2, max_new = 100, threads = 0, cuda = 0, f32 = 0;
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'},   {"baseline-units", required_argument, 0, 'b'},
        {"max-new", required_argument, 0, 'n'}, {"threads", required_argument, 0, 't'},
        {"backend", required_argument, 0, 'B'}, {"compute", required_argument, 0, 'C'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'b': base_units = atoi(optarg); break;
        case 'n': max_new = atoi(optarg); break;
        case 't': threads = atoi(optarg); break;
        case 'B':
            if ((cuda = choice("--backend", optarg, "cpu", "cuda")) < 0) return 2;
            break;
        case 'C':
            if ((f32 = choice("--compute", optarg, "bf16", "float32")) < 0) return 2;
            break;
        case 'h':
            printf("usage: bench-runtime [--model DIR] [--baseline-units K (0 = none, default 2)] [--max-new N]\n"
                   "                     [--threads T] [--backend cpu|cuda] [--compute bf16|float32]\n"
                   "Default model: a qwen3-0.6b-shaped bf16 checkpoint generated next to the binary.\n");
            return 0;
        default: return 2;
        }
    }
    if (max_new < 1 || base_units < 0 || base_units > NUNITS) {
        fprintf(stderr, "bench-runtime: --max-new must be >= 1 and --baseline-units 0..%d\n", NUNITS);
        return 2;
    }
    char bindir[4096], argv0[4096], defmodel[4200], cmd[9000];
    snprintf(argv0, sizeof argv0, "%s", argv[0]);
    snprintf(bindir, sizeof bindir, "%s", dirname(argv0));
    if (!model) {
        snprintf(defmodel, sizeof defmodel, "%s/../bench-models/qwen3-0.6b-bf16", bindir);
        model = defmodel;
        char cfgp[4300];
        struct stat sb;
        snprintf(cfgp, sizeof cfgp, "%s/config.json", model);
        if (stat(cfgp, &sb)) {
            snprintf(cmd, sizeof cmd, "%s/attnmix-make-checkpoint --preset qwen3-0.6b --dtype bf16 --seed 1 --out %s",
                     bindir, model);
            fprintf(stderr, "bench-runtime: %s\n", cmd);
            if (system(cmd)) {
                fprintf(stderr, "bench-runtime: could not create the checkpoint\n");
                return 1;
            }
        }
    }
    if (threads > 0) omp_set_num_threads(threads);
    threads = omp_get_max_threads();

    am_err e = {0};
    am_qwen3 m;
    if (am_qwen3_open(&m, model, &e)) {
        fprintf(stderr, "bench-runtime: %s\n", e.msg);
        return am_exit_status(&e);
    }
    int L = m.cfg.num_hidden_layers, H = m.cfg.num_attention_heads, D = m.cfg.hidden_size, V = m.cfg.vocab_size;
    int S = PROMPT + max_new;

    /* workload: 4 pairs of 10-token prompts, 5 alphas each */
    int ids[PAIRS][2][PROMPT];
    uint64_t s = 2024;
    for (int p = 0; p < PAIRS; p++)
        for (int k = 0; k < 2; k++)
            for (int t = 0; t < PROMPT; t++) {
                s = s * 6364136223846793005ull + 1442695040888963407ull;
                ids[p][k][t] = (int)((s >> 33) % 150000);
            }
    static const double alphas[ALPHAS] = {0.0, 0.25, 0.5, 0.75, 1.0};

    am_runtime_opts o = {.max_units = NUNITS, .max_seq = S, .backend = cuda ? AM_RT_CUDA : AM_RT_CPU, .cuda_f32 = f32};
    am_runtime *rt = NULL;
    if (am_runtime_init(&rt, &m, &o, &e)) {
        fprintf(stderr, "bench-runtime: %s\n", e.msg);
        return am_exit_status(&e);
    }
    capbuf cb = {.L = L, .H = H, .S = S};
    cb.m = calloc((size_t)NUNITS * L * H * S * S, sizeof(float));
    float *emb = malloc(sizeof(float) * NUNITS * PROMPT * D);
    float *logits = malloc(sizeof(float) * (size_t)NUNITS * V);
    const float *embp[NUNITS];
    int units[NUNITS], T[NUNITS], n_gen[NUNITS];
    int32_t *gen = malloc(sizeof(int32_t) * NUNITS * max_new);
    if (!cb.m || !emb || !logits || !gen) {
        fprintf(stderr, "bench-runtime: out of memory\n");
        return 1;
    }
    for (int p = 0; p < PAIRS; p++)
        for (int a = 0; a < ALPHAS; a++) {
            int u = p * ALPHAS + a;
            if (am_mix_embed(&m, ids[p][0], ids[p][1], PROMPT, alphas[a], emb + (size_t)u * PROMPT * D, &e)) {
                fprintf(stderr, "bench-runtime: %s\n", e.msg);
                return am_exit_status(&e);
            }
            units[u] = u, T[u] = PROMPT, embp[u] = emb + (size_t)u * PROMPT * D;
        }

    /* warm the page cache and the kernels: one single-unit prefill */
    am_runtime_reset(rt, 0, 0, 0);
    if (am_forward(rt, 1, units, T, embp, NULL, logits, &e)) {
        fprintf(stderr, "bench-runtime: %s\n", e.msg);
        return am_exit_status(&e);
    }

    /* Single-sequence decode (no capture) against the memory roofline, in
     * ROUNDS rounds that each measure a streaming read of 1 GiB (best of 2)
     * and then DEC_STEPS decode steps, so every ratio compares two
     * measurements taken under the same load of a shared machine. */
    size_t nbuf = cuda ? 0 : (size_t)1 << 28; /* the host buffer of the CPU roofline */
    float *buf = malloc(nbuf * sizeof(float) + 1);
    if (!buf) {
        fprintf(stderr, "bench-runtime: out of memory for the %zu MiB roofline buffer\n", nbuf * sizeof(float) >> 20);
        return 1;
    }
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < nbuf; i++) buf[i] = (float)(i & 7);
    int dec_steps = max_new < 32 ? max_new : 32; /* fits max_seq */
    size_t wb = weight_bytes(&m);
    double r_bw[ROUNDS], r_mean[ROUNDS], r_med[ROUNDS], r_fmean[ROUNDS], r_fmed[ROUNDS], t_pre = 0;
    int nd = 0;
    for (int r = 0; r < ROUNDS; r++) {
        double bw = 0;
        for (int k = 0; k < 2; k++) {
            double b = 0;
            if (!cuda) b = bench_stream_read(buf, nbuf);
            else if (am_cuda_read_bandwidth(&b, (size_t)4 << 30, e.msg, sizeof e.msg)) {
                fprintf(stderr, "bench-runtime: %s\n", e.msg);
                return am_exit_status(&e);
            }
            bw = b > bw ? b : bw;
        }
        step_times st = {.n = 0};
        am_gen_opts g1 = {.max_new_tokens = dec_steps, .progress = on_step, .progress_ctx = &st};
        int32_t g1out[64];
        int n1;
        am_runtime_reset(rt, 0, 0, 0);
        double t0 = bench_now();
        if (am_forward(rt, 1, units, T, embp, NULL, logits, &e)) {
            fprintf(stderr, "bench-runtime: %s\n", e.msg);
            return am_exit_status(&e);
        }
        double t1 = bench_now();
        if (am_generate(rt, 1, units, logits, &g1, NULL, g1out, &n1, &e)) {
            fprintf(stderr, "bench-runtime: %s\n", e.msg);
            return am_exit_status(&e);
        }
        double t2 = bench_now();
        t_pre = r == 0 || t1 - t0 < t_pre ? t1 - t0 : t_pre;
        /* the median step: the steady state, apart from the first steps'
         * page faults on the mapped weights and other tenants' bursts */
        double dt[256], mean = (t2 - t1) / n1, med = mean;
        nd = 0;
        for (int i = 1; i < st.n; i++) dt[nd++] = st.t[i] - st.t[i - 1];
        if (nd > 0) {
            qsort(dt, (size_t)nd, sizeof dt[0], am_cmp_double);
            med = dt[nd / 2];
        }
        r_bw[r] = bw, r_mean[r] = mean, r_med[r] = med;
        r_fmean[r] = wb / mean / bw, r_fmed[r] = wb / med / bw;
    }
    free(buf);
    double s_bw[ROUNDS], s_mean[ROUNDS], s_med[ROUNDS];
    memcpy(s_bw, r_bw, sizeof s_bw), memcpy(s_mean, r_mean, sizeof s_mean), memcpy(s_med, r_med, sizeof s_med);
    qsort(s_bw, ROUNDS, sizeof(double), am_cmp_double);
    qsort(s_mean, ROUNDS, sizeof(double), am_cmp_double);
    qsort(s_med, ROUNDS, sizeof(double), am_cmp_double);
    qsort(r_fmean, ROUNDS, sizeof(double), am_cmp_double);
    qsort(r_fmed, ROUNDS, sizeof(double), am_cmp_double);

    /* the workload: all 20 units batched, all maps captured */
    am_capture cap = {.fn = hook, .ctx = &cb};
    am_gen_opts g = {.max_new_tokens = max_new};
    for (int u = 0; u < NUNITS; u++) am_runtime_reset(rt, u, 0, 0);
    double w0 = bench_now();
    if (am_forward(rt, NUNITS, units, T, embp, &cap, logits, &e)) {
        fprintf(stderr, "bench-runtime: %s\n", e.msg);
        return am_exit_status(&e);
    }
    double w1 = bench_now();
    if (am_generate(rt, NUNITS, units, logits, &g, &cap, gen, n_gen, &e)) {
        fprintf(stderr, "bench-runtime: %s\n", e.msg);
        return am_exit_status(&e);
    }
    double w2 = bench_now();
    int total_tokens = 0;
    for (int u = 0; u < NUNITS; u++) total_tokens += n_gen[u];
    double wall = w2 - w0;
    /* FLOPs of the decode steps: 2 * (layer weights + lm_head) per token */
    double flop_tok = 2.0 * (double)(wb / 2); /* bf16: 2 bytes per weight */

    printf("model: %s (D=%d L=%d H=%d V=%d, weights %.2f GB), kernels %s, %d threads\n", model, D, L, H, V, wb / 1e9,
           am_runtime_kernel_name(rt), threads);
    printf("memory roofline (%s, best of 2 per round, %d rounds): median %.2f GB/s (%.2f .. %.2f)\n",
           cuda ? "device read of 4 GiB" : "stream read, 1 GiB", ROUNDS, s_bw[ROUNDS / 2] / 1e9, s_bw[0] / 1e9,
           s_bw[ROUNDS - 1] / 1e9);
    printf("single-sequence decode (%d steps per round, prefill of %d tokens %.3f s): mean step %.1f ms/token, "
           "weights read at %.0f%% of the same round's roofline (median of rounds; %.0f%% .. %.0f%%)\n",
           dec_steps, PROMPT, t_pre, s_mean[ROUNDS / 2] * 1e3, 100.0 * r_fmean[ROUNDS / 2], 100.0 * r_fmean[0],
           100.0 * r_fmean[ROUNDS - 1]);
    printf("single-sequence decode, median step of %d: %.1f ms/token, %.2f GB/s of weights, %.0f%% of the same "
           "round's roofline (median of rounds; %.0f%% .. %.0f%%)\n",
           nd, s_med[ROUNDS / 2] * 1e3, wb / s_med[ROUNDS / 2] / 1e9, 100.0 * r_fmed[ROUNDS / 2], 100.0 * r_fmed[0],
           100.0 * r_fmed[ROUNDS - 1]);
    printf("workload (batched %d units, %d new tokens, all maps captured): prefill %.2f s, generate %.2f s, total "
           "%.2f s, %.1f tokens/s, %.0f GFLOP/s in decode\n",
           NUNITS, max_new, w1 - w0, w2 - w1, wall, total_tokens / wall, flop_tok * total_tokens / (w2 - w1) / 1e9);

    /* the same decode without the capture hook: the cost of the maps */
    for (int u = 0; u < NUNITS; u++) am_runtime_reset(rt, u, 0, 0);
    if (am_forward(rt, NUNITS, units, T, embp, NULL, logits, &e)) {
        fprintf(stderr, "bench-runtime: %s\n", e.msg);
        return am_exit_status(&e);
    }
    double n0 = bench_now();
    if (am_generate(rt, NUNITS, units, logits, &g, NULL, gen, n_gen, &e)) {
        fprintf(stderr, "bench-runtime: %s\n", e.msg);
        return am_exit_status(&e);
    }
    double n1 = bench_now(), cap_cost = (w2 - w1) - (n1 - n0);
    printf("decode without capture: %.2f s, %.0f GFLOP/s; capturing the probabilities costs %.2f s (%.0f%% of the "
           "decode with capture)\n",
           n1 - n0, flop_tok * total_tokens / (n1 - n0) / 1e9, cap_cost, 100.0 * cap_cost / (w2 - w1));
    if (!cuda) {
        bench_ceiling bc;
        if (bench_ceiling_measure(&m, am_kernels_best(), NUNITS, 7, &bc)) {
            fprintf(stderr, "bench-runtime: out of memory for the sgemm ceiling\n");
            return 1;
        }
        double ceil = bc.flop / bc.t_sgemm, dec = flop_tok * total_tokens / (w2 - w1);
        double dec_nc = flop_tok * total_tokens / (n1 - n0);
        printf("float32 FMA ceiling, same run: OpenBLAS sgemm (core %s) of one decode step's %d-row GEMM shapes "
               "%.0f GFLOP/s, square 1024^3 sgemm %.0f GFLOP/s; the runtime's %s matmul on the same shapes %.0f "
               "GFLOP/s (%.0f%% of sgemm)\n",
               bc.core, bc.n, ceil / 1e9, bc.peak / 1e9, am_runtime_kernel_name(rt), bc.flop / bc.t_ours / 1e9,
               100.0 * bc.t_sgemm / bc.t_ours);
        printf("batched decode: %.0f%% of the same-shape sgemm ceiling with capture, %.0f%% without (%.0f%% and "
               "%.0f%% of the square sgemm peak)\n",
               100.0 * dec / ceil, 100.0 * dec_nc / ceil, 100.0 * dec / bc.peak, 100.0 * dec_nc / bc.peak);
    }

    /* baseline: PyTorch eager (CPU) or transformers (GPU), one unit at a time, on the first K units */
    double base_per_unit = 0;
    int agree = 0, compared = 0;
    if (base_units > 0) {
        const char *py = getenv("PYTHON") ? getenv("PYTHON") : cuda ? "python3" : "/usr/bin/python3";
        const char *baseline = cuda ? "runtime_baseline_hf.py" : "runtime_baseline.py";
        const char *srcdir = getenv("ATTNMIX_SRC");
        char script[4400], upath[] = "/tmp/bench-runtime-units-XXXXXX";
        if (srcdir) snprintf(script, sizeof script, "%s/bench/%s", srcdir, baseline);
        else snprintf(script, sizeof script, "%s/../../bench/%s", bindir, baseline);
        int fd = mkstemp(upath);
        FILE *f = fdopen(fd, "w");
        fprintf(f, "[");
        for (int u = 0; u < base_units; u++) {
            int p = u / ALPHAS, a = u % ALPHAS;
            fprintf(f, "%s[[", u ? "," : "");
            for (int t = 0; t < PROMPT; t++) fprintf(f, "%s%d", t ? "," : "", ids[p][0][t]);
            fprintf(f, "],[");
            for (int t = 0; t < PROMPT; t++) fprintf(f, "%s%d", t ? "," : "", ids[p][1][t]);
            fprintf(f, "],%.17g]", alphas[a]);
        }
        fprintf(f, "]\n");
        fclose(f);
        snprintf(cmd, sizeof cmd, "%s %s --model %s --units %s --max-new %d --threads %d", py, script, model, upath,
                 max_new, threads);
        fprintf(stderr, "bench-runtime: baseline: %s\n", cmd);
        FILE *pp = popen(cmd, "r");
        static char line[1 << 20];
        double secs = -1;
        if (pp && fgets(line, sizeof line, pp)) {
            char *q = strstr(line, "\"seconds\": ");
            if (q) secs = atof(q + 11);
            /* generated ids of the baseline, in order */
            char *gq = strstr(line, "\"gen\": [");
            if (gq) {
                gq += 8;
                for (int u = 0; u < base_units; u++) {
                    gq = strchr(gq, '[');
                    if (!gq) break;
                    gq++;
                    for (int k = 0; k < max_new; k++) {
                        int tok = (int)strtol(gq, &gq, 10);
                        compared++;
                        agree += k < n_gen[u] && tok == gen[u * max_new + k];
                        if (*gq == ',') gq++;
                    }
                }
            }
        }
        if (pp) pclose(pp);
        unlink(upath);
        if (secs <= 0) {
            fprintf(stderr, "bench-runtime: baseline failed\n");
        } else {
            base_per_unit = secs / base_units;
            double base_all = base_per_unit * NUNITS;
            printf("baseline (%s, one unit at a time, output_attentions): %.2f s per unit, "
                   "%d units measured, %.1f tokens/s, %.1f s for all %d units (extrapolated)\n",
                   cuda ? "transformers generate on the GPU, bf16, eager attention" : "PyTorch eager, float32",
                   base_per_unit, base_units, max_new / base_per_unit, base_all, NUNITS);
            printf("speed-up vs baseline: %.1fx (workload wall time)\n", base_all / wall);
            printf("greedy tokens equal to the baseline's: %d of %d\n", agree, compared);
        }
    }
    am_runtime_free(rt);
    am_qwen3_close(&m);
    free(cb.m), free(emb), free(logits), free(gen);
    return 0;
}
