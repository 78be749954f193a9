/* Experiment configuration: YAML text -> am_config, with defaults and validation.
 *
 * Two passes over the text with libyaml:
 *   1. the event parser, to report syntax/encoding errors and reject aliases at
 *      the position where they occur;
 *   2. the document loader, whose node tree (with start marks) is walked against
 *      the schema below.
 * Every error names "FILE:LINE:COL:" (1-based, columns counted in characters). */
#include "base/config.h"
#include "base/fs.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

/* ---- walking context ------------------------------------------------------ */

typedef struct walk {
    const char *name;     /* file name used in messages */
    const char *text;     /* the YAML text [len] */
    size_t len;
    yaml_document_t *doc;
    am_config *c;
    am_err *e;
} walk;

static int fail_at(walk *w, yaml_mark_t m, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_at(walk *w, yaml_mark_t m, const char *fmt, ...) {
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return am_fail(w->e, "%s:%zu:%zu: %s", w->name, m.line + 1, m.column + 1, msg);
}

static void warn_at(walk *w, yaml_mark_t m, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void warn_at(walk *w, yaml_mark_t m, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *buf = w->c->warnings;
    size_t used = strlen(buf), cap = sizeof w->c->warnings;
    if (used + 1 >= cap) return;
    int n = snprintf(buf + used, cap - used, "%s:%zu:%zu: warning: %s\n", w->name, m.line + 1,
                     m.column + 1, msg);
    if (n < 0 || (size_t)n >= cap - used) { /* truncated: end on a line break */
        buf[cap - 2] = '\n';
        buf[cap - 1] = '\0';
    }
}

/* Line and column (0-based, columns in UTF-8 characters) of byte offset off. */
static yaml_mark_t mark_of_offset(const char *text, size_t len, size_t off) {
    yaml_mark_t m = {0, 0, 0};
    if (off > len) off = len;
    m.index = off;
    for (size_t i = 0; i < off; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch == '\n') {
            m.line++;
            m.column = 0;
        } else if ((ch & 0xC0) != 0x80) {
            m.column++;
        }
    }
    return m;
}

static const char *node_kind(const yaml_node_t *n) {
    switch (n->type) {
    case YAML_MAPPING_NODE: return "a mapping";
    case YAML_SEQUENCE_NODE: return "a list";
    default: return "a scalar";
    }
}

static int is_null(const yaml_node_t *n) {
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return 0;
    const char *v = (const char *)n->data.scalar.value;
    return n->data.scalar.length == 0 || !strcmp(v, "~") || !strcmp(v, "null") ||
           !strcmp(v, "Null") || !strcmp(v, "NULL");
}

/* A short quotation of a scalar for messages ("got 'abc'"). */
static const char *quote(const yaml_node_t *n, char *buf, size_t cap) {
    if (n->type != YAML_SCALAR_NODE) return node_kind(n);
    if (is_null(n)) return "an empty value";
    const char *v = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    if (len > 40) snprintf(buf, cap, "'%.37s...'", v);
    else snprintf(buf, cap, "'%s'", v);
    return buf;
}

/* ---- mappings: allowed keys, duplicates, lookup --------------------------- */

/* Checks that map is a mapping whose keys are plain scalars from allowed[] without
 * duplicates. where: "" for the top level, else the mapping's path. */
static int check_keys(walk *w, yaml_node_t *map, const char *where, const char *const *allowed) {
    char list[512] = "";
    for (int i = 0; allowed[i]; i++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", allowed[i]);
    }
    yaml_node_pair_t *beg = map->data.mapping.pairs.start, *end = map->data.mapping.pairs.top;
    for (yaml_node_pair_t *p = beg; p < end; p++) {
        yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
        if (k->type != YAML_SCALAR_NODE)
            return fail_at(w, k->start_mark, "keys must be plain names, got %s%s%s%s", node_kind(k),
                           *where ? " in '" : "", where, *where ? "'" : "");
        const char *key = (const char *)k->data.scalar.value;
        int known = 0;
        for (int i = 0; allowed[i] && !known; i++) known = !strcmp(key, allowed[i]);
        if (!known) {
            char qb[64];
            if (*where)
                return fail_at(w, k->start_mark, "unknown key %s in '%s' (expected one of %s)",
                               quote(k, qb, sizeof qb), where, list);
            return fail_at(w, k->start_mark, "unknown top-level key %s (expected one of %s)",
                           quote(k, qb, sizeof qb), list);
        }
        for (yaml_node_pair_t *q = beg; q < p; q++) {
            yaml_node_t *k2 = yaml_document_get_node(w->doc, q->key);
            if (k2->type == YAML_SCALAR_NODE && !strcmp((const char *)k2->data.scalar.value, key))
                return fail_at(w, k->start_mark, "duplicate key '%s'%s%s%s (first at %zu:%zu)", key,
                               *where ? " in '" : "", where, *where ? "'" : "",
                               k2->start_mark.line + 1, k2->start_mark.column + 1);
        }
    }
    return 0;
}

/* The value of key in map, or NULL when absent or null. *key_node gets the key. */
static yaml_node_t *lookup(walk *w, yaml_node_t *map, const char *key, yaml_node_t **key_node) {
    if (key_node) *key_node = NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
        if (k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, key)) {
            if (key_node) *key_node = k;
            yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
            return is_null(v) ? NULL : v;
        }
    }
    return NULL;
}

