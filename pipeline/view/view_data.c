/* The viewer's data: cubes of an output directory, the index and maps as JSON
 * (see view_data.h). */
#include "view/view_data.h"
#include "base/fs.h"
#include "h5/h5io.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int is_file(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* The name of a live writer's temporary file "cube.h5.tmp-<pid>" in dir, or 0. */
static int cube_being_written(const char *dir, char *tmp, size_t n) {
    DIR *dp = opendir(dir);
    struct dirent *de;
    int found = 0;
    if (!dp) return 0;
    while (!found && (de = readdir(dp))) {
        char *end;
        if (strncmp(de->d_name, "cube.h5.tmp-", 12) != 0) continue;
        long pid = strtol(de->d_name + 12, &end, 10);
        if (*end || pid <= 0 || pid > INT_MAX) continue;
        if (kill((pid_t)pid, 0) == 0 || errno == EPERM) { /* the writer is alive */
            snprintf(tmp, n, "%s/%s", dir, de->d_name);
            found = 1;
        }
    }
    closedir(dp);
    return found;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(((const am_view_model *)a)->name, ((const am_view_model *)b)->name);
}

/* Token labels: the cube reader's /tokens [P, A, S] (a cube of the wrong
 * shape does not open); a cube without it gets a notice. */
static int load_tokens(am_view_model *m, am_err *e) {
    char msg[4600];
    m->tokens = m->cube.tokens;
    if (m->tokens) return 0;
    snprintf(msg, sizeof msg,
             "%s has no /tokens (a cube from an older attnmix): positions are numbered instead of labelled with "
             "their tokens",
             m->cube.path);
    return (m->notice = strdup(msg)) ? 0 : am_fail_code(e, AM_E_NOMEM, "out of memory");
}

static int open_model(am_view_model *m, const char *dir, am_err *e) {
    char tmp[4500], msg[5000];
    am_err ce = {0};
    const int live_tmp = cube_being_written(dir, tmp, sizeof tmp);
    if (!is_file(m->path)) {
        snprintf(msg, sizeof msg,
                 "the cube of model '%s' is being written (%s); open the viewer again when the run is done", m->name,
                 tmp);
        return (m->problem = strdup(msg)) ? 0 : am_fail_code(e, AM_E_NOMEM, "out of memory");
    }
    if (am_cube_open(&m->cube, m->path, &ce) < 0) {
        m->problem = strdup(ce.msg);
        return m->problem ? 0 : am_fail_code(e, AM_E_NOMEM, "out of memory");
    }
    const size_t S = (size_t)m->cube.S;
    if (!(m->buf = am_malloc(S * S, sizeof *m->buf, "a map", e)) ||
        !(m->buf2 = am_malloc(S * S, sizeof *m->buf2, "a map", e)) ||
        !(m->map = am_malloc(S * S, sizeof *m->map, "a map", e)) ||
        !(m->map2 = am_malloc(S * S, sizeof *m->map2, "a map", e)))
        return -1;
    if (load_tokens(m, e) < 0) return -1;
    if (live_tmp && !m->notice) {
        snprintf(msg, sizeof msg, "a newer cube of model '%s' is being written (%s); this is the previous one", m->name,
                 tmp);
        if (!(m->notice = strdup(msg))) return am_fail_code(e, AM_E_NOMEM, "out of memory");
    }
    return 0;
}

