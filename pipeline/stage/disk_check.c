/* Free space for the cube (see disk_check.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "stage/disk_check.h"

static double gib(uint64_t b) { return (double)b / (1024.0 * 1024.0 * 1024.0); }

uint64_t am_disk_estimate(uint64_t raw, double ratio) {
    uint64_t est = raw;
    if (ratio > 0 && ratio < 1) {
        double m = (double)raw * ratio * 1.5; /* margin */
        if (m < (double)raw) est = (uint64_t)m;
    }
    return est + (1u << 20);
}

int am_disk_check(const am_stage *s, const char *out_path, uint64_t raw, double ratio, int streamed, am_err *e) {
    char dir[4200];
    const char *sl = strrchr(out_path, '/');
    uint64_t avail;
    if (sl) snprintf(dir, sizeof dir, "%.*s", (int)(sl - out_path ? sl - out_path : 1), out_path);
    else snprintf(dir, sizeof dir, ".");
    const char *env = getenv("ATTNMIX_DISK_FREE");
    if (env && *env) {
        char *end;
        unsigned long long v = strtoull(env, &end, 10);
        if (*end) return am_fail_code(e, AM_E_USAGE, "ATTNMIX_DISK_FREE must be a number of bytes, not '%s'", env);
        avail = v;
    } else {
        struct statvfs st;
        if (statvfs(dir, &st) != 0) return am_fail_errno(e, "cannot read the free space of %s", dir);
        avail = (uint64_t)st.f_bavail * st.f_frsize;
    }
    const uint64_t need = am_disk_estimate(raw, ratio);
    if (need <= avail) return 0;
    char how[160];
    if (ratio > 0)
        snprintf(how, sizeof how,
                 "%.2f GiB uncompressed x %.3f, the compression measured on the prefill, "
                 "with a margin",
                 gib(raw), ratio);
    else snprintf(how, sizeof how, "%.2f GiB uncompressed, the compression being unknown", gib(raw));
    return am_fail_code(e, AM_E_IO,
                        "generate %s: the cube %s needs about %.3f GiB (%s) but %s has %.3f GiB free: free space, "
                        "write elsewhere (output_dir in %s), capture fewer layers or heads (capture.layers / "
                        "capture.heads), store float16 (capture.dtype) or lower generation.max_new_tokens%s",
                        s->model->name, out_path, gib(need), how, dir, gib(avail), s->cfg.path,
                        streamed ? ". The weights stream from the checkpoint at every step: keep it, delete other "
                                   "checkpoints instead"
                                 : "");
}