/* Like lookup for a required key: fails at the key (present but empty) or at the
 * mapping (absent). */
static yaml_node_t *require(walk *w, yaml_node_t *map, const char *where, const char *key) {
    yaml_node_t *k;
    yaml_node_t *v = lookup(w, map, key, &k);
    if (v) return v;
    if (k)
        fail_at(w, k->start_mark, "required key '%s'%s%s%s has no value", key, *where ? " in '" : "",
                where, *where ? "'" : "");
    else if (*where)
        fail_at(w, map->start_mark, "missing required key '%s' in '%s'", key, where);
    else
        fail_at(w, map->start_mark, "missing required top-level key '%s'", key);
    return NULL;
}

static int expect_mapping(walk *w, yaml_node_t *n, const char *path) {
    if (n->type == YAML_MAPPING_NODE) return 0;
    char qb[64];
    return fail_at(w, n->start_mark, "expected a mapping for '%s', got %s", path, quote(n, qb, sizeof qb));
}

static int expect_list(walk *w, yaml_node_t *n, const char *path, int allow_empty) {
    char qb[64];
    if (n->type != YAML_SEQUENCE_NODE)
        return fail_at(w, n->start_mark, "expected a list for '%s', got %s", path, quote(n, qb, sizeof qb));
    if (!allow_empty && n->data.sequence.items.top == n->data.sequence.items.start)
        return fail_at(w, n->start_mark, "'%s' must not be empty", path);
    return 0;
}

static int list_len(yaml_node_t *n) { return (int)(n->data.sequence.items.top - n->data.sequence.items.start); }
static yaml_node_t *list_at(walk *w, yaml_node_t *n, int i) {
    return yaml_document_get_node(w->doc, n->data.sequence.items.start[i]);
}

/* ---- scalars --------------------------------------------------------------- */

/* Any scalar as a string (a number such as `name: 8` is the string "8"). */
static int get_str(walk *w, yaml_node_t *n, const char *path, char **out) {
    char qb[64];
    if (n->type != YAML_SCALAR_NODE)
        return fail_at(w, n->start_mark, "expected a string for '%s', got %s", path, quote(n, qb, sizeof qb));
    size_t len = n->data.scalar.length;
    if (memchr(n->data.scalar.value, '\0', len))
        return fail_at(w, n->start_mark, "'%s' contains a NUL character", path);
    char *s = malloc(len + 1);
    if (!s) return fail_at(w, n->start_mark, "out of memory reading '%s'", path);
    memcpy(s, n->data.scalar.value, len);
    s[len] = '\0';
    free(*out);
    *out = s;
    return 0;
}

static int plain_scalar(walk *w, yaml_node_t *n, const char *what, const char *path) {
    char qb[64];
    if (n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) return 0;
    if (n->type == YAML_SCALAR_NODE)
        return fail_at(w, n->start_mark, "expected %s for '%s', got the quoted string %s", what, path,
                       quote(n, qb, sizeof qb));
    return fail_at(w, n->start_mark, "expected %s for '%s', got %s", what, path, quote(n, qb, sizeof qb));
}

