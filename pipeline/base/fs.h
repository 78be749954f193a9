/* Files and directories. */
#ifndef AM_FS_H
#define AM_FS_H

#include "base/error.h"

/* mkdir -p: create path and its missing parents. */
int am_mkdirs(const char *path, am_err *e);

#endif
