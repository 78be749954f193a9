#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "h5io.h"
#include "kernels_cuda.h"
#include "runtime.h"
#include "stages.h"

double am_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int am_mkdirs(const char *path, am_err *e) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return am_fail(e, "%s: path too long", path);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) return am_fail_errno(e, "cannot create directory %s", buf);
            *p = c;
            if (!c) break;
        }
    }
    return 0;
}

int am_stage_init(am_stage *s, const char *config_path, const char *model_name, am_err *e) {
    memset(s, 0, sizeof *s);
    if (am_config_load(&s->cfg, config_path, e) < 0) return -1;
    for (int i = 0; i < s->cfg.n_models; i++)
        if (!model_name || strcmp(s->cfg.models[i].name, model_name) == 0) { s->model = &s->cfg.models[i]; break; }
    if (!s->model) {
        am_fail(e, "%s: no model named '%s' (models:", config_path, model_name);
        for (int i = 0; i < s->cfg.n_models; i++) {
            size_t n = strlen(e->msg);
            snprintf(e->msg + n, sizeof e->msg - n, " %s", s->cfg.models[i].name);
        }
        size_t n = strlen(e->msg);
        snprintf(e->msg + n, sizeof e->msg - n, ")");
        am_config_free(&s->cfg);
        return -1;
    }
    snprintf(s->out_dir, sizeof s->out_dir, "%s/%s", s->cfg.output_dir, s->model->name);
    am_hash_hex(am_fnv1a(AM_FNV_INIT, s->cfg.text, s->cfg.text_len), s->config_hash);
    return am_mkdirs(s->out_dir, e);
}

int am_stage_select_pair(am_stage *s, const char *key, am_err *e) {
    am_config *c = &s->cfg;
    int found = -1;
    for (int p = 0; p < c->n_pairs; p++)
        if (strcmp(c->pairs[p].key, key) == 0) found = p;
    if (found < 0) return am_fail(e, "%s: no pair with key '%s'", c->path, key);
    /* Keep the selected pair first and free none: am_config_free frees all n. */
    am_pair_cfg keep = c->pairs[found];
    c->pairs[found] = c->pairs[0];
    c->pairs[0] = keep;
    s->n_pairs_all = c->n_pairs;
    c->n_pairs = 1;
    snprintf(s->out_dir, sizeof s->out_dir, "%s/%s/pairs/%s", c->output_dir, s->model->name, key);
    return am_mkdirs(s->out_dir, e);
}

void am_stage_free(am_stage *s) {
    if (s->n_pairs_all) s->cfg.n_pairs = s->n_pairs_all; /* free every pair */
    am_config_free(&s->cfg);
}

void am_stage_path(const am_stage *s, const char *file, char *out, size_t n) {
    snprintf(out, n, "%s/%s", s->out_dir, file);
}

void am_prov_hash(char out[17], const char *stage, const char *const *parts, int n) {
    uint64_t h = am_fnv1a(AM_FNV_INIT, stage, strlen(stage) + 1);
    for (int i = 0; i < n; i++) h = am_fnv1a(h, parts[i], strlen(parts[i]) + 1);
    am_hash_hex(h, out);
}

int am_stage_backend(const am_stage *s, am_runtime_opts *o, am_err *e) {
    o->backend = AM_RT_CPU;
    o->cuda_f32 = s->cfg.cuda_f32;
    /* auto stays on the CPU until the CUDA backend has been validated on a GPU (docs/cuda.md) */
    if (s->cfg.backend != AM_BACKEND_CUDA) return 0;
    char why[256];
    if (!am_cuda_available(why, sizeof why))
        return am_fail(e, "%s: backend: cuda, but %s; hint: backend: cpu (or auto)", s->cfg.path, why);
    o->backend = AM_RT_CUDA;
    return 0;
}

void am_stage_note_backend(am_stage *s, const char *runtime_name) {
    if (strncmp(runtime_name, "cuda", 4) == 0)
        snprintf(s->backend_used, sizeof s->backend_used, "%s", runtime_name);
    else
        snprintf(s->backend_used, sizeof s->backend_used, "cpu (%s kernels)", runtime_name);
}

int am_prov_write(hid_t f, const am_stage *s, const char *schema, const char *fingerprint, am_err *e) {
    char created[32];
    time_t t = time(NULL);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    const char *backend = s->backend_used[0] ? s->backend_used : s->cfg.backend == AM_BACKEND_CUDA ? "cuda" : "cpu";
    if (am_h5_attr_str(f, "schema", schema, e) < 0 ||
        am_h5_attr_str(f, "fingerprint", fingerprint, e) < 0 ||
        am_h5_attr_str(f, "attnmix_version", ATTNMIX_VERSION, e) < 0 ||
        am_h5_attr_str(f, "git_commit", ATTNMIX_GIT_COMMIT, e) < 0 ||
        am_h5_attr_str(f, "created", created, e) < 0 ||
        am_h5_attr_str(f, "experiment", s->cfg.experiment, e) < 0 ||
        am_h5_attr_str(f, "config_path", s->cfg.path ? s->cfg.path : "", e) < 0 ||
        am_h5_attr_str(f, "config_yaml", s->cfg.text, e) < 0 ||
        am_h5_attr_str(f, "config_hash", s->config_hash, e) < 0 ||
        am_h5_attr_i64(f, "seed", (int64_t)s->cfg.seed, e) < 0 ||
        am_h5_attr_str(f, "model", s->model->name, e) < 0 ||
        am_h5_attr_str(f, "checkpoint", s->model->checkpoint, e) < 0 ||
        am_h5_attr_str(f, "backend", backend, e) < 0)
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

/* ---- progress ------------------------------------------------------------- */

void am_progress_start(am_progress *p, const char *stage, const char *model, const char *what, int quiet) {
    p->stage = stage;
    p->model = model;
    p->what = what;
    p->t0 = p->last = am_now();
    p->quiet = quiet;
    p->open = 0;
}

void am_progress_update(am_progress *p, long done, long total) {
    double now = am_now();
    if (p->quiet || (now - p->last < 0.5 && done < total)) return;
    p->last = now;
    double el = now - p->t0, eta = done > 0 ? el * (double)(total - done) / (double)done : 0;
    fprintf(stderr, "\r%s %s: %ld/%ld %s, %.0fs elapsed, ETA %.0fs   ", p->stage, p->model, done,
            total, p->what, el, eta);
    p->open = 1;
    if (done >= total) am_progress_break(p);
}

void am_progress_break(am_progress *p) {
    if (p->open) fputc('\n', stderr);
    p->open = 0;
}

void am_progress_end(am_progress *p, const char *summary) {
    if (p->quiet) return;
    am_progress_break(p);
    fprintf(stderr, "%s %s: %s (%.2fs)\n", p->stage, p->model, summary, am_now() - p->t0);
}
