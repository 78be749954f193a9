/* Memory available to this process. */
#ifndef AM_MEMORY_H
#define AM_MEMORY_H

#include <stdint.h>

/* Bytes of memory available to this process (MemAvailable, cgroup limit, or
 * the ATTNMIX_MEMORY_LIMIT environment variable). */
uint64_t am_memory_available(void);

/* Bytes free for an unprivileged writer on the file system holding path (a
 * file or directory; its nearest existing parent is asked), or the
 * ATTNMIX_DISK_FREE environment variable (bytes) when set; UINT64_MAX when it
 * cannot be told. */
uint64_t am_disk_free(const char *path);

#endif
