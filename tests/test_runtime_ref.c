/* The C runtime against the independent float64 numpy reference
 * (tools/qwen3_ref.py) on a synthetic checkpoint with peaky attention:
 * mixed-embedding prompts (alpha*E[a] + (1-alpha)*E[b]), with and without
 * masked pads, batched prefill and batched greedy generation, all maps
 * captured. Checks: attention probabilities within 1e-4 absolute, logits
 * within 1e-3 of the row's largest |logit|, and identical greedy tokens at
 * every step whose reference top1-top2 margin exceeds 1e-3 (comparison stops
 * at the first low-margin step; maps and logits are compared over the prefix
 * both runs share).
 * Usage: test_runtime_ref [--preset tiny|small] (default tiny). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/mix.h"
#include "model/runtime.h"
#include "test_level.h"
#include "test_util.h"

#define PROB_TOL 1e-4
#define LOGIT_TOL 1e-3
#define MARGIN 1e-3
#define NU 5
#define MAXT 12

typedef struct unit_case {
    int T, ids_a[MAXT], ids_b[MAXT], n_pad, mask_pads;
    double alpha;
} unit_case;

/* Full maps per unit: [L][H][S][S]. */
typedef struct maps {
    int L, H, S;
    float *m[NU];
} maps;

static int hook(void *ctx, int layer, int unit, int q0, int nq, int nk, const float *probs, am_err *e) {
    maps *mp = ctx;
    for (int h = 0; h < mp->H; h++)
        for (int i = 0; i < nq; i++)
            for (int j = 0; j < nk; j++)
                mp->m[unit][(((size_t)layer * mp->H + h) * mp->S + q0 + i) * mp->S + j] =
                    probs[((size_t)h * nq + i) * nk + j];
    return 0;
}

/* One array of the reference (tools/qwen3_ref.py --npy): DIR/unit<u>.<name>.npy,
 * NumPy format 1.0-3.0, C order, little-endian dtype `descr` ("<f8", "<f4",
 * "<i4"). Returns the data (malloc'd) and its shape, or NULL with a message. */
static void *npy_load(const char *dir, int u, const char *name, const char *descr, size_t *shape, int *rank) {
    char path[512], hdr[1024];
    snprintf(path, sizeof path, "%s/unit%d.%s.npy", dir, u, name);
    FILE *f = fopen(path, "rb");
    unsigned char pre[10];
    void *data = NULL;
    size_t hlen = 0, count = 1, es = descr[2] - '0';
    char want[32];
    const char *sh = NULL;
    if (!f || fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6)) goto bad;
    hlen = pre[8] | (size_t)pre[9] << 8;
    if (pre[6] >= 2) { /* 4-byte header length */
        unsigned char more[2];
        if (fread(more, 1, 2, f) != 2) goto bad;
        hlen |= (size_t)more[0] << 16 | (size_t)more[1] << 24;
    }
    if (hlen >= sizeof hdr || fread(hdr, 1, hlen, f) != hlen) goto bad;
    hdr[hlen] = 0;
    snprintf(want, sizeof want, "'descr': '%s'", descr);
    sh = strstr(hdr, "'shape': (");
    if (!strstr(hdr, want) || !strstr(hdr, "'fortran_order': False") || !sh) goto bad;
    *rank = 0;
    for (const char *c = sh + 10; *c && *c != ')';) {
        char *end;
        long v = strtol(c, &end, 10);
        if (end == c) break;
        if (*rank == 4 || v < 0) goto bad;
        shape[(*rank)++] = (size_t)v, count *= (size_t)v;
        c = end;
        while (*c == ',' || *c == ' ') c++;
    }
    data = malloc(count * es + 1);
    if (!data || fread(data, es, count, f) != count) goto bad;
    fclose(f);
    return data;
bad:
    fprintf(stderr, "test_runtime_ref: %s: not a C-order %s NumPy array of rank <= 4\n", path, descr);
    free(data);
    if (f) fclose(f);
    return NULL;
}

