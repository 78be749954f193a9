/* The one reader of cube.h5 files (docs/schema.md), for analysis, figures and
 * merge. Required: /attention [P, A, L, H, S, S] float16/32/64 (query == key),
 * /pair [P] strings and /alpha [A] float64. Every other dataset is optional
 * and reads as its default: /layer and /head 0..n-1, /length S, and NULL for
 * /prompt_length, /ids_a, /ids_b, /generated_ids, /text, /prompt_a,
 * /prompt_b, /tokens and absent root attributes. Strings may be stored variable- or
 * fixed-length. Sizes are checked against /attention, with messages naming
 * the file and the dataset. */
#ifndef AM_CUBE_READ_H
#define AM_CUBE_READ_H

#include <hdf5.h>
#include <stdint.h>

#include "base/error.h"

typedef struct am_cube {
    char path[4096];
    hid_t file, attn;            /* H5I_INVALID_HID when closed */
    int P, A, L, H, S;           /* /attention [P, A, L, H, S, S] */
    const char *dtype;           /* "float16", "float32" or "float64" (stored type) */
    char **pair;                 /* [P] pair keys */
    double *alpha;               /* [A] */
    int32_t *layer, *head;       /* [L], [H] model indices */
    int32_t *length;             /* [P*A] valid size n of each unit */
    int has_length;              /* /length was present */
    int32_t *prompt_length;      /* [P] T_p, or NULL */
    int T;                       /* /ids_a, /ids_b [P, T] (0 when absent) */
    int32_t *ids_a, *ids_b;      /* [P*T] or NULL */
    int N;                       /* /generated_ids [P, A, N] (0 when absent) */
    int32_t *generated;          /* [P*A*N] -1 padded, or NULL */
    char **text;                 /* [P*A] or NULL */
    char **prompt_a, **prompt_b; /* [P] or NULL */
    char **tokens;               /* [P*A*S] /tokens, or NULL (cubes written before token strings) */
    /* root attributes (NULL when absent) */
    char *schema, *model, *fingerprint, *checkpoint_fingerprint, *caveat, *config_yaml, *config_hash;
    char *mix; /* root attribute `mix` (linear | slerp | norm), NULL when absent */
    char *storage_dtype;
    char *name; /* the model attribute when set, else from the path: NAME for
                                   * .../NAME/cube.h5, the file's stem otherwise (never NULL) */
} am_cube;

int am_cube_open(am_cube *c, const char *path, am_err *e);
/* am_cube_open that first requires the root attribute schema == `schema`. */
int am_cube_open_schema(am_cube *c, const char *path, const char *schema, am_err *e);
/* Close the file and free everything; safe on a closed or failed cube. */
void am_cube_close(am_cube *c);

/* Map (p, a, l, h): its valid n x n block (n = length[p*A + a]) into out [n][n], float32. */
int am_cube_read_map(const am_cube *c, int p, int a, int l, int h, float *out, am_err *e);
/* All alphas and heads of (p, l) into out [A][H][S][S], float32. */
int am_cube_read_block(const am_cube *c, int p, int l, float *out, am_err *e);
/* All layers and heads of unit (p, a) into out [L][H][S][S], float32. */
int am_cube_read_unit(const am_cube *c, int p, int a, float *out, am_err *e);

#endif
