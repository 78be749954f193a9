/* Weight streaming (see wstream.h): the plan, and a reader thread that fills
 * two buffers in turn with pread, one item (a layer or an lm_head block)
 * ahead of the forward pass. After each read the range is dropped from the
 * page cache (POSIX_FADV_DONTNEED), so the streamed bytes do not push the
 * resident layers' pages out. */
#include "model/wstream.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NT 11             /* tensors of one layer */
#define ALIGN 4096        /* placement of tensors in a buffer */
#define CHUNK (64u << 20) /* bytes of one pread */

static void layer_tensors(const am_qwen3_layer *w, const am_tensor *t[NT]) {
    const am_tensor *a[NT] = {w->input_norm, w->q_proj,    w->k_proj,    w->v_proj,  w->o_proj,   w->q_norm,
                              w->k_norm,     w->post_norm, w->gate_proj, w->up_proj, w->down_proj};
    memcpy(t, a, sizeof a);
}

static uint64_t round_up(uint64_t x) { return (x + ALIGN - 1) / ALIGN * ALIGN; }

uint64_t am_qwen3_layer_bytes(const am_qwen3 *m, int l) {
    const am_tensor *t[NT];
    layer_tensors(&m->layers[l], t);
    uint64_t b = 0;
    for (int i = 0; i < NT; i++) b += t[i]->nbytes;
    return b;
}

/* Bytes a buffer needs to hold layer l with each tensor at an ALIGN boundary. */
static uint64_t layer_buf_bytes(const am_qwen3 *m, int l) {
    const am_tensor *t[NT];
    layer_tensors(&m->layers[l], t);
    uint64_t b = 0;
    for (int i = 0; i < NT; i++) b += round_up(t[i]->nbytes);
    return b;
}

void am_wstream_plan(const am_qwen3 *m, uint64_t budget, am_wplan *p) {
    memset(p, 0, sizeof *p);
    int L = m->cfg.num_hidden_layers;
    uint64_t head = m->lm_head->nbytes, buf = 0;
    p->n_layers = L;
    p->total = m->final_norm->nbytes + head;
    for (int l = 0; l < L; l++) {
        uint64_t b = am_qwen3_layer_bytes(m, l), bb = layer_buf_bytes(m, l);
        p->total += b;
        if (b > p->layer_max) p->layer_max = b;
        if (bb > buf) buf = bb;
    }
    if (budget >= p->total) {
        p->n_resident = L;
        p->resident = p->total;
        return;
    }
    /* layers from the first while they fit, then the lm_head if it still fits */
    uint64_t used = m->final_norm->nbytes;
    while (p->n_resident < L && used + am_qwen3_layer_bytes(m, p->n_resident) <= budget)
        used += am_qwen3_layer_bytes(m, p->n_resident++);
    if (used + head <= budget) {
        used += head;
    } else {
        size_t row = (size_t)m->cfg.hidden_size * am_dtype_size(m->lm_head->dtype);
        uint64_t rows = buf / row;
        if (rows < 64) rows = 64;
        if (rows > (uint64_t)m->cfg.vocab_size) rows = (uint64_t)m->cfg.vocab_size;
        p->head_streamed = 1;
        p->head_rows = (int)rows;
        if (round_up(rows * row) > buf) buf = round_up(rows * row);
    }
    p->resident = used;
    p->buffers = 2 * buf;
}

int am_wplan_streams(const am_wplan *p) { return p->n_resident < p->n_layers || p->head_streamed; }

/* ---- the reader ----------------------------------------------------------- */

enum { EMPTY = 0, READING, READY, FAILED };

typedef struct slot {
    char *buf;
    int item; /* -1: none */
    int state;
    am_tensor t[NT];
    am_qwen3_layer w;
    int rows; /* head block: rows held */
} slot;

struct am_wstream {
    const am_qwen3 *m;
    am_wplan plan;
    int *fd;     /* [nfiles] */
    int n_items; /* streamed layers (n_resident..L-1), then head blocks */
    int n_head;  /* head blocks */
    slot s[2];
    int cur; /* slot handed out last, -1 none */
    uint64_t bytes_read;
    am_err err; /* the reader's failure */
    int req;    /* slot the reader is asked to fill, -1 none */
    int quit, started;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static int pread_full(am_wstream *ws, int file, char *dst, size_t n, uint64_t off, const char *what, am_err *e) {
    const char *path = ws->m->st.files[file].path;
    int fd = ws->fd[file];
    size_t done = 0;
    while (done < n) {
        size_t want = n - done < CHUNK ? n - done : CHUNK;
        ssize_t r = pread(fd, dst + done, want, (off_t)(off + done));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0)
            return am_fail_errno(e, "%s: reading %s (%zu bytes at offset %llu) failed", path, what, n,
                                 (unsigned long long)off);
        if (r == 0)
            return am_fail_code(e, AM_E_CORRUPT, "%s: %s ends early (file shorter than its header says)", path, what);
        done += (size_t)r;
    }
    (void)posix_fadvise(fd, (off_t)off, (off_t)n, POSIX_FADV_DONTNEED);
    return 0;
}

