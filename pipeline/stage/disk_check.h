/* Free space for the cube, checked before generate computes anything. */
#ifndef AM_DISK_CHECK_H
#define AM_DISK_CHECK_H

#include <stdint.h>

#include "stage/stage.h"

/* The cube's size on disk against the free space of the directory of
 * out_path (statvfs; ATTNMIX_DISK_FREE, in bytes, stands in for it). raw:
 * the bytes of /attention uncompressed; ratio: stored / raw bytes measured on
 * the prefill's /attention (<= 0: unknown, the raw size is the bound). Fails
 * (AM_E_IO) with the numbers and what to change; streamed: the weights are
 * read from the checkpoint at every step (model/wstream.h), so the advice
 * says to keep it. */
int am_disk_check(const am_stage *s, const char *out_path, uint64_t raw, double ratio, int streamed, am_err *e);

/* The estimate am_disk_check uses: raw x ratio with a margin (generated rows
 * may compress less well than prompt rows), at most raw, plus 1 MiB for the
 * other datasets. */
uint64_t am_disk_estimate(uint64_t raw, double ratio);

#endif
