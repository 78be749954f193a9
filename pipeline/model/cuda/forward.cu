/* Device side of the model runtime: the Qwen3 forward pass of runtime.c on
 * the GPU, one am_dev_forward per am_forward call. Weights are uploaded once
 * (bf16 or float32 by compute mode; norms float32); the KV caches, the
 * activations and two probability buffers live on the device.
 *
 * Capture overlaps compute: a group's probabilities are copied to pinned
 * host memory on a second stream while the compute stream goes on, and the
 * host hook for that group runs when the next group's copy has been queued.
 * The two device/host buffer pairs alternate; the compute stream waits for
 * a buffer's copy before overwriting it. Layers whose probabilities the
 * host rewrites (frozen patterns) take the synchronous path: copy out, hook,
 * copy back, then P.V. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/dev_kernels.cuh"
#include "model/runtime_cuda.h"

/* The kernels' check helpers (cuda_common.cuh), writing into an am_err. */
#define AM_CUDA(call, e) AM_CUDA_MSG(call, (e)->msg, sizeof(e)->msg)
#define AM_CUBLAS(call, e) AM_CUBLAS_MSG(call, (e)->msg, sizeof(e)->msg)
#define AM_CUDA_LAUNCHED(e) AM_CUDA_LAUNCHED_MSG((e)->msg, sizeof(e)->msg)

typedef struct dev_layer {
    void *q, *k, *v, *o, *gate, *up, *down;       /* GEMM weights [out][in], bf16 or float32 */
    float *in_norm, *post_norm, *q_norm, *k_norm; /* float32 */
} dev_layer;

/* A group whose probabilities are being copied to the host, not yet handed
 * to the hook. */
typedef struct dev_pending {
    int valid, layer, i0, i1, slot;
} dev_pending;

struct am_dev {
    int D, F, L, H, KV, hd, V, U, S, N; /* N: max token rows of one call */
    float eps, scale;
    am_dev_compute mode;
    size_t probs_cap, bytes;
    char name[300];
    cudaStream_t cs, xs; /* compute, copy-out */
    cudaEvent_t ev_probs[2], ev_copied[2], ev_stage[2];
    cublasHandle_t blas;
    int have_streams, have_events, have_blas;
    dev_layer *layers;                 /* [L] (host array of device pointers) */
    float *final_norm;                 /* [D] */
    void *lm_head;                     /* [V][D]; the embedding when tied */
    float *kc, *vc;                    /* [U][L][KV][S][hd] post-norm, post-RoPE keys; values */
    float *cos_tab, *sin_tab;          /* [S][hd/2] */
    float *x, *xn, *q, *kx, *vx, *att; /* [N][D], [N][D], [N][H*hd], [N][KV*hd] x2, [N][H*hd] */
    float *gate, *up;                  /* [N][F] */
    __nv_bfloat16 *xb;                 /* [N][max(D, H*hd, F)] bf16 GEMM input */
    float *last, *logits;              /* [U][D], [U][V] */
    float *probs[2];                   /* [probs_cap] each */
    float *hprobs[2];                  /* pinned [probs_cap] each */
    int *ibuf, *hibuf;                 /* call arrays, device and pinned: [6U + 1 + 2N] */
    size_t *offbuf, *hoffbuf;          /* [U] */
    void *stage[2];                    /* pinned upload staging, stage_bytes each */
    void *raw;                         /* device staging of stored weight bytes */
    size_t stage_bytes, n_chunks;      /* n_chunks: staged so far (alternates the buffers) */
};

#define STAGE_BYTES ((size_t)64 << 20)

static double gib(size_t b) { return (double)b / (1024.0 * 1024.0 * 1024.0); }

static int dalloc(am_dev *d, void *p, size_t bytes, const char *what, am_err *e) {
    void **pp = (void **)p;
    cudaError_t r = cudaMalloc(pp, bytes ? bytes : 1);
    if (r != cudaSuccess) {
        *pp = NULL;
        return am_fail(e, "CUDA: allocating %s (%.3f GiB) on %s: %s", what, gib(bytes), d->name, cudaGetErrorString(r));
    }
    d->bytes += bytes;
    return 0;
}

