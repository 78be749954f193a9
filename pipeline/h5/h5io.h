/* Small HDF5 helpers shared by the stages: atomic files (temp + rename),
 * attributes, whole datasets, UTF-8 string arrays, dimension scales, and
 * error messages that carry HDF5's own error stack. */
#ifndef AM_H5IO_H
#define AM_H5IO_H

#include <hdf5.h>
#include <stdint.h>

#include "base/error.h"

/* Record a failed HDF5 call with its location and HDF5's innermost message. */
int am_h5_fail(am_err *e, const char *file, int line, const char *call, const char *what);
#define AM_H5(call, e, what) ((call) < 0 ? am_h5_fail((e), __FILE__, __LINE__, #call, (what)) : 0)
#define AM_H5ID(id, e, what) ((id) < 0 ? am_h5_fail((e), __FILE__, __LINE__, "open/create", (what)) : 0)

/* Silence HDF5's automatic error printing (errors come back as am_err). */
void am_h5_quiet(void);

/* An output file being written: created as "<path>.tmp-<pid>", renamed onto
 * path by am_h5_out_commit, removed by am_h5_out_abort. */
typedef struct am_h5_out {
    hid_t file;
    char path[4096];
    char tmp[4200];
} am_h5_out;

int am_h5_out_create(am_h5_out *o, const char *path, am_err *e);
int am_h5_out_commit(am_h5_out *o, am_err *e);
void am_h5_out_abort(am_h5_out *o);

/* Open an existing input file read-only (after am_h5_check_heaps) and check
 * its "schema" attribute. */
hid_t am_h5_open_input(const char *path, const char *schema, am_err *e);
/* 0 if the open file f (named path in messages) has the "schema" attribute
 * schema; else -1 naming what it has. */
int am_h5_check_schema(hid_t f, const char *path, const char *schema, am_err *e);

/* Attributes on any object (loc = file, group or dataset). */
int am_h5_attr_str(hid_t loc, const char *name, const char *value, am_err *e);
int am_h5_attr_i64(hid_t loc, const char *name, int64_t value, am_err *e);
int am_h5_attr_f64(hid_t loc, const char *name, double value, am_err *e);
int am_h5_attr_strs(hid_t loc, const char *name, const char *const *values, int n, am_err *e);
/* Read a string attribute (malloc'd). */
int am_h5_read_attr_str(hid_t loc, const char *name, char **value, am_err *e);
int am_h5_read_attr_i64(hid_t loc, const char *name, int64_t *value, am_err *e);

/* Write a whole contiguous dataset; chunk may be NULL (contiguous). level:
 * deflate level (0 = none; shuffle is added with deflate). Returns the open
 * dataset id (caller closes) or -1. */
hid_t am_h5_write(hid_t loc, const char *name, hid_t mem_type, hid_t file_type, int rank, const hsize_t *dims,
                  const hsize_t *chunk, int level, const void *data, am_err *e);
/* Close the dataset a writer returned: 0, or -1 when the writer failed
 * (d < 0; its message is in the am_err). For chains of writes:
 *   if (am_h5_done(am_h5_write_strs(...)) || am_h5_done(...)) goto out; */
int am_h5_done(hid_t d);
/* Write a whole contiguous dataset and close it: 0 or -1. */
int am_h5_put(hid_t loc, const char *name, hid_t mem_type, hid_t file_type, int rank, const hsize_t *dims,
              const void *data, am_err *e);
/* Write an array of UTF-8 strings as a 1-D or 2-D (dims) variable-length string dataset. */
hid_t am_h5_write_strs(hid_t loc, const char *name, int rank, const hsize_t *dims, const char *const *values,
                       am_err *e);

/* Read a whole dataset into *out (malloc'd) as mem_type; dims (<= 8) returned.
 * Fails with a message naming file and dataset if the rank differs. */
int am_h5_read(hid_t loc, const char *name, hid_t mem_type, int rank, hsize_t *dims, void **out, am_err *e);
/* Read a 1-D or 2-D string dataset (each malloc'd; free with am_h5_free_strs). */
int am_h5_read_strs(hid_t loc, const char *name, int rank, hsize_t *dims, char ***out, am_err *e);
void am_h5_free_strs(char **s, size_t n);

/* Turn dataset `scale` into a dimension scale and attach it to dimension
 * `dim` of each dataset in dsets. */
int am_h5_scale(hid_t loc, const char *scale, const char *label, const char *const *dsets, const int *dims, int n,
                am_err *e);

/* Name of the open file of an object (for messages). */
const char *am_h5_name(hid_t id);

/* The variable-length UTF-8 string type of every string attribute and
 * dataset attnmix writes. Caller closes. */
hid_t am_h5_utf8_type(void);

/* The IEEE binary16 file type (little-endian), for float16 storage. Caller closes. */
hid_t am_h5_f16_type(void);
/* ---- existence, shapes, datasets written piecewise, scales by name -------- */

/* 1 if the link `name` (a path relative to loc) exists, else 0. */
int am_h5_exists(hid_t loc, const char *name);
/* 1 if loc has an attribute `name`, else 0. */
int am_h5_attr_exists(hid_t loc, const char *name);
int am_h5_read_attr_f64(hid_t loc, const char *name, double *value, am_err *e);
/* Rank (<= H5S_MAX_RANK) and dims of dataset `name`; a missing dataset is an
 * error naming the file and the dataset. */
int am_h5_shape(hid_t loc, const char *name, int *rank, hsize_t *dims, am_err *e);
/* Create a dataset without data: chunked when chunk is given (deflate level
 * > 0 adds shuffle + deflate), unwritten elements read as *fill (converted
 * from double; NULL: the library's default). Returns the open dataset (caller
 * closes) or -1. Fill it with am_h5_write_slab. */
hid_t am_h5_create(hid_t loc, const char *name, hid_t file_type, int rank, const hsize_t *dims, const hsize_t *chunk,
                   int level, const double *fill, am_err *e);
/* Write buf [count] of mem_type into the hyperslab start/count of dataset d. */
int am_h5_write_slab(hid_t d, hid_t mem_type, int rank, const hsize_t *start, const hsize_t *count, const void *buf,
                     am_err *e);
/* Attach dataset scales[i] to dimension i of dataset dset (paths relative to
 * loc; a NULL entry skips that dimension). A scale that is not one yet becomes
 * a dimension scale named after the last component of its path. */
int am_h5_attach(hid_t loc, const char *dset, const char *const *scales, int rank, am_err *e);
/* Create group `name` in loc; returns it (caller closes) or -1. */
hid_t am_h5_group(hid_t loc, const char *name, am_err *e);
/* Open an existing group (a path relative to loc). */
hid_t am_h5_group_open(hid_t loc, const char *name, am_err *e);
/* Close any handle (file, group, dataset, dataspace, type, attribute) and set
 * *id to H5I_INVALID_HID; an invalid handle is left alone. */
void am_h5_close(hid_t *id);
/* Names of the members of group `group` under loc, in name order
 * (malloc'd; free with am_h5_free_strs). A missing group gives *n = 0. */
int am_h5_list(hid_t loc, const char *group, char ***names, int *n, am_err *e);

/* am_h5_write of an int32 array (little-endian in the file); returns the open dataset or -1. */
hid_t am_h5_write_i32(hid_t loc, const char *name, int rank, const hsize_t *dims, const int32_t *v, am_err *e);
#endif