/* Decimal integer in [lo, hi]. */
static int get_int(walk *w, yaml_node_t *n, const char *path, long long lo, long long hi, long long *out) {
    char qb[64];
    if (plain_scalar(w, n, "an integer", path)) return -1;
    const char *v = (const char *)n->data.scalar.value;
    const char *d = v + (*v == '-' || *v == '+');
    int digits = *d != '\0';
    for (const char *p = d; *p; p++) digits &= (*p >= '0' && *p <= '9');
    if (!digits)
        return fail_at(w, n->start_mark, "expected an integer for '%s', got %s", path, quote(n, qb, sizeof qb));
    errno = 0;
    long long x = strtoll(v, NULL, 10);
    if (errno == ERANGE || x < lo || x > hi)
        return fail_at(w, n->start_mark, "'%s' is %s, outside [%lld, %lld]", path, quote(n, qb, sizeof qb), lo, hi);
    *out = x;
    return 0;
}

static int get_u64(walk *w, yaml_node_t *n, const char *path, uint64_t *out) {
    char qb[64];
    if (plain_scalar(w, n, "an unsigned integer", path)) return -1;
    const char *v = (const char *)n->data.scalar.value;
    const char *d = v + (*v == '+');
    int digits = *d != '\0';
    for (const char *p = d; *p; p++) digits &= (*p >= '0' && *p <= '9');
    if (!digits)
        return fail_at(w, n->start_mark, "expected an unsigned integer for '%s', got %s", path,
                       quote(n, qb, sizeof qb));
    errno = 0;
    unsigned long long x = strtoull(d, NULL, 10);
    if (errno == ERANGE)
        return fail_at(w, n->start_mark, "'%s' is %s, larger than %llu", path, quote(n, qb, sizeof qb),
                       (unsigned long long)UINT64_MAX);
    *out = (uint64_t)x;
    return 0;
}

/* Finite decimal number: [-+]? digits [. digits] [e [-+] digits] (at least one digit). */
static int get_num(walk *w, yaml_node_t *n, const char *path, double *out) {
    char qb[64];
    if (plain_scalar(w, n, "a number", path)) return -1;
    const char *v = (const char *)n->data.scalar.value, *p = v;
    if (*p == '-' || *p == '+') p++;
    const char *lower = p;
    if (!strcmp(lower, ".inf") || !strcmp(lower, ".Inf") || !strcmp(lower, ".INF") ||
        !strcmp(lower, ".nan") || !strcmp(lower, ".NaN") || !strcmp(lower, ".NAN") ||
        !strcasecmp(lower, "inf") || !strcasecmp(lower, "infinity") || !strcasecmp(lower, "nan"))
        return fail_at(w, n->start_mark, "'%s' must be a finite number, got %s", path, quote(n, qb, sizeof qb));
    int nd = 0;
    while (*p >= '0' && *p <= '9') p++, nd++;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') p++, nd++;
    }
    int ok = nd > 0;
    if (ok && (*p == 'e' || *p == 'E')) {
        p++;
        if (*p == '-' || *p == '+') p++;
        int ne = 0;
        while (*p >= '0' && *p <= '9') p++, ne++;
        ok = ne > 0;
    }
    if (!ok || *p != '\0')
        return fail_at(w, n->start_mark, "expected a number for '%s', got %s", path, quote(n, qb, sizeof qb));
    errno = 0;
    double x = strtod(v, NULL);
    if ((errno == ERANGE && fabs(x) > 1.0) || !isfinite(x))
        return fail_at(w, n->start_mark, "'%s' is %s, out of the range of a double", path, quote(n, qb, sizeof qb));
    *out = x;
    return 0;
}

static int get_bool(walk *w, yaml_node_t *n, const char *path, int *out) {
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", NULL};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", NULL};
    char qb[64];
    if (plain_scalar(w, n, "true or false", path)) return -1;
    const char *v = (const char *)n->data.scalar.value;
    for (int i = 0; yes[i]; i++)
        if (!strcmp(v, yes[i])) return *out = 1, 0;
    for (int i = 0; no[i]; i++)
        if (!strcmp(v, no[i])) return *out = 0, 0;
    return fail_at(w, n->start_mark, "expected true or false for '%s', got %s", path, quote(n, qb, sizeof qb));
}

