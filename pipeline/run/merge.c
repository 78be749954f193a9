/* merge: per-pair shard cubes -> one per-model cube with a virtual /attention;
 * consolidate: any cube -> one self-contained file. */
#include <errno.h>
#include <hdf5_hl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "h5/h5io.h"
#include "base/hash.h"
#include "run/merge.h"
#include "h5/cube.h"
#include "h5/maps.h"
#include "stage/provenance.h"
#include "h5/schema.h"

/* Datasets of a cube besides /attention, and the dimension scales on them
 * (the same as the single-machine cube written by generate). */
static const char *SMALL[] = {"length", "prompt_length", "generated_ids", "text", "ids_a", "ids_b", "prompt_a",
                              "prompt_b", "pair", "alpha", "layer", "head", "query", "key", "step", "token"};
enum { N_SMALL = sizeof SMALL / sizeof *SMALL };

/* Copy the attributes of one object to another, except the names in skip. */
typedef struct attr_copy { hid_t to; const char *const *skip; am_err *e; int rc; } attr_copy;

static herr_t copy_attr(hid_t loc, const char *name, const H5A_info_t *info, void *ctx) {
    attr_copy *ac = ctx;
    (void)info;
    for (const char *const *s = ac->skip; s && *s; s++)
        if (strcmp(*s, name) == 0) return 0;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT), t = H5I_INVALID_HID, mt = H5I_INVALID_HID, sp = H5I_INVALID_HID,
          o = H5I_INVALID_HID;
    void *buf = NULL;
    ac->rc = -1;
    if (AM_H5ID(a, ac->e, name)) goto out;
    t = H5Aget_type(a);
    mt = H5Tget_native_type(t, H5T_DIR_ASCEND);
    sp = H5Aget_space(a);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    buf = calloc((size_t)(n > 0 ? n : 1), H5Tget_size(mt));
    if (AM_H5(H5Aread(a, mt, buf), ac->e, name)) goto out;
    if (H5Aexists(ac->to, name) > 0) H5Adelete(ac->to, name);
    o = H5Acreate2(ac->to, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (AM_H5ID(o, ac->e, name) || AM_H5(H5Awrite(o, mt, buf), ac->e, name)) goto out;
    ac->rc = 0;
out:
    if (buf && (H5Tis_variable_str(mt) > 0 || H5Tdetect_class(mt, H5T_VLEN) > 0)) {
#if H5_VERSION_GE(1, 12, 0)
        H5Treclaim(mt, sp, H5P_DEFAULT, buf);
#else
        H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, buf);
#endif
    }
    free(buf);
    if (o >= 0) H5Aclose(o);
    if (sp >= 0) H5Sclose(sp);
    if (mt >= 0) H5Tclose(mt);
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    return ac->rc < 0 ? -1 : 0;
}

static int copy_attrs(hid_t from, hid_t to, const char *const *skip, am_err *e) {
    attr_copy ac = {to, skip, e, 0};
    hsize_t idx = 0;
    if (H5Aiterate2(from, H5_INDEX_NAME, H5_ITER_INC, &idx, copy_attr, &ac) < 0 || ac.rc < 0) {
        if (ac.rc == 0) am_fail(e, "%s: cannot read the root attributes", am_h5_name(from));
        return -1;
    }
    return 0;
}

static void cube_config_hash(const am_config *c, char out[17]) {
    am_hash_hex(am_fnv1a(AM_FNV_INIT, c->text, c->text_len), out);
}

void am_shard_rel(const char *key, char *out, size_t n) { snprintf(out, n, "pairs/%s/cube.h5", key); }

/* ---- one shard ------------------------------------------------------------- */

typedef struct shard {
    char path[4400];               /* as opened */
    char rel[4200];                /* relative to OUT/<model> */
    hid_t f;
    char *fingerprint, *ckpt_fp, *storage, *pair;
    hid_t att_type;
    hsize_t ad[6];                 /* /attention dims: [1, A, L, H, S_p, S_p] */
    hsize_t nd[3], td[2];          /* generated_ids [1, A, N_p], ids_a [1, T_p] */
    double *alpha;                 /* [A] */
    int32_t *layer, *head;         /* [L], [H] */
} shard;