static int halloc(void *p, size_t bytes, const char *what, am_err *e) {
    void **pp = (void **)p;
    cudaError_t r = cudaMallocHost(pp, bytes ? bytes : 1);
    if (r != cudaSuccess) {
        *pp = NULL;
        return am_fail(e, "CUDA: allocating pinned host memory for %s (%.3f GiB): %s", what, gib(bytes),
                       cudaGetErrorString(r));
    }
    return 0;
}

static size_t numel(const am_tensor *t) {
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= (size_t)t->shape[i];
    return n;
}

/* Copy tensor t to a new device array of float32 (as_f32) or of the GEMM
 * type of the compute mode, converting on the device, through the pinned
 * staging buffers (the host fills one while the other is in flight). */
static int upload(am_dev *d, void *dst, const am_tensor *t, int as_f32, am_err *e) {
    int f32 = as_f32 || d->mode == AM_DEV_F32;
    size_t n = numel(t), src_es = am_dtype_size(t->dtype), dst_es = f32 ? 4 : 2;
    if (dalloc(d, dst, n * dst_es, t->name, e)) return -1;
    char *out = *(char **)dst;
    int same = (f32 && t->dtype == AM_F32) || (!f32 && t->dtype == AM_BF16);
    size_t chunk = d->stage_bytes / src_es;
    for (size_t off = 0; off < n; off += chunk) {
        size_t cnt = n - off < chunk ? n - off : chunk, bytes = cnt * src_es;
        int k = (int)(d->n_chunks++ & 1); /* across tensors, so small ones overlap too */
        if (AM_CUDA(cudaEventSynchronize(d->ev_stage[k]), e)) return am_wrap(e, "uploading %s", t->name);
        memcpy(d->stage[k], (const char *)t->data + off * src_es, bytes);
        if (same) {
            if (AM_CUDA(cudaMemcpyAsync(out + off * dst_es, d->stage[k], bytes, cudaMemcpyHostToDevice, d->cs), e))
                return am_wrap(e, "uploading %s", t->name);
        } else {
            if (AM_CUDA(cudaMemcpyAsync(d->raw, d->stage[k], bytes, cudaMemcpyHostToDevice, d->cs), e))
                return am_wrap(e, "uploading %s", t->name);
            if (f32) dk_convert((float *)(out + off * dst_es), d->raw, t->dtype, cnt, d->cs);
            else dk_to_bf16((__nv_bfloat16 *)(out + off * dst_es), d->raw, t->dtype, cnt, d->cs);
        }
        if (AM_CUDA(cudaEventRecord(d->ev_stage[k], d->cs), e) || AM_CUDA_LAUNCHED(e))
            return am_wrap(e, "uploading %s", t->name);
    }
    return 0;
}

extern "C" size_t am_dev_bytes(const am_dev *d) { return d ? d->bytes : 0; }
extern "C" const char *am_dev_name(const am_dev *d) { return d ? d->name : "cuda"; }

extern "C" void am_dev_free(am_dev *d) {
    if (!d) return;
    if (d->have_streams) {
        cudaStreamSynchronize(d->cs);
        cudaStreamSynchronize(d->xs);
    }
    if (d->layers) {
        for (int l = 0; l < d->L; l++) {
            dev_layer *w = &d->layers[l];
            void *ps[] = {w->q,    w->k,       w->v,         w->o,      w->gate,  w->up,
                          w->down, w->in_norm, w->post_norm, w->q_norm, w->k_norm};
            for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) cudaFree(ps[i]);
        }
        free(d->layers);
    }
    void *dev[] = {d->final_norm, d->lm_head,  d->kc,       d->vc,   d->cos_tab, d->sin_tab, d->x,  d->xn,
                   d->q,          d->kx,       d->vx,       d->att,  d->gate,    d->up,      d->xb, d->last,
                   d->logits,     d->probs[0], d->probs[1], d->ibuf, d->offbuf,  d->raw};
    for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++) cudaFree(dev[i]);
    void *host[] = {d->hprobs[0], d->hprobs[1], d->hibuf, d->hoffbuf, d->stage[0], d->stage[1]};
    for (size_t i = 0; i < sizeof host / sizeof host[0]; i++) cudaFreeHost(host[i]);
    if (d->have_events)
        for (int k = 0; k < 2; k++) {
            cudaEventDestroy(d->ev_probs[k]);
            cudaEventDestroy(d->ev_copied[k]);
            cudaEventDestroy(d->ev_stage[k]);
        }
    if (d->have_blas) cublasDestroy(d->blas);
    if (d->have_streams) {
        cudaStreamDestroy(d->cs);
        cudaStreamDestroy(d->xs);
    }
    free(d);
}