/* One of choices[] (NULL-terminated); *out = its index. */
static int get_enum(walk *w, yaml_node_t *n, const char *path, const char *const *choices, int *out) {
    char qb[64], list[128] = "";
    for (int i = 0; choices[i]; i++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", choices[i]);
    }
    if (n->type == YAML_SCALAR_NODE)
        for (int i = 0; choices[i]; i++)
            if (!strcmp((const char *)n->data.scalar.value, choices[i])) return *out = i, 0;
    return fail_at(w, n->start_mark, "'%s' must be one of %s, got %s", path, list, quote(n, qb, sizeof qb));
}

/* A name usable as a directory or HDF5 label: [A-Za-z0-9._-]+, not "." or "..". */
static int check_name(walk *w, yaml_node_t *n, const char *path, const char *s) {
    int ok = *s != '\0' && strcmp(s, ".") && strcmp(s, "..");
    for (const char *p = s; *p && ok; p++)
        ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
             *p == '.' || *p == '_' || *p == '-';
    if (ok) return 0;
    char qb[64];
    return fail_at(w, n->start_mark, "'%s' is %s; use letters, digits, '.', '_' and '-' only", path,
                   quote(n, qb, sizeof qb));
}

static int nonempty(walk *w, yaml_node_t *n, const char *path, const char *s) {
    if (*s) return 0;
    return fail_at(w, n->start_mark, "'%s' must not be empty", path);
}

/* "all" -> *out stays NULL; else a non-empty list of unique ints in [0, INT_MAX]. */
static int get_index_list(walk *w, yaml_node_t *n, const char *path, int **out, int *count) {
    if (n->type == YAML_SCALAR_NODE && !strcmp((const char *)n->data.scalar.value, "all")) return 0;
    char qb[64];
    if (n->type != YAML_SEQUENCE_NODE)
        return fail_at(w, n->start_mark, "expected \"all\" or a list of indices for '%s', got %s", path,
                       quote(n, qb, sizeof qb));
    if (expect_list(w, n, path, 0)) return -1;
    int cnt = list_len(n);
    int *v = calloc((size_t)cnt, sizeof *v); /* [cnt] */
    if (!v) return fail_at(w, n->start_mark, "out of memory reading '%s'", path);
    for (int i = 0; i < cnt; i++) {
        char ip[96];
        snprintf(ip, sizeof ip, "%s[%d]", path, i);
        yaml_node_t *it = list_at(w, n, i);
        long long x;
        if (get_int(w, it, ip, 0, INT_MAX, &x)) goto fail;
        v[i] = (int)x;
        for (int j = 0; j < i; j++)
            if (v[j] == v[i]) {
                fail_at(w, it->start_mark, "duplicate index %d in '%s' (same as %s[%d])", v[i], path, path, j);
                goto fail;
            }
    }
    *out = v;
    *count = cnt;
    return 0;
fail:
    free(v);
    return -1;
}

/* ---- sections -------------------------------------------------------------- */

static int parse_models(walk *w, yaml_node_t *n) {
    static const char *const keys[] = {"name", "checkpoint", "tokenizer", NULL};
    am_config *c = w->c;
    if (expect_list(w, n, "models", 0)) return -1;
    int cnt = list_len(n);
    c->models = calloc((size_t)cnt, sizeof *c->models); /* [cnt] */
    if (!c->models) return fail_at(w, n->start_mark, "out of memory reading 'models'");
    c->n_models = cnt;
    for (int i = 0; i < cnt; i++) {
        char path[64], kp[96];
        snprintf(path, sizeof path, "models[%d]", i);
        yaml_node_t *m = list_at(w, n, i), *v;
        am_model_cfg *mc = &c->models[i];
        if (expect_mapping(w, m, path) || check_keys(w, m, path, keys)) return -1;

        snprintf(kp, sizeof kp, "%s.name", path);
        if (!(v = require(w, m, path, "name")) || get_str(w, v, kp, &mc->name) ||
            check_name(w, v, kp, mc->name))
            return -1;
        for (int j = 0; j < i; j++)
            if (!strcmp(c->models[j].name, mc->name))
                return fail_at(w, v->start_mark, "duplicate model name '%s' in '%s' (same as models[%d])",
                               mc->name, kp, j);

        snprintf(kp, sizeof kp, "%s.checkpoint", path);
        if (!(v = require(w, m, path, "checkpoint")) || get_str(w, v, kp, &mc->checkpoint) ||
            nonempty(w, v, kp, mc->checkpoint))
            return -1;

        snprintf(kp, sizeof kp, "%s.tokenizer", path);
        if ((v = lookup(w, m, "tokenizer", NULL))) {
            if (get_str(w, v, kp, &mc->tokenizer) || nonempty(w, v, kp, mc->tokenizer)) return -1;
        } else if (!(mc->tokenizer = strdup(mc->checkpoint))) {
            return fail_at(w, m->start_mark, "out of memory reading '%s'", path);
        }
    }
    return 0;
}

