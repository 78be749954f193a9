/* merge: per-pair shard cubes -> one per-model cube with a virtual /attention;
 * consolidate: any cube -> one self-contained file. */
#include <hdf5.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/hash.h"
#include "h5/cube.h"
#include "h5/cube_read.h"
#include "h5/h5copy.h"
#include "h5/h5io.h"
#include "h5/maps.h"
#include "h5/schema.h"
#include "run/merge.h"
#include "stage/provenance.h"

/* Datasets of a cube besides /attention, and the dimension scales on them
 * (the same as the single-machine cube written by generate). */
static const char *SMALL[] = {"length",   "prompt_length", "generated_ids", "text",  "ids_a", "ids_b",
                              "prompt_a", "prompt_b",      "pair",          "alpha", "layer", "head",
                              "query",    "key",           "step",          "token"};
enum { N_SMALL = sizeof SMALL / sizeof *SMALL };

static void cube_config_hash(const am_config *c, char out[17]) {
    am_hash_hex(am_fnv1a(AM_FNV_INIT, c->text, c->text_len), out);
}

void am_shard_rel(const char *key, char *out, size_t n) { snprintf(out, n, "pairs/%s/cube.h5", key); }

/* ---- one shard ------------------------------------------------------------- */

typedef struct shard {
    char path[4400]; /* as opened */
    char rel[4200];  /* relative to OUT/<model> */
    am_cube c;       /* /attention [1, A, L, H, S_p, S_p] and the small datasets */
    hid_t att_type;  /* stored type of /attention */
} shard;

static void shard_init(shard *s) {
    memset(s, 0, sizeof *s);
    s->c.file = s->c.attn = s->att_type = H5I_INVALID_HID;
}

static void shard_close(shard *s) {
    am_cube_close(&s->c);
    if (s->att_type >= 0) H5Tclose(s->att_type);
    shard_init(s);
}

/* A root attribute the shard must carry: 1 when it equals want, 0 when it differs, -1 when absent. */
static int attr_is(const shard *s, const char *name, const char *v, const char *want, am_err *e) {
    if (!v) return am_fail_code(e, AM_E_CORRUPT, "shard %s: attribute '%s' missing", s->path, name);
    return strcmp(v, want) == 0;
}

/* Open a shard and check it against the config: schema, model, config hash, pair. */
static int shard_open(shard *s, const am_config *c, const char *model, const char *key, am_err *e) {
    am_err sub = {0};
    char want_hash[17];
    int r = 0;
    shard_init(s);
    cube_config_hash(c, want_hash);
    am_shard_rel(key, s->rel, sizeof s->rel);
    snprintf(s->path, sizeof s->path, "%s/%s/%s", c->output_dir, model, s->rel);
    if (access(s->path, F_OK) != 0)
        return am_fail_code(e, AM_E_NOTFOUND,
                            "shard %s is missing (its task did not finish: resubmit with `attnmix slurm %s --submit`)",
                            s->path, c->path);
    if (am_cube_open_schema(&s->c, s->path, AM_SCHEMA_CUBE, &sub) < 0)
        return am_fail_code(e, sub.code, "shard %s is unusable: %s", s->path, sub.msg);
    r = attr_is(s, "model", s->c.model, model, e);
    if (r <= 0) return r == 0 ? am_fail(e, "shard %s belongs to model '%s', not '%s'", s->path, s->c.model, model) : -1;
    r = attr_is(s, "config_hash", s->c.config_hash, want_hash, e);
    if (r <= 0)
        return r == 0
                   ? am_fail(e, "shard %s was computed from another config (config_hash %s, %s has %s): rerun its task",
                             s->path, s->c.config_hash, c->path, want_hash)
                   : -1;
    if (s->c.P != 1 || strcmp(s->c.pair[0], key) != 0)
        return am_fail(e, "shard %s holds %d pair(s) starting with '%s', expected the one pair '%s'", s->path, s->c.P,
                       s->c.pair[0], key);
    return 0;
}

