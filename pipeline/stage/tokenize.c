/* tokenize: prompts of every pair -> padded, aligned id sequences (tokens.h5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fs.h"
#include "h5/dims.h"
#include "h5/h5io.h"
#include "h5/schema.h"
#include "stage/provenance.h"
#include "stage/stage.h"
#include "stage/token_text.h"
#include "tokenizer/tokenizer.h"

/* /tokens_a and /tokens_b [P, T_max]: the token strings of the padded ids
 * ("" beyond T_p), and the index scale /token [T_max] on their axis 1 and
 * that of /ids_a and /ids_b. */
static int write_token_strs(hid_t f, const am_tokenizer *tok, int P, int T, const int32_t *ids_a, const int32_t *ids_b,
                            am_err *e) {
    const size_t n = (size_t)P * T;
    const hsize_t d[2] = {(hsize_t)P, (hsize_t)T}, dT[1] = {(hsize_t)T};
    char **strs = am_calloc(n, sizeof *strs, "the token strings", e); /* [P][T] */
    int32_t *iota = strs ? am_malloc((size_t)T, sizeof *iota, "the token axis", e) : NULL;
    int rc = -1;
    if (!iota) goto out;
    for (int t = 0; t < T; t++) iota[t] = t;
    for (int k = 0; k < 2; k++) {
        if (am_token_strs(tok, k ? ids_b : ids_a, n, strs, e) < 0 ||
            am_h5_done(am_h5_write_strs(f, k ? "tokens_b" : "tokens_a", 2, d, (const char *const *)strs, e)))
            goto out;
        am_token_strs_free(strs, n);
    }
    if (am_h5_done(am_h5_write_i32(f, "token", 1, dT, iota, e))) goto out;
    {
        const char *sets[] = {"ids_a", "ids_b", "tokens_a", "tokens_b"};
        const int one[] = {1, 1, 1, 1};
        if (am_h5_scale(f, "token", "token", sets, one, 4, e) < 0) goto out;
    }
    rc = 0;
out:
    if (strs) am_token_strs_free(strs, n);
    free(strs);
    free(iota);
    return rc;
}

/* Path of the tokenizer.json a model uses and the hash of its bytes. */
static int tokenizer_file(const am_stage *s, char *path, size_t n, char hex[17], am_err *e) {
    const char *p = s->model->tokenizer ? s->model->tokenizer : s->model->checkpoint;
    struct stat st;
    if (stat(p, &st) != 0) return am_fail_errno(e, "tokenizer of model '%s': %s", s->model->name, p);
    if (S_ISDIR(st.st_mode)) snprintf(path, n, "%s/tokenizer.json", p);
    else snprintf(path, n, "%s", p);
    if (am_file_fingerprint(path, hex, e)) return am_wrap(e, "tokenizer of model '%s'", s->model->name);
    return 0;
}