int main(int argc, char **argv) {
    int lv = test_level_check("test_runtime_ref");
    if (lv) return lv;
    const char *preset = "tiny";
    if (argc == 3 && !strcmp(argv[1], "--preset")) preset = argv[2];
    const char *bin = getenv("ATTNMIX_BIN"), *src = getenv("ATTNMIX_SRC"), *py = getenv("PYTHON");
    if (!bin || !src) {
        fprintf(stderr, "test_runtime_ref: ATTNMIX_BIN and ATTNMIX_SRC must be set (run through ctest)\n");
        return 1;
    }
    if (!py) py = "/usr/bin/python3";
    int max_new = !strcmp(preset, "tiny") ? 10 : 6;
    char dir[256], cmd[2048], cases_path[300], ref_path[300];
    snprintf(dir, sizeof dir, "runtime_ref.%s.model", preset);
    snprintf(cases_path, sizeof cases_path, "runtime_ref.%s.cases.json", preset);
    snprintf(ref_path, sizeof ref_path, "runtime_ref.%s.ref", preset);
    snprintf(cmd, sizeof cmd, "%s/attnmix-make-checkpoint --preset %s --out %s --seed 11 --qk-scale 4 --force --quiet",
             bin, preset, dir);
    if (system(cmd)) {
        fprintf(stderr, "test_runtime_ref: failed: %s\n", cmd);
        return 1;
    }

    am_err e = {0};
    am_qwen3 m;
    if (am_qwen3_open(&m, dir, &e)) {
        fprintf(stderr, "test_runtime_ref: %s\n", e.msg);
        return 1;
    }
    int L = m.cfg.num_hidden_layers, H = m.cfg.num_attention_heads, D = m.cfg.hidden_size, V = m.cfg.vocab_size;

    /* cases: random ids, alphas across [0, 1], pads masked and not */
    unit_case uc[NU];
    static const double alphas[NU] = {0.0, 0.25, 0.5, 0.8, 1.0};
    static const int lens[NU] = {6, 9, 4, 8, 7};
    uint64_t s = 12345;
    for (int u = 0; u < NU; u++) {
        unit_case *c = &uc[u];
        c->T = lens[u], c->alpha = alphas[u];
        c->n_pad = u == 3 ? 3 : u == 1 ? 2 : 0;
        c->mask_pads = u == 3;
        for (int t = 0; t < c->T; t++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            c->ids_a[t] = (int)((s >> 33) % 151000);
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            c->ids_b[t] = (int)((s >> 33) % 151000);
            if (t < c->n_pad) c->ids_a[t] = c->ids_b[t] = 151643;
        }
    }
    FILE *f = fopen(cases_path, "w");
    fprintf(f, "{\"max_new_tokens\": %d, \"eos_ids\": [", max_new);
    for (int i = 0; i < m.cfg.n_eos; i++) fprintf(f, "%s%d", i ? ", " : "", m.cfg.eos_ids[i]);
    fprintf(f, "], \"units\": [");
    for (int u = 0; u < NU; u++) {
        fprintf(f, "%s{\"alpha\": %.17g, \"n_pad\": %d, \"mask_pads\": %d, \"ids_a\": [", u ? ", " : "", uc[u].alpha,
                uc[u].n_pad, uc[u].mask_pads);
        for (int t = 0; t < uc[u].T; t++) fprintf(f, "%s%d", t ? ", " : "", uc[u].ids_a[t]);
        fprintf(f, "], \"ids_b\": [");
        for (int t = 0; t < uc[u].T; t++) fprintf(f, "%s%d", t ? ", " : "", uc[u].ids_b[t]);
        fprintf(f, "]}");
    }
    fprintf(f, "]}\n");
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s %s/tools/qwen3_ref.py --model %s --cases %s --npy --out %s", py, src, dir, cases_path,
             ref_path);
    if (system(cmd)) {
        fprintf(stderr, "test_runtime_ref: reference failed: %s\n", cmd);
        return 1;
    }

    /* C: batched prefill of all units, batched greedy generation, all maps */
    int S = MAXT + max_new;
    am_runtime_opts o = {.max_units = NU, .max_seq = S};
    am_runtime *rt = NULL;
    if (am_runtime_init(&rt, &m, &o, &e)) {
        fprintf(stderr, "test_runtime_ref: %s\n", e.msg);
        return 1;
    }
    maps mp = {.L = L, .H = H, .S = S};
    float *emb[NU], *ea = malloc(sizeof(float) * D);
    int units[NU], T[NU];
    for (int u = 0; u < NU; u++) {
        mp.m[u] = calloc((size_t)L * H * S * S, sizeof(float));
        emb[u] = malloc(sizeof(float) * MAXT * D);
        if (am_mix_embed(&m, uc[u].ids_a, uc[u].ids_b, uc[u].T, uc[u].alpha, emb[u], &e)) {
            fprintf(stderr, "test_runtime_ref: %s\n", e.msg);
            return 1;
        }
        units[u] = u, T[u] = uc[u].T;
        am_runtime_reset(rt, u, uc[u].n_pad, uc[u].mask_pads);
    }
    am_capture cap = {.fn = hook, .ctx = &mp};
    float *logits0 = malloc(sizeof(float) * NU * V);
    int32_t *gen = malloc(sizeof(int32_t) * NU * max_new);
    int n_gen[NU];
    am_gen_opts g = {.max_new_tokens = max_new, .eos_ids = m.cfg.eos_ids, .n_eos = m.cfg.n_eos};
    if (am_forward(rt, NU, units, T, (const float *const *)emb, &cap, logits0, &e) ||
        am_generate(rt, NU, units, logits0, &g, &cap, gen, n_gen, &e)) {
        fprintf(stderr, "test_runtime_ref: %s\n", e.msg);
        return 1;
    }

    /* C per-step logits: replay each unit alone, one token per step */
    float *step_logits = malloc(sizeof(float) * (size_t)max_new * V);
    double worst_p = 0, worst_l = 0;
    int compared_steps = 0, total_steps = 0;
    for (int u = 0; u < NU; u++) {
        int Tu = uc[u].T, rk1, rk2, rk3, rk4;
        size_t sg[4], sm[4], sp[4], sl[4];
        int32_t *rgen = npy_load(ref_path, u, "gen", "<i4", sg, &rk1);
        double *margin = npy_load(ref_path, u, "margin", "<f8", sm, &rk2);
        double *rp = npy_load(ref_path, u, "probs", "<f8", sp, &rk3);
        float *rl = npy_load(ref_path, u, "logits", "<f4", sl, &rk4);
        REQUIRE(rgen && margin && rp && rl, "unit %d: reference arrays missing in %s", u, ref_path);
        int nref = (int)sg[0];
        REQUIRE(rk1 == 1 && rk2 == 1 && sm[0] == sg[0] && nref <= max_new, "unit %d: gen/margin shapes", u);
        REQUIRE(rk3 == 4 && sp[0] == (size_t)L && sp[1] == (size_t)H && sp[2] == (size_t)(Tu + nref) && sp[3] == sp[2],
                "unit %d: probs shape", u);
        REQUIRE(rk4 == 2 && sl[0] == (size_t)nref && sl[1] == (size_t)V, "unit %d: logits shape", u);
        /* tokens: equal while the reference margin is clear */
        int k = 0;
        while (k < nref && k < n_gen[u] && margin[k] > MARGIN) {
            CHECK(gen[u * max_new + k] == rgen[k], "unit %d step %d: token %d, reference %d (margin %.3g)", u, k,
                  gen[u * max_new + k], rgen[k], margin[k]);
            if (gen[u * max_new + k] != rgen[k]) break;
            k++;
        }
        int full = k == nref && k == n_gen[u];
        if (k == nref || k == n_gen[u]) CHECK(full, "unit %d: generated %d tokens, reference %d", u, n_gen[u], nref);
        compared_steps += k, total_steps += nref;
        /* shared prefix: positions 0 .. Tu + k - 1 */
        int rows = Tu + k, Sr = Tu + nref;
        double wp = 0;
        int zero_bad = 0;
        for (int l = 0; l < L; l++)
            for (int h = 0; h < H; h++)
                for (int q = 0; q < rows; q++)
                    for (int j = 0; j < rows; j++) {
                        float c = mp.m[u][(((size_t)l * H + h) * S + q) * S + j];
                        double r = rp[(((size_t)l * H + h) * Sr + q) * Sr + j];
                        double d = fabs(c - r);
                        if (d > wp) wp = d;
                        if (r == 0.0 && c != 0.0f) zero_bad++;
                    }
        CHECK(wp <= PROB_TOL, "unit %d: attention probabilities differ by %.3g (tolerance %g)", u, wp, PROB_TOL);
        CHECK(!zero_bad, "unit %d: %d cells are 0 in the reference but not in C", u, zero_bad);
        if (wp > worst_p) worst_p = wp;
        free(rp);

        /* logits of steps 0..min(k, nref-1): replay unit u alone */
        int nl = k < nref ? k + 1 : nref;
        if (nl > n_gen[u]) nl = n_gen[u];
        am_runtime_reset(rt, 0, uc[u].n_pad, uc[u].mask_pads);
        int one = 0, Tl = Tu;
        if (am_forward(rt, 1, &one, &Tl, (const float *const *)&emb[u], NULL, step_logits, &e)) {
            fprintf(stderr, "%s\n", e.msg);
            return 1;
        }
        for (int st = 1; st < nl; st++) {
            int t1 = 1;
            am_embed_lookup(&m, gen[u * max_new + st - 1], ea);
            const float *pe = ea;
            if (am_forward(rt, 1, &one, &t1, &pe, NULL, step_logits + (size_t)st * V, &e)) {
                fprintf(stderr, "%s\n", e.msg);
                return 1;
            }
        }
        for (int st = 0; st < nl; st++) {
            double mx = 0, md = 0;
            for (int v = 0; v < V; v++) {
                double r = rl[(size_t)st * V + v];
                if (fabs(r) > mx) mx = fabs(r);
                double d = fabs(step_logits[(size_t)st * V + v] - r);
                if (d > md) md = d;
            }
            CHECK(md <= LOGIT_TOL * mx, "unit %d step %d: logits differ by %.3g, max |logit| %.3g", u, st, md, mx);
            if (md / mx > worst_l) worst_l = md / mx;
        }
        free(rl), free(rgen), free(margin);
        printf("unit %d: T=%d alpha=%.2f pads=%d%s: %d/%d tokens compared, max |dp| %.2e\n", u, Tu, uc[u].alpha,
               uc[u].n_pad, uc[u].mask_pads ? " masked" : "", k, nref, wp);
    }
    printf("%s (%s kernels): max |dp| %.3e, max logit error %.3e of max |logit|, tokens compared %d/%d\n", preset,
           am_runtime_kernel_name(rt), worst_p, worst_l, compared_steps, total_steps);
    CHECK(compared_steps >= total_steps / 2, "only %d of %d steps had a clear margin", compared_steps, total_steps);

    am_runtime_free(rt);
    am_qwen3_close(&m);
    for (int u = 0; u < NU; u++) free(mp.m[u]), free(emb[u]);
    free(ea), free(logits0), free(gen), free(step_logits);
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    return 0;
}