extern "C" int am_dev_init(am_dev **out, const am_qwen3 *m, const am_dev_opts *o, am_err *e) {
    *out = NULL;
    const am_qwen3_config *c = &m->cfg;
    char why[256];
    if (!am_cuda_available(why, sizeof why)) return am_fail(e, "CUDA backend for %s: %s", m->dir, why);
    if (c->head_dim > AM_DK_MAX_HD)
        return am_fail(e, "CUDA backend for %s: head_dim %d is above the %d the attention kernels take", m->dir,
                       c->head_dim, AM_DK_MAX_HD);
    am_dev *d = (am_dev *)calloc(1, sizeof *d);
    if (!d) return am_fail(e, "CUDA backend: out of memory");
    d->D = c->hidden_size, d->F = c->intermediate_size, d->L = c->num_hidden_layers;
    d->H = c->num_attention_heads, d->KV = c->num_key_value_heads, d->hd = c->head_dim, d->V = c->vocab_size;
    d->U = o->max_units, d->S = o->max_seq, d->N = o->max_tokens;
    d->eps = (float)c->rms_norm_eps, d->scale = (float)(1.0 / sqrt((double)c->head_dim));
    d->mode = o->compute, d->probs_cap = o->probs_cap, d->stage_bytes = STAGE_BYTES;
    const int D = d->D, F = d->F, L = d->L, H = d->H, KV = d->KV, hd = d->hd, V = d->V;
    const size_t U = d->U, S = d->S, N = d->N;

    cudaDeviceProp prop;
    if (AM_CUDA(cudaSetDevice(o->device), e) || AM_CUDA(cudaGetDeviceProperties(&prop, o->device), e)) goto fail;
    snprintf(d->name, sizeof d->name, "cuda-%s (%s)", d->mode == AM_DEV_BF16 ? "bf16" : "float32", prop.name);

    /* everything it will allocate, against what the device has free */
    {
        size_t wes = d->mode == AM_DEV_BF16 ? 2 : 4, weights = 0;
        for (int l = 0; l < L; l++) {
            const am_qwen3_layer *w = &m->layers[l];
            weights += (numel(w->q_proj) + numel(w->k_proj) + numel(w->v_proj) + numel(w->o_proj) +
                        numel(w->gate_proj) + numel(w->up_proj) + numel(w->down_proj)) *
                           wes +
                       (size_t)(2 * D + 2 * hd) * 4;
        }
        weights += numel(m->lm_head) * wes + (size_t)D * 4;
        size_t kv = 2 * U * L * KV * S * hd * 4;
        size_t wide = (size_t)(D > H * hd ? D : H * hd);
        wide = wide > (size_t)F ? wide : (size_t)F;
        size_t act = N * ((size_t)2 * D + 2 * (size_t)H * hd + 2 * (size_t)KV * hd + 2 * (size_t)F) * 4 + N * wide * 2 +
                     U * ((size_t)D + V) * 4 + S * hd * 4;
        size_t maps = 2 * d->probs_cap * 4, staging = d->stage_bytes;
        /* call arrays, cuBLAS workspace and the like: a margin */
        size_t other = (6 * U + 1 + 2 * N) * sizeof(int) + U * sizeof(size_t) + ((size_t)256 << 20);
        size_t need = weights + kv + act + maps + staging + other, fr = 0, total = 0;
        if (AM_CUDA(cudaMemGetInfo(&fr, &total), e)) goto fail;
        if (need > fr) {
            am_fail(e,
                    "CUDA backend for %s on %s: needs about %.2f GiB (weights %.2f, KV cache %.2f, activations "
                    "%.2f, probability buffers %.2f) but %.2f of %.2f GiB are free; hint: bf16 compute instead "
                    "of float32, fewer units at once (one pair per run: --pair KEY), or lower "
                    "generation.max_new_tokens",
                    m->dir, d->name, gib(need), gib(weights), gib(kv), gib(act + staging + other), gib(maps), gib(fr),
                    gib(total));
            goto fail;
        }
    }

    if (AM_CUDA(cudaStreamCreateWithFlags(&d->cs, cudaStreamNonBlocking), e) ||
        AM_CUDA(cudaStreamCreateWithFlags(&d->xs, cudaStreamNonBlocking), e))
        goto fail;
    d->have_streams = 1;
    for (int k = 0; k < 2; k++)
        if (AM_CUDA(cudaEventCreateWithFlags(&d->ev_probs[k], cudaEventDisableTiming), e) ||
            AM_CUDA(cudaEventCreateWithFlags(&d->ev_copied[k], cudaEventDisableTiming), e) ||
            AM_CUDA(cudaEventCreateWithFlags(&d->ev_stage[k], cudaEventDisableTiming), e))
            goto fail;
    d->have_events = 1;
    if (AM_CUBLAS(cublasCreate(&d->blas), e)) goto fail;
    d->have_blas = 1;

    /* weights, through the staging buffers */
    if (halloc(&d->stage[0], d->stage_bytes, "upload staging", e) ||
        halloc(&d->stage[1], d->stage_bytes, "upload staging", e) ||
        dalloc(d, &d->raw, d->stage_bytes, "upload staging", e))
        goto fail;
    d->layers = (dev_layer *)calloc((size_t)L, sizeof *d->layers);
    if (!d->layers) {
        am_fail(e, "CUDA backend: out of memory");
        goto fail;
    }
    for (int l = 0; l < L; l++) {
        const am_qwen3_layer *w = &m->layers[l];
        dev_layer *dl = &d->layers[l];
        if (upload(d, &dl->q, w->q_proj, 0, e) || upload(d, &dl->k, w->k_proj, 0, e) ||
            upload(d, &dl->v, w->v_proj, 0, e) || upload(d, &dl->o, w->o_proj, 0, e) ||
            upload(d, &dl->gate, w->gate_proj, 0, e) || upload(d, &dl->up, w->up_proj, 0, e) ||
            upload(d, &dl->down, w->down_proj, 0, e) || upload(d, &dl->in_norm, w->input_norm, 1, e) ||
            upload(d, &dl->post_norm, w->post_norm, 1, e) || upload(d, &dl->q_norm, w->q_norm, 1, e) ||
            upload(d, &dl->k_norm, w->k_norm, 1, e))
            goto fail;
    }
    if (upload(d, &d->lm_head, m->lm_head, 0, e) || upload(d, &d->final_norm, m->final_norm, 1, e)) goto fail;

    /* caches, tables, activations, call arrays, probability buffers */
    {
        size_t wide = (size_t)(D > H * hd ? D : H * hd);
        wide = wide > (size_t)F ? wide : (size_t)F;
        size_t ni = 6 * U + 1 + 2 * N;
        if (dalloc(d, &d->kc, U * L * KV * S * hd * 4, "the key cache", e) ||
            dalloc(d, &d->vc, U * L * KV * S * hd * 4, "the value cache", e) ||
            dalloc(d, &d->cos_tab, S * (hd / 2) * 4, "RoPE tables", e) ||
            dalloc(d, &d->sin_tab, S * (hd / 2) * 4, "RoPE tables", e) ||
            dalloc(d, &d->x, N * D * 4, "activations", e) || dalloc(d, &d->xn, N * D * 4, "activations", e) ||
            dalloc(d, &d->q, N * H * hd * 4, "activations", e) ||
            dalloc(d, &d->kx, N * KV * hd * 4, "activations", e) ||
            dalloc(d, &d->vx, N * KV * hd * 4, "activations", e) ||
            dalloc(d, &d->att, N * H * hd * 4, "activations", e) || dalloc(d, &d->gate, N * F * 4, "activations", e) ||
            dalloc(d, &d->up, N * F * 4, "activations", e) || dalloc(d, &d->xb, N * wide * 2, "activations", e) ||
            dalloc(d, &d->last, U * D * 4, "logits", e) || dalloc(d, &d->logits, U * V * 4, "logits", e) ||
            dalloc(d, &d->probs[0], d->probs_cap * 4, "attention probabilities", e) ||
            dalloc(d, &d->probs[1], d->probs_cap * 4, "attention probabilities", e) ||
            dalloc(d, &d->ibuf, ni * sizeof(int), "call arrays", e) ||
            dalloc(d, &d->offbuf, U * sizeof(size_t), "call arrays", e) ||
            halloc(&d->hprobs[0], d->probs_cap * 4, "attention probabilities", e) ||
            halloc(&d->hprobs[1], d->probs_cap * 4, "attention probabilities", e) ||
            halloc(&d->hibuf, ni * sizeof(int), "call arrays", e) ||
            halloc(&d->hoffbuf, U * sizeof(size_t), "call arrays", e))
            goto fail;
        if (AM_CUDA(cudaMemcpyAsync(d->cos_tab, o->cos_tab, S * (hd / 2) * 4, cudaMemcpyHostToDevice, d->cs), e) ||
            AM_CUDA(cudaMemcpyAsync(d->sin_tab, o->sin_tab, S * (hd / 2) * 4, cudaMemcpyHostToDevice, d->cs), e) ||
            AM_CUDA(cudaMemsetAsync(d->kc, 0, U * L * KV * S * hd * 4, d->cs), e) ||
            AM_CUDA(cudaMemsetAsync(d->vc, 0, U * L * KV * S * hd * 4, d->cs), e) ||
            AM_CUDA(cudaStreamSynchronize(d->cs), e))
            goto fail;
    }
    /* the staging buffers are only needed while uploading */
    cudaFreeHost(d->stage[0]), cudaFreeHost(d->stage[1]), cudaFree(d->raw);
    d->bytes -= d->stage_bytes;
    d->stage[0] = d->stage[1] = d->raw = NULL;
    *out = d;
    return 0;
fail:
    am_wrap(e, "CUDA backend for %s", m->dir);
    am_dev_free(d);
    return -1;
}