static int parse_pairs(walk *w, yaml_node_t *n) {
    static const char *const keys[] = {"key", "a", "b", NULL};
    am_config *c = w->c;
    if (expect_list(w, n, "pairs", 0)) return -1;
    int cnt = list_len(n);
    c->pairs = calloc((size_t)cnt, sizeof *c->pairs); /* [cnt] */
    if (!c->pairs) return fail_at(w, n->start_mark, "out of memory reading 'pairs'");
    c->n_pairs = cnt;
    for (int i = 0; i < cnt; i++) {
        char path[64], kp[96];
        snprintf(path, sizeof path, "pairs[%d]", i);
        yaml_node_t *m = list_at(w, n, i), *v;
        am_pair_cfg *pc = &c->pairs[i];
        if (expect_mapping(w, m, path) || check_keys(w, m, path, keys)) return -1;

        snprintf(kp, sizeof kp, "%s.key", path);
        if (!(v = require(w, m, path, "key")) || get_str(w, v, kp, &pc->key) || check_name(w, v, kp, pc->key))
            return -1;
        for (int j = 0; j < i; j++)
            if (!strcmp(c->pairs[j].key, pc->key))
                return fail_at(w, v->start_mark, "duplicate pair key '%s' in '%s' (same as pairs[%d])",
                               pc->key, kp, j);

        snprintf(kp, sizeof kp, "%s.a", path);
        if (!(v = require(w, m, path, "a")) || get_str(w, v, kp, &pc->a) || nonempty(w, v, kp, pc->a))
            return -1;
        snprintf(kp, sizeof kp, "%s.b", path);
        if (!(v = require(w, m, path, "b")) || get_str(w, v, kp, &pc->b) || nonempty(w, v, kp, pc->b))
            return -1;
    }
    return 0;
}

static int parse_alphas(walk *w, yaml_node_t *n) {
    am_config *c = w->c;
    if (expect_list(w, n, "alphas", 0)) return -1;
    int cnt = list_len(n);
    double *a = calloc((size_t)cnt, sizeof *a); /* [cnt] */
    if (!a) return fail_at(w, n->start_mark, "out of memory reading 'alphas'");
    free(c->alphas);
    c->alphas = a;
    c->n_alphas = cnt;
    for (int i = 0; i < cnt; i++) {
        char path[64];
        snprintf(path, sizeof path, "alphas[%d]", i);
        yaml_node_t *it = list_at(w, n, i);
        if (get_num(w, it, path, &a[i])) return -1;
        for (int j = 0; j < i; j++)
            if (a[j] == a[i])
                return fail_at(w, it->start_mark, "duplicate alpha %g in '%s' (same as alphas[%d])", a[i], path, j);
        if (a[i] < 0.0 || a[i] > 1.0)
            warn_at(w, it->start_mark, "alpha %g in '%s' is outside [0, 1] (extrapolation beyond the prompts)",
                    a[i], path);
    }
    return 0;
}

static int parse_padding(walk *w, yaml_node_t *n) {
    static const char *const keys[] = {"side", "pad_id", "mask", NULL};
    static const char *const sides[] = {"left", "right", NULL};
    am_config *c = w->c;
    yaml_node_t *v;
    if (expect_mapping(w, n, "padding") || check_keys(w, n, "padding", keys)) return -1;
    if ((v = lookup(w, n, "side", NULL))) {
        int side;
        if (get_enum(w, v, "padding.side", sides, &side)) return -1;
        c->pad_left = side == 0;
    }
    if ((v = lookup(w, n, "pad_id", NULL))) {
        long long x;
        if (get_int(w, v, "padding.pad_id", 0, INT32_MAX, &x)) return -1;
        c->pad_id = (int32_t)x;
    }
    if ((v = lookup(w, n, "mask", NULL)) && get_bool(w, v, "padding.mask", &c->mask_pads)) return -1;
    return 0;
}

