/* Experiment configuration: YAML text -> am_config, with defaults and validation.
 *
 * Two passes over the text with libyaml:
 *   1. the event parser, to report syntax/encoding errors and reject aliases at
 *      the position where they occur;
 *   2. the document loader, whose node tree (with start marks) is walked against
 *      the schema below, with the typed readers of config_yaml.h.
 * Every error names "FILE:LINE:COL:" (1-based, columns counted in characters)
 * and has code AM_E_USAGE: the user must change the configuration. */
#include "base/config.h"
#include "base/config_yaml.h"
#include "base/fs.h"
#include "base/hub.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static int oom(cfg_walk *w, const char *what) {
    return am_fail_code(w->e, AM_E_NOMEM, "%s: out of memory reading '%s'", w->name, what);
}

/* ---- sections -------------------------------------------------------------- */

static int parse_models(cfg_walk *w, yaml_node_t *n) {
    static const char *const keys[] = {"name", "checkpoint", "tokenizer", "revision", NULL};
    am_config *c = w->c;
    if (cfg_expect_list(w, n, "models", 0)) return -1;
    int cnt = cfg_list_len(n);
    c->models = calloc((size_t)cnt, sizeof *c->models); /* [cnt] */
    if (!c->models) return oom(w, "models");
    c->n_models = cnt;
    for (int i = 0; i < cnt; i++) {
        char path[64], kp[96];
        snprintf(path, sizeof path, "models[%d]", i);
        yaml_node_t *m = cfg_list_at(w, n, i), *v;
        am_model_cfg *mc = &c->models[i];
        if (cfg_expect_mapping(w, m, path) || cfg_check_keys(w, m, path, keys)) return -1;

        snprintf(kp, sizeof kp, "%s.name", path);
        if (!(v = cfg_require(w, m, path, "name")) || cfg_get_str(w, v, kp, &mc->name) ||
            cfg_check_name(w, v, kp, mc->name))
            return -1;
        for (int j = 0; j < i; j++)
            if (!strcmp(c->models[j].name, mc->name))
                return cfg_fail_at(w, v->start_mark, "duplicate model name '%s' in '%s' (same as models[%d])", mc->name,
                                   kp, j);

        snprintf(kp, sizeof kp, "%s.checkpoint", path);
        if (!(v = cfg_require(w, m, path, "checkpoint")) || cfg_get_str(w, v, kp, &mc->checkpoint) ||
            cfg_nonempty(w, v, kp, mc->checkpoint))
            return -1;

        snprintf(kp, sizeof kp, "%s.tokenizer", path);
        if ((v = cfg_lookup(w, m, "tokenizer", NULL))) {
            if (cfg_get_str(w, v, kp, &mc->tokenizer) || cfg_nonempty(w, v, kp, mc->tokenizer)) return -1;
        } else if (!(mc->tokenizer = strdup(mc->checkpoint))) {
            return oom(w, path);
        }
        snprintf(kp, sizeof kp, "%s.revision", path);
        if ((v = cfg_lookup(w, m, "revision", NULL)) &&
            (cfg_get_str(w, v, kp, &mc->revision) || cfg_nonempty(w, v, kp, mc->revision)))
            return -1;
    }
    return 0;
}

static int parse_pairs(cfg_walk *w, yaml_node_t *n) {
    static const char *const keys[] = {"key", "a", "b", NULL};
    am_config *c = w->c;
    if (cfg_expect_list(w, n, "pairs", 0)) return -1;
    int cnt = cfg_list_len(n);
    c->pairs = calloc((size_t)cnt, sizeof *c->pairs); /* [cnt] */
    if (!c->pairs) return oom(w, "pairs");
    c->n_pairs = cnt;
    for (int i = 0; i < cnt; i++) {
        char path[64], kp[96];
        snprintf(path, sizeof path, "pairs[%d]", i);
        yaml_node_t *m = cfg_list_at(w, n, i), *v;
        am_pair_cfg *pc = &c->pairs[i];
        if (cfg_expect_mapping(w, m, path) || cfg_check_keys(w, m, path, keys)) return -1;

        snprintf(kp, sizeof kp, "%s.key", path);
        if (!(v = cfg_require(w, m, path, "key")) || cfg_get_str(w, v, kp, &pc->key) ||
            cfg_check_name(w, v, kp, pc->key))
            return -1;
        for (int j = 0; j < i; j++)
            if (!strcmp(c->pairs[j].key, pc->key))
                return cfg_fail_at(w, v->start_mark, "duplicate pair key '%s' in '%s' (same as pairs[%d])", pc->key, kp,
                                   j);

        snprintf(kp, sizeof kp, "%s.a", path);
        if (!(v = cfg_require(w, m, path, "a")) || cfg_get_str(w, v, kp, &pc->a) || cfg_nonempty(w, v, kp, pc->a))
            return -1;
        snprintf(kp, sizeof kp, "%s.b", path);
        if (!(v = cfg_require(w, m, path, "b")) || cfg_get_str(w, v, kp, &pc->b) || cfg_nonempty(w, v, kp, pc->b))
            return -1;
    }
    return 0;
}

