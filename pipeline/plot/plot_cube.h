/* Read access to a cube.h5 (docs/schema.md) for figures: metadata, single
 * attention maps (valid n x n block), and token labels. Optional datasets
 * (/length, /prompt_length, /head, /ids_*, /generated_ids, /text, /prompt_*)
 * may be missing; then the full S is used, no boundary is drawn, heads are
 * numbered 0..H-1 and tokens are labelled by their ids. */
#ifndef AM_PLOT_CUBE_H
#define AM_PLOT_CUBE_H

#include <hdf5.h>
#include <stdint.h>

#include "base/error.h"

typedef struct am_tokenizer am_tokenizer;

typedef struct am_plot_cube {
    char *path;
    char *model;            /* root attribute `model`, else from the path */
    hid_t file, attn;       /* file and /attention, H5I_INVALID_HID when closed */
    int P, A, L, H, S;      /* /attention [P, A, L, H, S, S] */
    int T;                  /* /ids_a [P, T] (0 when absent) */
    int N;                  /* /generated_ids [P, A, N] (0 when absent) */
    char **pair;            /* [P] pair keys */
    double *alpha;          /* [A] */
    int32_t *layer;         /* [L] model layer index */
    int32_t *head;          /* [H] query head index */
    int32_t *length;        /* [P * A] valid n per unit (S when /length is absent) */
    int32_t *prompt_length; /* [P] T_p, or NULL */
    int32_t *ids_a, *ids_b; /* [P * T] or NULL */
    int32_t *gen;           /* [P * A * N] -1 padded, or NULL */
    char **text;            /* [P * A] or NULL */
    char **prompt_a, **prompt_b; /* [P] or NULL */
} am_plot_cube;

int am_plot_cube_open(am_plot_cube *c, const char *path, am_err *e);
void am_plot_cube_close(am_plot_cube *c);

/* Index of pair key / model layer / model head, -1 (with a message listing
 * what the cube holds) if absent. */
int am_plot_cube_pair(const am_plot_cube *c, const char *key, am_err *e);
int am_plot_cube_layer(const am_plot_cube *c, int layer, am_err *e);
int am_plot_cube_head(const am_plot_cube *c, int head, am_err *e);

/* Valid length n of unit (p, a). */
int am_plot_cube_n(const am_plot_cube *c, int p, int a);
/* T_p of pair p, 0 when unknown. */
int am_plot_cube_prompt_len(const am_plot_cube *c, int p);

/* Read the n x n block of map (p, a, l, h) into out [n, n] (float32, converted
 * from the stored type). */
int am_plot_cube_read(const am_plot_cube *c, int p, int a, int l, int h, float *out, am_err *e);

/* Token labels of unit (p, a): n escaped strings (malloc'd array of malloc'd
 * strings; free with am_plot_labels_free). Prompt positions show the token of
 * prompt a at alpha 1, of prompt b at alpha 0 and "a|b" in between where they
 * differ; generated positions the generated token. Tokens are decoded one id
 * at a time with tok. NULL result (no error) when tok is NULL or the cube
 * has no ids: figures then use numeric position ticks. */
int am_plot_cube_labels(const am_plot_cube *c, int p, int a, const am_tokenizer *tok,
                        char ***labels, am_err *e);
void am_plot_labels_free(char **labels, int n);

/* Load a tokenizer for labels; fails with a message when this build has no
 * tokenizer. */
int am_plot_tokenizer_load(am_tokenizer **t, const char *path, am_err *e);
void am_plot_tokenizer_free(am_tokenizer *t);

/* Read a 1-D string dataset (variable or fixed length) into a malloc'd array. */
int am_plot_h5_strings(hid_t loc, const char *name, char ***out, int *n, am_err *e);
void am_plot_strings_free(char **s, int n);

#endif
