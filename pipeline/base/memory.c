#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "base/memory.h"

/* Bytes available: MemAvailable, capped by the cgroup limit, or
 * ATTNMIX_MEMORY_LIMIT (bytes) when set. */
uint64_t am_memory_available(void) {
    const char *env = getenv("ATTNMIX_MEMORY_LIMIT");
    if (env && *env) return strtoull(env, NULL, 10);
    uint64_t avail = UINT64_MAX;
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        unsigned long long kb;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) avail = (uint64_t)kb * 1024;
        fclose(f);
    }
    f = fopen("/sys/fs/cgroup/memory.max", "r");
    if (f) {
        unsigned long long lim;
        if (fscanf(f, "%llu", &lim) == 1 && lim < avail) avail = lim;
        fclose(f);
    }
    return avail;
}

uint64_t am_disk_free(const char *path) {
    const char *env = getenv("ATTNMIX_DISK_FREE");
    if (env && *env) return strtoull(env, NULL, 10);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    struct statvfs v;
    while (statvfs(dir, &v) != 0) { /* not there yet: ask its parent */
        char *slash = strrchr(dir, '/');
        if (!slash) return statvfs(".", &v) == 0 ? (uint64_t)v.f_bavail * v.f_frsize : UINT64_MAX;
        if (slash == dir) {
            slash[1] = '\0';
            if (statvfs(dir, &v) != 0) return UINT64_MAX;
            break;
        }
        *slash = '\0';
    }
    return (uint64_t)v.f_bavail * v.f_frsize;
}