static int parse_alphas(cfg_walk *w, yaml_node_t *n) {
    am_config *c = w->c;
    if (cfg_expect_list(w, n, "alphas", 0)) return -1;
    int cnt = cfg_list_len(n);
    double *a = calloc((size_t)cnt, sizeof *a); /* [cnt] */
    if (!a) return oom(w, "alphas");
    free(c->alphas);
    c->alphas = a;
    c->n_alphas = cnt;
    for (int i = 0; i < cnt; i++) {
        char path[64];
        snprintf(path, sizeof path, "alphas[%d]", i);
        yaml_node_t *it = cfg_list_at(w, n, i);
        if (cfg_get_num(w, it, path, &a[i])) return -1;
        for (int j = 0; j < i; j++)
            if (a[j] == a[i])
                return cfg_fail_at(w, it->start_mark, "duplicate alpha %g in '%s' (same as alphas[%d])", a[i], path, j);
        if (a[i] < 0.0 || a[i] > 1.0)
            cfg_warn_at(w, it->start_mark, "alpha %g in '%s' is outside [0, 1] (extrapolation beyond the prompts)",
                        a[i], path);
    }
    return 0;
}

static int parse_padding(cfg_walk *w, yaml_node_t *n) {
    static const char *const keys[] = {"side", "pad_id", "mask", NULL};
    static const char *const sides[] = {"left", "right", NULL};
    am_config *c = w->c;
    yaml_node_t *v;
    if (cfg_expect_mapping(w, n, "padding") || cfg_check_keys(w, n, "padding", keys)) return -1;
    if ((v = cfg_lookup(w, n, "side", NULL))) {
        int side;
        if (cfg_get_enum(w, v, "padding.side", sides, &side)) return -1;
        c->pad_left = side == 0;
    }
    if ((v = cfg_lookup(w, n, "pad_id", NULL))) {
        long long x;
        if (cfg_get_int(w, v, "padding.pad_id", 0, INT32_MAX, &x)) return -1;
        c->pad_id = (int32_t)x;
    }
    if ((v = cfg_lookup(w, n, "mask", NULL)) && cfg_get_bool(w, v, "padding.mask", &c->mask_pads)) return -1;
    return 0;
}

/* template: none | chat | chat-nothink; align: left | right | template
 * (left/right: the same as padding.side, which may not be given as well). */
static int parse_template(cfg_walk *w, yaml_node_t *root) {
    static const char *const templates[] = {"none", "chat", "chat-nothink", NULL};
    static const char *const aligns[] = {"left", "right", "template", NULL};
    am_config *c = w->c;
    yaml_node_t *v, *pad = cfg_lookup(w, root, "padding", NULL);
    int align;
    if ((v = cfg_lookup(w, root, "template", NULL)) && cfg_get_enum(w, v, "template", templates, &c->chat_template))
        return -1;
    if (!(v = cfg_lookup(w, root, "align", NULL))) return 0;
    if (cfg_get_enum(w, v, "align", aligns, &align)) return -1;
    if (pad && pad->type == YAML_MAPPING_NODE && cfg_lookup(w, pad, "side", NULL))
        return cfg_fail_at(w, v->start_mark, "'align' and 'padding.side' are both set; keep 'align'");
    if (align == 2 && !c->chat_template)
        return cfg_fail_at(w, v->start_mark, "'align: template' needs 'template: chat' or 'template: chat-nothink'");
    if (align == 2 && c->mask_pads)
        return cfg_fail_at(w, v->start_mark,
                           "'align: template' puts pads inside the prompt, where 'padding.mask: true' cannot mask "
                           "them; use 'padding.mask: false' or 'align: left'");
    c->pad_left = align == 0;
    c->align_template = align == 2;
    return 0;
}

