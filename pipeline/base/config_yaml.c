/* Typed values out of a libyaml document tree, errors at file:line:col
 * (see config_yaml.h). */
#include "base/config_yaml.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- messages -------------------------------------------------------------- */

int cfg_fail_at(cfg_walk *w, yaml_mark_t m, const char *fmt, ...) {
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return am_fail_code(w->e, AM_E_USAGE, "%s:%zu:%zu: %s", w->name, m.line + 1, m.column + 1, msg);
}

void cfg_warn_at(cfg_walk *w, yaml_mark_t m, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *buf = w->c->warnings;
    size_t used = strlen(buf), cap = sizeof w->c->warnings;
    if (used + 1 >= cap) return;
    int n = snprintf(buf + used, cap - used, "%s:%zu:%zu: warning: %s\n", w->name, m.line + 1, m.column + 1, msg);
    if (n < 0 || (size_t)n >= cap - used) { /* truncated: end on a line break */
        buf[cap - 2] = '\n';
        buf[cap - 1] = '\0';
    }
}

/* Line and column (0-based, columns in UTF-8 characters) of byte offset off. */
yaml_mark_t cfg_mark_of_offset(const char *text, size_t len, size_t off) {
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

static const char *cfg_node_kind(const yaml_node_t *n) {
    switch (n->type) {
    case YAML_MAPPING_NODE: return "a mapping";
    case YAML_SEQUENCE_NODE: return "a list";
    default: return "a scalar";
    }
}

int cfg_is_null(const yaml_node_t *n) {
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return 0;
    const char *v = (const char *)n->data.scalar.value;
    return n->data.scalar.length == 0 || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
           !strcmp(v, "NULL");
}

/* A short quotation of a scalar for messages ("got 'abc'"). */
const char *cfg_quote(const yaml_node_t *n, char *buf, size_t cap) {
    if (n->type != YAML_SCALAR_NODE) return cfg_node_kind(n);
    if (cfg_is_null(n)) return "an empty value";
    const char *v = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    if (len > 40) snprintf(buf, cap, "'%.37s...'", v);
    else snprintf(buf, cap, "'%s'", v);
    return buf;
}

/* ---- mappings: allowed keys, duplicates, cfg_lookup --------------------------- */

/* Checks that map is a mapping whose keys are plain scalars from allowed[] without
 * duplicates. where: "" for the top level, else the mapping's path. */
int cfg_check_keys(cfg_walk *w, yaml_node_t *map, const char *where, const char *const *allowed) {
    char list[512] = "";
    for (int i = 0; allowed[i]; i++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", allowed[i]);
    }
    yaml_node_pair_t *beg = map->data.mapping.pairs.start, *end = map->data.mapping.pairs.top;
    for (yaml_node_pair_t *p = beg; p < end; p++) {
        yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
        if (k->type != YAML_SCALAR_NODE)
            return cfg_fail_at(w, k->start_mark, "keys must be plain names, got %s%s%s%s", cfg_node_kind(k),
                               *where ? " in '" : "", where, *where ? "'" : "");
        const char *key = (const char *)k->data.scalar.value;
        int known = 0;
        for (int i = 0; allowed[i] && !known; i++) known = !strcmp(key, allowed[i]);
        if (!known) {
            char qb[64];
            if (*where)
                return cfg_fail_at(w, k->start_mark, "unknown key %s in '%s' (expected one of %s)",
                                   cfg_quote(k, qb, sizeof qb), where, list);
            return cfg_fail_at(w, k->start_mark, "unknown top-level key %s (expected one of %s)",
                               cfg_quote(k, qb, sizeof qb), list);
        }
        for (yaml_node_pair_t *q = beg; q < p; q++) {
            yaml_node_t *k2 = yaml_document_get_node(w->doc, q->key);
            if (k2->type == YAML_SCALAR_NODE && !strcmp((const char *)k2->data.scalar.value, key))
                return cfg_fail_at(w, k->start_mark, "duplicate key '%s'%s%s%s (first at %zu:%zu)", key,
                                   *where ? " in '" : "", where, *where ? "'" : "", k2->start_mark.line + 1,
                                   k2->start_mark.column + 1);
        }
    }
    return 0;
}

/* The value of key in map, or NULL when absent or null. *key_node gets the key. */
yaml_node_t *cfg_lookup(cfg_walk *w, yaml_node_t *map, const char *key, yaml_node_t **key_node) {
    if (key_node) *key_node = NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
        if (k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, key)) {
            if (key_node) *key_node = k;
            yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
            return cfg_is_null(v) ? NULL : v;
        }
    }
    return NULL;
}

/* Like cfg_lookup for a required key: fails at the key (present but empty) or at the
 * mapping (absent). */
yaml_node_t *cfg_require(cfg_walk *w, yaml_node_t *map, const char *where, const char *key) {
    yaml_node_t *k;
    yaml_node_t *v = cfg_lookup(w, map, key, &k);
    if (v) return v;
    if (k)
        cfg_fail_at(w, k->start_mark, "required key '%s'%s%s%s has no value", key, *where ? " in '" : "", where,
                    *where ? "'" : "");
    else if (*where) cfg_fail_at(w, map->start_mark, "missing required key '%s' in '%s'", key, where);
    else cfg_fail_at(w, map->start_mark, "missing required top-level key '%s'", key);
    return NULL;
}