static int parse_generation(walk *w, yaml_node_t *n) {
    static const char *const keys[] = {"max_new_tokens", "mode", "temperature", "top_p", "eos_ids", NULL};
    static const char *const modes[] = {"greedy", "sample", NULL};
    am_config *c = w->c;
    yaml_node_t *v, *vt, *vp;
    long long x;
    if (expect_mapping(w, n, "generation") || check_keys(w, n, "generation", keys)) return -1;
    if ((v = lookup(w, n, "max_new_tokens", NULL))) {
        if (get_int(w, v, "generation.max_new_tokens", 0, INT_MAX, &x)) return -1;
        c->max_new_tokens = (int)x;
    }
    if ((v = lookup(w, n, "mode", NULL)) && get_enum(w, v, "generation.mode", modes, &c->sample)) return -1;
    if ((vt = lookup(w, n, "temperature", NULL))) {
        if (get_num(w, vt, "generation.temperature", &c->temperature)) return -1;
        if (!(c->temperature > 0.0))
            return fail_at(w, vt->start_mark, "'generation.temperature' must be > 0, got %g", c->temperature);
        if (!c->sample) warn_at(w, vt->start_mark, "'generation.temperature' has no effect with mode greedy");
    }
    if ((vp = lookup(w, n, "top_p", NULL))) {
        if (get_num(w, vp, "generation.top_p", &c->top_p)) return -1;
        if (!(c->top_p > 0.0 && c->top_p <= 1.0))
            return fail_at(w, vp->start_mark, "'generation.top_p' must be in (0, 1], got %g", c->top_p);
        if (!c->sample) warn_at(w, vp->start_mark, "'generation.top_p' has no effect with mode greedy");
    }
    if ((v = lookup(w, n, "eos_ids", NULL))) {
        if (expect_list(w, v, "generation.eos_ids", 1)) return -1;
        int cnt = list_len(v);
        /* [max(cnt,1)]: non-NULL even when empty (an explicit empty list = no EOS) */
        c->eos_ids = calloc((size_t)(cnt ? cnt : 1), sizeof *c->eos_ids);
        if (!c->eos_ids) return fail_at(w, v->start_mark, "out of memory reading 'generation.eos_ids'");
        c->n_eos = cnt;
        for (int i = 0; i < cnt; i++) {
            char path[64];
            snprintf(path, sizeof path, "generation.eos_ids[%d]", i);
            if (get_int(w, list_at(w, v, i), path, 0, INT32_MAX, &x)) return -1;
            c->eos_ids[i] = (int32_t)x;
        }
    }
    return 0;
}

static int parse_capture(walk *w, yaml_node_t *n) {
    static const char *const keys[] = {"layers", "heads", "dtype", "compression", NULL};
    static const char *const dtypes[] = {"float32", "float16", NULL};
    am_config *c = w->c;
    yaml_node_t *v;
    if (expect_mapping(w, n, "capture") || check_keys(w, n, "capture", keys)) return -1;
    if ((v = lookup(w, n, "layers", NULL)) && get_index_list(w, v, "capture.layers", &c->layers, &c->n_layers))
        return -1;
    if ((v = lookup(w, n, "heads", NULL)) && get_index_list(w, v, "capture.heads", &c->heads, &c->n_heads))
        return -1;
    if ((v = lookup(w, n, "dtype", NULL)) && get_enum(w, v, "capture.dtype", dtypes, &c->store_f16)) return -1;
    if ((v = lookup(w, n, "compression", NULL))) {
        long long x;
        if (get_int(w, v, "capture.compression", 0, 9, &x)) return -1;
        c->compression = (int)x;
    }
    return 0;
}

