/* The stamp gate of analyze and plot (see gate.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/hash.h"
#include "h5/h5io.h"
#include "run/gate.h"

/* An input's content stamp: its "fingerprint" attribute when it is a stage
 * file that carries one, else the hash of its bytes. */
static int input_stamp(const char *path, char out[17], am_err *e) {
    htri_t is_h5 = H5Fis_hdf5(path);
    if (is_h5 > 0) {
        hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        char *fp = NULL;
        int got = f >= 0 && am_h5_attr_exists(f, "fingerprint") && am_h5_read_attr_str(f, "fingerprint", &fp, e) == 0;
        if (f >= 0) H5Fclose(f);
        if (got) {
            snprintf(out, 17, "%s", fp);
            free(fp);
            return 0;
        }
    }
    return am_file_fingerprint(path, out, e);
}

static int gate_stamp(const am_gate *g, char out[17], am_err *e) {
    /* the build: a new version of the programs may write other outputs from the same inputs */
    static const char build[] = ATTNMIX_VERSION " " ATTNMIX_GIT_COMMIT;
    uint64_t h = am_fnv1a(AM_FNV_INIT, "gate", 5);
    h = am_fnv1a(h, build, sizeof build);
    for (int i = 0; g->cmd[i]; i++) h = am_fnv1a(h, g->cmd[i], strlen(g->cmd[i]) + 1);
    for (int i = 0; i < g->n_in; i++) {
        char fp[17];
        if (input_stamp(g->ins[i], fp, e) < 0) return am_wrap(e, "input of %s", g->label);
        h = am_fnv1a(h, g->ins[i], strlen(g->ins[i]) + 1);
        h = am_fnv1a(h, fp, 17);
    }
    am_hash_hex(h, out);
    return 0;
}

/* 1 when OUT.stamp records stamp and the output's bytes still hash to what it records. */
static int current(const am_gate *g, const char *stamp_path, const char *stamp) {
    char *text = NULL, want[64], out_fp[17];
    size_t len = 0;
    am_err e = {0};
    if (access(g->out, R_OK) != 0 || am_read_file(stamp_path, "a stamp", &text, &len, &e) < 0) return 0;
    snprintf(want, sizeof want, "stamp %s\noutput ", stamp);
    int ok = len == strlen(want) + 16 && !strncmp(text, want, strlen(want)) &&
             am_file_fingerprint(g->out, out_fp, &e) == 0 && !strncmp(text + strlen(want), out_fp, 16);
    free(text);
    return ok;
}

int am_gate_run(const am_gate *g, int *ran, am_err *e) {
    char stamp[17], stamp_path[4200], out_fp[17];
    am_file_out o = {0};
    int st = 0;
    pid_t pid;
    *ran = 0;
    snprintf(stamp_path, sizeof stamp_path, "%s.stamp", g->out);
    if (gate_stamp(g, stamp, e) < 0) return -1;
    if (!g->force && current(g, stamp_path, stamp)) {
        fprintf(stderr, "%s: %s is up to date\n", g->label, g->out);
        return 0;
    }
    fprintf(stderr, "[%s] %s\n", g->step, g->label);
    if (unlink(stamp_path) != 0 && errno != ENOENT) return am_fail_errno(e, "cannot remove %s", stamp_path);
    fflush(NULL);
    pid = fork();
    if (pid < 0) return am_fail_errno(e, "cannot start %s", g->cmd[0]);
    if (pid == 0) {
        execv(g->cmd[0], g->cmd);
        fprintf(stderr, "attnmix: cannot run %s: %s\n", g->cmd[0], strerror(errno));
        _exit(127);
    }
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return am_fail_errno(e, "waiting for %s", g->cmd[0]);
    *ran = 1;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return am_fail_code(e, WIFEXITED(st) && WEXITSTATUS(st) == 2 ? AM_E_USAGE : AM_E_FAIL, "%s failed (%s %d)",
                            g->label, WIFEXITED(st) ? "exit status" : "signal",
                            WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    if (am_file_fingerprint(g->out, out_fp, e) < 0) return am_wrap(e, "%s wrote no %s", g->label, g->out);
    if (am_file_out_create(&o, stamp_path, e) < 0) return -1;
    fprintf(o.f, "stamp %s\noutput %s", stamp, out_fp);
    if (am_file_out_commit(&o, e) < 0) {
        am_file_out_abort(&o);
        return -1;
    }
    return 0;
}