static uint64_t file_offset(const am_wstream *ws, const am_tensor *t) {
    return (uint64_t)((const char *)t->data - (const char *)ws->m->st.files[t->file].map);
}

/* Read item it into slot s (called by the reader thread, without the lock). */
static int read_item(am_wstream *ws, slot *s, int it, uint64_t *nread, am_err *e) {
    const am_qwen3 *m = ws->m;
    int nl = ws->plan.n_layers - ws->plan.n_resident;
    *nread = 0;
    if (it < nl) {
        int l = ws->plan.n_resident + it;
        const am_tensor *src[NT];
        layer_tensors(&m->layers[l], src);
        uint64_t pos = 0;
        for (int i = 0; i < NT; i++) {
            s->t[i] = *src[i];
            s->t[i].data = s->buf + pos;
            if (pread_full(ws, src[i]->file, s->buf + pos, src[i]->nbytes, file_offset(ws, src[i]), src[i]->name, e))
                return -1;
            *nread += src[i]->nbytes;
            pos += round_up(src[i]->nbytes);
        }
        am_qwen3_layer *w = &s->w;
        const am_tensor **dst[NT] = {&w->input_norm, &w->q_proj,  &w->k_proj,   &w->v_proj,
                                     &w->o_proj,     &w->q_norm,  &w->k_norm,   &w->post_norm,
                                     &w->gate_proj,  &w->up_proj, &w->down_proj};
        for (int i = 0; i < NT; i++) *dst[i] = &s->t[i];
        return 0;
    }
    int b = it - nl, V = m->cfg.vocab_size, r0 = b * ws->plan.head_rows;
    int rows = V - r0 < ws->plan.head_rows ? V - r0 : ws->plan.head_rows;
    size_t row = (size_t)m->cfg.hidden_size * am_dtype_size(m->lm_head->dtype);
    char what[256];
    snprintf(what, sizeof what, "tensor \"%s\" rows %d..%d", m->lm_head->name, r0, r0 + rows - 1);
    if (pread_full(ws, m->lm_head->file, s->buf, (size_t)rows * row, file_offset(ws, m->lm_head) + (uint64_t)r0 * row,
                   what, e))
        return -1;
    *nread = (uint64_t)rows * row;
    s->rows = rows;
    return 0;
}

static void *reader(void *arg) {
    am_wstream *ws = arg;
    pthread_mutex_lock(&ws->mu);
    for (;;) {
        while (ws->req < 0 && !ws->quit) pthread_cond_wait(&ws->cv, &ws->mu);
        if (ws->quit) break;
        slot *s = &ws->s[ws->req];
        int it = s->item;
        pthread_mutex_unlock(&ws->mu);
        am_err e = {0};
        uint64_t n = 0;
        int rc = read_item(ws, s, it, &n, &e);
        pthread_mutex_lock(&ws->mu);
        ws->bytes_read += n;
        if (rc) ws->err = e;
        s->state = rc ? FAILED : READY;
        ws->req = -1;
        pthread_cond_broadcast(&ws->cv);
    }
    pthread_mutex_unlock(&ws->mu);
    return NULL;
}

/* With the lock held: wait until the reader is idle, then ask it for item it
 * in slot k. */
static void request(am_wstream *ws, int k, int it) {
    while (ws->req >= 0) pthread_cond_wait(&ws->cv, &ws->mu);
    ws->s[k].item = it;
    ws->s[k].state = READING;
    ws->req = k;
    pthread_cond_broadcast(&ws->cv);
}

/* The slot holding item it, read; queues the next item into the other slot. */
static int acquire(am_wstream *ws, int it, slot **out, am_err *e) {
    pthread_mutex_lock(&ws->mu);
    int k = ws->s[0].item == it && ws->s[0].state != FAILED   ? 0
            : ws->s[1].item == it && ws->s[1].state != FAILED ? 1
                                                              : -1;
    if (k < 0) { /* not queued (first call, or an out-of-order request): read it now */
        k = ws->cur < 0 ? 0 : 1 - ws->cur;
        request(ws, k, it);
    }
    while (ws->s[k].state == READING) pthread_cond_wait(&ws->cv, &ws->mu);
    if (ws->s[k].state == FAILED) {
        *e = ws->err;
        ws->s[k].item = -1;
        pthread_mutex_unlock(&ws->mu);
        return -1;
    }
    ws->cur = k;
    int next = (it + 1) % ws->n_items;
    if (ws->s[1 - k].item != next && next != it) request(ws, 1 - k, next);
    pthread_mutex_unlock(&ws->mu);
    *out = &ws->s[k];
    return 0;
}