/* Check what the merge compares and lays out: every dataset of a cube and the provenance attributes. */
static int shard_load(shard *s, am_err *e) {
    static const char *const need[] = {"length", "prompt_length", "generated_ids", "text",  "ids_a",
                                       "ids_b",  "prompt_a",      "prompt_b",      "layer", "head"};
    const char *attr[3][2] = {{"fingerprint", s->c.fingerprint},
                              {"checkpoint_fingerprint", s->c.checkpoint_fingerprint},
                              {"storage_dtype", s->c.storage_dtype}};
    for (int i = 0; i < 3; i++)
        if (!attr[i][1]) return am_fail_code(e, AM_E_CORRUPT, "shard %s: attribute '%s' missing", s->path, attr[i][0]);
    for (size_t i = 0; i < sizeof need / sizeof *need; i++)
        if (!am_h5_exists(s->c.file, need[i]))
            return am_fail_code(e, AM_E_CORRUPT, "shard %s: dataset '%s' missing", s->path, need[i]);
    /* the reader has read each of them (a malformed one fails the open) */
    if (!s->c.generated || !s->c.ids_a || !s->c.text || !s->c.prompt_a || !s->c.prompt_b || !s->c.prompt_length)
        return am_fail_code(e, AM_E_CORRUPT, "shard %s: incomplete cube", s->path);
    s->att_type = H5Dget_type(s->c.attn);
    if (AM_H5ID(s->att_type, e, "attention")) return am_wrap(e, "shard %s", s->path);
    return 0;
}

/* The shard s against the config and the first shard r. */
static int shard_compare(const shard *s, const shard *r, const am_config *c, am_err *e) {
    const int A = s->c.A, L = s->c.L, H = s->c.H;
    if (A != c->n_alphas) return am_fail(e, "shard %s has %d alphas, %s lists %d", s->path, A, c->path, c->n_alphas);
    for (int a = 0; a < A; a++)
        if (s->c.alpha[a] != c->alphas[a])
            return am_fail(e, "shard %s has alpha %g at index %d, %s has %g", s->path, s->c.alpha[a], a, c->path,
                           c->alphas[a]);
    if (s == r) return 0;
    if (strcmp(s->c.checkpoint_fingerprint, r->c.checkpoint_fingerprint) != 0)
        return am_fail(e, "shard %s was computed with another checkpoint (fingerprint %s) than %s (%s)", s->path,
                       s->c.checkpoint_fingerprint, r->path, r->c.checkpoint_fingerprint);
    if (strcmp(s->c.storage_dtype, r->c.storage_dtype) != 0 || H5Tequal(s->att_type, r->att_type) <= 0)
        return am_fail(e, "shard %s stores maps as %s, %s as %s", s->path, s->c.storage_dtype, r->path,
                       r->c.storage_dtype);
    if (L != r->c.L || H != r->c.H)
        return am_fail(e, "shard %s captured %d layers x %d heads, %s %d x %d", s->path, L, H, r->path, r->c.L, r->c.H);
    for (int l = 0; l < L; l++)
        if (s->c.layer[l] != r->c.layer[l])
            return am_fail(e, "shard %s captured layer %d at index %d, %s layer %d", s->path, s->c.layer[l], l, r->path,
                           r->c.layer[l]);
    for (int h = 0; h < H; h++)
        if (s->c.head[h] != r->c.head[h])
            return am_fail(e, "shard %s captured head %d at index %d, %s head %d", s->path, s->c.head[h], h, r->path,
                           r->c.head[h]);
    return 0;
}

int am_shard_complete(const am_config *c, const char *model, const char *key, char *why, size_t n) {
    shard s;
    am_err e = {0};
    int ok = shard_open(&s, c, model, key, &e) == 0;
    shard_close(&s);
    snprintf(why, n, "%s", ok ? "" : e.msg);
    return ok;
}

int am_model_cube_complete(const am_config *c, const char *model, char *why, size_t n) {
    char path[4400], want[17];
    am_err e = {0};
    am_cube cube;
    int ok = 0;
    snprintf(path, sizeof path, "%s/%s/cube.h5", c->output_dir, model);
    cube_config_hash(c, want);
    if (access(path, F_OK) != 0) snprintf(why, n, "cube.h5 missing");
    else if (am_cube_open_schema(&cube, path, AM_SCHEMA_CUBE, &e) < 0) snprintf(why, n, "%s", e.msg);
    else {
        ok = cube.config_hash && strcmp(cube.config_hash, want) == 0;
        if (!ok) snprintf(why, n, "%s: computed from another config", path);
        am_cube_close(&cube);
    }
    if (ok) why[0] = 0;
    return ok;
}

/* ---- merge ----------------------------------------------------------------- */

/* n int32 values v, or NULL with a message. */
static int32_t *filled(size_t n, int32_t v, const char *what, am_err *e) {
    int32_t *p = am_malloc(n ? n : 1, sizeof *p, what, e);
    for (size_t i = 0; p && i < n; i++) p[i] = v;
    return p;
}