static void shard_close(shard *s) {
    if (s->f >= 0) H5Fclose(s->f);
    if (s->att_type >= 0) H5Tclose(s->att_type);
    free(s->fingerprint); free(s->ckpt_fp); free(s->storage); free(s->pair);
    free(s->alpha); free(s->layer); free(s->head);
    memset(s, 0, sizeof *s);
    s->f = s->att_type = H5I_INVALID_HID;
}

static int attr_is(hid_t f, const char *name, const char *want, char **got, am_err *e) {
    char *v = NULL;
    if (am_h5_read_attr_str(f, name, &v, e) < 0) return -1;
    int ok = strcmp(v, want) == 0;
    if (got) *got = v;
    else free(v);
    return ok;
}

/* Open a shard and check it against the config: schema, model, config hash, pair. */
static int shard_open(shard *s, const am_config *c, const char *model, const char *key, am_err *e) {
    memset(s, 0, sizeof *s);
    s->f = s->att_type = H5I_INVALID_HID;
    char want_hash[17];
    cube_config_hash(c, want_hash);
    am_shard_rel(key, s->rel, sizeof s->rel);
    snprintf(s->path, sizeof s->path, "%s/%s/%s", c->output_dir, model, s->rel);
    if (access(s->path, F_OK) != 0)
        return am_fail(e, "shard %s is missing (its task did not finish: resubmit with `attnmix slurm %s --submit`)",
                       s->path, c->path);
    am_err sub = {0};
    s->f = am_h5_open_input(s->path, AM_SCHEMA_CUBE, &sub);
    if (s->f < 0) return am_fail(e, "shard %s is unusable: %s", s->path, sub.msg);
    char *got = NULL;
    int r = attr_is(s->f, "model", model, &got, &sub);
    if (r <= 0) {
        if (r == 0) am_fail(e, "shard %s belongs to model '%s', not '%s'", s->path, got, model);
        else am_fail(e, "shard %s: %s", s->path, sub.msg);
        free(got);
        return -1;
    }
    free(got);
    r = attr_is(s->f, "config_hash", want_hash, &got, &sub);
    if (r <= 0) {
        if (r == 0)
            am_fail(e, "shard %s was computed from another config (config_hash %s, %s has %s): rerun its task",
                    s->path, got, c->path, want_hash);
        else am_fail(e, "shard %s: %s", s->path, sub.msg);
        free(got);
        return -1;
    }
    free(got);
    hsize_t d[1];
    char **pairs = NULL;
    if (am_h5_read_strs(s->f, "pair", 1, d, &pairs, &sub) < 0) return am_fail(e, "shard %s: %s", s->path, sub.msg);
    int ok = d[0] == 1 && strcmp(pairs[0], key) == 0;
    if (!ok) am_fail(e, "shard %s holds %llu pair(s) starting with '%s', expected the one pair '%s'", s->path,
                     (unsigned long long)d[0], d[0] ? pairs[0] : "", key);
    am_h5_free_strs(pairs, d[0]);
    return ok ? 0 : -1;
}

static int dims_of(hid_t f, const char *name, int rank, hsize_t *dims, am_err *e) {
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) return am_fail(e, "dataset '%s' missing", name);
    hid_t sp = H5Dget_space(d);
    int r = H5Sget_simple_extent_ndims(sp);
    if (r == rank) H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    H5Dclose(d);
    if (r != rank) return am_fail(e, "dataset '%s' has rank %d, expected %d", name, r, rank);
    return 0;
}

