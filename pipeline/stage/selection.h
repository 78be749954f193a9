/* Which layers and heads a run captures. */
#ifndef AM_SELECTION_H
#define AM_SELECTION_H

#include "base/config.h"
#include "model/qwen3.h"
#include <hdf5.h>

/* The capture selection of the config resolved against a model: layers[Lc]
 * and heads[Hc] (model indices), and index[L]: model layer -> position in
 * layers, or -1 when not captured. */
typedef struct am_selection {
    int *layers, Lc;
    int *heads, Hc;
    int *index;
    unsigned char *mask; /* [L] 1 = captured, for am_capture.layers */
} am_selection;
int am_selection_init(am_selection *sel, const am_config *c, const struct am_qwen3 *m, am_err *e);
void am_selection_free(am_selection *sel);
/* Write the /layer and /head scale datasets of a selection. */
int am_selection_write(const am_selection *sel, hid_t file, am_err *e);

#endif