int cfg_expect_mapping(cfg_walk *w, yaml_node_t *n, const char *path) {
    if (n->type == YAML_MAPPING_NODE) return 0;
    char qb[64];
    return cfg_fail_at(w, n->start_mark, "expected a mapping for '%s', got %s", path, cfg_quote(n, qb, sizeof qb));
}

int cfg_expect_list(cfg_walk *w, yaml_node_t *n, const char *path, int allow_empty) {
    char qb[64];
    if (n->type != YAML_SEQUENCE_NODE)
        return cfg_fail_at(w, n->start_mark, "expected a list for '%s', got %s", path, cfg_quote(n, qb, sizeof qb));
    if (!allow_empty && n->data.sequence.items.top == n->data.sequence.items.start)
        return cfg_fail_at(w, n->start_mark, "'%s' must not be empty", path);
    return 0;
}

int cfg_list_len(yaml_node_t *n) { return (int)(n->data.sequence.items.top - n->data.sequence.items.start); }
yaml_node_t *cfg_list_at(cfg_walk *w, yaml_node_t *n, int i) {
    return yaml_document_get_node(w->doc, n->data.sequence.items.start[i]);
}

/* ---- scalars --------------------------------------------------------------- */

/* Any scalar as a string (a number such as `name: 8` is the string "8"). */
int cfg_get_str(cfg_walk *w, yaml_node_t *n, const char *path, char **out) {
    char qb[64];
    if (n->type != YAML_SCALAR_NODE)
        return cfg_fail_at(w, n->start_mark, "expected a string for '%s', got %s", path, cfg_quote(n, qb, sizeof qb));
    size_t len = n->data.scalar.length;
    if (memchr(n->data.scalar.value, '\0', len))
        return cfg_fail_at(w, n->start_mark, "'%s' contains a NUL character", path);
    char *s = malloc(len + 1);
    if (!s) return am_fail_code(w->e, AM_E_NOMEM, "%s: out of memory reading '%s'", w->name, path);
    memcpy(s, n->data.scalar.value, len);
    s[len] = '\0';
    free(*out);
    *out = s;
    return 0;
}

static int cfg_plain_scalar(cfg_walk *w, yaml_node_t *n, const char *what, const char *path) {
    char qb[64];
    if (n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) return 0;
    if (n->type == YAML_SCALAR_NODE)
        return cfg_fail_at(w, n->start_mark, "expected %s for '%s', got the quoted string %s", what, path,
                           cfg_quote(n, qb, sizeof qb));
    return cfg_fail_at(w, n->start_mark, "expected %s for '%s', got %s", what, path, cfg_quote(n, qb, sizeof qb));
}

/* Decimal integer in [lo, hi]. */
int cfg_get_int(cfg_walk *w, yaml_node_t *n, const char *path, long long lo, long long hi, long long *out) {
    char qb[64];
    if (cfg_plain_scalar(w, n, "an integer", path)) return -1;
    const char *v = (const char *)n->data.scalar.value;
    const char *d = v + (*v == '-' || *v == '+');
    int digits = *d != '\0';
    for (const char *p = d; *p; p++) digits &= (*p >= '0' && *p <= '9');
    if (!digits)
        return cfg_fail_at(w, n->start_mark, "expected an integer for '%s', got %s", path, cfg_quote(n, qb, sizeof qb));
    errno = 0;
    long long x = strtoll(v, NULL, 10);
    if (errno == ERANGE || x < lo || x > hi)
        return cfg_fail_at(w, n->start_mark, "'%s' is %s, outside [%lld, %lld]", path, cfg_quote(n, qb, sizeof qb), lo,
                           hi);
    *out = x;
    return 0;
}

int cfg_get_u64(cfg_walk *w, yaml_node_t *n, const char *path, uint64_t *out) {
    char qb[64];
    if (cfg_plain_scalar(w, n, "an unsigned integer", path)) return -1;
    const char *v = (const char *)n->data.scalar.value;
    const char *d = v + (*v == '+');
    int digits = *d != '\0';
    for (const char *p = d; *p; p++) digits &= (*p >= '0' && *p <= '9');
    if (!digits)
        return cfg_fail_at(w, n->start_mark, "expected an unsigned integer for '%s', got %s", path,
                           cfg_quote(n, qb, sizeof qb));
    errno = 0;
    unsigned long long x = strtoull(d, NULL, 10);
    if (errno == ERANGE)
        return cfg_fail_at(w, n->start_mark, "'%s' is %s, larger than %llu", path, cfg_quote(n, qb, sizeof qb),
                           (unsigned long long)UINT64_MAX);
    *out = (uint64_t)x;
    return 0;
}