static int parse_root(walk *w, yaml_node_t *root) {
    static const char *const keys[] = {"experiment", "output_dir", "seed",    "models",       "pairs", "alphas",
                                       "padding",    "generation", "capture", "backend",      "threads",
                                       "cuda_compute", NULL};
    static const char *const backends[] = {"auto", "cpu", "cuda", NULL}; /* = am_backend order */
    static const char *const computes[] = {"bf16", "float32", NULL};     /* cuda_f32 = index */
    am_config *c = w->c;
    yaml_node_t *v;
    char qb[64];
    if (root->type != YAML_MAPPING_NODE)
        return fail_at(w, root->start_mark, "the configuration must be a mapping of keys (experiment, models, "
                                            "pairs, ...), got %s", quote(root, qb, sizeof qb));
    if (check_keys(w, root, "", keys)) return -1;

    if (!(v = require(w, root, "", "experiment")) || get_str(w, v, "experiment", &c->experiment) ||
        nonempty(w, v, "experiment", c->experiment))
        return -1;
    if ((v = lookup(w, root, "output_dir", NULL))) {
        if (get_str(w, v, "output_dir", &c->output_dir) || nonempty(w, v, "output_dir", c->output_dir)) return -1;
    } else {
        size_t need = strlen(c->experiment) + 5;
        if (!(c->output_dir = malloc(need))) return fail_at(w, root->start_mark, "out of memory");
        snprintf(c->output_dir, need, "out/%s", c->experiment);
    }
    if ((v = lookup(w, root, "seed", NULL)) && get_u64(w, v, "seed", &c->seed)) return -1;
    if (!(v = require(w, root, "", "models")) || parse_models(w, v)) return -1;
    if (!(v = require(w, root, "", "pairs")) || parse_pairs(w, v)) return -1;
    if ((v = lookup(w, root, "alphas", NULL)) && parse_alphas(w, v)) return -1;
    if ((v = lookup(w, root, "padding", NULL)) && parse_padding(w, v)) return -1;
    if ((v = lookup(w, root, "generation", NULL)) && parse_generation(w, v)) return -1;
    if ((v = lookup(w, root, "capture", NULL)) && parse_capture(w, v)) return -1;
    if ((v = lookup(w, root, "backend", NULL))) {
        int b;
        if (get_enum(w, v, "backend", backends, &b)) return -1;
        c->backend = (am_backend)b;
    }
    if ((v = lookup(w, root, "cuda_compute", NULL)) && get_enum(w, v, "cuda_compute", computes, &c->cuda_f32))
        return -1;
    if ((v = lookup(w, root, "threads", NULL))) {
        long long x;
        if (get_int(w, v, "threads", 0, INT_MAX, &x)) return -1;
        c->threads = (int)x;
    }
    return 0;
}

/* ---- libyaml errors -------------------------------------------------------- */

static int yaml_error(walk *w, const yaml_parser_t *p) {
    if (p->error == YAML_MEMORY_ERROR) return am_fail(w->e, "%s: out of memory parsing YAML", w->name);
    if (p->error == YAML_READER_ERROR) {
        /* libyaml names the offending byte; for a bad continuation byte, point at
         * the start of the broken sequence instead, where the editor shows it. */
        size_t off = p->problem_offset < w->len ? p->problem_offset : w->len;
        if (strstr(p->problem, "trailing") || strstr(p->problem, "incomplete")) {
            while (off > 0 && ((unsigned char)w->text[off - 1] & 0xC0) == 0x80) off--;
            if (off > 0 && (unsigned char)w->text[off - 1] >= 0xC0) off--;
        }
        yaml_mark_t m = mark_of_offset(w->text, w->len, off);
        if (off < w->len)
            return fail_at(w, m, "invalid UTF-8 text: %s (byte 0x%02x at offset %zu)", p->problem,
                           (unsigned char)w->text[off], off);
        return fail_at(w, m, "invalid UTF-8 text: %s (at offset %zu)", p->problem, off);
    }
    const char *problem = p->problem ? p->problem : "unknown problem";
    if (p->context)
        return fail_at(w, p->problem_mark, "YAML syntax error: %s (%s at %zu:%zu)", problem, p->context,
                       p->context_mark.line + 1, p->context_mark.column + 1);
    return fail_at(w, p->problem_mark, "YAML syntax error: %s", problem);
}

static void parser_open(yaml_parser_t *p, const char *text, size_t len) {
    yaml_parser_set_input_string(p, (const unsigned char *)text, len);
    yaml_parser_set_encoding(p, YAML_UTF8_ENCODING);
}