static int parse_generation(cfg_walk *w, yaml_node_t *n) {
    static const char *const keys[] = {"max_new_tokens", "mode",    "temperature",  "top_p", "top_k",
                                       "eos_ids",        "teacher", "teacher_text", NULL};
    static const char *const modes[] = {"greedy", "sample", "checkpoint", NULL};
    static const char *const teachers[] = {"none", "alpha1", "alpha0", "text", NULL};
    am_config *c = w->c;
    yaml_node_t *v, *vt, *vp;
    long long x;
    if (cfg_expect_mapping(w, n, "generation") || cfg_check_keys(w, n, "generation", keys)) return -1;
    if ((v = cfg_lookup(w, n, "max_new_tokens", NULL))) {
        /* positions are int32 everywhere; no Qwen3 model has more than a million */
        if (cfg_get_int(w, v, "generation.max_new_tokens", 0, 1000000, &x)) return -1;
        c->max_new_tokens = (int)x;
    }
    if ((v = cfg_lookup(w, n, "mode", NULL)) && cfg_get_enum(w, v, "generation.mode", modes, &c->sample)) return -1;
    if ((vt = cfg_lookup(w, n, "temperature", NULL))) {
        if (cfg_get_num(w, vt, "generation.temperature", &c->temperature)) return -1;
        if (!(c->temperature > 0.0))
            return cfg_fail_at(w, vt->start_mark, "'generation.temperature' must be > 0, got %g", c->temperature);
        if (c->sample != AM_GEN_SAMPLE)
            cfg_warn_at(w, vt->start_mark, "'generation.temperature' has no effect with mode %s", modes[c->sample]);
    }
    if ((vp = cfg_lookup(w, n, "top_p", NULL))) {
        if (cfg_get_num(w, vp, "generation.top_p", &c->top_p)) return -1;
        if (!(c->top_p > 0.0 && c->top_p <= 1.0))
            return cfg_fail_at(w, vp->start_mark, "'generation.top_p' must be in (0, 1], got %g", c->top_p);
        if (c->sample != AM_GEN_SAMPLE)
            cfg_warn_at(w, vp->start_mark, "'generation.top_p' has no effect with mode %s", modes[c->sample]);
    }
    if ((vp = cfg_lookup(w, n, "top_k", NULL))) {
        if (cfg_get_int(w, vp, "generation.top_k", 0, INT_MAX, &x)) return -1;
        c->top_k = (int)x;
        if (c->sample != AM_GEN_SAMPLE)
            cfg_warn_at(w, vp->start_mark, "'generation.top_k' has no effect with mode %s", modes[c->sample]);
    }
    if ((v = cfg_lookup(w, n, "teacher", NULL)) && cfg_get_enum(w, v, "generation.teacher", teachers, &c->teacher))
        return -1;
    if ((vp = cfg_lookup(w, n, "teacher_text", NULL))) {
        if (cfg_get_str(w, vp, "generation.teacher_text", &c->teacher_text) ||
            cfg_nonempty(w, vp, "generation.teacher_text", c->teacher_text))
            return -1;
        if (c->teacher != AM_TEACH_TEXT)
            return cfg_fail_at(w, vp->start_mark, "'generation.teacher_text' needs 'generation.teacher: text'");
    } else if (c->teacher == AM_TEACH_TEXT) {
        return cfg_fail_at(w, n->start_mark, "'generation.teacher: text' needs 'generation.teacher_text'");
    }
    if ((v = cfg_lookup(w, n, "eos_ids", NULL))) {
        if (cfg_expect_list(w, v, "generation.eos_ids", 1)) return -1;
        int cnt = cfg_list_len(v);
        /* [max(cnt,1)]: non-NULL even when empty (an explicit empty list = no EOS) */
        c->eos_ids = calloc((size_t)(cnt ? cnt : 1), sizeof *c->eos_ids);
        if (!c->eos_ids) return oom(w, "generation.eos_ids");
        c->n_eos = cnt;
        for (int i = 0; i < cnt; i++) {
            char path[64];
            snprintf(path, sizeof path, "generation.eos_ids[%d]", i);
            if (cfg_get_int(w, cfg_list_at(w, v, i), path, 0, INT32_MAX, &x)) return -1;
            c->eos_ids[i] = (int32_t)x;
        }
    }
    return 0;
}