/* Read what the merge compares and lays out. */
static int shard_load(shard *s, am_err *e) {
    am_err sub = {0};
    hsize_t d[1];
    if (am_h5_read_attr_str(s->f, "fingerprint", &s->fingerprint, &sub) < 0 ||
        am_h5_read_attr_str(s->f, "checkpoint_fingerprint", &s->ckpt_fp, &sub) < 0 ||
        am_h5_read_attr_str(s->f, "storage_dtype", &s->storage, &sub) < 0 ||
        dims_of(s->f, "attention", 6, s->ad, &sub) < 0 || dims_of(s->f, "generated_ids", 3, s->nd, &sub) < 0 ||
        dims_of(s->f, "ids_a", 2, s->td, &sub) < 0 ||
        am_h5_read(s->f, "alpha", H5T_NATIVE_DOUBLE, 1, d, (void **)&s->alpha, &sub) < 0 ||
        am_h5_read(s->f, "layer", H5T_NATIVE_INT32, 1, d, (void **)&s->layer, &sub) < 0 ||
        am_h5_read(s->f, "head", H5T_NATIVE_INT32, 1, d, (void **)&s->head, &sub) < 0)
        return am_fail(e, "shard %s: %s", s->path, sub.msg);
    hid_t att = H5Dopen2(s->f, "attention", H5P_DEFAULT);
    s->att_type = H5Dget_type(att);
    H5Dclose(att);
    if (s->ad[0] != 1 || s->ad[4] != s->ad[5] || s->nd[0] != 1 || s->nd[1] != s->ad[1] || s->td[0] != 1)
        return am_fail(e, "shard %s: /attention [%llu, %llu, %llu, %llu, %llu, %llu] is not the cube of one pair",
                       s->path, (unsigned long long)s->ad[0], (unsigned long long)s->ad[1],
                       (unsigned long long)s->ad[2], (unsigned long long)s->ad[3], (unsigned long long)s->ad[4],
                       (unsigned long long)s->ad[5]);
    return 0;
}

/* The shard s against the config and the first shard r. */
static int shard_compare(const shard *s, const shard *r, const am_config *c, am_err *e) {
    const hsize_t A = s->ad[1], L = s->ad[2], H = s->ad[3];
    if (A != (hsize_t)c->n_alphas)
        return am_fail(e, "shard %s has %llu alphas, %s lists %d", s->path, (unsigned long long)A, c->path, c->n_alphas);
    for (hsize_t a = 0; a < A; a++)
        if (s->alpha[a] != c->alphas[a])
            return am_fail(e, "shard %s has alpha %g at index %llu, %s has %g", s->path, s->alpha[a],
                           (unsigned long long)a, c->path, c->alphas[a]);
    if (s == r) return 0;
    if (strcmp(s->ckpt_fp, r->ckpt_fp) != 0)
        return am_fail(e, "shard %s was computed with another checkpoint (fingerprint %s) than %s (%s)", s->path,
                       s->ckpt_fp, r->path, r->ckpt_fp);
    if (strcmp(s->storage, r->storage) != 0 || H5Tequal(s->att_type, r->att_type) <= 0)
        return am_fail(e, "shard %s stores maps as %s, %s as %s", s->path, s->storage, r->path, r->storage);
    if (L != r->ad[2] || H != r->ad[3])
        return am_fail(e, "shard %s captured %llu layers x %llu heads, %s %llu x %llu", s->path,
                       (unsigned long long)L, (unsigned long long)H, r->path, (unsigned long long)r->ad[2],
                       (unsigned long long)r->ad[3]);
    for (hsize_t l = 0; l < L; l++)
        if (s->layer[l] != r->layer[l])
            return am_fail(e, "shard %s captured layer %d at index %llu, %s layer %d", s->path, s->layer[l],
                           (unsigned long long)l, r->path, r->layer[l]);
    for (hsize_t h = 0; h < H; h++)
        if (s->head[h] != r->head[h])
            return am_fail(e, "shard %s captured head %d at index %llu, %s head %d", s->path, s->head[h],
                           (unsigned long long)h, r->path, r->head[h]);
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
    snprintf(path, sizeof path, "%s/%s/cube.h5", c->output_dir, model);
    cube_config_hash(c, want);
    hid_t f = access(path, F_OK) == 0 ? am_h5_open_input(path, AM_SCHEMA_CUBE, &e) : H5I_INVALID_HID;
    int ok = 0;
    if (f < 0) snprintf(why, n, "%s", e.msg[0] ? e.msg : "cube.h5 missing");
    else if (attr_is(f, "config_hash", want, NULL, &e) != 1) snprintf(why, n, "%s: computed from another config", path);
    else ok = 1;
    if (f >= 0) H5Fclose(f);
    if (ok) why[0] = 0;
    return ok;
}

/* ---- merge ----------------------------------------------------------------- */

static hid_t wr_i32(hid_t f, const char *name, int rank, const hsize_t *dims, const int32_t *v, am_err *e) {
    return am_h5_write(f, name, H5T_NATIVE_INT32, H5T_STD_I32LE, rank, dims, NULL, 0, v, e);
}

