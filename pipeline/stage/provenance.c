/* Provenance of stage files: the attributes every output carries and the
 * fingerprint that decides whether a stage is up to date. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/hash.h"
#include "h5/h5io.h"
#include "stage/provenance.h"

void am_prov_hash(char out[17], const char *stage, const char *const *parts, int n) {
    uint64_t h = am_fnv1a(AM_FNV_INIT, stage, strlen(stage) + 1);
    for (int i = 0; i < n; i++) h = am_fnv1a(h, parts[i], strlen(parts[i]) + 1);
    am_hash_hex(h, out);
}

int am_prov_write(hid_t f, const am_stage *s, const char *schema, const char *fingerprint, am_err *e) {
    char created[32];
    time_t t = time(NULL);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    const char *backend = s->backend_used[0] ? s->backend_used : s->cfg.backend == AM_BACKEND_CUDA ? "cuda" : "cpu";
    if (am_h5_attr_str(f, "schema", schema, e) < 0 || am_h5_attr_str(f, "fingerprint", fingerprint, e) < 0 ||
        am_h5_attr_str(f, "attnmix_version", ATTNMIX_VERSION, e) < 0 ||
        am_h5_attr_str(f, "git_commit", ATTNMIX_GIT_COMMIT, e) < 0 || am_h5_attr_str(f, "created", created, e) < 0 ||
        am_h5_attr_str(f, "experiment", s->cfg.experiment, e) < 0 ||
        am_h5_attr_str(f, "config_path", s->cfg.path ? s->cfg.path : "", e) < 0 ||
        am_h5_attr_str(f, "config_yaml", s->cfg.text, e) < 0 ||
        am_h5_attr_str(f, "config_hash", s->config_hash, e) < 0 ||
        am_h5_attr_i64(f, "seed", (int64_t)s->cfg.seed, e) < 0 || am_h5_attr_str(f, "model", s->model->name, e) < 0 ||
        am_h5_attr_str(f, "mix", am_config_mix_names[s->cfg.mix], e) < 0 ||
        am_h5_attr_str(f, "checkpoint", s->model->checkpoint, e) < 0 || am_h5_attr_str(f, "backend", backend, e) < 0)
        return -1;
    return 0;
}

int am_prov_fingerprint(const char *path, const char *schema, char out[17], am_err *e) {
    hid_t f = am_h5_open_input(path, schema, e);
    if (f < 0) return -1;
    char *fp = NULL;
    int rc = am_h5_read_attr_str(f, "fingerprint", &fp, e);
    if (rc == 0) {
        snprintf(out, 17, "%s", fp);
        free(fp);
    }
    H5Fclose(f);
    return rc;
}

int am_prov_up_to_date(const char *path, const char *schema, const char *fingerprint) {
    if (access(path, R_OK) != 0) return 0;
    char fp[17];
    am_err e;
    if (am_prov_fingerprint(path, schema, fp, &e) < 0) return 0;
    if (strcmp(fp, fingerprint) != 0) return 0;
    utimes(path, NULL); /* so make sees the output as newer than its inputs */
    return 1;
}

int am_stage_up_to_date(const am_stage *s, const char *stage, const char *out_path, const char *schema,
                        const char *fp) {
    if (s->force || !am_prov_up_to_date(out_path, schema, fp)) return 0;
    if (!s->quiet) fprintf(stderr, "%s %s: %s is up to date\n", stage, s->model->name, out_path);
    return 1;
}