int am_stage_tokenize(am_stage *s, const char *out_path, am_err *e) {
    const am_config *c = &s->cfg;
    const int P = c->n_pairs;
    char tok_path[4200], tok_hash[17], fp[17];
    if (tokenizer_file(s, tok_path, sizeof tok_path, tok_hash, e) < 0) return -1;
    const char *parts[] = {s->config_hash, tok_hash};
    am_prov_hash(fp, "tokenize", parts, 2);
    if (am_stage_up_to_date(s, "tokenize", out_path, AM_SCHEMA_TOKENS, fp)) { return 0; }

    int rc = -1, T_max = 1;
    int32_t pad_id;
    am_tokenizer *tok = NULL;
    am_h5_out out = {.file = H5I_INVALID_HID};
    int32_t **ids = NULL;                               /* [2P] unpadded ids, a then b */
    size_t *len = NULL;                                 /* [2P] */
    int32_t *ids_a = NULL, *ids_b = NULL;               /* [P][T_max] padded, -1 beyond T_p */
    int32_t *plen = NULL;                               /* [P] T_p */
    int32_t *pad = NULL;                                /* [P][2] pads added to a, b */
    const char **keys = NULL, **pa = NULL, **pb = NULL; /* [P] */
    hid_t d = H5I_INVALID_HID;
    hsize_t dP[1] = {(hsize_t)P}, dPT[2], dP2[2] = {(hsize_t)P, 2};

    if (!(ids = am_calloc(2 * (size_t)P, sizeof *ids, "the token ids", e)) ||
        !(len = am_calloc(2 * (size_t)P, sizeof *len, "the prompt lengths", e)) ||
        !(plen = am_calloc((size_t)P, sizeof *plen, "the prompt lengths", e)) ||
        !(pad = am_calloc(2 * (size_t)P, sizeof *pad, "the pads", e)) ||
        !(keys = am_calloc((size_t)P, sizeof *keys, "the pair keys", e)) ||
        !(pa = am_calloc((size_t)P, sizeof *pa, "the prompts", e)) ||
        !(pb = am_calloc((size_t)P, sizeof *pb, "the prompts", e)))
        goto out;
    if (am_tok_load(&tok, tok_path, e) < 0) goto out;
    pad_id = c->pad_id >= 0 ? c->pad_id : am_tok_token_id(tok, "<|endoftext|>");
    if (pad_id < 0) {
        am_fail_code(e, AM_E_USAGE, "%s: no <|endoftext|> token; set padding.pad_id in the config", tok_path);
        goto out;
    }

    for (int p = 0; p < P; p++) {
        const am_pair_cfg *pr = &c->pairs[p];
        for (int k = 0; k < 2; k++) {
            const char *text = k ? pr->b : pr->a;
            if (am_tok_encode(tok, text, strlen(text), &ids[2 * p + k], &len[2 * p + k], e) < 0) {
                am_wrap(e, "%s: pair '%s' prompt %s", c->path, pr->key, k ? "b" : "a");
                goto out;
            }
            if (len[2 * p + k] == 0) {
                am_fail_code(e, AM_E_USAGE, "%s: pair '%s' prompt %s has no tokens", c->path, pr->key, k ? "b" : "a");
                goto out;
            }
        }
        plen[p] = (int32_t)(len[2 * p] > len[2 * p + 1] ? len[2 * p] : len[2 * p + 1]);
        if (plen[p] > T_max) T_max = plen[p];
        keys[p] = pr->key;
        pa[p] = pr->a;
        pb[p] = pr->b;
    }

    if (!(ids_a = am_malloc((size_t)P * T_max, sizeof *ids_a, "the padded ids", e)) ||
        !(ids_b = am_malloc((size_t)P * T_max, sizeof *ids_b, "the padded ids", e)))
        goto out;
    for (int p = 0; p < P; p++) {
        for (int k = 0; k < 2; k++) {
            int32_t *row = (k ? ids_b : ids_a) + (size_t)p * T_max;
            int n = (int)len[2 * p + k], np = plen[p] - n;
            pad[2 * p + k] = np;
            for (int t = 0; t < T_max; t++) row[t] = -1;
            for (int t = 0; t < plen[p]; t++) {
                int src = c->pad_left ? t - np : t; /* left: pads first; right: pads last */
                row[t] = (src >= 0 && src < n) ? ids[2 * p + k][src] : pad_id;
            }
        }
    }

    if (am_h5_out_create(&out, out_path, e) < 0) goto out;
    dPT[0] = (hsize_t)P, dPT[1] = (hsize_t)T_max;
    if (am_h5_done(am_h5_write_strs(out.file, "pair", 1, dP, keys, e))) goto out;
    if (am_h5_done(am_h5_write_strs(out.file, "prompt_a", 1, dP, pa, e))) goto out;
    if (am_h5_done(am_h5_write_strs(out.file, "prompt_b", 1, dP, pb, e))) goto out;
    if (am_h5_done(am_h5_write(out.file, "ids_a", H5T_NATIVE_INT32, H5T_STD_I32LE, 2, dPT, NULL, 0, ids_a, e)))
        goto out;
    if (am_h5_done(am_h5_write(out.file, "ids_b", H5T_NATIVE_INT32, H5T_STD_I32LE, 2, dPT, NULL, 0, ids_b, e)))
        goto out;
    if (am_h5_done(am_h5_write(out.file, "prompt_length", H5T_NATIVE_INT32, H5T_STD_I32LE, 1, dP, NULL, 0, plen, e)))
        goto out;
    if (am_h5_done(am_h5_write(out.file, "pads", H5T_NATIVE_INT32, H5T_STD_I32LE, 2, dP2, NULL, 0, pad, e))) goto out;
    if (write_token_strs(out.file, tok, P, T_max, ids_a, ids_b, e) < 0) goto out;
    {
        const char *sets[] = {"ids_a",    "ids_b",    "prompt_length", "pads",
                              "prompt_a", "prompt_b", "tokens_a",      "tokens_b"};
        const int dims0[] = {0, 0, 0, 0, 0, 0, 0, 0};
        if (am_h5_scale(out.file, "pair", "pair", sets, dims0, 8, e) < 0) goto out;
    }
    {
        static const am_h5_axis_rule axes[] = {{"pads", 1, "prompt"}}; /* 0: a, 1: b */
        if (am_h5_label_dims(out.file, axes, 1, e) < 0) goto out;
    }
    if (am_prov_write(out.file, s, AM_SCHEMA_TOKENS, fp, e) < 0 ||
        am_h5_attr_str(out.file, "tokenizer", tok_path, e) < 0 ||
        am_h5_attr_str(out.file, "tokenizer_fingerprint", tok_hash, e) < 0 ||
        am_h5_attr_i64(out.file, "pad_id", pad_id, e) < 0 ||
        am_h5_attr_str(out.file, "pad_side", c->pad_left ? "left" : "right", e) < 0)
        goto out;
    if (am_h5_out_commit(&out, e) < 0) goto out;
    if (!s->quiet)
        fprintf(stderr, "tokenize %s: %d pairs, prompt lengths up to %d -> %s\n", s->model->name, P, T_max, out_path);
    rc = 0;
out:
    am_h5_close(&d);
    if (rc < 0) am_h5_out_abort(&out);
    if (ids)
        for (int i = 0; i < 2 * P; i++) free(ids[i]);
    free(ids);
    free(len);
    free(ids_a);
    free(ids_b);
    free(plen);
    free(pad);
    free(keys);
    free(pa);
    free(pb);
    am_tok_free(tok);
    return rc;
}