int am_view_data_open(am_view_data *d, const char *out_dir, am_err *e) {
    DIR *dp = NULL;
    struct dirent *de;
    int cap = 0;
    char p[4410], dir[4400];
    memset(d, 0, sizeof *d);
    if (!realpath(out_dir, d->out_dir)) return am_fail_errno(e, "%s", out_dir);
    if (!am_is_dir(d->out_dir))
        return am_fail_code(e, AM_E_USAGE, "%s is not a directory (give the output_dir of a run)", out_dir);
    snprintf(p, sizeof p, "%s/figures/index.html", d->out_dir);
    d->has_report = is_file(p);
    if (!(dp = opendir(d->out_dir))) return am_fail_errno(e, "%s", out_dir);
    while ((de = readdir(dp))) {
        if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof d->models[0].name) continue;
        snprintf(dir, sizeof dir, "%s/%s", d->out_dir, de->d_name);
        snprintf(p, sizeof p, "%s/cube.h5", dir);
        char tmp[4500];
        if (!am_is_dir(dir) || (!is_file(p) && !cube_being_written(dir, tmp, sizeof tmp))) continue;
        if (d->n_models == cap) {
            cap = cap ? 2 * cap : 8;
            am_view_model *nm = realloc(d->models, (size_t)cap * sizeof *nm);
            if (!nm) {
                closedir(dp);
                return am_fail_code(e, AM_E_NOMEM, "out of memory");
            }
            d->models = nm;
        }
        am_view_model *m = &d->models[d->n_models++];
        memset(m, 0, sizeof *m);
        m->cube.file = m->cube.attn = H5I_INVALID_HID;
        snprintf(m->name, sizeof m->name, "%s", de->d_name);
        snprintf(m->path, sizeof m->path, "%s", p);
    }
    closedir(dp);
    if (d->n_models == 0)
        return am_fail_code(e, AM_E_NOTFOUND,
                            "%s holds no OUT/<model>/cube.h5 (give the output_dir of a run that has finished "
                            "its generate stage)",
                            out_dir);
    qsort(d->models, (size_t)d->n_models, sizeof *d->models, cmp_names);
    for (int i = 0; i < d->n_models; i++) {
        am_view_model *m = &d->models[i];
        snprintf(dir, sizeof dir, "%s/%s", d->out_dir, m->name);
        if (open_model(m, dir, e) < 0) return -1;
        d->n_ok += !m->problem;
    }
    if (d->n_ok == 0) {
        size_t k = (size_t)snprintf(e->msg, sizeof e->msg, "%s: no cube can be shown:", out_dir);
        for (int i = 0; i < d->n_models && k < sizeof e->msg; i++)
            k += (size_t)snprintf(e->msg + k, sizeof e->msg - k, "\n  %s", d->models[i].problem);
        e->code = AM_E_NOTFOUND;
        return -1;
    }
    return 0;
}

void am_view_data_close(am_view_data *d) {
    for (int i = 0; d->models && i < d->n_models; i++) {
        am_view_model *m = &d->models[i];
        if (!m->problem) am_cube_close(&m->cube);
        free(m->problem);
        free(m->notice);
        free(m->buf);
        free(m->buf2);
        free(m->map);
        free(m->map2);
    }
    free(d->models);
    memset(d, 0, sizeof *d);
}

/* ---- JSON -------------------------------------------------------------------- */

/* A JSON string of s; bytes that are not UTF-8 (a damaged file) become '?'. */
static json_t *jstr(const char *s) {
    json_t *j = json_string(s);
    if (j) return j;
    char *t = strdup(s);
    if (!t) return NULL;
    for (char *p = t; *p; p++)
        if ((unsigned char)*p >= 0x80) *p = '?';
    j = json_string(t);
    free(t);
    return j;
}

static json_t *str_or_null(const char *s) { return s ? jstr(s) : json_null(); }

static json_t *ints(const int32_t *v, int n) {
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++) json_array_append_new(a, json_integer(v[i]));
    return a;
}