/* Pass 1: syntax, encoding, aliases, number of documents. */
static int check_events(walk *w) {
    yaml_parser_t p;
    yaml_event_t ev;
    int rc = -1, docs = 0;
    if (!yaml_parser_initialize(&p)) return am_fail(w->e, "%s: out of memory parsing YAML", w->name);
    parser_open(&p, w->text, w->len);
    for (;;) {
        if (!yaml_parser_parse(&p, &ev)) {
            yaml_error(w, &p);
            goto out;
        }
        yaml_event_type_t t = ev.type;
        if (t == YAML_ALIAS_EVENT) {
            fail_at(w, ev.start_mark, "YAML aliases (*%s) are not supported; write the value out",
                    (const char *)ev.data.alias.anchor);
            yaml_event_delete(&ev);
            goto out;
        }
        if (t == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
            fail_at(w, ev.start_mark, "more than one YAML document; put the whole configuration in one");
            yaml_event_delete(&ev);
            goto out;
        }
        yaml_event_delete(&ev);
        if (t == YAML_STREAM_END_EVENT) break;
    }
    rc = 0;
out:
    yaml_parser_delete(&p);
    return rc;
}

/* ---- public ---------------------------------------------------------------- */

static void set_defaults(am_config *c) {
    memset(c, 0, sizeof *c);
    c->pad_left = 1;
    c->pad_id = -1;
    c->max_new_tokens = 100;
    c->temperature = 1.0;
    c->top_p = 1.0;
    c->compression = 4;
    c->backend = AM_BACKEND_AUTO;
}

int am_config_parse(am_config *c, const char *text, size_t len, const char *name, am_err *e) {
    static const double default_alphas[] = {0.0, 0.25, 0.5, 0.75, 1.0};
    yaml_parser_t p;
    yaml_document_t doc;
    int have_parser = 0, have_doc = 0, rc = -1;
    if (!name) name = "<config>";
    set_defaults(c);
    walk w = {name, text, len, &doc, c, e};

    if (!(c->path = strdup(name)) || !(c->text = malloc(len + 1))) {
        am_fail(e, "%s: out of memory", name);
        goto out;
    }
    memcpy(c->text, text, len); /* [len + 1], NUL-terminated */
    c->text[len] = '\0';
    c->text_len = len;
    if (!(c->alphas = malloc(sizeof default_alphas))) {
        am_fail(e, "%s: out of memory", name);
        goto out;
    }
    memcpy(c->alphas, default_alphas, sizeof default_alphas); /* [5] */
    c->n_alphas = 5;

    if (check_events(&w)) goto out;
    if (!yaml_parser_initialize(&p)) {
        am_fail(e, "%s: out of memory parsing YAML", name);
        goto out;
    }
    have_parser = 1;
    parser_open(&p, text, len);
    if (!yaml_parser_load(&p, &doc)) {
        yaml_error(&w, &p);
        goto out;
    }
    have_doc = 1;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || is_null(root)) {
        yaml_mark_t m = root ? root->start_mark : mark_of_offset(text, len, 0);
        fail_at(&w, m, "the configuration is empty (expected a mapping with at least experiment, models "
                       "and pairs)");
        goto out;
    }
    if (parse_root(&w, root)) goto out;
    rc = 0;
out:
    if (have_doc) yaml_document_delete(&doc);
    if (have_parser) yaml_parser_delete(&p);
    if (rc) am_config_free(c);
    return rc;
}

int am_config_load(am_config *c, const char *path, am_err *e) {
    char *buf = NULL;
    size_t len = 0;
    set_defaults(c);
    if (am_read_file(path, "the configuration", &buf, &len, e)) return -1;
    int rc = am_config_parse(c, buf, len, path, e);
    free(buf);
    return rc;
}

void am_config_free(am_config *c) {
    if (!c) return;
    for (int i = 0; c->models && i < c->n_models; i++) {
        free(c->models[i].name);
        free(c->models[i].checkpoint);
        free(c->models[i].tokenizer);
    }
    for (int i = 0; c->pairs && i < c->n_pairs; i++) {
        free(c->pairs[i].key);
        free(c->pairs[i].a);
        free(c->pairs[i].b);
    }
    free(c->models);
    free(c->pairs);
    free(c->path);
    free(c->text);
    free(c->experiment);
    free(c->output_dir);
    free(c->alphas);
    free(c->eos_ids);
    free(c->layers);
    free(c->heads);
    memset(c, 0, sizeof *c);
}
