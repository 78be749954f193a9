/* Live vs frozen-pattern runs of one model (docs/freeze.md): a frozen run is a
 * directory (OUT/<model>/frozen[-a<A>]/ when written by the stages) holding a
 * frozen prefill.h5 and optionally its cube.h5; it is compared with the live
 * prefill.h5 of the model. */
#ifndef AM_FROZEN_H
#define AM_FROZEN_H

#include <stdint.h>

#include "base/error.h"

typedef struct am_frozen_cmp {
    char name[256]; /* directory name, e.g. "frozen-a1" */
    int P, A;
    double *kl;           /* [P][A] KL(live || frozen) of the next-token distributions, nats */
    int32_t *next_live;   /* [P][A] greedy next token after the prompt */
    int32_t *next_frozen; /* [P][A] */
    char **text;          /* [P*A] generated text of the frozen cube, NULL without one */
    /* from the frozen cube's /kl (teacher-forced along the live tokens), NULL without: */
    int N;                         /* generated positions */
    double *kl_step;               /* [P][A][N] KL at each position, NaN past kl_steps */
    int32_t *kl_steps;             /* [P][A] positions compared */
    double *kl_mean, *kl_max;      /* [P][A] over those positions (NaN when none) */
    double alpha;                  /* freeze_alpha attribute (NaN: same alpha) */
    char *source, *layers, *heads; /* freeze_* attributes */
} am_frozen_cmp;

/* Compare the frozen runs in the directories dirs [n] with the live prefill
 * file live_prefill. Each run is named by its directory's last component
 * (two runs of one name are an error); *out [n] (malloc'd) is sorted by name. */
int am_frozen_compare(const char *live_prefill, const char *const *dirs, int n, am_frozen_cmp **out, am_err *e);
/* The frozen runs of `model` as the analysis stage wrote them into the
 * analysis file (group /models/<model>/frozen); none is not an error (*n = 0). */
int am_frozen_read(const char *analysis, const char *model, am_frozen_cmp **out, int *n, am_err *e);
void am_frozen_cmp_free(am_frozen_cmp *c, int n);

#endif