static json_t *model_json(const am_view_model *m) {
    json_t *o = json_object();
    json_object_set_new(o, "name", jstr(m->name));
    json_object_set_new(o, "problem", str_or_null(m->problem));
    json_object_set_new(o, "notice", str_or_null(m->notice));
    if (m->problem) return o;
    const am_cube *c = &m->cube;
    json_t *pairs = json_array(), *alphas = json_array(), *lengths = json_array(), *texts = json_array(),
           *prompts = json_array();
    for (int p = 0; p < c->P; p++) {
        json_t *lr = json_array(), *tr = json_array();
        json_array_append_new(pairs, jstr(c->pair[p]));
        for (int a = 0; a < c->A; a++) {
            json_array_append_new(lr, json_integer(c->length[p * c->A + a]));
            json_array_append_new(tr, c->text ? jstr(c->text[p * c->A + a]) : json_null());
        }
        json_array_append_new(lengths, lr);
        json_array_append_new(texts, tr);
        json_array_append_new(prompts, json_pack("[oo]", str_or_null(c->prompt_a ? c->prompt_a[p] : NULL),
                                                 str_or_null(c->prompt_b ? c->prompt_b[p] : NULL)));
    }
    for (int a = 0; a < c->A; a++) json_array_append_new(alphas, json_real(c->alpha[a]));
    json_object_set_new(o, "P", json_integer(c->P));
    json_object_set_new(o, "A", json_integer(c->A));
    json_object_set_new(o, "L", json_integer(c->L));
    json_object_set_new(o, "H", json_integer(c->H));
    json_object_set_new(o, "S", json_integer(c->S));
    json_object_set_new(o, "dtype", json_string(c->dtype));
    json_object_set_new(o, "tokens", json_boolean(m->tokens != NULL));
    json_object_set_new(o, "pairs", pairs);
    json_object_set_new(o, "alphas", alphas);
    json_object_set_new(o, "layers", ints(c->layer, c->L));
    json_object_set_new(o, "heads", ints(c->head, c->H));
    json_object_set_new(o, "lengths", lengths);
    json_object_set_new(o, "prompt_length", c->prompt_length ? ints(c->prompt_length, c->P) : json_null());
    json_object_set_new(o, "texts", texts);
    json_object_set_new(o, "prompts", prompts);
    return o;
}

static int dump(json_t *root, char **json, am_err *e) {
    *json = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    return *json ? 0 : am_fail_code(e, AM_E_NOMEM, "out of memory writing JSON");
}

int am_view_index_json(const am_view_data *d, char **json, am_err *e) {
    json_t *root = json_object(), *models = json_array();
    const char *base = strrchr(d->out_dir, '/');
    json_object_set_new(root, "out", jstr(base && base[1] ? base + 1 : d->out_dir));
    json_object_set_new(root, "report", d->has_report ? json_string("files/figures/index.html") : json_null());
    for (int i = 0; i < d->n_models; i++) json_array_append_new(models, model_json(&d->models[i]));
    json_object_set_new(root, "models", models);
    return dump(root, json, e);
}

/* The map of q at alpha index a into m->buf (double), n x n. */
static int read_into(am_view_model *m, const am_view_query *q, int a, int n, double *out, am_err *e) {
    const am_cube *c = &m->cube;
    const int na = c->length[q->pair * c->A + a];
    if (q->head >= 0) {
        if (am_cube_read_map(c, q->pair, a, q->layer, q->head, m->map, e) < 0) return -1;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) out[(size_t)i * n + j] = m->map[(size_t)i * na + j];
        return 0;
    }
    /* mean or standard deviation (population, over the H heads) per cell */
    memset(out, 0, (size_t)n * n * sizeof *out);
    memset(m->buf2, 0, (size_t)n * n * sizeof *m->buf2);
    for (int h = 0; h < c->H; h++) {
        if (am_cube_read_map(c, q->pair, a, q->layer, h, m->map, e) < 0) return -1;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                const double v = m->map[(size_t)i * na + j];
                out[(size_t)i * n + j] += v;
                m->buf2[(size_t)i * n + j] += v * v;
            }
    }
    for (size_t k = 0; k < (size_t)n * n; k++) {
        const double mean = out[k] / c->H, var = m->buf2[k] / c->H - mean * mean;
        out[k] = q->head == AM_VIEW_MEAN ? mean : sqrt(var > 0 ? var : 0);
    }
    return 0;
}

