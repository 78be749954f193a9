/* A check of input files before HDF5 reads them: a damaged global heap
 * (the storage of variable-length strings) makes HDF5 1.10 loop forever. */
#ifndef AM_HEAPS_H
#define AM_HEAPS_H

#include "base/error.h"

/* Refuse a file whose global heap (variable-length strings) would make HDF5
 * 1.10 loop forever when reading it (one pass over the file's bytes). */
int am_h5_check_heaps(const char *path, am_err *e);

#endif
