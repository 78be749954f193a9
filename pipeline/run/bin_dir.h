/* Where the attnmix programs are: the driver runs the stage programs that
 * were installed (or built) beside it. */
#ifndef AM_BIN_DIR_H
#define AM_BIN_DIR_H

#include <stddef.h>

#include "base/error.h"

/* Directory of the running executable (from /proc/self/exe) into out[n]. */
int am_bin_dir(char *out, size_t n, am_err *e);

#endif
