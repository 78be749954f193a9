/* The analysis inputs of an experiment (see inputs.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fs.h"
#include "run/inputs.h"
#include "run/quote.h"

void am_out_arg(FILE *f, const char *opt, const am_config *c, int m, int named, const char *rest, int make) {
    char v[8800];
    snprintf(v, sizeof v, "%s%s%s/%s/%s", named ? c->models[m].name : "", named ? "=" : "", c->output_dir,
             c->models[m].name, rest);
    fprintf(f, " %s ", opt);
    if (make) am_make_quote(f, v);
    else am_sh_quote(f, v);
}

static int cmp_run(const void *a, const void *b) {
    const am_frozen_run *x = a, *y = b;
    if (x->model != y->model) return x->model < y->model ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Append model m's frozen runs to *runs. */
static int find_model(const am_config *c, int m, am_frozen_run **runs, int *n, int *cap, am_err *e) {
    char dir[4400], p[4800];
    struct dirent *de;
    DIR *d = NULL;
    int rc = -1;
    snprintf(dir, sizeof dir, "%s/%s", c->output_dir, c->models[m].name);
    d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) return 0;
        return am_fail_errno(e, "cannot list %s (looking for frozen-pattern runs)", dir);
    }
    for (;;) {
        errno = 0;
        if (!(de = readdir(d))) break;
        if (strncmp(de->d_name, "frozen", 6) != 0) continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (!am_is_dir(p)) continue;
        snprintf(p, sizeof p, "%s/%s/prefill.h5", dir, de->d_name);
        if (!is_file(p)) continue;
        if (*n == *cap) {
            int nc = *cap ? 2 * *cap : 8;
            am_frozen_run *grown = realloc(*runs, (size_t)nc * sizeof *grown);
            if (!grown) {
                am_fail_code(e, AM_E_NOMEM, "out of memory listing the frozen runs of %s", dir);
                goto out;
            }
            *runs = grown, *cap = nc;
        }
        am_frozen_run *r = &(*runs)[(*n)++];
        memset(r, 0, sizeof *r);
        r->model = m;
        snprintf(r->name, sizeof r->name, "%s", de->d_name);
        snprintf(p, sizeof p, "%s/%s/cube.h5", dir, de->d_name);
        r->has_cube = is_file(p);
    }
    if (errno) {
        am_fail_errno(e, "cannot list %s (looking for frozen-pattern runs)", dir);
        goto out;
    }
    rc = 0;
out:
    closedir(d);
    return rc;
}

int am_frozen_runs_find(const am_config *c, am_frozen_run **runs, int *n, am_err *e) {
    am_frozen_run *r = NULL;
    int nr = 0, cap = 0;
    *runs = NULL, *n = 0;
    for (int m = 0; m < c->n_models; m++)
        if (find_model(c, m, &r, &nr, &cap, e) < 0) {
            free(r);
            return -1;
        }
    if (nr > 1) qsort(r, (size_t)nr, sizeof *r, cmp_run);
    *runs = r, *n = nr;
    return 0;
}
