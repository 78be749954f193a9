/* Directory of the running executable (see bin_dir.h). */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "run/bin_dir.h"

int am_bin_dir(char *out, size_t n, am_err *e) {
    char buf[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (k <= 0) return am_fail_errno(e, "cannot find the directory of this program (/proc/self/exe)");
    buf[k] = 0;
    char *slash = strrchr(buf, '/');
    if (!slash) return am_fail(e, "cannot find the directory of this program (/proc/self/exe is '%s')", buf);
    *slash = 0;
    if ((size_t)snprintf(out, n, "%s", buf) >= n)
        return am_fail(e, "the directory of this program is too long: %s", buf);
    return 0;
}
