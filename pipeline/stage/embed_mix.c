/* embed-mix: padded ids of each pair -> mixed input embeddings per alpha:
 * mix = alpha * E[a] + (1 - alpha) * E[b] (mix.h5), or its slerp / norm-matched
 * variants (config mix:), computed by am_mix_embed_mode. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5/dims.h"
#include "h5/h5copy.h"
#include "h5/h5io.h"
#include "h5/schema.h"
#include "model/mix.h"
#include "model/qwen3.h"
#include "stage/provenance.h"
#include "stage/stage.h"

int am_stage_embed_mix(am_stage *s, const char *tokens_path, const char *out_path, am_err *e) {
    const am_config *c = &s->cfg;
    const int A = c->n_alphas;
    int rc = -1, P, T_max, D, longest = 0;
    am_qwen3 m;
    int have_model = 0;
    hid_t tf = H5I_INVALID_HID, d = H5I_INVALID_HID;
    am_h5_out out = {.file = H5I_INVALID_HID};
    int32_t *ids_a = NULL, *ids_b = NULL, *plen = NULL, *pads = NULL; /* [P][T_max], [P][T_max], [P], [P][2] */
    float *unit = NULL;                                               /* [T_max][D] */
    int32_t *n_pad = NULL;                                            /* [P][A] */
    char *pad_side = NULL;
    int64_t pad_id = -1;
    char tok_fp[17], fp[17];
    const char *parts[3];
    hsize_t dims[2], dims_b[2], d1[1], dpads[2], edims[4], chunk[4];

    if (am_prov_fingerprint(tokens_path, AM_SCHEMA_TOKENS, tok_fp, e) < 0) return -1;
    if (am_qwen3_open(&m, s->model->checkpoint, e) < 0) return am_wrap(e, "model '%s'", s->model->name);
    have_model = 1;
    parts[0] = s->config_hash, parts[1] = tok_fp, parts[2] = m.fingerprint;
    am_prov_hash(fp, "embed-mix", parts, 3);
    if (am_stage_up_to_date(s, "embed-mix", out_path, AM_SCHEMA_MIX, fp)) {
        rc = 0;
        goto out;
    }

    tf = am_h5_open_input(tokens_path, AM_SCHEMA_TOKENS, e);
    if (tf < 0) goto out;
    if (am_h5_read(tf, "ids_a", H5T_NATIVE_INT32, 2, dims, (void **)&ids_a, e) < 0 ||
        am_h5_read(tf, "ids_b", H5T_NATIVE_INT32, 2, dims_b, (void **)&ids_b, e) < 0)
        goto out;
    if (am_h5_read(tf, "prompt_length", H5T_NATIVE_INT32, 1, d1, (void **)&plen, e) < 0 ||
        am_h5_read(tf, "pads", H5T_NATIVE_INT32, 2, dpads, (void **)&pads, e) < 0)
        goto out;
    if (dims[0] != (hsize_t)c->n_pairs) {
        am_fail_code(e, AM_E_CORRUPT, "%s has %llu pairs but the config has %d: re-run tokenize", tokens_path,
                     (unsigned long long)dims[0], c->n_pairs);
        goto out;
    }
    if (dims[1] < 1 || dims[1] > INT32_MAX || dims_b[0] != dims[0] || dims_b[1] != dims[1] || d1[0] != dims[0] ||
        dpads[0] != dims[0] || dpads[1] != 2) {
        am_fail_code(e, AM_E_CORRUPT,
                     "%s: datasets disagree on the shape: ids_a [%llu, %llu], ids_b [%llu, %llu], "
                     "prompt_length [%llu], pads [%llu, %llu] (corrupt file? re-run tokenize)",
                     tokens_path, (unsigned long long)dims[0], (unsigned long long)dims[1],
                     (unsigned long long)dims_b[0], (unsigned long long)dims_b[1], (unsigned long long)d1[0],
                     (unsigned long long)dpads[0], (unsigned long long)dpads[1]);
        goto out;
    }
    P = (int)dims[0], T_max = (int)dims[1], D = m.cfg.hidden_size;
    for (int p = 0; p < P; p++) longest = plen[p] > longest ? plen[p] : longest;
    if (longest != T_max) {
        am_fail_code(e, AM_E_CORRUPT,
                     "%s: ids_a/ids_b are %d wide but the longest prompt_length is %d (corrupt "
                     "file? re-run tokenize)",
                     tokens_path, T_max, longest);
        goto out;
    }
    for (int p = 0; p < P; p++) {
        if (plen[p] < 1 || plen[p] > T_max || pads[2 * p] < 0 || pads[2 * p] >= plen[p] || pads[2 * p + 1] < 0 ||
            pads[2 * p + 1] >= plen[p]) {
            am_fail_code(e, AM_E_CORRUPT,
                         "%s: pair '%s' has prompt_length %d and pads %d, %d; expected 1 <= length "
                         "<= %d and pads below the length (corrupt file? re-run tokenize)",
                         tokens_path, c->pairs[p].key, plen[p], pads[2 * p], pads[2 * p + 1], T_max);
            goto out;
        }
        if (plen[p] + c->max_new_tokens > m.cfg.max_position_embeddings) {
            am_fail_code(e, AM_E_USAGE,
                         "%s: pair '%s' has %d prompt tokens + %d generated "
                         "(generation.max_new_tokens) = %d positions, more than max_position_embeddings %d of model "
                         "'%s' (%s/config.json): shorten the prompts or lower generation.max_new_tokens in %s",
                         tokens_path, c->pairs[p].key, plen[p], c->max_new_tokens, plen[p] + c->max_new_tokens,
                         m.cfg.max_position_embeddings, s->model->name, s->model->checkpoint, c->path);
            goto out;
        }
    }
    for (int p = 0; p < P; p++)
        for (int t = 0; t < plen[p]; t++)
            for (int k = 0; k < 2; k++) {
                int32_t id = (k ? ids_b : ids_a)[(size_t)p * T_max + t];
                if (id < 0 || id >= m.cfg.vocab_size) {
                    am_fail_code(e, AM_E_USAGE,
                                 "%s: pair '%s' prompt %s token %d has id %d outside the vocabulary "
                                 "of model '%s' (vocab_size %d): tokenizer and checkpoint do not match",
                                 tokens_path, c->pairs[p].key, k ? "b" : "a", t, id, s->model->name, m.cfg.vocab_size);
                    goto out;
                }
            }

    if (am_h5_out_create(&out, out_path, e) < 0) goto out;
    /* /embeddings [P, A, T_max, D] float32, one unit per chunk */
    edims[0] = (hsize_t)P, edims[1] = (hsize_t)A, edims[2] = (hsize_t)T_max, edims[3] = (hsize_t)D;
    chunk[0] = 1, chunk[1] = 1, chunk[2] = (hsize_t)T_max, chunk[3] = (hsize_t)D;
    d = am_h5_write(out.file, "embeddings", H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, 4, edims, chunk, 4, NULL, e);
    if (d < 0) goto out;
    if (!(unit = am_calloc((size_t)T_max * D, sizeof *unit, "one unit's embeddings", e)) ||
        !(n_pad = am_calloc((size_t)P * A, sizeof *n_pad, "the pads per unit", e)))
        goto out;
    for (int p = 0; p < P; p++)
        for (int a = 0; a < A; a++) {
            memset(unit, 0, (size_t)T_max * D * sizeof *unit);
            if (am_mix_embed_mode(&m, ids_a + (size_t)p * T_max, ids_b + (size_t)p * T_max, plen[p], c->alphas[a],
                                  (am_mix_mode)c->mix, unit, e) < 0)
                goto out;
            /* Pads that carry weight in this mix: a's if alpha != 0, b's if alpha != 1. */
            int pa = c->alphas[a] != 0.0 ? pads[2 * p] : 0, pb = c->alphas[a] != 1.0 ? pads[2 * p + 1] : 0;
            n_pad[p * A + a] = c->pad_left ? (pa > pb ? pa : pb) : 0;
            hsize_t start[4] = {(hsize_t)p, (hsize_t)a, 0, 0};
            if (am_h5_write_slab(d, H5T_NATIVE_FLOAT, 4, start, chunk, unit, e)) goto out;
        }
    H5Dclose(d);
    d = H5I_INVALID_HID;

    {
        hsize_t dA[1] = {(hsize_t)A}, dPA[2] = {(hsize_t)P, (hsize_t)A};
        if (am_h5_put(out.file, "alpha", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, dA, c->alphas, e)) goto out;
        if (am_h5_put(out.file, "n_pad", H5T_NATIVE_INT32, H5T_STD_I32LE, 2, dPA, n_pad, e)) goto out;
    }
    {
        const char *copies[] = {"pair", "prompt_a", "prompt_b", "ids_a", "ids_b", "prompt_length", "pads"};
        for (int i = 0; i < 7; i++)
            if (am_h5_copy_plain(tf, out.file, copies[i], e) < 0) goto out;
        const char *by_pair[] = {"embeddings",    "n_pad", "ids_a",    "ids_b",
                                 "prompt_length", "pads",  "prompt_a", "prompt_b"};
        const char *by_alpha[] = {"embeddings", "n_pad"};
        const int dim0[] = {0, 0, 0, 0, 0, 0, 0, 0}, dim1[] = {1, 1};
        static const am_h5_axis_rule axes[] = {
            {"embeddings", 2, "token"}, {"embeddings", 3, "hidden"}, {"ids_", 1, "token"}, {"pads", 1, "prompt"}};
        if (am_h5_scale(out.file, "pair", "pair", by_pair, dim0, 8, e) < 0 ||
            am_h5_scale(out.file, "alpha", "alpha", by_alpha, dim1, 2, e) < 0 ||
            am_h5_label_dims(out.file, axes, 4, e) < 0)
            goto out;
    }
    if (am_h5_read_attr_i64(tf, "pad_id", &pad_id, e) < 0) goto out;
    if (am_prov_write(out.file, s, AM_SCHEMA_MIX, fp, e) < 0 ||
        am_h5_attr_str(out.file, "tokens_fingerprint", tok_fp, e) < 0 ||
        am_h5_attr_str(out.file, "checkpoint_fingerprint", m.fingerprint, e) < 0 ||
        am_h5_attr_i64(out.file, "pad_id", pad_id, e) < 0 ||
        am_h5_attr_i64(out.file, "mask_pads", c->mask_pads, e) < 0 ||
        am_h5_read_attr_str(tf, "pad_side", &pad_side, e) < 0 || am_h5_attr_str(out.file, "pad_side", pad_side, e) < 0)
        goto out;
    if (am_h5_out_commit(&out, e) < 0) goto out;
    if (!s->quiet)
        fprintf(stderr, "embed-mix %s: %d pairs x %d alphas, T <= %d, D = %d -> %s\n", s->model->name, P, A, T_max, D,
                out_path);
    rc = 0;
out:
    am_h5_close(&d);
    am_h5_close(&tf);
    if (rc < 0) am_h5_out_abort(&out);
    if (have_model) am_qwen3_close(&m);
    free(ids_a);
    free(ids_b);
    free(plen);
    free(pads);
    free(unit);
    free(n_pad);
    free(pad_side);
    return rc;
}
