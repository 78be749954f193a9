/* Memory available to this process. */
#ifndef AM_MEMORY_H
#define AM_MEMORY_H

#include <stdint.h>

/* Bytes of memory available to this process (MemAvailable, cgroup limit, or
 * the ATTNMIX_MEMORY_LIMIT environment variable). */
uint64_t am_memory_available(void);

#endif
