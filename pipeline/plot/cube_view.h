/* What figures add to the cube reader (h5/cube_read.h): lookups of a pair
 * key, a model layer or a model head with messages listing what the cube
 * holds, the unit sizes and prompt boundaries, and token labels. Optional
 * datasets may be missing; then the full S is used, no boundary is drawn,
 * heads are numbered 0..H-1 and tokens are labelled by their ids. */
#ifndef AM_PLOT_CUBE_VIEW_H
#define AM_PLOT_CUBE_VIEW_H

#include <stdint.h>

#include "base/error.h"
#include "h5/cube_read.h"

typedef struct am_tokenizer am_tokenizer;

/* Index of pair key / model layer / model head, -1 (with a message listing
 * what the cube holds) if absent. */
int am_plot_cube_pair(const am_cube *c, const char *key, am_err *e);
int am_plot_cube_layer(const am_cube *c, int layer, am_err *e);
int am_plot_cube_head(const am_cube *c, int head, am_err *e);

/* Valid length n of unit (p, a). */
int am_plot_cube_n(const am_cube *c, int p, int a);
/* T_p of pair p, 0 when unknown. */
int am_plot_cube_prompt_len(const am_cube *c, int p);

/* Token labels of unit (p, a): n escaped strings (malloc'd array of malloc'd
 * strings; free with am_plot_labels_free). Prompt positions show the token of
 * prompt a at alpha 1, of prompt b at alpha 0 and "a|b" in between where they
 * differ; generated positions the generated token. Tokens are decoded one id
 * at a time with tok; without tok, the cube's stored /tokens. NULL result
 * (no error) when there is neither, or the cube has no ids: figures then use
 * numeric position ticks. */
int am_plot_cube_labels(const am_cube *c, int p, int a, const am_tokenizer *tok, char ***labels, am_err *e);
void am_plot_labels_free(char **labels, int n);

/* Load a tokenizer for labels; fails with a message when this build has no
 * tokenizer. */
int am_plot_tokenizer_load(am_tokenizer **t, const char *path, am_err *e);
void am_plot_tokenizer_free(am_tokenizer *t);

#endif