/* generations.tsv of the model: the shards' tables, one header. */
static int merge_tsv(const am_config *c, const char *model, am_err *e) {
    char path[4400], src[4400];
    char *line = NULL;
    size_t cap = 0;
    int rc = -1;
    FILE *f = NULL;
    am_file_out o = {0};
    snprintf(path, sizeof path, "%s/%s/generations.tsv", c->output_dir, model);
    if (am_file_out_create(&o, path, e) < 0) return -1;
    for (int p = 0; p < c->n_pairs; p++) {
        snprintf(src, sizeof src, "%s/%s/pairs/%s/generations.tsv", c->output_dir, model, c->pairs[p].key);
        f = fopen(src, "r");
        if (!f) {
            am_fail_errno(e, "cannot read %s", src);
            goto out;
        }
        for (long k = 0; getline(&line, &cap, f) > 0; k++)
            if ((k > 0 || p == 0) && fputs(line, o.f) == EOF) {
                am_fail_errno(e, "writing %s", o.tmp);
                goto out;
            }
        if (ferror(f)) {
            am_fail_errno(e, "reading %s", src);
            goto out;
        }
        fclose(f);
        f = NULL;
    }
    if (am_file_out_commit(&o, e) < 0) goto out;
    rc = 0;
out:
    if (f) fclose(f);
    if (rc < 0) am_file_out_abort(&o);
    free(line);
    return rc;
}

/* The virtual /attention [P, A, L, H, S, S]: shard p fills [p, :, :, :, 0:S_p, 0:S_p], the rest reads 0. */
static int write_virtual(hid_t f, const shard *sh, int P, int S, am_err *e) {
    const char **files = am_calloc((size_t)P, sizeof *files, "the shard list", e);
    int *sizes = files ? am_calloc((size_t)P, sizeof *sizes, "the shard sizes", e) : NULL;
    int rc = -1;
    if (sizes) {
        for (int p = 0; p < P; p++) files[p] = sh[p].rel, sizes[p] = sh[p].c.S;
        rc = am_cube_write_virtual(f, sh[0].att_type, P, sh[0].c.A, sh[0].c.L, sh[0].c.H, S, files, sizes, e);
    }
    free(files);
    free(sizes);
    return rc;
}

/* The small datasets, padded to the largest shard: [P, ...] from the shards' [1, ...]. */
typedef struct merged {
    int P, A, L, H, S, N, T;
    int32_t *length, *plen, *gen, *ids_a, *ids_b; /* [P][A], [P], [P][A][N], [P][T], [P][T] */
    const char **text, **pa, **pb, **keys;        /* [P][A], [P], [P], [P]: borrowed from the shards */
    const char **tokens; /* [P][A][S] borrowed ("" beyond a shard's S_p), NULL when a shard has no /tokens */
} merged;

static void merged_free(merged *m) {
    free(m->length), free(m->plen), free(m->gen), free(m->ids_a), free(m->ids_b);
    free(m->text), free(m->pa), free(m->pb), free(m->keys), free(m->tokens);
    memset(m, 0, sizeof *m);
}

