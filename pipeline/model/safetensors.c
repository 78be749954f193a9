/* safetensors reader: single file or sharded directory, memory-mapped.
 *
 * File layout: u64 little-endian N, N bytes of JSON header (may be padded
 * with spaces), then the data area. Each header entry is
 *   "name": {"dtype": "BF16", "shape": [a, b], "data_offsets": [begin, end]}
 * with offsets relative to the start of the data area. "__metadata__" holds
 * free-form strings and is ignored. */
#include "model/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"

#define ST_MAX_HEADER (100u * 1000u * 1000u) /* bytes; real headers are < 1 MB */

size_t am_dtype_size(am_dtype t) {
    switch (t) {
    case AM_F32: return 4;
    case AM_F16: return 2;
    case AM_BF16: return 2;
    }
    return 0;
}

const char *am_dtype_name(am_dtype t) {
    switch (t) {
    case AM_F32: return "F32";
    case AM_F16: return "F16";
    case AM_BF16: return "BF16";
    }
    return "?";
}

static int dtype_parse(const char *s, am_dtype *t) {
    if (!strcmp(s, "F32")) *t = AM_F32;
    else if (!strcmp(s, "F16")) *t = AM_F16;
    else if (!strcmp(s, "BF16")) *t = AM_BF16;
    else return -1;
    return 0;
}

/* ---- growable tensor list ------------------------------------------------ */

typedef struct st_entry {
    am_tensor t;
    size_t begin, end; /* data_offsets, relative to the data area */
} st_entry;

typedef struct st_list {
    st_entry *v; /* [n] */
    int n, cap;
} st_list;

static int list_push(st_list *l, am_err *e) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 256;
        st_entry *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) return am_fail_code(e, AM_E_NOMEM, "out of memory for tensor list (%d tensors)", cap);
        l->v = v;
        l->cap = cap;
    }
    memset(&l->v[l->n], 0, sizeof l->v[l->n]);
    l->n++;
    return 0;
}

