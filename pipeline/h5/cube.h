/* The cube's layout: dimension scales and the NeXus group for h5web. */
#ifndef AM_CUBE_H
#define AM_CUBE_H

#include "base/error.h"
#include <hdf5.h>

/* Cube layout shared by generate and merge: dimension scales on every axis
 * of the cube's datasets, and the NeXus group /entry/maps for h5web. */
int am_cube_attach_scales(hid_t f, am_err *e);
int am_cube_write_nexus(hid_t f, am_err *e);

#endif