static int merged_fill(merged *m, const shard *sh, int P, am_err *e) {
    const int A = m->A, N = m->N, T = m->T;
    m->length = filled((size_t)P * A, 0, "length", e);
    m->plen = m->length ? filled((size_t)P, 0, "prompt_length", e) : NULL;
    m->gen = m->plen ? filled((size_t)P * A * N, -1, "generated_ids", e) : NULL;
    m->ids_a = m->gen ? filled((size_t)P * T, -1, "ids_a", e) : NULL;
    m->ids_b = m->ids_a ? filled((size_t)P * T, -1, "ids_b", e) : NULL;
    m->text = m->ids_b ? am_calloc((size_t)P * A, sizeof *m->text, "text", e) : NULL;
    m->pa = m->text ? am_calloc((size_t)P, sizeof *m->pa, "prompt_a", e) : NULL;
    m->pb = m->pa ? am_calloc((size_t)P, sizeof *m->pb, "prompt_b", e) : NULL;
    m->keys = m->pb ? am_calloc((size_t)P, sizeof *m->keys, "pair", e) : NULL;
    if (!m->keys) return -1;
    int all_tokens = 1;
    for (int p = 0; p < P; p++) all_tokens &= sh[p].c.tokens != NULL;
    if (all_tokens && !(m->tokens = am_calloc((size_t)P * A * m->S, sizeof *m->tokens, "tokens", e))) return -1;
    for (int p = 0; p < P; p++) {
        const am_cube *c = &sh[p].c;
        for (int a = 0; m->tokens && a < A; a++)
            for (int q = 0; q < m->S; q++)
                m->tokens[((size_t)p * A + a) * m->S + q] = q < c->S ? c->tokens[(size_t)a * c->S + q] : "";
    }
    for (int p = 0; p < P; p++) {
        const am_cube *c = &sh[p].c;
        memcpy(m->length + (size_t)p * A, c->length, (size_t)A * sizeof *m->length);
        m->plen[p] = c->prompt_length[0];
        for (int a = 0; a < A; a++) {
            memcpy(m->gen + ((size_t)p * A + a) * N, c->generated + (size_t)a * c->N, (size_t)c->N * sizeof *m->gen);
            m->text[(size_t)p * A + a] = c->text[a];
        }
        memcpy(m->ids_a + (size_t)p * T, c->ids_a, (size_t)c->T * sizeof *m->ids_a);
        memcpy(m->ids_b + (size_t)p * T, c->ids_b, (size_t)c->T * sizeof *m->ids_b);
        m->pa[p] = c->prompt_a[0];
        m->pb[p] = c->prompt_b[0];
        m->keys[p] = c->pair[0];
    }
    return 0;
}

static int merged_write(const merged *m, hid_t f, const shard *s0, am_err *e) {
    const hsize_t dP[1] = {(hsize_t)m->P}, dPT[2] = {(hsize_t)m->P, (hsize_t)m->T}, dA[1] = {(hsize_t)m->A},
                  dL[1] = {(hsize_t)m->L}, dH[1] = {(hsize_t)m->H};
    if (am_cube_write_units(f, m->P, m->A, m->N, m->S, m->T, m->length, m->gen, (const char *const *)m->text, e))
        return -1;
    if (am_h5_done(am_h5_write_strs(f, "pair", 1, dP, m->keys, e))) return -1;
    if (am_h5_done(am_h5_write(f, "alpha", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, dA, NULL, 0, s0->c.alpha, e)))
        return -1;
    if (am_h5_done(am_h5_write_strs(f, "prompt_a", 1, dP, m->pa, e))) return -1;
    if (am_h5_done(am_h5_write_strs(f, "prompt_b", 1, dP, m->pb, e))) return -1;
    if (am_h5_done(am_h5_write_i32(f, "ids_a", 2, dPT, m->ids_a, e))) return -1;
    if (am_h5_done(am_h5_write_i32(f, "ids_b", 2, dPT, m->ids_b, e))) return -1;
    if (am_h5_done(am_h5_write_i32(f, "prompt_length", 1, dP, m->plen, e))) return -1;
    if (am_h5_done(am_h5_write_i32(f, "layer", 1, dL, s0->c.layer, e))) return -1;
    if (am_h5_done(am_h5_write_i32(f, "head", 1, dH, s0->c.head, e))) return -1;
    if (m->tokens && am_cube_write_tokens(f, m->P, m->A, m->S, m->tokens, e) < 0) return -1;
    return 0;
}

/* Root attributes: the first shard's, less those of one pair, plus the sources. */
static int merged_attrs(hid_t f, const shard *sh, int P, const char *fp, am_err *e) {
    static const char *const skip[] = {"fingerprint", "created", "mix_fingerprint", "prefill_fingerprint", "NX_class",
                                       "default",     NULL};
    char created[32];
    int rc = -1;
    const time_t now = time(NULL);
    const char **list = am_calloc((size_t)P, sizeof *list, "shard list", e);
    char *strs = list ? am_malloc((size_t)P, 4300, "shard list", e) : NULL;
    if (!strs) goto out;
    for (int p = 0; p < P; p++) {
        char *slot = strs + (size_t)p * 4300;
        snprintf(slot, 4300, "%s %s", sh[p].rel, sh[p].c.fingerprint);
        list[p] = slot;
    }
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    if (am_h5_copy_attrs(sh[0].c.file, f, skip, e) < 0 || am_h5_attr_str(f, "fingerprint", fp, e) < 0 ||
        am_h5_attr_str(f, "created", created, e) < 0 || am_h5_attr_strs(f, "shards", list, P, e) < 0 ||
        am_h5_attr_str(f, "layout", "virtual", e) < 0)
        goto out;
    rc = 0;
out:
    free(list);
    free(strs);
    return rc;
}

