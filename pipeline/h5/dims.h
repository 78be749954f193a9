/* Dimension scales on every axis of a file, so that netCDF readers (xarray
 * with h5netcdf, netCDF4) open every group: a dataset whose axes are only
 * partly labelled is refused there ("mixing of labeled and unlabeled
 * dimensions"), one with none needs phony names. */
#ifndef AM_H5_DIMS_H
#define AM_H5_DIMS_H

#include <hdf5.h>

#include "base/error.h"

/* A name for an axis: axis `axis` of every dataset whose path (relative to
 * the file's root, no leading '/') starts with `prefix` is labelled by the
 * scale `scale`. prefix may hold '*' for one whole path component
 * ("models/<asterisk>/length"). scale is a path from the root ("/feature") or,
 * without a leading '/', a name in the dataset's own group ("pair"). A scale
 * that does not exist is created as an int32 index 0..n-1; one that exists
 * with another length, or that would label two axes of one dataset, does not
 * match, and the next rule is tried. */
typedef struct am_h5_axis_rule {
    const char *prefix;
    int axis;
    const char *scale;
} am_h5_axis_rule;

/* Label every axis of every dataset in file f that has no dimension scale
 * yet: by the first matching rule (rules[0..n)), else by an index scale
 * "dim_<length>" in the dataset's group ("dim_<length>_<k>" for the k-th
 * repeat of a length within one dataset). Dimension scales themselves and
 * soft or external links are left alone. */
int am_h5_label_dims(hid_t f, const am_h5_axis_rule *rules, int n, am_err *e);

#endif