static int cmp_begin(const void *a, const void *b) {
    const st_entry *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static int cmp_name(const void *a, const void *b) {
    const st_entry *x = a, *y = b;
    return strcmp(x->t.name, y->t.name);
}

/* ---- one file ------------------------------------------------------------- */

static void shape_str(const int64_t *shape, int ndim, char *buf, size_t n) {
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

/* Parse one header entry into l->v[l->n - 1]; path for messages. */
static int parse_entry(const char *path, const char *name, json_t *v, size_t data_len, st_entry *en, am_err *e) {
    if (!json_is_object(v))
        return am_fail_code(e, AM_E_CORRUPT, "%s: tensor \"%s\": header entry is not a JSON object", path, name);
    json_t *jd = json_object_get(v, "dtype");
    json_t *js = json_object_get(v, "shape");
    json_t *jo = json_object_get(v, "data_offsets");
    if (!json_is_string(jd))
        return am_fail_code(e, AM_E_CORRUPT, "%s: tensor \"%s\": \"dtype\" missing or not a string", path, name);
    if (!json_is_array(js))
        return am_fail_code(e, AM_E_CORRUPT, "%s: tensor \"%s\": \"shape\" missing or not an array", path, name);
    if (!json_is_array(jo) || json_array_size(jo) != 2)
        return am_fail_code(e, AM_E_CORRUPT, "%s: tensor \"%s\": \"data_offsets\" must be an array [begin, end]", path,
                            name);
    if (dtype_parse(json_string_value(jd), &en->t.dtype))
        return am_fail(e,
                       "%s: tensor \"%s\": dtype %s is not supported (BF16, F16 and F32 only; convert the "
                       "checkpoint)",
                       path, name, json_string_value(jd));
    size_t nd = json_array_size(js);
    if (nd < 1 || nd > 4)
        return am_fail_code(e, AM_E_CORRUPT, "%s: tensor \"%s\": %zu dimensions (1 to 4 supported)", path, name, nd);
    en->t.ndim = (int)nd;
    /* elements, checked against overflow: every factor < 2^40 and product < 2^62 */
    unsigned __int128 nel = 1;
    for (size_t i = 0; i < nd; i++) {
        json_t *d = json_array_get(js, i);
        if (!json_is_integer(d) || json_integer_value(d) < 0 || json_integer_value(d) > ((json_int_t)1 << 40))
            return am_fail_code(e, AM_E_CORRUPT, "%s: tensor \"%s\": shape[%zu] is not a valid size", path, name, i);
        en->t.shape[i] = json_integer_value(d);
        nel *= (unsigned __int128)en->t.shape[i];
        if (nel > ((unsigned __int128)1 << 62))
            return am_fail_code(e, AM_E_CORRUPT, "%s: tensor \"%s\": shape too large", path, name);
    }
    json_t *b = json_array_get(jo, 0), *t = json_array_get(jo, 1);
    if (!json_is_integer(b) || !json_is_integer(t) || json_integer_value(b) < 0 ||
        json_integer_value(t) < json_integer_value(b))
        return am_fail_code(e, AM_E_CORRUPT, "%s: tensor \"%s\": data_offsets must be integers with 0 <= begin <= end",
                            path, name);
    en->begin = (size_t)json_integer_value(b);
    en->end = (size_t)json_integer_value(t);
    unsigned __int128 want = nel * am_dtype_size(en->t.dtype);
    char sh[128];
    shape_str(en->t.shape, en->t.ndim, sh, sizeof sh);
    if (want != (unsigned __int128)(en->end - en->begin))
        return am_fail_code(e, AM_E_CORRUPT,
                            "%s: tensor \"%s\": shape %s x %s (%zu bytes) needs %llu bytes but "
                            "data_offsets [%zu, %zu] span %zu bytes",
                            path, name, sh, am_dtype_name(en->t.dtype), am_dtype_size(en->t.dtype),
                            (unsigned long long)want, en->begin, en->end, en->end - en->begin);
    if (en->end > data_len)
        return am_fail_code(e, AM_E_CORRUPT,
                            "%s: tensor \"%s\": data_offsets [%zu, %zu] run past the end of the data "
                            "area (%zu bytes); the file is truncated or corrupt",
                            path, name, en->begin, en->end, data_len);
    en->t.nbytes = en->end - en->begin;
    if (!(en->t.name = strdup(name))) return am_fail_code(e, AM_E_NOMEM, "out of memory");
    return 0;
}

/* Map file `path` into f and append its tensors to l (file index fi). */
static int file_open(am_st_file *f, int fi, const char *path, st_list *l, am_err *e) {
    int rc = -1, fd = -1;
    json_t *root = NULL;
    int first = l->n;
    struct stat sb;
    unsigned char lenb[8];
    uint64_t hl = 0;
    json_error_t je;
    const char *key;
    json_t *val;
    size_t data_len;           /* bytes after the header */
    const unsigned char *data; /* [data_len] the data area */
    int n;                     /* tensors of this file */
    st_entry *mine;            /* [n] this file's entries in l */
    if (!(f->path = strdup(path))) return am_fail_code(e, AM_E_NOMEM, "out of memory");
    /* O_NONBLOCK: a FIFO named as a shard would block open() forever; it is refused below */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        am_fail_errno(e, "cannot open %s", path);
        goto out;
    }
    if (fstat(fd, &sb)) {
        am_fail_errno(e, "cannot stat %s", path);
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        am_fail_code(e, AM_E_CORRUPT, "%s: not a regular file", path);
        goto out;
    }
    f->size = (size_t)sb.st_size;
    if (f->size < 8) {
        am_fail_code(e, AM_E_CORRUPT, "%s: file is %zu bytes, too short for the 8-byte header length (truncated?)",
                     path, f->size);
        goto out;
    }
    if (pread(fd, lenb, 8, 0) != 8) {
        am_fail_errno(e, "%s: cannot read the header length", path);
        goto out;
    }
    for (int i = 7; i >= 0; i--) hl = (hl << 8) | lenb[i];
    if (hl > ST_MAX_HEADER) {
        am_fail_code(e, AM_E_CORRUPT, "%s: header length %llu bytes is absurd (limit %u); not a safetensors file?",
                     path, (unsigned long long)hl, ST_MAX_HEADER);
        goto out;
    }
    if (hl > f->size - 8) {
        am_fail_code(e, AM_E_CORRUPT, "%s: header length %llu bytes exceeds the file size %zu (truncated?)", path,
                     (unsigned long long)hl, f->size);
        goto out;
    }
    f->header_len = (size_t)hl;
    f->map = mmap(NULL, f->size, PROT_READ, MAP_SHARED, fd, 0);
    if (f->map == MAP_FAILED) {
        f->map = NULL;
        am_fail_errno(e, "%s: mmap of %zu bytes failed", path, f->size);
        goto out;
    }
    root = json_loadb((const char *)f->map + 8, f->header_len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        am_fail_code(e, AM_E_CORRUPT, "%s: header is not valid JSON (line %d, column %d: %s)", path, je.line, je.column,
                     je.text);
        goto out;
    }
    if (!json_is_object(root)) {
        am_fail_code(e, AM_E_CORRUPT, "%s: header is not a JSON object", path);
        goto out;
    }
    data_len = f->size - 8 - f->header_len;
    data = (const unsigned char *)f->map + 8 + f->header_len;
    json_object_foreach(root, key, val) {
        if (!strcmp(key, "__metadata__")) continue;
        if (list_push(l, e)) goto out;
        st_entry *en = &l->v[l->n - 1];
        if (parse_entry(path, key, val, data_len, en, e)) {
            l->n--;
            free(en->t.name);
            goto out;
        }
        en->t.data = data + en->begin;
        en->t.file = fi;
    }
    /* ranges must not overlap: sort this file's entries by offset */
    n = l->n - first;
    mine = n > 0 ? l->v + first : NULL;
    if (n > 1) qsort(mine, (size_t)n, sizeof *mine, cmp_begin);
    for (int i = 1; i < n; i++)
        if (mine[i].begin < mine[i - 1].end) {
            am_fail_code(e, AM_E_CORRUPT,
                         "%s: tensors \"%s\" [%zu, %zu] and \"%s\" [%zu, %zu] have overlapping "
                         "data_offsets",
                         path, mine[i - 1].t.name, mine[i - 1].begin, mine[i - 1].end, mine[i].t.name, mine[i].begin,
                         mine[i].end);
            goto out;
        }
    rc = 0;
out:
    if (fd >= 0) close(fd);
    json_decref(root);
    return rc;
}

/* ---- directory / index ---------------------------------------------------- */

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static int add_file(am_safetensors *st, const char *path, st_list *l, am_err *e) {
    am_st_file *f = realloc(st->files, (size_t)(st->nfiles + 1) * sizeof *f);
    if (!f) return am_fail_code(e, AM_E_NOMEM, "out of memory");
    st->files = f;
    memset(&f[st->nfiles], 0, sizeof *f);
    st->nfiles++;
    return file_open(&f[st->nfiles - 1], st->nfiles - 1, path, l, e);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sharded checkpoint: read the index, open every listed shard (sorted by
 * name), then check every tensor sits in the shard the index names. */
static int open_index(am_safetensors *st, const char *index, st_list *l, am_err *e) {
    int rc = -1;
    json_error_t je;
    struct stat ib;
    /* a FIFO would block the read forever */
    if (stat(index, &ib) == 0 && !S_ISREG(ib.st_mode))
        return am_fail_code(e, AM_E_CORRUPT, "%s: not a regular file", index);
    json_t *root = json_load_file(index, JSON_REJECT_DUPLICATES, &je);
    json_t *wm = NULL, *val;
    const char *key;
    char **shards = NULL; /* [nshards] unique shard names, sorted */
    size_t nshards = 0;
    char dir[4096], path[8192];
    snprintf(dir, sizeof dir, "%s", index);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    if (!root) {
        if (!am_exists(index)) am_fail_code(e, AM_E_NOTFOUND, "%s: no such file", index);
        else
            am_fail_code(e, AM_E_CORRUPT, "%s: not valid JSON (line %d, column %d: %s)", index, je.line, je.column,
                         je.text);
        goto out;
    }
    wm = json_object_get(root, "weight_map");
    if (!json_is_object(wm)) {
        am_fail_code(e, AM_E_CORRUPT, "%s: key \"weight_map\" missing or not an object", index);
        goto out;
    }
    if (json_object_size(wm) == 0) {
        am_fail_code(e, AM_E_CORRUPT, "%s: \"weight_map\" is empty", index);
        goto out;
    }
    shards = am_calloc(json_object_size(wm), sizeof *shards, "the shard list", e);
    if (!shards) goto out;
    json_object_foreach(wm, key, val) {
        if (!json_is_string(val)) {
            am_fail_code(e, AM_E_CORRUPT, "%s: weight_map[\"%s\"] is not a string", index, key);
            goto out;
        }
        const char *s = json_string_value(val);
        if (!*s || strchr(s, '/') || !strcmp(s, "..")) {
            am_fail_code(e, AM_E_CORRUPT, "%s: weight_map[\"%s\"] = \"%s\" is not a file name in %s", index, key, s,
                         dir);
            goto out;
        }
        size_t i;
        for (i = 0; i < nshards; i++)
            if (!strcmp(shards[i], s)) break;
        if (i == nshards) shards[nshards++] = (char *)s;
    }
    qsort(shards, nshards, sizeof *shards, cmp_str);
    for (size_t i = 0; i < nshards; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, shards[i]);
        if (!am_exists(path)) {
            const char *who = "";
            json_object_foreach(wm, key, val) if (!strcmp(json_string_value(val), shards[i])) {
                who = key;
                break;
            }
            am_fail_code(e, AM_E_NOTFOUND, "%s lists shard \"%s\" (e.g. for tensor \"%s\") but %s does not exist",
                         index, shards[i], who, path);
            goto out;
        }
        if (add_file(st, path, l, e)) goto out;
    }
    /* every tensor in a shard must be in the map, pointing at that shard */
    for (int i = 0; i < l->n; i++) {
        const char *name = l->v[i].t.name;
        json_t *s = json_object_get(wm, name);
        const char *fname = strrchr(st->files[l->v[i].t.file].path, '/') + 1;
        if (!s) {
            am_fail_code(e, AM_E_CORRUPT, "%s: tensor \"%s\" is stored in %s but not listed in the weight_map of %s",
                         st->files[l->v[i].t.file].path, name, fname, index);
            goto out;
        }
        if (strcmp(json_string_value(s), fname)) {
            am_fail_code(e, AM_E_CORRUPT, "%s: tensor \"%s\" is stored in %s but the index says %s", index, name, fname,
                         json_string_value(s));
            goto out;
        }
    }
    if ((size_t)l->n != json_object_size(wm)) {
        /* some map entry names a tensor its shard does not hold */
        json_object_foreach(wm, key, val) {
            int found = 0;
            for (int i = 0; i < l->n && !found; i++) found = !strcmp(l->v[i].t.name, key);
            if (!found) {
                am_fail_code(e, AM_E_NOTFOUND, "%s: tensor \"%s\" is mapped to %s/%s, which does not contain it", index,
                             key, dir, json_string_value(val));
                goto out;
            }
        }
    }
    rc = 0;
out:
    free(shards);
    json_decref(root);
    return rc;
}

int am_st_open(am_safetensors *st, const char *path, am_err *e) {
    memset(st, 0, sizeof *st);
    st_list l = {0};
    char p[8192];
    int rc = -1;
    if (am_is_dir(path)) {
        snprintf(p, sizeof p, "%s/model.safetensors.index.json", path);
        if (am_exists(p)) rc = open_index(st, p, &l, e);
        else {
            snprintf(p, sizeof p, "%s/model.safetensors", path);
            if (!am_exists(p)) {
                am_fail_code(e, AM_E_NOTFOUND,
                             "%s: neither model.safetensors nor model.safetensors.index.json "
                             "found (is this a Hugging Face checkpoint directory?)",
                             path);
                goto out;
            }
            rc = add_file(st, p, &l, e);
        }
    } else if (ends_with(path, ".json")) {
        rc = open_index(st, path, &l, e);
    } else {
        rc = add_file(st, path, &l, e);
    }
    if (rc) goto out;
    rc = -1;
    if (l.n == 0) {
        am_fail_code(e, AM_E_CORRUPT, "%s: checkpoint holds no tensors", path);
        goto out;
    }
    qsort(l.v, (size_t)l.n, sizeof *l.v, cmp_name);
    for (int i = 1; i < l.n; i++)
        if (!strcmp(l.v[i].t.name, l.v[i - 1].t.name)) {
            am_fail_code(e, AM_E_CORRUPT, "%s: tensor \"%s\" is stored twice (in %s and %s)", path, l.v[i].t.name,
                         st->files[l.v[i - 1].t.file].path, st->files[l.v[i].t.file].path);
            goto out;
        }
    st->tensors = am_calloc((size_t)l.n, sizeof *st->tensors, "the tensor list", e);
    if (!st->tensors) goto out;
    for (int i = 0; i < l.n; i++) st->tensors[i] = l.v[i].t;
    st->ntensors = l.n;
    l.n = 0; /* names now owned by st */
    rc = 0;
out:
    for (int i = 0; i < l.n; i++) free(l.v[i].t.name);
    free(l.v);
    if (rc) am_st_close(st);
    return rc;
}

void am_st_close(am_safetensors *st) {
    if (!st) return;
    for (int i = 0; i < st->ntensors; i++) free(st->tensors[i].name);
    free(st->tensors);
    for (int i = 0; i < st->nfiles; i++) {
        if (st->files[i].map) munmap(st->files[i].map, st->files[i].size);
        free(st->files[i].path);
    }
    free(st->files);
    memset(st, 0, sizeof *st);
}

const am_tensor *am_st_find(const am_safetensors *st, const char *name) {
    int lo = 0, hi = st->ntensors - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(st->tensors[mid].name, name);
        if (c == 0) return &st->tensors[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return NULL;
}
