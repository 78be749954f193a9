/* Hub ids resolved in the local Hugging Face cache (see hub.h). */
#include "base/hub.h"
#include "base/config.h"
#include "base/fs.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int part_ok(const char *s, size_t n) {
    if (n == 0 || s[0] == '.' || s[0] == '-' || s[n - 1] == '.' || s[n - 1] == '-') return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!(isalnum(ch) || ch == '.' || ch == '_' || ch == '-')) return 0;
        if (i && (ch == '-' || ch == '.') && s[i - 1] == ch) return 0; /* "--" or ".." */
    }
    return 1;
}

int am_hub_is_id(const char *spec) {
    const char *slash = strchr(spec, '/');
    size_t n = strlen(spec);
    if (!slash || n > 96 || strchr(slash + 1, '/')) return 0;
    return part_ok(spec, (size_t)(slash - spec)) && part_ok(slash + 1, strlen(slash + 1));
}

int am_hub_cache_dir(char *out, size_t n, am_err *e) {
    const char *v;
    int w;
    if ((v = getenv("HF_HUB_CACHE")) && *v) w = snprintf(out, n, "%s", v);
    else if ((v = getenv("HUGGINGFACE_HUB_CACHE")) && *v) w = snprintf(out, n, "%s", v); /* its older name */
    else if ((v = getenv("HF_HOME")) && *v) w = snprintf(out, n, "%s/hub", v);
    else if ((v = getenv("XDG_CACHE_HOME")) && *v) w = snprintf(out, n, "%s/huggingface/hub", v);
    else if ((v = getenv("HOME")) && *v) w = snprintf(out, n, "%s/.cache/huggingface/hub", v);
    else return am_fail_code(e, AM_E_USAGE, "no Hugging Face cache: set HF_HUB_CACHE, HF_HOME or HOME");
    if (w < 0 || (size_t)w >= n) return am_fail_code(e, AM_E_USAGE, "Hugging Face cache path too long: %s", v);
    return 0;
}

/* The commit a ref file holds (one line of hex digits). */
static int read_ref(const char *path, char commit[65], am_err *e) {
    char *buf = NULL;
    size_t len = 0, k = 0;
    if (am_read_file(path, "a Hugging Face cache ref", &buf, &len, e)) return -1;
    while (k < len && isxdigit((unsigned char)buf[k]) && k < 64) k++;
    int ok = k >= 7 && k <= 64;
    for (size_t i = k; ok && i < len; i++) ok = isspace((unsigned char)buf[i]);
    if (ok) memcpy(commit, buf, k), commit[k] = 0;
    free(buf);
    if (!ok) return am_fail_code(e, AM_E_CORRUPT, "%s: expected the commit hash of a snapshot (hex digits)", path);
    return 0;
}

static int is_commit(const char *r) {
    size_t n = strlen(r);
    if (n != 40) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)r[i])) return 0;
    return 1;
}

/* A revision names a file under refs/: no empty, "." or ".." component. */
static int revision_ok(const char *r) {
    if (!*r || *r == '/' || strlen(r) > 255) return 0;
    for (const char *p = r; *p;) {
        const char *q = strchr(p, '/');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) return 0;
        p += n + (q != NULL);
        if (q && !*p) return 0;
    }
    return 1;
}