static int32_t *filled(size_t n, int32_t v) {
    int32_t *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = v;
    return p;
}

/* Read a [1, ...] int32 dataset of a shard into rows of a padded [P, ...] array:
 * the shard's row of `inner` values goes to dst (stride dst_stride) for each of rows. */
static int pad_rows(const shard *s, const char *name, int rank, int32_t *dst, int rows, int inner, int dst_stride,
                    am_err *e) {
    hsize_t d[3];
    int32_t *v = NULL;
    if (am_h5_read(s->f, name, H5T_NATIVE_INT32, rank, d, (void **)&v, e) < 0) return am_wrap(e, "shard %s", s->path);
    for (int r = 0; r < rows; r++) memcpy(dst + (size_t)r * dst_stride, v + (size_t)r * inner, (size_t)inner * sizeof *v);
    free(v);
    return 0;
}

/* generations.tsv of the model: the shards' tables, one header. */
static int merge_tsv(const am_config *c, const char *model, am_err *e) {
    char path[4400], tmp[4500];
    snprintf(path, sizeof path, "%s/%s/generations.tsv", c->output_dir, model);
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    FILE *o = fopen(tmp, "w");
    if (!o) return am_fail_errno(e, "cannot write %s", tmp);
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    for (int p = 0; p < c->n_pairs && rc == 0; p++) {
        char src[4400];
        snprintf(src, sizeof src, "%s/%s/pairs/%s/generations.tsv", c->output_dir, model, c->pairs[p].key);
        FILE *f = fopen(src, "r");
        if (!f) { rc = am_fail_errno(e, "cannot read %s", src); break; }
        for (long k = 0; getline(&line, &cap, f) > 0; k++)
            if (k > 0 || p == 0) fputs(line, o);
        fclose(f);
    }
    free(line);
    if (fflush(o) != 0 || ferror(o)) rc = rc < 0 ? rc : am_fail_errno(e, "writing %s", tmp);
    fclose(o);
    if (rc == 0 && rename(tmp, path) != 0) rc = am_fail_errno(e, "cannot rename %s", tmp);
    if (rc < 0) unlink(tmp);
    return rc;
}