/* Finite decimal number: [-+]? digits [. digits] [e [-+] digits] (at least one digit). */
int cfg_get_num(cfg_walk *w, yaml_node_t *n, const char *path, double *out) {
    char qb[64];
    if (cfg_plain_scalar(w, n, "a number", path)) return -1;
    const char *v = (const char *)n->data.scalar.value, *p = v;
    if (*p == '-' || *p == '+') p++;
    const char *lower = p;
    if (!strcmp(lower, ".inf") || !strcmp(lower, ".Inf") || !strcmp(lower, ".INF") || !strcmp(lower, ".nan") ||
        !strcmp(lower, ".NaN") || !strcmp(lower, ".NAN") || !strcasecmp(lower, "inf") ||
        !strcasecmp(lower, "infinity") || !strcasecmp(lower, "nan"))
        return cfg_fail_at(w, n->start_mark, "'%s' must be a finite number, got %s", path, cfg_quote(n, qb, sizeof qb));
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
        return cfg_fail_at(w, n->start_mark, "expected a number for '%s', got %s", path, cfg_quote(n, qb, sizeof qb));
    errno = 0;
    double x = strtod(v, NULL);
    if ((errno == ERANGE && fabs(x) > 1.0) || !isfinite(x))
        return cfg_fail_at(w, n->start_mark, "'%s' is %s, out of the range of a double", path,
                           cfg_quote(n, qb, sizeof qb));
    *out = x;
    return 0;
}

int cfg_get_bool(cfg_walk *w, yaml_node_t *n, const char *path, int *out) {
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", NULL};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", NULL};
    char qb[64];
    if (cfg_plain_scalar(w, n, "true or false", path)) return -1;
    const char *v = (const char *)n->data.scalar.value;
    for (int i = 0; yes[i]; i++)
        if (!strcmp(v, yes[i])) return *out = 1, 0;
    for (int i = 0; no[i]; i++)
        if (!strcmp(v, no[i])) return *out = 0, 0;
    return cfg_fail_at(w, n->start_mark, "expected true or false for '%s', got %s", path, cfg_quote(n, qb, sizeof qb));
}

/* One of choices[] (NULL-terminated); *out = its index. */
int cfg_get_enum(cfg_walk *w, yaml_node_t *n, const char *path, const char *const *choices, int *out) {
    char qb[64], list[128] = "";
    for (int i = 0; choices[i]; i++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", choices[i]);
    }
    if (n->type == YAML_SCALAR_NODE)
        for (int i = 0; choices[i]; i++)
            if (!strcmp((const char *)n->data.scalar.value, choices[i])) return *out = i, 0;
    return cfg_fail_at(w, n->start_mark, "'%s' must be one of %s, got %s", path, list, cfg_quote(n, qb, sizeof qb));
}

/* A name usable as a directory or HDF5 label: [A-Za-z0-9._-]+, not "." or
 * "..", at most 200 bytes (a directory name holds 255, and shards add to it). */
int cfg_check_name(cfg_walk *w, yaml_node_t *n, const char *path, const char *s) {
    char qb[64];
    if (strlen(s) > 200)
        return cfg_fail_at(w, n->start_mark, "'%s' is %zu characters long (%s); at most 200", path, strlen(s),
                           cfg_quote(n, qb, sizeof qb));
    int ok = *s != '\0' && strcmp(s, ".") && strcmp(s, "..");
    for (const char *p = s; *p && ok; p++)
        ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ||
             *p == '_' || *p == '-';
    if (ok) return 0;
    return cfg_fail_at(w, n->start_mark, "'%s' is %s; use letters, digits, '.', '_' and '-' only", path,
                       cfg_quote(n, qb, sizeof qb));
}

int cfg_nonempty(cfg_walk *w, yaml_node_t *n, const char *path, const char *s) {
    if (*s) return 0;
    return cfg_fail_at(w, n->start_mark, "'%s' must not be empty", path);
}

/* "all" -> *out stays NULL; else a non-empty list of unique ints in [0, INT_MAX]. */
int cfg_get_index_list(cfg_walk *w, yaml_node_t *n, const char *path, int **out, int *count) {
    if (n->type == YAML_SCALAR_NODE && !strcmp((const char *)n->data.scalar.value, "all")) return 0;
    char qb[64];
    if (n->type != YAML_SEQUENCE_NODE)
        return cfg_fail_at(w, n->start_mark, "expected \"all\" or a list of indices for '%s', got %s", path,
                           cfg_quote(n, qb, sizeof qb));
    if (cfg_expect_list(w, n, path, 0)) return -1;
    int cnt = cfg_list_len(n);
    int *v = calloc((size_t)cnt, sizeof *v); /* [cnt] */
    if (!v) return am_fail_code(w->e, AM_E_NOMEM, "%s: out of memory reading '%s'", w->name, path);
    for (int i = 0; i < cnt; i++) {
        char ip[96];
        snprintf(ip, sizeof ip, "%s[%d]", path, i);
        yaml_node_t *it = cfg_list_at(w, n, i);
        long long x;
        if (cfg_get_int(w, it, ip, 0, INT_MAX, &x)) goto fail;
        v[i] = (int)x;
        for (int j = 0; j < i; j++)
            if (v[j] == v[i]) {
                cfg_fail_at(w, it->start_mark, "duplicate index %d in '%s' (same as %s[%d])", v[i], path, path, j);
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