int am_hub_resolve(const char *spec, const char *revision, const char *what, char **dir, am_err *e) {
    char cache[4096], repo[4300], ref[4600], snap[4700], cfg[4800], commit[65], how[700], dl[400];
    *dir = NULL;
    if (am_exists(spec) || !am_hub_is_id(spec)) {
        if (revision)
            return am_fail_code(e, AM_E_USAGE,
                                "%s '%s' is a directory, not a Hugging Face hub id: 'revision' applies only to hub "
                                "ids (namespace/name); remove it",
                                what, spec);
        if (!(*dir = strdup(spec))) return am_fail_code(e, AM_E_NOMEM, "out of memory");
        return 0;
    }
    const char *rev = revision ? revision : "main";
    if (!revision_ok(rev))
        return am_fail_code(e, AM_E_USAGE, "revision '%s' of %s: not a branch, tag or commit name", rev, what);
    if (am_hub_cache_dir(cache, sizeof cache, e)) return am_wrap(e, "%s '%s'", what, spec);
    snprintf(repo, sizeof repo, "%s/models--", cache);
    for (const char *p = spec; *p; p++) {
        size_t k = strlen(repo);
        if (*p == '/') snprintf(repo + k, sizeof repo - k, "--");
        else repo[k] = *p, repo[k + 1] = 0;
    }
    if (revision) snprintf(dl, sizeof dl, "huggingface-cli download %s --revision %s", spec, rev);
    else snprintf(dl, sizeof dl, "huggingface-cli download %s", spec);
    snprintf(how, sizeof how,
             "download it with `%s` (pip install huggingface_hub), or set HF_HUB_CACHE or HF_HOME to the cache "
             "that holds it, or give the checkpoint directory",
             dl);
    if (!am_is_dir(repo))
        return am_fail_code(e, AM_E_NOTFOUND,
                            "%s '%s' is not a directory and not in the Hugging Face cache (no %s); %s", what, spec,
                            repo, how);
    if (is_commit(rev)) {
        snprintf(commit, sizeof commit, "%s", rev);
    } else {
        snprintf(ref, sizeof ref, "%s/refs/%s", repo, rev);
        if (!am_exists(ref))
            return am_fail_code(e, AM_E_NOTFOUND, "%s '%s': revision '%s' is not in the Hugging Face cache (no %s); %s",
                                what, spec, rev, ref, how);
        if (read_ref(ref, commit, e)) return am_wrap(e, "%s '%s' revision '%s'", what, spec, rev);
    }
    snprintf(snap, sizeof snap, "%s/snapshots/%s", repo, commit);
    if (!am_is_dir(snap))
        return am_fail_code(e, AM_E_NOTFOUND, "%s '%s' revision '%s': snapshot %s is not in the Hugging Face cache; %s",
                            what, spec, rev, snap, how);
    snprintf(cfg, sizeof cfg, "%s/config.json", snap);
    if (!am_exists(cfg))
        return am_fail_code(e, AM_E_NOTFOUND,
                            "%s '%s' revision '%s': snapshot %s has no config.json (an incomplete download?); %s", what,
                            spec, rev, snap, how);
    if (!(*dir = strdup(snap))) return am_fail_code(e, AM_E_NOMEM, "out of memory");
    return 0;
}

/* Keep a hub id that is not in the cache as it is, with the message for
 * whoever needs the checkpoint (am_run_check, the model's stages). */
static int keep_missing(am_config *c, am_model_cfg *m, am_err *e) {
    if (e->code != AM_E_NOTFOUND) return am_wrap(e, "%s: model '%s'", c->path, m->name);
    size_t n = strlen(c->path) + strlen(m->name) + strlen(e->msg) + 16;
    free(m->hub_missing);
    if (!(m->hub_missing = malloc(n))) return am_fail_code(e, AM_E_NOMEM, "out of memory");
    snprintf(m->hub_missing, n, "%s: model '%s': %s", c->path, m->name, e->msg);
    memset(e, 0, sizeof *e);
    return 0;
}

int am_hub_resolve_models(am_config *c, am_err *e) {
    for (int i = 0; i < c->n_models; i++) {
        am_model_cfg *m = &c->models[i];
        char what[160];
        char *dir = NULL, *tdir = NULL;
        int same_tok = m->tokenizer && strcmp(m->tokenizer, m->checkpoint) == 0;
        snprintf(what, sizeof what, "models[%d].checkpoint", i);
        if (am_hub_resolve(m->checkpoint, m->revision, what, &dir, e)) {
            if (keep_missing(c, m, e)) return -1;
            continue;
        }
        if (same_tok) {
            char tj[4200];
            snprintf(tj, sizeof tj, "%s/tokenizer.json", dir);
            if (strcmp(dir, m->checkpoint) != 0 && !am_exists(tj)) { /* a snapshot without the token table */
                am_fail_code(e, AM_E_NOTFOUND,
                             "models[%d].checkpoint '%s': snapshot %s has no tokenizer.json (an incomplete "
                             "download?); download it with `huggingface-cli download %s`, or name a tokenizer.json "
                             "in models[%d].tokenizer",
                             i, m->checkpoint, dir, m->checkpoint, i);
                free(dir);
                if (keep_missing(c, m, e)) return -1;
                continue;
            }
            if (!(tdir = strdup(dir))) {
                free(dir);
                return am_fail_code(e, AM_E_NOMEM, "out of memory");
            }
        } else if (m->tokenizer) {
            snprintf(what, sizeof what, "models[%d].tokenizer", i);
            if (am_hub_resolve(m->tokenizer, NULL, what, &tdir, e)) {
                free(dir);
                if (keep_missing(c, m, e)) return -1;
                continue;
            }
        }
        free(m->tokenizer);
        m->tokenizer = tdir;
        if (strcmp(dir, m->checkpoint) == 0) { /* a directory */
            free(dir);
            continue;
        }
        m->hub_id = m->checkpoint;
        m->checkpoint = dir;
    }
    return 0;
}