int am_merge_model(const am_config *c, const char *model, int force, int *skipped, am_err *e) {
    const int P = c->n_pairs;
    int rc = -1;
    shard *sh = calloc((size_t)P, sizeof *sh);
    am_h5_out out = {.file = H5I_INVALID_HID};
    hid_t dcpl = H5I_INVALID_HID, vspace = H5I_INVALID_HID, d = H5I_INVALID_HID;
    int32_t *length = NULL, *plen = NULL, *gen = NULL, *ids_a = NULL, *ids_b = NULL, *iota = NULL;
    char **text = NULL, **pa = NULL, **pb = NULL, **keys = NULL;
    const char **shard_list = NULL, **fps = NULL;
    char *shard_strs = NULL;
    char path[4400], fp[17], cfg_hash[17];
    *skipped = 0;
    for (int p = 0; p < P; p++) sh[p].f = sh[p].att_type = H5I_INVALID_HID;
    snprintf(path, sizeof path, "%s/%s/cube.h5", c->output_dir, model);

    /* Every shard is checked before anything is written. */
    for (int p = 0; p < P; p++)
        if (shard_open(&sh[p], c, model, c->pairs[p].key, e) < 0 || shard_load(&sh[p], e) < 0 ||
            shard_compare(&sh[p], &sh[0], c, e) < 0)
            goto out;
    const int A = (int)sh[0].ad[1], L = (int)sh[0].ad[2], H = (int)sh[0].ad[3];
    int S = 1, N = 0, T = 0;
    for (int p = 0; p < P; p++) {
        if ((int)sh[p].ad[4] > S) S = (int)sh[p].ad[4];
        if ((int)sh[p].nd[2] > N) N = (int)sh[p].nd[2];
        if ((int)sh[p].td[1] > T) T = (int)sh[p].td[1];
    }

    /* Up to date when the merged cube names exactly these shards. */
    cube_config_hash(c, cfg_hash);
    fps = calloc((size_t)P + 1, sizeof *fps);
    fps[0] = cfg_hash;
    for (int p = 0; p < P; p++) fps[p + 1] = sh[p].fingerprint;
    am_prov_hash(fp, "merge", fps, P + 1);
    if (!force && am_prov_up_to_date(path, AM_SCHEMA_CUBE, fp)) {
        *skipped = 1;
        rc = 0;
        goto out;
    }

    if (am_h5_out_create(&out, path, e) < 0) goto out;
    /* /attention: [P, A, L, H, S, S] virtual; shard p fills [p, :, :, :, 0:S_p, 0:S_p], the rest reads 0. */
    hsize_t vd[6] = {(hsize_t)P, (hsize_t)A, (hsize_t)L, (hsize_t)H, (hsize_t)S, (hsize_t)S};
    vspace = H5Screate_simple(6, vd, NULL);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    unsigned char zero[16] = {0};
    if (AM_H5(H5Pset_fill_value(dcpl, sh[0].att_type, zero), e, "attention fill value")) goto out;
    for (int p = 0; p < P; p++) {
        hsize_t start[6] = {(hsize_t)p, 0, 0, 0, 0, 0};
        hid_t src = H5Screate_simple(6, sh[p].ad, NULL);
        H5Sselect_hyperslab(vspace, H5S_SELECT_SET, start, NULL, sh[p].ad, NULL);
        int r = AM_H5(H5Pset_virtual(dcpl, vspace, sh[p].rel, "/attention", src), e, sh[p].rel);
        H5Sclose(src);
        if (r < 0) goto out;
    }
    H5Sselect_all(vspace);
    d = H5Dcreate2(out.file, "attention", sh[0].att_type, vspace, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (AM_H5ID(d, e, "attention (virtual)")) goto out;
    H5Dclose(d);
    d = H5I_INVALID_HID;

    /* The small datasets, padded to the largest shard. */
    length = filled((size_t)P * A, 0);
    plen = filled((size_t)P, 0);
    gen = filled((size_t)P * A * N, -1);      /* [P][A][N] */
    ids_a = filled((size_t)P * T, -1);        /* [P][T] */
    ids_b = filled((size_t)P * T, -1);
    text = calloc((size_t)P * A, sizeof *text);
    pa = calloc((size_t)P, sizeof *pa);
    pb = calloc((size_t)P, sizeof *pb);
    keys = calloc((size_t)P, sizeof *keys);
    for (int p = 0; p < P; p++) {
        const shard *s = &sh[p];
        const int Np = (int)s->nd[2], Tp = (int)s->td[1];
        hsize_t dd[2];
        char **t = NULL, **x = NULL, **y = NULL;
        if (pad_rows(s, "length", 2, length + (size_t)p * A, 1, A, A, e) < 0 ||
            pad_rows(s, "prompt_length", 1, plen + p, 1, 1, 1, e) < 0 ||
            pad_rows(s, "generated_ids", 3, gen + (size_t)p * A * N, A, Np, N, e) < 0 ||
            pad_rows(s, "ids_a", 2, ids_a + (size_t)p * T, 1, Tp, T, e) < 0 ||
            pad_rows(s, "ids_b", 2, ids_b + (size_t)p * T, 1, Tp, T, e) < 0)
            goto out;
        if (am_h5_read_strs(s->f, "text", 2, dd, &t, e) < 0) { am_wrap(e, "shard %s", s->path); goto out; }
        if (am_h5_read_strs(s->f, "prompt_a", 1, dd, &x, e) < 0) { am_h5_free_strs(t, A); am_wrap(e, "shard %s", s->path); goto out; }
        if (am_h5_read_strs(s->f, "prompt_b", 1, dd, &y, e) < 0) {
            am_h5_free_strs(t, A);
            am_h5_free_strs(x, 1);
            am_wrap(e, "shard %s", s->path);
            goto out;
        }
        for (int a = 0; a < A; a++) text[(size_t)p * A + a] = t[a];
        free(t);
        pa[p] = x[0];
        pb[p] = y[0];
        free(x);
        free(y);
        keys[p] = strdup(c->pairs[p].key);
    }
    hsize_t dPA[2] = {(hsize_t)P, (hsize_t)A}, dP[1] = {(hsize_t)P}, dPAN[3] = {(hsize_t)P, (hsize_t)A, (hsize_t)N};
    hsize_t dPT[2] = {(hsize_t)P, (hsize_t)T}, dA[1] = {(hsize_t)A}, dL[1] = {(hsize_t)L}, dH[1] = {(hsize_t)H};
    hsize_t dS[1] = {(hsize_t)S}, dN[1] = {(hsize_t)N}, dT[1] = {(hsize_t)T};
    int M = S > N ? S : N;
    if (T > M) M = T;
    iota = filled((size_t)M, 0);
    for (int i = 0; i < M; i++) iota[i] = i;
#define W(call) do { if ((d = (call)) < 0) goto out; H5Dclose(d); d = H5I_INVALID_HID; } while (0)
    W(wr_i32(out.file, "length", 2, dPA, length, e));
    W(wr_i32(out.file, "generated_ids", 3, dPAN, gen, e));
    W(am_h5_write_strs(out.file, "text", 2, dPA, (const char *const *)text, e));
    W(wr_i32(out.file, "query", 1, dS, iota, e));
    W(wr_i32(out.file, "key", 1, dS, iota, e));
    W(wr_i32(out.file, "step", 1, dN, iota, e));
    W(wr_i32(out.file, "token", 1, dT, iota, e));
    W(am_h5_write_strs(out.file, "pair", 1, dP, (const char *const *)keys, e));
    W(am_h5_write(out.file, "alpha", H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, 1, dA, NULL, 0, sh[0].alpha, e));
    W(am_h5_write_strs(out.file, "prompt_a", 1, dP, (const char *const *)pa, e));
    W(am_h5_write_strs(out.file, "prompt_b", 1, dP, (const char *const *)pb, e));
    W(wr_i32(out.file, "ids_a", 2, dPT, ids_a, e));
    W(wr_i32(out.file, "ids_b", 2, dPT, ids_b, e));
    W(wr_i32(out.file, "prompt_length", 1, dP, plen, e));
    W(wr_i32(out.file, "layer", 1, dL, sh[0].layer, e));
    W(wr_i32(out.file, "head", 1, dH, sh[0].head, e));
#undef W
    if (am_cube_attach_scales(out.file, e) < 0 || am_cube_write_nexus(out.file, e) < 0) goto out;

    /* Root attributes: the first shard's, less those of one pair, plus the sources. */
    static const char *skip[] = {"fingerprint", "created", "mix_fingerprint", "prefill_fingerprint", "NX_class",
                                 "default", NULL};
    if (copy_attrs(sh[0].f, out.file, skip, e) < 0) goto out;
    shard_list = calloc((size_t)P, sizeof *shard_list);
    shard_strs = malloc((size_t)P * 4300);
    for (int p = 0; p < P; p++) {
        char *slot = shard_strs + (size_t)p * 4300;
        snprintf(slot, 4300, "%s %s", sh[p].rel, sh[p].fingerprint);
        shard_list[p] = slot;
    }
    char created[32];
    time_t now = time(NULL);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    if (am_h5_attr_str(out.file, "fingerprint", fp, e) < 0 || am_h5_attr_str(out.file, "created", created, e) < 0 ||
        am_h5_attr_strs(out.file, "shards", shard_list, P, e) < 0 ||
        am_h5_attr_str(out.file, "layout", "virtual", e) < 0)
        goto out;
    for (int p = 0; p < P; p++) { H5Fclose(sh[p].f); sh[p].f = H5I_INVALID_HID; }
    if (am_h5_out_commit(&out, e) < 0) goto out;
    if (merge_tsv(c, model, e) < 0) goto out;
    rc = 0;
out:
    if (d >= 0) H5Dclose(d);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (vspace >= 0) H5Sclose(vspace);
    if (rc < 0) am_h5_out_abort(&out);
    if (text) am_h5_free_strs(text, (size_t)P * (sh[0].ad[1]));
    am_h5_free_strs(pa, (size_t)P);
    am_h5_free_strs(pb, (size_t)P);
    am_h5_free_strs(keys, (size_t)P);
    for (int p = 0; p < P; p++) shard_close(&sh[p]);
    free(sh); free(length); free(plen); free(gen); free(ids_a); free(ids_b); free(iota);
    free(shard_list); free(shard_strs); free(fps);
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
        if (name[0] == '/' || strcmp(name, ".") == 0) snprintf(full, sizeof full, "%s", strcmp(name, ".") ? name : cube_path);
        else snprintf(full, sizeof full, "%s/%s", dn, name);
        if (access(full, R_OK) != 0)
            return am_fail_errno(e, "%s: virtual source %s (%s) is missing; a missing source would read as zeros", cube_path,
                                 name, full);
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
    int rc = -1, src_level = -1;
    am_h5_out out = {.file = H5I_INVALID_HID};
    am_maps w = {.dset = H5I_INVALID_HID, .fspace = H5I_INVALID_HID, .mspace = H5I_INVALID_HID, .ftype = H5I_INVALID_HID};
    hid_t f = H5I_INVALID_HID, att = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, fs = H5I_INVALID_HID,
          ms = H5I_INVALID_HID, t = H5I_INVALID_HID;
    float *buf = NULL;
    f = am_h5_open_input(cube_path, AM_SCHEMA_CUBE, e);
    if (f < 0) return -1;
    att = H5Dopen2(f, "attention", H5P_DEFAULT);
    if (AM_H5ID(att, e, "attention")) goto out;
    dcpl = H5Dget_create_plist(att);
    H5D_layout_t lay = H5Pget_layout(dcpl);
    if (lay == H5D_VIRTUAL) {
        if (check_sources(cube_path, dcpl, &src_level, e) < 0) goto out;
    } else if (lay == H5D_CHUNKED) {
        src_level = deflate_level(dcpl);
    }
    if (level < 0) level = src_level >= 0 ? src_level : 4;
    hsize_t ad[6];
    fs = H5Dget_space(att);
    if (H5Sget_simple_extent_ndims(fs) != 6) { am_fail(e, "%s: /attention is not 6-dimensional", cube_path); goto out; }
    H5Sget_simple_extent_dims(fs, ad, NULL);
    const int P = (int)ad[0], A = (int)ad[1], L = (int)ad[2], H = (int)ad[3], S = (int)ad[4];
    t = H5Dget_type(att);
    const int f16 = H5Tget_size(t) == 2;

    if (am_h5_out_create(&out, out_path, e) < 0) goto out;
    if (am_maps_create(&w, out.file, "attention", P, A, L, H, S, f16, level, e) < 0) goto out;
    hsize_t cnt[6] = {1, 1, 1, (hsize_t)H, (hsize_t)S, (hsize_t)S};
    ms = H5Screate_simple(6, cnt, NULL);
    buf = malloc((size_t)H * S * S * sizeof *buf); /* [H][S][S] */
    if (!buf) { am_fail(e, "out of memory for %d maps of %d x %d", H, S, S); goto out; }
    for (int p = 0; p < P; p++)
        for (int a = 0; a < A; a++)
            for (int l = 0; l < L; l++) {
                hsize_t start[6] = {(hsize_t)p, (hsize_t)a, (hsize_t)l, 0, 0, 0};
                H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, cnt, NULL);
                if (AM_H5(H5Dread(att, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, buf), e, cube_path) ||
                    am_maps_write(&w, p, a, l, buf, e) < 0)
                    goto out;
            }
    am_maps_close(&w);
    for (int i = 0; i < N_SMALL; i++)
        if (am_h5_copy_plain(f, out.file, SMALL[i], e) < 0) { am_wrap(e, "%s", cube_path); goto out; }
    static const char *skip[] = {"NX_class", "default", "layout", NULL};
    if (am_cube_attach_scales(out.file, e) < 0 || am_cube_write_nexus(out.file, e) < 0 || copy_attrs(f, out.file, skip, e) < 0 ||
        am_h5_attr_str(out.file, "layout", "single-file", e) < 0 ||
        am_h5_attr_str(out.file, "consolidated_from", cube_path, e) < 0)
        goto out;
    if (am_h5_out_commit(&out, e) < 0) goto out;
    rc = 0;
out:
    am_maps_close(&w);
    if (rc < 0) am_h5_out_abort(&out);
    free(buf);
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    if (t >= 0) H5Tclose(t);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (att >= 0) H5Dclose(att);
    H5Fclose(f);
    return rc;
}
