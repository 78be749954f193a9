/* Weight streaming: a budget of resident weight bytes for checkpoints larger
 * than memory. Layers 0..n_resident-1 stay mapped (as without a budget); the
 * others are read from the safetensors files at every forward pass into one of
 * two buffers by a reader thread, the next one read while the current one
 * computes. The lm_head, when it does not fit, is read the same way in blocks
 * of rows, for the last positions' logits only. The bytes are the checkpoint's
 * own, so the kernels see exactly the numbers of the in-memory run. Embedding
 * rows are read on demand through the mapping (only the touched rows' pages). */
#ifndef AM_WSTREAM_H
#define AM_WSTREAM_H

#include <stdint.h>

#include "model/qwen3.h"

typedef struct am_wplan {
    uint64_t total;     /* bytes the forward pass reads: the layers, the final norm, the lm_head */
    uint64_t resident;  /* bytes of those kept mapped */
    uint64_t buffers;   /* bytes of the two read buffers (0 when nothing streams) */
    uint64_t layer_max; /* bytes of the largest layer */
    int n_layers;       /* L */
    int n_resident;     /* layers 0..n_resident-1 stay mapped, the others stream */
    int head_streamed;  /* 1 = the lm_head is read in blocks of head_rows rows */
    int head_rows;      /* rows of one lm_head block (head_streamed only) */
} am_wplan;

/* The split of m's weights under a budget of resident bytes (UINT64_MAX or any
 * budget >= total: everything stays mapped, nothing streams). No I/O. */
void am_wstream_plan(const am_qwen3 *m, uint64_t budget, am_wplan *p);
/* 1 when the plan reads weights from disk at every forward pass. */
int am_wplan_streams(const am_wplan *p);
/* Bytes of one layer's weights (the 11 tensors of am_qwen3_layer). */
uint64_t am_qwen3_layer_bytes(const am_qwen3 *m, int l);

typedef struct am_wstream am_wstream;

/* Open the checkpoint's files for reading and start the reader thread; the
 * plan must stream (am_wplan_streams). */
int am_wstream_open(am_wstream **ws, const am_qwen3 *m, const am_wplan *p, am_err *e);
void am_wstream_free(am_wstream *ws);

/* Layer l's weights: the mapped ones for a resident layer; for a streamed
 * layer, waits for its read and queues the read of the next streamed item
 * (layer or lm_head block, in forward order, wrapping to the first). A
 * streamed layer's tensors stay valid until the next am_wstream_layer or
 * am_wstream_head call. */
int am_wstream_layer(am_wstream *ws, int l, const am_qwen3_layer **w, am_err *e);

/* lm_head rows [b * head_rows, + *rows) in the head's stored dtype, for block
 * b < am_wstream_head_blocks(ws); valid until the next call of either. */
int am_wstream_head(am_wstream *ws, int b, const void **rows_data, int *rows, am_err *e);
int am_wstream_head_blocks(const am_wstream *ws);

/* Weight bytes read from the files so far. */
uint64_t am_wstream_bytes_read(const am_wstream *ws);

#endif
