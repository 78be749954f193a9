/* The parts of a config, hashed one by one: what a stage's content stamp
 * takes from the config (stage/stamp.h). A part is one top-level key of the
 * YAML document; its hash covers the key's value as a tree (scalars,
 * sequences, mappings in document order), so formatting, comments and the
 * other keys do not change it. */
#ifndef AM_CONFIG_PART_H
#define AM_CONFIG_PART_H

#include "base/config.h"

enum { AM_MAX_PARTS = 64 };

typedef struct am_config_part {
    char key[64];  /* top-level key */
    char hash[17]; /* of its value */
} am_config_part;

/* Every top-level key of c->text with the hash of its value, in document
 * order, into parts[AM_MAX_PARTS]; returns their count, -1 on a YAML or
 * memory failure (the config was parsed before, so only memory can fail).
 * pair_key: when not NULL, the value of "pairs" is the one entry whose key
 * is pair_key (a shard); model: when not NULL, the value of "models" is the
 * entry of that model without its checkpoint and tokenizer paths (whose
 * contents are fingerprinted instead), so a per-model setting is a part. */
int am_config_parts(const am_config *c, const char *pair_key, const char *model, am_config_part *parts, am_err *e);

/* The hash of key among parts; "-" (absent) when the config lacks it. */
const char *am_config_part_hash(const am_config_part *parts, int n, const char *key);

#endif