static int gemm(am_dev *d, float *y, const float *x, const void *w, int n, int in, int out, am_err *e) {
    return dk_gemm(d->blas, d->mode, y, x, d->xb, w, n, in, out, d->cs, e->msg, sizeof e->msg);
}

/* Hand the pending group's probabilities to the host hook. */
static int deliver(am_dev *d, const am_dev_call *c, dev_pending *p, am_err *e) {
    if (!p->valid) return 0;
    p->valid = 0;
    if (AM_CUDA(cudaEventSynchronize(d->ev_copied[p->slot]), e)) return -1;
    return c->layer_cb(c->ctx, p->layer, p->i0, p->i1, d->hprobs[p->slot], 0, e);
}

extern "C" int am_dev_forward(am_dev *d, const am_dev_call *c, am_err *e) {
    const int n = c->n, N = c->N, D = d->D, F = d->F, H = d->H, KV = d->KV, hd = d->hd;
    if (n < 1 || n > d->U || N < 1 || N > d->N)
        return am_fail(e, "CUDA forward: %d units / %d rows outside 1..%d / 1..%d", n, N, d->U, d->N);

    /* the call's arrays, in one copy: units, T, q0, npad, tok0 [n] each,
     * rowstart [n+1], row_unit [N], tok_pos [N] */
    int *h = d->hibuf;
    memcpy(h, c->units, n * sizeof(int));
    memcpy(h + n, c->T, n * sizeof(int));
    memcpy(h + 2 * n, c->q0, n * sizeof(int));
    memcpy(h + 3 * n, c->npad, n * sizeof(int));
    memcpy(h + 4 * n, c->tok0, n * sizeof(int));
    int *rowstart = h + 5 * n;
    rowstart[0] = 0;
    for (int i = 0; i < n; i++) rowstart[i + 1] = rowstart[i] + H * c->T[i];
    memcpy(h + 6 * n + 1, c->row_unit, N * sizeof(int));
    memcpy(h + 6 * n + 1 + N, c->tok_pos, N * sizeof(int));
    memcpy(d->hoffbuf, c->probs_off, n * sizeof(size_t));
    size_t ni = 6 * (size_t)n + 1 + 2 * (size_t)N;
    dk_units du;
    du.units = d->ibuf, du.T = d->ibuf + n, du.q0 = d->ibuf + 2 * n, du.npad = d->ibuf + 3 * n;
    du.tok0 = d->ibuf + 4 * n, du.rowstart = d->ibuf + 5 * n, du.off = d->offbuf;
    du.row_unit = d->ibuf + 6 * n + 1;
    const int *dpos = d->ibuf + 6 * n + 1 + N;
    dev_pending pend = {0, 0, 0, 0, 0};
    int slot = 0, rc = -1;
    if (AM_CUDA(cudaMemcpyAsync(d->ibuf, h, ni * sizeof(int), cudaMemcpyHostToDevice, d->cs), e) ||
        AM_CUDA(cudaMemcpyAsync(d->offbuf, d->hoffbuf, n * sizeof(size_t), cudaMemcpyHostToDevice, d->cs), e) ||
        AM_CUDA(cudaMemcpyAsync(d->x, c->x, (size_t)N * D * 4, cudaMemcpyHostToDevice, d->cs), e))
        goto out;

    for (int l = 0; l < d->L; l++) {
        const dev_layer *w = &d->layers[l];
        /* xn = RMSNorm(x) * input_layernorm */
        dk_rmsnorm(d->xn, d->x, w->in_norm, N, D, d->eps, d->cs);
        /* q, k, v projections, one GEMM each for all tokens of all units */
        if (gemm(d, d->q, d->xn, w->q, N, D, H * hd, e) || gemm(d, d->kx, d->xn, w->k, N, D, KV * hd, e) ||
            gemm(d, d->vx, d->xn, w->v, N, D, KV * hd, e))
            goto out;
        /* q_norm / k_norm: RMSNorm over head_dim of every head, before RoPE */
        dk_rmsnorm(d->q, d->q, w->q_norm, N * H, hd, d->eps, d->cs);
        dk_rmsnorm(d->kx, d->kx, w->k_norm, N * KV, hd, d->eps, d->cs);
        /* rotate-half RoPE at each token's position */
        dk_rope(d->q, N, H, hd, dpos, d->cos_tab, d->sin_tab, d->cs);
        dk_rope(d->kx, N, KV, hd, dpos, d->cos_tab, d->sin_tab, d->cs);
        /* append k, v to each unit's cache */
        dk_kv_append(d->kc, d->vc, d->kx, d->vx, du, N, KV, hd, d->S, d->L, l, d->cs);
        /* attention per group of units against their caches */
        int want = c->want && c->want[l], modify = c->modify && c->modify[l];
        for (int g = 0; g < c->n_groups; g++) {
            int i0 = g ? c->group_end[g - 1] : 0, i1 = c->group_end[g], last = i1 - 1;
            size_t len = c->probs_off[last] + (size_t)H * c->T[last] * (c->q0[last] + c->T[last]);
            dk_attn a;
            a.u = du, a.i0 = i0, a.i1 = i1, a.H = H, a.KV = KV, a.hd = hd, a.S = d->S, a.L = d->L, a.layer = l;
            a.scale = d->scale, a.q = d->q, a.kc = d->kc, a.vc = d->vc, a.probs = d->probs[slot], a.att = d->att;
            int nrows = rowstart[i1] - rowstart[i0];
            /* the buffer's previous copy to the host must be done */
            if (AM_CUDA(cudaStreamWaitEvent(d->cs, d->ev_copied[slot], 0), e)) goto out;
            dk_attention_probs(&a, nrows, d->cs);
            if (modify) {
                /* frozen patterns: the host rewrites them before P.V */
                if (deliver(d, c, &pend, e) ||
                    AM_CUDA(cudaMemcpyAsync(d->hprobs[slot], d->probs[slot], len * 4, cudaMemcpyDeviceToHost, d->cs),
                            e) ||
                    AM_CUDA(cudaStreamSynchronize(d->cs), e) || c->layer_cb(c->ctx, l, i0, i1, d->hprobs[slot], 1, e) ||
                    AM_CUDA(cudaMemcpyAsync(d->probs[slot], d->hprobs[slot], len * 4, cudaMemcpyHostToDevice, d->cs),
                            e))
                    goto out;
            } else if (want) {
                /* captured: copied out on the second stream while compute goes
                 * on; the hook of the group before runs meanwhile (first, if it
                 * still holds this host buffer) */
                if ((pend.valid && pend.slot == slot && deliver(d, c, &pend, e)) ||
                    AM_CUDA(cudaEventRecord(d->ev_probs[slot], d->cs), e) ||
                    AM_CUDA(cudaStreamWaitEvent(d->xs, d->ev_probs[slot], 0), e) ||
                    AM_CUDA(cudaMemcpyAsync(d->hprobs[slot], d->probs[slot], len * 4, cudaMemcpyDeviceToHost, d->xs),
                            e) ||
                    AM_CUDA(cudaEventRecord(d->ev_copied[slot], d->xs), e) || deliver(d, c, &pend, e))
                    goto out;
                pend.valid = 1, pend.layer = l, pend.i0 = i0, pend.i1 = i1, pend.slot = slot;
            }
            /* att = probs . V (query head h reads kv head h / (H/KV)) */
            dk_attention_values(&a, nrows, d->cs);
            slot ^= 1;
        }
        /* x += o_proj(att) */
        if (gemm(d, d->xn, d->att, w->o, N, H * hd, D, e)) goto out;
        dk_add(d->x, d->xn, (size_t)N * D, d->cs);
        /* xn = RMSNorm(x) * post_attention_layernorm */
        dk_rmsnorm(d->xn, d->x, w->post_norm, N, D, d->eps, d->cs);
        /* x += down(silu(gate(xn)) * up(xn)) */
        if (gemm(d, d->gate, d->xn, w->gate, N, D, F, e) || gemm(d, d->up, d->xn, w->up, N, D, F, e)) goto out;
        dk_silu_mul(d->gate, d->up, (size_t)N * F, d->cs);
        if (gemm(d, d->xn, d->gate, w->down, N, F, D, e)) goto out;
        dk_add(d->x, d->xn, (size_t)N * D, d->cs);
        if (AM_CUDA_LAUNCHED(e)) goto out;
    }
    if (deliver(d, c, &pend, e)) goto out;

    /* logits of each unit's last position: final norm, then lm_head */
    if (c->logits) {
        dk_gather_last(d->last, d->x, du.tok0, du.T, n, D, d->cs);
        dk_rmsnorm(d->last, d->last, d->final_norm, n, D, d->eps, d->cs);
        if (gemm(d, d->logits, d->last, d->lm_head, n, D, d->V, e) ||
            AM_CUDA(cudaMemcpyAsync(c->logits, d->logits, (size_t)n * d->V * 4, cudaMemcpyDeviceToHost, d->cs), e))
            goto out;
    }
    if (AM_CUDA(cudaStreamSynchronize(d->cs), e) || AM_CUDA_LAUNCHED(e)) goto out;
    rc = 0;
out:
    if (rc) {
        /* leave no work in flight on buffers the next call reuses */
        cudaStreamSynchronize(d->cs);
        cudaStreamSynchronize(d->xs);
        am_wrap(e, "%s", d->name);
    }
    return rc;
}