static int parse_capture(cfg_walk *w, yaml_node_t *n) {
    static const char *const keys[] = {"layers", "heads", "dtype", "compression", NULL};
    static const char *const dtypes[] = {"float32", "float16", NULL};
    am_config *c = w->c;
    yaml_node_t *v;
    if (cfg_expect_mapping(w, n, "capture") || cfg_check_keys(w, n, "capture", keys)) return -1;
    if ((v = cfg_lookup(w, n, "layers", NULL)) && cfg_get_index_list(w, v, "capture.layers", &c->layers, &c->n_layers))
        return -1;
    if ((v = cfg_lookup(w, n, "heads", NULL)) && cfg_get_index_list(w, v, "capture.heads", &c->heads, &c->n_heads))
        return -1;
    if ((v = cfg_lookup(w, n, "dtype", NULL)) && cfg_get_enum(w, v, "capture.dtype", dtypes, &c->store_f16)) return -1;
    if ((v = cfg_lookup(w, n, "compression", NULL))) {
        long long x;
        if (cfg_get_int(w, v, "capture.compression", 0, 9, &x)) return -1;
        c->compression = (int)x;
    }
    return 0;
}

/* resident_weights: auto | a size in bytes with an optional unit (KB, MB, GB,
 * TB powers of 1000; KiB, MiB, GiB, TiB powers of 1024), e.g. 12GiB. */
static int parse_resident(cfg_walk *w, yaml_node_t *v) {
    char *s = NULL, *end;
    if (cfg_get_str(w, v, "resident_weights", &s)) return -1;
    int rc = 0;
    if (strcmp(s, "auto")) {
        static const char *const units[] = {"", "B", "KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB", NULL};
        static const double mult[] = {1, 1, 1e3, 1e6, 1e9, 1e12, 1024.0, 1048576.0, 1073741824.0, 1099511627776.0};
        errno = 0;
        double x = strtod(s, &end);
        while (*end == ' ') end++;
        int u = -1;
        for (int i = 0; units[i] && u < 0; i++)
            if (!strcmp(end, units[i])) u = i;
        if (end == s || errno || u < 0 || !(x > 0) || x * mult[u] > 1.8e19)
            rc = cfg_fail_at(w, v->start_mark,
                             "'resident_weights' must be auto or a positive size such as 12GiB or 8000MB, got '%s'", s);
        else w->c->resident_weights = x * mult[u] < 1 ? 1 : (uint64_t)(x * mult[u]);
    }
    free(s);
    return rc;
}

const char *const am_config_mix_names[4] = {"linear", "slerp", "norm", NULL};

