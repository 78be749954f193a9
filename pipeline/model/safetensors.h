/* Read-only access to Hugging Face safetensors checkpoints, single file or
 * sharded (model.safetensors.index.json), memory-mapped. */
#ifndef AM_SAFETENSORS_H
#define AM_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#include "kernels.h" /* am_dtype */

size_t am_dtype_size(am_dtype t);
const char *am_dtype_name(am_dtype t); /* "F32", "F16", "BF16" as in safetensors headers */

typedef struct am_tensor {
    char *name; /* "model.layers.0.self_attn.q_proj.weight" */
    am_dtype dtype;
    int ndim; /* 1..4 */
    int64_t shape[4];
    const void *data; /* points into the mapping, little-endian, row-major */
    size_t nbytes;
    int file; /* index into am_safetensors.files */
} am_tensor;

typedef struct am_st_file {
    char *path;
    void *map; /* whole file mapped read-only */
    size_t size;
    size_t header_len; /* bytes of JSON header after the 8-byte length */
} am_st_file;

typedef struct am_safetensors {
    am_st_file *files; /* [nfiles] */
    int nfiles;
    am_tensor *tensors; /* [ntensors], sorted by name */
    int ntensors;
} am_safetensors;

/* Open a checkpoint directory (model.safetensors or index json + shards) or a
 * single .safetensors file. Every header is validated: dtype known, shape
 * consistent with byte range, ranges inside the file and non-overlapping. */
int am_st_open(am_safetensors *st, const char *path, am_err *e);
void am_st_close(am_safetensors *st);
const am_tensor *am_st_find(const am_safetensors *st, const char *name);

#endif
