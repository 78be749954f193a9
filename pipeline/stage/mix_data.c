/* Reading mix.h5 for the model stages. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5/h5copy.h"
#include "h5/h5io.h"
#include "h5/schema.h"
#include "model/qwen3.h"
#include "stage/mix_data.h"

int am_mix_load(const char *path, const am_qwen3 *m, am_mix_data *mx, am_err *e) {
    memset(mx, 0, sizeof *mx);
    int rc = -1, longest = 0;
    char *fp = NULL, *ck = NULL;
    hsize_t d4[4], d1[1], d2[2], dA[1];
    hid_t f = am_h5_open_input(path, AM_SCHEMA_MIX, e);
    if (f < 0) return -1;
    if (am_h5_read_attr_str(f, "fingerprint", &fp, e) < 0 ||
        am_h5_read_attr_str(f, "checkpoint_fingerprint", &ck, e) < 0)
        goto out;
    if (strcmp(ck, m->fingerprint) != 0) {
        am_fail(e, "%s was computed from a checkpoint with fingerprint %s, but %s has %s: re-run embed-mix", path, ck,
                m->dir, m->fingerprint);
        goto out;
    }
    snprintf(mx->fingerprint, sizeof mx->fingerprint, "%s", fp);
    if (am_h5_read(f, "embeddings", H5T_NATIVE_FLOAT, 4, d4, (void **)&mx->emb, e) < 0 ||
        am_h5_read(f, "prompt_length", H5T_NATIVE_INT32, 1, d1, (void **)&mx->plen, e) < 0 ||
        am_h5_read(f, "n_pad", H5T_NATIVE_INT32, 2, d2, (void **)&mx->n_pad, e) < 0 ||
        am_h5_read(f, "alpha", H5T_NATIVE_DOUBLE, 1, dA, (void **)&mx->alphas, e) < 0)
        goto out;
    if (d4[0] < 1 || d4[1] < 1 || d4[2] < 1 || d4[0] > INT32_MAX || d4[1] > INT32_MAX || d4[2] > INT32_MAX ||
        d4[3] > INT32_MAX) {
        am_fail_code(e, AM_E_CORRUPT, "%s: dataset 'embeddings' has an empty or oversized extent", path);
        goto out;
    }
    mx->P = (int)d4[0];
    mx->A = (int)d4[1];
    mx->T = (int)d4[2];
    mx->D = (int)d4[3];
    if (mx->D != m->cfg.hidden_size) {
        am_fail_code(e, AM_E_CORRUPT, "%s: embeddings have width %d but the model's hidden_size is %d", path, mx->D,
                     m->cfg.hidden_size);
        goto out;
    }
    if (d1[0] != d4[0] || d2[0] != d4[0] || d2[1] != d4[1] || dA[0] != d4[1]) {
        am_fail_code(e, AM_E_CORRUPT,
                     "%s: datasets disagree on the shape [pair %d, alpha %d]: prompt_length [%llu], "
                     "n_pad [%llu, %llu], alpha [%llu] (corrupt file? re-run embed-mix)",
                     path, mx->P, mx->A, (unsigned long long)d1[0], (unsigned long long)d2[0],
                     (unsigned long long)d2[1], (unsigned long long)dA[0]);
        goto out;
    }
    for (int p = 0; p < mx->P; p++) longest = mx->plen[p] > longest ? mx->plen[p] : longest;
    if (longest != mx->T) {
        am_fail_code(e, AM_E_CORRUPT,
                     "%s: embeddings are %d positions long but the longest prompt_length is %d "
                     "(corrupt file? re-run embed-mix)",
                     path, mx->T, longest);
        goto out;
    }
    for (int p = 0; p < mx->P; p++) {
        if (mx->plen[p] < 1 || mx->plen[p] > mx->T) {
            am_fail_code(e, AM_E_CORRUPT,
                         "%s: dataset 'prompt_length' [%d] = %d is outside [1, %d] (corrupt file? "
                         "re-run embed-mix)",
                         path, p, mx->plen[p], mx->T);
            goto out;
        }
        for (int a = 0; a < mx->A; a++) {
            const int32_t np = mx->n_pad[(size_t)p * mx->A + a];
            if (np < 0 || np >= mx->plen[p]) {
                am_fail_code(e, AM_E_CORRUPT,
                             "%s: dataset 'n_pad' [%d, %d] = %d is outside [0, prompt_length %d) "
                             "(corrupt file? re-run embed-mix)",
                             path, p, a, np, mx->plen[p]);
                goto out;
            }
        }
    }
    rc = 0;
out:
    free(fp);
    free(ck);
    H5Fclose(f);
    if (rc < 0) am_mix_free(mx);
    return rc;
}

void am_mix_free(am_mix_data *mx) {
    free(mx->emb);
    free(mx->plen);
    free(mx->n_pad);
    free(mx->alphas);
    memset(mx, 0, sizeof *mx);
}

int am_mix_copy_meta(const char *mix_path, hid_t to, am_err *e) {
    static const char *names[] = {"pair", "alpha", "prompt_a", "prompt_b", "ids_a", "ids_b", "prompt_length"};
    hid_t f = am_h5_open_input(mix_path, AM_SCHEMA_MIX, e);
    if (f < 0) return -1;
    int rc = 0;
    for (size_t i = 0; i < sizeof names / sizeof *names && rc == 0; i++) rc = am_h5_copy_plain(f, to, names[i], e);
    H5Fclose(f);
    return rc;
}

void am_mix_units(const am_mix_data *mx, am_runtime *rt, int mask_pads, int *units, int *lens, const float **emb) {
    for (int u = 0; u < mx->P * mx->A; u++) {
        units[u] = u;
        lens[u] = mx->plen[u / mx->A];
        emb[u] = mx->emb + (size_t)u * mx->T * mx->D;
        am_runtime_reset(rt, u, mx->n_pad[u], mask_pads);
    }
}