int am_merge_model(const am_config *c, const char *model, int force, int *skipped, am_err *e) {
    const int P = c->n_pairs;
    int rc = -1;
    shard *sh = NULL;
    const char **fps = NULL;
    merged m = {0};
    am_h5_out out = {.file = H5I_INVALID_HID};
    char path[4400], fp[17], cfg_hash[17];
    *skipped = 0;
    snprintf(path, sizeof path, "%s/%s/cube.h5", c->output_dir, model);
    sh = am_calloc((size_t)P, sizeof *sh, "shards", e);
    fps = sh ? am_calloc((size_t)P + 1, sizeof *fps, "shard fingerprints", e) : NULL;
    if (!fps) goto out;
    for (int p = 0; p < P; p++) shard_init(&sh[p]);

    /* Every shard is checked before anything is written. */
    for (int p = 0; p < P; p++)
        if (shard_open(&sh[p], c, model, c->pairs[p].key, e) < 0 || shard_load(&sh[p], e) < 0 ||
            shard_compare(&sh[p], &sh[0], c, e) < 0)
            goto out;
    m.P = P, m.A = sh[0].c.A, m.L = sh[0].c.L, m.H = sh[0].c.H, m.S = 1;
    for (int p = 0; p < P; p++) {
        if (sh[p].c.S > m.S) m.S = sh[p].c.S;
        if (sh[p].c.N > m.N) m.N = sh[p].c.N;
        if (sh[p].c.T > m.T) m.T = sh[p].c.T;
    }

    /* Up to date when the merged cube names exactly these shards. */
    cube_config_hash(c, cfg_hash);
    fps[0] = cfg_hash;
    for (int p = 0; p < P; p++) fps[p + 1] = sh[p].c.fingerprint;
    am_prov_hash(fp, "merge", fps, P + 1);
    if (!force && am_prov_up_to_date(path, AM_SCHEMA_CUBE, fp)) {
        *skipped = 1;
        rc = 0;
        goto out;
    }

    if (merged_fill(&m, sh, P, e) < 0 || am_h5_out_create(&out, path, e) < 0) goto out;
    if (write_virtual(out.file, sh, P, m.S, e) < 0 || merged_write(&m, out.file, &sh[0], e) < 0 ||
        am_cube_attach_scales(out.file, e) < 0 || am_cube_write_nexus(out.file, e) < 0 ||
        merged_attrs(out.file, sh, P, fp, e) < 0)
        goto out;
    for (int p = 0; p < P; p++) shard_close(&sh[p]);
    if (am_h5_out_commit(&out, e) < 0) goto out;
    if (merge_tsv(c, model, e) < 0) goto out;
    rc = 0;
out:
    if (rc < 0) am_h5_out_abort(&out);
    merged_free(&m);
    for (int p = 0; sh && p < P; p++) shard_close(&sh[p]);
    free(sh);
    free(fps);
    return rc;
}

/* ---- consolidate ------------------------------------------------------------ */

/* Deflate level of a chunked dataset's filter pipeline, or -1. */
static int deflate_level(hid_t dcpl) {
    unsigned flags, cd[8];
    size_t ncd = 8;
    char name[64];
    int n = H5Pget_nfilters(dcpl);
    for (int i = 0; i < n; i++) {
        ncd = 8;
        if (H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, sizeof name, name, NULL) == H5Z_FILTER_DEFLATE)
            return ncd > 0 ? (int)cd[0] : -1;
    }
    return n == 0 ? 0 : -1;
}

/* Every source of a virtual dataset must open; relative names resolve against
 * the directory of the file holding it. Sets *level from the first source. */
