/* Hashes of the top-level parts of a config (see config_part.h). */
#include <string.h>
#include <yaml.h>

#include "base/config_part.h"
#include "base/hash.h"

/* Fold node n of doc into h: a tag per kind, then lengths and bytes. A
 * mapping's keys named in skip (NULL-terminated, top of n only) are left out. */
static uint64_t fold_skip(yaml_document_t *doc, yaml_node_t *n, uint64_t h, int depth, const char *const *skip);
static uint64_t fold(yaml_document_t *doc, yaml_node_t *n, uint64_t h, int depth) {
    return fold_skip(doc, n, h, depth, NULL);
}
static uint64_t fold_skip(yaml_document_t *doc, yaml_node_t *n, uint64_t h, int depth, const char *const *skip) {
    if (!n || depth > 64) return am_fnv1a(h, "?", 1);
    if (n->type == YAML_SCALAR_NODE) {
        uint64_t len = n->data.scalar.length;
        h = am_fnv1a(h, "s", 1);
        h = am_fnv1a(h, &len, sizeof len);
        return am_fnv1a(h, n->data.scalar.value, n->data.scalar.length);
    }
    if (n->type == YAML_SEQUENCE_NODE) {
        h = am_fnv1a(h, "[", 1);
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++)
            h = fold(doc, yaml_document_get_node(doc, *it), h, depth + 1);
        return am_fnv1a(h, "]", 1);
    }
    if (n->type == YAML_MAPPING_NODE) {
        h = am_fnv1a(h, "{", 1);
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
            yaml_node_t *k = yaml_document_get_node(doc, p->key);
            int skipped = 0;
            for (int i = 0; skip && skip[i] && k && k->type == YAML_SCALAR_NODE; i++)
                skipped |= !strcmp((const char *)k->data.scalar.value, skip[i]);
            if (skipped) continue;
            h = fold(doc, k, h, depth + 1);
            h = fold(doc, yaml_document_get_node(doc, p->value), h, depth + 1);
        }
        return am_fnv1a(h, "}", 1);
    }
    return am_fnv1a(h, "-", 1);
}

/* The entry of sequence n whose mapping has scalar field `field` equal to want, or NULL. */
static yaml_node_t *entry_with(yaml_document_t *doc, yaml_node_t *n, const char *field, const char *want) {
    if (!n || n->type != YAML_SEQUENCE_NODE) return NULL;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *m = yaml_document_get_node(doc, *it);
        if (!m || m->type != YAML_MAPPING_NODE) continue;
        for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
            yaml_node_t *k = yaml_document_get_node(doc, p->key), *v = yaml_document_get_node(doc, p->value);
            if (k && v && k->type == YAML_SCALAR_NODE && v->type == YAML_SCALAR_NODE &&
                !strcmp((const char *)k->data.scalar.value, field) && !strcmp((const char *)v->data.scalar.value, want))
                return m;
        }
    }
    return NULL;
}

int am_config_parts(const am_config *c, const char *pair_key, const char *model, am_config_part *parts, am_err *e) {
    /* the checkpoint and tokenizer paths: their contents are fingerprinted instead */
    static const char *const model_skip[] = {"checkpoint", "tokenizer", NULL};
    yaml_parser_t p;
    yaml_document_t doc;
    int n = 0;
    if (!yaml_parser_initialize(&p)) return am_fail_code(e, AM_E_NOMEM, "%s: out of memory parsing YAML", c->path);
    yaml_parser_set_input_string(&p, (const unsigned char *)c->text, c->text_len);
    yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
    if (!yaml_parser_load(&p, &doc)) {
        yaml_parser_delete(&p);
        return am_fail_code(e, AM_E_CORRUPT, "%s: cannot parse the YAML again", c->path);
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root && root->type == YAML_MAPPING_NODE)
        for (yaml_node_pair_t *kv = root->data.mapping.pairs.start;
             kv < root->data.mapping.pairs.top && n < AM_MAX_PARTS; kv++) {
            yaml_node_t *k = yaml_document_get_node(&doc, kv->key), *v = yaml_document_get_node(&doc, kv->value);
            if (!k || k->type != YAML_SCALAR_NODE) continue;
            snprintf(parts[n].key, sizeof parts[n].key, "%s", (const char *)k->data.scalar.value);
            const char *const *skip = NULL;
            if (pair_key && !strcmp(parts[n].key, "pairs")) v = entry_with(&doc, v, "key", pair_key);
            if (model && !strcmp(parts[n].key, "models")) v = entry_with(&doc, v, "name", model), skip = model_skip;
            am_hash_hex(fold_skip(&doc, v, AM_FNV_INIT, 0, skip), parts[n].hash);
            n++;
        }
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    return n;
}

const char *am_config_part_hash(const am_config_part *parts, int n, const char *key) {
    for (int i = 0; i < n; i++)
        if (!strcmp(parts[i].key, key)) return parts[i].hash;
    return "-";
}
