/* Content stamps of the stage outputs (see stamp.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fs.h"
#include "base/hash.h"
#include "h5/h5io.h"
#include "stage/provenance.h"
#include "stage/stage.h"
#include "stage/stamp.h"

int am_stamp_tokenizer(const am_model_cfg *m, char *path, size_t n, char hex[17], am_err *e) {
    const char *p = m->tokenizer ? m->tokenizer : m->checkpoint;
    struct stat st;
    if (stat(p, &st) != 0) return am_fail_errno(e, "tokenizer of model '%s': %s", m->name, p);
    if (S_ISDIR(st.st_mode)) snprintf(path, n, "%s/tokenizer.json", p);
    else snprintf(path, n, "%s", p);
    if (am_file_fingerprint(path, hex, e)) return am_wrap(e, "tokenizer of model '%s'", m->name);
    return 0;
}

int am_stamp_ctx_init(am_stamp_ctx *x, const am_config *c, const am_model_cfg *m, const char *pair_key,
                      const char *checkpoint, am_err *e) {
    memset(x, 0, sizeof *x);
    x->cfg = c;
    if ((x->n_parts = am_config_parts(c, pair_key, m->name, x->parts, e)) < 0) return -1;
    /* a model without a tokenizer can still run induction: its stamp does not
     * use one; a stage that does stops when it loads the tokenizer */
    am_err te = {0};
    if (am_stamp_tokenizer(m, x->tokenizer_path, sizeof x->tokenizer_path, x->tokenizer, &te) < 0)
        snprintf(x->tokenizer, sizeof x->tokenizer, "missing");
    snprintf(x->checkpoint, sizeof x->checkpoint, "%s", checkpoint ? checkpoint : "");
    return 0;
}

int am_stamp_ctx_stage(am_stamp_ctx *x, const am_stage *s, const char *checkpoint, am_err *e) {
    return am_stamp_ctx_init(x, &s->cfg, s->model, s->n_pairs_all ? s->cfg.pairs[0].key : NULL, checkpoint, e);
}

/* 1 when key is named in the space-separated list. */
static int listed(const char *list, const char *key) {
    size_t k = strlen(key);
    for (const char *p = list; *p;) {
        while (*p == ' ') p++;
        size_t w = strcspn(p, " ");
        if (w == k && !strncmp(p, key, k)) return 1;
        p += w;
    }
    return 0;
}

/* 1 when some stage names key, or no output depends on it. */
static int known_key(const char *key) {
    for (int i = 0; am_stage_unstamped_keys[i]; i++)
        if (!strcmp(am_stage_unstamped_keys[i], key)) return 1;
    for (int i = 0; i < AM_N_STAGES; i++)
        if (listed(am_stage_table[i].parts, key)) return 1;
    return 0;
}

void am_stamp_parts(const am_stamp_ctx *x, int id, char *out, size_t n) {
    const am_stage_def *d = &am_stage_table[id];
    size_t k = 0;
    out[0] = 0;
#define ADD(...)                                                       \
    do {                                                               \
        if (k < n) k += (size_t)snprintf(out + k, n - k, __VA_ARGS__); \
    } while (0)
    ADD("format=%s", d->schema);
    for (const char *p = d->parts; *p;) { /* the table's order, absent keys included */
        while (*p == ' ') p++;
        size_t w = strcspn(p, " ");
        if (!w) break;
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)w, p);
        ADD(";%s=%s", key, am_config_part_hash(x->parts, x->n_parts, key));
        p += w;
    }
    for (int i = 0; i < x->n_parts; i++) /* keys this table does not know: every stage depends on them */
        if (!known_key(x->parts[i].key)) ADD(";%s=%s", x->parts[i].key, x->parts[i].hash);
    if (d->tokenizer) ADD(";tokenizer=%s", x->tokenizer);
    if (d->checkpoint) ADD(";checkpoint=%s", x->checkpoint);
#undef ADD
}

void am_stamp_make(const am_stamp_ctx *x, int id, const char *const *input_stamps, int n_inputs, const char *extra,
                   char out[17]) {
    char parts[4096];
    const char *all[4];
    int n = 0;
    am_stamp_parts(x, id, parts, sizeof parts);
    all[n++] = parts;
    for (int i = 0; i < n_inputs && n < 3; i++) all[n++] = input_stamps[i];
    all[n++] = extra ? extra : "";
    am_prov_hash(out, am_stage_table[id].name, all, n);
}

/* The parts of want that differ in (or are missing from) got, as "pairs, alphas" into why[n]. */
static void diff_parts(const char *want, const char *got, char *why, size_t n) {
    size_t k = 0;
    why[0] = 0;
    for (const char *p = want; *p;) {
        size_t w = strcspn(p, ";"), eq = strcspn(p, "=");
        if (eq < w) {
            int same = 0;
            for (const char *q = got; *q;) {
                size_t gw = strcspn(q, ";");
                if (gw == w && !strncmp(p, q, w)) same = 1;
                q += gw + (q[gw] == ';');
            }
            if (!same && k < n) k += (size_t)snprintf(why + k, n - k, "%s%.*s", k ? ", " : "", (int)eq, p);
        }
        p += w + (p[w] == ';');
    }
    if (!why[0]) snprintf(why, n, "the list of parts");
}

int am_stamp_matches(hid_t f, const am_stamp_ctx *x, int id, char *why, size_t n) {
    char want[4096], *got = NULL;
    am_err e = {0};
    am_stamp_parts(x, id, want, sizeof want);
    if (!am_h5_attr_exists(f, "stamp_parts") || am_h5_read_attr_str(f, "stamp_parts", &got, &e) < 0) {
        snprintf(why, n, "its content stamp (no attribute stamp_parts: written by an older attnmix)");
        return 0;
    }
    int ok = strcmp(want, got) == 0;
    if (!ok) diff_parts(want, got, why, n);
    free(got);
    return ok;
}

int am_stamp_input(const am_stamp_ctx *x, int id, const char *path, char stamp[17], am_err *e) {
    const am_stage_def *d = &am_stage_table[id];
    char why[1024], *made_from = NULL, *fp = NULL;
    int rc = -1;
    hid_t f = am_h5_open_input(path, d->schema, e);
    if (f < 0) return -1;
    if (!am_stamp_matches(f, x, id, why, sizeof why)) {
        if (am_h5_attr_exists(f, "config_path")) am_h5_read_attr_str(f, "config_path", &made_from, e);
        am_fail(e,
                "%s (made from %s) does not match %s in: %s; rerun %s for this config (attnmix run redoes "
                "what is stale)",
                path, made_from && made_from[0] ? made_from : "another config", x->cfg->path, why, d->name);
        goto out;
    }
    if (am_h5_read_attr_str(f, "fingerprint", &fp, e) < 0) goto out;
    snprintf(stamp, 17, "%s", fp);
    rc = 0;
out:
    free(made_from);
    free(fp);
    H5Fclose(f);
    return rc;
}

int am_stamp_write(hid_t f, const am_stamp_ctx *x, int id, am_err *e) {
    char parts[4096];
    am_stamp_parts(x, id, parts, sizeof parts);
    return am_h5_attr_str(f, "stamp_parts", parts, e);
}
