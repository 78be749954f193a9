/* Reading typed values out of a libyaml document tree for the configuration
 * loader (config.c): key checks and lookups in mappings, lists, and scalars
 * as strings, integers, numbers, booleans, enums and names, each refusing a
 * bad value with "FILE:LINE:COL: message" (1-based, columns in characters)
 * and code AM_E_USAGE. Internal to pipeline/base. */
#ifndef AM_CONFIG_YAML_H
#define AM_CONFIG_YAML_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "base/config.h"

/* Walking context: the text being read and where results and errors go. */
typedef struct cfg_walk {
    const char *name; /* file name used in messages */
    const char *text; /* the YAML text [len] */
    size_t len;
    yaml_document_t *doc;
    am_config *c;
    am_err *e;
} cfg_walk;

/* Fail with "NAME:LINE:COL: message" (AM_E_USAGE); returns -1. */
int cfg_fail_at(cfg_walk *w, yaml_mark_t m, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Append "NAME:LINE:COL: warning: message" to c->warnings. */
void cfg_warn_at(cfg_walk *w, yaml_mark_t m, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Line and column (0-based, columns in UTF-8 characters) of byte offset off. */
yaml_mark_t cfg_mark_of_offset(const char *text, size_t len, size_t off);

/* A plain empty, ~ or null scalar. */
int cfg_is_null(const yaml_node_t *n);
/* A short quotation of a node for messages ("'abc'", "a list"). */
const char *cfg_quote(const yaml_node_t *n, char *buf, size_t cap);

/* map is a mapping whose keys are plain scalars from allowed[] (NULL-
 * terminated) without duplicates. where: "" for the top level, else the
 * mapping's path. */
int cfg_check_keys(cfg_walk *w, yaml_node_t *map, const char *where, const char *const *allowed);
/* The value of key in map, or NULL when absent or null; *key_node gets the key. */
yaml_node_t *cfg_lookup(cfg_walk *w, yaml_node_t *map, const char *key, yaml_node_t **key_node);
/* cfg_lookup for a required key: NULL after failing at the key (present but
 * empty) or at the mapping (absent). */
yaml_node_t *cfg_require(cfg_walk *w, yaml_node_t *map, const char *where, const char *key);
int cfg_expect_mapping(cfg_walk *w, yaml_node_t *n, const char *path);
int cfg_expect_list(cfg_walk *w, yaml_node_t *n, const char *path, int allow_empty);
int cfg_list_len(yaml_node_t *n);
yaml_node_t *cfg_list_at(cfg_walk *w, yaml_node_t *n, int i);

/* Any scalar as a string (`name: 8` is "8"); replaces and frees *out. */
int cfg_get_str(cfg_walk *w, yaml_node_t *n, const char *path, char **out);
/* Decimal integer in [lo, hi]. */
int cfg_get_int(cfg_walk *w, yaml_node_t *n, const char *path, long long lo, long long hi, long long *out);
int cfg_get_u64(cfg_walk *w, yaml_node_t *n, const char *path, uint64_t *out);
/* Finite decimal number. */
int cfg_get_num(cfg_walk *w, yaml_node_t *n, const char *path, double *out);
int cfg_get_bool(cfg_walk *w, yaml_node_t *n, const char *path, int *out);
/* One of choices[] (NULL-terminated); *out = its index. */
int cfg_get_enum(cfg_walk *w, yaml_node_t *n, const char *path, const char *const *choices, int *out);
/* s is usable as a directory or HDF5 label: [A-Za-z0-9._-]+, not "." or "..". */
int cfg_check_name(cfg_walk *w, yaml_node_t *n, const char *path, const char *s);
int cfg_nonempty(cfg_walk *w, yaml_node_t *n, const char *path, const char *s);
/* "all" -> *out stays NULL; else a non-empty list of unique ints in [0, INT_MAX]. */
int cfg_get_index_list(cfg_walk *w, yaml_node_t *n, const char *path, int **out, int *count);

#endif