static int parse_root(cfg_walk *w, yaml_node_t *root) {
    static const char *const keys[] = {
        "experiment", "output_dir", "seed",    "models",           "pairs",   "alphas",
        "padding",    "generation", "capture", "backend",          "threads", "cuda_compute",
        "mix",        "template",   "align",   "resident_weights", NULL};
    static const char *const backends[] = {"auto", "cpu", "cuda", NULL}; /* = am_backend order */
    static const char *const computes[] = {"bf16", "float32", NULL};     /* cuda_f32 = index */
    am_config *c = w->c;
    yaml_node_t *v;
    char qb[64];
    if (root->type != YAML_MAPPING_NODE)
        return cfg_fail_at(w, root->start_mark,
                           "the configuration must be a mapping of keys (experiment, models, "
                           "pairs, ...), got %s",
                           cfg_quote(root, qb, sizeof qb));
    if (cfg_check_keys(w, root, "", keys)) return -1;

    if (!(v = cfg_require(w, root, "", "experiment")) || cfg_get_str(w, v, "experiment", &c->experiment) ||
        cfg_nonempty(w, v, "experiment", c->experiment))
        return -1;
    if ((v = cfg_lookup(w, root, "output_dir", NULL))) {
        if (cfg_get_str(w, v, "output_dir", &c->output_dir) || cfg_nonempty(w, v, "output_dir", c->output_dir))
            return -1;
    } else {
        size_t need = strlen(c->experiment) + 5;
        if (!(c->output_dir = malloc(need))) return oom(w, "output_dir");
        snprintf(c->output_dir, need, "out/%s", c->experiment);
    }
    if ((v = cfg_lookup(w, root, "seed", NULL)) && cfg_get_u64(w, v, "seed", &c->seed)) return -1;
    if (!(v = cfg_require(w, root, "", "models")) || parse_models(w, v)) return -1;
    if (!(v = cfg_require(w, root, "", "pairs")) || parse_pairs(w, v)) return -1;
    if ((v = cfg_lookup(w, root, "alphas", NULL)) && parse_alphas(w, v)) return -1;
    if ((v = cfg_lookup(w, root, "mix", NULL)) && cfg_get_enum(w, v, "mix", am_config_mix_names, &c->mix)) return -1;
    if ((v = cfg_lookup(w, root, "padding", NULL)) && parse_padding(w, v)) return -1;
    if (parse_template(w, root)) return -1;
    if ((v = cfg_lookup(w, root, "generation", NULL)) && parse_generation(w, v)) return -1;
    if ((v = cfg_lookup(w, root, "capture", NULL)) && parse_capture(w, v)) return -1;
    if ((v = cfg_lookup(w, root, "backend", NULL))) {
        int b;
        if (cfg_get_enum(w, v, "backend", backends, &b)) return -1;
        c->backend = (am_backend)b;
    }
    if ((v = cfg_lookup(w, root, "cuda_compute", NULL)) && cfg_get_enum(w, v, "cuda_compute", computes, &c->cuda_f32))
        return -1;
    if ((v = cfg_lookup(w, root, "threads", NULL))) {
        long long x;
        if (cfg_get_int(w, v, "threads", 0, INT_MAX, &x)) return -1;
        c->threads = (int)x;
    }
    if ((v = cfg_lookup(w, root, "resident_weights", NULL)) && parse_resident(w, v)) return -1;
    return 0;
}

/* ---- libyaml errors -------------------------------------------------------- */

static int yaml_error(cfg_walk *w, const yaml_parser_t *p) {
    if (p->error == YAML_MEMORY_ERROR) return am_fail_code(w->e, AM_E_NOMEM, "%s: out of memory parsing YAML", w->name);
    if (p->error == YAML_READER_ERROR) {
        /* libyaml names the offending byte; for a bad continuation byte, point at
         * the start of the broken sequence instead, where the editor shows it. */
        size_t off = p->problem_offset < w->len ? p->problem_offset : w->len;
        if (strstr(p->problem, "trailing") || strstr(p->problem, "incomplete")) {
            while (off > 0 && ((unsigned char)w->text[off - 1] & 0xC0) == 0x80) off--;
            if (off > 0 && (unsigned char)w->text[off - 1] >= 0xC0) off--;
        }
        yaml_mark_t m = cfg_mark_of_offset(w->text, w->len, off);
        if (off < w->len)
            return cfg_fail_at(w, m, "invalid UTF-8 text: %s (byte 0x%02x at offset %zu)", p->problem,
                               (unsigned char)w->text[off], off);
        return cfg_fail_at(w, m, "invalid UTF-8 text: %s (at offset %zu)", p->problem, off);
    }
    const char *problem = p->problem ? p->problem : "unknown problem";
    if (p->context)
        return cfg_fail_at(w, p->problem_mark, "YAML syntax error: %s (%s at %zu:%zu)", problem, p->context,
                           p->context_mark.line + 1, p->context_mark.column + 1);
    return cfg_fail_at(w, p->problem_mark, "YAML syntax error: %s", problem);
}

static void parser_open(yaml_parser_t *p, const char *text, size_t len) {
    yaml_parser_set_input_string(p, (const unsigned char *)text, len);
    yaml_parser_set_encoding(p, YAML_UTF8_ENCODING);
}

/* Pass 0, before libyaml sees the text (which takes minutes on 100k nested
 * brackets): its size and its nesting of flow collections. Quoted scalars
 * and comments are skipped; a quote opens only where a scalar can start. */
