/* Copies between HDF5 files: a dataset's values, an object's attributes. */
#ifndef AM_H5COPY_H
#define AM_H5COPY_H

#include <hdf5.h>

#include "base/error.h"

/* Copy a dataset's values (not its attributes or scales) into another file,
 * with a canonical type and a fresh dataspace. */
int am_h5_copy_plain(hid_t from, hid_t to, const char *name, am_err *e);
/* Copy every attribute of object `from` onto `to` (replacing those of the same
 * name), except the names in skip (NULL-terminated list, or NULL). */
int am_h5_copy_attrs(hid_t from, hid_t to, const char *const *skip, am_err *e);

#endif