int am_wstream_layer(am_wstream *ws, int l, const am_qwen3_layer **w, am_err *e) {
    if (l < ws->plan.n_resident) {
        *w = &ws->m->layers[l];
        return 0;
    }
    slot *s;
    if (acquire(ws, l - ws->plan.n_resident, &s, e)) return am_wrap(e, "streaming layer %d", l);
    *w = &s->w;
    return 0;
}

int am_wstream_head_blocks(const am_wstream *ws) { return ws->n_head; }

int am_wstream_head(am_wstream *ws, int b, const void **rows_data, int *rows, am_err *e) {
    slot *s;
    if (acquire(ws, ws->plan.n_layers - ws->plan.n_resident + b, &s, e))
        return am_wrap(e, "streaming lm_head block %d", b);
    *rows_data = s->buf;
    *rows = s->rows;
    return 0;
}

uint64_t am_wstream_bytes_read(const am_wstream *ws) {
    if (!ws) return 0;
    pthread_mutex_lock((pthread_mutex_t *)&ws->mu);
    uint64_t n = ws->bytes_read;
    pthread_mutex_unlock((pthread_mutex_t *)&ws->mu);
    return n;
}

int am_wstream_open(am_wstream **out, const am_qwen3 *m, const am_wplan *p, am_err *e) {
    *out = NULL;
    if (!am_wplan_streams(p)) return am_fail(e, "weight streaming for %s: the plan keeps every weight mapped", m->dir);
    size_t half = (size_t)(p->buffers / 2);
    am_wstream *ws = am_calloc(1, sizeof *ws, "the weight streamer", e);
    if (!ws) return -1;
    ws->m = m;
    ws->plan = *p;
    ws->cur = ws->req = -1;
    ws->s[0].item = ws->s[1].item = -1;
    ws->n_head = p->head_streamed ? (m->cfg.vocab_size + p->head_rows - 1) / p->head_rows : 0;
    ws->n_items = p->n_layers - p->n_resident + ws->n_head;
    pthread_mutex_init(&ws->mu, NULL);
    pthread_cond_init(&ws->cv, NULL);
    if (!(ws->fd = am_malloc((size_t)m->st.nfiles, sizeof *ws->fd, "the checkpoint file handles", e))) goto fail;
    for (int i = 0; i < m->st.nfiles; i++) ws->fd[i] = -1;
    for (int i = 0; i < m->st.nfiles; i++) {
        if ((ws->fd[i] = open(m->st.files[i].path, O_RDONLY | O_CLOEXEC)) < 0) {
            am_fail_errno(e, "%s: cannot open for weight streaming", m->st.files[i].path);
            goto fail;
        }
        (void)posix_fadvise(ws->fd[i], 0, 0, POSIX_FADV_SEQUENTIAL);
    }
    for (int k = 0; k < 2; k++)
        if (!(ws->s[k].buf = aligned_alloc(ALIGN, half))) {
            am_fail_code(e, AM_E_NOMEM, "weight streaming for %s: cannot allocate a read buffer of %zu bytes", m->dir,
                         half);
            goto fail;
        }
    if (pthread_create(&ws->th, NULL, reader, ws)) {
        am_fail(e, "weight streaming for %s: cannot start the reader thread", m->dir);
        goto fail;
    }
    ws->started = 1;
    *out = ws;
    return 0;
fail:
    am_wstream_free(ws);
    return -1;
}

void am_wstream_free(am_wstream *ws) {
    if (!ws) return;
    if (ws->started) {
        pthread_mutex_lock(&ws->mu);
        ws->quit = 1;
        pthread_cond_broadcast(&ws->cv);
        pthread_mutex_unlock(&ws->mu);
        pthread_join(ws->th, NULL);
    }
    for (int i = 0; ws->fd && i < ws->m->st.nfiles; i++)
        if (ws->fd[i] >= 0) close(ws->fd[i]);
    free(ws->fd);
    free(ws->s[0].buf);
    free(ws->s[1].buf);
    pthread_mutex_destroy(&ws->mu);
    pthread_cond_destroy(&ws->cv);
    free(ws);
}