enum { CFG_MAX_BYTES = 4 << 20, CFG_MAX_DEPTH = 64 };
static int check_shape(cfg_walk *w) {
    const char *t = w->text;
    int depth = 0;
    char q = 0;
    if (w->len > CFG_MAX_BYTES)
        return am_fail_code(w->e, AM_E_USAGE, "%s: %zu bytes; a configuration is at most %d bytes", w->name, w->len,
                            CFG_MAX_BYTES);
    for (size_t i = 0; i < w->len; i++) {
        char ch = t[i], prev = i ? t[i - 1] : '\n';
        if (q) {
            if (q == '"' && ch == '\\') i++;
            else if (ch == q) q = 0;
            continue;
        }
        if (ch == '#' && (prev == ' ' || prev == '\t' || prev == '\n')) {
            while (i < w->len && t[i] != '\n') i++;
        } else if ((ch == '\'' || ch == '"') && strchr(" \t\n[{,:-", prev)) {
            q = ch;
        } else if (ch == '[' || ch == '{') {
            if (++depth > CFG_MAX_DEPTH)
                return cfg_fail_at(w, cfg_mark_of_offset(t, w->len, i),
                                   "collections nested more than %d deep; a configuration needs a few levels",
                                   CFG_MAX_DEPTH);
        } else if ((ch == ']' || ch == '}') && depth > 0) {
            depth--;
        }
    }
    return 0;
}

/* Pass 1: syntax, encoding, aliases, number of documents. */
static int check_events(cfg_walk *w) {
    yaml_parser_t p;
    yaml_event_t ev;
    int rc = -1, docs = 0;
    if (!yaml_parser_initialize(&p)) return am_fail_code(w->e, AM_E_NOMEM, "%s: out of memory parsing YAML", w->name);
    parser_open(&p, w->text, w->len);
    for (;;) {
        if (!yaml_parser_parse(&p, &ev)) {
            yaml_error(w, &p);
            goto out;
        }
        yaml_event_type_t t = ev.type;
        if (t == YAML_ALIAS_EVENT) {
            cfg_fail_at(w, ev.start_mark, "YAML aliases (*%s) are not supported; write the value out",
                        (const char *)ev.data.alias.anchor);
            yaml_event_delete(&ev);
            goto out;
        }
        if (t == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
            cfg_fail_at(w, ev.start_mark, "more than one YAML document; put the whole configuration in one");
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
    yaml_node_t *root = NULL;
    int have_parser = 0, have_doc = 0, rc = -1;
    if (!name) name = "<config>";
    set_defaults(c);
    /* a UTF-8 byte order mark (editors on Windows write one) is not part of the text */
    if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) text += 3, len -= 3;
    cfg_walk w = {name, text, len, &doc, c, e};

    if (!(c->path = strdup(name)) || !(c->text = malloc(len + 1))) {
        am_fail_code(e, AM_E_NOMEM, "%s: out of memory", name);
        goto out;
    }
    memcpy(c->text, text, len); /* [len + 1], NUL-terminated */
    c->text[len] = '\0';
    c->text_len = len;
    if (!(c->alphas = malloc(sizeof default_alphas))) {
        am_fail_code(e, AM_E_NOMEM, "%s: out of memory", name);
        goto out;
    }
    memcpy(c->alphas, default_alphas, sizeof default_alphas); /* [5] */
    c->n_alphas = 5;

    if (check_shape(&w) || check_events(&w)) goto out;
    if (!yaml_parser_initialize(&p)) {
        am_fail_code(e, AM_E_NOMEM, "%s: out of memory parsing YAML", name);
        goto out;
    }
    have_parser = 1;
    parser_open(&p, text, len);
    if (!yaml_parser_load(&p, &doc)) {
        yaml_error(&w, &p);
        goto out;
    }
    have_doc = 1;
    root = yaml_document_get_root_node(&doc);
    if (!root || cfg_is_null(root)) {
        yaml_mark_t m = root ? root->start_mark : cfg_mark_of_offset(text, len, 0);
        cfg_fail_at(&w, m,
                    "the configuration is empty (expected a mapping with at least experiment, models "
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
    if (rc == 0 && (rc = am_hub_resolve_models(c, e))) am_config_free(c);
    return rc;
}

void am_config_free(am_config *c) {
    if (!c) return;
    for (int i = 0; c->models && i < c->n_models; i++) {
        free(c->models[i].name);
        free(c->models[i].checkpoint);
        free(c->models[i].tokenizer);
        free(c->models[i].revision);
        free(c->models[i].hub_id);
        free(c->models[i].hub_missing);
    }
    for (int i = 0; c->pairs && i < c->n_pairs; i++) {
        free(c->pairs[i].key);
        free(c->pairs[i].a);
        free(c->pairs[i].b);
    }
    free(c->models);
    free(c->pairs);
    free(c->teacher_text);
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
