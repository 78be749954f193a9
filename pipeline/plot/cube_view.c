/* Figure-side view of an open cube (see cube_view.h): lookups, unit sizes
 * and token labels decoded one id at a time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot/canvas.h"
#include "plot/cube_view.h"
#include "tokenizer/tokenizer.h"

int am_plot_cube_pair(const am_cube *c, const char *key, am_err *e) {
    char list[1024] = "";
    for (int i = 0; i < c->P; i++)
        if (!strcmp(c->pair[i], key)) return i;
    for (int i = 0; i < c->P; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", c->pair[i]);
    am_fail(e, "%s: no pair '%s' in /pair (has: %s)", c->path, key, list);
    return -1;
}

static int am_find_int(const am_cube *c, const int32_t *v, int n, int want, const char *what, am_err *e) {
    char list[1024] = "";
    for (int i = 0; i < n; i++)
        if (v[i] == want) return i;
    for (int i = 0; i < n; i++) snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d", i ? ", " : "", v[i]);
    am_fail(e, "%s: %s %d was not captured (/%s has: %s)", c->path, what, want, what, list);
    return -1;
}

int am_plot_cube_layer(const am_cube *c, int layer, am_err *e) {
    return am_find_int(c, c->layer, c->L, layer, "layer", e);
}

int am_plot_cube_head(const am_cube *c, int head, am_err *e) { return am_find_int(c, c->head, c->H, head, "head", e); }

int am_plot_cube_n(const am_cube *c, int p, int a) { return c->length[p * c->A + a]; }

int am_plot_cube_prompt_len(const am_cube *c, int p) { return c->prompt_length ? c->prompt_length[p] : 0; }

void am_plot_labels_free(char **labels, int n) {
    if (!labels) return;
    for (int i = 0; i < n; i++) free(labels[i]);
    free(labels);
}

/* ---- token labels ---------------------------------------------------------- */

/* Labels run along the axes (horizontal on the query axis, vertical on the
 * key axis), so a long one costs margin, not overlap: tokens are shown whole
 * up to this many code points. */
#define AM_LABEL_CHARS 64

int am_plot_tokenizer_load(am_tokenizer **t, const char *path, am_err *e) {
    *t = NULL;
    if (am_tok_load(t, path, e)) return am_wrap(e, "loading tokenizer %s", path);
    return 0;
}

void am_plot_tokenizer_free(am_tokenizer *t) {
    if (t) am_tok_free(t);
}

static char *am_token_label(const am_tokenizer *tok, int32_t id, int max_chars, am_err *e) {
    char buf[24], *s = NULL, *res = NULL;
    size_t len = 0;
    if (id < 0 || !am_tok_token_str(tok, id)) { /* no id, or a padded vocabulary row of the model: no token */
        if (id < 0) snprintf(buf, sizeof buf, "?");
        else snprintf(buf, sizeof buf, "#%d", id);
        res = strdup(buf);
    } else {
        if (am_tok_decode(tok, &id, 1, &s, &len, e)) {
            am_wrap(e, "decoding token id %d", id);
            return NULL;
        }
        res = am_plot_escape_label(s, len, max_chars);
        free(s);
    }
    if (!res) am_fail(e, "out of memory (token label)");
    return res;
}

static int am_unit_prompt_len(const am_cube *c, int p) {
    if (c->prompt_length) return c->prompt_length[p];
    int t = 0;
    while (t < c->T && c->ids_a[p * c->T + t] >= 0) t++;
    return t;
}

int am_plot_cube_labels(const am_cube *c, int p, int a, const am_tokenizer *tok, char ***labels, am_err *e) {
    int n = am_plot_cube_n(c, p, a), tp;
    char **l = NULL;
    *labels = NULL;
    if (!tok && c->tokens) { /* the strings the cube stores (/tokens) */
        if (!(l = calloc((size_t)n, sizeof *l))) return am_fail(e, "out of memory");
        for (int i = 0; i < n; i++) {
            const char *t = c->tokens[((size_t)p * c->A + a) * c->S + i];
            if (!(l[i] = am_plot_escape_label(t, strlen(t), AM_LABEL_CHARS))) {
                am_plot_labels_free(l, n);
                return am_fail(e, "out of memory (token label)");
            }
        }
        *labels = l;
        return 0;
    }
    if (!tok || !c->ids_a) return 0;
    tp = am_unit_prompt_len(c, p);
    l = calloc((size_t)n, sizeof *l);
    if (!l) return am_fail(e, "out of memory");
    for (int i = 0; i < n; i++) {
        if (i < tp && i < c->T) {
            int32_t ia = c->ids_a[p * c->T + i], ib = c->ids_b[p * c->T + i];
            double al = c->alpha[a];
            if (al >= 1.0 || ia == ib) {
                l[i] = am_token_label(tok, ia, AM_LABEL_CHARS, e);
            } else if (al <= 0.0) {
                l[i] = am_token_label(tok, ib, AM_LABEL_CHARS, e);
            } else {
                char *sa = am_token_label(tok, ia, AM_LABEL_CHARS / 2, e);
                char *sb = sa ? am_token_label(tok, ib, AM_LABEL_CHARS / 2, e) : NULL;
                if (sa && sb) {
                    size_t k = strlen(sa) + strlen(sb) + 2;
                    l[i] = malloc(k);
                    if (l[i]) snprintf(l[i], k, "%s|%s", sa, sb);
                    else am_fail(e, "out of memory (token label)");
                }
                free(sa);
                free(sb);
            }
        } else {
            int g = i - tp;
            int32_t id = c->generated && g < c->N ? c->generated[(p * c->A + a) * c->N + g] : -1;
            l[i] = am_token_label(tok, id, AM_LABEL_CHARS, e);
        }
        if (!l[i]) {
            am_plot_labels_free(l, n);
            return am_wrap(e, "%s: token labels of pair %s, alpha %g, position %d", c->path, c->pair[p], c->alpha[a],
                           i);
        }
    }
    *labels = l;
    return 0;
}