static int check_sources(const char *cube_path, hid_t dcpl, int *level, am_err *e) {
    size_t n = 0;
    if (H5Pget_virtual_count(dcpl, &n) < 0) return am_fail(e, "%s: cannot list the virtual sources", cube_path);
    char dir[4400];
    snprintf(dir, sizeof dir, "%s", cube_path);
    char *dn = dirname(dir);
    for (size_t i = 0; i < n; i++) {
        char name[4200], dset[256], full[8800];
        H5Pget_virtual_filename(dcpl, i, name, sizeof name);
        H5Pget_virtual_dsetname(dcpl, i, dset, sizeof dset);
        if (name[0] == '/' || strcmp(name, ".") == 0)
            snprintf(full, sizeof full, "%s", strcmp(name, ".") ? name : cube_path);
        else snprintf(full, sizeof full, "%s/%s", dn, name);
        if (access(full, R_OK) != 0)
            return am_fail_errno(e, "%s: virtual source %s (%s) is missing; a missing source would read as zeros",
                                 cube_path, name, full);
        hid_t f = H5Fopen(full, H5F_ACC_RDONLY, H5P_DEFAULT);
        hid_t d = f < 0 ? H5I_INVALID_HID : H5Dopen2(f, dset, H5P_DEFAULT);
        if (d >= 0 && i == 0 && *level < 0) {
            hid_t sd = H5Dget_create_plist(d);
            *level = deflate_level(sd);
            H5Pclose(sd);
        }
        if (d >= 0) H5Dclose(d);
        if (f >= 0) H5Fclose(f);
        if (d < 0) return am_fail(e, "%s: virtual source %s has no dataset %s", cube_path, full, dset);
    }
    return 0;
}

int am_consolidate(const char *cube_path, const char *out_path, int level, am_err *e) {
    int rc = -1, src_level = -1, P = 0, A = 0, L = 0, H = 0, S = 0;
    H5D_layout_t lay = H5D_LAYOUT_ERROR;
    am_cube c;
    am_h5_out out = {.file = H5I_INVALID_HID};
    am_maps w = {
        .dset = H5I_INVALID_HID, .fspace = H5I_INVALID_HID, .mspace = H5I_INVALID_HID, .ftype = H5I_INVALID_HID};
    hid_t dcpl = H5I_INVALID_HID;
    float *buf = NULL;
    static const char *const skip[] = {"NX_class", "default", "layout", NULL};
    if (am_cube_open_schema(&c, cube_path, AM_SCHEMA_CUBE, e) < 0) return -1;
    dcpl = H5Dget_create_plist(c.attn);
    if (AM_H5ID(dcpl, e, "attention")) goto out;
    lay = H5Pget_layout(dcpl);
    if (lay == H5D_VIRTUAL) {
        if (check_sources(cube_path, dcpl, &src_level, e) < 0) goto out;
    } else if (lay == H5D_CHUNKED) {
        src_level = deflate_level(dcpl);
    }
    if (level < 0) level = src_level >= 0 ? src_level : 4;
    P = c.P, A = c.A, L = c.L, H = c.H, S = c.S;
    if (am_h5_out_create(&out, out_path, e) < 0) goto out;
    if (am_maps_create(&w, out.file, "attention", P, A, L, H, S, strcmp(c.dtype, "float16") == 0, level, e) < 0)
        goto out;
    buf = am_malloc((size_t)A * H * S, (size_t)S * sizeof *buf, "maps of one pair and layer", e); /* [A][H][S][S] */
    if (!buf) goto out;
    for (int p = 0; p < P; p++)
        for (int l = 0; l < L; l++) {
            if (am_cube_read_block(&c, p, l, buf, e) < 0) goto out;
            for (int a = 0; a < A; a++)
                if (am_maps_write(&w, p, a, l, buf + (size_t)a * H * S * S, e) < 0) goto out;
        }
    am_maps_close(&w);
    for (int i = 0; i < N_SMALL; i++)
        if (am_h5_copy_plain(c.file, out.file, SMALL[i], e) < 0) {
            am_wrap(e, "%s", cube_path);
            goto out;
        }
    for (int i = 0; i < 2; i++) { /* optional: cubes written before token strings have none */
        const char *name = i ? "key_tokens" : "tokens";
        if (am_h5_exists(c.file, name) && am_h5_copy_plain(c.file, out.file, name, e) < 0) {
            am_wrap(e, "%s", cube_path);
            goto out;
        }
    }
    if (am_cube_attach_scales(out.file, e) < 0 || am_cube_write_nexus(out.file, e) < 0 ||
        am_h5_copy_attrs(c.file, out.file, skip, e) < 0 || am_h5_attr_str(out.file, "layout", "single-file", e) < 0 ||
        am_h5_attr_str(out.file, "consolidated_from", cube_path, e) < 0)
        goto out;
    if (am_h5_out_commit(&out, e) < 0) goto out;
    rc = 0;
out:
    am_maps_close(&w);
    if (rc < 0) am_h5_out_abort(&out);
    free(buf);
    am_h5_close(&dcpl);
    am_cube_close(&c);
    return rc;
}
