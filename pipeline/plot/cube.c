/* Figure-side lookups on an open cube (see plot_cube.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot/plot.h"
#include "plot/plot_cube.h"

int am_plot_cube_pair(const am_cube *c, const char *key, am_err *e) {
    char list[1024] = "";
    for (int i = 0; i < c->P; i++)
        if (!strcmp(c->pair[i], key)) return i;
    for (int i = 0; i < c->P; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", c->pair[i]);
    am_fail(e, "%s: no pair '%s' in /pair (has: %s)", c->path, key, list);
    return -1;
}

static int am_find_int(const am_cube *c, const int32_t *v, int n, int want, const char *what,
                       am_err *e) {
    char list[1024] = "";
    for (int i = 0; i < n; i++)
        if (v[i] == want) return i;
    for (int i = 0; i < n; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d", i ? ", " : "", v[i]);
    am_fail(e, "%s: %s %d was not captured (/%s has: %s)", c->path, what, want, what, list);
    return -1;
}

int am_plot_cube_layer(const am_cube *c, int layer, am_err *e) {
    return am_find_int(c, c->layer, c->L, layer, "layer", e);
}

int am_plot_cube_head(const am_cube *c, int head, am_err *e) {
    return am_find_int(c, c->head, c->H, head, "head", e);
}

int am_plot_cube_n(const am_cube *c, int p, int a) { return c->length[p * c->A + a]; }

int am_plot_cube_prompt_len(const am_cube *c, int p) {
    return c->prompt_length ? c->prompt_length[p] : 0;
}

void am_plot_labels_free(char **labels, int n) {
    if (!labels) return;
    for (int i = 0; i < n; i++) free(labels[i]);
    free(labels);
}
