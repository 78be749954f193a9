/* The cube written by the stages holds exactly the maps the runtime's API
 * produces when driven directly (prefill + batched generation), cell by cell.
 * Uses the outputs of tests/pipeline/stages_test.sh (fixture pipeline_cube). */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5/h5io.h"
#include "h5/schema.h"
#include "model/qwen3.h"
#include "model/runtime.h"
#include "stage/mix_data.h"
#include "test_util.h"

#define DIR "pipeline"

typedef struct direct {
    int L, H, Smax;
    float *maps; /* [U][L][H][Smax][Smax] */
} direct;

static int hook(void *ctx, int layer, int unit, int q0, int nq, int nk, const float *probs, am_err *e) {
    direct *d = ctx;
    for (int h = 0; h < d->H; h++)
        for (int i = 0; i < nq; i++) {
            float *row = d->maps + ((((size_t)unit * d->L + layer) * d->H + h) * d->Smax + q0 + i) * d->Smax;
            memcpy(row, probs + ((size_t)h * nq + i) * nk, (size_t)nk * sizeof(float));
        }
    return 0;
}

int main(void) {
    am_err e = {0};
    am_qwen3 m;
    am_mix_data mx;
    am_h5_quiet();
    REQUIRE(am_qwen3_open(&m, DIR "/tiny", &e) == 0, "%s", e.msg);
    REQUIRE(am_mix_load(DIR "/out/tiny/mix.h5", &m, &mx, &e) == 0, "%s", e.msg);
    const int U = mx.P * mx.A, V = m.cfg.vocab_size, N = 6;
    direct d = {.L = m.cfg.num_hidden_layers, .H = m.cfg.num_attention_heads, .Smax = mx.T + N};
    d.maps = calloc((size_t)U * d.L * d.H * d.Smax * d.Smax, sizeof(float));

    am_runtime *rt;
    am_runtime_opts ro = {.max_units = U, .max_seq = d.Smax + 1, .threads = 1};
    REQUIRE(am_runtime_init(&rt, &m, &ro, &e) == 0, "%s", e.msg);
    int units[64], lens[64];
    const float *emb[64];
    for (int u = 0; u < U; u++) {
        units[u] = u;
        lens[u] = mx.plen[u / mx.A];
        emb[u] = mx.emb + (size_t)u * mx.T * mx.D;
        am_runtime_reset(rt, u, mx.n_pad[u], 0);
    }
    am_capture cap = {.fn = hook, .ctx = &d};
    float *logits = malloc((size_t)U * V * sizeof *logits);
    REQUIRE(am_forward(rt, U, units, lens, emb, &cap, logits, &e) == 0, "%s", e.msg);
    int32_t gen[64 * 6];
    int n_gen[64];
    const int eos[] = {151645, 151643};
    am_gen_opts go = {.max_new_tokens = N, .eos_ids = eos, .n_eos = 2};
    REQUIRE(am_generate(rt, U, units, logits, &go, &cap, gen, n_gen, &e) == 0, "%s", e.msg);

    hid_t f = am_h5_open_input(DIR "/out/tiny/cube.h5", AM_SCHEMA_CUBE, &e);
    REQUIRE(f >= 0, "%s", e.msg);
    hsize_t dims[6], d2[2], d3[3];
    float *cube;
    int32_t *length, *gids;
    REQUIRE(am_h5_read(f, "attention", H5T_NATIVE_FLOAT, 6, dims, (void **)&cube, &e) == 0, "%s", e.msg);
    REQUIRE(am_h5_read(f, "length", H5T_NATIVE_INT32, 2, d2, (void **)&length, &e) == 0, "%s", e.msg);
    REQUIRE(am_h5_read(f, "generated_ids", H5T_NATIVE_INT32, 3, d3, (void **)&gids, &e) == 0, "%s", e.msg);
    const int S = (int)dims[4];
    REQUIRE((int)dims[2] == d.L && (int)dims[3] == d.H, "cube has %d layers x %d heads", (int)dims[2], (int)dims[3]);
    double maxdiff = 0;
    long cells = 0;
    for (int u = 0; u < U; u++) {
        REQUIRE(length[u] == lens[u] + n_gen[u], "unit %d: length %d != %d + %d", u, length[u], lens[u], n_gen[u]);
        for (int j = 0; j < n_gen[u]; j++)
            REQUIRE(gids[(size_t)u * d3[2] + j] == gen[u * N + j], "unit %d token %d differs", u, j);
        for (int l = 0; l < d.L; l++)
            for (int h = 0; h < d.H; h++)
                for (int q = 0; q < S; q++)
                    for (int k = 0; k < S; k++) {
                        float want = (q < length[u] && k < length[u])
                                         ? d.maps[((((size_t)u * d.L + l) * d.H + h) * d.Smax + q) * d.Smax + k]
                                         : 0.0f;
                        float got = cube[((((size_t)u * d.L + l) * d.H + h) * S + q) * S + k];
                        double diff = fabs((double)want - got);
                        if (diff > maxdiff) maxdiff = diff;
                        cells++;
                    }
    }
    printf("compared %ld cells of %d units: max |cube - direct| = %.3g\n", cells, U, maxdiff);
    REQUIRE(maxdiff <= 1e-6, "cube differs from the direct runtime by %.3g", maxdiff);
    H5Fclose(f);
    free(cube);
    free(length);
    free(gids);
    free(logits);
    free(d.maps);
    am_runtime_free(rt);
    am_mix_free(&mx);
    am_qwen3_close(&m);
    return 0;
}