static const char *alpha_label(const am_cube *c, int a, char *buf, size_t n) {
    snprintf(buf, n, "%g", c->alpha[a]);
    return buf;
}

int am_view_map_json(am_view_data *d, const am_view_query *q, char **json, am_err *e) {
    *json = NULL;
    if (q->model < 0 || q->model >= d->n_models)
        return am_fail_code(e, AM_E_USAGE, "no model %d (%d models)", q->model, d->n_models);
    am_view_model *m = &d->models[q->model];
    if (m->problem) return am_fail_code(e, AM_E_NOTFOUND, "%s", m->problem);
    const am_cube *c = &m->cube;
    if (q->pair < 0 || q->pair >= c->P || q->alpha < 0 || q->alpha >= c->A || q->layer < 0 || q->layer >= c->L ||
        q->head < AM_VIEW_STD || q->head >= c->H || q->diff < AM_VIEW_NO_DIFF || q->diff >= c->A)
        return am_fail_code(e, AM_E_USAGE, "map outside the cube of model '%s' [P %d, A %d, L %d, H %d]", m->name, c->P,
                            c->A, c->L, c->H);
    int n = c->length[q->pair * c->A + q->alpha];
    if (q->diff >= 0 && c->length[q->pair * c->A + q->diff] < n) n = c->length[q->pair * c->A + q->diff];
    double *v = m->buf;
    double *w = NULL;
    if (read_into(m, q, q->alpha, n, v, e) < 0) return -1;
    if (q->diff >= 0) {
        /* the other alpha's map in buf2's place is needed by mean/std: keep it in a copy */
        if (!(w = am_malloc((size_t)n * n, sizeof *w, "a map", e))) return -1;
        memcpy(w, v, (size_t)n * n * sizeof *w);
        if (read_into(m, q, q->diff, n, v, e) < 0) {
            free(w);
            return -1;
        }
        for (size_t k = 0; k < (size_t)n * n; k++) v[k] = w[k] - v[k];
        free(w);
    }
    json_t *root = json_object(), *vals = json_array(), *toks = json_array();
    double lo = n ? v[0] : 0, hi = lo;
    for (size_t k = 0; k < (size_t)n * n; k++) {
        json_array_append_new(vals, json_real(v[k]));
        if (v[k] < lo) lo = v[k];
        if (v[k] > hi) hi = v[k];
    }
    for (int s = 0; s < n; s++) {
        char num[32];
        const char *t = NULL;
        if (m->tokens) t = m->tokens[((size_t)q->pair * c->A + q->alpha) * c->S + s];
        if (!t) snprintf(num, sizeof num, "%d", s), t = num;
        json_array_append_new(toks, jstr(t));
    }
    char al[32];
    json_object_set_new(root, "n", json_integer(n));
    json_object_set_new(root, "values", vals);
    json_object_set_new(root, "tokens", toks);
    json_object_set_new(root, "labelled", json_boolean(m->tokens != NULL));
    json_object_set_new(root, "prompt_length", json_integer(c->prompt_length ? c->prompt_length[q->pair] : 0));
    json_object_set_new(root, "min", json_real(lo));
    json_object_set_new(root, "max", json_real(hi));
    json_object_set_new(root, "diff", q->diff >= 0 ? json_string(alpha_label(c, q->diff, al, sizeof al)) : json_null());
    return dump(root, json, e);
}

int am_view_parse_index(const char *s, int n, int *v) {
    char *end;
    if (!s || !*s) return -1;
    if (!strcmp(s, "mean")) return *v = AM_VIEW_MEAN, 0;
    if (!strcmp(s, "std")) return *v = AM_VIEW_STD, 0;
    if (*s < '0' || *s > '9') return -1;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (*end || errno || x < 0 || x >= n) return -1;
    *v = (int)x;
    return 0;
}
