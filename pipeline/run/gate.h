/* The stamp gate of the driver's last two steps (analyze, plot), whose
 * programs take no config: `attnmix gate` runs a command only when its
 * output is missing or was made from other inputs, another command or
 * another build of attnmix. The gate's stamp hashes the build (version and
 * git commit), the command line and each input's content stamp (the
 * "fingerprint" attribute of a stage file, else the hash of its bytes); the
 * file OUT.stamp beside the output records that stamp and the hash of the
 * output's bytes as written, so an output replaced or edited afterwards is
 * redone too. Modification times are never consulted. */
#ifndef AM_GATE_H
#define AM_GATE_H

#include "base/error.h"

typedef struct am_gate {
    const char *out;        /* the output the command writes */
    const char *const *ins; /* [n_in] its input files */
    int n_in;
    char *const *cmd;         /* argv of the command, NULL-terminated */
    const char *label, *step; /* "analyze", "6/7": printed as "[6/7] analyze" when it runs */
    int force;                /* run even when current */
} am_gate;

/* Run g->cmd unless g->out is current; *ran = 1 when it ran. Fails when an
 * input cannot be read, the command fails (its status in the message) or the
 * stamp cannot be written. */
int am_gate_run(const am_gate *g, int *ran, am_err *e);

#endif
